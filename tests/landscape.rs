//! End to end: the landscape experiments of SCIENCE.md section A0 at small size.

mod common;
use common::*;

#[test]
fn strict_saddle_quick_passes_with_every_critical_point_certified() {
    let (_, dir, report) = run_passing(
        "ss",
        &["reproduce", "strict-saddle", "--quick", "--out", "run"],
    );
    let h = &report["headline"];
    // 2^5 critical points, each with its gradient and its Hessian's smallest eigenvalue.
    assert_eq!(h["critical_points"].as_array().unwrap().len(), 32);
    assert_eq!(h["escapes"].as_array().unwrap().len(), 9);
    assert_finding(&report, "gradient-flow prediction");
    assert!(dir.join("run/figures/strict_saddle.svg").is_file());
}

#[test]
fn strict_saddle_fails_when_the_run_on_the_stable_manifold_is_cut_short() {
    // Twenty steps from scale 1e-4 do not reach the saddle: the (ii) checks must fail.
    run_failing(
        "ss-short",
        &[
            "reproduce",
            "strict-saddle",
            "--quick",
            "--set",
            "saddle_steps=20",
            "--out",
            "run",
        ],
        &[
            "(ii) on the stable manifold: |f - lambda_1^2 / 4|",
            "(ii) on the stable manifold: ||grad f|| at the end",
        ],
    );
}

#[test]
fn strict_saddle_refuses_data_it_cannot_use() {
    let dir = scratch("ss-data");
    write_csv(
        &dir.join("m.csv"),
        &[(vec![1.0, 0.0], 1.0), (vec![0.0, 1.0], -1.0)],
    );
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "strict-saddle",
            "--data",
            "m.csv",
            "--out",
            "run",
        ],
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("PSD matrix"), "{}", out.stderr);
    assert!(!dir.join("run").exists());
}
