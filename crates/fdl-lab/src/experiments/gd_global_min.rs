//! gd-global-min: gradient descent on a wide two-layer ReLU net reaches zero training loss at a
//! linear rate while the weights barely move and the Gram matrix H(t) stays near H_inf (Du,
//! Zhai, Poczos, Singh 2018, arXiv:1810.02054). SCIENCE.md, section A.

use crate::Config;
use crate::error::LabError;
use crate::experiment::{Experiment, Figure, RunContext};
use crate::figures::{Legend, Panel, Series};
use crate::recorder::Metrics;
use crate::report::{Check, Comparison};
use crate::rules::{RuleExt, at_least, positive, sweep};
use crate::stats::{self, Measured, loglog_slope};
use crate::tracking::train_probed;
use burn::tensor::Tensor;
use fdl_analysis::{du_kernel, symmetric_eigenvalues};
use fdl_data::{DataError, Dataset, sphere_gaussian_targets, stream_rng};
use fdl_models::{
    OuterLayer, Scaling, TwoLayer, TwoLayerConfig, tensor1_from_host, tensor2_from_host, to_host,
};
use fdl_optim::{
    Batch, Loss, LpGeometry, Method, StepRule, StepRuleKind, TrainConfig, Trainer, log_spaced_steps,
};
use serde::{Deserialize, Serialize};

/// Configuration of gd-global-min; the defaults are SCIENCE.md's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Config)]
pub struct GdGlobalMinConfig {
    /// Number of points on the unit sphere (ignored with `--data`).
    #[config(rule = at_least(2))]
    pub n: usize,
    /// Input dimension (ignored with `--data`).
    #[config(rule = at_least(2))]
    pub dim: usize,
    /// Widths m of the two-layer net.
    #[config(rule = sweep(at_least(1)).because("the checks fit slopes against m"))]
    pub widths: Vec<usize>,
    /// Gradient-descent steps per width.
    #[config(rule = at_least(10))]
    pub steps: usize,
    /// eta as a multiple of 1 / lambda_max(H_inf).
    #[config(rule = positive())]
    pub step_size: f64,
}

impl Default for GdGlobalMinConfig {
    fn default() -> Self {
        Self {
            n: 100,
            dim: 50,
            widths: vec![100, 400, 1600, 6400, 25600],
            steps: 1000,
            step_size: 1.0,
        }
    }
}

/// The gd-global-min experiment.
pub struct GdGlobalMin;

/// Slopes of movement against width the theory predicts (m^{-1/2}) and the allowed deviation.
const SLOPE: f64 = -0.5;
const SLOPE_TOLERANCE: f64 = 0.1;
/// Widths from which lambda_min(H(t)) >= lambda_0 / 2 must hold at every probe (SCIENCE.md).
const MIN_WIDTH_FOR_SPECTRUM: usize = 400;
/// The linear phase: from the step the loss first falls below 1e-2 L(0) to the step it first
/// falls below 1e-8 L(0) (the slowest mode dominates, far above rounding).
const PHASE: (f64, f64) = (1e-2, 1e-8);

/// The largest absolute eigenvalue of a symmetric matrix (its spectral norm).
fn spectral_norm(a: &[f64], n: usize) -> f64 {
    let e = symmetric_eigenvalues(a, n);
    e[0].abs().max(e[n - 1].abs())
}

/// What a run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GdGlobalMinSummary {
    /// Whether the rows came from `--data` (scaled to unit norm).
    pub user_data: bool,
    /// lambda_min(H_inf), the rate the theorem is stated with.
    pub lambda_0: f64,
    /// lambda_max(H_inf).
    pub lambda_max: f64,
    /// The fixed step.
    pub eta: f64,
    /// (1 - eta lambda_0)^2, the infinite-width per-step contraction.
    pub contraction_limit: f64,
    /// One entry per width, in the config's order.
    pub widths: Vec<WidthSummary>,
}

/// What one width measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidthSummary {
    /// The width m.
    pub width: usize,
    /// Per-step contraction of the square loss over the linear phase.
    pub contraction: Measured,
    /// The square loss at step 0 and at the end.
    pub initial_loss: f64,
    /// The final square loss.
    pub final_loss: f64,
    /// Smallest lambda_min(H(t)) over the probes.
    pub lambda_min_over_run: f64,
    /// ||H(0) - H_inf||_2.
    pub h0_minus_h_inf: f64,
    /// The largest ||H(t) - H(0)||_2 over the probes.
    pub max_h_drift: f64,
    /// Final fraction of activation patterns changed.
    pub pattern_change: f64,
    /// max_r ||w_r(T) - w_r(0)||.
    pub max_movement: f64,
    /// ||W(T) - W(0)||_F / ||W(0)||_F.
    pub relative_change: f64,
}

impl GdGlobalMin {
    /// The data (`--data` rows scaled to unit norm), written to dataset.csv.
    fn data(config: &GdGlobalMinConfig, ctx: &mut RunContext) -> Result<Dataset, LabError> {
        let data = match &ctx.data {
            Some(d) => d.with_unit_rows()?,
            None => sphere_gaussian_targets(
                config.n,
                config.dim,
                &mut stream_rng(ctx.seed, "data", &[]),
            ),
        };
        if data.len() < 2 {
            return Err(DataError::Invalid("gd-global-min needs at least 2 points".into()).into());
        }
        ctx.folder.write_dataset("dataset.csv", &data)?;
        Ok(data)
    }

    /// Trains one width with a fixed step `eta`; the loss goes to `metrics.csv` at every step,
    /// the kernel and movement quantities at log-spaced steps.
    fn train_width(
        ctx: &mut RunContext,
        batch: &Batch,
        width: usize,
        eta: f64,
        steps: usize,
        h_inf: &[f64],
    ) -> Result<WidthSummary, LabError> {
        let label = format!("m{width}");
        let dim = batch.x.dims()[1];
        let n = batch.x.dims()[0];
        let model = TwoLayerConfig {
            input_dim: dim,
            width,
            outer: OuterLayer::FixedSigns,
            scaling: Scaling::Ntk,
        }
        .init(
            &mut stream_rng(ctx.seed, "init", &[width as u64]),
            &ctx.device,
        );
        let w0 = model.inner.val().detach();
        let s0 = model.activation_pattern(batch.x.clone());
        let h0 = to_host(
            model
                .ntk(batch.x.clone(), batch.x.clone())
                .flatten::<1>(0, 1),
        );
        let h0_vs_inf: Vec<f64> = h0.iter().zip(h_inf).map(|(a, b)| a - b).collect();
        let w0_norm = to_host(w0.clone().square().sum())[0].sqrt();
        let config = TrainConfig {
            loss: Loss::Square,
            step_rule: StepRule::constant(StepRuleKind::Fixed, eta),
            steps,
            geometry: LpGeometry::euclidean(),
            method: Method::Steepest,
        };
        let every: Vec<usize> = (0..=steps).collect();
        let expensive = log_spaced_steps(steps);
        let mut losses = Vec::with_capacity(steps + 1);
        let mut run = WidthSummary {
            width,
            contraction: Measured::Missing("not trained".into()),
            initial_loss: f64::NAN,
            final_loss: f64::NAN,
            lambda_min_over_run: f64::INFINITY,
            h0_minus_h_inf: spectral_norm(&h0_vs_inf, n),
            max_h_drift: 0.0,
            pattern_change: f64::NAN,
            max_movement: f64::NAN,
            relative_change: f64::NAN,
        };
        let mut trainer = Trainer::plain(model);
        train_probed(ctx, &label, &mut trainer, batch, &config, &every, |p| {
            let loss = p.loss.ln_loss.exp();
            losses.push(loss);
            let mut row = vec![("loss", loss)];
            if expensive.contains(&p.step) {
                let m = measure(p.model, batch, &w0, &s0, &h0, n);
                run.lambda_min_over_run =
                    stats::min_keeping_nan(run.lambda_min_over_run, m.lambda_min);
                run.max_h_drift = run.max_h_drift.max(m.drift);
                (run.pattern_change, run.max_movement) = (m.pattern_change, m.max_movement);
                run.relative_change = m.movement_fro / w0_norm;
                row.extend([
                    ("lambda_min", m.lambda_min),
                    ("h_drift", m.drift),
                    ("pattern_change", m.pattern_change),
                    ("max_movement", m.max_movement),
                    ("relative_change", run.relative_change),
                ]);
            }
            Ok(row)
        })?;
        run.contraction = stats::contraction(&losses, PHASE.0, PHASE.1).into();
        run.initial_loss = losses[0];
        run.final_loss = losses[losses.len() - 1];
        Ok(run)
    }
}

/// The probe quantities of one net at one step.
struct Probed {
    lambda_min: f64,
    drift: f64,
    pattern_change: f64,
    max_movement: f64,
    movement_fro: f64,
}

fn measure(
    model: &TwoLayer,
    batch: &Batch,
    w0: &Tensor<2>,
    s0: &Tensor<2>,
    h0: &[f64],
    n: usize,
) -> Probed {
    let h = to_host(
        model
            .ntk(batch.x.clone(), batch.x.clone())
            .flatten::<1>(0, 1),
    );
    let diff: Vec<f64> = h.iter().zip(h0).map(|(a, b)| a - b).collect();
    let s = model.activation_pattern(batch.x.clone());
    let changed = to_host((s - s0.clone()).abs().mean())[0];
    let delta = (model.inner.val().detach() - w0.clone()).square();
    // Column r of W is w_r: per-neuron movement sums over the input dimension (rows).
    let per_neuron = to_host(delta.clone().sum_dim(0).flatten::<1>(0, 1));
    let max_sq = per_neuron.iter().copied().fold(0.0, f64::max);
    let total: f64 = per_neuron.iter().sum();
    Probed {
        lambda_min: symmetric_eigenvalues(&h, n)[0],
        drift: spectral_norm(&diff, n),
        pattern_change: changed,
        max_movement: max_sq.sqrt(),
        movement_fro: total.sqrt(),
    }
}

impl Experiment for GdGlobalMin {
    type Config = GdGlobalMinConfig;
    type Summary = GdGlobalMinSummary;
    const NAME: &'static str = "gd-global-min";
    const CLAIM: &'static str = "Gradient descent on a wide two-layer ReLU net (square loss, fixed step) reaches zero \
        training loss at a linear rate; the weights move like m^{-1/2} and the Gram matrix stays near H_inf, \
        whose smallest eigenvalue sets the rate.";

    fn quick() -> toml::Table {
        toml::toml! { n = 40 dim = 20 widths = [100, 400, 1600] steps = 300 }
    }

    fn run(
        config: &GdGlobalMinConfig,
        ctx: &mut RunContext,
    ) -> Result<GdGlobalMinSummary, LabError> {
        let data = Self::data(config, ctx)?;
        let (n, d) = (data.len(), data.dim());
        let h_inf = du_kernel(data.x(), data.x(), d);
        let spectrum = symmetric_eigenvalues(&h_inf, n);
        let (lambda_0, lambda_max) = (spectrum[0], spectrum[n - 1]);
        // Relative to lambda_max: rounding leaves a singular H_inf with |lambda_0| ~ 1e-16.
        if lambda_0 <= 1e-12 * lambda_max {
            return Err(DataError::Invalid(format!(
                "H_inf is singular on these data (lambda_0 = {lambda_0:.3e}): two inputs are parallel"
            ))
            .into());
        }
        let eta = config.step_size / lambda_max;
        let batch = Batch {
            x: tensor2_from_host(data.x(), n, d, &ctx.device),
            y: tensor1_from_host(data.y(), &ctx.device),
        };
        ctx.set_total_steps((config.steps * config.widths.len()) as u64);
        let widths = config
            .widths
            .iter()
            .map(|&width| Self::train_width(ctx, &batch, width, eta, config.steps, &h_inf))
            .collect::<Result<_, _>>()?;
        Ok(GdGlobalMinSummary {
            user_data: ctx.data.is_some(),
            lambda_0,
            lambda_max,
            eta,
            contraction_limit: (1.0 - eta * lambda_0).powi(2),
            widths,
        })
    }

    fn checks(_: &GdGlobalMinConfig, s: &GdGlobalMinSummary) -> Vec<Check> {
        let runs = &s.widths;
        let mut checks = Vec::new();
        for (what, value) in [
            (
                "fraction of activation patterns changed",
                (|r| r.pattern_change) as fn(&WidthSummary) -> f64,
            ),
            ("max_r ||w_r(T) - w_r(0)||", |r| r.max_movement),
            ("||W(T) - W(0)||_F / ||W(0)||_F", |r| r.relative_change),
        ] {
            let points = against_width(runs, value);
            let slope = loglog_slope(&points);
            checks.push(Check::measured(
                format!("log-log slope vs m of {what} (distance from -1/2)"),
                slope.clone().map(|s| (s - SLOPE).abs()),
                Comparison::AtMost,
                SLOPE_TOLERANCE,
                format!(
                    "slope {:.3}; values {}",
                    slope.unwrap_or(f64::NAN),
                    points
                        .iter()
                        .map(|(_, v)| format!("{v:.3e}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let lambda_0 = s.lambda_0;
        if runs.iter().all(|r| r.width < MIN_WIDTH_FOR_SPECTRUM) {
            checks.push(Check::undecided(
                "min over probes of lambda_min(H(t)) / lambda_0",
                Comparison::AtLeast,
                0.5,
                format!("no width is {MIN_WIDTH_FOR_SPECTRUM} or more (SCIENCE.md checks every m >= {MIN_WIDTH_FOR_SPECTRUM})"),
            ));
        }
        for r in runs.iter().filter(|r| r.width >= MIN_WIDTH_FOR_SPECTRUM) {
            checks.push(Check::new(
                format!(
                    "m{}: min over probes of lambda_min(H(t)) / lambda_0",
                    r.width
                ),
                r.lambda_min_over_run / lambda_0,
                Comparison::AtLeast,
                0.5,
                format!(
                    "lambda_min {:.4} vs lambda_0 {lambda_0:.4} (Du et al.: H(t) stays near H_inf)",
                    r.lambda_min_over_run
                ),
            ));
        }
        let bound = 1.0 - s.eta * lambda_0 / 2.0;
        let limit = s.contraction_limit;
        for r in runs {
            checks.push(Check::measured(
                format!("m{}: per-step contraction of ||u - y||^2 in the linear phase", r.width),
                r.contraction.result(),
                Comparison::AtMost,
                bound,
                format!("theorem: <= 1 - eta lambda_0 / 2 = {bound:.4}; infinite width: (1 - eta lambda_0)^2 = {limit:.4}"),
            ));
        }
        let (first, last) = (&runs[0], &runs[runs.len() - 1]);
        let name = format!(
            "contraction approaches (1 - eta lambda_0)^2 with width: |c(m{}) - limit| / |c(m{}) - limit|",
            last.width, first.width
        );
        checks.push(
            match (first.contraction.result(), last.contraction.result()) {
                (Ok(c_first), Ok(c_last)) => Check::new(
                    name,
                    (c_last - limit).abs() / (c_first - limit).abs(),
                    Comparison::Below,
                    1.0,
                    format!(
                        "c = {c_first:.4} at m = {}, {c_last:.4} at m = {}; limit {limit:.4}",
                        first.width, last.width
                    ),
                ),
                (Err(e), _) | (_, Err(e)) => Check::measured(
                    name,
                    Err::<f64, _>(e),
                    Comparison::Below,
                    1.0,
                    format!("limit {limit:.4}"),
                ),
            },
        );
        checks
    }

    fn findings(_: &GdGlobalMinConfig, s: &GdGlobalMinSummary) -> Vec<String> {
        let mut findings = Vec::new();
        if s.user_data {
            findings.push("the input rows of the data file were scaled to unit norm (Du et al.'s setting); dataset.csv holds the scaled rows".into());
        }
        let limit = s.contraction_limit;
        let below: Vec<String> = s
            .widths
            .iter()
            .filter_map(|r| r.contraction.result().ok().map(|c| (r.width, c)))
            .filter(|(_, c)| *c < limit)
            .map(|(width, c)| format!("m{width} ({c:.4})"))
            .collect();
        if !below.is_empty() {
            findings.push(format!(
                "contraction below (1 - eta lambda_0)^2 = {limit:.4} for {}: over a finite window the per-step ratio is a weighted mean of (1 - eta lambda_i)^2 over all eigenmodes, so the kernel regime approaches the limit from below.",
                below.join(", ")
            ));
        }
        findings
    }

    /// The paper's panels: loss vs step per width, pattern changes and max movement vs width.
    fn figures(_: &GdGlobalMinConfig, s: &GdGlobalMinSummary, metrics: &Metrics) -> Vec<Figure> {
        let mut loss = Panel {
            title: "Training loss".into(),
            x_label: "step".into(),
            y_label: "||u - y||^2 / 2".into(),
            log_y: true,
            legend: Legend::UpperRight,
            ..Default::default()
        };
        for r in &s.widths {
            loss.series.push(Series::line(
                format!("m = {}", r.width),
                metrics.series(&format!("m{}", r.width), "loss"),
            ));
        }
        let panels = [
            loss,
            against_width_panel(
                &s.widths,
                "Activation patterns changed",
                "fraction changed",
                |r| r.pattern_change,
            ),
            against_width_panel(
                &s.widths,
                "Max neuron movement",
                "max_r ||w_r(T) - w_r(0)||",
                |r| r.max_movement,
            ),
        ];
        vec![Figure::new("gd_global_min.svg", panels)]
    }
}

/// `(m, value)` per width.
fn against_width(runs: &[WidthSummary], value: fn(&WidthSummary) -> f64) -> Vec<(f64, f64)> {
    runs.iter().map(|r| (r.width as f64, value(r))).collect()
}

/// A quantity against the width on log-log axes, with the m^{-1/2} reference through the first
/// point.
fn against_width_panel(
    runs: &[WidthSummary],
    title: &str,
    y_label: &str,
    value: fn(&WidthSummary) -> f64,
) -> Panel {
    let points = against_width(runs, value);
    let slope = loglog_slope(&points).unwrap_or(f64::NAN);
    let (m0, v0) = points[0];
    let reference = points
        .iter()
        .map(|&(m, _)| (m, v0 * (m / m0).powf(SLOPE)))
        .collect();
    Panel {
        title: title.into(),
        x_label: "width m".into(),
        y_label: y_label.into(),
        log_x: true,
        log_y: true,
        legend: Legend::UpperRight,
        series: vec![
            Series::reference("m^(-1/2)", reference),
            Series::line(format!("measured (slope {slope:.2})"), points).with_markers(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Verdict;

    /// Widths 400 and 1600 moving like m^-slope, with the given contractions.
    fn summary(slope: f64, contraction: [f64; 2]) -> GdGlobalMinSummary {
        let width = |width: usize, c: f64| WidthSummary {
            width,
            contraction: Measured::Value(c),
            initial_loss: 50.0,
            final_loss: 1e-12,
            lambda_min_over_run: 0.09,
            h0_minus_h_inf: 0.01,
            max_h_drift: 0.001,
            pattern_change: (width as f64).powf(-slope),
            max_movement: (width as f64).powf(-slope),
            relative_change: (width as f64).powf(-slope),
        };
        GdGlobalMinSummary {
            user_data: false,
            lambda_0: 0.1,
            lambda_max: 1.0,
            eta: 1.0,
            contraction_limit: 0.81,
            widths: vec![width(400, contraction[0]), width(1600, contraction[1])],
        }
    }

    fn failures(s: &GdGlobalMinSummary) -> Vec<String> {
        GdGlobalMin::checks(&GdGlobalMinConfig::default(), s)
            .into_iter()
            .filter(|c| c.verdict != Verdict::Pass)
            .map(|c| c.name)
            .collect()
    }

    #[test]
    fn checks_pass_in_the_kernel_regime_and_fail_off_it() {
        assert!(failures(&summary(0.5, [0.85, 0.82])).is_empty());
        // Weights moving like 1/m are not Du et al.'s regime.
        assert_eq!(failures(&summary(1.0, [0.85, 0.82])).len(), 3);
        // A contraction above 1 - eta lambda_0 / 2 = 0.95, and moving away from the limit.
        let slow = failures(&summary(0.5, [0.85, 0.97]));
        assert_eq!(slow.len(), 2, "{slow:?}");
        // H(t) losing half its smallest eigenvalue at a width >= 400.
        let mut drifted = summary(0.5, [0.85, 0.82]);
        drifted.widths[1].lambda_min_over_run = 0.04;
        assert_eq!(
            failures(&drifted),
            ["m1600: min over probes of lambda_min(H(t)) / lambda_0"]
        );
    }
}
