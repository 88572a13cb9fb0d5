//! Range checks for `Validate` impls (fdl's experiments and yours): each error names its key.

use crate::error::ConfigError;
use fdl_optim::Loss;

/// `Err` unless `value >= min`.
pub fn require_at_least<T: PartialOrd + std::fmt::Display>(
    key: &'static str,
    value: T,
    min: T,
    allowed: &'static str,
) -> Result<(), ConfigError> {
    if value >= min {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            key,
            value: value.to_string(),
            allowed,
        })
    }
}

/// `Err` unless `loss` is a margin loss (the implicit-bias experiments are classification).
pub fn require_margin_loss(loss: Loss) -> Result<(), ConfigError> {
    if loss.is_classification() {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            key: "loss",
            value: "square".into(),
            allowed: "\"exponential\" or \"logistic\" (a classification loss)",
        })
    }
}

/// `Err` unless `value` is finite and positive.
pub fn require_positive(key: &'static str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            key,
            value: value.to_string(),
            allowed: "must be a positive number",
        })
    }
}

/// `Err` unless the list is non-empty and every depth is in 1..=16.
pub fn require_depths(
    key: &'static str,
    depths: &[usize],
    allow_empty: bool,
) -> Result<(), ConfigError> {
    let ok = (allow_empty || !depths.is_empty()) && depths.iter().all(|d| (1..=16).contains(d));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            key,
            value: format!("{depths:?}"),
            allowed: "a list of depths, each between 1 and 16",
        })
    }
}

/// `Err` unless `values` has at least two entries, each passing `valid` (a sweep the checks fit
/// a slope or a transition to).
pub fn require_sweep<T: std::fmt::Debug>(
    key: &'static str,
    values: &[T],
    valid: impl Fn(&T) -> bool,
    allowed: &'static str,
) -> Result<(), ConfigError> {
    if values.len() >= 2 && values.iter().all(valid) {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            key,
            value: format!("{values:?}"),
            allowed,
        })
    }
}
