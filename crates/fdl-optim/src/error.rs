//! Training errors.

/// Why a training run stopped early.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrainError {
    /// A quantity became NaN or infinite: the run diverged.
    #[error("diverged at step {step}: {quantity} is {value}")]
    Diverged {
        /// The step at which it was detected (1-based; 0 is the initial point).
        step: usize,
        /// Which quantity blew up.
        quantity: &'static str,
        /// Its value.
        value: f64,
    },
    /// The gradient is exactly zero, so a normalized step has no direction.
    #[error("gradient vanished at step {step}: a normalized step rule has no direction")]
    ZeroGradient {
        /// The step at which it happened.
        step: usize,
    },
    /// The configuration combines parts that do not go together.
    #[error("unsupported training configuration: {0}")]
    Unsupported(&'static str),
    /// An external solver (argmin's L-BFGS) failed.
    #[error("{0}")]
    Solver(String),
    /// A probe callback asked to stop.
    #[error("{0}")]
    Probe(String),
}

/// Returns `Diverged` unless `value` is finite.
pub(crate) fn finite(step: usize, quantity: &'static str, value: f64) -> Result<f64, TrainError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(TrainError::Diverged {
            step,
            quantity,
            value,
        })
    }
}
