//! Nonnegative least squares `min_{lambda >= 0} ||M lambda - g||` as a QP.

use super::SolverError;
use super::conic::ConicProblem;
use clarabel::solver::SupportedConeT::NonnegativeConeT;

/// Solves `min_{lambda >= 0} ||M lambda - g||_2`, `m` row-major with `cols` columns.
pub(crate) fn nonnegative_least_squares(
    m: &[f64],
    cols: usize,
    g: &[f64],
) -> Result<Vec<f64>, SolverError> {
    let rows = g.len();
    let col = |j: usize| (0..rows).map(move |i| m[i * cols + j]);
    let mut p = vec![0.0; cols * cols];
    for i in 0..cols {
        for j in 0..cols {
            p[i * cols + j] = col(i).zip(col(j)).map(|(a, b)| a * b).sum();
        }
    }
    let q: Vec<f64> = (0..cols)
        .map(|j| -col(j).zip(g).map(|(a, b)| a * b).sum::<f64>())
        .collect();
    let mut a = vec![0.0; cols * cols];
    for i in 0..cols {
        a[i * cols + i] = -1.0;
    }
    let problem = ConicProblem {
        n: cols,
        p,
        q,
        a,
        b: vec![0.0; cols],
        cones: vec![NonnegativeConeT(cols)],
    };
    Ok(problem.solve("nonnegative least squares")?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_the_negative_coordinate() {
        // M = I, g = (2, -1): lambda = (2, 0).
        let lam = nonnegative_least_squares(&[1.0, 0.0, 0.0, 1.0], 2, &[2.0, -1.0]).unwrap();
        assert!(
            (lam[0] - 2.0).abs() < 1e-7 && lam[1].abs() < 1e-7,
            "{lam:?}"
        );
    }
}
