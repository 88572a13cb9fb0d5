//! homogeneous-margin: for a homogeneous net (ReLU, no bias) with logistic loss, once the data
//! are fit the smoothed normalized margin `l^{-1}(L) / ||theta||^L` never decreases along
//! gradient descent with a small enough step, and the normalized margin approaches it (Lyu & Li
//! 2020, arXiv:1906.05890, Theorem 4.1 and its discrete version). SCIENCE.md, section B.

use crate::Config;
use crate::error::LabError;
use crate::experiment::{Experiment, Figure, RunContext};
use crate::figures::{Legend, Panel, Series};
use crate::recorder::Metrics;
use crate::report::{Check, Comparison};
use crate::rules::{Variants, at_least, one_of, positive};
use crate::stats::{Measured, StatError, largest_step_drop, loglog_slope, min_of};
use crate::tracking::{Tracking, Trajectory, log_probes, train_tracked};
use fdl_data::{Dataset, DigitsTask, digits_split, stream_rng};
use fdl_models::{Homogeneous, ReluNetConfig, tensor1_from_host, tensor2_from_host};
use fdl_optim::{Batch, Loss, LpGeometry, Method, StepRule, StepRuleKind, TrainConfig, Trainer};
use serde::{Deserialize, Serialize};

/// Configuration of homogeneous-margin; the defaults are SCIENCE.md's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Config)]
pub struct HomogeneousMarginConfig {
    /// Points taken from the digits task (0-4 vs 5-9; ignored with `--data`).
    #[config(rule = at_least(2))]
    pub n: usize,
    /// Hidden width of the bias-free two-layer ReLU net (homogeneous of degree 2).
    #[config(rule = at_least(1))]
    pub width: usize,
    /// Steps per run.
    #[config(rule = at_least(100))]
    pub steps: usize,
    /// Run A's fixed step on the summed loss (halved until no per-step drop).
    #[config(rule = positive())]
    pub fixed_step: f64,
    /// Halvings of run A's step allowed.
    pub max_halvings: usize,
    /// Run B's eta in eta / (L max(ln 1/L, 1)).
    #[config(rule = positive())]
    pub fast_step: f64,
    /// The negative control's c in c / L.
    #[config(rule = positive())]
    pub naive_step: f64,
    /// The loss the smoothed margin l^-1(L) / ||theta||^L is formed from: "sum" (Lyu & Li's
    /// theorem) or "mean" (a common slip: l^-1 of the mean loss is larger, and the inequality
    /// normalized >= smoothed then fails at every probe, SCIENCE.md). Training is the same.
    #[config(rule = one_of())]
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

impl Variants for LossReduction {
    const NAMES: &'static [&'static str] = &["sum", "mean"];
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

/// What a run measured, per run (A, B, the negative control) and overall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomogeneousMarginSummary {
    /// Runs A-fixed, B-fast and naive-c-over-L, in that order.
    pub runs: Vec<RunSummary>,
    /// How many times run A's step was halved.
    pub run_a_halvings: usize,
    /// The model's homogeneity degree L.
    pub degree: f64,
    /// Log-log slope of run A's loss over the last decade of steps.
    pub loss_slope_last_decade: Measured,
}

/// One run's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Label in metrics.csv.
    pub run: String,
    /// The step size constant of its rule.
    pub step_size: f64,
    /// t_0: first step with 100% train accuracy and L < ln 2.
    pub fit_step: Option<usize>,
    /// Smoothed margin at the end.
    pub smoothed_margin: f64,
    /// Normalized margin at the end.
    pub normalized_margin: f64,
    /// ln L at the end.
    pub ln_loss: f64,
    /// ||theta||^2 at the end.
    pub param_sq: f64,
    /// t_0, or why the data were never fit.
    pub t0: Measured,
    /// Largest relative per-step drop of the smoothed margin after t_0.
    pub largest_step_drop: Measured,
    /// Largest relative drop between consecutive log-spaced probes after t_0.
    pub largest_probe_drop: Measured,
    /// Log-spaced probes after t_0.
    pub probes_after_fit: usize,
    /// Smallest normalized - smoothed margin over every step after t_0.
    pub min_order_gap: Measured,
    /// (normalized - smoothed) / normalized margin at the end.
    pub end_gap: Measured,
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

/// t_0, or why nothing after it can be measured (the data were never fit).
fn require_fit(t: &Trajectory) -> Result<usize, StatError> {
    t.fit_step.ok_or_else(|| {
        StatError::NoPhase(format!(
            "{} never fits the data (100% accuracy and L < ln 2) within {} steps",
            t.label,
            t.rows.len().saturating_sub(1)
        ))
    })
}

/// Largest relative per-step drop of the smoothed margin after t_0.
fn worst_step_drop(t: &Trajectory) -> Result<f64, StatError> {
    require_fit(t)?;
    let values: Vec<f64> = t.after_fit().iter().map(|r| r.smoothed_margin).collect();
    largest_step_drop(&values)
}

/// Everything the checks need from one run.
fn summarize(t: &Trajectory, step_size: f64, probes: &[usize]) -> RunSummary {
    let at_probes: Vec<f64> = t
        .after_fit()
        .iter()
        .filter(|r| probes.binary_search(&r.step).is_ok())
        .map(|r| r.smoothed_margin)
        .collect();
    let gaps: Vec<f64> = t
        .after_fit()
        .iter()
        .map(|r| r.normalized_margin - r.smoothed_margin)
        .collect();
    let last = *t.last().expect("a run has rows");
    let end_gap = require_fit(t).and_then(|_| {
        if last.normalized_margin > 0.0 {
            Ok((last.normalized_margin - last.smoothed_margin) / last.normalized_margin)
        } else {
            Err(StatError::NoPhase(format!(
                "the final normalized margin {:.3e} is not positive",
                last.normalized_margin
            )))
        }
    });
    RunSummary {
        run: t.label.clone(),
        step_size,
        fit_step: t.fit_step,
        smoothed_margin: last.smoothed_margin,
        normalized_margin: last.normalized_margin,
        ln_loss: last.ln_loss,
        param_sq: last.param_sq,
        t0: require_fit(t).map(|t0| t0 as f64).into(),
        largest_step_drop: worst_step_drop(t).into(),
        largest_probe_drop: require_fit(t)
            .and_then(|_| largest_step_drop(&at_probes))
            .into(),
        probes_after_fit: at_probes.len(),
        min_order_gap: require_fit(t)
            .and_then(|_| min_of("normalized - smoothed margin", &gaps))
            .into(),
        end_gap: end_gap.into(),
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

    /// One run of `steps` steps from the common initialization, probing every step.
    fn trace(
        ctx: &mut RunContext,
        config: &HomogeneousMarginConfig,
        batch: &Batch,
        label: &str,
        rule: StepRule,
    ) -> Result<(Trajectory, f64), LabError> {
        let net = ReluNetConfig {
            input_dim: batch.x.dims()[1],
            width: config.width,
            outputs: 1,
        }
        .init(&mut stream_rng(ctx.seed, "init", &[]), &ctx.device)
        .to_two_layer();
        let degree = f64::from(net.homogeneity_degree());
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
        // Every step is probed (run A's check is per step); the run keeps what it records.
        let tracking = Tracking::every_step(config.steps)
            .homogeneous(degree)
            .smoothed_shift(shift)
            .recording(Vec::new());
        let mut trainer = Trainer::plain(net);
        let t = train_tracked(ctx, label, &mut trainer, batch, &train, &tracking)?;
        Ok((t, degree))
    }
}

impl Experiment for HomogeneousMargin {
    type Config = HomogeneousMarginConfig;
    type Summary = HomogeneousMarginSummary;
    const NAME: &'static str = "homogeneous-margin";
    const CLAIM: &'static str = "For a homogeneous ReLU net with logistic loss, once the data are fit the smoothed \
        normalized margin l^-1(L)/||theta||^L never decreases under gradient descent and converges with the \
        normalized margin to a KKT point of the max-margin problem (Lyu & Li 2020).";

    fn run(
        config: &HomogeneousMarginConfig,
        ctx: &mut RunContext,
    ) -> Result<Self::Summary, LabError> {
        let data = Self::data(config, ctx)?;
        let batch = Batch {
            x: tensor2_from_host(data.x(), data.len(), data.dim(), &ctx.device),
            y: tensor1_from_host(data.y(), &ctx.device),
        };
        ctx.set_total_steps(((3 + config.max_halvings) * config.steps) as u64);
        // Run A: the fixed step, halved until no per-step drop after t_0.
        let mut step = config.fixed_step;
        let mut halvings = 0;
        let (run_a, degree) = loop {
            let rule = StepRule::constant(StepRuleKind::Fixed, step);
            let (t, degree) = Self::trace(ctx, config, &batch, "A-fixed", rule)?;
            let ok = worst_step_drop(&t).is_ok_and(|d| d <= STEP_TOLERANCE);
            if ok || halvings == config.max_halvings {
                break (t, degree);
            }
            ctx.timings.pop();
            halvings += 1;
            step *= 0.5;
        };
        let (run_b, _) = Self::trace(
            ctx,
            config,
            &batch,
            "B-fast",
            StepRule::constant(StepRuleKind::InverseLossLog, config.fast_step),
        )?;
        let (control, _) = Self::trace(
            ctx,
            config,
            &batch,
            "naive-c-over-L",
            StepRule::constant(StepRuleKind::InverseLoss, config.naive_step),
        )?;
        let probes = log_probes(config.steps, PROBES_PER_DECADE);
        for t in [&run_a, &run_b, &control] {
            t.record(&mut ctx.recorder, Some(&probes))?;
        }
        // The loss rate 1/(t (ln t)^(2 - 2/L)) over run A's last decade.
        let tail: Vec<(f64, f64)> = run_a
            .rows
            .iter()
            .filter(|r| r.step >= config.steps / 10 && r.step > 0)
            .map(|r| (r.step as f64, r.ln_loss.exp()))
            .collect();
        Ok(HomogeneousMarginSummary {
            runs: vec![
                summarize(&run_a, step, &probes),
                summarize(&run_b, config.fast_step, &probes),
                summarize(&control, config.naive_step, &probes),
            ],
            run_a_halvings: halvings,
            degree,
            loss_slope_last_decade: loglog_slope(&tail).into(),
        })
    }

    fn checks(config: &HomogeneousMarginConfig, s: &HomogeneousMarginSummary) -> Vec<Check> {
        let [a, b, control] = &s.runs[..] else {
            return vec![Check::measured(
                "runs summarized",
                Err::<f64, _>(format!("{} runs in the summary, 3 expected", s.runs.len())),
                Comparison::AtLeast,
                3.0,
                "A-fixed, B-fast and the negative control",
            )];
        };
        let mut checks = Vec::new();
        for r in [a, b] {
            checks.push(Check::measured(
                format!("{}: t_0 (100% train accuracy and L < ln 2)", r.run),
                r.t0.result(),
                Comparison::AtMost,
                FIT_BY as f64,
                "SCIENCE.md: 172 (A), 392-965 (B) in the reference simulation",
            ));
            checks.push(Check::measured(
                format!("{}: min over steps of normalized - smoothed margin", r.run),
                r.min_order_gap.result(),
                Comparison::AtLeast,
                -ORDER_TOLERANCE,
                "l(q_min) <= L, so q_min >= l^-1(L) at every step (summed loss)",
            ));
        }
        checks.push(Check::measured(
            "A-fixed: largest relative per-step drop of the smoothed margin after t_0",
            a.largest_step_drop.result(),
            Comparison::AtMost,
            STEP_TOLERANCE,
            format!(
                "Lyu & Li Thm 4.1 (monotone under a small step); step {:.2e} after {} halvings of {:.0e}, f64",
                a.step_size, s.run_a_halvings, config.fixed_step
            ),
        ));
        checks.push(Check::measured(
            "B-fast: largest relative drop between log-spaced probes after t_0",
            b.largest_probe_drop.result(),
            Comparison::AtMost,
            0.0,
            format!(
                "zero tolerance on {} probes; per-step drops are a discretization effect (SCIENCE.md)",
                b.probes_after_fit
            ),
        ));
        checks.push(Check::new(
            "B-fast: log-spaced probes after t_0",
            b.probes_after_fit as f64,
            Comparison::AtLeast,
            MIN_PROBES as f64,
            "enough probes for the monotonicity check to mean something",
        ));
        checks.push(Check::measured(
            "B-fast: (normalized - smoothed margin) / normalized margin at the end",
            b.end_gap.result(),
            Comparison::AtMost,
            END_GAP,
            "both converge to the same KKT margin (SCIENCE.md: 0.2-0.5%)",
        ));
        checks.push(Check::measured(
            "naive-c-over-L: largest relative probe drop of the smoothed margin (negative control)",
            control.largest_probe_drop.result(),
            Comparison::Above,
            CONTROL_DROP,
            "the naive step c/L breaks monotonicity: this proves the check can fail (SCIENCE.md: 2.5-26%)",
        ));
        checks
    }

    fn findings(_: &HomogeneousMarginConfig, s: &HomogeneousMarginSummary) -> Vec<String> {
        vec![match s.loss_slope_last_decade.result() {
            Ok(slope) => format!(
                "A-fixed: the loss falls like t^{slope:.3} over the last decade; Lyu & Li predict 1/(t (ln t)^(2 - 2/L)) for L = {}, a log-log slope just below -1 once the fit is complete.",
                s.degree
            ),
            Err(e) => {
                format!("A-fixed: the loss rate over the last decade could not be fitted: {e}")
            }
        }]
    }

    fn figures(
        _: &HomogeneousMarginConfig,
        s: &HomogeneousMarginSummary,
        m: &Metrics,
    ) -> Vec<Figure> {
        vec![Figure::new("smoothed_margin.svg", figures(&s.runs, m))]
    }
}

/// Smoothed (solid) and normalized (dashed) margins against log step, and the loss.
fn figures(runs: &[RunSummary], metrics: &Metrics) -> [Panel; 2] {
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
    for r in runs {
        let t0 = r.fit_step.unwrap_or(usize::MAX) as f64;
        let after = |metric: &str| -> Vec<(f64, f64)> {
            let series = metrics.series(&r.run, metric);
            series
                .into_iter()
                .filter(|p| p.0 > 0.0 && p.0 >= t0)
                .collect()
        };
        margins
            .series
            .push(Series::line(r.run.clone(), after("smoothed_margin")));
        margins.series.push(Series::reference(
            format!("{} normalized", r.run),
            after("normalized_margin"),
        ));
        // The control's ln L reaches -1e155 within a few thousand steps and would flatten the rest.
        if !r.run.starts_with("naive") {
            let ln_loss = metrics.series(&r.run, "ln_loss");
            loss.series.push(Series::line(
                r.run.clone(),
                ln_loss
                    .into_iter()
                    .filter(|p| p.0 > 0.0)
                    .map(|(t, l)| (t, l / std::f64::consts::LN_10))
                    .collect(),
            ));
        }
    }
    [margins, loss]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_reduction_names_are_serdes() {
        let parsed: Vec<LossReduction> = LossReduction::NAMES
            .iter()
            .map(|n| toml::Value::String(n.to_string()).try_into().unwrap())
            .collect();
        assert_eq!(parsed, [LossReduction::Sum, LossReduction::Mean]);
    }
    use crate::report::Verdict;

    fn run(name: &str, drop: Measured) -> RunSummary {
        RunSummary {
            run: name.into(),
            step_size: 0.01,
            fit_step: Some(500),
            smoothed_margin: 0.06,
            normalized_margin: 0.0602,
            ln_loss: -7.0,
            param_sq: 100.0,
            t0: Measured::Value(500.0),
            largest_step_drop: drop.clone(),
            largest_probe_drop: drop,
            probes_after_fit: 150,
            min_order_gap: Measured::Value(1e-4),
            end_gap: Measured::Value(3e-3),
        }
    }

    fn verdicts(control_drop: Measured) -> Vec<(String, Verdict)> {
        let s = HomogeneousMarginSummary {
            runs: vec![
                run("A-fixed", Measured::Value(-1e-9)),
                run("B-fast", Measured::Value(-1e-4)),
                run("naive-c-over-L", control_drop),
            ],
            run_a_halvings: 0,
            degree: 2.0,
            loss_slope_last_decade: Measured::Value(-1.01),
        };
        let checks = HomogeneousMargin::checks(&HomogeneousMarginConfig::default(), &s);
        checks.into_iter().map(|c| (c.name, c.verdict)).collect()
    }

    #[test]
    fn a_monotone_summary_passes_and_a_control_without_a_drop_fails() {
        let pass = verdicts(Measured::Value(0.05));
        assert!(pass.iter().all(|(_, v)| *v == Verdict::Pass), "{pass:?}");
        let fail = verdicts(Measured::Value(1e-6));
        let failed: Vec<_> = fail.iter().filter(|(_, v)| *v == Verdict::Fail).collect();
        assert_eq!(failed.len(), 1);
        assert!(failed[0].0.starts_with("naive-c-over-L"));
        let missing = verdicts(Measured::Missing("never fits".into()));
        assert!(missing.iter().any(|(_, v)| *v == Verdict::Fail));
    }

    #[test]
    fn a_summary_reads_back_as_written() {
        let s = run("A-fixed", Measured::Missing("never fits the data".into()));
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<RunSummary>(&text).unwrap(), s);
    }
}
