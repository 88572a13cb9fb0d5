//! The exact linear rate of SGD with replacement on interpolable least squares (Ma, Bassily,
//! Belkin 2018, arXiv:1712.06559). With `L(w) = ||X w - y||^2 / 2n`, batch m drawn with
//! replacement and step eta, the second moment `P_t = E[(w_t - w*)(w_t - w*)^T]` evolves by the
//! linear map `T(P) = P - eta (H P + P H) + eta^2 [S(P) / m + (1 - 1/m) H P H]`, with
//! `H = X^T X / n` and `S(P) = (1/n) sum_i (x_i^T P x_i) x_i x_i^T`; `E L_t` falls like
//! `rho_m^t`, rho_m the top eigenvalue of T on symmetric matrices of the row space of X. T is
//! self-adjoint in the Frobenius product, so rho_m is the top eigenvalue of its symmetric
//! matrix on an orthonormal basis of the row space's symmetric matrices (r(r+1)/2 of them).

use faer::Mat;

/// The row space of X: each row's coordinates in an orthonormal basis, and H's non-zero
/// eigenvalues (H is diagonal in that basis).
struct RowSpace {
    coords: Vec<Vec<f64>>,
    h: Vec<f64>,
}

fn row_space(x: &[f64], d: usize) -> RowSpace {
    let n = x.len() / d;
    let gram = Mat::from_fn(n, n, |i, j| {
        (0..d).map(|k| x[i * d + k] * x[j * d + k]).sum::<f64>()
    });
    let eigen = gram
        .self_adjoint_eigen(faer::Side::Lower)
        .expect("the eigendecomposition of a finite Gram matrix converges");
    let values: Vec<f64> = (0..n).map(|k| eigen.S()[k]).collect();
    let top = values.iter().fold(0.0f64, |m, v| m.max(*v));
    let kept: Vec<usize> = (0..n).filter(|&k| values[k] > 1e-12 * top).collect();
    // With G = V diag(s) V^T, Q = X^T V diag(s)^(-1/2) is orthonormal and Q^T x_i =
    // diag(s)^(1/2) V^T e_i; sum_i v_i v_i^T = diag(s), so H = diag(s) / n there.
    let coords = (0..n)
        .map(|i| {
            kept.iter()
                .map(|&k| values[k].sqrt() * eigen.U()[(i, k)])
                .collect()
        })
        .collect();
    RowSpace {
        coords,
        h: kept.iter().map(|&k| values[k] / n as f64).collect(),
    }
}

/// The largest and the smallest non-zero eigenvalue of `H = X^T X / n` (rows of `x`, width d).
pub fn least_squares_spectrum(x: &[f64], d: usize) -> (f64, f64) {
    let h = row_space(x, d).h;
    let max = h.iter().fold(0.0f64, |m, v| m.max(*v));
    let min = h.iter().fold(f64::INFINITY, |m, v| m.min(*v));
    (max, min)
}

/// rho_m: the per-step contraction of `E L_t` for SGD with replacement, batch `batch`, step
/// `eta`, on least squares with the rows of `x` (width d) and interpolable targets.
pub fn sgd_rate(x: &[f64], d: usize, eta: f64, batch: usize) -> f64 {
    let space = row_space(x, d);
    let (n, r) = (space.coords.len(), space.h.len());
    let m = batch as f64;
    // Orthonormal basis of symmetric r x r matrices: E_aa, and (e_a e_b^T + e_b e_a^T)/sqrt 2.
    let basis: Vec<(usize, usize)> = (0..r).flat_map(|a| (a..r).map(move |b| (a, b))).collect();
    let entry = |(a, b): (usize, usize), mat: &dyn Fn(usize, usize) -> f64| {
        if a == b {
            mat(a, a)
        } else {
            (mat(a, b) + mat(b, a)) / std::f64::consts::SQRT_2
        }
    };
    let size = basis.len();
    let mut t = vec![0.0; size * size];
    for (col, &(c, e)) in basis.iter().enumerate() {
        // A = the basis matrix (c, e); H diagonal, so H A, A H and H A H are entrywise.
        let a_val = |i: usize, j: usize| -> f64 {
            match (c == e, (i, j) == (c, e) || (i, j) == (e, c)) {
                (true, true) => 1.0,
                (false, true) => std::f64::consts::FRAC_1_SQRT_2,
                _ => 0.0,
            }
        };
        // v_i^T A v_i for every row.
        let quad: Vec<f64> = space
            .coords
            .iter()
            .map(|v| {
                if c == e {
                    v[c] * v[c]
                } else {
                    std::f64::consts::SQRT_2 * v[c] * v[e]
                }
            })
            .collect();
        let image = |i: usize, j: usize| -> f64 {
            let a = a_val(i, j);
            let (hi, hj) = (space.h[i], space.h[j]);
            let s: f64 = (0..n)
                .map(|k| quad[k] * space.coords[k][i] * space.coords[k][j])
                .sum::<f64>()
                / n as f64;
            a - eta * (hi + hj) * a + eta * eta * (s / m + (1.0 - 1.0 / m) * hi * a * hj)
        };
        for (row, &pair) in basis.iter().enumerate() {
            t[row * size + col] = entry(pair, &image);
        }
    }
    let values = crate::symmetric_eigenvalues(&t, size);
    values[size - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_dimension_has_the_scalar_formula() {
        // d = 1: rho = 1 - 2 eta h + eta^2 (E x^4 / m + (1 - 1/m) h^2), h = E x^2.
        let x = [0.5, -1.0, 2.0, 0.3];
        let h = x.iter().map(|v| v * v).sum::<f64>() / 4.0;
        let x4 = x.iter().map(|v| v.powi(4)).sum::<f64>() / 4.0;
        for (eta, m) in [(0.1, 1), (0.2, 3)] {
            let mf = m as f64;
            let expected = 1.0 - 2.0 * eta * h + eta * eta * (x4 / mf + (1.0 - 1.0 / mf) * h * h);
            let rho = sgd_rate(&x, 1, eta, m);
            assert!((rho - expected).abs() < 1e-13, "{rho} vs {expected}");
        }
    }

    #[test]
    fn orthogonal_rows_decouple_into_scalar_rates() {
        // Rows e_1 and 2 e_2 in R^3: each direction is sampled with probability 1/2 and the
        // rate is the slower coordinate's, 1 - 2 eta h_k + eta^2 (q_k / m + (1 - 1/m) h_k^2)
        // with h_k = x_k^2 / 2 and q_k = x_k^4 / 2.
        let x = [1.0, 0.0, 0.0, 0.0, 2.0, 0.0];
        let (eta, m) = (0.1, 1.0);
        let rate = |s: f64| {
            let (h, q) = (s * s / 2.0, s.powi(4) / 2.0);
            1.0 - 2.0 * eta * h + eta * eta * (q / m + (1.0 - 1.0 / m) * h * h)
        };
        let rho = sgd_rate(&x, 3, eta, 1);
        assert!((rho - rate(1.0).max(rate(2.0))).abs() < 1e-13, "{rho}");
        assert_eq!(least_squares_spectrum(&x, 3), (2.0, 0.5));
    }
}
