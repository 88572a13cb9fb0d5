//! Shared pieces of the implicit-bias experiments on linear-in-input models: the data, the
//! training of one variant with log-spaced probes, and config validation helpers.

use crate::Config;
use crate::error::LabError;
use crate::experiment::RunContext;
use crate::rules::{at_least, margin_loss, one_of, positive};
use crate::tracking::train_probed;
use fdl_analysis::{cosine, normalized_margin_l2};
use fdl_data::{DataError, Dataset, stream_rng};
use fdl_models::{Homogeneous, LinearPredictor, tensor1_from_host, tensor2_from_host, to_host};
use fdl_optim::{
    Batch, Loss, LpGeometry, Method, Schedule, StepRule, StepRuleKind, TrainConfig, Trainer,
    log_spaced_steps,
};
use serde::{Deserialize, Serialize};

/// The training data of a linear-in-input experiment, on the host and on the device.
pub(crate) struct LinearData {
    /// The dataset (generated or from `--data`).
    pub data: Dataset,
    /// Rows `z_n = y_n x_n`, row-major.
    pub z: Vec<f64>,
    /// The same on the device.
    pub batch: Batch,
}

impl LinearData {
    /// Input dimension D.
    pub fn dim(&self) -> usize {
        self.data.dim()
    }
}

/// The `--data` file if given, else `generate(rng)` from the run's seed; written to
/// `dataset.csv` in the run folder.
pub(crate) fn linear_data(
    ctx: &mut RunContext,
    generate: impl FnOnce(&mut rand_chacha::ChaCha8Rng) -> Dataset,
) -> Result<LinearData, LabError> {
    let data = match ctx.data.clone() {
        Some(d) => d,
        None => generate(&mut stream_rng(ctx.seed, "data", &[])),
    };
    upload_linear_data(ctx, data, "dataset.csv")
}

/// Checks `data` (binary labels, D >= 2), writes it to `file` in the run folder and copies it
/// to the device.
pub(crate) fn upload_linear_data(
    ctx: &mut RunContext,
    data: Dataset,
    file: &str,
) -> Result<LinearData, LabError> {
    data.require_binary_labels()?;
    if data.dim() < 2 {
        return Err(DataError::Invalid(format!(
            "the data have D = {} features; D >= 2 is required",
            data.dim()
        ))
        .into());
    }
    ctx.folder.write_dataset(file, &data)?;
    let batch = Batch {
        x: tensor2_from_host(data.x(), data.len(), data.dim(), &ctx.device),
        y: tensor1_from_host(data.y(), &ctx.device),
    };
    Ok(LinearData {
        z: data.signed_rows(),
        data,
        batch,
    })
}

/// Data and training keys shared by the implicit-bias experiments on linear-in-input models
/// (the `[training]` table of each experiment's config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Config)]
pub struct LinearTraining {
    /// Number of points N (ignored with `--data`).
    #[config(rule = at_least(2))]
    pub n: usize,
    /// Input dimension D (ignored with `--data`).
    #[config(rule = at_least(2))]
    pub dim: usize,
    /// Standard deviation of the Gaussian initial weights.
    #[config(rule = positive())]
    pub init_std: f64,
    /// Loss on the margins.
    #[config(rule = margin_loss())]
    pub loss: Loss,
    /// Step rule.
    #[config(rule = one_of())]
    pub step_rule: StepRuleKind,
    /// Step size (c for relative steps).
    #[config(rule = positive())]
    pub step_size: f64,
    /// Step size at the last step, annealed geometrically over the second half of the run
    /// (equal to `step_size` to keep it constant).
    #[config(rule = positive())]
    pub step_size_final: f64,
    /// Number of steps per variant.
    #[config(rule = at_least(1))]
    pub steps: usize,
}

impl Default for LinearTraining {
    /// SCIENCE.md's depth experiments: D = 16, N = 5, init N(0, 0.1^2), exponential loss,
    /// relative steps c = 0.01 (annealed to 1e-4 over the second half), 2 x 10^4 steps.
    fn default() -> Self {
        Self {
            n: 5,
            dim: 16,
            init_std: 0.1,
            loss: Loss::Exponential,
            step_rule: StepRuleKind::Relative,
            step_size: 0.01,
            step_size_final: 1e-4,
            steps: 20_000,
        }
    }
}

impl LinearTraining {
    /// The loss, (annealed) step rule and length of a run.
    pub fn train_config(&self) -> TrainConfig {
        let schedule = if self.step_size_final != self.step_size {
            Schedule::Anneal {
                final_size: self.step_size_final,
            }
        } else {
            Schedule::Constant
        };
        let step_rule = StepRule {
            kind: self.step_rule,
            size: self.step_size,
            schedule,
        };
        TrainConfig {
            loss: self.loss,
            step_rule,
            steps: self.steps,
            geometry: LpGeometry::euclidean(),
            method: Method::Steepest,
        }
    }
}

/// A trained variant: its final predictor and its predictors at the probe steps.
pub(crate) struct Trained<M> {
    /// The final effective predictor beta.
    pub beta: Vec<f64>,
    /// `(step, beta)` at every probe.
    pub history: Vec<(usize, Vec<f64>)>,
    /// The module at the end (holding the direction phi).
    pub model: M,
}

/// What a variant is measured against during training.
pub(crate) struct Yardstick<'a> {
    /// The reference predictor for `cos_ref` (e.g. the SVM), if the theory names one.
    pub reference: Option<&'a [f64]>,
    /// Normalized margin in the variant's own geometry.
    pub own_margin: &'a dyn Fn(&[f64]) -> f64,
}

/// Trains `model` (a homogeneous, linear-in-input module) and records, at log-spaced steps:
/// `ln_loss`, `ln_norm` (ln ||theta||), `margin_l2`, `margin_own`, `cos_ref`, and after the run
/// `cos_final` (cosine to the final predictor). `extra` adds model-specific metrics.
pub(crate) fn train_linear<M: Homogeneous + LinearPredictor>(
    ctx: &mut RunContext,
    label: &str,
    model: M,
    setup: &LinearData,
    config: &TrainConfig,
    yardstick: &Yardstick<'_>,
    extra: &dyn Fn(&M) -> Vec<(&'static str, f64)>,
) -> Result<Trained<M>, LabError> {
    let mut trainer = Trainer::scaled(model);
    let mut history = Vec::new();
    let probes = log_spaced_steps(config.steps);
    train_probed(
        ctx,
        label,
        &mut trainer,
        &setup.batch,
        config,
        &probes,
        |p| {
            let beta = to_host(p.model.effective_predictor());
            let mut values = vec![
                ("ln_loss", p.loss.ln_loss),
                ("ln_norm", p.ln_theta_norm()),
                ("margin_l2", normalized_margin_l2(&setup.z, &beta)),
                ("margin_own", (yardstick.own_margin)(&beta)),
            ];
            if let Some(r) = yardstick.reference {
                values.push(("cos_ref", cosine(&beta, r)));
            }
            values.extend(extra(p.model));
            history.push((p.step, beta));
            Ok(values)
        },
    )?;
    let model = trainer.model().clone();
    let beta = to_host(model.effective_predictor());
    tracing::debug!(target: "fdl", variant = label, ln_norm = trainer.ln_scale(), "trained");
    for (step, b) in &history {
        ctx.recorder
            .record(label, *step, "cos_final", cosine(b, &beta))?;
    }
    Ok(Trained {
        beta,
        history,
        model,
    })
}
