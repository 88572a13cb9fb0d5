//! Kernel baselines on a precomputed kernel: the hard-margin kernel SVM (an exact QP through
//! Clarabel) and kernel ridge regression, whose ridge -> 0 limit is min-norm interpolation.

use super::conic::ConicProblem;
use super::{SolveStatus, SolverError};
use clarabel::solver::SupportedConeT::NonnegativeConeT;
use faer::Mat;
use faer::linalg::solvers::Solve;

/// A kernel predictor `f(x) = sum_i c_i k(x_i, x)`.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelPredictor {
    /// The coefficients c_i, one per training point.
    pub coefficients: Vec<f64>,
    /// `||f||_H = sqrt(c^T K c)`.
    pub rkhs_norm: f64,
    /// How the coefficients were solved for.
    pub status: SolveStatus,
}

impl KernelPredictor {
    /// `f` at the points whose kernel against the training set is `k_cross` (`[m, n]`).
    pub fn predict(&self, k_cross: &[f64]) -> Vec<f64> {
        let n = self.coefficients.len();
        k_cross
            .chunks(n)
            .map(|row| row.iter().zip(&self.coefficients).map(|(k, c)| k * c).sum())
            .collect()
    }
}

/// The hard-margin kernel SVM without bias, `min ||f||_H s.t. y_i f(x_i) >= 1`, through its dual
/// `max sum a - 1/2 a^T (Y K Y) a, a >= 0` (f = sum a_i y_i k(x_i, .)); the max margin is
/// `1 / ||f||_H`. Data that no function in the RKHS separates are a typed error.
pub fn kernel_svm(k: &[f64], y: &[f64]) -> Result<KernelPredictor, SolverError> {
    let n = y.len();
    assert_eq!(k.len(), n * n, "the kernel is [n, n]");
    let p: Vec<f64> = (0..n * n).map(|ij| y[ij / n] * k[ij] * y[ij % n]).collect();
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        a[i * n + i] = -1.0;
    }
    let (dual, status) = ConicProblem {
        n,
        p,
        q: vec![-1.0; n],
        a,
        b: vec![0.0; n],
        cones: vec![NonnegativeConeT(n)],
    }
    .solve("kernel SVM")?;
    let coefficients: Vec<f64> = dual.iter().zip(y).map(|(a, y)| a * y).collect();
    Ok(with_norm(coefficients, k, status))
}

fn with_norm(coefficients: Vec<f64>, k: &[f64], status: SolveStatus) -> KernelPredictor {
    let n = coefficients.len();
    let sq: f64 = (0..n * n)
        .map(|ij| coefficients[ij / n] * k[ij] * coefficients[ij % n])
        .sum();
    KernelPredictor {
        coefficients,
        rkhs_norm: sq.max(0.0).sqrt(),
        status,
    }
}

/// Kernel ridge regression `c = (K + ridge I)^{-1} y` by Cholesky; `ridge = 0` is the min-norm
/// interpolant (needs K positive definite: distinct points under a strictly positive kernel).
pub fn kernel_ridge(k: &[f64], y: &[f64], ridge: f64) -> Result<KernelPredictor, SolverError> {
    let n = y.len();
    assert_eq!(k.len(), n * n, "the kernel is [n, n]");
    let gram = Mat::from_fn(n, n, |i, j| k[i * n + j] + if i == j { ridge } else { 0.0 });
    let llt = gram
        .llt(faer::Side::Lower)
        .map_err(|_| SolverError::NoInterpolant {
            problem: "kernel interpolation (the kernel matrix is singular)",
        })?;
    let c = llt.solve(Mat::from_fn(n, 1, |i, _| y[i]));
    let coefficients: Vec<f64> = (0..n).map(|i| c[(i, 0)]).collect();
    // The measured residual ||(K + ridge I) c - y|| / ||y|| of the factorization's solution.
    let residual = (0..n)
        .map(|i| {
            let row: f64 = (0..n).map(|j| k[i * n + j] * coefficients[j]).sum();
            (row + ridge * coefficients[i] - y[i]).powi(2)
        })
        .sum::<f64>()
        .sqrt()
        / y.iter()
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt()
            .max(f64::MIN_POSITIVE);
    let status = SolveStatus {
        status: "Cholesky".into(),
        primal_residual: residual,
        dual_residual: 0.0,
    };
    Ok(with_norm(coefficients, k, status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l2_max_margin;

    #[test]
    fn linear_kernel_svm_is_the_l2_svm() {
        let x = [
            0.5, 1.5, 1.5, 0.5, -0.5, -1.5, -1.5, -0.5, 2.0, 1.0, -1.0, -2.5, 0.2, 2.2,
        ];
        let y = [1.0, 1.0, -1.0, -1.0, 1.0, -1.0, 1.0];
        let (n, d) = (7, 2);
        let k: Vec<f64> = (0..n * n)
            .map(|ij| (0..d).map(|t| x[ij / n * d + t] * x[ij % n * d + t]).sum())
            .collect();
        let svm = kernel_svm(&k, &y).unwrap();
        let z: Vec<f64> = x
            .chunks(d)
            .zip(&y)
            .flat_map(|(r, yi)| r.iter().map(move |v| v * yi))
            .collect();
        let reference = l2_max_margin(&z, d).unwrap();
        assert!((1.0 / svm.rkhs_norm - reference.margin).abs() < 1e-6);
        // f(x) = <w, x> with w = sum_i c_i x_i, the SVM's w.
        let w: Vec<f64> = (0..d)
            .map(|t| (0..n).map(|i| svm.coefficients[i] * x[i * d + t]).sum())
            .collect();
        for t in 0..d {
            assert!((w[t] - reference.beta[t]).abs() < 1e-6, "{w:?}");
        }
        let f = svm.predict(&k);
        assert!(f.iter().zip(&y).all(|(f, y)| f * y >= 1.0 - 1e-6));
    }

    #[test]
    fn ridge_interpolates_at_zero_and_shrinks_above() {
        let k = [2.0, 0.5, 0.1, 0.5, 1.5, 0.3, 0.1, 0.3, 1.0];
        let y = [1.0, -2.0, 0.5];
        let interp = kernel_ridge(&k, &y, 0.0).unwrap();
        for (f, t) in interp.predict(&k).iter().zip(&y) {
            assert!((f - t).abs() < 1e-12);
        }
        let ridged = kernel_ridge(&k, &y, 1.0).unwrap();
        assert!(ridged.rkhs_norm < interp.rkhs_norm);
        assert!(kernel_ridge(&[1.0, 1.0, 1.0, 1.0], &[1.0, 2.0], 0.0).is_err());
    }

    #[test]
    fn inseparable_labels_are_an_error() {
        // The same point with both labels.
        let e = kernel_svm(&[1.0, 1.0, 1.0, 1.0], &[1.0, -1.0]).unwrap_err();
        assert!(matches!(e, SolverError::NotSeparable { .. }), "{e:?}");
    }
}
