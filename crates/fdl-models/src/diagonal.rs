//! Diagonal linear network `f(x) = <u^D - v^D, x>` (Woodworth et al. 2020, arXiv:2002.09277):
//! the simplest model whose implicit bias moves from l2 (kernel) to l1 (rich) as the
//! initialization scale alpha shrinks.

use crate::{LinearPredictor, ScalarModel, tensor1_from_host};
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};

/// Shape and initialization of a [`DiagonalNet`].
#[derive(Debug, Clone, PartialEq)]
pub struct DiagonalNetConfig {
    /// Input dimension d.
    pub input_dim: usize,
    /// Depth D >= 1 (the power of u and v).
    pub depth: u32,
    /// Initialization scale: u(0) = v(0) = alpha 1, so beta(0) = 0.
    pub alpha: f64,
}

impl DiagonalNetConfig {
    /// The network at its (deterministic) initialization on `device`.
    pub fn init(&self, device: &Device) -> DiagonalNet {
        assert!(self.input_dim >= 1 && self.depth >= 1 && self.alpha > 0.0);
        let start = vec![self.alpha; self.input_dim];
        DiagonalNet {
            u: Param::from_tensor(tensor1_from_host(&start, device)),
            v: Param::from_tensor(tensor1_from_host(&start, device)),
            depth: self.depth,
        }
    }
}

/// `f(x) = <u^D - v^D, x>`: linear in x with effective predictor `beta = u^D - v^D`.
///
/// # Shapes
/// - `u`, `v`: `[d]`; input `[n, d]`, output `[n]`
#[derive(Module, Debug)]
pub struct DiagonalNet {
    /// Positive part.
    pub u: Param<Tensor<1>>,
    /// Negative part.
    pub v: Param<Tensor<1>>,
    /// The depth D.
    #[module(skip)]
    pub depth: u32,
}

impl ScalarModel for DiagonalNet {
    fn forward(&self, x: Tensor<2>) -> Tensor<1> {
        let n = x.dims()[0];
        let d = x.dims()[1];
        x.matmul(self.effective_predictor().reshape([d, 1]))
            .reshape([n])
    }
}

impl LinearPredictor for DiagonalNet {
    fn effective_predictor(&self) -> Tensor<1> {
        let power = |t: Tensor<1>| (1..self.depth).fold(t.clone(), |acc, _| acc * t.clone());
        power(self.u.val()) - power(self.v.val())
    }
}

/// The linearization of a [`DiagonalNet`] around its parameters (u_0, v_0), trained in the
/// displacement (du, dv): `f_lin(x) = <beta_0 + D (u_0^{D-1} .* du - v_0^{D-1} .* dv), x>` with
/// `beta_0 = u_0^D - v_0^D` (the kernel regime of Woodworth et al. 2020, alpha -> infinity).
#[derive(Module, Debug)]
pub struct LinearizedDiagonal {
    /// beta_0 (a module constant).
    pub beta0: Tensor<1>,
    /// `D u_0^{D-1}`, the derivative of `u^D` at u_0 (constant).
    pub slope_u: Tensor<1>,
    /// `D v_0^{D-1}` (constant).
    pub slope_v: Tensor<1>,
    /// du, starting at 0.
    pub delta_u: Param<Tensor<1>>,
    /// dv, starting at 0.
    pub delta_v: Param<Tensor<1>>,
}

impl LinearizedDiagonal {
    /// The linearization of `net` at its current parameters.
    pub fn around(net: &DiagonalNet) -> Self {
        // The constants are formed on the host: tensors computed by autodiff ops would carry
        // graph nodes that the first backward pass consumes.
        let (u0, v0) = (crate::to_host(net.u.val()), crate::to_host(net.v.val()));
        let device = net.u.val().device();
        let (depth, k) = (net.depth as i32, net.depth as f64);
        let beta0: Vec<f64> = u0
            .iter()
            .zip(&v0)
            .map(|(u, v)| u.powi(depth) - v.powi(depth))
            .collect();
        let slope = |w: &[f64]| -> Vec<f64> { w.iter().map(|w| k * w.powi(depth - 1)).collect() };
        let zeros = vec![0.0; u0.len()];
        Self {
            beta0: tensor1_from_host(&beta0, &device),
            slope_u: tensor1_from_host(&slope(&u0), &device),
            slope_v: tensor1_from_host(&slope(&v0), &device),
            delta_u: Param::from_tensor(tensor1_from_host(&zeros, &device)),
            delta_v: Param::from_tensor(tensor1_from_host(&zeros, &device)),
        }
    }
}

impl ScalarModel for LinearizedDiagonal {
    fn forward(&self, x: Tensor<2>) -> Tensor<1> {
        let [n, d] = x.dims();
        x.matmul(self.effective_predictor().reshape([d, 1]))
            .reshape([n])
    }
}

impl LinearPredictor for LinearizedDiagonal {
    fn effective_predictor(&self) -> Tensor<1> {
        self.beta0.clone() + self.slope_u.clone() * self.delta_u.val()
            - self.slope_v.clone() * self.delta_v.val()
    }
}
