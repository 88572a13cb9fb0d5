//! Which update the trainer applies: steepest descent in its own geometry, or one of Burn's
//! stateful optimizers (heavy-ball momentum, Adam) for the contrast experiments.

use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

/// The update rule of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case", tag = "method")]
pub enum Method {
    /// Steepest descent w.r.t. the run's [`LpGeometry`](crate::LpGeometry) and step rule
    /// (l2: gradient descent).
    #[default]
    Steepest,
    /// Burn's SGD with momentum: `v <- mu v + (1 - dampening) grad L`, `theta <- theta - eta v`.
    /// Dampening 0 is heavy ball (long-run step eta / (1 - mu)); Burn, like PyTorch, applies
    /// the first gradient undamped.
    Momentum {
        /// mu in [0, 1).
        momentum: f64,
        /// In [0, 1].
        dampening: f64,
    },
    /// Burn's Adam (Kingma & Ba 2015) with learning rate eta, on the true gradient of the loss.
    Adam {
        /// Decay of the first moment.
        beta_1: f64,
        /// Decay of the second moment.
        beta_2: f64,
        /// Added to the root of the second moment.
        epsilon: f64,
    },
}

impl Method {
    /// Heavy-ball momentum with factor `mu` (no dampening).
    pub fn heavy_ball(mu: f64) -> Self {
        Method::Momentum {
            momentum: mu,
            dampening: 0.0,
        }
    }

    /// Adam with the usual constants (0.9, 0.999, 1e-8).
    pub fn adam() -> Self {
        Method::Adam {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
        }
    }

    /// Burn's optimizer for a stateful method; `None` for steepest descent.
    pub(crate) fn burn_optimizer(&self) -> Option<ModuleOptimizer> {
        match *self {
            Method::Steepest => None,
            Method::Momentum {
                momentum,
                dampening,
            } => Some(
                SgdConfig::new()
                    .with_momentum(Some(
                        MomentumConfig::new()
                            .with_momentum(momentum)
                            .with_dampening(dampening),
                    ))
                    .init(),
            ),
            Method::Adam {
                beta_1,
                beta_2,
                epsilon,
            } => Some(
                AdamConfig::new()
                    .with_beta_1(beta_1 as f32)
                    .with_beta_2(beta_2 as f32)
                    .with_epsilon(epsilon as f32)
                    .init(),
            ),
        }
    }

    /// Why this method cannot run with the given rule, geometry and parameterization, if it can't.
    pub(crate) fn incompatibility(
        &self,
        rule: &crate::StepRule,
        geometry: &crate::LpGeometry,
        scaled: bool,
    ) -> Option<&'static str> {
        if *self == Method::Steepest {
            return None;
        }
        if rule.kind != crate::StepRuleKind::Fixed {
            Some("momentum and Adam take a fixed learning rate (step rule `fixed`)")
        } else if !geometry.is_euclidean() {
            Some("momentum and Adam update in the Euclidean geometry only (p = 2)")
        } else if scaled {
            Some("momentum and Adam keep per-tensor state and need the plain parameterization")
        } else {
            None
        }
    }
}
