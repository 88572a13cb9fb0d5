//! Whole-parameter-vector operations on any Burn module: global sums and the update.
//!
//! Burn's optimizers see one tensor at a time; norms over the whole parameter vector need a walk
//! over the module (as Burn's LBFGS does): a [`ModuleVisitor`] to accumulate, a [`ModuleMapper`]
//! to write.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Gradients, Tensor};
use fdl_models::to_host;

/// Sums over every float parameter tensor of a module.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSums {
    /// `||theta||^2`.
    pub param_sq: f64,
    /// `||g||^2`, g the gradient.
    pub grad_sq: f64,
    /// `<theta, g>`.
    pub param_dot_grad: f64,
}

struct SumVisitor<'a> {
    grads: Option<&'a Gradients>,
    acc: Option<Tensor<1>>,
}

impl ModuleVisitor for SumVisitor<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let p = param.val().inner();
        let p_sq = p.clone().square().sum();
        let parts = match self.grads.and_then(|g| param.val().grad(g)) {
            Some(g) => {
                let g_sq = g.clone().square().sum();
                let p_dot_g = (p * g).sum();
                Tensor::cat(vec![p_sq, g_sq, p_dot_g], 0)
            }
            None => {
                let zeros = p_sq.zeros_like();
                Tensor::cat(vec![p_sq, zeros.clone(), zeros], 0)
            }
        };
        self.acc = Some(match self.acc.take() {
            Some(acc) => acc + parts,
            None => parts,
        });
    }
}

/// `||theta||^2`, `||g||^2` and `<theta, g>` over all float parameters, with one read-back.
/// With `grads = None` only `param_sq` is computed.
pub fn param_sums<M: Module>(model: &M, grads: Option<&Gradients>) -> ParamSums {
    let mut visitor = SumVisitor { grads, acc: None };
    model.visit(&mut visitor);
    let v = visitor.acc.map_or_else(|| vec![0.0; 3], to_host);
    ParamSums {
        param_sq: v[0],
        grad_sq: v[1],
        param_dot_grad: v[2],
    }
}

struct UpdateMapper<'a> {
    grads: &'a Gradients,
    step: f64,
    rescale: f64,
}

impl ModuleMapper for UpdateMapper<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let require_grad = tensor.is_require_grad();
        let grad = tensor.grad(self.grads);
        let mut value = tensor.inner();
        if let Some(g) = grad {
            value = value - g * self.step;
        }
        if self.rescale != 1.0 {
            value = value * self.rescale;
        }
        let mut value = Tensor::from_inner(value);
        if require_grad {
            value = value.require_grad();
        }
        Param::from_mapped_value(id, value, mapper)
    }
}

/// `theta <- rescale * (theta - step * g)` for every float parameter with a gradient in `grads`.
pub fn update_params<M: Module>(model: M, grads: &Gradients, step: f64, rescale: f64) -> M {
    model.map(&mut UpdateMapper {
        grads,
        step,
        rescale,
    })
}

struct ScaleMapper(f64);

impl ModuleMapper for ScaleMapper {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let require_grad = tensor.is_require_grad();
        let mut value = Tensor::from_inner(tensor.inner() * self.0);
        if require_grad {
            value = value.require_grad();
        }
        Param::from_mapped_value(id, value, mapper)
    }
}

/// Multiplies every float parameter by `factor`.
pub fn scale_params<M: Module>(model: M, factor: f64) -> M {
    model.map(&mut ScaleMapper(factor))
}
