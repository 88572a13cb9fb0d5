//! Local execution: the sweep's missing cells as parallel worker processes on this machine.
//!
//! Each cell runs in its own process (`fdl sweep cell FOLDER --index i`, the same binary), so a
//! crash or `kill -9` loses only that cell, and the process's rayon pool (which Burn's flex
//! backend and faer use) gets `cores / jobs` threads: `jobs` cells fill the machine without
//! oversubscribing it. Workers run in their own process group: Ctrl-C reaches the sweep alone,
//! which stops them and removes what they were writing.

use super::{CellError, CellState, Sweep};
use crate::error::LabError;
use crate::report::Verdict;
use crate::run_folder::{parse_staging, staging_name};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::VecDeque;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How a local sweep ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Every cell that was missing has been attempted.
    Finished,
    /// Ctrl-C (or SIGTERM): the cells in flight were stopped and nothing of them is left.
    Interrupted,
}

/// The cores this process may use.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Threads per cell so that `jobs` cells share `cores` without oversubscription.
pub fn threads_per_cell(cores: usize, jobs: usize) -> usize {
    (cores / jobs.max(1)).max(1)
}

/// One worker process.
struct Worker {
    index: usize,
    child: Child,
}

/// Runs every cell that is not complete with `jobs` workers of the program `exe` (the running
/// binary, so a lab with the user's own experiments runs them too).
pub fn run(sweep: &Sweep, exe: &Path, jobs: usize) -> Result<Ended, LabError> {
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        // Only the first handler of a process can be installed; a second sweep in the same
        // process (tests) keeps the first, which sets a flag nobody reads: harmless.
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    }
    run_until(sweep, exe, jobs, &interrupted)
}

/// [`run`] with the interrupt flag given (tests set it themselves).
pub fn run_until(
    sweep: &Sweep,
    exe: &Path,
    jobs: usize,
    interrupted: &AtomicBool,
) -> Result<Ended, LabError> {
    remove_stale_staging(sweep);
    let mut pending: VecDeque<usize> = sweep
        .cells
        .iter()
        .map(|c| c.index)
        .filter(|&i| !matches!(sweep.state(i), CellState::Complete(_)))
        .collect();
    let jobs = jobs.max(1);
    let threads = threads_per_cell(available_cores(), jobs);
    let bar = ProgressBar::new(pending.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} cells, {elapsed} elapsed, eta {eta} {msg}",
        )
        .expect("template"),
    );
    let mut running: Vec<Worker> = Vec::new();
    let ended = drive(
        sweep,
        exe,
        jobs,
        threads,
        interrupted,
        &mut pending,
        &mut running,
        &bar,
    );
    // Interrupted or failed: stop the workers and remove what they were writing.
    for mut w in running {
        let _ = w.child.kill();
        let _ = w.child.wait();
        remove_staging(sweep, w.index, w.child.id());
    }
    match ended {
        Ok(Ended::Finished) => bar.finish(),
        _ => bar.abandon_with_message("interrupted"),
    }
    ended
}

/// Keeps `jobs` workers busy until no cell is left or the flag is set.
#[allow(clippy::too_many_arguments)]
fn drive(
    sweep: &Sweep,
    exe: &Path,
    jobs: usize,
    threads: usize,
    interrupted: &AtomicBool,
    pending: &mut VecDeque<usize>,
    running: &mut Vec<Worker>,
    bar: &ProgressBar,
) -> Result<Ended, LabError> {
    let (mut pass, mut other) = (0usize, 0usize);
    loop {
        if interrupted.load(Ordering::SeqCst) {
            return Ok(Ended::Interrupted);
        }
        while running.len() < jobs
            && let Some(index) = pending.pop_front()
        {
            running.push(spawn(sweep, exe, index, threads)?);
        }
        if running.is_empty() {
            return Ok(Ended::Finished);
        }
        let mut k = 0;
        while k < running.len() {
            match running[k].child.try_wait() {
                Ok(None) => k += 1,
                Ok(Some(status)) => {
                    let mut w = running.swap_remove(k);
                    match settle(sweep, &mut w, status) {
                        CellState::Complete(Verdict::Pass) => pass += 1,
                        _ => other += 1,
                    }
                    bar.inc(1);
                    bar.set_message(format!("({pass} pass, {other} not)"));
                }
                Err(e) => return Err(LabError::io(&sweep.log_file(running[k].index), e)),
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts cell `index`'s worker, its output into the cell's log.
fn spawn(sweep: &Sweep, exe: &Path, index: usize, threads: usize) -> Result<Worker, LabError> {
    let log_path = sweep.log_file(index);
    if let Some(dir) = log_path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| LabError::io(dir, e))?;
    }
    let log = std::fs::File::create(&log_path).map_err(|e| LabError::io(&log_path, e))?;
    let err = log.try_clone().map_err(|e| LabError::io(&log_path, e))?;
    let _ = std::fs::remove_file(sweep.error_file(index));
    let child = Command::new(exe)
        .args(["sweep", "cell"])
        .arg(&sweep.folder)
        .args(["--index", &index.to_string()])
        .env("RAYON_NUM_THREADS", threads.to_string())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| LabError::io(exe, e))?;
    Ok(Worker { index, child })
}

/// The cell's state after its worker exited; a worker that died without recording why (a
/// signal, a panic) gets a record naming its exit status and log.
fn settle(sweep: &Sweep, w: &mut Worker, status: ExitStatus) -> CellState {
    remove_staging(sweep, w.index, w.child.id());
    let state = sweep.state(w.index);
    if !status.success() && !matches!(state, CellState::Failed(_) | CellState::Complete(_)) {
        // A shell's convention for a signal: 128 + its number (137 for kill -9).
        let (code, how) = match (status.code(), status.signal()) {
            (Some(c), _) => (c, format!("code {c}")),
            (None, Some(s)) => (128 + s, format!("signal {s}")),
            (None, None) => (crate::error::EXIT_UNFINISHED, "an unknown status".into()),
        };
        let failure = CellError {
            exit_code: code,
            error: format!(
                "the worker exited with {how} without recording an error; see {}",
                sweep.log_file(w.index).display()
            ),
        };
        let _ = sweep.record_failure(w.index, &failure);
        return CellState::Failed(failure);
    }
    state
}

/// The staging folder a cell's worker `pid` writes (see `RunFolder::create`).
fn staging(sweep: &Sweep, index: usize, pid: u32) -> PathBuf {
    sweep
        .folder
        .join("cells")
        .join(staging_name(&sweep.cell_name(index), pid))
}

fn remove_staging(sweep: &Sweep, index: usize, pid: u32) {
    let _ = std::fs::remove_dir_all(staging(sweep, index, pid));
}

/// Removes the staging folders left by dead processes of this machine (a sweep killed with
/// `kill -9` leaves them); those of live processes and of other machines (Slurm tasks on other
/// nodes of a shared folder) stay.
pub fn remove_stale_staging(sweep: &Sweep) {
    let Ok(entries) = std::fs::read_dir(sweep.folder.join("cells")) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((_, pid)) = parse_staging(&name) else {
            continue;
        };
        if entry.path().is_dir() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_share_the_cores_without_oversubscription() {
        assert_eq!(threads_per_cell(2, 2), 1);
        assert_eq!(threads_per_cell(16, 4), 4);
        assert_eq!(threads_per_cell(16, 5), 3);
        assert_eq!(threads_per_cell(2, 8), 1);
        assert_eq!(threads_per_cell(8, 0), 8);
    }
}
