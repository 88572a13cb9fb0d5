//! Exact convex reference solvers: max-margin predictors under several norms (Clarabel) and
//! minimum-norm or minimum-potential interpolants.

mod conic;
mod fourier_l1;
mod interpolation;
mod kernel_methods;
mod l2;
mod lifted;
mod lp_norm;
mod nnls;

pub use fourier_l1::{fourier_l1_max_margin, fourier_l1_nearest_optimum};
pub use interpolation::{min_l1_interpolant, min_l2_interpolant, q_alpha, q_alpha_interpolant};
pub use kernel_methods::{KernelPredictor, kernel_ridge, kernel_svm};
pub use l2::l2_max_margin;
pub use lifted::{LiftedMargin, lifted_l1_margin, relu_feature_sup};
pub use lp_norm::{lp_max_margin, lp_norm};
pub(crate) use nnls::nonnegative_least_squares;

/// Why a reference solution could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SolverError {
    /// No predictor has all margins positive: the max-margin problem is infeasible.
    #[error(
        "the data are not linearly separable (through the origin): no predictor has y_n <x_n, beta> > 0 for every n, so the {problem} max-margin reference does not exist"
    )]
    NotSeparable {
        /// Which problem.
        problem: &'static str,
    },
    /// No predictor satisfies `X beta = y` (inconsistent or dependent equations).
    #[error(
        "no interpolant exists for the {problem} reference: the equations X beta = y are inconsistent or their rows dependent"
    )]
    NoInterpolant {
        /// Which problem.
        problem: &'static str,
    },
    /// The solver stopped without a solution.
    #[error("the {problem} solver stopped with status {status}")]
    Failed {
        /// Which problem.
        problem: &'static str,
        /// Clarabel's status.
        status: String,
    },
}

/// Residuals above which an `AlmostSolved` result is refused: the checks compare trained
/// models with references to 1e-3 and finer, so a reference must be accurate well below that.
pub const ALMOST_SOLVED_RESIDUAL: f64 = 1e-6;

/// How an exact reference was solved: the solver's status and its final residuals.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SolveStatus {
    /// Clarabel's status (`Solved`, `AlmostSolved`), or the direct method used (`Cholesky`).
    pub status: String,
    /// Primal residual at the solution (0 for a direct factorization).
    pub primal_residual: f64,
    /// Dual residual at the solution (0 for a direct factorization).
    pub dual_residual: f64,
}

impl SolveStatus {
    /// The status of a direct (non-iterative) solve, exact up to rounding.
    pub fn exact(method: &str) -> Self {
        Self {
            status: method.into(),
            primal_residual: 0.0,
            dual_residual: 0.0,
        }
    }

    /// Solved to the solver's full accuracy (anything but `AlmostSolved`).
    pub fn solved(&self) -> bool {
        self.status != "AlmostSolved"
    }

    /// The less accurate of two statuses (for a reference made of many solves).
    pub fn worse(self, other: &SolveStatus) -> SolveStatus {
        let key = |s: &SolveStatus| (!s.solved(), s.primal_residual.max(s.dual_residual));
        if key(other) > key(&self) {
            other.clone()
        } else {
            self
        }
    }
}

/// A max-margin predictor: `beta` minimizes the norm subject to `Z beta >= 1`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MaxMargin {
    /// The minimizer, with `min_n <z_n, beta> = 1`.
    pub beta: Vec<f64>,
    /// The minimal norm `||beta||`.
    pub norm: f64,
    /// The max normalized margin `1 / ||beta||`.
    pub margin: f64,
    /// How the solver finished.
    pub status: SolveStatus,
}
