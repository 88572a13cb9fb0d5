//! Command-line behaviour on bad usage and bad input: one-line error, exit code 2, nothing written.

mod common;
use common::*;
use std::path::Path;

fn assert_rejected(out: &Output, dir: &Path, needles: &[&str]) {
    assert_eq!(
        out.code, 2,
        "expected exit 2\nstdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    let err = out.stderr.trim();
    assert!(err.starts_with("error:"), "stderr: {err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}: {err}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .filter(|n| {
            let n = n.to_string_lossy();
            !n.ends_with(".csv") && !n.ends_with(".toml")
        })
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

#[test]
fn list_names_every_experiment_with_its_claim() {
    let (out, _) = fdl("list", &["list"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("depth-conv") && out.stdout.contains("depth-linear"));
    assert!(out.stdout.contains("Fourier"));
}

#[test]
fn devices_says_which_backends_start_here() {
    let (out, _) = fdl("devices", &["devices"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = |name: &str| {
        out.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} line: {}", out.stdout))
            .to_string()
    };
    assert_eq!(
        line("flex").split_whitespace().collect::<Vec<_>>(),
        ["flex", "ready", "f32", "f64"]
    );
    if !cfg!(feature = "cuda") {
        assert!(line("cuda").contains("not compiled in; rebuild with `--features cuda`"));
    }
}

#[test]
fn unknown_experiment_lists_the_known_ones() {
    let (out, dir) = fdl("unknown", &["reproduce", "depth-cnn", "--out", "run"]);
    assert_rejected(&out, &dir, &["depth-cnn", "depth-conv", "depth-linear"]);
}

#[test]
fn unknown_key_is_named_with_the_allowed_keys() {
    let (out, dir) = fdl(
        "key",
        &[
            "reproduce",
            "depth-conv",
            "--set",
            "stepz=5",
            "--out",
            "run",
        ],
    );
    assert_rejected(&out, &dir, &["`stepz`", "steps", "depths"]);
}

#[test]
fn ill_typed_value_names_the_key() {
    let (out, dir) = fdl(
        "type",
        &[
            "reproduce",
            "depth-conv",
            "--set",
            "training.steps=many",
            "--out",
            "run",
        ],
    );
    assert_rejected(&out, &dir, &["`training.steps`"]);
    let (out, dir) = fdl(
        "variant",
        &[
            "reproduce",
            "depth-conv",
            "--set",
            "training.loss=hinge",
            "--out",
            "run",
        ],
    );
    assert_rejected(&out, &dir, &["`training.loss`", "exponential", "logistic"]);
}

#[test]
fn set_without_a_value_is_rejected() {
    let (out, dir) = fdl(
        "set",
        &["reproduce", "depth-conv", "--set", "steps", "--out", "run"],
    );
    assert_rejected(&out, &dir, &["key=value"]);
}

#[test]
fn out_of_range_values_name_the_key_and_the_allowed_range() {
    for (set, key) in [
        (
            "depths=[0,2]",
            "`depths` = [0, 2]: a non-empty list, each a value in [1, 16]",
        ),
        (
            "training.step_size=-0.1",
            "`training.step_size` = -0.1: a positive number",
        ),
        ("training.dim=1", "`training.dim` = 1: at least 2"),
        ("training.steps=0", "`training.steps`"),
    ] {
        let (out, dir) = fdl(
            "range",
            &["reproduce", "depth-conv", "--set", set, "--out", "run"],
        );
        assert_rejected(&out, &dir, &[key]);
    }
}

#[test]
fn csv_errors_name_file_row_and_column() {
    let dir = scratch("csv");
    std::fs::write(dir.join("bad.csv"), "x0,x1,x2,y\n1,2,3,1\n4,oops,6,-1\n").unwrap();
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "depth-conv",
            "--data",
            "bad.csv",
            "--out",
            "run",
        ],
    );
    assert_rejected(&out, &dir, &["bad.csv", "row 3", "'x1'", "oops"]);
    std::fs::write(dir.join("hdr.csv"), "a,b,y\n1,2,1\n").unwrap();
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "depth-conv",
            "--data",
            "hdr.csv",
            "--out",
            "run",
        ],
    );
    assert_rejected(&out, &dir, &["hdr.csv", "header"]);
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "depth-conv",
            "--data",
            "missing.csv",
            "--out",
            "run",
        ],
    );
    assert_rejected(&out, &dir, &["missing.csv"]);
}

#[test]
fn labels_must_be_plus_or_minus_one() {
    let dir = scratch("labels");
    std::fs::write(dir.join("l.csv"), "x0,x1,x2,y\n1,2,3,1\n4,5,6,0\n").unwrap();
    let out = fdl_in(
        &dir,
        &["reproduce", "depth-conv", "--data", "l.csv", "--out", "run"],
    );
    assert_rejected(&out, &dir, &["label", "row 2", "-1 or +1"]);
}

#[test]
fn one_feature_is_too_few() {
    let dir = scratch("dim");
    std::fs::write(dir.join("d.csv"), "x0,y\n1,1\n-2,-1\n").unwrap();
    let out = fdl_in(
        &dir,
        &["reproduce", "depth-conv", "--data", "d.csv", "--out", "run"],
    );
    assert_rejected(&out, &dir, &["D >= 2"]);
}

#[test]
fn non_separable_data_is_bad_input() {
    let dir = scratch("sep");
    // x and -x with the same label: no predictor through the origin separates them.
    std::fs::write(dir.join("ns.csv"), "x0,x1,y\n1,2,1\n-1,-2,1\n3,1,-1\n").unwrap();
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "depth-conv",
            "--data",
            "ns.csv",
            "--out",
            "run",
        ],
    );
    assert_rejected(&out, &dir, &["not linearly separable"]);
}

#[test]
fn gd_global_min_rejects_zero_and_parallel_rows() {
    let dir = scratch("gd-rows");
    std::fs::write(dir.join("z.csv"), "x0,x1,y\n1,2,0.5\n0,0,-1.5\n").unwrap();
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "gd-global-min",
            "--data",
            "z.csv",
            "--out",
            "run",
        ],
    );
    assert_rejected(&out, &dir, &["input row 2 is zero"]);
    // Two parallel unit rows give identical kernel rows: H_inf is singular.
    std::fs::write(dir.join("p.csv"), "x0,x1,y\n1,2,0.5\n2,4,-1.5\n0,1,1\n").unwrap();
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "gd-global-min",
            "--data",
            "p.csv",
            "--out",
            "run",
        ],
    );
    assert_rejected(&out, &dir, &["H_inf is singular"]);
}

#[test]
fn kernel_vs_rich_rejects_data_no_predictor_interpolates() {
    let dir = scratch("kvr-inconsistent");
    // The same input twice with different targets.
    std::fs::write(dir.join("i.csv"), "x0,x1,y\n1,0,1\n1,0,2\n").unwrap();
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "kernel-vs-rich",
            "--data",
            "i.csv",
            "--out",
            "run",
        ],
    );
    assert_rejected(&out, &dir, &["no interpolant", "X beta = y"]);
}

#[test]
fn overparam_margin_rejects_high_dimensional_points_and_bad_labels() {
    let dir = scratch("om-bad");
    std::fs::write(dir.join("d3.csv"), "x0,x1,x2,y\n1,0,0,1\n0,1,0,-1\n").unwrap();
    std::fs::write(dir.join("lab.csv"), "x0,x1,y\n1,0,1\n0,1,0\n").unwrap();
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "overparam-margin",
            "--data",
            "d3.csv",
            "--out",
            "run",
        ],
    );
    assert_rejected(&out, &dir, &["3 features", "1 or 2 features"]);
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "overparam-margin",
            "--data",
            "lab.csv",
            "--out",
            "run",
        ],
    );
    assert_rejected(&out, &dir, &["row 2", "-1 or +1"]);
}

#[test]
fn experiments_on_built_in_data_refuse_user_data() {
    let dir = scratch("no-data");
    std::fs::write(dir.join("d.csv"), "x0,x1,y\n1,0,1\n0,1,-1\n").unwrap();
    for name in ["overparam-generalization", "ntk-vs-regularized"] {
        let out = fdl_in(
            &dir,
            &["reproduce", name, "--data", "d.csv", "--out", "run"],
        );
        assert_rejected(&out, &dir, &["does not take --data"]);
    }
}

#[test]
fn config_file_errors_name_the_file() {
    let dir = scratch("cfg");
    std::fs::write(dir.join("c.toml"), "steps = 5\n").unwrap();
    let out = fdl_in(&dir, &["run", "c.toml", "--out", "run"]);
    assert_rejected(&out, &dir, &["c.toml", "experiment"]);
    std::fs::write(
        dir.join("c.toml"),
        "experiment = \"depth-conv\"\nstepz = 5\n",
    )
    .unwrap();
    let out = fdl_in(&dir, &["run", "c.toml", "--out", "run"]);
    assert_rejected(&out, &dir, &["`stepz`"]);
}

#[test]
fn a_backend_that_is_not_compiled_in_is_a_usage_error() {
    for (backend, compiled) in [
        ("wgpu", cfg!(feature = "wgpu")),
        ("cuda", cfg!(feature = "cuda")),
    ] {
        if compiled {
            continue;
        }
        let (out, dir) = fdl(
            &format!("dev-{backend}"),
            &[
                "reproduce",
                "depth-conv",
                "--device",
                backend,
                "--out",
                "run",
            ],
        );
        assert_rejected(&out, &dir, &[backend, &format!("--features {backend}")]);
    }
}

#[test]
fn clap_usage_errors_exit_with_two() {
    let (out, _) = fdl("clap", &["reproduce"]);
    assert_eq!(out.code, 2);
    let (out, _) = fdl("clap2", &["reproduce", "depth-conv", "--dtype", "f16"]);
    assert_eq!(out.code, 2);
}

#[test]
fn divergence_exits_with_three_naming_the_step_and_the_quantity() {
    // A step 100 times 1/lambda_max(H_inf) blows the square loss up: the run cannot finish.
    let (out, dir) = fdl(
        "diverge",
        &[
            "reproduce",
            "gd-global-min",
            "--quick",
            "--set",
            "step_size=100",
            "--out",
            "run",
        ],
    );
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("diverged at step") && out.stderr.contains("m100"),
        "{}",
        out.stderr
    );
    // Nothing is half-written.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn an_unwritable_run_folder_exits_with_three() {
    let dir = scratch("io");
    std::fs::write(dir.join("a-file"), "not a folder").unwrap();
    let out = fdl_in(
        &dir,
        &["reproduce", "depth-conv", "--quick", "--out", "a-file/run"],
    );
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("a-file"), "{}", out.stderr);
}

#[test]
fn a_run_that_cannot_decide_a_check_exits_with_four() {
    // An n grid that stops at 0.3 d^2 never brings the NTK to 10% error at d = 10: its
    // sample complexity, and every check built on it, is undecided, never a pass.
    let (out, dir) = fdl(
        "undecided",
        &[
            "reproduce",
            "ntk-vs-regularized",
            "--quick",
            "--set",
            "n_max_factor=0.3",
            "--out",
            "run",
        ],
    );
    assert_eq!(out.code, 4, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("UNDECIDED"), "{}", out.stdout);
    let report = common::report(&dir.join("run"));
    assert_eq!(report["verdict"], "undecided");
    let undecided: Vec<&serde_json::Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] == "undecided")
        .collect();
    assert!(!undecided.is_empty());
    for c in undecided {
        assert_eq!(c["pass"], false);
        assert!(c["note"].as_str().unwrap().contains("never reaches"), "{c}");
    }
}
