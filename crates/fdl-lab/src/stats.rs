//! The statistics the checks are made of. Each one either measures or says why it cannot:
//! an empty series, a NaN or a phase that never starts is an error naming the cause (which the
//! check then reports as a FAIL with that cause), never a silently dropped point or a default
//! value that passes.

pub use fdl_analysis::{FitError, linear_slope, loglog_slope};

/// A statistic as measured, or why it could not be: what a summary stores, so that
/// `fdl check` re-decides a check from the same value or the same reason.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Measured {
    /// The value (finite).
    Value(f64),
    /// Why there is none.
    Missing(String),
}

impl Measured {
    /// The value, or why there is none (for [`Check::measured`](crate::report::Check::measured)).
    pub fn result(&self) -> Result<f64, String> {
        match self {
            Measured::Value(v) => Ok(*v),
            Measured::Missing(why) => Err(why.clone()),
        }
    }
}

impl<E: std::fmt::Display> From<Result<f64, E>> for Measured {
    fn from(result: Result<f64, E>) -> Self {
        match result {
            Ok(v) if v.is_finite() => Measured::Value(v),
            Ok(v) => Measured::Missing(format!("not measured ({v})")),
            Err(e) => Measured::Missing(e.to_string()),
        }
    }
}

/// Why a statistic could not be measured.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatError {
    /// Too few values for the statistic.
    #[error("{what}: {count} value(s), at least {needed} needed")]
    TooFew {
        /// The statistic.
        what: &'static str,
        /// How many there were.
        count: usize,
        /// How many it needs.
        needed: usize,
    },
    /// A value that is NaN or infinite.
    #[error("{what}: value {index} is {value}")]
    NotFinite {
        /// The statistic.
        what: &'static str,
        /// Its position.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A phase of training that the series never enters.
    #[error("{0}")]
    NoPhase(String),
}

fn require_finite(what: &'static str, values: &[f64], needed: usize) -> Result<(), StatError> {
    if values.len() < needed {
        return Err(StatError::TooFew {
            what,
            count: values.len(),
            needed,
        });
    }
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(StatError::NotFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// The largest of `values`; an empty series or a NaN or infinite value is an error (a fold
/// from -inf would let an empty or NaN series pass an upper bound).
pub fn max_of(what: &'static str, values: &[f64]) -> Result<f64, StatError> {
    require_finite(what, values, 1)?;
    Ok(values.iter().copied().fold(f64::NEG_INFINITY, f64::max))
}

/// The smallest of `values`; an empty series or a NaN or infinite value is an error.
pub fn min_of(what: &'static str, values: &[f64]) -> Result<f64, StatError> {
    require_finite(what, values, 1)?;
    Ok(values.iter().copied().fold(f64::INFINITY, f64::min))
}

/// The smaller of two values, NaN if either is (`f64::min` would drop the NaN).
pub fn min_keeping_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// The largest relative drop between consecutive values, `max_t (a_t - a_{t+1}) / |a_t|`
/// (negative when the series rises everywhere). Used for "non-decreasing at every step".
pub fn largest_step_drop(values: &[f64]) -> Result<f64, StatError> {
    require_finite("largest step drop", values, 2)?;
    Ok(values
        .windows(2)
        .map(|w| (w[0] - w[1]) / w[0].abs())
        .fold(f64::NEG_INFINITY, f64::max))
}

/// The largest drop `a_i - a_j` over any i < j, relative to the largest `|a|` (so that a value
/// near zero, e.g. the margin of a net too narrow to separate the data, does not blow the ratio
/// up). Used for "non-decreasing along a sweep".
pub fn largest_drop(values: &[f64]) -> Result<f64, StatError> {
    require_finite("largest drop", values, 2)?;
    let scale = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if scale == 0.0 {
        return Err(StatError::NoPhase(
            "largest drop: every value is zero".into(),
        ));
    }
    let mut worst = f64::NEG_INFINITY;
    for (i, a) in values.iter().enumerate() {
        for b in &values[i + 1..] {
            worst = worst.max((a - b) / scale);
        }
    }
    Ok(worst)
}

/// Per-step contraction `(L(t2) / L(t1))^{1/(t2 - t1)}` of a loss recorded at every step, over
/// the linear phase from the first step with `L <= start L(0)` to the first with
/// `L <= end L(0)` (or the last step).
pub fn contraction(losses: &[f64], start: f64, end: f64) -> Result<f64, StatError> {
    require_finite("contraction", losses, 2)?;
    let l0 = losses[0];
    let t1 = losses
        .iter()
        .position(|&l| l <= start * l0)
        .ok_or_else(|| {
            StatError::NoPhase(format!(
                "the loss never falls to {start:.0e} of its start (lowest {:.3e} of it): no linear phase",
                losses.iter().copied().fold(f64::INFINITY, f64::min) / l0
            ))
        })?;
    let t2 = losses
        .iter()
        .position(|&l| l <= end * l0)
        .unwrap_or(losses.len() - 1);
    if t2 <= t1 {
        return Err(StatError::NoPhase(format!(
            "the linear phase is shorter than one step (step {t1} to {t2})"
        )));
    }
    Ok((losses[t2] / losses[t1]).powf(1.0 / (t2 - t1) as f64))
}

/// The exponent a of `gap ~ t^{-a}` between the last probe at or before T/10 and the last at or
/// before T, from a `(step, gap)` series of a run of `steps` steps.
pub fn decade_exponent(gap: &[(f64, f64)], steps: usize) -> Result<f64, StatError> {
    let last = |t: f64| gap.iter().rev().find(|(s, _)| *s <= t).copied();
    let (Some((t1, g1)), Some((t2, g2))) = (last(steps as f64 / 10.0), last(steps as f64)) else {
        return Err(StatError::TooFew {
            what: "decade exponent (probes at T/10 and T)",
            count: gap.len(),
            needed: 2,
        });
    };
    if t2 <= t1 {
        return Err(StatError::NoPhase(format!(
            "decade exponent: no probe between t = {t1} and T = {steps}"
        )));
    }
    if !(g1 > 0.0 && g2 > 0.0) {
        return Err(StatError::NoPhase(format!(
            "decade exponent: the gaps at t = {t1} and {t2} are {g1:.3e} and {g2:.3e}; both must be positive (a negative gap beats the exact optimum)"
        )));
    }
    let a = (g1 / g2).ln() / (t2 / t1).ln();
    if a.is_finite() {
        Ok(a)
    } else {
        Err(StatError::NotFinite {
            what: "decade exponent (gaps at T/10 and T)",
            index: 0,
            value: a,
        })
    }
}

/// Where a learning curve first reaches a target error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleComplexity {
    /// The smallest n with error <= target, interpolated in (log n, error).
    Reached(f64),
    /// The curve is at or below the target already at its smallest n: n_0.1 is at most that n
    /// (left-censored; its exact value is not measured).
    AtFirst(usize),
    /// The curve stays above the target up to its largest n.
    NotReached {
        /// The largest n measured.
        largest_n: usize,
        /// The lowest error measured.
        lowest_error: f64,
    },
}

impl SampleComplexity {
    /// The interpolated n, if reached inside the grid.
    pub fn value(self) -> Option<f64> {
        match self {
            SampleComplexity::Reached(n) => Some(n),
            _ => None,
        }
    }

    /// The interval the true n_0.1 lies in: a point when reached inside the grid, (0, n_min]
    /// when reached at once, (n_max, inf) when never reached.
    pub fn bounds(self) -> (f64, f64) {
        match self {
            SampleComplexity::Reached(n) => (n, n),
            SampleComplexity::AtFirst(n) => (0.0, n as f64),
            SampleComplexity::NotReached { largest_n, .. } => (largest_n as f64, f64::INFINITY),
        }
    }
}

/// Smallest n with mean error <= `target`, interpolated linearly in (log n, error) between the
/// grid points around the crossing. An empty or non-finite curve is an error.
pub fn sample_complexity(
    curve: &[(usize, f64)],
    target: f64,
) -> Result<SampleComplexity, StatError> {
    let errors: Vec<f64> = curve.iter().map(|c| c.1).collect();
    require_finite("sample complexity", &errors, 1)?;
    let Some(k) = curve.iter().position(|&(_, e)| e <= target) else {
        return Ok(SampleComplexity::NotReached {
            largest_n: curve[curve.len() - 1].0,
            lowest_error: errors.iter().copied().fold(f64::INFINITY, f64::min),
        });
    };
    if k == 0 {
        return Ok(SampleComplexity::AtFirst(curve[0].0));
    }
    let ((n0, e0), (n1, e1)) = (curve[k - 1], curve[k]);
    let t = (e0 - target) / (e0 - e1);
    let (l0, l1) = ((n0 as f64).ln(), (n1 as f64).ln());
    Ok(SampleComplexity::Reached((l0 + t * (l1 - l0)).exp()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_fail_on_empty_or_nan_series_instead_of_passing() {
        assert_eq!(max_of("x", &[1.0, 3.0, 2.0]).unwrap(), 3.0);
        assert_eq!(min_of("x", &[1.0, 3.0, 2.0]).unwrap(), 1.0);
        assert!(max_of("x", &[]).is_err() && min_of("x", &[]).is_err());
        assert!(max_of("x", &[1.0, f64::NAN]).is_err());
        assert!(min_of("x", &[f64::NEG_INFINITY, 1.0]).is_err());
        assert!(min_keeping_nan(1.0, f64::NAN).is_nan());
        assert_eq!(min_keeping_nan(1.0, 2.0), 1.0);
    }

    #[test]
    fn step_drop_sees_the_one_fall_and_rejects_short_or_nan_series() {
        assert_eq!(largest_step_drop(&[1.0, 2.0, 1.5, 3.0]).unwrap(), 0.25);
        assert!(largest_step_drop(&[1.0, 2.0, 3.0]).unwrap() < 0.0);
        assert!(matches!(
            largest_step_drop(&[]),
            Err(StatError::TooFew { count: 0, .. })
        ));
        assert!(matches!(
            largest_step_drop(&[1.0]),
            Err(StatError::TooFew { count: 1, .. })
        ));
        assert!(matches!(
            largest_step_drop(&[1.0, f64::NAN, 2.0]),
            Err(StatError::NotFinite { index: 1, .. })
        ));
    }

    #[test]
    fn drop_over_a_sweep_is_relative_to_the_largest_value() {
        // 0.5 after 1.0 (a later value below an earlier one): drop 0.5 / 2.0.
        assert_eq!(largest_drop(&[1.0, 2.0, 0.5]).unwrap(), 0.75);
        assert!(largest_drop(&[-1e-9, 1.0, 1.0]).unwrap() <= 0.0);
        assert!(largest_drop(&[]).is_err());
        assert!(largest_drop(&[0.0, 0.0]).is_err());
        assert!(largest_drop(&[1.0, f64::INFINITY]).is_err());
    }

    #[test]
    fn contraction_measures_a_geometric_phase_and_fails_without_one() {
        let losses: Vec<f64> = (0..400).map(|t| 0.9f64.powi(t)).collect();
        assert!((contraction(&losses, 1e-2, 1e-8).unwrap() - 0.9).abs() < 1e-12);
        // A loss that never falls below 1% of its start has no linear phase.
        let flat = vec![1.0, 0.5, 0.4, 0.3];
        let err = contraction(&flat, 1e-2, 1e-8).unwrap_err();
        assert!(err.to_string().contains("never falls"), "{err}");
        assert!(contraction(&[1.0, f64::NAN], 1e-2, 1e-8).is_err());
        assert!(contraction(&[1.0], 1e-2, 1e-8).is_err());
    }

    #[test]
    fn decade_exponent_reads_the_last_decade_and_needs_both_ends() {
        let gap: Vec<(f64, f64)> = [1.0, 10.0, 100.0, 1000.0]
            .iter()
            .map(|&t| (t, 1.0 / t))
            .collect();
        assert!((decade_exponent(&gap, 1000).unwrap() - 1.0).abs() < 1e-12);
        assert!(decade_exponent(&[], 1000).is_err());
        assert!(decade_exponent(&gap[3..], 1000).is_err());
        let zero_end = [(100.0, 0.1), (1000.0, 0.0)];
        assert!(decade_exponent(&zero_end, 1000).is_err());
        // Two negative gaps have a positive ratio, but a model beyond the optimum is an error.
        let negative = [(100.0, -0.1), (1000.0, -0.01)];
        assert!(decade_exponent(&negative, 1000).is_err());
    }

    #[test]
    fn sample_complexity_interpolates_in_log_n_and_says_when_the_target_is_missed() {
        let curve = [(10, 0.4), (20, 0.3), (40, 0.05)];
        let n = sample_complexity(&curve, 0.1).unwrap().value().unwrap();
        // 0.3 -> 0.05 crosses 0.1 at 4/5 of the way from ln 20 to ln 40.
        assert!(
            (n - (20f64.ln() + 0.8 * 2f64.ln()).exp()).abs() < 1e-9,
            "{n}"
        );
        // At or below the target at the first n: only an upper bound.
        let first = sample_complexity(&curve[..1], 0.5).unwrap();
        assert_eq!(first, SampleComplexity::AtFirst(10));
        assert_eq!((first.value(), first.bounds()), (None, (0.0, 10.0)));
        assert_eq!(
            sample_complexity(&curve[..2], 0.1).unwrap(),
            SampleComplexity::NotReached {
                largest_n: 20,
                lowest_error: 0.3
            }
        );
        assert_eq!(
            sample_complexity(&curve[..2], 0.1).unwrap().bounds(),
            (20.0, f64::INFINITY)
        );
        assert!(sample_complexity(&[], 0.1).is_err());
        assert!(sample_complexity(&[(10, f64::NAN)], 0.1).is_err());
    }
}
