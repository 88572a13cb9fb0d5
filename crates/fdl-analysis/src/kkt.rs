//! First-order stationarity of the bridge problem `min ||F beta||_p^p s.t. Z beta >= 1`,
//! p = 2/L (Gunasekar et al. 2018, Theorem on L-layer linear conv nets), on the support of F beta.
//!
//! For p < 1 the objective is non-convex and not differentiable where a coefficient vanishes, so
//! stationarity is checked on the subspace V_S of real vectors whose spectrum lies in the support
//! S of F beta: `P_S grad R(beta) = sum_{n active} lambda_n P_S z_n` with `lambda >= 0`.

use crate::solvers::nonnegative_least_squares;
use crate::{SolverError, dft, min_margin, norm2};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;

/// The KKT residual of a candidate predictor and what it was computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct BridgeKkt {
    /// `||grad R - P_S Z_A^T lambda|| / ||grad R||` at the best `lambda >= 0`.
    pub residual: f64,
    /// Size of the Fourier support S.
    pub support: usize,
    /// Number of active constraints (margin within `active_tol` of the minimum).
    pub active: usize,
}

/// Projects a real vector onto V_S: zero the DFT outside `support`, transform back.
fn project(v: &[f64], support: &[bool]) -> Vec<f64> {
    let d = v.len();
    let mut spec = dft(v);
    for (c, &keep) in spec.iter_mut().zip(support) {
        if !keep {
            *c = Complex64::new(0.0, 0.0);
        }
    }
    FftPlanner::new().plan_fft_inverse(d).process(&mut spec);
    spec.iter().map(|c| c.re / d as f64).collect()
}

/// KKT residual of `beta` for the l_p bridge problem (p = 2/L) on rows `z` (row-major).
///
/// `support_tol`: coefficients above this fraction of the largest form S; `active_tol`: a
/// constraint is active when its margin is within this relative distance of the minimum.
pub fn bridge_kkt_residual(
    z: &[f64],
    beta: &[f64],
    p: f64,
    support_tol: f64,
    active_tol: f64,
) -> Result<BridgeKkt, SolverError> {
    let d = beta.len();
    let gamma = min_margin(z, beta);
    // Scale so that the smallest margin is 1 (primal feasible with active constraints at 1).
    let beta: Vec<f64> = beta.iter().map(|b| b / gamma).collect();
    let u = dft(&beta);
    let max = u.iter().map(|c| c.norm()).fold(0.0, f64::max);
    let support: Vec<bool> = u.iter().map(|c| c.norm() > support_tol * max).collect();
    // d/d beta_j |u_k|^p = p |u_k|^{p-2} Re(conj(u_k) e^{-2 pi i j k / D}).
    let grad: Vec<f64> = (0..d)
        .map(|j| {
            u.iter()
                .enumerate()
                .filter(|(k, _)| support[*k])
                .map(|(k, uk)| {
                    let phase = Complex64::from_polar(
                        1.0,
                        -2.0 * std::f64::consts::PI * ((j * k) % d) as f64 / d as f64,
                    );
                    p * uk.norm().powf(p - 2.0) * (uk.conj() * phase).re
                })
                .sum()
        })
        .collect();
    let active: Vec<Vec<f64>> = z
        .chunks(d)
        .filter(|row| crate::dot(row, &beta) <= 1.0 + active_tol)
        .map(|row| project(row, &support))
        .collect();
    let cols = active.len();
    let m: Vec<f64> = (0..d)
        .flat_map(|i| active.iter().map(move |col| col[i]))
        .collect();
    let lambda = nonnegative_least_squares(&m, cols, &grad)?;
    let fit: Vec<f64> = (0..d)
        .map(|i| (0..cols).map(|c| m[i * cols + c] * lambda[c]).sum())
        .collect();
    let diff: Vec<f64> = grad.iter().zip(&fit).map(|(g, f)| g - f).collect();
    Ok(BridgeKkt {
        residual: norm2(&diff) / norm2(&grad),
        support: support.iter().filter(|&&s| s).count(),
        active: cols,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{fourier_l1_max_margin, l2_max_margin};
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    fn random_z(n: usize, d: usize, seed: u64) -> Vec<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n * d)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect()
    }

    #[test]
    fn exact_l2_svm_is_stationary_for_p_two() {
        let z = random_z(5, 12, 1);
        let svm = l2_max_margin(&z, 12).unwrap();
        let kkt = bridge_kkt_residual(&z, &svm.beta, 2.0, 1e-9, 1e-6).unwrap();
        assert!(kkt.residual < 1e-6, "{kkt:?}");
    }

    #[test]
    fn exact_fourier_l1_solution_is_stationary_for_p_one() {
        let z = random_z(5, 12, 2);
        let sol = fourier_l1_max_margin(&z, 12).unwrap();
        let kkt = bridge_kkt_residual(&z, &sol.beta, 1.0, 1e-4, 1e-6).unwrap();
        assert!(kkt.residual < 1e-4, "{kkt:?}");
    }

    #[test]
    fn a_non_stationary_point_has_a_large_residual() {
        let z = random_z(5, 12, 3);
        let svm = l2_max_margin(&z, 12).unwrap();
        // The l2 SVM is not stationary for the Fourier-l1 problem.
        let kkt = bridge_kkt_residual(&z, &svm.beta, 1.0, 1e-9, 1e-6).unwrap();
        assert!(kkt.residual > 1e-2, "{kkt:?}");
    }
}
