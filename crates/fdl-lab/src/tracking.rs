//! Training any [`ScalarModel`] with probes: the loss, the parameter norm, the normalized
//! margin (in l_2 or any l_p) and, for an L-homogeneous model, Lyu & Li's smoothed margin
//! `l^{-1}(L) / ||theta||^L`, with the step at which the data are first fit. The rows are kept
//! for the experiment and written to `metrics.csv` at the chosen steps; progress and timing go
//! through the run context. This is the loop every margin experiment shares.

use crate::error::LabError;
use crate::experiment::RunContext;
use crate::recorder::Recorder;
use fdl_analysis::inverse_logistic;
use fdl_models::ScalarModel;
use fdl_optim::{Batch, Probe, TrainConfig, Trainer, param_lp_norm};
use serde::{Deserialize, Serialize};

/// What to measure, and when.
#[derive(Debug, Clone, Default)]
pub struct Tracking {
    /// Steps to probe at (increasing; 0 is the initial point).
    pub probes: Vec<usize>,
    /// Steps whose rows go to `metrics.csv` (`None`: every probe).
    pub recorded: Option<Vec<usize>>,
    /// The homogeneity degree L of the model: adds the normalized and smoothed margins.
    pub degree: Option<f64>,
    /// Normalize the margins (both) by `||theta||_p^L` instead of `||theta||_2^L`.
    pub margin_norm: Option<f64>,
    /// Added to `ln L` before `l^{-1}`: 0 for the summed loss of Lyu & Li's theorem, `-ln n` for
    /// the mean loss.
    pub smoothed_shift: f64,
}

impl Tracking {
    /// Probes at `probes`, recording every probe.
    pub fn at(probes: Vec<usize>) -> Self {
        Self {
            probes,
            ..Self::default()
        }
    }

    /// Probes at 0, `round(10^(k / per_decade))` for k = 0, 1, ... and `steps`, deduplicated.
    pub fn log_spaced(steps: usize, per_decade: f64) -> Self {
        Self::at(log_probes(steps, per_decade))
    }

    /// Probes at every step `0..=steps`.
    pub fn every_step(steps: usize) -> Self {
        Self::at((0..=steps).collect())
    }

    /// Writes only the rows at `steps` to `metrics.csv`.
    pub fn recording(mut self, steps: Vec<usize>) -> Self {
        self.recorded = Some(steps);
        self
    }

    /// Adds the margins of an L-homogeneous model.
    pub fn homogeneous(mut self, degree: f64) -> Self {
        self.degree = Some(degree);
        self
    }

    /// Normalizes the margin in l_p (p in [1, inf]).
    pub fn margin_in(mut self, p: f64) -> Self {
        self.margin_norm = Some(p);
        self
    }

    /// Forms the smoothed margin from `ln L + shift`.
    pub fn smoothed_shift(mut self, shift: f64) -> Self {
        self.smoothed_shift = shift;
        self
    }
}

/// One probe.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProbeRow {
    /// Steps taken.
    pub step: usize,
    /// `ln` of the summed loss.
    pub ln_loss: f64,
    /// `||theta||_2^2` of the stored parameters (under the scaled parameterization, of phi).
    pub param_sq: f64,
    /// `ln ||theta||_2` of the true parameters.
    pub ln_norm: f64,
    /// Fraction of the training points with a positive margin.
    pub accuracy: f64,
    /// `min_n y_n f(x_n) / ||theta||^L` (homogeneous models; NaN otherwise).
    pub normalized_margin: f64,
    /// `l^{-1}(L) / ||theta||^L` (homogeneous models; NaN otherwise).
    pub smoothed_margin: f64,
}

/// The probes of one training run.
#[derive(Debug, Clone)]
pub struct Trajectory {
    /// The variant's label in `metrics.csv`.
    pub label: String,
    /// One row per probe.
    pub rows: Vec<ProbeRow>,
    /// The first probe with every margin positive and the summed loss below ln 2 (so every
    /// per-example loss is too: the data are fit, Lyu & Li's t_0).
    pub fit_step: Option<usize>,
}

impl Trajectory {
    /// The rows from the fit step on (empty if the data were never fit).
    pub fn after_fit(&self) -> &[ProbeRow] {
        let t0 = self.fit_step.unwrap_or(usize::MAX);
        let start = self.rows.partition_point(|r| r.step < t0);
        &self.rows[start..]
    }

    /// The last row.
    pub fn last(&self) -> Option<&ProbeRow> {
        self.rows.last()
    }

    /// Writes the rows at `steps` (all rows if `None`) to `metrics.csv`; margins only where
    /// measured.
    pub fn record(&self, recorder: &mut Recorder, steps: Option<&[usize]>) -> Result<(), LabError> {
        let wanted = |step: usize| steps.is_none_or(|s| s.binary_search(&step).is_ok());
        for row in self.rows.iter().filter(|r| wanted(r.step)) {
            for (metric, value) in row.metrics() {
                if !value.is_nan() {
                    recorder.record(&self.label, row.step, metric, value)?;
                }
            }
        }
        Ok(())
    }
}

impl ProbeRow {
    fn measure<M: ScalarModel>(probe: &Probe<'_, M>, tracking: &Tracking) -> Self {
        let min = probe
            .unit_margins
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let positive = probe.unit_margins.iter().filter(|m| **m > 0.0).count();
        let (normalized_margin, smoothed_margin) = match tracking.degree {
            Some(degree) => {
                // Margins over norm^L are scale-free, so the stored parameters' margins over
                // their norm are exact under either parameterization; the smoothed margin needs
                // the true norm, `s ||phi||`.
                let ln_stored_norm = match tracking.margin_norm {
                    Some(p) => param_lp_norm(probe.model, p).ln(),
                    None => 0.5 * probe.param_sq.ln(),
                };
                let ln_norm = probe.ln_scale + ln_stored_norm;
                let smoothed = inverse_logistic(probe.loss.ln_loss + tracking.smoothed_shift)
                    / (degree * ln_norm).exp();
                (min / (degree * ln_stored_norm).exp(), smoothed)
            }
            None => (f64::NAN, f64::NAN),
        };
        Self {
            step: probe.step,
            ln_loss: probe.loss.ln_loss,
            param_sq: probe.param_sq,
            ln_norm: probe.ln_theta_norm(),
            accuracy: positive as f64 / probe.unit_margins.len().max(1) as f64,
            normalized_margin,
            smoothed_margin,
        }
    }

    /// The metrics.csv columns of this row.
    fn metrics(&self) -> [(&'static str, f64); 5] {
        [
            ("smoothed_margin", self.smoothed_margin),
            ("normalized_margin", self.normalized_margin),
            ("ln_loss", self.ln_loss),
            ("param_sq", self.param_sq),
            ("accuracy", self.accuracy),
        ]
    }
}

/// Runs `trainer` for `config.steps` steps on `batch`, probing as `tracking` says; the run is
/// timed and shown under `label`, and a divergence is reported with it.
pub fn train_tracked<M: ScalarModel>(
    ctx: &mut RunContext,
    label: &str,
    trainer: &mut Trainer<M>,
    batch: &Batch,
    config: &TrainConfig,
    tracking: &Tracking,
) -> Result<Trajectory, LabError> {
    let mut trajectory = Trajectory {
        label: label.into(),
        rows: Vec::with_capacity(tracking.probes.len()),
        fit_step: None,
    };
    train_probed(ctx, label, trainer, batch, config, &tracking.probes, |p| {
        let row = ProbeRow::measure(p, tracking);
        let fit = row.accuracy == 1.0 && row.ln_loss < std::f64::consts::LN_2.ln();
        if trajectory.fit_step.is_none() && fit {
            trajectory.fit_step = Some(p.step);
        }
        trajectory.rows.push(row);
        Ok(Vec::new())
    })?;
    trajectory.record(&mut ctx.recorder, tracking.recorded.as_deref())?;
    Ok(trajectory)
}

/// The training loop under every experiment: runs `trainer` for `config.steps` steps on
/// `batch`, calls `probe` at the steps `probes` and writes the `(metric, value)` pairs it
/// returns to `metrics.csv` under `label`; the run is timed and shown under `label`, and a
/// divergence or a failing probe is reported with it.
pub fn train_probed<M: ScalarModel>(
    ctx: &mut RunContext,
    label: &str,
    trainer: &mut Trainer<M>,
    batch: &Batch,
    config: &TrainConfig,
    probes: &[usize],
    mut probe: impl FnMut(&Probe<'_, M>) -> Result<Vec<(&'static str, f64)>, String>,
) -> Result<(), LabError> {
    ctx.timed(label, |ctx| {
        let progress = ctx.progress().clone();
        let recorder = &mut ctx.recorder;
        trainer
            .run(
                batch,
                config,
                probes,
                |p| {
                    for (metric, value) in probe(p)? {
                        recorder
                            .record(label, p.step, metric, value)
                            .map_err(|e| e.to_string())?;
                    }
                    Ok(())
                },
                |_| progress.inc(1),
            )
            .map_err(|source| LabError::Train {
                variant: label.into(),
                source,
            })
    })
}

/// Steps 0, `round(10^(k / per_decade))` for k = 0, 1, ... below `last`, and `last`,
/// deduplicated: `per_decade` probes per decade of steps.
pub fn log_probes(last: usize, per_decade: f64) -> Vec<usize> {
    let mut steps = vec![0];
    let mut k = 0.0;
    loop {
        let t = 10f64.powf(k / per_decade).round() as usize;
        if t >= last {
            break;
        }
        if steps.last() != Some(&t) {
            steps.push(t);
        }
        k += 1.0;
    }
    steps.push(last);
    steps
}
