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
    /// `theta <- theta - eta grad L / (L max(ln(1/L), 1))`: the fast schedule of Lyu & Li
    /// (2020, arXiv:1906.05890) for homogeneous nets, under which the smoothed margin still rises.
    InverseLossLog,
}

/// How the size of a step rule changes over a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// The same size at every step.
    Constant,
    /// Constant for the first half of the run, then geometric decay to `final_size` at the last
    /// step. A constant relative step c leaves the direction zig-zagging at an angle of order c
    /// once the loss is dominated by the few smallest margins; annealing lets it settle on the
    /// gradient-flow limit (a KKT point).
    Anneal {
        /// Size at the last step.
        final_size: f64,
    },
    /// `size / (t + 1)^power` at step t (0-based): the decaying rates under which Adam's limit
    /// is the l_inf max margin (Zhang, Zou, Cao 2024, arXiv:2406.10650, power in (0, 1]).
    Power {
        /// The exponent.
        power: f64,
    },
    /// Backtracking with growth ("bold driver"): after an accepted step the size is multiplied
    /// by `growth`; a step that raises the loss (or leaves it non-finite) is undone and the size
    /// halved, so the loss never increases. Follows the local curvature where a fixed step must
    /// obey the worst one (e.g. the rich regime of a diagonal net, where the curvature of the
    /// small coordinates is orders of magnitude below the bound).
    Adaptive {
        /// Factor applied after each accepted step (> 1).
        growth: f64,
    },
}

/// A step rule, its size (eta, or c for relative steps) and its schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepRule {
    /// Which rule.
    pub kind: StepRuleKind,
    /// eta, or c for [`StepRuleKind::Relative`], at the first step; positive.
    pub size: f64,
    /// How the size changes over the run.
    pub schedule: Schedule,
}

impl StepRule {
    /// A rule with a constant size.
    pub fn constant(kind: StepRuleKind, size: f64) -> Self {
        Self {
            kind,
            size,
            schedule: Schedule::Constant,
        }
    }

    /// The size at `step` (0-based) of a run of `steps` steps.
    pub fn size_at(&self, step: usize, steps: usize) -> f64 {
        match self.schedule {
            Schedule::Constant | Schedule::Adaptive { .. } => self.size,
            Schedule::Power { power } => self.size / (step as f64 + 1.0).powf(power),
            Schedule::Anneal { final_size } => {
                let half = steps / 2;
                if step < half || steps <= 1 {
                    return self.size;
                }
                let t = (step - half) as f64 / (steps - 1 - half).max(1) as f64;
                self.size * (final_size / self.size).powf(t)
            }
        }
    }

    /// `ln` of the multiplier `k` in `theta <- theta - k g` for a step of `size`, where `g = sum_n w_n grad(-m_n)` is the
    /// surrogate gradient with weights normalized to max 1 (`grad L = e^G g`).
    ///
    /// `ln_g_norm` is `ln ||g||`, `ln_theta_norm` is `ln ||theta||`, `ln_max_weight` is G and
    /// `ln_weight_over_loss` is `G - ln L`.
    pub fn ln_multiplier(
        &self,
        size: f64,
        ln_g_norm: f64,
        ln_theta_norm: f64,
        ln_max_weight: f64,
        ln_weight_over_loss: f64,
    ) -> f64 {
        let ln_size = size.ln();
        match self.kind {
            StepRuleKind::Fixed => ln_size + ln_max_weight,
            StepRuleKind::FixedLength => ln_size - ln_g_norm,
            StepRuleKind::Relative => ln_size + ln_theta_norm - ln_g_norm,
            StepRuleKind::InverseLoss => ln_size + ln_weight_over_loss,
            StepRuleKind::InverseLossLog => {
                let ln_loss = ln_max_weight - ln_weight_over_loss;
                ln_size + ln_weight_over_loss - (-ln_loss).max(1.0).ln()
            }
        }
    }

    /// True for rules that divide by the gradient norm.
    pub fn is_normalized(&self) -> bool {
        matches!(
            self.kind,
            StepRuleKind::FixedLength | StepRuleKind::Relative
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annealing_is_constant_then_geometric_to_the_final_size() {
        let rule = StepRule {
            kind: StepRuleKind::Relative,
            size: 1e-2,
            schedule: Schedule::Anneal { final_size: 1e-4 },
        };
        assert_eq!(rule.size_at(0, 101), 1e-2);
        assert_eq!(rule.size_at(49, 101), 1e-2);
        assert!((rule.size_at(75, 101) - 1e-3).abs() < 1e-15);
        assert!((rule.size_at(100, 101) - 1e-4).abs() < 1e-15);
        assert_eq!(
            StepRule::constant(StepRuleKind::Fixed, 0.5).size_at(99, 100),
            0.5
        );
    }

    #[test]
    fn inverse_loss_log_divides_by_l_log_one_over_l() {
        let rule = StepRule::constant(StepRuleKind::InverseLossLog, 0.01);
        // L = e^-5: eta / (L * 5); G - ln L = 2 (any G).
        let (g, ln_loss) = (-3.0, -5.0);
        let k = rule.ln_multiplier(0.01, 0.0, 0.0, g, g - ln_loss).exp();
        // theta <- theta - k g_normalized with grad L = e^G g: the step on grad L is k e^-G.
        let eta_eff = k * (-g).exp();
        assert!((eta_eff - 0.01 / ((-5.0f64).exp() * 5.0)).abs() < 1e-12 * eta_eff);
        // Above L = 1/e the log factor is 1.
        let k = rule.ln_multiplier(0.01, 0.0, 0.0, g, g + 0.5).exp();
        assert!((k * (-g).exp() - 0.01 * 0.5f64.exp()).abs() < 1e-12);
    }

    #[test]
    fn power_schedule_decays_like_t_to_the_minus_power() {
        let rule = StepRule {
            kind: StepRuleKind::Fixed,
            size: 0.1,
            schedule: Schedule::Power { power: 0.5 },
        };
        assert_eq!(rule.size_at(0, 10), 0.1);
        assert!((rule.size_at(99, 1000) - 0.01).abs() < 1e-15);
    }
}
