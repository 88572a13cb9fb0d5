//! Step-size rules for full-batch descent (SCIENCE.md, Conventions: step rules).

use serde::{Deserialize, Serialize};

/// How the step length is chosen from the gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepRuleKind {
    /// `theta <- theta - eta grad L` (plain GD).
    Fixed,
    /// `theta <- theta - eta grad L / ||grad L||`: follows the gradient-flow path, but the
    /// direction converges only logarithmically on homogeneous models.
    FixedLength,
    /// `theta <- theta - c ||theta|| grad L / ||grad L||`: a constant angle per step; reaches the
    /// limit direction orders of magnitude sooner (the default for deep linear and conv nets).
    Relative,
    /// `theta <- theta - eta grad L / L(theta)`, computed via softmax weights (normalized GD;
    /// with eta = 1/B^2 the step the steepest-descent theorem allows for linear models).
    InverseLoss,
}

/// A step rule and its size (eta, or c for relative steps).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepRule {
    /// Which rule.
    pub kind: StepRuleKind,
    /// eta, or c for [`StepRuleKind::Relative`]; positive.
    pub size: f64,
}

impl StepRule {
    /// `ln` of the multiplier `k` in `theta <- theta - k g`, where `g = sum_n w_n grad(-m_n)` is the
    /// surrogate gradient with weights normalized to max 1 (`grad L = e^G g`).
    ///
    /// `ln_g_norm` is `ln ||g||`, `ln_theta_norm` is `ln ||theta||`, `ln_max_weight` is G and
    /// `ln_weight_over_loss` is `G - ln L`.
    pub fn ln_multiplier(&self, ln_g_norm: f64, ln_theta_norm: f64, ln_max_weight: f64, ln_weight_over_loss: f64) -> f64 {
        let ln_size = self.size.ln();
        match self.kind {
            StepRuleKind::Fixed => ln_size + ln_max_weight,
            StepRuleKind::FixedLength => ln_size - ln_g_norm,
            StepRuleKind::Relative => ln_size + ln_theta_norm - ln_g_norm,
            StepRuleKind::InverseLoss => ln_size + ln_weight_over_loss,
        }
    }

    /// True for rules that divide by the gradient norm.
    pub fn is_normalized(&self) -> bool {
        matches!(self.kind, StepRuleKind::FixedLength | StepRuleKind::Relative)
    }
}
