//! A thin wrapper over Clarabel: dense inputs in, solution or typed error out.

use super::{ALMOST_SOLVED_RESIDUAL, SolveStatus, SolverError};
use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};

/// `min 1/2 x'Px + q'x  s.t.  b - Ax in cones`, with dense row-major `p` (n x n) and `a` (m x n).
pub(crate) struct ConicProblem {
    pub n: usize,
    pub p: Vec<f64>,
    pub q: Vec<f64>,
    pub a: Vec<f64>,
    pub b: Vec<f64>,
    pub cones: Vec<SupportedConeT<f64>>,
}

/// Refuses an `AlmostSolved` result whose primal or dual residual exceeds
/// [`ALMOST_SOLVED_RESIDUAL`] (or is NaN): a reference that inaccurate is a solver failure.
fn accept(problem: &'static str, report: &SolveStatus) -> Result<(), SolverError> {
    // f64::max would drop a NaN residual.
    let (primal, dual) = (report.primal_residual, report.dual_residual);
    let residual = if primal.is_nan() || dual.is_nan() {
        f64::NAN
    } else {
        primal.max(dual)
    };
    if report.status == "AlmostSolved" && (residual.is_nan() || residual > ALMOST_SOLVED_RESIDUAL) {
        return Err(SolverError::Failed {
            problem,
            status: format!(
                "AlmostSolved with residual {residual:.1e} > {ALMOST_SOLVED_RESIDUAL:.0e} (primal {:.1e}, dual {:.1e})",
                report.primal_residual, report.dual_residual
            ),
        });
    }
    Ok(())
}

/// A dense row-major matrix as CSC, keeping the upper triangle only when `upper`.
fn csc(rows: usize, cols: usize, dense: &[f64], upper: bool) -> CscMatrix<f64> {
    let (mut ri, mut ci, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rows {
        for j in 0..cols {
            let x = dense[i * cols + j];
            if x != 0.0 && (!upper || i <= j) {
                ri.push(i);
                ci.push(j);
                v.push(x);
            }
        }
    }
    CscMatrix::new_from_triplets(rows, cols, ri, ci, v)
}

impl ConicProblem {
    /// Solves to Clarabel's default tolerances (1e-8), returning x and the status.
    pub fn solve(&self, problem: &'static str) -> Result<(Vec<f64>, SolveStatus), SolverError> {
        self.solve_primal_dual(problem)
            .map(|(x, _, status)| (x, status))
    }

    /// Solves and also returns the dual variables z of the constraints (one per row of A).
    pub fn solve_primal_dual(
        &self,
        problem: &'static str,
    ) -> Result<(Vec<f64>, Vec<f64>, SolveStatus), SolverError> {
        let m = self.b.len();
        let p = csc(self.n, self.n, &self.p, true);
        let a = csc(m, self.n, &self.a, false);
        let settings = DefaultSettingsBuilder::default()
            .verbose(false)
            .build()
            .expect("default settings are valid");
        let mut solver = DefaultSolver::new(&p, &self.q, &a, &self.b, &self.cones, settings)
            .map_err(|e| SolverError::Failed {
                problem,
                status: e.to_string(),
            })?;
        solver.solve();
        let solution = &solver.solution;
        let status = solution.status;
        match status {
            SolverStatus::Solved | SolverStatus::AlmostSolved => {
                let report = SolveStatus {
                    status: format!("{status:?}"),
                    primal_residual: solution.r_prim,
                    dual_residual: solution.r_dual,
                };
                accept(problem, &report)?;
                Ok((solution.x.clone(), solution.z.clone(), report))
            }
            SolverStatus::PrimalInfeasible
            | SolverStatus::AlmostPrimalInfeasible
            | SolverStatus::DualInfeasible
            | SolverStatus::AlmostDualInfeasible => Err(SolverError::NotSeparable { problem }),
            other => Err(SolverError::Failed {
                problem,
                status: format!("{other:?}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(name: &str, primal: f64, dual: f64) -> SolveStatus {
        SolveStatus {
            status: name.into(),
            primal_residual: primal,
            dual_residual: dual,
        }
    }

    #[test]
    fn an_almost_solved_reference_is_refused_above_the_residual_bound() {
        assert!(accept("p", &status("Solved", 1e-3, 0.0)).is_ok());
        assert!(accept("p", &status("AlmostSolved", 5e-7, 1e-9)).is_ok());
        let err = accept("p", &status("AlmostSolved", 1e-9, 2e-6)).unwrap_err();
        assert!(
            err.to_string()
                .contains("AlmostSolved with residual 2.0e-6"),
            "{err}"
        );
        assert!(accept("p", &status("AlmostSolved", f64::NAN, 0.0)).is_err());
    }

    #[test]
    fn the_worse_of_two_statuses_prefers_almost_solved_then_the_larger_residual() {
        let a = status("Solved", 1e-9, 1e-10);
        let b = status("Solved", 1e-8, 0.0);
        let c = status("AlmostSolved", 1e-12, 0.0);
        assert_eq!(a.clone().worse(&b), b);
        assert_eq!(b.clone().worse(&a), b);
        assert_eq!(a.worse(&c), c);
        assert!(!c.solved() && b.solved());
    }
}
