//! overparam-generalization: past the interpolation point, making a two-layer ReLU net wider
//! does not make its test error worse on real data (the bundled handwritten digits), although
//! its parameter count grows without bound; margins, not parameter counts, explain why
//! (SCIENCE.md, section B, "Does overparametrization hurt generalization?").

use crate::Config;
use crate::cells::{mean_and_spread, run_cells};
use crate::device::Precision;
use crate::error::LabError;
use crate::experiment::{Experiment, Figure, RunContext};
use crate::figures::{Legend, Panel, Series};
use crate::recorder::Metrics;
use crate::report::{Check, Comparison};
use crate::rules::{RuleExt, at_least, positive, sweep, within};
use burn::tensor::Device;
use fdl_data::{Dataset, DigitsTask, cell_seed, digits_split, rng_from_seed};
use fdl_models::{Classifier, ReluNetConfig, tensor2_from_host, to_host};
use fdl_optim::{ContinuationConfig, Labels, train_regularized};
use indicatif::ProgressBar;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Configuration of overparam-generalization; the defaults are SCIENCE.md's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Config)]
pub struct OverparamGeneralizationConfig {
    /// Training images of the fixed split (the rest are the test set).
    #[config(rule = within(10..fdl_data::DIGITS_ROWS).because("the rest of the 1797 images are the test set"))]
    pub n_train: usize,
    /// Hidden widths.
    #[config(rule = sweep(at_least(1)))]
    pub widths: Vec<usize>,
    /// Seeds per width.
    #[config(rule = at_least(1))]
    pub seeds: usize,
    /// Full-batch Adam steps.
    #[config(rule = at_least(1))]
    pub steps: usize,
    /// Adam's learning rate.
    #[config(rule = positive())]
    pub rate: f64,
    /// lambda of the regularized variant (the other has none).
    #[config(rule = positive())]
    pub lambda: f64,
    /// Also train the 10-class task (cross-entropy, multi-class margin), unregularized.
    pub ten_class: bool,
    /// Zhang et al.'s randomization test (2017, arXiv:1611.03530): permute the training labels
    /// (seeded; the test set keeps its true labels). The nets can still fit them, but nothing is
    /// left to generalize: the test-error checks must fail.
    pub shuffle_labels: bool,
}

impl Default for OverparamGeneralizationConfig {
    fn default() -> Self {
        Self {
            n_train: 1000,
            widths: vec![4, 8, 16, 32, 64, 128, 256, 512, 1024],
            seeds: 3,
            steps: 3000,
            rate: 1e-3,
            lambda: 1e-4,
            ten_class: true,
            shuffle_labels: false,
        }
    }
}

/// The overparam-generalization experiment.
pub struct OverparamGeneralization;

/// m_interp must be at most this (SCIENCE.md: 10 in the reference simulation).
const MAX_INTERP_WIDTH: usize = 16;
/// The widest net beats the interpolating one by at least this many points of test error.
const WIDEST_GAIN: f64 = 0.5;
/// ... and its test error is at most this (percent).
const WIDEST_ERROR: f64 = 2.5;
/// No width past m_interp is worse than test(m_interp) by more than this (points).
const MAX_RISE: f64 = 1.0;

/// The digits task of a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Digits 0-4 against 5-9 (logistic loss, binary margin).
    Binary,
    /// The ten classes (cross-entropy, multi-class margin).
    TenClass,
}

impl Task {
    fn digits(self) -> DigitsTask {
        match self {
            Task::Binary => DigitsTask::LowVsHigh,
            Task::TenClass => DigitsTask::TenClass,
        }
    }
}

/// A variant of the sweep: task and regularization.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// The task.
    pub task: Task,
    /// The weight decay lambda (0: none).
    pub lambda: f64,
}

impl Variant {
    /// `binary`, `binary-l2`, `ten-class`, `ten-class-l2`.
    pub fn label(&self) -> String {
        let task = match self.task {
            Task::Binary => "binary",
            Task::TenClass => "ten-class",
        };
        if self.lambda > 0.0 {
            format!("{task}-l2")
        } else {
            task.into()
        }
    }
}

/// One trained (variant, width, seed) cell.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Training error (fraction).
    pub train_error: f64,
    /// Test error (fraction).
    pub test_error: f64,
    /// min y f(x) / ||theta||^2 (the multi-class margin for ten classes).
    pub normalized_margin: f64,
    /// ||theta||_2.
    pub param_norm: f64,
    /// The first step with zero training error.
    pub steps_to_interpolate: Option<usize>,
}

/// The cells of one width of one variant, one per seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidthSummary {
    /// The hidden width m.
    pub width: usize,
    /// One per seed.
    pub cells: Vec<Cell>,
}

/// One variant's sweep over widths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantSummary {
    /// Task and regularization.
    pub variant: Variant,
    /// One entry per width, in the config's order.
    pub widths: Vec<WidthSummary>,
}

/// What a run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverparamGeneralizationSummary {
    /// Unregularized binary first (the gated one), then binary with weight decay, then ten
    /// classes if configured.
    pub variants: Vec<VariantSummary>,
}

impl WidthSummary {
    fn mean(&self, f: impl Fn(&Cell) -> f64) -> (f64, f64, f64) {
        mean_and_spread(&self.cells.iter().map(f).collect::<Vec<_>>())
    }
    fn interpolates(&self) -> bool {
        self.cells.iter().all(|c| c.train_error == 0.0)
    }
    /// Mean test error in percent.
    fn test_percent(&self) -> f64 {
        100.0 * self.mean(|c| c.test_error).0
    }
}

/// The train and test inputs of a task (with the constant feature) and their labels.
struct Split {
    x_train: Vec<f64>,
    x_test: Vec<f64>,
    train: Labels,
    test: Labels,
    dim: usize,
}

impl OverparamGeneralization {
    fn split(n_train: usize, task: Task, shuffle: Option<u64>) -> Result<Split, LabError> {
        let mut s = digits_split(task.digits(), n_train)?;
        if let Some(seed) = shuffle {
            let mut y = s.train.y().to_vec();
            y.shuffle(&mut rng_from_seed(seed));
            s.train = Dataset::new(s.train.x().to_vec(), y, s.train.dim())?;
        }
        let classes = match task {
            Task::Binary => 1,
            Task::TenClass => 10,
        };
        let labels = |d: &Dataset| {
            Labels::from_values(d.y(), classes)
                .map_err(|e| LabError::Data(fdl_data::DataError::Invalid(e)))
        };
        Ok(Split {
            x_train: s.train.x_with_constant(),
            x_test: s.test.x_with_constant(),
            train: labels(&s.train)?,
            test: labels(&s.test)?,
            dim: s.train.dim() + 1,
        })
    }

    /// Trains one (variant, width, seed) cell.
    fn train_cell(
        config: &OverparamGeneralizationConfig,
        split: &Split,
        variant: Variant,
        width: usize,
        seed: u64,
        device: &Device,
        progress: &ProgressBar,
    ) -> Result<Cell, LabError> {
        let (n, d) = (split.train.len(), split.dim);
        let x = tensor2_from_host(&split.x_train, n, d, device);
        let net = ReluNetConfig {
            input_dim: d,
            width,
            outputs: split.train.outputs(),
        }
        .init(&mut rng_from_seed(seed), device);
        let schedule = ContinuationConfig::adam(
            vec![variant.lambda],
            config.steps,
            (config.rate, config.rate),
        );
        let mut summary = None;
        let mut interpolated = None;
        let net = train_regularized(
            net,
            &x,
            &split.train,
            &schedule,
            |s, _| summary = Some(*s),
            |info| {
                if interpolated.is_none() && info.train_error == 0.0 {
                    interpolated = Some(info.step);
                }
                progress.inc(1);
            },
        )
        .map_err(|source| LabError::Train {
            variant: format!("{}-m{width}", variant.label()),
            source,
        })?;
        let s = summary.expect("one stage");
        let xt = tensor2_from_host(&split.x_test, split.test.len(), d, device);
        let test_logits = to_host(net.logits(xt));
        Ok(Cell {
            train_error: s.train_error,
            test_error: split.test.error_rate(&test_logits),
            normalized_margin: s.normalized_margin(2),
            param_norm: s.param_sq.sqrt(),
            steps_to_interpolate: interpolated.or((s.train_error == 0.0).then_some(s.steps)),
        })
    }
}

impl Experiment for OverparamGeneralization {
    type Config = OverparamGeneralizationConfig;
    type Summary = OverparamGeneralizationSummary;
    const NAME: &'static str = "overparam-generalization";
    const CLAIM: &'static str = "Past the interpolation point, making a two-layer ReLU net wider does not make its test \
        error on real data (handwritten digits) worse, although classical capacity bounds grow with the parameter \
        count; margins, not parameter counts, explain why.";
    const DTYPE: Precision = Precision::F32;

    fn quick() -> toml::Table {
        toml::toml! {
            widths = [16, 64, 256]
            seeds = 2
            ten_class = false
        }
    }

    fn run(
        config: &OverparamGeneralizationConfig,
        ctx: &mut RunContext,
    ) -> Result<OverparamGeneralizationSummary, LabError> {
        if ctx.data.is_some() {
            return Err(LabError::Usage(
                "overparam-generalization runs on the bundled digits data; it does not take --data"
                    .into(),
            ));
        }
        let mut variants = vec![
            Variant {
                task: Task::Binary,
                lambda: 0.0,
            },
            Variant {
                task: Task::Binary,
                lambda: config.lambda,
            },
        ];
        if config.ten_class {
            variants.push(Variant {
                task: Task::TenClass,
                lambda: 0.0,
            });
        }
        // The permutation's seed is the run's (digits_split's own split seed is fixed).
        let shuffle = config
            .shuffle_labels
            .then_some(cell_seed(ctx.seed, "label-shuffle", &[]));
        let binary = Self::split(config.n_train, Task::Binary, shuffle)?;
        let ten = Self::split(config.n_train, Task::TenClass, shuffle)?;
        ctx.folder.write_dataset(
            "dataset.csv",
            &digits_split(DigitsTask::TenClass, config.n_train)?.train,
        )?;
        // Widest first, so the longest cells start early and the cores stay busy.
        let mut cells: Vec<(usize, usize, usize)> = (0..variants.len())
            .flat_map(|v| {
                config
                    .widths
                    .iter()
                    .flat_map(move |&m| (0..config.seeds).map(move |s| (v, m, s)))
            })
            .collect();
        cells.sort_by_key(|&(_, m, _)| std::cmp::Reverse(m));
        ctx.set_total_steps((cells.len() * config.steps) as u64);
        let (device, progress, seed) = (ctx.device.clone(), ctx.progress().clone(), ctx.seed);
        let results = ctx.timed("sweep", |_| {
            run_cells(&cells, |&(v, m, s)| {
                let split = match variants[v].task {
                    Task::TenClass => &ten,
                    Task::Binary => &binary,
                };
                let cell_seed = cell_seed(seed, "init", &[s as u64, m as u64]);
                Self::train_cell(config, split, variants[v], m, cell_seed, &device, &progress)
            })
        })?;
        let variants: Vec<VariantSummary> = variants
            .iter()
            .enumerate()
            .map(|(v, &variant)| VariantSummary {
                variant,
                widths: config
                    .widths
                    .iter()
                    .map(|&m| WidthSummary {
                        width: m,
                        cells: cells
                            .iter()
                            .zip(&results)
                            .filter(|((cv, cm, _), _)| *cv == v && *cm == m)
                            .map(|(_, c)| *c)
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        for v in &variants {
            for row in &v.widths {
                for (s, c) in row.cells.iter().enumerate() {
                    let name = format!("{}-m{}-seed{s}", v.variant.label(), row.width);
                    for (metric, value) in [
                        ("train_error", c.train_error),
                        ("test_error", c.test_error),
                        ("normalized_margin", c.normalized_margin),
                        ("param_norm", c.param_norm),
                        (
                            "steps_to_interpolate",
                            c.steps_to_interpolate.map_or(f64::NAN, |t| t as f64),
                        ),
                    ] {
                        ctx.recorder.record(&name, config.steps, metric, value)?;
                    }
                }
            }
        }
        Ok(OverparamGeneralizationSummary { variants })
    }

    /// The gates: the unregularized binary task (seed means, in percent).
    fn checks(_: &OverparamGeneralizationConfig, s: &OverparamGeneralizationSummary) -> Vec<Check> {
        let rows = &s.variants[0].widths;
        let mut checks = Vec::new();
        let interp = rows.iter().position(WidthSummary::interpolates);
        let no_interp = || {
            format!(
                "no width up to {} has zero training error in every seed",
                rows[rows.len() - 1].width
            )
        };
        checks.push(Check::measured(
            "binary: m_interp (smallest width with zero training error in every seed)",
            interp.map(|i| rows[i].width as f64).ok_or_else(no_interp),
            Comparison::AtMost,
            MAX_INTERP_WIDTH as f64,
            "SCIENCE.md: 10 in the reference simulation",
        ));
        let widest = rows[rows.len() - 1].test_percent();
        checks.push(Check::new(
            "binary: test error (%) of the widest net",
            widest,
            Comparison::AtMost,
            WIDEST_ERROR,
            "SCIENCE.md: 1.51% at width 1024 in the reference simulation",
        ));
        if let Some(i) = interp {
            let at_interp = rows[i].test_percent();
            checks.push(Check::new(
                format!(
                    "binary: test error (%) at the widest net (m = {}) minus at m_interp = {}",
                    rows[rows.len() - 1].width,
                    rows[i].width
                ),
                widest - at_interp,
                Comparison::AtMost,
                -WIDEST_GAIN,
                format!("{widest:.2}% vs {at_interp:.2}%: wider is better, not worse"),
            ));
            let rise = rows[i..]
                .iter()
                .map(|r| r.test_percent() - at_interp)
                .fold(f64::NEG_INFINITY, f64::max);
            checks.push(Check::new(
                "binary: largest test-error rise (points) of any width past m_interp",
                rise,
                Comparison::AtMost,
                MAX_RISE,
                "no double-descent bump past interpolation (SCIENCE.md: +0.2 points, seed noise)",
            ));
        } else {
            for (name, threshold) in [
                (
                    "binary: test error (%) at the widest net minus at m_interp",
                    -WIDEST_GAIN,
                ),
                (
                    "binary: largest test-error rise (points) of any width past m_interp",
                    MAX_RISE,
                ),
            ] {
                checks.push(Check::measured(
                    name,
                    Err::<f64, _>(no_interp()),
                    Comparison::AtMost,
                    threshold,
                    "measured from m_interp on",
                ));
            }
        }
        checks
    }

    fn findings(
        config: &OverparamGeneralizationConfig,
        s: &OverparamGeneralizationSummary,
    ) -> Vec<String> {
        let mut findings = Vec::new();
        if config.shuffle_labels {
            findings.push("the training labels were permuted (Zhang et al.'s randomization test; dataset.csv holds the true labels): nothing is left to generalize, so the test-error checks are expected to fail".into());
        }
        for v in s.variants.iter().filter(|v| v.variant.task == Task::Binary) {
            findings.push(margin_trend(v));
        }
        for v in &s.variants {
            findings.push(format!(
                "{} (lambda = {:.0e}): normalized margin by width {}; test error {}.",
                v.variant.label(),
                v.variant.lambda,
                v.widths
                    .iter()
                    .map(|r| format!("{}: {:.3e}", r.width, r.mean(|c| c.normalized_margin).0))
                    .collect::<Vec<_>>()
                    .join(", "),
                v.widths
                    .iter()
                    .map(|r| format!("{}: {:.2}%", r.width, r.test_percent()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        findings
    }

    /// Seed means (and the test error's spread) per width and variant, and m_interp.
    fn headline(
        _: &OverparamGeneralizationConfig,
        s: &OverparamGeneralizationSummary,
    ) -> Map<String, Value> {
        let table: Vec<Value> = s
            .variants
            .iter()
            .map(|v| {
                json!({
                    "variant": v.variant.label(),
                    "lambda": v.variant.lambda,
                    "widths": v.widths.iter().map(|r| json!({
                        "width": r.width,
                        "train_error": r.mean(|c| c.train_error).0,
                        "test_error": r.mean(|c| c.test_error).0,
                        "test_error_min": r.mean(|c| c.test_error).1,
                        "test_error_max": r.mean(|c| c.test_error).2,
                        "normalized_margin": r.mean(|c| c.normalized_margin).0,
                        "param_norm": r.mean(|c| c.param_norm).0,
                        "steps_to_interpolate": r.cells.iter().map(|c| c.steps_to_interpolate).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let rows = &s.variants[0].widths;
        let m_interp = rows
            .iter()
            .position(WidthSummary::interpolates)
            .map(|i| rows[i].width);
        Map::from_iter([
            ("per_width".to_string(), Value::Array(table)),
            ("m_interp".to_string(), json!(m_interp)),
        ])
    }

    fn figures(
        _: &OverparamGeneralizationConfig,
        s: &OverparamGeneralizationSummary,
        _: &Metrics,
    ) -> Vec<Figure> {
        let [errors, margins] = panels(&s.variants);
        vec![
            Figure::new("error_vs_width.svg", [errors]),
            Figure::new("margin_vs_width.svg", [margins]),
        ]
    }
}

/// Past interpolation: whether the mean margin keeps rising with width (the largest relative
/// fall from its running peak).
fn margin_trend(v: &VariantSummary) -> String {
    let rows = &v.widths;
    let start = rows
        .iter()
        .position(WidthSummary::interpolates)
        .unwrap_or(rows.len());
    let margins: Vec<f64> = rows[start..]
        .iter()
        .map(|r| r.mean(|c| c.normalized_margin).0)
        .collect();
    let (label, lambda) = (v.variant.label(), v.variant.lambda);
    if margins.len() < 2 || margins.iter().any(|m| m.is_nan() || *m <= 0.0) {
        return format!(
            "{label} (lambda = {lambda:.0e}): the margin's trend past interpolation cannot be stated: {} width(s) interpolate, margins {margins:?}.",
            margins.len()
        );
    }
    let mut peak = f64::NEG_INFINITY;
    let mut fall = 0.0f64;
    for m in &margins {
        peak = peak.max(*m);
        fall = fall.max((peak - m) / peak);
    }
    format!(
        "{label} (lambda = {lambda:.0e}): past interpolation the normalized margin {} (largest relative fall from its running peak {:.1}%); SCIENCE.md expects it to fall past width 64 without regularization (the initial weight norm dominates) and to be non-decreasing with lambda = 1e-4 (not gated).",
        if fall <= 1e-2 {
            "is non-decreasing in width"
        } else {
            "falls with width"
        },
        100.0 * fall
    )
}

/// Test and train error against width (means, with every seed as a point), and the margins.
fn panels(variants: &[VariantSummary]) -> [Panel; 2] {
    let mut errors = Panel {
        title: "Digits: test error vs width (dots: seeds; dashed: train error)".into(),
        x_label: "width m".into(),
        y_label: "error (%)".into(),
        log_x: true,
        legend: Legend::UpperRight,
        ..Default::default()
    };
    let mut margins = Panel {
        title: "Normalized margin min y f(x) / ||theta||^2 vs width".into(),
        x_label: "width m".into(),
        y_label: "normalized margin".into(),
        log_x: true,
        log_y: true,
        legend: Legend::LowerLeft,
        ..Default::default()
    };
    for v in variants {
        let (label, rows) = (v.variant.label(), &v.widths);
        let mean = |f: &dyn Fn(&Cell) -> f64| -> Vec<(f64, f64)> {
            rows.iter()
                .map(|r| (r.width as f64, r.mean(|c| f(c)).0))
                .collect()
        };
        errors.series.push(
            Series::line(format!("{label} test"), mean(&|c| 100.0 * c.test_error)).with_markers(),
        );
        errors.series.push(Series::companion_points(
            rows.iter()
                .flat_map(|r| {
                    r.cells
                        .iter()
                        .map(|c| (r.width as f64, 100.0 * c.test_error))
                })
                .collect(),
        ));
        errors.series.push(Series::reference(
            format!("{label} train"),
            mean(&|c| 100.0 * c.train_error),
        ));
        margins
            .series
            .push(Series::line(label, mean(&|c| c.normalized_margin)).with_markers());
    }
    [errors, margins]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Verdict;

    /// The binary variant at widths 8, 16, 64 with the given train and test errors (fractions).
    fn summary(train: [f64; 3], test: [f64; 3]) -> OverparamGeneralizationSummary {
        let widths = [8, 16, 64]
            .iter()
            .zip(train.iter().zip(test))
            .map(|(&width, (&train_error, test_error))| WidthSummary {
                width,
                cells: vec![Cell {
                    train_error,
                    test_error,
                    normalized_margin: 1e-3,
                    param_norm: 10.0,
                    steps_to_interpolate: None,
                }],
            })
            .collect();
        OverparamGeneralizationSummary {
            variants: vec![VariantSummary {
                variant: Variant {
                    task: Task::Binary,
                    lambda: 0.0,
                },
                widths,
            }],
        }
    }

    fn failures(s: &OverparamGeneralizationSummary) -> usize {
        OverparamGeneralization::checks(&Default::default(), s)
            .iter()
            .filter(|c| c.verdict != Verdict::Pass)
            .count()
    }

    #[test]
    fn checks_pass_when_wider_is_better_and_fail_on_a_bump_or_no_interpolation() {
        assert_eq!(failures(&summary([0.0; 3], [0.03, 0.025, 0.015])), 0);
        // A double-descent bump past interpolation, and a widest net no better.
        assert_eq!(failures(&summary([0.0; 3], [0.03, 0.05, 0.03])), 3);
        // Nothing interpolates: m_interp and both checks measured from it fail.
        assert_eq!(failures(&summary([0.1; 3], [0.03, 0.025, 0.015])), 3);
    }
}
