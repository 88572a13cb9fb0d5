//! The l2 hard-margin SVM without bias: `min 1/2 ||w||^2 s.t. Z w >= 1` (a QP).

use super::conic::ConicProblem;
use super::{MaxMargin, SolverError};
use crate::norm2;
use clarabel::solver::SupportedConeT::NonnegativeConeT;

/// The l2 max-margin predictor for rows `z_n = y_n x_n` (row-major, `dim` columns).
pub fn l2_max_margin(z: &[f64], dim: usize) -> Result<MaxMargin, SolverError> {
    let n = z.len() / dim;
    let mut p = vec![0.0; dim * dim];
    for i in 0..dim {
        p[i * dim + i] = 1.0;
    }
    let problem = ConicProblem {
        n: dim,
        p,
        q: vec![0.0; dim],
        a: z.iter().map(|v| -v).collect(),
        b: vec![-1.0; n],
        cones: vec![NonnegativeConeT(n)],
    };
    let (beta, status) = problem.solve("l2")?;
    let norm = norm2(&beta);
    Ok(MaxMargin {
        margin: 1.0 / norm,
        norm,
        beta,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::min_margin;

    /// The 2-D data of Soudry et al. (2018): support vectors (0.5, 1.5), (1.5, 0.5) with label +1,
    /// their negatives with label -1, and points off the margin; w_svm = (0.5, 0.5).
    #[test]
    fn soudry_two_d_data_gives_half_half() {
        let pos = [[0.5, 1.5], [1.5, 0.5], [2.0, 3.0], [3.5, 1.0], [2.5, 2.5]];
        let z: Vec<f64> = pos.iter().chain(pos.iter()).flatten().copied().collect();
        let svm = l2_max_margin(&z, 2).unwrap();
        assert!(
            (svm.beta[0] - 0.5).abs() < 1e-7 && (svm.beta[1] - 0.5).abs() < 1e-7,
            "{:?}",
            svm.beta
        );
        assert!((svm.margin - 2f64.sqrt()).abs() < 1e-7);
        assert!((min_margin(&z, &svm.beta) - 1.0).abs() < 1e-7);
    }

    #[test]
    fn non_separable_data_is_a_typed_error() {
        let z = vec![1.0, 0.0, -1.0, 0.0];
        assert_eq!(
            l2_max_margin(&z, 2).unwrap_err(),
            SolverError::NotSeparable { problem: "l2" }
        );
    }
}
