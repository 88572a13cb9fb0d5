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
