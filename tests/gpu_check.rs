//! scripts/compare_runs.py, which the GPU check (scripts/gpu-check.sh) uses to compare a GPU run
//! with the CPU run of the same seed: equal runs compare equal, and a changed verdict or number
//! is reported, with where.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;

fn compare(reference: &Path, other: &Path) -> serde_json::Value {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("python3")
        .arg(format!("{root}/scripts/compare_runs.py"))
        .args([reference, other])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}

#[test]
fn compare_runs_finds_a_changed_verdict_and_the_largest_difference() {
    let (out, dir) = fdl(
        "compare",
        &["reproduce", "depth-linear", "--quick", "--out", "a"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let same = fdl_in(
        &dir,
        &["reproduce", "depth-linear", "--quick", "--out", "b"],
    );
    assert_eq!(same.code, 0);
    let (a, b) = (dir.join("a"), dir.join("b"));
    let equal = compare(&a, &b);
    assert_eq!(equal["same_verdict"], true);
    assert_eq!(
        equal["max_relative_difference"], 0.0,
        "one thread count, one seed"
    );
    assert!(equal["compared_numbers"].as_u64().unwrap() > 10);

    // The second run's first check fails with a value 1% off.
    let path = b.join("report.json");
    let mut report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let check = &mut report["checks"][0];
    let name = check["name"].as_str().unwrap().to_string();
    check["value"] = (check["value"].as_f64().unwrap() * 1.01).into();
    check["pass"] = false.into();
    report["verdict"] = "fail".into();
    std::fs::write(&path, report.to_string()).unwrap();
    let changed = compare(&a, &b);
    assert_eq!(changed["same_verdict"], false);
    let worst = changed["max_relative_difference"].as_f64().unwrap();
    assert!((worst - 0.01 / 1.01).abs() < 1e-9, "{worst}");
    assert_eq!(changed["where"], format!("checks.{name}"));
}
