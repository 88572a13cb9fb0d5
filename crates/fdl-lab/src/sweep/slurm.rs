//! Slurm: the sweep's missing cells as one job array. Each array task runs
//! `fdl sweep cell FOLDER --index i` for its cells (several per task if asked), in the shared
//! sweep folder; Slurm does the scheduling, fdl only writes and submits the script.

use super::{CellState, Sweep};
use crate::error::LabError;
use crate::run_folder::write_atomically;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// What the job array asks of Slurm.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` (e.g. `00:30:00`).
    pub time: Option<String>,
    /// `--cpus-per-task` (also each cell's thread count).
    pub cpus_per_task: usize,
    /// `--mem` (e.g. `4G`).
    pub mem: Option<String>,
    /// Cells run one after another by each array task.
    pub cells_per_task: usize,
    /// Further `#SBATCH` options, verbatim (`--account=x`).
    pub extra: Vec<String>,
    /// Write the script without submitting it.
    pub dry_run: bool,
}

/// A written job-array script.
#[derive(Debug, Clone)]
pub struct JobArray {
    /// The script.
    pub script: PathBuf,
    /// The array task ids it runs (empty: every cell is complete).
    pub tasks: Vec<usize>,
}

/// The array tasks that hold a cell not yet complete, with `per_task` cells each.
pub fn pending_tasks(sweep: &Sweep, per_task: usize) -> Vec<usize> {
    let per_task = per_task.max(1);
    let mut tasks: Vec<usize> = sweep
        .cells
        .iter()
        .filter(|c| !matches!(sweep.state(c.index), CellState::Complete(_)))
        .map(|c| c.index / per_task)
        .collect();
    tasks.dedup();
    tasks
}

/// Slurm's `--array` syntax for sorted ids: runs joined, `0-3,7,9-10`.
pub fn array_ranges(ids: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut k = 0;
    while k < ids.len() {
        let start = ids[k];
        while k + 1 < ids.len() && ids[k + 1] == ids[k] + 1 {
            k += 1;
        }
        parts.push(if ids[k] == start {
            start.to_string()
        } else {
            format!("{start}-{}", ids[k])
        });
        k += 1;
    }
    parts.join(",")
}

/// The sbatch script: one array task per entry of `tasks`, running its cells with `exe`.
pub fn script(sweep: &Sweep, exe: &Path, tasks: &[usize], options: &SlurmOptions) -> String {
    let folder = absolute(&sweep.folder);
    let per_task = options.cells_per_task.max(1);
    let cpus = options.cpus_per_task.max(1);
    let mut lines = vec![
        "#!/bin/bash".to_string(),
        format!("#SBATCH --job-name=fdl-{}", sweep.spec.experiment),
        format!("#SBATCH --array={}", array_ranges(tasks)),
        format!("#SBATCH --cpus-per-task={cpus}"),
        format!("#SBATCH --output={}/slurm/%A_%a.out", folder.display()),
    ];
    for (flag, value) in [
        ("partition", &options.partition),
        ("time", &options.time),
        ("mem", &options.mem),
    ] {
        if let Some(v) = value {
            lines.push(format!("#SBATCH --{flag}={v}"));
        }
    }
    lines.extend(options.extra.iter().map(|e| format!("#SBATCH {e}")));
    lines.push(format!(
        r#"
# Written by `fdl sweep slurm` for the sweep in {folder}: {cells} cells, {per_task} per task.
# A cell already complete is skipped, so resubmitting reruns only what is missing or failed.
set -u
export RAYON_NUM_THREADS="${{SLURM_CPUS_PER_TASK:-{cpus}}}"
status=0
for j in $(seq 0 {last}); do
    i=$(( SLURM_ARRAY_TASK_ID * {per_task} + j ))
    [ "$i" -lt {cells} ] || break
    {exe} sweep cell {folder_q} --index "$i" || status=$?
done
exit "$status"
"#,
        folder = folder.display(),
        cells = sweep.cells.len(),
        last = per_task - 1,
        exe = quote(&absolute(exe)),
        folder_q = quote(&folder),
    ));
    lines.join("\n")
}

/// Writes the job-array script for the cells not yet complete into `slurm/`.
pub fn write(sweep: &Sweep, exe: &Path, options: &SlurmOptions) -> Result<JobArray, LabError> {
    let tasks = pending_tasks(sweep, options.cells_per_task);
    let dir = sweep.folder.join("slurm");
    std::fs::create_dir_all(&dir).map_err(|e| LabError::io(&dir, e))?;
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace([':', '-'], "");
    let mut path = dir.join(format!("array-{stamp}.sbatch"));
    let mut k = 2;
    while path.exists() {
        path = dir.join(format!("array-{stamp}-{k}.sbatch"));
        k += 1;
    }
    if !tasks.is_empty() {
        write_atomically(&path, script(sweep, exe, &tasks, options).as_bytes())?;
    }
    Ok(JobArray {
        script: path,
        tasks,
    })
}

/// Submits a written script with `sbatch --parsable`; returns the job id.
pub fn submit(job: &JobArray) -> Result<String, LabError> {
    let output = Command::new("sbatch")
        .arg("--parsable")
        .arg(&job.script)
        .output()
        .map_err(|e| {
            LabError::Usage(format!(
                "could not run sbatch ({e}); is Slurm installed here? --dry-run writes the script only"
            ))
        })?;
    if !output.status.success() {
        return Err(LabError::Usage(format!(
            "sbatch {} failed: {}",
            job.script.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let id = String::from_utf8_lossy(&output.stdout).trim().to_string();
    // `--parsable` prints `id` or `id;cluster`.
    Ok(id.split(';').next().unwrap_or_default().to_string())
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Single-quoted for bash.
fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_ids_are_written_as_runs() {
        assert_eq!(array_ranges(&[0, 1, 2, 3, 7, 9, 10]), "0-3,7,9-10");
        assert_eq!(array_ranges(&[5]), "5");
        assert_eq!(array_ranges(&[]), "");
    }

    #[test]
    fn quoting_survives_quotes() {
        assert_eq!(quote(Path::new("/a b/it's")), r"'/a b/it'\''s'");
    }
}
