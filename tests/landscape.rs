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

/// M = sum_k lambda_k q_k q_k^T with lambda = 1.4, 1.0, 0.6, ... and q_k orthonormalized
/// pseudo-random vectors: symmetric, PSD, of rank r, well conditioned like SCIENCE.md's M, and
/// not diagonal (the held-out case: strict-saddle's own M is diagonal).
fn psd_matrix(d: usize, r: usize, seed: u64) -> String {
    let mut q: Vec<Vec<f64>> = Vec::new();
    for (v, _) in planted_data(r, d, seed) {
        let mut v = v;
        for u in &q {
            let dot: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(a, b)| *a -= dot * b);
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        q.push(v.iter().map(|a| a / norm).collect());
    }
    let lambda = |k: usize| 1.4 - 0.8 * k as f64 / (r.max(2) - 1) as f64;
    (0..d)
        .map(|i| {
            let row: Vec<String> = (0..d)
                .map(|j| {
                    format!(
                        "{:e}",
                        (0..r).map(|k| lambda(k) * q[k][i] * q[k][j]).sum::<f64>()
                    )
                })
                .collect();
            row.join(",") + "\n"
        })
        .collect()
}

#[test]
fn strict_saddle_passes_on_a_psd_matrix_from_data() {
    let dir = scratch("ss-matrix");
    std::fs::write(dir.join("m.csv"), psd_matrix(9, 3, 11)).unwrap();
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "strict-saddle",
            "--quick",
            "--data",
            "m.csv",
            "--set",
            "rank=3",
            "--out",
            "run",
        ],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/report.json")).unwrap())
            .unwrap();
    // 2^3 critical points of the 9 x 9 matrix, and its copy in the run folder for a rerun.
    assert_eq!(
        report["headline"]["critical_points"]
            .as_array()
            .unwrap()
            .len(),
        8
    );
    assert_finding(&report, "eigenbasis");
    let rerun = fdl_in(&dir, &["run", "run/config.toml", "--out", "again"]);
    assert_eq!(rerun.code, 0, "{}{}", rerun.stdout, rerun.stderr);
}

#[test]
fn strict_saddle_refuses_matrices_it_cannot_use() {
    let dir = scratch("ss-data");
    for (name, text, rank, needle) in [
        (
            "labels.csv",
            "x0,x1,y\n1,0,1\n0,1,-1\n".to_string(),
            2,
            "'x0' is not a finite number",
        ),
        (
            "asym.csv",
            "2,1\n0,2\n".to_string(),
            2,
            "row 2, column 'column 1': 0 but row 1, column 2 is 1",
        ),
        (
            "indefinite.csv",
            "1,0\n0,-1\n".to_string(),
            1,
            "not positive semidefinite",
        ),
        ("rank.csv", psd_matrix(6, 2, 3), 3, "M has rank 2"),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
        let rank = format!("rank={rank}");
        let out = fdl_in(
            &dir,
            &[
                "reproduce",
                "strict-saddle",
                "--data",
                name,
                "--set",
                &rank,
                "--out",
                "run",
            ],
        );
        assert_eq!(out.code, 2, "{name}: {}{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(needle), "{name}: {}", out.stderr);
        assert!(!dir.join("run").exists());
    }
}

#[test]
fn benign_landscape_quick_passes_and_reports_both_thresholds() {
    let (_, dir, report) = run_passing(
        "bl",
        &["reproduce", "benign-landscape", "--quick", "--out", "run"],
    );
    let n30 = &report["headline"]["n30"];
    // d = 10, n = 30: the sharp count crosses n between k = 3 and 4; sqrt(2n) = 7.75.
    assert!((n30["sharp_width"].as_f64().unwrap() - 3.41).abs() < 0.01);
    assert!((n30["du_lee_width"].as_f64().unwrap() - 7.746).abs() < 0.001);
    assert_eq!(n30["success"].as_object().unwrap().len(), 16);
    assert_finding(&report, "not the sharp threshold");
    assert!(dir.join("run/figures/benign_landscape.svg").is_file());
}

#[test]
fn benign_landscape_fails_when_lbfgs_is_cut_short() {
    // Three iterations reach no minimum: the overparametrized widths no longer all succeed and
    // nothing is certified below the threshold.
    run_failing(
        "bl-short",
        &[
            "reproduce",
            "benign-landscape",
            "--quick",
            "--set",
            "lbfgs_iterations=3",
            "--out",
            "run",
        ],
        &[
            "n = 30: smallest success fraction over the widths with dk - k(k-1)/2 > n (k = 4..16)",
            "n = 30: fewest distinct certified spurious minima over the widths with dk - k(k-1)/2 < n (k = 1..3)",
        ],
    );
}

/// Targets y = x^T B B^T x / d of inputs uniform on [-1, 1]^d (not SCIENCE.md's Gaussian
/// inputs, nor its generator): the held-out case of benign-landscape.
fn quadratic_targets(n: usize, d: usize, seed: u64) -> Vec<(Vec<f64>, f64)> {
    let b: Vec<Vec<f64>> = planted_data(d, d, seed + 1)
        .into_iter()
        .map(|r| r.0)
        .collect();
    planted_data(n, d, seed)
        .into_iter()
        .map(|(x, _)| {
            let y = (0..d)
                .map(|j| (0..d).map(|i| x[i] * b[i][j]).sum::<f64>().powi(2))
                .sum::<f64>()
                / d as f64;
            (x, y)
        })
        .collect()
}

#[test]
fn benign_landscape_passes_on_held_out_data_and_refuses_ill_conditioned_sizes() {
    let dir = scratch("bl-data");
    // d = 6, n = 14: dk - k(k-1)/2 = 6, 11, 15 for k = 1, 2, 3.
    write_csv(&dir.join("q.csv"), &quadratic_targets(14, 6, 21));
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "benign-landscape",
            "--quick",
            "--data",
            "q.csv",
            "--out",
            "run",
        ],
    );
    let report = assert_passed(&out, &dir.join("run"));
    let n14 = &report["headline"]["n14"];
    assert_eq!(n14["d"], 6);
    assert_eq!(n14["cutoff"], 3);

    // 16 points in d = 5 exceed 0.75 d(d+1)/2 = 11.25.
    write_csv(&dir.join("full.csv"), &quadratic_targets(16, 5, 3));
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "benign-landscape",
            "--data",
            "full.csv",
            "--out",
            "refused",
        ],
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("ill-conditioned"), "{}", out.stderr);
    assert!(!dir.join("refused").exists());
}
