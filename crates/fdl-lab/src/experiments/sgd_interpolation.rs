//! sgd-interpolation: in the interpolation regime SGD with a constant step converges linearly,
//! like GD, at the rate predicted exactly by its second-moment map, and mini-batches speed it up
//! linearly up to a critical batch size, then saturate (Ma, Bassily, Belkin 2018,
//! arXiv:1712.06559). SCIENCE.md, section A.

use crate::Config;
use crate::cells::run_cells;
use crate::error::{ConfigError, LabError};
use crate::experiment::{Experiment, Figure, RunContext};
use crate::figures::{Legend, Panel, Series};
use crate::recorder::Metrics;
use crate::report::{Check, Comparison};
use crate::rules::{at_least, each, positive};
use crate::stats::Measured;
use burn::tensor::Device;
use faer::Mat;
use faer::linalg::solvers::Solve;
use fdl_analysis::{least_squares_spectrum, sgd_rate};
use fdl_data::{normal_values, rng_from_seed, stream_rng};
use fdl_models::{DeepLinearConfig, tensor1_from_host, tensor2_from_host};
use fdl_optim::{
    Batch, Loss, LpGeometry, Method, Sampling, StepRule, StepRuleKind, TrainConfig, Trainer,
};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// Configuration of sgd-interpolation; the defaults are SCIENCE.md's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Config)]
#[config(check = Self::consistent)]
pub struct SgdInterpolationConfig {
    /// Points, x ~ N(0, I/d), y ~ N(0, 1).
    #[config(rule = at_least(2))]
    pub n: usize,
    /// Dimension d (above n: every target can be fit).
    #[config(rule = at_least(2))]
    pub dim: usize,
    /// Batch sizes m (SGD with replacement); must include 1, the speedups' baseline.
    #[config(rule = each(at_least(1)))]
    pub batches: Vec<usize>,
    /// Runs per batch size (the slopes are of the mean over runs of log L).
    #[config(rule = at_least(2))]
    pub runs: usize,
    /// Epochs (n samples each) per run.
    #[config(rule = at_least(10))]
    pub epochs: usize,
    /// Points of the negative control (more than its dimension: no interpolation).
    #[config(rule = at_least(2))]
    pub control_n: usize,
    /// Dimension of the negative control.
    #[config(rule = at_least(1))]
    pub control_dim: usize,
    /// Label noise of the negative control: y = x . w* + noise eps.
    #[config(rule = positive())]
    pub control_noise: f64,
    /// Epochs of the negative control.
    #[config(rule = at_least(4))]
    pub control_epochs: usize,
}

impl Default for SgdInterpolationConfig {
    fn default() -> Self {
        Self {
            n: 40,
            dim: 160,
            batches: vec![1, 2, 4, 8, 16, 32],
            runs: 40,
            epochs: 400,
            control_n: 160,
            control_dim: 40,
            control_noise: 0.1,
            control_epochs: 300,
        }
    }
}

impl SgdInterpolationConfig {
    fn consistent(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, value: String, allowed: &str| ConfigError::OutOfRange {
            key: key.into(),
            value,
            allowed: allowed.into(),
        };
        if !self.batches.contains(&1) {
            return Err(bad(
                "batches",
                format!("{:?}", self.batches),
                "must include 1 (the baseline of the speedups)",
            ));
        }
        if self.n > self.dim {
            return Err(bad(
                "n",
                self.n.to_string(),
                "at most dim (the interpolation regime)",
            ));
        }
        if self.control_n <= self.control_dim {
            return Err(bad(
                "control_n",
                self.control_n.to_string(),
                "above control_dim (no interpolation)",
            ));
        }
        Ok(())
    }
}

/// SCIENCE.md's thresholds.
const FLOOR: f64 = 1e-20;
const WINDOW: (f64, f64) = (1e-24, 1e-8);
const R2: f64 = 0.999;
const RATE_RATIO: (f64, f64) = (0.95, 1.2);
const OVER_BOUND: f64 = 1.5;
const SPEEDUP_TOLERANCE: f64 = 0.1;
const CONTROL_EXCESS: f64 = 1e-4;

/// What a run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SgdInterpolationSummary {
    /// lambda_max and the smallest non-zero eigenvalue of H = X^T X / n.
    pub spectrum: (f64, f64),
    /// max_i ||x_i||^2.
    pub beta: f64,
    /// One entry per batch size.
    pub batches: Vec<BatchSummary>,
    /// The negative control's smallest excess loss over its last quarter.
    pub control_excess: f64,
}

/// One batch size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSummary {
    /// m.
    pub batch: usize,
    /// eta(m) = m / (beta + (m - 1) lambda_1).
    pub eta: f64,
    /// The predicted per-step rate rho_m.
    pub rho: f64,
    /// Slope per step of the mean over runs of ln L in the window, and its R^2.
    pub slope: Measured,
    /// R^2 of that fit.
    pub r2: Measured,
    /// The largest over runs of min_t L_t / L_0.
    pub worst_floor: f64,
    /// Per run, its own slope per epoch (m = 1 only: against the guaranteed bound).
    pub run_slopes: Vec<Measured>,
}

/// The sgd-interpolation experiment.
pub struct SgdInterpolation;

/// n x d rows ~ N(0, I/d).
fn gaussian_rows(n: usize, d: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    normal_values(n * d, 1.0 / (d as f64).sqrt(), rng)
}

/// ln(L_t / L_0) at every step of SGD (batch m, step eta on the mean loss) from w = 0.
fn log_losses(
    data: (&[f64], &[f64], usize),
    eta: f64,
    batch: usize,
    (steps, seed): (usize, u64),
    device: &Device,
) -> Result<Vec<f64>, LabError> {
    let (x, y, d) = data;
    let n = y.len();
    let batch_data = Batch {
        x: tensor2_from_host(x, n, d, device),
        y: tensor1_from_host(y, device),
    };
    let model = DeepLinearConfig {
        input_dim: d,
        depth: 1,
        width: 1,
        init_std: 0.0,
    }
    .init(&mut rng_from_seed(0), device);
    let config = TrainConfig {
        loss: Loss::Square,
        // The trainer's loss is the sum / 2: eta on the mean is eta / n on the sum.
        step_rule: StepRule::constant(StepRuleKind::Fixed, eta / n as f64),
        steps,
        geometry: LpGeometry::euclidean(),
        method: Method::Steepest,
    };
    let sampling = Sampling::WithReplacement { batch, seed };
    let mut trainer = Trainer::plain(model).sampled(sampling);
    let mut ln = Vec::with_capacity(steps + 1);
    let every: Vec<usize> = (0..=steps).collect();
    trainer
        .run(
            &batch_data,
            &config,
            &every,
            |p| {
                ln.push(p.loss.ln_loss);
                Ok(())
            },
            |_| {},
        )
        .map_err(|source| LabError::Train {
            variant: format!("sgd-b{batch}"),
            source,
        })?;
    let ln0 = ln[0];
    Ok(ln.iter().map(|v| v - ln0).collect())
}

/// The smallest value, or the first reason one is missing.
fn smallest(mut values: impl Iterator<Item = Result<f64, String>>) -> Result<f64, String> {
    values.try_fold(f64::INFINITY, |acc, v| Ok(acc.min(v?)))
}

/// Least-squares slope and R^2 of `points`.
fn fit(points: &[(f64, f64)]) -> Result<(f64, f64), String> {
    let slope = crate::stats::linear_slope(points).map_err(|e| e.to_string())?;
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let total: f64 = points.iter().map(|(_, y)| (y - my).powi(2)).sum();
    let residual: f64 = points
        .iter()
        .map(|(x, y)| (y - my - slope * (x - mx)).powi(2))
        .sum();
    Ok((slope, 1.0 - residual / total))
}

/// The points `(t, ln L_t/L_0)` of a curve inside the fitting window.
fn in_window(curve: &[f64]) -> Vec<(f64, f64)> {
    let (lo, hi) = (WINDOW.0.ln(), WINDOW.1.ln());
    curve
        .iter()
        .enumerate()
        .filter(|(_, v)| (lo..=hi).contains(*v))
        .map(|(t, v)| (t as f64, *v))
        .collect()
}

/// `min_w ||X w - y||^2 / 2n` by the normal equations (X has full column rank).
fn least_squares_loss(x: &[f64], y: &[f64], d: usize) -> f64 {
    let n = y.len();
    let xtx = Mat::from_fn(d, d, |i, j| {
        (0..n).map(|k| x[k * d + i] * x[k * d + j]).sum::<f64>()
    });
    let xty = Mat::from_fn(d, 1, |i, _| {
        (0..n).map(|k| x[k * d + i] * y[k]).sum::<f64>()
    });
    let w = xtx
        .llt(faer::Side::Lower)
        .expect("the control's X^T X is positive definite")
        .solve(&xty);
    (0..n)
        .map(|k| ((0..d).map(|i| x[k * d + i] * w[(i, 0)]).sum::<f64>() - y[k]).powi(2))
        .sum::<f64>()
        / (2 * n) as f64
}

impl Experiment for SgdInterpolation {
    type Config = SgdInterpolationConfig;
    type Summary = SgdInterpolationSummary;
    const NAME: &'static str = "sgd-interpolation";
    const CLAIM: &'static str = "In the interpolation regime SGD with a constant step converges linearly, like GD, at \
        the rate its second-moment map predicts exactly; mini-batches speed it up linearly up to a critical batch \
        size, then saturate (Ma, Bassily, Belkin 2018).";

    fn quick() -> toml::Table {
        toml::toml! { batches = [1, 4, 16] runs = 6 control_epochs = 40 }
    }

    fn run(
        config: &SgdInterpolationConfig,
        ctx: &mut RunContext,
    ) -> Result<SgdInterpolationSummary, LabError> {
        if ctx.data.is_some() {
            return Err(LabError::Usage(
                "sgd-interpolation draws its own Gaussian data; it does not take --data".into(),
            ));
        }
        let (n, d) = (config.n, config.dim);
        let mut rng = stream_rng(ctx.seed, "data", &[]);
        let x = gaussian_rows(n, d, &mut rng);
        let y = normal_values(n, 1.0, &mut rng);
        let (lambda_1, lambda_min) = least_squares_spectrum(&x, d);
        let beta = x
            .chunks(d)
            .map(|r| r.iter().map(|v| v * v).sum::<f64>())
            .fold(0.0, f64::max);
        let eta = |m: usize| m as f64 / (beta + (m as f64 - 1.0) * lambda_1);
        let steps = |m: usize| (config.epochs * n).div_ceil(m);
        let cells: Vec<(usize, usize)> = config
            .batches
            .iter()
            .flat_map(|&m| (0..config.runs).map(move |r| (m, r)))
            .collect();
        ctx.set_total_steps(cells.iter().map(|&(m, _)| steps(m) as u64).sum());
        let (device, progress, seed) = (ctx.device.clone(), ctx.progress().clone(), ctx.seed);
        let curves = ctx.timed("sweep", |_| {
            run_cells(&cells, |&(m, r)| {
                let curve = log_losses(
                    (&x, &y, d),
                    eta(m),
                    m,
                    (steps(m), (seed << 32) | r as u64),
                    &device,
                );
                progress.inc(steps(m) as u64);
                curve
            })
        })?;
        let mut batches = Vec::new();
        for &m in &config.batches {
            let runs: Vec<&Vec<f64>> = cells
                .iter()
                .zip(&curves)
                .filter(|((cm, _), _)| *cm == m)
                .map(|(_, c)| c)
                .collect();
            let mean: Vec<f64> = (0..=steps(m))
                .map(|t| runs.iter().map(|c| c[t]).sum::<f64>() / runs.len() as f64)
                .collect();
            for (t, v) in mean.iter().enumerate().filter(|(t, _)| (t * m) % n < m) {
                ctx.recorder.record(
                    &format!("sgd-b{m}"),
                    t,
                    "mean_log10_loss_ratio",
                    v / std::f64::consts::LN_10,
                )?;
            }
            let fitted = fit(&in_window(&mean));
            let per_epoch = (n as f64) / m as f64;
            batches.push(BatchSummary {
                batch: m,
                eta: eta(m),
                rho: sgd_rate(&x, d, eta(m), m),
                slope: fitted.clone().map(|f| f.0).into(),
                r2: fitted.map(|f| f.1).into(),
                worst_floor: runs
                    .iter()
                    .map(|c| c.iter().copied().fold(f64::INFINITY, f64::min).exp())
                    .fold(0.0, f64::max),
                run_slopes: if m == 1 {
                    runs.iter()
                        .map(|c| fit(&in_window(c)).map(|f| f.0 * per_epoch).into())
                        .collect()
                } else {
                    Vec::new()
                },
            });
        }
        // Negative control: more points than dimensions and noisy labels, nothing to interpolate.
        let (cn, cd) = (config.control_n, config.control_dim);
        let cx = gaussian_rows(cn, cd, &mut rng);
        let teacher = normal_values(cd, 1.0, &mut rng);
        let cy: Vec<f64> = cx
            .chunks(cd)
            .map(|r| {
                r.iter().zip(&teacher).map(|(a, b)| a * b).sum::<f64>()
                    + config.control_noise * Distribution::<f64>::sample(&StandardNormal, &mut rng)
            })
            .collect();
        let c_beta = cx
            .chunks(cd)
            .map(|r| r.iter().map(|v| v * v).sum::<f64>())
            .fold(0.0, f64::max);
        let c_steps = config.control_epochs * cn;
        let ln_ratio = ctx.timed("control", |ctx| {
            log_losses(
                (&cx, &cy, cd),
                1.0 / c_beta,
                1,
                (c_steps, seed << 32),
                &ctx.device,
            )
        })?;
        let l0 = cy.iter().map(|v| v * v).sum::<f64>() / (2 * cn) as f64;
        let floor = least_squares_loss(&cx, &cy, cd);
        let control_excess = ln_ratio[c_steps - c_steps / 4..]
            .iter()
            .map(|v| l0 * v.exp() - floor)
            .fold(f64::INFINITY, f64::min);
        Ok(SgdInterpolationSummary {
            spectrum: (lambda_1, lambda_min),
            beta,
            batches,
            control_excess,
        })
    }

    fn checks(config: &SgdInterpolationConfig, s: &SgdInterpolationSummary) -> Vec<Check> {
        let n = config.n as f64;
        let ratios: Vec<Result<f64, String>> = s
            .batches
            .iter()
            .map(|b| b.slope.result().map(|v| v / b.rho.ln()))
            .collect();
        let fold = |pick: fn(f64, f64) -> f64, start: f64| -> Result<f64, String> {
            ratios
                .iter()
                .try_fold(start, |acc, r| r.clone().map(|v| pick(acc, v)))
        };
        let base = s
            .batches
            .iter()
            .find(|b| b.batch == 1)
            .expect("validated: batch 1");
        let speedup = s
            .batches
            .iter()
            .try_fold(0.0f64, |worst, b| -> Result<f64, String> {
                let measured = b.slope.result()? / base.slope.result()?;
                let predicted = b.rho.ln() / base.rho.ln();
                Ok(worst.max((measured / predicted - 1.0).abs()))
            });
        let bound = n * (1.0 - base.eta * s.spectrum.1).ln();
        let over_bound = smallest(
            base.run_slopes
                .iter()
                .map(|v| v.result().map(|v| v / bound)),
        );
        vec![
            Check::new(
                "every run reaches L/L_0 below 1e-20 (largest final ratio over runs and batch sizes)",
                s.batches.iter().map(|b| b.worst_floor).fold(0.0, f64::max),
                Comparison::AtMost,
                FLOOR,
                format!("{} epochs (sim: worst 2.1e-24)", config.epochs),
            ),
            Check::measured(
                "R^2 of the linear fit of the mean ln L (worst over batch sizes)",
                smallest(s.batches.iter().map(|b| b.r2.result())),
                Comparison::AtLeast,
                R2,
                "linear convergence: ln L falls on a line",
            ),
            Check::measured(
                "measured slope / ln rho_m, smallest over batch sizes",
                fold(f64::min, f64::INFINITY),
                Comparison::AtLeast,
                RATE_RATIO.0,
                "the second-moment map predicts the rate (sim 0.998-1.084)",
            ),
            Check::measured(
                "measured slope / ln rho_m, largest over batch sizes",
                fold(f64::max, f64::NEG_INFINITY),
                Comparison::AtMost,
                RATE_RATIO.1,
                "SCIENCE.md: [0.95, 1.2]",
            ),
            Check::measured(
                "m = 1: slowest run's slope over the guaranteed n ln(1 - eta lambda_min^+)",
                over_bound,
                Comparison::AtLeast,
                OVER_BOUND,
                format!("bound {bound:.4} per epoch (sim: every run >= 1.72x)"),
            ),
            Check::measured(
                "speedup over m = 1 against ln rho_m / ln rho_1 (largest relative miss)",
                speedup,
                Comparison::AtMost,
                SPEEDUP_TOLERANCE,
                "sim -7.2% ... +0.6%",
            ),
            Check::new(
                "negative control (n > d, label noise): smallest excess loss over the last quarter",
                s.control_excess,
                Comparison::AtLeast,
                CONTROL_EXCESS,
                format!(
                    "n = {}, d = {}: no interpolation, SGD with a constant step stalls at a noise floor (sim >= 3.9e-4)",
                    config.control_n, config.control_dim
                ),
            ),
        ]
    }

    fn figures(
        config: &SgdInterpolationConfig,
        s: &SgdInterpolationSummary,
        metrics: &Metrics,
    ) -> Vec<Figure> {
        let n = config.n as f64;
        let mut curves = Panel {
            title: "Mean log10(L / L_0) vs epoch, with the predicted slopes (dashed)".into(),
            x_label: "epoch".into(),
            y_label: "log10(L / L_0)".into(),
            legend: Legend::LowerLeft,
            ..Default::default()
        };
        for b in &s.batches {
            let m = b.batch as f64;
            let points: Vec<(f64, f64)> = metrics
                .series(&format!("sgd-b{}", b.batch), "mean_log10_loss_ratio")
                .into_iter()
                .map(|(t, v)| (t * m / n, v))
                .collect();
            let end = points.last().map_or(0.0, |p| p.0);
            let per_epoch = b.rho.ln() * n / m / std::f64::consts::LN_10;
            curves.series.push(Series::reference(
                format!("rho_{}", b.batch),
                vec![(0.0, 0.0), (end, per_epoch * end)],
            ));
            curves
                .series
                .push(Series::line(format!("m = {}", b.batch), points));
        }
        let base = s.batches.iter().find(|b| b.batch == 1).expect("validated");
        let m_star = s.beta / s.spectrum.0;
        let mut speedup = Panel {
            title: "Speedup per step over m = 1".into(),
            x_label: "batch size m".into(),
            y_label: "speedup".into(),
            log_x: true,
            log_y: true,
            legend: Legend::LowerRight,
            ..Default::default()
        };
        let at = |f: &dyn Fn(&BatchSummary) -> f64| -> Vec<(f64, f64)> {
            s.batches.iter().map(|b| (b.batch as f64, f(b))).collect()
        };
        speedup.series = vec![
            Series::reference("ln rho_m / ln rho_1", at(&|b| b.rho.ln() / base.rho.ln())),
            Series::reference(
                format!("m / (1 + (m - 1)/m*), m* = {m_star:.1}"),
                at(&|b| {
                    let m = b.batch as f64;
                    m / (1.0 + (m - 1.0) / m_star)
                }),
            ),
            Series::line(
                "measured",
                at(&|b| {
                    b.slope.result().unwrap_or(f64::NAN) / base.slope.result().unwrap_or(f64::NAN)
                }),
            )
            .with_markers(),
        ];
        vec![Figure::new("sgd_interpolation.svg", [curves, speedup])]
    }
}
