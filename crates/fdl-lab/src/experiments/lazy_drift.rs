//! lazy-drift: wide networks in NTK parameterization evolve like their linearization; the
//! empirical NTK barely drifts and the network tracks f_lin (Lee et al. 2019,
//! arXiv:1902.06720; Chizat, Oyallon, Bach 2019, arXiv:1812.07956). SCIENCE.md, section A.

use crate::Config;
use crate::device::Precision;
use crate::error::LabError;
use crate::experiment::{Experiment, Figure, RunContext};
use crate::figures::{Legend, Panel, Series};
use crate::recorder::Metrics;
use crate::report::{Check, Comparison};
use crate::rules::{RuleExt, at_least, custom, positive, sweep, within};
use crate::stats::{loglog_slope, max_of};
use crate::tracking::train_probed;
use burn::tensor::Tensor;
use fdl_analysis::kernel_gd_predictions;
use fdl_data::{Dataset, gaussian_random_labels, stream_rng};
use fdl_models::{
    LinearizedMlp, Mlp, MlpConfig, ScalarModel, tensor1_from_host, tensor2_from_host, to_host,
};
use fdl_optim::{
    Batch, Loss, LpGeometry, Method, StepRule, StepRuleKind, TrainConfig, Trainer, log_spaced_steps,
};
use serde::{Deserialize, Serialize};

/// Configuration of lazy-drift; the defaults are SCIENCE.md's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Config)]
pub struct LazyDriftConfig {
    /// Training points, x ~ N(0, I), labels +-1.
    #[config(rule = at_least(2))]
    pub n: usize,
    /// Held-out points from the same distribution.
    #[config(rule = at_least(1))]
    pub test_n: usize,
    /// Input dimension.
    #[config(rule = at_least(1))]
    pub dim: usize,
    /// Hidden widths.
    #[config(rule = sweep(at_least(1)).because("the checks fit slopes against the width"))]
    pub widths: Vec<usize>,
    /// Hidden layers.
    #[config(rule = at_least(1))]
    pub hidden: usize,
    /// sigma_w of every layer.
    #[config(rule = positive())]
    pub weight_std: f64,
    /// sigma_b of every layer.
    #[config(rule = within(0.0..f64::INFINITY))]
    pub bias_std: f64,
    /// eta on the mean square loss (1/2n) sum (f - y)^2.
    #[config(rule = positive())]
    pub step_size: f64,
    /// Full-batch steps.
    #[config(rule = at_least(1))]
    pub steps: usize,
    /// Chizat's output scales alpha: the net at `alpha_width` is trained on
    /// (1/alpha^2) L(f_0 + alpha (f - f_0)), and its relative movement should fall like 1/alpha.
    #[config(rule = custom(|a: &Vec<f64>| spans_two_decades(a), "at least 4 positive output scales spanning two decades (max >= 100 min)"))]
    pub alphas: Vec<f64>,
    /// Width of the alpha sweep.
    #[config(rule = at_least(1))]
    pub alpha_width: usize,
    /// The width sweep's output scale is alpha_m = (m / m_min)^(-scale_exponent): 0 is the NTK
    /// parameterization (lazy as m grows); 0.5 is the mean-field scaling, where the theory says
    /// the kernel keeps moving at every width (Chizat, Oyallon, Bach 2019).
    #[config(rule = within(0.0..=1.0).because("0: NTK scaling, 0.5: mean-field"))]
    pub scale_exponent: f64,
}

impl Default for LazyDriftConfig {
    fn default() -> Self {
        Self {
            n: 128,
            test_n: 128,
            dim: 16,
            widths: vec![64, 128, 256, 512, 1024, 2048],
            hidden: 2,
            weight_std: 1.0,
            bias_std: 0.1,
            step_size: 1.0,
            steps: 1000,
            alphas: vec![1.0, 3.1623, 10.0, 31.623, 100.0],
            alpha_width: 256,
            scale_exponent: 0.0,
        }
    }
}

/// At least 4 positive output scales, the largest at least 100 times the smallest (the slope
/// against alpha is fitted over two decades).
fn spans_two_decades(alphas: &[f64]) -> bool {
    let (lo, hi) = alphas.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &a| {
        (lo.min(a), hi.max(a))
    });
    alphas.len() >= 4 && alphas.iter().all(|a| a.is_finite() && *a > 0.0) && hi >= 100.0 * lo
}

/// The lazy-drift experiment.
pub struct LazyDrift;

/// SCIENCE.md: the relative NTK drift falls with width with a log-log slope in [-1, -0.45]
/// (observed -0.78 in its simulation; -0.5 is not asserted).
const DRIFT_SLOPE: (f64, f64) = (-1.0, -0.45);
/// SCIENCE.md: first- and last-layer relative weight change fall like width^-1/2, hidden layers
/// like width^-1; the allowed deviation of the fitted slope.
const LAYER_SLOPE_TOLERANCE: f64 = 0.2;

/// Chizat et al.: the relative movement at output scale alpha falls like 1/alpha (slope -1 in
/// log-log) once the training is lazy; the allowed deviation of the fitted slope.
const ALPHA_SLOPE: f64 = -1.0;
const ALPHA_SLOPE_TOLERANCE: f64 = 0.1;

/// Training the linearization is exactly kernel GD with Theta_0; the two computations agree to
/// f32 rounding accumulated over the run.
const KERNEL_AGREEMENT: f64 = 1e-5;

/// What a run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LazyDriftSummary {
    /// One entry per width, in the config's order.
    pub widths: Vec<WidthSummary>,
    /// Chizat's sweep over the output scale.
    pub alpha_sweep: AlphaSweep,
}

/// What one width measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidthSummary {
    /// The hidden width.
    pub width: usize,
    /// ||Theta_T - Theta_0||_F / ||Theta_0||_F.
    pub ntk_drift: f64,
    /// ||W_l(T) - W_l(0)||_F / ||W_l(0)||_F per layer.
    pub weight_change: Vec<f64>,
    /// sup_t rms |f_t - f_lin,t| on the training points.
    pub gap_train: f64,
    /// The same on the held-out points.
    pub gap_test: f64,
    /// rms |f_lin,T - u_kernel(T)| on the training points, over rms |y|.
    pub kernel_mismatch: f64,
}

/// The relative weight movement at each output scale alpha, at one width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlphaSweep {
    /// The width.
    pub width: usize,
    /// The output scales.
    pub alpha: Vec<f64>,
    /// ||W(T) - W(0)|| / ||W(0)|| at each.
    pub relative_movement: Vec<f64>,
}

impl AlphaSweep {
    fn points(&self) -> Vec<(f64, f64)> {
        self.alpha
            .iter()
            .copied()
            .zip(self.relative_movement.iter().copied())
            .collect()
    }
}

fn frobenius(t: Tensor<2>) -> f64 {
    to_host(t.square().sum())[0].sqrt()
}

/// Targets that make plain GD on f the scaled objective (1/alpha^2) L(f_0 + alpha (f - f_0))
/// of Chizat, Oyallon, Bach (2019, Sec. 2) for the square loss: its gradient is
/// J^T (f - f_0 - (y - f_0) / alpha), the plain loss's gradient at targets f_0 + (y - f_0) / alpha.
/// alpha = 1 gives the targets y themselves.
fn scaled_targets(y: &[f64], f0: &[f64], alpha: f64) -> Vec<f64> {
    if alpha == 1.0 {
        return y.to_vec();
    }
    y.iter().zip(f0).map(|(y, f)| f + (y - f) / alpha).collect()
}

/// `||W(T) - W(0)|| / ||W(0)||` over all layers' weights together.
fn relative_movement(net: &Mlp, weights0: &[Tensor<2>]) -> f64 {
    let (moved, start) = net
        .layers
        .iter()
        .zip(weights0)
        .map(|(l, w0)| {
            (
                frobenius(l.weight.val().detach() - w0.clone()).powi(2),
                frobenius(w0.clone()).powi(2),
            )
        })
        .fold((0.0, 0.0), |(a, b), (c, d)| (a + c, b + d));
    (moved / start).sqrt()
}

/// `||a - b|| / sqrt(n)` for two output vectors.
fn rms_gap(a: &[f64], b: &[f64]) -> f64 {
    (a.iter().zip(b).map(|(u, v)| (u - v).powi(2)).sum::<f64>() / a.len() as f64).sqrt()
}

/// A model's outputs at one probe.
struct Snapshot {
    train: Vec<f64>,
    test: Vec<f64>,
}

/// Trains `model` and returns its outputs on train and test at every probe.
fn outputs_over_training<M: ScalarModel>(
    ctx: &mut RunContext,
    label: &str,
    model: M,
    batch: &Batch,
    test: &Tensor<2>,
    config: &TrainConfig,
    probes: &[usize],
) -> Result<(M, Vec<Snapshot>), LabError> {
    let mut seen = Vec::new();
    let mut trainer = Trainer::plain(model);
    train_probed(ctx, label, &mut trainer, batch, config, probes, |p| {
        seen.push(Snapshot {
            train: p.outputs.to_vec(),
            test: to_host(p.model.forward(test.clone())),
        });
        Ok(Vec::new())
    })?;
    Ok((trainer.model().clone(), seen))
}

impl LazyDrift {
    fn data(
        config: &LazyDriftConfig,
        ctx: &mut RunContext,
    ) -> Result<(Dataset, Dataset), LabError> {
        let all = gaussian_random_labels(
            config.n + config.test_n,
            config.dim,
            &mut stream_rng(ctx.seed, "data", &[]),
        );
        let d = config.dim;
        let split = |range: std::ops::Range<usize>| {
            Dataset::new(
                all.x()[range.start * d..range.end * d].to_vec(),
                all.y()[range].to_vec(),
                d,
            )
        };
        let (train, test) = (
            split(0..config.n)?,
            split(config.n..config.n + config.test_n)?,
        );
        for (data, file) in [(&train, "dataset.csv"), (&test, "test.csv")] {
            ctx.folder.write_dataset(file, data)?;
        }
        Ok((train, test))
    }

    /// The net of one width, initialized from the seed.
    fn net(ctx: &RunContext, config: &LazyDriftConfig, width: usize) -> Mlp {
        MlpConfig {
            input_dim: config.dim,
            width,
            hidden: config.hidden,
            weight_std: config.weight_std,
            bias_std: config.bias_std,
        }
        .init(
            &mut stream_rng(ctx.seed, "init", &[width as u64]),
            &ctx.device,
        )
    }

    /// Full-batch GD on the mean square loss.
    fn train_config(config: &LazyDriftConfig) -> TrainConfig {
        TrainConfig {
            loss: Loss::Square,
            // The trainer's loss is sum/2; eta on the mean is eta / n on the sum.
            step_rule: StepRule::constant(StepRuleKind::Fixed, config.step_size / config.n as f64),
            steps: config.steps,
            geometry: LpGeometry::euclidean(),
            method: Method::Steepest,
        }
    }

    /// The batch whose plain loss is the objective at output scale `alpha` for `net`.
    fn scaled_batch(net: &Mlp, batch: &Batch, alpha: f64) -> Batch {
        let f0 = to_host(net.forward(batch.x.clone()));
        let y = scaled_targets(&to_host(batch.y.clone()), &f0, alpha);
        Batch {
            x: batch.x.clone(),
            y: tensor1_from_host(&y, &batch.x.device()),
        }
    }

    /// Chizat's sweep: the relative weight movement at each output scale alpha.
    fn train_alpha(
        ctx: &mut RunContext,
        config: &LazyDriftConfig,
        batch: &Batch,
        alpha: f64,
    ) -> Result<f64, LabError> {
        let net = Self::net(ctx, config, config.alpha_width);
        let weights0: Vec<Tensor<2>> = net.layers.iter().map(|l| l.weight.val().detach()).collect();
        let scaled = Self::scaled_batch(&net, batch, alpha);
        let label = format!("alpha{alpha}");
        let train = Self::train_config(config);
        let mut trainer = Trainer::plain(net);
        train_probed(ctx, &label, &mut trainer, &scaled, &train, &[], |_| {
            Ok(Vec::new())
        })?;
        let movement = relative_movement(trainer.model(), &weights0);
        ctx.recorder
            .record(&label, config.steps, "relative_movement", movement)?;
        Ok(movement)
    }

    fn train_width(
        ctx: &mut RunContext,
        config: &LazyDriftConfig,
        batch: &Batch,
        test: &Tensor<2>,
        width: usize,
    ) -> Result<WidthSummary, LabError> {
        let net = Self::net(ctx, config, width);
        let m_min = config.widths.iter().copied().min().unwrap_or(width) as f64;
        let batch = &Self::scaled_batch(
            &net,
            batch,
            (width as f64 / m_min).powf(-config.scale_exponent),
        );
        let lin = LinearizedMlp::around(&net);
        let (ntk0, _) = net.ntk_by_layer(batch.x.clone(), batch.x.clone());
        let weights0: Vec<Tensor<2>> = net.layers.iter().map(|l| l.weight.val().detach()).collect();
        let train = Self::train_config(config);
        let probes = log_spaced_steps(config.steps);
        let (trained, real) =
            outputs_over_training(ctx, &format!("m{width}"), net, batch, test, &train, &probes)?;
        let (_, linear) = outputs_over_training(
            ctx,
            &format!("m{width}-lin"),
            lin,
            batch,
            test,
            &train,
            &probes,
        )?;
        let (ntk_t, _) = trained.ntk_by_layer(batch.x.clone(), batch.x.clone());
        // The linearized net is kernel GD with Theta_0: u(T) = y + (I - eta Theta_0)^T (u(0) - y).
        let n = config.n;
        let targets = to_host(batch.y.clone());
        let kernel = kernel_gd_predictions(
            &to_host(ntk0.clone().flatten::<1>(0, 1)),
            n,
            &linear[0].train,
            &targets,
            config.step_size / n as f64,
            &[config.steps],
        );
        let final_lin = &linear.last().expect("a final probe").train;
        let kernel_mismatch = rms_gap(final_lin, &kernel[0]) / rms_gap(&targets, &vec![0.0; n]);
        let drift = frobenius(ntk_t - ntk0.clone()) / frobenius(ntk0);
        let layer_change = trained
            .layers
            .iter()
            .zip(&weights0)
            .map(|(l, w0)| frobenius(l.weight.val().detach() - w0.clone()) / frobenius(w0.clone()))
            .collect();
        // NaN when a probe's gap is (the slope fit then names it).
        let gap = |pick: fn(&Snapshot) -> &[f64]| {
            let gaps: Vec<f64> = real
                .iter()
                .zip(&linear)
                .map(|(a, b)| rms_gap(pick(a), pick(b)))
                .collect();
            max_of("network-vs-linearization gap", &gaps).unwrap_or(f64::NAN)
        };
        let run = WidthSummary {
            width,
            ntk_drift: drift,
            weight_change: layer_change,
            gap_train: gap(|p| &p.train),
            gap_test: gap(|p| &p.test),
            kernel_mismatch,
        };
        let label = format!("m{width}");
        ctx.recorder
            .record(&label, config.steps, "ntk_drift", run.ntk_drift)?;
        ctx.recorder
            .record(&label, config.steps, "gap_train", run.gap_train)?;
        ctx.recorder
            .record(&label, config.steps, "gap_test", run.gap_test)?;
        for (l, c) in run.weight_change.iter().enumerate() {
            ctx.recorder
                .record(&label, config.steps, &format!("weight_change_{l}"), *c)?;
        }
        Ok(run)
    }
}

impl Experiment for LazyDrift {
    type Config = LazyDriftConfig;
    type Summary = LazyDriftSummary;
    const NAME: &'static str = "lazy-drift";
    const CLAIM: &'static str = "Wide ReLU networks in NTK parameterization train like their linearization: the \
        empirical NTK drifts less the wider the net, the weights barely move, and the network tracks f_lin.";
    const DTYPE: Precision = Precision::F32;

    /// Fewer points and widths, but every step: the drift slope depends on the training length
    /// (second order in time at first, so about -1 after 200 steps; -0.88 after 1000).
    fn quick() -> toml::Table {
        toml::toml! { n = 64 test_n = 32 widths = [64, 128, 256] alpha_width = 64 }
    }

    fn run(config: &LazyDriftConfig, ctx: &mut RunContext) -> Result<LazyDriftSummary, LabError> {
        let (train, test) = Self::data(config, ctx)?;
        let d = config.dim;
        let batch = Batch {
            x: tensor2_from_host(train.x(), train.len(), d, &ctx.device),
            y: tensor1_from_host(train.y(), &ctx.device),
        };
        let test_x = tensor2_from_host(test.x(), test.len(), d, &ctx.device);
        ctx.set_total_steps(
            (config.steps * (2 * config.widths.len() + config.alphas.len())) as u64,
        );
        let widths = config
            .widths
            .iter()
            .map(|&width| Self::train_width(ctx, config, &batch, &test_x, width))
            .collect::<Result<_, _>>()?;
        let relative_movement = config
            .alphas
            .iter()
            .map(|&alpha| Self::train_alpha(ctx, config, &batch, alpha))
            .collect::<Result<_, _>>()?;
        Ok(LazyDriftSummary {
            widths,
            alpha_sweep: AlphaSweep {
                width: config.alpha_width,
                alpha: config.alphas.clone(),
                relative_movement,
            },
        })
    }

    fn checks(_: &LazyDriftConfig, s: &LazyDriftSummary) -> Vec<Check> {
        let mut checks = width_checks(&s.widths);
        checks.push(alpha_check(&s.alpha_sweep));
        checks
    }

    fn findings(config: &LazyDriftConfig, _: &LazyDriftSummary) -> Vec<String> {
        if config.scale_exponent == 0.0 {
            return Vec::new();
        }
        vec![format!(
            "the width sweep ran at output scale alpha_m = (m / m_min)^-{}: not the NTK parameterization's lazy limit",
            config.scale_exponent
        )]
    }

    fn figures(_: &LazyDriftConfig, s: &LazyDriftSummary, _: &Metrics) -> Vec<Figure> {
        vec![Figure::new(
            "lazy_drift.svg",
            panels(&s.widths, &s.alpha_sweep),
        )]
    }
}

fn against_width(runs: &[WidthSummary], value: impl Fn(&WidthSummary) -> f64) -> Vec<(f64, f64)> {
    runs.iter().map(|r| (r.width as f64, value(r))).collect()
}

/// SCIENCE.md's checks on the width sweep.
fn width_checks(runs: &[WidthSummary]) -> Vec<Check> {
    let mut checks = Vec::new();
    let mismatches: Vec<f64> = runs.iter().map(|r| r.kernel_mismatch).collect();
    let mismatch = max_of("kernel mismatch", &mismatches);
    checks.push(Check::measured(
        "linearized net vs closed-form kernel GD with Theta_0 (largest relative rms difference)",
        mismatch,
        Comparison::AtMost,
        KERNEL_AGREEMENT,
        "the same dynamics, computed two ways (training in f32 against an f64 eigendecomposition)",
    ));
    let drift = loglog_slope(&against_width(runs, |r| r.ntk_drift));
    checks.push(Check::measured(
        "log-log slope of the relative NTK drift vs width (>= -1)",
        drift.clone(),
        Comparison::AtLeast,
        DRIFT_SLOPE.0,
        "SCIENCE.md: in [-1.0, -0.45] (sim -0.78)",
    ));
    checks.push(Check::measured(
        "log-log slope of the relative NTK drift vs width (<= -0.45)",
        drift,
        Comparison::AtMost,
        DRIFT_SLOPE.1,
        "the kernel freezes as the width grows",
    ));
    let layers = runs[0].weight_change.len();
    for l in 0..layers {
        let expected = if l == 0 || l == layers - 1 {
            -0.5
        } else {
            -1.0
        };
        let slope = loglog_slope(&against_width(runs, |r| r.weight_change[l]));
        checks.push(Check::measured(
            format!("layer {} relative weight change: log-log slope vs width (distance from {expected})", l + 1),
            slope.clone().map(|s| (s - expected).abs()),
            Comparison::AtMost,
            LAYER_SLOPE_TOLERANCE,
            format!("slope {:.3}", slope.unwrap_or(f64::NAN)),
        ));
    }
    for (what, value) in [
        ("train", against_width(runs, |r| r.gap_train)),
        ("held-out", against_width(runs, |r| r.gap_test)),
    ] {
        checks.push(Check::measured(
            format!("sup_t rms |f_t - f_lin,t| on {what} points: log-log slope vs width"),
            loglog_slope(&value),
            Comparison::Below,
            0.0,
            format!(
                "the network tracks its linearization better when wider; {}",
                value
                    .iter()
                    .map(|(m, g)| format!("{g:.2e} at {m}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    checks
}

/// Chizat's variant: relative movement against the output scale alpha, slope -1.
fn alpha_check(sweep: &AlphaSweep) -> Check {
    let points = sweep.points();
    let slope = loglog_slope(&points);
    Check::measured(
        format!(
            "width {}: relative weight movement vs output scale alpha, log-log slope (distance from -1)",
            sweep.width
        ),
        slope.clone().map(|s| (s - ALPHA_SLOPE).abs()),
        Comparison::AtMost,
        ALPHA_SLOPE_TOLERANCE,
        format!(
            "Chizat, Oyallon, Bach 2019: training (1/alpha^2) L(f_0 + alpha (f - f_0)) moves the weights like 1/alpha; slope {:.3}; {}",
            slope.unwrap_or(f64::NAN),
            points
                .iter()
                .map(|(a, v)| format!("{v:.2e} at {a}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

fn panels(runs: &[WidthSummary], sweep: &AlphaSweep) -> [Panel; 4] {
    let alphas = sweep.points();
    let panel = |title: &str, y_label: &str, series: Vec<Series>| Panel {
        title: title.into(),
        x_label: "width".into(),
        y_label: y_label.into(),
        log_x: true,
        log_y: true,
        legend: Legend::LowerLeft,
        series,
    };
    let drift = against_width(runs, |r| r.ntk_drift);
    let (m0, v0) = drift[0];
    let reference = drift
        .iter()
        .map(|&(m, _)| (m, v0 * (m / m0).powf(-0.5)))
        .collect();
    let layers = runs[0].weight_change.len();
    [
        panel(
            "NTK drift",
            "||Theta_T - Theta_0||_F / ||Theta_0||_F",
            vec![
                Series::reference("width^(-1/2)", reference),
                Series::line("measured", drift).with_markers(),
            ],
        ),
        panel(
            "Relative weight change",
            "||W_l(T) - W_l(0)||_F / ||W_l(0)||_F",
            (0..layers)
                .map(|l| {
                    Series::line(
                        format!("layer {}", l + 1),
                        against_width(runs, |r| r.weight_change[l]),
                    )
                    .with_markers()
                })
                .collect(),
        ),
        panel(
            "Network vs linearization",
            "sup_t rms |f_t - f_lin,t|",
            vec![
                Series::line("train", against_width(runs, |r| r.gap_train)).with_markers(),
                Series::line("held-out", against_width(runs, |r| r.gap_test)).with_markers(),
            ],
        ),
        Panel {
            title: "Chizat's output scale alpha".into(),
            x_label: "alpha".into(),
            y_label: "||W(T) - W(0)|| / ||W(0)||".into(),
            log_x: true,
            log_y: true,
            legend: Legend::LowerLeft,
            series: vec![
                Series::reference(
                    "1 / alpha",
                    alphas
                        .iter()
                        .map(|&(a, _)| (a, alphas[0].1 * alphas[0].0 / a))
                        .collect(),
                ),
                Series::line("measured", alphas.clone()).with_markers(),
            ],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Verdict;

    /// Three widths whose drift falls like m^-drift_slope, and an alpha sweep falling like
    /// alpha^-alpha_slope.
    fn summary(drift_slope: f64, alpha_slope: f64) -> LazyDriftSummary {
        let width = |m: f64| WidthSummary {
            width: m as usize,
            ntk_drift: m.powf(-drift_slope),
            weight_change: vec![m.powf(-0.5), m.powf(-1.0), m.powf(-0.5)],
            gap_train: 1.0 / m,
            gap_test: 1.0 / m,
            kernel_mismatch: 1e-7,
        };
        let alpha = vec![1.0, 10.0, 100.0];
        LazyDriftSummary {
            widths: vec![width(64.0), width(128.0), width(256.0)],
            alpha_sweep: AlphaSweep {
                width: 64,
                relative_movement: alpha.iter().map(|a: &f64| a.powf(-alpha_slope)).collect(),
                alpha,
            },
        }
    }

    fn failures(s: &LazyDriftSummary) -> usize {
        LazyDrift::checks(&LazyDriftConfig::default(), s)
            .iter()
            .filter(|c| c.verdict != Verdict::Pass)
            .count()
    }

    #[test]
    fn checks_pass_when_lazy_and_fail_when_the_kernel_moves() {
        assert_eq!(failures(&summary(0.78, 1.0)), 0);
        // Mean-field scaling: the kernel keeps moving at every width.
        assert_eq!(failures(&summary(0.1, 1.0)), 1);
        // Movement not like 1/alpha.
        assert_eq!(failures(&summary(0.78, 0.5)), 1);
        // The linearization's training disagreeing with closed-form kernel GD.
        let mut broken = summary(0.78, 1.0);
        broken.widths[1].kernel_mismatch = 1e-3;
        assert_eq!(failures(&broken), 1);
        // A hidden layer moving like width^-1/2 instead of width^-1.
        let mut hidden = summary(0.78, 1.0);
        for w in &mut hidden.widths {
            w.weight_change[1] = (w.width as f64).powf(-0.5);
        }
        assert_eq!(failures(&hidden), 1);
    }
}
