//! depth-linear: fully connected deep linear nets converge in direction to the l2 max margin for
//! every depth, each layer becoming rank one and aligned with its neighbours (Gunasekar et al.
//! NeurIPS 2018, arXiv:1806.00468; Ji & Telgarsky 2019, arXiv:1810.02032). SCIENCE.md, section C.

use super::implicit_bias::{LinearTraining, Yardstick, linear_data, train_linear};
use crate::Config;
use crate::error::LabError;
use crate::experiment::{Experiment, Figure, RunContext};
use crate::figures::{Legend, Panel, Series};
use crate::recorder::{Metrics, predictors_csv};
use crate::report::{Check, Comparison};
use crate::rules::{at_least, each, positive, within};
use crate::stats::max_of;
use crate::tracking::train_probed;
use faer::Mat;
use fdl_analysis::{SolveStatus, cosine, l2_max_margin, normalized_margin_l2, top_singular};
use fdl_data::{gaussian_random_labels, stream_rng};
use fdl_models::{DeepLinear, DeepLinearConfig, to_host};
use fdl_optim::{LpGeometry, Method, StepRule, StepRuleKind, TrainConfig, Trainer};
use serde::{Deserialize, Serialize};

/// Configuration of depth-linear; the defaults reproduce the lecture's claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Config)]
pub struct DepthLinearConfig {
    /// Data, initialisation, loss and step rule.
    #[config(nested)]
    pub training: LinearTraining,
    /// Depths L.
    #[config(rule = each(within(1..=16)))]
    pub depths: Vec<usize>,
    /// Hidden width.
    #[config(rule = at_least(1))]
    pub width: usize,
    /// Steps of the small-step run that checks the conservation law.
    #[config(rule = at_least(1))]
    pub conservation_steps: usize,
    /// Fixed step size of that run.
    #[config(rule = positive())]
    pub conservation_step_size: f64,
}

impl Default for DepthLinearConfig {
    fn default() -> Self {
        Self {
            training: LinearTraining::default(),
            depths: vec![1, 2, 3, 4],
            width: 16,
            conservation_steps: 8000,
            conservation_step_size: 2e-6,
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepthLinearSummary {
    /// The l2 SVM's margin.
    pub l2_svm_margin: f64,
    /// The l2 SVM solve.
    pub l2_svm: SolveStatus,
    /// One entry per depth.
    pub per_depth: Vec<DepthSummary>,
}

/// One depth's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepthSummary {
    /// Depth L.
    pub depth: usize,
    /// cos(beta, l2 SVM).
    pub cos_l2_svm: f64,
    /// The l2 normalized margin of beta.
    pub normalized_margin_l2: f64,
    /// `min_k ||W_k||_2 / ||W_k||_F` (depth >= 2).
    pub rank_one_ratio_min: Option<f64>,
    /// `min_k |<v_k, u_{k+1}>|` (depth >= 2).
    pub adjacent_alignment_min: Option<f64>,
    /// Largest relative change of the balancedness matrices over the small-step run (depth >= 2).
    pub conservation_drift: Option<f64>,
    /// Relative change of the weights over that run.
    pub conservation_weight_change: Option<f64>,
}

impl DepthSummary {
    fn label(&self) -> String {
        format!("fc-L{}", self.depth)
    }
}

/// The depth-linear experiment.
pub struct DepthLinear;

/// Thresholds from SCIENCE.md (depth-linear, Checks).
const COS_SVM: f64 = 0.999;
const ALIGNMENT: f64 = 0.99;
const CONSERVATION: f64 = 1e-6;
/// The conservation run must move the weights at least this much (relative) to test the law.
const MIN_CONSERVATION_MOVE: f64 = 1e-3;

/// A layer as a faer matrix `[in, out]`.
fn layer_matrices(model: &DeepLinear) -> Vec<Mat<f64>> {
    model
        .layers
        .iter()
        .map(|w| {
            let dims = w.val().dims();
            let v = to_host(w.val());
            Mat::from_fn(dims[0], dims[1], |i, j| v[i * dims[1] + j])
        })
        .collect()
}

/// `min_k ||W_k||_2 / ||W_k||_F` and `min_k |<v_k, u_{k+1}>|` (top right singular vector of a
/// layer against the top left one of the next): both tend to 1 as the net aligns.
fn alignment(model: &DeepLinear) -> Vec<(&'static str, f64)> {
    let tops: Vec<_> = layer_matrices(model)
        .iter()
        .map(|m| {
            let flat: Vec<f64> = (0..m.nrows())
                .flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)]))
                .collect();
            top_singular(&flat, m.nrows(), m.ncols())
        })
        .collect();
    if tops.len() < 2 {
        return Vec::new();
    }
    let rank_one = tops
        .iter()
        .map(|t| t.sigma / t.frobenius)
        .fold(f64::INFINITY, f64::min);
    let adjacent = tops
        .windows(2)
        .map(|w| fdl_analysis::dot(&w[0].right, &w[1].left).abs())
        .fold(f64::INFINITY, f64::min);
    vec![
        ("rank_one_ratio_min", rank_one),
        ("adjacent_alignment_min", adjacent),
    ]
}

/// `W_{k+1} W_{k+1}^T - W_k^T W_k` for every adjacent pair (conserved by gradient flow; with
/// layers `[in, out]` this is the transpose form of Arora et al.'s balancedness).
fn balance(layers: &[Mat<f64>]) -> Vec<(Mat<f64>, f64)> {
    layers
        .windows(2)
        .map(|w| {
            let next = &w[1] * w[1].transpose();
            let prev = w[0].transpose() * &w[0];
            let scale = next.norm_l2().max(prev.norm_l2());
            (next - prev, scale)
        })
        .collect()
}

impl Experiment for DepthLinear {
    type Config = DepthLinearConfig;
    type Summary = DepthLinearSummary;
    const NAME: &'static str = "depth-linear";
    const CLAIM: &'static str = "Fully connected deep linear nets trained by GD on separable data converge in \
        direction to the l2 max-margin predictor for every depth; each layer becomes rank one and aligns with \
        its neighbours.";

    fn quick() -> toml::Table {
        toml::toml! {
            conservation_steps = 2000
            [training]
            steps = 5000
        }
    }

    fn run(
        config: &DepthLinearConfig,
        ctx: &mut RunContext,
    ) -> Result<DepthLinearSummary, LabError> {
        let setup = linear_data(ctx, |rng| {
            gaussian_random_labels(config.training.n, config.training.dim, rng)
        })?;
        let d = setup.dim();
        let svm = l2_max_margin(&setup.z, d)?;
        let train = config.training.train_config();
        let small = TrainConfig {
            loss: config.training.loss,
            step_rule: StepRule::constant(StepRuleKind::Fixed, config.conservation_step_size),
            steps: config.conservation_steps,
            geometry: LpGeometry::euclidean(),
            method: Method::Steepest,
        };
        ctx.set_total_steps(
            ((config.training.steps + config.conservation_steps) * config.depths.len()) as u64,
        );
        let mut rng = stream_rng(ctx.seed, "init", &[]);
        let mut per_depth = Vec::new();
        let mut rows: Vec<(String, Vec<f64>)> = Vec::new();
        for &depth in &config.depths {
            let model = DeepLinearConfig {
                input_dim: d,
                depth,
                width: config.width,
                init_std: config.training.init_std,
            }
            .init(&mut rng, &ctx.device);
            let initial = model.clone();
            let own = |b: &[f64]| normalized_margin_l2(&setup.z, b);
            let yard = Yardstick {
                reference: Some(&svm.beta),
                own_margin: &own,
            };
            let label = format!("fc-L{depth}");
            let t = train_linear(ctx, &label, model, &setup, &train, &yard, &alignment)?;
            let aligned = alignment(&t.model);
            let find = |key: &str| aligned.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
            let (drift, moved) = if depth >= 2 {
                let (drift, moved) = conservation(ctx, &label, initial, &setup.batch, &small)?;
                (Some(drift), Some(moved))
            } else {
                (None, None)
            };
            per_depth.push(DepthSummary {
                depth,
                cos_l2_svm: cosine(&t.beta, &svm.beta),
                normalized_margin_l2: normalized_margin_l2(&setup.z, &t.beta),
                rank_one_ratio_min: find("rank_one_ratio_min"),
                adjacent_alignment_min: find("adjacent_alignment_min"),
                conservation_drift: drift,
                conservation_weight_change: moved,
            });
            rows.push((label, t.beta));
        }
        rows.push(("ref-l2-svm".into(), svm.beta.clone()));
        ctx.folder.write("predictors.csv", predictors_csv(&rows))?;
        Ok(DepthLinearSummary {
            l2_svm_margin: svm.margin,
            l2_svm: svm.status,
            per_depth,
        })
    }

    fn checks(config: &DepthLinearConfig, s: &DepthLinearSummary) -> Vec<Check> {
        let mut checks = Vec::new();
        for t in &s.per_depth {
            let label = t.label();
            checks.push(
                Check::new(
                    format!("{label} cos(beta, l2 SVM)"),
                    t.cos_l2_svm,
                    Comparison::AtLeast,
                    COS_SVM,
                    "every depth gives the l2 max margin",
                )
                .against("l2 SVM", &s.l2_svm),
            );
            let aligned = [
                ("min_k ||W_k||_2/||W_k||_F", t.rank_one_ratio_min),
                ("min_k |<v_k, u_k+1>|", t.adjacent_alignment_min),
            ];
            for (what, value) in aligned {
                if let Some(value) = value {
                    checks.push(Check::new(
                        format!("{label} {what}"),
                        value,
                        Comparison::AtLeast,
                        ALIGNMENT,
                        "layers become rank one and align",
                    ));
                }
            }
            if let (Some(drift), Some(moved)) = (t.conservation_drift, t.conservation_weight_change)
            {
                let name = format!("{label} balancedness drift (small steps)");
                let note = format!(
                    "max_k ||Delta(W_k+1 W_k+1^T - W_k^T W_k)||_F / ||terms||_F over {} GD steps of {}; weights moved {moved:.2e} relative",
                    config.conservation_steps, config.conservation_step_size
                );
                checks.push(if moved < MIN_CONSERVATION_MOVE {
                    // Weights that barely move conserve everything: no test of the law.
                    Check::undecided(
                        name,
                        Comparison::AtMost,
                        CONSERVATION,
                        format!("the weights moved only {moved:.1e} (< {MIN_CONSERVATION_MOVE:.0e}), too little to test the law; {note}"),
                    )
                } else {
                    Check::new(name, drift, Comparison::AtMost, CONSERVATION, note)
                });
            }
        }
        checks
    }

    fn references(s: &DepthLinearSummary) -> Vec<(String, SolveStatus)> {
        vec![("l2 SVM (QP)".into(), s.l2_svm.clone())]
    }

    fn figures(_: &DepthLinearConfig, s: &DepthLinearSummary, metrics: &Metrics) -> Vec<Figure> {
        vec![Figure::new("alignment.svg", figures(s, metrics))]
    }
}

/// Runs small fixed GD steps from the initial weights and returns the largest relative change of
/// the balancedness matrices and the relative change of the weights (to show they moved).
fn conservation(
    ctx: &mut RunContext,
    label: &str,
    initial: DeepLinear,
    batch: &fdl_optim::Batch,
    config: &TrainConfig,
) -> Result<(f64, f64), LabError> {
    let before = layer_matrices(&initial);
    let mut trainer = Trainer::plain(initial);
    let label = format!("{label} (small steps)");
    train_probed(ctx, &label, &mut trainer, batch, config, &[], |_| {
        Ok(Vec::new())
    })?;
    let after = layer_matrices(trainer.model());
    let drifts: Vec<f64> = balance(&before)
        .iter()
        .zip(balance(&after))
        .map(|((b0, _), (b1, scale))| (b1 - b0).norm_l2() / scale)
        .collect();
    let moves: Vec<f64> = before
        .iter()
        .zip(&after)
        .map(|(a, b)| (b - a).norm_l2() / a.norm_l2())
        .collect();
    // NaN (a failed check naming it) when a term is not finite.
    let (drift, moved) = (
        max_of("balancedness drift", &drifts).unwrap_or(f64::NAN),
        max_of("relative weight change", &moves).unwrap_or(f64::NAN),
    );
    Ok((drift, moved))
}

fn figures(s: &DepthLinearSummary, metrics: &Metrics) -> [Panel; 2] {
    let mut gap = Panel {
        title: "1 - cos(beta_t, l2 SVM)".into(),
        x_label: "step".into(),
        y_label: "1 - cos".into(),
        log_x: true,
        log_y: true,
        legend: Legend::LowerLeft,
        ..Default::default()
    };
    let mut rank = Panel {
        title: "Layer alignment".into(),
        x_label: "step".into(),
        y_label: "1 - min_k ||W_k||_2 / ||W_k||_F".into(),
        log_x: true,
        log_y: true,
        legend: Legend::LowerLeft,
        ..Default::default()
    };
    let one_minus = |v: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
        v.into_iter()
            .map(|(s, c)| (s, (1.0 - c).max(1e-16)))
            .collect()
    };
    for t in &s.per_depth {
        let label = t.label();
        gap.series.push(Series::line(
            &label,
            one_minus(metrics.series(&label, "cos_ref")),
        ));
        let r = metrics.series(&label, "rank_one_ratio_min");
        if !r.is_empty() {
            rank.series.push(Series::line(&label, one_minus(r)));
        }
    }
    [gap, rank]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Verdict;

    fn summary(cos: f64, moved: f64) -> DepthLinearSummary {
        let status = SolveStatus::exact("Solved");
        DepthLinearSummary {
            l2_svm_margin: 0.1,
            l2_svm: status,
            per_depth: vec![DepthSummary {
                depth: 2,
                cos_l2_svm: cos,
                normalized_margin_l2: 0.1,
                rank_one_ratio_min: Some(0.999),
                adjacent_alignment_min: Some(0.998),
                conservation_drift: Some(1e-8),
                conservation_weight_change: Some(moved),
            }],
        }
    }

    #[test]
    fn checks_fail_off_the_svm_and_are_undecided_when_the_weights_do_not_move() {
        let config = DepthLinearConfig::default();
        let verdict = |s: &DepthLinearSummary| {
            let mut report = crate::report::Report::new("t", "t");
            for c in DepthLinear::checks(&config, s) {
                report.check(c);
            }
            report.verdict
        };
        assert_eq!(verdict(&summary(0.9999, 1e-2)), Verdict::Pass);
        assert_eq!(verdict(&summary(0.99, 1e-2)), Verdict::Fail);
        assert_eq!(verdict(&summary(0.9999, 1e-5)), Verdict::Undecided);
    }
}
