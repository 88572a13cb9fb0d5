//! The example experiment through the lab, as `custom-architecture reproduce` runs it.

use custom_architecture::Depth3Margin;
use fdl_lab::{Lab, RunRequest, Verdict};

fn run(name: &str, sets: &[&str]) -> fdl_lab::Report {
    let out = std::env::temp_dir().join(format!("fdl-depth3-{name}-{}", std::process::id()));
    let request = RunRequest {
        experiment: "depth3-margin".into(),
        out: Some(out.clone()),
        sets: sets.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let lab = Lab::with_builtins().register::<Depth3Margin>();
    let outcome = lab.execute(&request).expect("the run completes");
    // The run folder re-checks to the same verdict without retraining.
    assert_eq!(
        lab.check(&out).unwrap().report.verdict,
        outcome.report.verdict
    );
    std::fs::remove_dir_all(out).unwrap();
    outcome.report
}

#[test]
fn smoothed_margin_of_a_depth_three_net_never_decreases_after_the_fit() {
    let report = run("pass", &["steps=5000"]);
    assert_eq!(report.verdict, Verdict::Pass, "{}", report.table());
    assert_eq!(report.checks.len(), 2);
}

#[test]
fn a_sign_step_that_kills_every_relu_fails() {
    let report = run("fail", &["steps=2000", "sign_step=1e-3"]);
    assert_eq!(report.verdict, Verdict::Fail, "{}", report.table());
}
