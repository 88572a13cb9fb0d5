//! gd-global-min: gradient descent on a wide two-layer ReLU net reaches zero training loss at a
//! linear rate while the weights barely move and the Gram matrix H(t) stays near H_inf (Du,
//! Zhai, Poczos, Singh 2018, arXiv:1810.02054). SCIENCE.md, section A.

use crate::device::Precision;
use crate::error::{ConfigError, LabError};
use crate::experiment::{ExperimentSpec, RunContext, Validate};
use crate::figures::{Legend, Panel, Series, save_svg};
use crate::report::{Check, Comparison, Report};
use crate::require::{require_at_least, require_positive, require_sweep};
use crate::stats::{self, StatError, loglog_slope};
use burn::tensor::Tensor;
use fdl_analysis::{du_kernel, symmetric_eigenvalues};
use fdl_data::{DataError, Dataset, rng_from_seed, sphere_gaussian_targets};
use fdl_models::{
    OuterLayer, Scaling, TwoLayer, TwoLayerConfig, tensor1_from_host, tensor2_from_host, to_host,
};
use fdl_optim::{
    Batch, Loss, LpGeometry, Method, StepRule, StepRuleKind, TrainConfig, Trainer, log_spaced_steps,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Configuration of gd-global-min; the defaults are SCIENCE.md's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GdGlobalMinConfig {
    /// Number of points on the unit sphere (ignored with `--data`).
    pub n: usize,
    /// Input dimension (ignored with `--data`).
    pub dim: usize,
    /// Widths m of the two-layer net.
    pub widths: Vec<usize>,
    /// Gradient-descent steps per width.
    pub steps: usize,
    /// eta as a multiple of 1 / lambda_max(H_inf).
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

impl Validate for GdGlobalMinConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        require_at_least("n", self.n, 2, "at least 2 points")?;
        require_at_least("dim", self.dim, 2, "D >= 2")?;
        require_at_least("steps", self.steps, 10, "at least 10 steps")?;
        require_positive("step_size", self.step_size)?;
        require_sweep(
            "widths",
            &self.widths,
            |&m| m > 0,
            "at least two positive widths (the checks fit slopes against m)",
        )
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

/// Per-step contraction of the square loss over the linear phase of `losses` (one value per
/// step), or why there is none.
fn contraction(losses: &[f64]) -> Result<f64, StatError> {
    stats::contraction(losses, PHASE.0, PHASE.1)
}

/// What one width measured.
struct WidthRun {
    width: usize,
    losses: Vec<f64>,
    /// Smallest lambda_min(H(t)) over the probes.
    lambda_min: f64,
    /// ||H(0) - H_inf||_2 and the largest ||H(t) - H(0)||_2.
    h0_vs_inf: f64,
    drift: f64,
    /// Final fraction of activation patterns changed, max_r ||w_r(T) - w_r(0)||,
    /// ||W(T) - W(0)||_F / ||W(0)||_F.
    pattern_change: f64,
    max_movement: f64,
    relative_change: f64,
}

impl GdGlobalMin {
    /// The data (`--data` rows scaled to unit norm), written to dataset.csv.
    fn data(config: &GdGlobalMinConfig, ctx: &mut RunContext) -> Result<Dataset, LabError> {
        let data = match &ctx.data {
            Some(d) => d.with_unit_rows()?,
            None => sphere_gaussian_targets(config.n, config.dim, &mut rng_from_seed(ctx.seed)),
        };
        if data.len() < 2 {
            return Err(DataError::Invalid("gd-global-min needs at least 2 points".into()).into());
        }
        ctx.folder.write_dataset("dataset.csv", &data)?;
        Ok(data)
    }

    /// Trains one width with a fixed step `eta` and records its probes.
    fn train_width(
        ctx: &mut RunContext,
        batch: &Batch,
        width: usize,
        eta: f64,
        steps: usize,
        h_inf: &[f64],
    ) -> Result<WidthRun, LabError> {
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
            &mut rng_from_seed(ctx.seed.wrapping_add(width as u64)),
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
        let mut run = WidthRun {
            width,
            losses: Vec::with_capacity(steps + 1),
            lambda_min: f64::INFINITY,
            h0_vs_inf: spectral_norm(&h0_vs_inf, n),
            drift: 0.0,
            pattern_change: f64::NAN,
            max_movement: f64::NAN,
            relative_change: f64::NAN,
        };
        ctx.timed(&label, |ctx| {
            let progress = ctx.progress().clone();
            let recorder = &mut ctx.recorder;
            let mut trainer = Trainer::plain(model);
            trainer
                .run(
                    batch,
                    &config,
                    &every,
                    |p| {
                        let loss = p.loss.ln_loss.exp();
                        run.losses.push(loss);
                        if !expensive.contains(&p.step) {
                            return Ok(());
                        }
                        let m = measure(p.model, batch, &w0, &s0, &h0, n);
                        run.lambda_min = stats::min_keeping_nan(run.lambda_min, m.lambda_min);
                        run.drift = run.drift.max(m.drift);
                        (run.pattern_change, run.max_movement) = (m.pattern_change, m.max_movement);
                        run.relative_change = m.movement_fro / w0_norm;
                        for (metric, value) in [
                            ("loss", loss),
                            ("lambda_min", m.lambda_min),
                            ("h_drift", m.drift),
                            ("pattern_change", m.pattern_change),
                            ("max_movement", m.max_movement),
                            ("relative_change", run.relative_change),
                        ] {
                            recorder
                                .record(&label, p.step, metric, value)
                                .map_err(|e| e.to_string())?;
                        }
                        recorder.flush().map_err(|e| e.to_string())
                    },
                    |_| progress.inc(1),
                )
                .map_err(|source| LabError::Train {
                    variant: label.clone(),
                    source,
                })
        })?;
        Ok(run)
    }
}

/// The probe quantities of one net at one step.
struct Measured {
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
) -> Measured {
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
    Measured {
        lambda_min: symmetric_eigenvalues(&h, n)[0],
        drift: spectral_norm(&diff, n),
        pattern_change: changed,
        max_movement: max_sq.sqrt(),
        movement_fro: total.sqrt(),
    }
}

impl ExperimentSpec for GdGlobalMin {
    type Config = GdGlobalMinConfig;
    const NAME: &'static str = "gd-global-min";
    const CLAIM: &'static str = "Gradient descent on a wide two-layer ReLU net (square loss, fixed step) reaches zero \
        training loss at a linear rate; the weights move like m^{-1/2} and the Gram matrix stays near H_inf, \
        whose smallest eigenvalue sets the rate.";
    const DTYPE: Precision = Precision::F64;

    fn quick() -> toml::Table {
        toml::toml! { n = 40 dim = 20 widths = [100, 400, 1600] steps = 300 }
    }

    fn run(config: GdGlobalMinConfig, ctx: &mut RunContext) -> Result<Report, LabError> {
        let data = Self::data(&config, ctx)?;
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
        let mut runs = Vec::new();
        for &width in &config.widths {
            runs.push(Self::train_width(
                ctx,
                &batch,
                width,
                eta,
                config.steps,
                &h_inf,
            )?);
        }
        ctx.finish_progress();
        let mut report = Report::new(Self::NAME, Self::CLAIM);
        if ctx.data.is_some() {
            report.finding("the input rows of the data file were scaled to unit norm (Du et al.'s setting); dataset.csv holds the scaled rows");
        }
        check(&mut report, &runs, lambda_0, eta);
        report.headline("lambda_0", json!(lambda_0));
        report.headline("lambda_max", json!(lambda_max));
        report.headline("eta", json!(eta));
        report.headline("contraction_limit", json!((1.0 - eta * lambda_0).powi(2)));
        for r in &runs {
            report.headline(
                &format!("m{}", r.width),
                json!({
                    "contraction": contraction(&r.losses).ok(),
                    "final_loss": r.losses.last(),
                    "initial_loss": r.losses.first(),
                    "lambda_min_over_run": r.lambda_min,
                    "h0_minus_h_inf": r.h0_vs_inf,
                    "max_h_drift": r.drift,
                    "pattern_change": r.pattern_change,
                    "max_movement": r.max_movement,
                    "relative_change": r.relative_change,
                }),
            );
        }
        report.figures = vec![draw(ctx, &runs)?];
        Ok(report)
    }
}

/// SCIENCE.md's checks.
fn check(report: &mut Report, runs: &[WidthRun], lambda_0: f64, eta: f64) {
    let widths: Vec<f64> = runs.iter().map(|r| r.width as f64).collect();
    for (what, values) in [
        (
            "fraction of activation patterns changed",
            runs.iter().map(|r| r.pattern_change).collect::<Vec<_>>(),
        ),
        (
            "max_r ||w_r(T) - w_r(0)||",
            runs.iter().map(|r| r.max_movement).collect(),
        ),
        (
            "||W(T) - W(0)||_F / ||W(0)||_F",
            runs.iter().map(|r| r.relative_change).collect(),
        ),
    ] {
        let points: Vec<(f64, f64)> = widths.iter().copied().zip(values.iter().copied()).collect();
        let slope = loglog_slope(&points);
        report.check(Check::measured(
            format!("log-log slope vs m of {what} (distance from -1/2)"),
            slope.clone().map(|s| (s - SLOPE).abs()),
            Comparison::AtMost,
            SLOPE_TOLERANCE,
            format!(
                "slope {:.3}; values {}",
                slope.unwrap_or(f64::NAN),
                values
                    .iter()
                    .map(|v| format!("{v:.3e}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if runs.iter().all(|r| r.width < MIN_WIDTH_FOR_SPECTRUM) {
        report.check(Check::undecided(
            "min over probes of lambda_min(H(t)) / lambda_0",
            Comparison::AtLeast,
            0.5,
            format!("no width is {MIN_WIDTH_FOR_SPECTRUM} or more (SCIENCE.md checks every m >= {MIN_WIDTH_FOR_SPECTRUM})"),
        ));
    }
    for r in runs.iter().filter(|r| r.width >= MIN_WIDTH_FOR_SPECTRUM) {
        report.check(Check::new(
            format!(
                "m{}: min over probes of lambda_min(H(t)) / lambda_0",
                r.width
            ),
            r.lambda_min / lambda_0,
            Comparison::AtLeast,
            0.5,
            format!(
                "lambda_min {:.4} vs lambda_0 {lambda_0:.4} (Du et al.: H(t) stays near H_inf)",
                r.lambda_min
            ),
        ));
    }
    let bound = 1.0 - eta * lambda_0 / 2.0;
    let limit = (1.0 - eta * lambda_0).powi(2);
    for r in runs {
        report.check(Check::measured(
            format!("m{}: per-step contraction of ||u - y||^2 in the linear phase", r.width),
            contraction(&r.losses),
            Comparison::AtMost,
            bound,
            format!("theorem: <= 1 - eta lambda_0 / 2 = {bound:.4}; infinite width: (1 - eta lambda_0)^2 = {limit:.4}"),
        ));
    }
    let below: Vec<String> = runs
        .iter()
        .filter_map(|r| contraction(&r.losses).ok().map(|c| (r.width, c)))
        .filter(|(_, c)| *c < limit)
        .map(|(width, c)| format!("m{width} ({c:.4})"))
        .collect();
    if !below.is_empty() {
        report.finding(format!(
            "contraction below (1 - eta lambda_0)^2 = {limit:.4} for {}: over a finite window the per-step ratio is a weighted mean of (1 - eta lambda_i)^2 over all eigenmodes, so the kernel regime approaches the limit from below.",
            below.join(", ")
        ));
    }
    let (first, last) = (&runs[0], &runs[runs.len() - 1]);
    let name = format!(
        "contraction approaches (1 - eta lambda_0)^2 with width: |c(m{}) - limit| / |c(m{}) - limit|",
        last.width, first.width
    );
    match (contraction(&first.losses), contraction(&last.losses)) {
        (Ok(c_first), Ok(c_last)) => report.check(Check::new(
            name,
            (c_last - limit).abs() / (c_first - limit).abs(),
            Comparison::Below,
            1.0,
            format!(
                "c = {c_first:.4} at m = {}, {c_last:.4} at m = {}; limit {limit:.4}",
                first.width, last.width
            ),
        )),
        (Err(e), _) | (_, Err(e)) => report.check(Check::measured(
            name,
            Err::<f64, _>(e),
            Comparison::Below,
            1.0,
            format!("limit {limit:.4}"),
        )),
    }
}

/// The paper's panels: loss vs step per width, pattern changes and max movement vs width.
fn draw(ctx: &RunContext, runs: &[WidthRun]) -> Result<String, LabError> {
    let mut loss = Panel {
        title: "Training loss".into(),
        x_label: "step".into(),
        y_label: "||u - y||^2 / 2".into(),
        log_y: true,
        legend: Legend::UpperRight,
        ..Default::default()
    };
    for r in runs {
        let points = r
            .losses
            .iter()
            .enumerate()
            .map(|(t, &l)| (t as f64, l))
            .collect();
        loss.series
            .push(Series::line(format!("m = {}", r.width), points));
    }
    let against_width = |title: &str, y_label: &str, value: &dyn Fn(&WidthRun) -> f64| {
        let points: Vec<(f64, f64)> = runs.iter().map(|r| (r.width as f64, value(r))).collect();
        let slope = loglog_slope(&points).unwrap_or(f64::NAN);
        // The m^{-1/2} reference through the first point.
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
    };
    let panels = [
        loss,
        against_width("Activation patterns changed", "fraction changed", &|r| {
            r.pattern_change
        }),
        against_width("Max neuron movement", "max_r ||w_r(T) - w_r(0)||", &|r| {
            r.max_movement
        }),
    ];
    let file = "figures/gd_global_min.svg";
    save_svg(&ctx.folder.staging().join(file), &panels)?;
    Ok(file.into())
}
