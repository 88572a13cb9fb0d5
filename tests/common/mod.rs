//! Helpers for the end-to-end tests: run the binary, make scratch folders and data files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What one invocation of `fdl` produced.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `fdl` binary with `args` in `cwd`.
pub fn fdl_in(cwd: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_fdl"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("fdl runs");
    Output {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A fresh empty scratch folder.
pub fn scratch(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("fdl-test-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Runs `fdl` in a fresh scratch folder.
pub fn fdl(name: &str, args: &[&str]) -> (Output, PathBuf) {
    let dir = scratch(name);
    (fdl_in(&dir, args), dir)
}

/// Writes a CSV with header x0..x{d-1},y.
pub fn write_csv(path: &Path, rows: &[(Vec<f64>, f64)]) {
    let d = rows[0].0.len();
    let mut text: String = (0..d).map(|j| format!("x{j},")).collect();
    text.push_str("y\n");
    for (x, y) in rows {
        for v in x {
            text.push_str(&format!("{v},"));
        }
        text.push_str(&format!("{y}\n"));
    }
    std::fs::write(path, text).expect("write csv");
}

/// Deterministic pseudo-random separable data: N points in R^D, labels from the sign of a
/// planted predictor (so the set is separable through the origin).
pub fn planted_data(n: usize, d: usize, seed: u64) -> Vec<(Vec<f64>, f64)> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let w: Vec<f64> = (0..d).map(|_| next()).collect();
    (0..n)
        .map(|_| {
            let x: Vec<f64> = (0..d).map(|_| next()).collect();
            let s: f64 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
            (x, if s >= 0.0 { 1.0 } else { -1.0 })
        })
        .collect()
}

/// The parsed report.json of a run folder.
pub fn report(folder: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(folder.join("report.json")).expect("report.json exists");
    serde_json::from_str(&text).expect("report.json parses")
}

/// Names of the failing checks of a report.
pub fn failing(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["pass"] != true)
        .map(|c| {
            format!(
                "{} = {} ({} {})",
                c["name"], c["value"], c["comparison"], c["threshold"]
            )
        })
        .collect()
}

/// Runs `fdl` with `args` (which must write to `--out run`), requires exit 0 and every check of
/// the report passing, and returns the output, the scratch folder and the report.
pub fn run_passing(name: &str, args: &[&str]) -> (Output, PathBuf, serde_json::Value) {
    let (out, dir) = fdl(name, args);
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let report = assert_passed(&out, &dir.join("run"));
    (out, dir, report)
}

/// The predictors.csv rows of `labels`, in that order; panics naming the first one missing.
pub fn predictor_rows(run: &Path, labels: &[&str]) -> Vec<String> {
    let text = std::fs::read_to_string(run.join("predictors.csv")).expect("predictors.csv");
    labels
        .iter()
        .map(|v| {
            text.lines()
                .find(|l| l.starts_with(&format!("{v},")))
                .unwrap_or_else(|| panic!("{}: predictors.csv lacks {v}", run.display()))
                .to_string()
        })
        .collect()
}

/// Asserts that a run exited 0 with every check of the report in `run` passing (none failing,
/// none undecided), and returns the report.
pub fn assert_passed(out: &Output, run: &Path) -> serde_json::Value {
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let report = report(run);
    assert_eq!(report["passed"], true, "failing: {:?}", failing(&report));
    assert_eq!(report["verdict"], "pass");
    let checks = report["checks"].as_array().expect("checks");
    assert!(!checks.is_empty(), "a report without checks");
    for c in checks {
        assert_eq!(c["verdict"], "pass", "{c}");
    }
    report
}

/// Runs `fdl` with `args` (which must write to `--out run`) expecting a deliberately broken
/// setting to FAIL: exit 1, a complete run folder, and a failing check whose name contains each
/// of `expected`. Returns the report.
pub fn run_failing(name: &str, args: &[&str], expected: &[&str]) -> serde_json::Value {
    let (out, dir) = fdl(name, args);
    assert_eq!(
        out.code, 1,
        "{name}: expected a failed check (exit 1)\nstdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(out.stdout.contains("FAIL"), "{}", out.stdout);
    let report = report(&dir.join("run"));
    assert_eq!(report["passed"], false);
    assert_eq!(report["verdict"], "fail");
    let failed = failing(&report);
    for needle in expected {
        assert!(
            failed.iter().any(|f| f.contains(needle)),
            "{name}: no failing check contains {needle:?}; failing: {failed:?}"
        );
    }
    report
}

/// Asserts that the report states a finding containing `needle`.
pub fn assert_finding(report: &serde_json::Value, needle: &str) {
    let findings = report["findings"].as_array().expect("findings");
    assert!(
        findings
            .iter()
            .any(|f| f.as_str().is_some_and(|f| f.contains(needle))),
        "no finding with {needle:?} in {findings:?}"
    );
}
