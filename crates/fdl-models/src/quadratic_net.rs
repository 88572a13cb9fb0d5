//! The quadratic-activation net of the landscape results, `f(x) = sum_j a_j (w_j . x)^2 / d`
//! (Du & Lee 2018, arXiv:1803.01206; Soltanolkotabi, Javanmard, Lee 2018): with a_j = 1 it is
//! `x^T W W^T x / d`, a low-rank quadratic form, so its landscape is that of matrix sensing.

use crate::{ScalarModel, normal_tensor, tensor2_from_host};
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use rand::Rng;

/// Shape and initialization of a [`QuadraticNet`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuadraticNetConfig {
    /// Input dimension d.
    pub input_dim: usize,
    /// Hidden units k.
    pub width: usize,
    /// Whether the output weights a_j are trained (else fixed at 1).
    pub train_outer: bool,
}

impl QuadraticNetConfig {
    /// w_j ~ N(0, I / k) (SCIENCE.md's benign-landscape init), a_j = 1.
    pub fn init(&self, rng: &mut impl Rng, device: &Device) -> QuadraticNet {
        assert!(self.input_dim >= 1 && self.width >= 1);
        let inner = normal_tensor(
            [self.input_dim, self.width],
            1.0 / (self.width as f64).sqrt(),
            rng,
            device,
        );
        let ones = tensor2_from_host(&vec![1.0; self.width], self.width, 1, device);
        QuadraticNet {
            inner: Param::from_tensor(inner),
            outer: if self.train_outer {
                OuterWeights::Trained(Param::from_tensor(ones))
            } else {
                OuterWeights::Fixed(ones)
            },
        }
    }
}

/// The output weights a: trained parameters or constants.
#[derive(Module, Debug)]
pub enum OuterWeights {
    /// Trained, `[k, 1]`.
    Trained(Param<Tensor<2>>),
    /// Fixed, `[k, 1]`.
    Fixed(Tensor<2>),
}

/// `f(x) = sum_j a_j (w_j . x)^2 / d`.
///
/// # Shapes
/// - `inner`: W as `[d, k]` (column j is w_j); outer weights `[k, 1]`
/// - input `[n, d]`, output `[n]`
#[derive(Module, Debug)]
pub struct QuadraticNet {
    /// W, `[d, k]`.
    pub inner: Param<Tensor<2>>,
    /// a.
    pub outer: OuterWeights,
}

impl ScalarModel for QuadraticNet {
    fn forward(&self, x: Tensor<2>) -> Tensor<1> {
        let [n, d] = x.dims();
        let a = match &self.outer {
            OuterWeights::Trained(a) => a.val(),
            OuterWeights::Fixed(a) => a.clone(),
        };
        let h = x.matmul(self.inner.val());
        // Multiply by 1/d: Burn 0.22's autodiff divides by a scalar rounded to f32 in the
        // backward pass (a 3e-8 relative gradient error at d = 3), its mul_scalar does not.
        (h.square().matmul(a) * (1.0 / d as f64)).reshape([n])
    }
}
