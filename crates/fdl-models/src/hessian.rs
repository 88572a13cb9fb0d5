//! The Hessian of any [`Objective`] from its autodiff gradient. Burn has neither forward mode
//! nor double backward, so a Hessian-vector product is a difference of gradients:
//! `D(h) = (g(theta + h v) - g(theta - h v)) / 2h = H v + (h^2/6) g'''[v, v, v] + O(h^4)`, and
//! Richardson's extrapolation `(4 D(h) - D(2h)) / 3` cancels the h^2 term, leaving O(h^4) (and
//! nothing at all for losses of degree 4, whose gradients are cubic, such as matrix
//! factorization). With `h = 1e-3 (1 + ||theta||_inf)` rounding costs about `1e-13 ||g||`. The
//! full P x P matrix takes P such products (fine for the hundreds of parameters of the landscape
//! experiments); it is symmetrized.

use crate::Objective;
use crate::flat::{displaced, flat_grads, flat_params};

/// The gradient of the loss, flat in visiting order.
pub fn gradient<O: Objective>(objective: &O) -> Vec<f64> {
    let grads = objective.loss().backward();
    flat_grads(objective, &grads)
}

/// `H v` by Richardson-extrapolated central differences of the gradient.
pub fn hessian_vector<O: Objective>(objective: &O, v: &[f64]) -> Vec<f64> {
    let theta_inf = flat_params(objective)
        .iter()
        .fold(0.0f64, |m, x| m.max(x.abs()));
    let h = 1e-3 * (1.0 + theta_inf);
    let at = |t: f64| {
        let step: Vec<f64> = v.iter().map(|x| x * t).collect();
        gradient(&displaced(objective.clone(), &step))
    };
    let central = |t: f64| -> Vec<f64> {
        at(t)
            .iter()
            .zip(at(-t))
            .map(|(a, b)| (a - b) / (2.0 * t))
            .collect()
    };
    let (fine, coarse) = (central(h), central(2.0 * h));
    fine.iter()
        .zip(&coarse)
        .map(|(f, c)| (4.0 * f - c) / 3.0)
        .collect()
}

/// The full Hessian, row-major `[P, P]`, symmetrized, and P.
pub fn hessian<O: Objective>(objective: &O) -> (Vec<f64>, usize) {
    let p = flat_params(objective).len();
    let mut h = vec![0.0; p * p];
    let mut unit = vec![0.0; p];
    for j in 0..p {
        unit[j] = 1.0;
        for (i, value) in hessian_vector(objective, &unit).into_iter().enumerate() {
            h[i * p + j] = value;
        }
        unit[j] = 0.0;
    }
    for i in 0..p {
        for j in 0..i {
            let mean = 0.5 * (h[i * p + j] + h[j * p + i]);
            h[i * p + j] = mean;
            h[j * p + i] = mean;
        }
    }
    (h, p)
}
