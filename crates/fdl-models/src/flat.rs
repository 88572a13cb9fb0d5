//! A module's float parameters as one flat vector, in Burn's visiting order: their values,
//! their gradients, and the module moved by a flat displacement. The generic NTK, the
//! linearization check and the Hessian all work in these coordinates.

use crate::to_host;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Gradients, Tensor, TensorData};

/// Every float parameter's value, flattened, in visiting order.
pub fn flat_params<M: Module>(model: &M) -> Vec<f64> {
    struct Values(Vec<f64>);
    impl ModuleVisitor for Values {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.extend(to_host(param.val().flatten::<1>(0, D - 1)));
        }
    }
    let mut values = Values(Vec::new());
    model.visit(&mut values);
    values.0
}

/// Every float parameter's gradient in `grads`, flattened in visiting order (zeros for a
/// parameter the output does not depend on).
pub fn flat_grads<M: Module>(model: &M, grads: &Gradients) -> Vec<f64> {
    struct Flatten<'a> {
        grads: &'a Gradients,
        out: Vec<f64>,
    }
    impl ModuleVisitor for Flatten<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let value = param.val();
            match value.grad(self.grads) {
                Some(g) => self.out.extend(to_host(g.flatten::<1>(0, D - 1))),
                None => self
                    .out
                    .extend(std::iter::repeat_n(0.0, value.shape().num_elements())),
            }
        }
    }
    let mut flat = Flatten {
        grads,
        out: Vec::new(),
    };
    model.visit(&mut flat);
    flat.out
}

/// `model` with `moved` (flat, in visiting order) added to its float parameters, as fresh
/// leaves of the autodiff graph (their gradients can be taken again).
pub fn displaced<M: Module>(model: M, moved: &[f64]) -> M {
    struct Add<'a> {
        moved: &'a [f64],
        offset: usize,
    }
    impl ModuleMapper for Add<'_> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (id, tensor, mapper) = param.consume();
            let require_grad = tensor.is_require_grad();
            let shape = tensor.shape();
            let len = shape.num_elements();
            let step = &self.moved[self.offset..self.offset + len];
            self.offset += len;
            let delta =
                Tensor::<D>::from_data(TensorData::new(step.to_vec(), shape), &tensor.device());
            let mut value = (tensor + delta).detach();
            if require_grad {
                value = value.require_grad();
            }
            Param::from_mapped_value(id, value, mapper)
        }
    }
    assert_eq!(
        moved.len(),
        flat_params(&model).len(),
        "one displacement per parameter"
    );
    model.map(&mut Add { moved, offset: 0 })
}
