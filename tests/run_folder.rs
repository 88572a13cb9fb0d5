//! The run folder after the run: a default folder per run with a `latest` link, and `fdl check` /
//! `fdl replot` redoing the verdict and the figures from summary.json without retraining.

mod common;
use common::*;

#[test]
fn default_runs_never_replace_each_other_and_latest_points_at_the_newest() {
    let dir = scratch("default-folders");
    for _ in 0..2 {
        let out = fdl_in(&dir, &["reproduce", "depth-linear", "--quick"]);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    }
    let root = dir.join("runs/depth-linear");
    let mut runs: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "latest")
        .collect();
    runs.sort();
    assert_eq!(runs.len(), 2, "{runs:?}");
    for r in &runs {
        assert!(root.join(r).join("report.json").is_file(), "{r} incomplete");
    }
    let latest = std::fs::read_link(root.join("latest")).unwrap();
    assert_eq!(latest.to_string_lossy(), runs[1]);
}

#[test]
fn check_and_replot_work_from_the_summary_and_check_can_fail() {
    let (out, dir) = fdl(
        "check",
        &["reproduce", "depth-conv", "--quick", "--out", "run"],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let run = dir.join("run");
    let before = std::fs::read_to_string(run.join("report.json")).unwrap();
    let checked = fdl_in(&dir, &["check", "run"]);
    assert_eq!(checked.code, 0, "{}", checked.stderr);
    assert_eq!(
        std::fs::read_to_string(run.join("report.json")).unwrap(),
        before
    );

    std::fs::remove_dir_all(run.join("figures")).unwrap();
    let replot = fdl_in(&dir, &["replot", "run"]);
    assert_eq!(replot.code, 0, "{}", replot.stderr);
    for f in ["fourier_spectra.svg", "convergence.svg"] {
        assert!(run.join("figures").join(f).is_file(), "{f} not redrawn");
    }

    // A summary whose fully connected depth-1 predictor points away from the SVM fails.
    let path = run.join("summary.json");
    let mut summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let beta = &mut summary["fc"][0]["beta"];
    *beta = beta
        .as_array()
        .unwrap()
        .iter()
        .map(|b| -b.as_f64().unwrap())
        .collect();
    std::fs::write(&path, summary.to_string()).unwrap();
    let failed = fdl_in(&dir, &["check", "run"]);
    assert_eq!(failed.code, 1, "{}", failed.stdout);
    assert!(failed.stdout.contains("fc-L1 cos(beta, l2 SVM)"));

    std::fs::remove_file(&path).unwrap();
    let missing = fdl_in(&dir, &["check", "run"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("summary.json"),
        "{}",
        missing.stderr
    );
}
