//! Stable losses, step rules and the full-batch training loop of fdl.
//!
//! The loop works for any [`ScalarModel`](fdl_models::ScalarModel). For a
//! [`Homogeneous`](fdl_models::Homogeneous) model it stores `theta = s * phi` with
//! `||phi||_2 = 1` in the module and `ln s` on the host: on separable data the parameter norm
//! grows without bound (exponentially fast under relative steps), and this representation makes
//! every step rule exact at any norm, so 10^6 steps never overflow.
//!
//! Losses follow the stable softmax form of SCIENCE.md: margins are read back, per-example
//! gradient weights `-l'(m_n)` are computed on the host relative to their maximum, and the
//! surrogate `-sum_n w_n m_n` is back-propagated, so its gradient is the loss gradient divided
//! by a known positive factor.

#![warn(missing_docs)]

mod descend;
mod error;
mod lbfgs;
mod loss;
mod method;
mod params;
mod regularized;
mod sampling;
mod schedule;
mod steepest;
mod step_rule;
mod train;

pub use descend::descend;
pub use error::TrainError;
pub use lbfgs::{LbfgsMinimum, LbfgsOptions, minimize_lbfgs};
pub use loss::{Loss, LossState};
pub use method::Method;
pub use params::{ParamSums, param_sums, scale_params, update_params};
pub use regularized::{ContinuationConfig, Labels, StageSummary, StepInfo, train_regularized};
pub use sampling::Sampling;
pub use schedule::log_spaced_steps;
pub use steepest::{
    LpGeometry, NormScope, SteepestDirection, dual_exponent, lp_norm, param_lp_norm,
    steepest_direction, steepest_steps,
};
pub use step_rule::{Schedule, StepRule, StepRuleKind};
pub use train::{Batch, Parameterization, Probe, TrainConfig, Trainer};
