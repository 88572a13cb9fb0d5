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

#[cfg(test)]
mod tests {
    use super::*;

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
