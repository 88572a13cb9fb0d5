//! End to end: the experiments at small size through the binary, reading the run folder.

mod common;
use common::*;

const RUN_FILES: [&str; 9] = [
    "config.toml",
    "manifest.json",
    "dataset.csv",
    "metrics.csv",
    "predictors.csv",
    "report.json",
    "report.md",
    "figures/fourier_spectra.svg",
    "figures/convergence.svg",
];

#[test]
fn depth_conv_quick_passes_every_check_and_writes_the_run_folder() {
    let (out, dir, report) = run_passing(
        "conv",
        &["reproduce", "depth-conv", "--quick", "--out", "run"],
    );
    let run = dir.join("run");
    for f in RUN_FILES {
        assert!(run.join(f).is_file(), "missing {f}");
    }
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for expected in [
        "conv-L1 cos(beta, l2 SVM)",
        "conv-L2 cos(beta, nearest Fourier-l1 SOCP optimum)",
        "conv-L2 Fourier-l1 margin / optimum",
        "conv-L3 KKT residual (l_{2/3} bridge)",
        "||F beta||_1/||F beta||_2 drop L=2 -> 3",
        "fc-L4 cos(beta, l2 SVM)",
    ] {
        assert!(
            names.contains(&expected),
            "missing check {expected} in {names:?}"
        );
    }
    predictor_rows(
        &run,
        &[
            "conv-L1",
            "conv-L4",
            "fc-L1",
            "fc-L4",
            "ref-l2-svm",
            "ref-fourier-l1",
        ],
    );
    // Every exact reference is recorded with its solver status and residuals.
    let references = report["references"].as_object().unwrap();
    assert!(references.len() >= 3, "{references:?}");
    for (name, r) in references {
        assert_eq!(r["status"], "Solved", "{name}: {r}");
        assert!(r["primal_residual"].as_f64().unwrap() < 1e-6, "{name}: {r}");
    }
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert!(metrics.starts_with("variant,step,metric,value\n"));
    assert!(metrics.contains("conv-L3,5000,margin_own,"));
    assert!(out.stdout.contains("PASS") && out.stdout.contains("run folder"));
    // No staging folder is left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn depth_linear_quick_passes_every_check() {
    let (_, dir, report) = run_passing(
        "linear",
        &["reproduce", "depth-linear", "--quick", "--out", "run"],
    );
    assert!(report["checks"].as_array().unwrap().len() >= 13);
    assert!(dir.join("run/figures/alignment.svg").is_file());
}

#[test]
fn user_data_sets_the_dimension_and_reruns_from_the_saved_config() {
    let dir = scratch("data");
    write_csv(&dir.join("mine.csv"), &planted_data(7, 11, 3));
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "depth-conv",
            "--quick",
            "--data",
            "mine.csv",
            "--set",
            "fc_depths=[1]",
            "--out",
            "a",
        ],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let report = report(&dir.join("a"));
    assert_eq!(report["headline"]["dim"], 11);
    assert_eq!(report["headline"]["n"], 7);
    // The saved config points at the run folder's own copy of the data.
    let rerun = fdl_in(&dir, &["run", "a/config.toml", "--out", "b"]);
    assert_eq!(rerun.code, 0, "{}{}", rerun.stdout, rerun.stderr);
    let a = std::fs::read_to_string(dir.join("a/predictors.csv")).unwrap();
    let b = std::fs::read_to_string(dir.join("b/predictors.csv")).unwrap();
    assert_eq!(a, b, "same config, seed and device give the same numbers");
}

#[test]
fn run_accepts_the_shipped_experiment_files() {
    let root = env!("CARGO_MANIFEST_DIR");
    for name in ["depth-conv", "depth-linear"] {
        let file = format!("{root}/experiments/{name}.toml");
        let (out, dir) = fdl(name, &["run", &file, "--quick", "--out", "run"]);
        assert_passed(&out, &dir.join("run"));
        let config = std::fs::read_to_string(dir.join("run/config.toml")).unwrap();
        assert!(
            config.starts_with(&format!("experiment = \"{name}\"")),
            "{config}"
        );
        let quick_steps = if name == "depth-conv" { 10000 } else { 5000 };
        assert!(
            config.contains(&format!("steps = {quick_steps}")),
            "{config}"
        );
    }
}

#[test]
fn a_failed_check_exits_with_one_and_still_writes_the_report() {
    // Ten steps cannot reach the max-margin direction: the checks must be able to fail.
    let (out, dir) = fdl(
        "fail",
        &[
            "reproduce",
            "depth-conv",
            "--set",
            "training.steps=10",
            "--set",
            "fc_depths=[]",
            "--out",
            "run",
        ],
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("FAIL"));
    let report = report(&dir.join("run"));
    assert_eq!(report["passed"], false);
}

#[test]
fn steepest_descent_quick_fills_the_margin_table_and_every_gap_is_closing() {
    let (_, dir, report) = run_passing(
        "steepest",
        &["reproduce", "steepest-descent", "--quick", "--out", "run"],
    );
    let run = dir.join("run");
    let table = &report["headline"]["margin_table"];
    assert_eq!(table["rows"].as_array().unwrap().len(), 5);
    assert_eq!(table["margins"][0].as_array().unwrap().len(), 5);
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for label in ["lp-1", "lp-1.333", "lp-2", "lp-4", "lp-inf"] {
        for what in ["margin gap to the exact", "gap falls like 1/t"] {
            assert!(
                names
                    .iter()
                    .any(|n| n.starts_with(label) && n.contains(what)),
                "no `{what}` check for {label} in {names:?}"
            );
        }
    }
    // Every norm is either ranked by a check or reported as undecided, with its separation.
    let wins = names
        .iter()
        .filter(|n| n.contains("wins its own norm"))
        .count();
    let undecided = report["headline"]["undecided_norms"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(wins + undecided, 5);
    assert_eq!(
        report["headline"]["optima_separation"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    for label in ["lp-1", "lp-1.333", "lp-2", "lp-4", "lp-inf"] {
        let gap = |step: usize| -> f64 {
            let prefix = format!("{label},{step},gap,");
            let line = metrics
                .lines()
                .find(|l| l.starts_with(&prefix))
                .unwrap_or_else(|| panic!("no {prefix}"));
            line[prefix.len()..].parse().unwrap()
        };
        let (early, late) = (gap(2000), gap(20000));
        assert!(late < 0.05, "{label}: gap {late} after 2e4 steps");
        assert!(late < early, "{label}: gap not closing, {early} -> {late}");
    }
    assert!(run.join("figures/margin_gap.svg").is_file());
}

/// The names of the checks of a report that pass.
fn passing(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["pass"] == true)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn logistic_max_margin_quick_draws_three_data_sets_and_their_physics_holds() {
    let (out, dir) = fdl(
        "logistic",
        &[
            "reproduce",
            "logistic-max-margin",
            "--quick",
            "--out",
            "run",
        ],
    );
    // A complete run; its verdict is not the point here: at 2 x 10^4 steps several of
    // SCIENCE.md's checks hold only at some seeds (`--quick --seeds 0..8`, 2026-12-05: 1/8 pass).
    assert!([0, 1].contains(&out.code), "{}{}", out.stdout, out.stderr);
    let run = dir.join("run");
    for f in [
        "dataset.csv",
        "asymmetric.csv",
        "contrast.csv",
        "figures/soudry-2d.svg",
        "figures/asymmetric.svg",
        "figures/contrast.svg",
    ] {
        assert!(run.join(f).is_file(), "missing {f}");
    }
    predictor_rows(
        &run,
        &[
            "gd",
            "gd-momentum",
            "adam",
            "ref-l2",
            "ref-linf",
            "asymmetric/gd",
            "contrast/adam",
        ],
    );
    // The paper's w_svm = (0.5, 0.5) from the exact QP.
    let svm = &report(&run)["headline"]["soudry-2d"]["w_l2"];
    for k in 0..2 {
        assert!((svm[k].as_f64().unwrap() - 0.5).abs() < 1e-7, "{svm}");
    }
    // The checks that held at every one of seeds 0..8 after 2 x 10^4 steps (the others, the
    // angle gap's monotonicity and C / log t bound, ||w|| / log t leveling off on the asymmetric
    // data, and gd's l2-over-l_inf angle, hold at 3-7 of 8 seeds).
    let report = report(&run);
    let passed = passing(&report);
    for name in [
        "soudry-2d gd: t L(t) levels off (relative change over the last decade)",
        "soudry-2d gd: ||w|| / log t levels off (relative change over the last decade)",
        "soudry-2d gd: ||w|| / log t against ||w_svm|| (relative)",
        "asymmetric gd: t L(t) levels off (relative change over the last decade)",
        "contrast adam: angle to the l_inf max margin over angle to the l2 one",
    ] {
        assert!(
            passed.iter().any(|p| p == name),
            "{name} fails: {:?}",
            failing(&report)
        );
    }
    assert_finding(&report, "Adam's l_inf bias cannot show");
}

#[test]
fn steepest_descent_takes_user_data() {
    let dir = scratch("sd-user-data");
    write_csv(&dir.join("points.csv"), &planted_data(30, 6, 11));
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "steepest-descent",
            "--data",
            "points.csv",
            "--set",
            "steps=100000",
            "--set",
            "ps=[1.0, 2.0, inf]",
            "--out",
            "run",
        ],
    );
    let run = dir.join("run");
    assert_passed(&out, &run);
    let data = std::fs::read_to_string(run.join("dataset.csv")).unwrap();
    assert_eq!(data.lines().count(), 31, "the user's 30 points");
    for row in predictor_rows(&run, &["lp-1", "lp-2", "lp-inf", "ref-1", "ref-inf"]) {
        assert_eq!(row.split(',').count(), 7, "{row}");
    }
}

#[test]
fn logistic_max_margin_takes_user_data() {
    // Soudry et al.'s 2-D support vectors with points off the margin, as a user file. (On
    // generic data such as 30 planted points in R^6 the 1/log t checks are not decided even at
    // 10^6 steps: near-margin points slow the direction for decades; see the closing notes.)
    let dir = scratch("lm-user-data");
    let pos = [[0.5, 1.5], [1.5, 0.5], [2.0, 3.0], [3.5, 1.0], [2.5, 2.5]];
    let rows: Vec<(Vec<f64>, f64)> = pos
        .iter()
        .map(|p| (p.to_vec(), 1.0))
        .chain(pos.iter().map(|p| (vec![-p[0], -p[1]], -1.0)))
        .collect();
    write_csv(&dir.join("points.csv"), &rows);
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "logistic-max-margin",
            "--data",
            "points.csv",
            "--set",
            "steps=20000",
            "--out",
            "run",
        ],
    );
    let run = dir.join("run");
    let report = assert_passed(&out, &run);
    let data = std::fs::read_to_string(run.join("dataset.csv")).unwrap();
    assert_eq!(data.lines().count(), 11, "the user's 10 points");
    for row in predictor_rows(&run, &["gd", "gd-momentum", "adam", "ref-l2", "ref-linf"]) {
        assert_eq!(row.split(',').count(), 3, "{row}");
    }
    assert_finding(&report, "Adam's l_inf bias cannot show");
}

#[test]
fn gd_global_min_quick_passes_and_reports_the_spectrum_of_h_inf() {
    let (_, dir, report) = run_passing(
        "gd-global-min",
        &["reproduce", "gd-global-min", "--quick", "--out", "run"],
    );
    let run = dir.join("run");
    assert!(run.join("figures/gd_global_min.svg").is_file());
    let lambda_0 = report["headline"]["lambda_0"].as_f64().unwrap();
    let lambda_max = report["headline"]["lambda_max"].as_f64().unwrap();
    assert!(
        0.0 < lambda_0 && lambda_0 < lambda_max,
        "{lambda_0} {lambda_max}"
    );
    // trace(H_inf) / n = 1/2 for unit inputs, so lambda_max >= 1/2.
    assert!(lambda_max >= 0.5);
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    for m in ["m100", "m400", "m1600"] {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with(&format!("{m},300,max_movement,")))
        );
    }
}

#[test]
fn gd_global_min_scales_user_rows_to_unit_norm_and_says_so() {
    let dir = scratch("gd-user-data");
    // Real-valued targets, rows of norm 2 in more dimensions than points (a well-conditioned
    // H_inf at n = 12): the run rescales them.
    let rows: Vec<(Vec<f64>, f64)> = planted_data(12, 24, 5)
        .into_iter()
        .enumerate()
        .map(|(i, (x, _))| {
            let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
            (
                x.iter().map(|v| 2.0 * v / norm).collect(),
                0.1 * i as f64 - 0.5,
            )
        })
        .collect();
    write_csv(&dir.join("reg.csv"), &rows);
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "gd-global-min",
            "--data",
            "reg.csv",
            "--set",
            "widths=[100, 800, 6400]",
            "--set",
            "steps=300",
            "--out",
            "run",
        ],
    );
    // Every check but one must pass. The exception, "contraction approaches (1 - eta lambda_0)^2
    // with width", compares two finite-window contractions on these 12 points and holds at 2 of
    // seeds 0..6 (`--seeds 0..6`, measured 2026-12-05); on the default n = 100 data it held at
    // seeds 0..5. It is reported, not asserted, here.
    assert!([0, 1].contains(&out.code), "{}{}", out.stdout, out.stderr);
    let report = report(&dir.join("run"));
    let fragile = "contraction approaches (1 - eta lambda_0)^2 with width";
    let failed: Vec<String> = failing(&report)
        .into_iter()
        .filter(|name| !name.contains(fragile))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert!(passing(&report).len() >= 8, "{:?}", passing(&report));
    assert_finding(&report, "unit norm");
    let data = std::fs::read_to_string(dir.join("run/dataset.csv")).unwrap();
    let first: Vec<f64> = data
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    let norm = first[..24].iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!((norm - 1.0).abs() < 1e-12, "row norm {norm}");
    assert_eq!(first[24], -0.5, "targets kept as given");
}

#[test]
fn kernel_vs_rich_quick_moves_from_l1_to_l2_and_labels_its_variants() {
    let (_, dir, report) = run_passing(
        "kernel-vs-rich",
        &["reproduce", "kernel-vs-rich", "--quick", "--out", "run"],
    );
    let run = dir.join("run");
    assert!(run.join("figures/kernel_vs_rich.svg").is_file());
    predictor_rows(
        &run,
        &[
            "D2-alpha0.0001",
            "D2-alpha10",
            "min-l1",
            "min-l2",
            "beta-star",
        ],
    );
    // The transition: the error grows from the rich to the kernel end.
    let fits = report["headline"]["fits"].as_array().unwrap();
    let error = |label: &str| {
        let fit = fits.iter().find(|f| f["label"] == label).unwrap();
        fit["error"].as_f64().unwrap()
    };
    assert!(error("D2-alpha0.0001") < 0.02 && error("D2-alpha10") > 10.0 * error("D2-alpha0.0001"));
}

#[test]
fn kernel_vs_rich_takes_user_regression_data() {
    let dir = scratch("kvr-user-data");
    // 8 observations of a 2-sparse predictor in 12 dimensions.
    let rows: Vec<(Vec<f64>, f64)> = planted_data(8, 12, 9)
        .into_iter()
        .map(|(x, _)| {
            let y = 0.7 * x[2] - 0.5 * x[7];
            (x, y)
        })
        .collect();
    write_csv(&dir.join("sparse.csv"), &rows);
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "kernel-vs-rich",
            "--data",
            "sparse.csv",
            "--quick",
            "--out",
            "run",
        ],
    );
    let report = assert_passed(&out, &dir.join("run"));
    assert_finding(&report, "min-l1 interpolant");
    for row in predictor_rows(&dir.join("run"), &["D2-alpha0.0001", "min-l1", "min-l2"]) {
        assert_eq!(row.split(',').count(), 13);
    }
}

#[test]
fn lazy_drift_quick_passes_with_the_linearization_alongside() {
    let (_, dir, report) = run_passing(
        "lazy-drift",
        &["reproduce", "lazy-drift", "--quick", "--out", "run"],
    );
    let run = dir.join("run");
    for f in ["figures/lazy_drift.svg", "test.csv"] {
        assert!(run.join(f).is_file(), "missing {f}");
    }
    // Drift falls with width, and the three layers' weight changes are reported.
    let widths = report["headline"]["widths"].as_array().unwrap();
    assert_eq!(widths[0]["width"], 64);
    assert_eq!(widths[2]["width"], 256);
    let drift = |k: usize| widths[k]["ntk_drift"].as_f64().unwrap();
    assert!(drift(2) < drift(0));
    assert_eq!(widths[0]["weight_change"].as_array().unwrap().len(), 3);
}
