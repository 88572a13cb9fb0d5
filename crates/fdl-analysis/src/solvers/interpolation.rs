//! Interpolants of regression data `X beta = y` that minimize a norm or a potential: the
//! references of kernel-vs-rich (Woodworth et al. 2020, arXiv:2002.09277).

use super::SolveStatus;
use super::SolverError;
use super::conic::ConicProblem;
use clarabel::solver::SupportedConeT::{NonnegativeConeT, ZeroConeT};
use faer::Mat;
use faer::linalg::solvers::Solve;

/// `X^T c` for row-major `x` (`[n, d]`).
fn transpose_times(x: &[f64], d: usize, c: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; d];
    for (row, ci) in x.chunks(d).zip(c) {
        for (o, v) in out.iter_mut().zip(row) {
            *o += ci * v;
        }
    }
    out
}

/// Solves `(X diag(w) X^T) c = r` by Cholesky (the Gram matrix of the rows weighted by w > 0).
fn weighted_gram_solve(x: &[f64], d: usize, w: &[f64], r: &[f64]) -> Result<Vec<f64>, SolverError> {
    let n = r.len();
    let rows: Vec<&[f64]> = x.chunks(d).collect();
    let gram = Mat::from_fn(n, n, |i, j| {
        (0..d).map(|k| rows[i][k] * w[k] * rows[j][k]).sum::<f64>()
    });
    let llt = gram
        .llt(faer::Side::Lower)
        .map_err(|_| SolverError::NoInterpolant {
            problem: "min-norm",
        })?;
    let rhs = Mat::from_fn(n, 1, |i, _| r[i]);
    let c = llt.solve(&rhs);
    Ok((0..n).map(|i| c[(i, 0)]).collect())
}

/// The minimum-l2-norm interpolant `X^T (X X^T)^{-1} y` (the pseudo-inverse solution); needs
/// linearly independent rows.
pub fn min_l2_interpolant(x: &[f64], y: &[f64], d: usize) -> Result<Vec<f64>, SolverError> {
    let c = weighted_gram_solve(x, d, &vec![1.0; d], y)?;
    Ok(transpose_times(x, d, &c))
}

/// The minimum-l1-norm interpolant (basis pursuit) as an LP: minimize `sum t` subject to
/// `X beta = y` and `|beta_i| <= t_i`.
pub fn min_l1_interpolant(
    x: &[f64],
    y: &[f64],
    d: usize,
) -> Result<(Vec<f64>, SolveStatus), SolverError> {
    let n = y.len();
    let nv = 2 * d;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (row, &yi) in x.chunks(d).zip(y) {
        a.extend(row.iter().copied());
        a.extend(std::iter::repeat_n(0.0, d));
        b.push(yi);
    }
    for i in 0..d {
        for sign in [1.0, -1.0] {
            // t_i - sign * beta_i >= 0
            let mut row = vec![0.0; nv];
            row[i] = sign;
            row[d + i] = -1.0;
            a.extend(row);
            b.push(0.0);
        }
    }
    let mut q = vec![0.0; nv];
    q[d..].fill(1.0);
    let (sol, status) = ConicProblem {
        n: nv,
        p: vec![0.0; nv * nv],
        q,
        a,
        b,
        cones: vec![ZeroConeT(n), NonnegativeConeT(2 * d)],
    }
    .solve("min-l1")
    .map_err(|e| match e {
        SolverError::NotSeparable { .. } => SolverError::NoInterpolant { problem: "min-l1" },
        other => other,
    })?;
    Ok((sol[..d].to_vec(), status))
}

/// Woodworth et al.'s potential `Q_alpha(beta) = alpha^2 sum_i q(beta_i / alpha^2)` with
/// `q(z) = 2 - sqrt(4 + z^2) + z arcsinh(z / 2)`, the implicit bias of gradient flow on the
/// depth-2 diagonal net from u = v = alpha 1.
pub fn q_alpha(beta: &[f64], alpha: f64) -> f64 {
    let a2 = alpha * alpha;
    beta.iter()
        .map(|&b| {
            let z = b / a2;
            a2 * (2.0 - (4.0 + z * z).sqrt() + z * (z / 2.0).asinh())
        })
        .sum()
}

/// `argmin Q_alpha(beta)` subject to `X beta = y`, by Newton's method on the dual. Stationarity
/// gives `beta = 2 alpha^2 sinh(X^T nu)` (q'(z) = arcsinh(z/2)); nu minimizes the smooth convex
/// `sum_i 2 alpha^2 cosh((X^T nu)_i) - <nu, y>`, whose gradient is the residual `X beta(nu) - y`.
///
/// For small alpha the dual solution is large (|X^T nu| ~ ln(1/alpha^2)) and Newton from 0
/// crawls under the exponential; so alpha is lowered from 10 in factors of 2, each solve warm
/// started from the last. Returns beta once the residual is below `1e-10 (1 + ||y||)`.
pub fn q_alpha_interpolant(
    x: &[f64],
    y: &[f64],
    d: usize,
    alpha: f64,
) -> Result<Vec<f64>, SolverError> {
    let mut schedule = vec![alpha];
    while *schedule.last().expect("non-empty") < 10.0 {
        let next = schedule.last().expect("non-empty") * 2.0;
        schedule.push(next);
    }
    schedule.reverse();
    let mut nu = vec![0.0; y.len()];
    let mut beta = Vec::new();
    for a in schedule {
        (nu, beta) = dual_newton(x, y, d, a, nu)?;
    }
    Ok(beta)
}

/// Damped Newton on the dual of the Q_alpha problem from `nu`; returns (nu, beta).
fn dual_newton(
    x: &[f64],
    y: &[f64],
    d: usize,
    alpha: f64,
    mut nu: Vec<f64>,
) -> Result<(Vec<f64>, Vec<f64>), SolverError> {
    let a2 = 2.0 * alpha * alpha;
    let beta_of = |nu: &[f64]| -> Vec<f64> {
        transpose_times(x, d, nu)
            .iter()
            .map(|s| a2 * s.sinh())
            .collect()
    };
    let residual = |beta: &[f64]| -> Vec<f64> {
        x.chunks(d)
            .zip(y)
            .map(|(row, yi)| row.iter().zip(beta).map(|(a, b)| a * b).sum::<f64>() - yi)
            .collect()
    };
    let tolerance = 1e-10 * (1.0 + y.iter().map(|v| v * v).sum::<f64>().sqrt());
    for _ in 0..200 {
        let beta = beta_of(&nu);
        let r = residual(&beta);
        if r.iter().map(|v| v * v).sum::<f64>().sqrt() < tolerance {
            return Ok((nu, beta));
        }
        // Hessian X diag(2 alpha^2 cosh(X^T nu)) X^T; Newton step -H^{-1} r.
        let weights: Vec<f64> = transpose_times(x, d, &nu)
            .iter()
            .map(|s| a2 * s.cosh())
            .collect();
        let step = weighted_gram_solve(x, d, &weights, &r)?;
        // Backtracking on the residual norm (the dual objective's values are too large to
        // resolve its decrease in f64 once alpha is large): Newton's direction decreases ||r||.
        let norm = r.iter().map(|v| v * v).sum::<f64>().sqrt();
        let mut t = 1.0;
        loop {
            let trial: Vec<f64> = nu.iter().zip(&step).map(|(a, b)| a - t * b).collect();
            let trial_r = residual(&beta_of(&trial));
            let trial_norm = trial_r.iter().map(|v| v * v).sum::<f64>().sqrt();
            if trial_norm <= (1.0 - 0.25 * t) * norm {
                nu = trial;
                break;
            }
            t *= 0.5;
            if t < 1e-12 {
                return Err(SolverError::Failed {
                    problem: "Q_alpha interpolant",
                    status: format!("no decrease of the residual at alpha = {alpha}"),
                });
            }
        }
    }
    Err(SolverError::Failed {
        problem: "Q_alpha interpolant",
        status: format!("Newton did not converge in 200 iterations at alpha = {alpha}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One equation beta_1 + 2 beta_2 = 2: min l1 puts everything on the larger coefficient,
    /// (0, 1); min l2 is y x / |x|^2 = (0.4, 0.8).
    #[test]
    fn one_equation_has_known_interpolants() {
        let (x, y) = ([1.0, 2.0], [2.0]);
        let l1 = min_l1_interpolant(&x, &y, 2).unwrap().0;
        assert!(l1[0].abs() < 1e-7 && (l1[1] - 1.0).abs() < 1e-7, "{l1:?}");
        let l2 = min_l2_interpolant(&x, &y, 2).unwrap();
        assert!((l2[0] - 0.4).abs() < 1e-12 && (l2[1] - 0.8).abs() < 1e-12);
    }

    /// Q_alpha interpolates between the two: large alpha -> min l2, small alpha -> min l1, and
    /// at every alpha it satisfies X beta = y and beats any other interpolant on Q_alpha.
    #[test]
    fn q_alpha_interpolant_moves_from_l2_to_l1() {
        let x = [1.0, 2.0, 0.5, -1.0, 0.3, 1.5];
        let y = [2.0, 0.7];
        let (l1, l2) = (
            min_l1_interpolant(&x, &y, 3).unwrap().0,
            min_l2_interpolant(&x, &y, 3).unwrap(),
        );
        let dist = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .map(|(u, v)| (u - v).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let big = q_alpha_interpolant(&x, &y, 3, 100.0).unwrap();
        assert!(dist(&big, &l2) < 1e-4, "{big:?} vs {l2:?}");
        let small = q_alpha_interpolant(&x, &y, 3, 1e-4).unwrap();
        assert!(dist(&small, &l1) < 1e-3, "{small:?} vs {l1:?}");
        for alpha in [0.01, 0.3, 3.0] {
            let b = q_alpha_interpolant(&x, &y, 3, alpha).unwrap();
            for (row, yi) in x.chunks(3).zip(&y) {
                let f: f64 = row.iter().zip(&b).map(|(a, c)| a * c).sum();
                assert!((f - yi).abs() < 1e-10);
            }
            // Any other interpolant b + t n has a larger potential; n = row 1 x row 2 spans
            // the null space of X.
            let (r1, r2) = (&x[..3], &x[3..]);
            let null = [
                r1[1] * r2[2] - r1[2] * r2[1],
                r1[2] * r2[0] - r1[0] * r2[2],
                r1[0] * r2[1] - r1[1] * r2[0],
            ];
            let q = q_alpha(&b, alpha);
            for t in [-1e-3, 1e-3] {
                let other: Vec<f64> = b.iter().zip(&null).map(|(u, v)| u + t * v).collect();
                assert!(q_alpha(&other, alpha) > q, "alpha = {alpha}");
            }
        }
    }

    #[test]
    fn inconsistent_equations_have_no_interpolant() {
        // beta = 1 and beta = 2 at once.
        let err = min_l1_interpolant(&[1.0, 1.0], &[1.0, 2.0], 1).unwrap_err();
        assert!(matches!(err, SolverError::NoInterpolant { .. }), "{err:?}");
        assert!(min_l2_interpolant(&[1.0, 1.0], &[1.0, 2.0], 1).is_err());
    }
}
