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
            self.0
                .extend(to_host(param.val().detach().flatten::<1>(0, D - 1)));
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
    remap(model, moved, Remap::Add)
}

/// `model` with its float parameters set to `values` (flat, in visiting order), as fresh leaves
/// of the autodiff graph: the inverse of [`flat_params`], for optimizers that work on flat
/// vectors.
pub fn with_flat_params<M: Module>(model: M, values: &[f64]) -> M {
    remap(model, values, Remap::Replace)
}

/// How [`remap`] combines a parameter with its slice of the flat vector.
#[derive(Clone, Copy)]
enum Remap {
    /// old + new.
    Add,
    /// new.
    Replace,
}

/// Every float parameter combined with its slice of `flat` as `how` says.
fn remap<M: Module>(model: M, flat: &[f64], how: Remap) -> M {
    struct Mapper<'a> {
        flat: &'a [f64],
        offset: usize,
        how: Remap,
    }
    impl ModuleMapper for Mapper<'_> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (id, tensor, mapper) = param.consume();
            let require_grad = tensor.is_require_grad();
            let shape = tensor.shape();
            let len = shape.num_elements();
            let part = &self.flat[self.offset..self.offset + len];
            self.offset += len;
            // On the host: an autodiff add (then detach) left the new leaf 50x slower to
            // differentiate (measured on flex, Burn 0.22.1).
            let values = match self.how {
                Remap::Add => to_host(tensor.clone().detach().flatten::<1>(0, D - 1))
                    .iter()
                    .zip(part)
                    .map(|(a, b)| a + b)
                    .collect(),
                Remap::Replace => part.to_vec(),
            };
            let mut value =
                Tensor::<D>::from_data(TensorData::new(values, shape), &tensor.device());
            if require_grad {
                value = value.require_grad();
            }
            Param::from_mapped_value(id, value, mapper)
        }
    }
    assert_eq!(
        flat.len(),
        flat_params(&model).len(),
        "one value per parameter"
    );
    model.map(&mut Mapper {
        flat,
        offset: 0,
        how,
    })
}
