//! Sweeps end to end on small depth-linear cells: plan, local run, resume, a cell that cannot
//! finish, kill -9 of a worker and Ctrl-C of the sweep, aggregation, the Slurm script, bad specs.

mod common;
use common::*;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A spec of depth-linear --quick cells (400 steps) with `extra` appended.
fn write_spec(dir: &Path, extra: &str) -> String {
    write_spec_steps(dir, 400, extra)
}

/// [`write_spec`] with `steps` training steps per cell.
fn write_spec_steps(dir: &Path, steps: usize, extra: &str) -> String {
    let text = format!(
        "experiment = \"depth-linear\"\nquick = true\nseeds = \"0..2\"\n[set]\n\"training.steps\" = {steps}\nconservation_steps = 100\n{extra}"
    );
    std::fs::write(dir.join("spec.toml"), text).unwrap();
    "spec.toml".into()
}

/// Each complete cell's manifest `started` time, by folder name.
fn started(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir.join("cells"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| {
            let m: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(e.path().join("manifest.json")).unwrap(),
            )
            .unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                m["started"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Everything in `cells/` that is not a complete cell folder.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("cells"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n.ends_with(".json"))
        .collect()
}

#[test]
fn a_sweep_runs_its_cells_resumes_without_rerunning_and_aggregates() {
    let dir = scratch("sweep-run");
    let spec = write_spec(&dir, "[grid]\n\"training.init_std\" = [0.1, 0.2]\n");
    let plan = fdl_in(&dir, &["sweep", "plan", &spec, "--out", "sw"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains("training.init_std=0.2, seed=1"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("4 cells (2 grid point(s) x 2 seed(s))")
    );

    let run = fdl_in(&dir, &["sweep", "run", &spec, "--out", "sw", "--jobs", "2"]);
    assert!(
        [0, 1, 4].contains(&run.code),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let sw = dir.join("sw");
    let first = started(&sw);
    assert_eq!(first.len(), 4);
    assert!(leftovers(&sw).is_empty(), "{:?}", leftovers(&sw));
    let summary = std::fs::read_to_string(sw.join("summary.csv")).unwrap();
    let rows: Vec<&str> = summary.lines().collect();
    assert_eq!(rows.len(), 5, "{summary}");
    assert!(rows[0].starts_with("cell,point,training.init_std,seed,status,exit_code"));
    assert!(rows[4].starts_with("0003,1,0.2,1,"), "{}", rows[4]);
    let aggregate = std::fs::read_to_string(sw.join("aggregate.csv")).unwrap();
    assert!(aggregate.contains("ci95_low") && aggregate.contains("pass_rate"));
    let report = std::fs::read_to_string(sw.join("report.md")).unwrap();
    assert!(report.contains("## Pass rate per check") && report.contains("/2 |"));
    assert!(sw.join("figures/checks.svg").exists());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sw.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(manifest["cells"].as_array().unwrap().len(), 4);
    assert_eq!(manifest["cells"][3]["seed"], 1);

    // A rerun finds every cell complete and runs none; collect gives the same table.
    let again = fdl_in(&dir, &["sweep", "run", &spec, "--out", "sw"]);
    assert_eq!(again.code, run.code);
    assert!(
        again.stderr.contains("(0 to run, 4 complete)"),
        "{}",
        again.stderr
    );
    assert_eq!(started(&sw), first);
    assert_eq!(
        std::fs::read_to_string(sw.join("summary.csv")).unwrap(),
        summary
    );
    // A changed spec may not reuse the folder (its cells would be renumbered).
    let other = write_spec(&dir, "[grid]\n\"training.init_std\" = [0.1, 0.3]\n");
    let refused = fdl_in(&dir, &["sweep", "run", &other, "--out", "sw"]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("another spec"),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_cell_that_cannot_finish_is_recorded_and_the_others_complete() {
    let dir = scratch("sweep-fail");
    let spec = write_spec(
        &dir,
        "\"training.step_rule\" = \"fixed\"\n[grid]\n\"training.step_size\" = [0.01, 1e8]\n",
    );
    let run = fdl_in(&dir, &["sweep", "run", &spec, "--out", "sw", "--jobs", "1"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let sw = dir.join("sw");
    // At step 1e8 seed 0 overflows at step 2; seed 1's loss underflows to 0 first and its run
    // completes (and fails its checks).
    let complete: Vec<String> = started(&sw).into_iter().map(|(c, _)| c).collect();
    assert_eq!(complete, ["0000", "0001", "0003"]);
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sw.join("cells/0002.error.json")).unwrap())
            .unwrap();
    assert_eq!(record["exit_code"], 3);
    assert!(
        record["error"].as_str().unwrap().contains("diverged"),
        "{record}"
    );
    assert!(
        run.stdout.contains("could not finish (exit 3)"),
        "{}",
        run.stdout
    );
    let status = fdl_in(&dir, &["sweep", "status", "sw"]);
    assert!(
        status.stdout.contains("1 could not finish")
            && status
                .stdout
                .contains("cell 2 (training.step_size=100000000.0, seed=0): exit 3"),
        "{}",
        status.stdout
    );
    let summary = std::fs::read_to_string(sw.join("summary.csv")).unwrap();
    assert!(summary.contains("could not finish,3,"), "{summary}");
}

/// Waits until `done` or panics after `limit`.
fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The cell and pid of a worker writing its staging folder (`.NNNN.tmp-HOST-PID`).
fn worker_pid(sw: &Path) -> Option<(String, u32)> {
    std::fs::read_dir(sw.join("cells"))
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .find_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let (cell, rest) = name.strip_prefix('.')?.split_once(".tmp-")?;
            let (_, pid) = rest.rsplit_once('-')?;
            cell.chars().all(|c| c.is_ascii_digit()).then_some(())?;
            Some((cell.to_string(), pid.parse().ok()?))
        })
}

#[test]
fn a_killed_worker_and_an_interrupted_sweep_lose_only_the_cells_in_flight() {
    let dir = scratch("sweep-kill");
    // Cells of about half a second, so that a worker can be caught in flight.
    let spec = write_spec_steps(
        &dir,
        3000,
        "[grid]\n\"training.init_std\" = [0.1, 0.2, 0.3]\n",
    );
    let sw = dir.join("sw");
    // In its own process group, which the Ctrl-C below signals as a terminal would.
    let mut sweep = Command::new(env!("CARGO_BIN_EXE_fdl"))
        .args(["sweep", "run", &spec, "--out", "sw", "--jobs", "1"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let limit = Duration::from_secs(120);
    wait_for(limit, "a complete cell", || sw.join("cells/0000").is_dir());
    // kill -9 a worker in flight (again if it finished before the signal landed).
    let killed = loop {
        let mut victim = None;
        wait_for(limit, "a worker", || {
            victim = worker_pid(&sw);
            victim.is_some()
        });
        let (cell, pid) = victim.unwrap();
        Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        let record = sw.join(format!("cells/{cell}.error.json"));
        wait_for(limit, "the cell to settle", || {
            record.exists() || sw.join("cells").join(&cell).is_dir()
        });
        if record.exists() {
            break cell;
        }
    };
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sw.join(format!("cells/{killed}.error.json"))).unwrap(),
    )
    .unwrap();
    assert!(
        record["error"].as_str().unwrap().contains("signal 9"),
        "{record}"
    );
    // The sweep goes on; interrupt it (SIGINT, as Ctrl-C) once another cell is in flight.
    wait_for(limit, "the next worker", || {
        worker_pid(&sw).is_some_and(|(c, _)| c != killed)
    });
    Command::new("kill")
        .args(["-INT", "--", &format!("-{}", sweep.id())])
        .status()
        .unwrap();
    let status = sweep.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        leftovers(&sw).iter().all(|n| n.ends_with(".error.json")),
        "{:?}",
        leftovers(&sw)
    );
    let before = started(&sw);
    assert!(!before.is_empty() && before.len() < 6, "{before:?}");

    let rerun = fdl_in(&dir, &["sweep", "run", &spec, "--out", "sw", "--jobs", "2"]);
    assert!(
        [0, 1, 4].contains(&rerun.code),
        "{}\n{}",
        rerun.stdout,
        rerun.stderr
    );
    let after = started(&sw);
    assert_eq!(
        after.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(),
        ["0000", "0001", "0002", "0003", "0004", "0005"]
    );
    for (cell, time) in &before {
        assert!(
            after.contains(&(cell.clone(), time.clone())),
            "cell {cell} was rerun"
        );
    }
    assert!(leftovers(&sw).is_empty(), "{:?}", leftovers(&sw));
}

#[test]
fn reproduce_with_seeds_is_a_one_point_sweep() {
    let dir = scratch("sweep-seeds");
    let out = fdl_in(
        &dir,
        &[
            "reproduce",
            "depth-linear",
            "--quick",
            "--seeds",
            "3,5",
            "--set",
            "training.steps=300",
            "--set",
            "conservation_steps=100",
            "--out",
            "sw",
        ],
    );
    assert!(
        [0, 1, 4].contains(&out.code),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout
            .contains("2 cells: 1 grid point(s) x 2 seed(s) (seeds 3, 5)"),
        "{}",
        out.stdout
    );
    let spec = std::fs::read_to_string(dir.join("sw/sweep.toml")).unwrap();
    assert!(
        spec.contains("seeds = [3, 5]") && spec.contains("\"training.steps\" = 300"),
        "{spec}"
    );
}

#[test]
fn the_slurm_array_script_runs_each_missing_cell() {
    let dir = scratch("sweep-slurm");
    let spec = write_spec(&dir, "[grid]\n\"training.init_std\" = [0.1, 0.2]\n");
    let out = fdl_in(
        &dir,
        &[
            "sweep",
            "slurm",
            &spec,
            "--out",
            "sw",
            "--dry-run",
            "--cells-per-task",
            "3",
            "--partition",
            "debug",
            "--time",
            "00:10:00",
            "--sbatch=--account=x",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("2 array task(s)"), "{}", out.stdout);
    let file = |ext: &str| {
        std::fs::read_dir(dir.join("sw/slurm"))
            .unwrap()
            .filter_map(|e| e.ok())
            .find(|e| e.file_name().to_string_lossy().ends_with(ext))
            .map(|e| e.path())
            .expect("a file")
    };
    let script = std::fs::read_to_string(file(".sbatch")).unwrap();
    for line in [
        "#SBATCH --array=0-1",
        "#SBATCH --partition=debug",
        "#SBATCH --time=00:10:00",
        "#SBATCH --account=x",
        "sweep cell",
    ] {
        assert!(script.contains(line), "script lacks {line:?}:\n{script}");
    }
    assert_eq!(
        std::fs::read_to_string(file(".cells")).unwrap(),
        "0 1 2\n3\n"
    );
    // Array task 1 as Slurm would start it: cell 3, and only it, completes.
    let task = Command::new("bash")
        .arg(file(".sbatch"))
        .env("SLURM_ARRAY_TASK_ID", "1")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        task.status.success(),
        "{}",
        String::from_utf8_lossy(&task.stderr)
    );
    assert_eq!(
        started(&dir.join("sw"))
            .into_iter()
            .map(|(c, _)| c)
            .collect::<Vec<_>>(),
        ["0003"]
    );
    // A spec with other cells may not read or extend the folder.
    let other = write_spec(&dir, "[grid]\n\"training.init_std\" = [0.1, 0.3]\n");
    for command in [&["status"][..], &["collect"], &["slurm", "--dry-run"]] {
        let mut args = vec!["sweep", command[0], &other, "--out", "sw"];
        args.extend(&command[1..]);
        let refused = fdl_in(&dir, &args);
        assert_eq!(refused.code, 2, "{command:?}: {}", refused.stderr);
        assert!(
            refused.stderr.contains("another spec"),
            "{}",
            refused.stderr
        );
    }
}

#[test]
fn bad_specs_and_bad_grid_values_stop_before_anything_runs() {
    let dir = scratch("sweep-bad");
    std::fs::write(
        dir.join("a.toml"),
        "experiment = \"depth-linear\"\ngird = 1\n",
    )
    .unwrap();
    let out = fdl_in(&dir, &["sweep", "run", "a.toml", "--out", "sw"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("a.toml") && out.stderr.contains("unknown key `gird`"),
        "{}",
        out.stderr
    );
    let spec = write_spec(&dir, "[grid]\ndepths = [[1, 2], [1, 99]]\n");
    let out = fdl_in(&dir, &["sweep", "run", &spec, "--out", "sw"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("sweep cell 2") && out.stderr.contains("depths"),
        "{}",
        out.stderr
    );
    assert!(!dir.join("sw").exists());
    let out = fdl_in(&dir, &["reproduce", "depth-linear", "--seeds", "5..2"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--seeds"), "{}", out.stderr);
}
