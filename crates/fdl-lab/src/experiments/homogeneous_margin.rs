//! homogeneous-margin: for a homogeneous net (ReLU, no bias) with logistic loss, once the data
//! are fit the smoothed normalized margin `l^{-1}(L) / ||theta||^L` never decreases along
//! gradient descent with a small enough step, and the normalized margin approaches it (Lyu & Li
//! 2020, arXiv:1906.05890, Theorem 4.1 and its discrete version). SCIENCE.md, section B.

use super::require::{require_at_least, require_positive};
use crate::device::DType;
use crate::error::{ConfigError, LabError};
use crate::experiment::{ExperimentSpec, RunContext, Validate};
use crate::figures::{Legend, Panel, Series, save_svg};
use crate::report::{Check, Comparison, Report};
use crate::stats::{StatError, largest_step_drop, loglog_slope, min_of};
use fdl_analysis::{norm_power, smoothed_normalized_margin};
use fdl_data::{Dataset, DigitsTask, digits_split, rng_from_seed};
use fdl_models::{Homogeneous, ReluNetConfig, tensor1_from_host, tensor2_from_host};
use fdl_optim::{Batch, Loss, LpGeometry, Method, StepRule, StepRuleKind, TrainConfig, Trainer};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Configuration of homogeneous-margin; the defaults are SCIENCE.md's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomogeneousMarginConfig {
    /// Points taken from the digits task (0-4 vs 5-9; ignored with `--data`).
    pub n: usize,
    /// Hidden width of the bias-free two-layer ReLU net (homogeneous of degree 2).
    pub width: usize,
    /// Steps per run.
    pub steps: usize,
    /// Run A's fixed step on the summed loss (halved until no per-step drop).
    pub fixed_step: f64,
    /// Halvings of run A's step allowed.
    pub max_halvings: usize,
    /// Run B's eta in eta / (L max(ln 1/L, 1)).
    pub fast_step: f64,
    /// The negative control's c in c / L.
    pub naive_step: f64,
    /// The loss the smoothed margin l^-1(L) / ||theta||^L is formed from: "sum" (Lyu & Li's
    /// theorem) or "mean" (a common slip: l^-1 of the mean loss is larger, and the inequality
    /// normalized >= smoothed then fails at every probe, SCIENCE.md). Training is the same.
    pub smoothed_loss: LossReduction,
}

/// How the per-example losses are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LossReduction {
    /// The sum over the examples.
    Sum,
    /// The mean over the examples.
    Mean,
}

impl Default for HomogeneousMarginConfig {
    fn default() -> Self {
        Self {
            n: 40,
            width: 32,
            steps: 100_000,
            fixed_step: 0.01,
            max_halvings: 4,
            fast_step: 0.01,
            naive_step: 0.01,
            smoothed_loss: LossReduction::Sum,
        }
    }
}

impl Validate for HomogeneousMarginConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        require_at_least("n", self.n, 2, "at least 2 points")?;
        require_at_least("width", self.width, 1, "at least 1 neuron")?;
        require_at_least("steps", self.steps, 100, "at least 100 steps")?;
        require_positive("fixed_step", self.fixed_step)?;
        require_positive("fast_step", self.fast_step)?;
        require_positive("naive_step", self.naive_step)
    }
}

/// The homogeneous-margin experiment.
pub struct HomogeneousMargin;

/// Log-spaced probes per decade of steps (SCIENCE.md asks for >= 100 after t_0).
const PROBES_PER_DECADE: f64 = 60.0;
/// Step by which the data must be fit with L < ln 2 (SCIENCE.md: 172 for A, 392-965 for B).
const FIT_BY: usize = 10_000;
/// Relative per-step tolerance of "non-decreasing" in f64 for run A.
const STEP_TOLERANCE: f64 = 1e-12;
/// Absolute tolerance of normalized margin >= smoothed margin.
const ORDER_TOLERANCE: f64 = 1e-12;
/// At the end of run B, normalized - smoothed margin within this fraction of the margin.
const END_GAP: f64 = 1e-2;
/// Minimum number of log-spaced probes of run B after t_0.
const MIN_PROBES: usize = 100;
/// A drop the negative control must show at some probe (relative), proving the check can fail.
const CONTROL_DROP: f64 = 1e-3;

/// Steps `round(10^(k / per_decade))` up to `last`, deduplicated, with 0 and `last`.
fn geometric_steps(last: usize, per_decade: f64) -> Vec<usize> {
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

/// One step of a run: `(step, smoothed margin, normalized margin, ln L, ||theta||^2)`.
type Row = (usize, f64, f64, f64, f64);

/// What one run recorded at every step.
struct Trace {
    label: String,
    step_size: f64,
    /// One row per step.
    rows: Vec<Row>,
    /// First step with every margin positive and L < ln 2.
    fit_step: Option<usize>,
    /// The model's homogeneity degree L.
    degree: f64,
}

impl Trace {
    /// The rows from t_0 on.
    fn after_fit(&self) -> &[Row] {
        let t0 = self.fit_step.unwrap_or(usize::MAX);
        let start = self
            .rows
            .iter()
            .position(|r| r.0 >= t0)
            .unwrap_or(self.rows.len());
        &self.rows[start..]
    }

    /// t_0, or why nothing after it can be measured (the data were never fit).
    fn require_fit(&self) -> Result<usize, StatError> {
        match self.fit_step {
            Some(t0) => Ok(t0),
            None => Err(StatError::NoPhase(format!(
                "{} never fits the data (100% accuracy and L < ln 2) within {} steps",
                self.label,
                self.rows.len().saturating_sub(1)
            ))),
        }
    }

    /// Largest relative per-step drop of the smoothed margin after t_0.
    fn worst_step_drop(&self) -> Result<f64, StatError> {
        self.require_fit()?;
        let values: Vec<f64> = self.after_fit().iter().map(|r| r.1).collect();
        largest_step_drop(&values)
    }

    /// Largest relative drop between consecutive log-spaced probes after t_0, and their number.
    fn worst_probe_drop(&self, probes: &[usize]) -> (Result<f64, StatError>, usize) {
        let rows: Vec<f64> = self
            .after_fit()
            .iter()
            .filter(|r| probes.binary_search(&r.0).is_ok())
            .map(|r| r.1)
            .collect();
        let drop = self.require_fit().and_then(|_| largest_step_drop(&rows));
        (drop, rows.len())
    }

    /// Smallest `normalized - smoothed` margin over every step after t_0.
    fn min_order_gap(&self) -> Result<f64, StatError> {
        self.require_fit()?;
        let gaps: Vec<f64> = self.after_fit().iter().map(|r| r.2 - r.1).collect();
        min_of("normalized - smoothed margin", &gaps)
    }
}

impl HomogeneousMargin {
    /// The first n points of the digits training split (or `--data`), labels +-1.
    fn data(config: &HomogeneousMarginConfig, ctx: &mut RunContext) -> Result<Dataset, LabError> {
        let data = match &ctx.data {
            Some(d) => {
                d.require_binary_labels()?;
                d.clone()
            }
            None => {
                let train = digits_split(DigitsTask::LowVsHigh, 1000)?.train;
                let n = config.n.min(train.len());
                Dataset::new(
                    train.x()[..n * train.dim()].to_vec(),
                    train.y()[..n].to_vec(),
                    train.dim(),
                )?
            }
        };
        ctx.folder.write_dataset("dataset.csv", &data)?;
        Ok(data)
    }

    /// One run of `steps` steps from the common initialization, recording every step.
    fn trace(
        ctx: &mut RunContext,
        config: &HomogeneousMarginConfig,
        batch: &Batch,
        label: &str,
        rule: StepRule,
    ) -> Result<Trace, LabError> {
        let d = batch.x.dims()[1];
        let net = ReluNetConfig {
            input_dim: d,
            width: config.width,
            outputs: 1,
        }
        .init(&mut rng_from_seed(ctx.seed), &ctx.device)
        .to_two_layer();
        let degree = f64::from(net.homogeneity_degree());
        // ln of the loss the smoothed margin is formed from.
        let shift = match config.smoothed_loss {
            LossReduction::Sum => 0.0,
            LossReduction::Mean => -(batch.x.dims()[0] as f64).ln(),
        };
        let train = TrainConfig {
            loss: Loss::Logistic,
            step_rule: rule,
            steps: config.steps,
            geometry: LpGeometry::euclidean(),
            method: Method::Steepest,
        };
        let every: Vec<usize> = (0..=config.steps).collect();
        let mut trace = Trace {
            label: label.into(),
            step_size: rule.size,
            rows: Vec::with_capacity(config.steps + 1),
            fit_step: None,
            degree,
        };
        ctx.timed(label, |ctx| {
            let progress = ctx.progress().clone();
            let mut trainer = Trainer::plain(net);
            trainer
                .run(
                    batch,
                    &train,
                    &every,
                    |p| {
                        let ln_loss = p.loss.ln_loss;
                        let rho_l = norm_power(p.param_sq, degree);
                        let smoothed =
                            smoothed_normalized_margin(ln_loss + shift, p.param_sq, degree);
                        let min = p.unit_margins.iter().copied().fold(f64::INFINITY, f64::min);
                        if trace.fit_step.is_none()
                            && min > 0.0
                            && ln_loss < std::f64::consts::LN_2.ln()
                        {
                            trace.fit_step = Some(p.step);
                        }
                        trace
                            .rows
                            .push((p.step, smoothed, min / rho_l, ln_loss, p.param_sq));
                        Ok(())
                    },
                    |_| progress.inc(1),
                )
                .map_err(|source| LabError::Train {
                    variant: label.into(),
                    source,
                })
        })?;
        Ok(trace)
    }
}

impl ExperimentSpec for HomogeneousMargin {
    type Config = HomogeneousMarginConfig;
    const NAME: &'static str = "homogeneous-margin";
    const CLAIM: &'static str = "For a homogeneous ReLU net with logistic loss, once the data are fit the smoothed \
        normalized margin l^-1(L)/||theta||^L never decreases under gradient descent and converges with the \
        normalized margin to a KKT point of the max-margin problem (Lyu & Li 2020).";
    const DTYPE: DType = DType::F64;

    /// The defaults already take 20 s; fewer steps leave run B short of its limit (2.8% at 2e4).
    fn quick() -> toml::Table {
        toml::Table::new()
    }

    fn run(config: HomogeneousMarginConfig, ctx: &mut RunContext) -> Result<Report, LabError> {
        let data = Self::data(&config, ctx)?;
        let batch = Batch {
            x: tensor2_from_host(data.x(), data.len(), data.dim(), &ctx.device),
            y: tensor1_from_host(data.y(), &ctx.device),
        };
        ctx.set_total_steps(((3 + config.max_halvings) * config.steps) as u64);
        // Run A: the fixed step, halved until no per-step drop after t_0.
        let mut step = config.fixed_step;
        let mut run_a = None;
        let mut halvings = 0;
        for trial in 0..=config.max_halvings {
            let t = Self::trace(
                ctx,
                &config,
                &batch,
                "A-fixed",
                StepRule::constant(StepRuleKind::Fixed, step),
            )?;
            let ok = t.worst_step_drop().is_ok_and(|d| d <= STEP_TOLERANCE);
            run_a = Some(t);
            if ok || trial == config.max_halvings {
                break;
            }
            ctx.timings.pop();
            halvings += 1;
            step *= 0.5;
        }
        let run_a = run_a.expect("at least one trial");
        let run_b = Self::trace(
            ctx,
            &config,
            &batch,
            "B-fast",
            StepRule::constant(StepRuleKind::InverseLossLog, config.fast_step),
        )?;
        let control = Self::trace(
            ctx,
            &config,
            &batch,
            "naive-c-over-L",
            StepRule::constant(StepRuleKind::InverseLoss, config.naive_step),
        )?;
        ctx.finish_progress();
        let probes = geometric_steps(config.steps, PROBES_PER_DECADE);
        for t in [&run_a, &run_b, &control] {
            for r in t.rows.iter().filter(|r| probes.binary_search(&r.0).is_ok()) {
                for (metric, value) in [
                    ("smoothed_margin", r.1),
                    ("normalized_margin", r.2),
                    ("ln_loss", r.3),
                    ("param_sq", r.4),
                ] {
                    ctx.recorder.record(&t.label, r.0, metric, value)?;
                }
            }
        }

        let mut report = Report::new(Self::NAME, Self::CLAIM);
        report.headline(
            "runs",
            json!(
                [&run_a, &run_b, &control]
                    .iter()
                    .map(|t| {
                        let last = t.rows.last().expect("a run has rows");
                        json!({
                            "run": t.label, "step_size": t.step_size, "fit_step": t.fit_step,
                            "smoothed_margin": last.1, "normalized_margin": last.2,
                            "ln_loss": last.3, "param_sq": last.4,
                        })
                    })
                    .collect::<Vec<_>>()
            ),
        );
        report.headline("run_a_halvings", halvings);
        for t in [&run_a, &run_b] {
            report.check(Check::measured(
                format!("{}: t_0 (100% train accuracy and L < ln 2)", t.label),
                t.require_fit().map(|t0| t0 as f64),
                Comparison::AtMost,
                FIT_BY as f64,
                "SCIENCE.md: 172 (A), 392-965 (B) in the reference simulation",
            ));
            report.check(Check::measured(
                format!(
                    "{}: min over steps of normalized - smoothed margin",
                    t.label
                ),
                t.min_order_gap(),
                Comparison::AtLeast,
                -ORDER_TOLERANCE,
                "l(q_min) <= L, so q_min >= l^-1(L) at every step (summed loss)",
            ));
        }
        report.check(Check::measured(
            "A-fixed: largest relative per-step drop of the smoothed margin after t_0",
            run_a.worst_step_drop(),
            Comparison::AtMost,
            STEP_TOLERANCE,
            format!(
                "Lyu & Li Thm 4.1 (monotone under a small step); step {:.2e} after {halvings} halvings of {:.0e}, f64",
                run_a.step_size, config.fixed_step
            ),
        ));
        let (b_drop, b_probes) = run_b.worst_probe_drop(&probes);
        report.check(Check::measured(
            "B-fast: largest relative drop between log-spaced probes after t_0",
            b_drop,
            Comparison::AtMost,
            0.0,
            format!(
                "zero tolerance on {b_probes} probes; per-step drops are a discretization effect (SCIENCE.md)"
            ),
        ));
        report.check(Check::new(
            "B-fast: log-spaced probes after t_0",
            b_probes as f64,
            Comparison::AtLeast,
            MIN_PROBES as f64,
            "enough probes for the monotonicity check to mean something",
        ));
        let last = run_b.rows.last().expect("a run has rows");
        report.check(Check::measured(
            "B-fast: (normalized - smoothed margin) / normalized margin at the end",
            run_b.require_fit().and_then(|_| {
                if last.2 > 0.0 {
                    Ok((last.2 - last.1) / last.2)
                } else {
                    Err(StatError::NoPhase(format!(
                        "the final normalized margin {:.3e} is not positive",
                        last.2
                    )))
                }
            }),
            Comparison::AtMost,
            END_GAP,
            "both converge to the same KKT margin (SCIENCE.md: 0.2-0.5%)",
        ));
        let (c_drop, _) = control.worst_probe_drop(&probes);
        report.check(Check::measured(
            "naive-c-over-L: largest relative probe drop of the smoothed margin (negative control)",
            c_drop,
            Comparison::Above,
            CONTROL_DROP,
            "the naive step c/L breaks monotonicity: this proves the check can fail (SCIENCE.md: 2.5-26%)",
        ));
        // The loss rate 1/(t (ln t)^(2 - 2/L)) over run A's last decade.
        let tail: Vec<(f64, f64)> = run_a
            .rows
            .iter()
            .filter(|r| r.0 >= config.steps / 10 && r.0 > 0)
            .map(|r| (r.0 as f64, r.3.exp()))
            .collect();
        match loglog_slope(&tail) {
            Ok(slope) => report.finding(format!(
                "A-fixed: the loss falls like t^{slope:.3} over the last decade; Lyu & Li predict 1/(t (ln t)^(2 - 2/L)) for L = {}, a log-log slope just below -1 once the fit is complete.",
                run_a.degree
            )),
            Err(e) => report.finding(format!(
                "A-fixed: the loss rate over the last decade could not be fitted: {e}"
            )),
        }
        let fig = figures(&[&run_a, &run_b, &control], &probes);
        save_svg(
            &ctx.folder.staging().join("figures/smoothed_margin.svg"),
            &fig,
        )?;
        report.figures = vec!["figures/smoothed_margin.svg".into()];
        Ok(report)
    }
}

/// Smoothed (solid) and normalized (dashed) margins against log step, and the loss.
fn figures(runs: &[&Trace], probes: &[usize]) -> [Panel; 2] {
    let mut margins = Panel {
        title: "Smoothed margin l^-1(L)/||theta||^2 (dashed: normalized)".into(),
        x_label: "step".into(),
        y_label: "margin".into(),
        log_x: true,
        legend: Legend::LowerRight,
        ..Default::default()
    };
    let mut loss = Panel {
        title: "Summed logistic loss (runs A and B)".into(),
        x_label: "step".into(),
        y_label: "log10 L".into(),
        log_x: true,
        legend: Legend::LowerLeft,
        ..Default::default()
    };
    for t in runs {
        let at = |f: &dyn Fn(&Row) -> f64| -> Vec<(f64, f64)> {
            t.rows
                .iter()
                .filter(|r| r.0 > 0 && probes.binary_search(&r.0).is_ok())
                .map(|r| (r.0 as f64, f(r)))
                .collect()
        };
        let after = |v: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
            let t0 = t.fit_step.unwrap_or(usize::MAX) as f64;
            v.into_iter().filter(|p| p.0 >= t0).collect()
        };
        margins
            .series
            .push(Series::line(t.label.clone(), after(at(&|r| r.1))));
        margins.series.push(Series::reference(
            format!("{} normalized", t.label),
            after(at(&|r| r.2)),
        ));
        // The control's ln L reaches -1e155 within a few thousand steps and would flatten the rest.
        if !t.label.starts_with("naive") {
            loss.series.push(Series::line(
                t.label.clone(),
                at(&|r| r.3 / std::f64::consts::LN_10),
            ));
        }
    }
    [margins, loss]
}
