//! The empirical neural tangent kernel `Theta(x, x') = <grad_theta f(x), grad_theta f(x')>` of any
//! [`ScalarModel`], from per-example gradients (the generic path: correct for every module,
//! one backward pass per input). Architectures with a closed form (e.g.
//! [`TwoLayer::ntk`](crate::TwoLayer::ntk)) are checked against it.

use crate::ScalarModel;
use crate::flat::flat_grads;
use burn::tensor::Tensor;

/// The Jacobian of the outputs w.r.t. all float parameters: row n is `grad_theta f(x_n)`
/// flattened. Returns the row-major `[n, P]` matrix and P.
pub fn jacobian<M: ScalarModel>(model: &M, x: Tensor<2>) -> (Vec<f64>, usize) {
    let n = x.dims()[0];
    let mut rows = Vec::new();
    let mut params = 0;
    for i in 0..n {
        let grads = model.forward(x.clone().narrow(0, i, 1)).sum().backward();
        let row = flat_grads(model, &grads);
        params = row.len();
        rows.extend(row);
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
