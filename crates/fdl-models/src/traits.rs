//! The traits analysis relies on: forward pass, homogeneity, effective linear predictor.

use crate::HostProgram;
use burn::module::Module;
use burn::tensor::Tensor;

/// A Burn module that maps inputs `[n, d]` to one real output per input, `[n]`.
pub trait ScalarModel: Module {
    /// The outputs `f(x_n)` for a batch of inputs `x` of shape `[n, d]`.
    fn forward(&self, x: Tensor<2>) -> Tensor<1>;

    /// The outputs and gradient on the fixed inputs `x` in closed form on the host (see
    /// [`HostProgram`]), for models so small that op dispatch dominates a step; `None` (the
    /// default) trains through Burn's autodiff.
    fn host_program(&self, x: &Tensor<2>) -> Option<Box<dyn HostProgram>> {
        let _ = x;
        None
    }
}

/// A model with `f(x; c theta) = c^L f(x; theta)` for every `c > 0` (Lyu & Li 2020).
///
/// The trainer uses this to store `theta = s * phi` with `||phi||_2 = 1` and `ln s` on the host,
/// so the parameter norm can grow without bound (it does, on separable data) without overflow.
pub trait Homogeneous: ScalarModel {
    /// The degree L.
    fn homogeneity_degree(&self) -> u32;
}

/// A model that is linear in its input: `f(x) = <beta, x>`.
pub trait LinearPredictor: ScalarModel {
    /// The effective predictor beta, shape `[d]`.
    fn effective_predictor(&self) -> Tensor<1>;
}

/// A Burn module whose parameters define a loss by themselves (no data batch), e.g. matrix
/// factorization `||U U^T - M||^2 / 4`: the landscape experiments' objects.
pub trait Objective: Module {
    /// The loss at the current parameters, shape `[1]`.
    fn loss(&self) -> Tensor<1>;
}

/// A Burn module that maps inputs `[n, d]` to k logits per input, `[n, k]`: a classifier for
/// the regularized trainer. k = 1 is a binary task with labels +-1 (margin `y f(x)`); k >= 2 a
/// multi-class task (margin `f_y(x) - max_{j != y} f_j(x)`). Every [`ScalarModel`] is one, with
/// k = 1.
pub trait Classifier: Module {
    /// The logits, `[n, k]`.
    fn logits(&self, x: Tensor<2>) -> Tensor<2>;
}

impl<M: ScalarModel> Classifier for M {
    fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        let n = x.dims()[0];
        self.forward(x).reshape([n, 1])
    }
}
