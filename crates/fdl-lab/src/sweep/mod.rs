//! Sweeps: one experiment over a grid of overrides times seeds, each cell an ordinary run folder
//! under the sweep folder, run in parallel processes on this machine ([`local`]) or as a Slurm
//! job array ([`slurm`]), resumable, and aggregated into pass rates and confidence intervals
//! ([`collect`]).
//!
//! The sweep folder:
//! ```text
//! sweep.toml          the spec (normalized); the folder is tied to it
//! sweep.json          manifest: fdl version, git commit, command line, the cell table
//! cells/0007/         cell 7's run folder, present only once complete (renamed into place)
//! cells/0007.error.json   why cell 7 could not finish (removed when it completes)
//! logs/0007.log       the output of cell 7's process (local runs)
//! slurm/              job-array scripts and their output
//! summary.csv, aggregate.csv, report.md, figures/   written by `fdl sweep collect`
//! ```

pub mod collect;
pub mod interval;
pub mod local;
mod plots;
pub mod slurm;
pub mod spec;

pub use spec::{Cell, PlotSpec, SweepSpec};

use crate::error::LabError;
use crate::lab::{Lab, RunRequest};
use crate::report::Verdict;
use crate::run_folder::write_atomically;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Where one cell stands.
#[derive(Debug, Clone, PartialEq)]
pub enum CellState {
    /// The run folder is in place, with this verdict.
    Complete(Verdict),
    /// The last attempt could not finish (exit code and message).
    Failed(CellError),
    /// Not run yet (or in flight).
    Missing,
}

/// The record of a cell that could not finish (`cells/NNNN.error.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellError {
    /// The exit code of the attempt (3: could not finish, 2: bad input; others: killed).
    pub exit_code: i32,
    /// What stopped it.
    pub error: String,
}

/// A sweep: its spec, its folder and its cells.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The spec.
    pub spec: SweepSpec,
    /// The sweep folder.
    pub folder: PathBuf,
    /// Every cell, in index order.
    pub cells: Vec<Cell>,
}

impl Sweep {
    /// The sweep of a spec file (folder: `out`, else `sweeps/<file stem>`) or of an existing
    /// sweep folder (its `sweep.toml`).
    pub fn open(path: &Path, out: Option<&Path>) -> Result<Self, LabError> {
        if path.is_dir() {
            let spec = SweepSpec::read(&path.join("sweep.toml"))?;
            if let Some(out) = out
                && out != path
            {
                return Err(LabError::Usage(format!(
                    "{} is a sweep folder; --out {} would be another one",
                    path.display(),
                    out.display()
                )));
            }
            return Ok(Self::new(spec, path.to_path_buf()));
        }
        let spec = SweepSpec::read(path)?;
        let folder: PathBuf = match out {
            Some(out) => out.to_path_buf(),
            None => {
                let stem = path
                    .file_stem()
                    .map_or_else(|| "sweep".to_string(), |s| s.to_string_lossy().into_owned());
                PathBuf::from("sweeps").join(stem)
            }
        };
        let sweep = Self::new(spec, folder);
        sweep.check_folder()?;
        Ok(sweep)
    }

    /// Refuses a folder prepared from a spec with other cells (its cell numbers would mean
    /// other runs); a spec that differs only in its plots is fine.
    fn check_folder(&self) -> Result<(), LabError> {
        let spec_file = self.folder.join("sweep.toml");
        if spec_file.exists() && !SweepSpec::read(&spec_file)?.same_cells(&self.spec) {
            return Err(LabError::Usage(format!(
                "{} holds a sweep of another spec (its cells would be renumbered); give another --out or remove it",
                self.folder.display()
            )));
        }
        Ok(())
    }

    /// A sweep of `spec` in `folder` (nothing written yet).
    pub fn new(spec: SweepSpec, folder: PathBuf) -> Self {
        let cells = spec.cells();
        Self {
            spec,
            folder,
            cells,
        }
    }

    /// Checks every cell's config against the experiment (so a bad grid value stops the sweep
    /// before anything runs), then writes `sweep.toml` and `sweep.json` if the folder is new, or
    /// checks that an existing folder was made from the same spec.
    pub fn prepare(&self, lab: &Lab) -> Result<(), LabError> {
        self.validate(lab)?;
        let spec_file = self.folder.join("sweep.toml");
        if spec_file.exists() {
            return self.check_folder();
        }
        for dir in ["cells", "logs"] {
            let path = self.folder.join(dir);
            std::fs::create_dir_all(&path).map_err(|e| LabError::io(&path, e))?;
        }
        let manifest = json!({
            "fdl_version": env!("CARGO_PKG_VERSION"),
            "git_commit": option_env!("FDL_GIT_COMMIT").filter(|c| !c.is_empty()),
            "git_dirty": option_env!("FDL_GIT_DIRTY").and_then(|d| d.parse::<bool>().ok()),
            "command_line": std::env::args().collect::<Vec<_>>(),
            "created": humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            "experiment": self.spec.experiment,
            "cells": self.cells.iter().map(|c| json!({
                "index": c.index,
                "folder": self.cell_name(c.index),
                "point": c.point,
                "seed": c.seed,
                "values": c.values.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
            })).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&manifest).expect("json");
        write_atomically(&self.folder.join("sweep.json"), text.as_bytes())?;
        // The spec last: its presence marks a prepared folder.
        write_atomically(&spec_file, self.spec.to_toml().as_bytes())
    }

    /// Checks every cell's config against the experiment; the error names the cell.
    pub fn validate(&self, lab: &Lab) -> Result<(), LabError> {
        for cell in &self.cells {
            lab.validate(&self.request(cell)).map_err(|e| {
                LabError::Usage(format!(
                    "sweep cell {} ({}): {e}",
                    cell.index,
                    self.describe(cell)
                ))
            })?;
        }
        Ok(())
    }

    /// Whether `prepare` has written the folder's spec.
    pub fn is_prepared(&self) -> bool {
        self.folder.join("sweep.toml").exists()
    }

    /// `k=v, k=v, seed=s` for messages.
    pub fn describe(&self, cell: &Cell) -> String {
        let mut parts: Vec<String> = cell
            .values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        parts.push(format!("seed={}", cell.seed));
        parts.join(", ")
    }

    /// The cell's folder name: its index, zero-padded to at least 4 digits.
    pub fn cell_name(&self, index: usize) -> String {
        let width = self.cells.len().saturating_sub(1).to_string().len().max(4);
        format!("{index:0width$}")
    }

    /// The cell's run folder.
    pub fn cell_dir(&self, index: usize) -> PathBuf {
        self.folder.join("cells").join(self.cell_name(index))
    }

    /// The record of the cell's last failed attempt.
    pub fn error_file(&self, index: usize) -> PathBuf {
        self.folder
            .join("cells")
            .join(format!("{}.error.json", self.cell_name(index)))
    }

    /// The output of the cell's process.
    pub fn log_file(&self, index: usize) -> PathBuf {
        self.folder
            .join("logs")
            .join(format!("{}.log", self.cell_name(index)))
    }

    /// The run request of a cell.
    pub fn request(&self, cell: &Cell) -> RunRequest {
        RunRequest {
            experiment: self.spec.experiment.clone(),
            quick: self.spec.quick,
            out: Some(self.cell_dir(cell.index)),
            keep_existing: true,
            seed: Some(cell.seed),
            overrides: self.spec.set.iter().chain(&cell.values).cloned().collect(),
            ..Default::default()
        }
    }

    /// Where a cell stands, from the files alone.
    pub fn state(&self, index: usize) -> CellState {
        let dir = self.cell_dir(index);
        if dir.is_dir() {
            let verdict = std::fs::read_to_string(dir.join("report.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| serde_json::from_value::<Verdict>(v["verdict"].clone()).ok());
            return match verdict {
                Some(v) => CellState::Complete(v),
                None => CellState::Failed(CellError {
                    exit_code: crate::error::EXIT_UNFINISHED,
                    error: format!("{}: no readable report.json", dir.display()),
                }),
            };
        }
        std::fs::read_to_string(self.error_file(index))
            .ok()
            .and_then(|t| serde_json::from_str::<CellError>(&t).ok())
            .map_or(CellState::Missing, CellState::Failed)
    }

    /// Records why a cell could not finish.
    pub fn record_failure(&self, index: usize, failure: &CellError) -> Result<(), LabError> {
        let text = serde_json::to_string_pretty(failure).expect("json");
        write_atomically(&self.error_file(index), text.as_bytes())
    }

    /// Runs one cell in this process unless it is complete; records a failure. `Ok` holds the
    /// verdict and whether it ran.
    pub fn run_cell(&self, lab: &Lab, index: usize) -> Result<(Verdict, bool), LabError> {
        let cell = self.cells.get(index).ok_or_else(|| {
            LabError::Usage(format!(
                "cell index {index} out of range: the sweep has {} cells (0..{})",
                self.cells.len(),
                self.cells.len()
            ))
        })?;
        if let CellState::Complete(v) = self.state(index) {
            return Ok((v, false));
        }
        // A new attempt: the record of an earlier one no longer says how the cell stands.
        let _ = std::fs::remove_file(self.error_file(index));
        match lab.execute(&self.request(cell)) {
            Ok(outcome) => match self.state(index) {
                // The folder in place, which may be a concurrent run's that finished first.
                CellState::Complete(v) => Ok((v, true)),
                _ => Ok((outcome.report.verdict, true)),
            },
            Err(e) => {
                self.record_failure(
                    index,
                    &CellError {
                        exit_code: e.exit_code(),
                        error: e.to_string(),
                    },
                )?;
                Err(e)
            }
        }
    }

    /// Counts of complete (by verdict), failed and missing cells.
    pub fn tally(&self) -> Tally {
        Tally::of(self.cells.iter().map(|c| self.state(c.index)))
    }
}

/// How many cells stand where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Complete, every check passes.
    pub pass: usize,
    /// Complete, a check fails.
    pub fail: usize,
    /// Complete, undecided.
    pub undecided: usize,
    /// Could not finish (recorded error).
    pub unfinished: usize,
    /// Not run (or in flight).
    pub missing: usize,
}

impl Tally {
    /// The counts of these states.
    pub fn of(states: impl IntoIterator<Item = CellState>) -> Tally {
        let mut t = Tally::default();
        for state in states {
            match state {
                CellState::Complete(Verdict::Pass) => t.pass += 1,
                CellState::Complete(Verdict::Fail) => t.fail += 1,
                CellState::Complete(Verdict::Undecided) => t.undecided += 1,
                CellState::Failed(_) => t.unfinished += 1,
                CellState::Missing => t.missing += 1,
            }
        }
        t
    }

    /// The sweep's exit code: 3 if a cell could not finish or is missing, else 1 if one fails,
    /// else 4 if one is undecided, else 0.
    pub fn exit_code(&self) -> i32 {
        use crate::error::{EXIT_FAIL, EXIT_PASS, EXIT_UNDECIDED, EXIT_UNFINISHED};
        if self.unfinished + self.missing > 0 {
            EXIT_UNFINISHED
        } else if self.fail > 0 {
            EXIT_FAIL
        } else if self.undecided > 0 {
            EXIT_UNDECIDED
        } else {
            EXIT_PASS
        }
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pass, {} fail, {} undecided, {} could not finish, {} not run",
            self.pass, self.fail, self.undecided, self.unfinished, self.missing
        )
    }
}
