//! The check every linearization must pass, for tests of new architectures: it starts at the
//! network, it is linear in its own parameters, its Jacobian (w.r.t. them) is the network's at
//! theta_0 (so its tangent kernel is the network's NTK), and after the same small displacement of both it differs from the
//! network to second order.

use crate::flat::{displaced, flat_params};
use crate::{ScalarModel, jacobian, to_host};
use burn::tensor::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// What [`check_linearization`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearizationCheck {
    /// `max_i |f(x_i) - f_lin(x_i)|` at the start, relative to `1 + max_i |f(x_i)|`.
    pub start_gap: f64,
    /// `max_ij |J(x_i)_j - J_lin(x_i)_j|` (the Jacobians w.r.t. the shared flat parameters),
    /// relative to `1 + max |J|`: equal Jacobians give equal NTKs, and catch a permuted or
    /// missing parameter, which the NTK alone does not.
    pub jacobian_gap: f64,
    /// `max_i |f_lin(x_i; 2 v) - 2 f_lin(x_i; v) + f_lin(x_i; 0)|` for a unit v, relative to
    /// `1 + max_i |f(x_i)|`: 0 up to rounding for a model linear in its parameters (a step of
    /// order one, so that a nonlinear model cannot hide its curvature).
    pub linearity_gap: f64,
    /// `e(h / 10) / e(h)` for `e(h) = max_i |f(x_i; theta_0 + h v) - f_lin(x_i; h v)|`: about
    /// 1/100 for an error of second order (0 when both errors vanish, as for a linear model).
    pub second_order_ratio: f64,
}

/// The displacement step h of the second-order check (v has unit norm).
const STEP: f64 = 1e-3;
/// The largest `e(h / 10) / e(h)` accepted as second order (1/100 expected).
const MAX_RATIO: f64 = 0.03;
/// Below this fraction of `1 + max |f|` the error at h counts as zero (a model linear in its
/// parameters).
const NEGLIGIBLE: f64 = 1e-13;

/// Checks that `lin` linearizes `net` at `net`'s current parameters on the inputs `x`: equal
/// outputs, linearity in its parameters and equal Jacobians, so equal NTKs (each within
/// `tolerance`, relative), and
/// a second-order error after
/// moving both by `h v` (v a fixed unit direction, h = 1e-3 and 1e-4). The displacement maps
/// `lin`'s parameters onto `net`'s in Burn's visiting order, so both must have the same number
/// of scalar parameters (true of every linearization here). For a ReLU net a pre-activation
/// within `h |v . x|` of zero makes the error first order; random inputs avoid that. The
/// second-order test needs f64 (at h = 1e-4 the error is below f32 rounding).
pub fn check_linearization<M: ScalarModel, L: ScalarModel>(
    net: &M,
    lin: &L,
    x: Tensor<2>,
    tolerance: f64,
) -> Result<LinearizationCheck, String> {
    let (p_net, p_lin) = (flat_params(net).len(), flat_params(lin).len());
    if p_net != p_lin {
        return Err(format!(
            "the network has {p_net} parameters and the linearization {p_lin}: the displacement cannot be shared"
        ));
    }
    let f = to_host(net.forward(x.clone()));
    let start_gap = max_gap(&f, &to_host(lin.forward(x.clone())));
    let j = jacobian(net, x.clone()).0;
    let jacobian_gap = max_gap(&j, &jacobian(lin, x.clone()).0);
    let direction = unit_direction(p_net);
    let moved = |model: &dyn Fn(&[f64]) -> Vec<f64>, h: f64| {
        model(&direction.iter().map(|v| v * h).collect::<Vec<_>>())
    };
    let at_net = |step: &[f64]| to_host(displaced(net.clone(), step).forward(x.clone()));
    let at_lin = |step: &[f64]| to_host(displaced(lin.clone(), step).forward(x.clone()));
    let f_lin0 = at_lin(&vec![0.0; p_net]);
    let (once, twice) = (moved(&at_lin, 1.0), moved(&at_lin, 2.0));
    let linearity_gap = (0..f.len())
        .map(|i| (twice[i] - 2.0 * once[i] + f_lin0[i]).abs())
        .fold(0.0, f64::max)
        / (1.0 + max_abs(&f));
    let error = |h: f64| {
        moved(&at_net, h)
            .iter()
            .zip(&moved(&at_lin, h))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    };
    let (coarse, fine) = (error(STEP), error(STEP / 10.0));
    let second_order_ratio = if coarse < NEGLIGIBLE * (1.0 + max_abs(&f)) {
        0.0
    } else {
        fine / coarse
    };
    let check = LinearizationCheck {
        start_gap,
        jacobian_gap,
        linearity_gap,
        second_order_ratio,
    };
    if start_gap > tolerance {
        return Err(format!(
            "f_lin != f at the start: relative gap {start_gap:.3e} > {tolerance:.0e}"
        ));
    }
    if linearity_gap > tolerance {
        return Err(format!(
            "the linearization is not linear in its parameters: f_lin(2v) - 2 f_lin(v) + f_lin(0) is {linearity_gap:.3e} (relative) > {tolerance:.0e}"
        ));
    }
    if jacobian_gap > tolerance {
        return Err(format!(
            "the Jacobians (so the tangent kernels) differ: relative gap {jacobian_gap:.3e} > {tolerance:.0e}"
        ));
    }
    if second_order_ratio > MAX_RATIO {
        return Err(format!(
            "the error is not second order: e({:.0e}) / e({STEP:.0e}) = {second_order_ratio:.3e} (1e-2 expected)",
            STEP / 10.0
        ));
    }
    Ok(check)
}

/// `max |a - b| / (1 + max |a|)`.
fn max_gap(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(u, v)| (u - v).abs())
        .fold(0.0, f64::max)
        / (1.0 + max_abs(a))
}

/// `max |a_i|`.
fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// A fixed (seeded) Gaussian direction of unit norm.
fn unit_direction(len: usize) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let v: Vec<f64> = (0..len)
        .map(|_| Distribution::<f64>::sample(&StandardNormal, &mut rng))
        .collect();
    let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
    v.iter().map(|a| a / norm).collect()
}
