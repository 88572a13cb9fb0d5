//! Singular values and symmetric eigenvalues of dense matrices (faer): layer alignment and
//! kernel spectra.

use faer::Mat;

/// The top singular triple of a matrix and its Frobenius norm.
#[derive(Debug, Clone, PartialEq)]
pub struct TopSingular {
    /// Largest singular value `||A||_2`.
    pub sigma: f64,
    /// `||A||_F`.
    pub frobenius: f64,
    /// Top left singular vector (length `rows`).
    pub left: Vec<f64>,
    /// Top right singular vector (length `cols`).
    pub right: Vec<f64>,
}

/// The top singular triple of the row-major `rows x cols` matrix `a`.
pub fn top_singular(a: &[f64], rows: usize, cols: usize) -> TopSingular {
    assert_eq!(
        a.len(),
        rows * cols,
        "matrix buffer does not match its shape"
    );
    let m = Mat::from_fn(rows, cols, |i, j| a[i * cols + j]);
    let svd = m.thin_svd().expect("SVD of a finite matrix converges");
    let sigma = svd.S().column_vector()[0];
    TopSingular {
        sigma,
        frobenius: a.iter().map(|v| v * v).sum::<f64>().sqrt(),
        left: (0..rows).map(|i| svd.U()[(i, 0)]).collect(),
        right: (0..cols).map(|j| svd.V()[(j, 0)]).collect(),
    }
}

/// The eigenvalues of the symmetric `n x n` row-major matrix `a`, ascending (kernel spectra:
/// lambda_min, lambda_max, and everything between). Only the lower triangle is read.
pub fn symmetric_eigenvalues(a: &[f64], n: usize) -> Vec<f64> {
    assert_eq!(a.len(), n * n, "matrix buffer does not match its shape");
    let m = Mat::from_fn(n, n, |i, j| a[i * n + j]);
    let mut values = m
        .self_adjoint_eigenvalues(faer::Side::Lower)
        .expect("the eigenvalues of a finite symmetric matrix converge");
    values.sort_by(f64::total_cmp);
    values
}

/// Predictions of kernel gradient descent on the square loss, in closed form: with step `eta`
/// on `sum (u - y)^2 / 2` and Gram matrix `k` (`n x n`, symmetric), the training predictions
/// after `t` steps are `u(t) = y + (I - eta K)^t (u(0) - y)` (the linearized network's
/// dynamics; Lee et al. 2019, eq. 9). One eigendecomposition serves every `t` in `steps`.
pub fn kernel_gd_predictions(
    k: &[f64],
    n: usize,
    u0: &[f64],
    y: &[f64],
    eta: f64,
    steps: &[usize],
) -> Vec<Vec<f64>> {
    assert_eq!(k.len(), n * n, "kernel buffer does not match its shape");
    let m = Mat::from_fn(n, n, |i, j| k[i * n + j]);
    let eig = m
        .self_adjoint_eigen(faer::Side::Lower)
        .expect("the eigendecomposition of a finite symmetric matrix converges");
    let (q, lambda) = (eig.U(), eig.S().column_vector());
    // Residual in the eigenbasis: c = Q^T (u0 - y).
    let r: Vec<f64> = u0.iter().zip(y).map(|(a, b)| a - b).collect();
    let c: Vec<f64> = (0..n)
        .map(|j| (0..n).map(|i| q[(i, j)] * r[i]).sum())
        .collect();
    steps
        .iter()
        .map(|&t| {
            let decayed: Vec<f64> = (0..n)
                .map(|j| c[j] * (1.0 - eta * lambda[j]).powi(t as i32))
                .collect();
            (0..n)
                .map(|i| y[i] + (0..n).map(|j| q[(i, j)] * decayed[j]).sum::<f64>())
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_gd_closed_form_matches_iterating_the_update() {
        let k = [2.0, 0.5, 0.1, 0.5, 1.0, 0.3, 0.1, 0.3, 0.8];
        let (u0, y, eta) = ([0.3, -0.2, 0.0], [1.0, -1.0, 0.5], 0.3);
        let closed = kernel_gd_predictions(&k, 3, &u0, &y, eta, &[0, 1, 7]);
        let mut u = u0.to_vec();
        for t in 0..=7 {
            if [0, 1, 7].contains(&t) {
                let row = &closed[[0, 1, 7].iter().position(|&s| s == t).unwrap()];
                for (a, b) in row.iter().zip(&u) {
                    assert!((a - b).abs() < 1e-12, "t = {t}: {a} vs {b}");
                }
            }
            // u <- u - eta K (u - y)
            let r: Vec<f64> = u.iter().zip(&y).map(|(a, b)| a - b).collect();
            for i in 0..3 {
                u[i] -= eta * (0..3).map(|j| k[3 * i + j] * r[j]).sum::<f64>();
            }
        }
    }

    #[test]
    fn eigenvalues_of_a_known_symmetric_matrix() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3; diag(5, -1, 0) its diagonal, sorted.
        let e = symmetric_eigenvalues(&[2.0, 1.0, 1.0, 2.0], 2);
        assert!((e[0] - 1.0).abs() < 1e-12 && (e[1] - 3.0).abs() < 1e-12);
        let d = symmetric_eigenvalues(&[5.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0], 3);
        assert_eq!(d.len(), 3);
        for (x, y) in d.iter().zip([-1.0, 0.0, 5.0]) {
            assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn rank_one_matrix_has_sigma_equal_to_frobenius() {
        // u v^T with u = (1, 2), v = (3, 0, 4): sigma = |u||v| = sqrt(5) * 5.
        let a = [3.0, 0.0, 4.0, 6.0, 0.0, 8.0];
        let t = top_singular(&a, 2, 3);
        assert!((t.sigma - 5.0 * 5f64.sqrt()).abs() < 1e-12);
        assert!((t.sigma - t.frobenius).abs() < 1e-12);
        assert!(
            (t.right[0].abs() - 0.6).abs() < 1e-12
                && (t.left[1].abs() - 2.0 / 5f64.sqrt()).abs() < 1e-12
        );
    }

    #[test]
    fn identity_has_ratio_one_over_sqrt_n() {
        let t = top_singular(&[1.0, 0.0, 0.0, 1.0], 2, 2);
        assert!((t.sigma / t.frobenius - 0.5f64.sqrt()).abs() < 1e-12);
    }
}
