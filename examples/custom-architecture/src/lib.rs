//! A depth-3 bias-free ReLU net, `f(x) = w3 . relu(W2 relu(W1 x))`, homogeneous of degree 3,
//! and an experiment on it: under gradient descent and under sign descent the smoothed margin
//! `l^-1(L) / ||theta||^3` (in the algorithm's norm: l2 for GD, l_inf for sign descent) never
//! decreases once the data are fit (Lyu & Li 2020; Tsilivis, Vardi & Kempe 2024).

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, activation::relu};
use fdl_data::{DigitsTask, digits_split, rng_from_seed};
use fdl_lab::Config;
use fdl_lab::error::LabError;
use fdl_lab::rules::{at_least, positive};
use fdl_lab::stats::{Measured, largest_step_drop};
use fdl_lab::tracking::{Tracking, train_tracked};
use fdl_lab::{Check, Comparison, Experiment, RunContext};
use fdl_models::{Homogeneous, ScalarModel, tensor1_from_host, tensor2_from_host};
use fdl_optim::Trainer;
use fdl_optim::{Batch, Loss, LpGeometry, Method, NormScope, StepRule, StepRuleKind, TrainConfig};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// `f(x) = w3 . relu(W2 relu(W1 x))` with no biases.
#[derive(Module, Debug)]
pub struct Depth3 {
    w1: Param<Tensor<2>>,
    w2: Param<Tensor<2>>,
    w3: Param<Tensor<2>>,
}

impl Depth3 {
    /// Every layer uniform on `+-1/sqrt(fan_in)` (PyTorch's default), input d, hidden width m.
    pub fn init(d: usize, m: usize, rng: &mut impl Rng, device: &Device) -> Self {
        let mut layer = |rows: usize, cols: usize| {
            let bound = 1.0 / (rows as f64).sqrt();
            let w: Vec<f64> = (0..rows * cols)
                .map(|_| rng.random_range(-bound..=bound))
                .collect();
            Param::from_tensor(tensor2_from_host(&w, rows, cols, device))
        };
        Self {
            w1: layer(d, m),
            w2: layer(m, m),
            w3: layer(m, 1),
        }
    }
}

impl ScalarModel for Depth3 {
    fn forward(&self, x: Tensor<2>) -> Tensor<1> {
        let n = x.dims()[0];
        let h = relu(relu(x.matmul(self.w1.val())).matmul(self.w2.val()));
        h.matmul(self.w3.val()).reshape([n])
    }
}

impl Homogeneous for Depth3 {
    fn homogeneity_degree(&self) -> u32 {
        3
    }
}

/// Settings of [`Depth3Margin`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Config)]
#[serde(deny_unknown_fields)]
pub struct Depth3MarginConfig {
    /// Training points from the digits task (0-4 vs 5-9).
    #[config(rule = at_least(2))]
    pub n: usize,
    /// Hidden width of both layers.
    #[config(rule = at_least(1))]
    pub width: usize,
    /// Steps per run.
    #[config(rule = at_least(100))]
    pub steps: usize,
    /// Gradient descent's step on the summed logistic loss.
    #[config(rule = positive())]
    pub gd_step: f64,
    /// Sign descent's step (l_inf steepest descent: `eta ||g||_1 sign(g)`).
    #[config(rule = positive())]
    pub sign_step: f64,
}

impl Default for Depth3MarginConfig {
    fn default() -> Self {
        Self {
            n: 40,
            width: 16,
            steps: 20_000,
            gd_step: 0.01,
            sign_step: 1e-5,
        }
    }
}

/// What each run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Depth3MarginSummary {
    /// `(run, first fit step, largest relative drop of the smoothed margin between probes after
    /// the fit, probes after the fit, final smoothed margin)`, for GD and sign descent.
    pub runs: Vec<(String, Option<usize>, Measured, usize, f64)>,
}

/// The experiment: GD and sign descent on a depth-3 net, smoothed margin after the fit.
pub struct Depth3Margin;

impl Experiment for Depth3Margin {
    type Config = Depth3MarginConfig;
    type Summary = Depth3MarginSummary;
    const NAME: &'static str = "depth3-margin";
    const CLAIM: &'static str = "For a depth-3 bias-free ReLU net (homogeneous of degree 3), the smoothed margin \
        l^-1(L)/||theta||^3 in the optimizer's norm never decreases once the data are fit, under GD and sign descent.";

    fn run(
        config: &Depth3MarginConfig,
        ctx: &mut RunContext,
    ) -> Result<Depth3MarginSummary, LabError> {
        let data = digits_split(DigitsTask::LowVsHigh, 1000)?.train;
        let (n, d) = (config.n.min(data.len()), data.dim());
        let batch = Batch {
            x: tensor2_from_host(&data.x()[..n * d], n, d, &ctx.device),
            y: tensor1_from_host(&data.y()[..n], &ctx.device),
        };
        ctx.set_total_steps(2 * config.steps as u64);
        let mut runs = Vec::new();
        for (label, p, step) in [
            ("gd", 2.0, config.gd_step),
            ("sign", f64::INFINITY, config.sign_step),
        ] {
            let model = Depth3::init(d, config.width, &mut rng_from_seed(ctx.seed), &ctx.device);
            let train = TrainConfig {
                loss: Loss::Logistic,
                step_rule: StepRule::constant(StepRuleKind::Fixed, step),
                steps: config.steps,
                geometry: LpGeometry {
                    p,
                    scope: NormScope::Global,
                },
                method: Method::Steepest,
            };
            let tracking = Tracking::log_spaced(config.steps, 100.0)
                .homogeneous(3.0)
                .margin_in(p);
            let t = train_tracked(
                ctx,
                label,
                &mut Trainer::plain(model),
                &batch,
                &train,
                &tracking,
            )?;
            let smoothed: Vec<f64> = t.after_fit().iter().map(|r| r.smoothed_margin).collect();
            let drop = match t.fit_step {
                Some(_) => largest_step_drop(&smoothed).into(),
                None => Measured::Missing(format!("{label} never fits the data")),
            };
            let last = t.last().map_or(f64::NAN, |r| r.smoothed_margin);
            runs.push((label.to_string(), t.fit_step, drop, smoothed.len(), last));
        }
        Ok(Depth3MarginSummary { runs })
    }

    fn checks(_: &Depth3MarginConfig, s: &Depth3MarginSummary) -> Vec<Check> {
        s.runs
            .iter()
            .map(|(run, _, drop, probes, _)| {
                Check::measured(
                    format!("{run}: largest relative drop of the smoothed margin after the fit"),
                    drop.result(),
                    Comparison::AtMost,
                    0.0,
                    format!(
                        "non-decreasing at {probes} log-spaced probes (Lyu & Li 2020, Thm 4.1)"
                    ),
                )
            })
            .collect()
    }
}
