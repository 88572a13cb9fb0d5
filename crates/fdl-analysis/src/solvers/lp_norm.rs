//! The l_p max-margin predictor for any p in [1, inf]: `min ||w||_p s.t. Z w >= 1`
//! (Gunasekar, Lee, Soudry, Srebro, ICML 2018: steepest descent w.r.t. ||.||_p converges to it).
//!
//! p = 1 and p = inf are LPs, p = 2 the SVM QP, and any other p a power-cone program:
//! `(r_i, t, w_i)` in the power cone `K_{1/p}` (`r_i^{1/p} t^{1-1/p} >= |w_i|`) with
//! `sum_i r_i = t` gives `||w||_p <= t`.

use super::SolveStatus;
use super::conic::ConicProblem;
use super::{MaxMargin, SolverError, l2_max_margin};
use clarabel::solver::SupportedConeT;
use clarabel::solver::SupportedConeT::{NonnegativeConeT, PowerConeT, ZeroConeT};

/// The l_p norm, p in [1, inf].
pub fn lp_norm(w: &[f64], p: f64) -> f64 {
    if p.is_infinite() {
        return w.iter().fold(0.0, |m, v| m.max(v.abs()));
    }
    let max = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if max == 0.0 {
        return 0.0;
    }
    // Scaled by the largest entry so that large p neither overflows nor underflows.
    max * w
        .iter()
        .map(|v| (v.abs() / max).powf(p))
        .sum::<f64>()
        .powf(1.0 / p)
}

/// Rows `Z w >= 1` in Clarabel's `b - Ax >= 0` form over variables whose first `dim` are w.
fn margin_rows(z: &[f64], dim: usize, nv: usize, a: &mut Vec<f64>, b: &mut Vec<f64>) {
    for row in z.chunks(dim) {
        a.extend(row.iter().map(|v| -v));
        a.extend(std::iter::repeat_n(0.0, nv - dim));
        b.push(-1.0);
    }
}

/// `|w_i| <= t_i` as two nonnegative rows each, `t_i` at column `t_col(i)`.
fn box_rows(
    dim: usize,
    nv: usize,
    t_col: impl Fn(usize) -> usize,
    a: &mut Vec<f64>,
    b: &mut Vec<f64>,
) {
    for i in 0..dim {
        for sign in [1.0, -1.0] {
            // t_i - sign * w_i >= 0
            let mut row = vec![0.0; nv];
            row[i] = sign;
            row[t_col(i)] = -1.0;
            a.extend(row);
            b.push(0.0);
        }
    }
}

fn finish(x: &[f64], dim: usize, p: f64, status: SolveStatus) -> MaxMargin {
    let beta = x[..dim].to_vec();
    let norm = lp_norm(&beta, p);
    MaxMargin {
        margin: 1.0 / norm,
        norm,
        beta,
        status,
    }
}

/// The l_p max-margin predictor for rows `z_n = y_n x_n` (row-major, `dim` columns), p in [1, inf].
pub fn lp_max_margin(z: &[f64], dim: usize, p: f64) -> Result<MaxMargin, SolverError> {
    assert!(p >= 1.0, "l_p max margin needs p >= 1, got {p}");
    let n = z.len() / dim;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    if p == 2.0 {
        return l2_max_margin(z, dim);
    }
    if p == 1.0 {
        // Variables (w, t), minimize sum t.
        let nv = 2 * dim;
        margin_rows(z, dim, nv, &mut a, &mut b);
        box_rows(dim, nv, |i| dim + i, &mut a, &mut b);
        let mut q = vec![0.0; nv];
        q[dim..].fill(1.0);
        let cones = vec![NonnegativeConeT(n + 2 * dim)];
        let (x, status) = ConicProblem {
            n: nv,
            p: vec![0.0; nv * nv],
            q,
            a,
            b,
            cones,
        }
        .solve("l1")?;
        return Ok(finish(&x, dim, p, status));
    }
    if p.is_infinite() {
        // Variables (w, t), minimize t.
        let nv = dim + 1;
        margin_rows(z, dim, nv, &mut a, &mut b);
        box_rows(dim, nv, |_| dim, &mut a, &mut b);
        let mut q = vec![0.0; nv];
        q[dim] = 1.0;
        let cones = vec![NonnegativeConeT(n + 2 * dim)];
        let (x, status) = ConicProblem {
            n: nv,
            p: vec![0.0; nv * nv],
            q,
            a,
            b,
            cones,
        }
        .solve("l_inf")?;
        return Ok(finish(&x, dim, p, status));
    }
    power_cone_max_margin(z, dim, p)
}

/// The power-cone formulation, valid for every p in (1, inf).
fn power_cone_max_margin(z: &[f64], dim: usize, p: f64) -> Result<MaxMargin, SolverError> {
    let n = z.len() / dim;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    // Variables (w, r, t), minimize t.
    let nv = 2 * dim + 1;
    let t = 2 * dim;
    margin_rows(z, dim, nv, &mut a, &mut b);
    // sum_i r_i - t = 0.
    let mut row = vec![0.0; nv];
    row[dim..2 * dim].fill(1.0);
    row[t] = -1.0;
    a.extend(row);
    b.push(0.0);
    let mut cones: Vec<SupportedConeT<f64>> = vec![NonnegativeConeT(n), ZeroConeT(1)];
    for i in 0..dim {
        for col in [dim + i, t, i] {
            let mut row = vec![0.0; nv];
            row[col] = -1.0;
            a.extend(row);
            b.push(0.0);
        }
        cones.push(PowerConeT(1.0 / p));
    }
    let mut q = vec![0.0; nv];
    q[t] = 1.0;
    let (x, status) = ConicProblem {
        n: nv,
        p: vec![0.0; nv * nv],
        q,
        a,
        b,
        cones,
    }
    .solve("l_p")?;
    Ok(finish(&x, dim, p, status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::min_margin;

    fn dual(p: f64) -> f64 {
        if p == 1.0 {
            f64::INFINITY
        } else if p.is_infinite() {
            1.0
        } else {
            p / (p - 1.0)
        }
    }

    /// One point z: the l_p max margin is the dual norm ||z||_q (Holder's inequality is tight).
    #[test]
    fn one_point_has_the_dual_norm_as_margin() {
        let z = [2.0, 1.0, -0.5];
        for p in [1.0, 4.0 / 3.0, 2.0, 4.0, f64::INFINITY] {
            let sol = lp_max_margin(&z, 3, p).unwrap();
            let expected = lp_norm(&z, dual(p));
            assert!(
                (sol.margin - expected).abs() < 1e-6 * expected,
                "p = {p}: {} vs {expected}",
                sol.margin
            );
            assert!((min_margin(&z, &sol.beta) - 1.0).abs() < 1e-6);
        }
    }

    /// l1 puts all weight on the largest coordinate, l_inf spreads it as sign(z).
    #[test]
    fn l1_and_linf_directions_for_one_point() {
        let z = [2.0, 1.0];
        let l1 = lp_max_margin(&z, 2, 1.0).unwrap();
        assert!(
            (l1.beta[0] - 0.5).abs() < 1e-7 && l1.beta[1].abs() < 1e-7,
            "{:?}",
            l1.beta
        );
        let linf = lp_max_margin(&z, 2, f64::INFINITY).unwrap();
        assert!(
            (linf.beta[0] - 1.0 / 3.0).abs() < 1e-7 && (linf.beta[1] - 1.0 / 3.0).abs() < 1e-7,
            "{:?}",
            linf.beta
        );
    }

    /// Soudry et al.'s support vectors (0.5, 1.5) and (1.5, 0.5): both constraints are active at
    /// w = (0.5, 0.5) for every p (symmetric about the diagonal, the two lines meet there), so
    /// every l_p max-margin predictor is (0.5, 0.5) with margin 1 / ||(0.5, 0.5)||_p.
    #[test]
    fn soudry_support_vectors_give_half_half_in_every_norm() {
        let z = [0.5, 1.5, 1.5, 0.5, 2.0, 3.0];
        for p in [1.0, 4.0 / 3.0, 2.0, 4.0, f64::INFINITY] {
            let sol = lp_max_margin(&z, 2, p).unwrap();
            for v in &sol.beta {
                assert!((v - 0.5).abs() < 1e-6, "p = {p}: {:?}", sol.beta);
            }
            let expected = 1.0 / lp_norm(&[0.5, 0.5], p);
            assert!((sol.margin - expected).abs() < 1e-6, "p = {p}");
        }
    }

    #[test]
    fn power_cone_at_p_two_agrees_with_the_svm_qp() {
        let z: Vec<f64> = (0..5 * 7)
            .map(|i| (((i * 37 + 11) % 17) as f64 - 8.0) / 5.0)
            .collect();
        let qp = l2_max_margin(&z, 7).unwrap();
        let cone = power_cone_max_margin(&z, 7, 2.0).unwrap();
        assert!(
            (qp.margin - cone.margin).abs() < 1e-6 * qp.margin,
            "{} vs {}",
            qp.margin,
            cone.margin
        );
        assert!(crate::cosine(&qp.beta, &cone.beta) > 1.0 - 1e-8);
    }

    #[test]
    fn lp_norm_is_stable_for_large_p() {
        assert!((lp_norm(&[1e200, 1e200], 400.0) - 1e200 * 2f64.powf(1.0 / 400.0)).abs() < 1e190);
        assert_eq!(lp_norm(&[3.0, -4.0], 2.0), 5.0);
        assert_eq!(lp_norm(&[3.0, -4.0], f64::INFINITY), 4.0);
    }

    #[test]
    fn non_separable_data_is_a_typed_error_for_every_p() {
        let z = [1.0, 0.0, -1.0, 0.0];
        for p in [1.0, 1.5, 2.0, f64::INFINITY] {
            assert!(
                matches!(
                    lp_max_margin(&z, 2, p),
                    Err(SolverError::NotSeparable { .. })
                ),
                "p = {p}"
            );
        }
    }
}
