//! The Fourier-l1 max margin: `min sum_k |(F beta)_k| s.t. Z beta >= 1` (an SOCP with one
//! second-order cone per frequency over (Re, Im); Gunasekar et al. 2018, depth-2 conv nets).

use super::conic::ConicProblem;
use super::{MaxMargin, SolveStatus, SolverError};
use crate::fourier_norm;
use clarabel::solver::SupportedConeT;
use clarabel::solver::SupportedConeT::{NonnegativeConeT, SecondOrderConeT};
use std::f64::consts::PI;

/// Constraints `Z beta >= 1` and `(t_k, Re (F beta)_k, Im (F beta)_k)` in a second-order cone,
/// over variables `x = (beta, t)`; returns `(A, b, cones)` in Clarabel's `b - Ax in K` form, with
/// room for extra nonnegative rows appended by the caller before the cones.
fn fourier_l1_constraints(
    z: &[f64],
    dim: usize,
    extra_rows: &[(Vec<f64>, f64)],
) -> (Vec<f64>, Vec<f64>, Vec<SupportedConeT<f64>>) {
    let n = z.len() / dim;
    let nv = 2 * dim;
    let mut a = Vec::with_capacity((n + extra_rows.len() + 3 * dim) * nv);
    let mut b = Vec::new();
    // Z beta >= 1  <=>  -1 - (-Z beta) >= 0.
    for row in z.chunks(dim) {
        a.extend(row.iter().map(|v| -v));
        a.extend(std::iter::repeat_n(0.0, dim));
        b.push(-1.0);
    }
    for (row, rhs) in extra_rows {
        a.extend(row);
        b.push(*rhs);
    }
    for k in 0..dim {
        let angle = |j: usize| 2.0 * PI * ((j * k) % dim) as f64 / dim as f64;
        let mut t_row = vec![0.0; nv];
        t_row[dim + k] = -1.0;
        a.extend(t_row);
        a.extend((0..dim).map(|j| -angle(j).cos()));
        a.extend(std::iter::repeat_n(0.0, dim));
        a.extend((0..dim).map(|j| angle(j).sin()));
        a.extend(std::iter::repeat_n(0.0, dim));
        b.extend([0.0; 3]);
    }
    let mut cones = vec![NonnegativeConeT(n + extra_rows.len())];
    cones.extend((0..dim).map(|_| SecondOrderConeT(3)));
    (a, b, cones)
}

/// The Fourier-l1 max-margin predictor for rows `z_n = y_n x_n` (row-major, `dim` columns).
pub fn fourier_l1_max_margin(z: &[f64], dim: usize) -> Result<MaxMargin, SolverError> {
    let nv = 2 * dim;
    let mut q = vec![0.0; nv];
    q[dim..].fill(1.0);
    let (a, b, cones) = fourier_l1_constraints(z, dim, &[]);
    let problem = ConicProblem {
        n: nv,
        p: vec![0.0; nv * nv],
        q,
        a,
        b,
        cones,
    };
    let (x, status) = problem.solve("Fourier-l1")?;
    let beta = x[..dim].to_vec();
    let norm = fourier_norm(&beta, 1.0);
    Ok(MaxMargin {
        margin: 1.0 / norm,
        norm,
        beta,
        status,
    })
}

/// The Fourier-l1 optimum nearest to the direction of `beta`: the Euclidean projection of
/// `beta / min_n <z_n, beta>` onto `{Z b >= 1, ||F b||_1 <= optimum (1 + rel_tol)}`.
///
/// The Fourier-l1 max margin need not be unique (an l1-type objective can be optimal on a whole
/// face); gradient descent then converges to one point of that face, and the cosine to an
/// arbitrary solver solution says nothing. The cosine to this projection does.
pub fn fourier_l1_nearest_optimum(
    z: &[f64],
    beta: &[f64],
    optimum: f64,
    rel_tol: f64,
) -> Result<(Vec<f64>, SolveStatus), SolverError> {
    let dim = beta.len();
    let nv = 2 * dim;
    let gamma = crate::min_margin(z, beta);
    let target: Vec<f64> = beta.iter().map(|b| b / gamma).collect();
    let mut p = vec![0.0; nv * nv];
    for i in 0..dim {
        p[i * nv + i] = 1.0;
    }
    let mut q = vec![0.0; nv];
    for (qi, t) in q.iter_mut().zip(&target) {
        *qi = -t;
    }
    // sum_k t_k <= optimum (1 + rel_tol).
    let mut budget = vec![0.0; nv];
    budget[dim..].fill(1.0);
    let (a, b, cones) = fourier_l1_constraints(z, dim, &[(budget, optimum * (1.0 + rel_tol))]);
    let problem = ConicProblem {
        n: nv,
        p,
        q,
        a,
        b,
        cones,
    };
    let (x, status) = problem.solve("nearest Fourier-l1 optimum")?;
    Ok((x[..dim].to_vec(), status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{dft, min_margin};

    /// One example z = e_0: since beta_0 = (1/D) sum_k (F beta)_k, every feasible beta has
    /// ||F beta||_1 >= D beta_0 >= D, with equality at beta = e_0 (a flat spectrum of ones).
    #[test]
    fn single_basis_vector_has_optimum_d() {
        let d = 6;
        let mut z = vec![0.0; d];
        z[0] = 1.0;
        let sol = fourier_l1_max_margin(&z, d).unwrap();
        assert!((sol.norm - d as f64).abs() < 1e-6, "{}", sol.norm);
        assert!((min_margin(&z, &sol.beta) - 1.0).abs() < 1e-6);
    }

    /// A pure cosine example: x = cos(2 pi k0 j / D). The optimum puts all mass on +-k0:
    /// beta = c x with <x, x> c = 1, and ||F beta||_1 = 2 |(F beta)_{k0}| = 2 c D / 2 = c D.
    #[test]
    fn cosine_example_concentrates_on_its_frequency() {
        let d = 8;
        let x: Vec<f64> = (0..d)
            .map(|j| (2.0 * PI * 3.0 * j as f64 / d as f64).cos())
            .collect();
        let sol = fourier_l1_max_margin(&x, d).unwrap();
        let c = 1.0 / x.iter().map(|v| v * v).sum::<f64>();
        assert!(
            (sol.norm - c * d as f64).abs() < 1e-6,
            "{} vs {}",
            sol.norm,
            c * d as f64
        );
        let spectrum = dft(&sol.beta);
        let off: f64 = spectrum
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != 3 && *k != 5)
            .map(|(_, c)| c.norm())
            .sum();
        assert!(off < 1e-6, "mass off the frequency: {off}");
    }

    /// An optimal point is its own projection onto the optimal set.
    #[test]
    fn projection_of_an_optimum_is_itself() {
        let d = 6;
        let z: Vec<f64> = (0..3 * d).map(|i| ((i * 7 + 2) % 5) as f64 - 1.5).collect();
        let sol = fourier_l1_max_margin(&z, d).unwrap();
        let near = fourier_l1_nearest_optimum(&z, &sol.beta, sol.norm, 1e-9)
            .unwrap()
            .0;
        assert!(crate::cosine(&near, &sol.beta) > 1.0 - 1e-9);
    }

    #[test]
    fn non_separable_data_is_a_typed_error() {
        let z = vec![1.0, 2.0, -1.0, -2.0];
        assert!(matches!(
            fourier_l1_max_margin(&z, 2),
            Err(SolverError::NotSeparable { .. })
        ));
    }
}
