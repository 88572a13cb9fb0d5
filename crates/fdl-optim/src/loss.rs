//! Classification losses in the stable form of SCIENCE.md (Conventions).
//!
//! Margins arrive as `m_n = e^a mu_n` (a log-scale `a` and unit margins `mu_n`), because for
//! homogeneous models trained long the true margins pass 10^308. Everything is computed in the
//! log domain relative to the largest term, so no step produces NaN or Inf.

use serde::{Deserialize, Serialize};

/// A loss summed over examples: a classification loss `l(m)` of the margin `m = y f(x)`, or the
/// square loss of regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// `l(m) = exp(-m)`.
    Exponential,
    /// `l(m) = ln(1 + exp(-m))`.
    Logistic,
    /// `(f(x) - y)^2 / 2`, for real-valued targets.
    Square,
}

/// Above this exponent `e^a |mu|` is treated as infinite and the asymptotic form is used.
const LN_HUGE: f64 = 600.0;

/// Beyond this margin the logistic loss of an example, about `e^{-m}`, nears the smallest
/// normal float (`e^{-708}`); a state whose largest term is this small is taken in the log domain.
const LN_TINY_TERM: f64 = 700.0;

/// `ln(1 + e^z)` without overflow.
pub(crate) fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// `ln sum_n e^{v_n}` without overflow; `-inf` for an empty or all `-inf` input.
fn log_sum_exp(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = values.clone().fold(f64::NEG_INFINITY, f64::max);
    if max.is_infinite() {
        return max;
    }
    max + values.map(|v| (v - max).exp()).sum::<f64>().ln()
}

impl Loss {
    /// True for the margin losses (exponential, logistic), false for the square loss.
    pub fn is_classification(self) -> bool {
        self != Loss::Square
    }

    /// `ln l(m)` for one example, stable for every finite m (margin losses only).
    pub fn ln_loss(self, m: f64) -> f64 {
        match self {
            Loss::Exponential => -m,
            Loss::Logistic if m > 35.0 => -m - 0.5 * (-m).exp(),
            Loss::Logistic => softplus(-m).ln(),
            Loss::Square => panic!("the square loss is not a function of the margin"),
        }
    }

    /// `ln(-l'(m))`, the log of one example's gradient weight (margin losses only).
    pub fn ln_weight(self, m: f64) -> f64 {
        match self {
            Loss::Exponential => -m,
            Loss::Logistic => -softplus(m),
            Loss::Square => panic!("the square loss is not a function of the margin"),
        }
    }
}

/// The loss and its gradient weights, at margins `m_n = e^a mu_n` (classification) or at
/// outputs `f_n` with targets `y_n` (regression).
#[derive(Debug, Clone, PartialEq)]
pub struct LossState {
    /// Classification: `w_n = -l'(m_n) / max_k(-l'(m_k))`, in [0, 1] with at least one equal to
    /// 1. Regression: the residuals `r_n = f_n - y_n` over `max_k |r_k|`, in [-1, 1].
    pub weights: Vec<f64>,
    /// `G = ln max_k(-l'(m_k))` (or `ln max_k |r_k|`), so that `-l'(m_n) = e^G w_n` (may be
    /// +-inf).
    pub ln_max_weight: f64,
    /// `ln sum_n l(m_n)` (may be -inf once the loss underflows every float).
    pub ln_loss: f64,
    /// `ln(||grad L|| / L) - ln(||sum_n w_n grad m_n||)`, i.e. `G - ln L` (finite).
    pub ln_weight_over_loss: f64,
}

impl LossState {
    /// The square loss `sum_n (f_n - y_n)^2 / 2` at `outputs` f with `targets` y. With every
    /// residual zero the weights are zero and `G = ln L = -inf`, `G - ln L = 0`.
    pub fn square(outputs: &[f64], targets: &[f64]) -> Self {
        let residuals: Vec<f64> = outputs.iter().zip(targets).map(|(f, y)| f - y).collect();
        let max = residuals.iter().fold(0.0f64, |m, r| m.max(r.abs()));
        if max == 0.0 {
            return Self {
                weights: vec![0.0; residuals.len()],
                ln_max_weight: f64::NEG_INFINITY,
                ln_loss: f64::NEG_INFINITY,
                ln_weight_over_loss: 0.0,
            };
        }
        let weights: Vec<f64> = residuals.iter().map(|r| r / max).collect();
        // ln(sum r^2 / 2) = 2 ln max + ln(sum (r / max)^2 / 2), without overflow.
        let ln_loss = 2.0 * max.ln() + (0.5 * weights.iter().map(|w| w * w).sum::<f64>()).ln();
        Self {
            weights,
            ln_max_weight: max.ln(),
            ln_loss,
            ln_weight_over_loss: max.ln() - ln_loss,
        }
    }

    /// Evaluates the margin loss `loss` at margins `e^{ln_scale} * unit_margins`.
    pub fn new(loss: Loss, ln_scale: f64, unit_margins: &[f64]) -> Self {
        assert!(
            loss.is_classification(),
            "LossState::new takes a margin loss; use LossState::square"
        );
        let max_abs = unit_margins.iter().fold(0.0f64, |a, m| a.max(m.abs()));
        let huge = ln_scale + max_abs.ln() > LN_HUGE;
        if huge || loss == Loss::Exponential {
            Self::exponential_tail(loss, ln_scale, unit_margins)
        } else {
            Self::direct(loss, ln_scale.exp(), unit_margins)
        }
    }

    /// Margins small enough to form `m_n` directly.
    fn direct(loss: Loss, scale: f64, unit_margins: &[f64]) -> Self {
        if loss == Loss::Logistic
            && let Some(state) = Self::logistic(scale, unit_margins)
        {
            return state;
        }
        let m: Vec<f64> = unit_margins.iter().map(|u| u * scale).collect();
        let ln_w: Vec<f64> = m.iter().map(|&m| loss.ln_weight(m)).collect();
        let g = ln_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let ln_loss = log_sum_exp(m.iter().map(|&m| loss.ln_loss(m)));
        Self {
            weights: ln_w.iter().map(|w| (w - g).exp()).collect(),
            ln_max_weight: g,
            ln_loss,
            ln_weight_over_loss: g - ln_loss,
        }
    }

    /// The logistic loss with one `exp` and one `ln_1p` per example, shared by
    /// `l(m) = softplus(-m)` and `-l'(m) = e^{-softplus(m)}` (both are `max(+-m, 0) +
    /// ln(1 + e^{-|m|})`), the loss summed in the linear domain. `None` when the smallest margin
    /// passes [`LN_TINY_TERM`]: the largest term would leave the normal floats, and the log-domain
    /// path keeps it.
    fn logistic(scale: f64, unit_margins: &[f64]) -> Option<Self> {
        let mut softplus_m = Vec::with_capacity(unit_margins.len());
        let (mut loss_sum, mut least) = (0.0, f64::INFINITY);
        for &u in unit_margins {
            let m = u * scale;
            let shared = (-m.abs()).exp().ln_1p();
            loss_sum += (-m).max(0.0) + shared;
            let s = m.max(0.0) + shared;
            least = least.min(s);
            softplus_m.push(s);
        }
        if least > LN_TINY_TERM {
            return None;
        }
        let ln_loss = loss_sum.ln();
        // w_n = -l'(m_n) / max_k(-l'(m_k)) = e^{softplus(m_min) - softplus(m_n)}.
        let weights = softplus_m.iter().map(|s| (least - s).exp()).collect();
        Some(Self {
            weights,
            ln_max_weight: -least,
            ln_loss,
            ln_weight_over_loss: -least - ln_loss,
        })
    }

    /// Exact for the exponential loss; for the logistic loss the asymptotic form once every
    /// `|m_n|` is beyond e^600, where `l(m) = e^{-m}` for m > 0 and `-l'(m) = 1` for m < 0 hold to
    /// double precision. Differences `m_n - m_min = e^a (mu_n - mu_min)` are taken in the log
    /// domain so the weights stay exact however large `e^a` is.
    fn exponential_tail(loss: Loss, ln_scale: f64, unit_margins: &[f64]) -> Self {
        let effective: Vec<f64> = match loss {
            Loss::Logistic => unit_margins.iter().map(|m| m.max(0.0)).collect(),
            _ => unit_margins.to_vec(),
        };
        let min = effective.iter().copied().fold(f64::INFINITY, f64::min);
        let ln_weights: Vec<f64> = effective
            .iter()
            .map(|&e| {
                if e == min {
                    0.0
                } else {
                    -(ln_scale + (e - min).ln()).exp()
                }
            })
            .collect();
        let ln_sum = log_sum_exp(ln_weights.iter().copied());
        let m_min = scaled(ln_scale, min);
        let (g, ln_loss) = match loss {
            Loss::Exponential | Loss::Square => (-m_min, -m_min + ln_sum),
            // Every |m| > e^600: the weight of a negative margin is 1, of a positive one e^{-m}.
            // l(m) = ln(1 + e^{-m}) = |m| for m << 0, so ln l = a + ln|mu|.
            Loss::Logistic if min == 0.0 => {
                let ln_losses = unit_margins.iter().map(|&u| {
                    if u < 0.0 {
                        ln_scale + (-u).ln()
                    } else {
                        loss.ln_loss(scaled(ln_scale, u))
                    }
                });
                (0.0, log_sum_exp(ln_losses))
            }
            Loss::Logistic => (-m_min, -m_min + ln_sum),
        };
        let ln_weight_over_loss = match loss {
            Loss::Logistic if min == 0.0 => g - ln_loss,
            _ => -ln_sum,
        };
        Self {
            weights: ln_weights.iter().map(|w| w.exp()).collect(),
            ln_max_weight: g,
            ln_loss,
            ln_weight_over_loss,
        }
    }
}

/// `e^a * u`, with `0 * inf` read as 0.
fn scaled(ln_scale: f64, u: f64) -> f64 {
    if u == 0.0 { 0.0 } else { u * ln_scale.exp() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(loss: Loss, m: &[f64]) -> (Vec<f64>, f64) {
        let (l, dl): (Vec<f64>, Vec<f64>) = m
            .iter()
            .map(|&m| match loss {
                Loss::Exponential => ((-m).exp(), (-m).exp()),
                Loss::Logistic => ((-m).exp().ln_1p(), 1.0 / (1.0 + m.exp())),
                Loss::Square => unreachable!("margin losses only"),
            })
            .unzip();
        let max = dl.iter().copied().fold(0.0, f64::max);
        (
            dl.iter().map(|d| d / max).collect(),
            l.iter().sum::<f64>().ln(),
        )
    }

    #[test]
    fn matches_naive_formulas_for_moderate_margins() {
        let mu = [0.3, -0.2, 1.1, 0.05];
        for loss in [Loss::Exponential, Loss::Logistic] {
            for ln_scale in [-2.0, 0.0, 1.5] {
                let m: Vec<f64> = mu.iter().map(|u| u * f64::exp(ln_scale)).collect();
                let (w, ln_l) = naive(loss, &m);
                let s = LossState::new(loss, ln_scale, &mu);
                for (a, b) in s.weights.iter().zip(&w) {
                    assert!((a - b).abs() < 1e-12, "{loss:?}: {a} vs {b}");
                }
                assert!((s.ln_loss - ln_l).abs() < 1e-12);
                let max_dl = m
                    .iter()
                    .map(|&m| (-loss.ln_weight(m)).exp().recip())
                    .fold(0.0, f64::max);
                assert!((s.ln_max_weight - max_dl.ln()).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn logistic_state_is_continuous_across_the_log_domain_switch() {
        // Smallest margin just below / above LN_TINY_TERM: the linear-domain sum on one side,
        // the log domain on the other; both are ln(sum e^{-m_n}) to double precision here.
        for m_min in [690.0, 700.4, 700.6, 710.0] {
            let mu = [m_min, m_min + 15.0, m_min + 300.0, -0.5 + m_min];
            let s = LossState::new(Loss::Logistic, 0.0, &mu);
            let least = m_min - 0.5;
            let exact = -least + (1.0 + (-0.5f64).exp() + (-15.5f64).exp()).ln();
            assert!(
                (s.ln_loss - exact).abs() < 1e-12 * exact.abs(),
                "{m_min}: {}",
                s.ln_loss
            );
            assert!((s.ln_max_weight + least).abs() < 1e-12 * least);
            let expected = [(-0.5f64).exp(), (-15.5f64).exp(), (-300.5f64).exp(), 1.0];
            for (w, e) in s.weights.iter().zip(expected) {
                assert!((w - e).abs() <= 1e-12 * e, "{m_min}: {w} vs {e}");
            }
        }
    }

    #[test]
    fn huge_margins_give_finite_weights_and_no_nan() {
        let mu = [1.0, 1.0 + 1e-12, 2.0, 1.0];
        for loss in [Loss::Exponential, Loss::Logistic] {
            for ln_scale in [700.0, 1e4, 1e300] {
                let s = LossState::new(loss, ln_scale, &mu);
                assert!(s.weights.iter().all(|w| w.is_finite()));
                assert_eq!(s.weights[0], 1.0);
                assert_eq!(s.weights[3], 1.0);
                assert_eq!(s.weights[2], 0.0);
                assert!(s.ln_weight_over_loss.is_finite());
                assert!(
                    (s.ln_weight_over_loss + 2f64.ln()).abs() < 1e-12,
                    "two tied minima"
                );
                assert!(!s.ln_loss.is_nan());
            }
        }
    }

    #[test]
    fn square_loss_state_is_the_residual_and_half_its_square() {
        let s = LossState::square(&[1.0, -2.0, 0.5], &[0.0, 1.0, 0.5]);
        assert_eq!(s.weights, vec![1.0 / 3.0, -1.0, 0.0]);
        assert!((s.ln_max_weight - 3f64.ln()).abs() < 1e-15);
        assert!((s.ln_loss - 5f64.ln()).abs() < 1e-15, "(1 + 9) / 2 = 5");
        let zero = LossState::square(&[1.0, 2.0], &[1.0, 2.0]);
        assert_eq!(zero.weights, vec![0.0, 0.0]);
        assert_eq!(zero.ln_weight_over_loss, 0.0);
        // Residuals of 1e200 square past f64 but their log does not.
        let huge = LossState::square(&[1e200], &[0.0]);
        assert!((huge.ln_loss - (400.0 * 10f64.ln() - 2f64.ln())).abs() < 1e-9);
    }

    #[test]
    fn logistic_loss_is_stable_at_both_ends() {
        assert!((Loss::Logistic.ln_loss(-800.0) - 800f64.ln()).abs() < 1e-12);
        assert_eq!(Loss::Logistic.ln_loss(800.0), -800.0);
        assert_eq!(Loss::Logistic.ln_weight(-800.0), 0.0);
        assert_eq!(Loss::Logistic.ln_weight(800.0), -800.0);
    }

    #[test]
    fn misclassified_points_with_huge_scale_dominate_logistic_weights() {
        let s = LossState::new(Loss::Logistic, 1e3, &[-1.0, 2.0]);
        assert_eq!(s.weights, vec![1.0, 0.0]);
        assert_eq!(s.ln_max_weight, 0.0);
        assert!(
            (s.ln_loss - 1e3).abs() < 1e-9,
            "ln l(-e^1000) = 1000, got {}",
            s.ln_loss
        );
    }
}
