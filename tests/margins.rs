//! End to end: the margin and generalization experiments of SCIENCE.md section B at small size.

mod common;
use common::*;

#[test]
fn overparam_margin_quick_meets_the_lifted_lp_and_reports_both_bounds() {
    let (_, dir, report) = run_passing(
        "om",
        &["reproduce", "overparam-margin", "--quick", "--out", "run"],
    );
    let h = &report["headline"];
    let (lo, hi) = (
        h["gamma_l1_lower"].as_f64().unwrap(),
        h["gamma_l1_upper"].as_f64().unwrap(),
    );
    assert!(lo > 0.0 && hi >= lo && hi - lo <= 1e-6 * hi, "{lo} {hi}");
    // (grid, final, rounds) of the column generation.
    assert!(h["lifted_directions"][1].as_u64().unwrap() >= 2000);
    assert!(
        h["gamma_l2"].as_f64().unwrap() < lo,
        "the kernel margin is the smaller one"
    );
    let widths = h["widths"].as_array().unwrap();
    assert_eq!(widths.len(), 3);
    for w in widths {
        assert_eq!(w["stages"].as_array().unwrap().len(), 3);
    }
    for f in ["margin_vs_lambda.svg", "margin_vs_width.svg"] {
        assert!(dir.join("run/figures").join(f).is_file(), "{f}");
    }
    assert_finding(&report, "global-optimality certificate");
}

#[test]
fn overparam_margin_takes_low_dimensional_user_points() {
    let dir = scratch("om-data");
    // Points on a circle, labelled by the sign of x_0 * x_1 (not linearly separable).
    let rows: Vec<(Vec<f64>, f64)> = (0..10)
        .map(|k| {
            let t = 0.3 + k as f64 * 0.61;
            let x = vec![t.cos(), t.sin()];
            let y = if x[0] * x[1] > 0.0 { 1.0 } else { -1.0 };
            (x, y)
        })
        .collect();
    write_csv(&dir.join("p.csv"), &rows);
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "overparam-margin",
            "--data",
            "p.csv",
            "--quick",
            "--out",
            "run",
        ],
    );
    let r = assert_passed(&out, &dir.join("run"));
    assert!(r["headline"]["gamma_l1"].as_f64().unwrap() > 0.0);
    let widths = r["headline"]["widths"].as_array().unwrap();
    assert!(
        widths
            .iter()
            .all(|w| w["stages"][2]["normalized_margin"].as_f64().is_some())
    );
    // The theorem holds on any data: no net beats gamma_l1 / 2.
    let bound = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with("max over widths"))
        .unwrap();
    assert_eq!(bound["pass"], true, "{bound}");
    let data = std::fs::read_to_string(dir.join("run/dataset.csv")).unwrap();
    assert_eq!(data.lines().count(), 11);
}

#[test]
fn homogeneous_margin_is_monotone_and_its_negative_control_fails() {
    let (_, dir, report) = run_passing(
        "hm",
        &["reproduce", "homogeneous-margin", "--quick", "--out", "run"],
    );
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.iter().any(|n| n.starts_with("naive-c-over-L")));
    let runs = report["headline"]["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert!(dir.join("run/figures/smoothed_margin.svg").is_file());
    let metrics = std::fs::read_to_string(dir.join("run/metrics.csv")).unwrap();
    assert!(metrics.contains("B-fast,100000,smoothed_margin,"));
}

#[test]
fn overparam_generalization_quick_reports_train_and_test_error_per_width() {
    let (_, dir, r) = run_passing(
        "og",
        &[
            "reproduce",
            "overparam-generalization",
            "--quick",
            "--out",
            "run",
        ],
    );
    let variants = r["headline"]["per_width"].as_array().unwrap();
    assert_eq!(variants[0]["variant"], "binary");
    for w in variants[0]["widths"].as_array().unwrap() {
        let (train, test) = (
            w["train_error"].as_f64().unwrap(),
            w["test_error"].as_f64().unwrap(),
        );
        assert!(
            (0.0..=1.0).contains(&train) && (0.0..0.5).contains(&test),
            "{w}"
        );
    }
    assert_eq!(r["headline"]["m_interp"], 16);
    assert!(dir.join("run/figures/error_vs_width.svg").is_file());
}

#[test]
fn ntk_vs_regularized_quick_shows_the_net_ahead_of_its_kernel() {
    let (_, dir, r) = run_passing(
        "nv",
        &["reproduce", "ntk-vs-regularized", "--quick", "--out", "run"],
    );
    let n01 = &r["headline"]["n_0.1"];
    // At the larger quick dimension the net needs fewer samples than the NTK interpolant.
    let net = n01["net"][1].as_f64().expect("the net reaches 10% error");
    let ntk = n01["ntk"][1].as_f64().unwrap_or(f64::INFINITY);
    assert!(net < ntk, "net {net} vs ntk {ntk}");
    let curves = r["headline"]["curves"].as_array().unwrap();
    assert_eq!(curves.len(), 10, "2 dims x 5 learners");
    // The trained linearization is checked against the closed-form kernel, and both of its
    // n_0.1 values are numbers (it reaches 10% error at both quick dimensions).
    let names: Vec<&str> = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.contains("n_0.1(trained linearization) / n_0.1(closed-form NTK)")),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n.contains("d = 20, n = 4d: net")));
    assert!(n01["ntk-linearized"][0].is_f64() && n01["ntk-linearized"][1].is_f64());
    assert!(dir.join("run/figures/test_error_vs_n.svg").is_file());
}
