//! A [`ScalarModel`] fitted to a fixed batch by the square loss, as an [`Objective`]: the loss
//! of the landscape results, whose parameters alone decide it (Du & Lee 2018, arXiv:1803.01206).

use crate::{Objective, ScalarModel, tensor1_from_host, tensor2_from_host};
use burn::module::{Module, ModuleDisplay};
use burn::tensor::{Device, Tensor};

/// `L(theta) = sum_n (f(x_n; theta) - y_n)^2 / (4 n)`.
///
/// # Shapes
/// - `x`: `[n, d]`, `y`: `[n]` (module constants)
#[derive(Module, Debug)]
pub struct LeastSquares<M: Module + ModuleDisplay> {
    /// The model f.
    pub model: M,
    /// Inputs, `[n, d]`.
    pub x: Tensor<2>,
    /// Targets, `[n]`.
    pub y: Tensor<1>,
}

impl<M: ScalarModel + ModuleDisplay> LeastSquares<M> {
    /// `model` on inputs `x` (row-major `[n, d]`) and targets `y` (`[n]`).
    pub fn new(model: M, x: &[f64], y: &[f64], device: &Device) -> Self {
        let n = y.len();
        assert!(
            n > 0 && x.len().is_multiple_of(n),
            "x is n x d for n = y.len()"
        );
        Self {
            model,
            x: tensor2_from_host(x, n, x.len() / n, device),
            y: tensor1_from_host(y, device),
        }
    }
}

impl<M: ScalarModel + ModuleDisplay> Objective for LeastSquares<M> {
    fn loss(&self) -> Tensor<1> {
        let n = self.y.dims()[0];
        let residual = self.model.forward(self.x.clone()) - self.y.clone();
        // mul_scalar, not div_scalar: Burn 0.22's autodiff rounds a divisor to f32.
        residual.square().sum() * (0.25 / n as f64)
    }
}
