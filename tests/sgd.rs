//! End to end: sgd-interpolation at small size, and its failure outside the interpolation regime.

mod common;
use common::*;

#[test]
fn sgd_interpolation_quick_matches_the_second_moment_rates() {
    let (_, dir, report) = run_passing(
        "sgd",
        &["reproduce", "sgd-interpolation", "--quick", "--out", "run"],
    );
    let batches = report["headline"]["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 3);
    for b in batches {
        let rho = b["rho"].as_f64().unwrap();
        assert!(0.0 < rho && rho < 1.0, "{b}");
    }
    assert!(report["headline"]["control_excess"].as_f64().unwrap() >= 1e-4);
    assert!(dir.join("run/figures/sgd_interpolation.svg").is_file());
    // The checks are re-decided from summary.json alone.
    let check = fdl_in(&dir, &["check", "run"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}

#[test]
fn sgd_interpolation_fails_at_the_edge_of_interpolation() {
    // n = d: H's smallest non-zero eigenvalue is tiny, the loss does not reach the fitting
    // window in 400 epochs, and every rate check fails (naming why it could not measure).
    run_failing(
        "sgd-square",
        &[
            "reproduce",
            "sgd-interpolation",
            "--quick",
            "--set",
            "dim=40",
            "--out",
            "run",
        ],
        &[
            "every run reaches L/L_0 below 1e-20",
            "measured slope / ln rho_m, smallest over batch sizes",
        ],
    );
}
