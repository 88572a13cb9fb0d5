//! The empirical neural tangent kernel `Theta(x, x') = <grad_theta f(x), grad_theta f(x')>` of any
//! [`ScalarModel`], from per-example gradients (the generic path: correct for every module,
//! one backward pass per input). Architectures with a closed form (e.g.
//! [`TwoLayer::ntk`](crate::TwoLayer::ntk)) are checked against it.

use crate::{ScalarModel, to_host};
use burn::module::{ModuleVisitor, Param};
use burn::tensor::{Gradients, Tensor};

/// Appends every float parameter's gradient, flattened, in visiting order.
struct Flatten<'a> {
    grads: &'a Gradients,
    out: Vec<f64>,
}

impl ModuleVisitor for Flatten<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        match value.grad(self.grads) {
            Some(g) => self.out.extend(to_host(g.flatten::<1>(0, D - 1))),
            // A parameter the output does not depend on has a zero gradient.
            None => self
                .out
                .extend(std::iter::repeat_n(0.0, value.shape().num_elements())),
        }
    }
}

/// The Jacobian of the outputs w.r.t. all float parameters: row n is `grad_theta f(x_n)`
/// flattened. Returns the row-major `[n, P]` matrix and P.
pub fn jacobian<M: ScalarModel>(model: &M, x: Tensor<2>) -> (Vec<f64>, usize) {
    let n = x.dims()[0];
    let mut rows = Vec::new();
    let mut params = 0;
    for i in 0..n {
        let grads = model.forward(x.clone().narrow(0, i, 1)).sum().backward();
        let mut flat = Flatten {
            grads: &grads,
            out: Vec::new(),
        };
        model.visit(&mut flat);
        params = flat.out.len();
        rows.extend(flat.out);
    }
    (rows, params)
}

/// The empirical NTK between the rows of `x1` and `x2`, row-major `[n1, n2]`: `J(x1) J(x2)^T`.
pub fn empirical_ntk<M: ScalarModel>(model: &M, x1: Tensor<2>, x2: Tensor<2>) -> Vec<f64> {
    let (j1, p) = jacobian(model, x1);
    let (j2, _) = jacobian(model, x2);
    let mut k = Vec::with_capacity(j1.len() / p.max(1) * (j2.len() / p.max(1)));
    for a in j1.chunks(p) {
        for b in j2.chunks(p) {
            k.push(a.iter().zip(b).map(|(u, v)| u * v).sum());
        }
    }
    k
}
