//! depth-conv: depth in a linear convolutional network sparsifies the Fourier spectrum
//! (Gunasekar, Lee, Soudry, Srebro, NeurIPS 2018, arXiv:1806.00468), while the same depths in a
//! fully connected linear net all give the l2 SVM. SCIENCE.md, section C, "depth-conv".

use super::implicit_bias::{
    LinearData, LinearTraining, Trained, Yardstick, linear_data, train_linear,
};
use super::require::{require_at_least, require_depths, require_positive};
use crate::device::DType;
use crate::error::{ConfigError, LabError};
use crate::experiment::{ExperimentSpec, RunContext, Validate};
use crate::figures::{Legend, Panel, Series, save_svg};
use crate::recorder::predictors_csv;
use crate::report::{Check, Comparison, Report};
use fdl_analysis::{
    MaxMargin, SolveStatus, bridge_kkt_residual, cosine, fourier_l1_max_margin,
    fourier_l1_nearest_optimum, fourier_summary, l2_max_margin, normalized_margin_fourier,
    normalized_margin_l2,
};
use fdl_data::{gaussian_random_labels, rng_from_seed};
use fdl_models::{DeepLinear, DeepLinearConfig, LinearConv, LinearConvConfig};
use fdl_optim::TrainConfig;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Configuration of depth-conv; the defaults reproduce the lecture's figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepthConvConfig {
    /// Data, initialisation, loss and step rule.
    #[serde(flatten)]
    pub training: LinearTraining,
    /// Depths L of the convolutional nets.
    pub depths: Vec<usize>,
    /// Depths of the fully connected nets trained on the same data (may be empty).
    pub fc_depths: Vec<usize>,
    /// Hidden width of the fully connected nets.
    pub fc_width: usize,
    /// Fourier coefficients above this fraction of the largest count as non-zero.
    pub support_threshold: f64,
    /// Constraints within this relative distance of the smallest margin count as active (KKT).
    pub active_tolerance: f64,
}

impl Default for DepthConvConfig {
    fn default() -> Self {
        Self {
            training: LinearTraining::default(),
            depths: vec![1, 2, 3, 4],
            fc_depths: vec![1, 2, 3, 4],
            fc_width: 16,
            support_threshold: 1e-3,
            active_tolerance: 1e-2,
        }
    }
}

impl Validate for DepthConvConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.training.validate()?;
        require_depths("depths", &self.depths, false)?;
        require_depths("fc_depths", &self.fc_depths, true)?;
        require_at_least("fc_width", self.fc_width, 1, "at least 1")?;
        require_positive("support_threshold", self.support_threshold)?;
        require_positive("active_tolerance", self.active_tolerance)
    }
}

/// The depth-conv experiment.
pub struct DepthConv;

/// Everything a depth-conv run produced: trained variants and exact references.
struct Results {
    setup: LinearData,
    conv: Vec<Trained<LinearConv>>,
    fc: Vec<Trained<DeepLinear>>,
    svm: MaxMargin,
    socp: MaxMargin,
    /// The Fourier-l1 optimum nearest to the trained conv-L2 predictor.
    nearest_optimum: Option<(Vec<f64>, SolveStatus)>,
}

/// Thresholds from SCIENCE.md (depth-conv, Checks).
const COS_SVM: f64 = 0.999;
const COS_SOCP: f64 = 0.99;
const MARGIN_RATIO: f64 = 0.99;
const KKT_MAX: f64 = 1e-2;
/// Relative slack of the Fourier-l1 objective when projecting onto the optimal set (solver
/// tolerance is 1e-8).
const OPTIMAL_SET_TOL: f64 = 1e-6;

impl ExperimentSpec for DepthConv {
    type Config = DepthConvConfig;
    const NAME: &'static str = "depth-conv";
    const CLAIM: &'static str = "Depth in a linear convolutional net sparsifies the Fourier spectrum of the \
        learned predictor (L = 1: l2 SVM, L = 2: Fourier-l1 max margin, L >= 3: stationary points of the \
        l_{2/L} bridge), while fully connected depths all give the l2 SVM.";
    const DTYPE: DType = DType::F64;

    fn quick() -> toml::Table {
        toml::toml! { steps = 5000 }
    }

    fn run(config: DepthConvConfig, ctx: &mut RunContext) -> Result<Report, LabError> {
        let setup = linear_data(ctx, |rng| {
            gaussian_random_labels(config.training.n, config.training.dim, rng)
        })?;
        let d = setup.dim();
        let svm = l2_max_margin(&setup.z, d)?;
        let socp = fourier_l1_max_margin(&setup.z, d)?;
        tracing::debug!(target: "fdl", svm_margin = svm.margin, fourier_l1_margin = socp.margin, "references solved");
        let train = config.training.train_config();
        ctx.set_total_steps(
            (config.training.steps * (config.depths.len() + config.fc_depths.len())) as u64,
        );

        let mut rng = rng_from_seed(ctx.seed.wrapping_add(1));
        let mut conv = Vec::new();
        for &depth in &config.depths {
            let model = LinearConvConfig {
                input_dim: d,
                depth,
                init_std: config.training.init_std,
            }
            .init(&mut rng, &ctx.device);
            let reference = match depth {
                1 => Some(svm.beta.as_slice()),
                2 => Some(socp.beta.as_slice()),
                _ => None,
            };
            let p = 2.0 / depth as f64;
            let own = |b: &[f64]| normalized_margin_fourier(&setup.z, b, p);
            let yard = Yardstick {
                reference,
                own_margin: &own,
            };
            conv.push(train_linear(
                ctx,
                &format!("conv-L{depth}"),
                model,
                &setup,
                &train,
                &yard,
                &|_| Vec::new(),
            )?);
        }
        let mut fc = Vec::new();
        for &depth in &config.fc_depths {
            let model = DeepLinearConfig {
                input_dim: d,
                depth,
                width: config.fc_width,
                init_std: config.training.init_std,
            }
            .init(&mut rng, &ctx.device);
            let own = |b: &[f64]| normalized_margin_l2(&setup.z, b);
            let yard = Yardstick {
                reference: Some(&svm.beta),
                own_margin: &own,
            };
            fc.push(train_linear(
                ctx,
                &format!("fc-L{depth}"),
                model,
                &setup,
                &train,
                &yard,
                &|_| Vec::new(),
            )?);
        }
        ctx.finish_progress();

        let nearest_optimum = match conv.iter().find(|t| t.label == "conv-L2") {
            Some(t) => {
                let near =
                    fourier_l1_nearest_optimum(&setup.z, &t.beta, socp.norm, OPTIMAL_SET_TOL)?;
                for (step, b) in &t.history {
                    ctx.recorder
                        .record(&t.label, *step, "cos_optimum", cosine(b, &near.0))?;
                }
                Some(near)
            }
            None => None,
        };
        let results = Results {
            setup,
            conv,
            fc,
            svm,
            socp,
            nearest_optimum,
        };
        write_predictors(ctx, &results)?;
        let mut report = Report::new(Self::NAME, Self::CLAIM);
        checks(&mut report, &config, &results)?;
        report.figures = figures(ctx, &results, &config, &train)?;
        Ok(report)
    }
}

fn write_predictors(ctx: &RunContext, r: &Results) -> Result<(), LabError> {
    let Results {
        conv,
        fc,
        svm,
        socp,
        ..
    } = r;
    let mut rows: Vec<(String, Vec<f64>)> = conv
        .iter()
        .map(|t| (t.label.clone(), t.beta.clone()))
        .collect();
    rows.extend(fc.iter().map(|t| (t.label.clone(), t.beta.clone())));
    rows.push(("ref-l2-svm".into(), svm.beta.clone()));
    rows.push(("ref-fourier-l1".into(), socp.beta.clone()));
    ctx.folder.write("predictors.csv", predictors_csv(&rows))
}

fn checks(report: &mut Report, config: &DepthConvConfig, r: &Results) -> Result<(), LabError> {
    let Results {
        setup,
        conv,
        fc,
        svm,
        socp,
        nearest_optimum,
    } = r;
    let z = &setup.z;
    report.reference("l2 SVM (QP)", &svm.status);
    report.reference("Fourier-l1 max margin (SOCP)", &socp.status);
    report.headline("l2_svm_margin", svm.margin);
    report.headline("fourier_l1_optimum_margin", socp.margin);
    report.headline(
        "l2_svm_fourier_l1_over_l2",
        fourier_summary(&svm.beta, config.support_threshold).l1_over_l2,
    );
    report.headline(
        "fourier_l1_solution_l1_over_l2",
        fourier_summary(&socp.beta, config.support_threshold).l1_over_l2,
    );
    report.headline("n", setup.data.len());
    report.headline("dim", setup.dim());

    let mut ratios = Vec::new();
    for t in conv {
        let depth: usize = t
            .label
            .trim_start_matches("conv-L")
            .parse()
            .expect("label has a depth");
        let p = 2.0 / depth as f64;
        let summary = fourier_summary(&t.beta, config.support_threshold);
        let kkt = bridge_kkt_residual(
            z,
            &t.beta,
            p,
            config.support_threshold,
            config.active_tolerance,
        )?;
        report.headline(
            &t.label,
            json!({
                "fourier_l1_over_l2": summary.l1_over_l2,
                "fourier_coefficients_above_threshold": summary.count_above,
                "sorted_fourier_magnitudes": summary.sorted_normalized,
                "cos_l2_svm": cosine(&t.beta, &svm.beta),
                "cos_fourier_l1": cosine(&t.beta, &socp.beta),
                "normalized_margin_fourier_2_over_L": normalized_margin_fourier(z, &t.beta, p),
                "normalized_margin_l2": normalized_margin_l2(z, &t.beta),
                "kkt_residual": kkt.residual,
                "kkt_support": kkt.support,
                "kkt_active_constraints": kkt.active,
            }),
        );
        ratios.push((depth, summary.l1_over_l2));
        match depth {
            1 => report.check(Check::new(
                "conv-L1 cos(beta, l2 SVM)",
                cosine(&t.beta, &svm.beta),
                Comparison::AtLeast,
                COS_SVM,
                "L = 1 is a linear model: GD converges to the l2 max margin (Soudry et al. 2018)",
            ).against("l2 SVM", &svm.status)),
            2 => {
                let (near, near_status) = nearest_optimum.as_ref().expect("computed for conv-L2");
                report.reference("nearest Fourier-l1 optimum (QP)", near_status);
                report.headline(
                    "fourier_l1_optimal_set",
                    json!({
                        "cos_solver_solution_to_nearest_optimum": cosine(&socp.beta, near),
                        "note": "below 1 means the Fourier-l1 optimum is not unique: the solver and GD found different points of the optimal face",
                    }),
                );
                report.check(Check::new(
                    "conv-L2 cos(beta, nearest Fourier-l1 SOCP optimum)",
                    cosine(&t.beta, near),
                    Comparison::AtLeast,
                    COS_SOCP,
                    format!(
                        "L = 2: the limit solves min ||F beta||_1 s.t. Z beta >= 1 (convex); cosine to the solver's own solution {:.5}",
                        cosine(&t.beta, &socp.beta)
                    ),
                ).against("nearest Fourier-l1 optimum", near_status));
                report.check(Check::new(
                    "conv-L2 Fourier-l1 margin / optimum",
                    normalized_margin_fourier(z, &t.beta, 1.0) / socp.margin,
                    Comparison::AtLeast,
                    MARGIN_RATIO,
                    "within 1% of the exact SOCP optimum",
                ).against("Fourier-l1 SOCP", &socp.status));
            }
            _ => report.check(Check::new(
                format!("conv-L{depth} KKT residual (l_{{2/{depth}}} bridge)"),
                kkt.residual,
                Comparison::Below,
                KKT_MAX,
                format!(
                    "stationarity on the Fourier support ({} coefficients, {} active constraints)",
                    kkt.support, kkt.active
                ),
            )),
        }
    }
    ratios.sort_by_key(|r| r.0);
    report.headline(
        "fourier_l1_over_l2_by_depth",
        ratios
            .iter()
            .map(|(l, r)| (format!("L{l}"), json!(r)))
            .collect::<serde_json::Map<_, _>>(),
    );
    // Strictly decreasing from L = 1 to 2 to 3 (SCIENCE.md). Past L = 3 the bridge problems are
    // non-convex and GD reaches one of their stationary points, which need not be sparser than
    // the previous depth's, so deeper pairs are reported, not gated.
    let gated = ratios
        .windows(2)
        .filter(|w| w[1].0 == w[0].0 + 1 && w[1].0 <= 3)
        .count();
    if gated == 0 {
        report.check(Check::undecided(
            "||F beta||_1/||F beta||_2 drops with depth",
            Comparison::Above,
            0.0,
            "the depths include no consecutive pair among L = 1, 2, 3",
        ));
    }
    for w in ratios.windows(2) {
        let ((l0, r0), (l1, r1)) = (w[0], w[1]);
        if l1 == l0 + 1 && l1 <= 3 {
            report.check(Check::new(
                format!("||F beta||_1/||F beta||_2 drop L={l0} -> {l1}"),
                r0 - r1,
                Comparison::Above,
                0.0,
                format!("{r0:.4} -> {r1:.4}: deeper is sparser in frequency"),
            ));
        }
    }
    for t in fc {
        let cos = cosine(&t.beta, &svm.beta);
        report.headline(&t.label, json!({ "cos_l2_svm": cos, "fourier_l1_over_l2": fourier_summary(&t.beta, config.support_threshold).l1_over_l2 }));
        report.check(
            Check::new(
                format!("{} cos(beta, l2 SVM)", t.label),
                cos,
                Comparison::AtLeast,
                COS_SVM,
                "fully connected depth does not change the implicit bias (Ji & Telgarsky 2019)",
            )
            .against("l2 SVM", &svm.status),
        );
    }
    Ok(())
}

fn spectrum_series(label: &str, beta: &[f64], threshold: f64, reference: bool) -> Series {
    let points = fourier_summary(beta, threshold)
        .sorted_normalized
        .iter()
        .enumerate()
        .map(|(k, &m)| ((k + 1) as f64, m))
        .collect();
    let s = if reference {
        Series::reference(label, points)
    } else {
        Series::line(label, points)
    };
    s.with_markers()
}

fn figures(
    ctx: &RunContext,
    r: &Results,
    config: &DepthConvConfig,
    train: &TrainConfig,
) -> Result<Vec<String>, LabError> {
    let Results {
        conv,
        fc,
        svm,
        socp,
        ..
    } = r;
    let th = config.support_threshold;
    let floor = 1e-6;
    let clamp = |s: Series| Series {
        points: s
            .points
            .into_iter()
            .map(|(x, y)| (x, y.max(floor)))
            .collect(),
        ..s
    };
    let mut conv_panel = Panel {
        title: "Linear conv nets: sorted |F beta|".into(),
        x_label: "rank of Fourier coefficient".into(),
        y_label: "|F beta|_k / max".into(),
        log_y: true,
        legend: Legend::LowerLeft,
        ..Default::default()
    };
    for t in conv {
        conv_panel
            .series
            .push(clamp(spectrum_series(&t.label, &t.beta, th, false)));
    }
    conv_panel
        .series
        .push(clamp(spectrum_series("l2 SVM", &svm.beta, th, true)));
    conv_panel.series.push(clamp(spectrum_series(
        "Fourier-l1 SOCP",
        &socp.beta,
        th,
        true,
    )));
    let mut fc_panel = Panel {
        title: "Fully connected nets: sorted |F beta|".into(),
        ..conv_panel.clone()
    };
    fc_panel.series = fc
        .iter()
        .map(|t| clamp(spectrum_series(&t.label, &t.beta, th, false)))
        .collect();
    fc_panel
        .series
        .push(clamp(spectrum_series("l2 SVM", &svm.beta, th, true)));
    let spectra = "figures/fourier_spectra.svg";
    save_svg(&ctx.folder.staging().join(spectra), &[conv_panel, fc_panel])?;

    let mut gap = Panel {
        title: format!(
            "Direction: 1 - cos(beta_t, limit), {:?} steps",
            train.step_rule.kind
        ),
        x_label: "step".into(),
        y_label: "1 - cos".into(),
        log_x: true,
        log_y: true,
        legend: Legend::LowerLeft,
        ..Default::default()
    };
    let mut margin = Panel {
        title: "Normalized margin (own geometry) / final".into(),
        x_label: "step".into(),
        y_label: "margin / final margin".into(),
        log_x: true,
        legend: Legend::LowerRight,
        ..Default::default()
    };
    let limit_name = |label: &str| match label {
        "conv-L1" => "l2 SVM",
        "conv-L2" => "SOCP optimum",
        l if l.starts_with("fc") => "l2 SVM",
        _ => "final",
    };
    let labels = conv
        .iter()
        .map(|t| t.label.as_str())
        .chain(fc.iter().map(|t| t.label.as_str()));
    for label in labels {
        let against_final = limit_name(label) == "final";
        let key = match label {
            "conv-L2" => "cos_optimum",
            _ if against_final => "cos_final",
            _ => "cos_ref",
        };
        let mut points: Vec<(f64, f64)> = ctx
            .recorder
            .series(label, key)
            .into_iter()
            .map(|(s, c)| (s, (1.0 - c).max(1e-16)))
            .collect();
        if against_final {
            points.pop(); // the last point is the limit itself
        }
        gap.series.push(Series::line(
            format!("{label} vs {}", limit_name(label)),
            points,
        ));
        let m = ctx.recorder.series(label, "margin_own");
        if let Some(&(_, last)) = m.last() {
            margin.series.push(Series::line(
                label,
                m.iter().map(|&(s, v)| (s, v / last)).collect(),
            ));
        }
    }
    let convergence = "figures/convergence.svg";
    save_svg(&ctx.folder.staging().join(convergence), &[gap, margin])?;
    Ok(vec![spectra.into(), convergence.into()])
}
