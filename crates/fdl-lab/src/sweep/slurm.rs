//! Slurm: the sweep's missing cells as one job array. Array task `t` runs the cells on line
//! `t + 1` of the array's cell list (`fdl sweep cell FOLDER --index i` for each), in the shared
//! sweep folder; Slurm does the scheduling, fdl only writes and submits the script. Task ids run
//! 0..tasks whatever the cell indices, so a sweep of any size fits under Slurm's MaxArraySize as
//! long as its task count does (`--cells-per-task` divides it).

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
    /// At most this many array tasks at once (`--array=...%N`).
    pub max_running: Option<usize>,
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
    /// The cells of each array task (empty: every cell is complete).
    pub tasks: Vec<Vec<usize>>,
}

/// The cells not yet complete, `per_task` to an array task.
pub fn pending_tasks(sweep: &Sweep, per_task: usize) -> Vec<Vec<usize>> {
    let pending: Vec<usize> = sweep
        .cells
        .iter()
        .map(|c| c.index)
        .filter(|&i| !matches!(sweep.state(i), CellState::Complete(_)))
        .collect();
    pending
        .chunks(per_task.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// The sbatch script: array tasks 0..tasks, task `t` running the cells on line `t + 1` of
/// `cell_list` with `exe`.
pub fn script(
    sweep: &Sweep,
    exe: &Path,
    tasks: usize,
    cell_list: &Path,
    options: &SlurmOptions,
) -> String {
    let folder = absolute(&sweep.folder);
    let cpus = options.cpus_per_task.max(1);
    let throttle = options
        .max_running
        .map_or_else(String::new, |n| format!("%{n}"));
    let mut lines = vec![
        "#!/bin/bash".to_string(),
        format!("#SBATCH --job-name=fdl-{}", sweep.spec.experiment),
        format!("#SBATCH --array=0-{}{throttle}", tasks.saturating_sub(1)),
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
# Written by `fdl sweep slurm` for the sweep in {folder}: {tasks} task(s) over the cells that
# were not complete. A cell complete by the time its task runs is skipped, so resubmitting
# (`fdl sweep slurm` again) reruns only what is still missing or failed.
set -u
export RAYON_NUM_THREADS="${{SLURM_CPUS_PER_TASK:-{cpus}}}"
cells=$(sed -n "$(( SLURM_ARRAY_TASK_ID + 1 ))p" {list})
status=0
for i in $cells; do
    {exe} sweep cell {folder_q} --index "$i" || status=$?
done
exit "$status"
"#,
        folder = folder.display(),
        list = quote(&absolute(cell_list)),
        exe = quote(&absolute(exe)),
        folder_q = quote(&folder),
    ));
    lines.join("\n")
}

/// Writes the job-array script and its cell list for the cells not yet complete into
/// `slurm/`.
pub fn write(sweep: &Sweep, exe: &Path, options: &SlurmOptions) -> Result<JobArray, LabError> {
    let folder = absolute(&sweep.folder);
    if folder.to_string_lossy().contains(char::is_whitespace) {
        return Err(LabError::Usage(format!(
            "sweep folder '{}': #SBATCH --output cannot name a path with spaces; choose another --out",
            folder.display()
        )));
    }
    let tasks = pending_tasks(sweep, options.cells_per_task);
    let dir = sweep.folder.join("slurm");
    std::fs::create_dir_all(&dir).map_err(|e| LabError::io(&dir, e))?;
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace([':', '-'], "");
    let mut base = format!("array-{stamp}");
    let mut k = 2;
    while dir.join(format!("{base}.sbatch")).exists() {
        base = format!("array-{stamp}-{k}");
        k += 1;
    }
    let path = dir.join(format!("{base}.sbatch"));
    if !tasks.is_empty() {
        let list = dir.join(format!("{base}.cells"));
        let lines: Vec<String> = tasks
            .iter()
            .map(|cells| {
                cells
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        write_atomically(&list, format!("{}\n", lines.join("\n")).as_bytes())?;
        let text = script(sweep, exe, tasks.len(), &list, options);
        write_atomically(&path, text.as_bytes())?;
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
    fn quoting_survives_quotes() {
        assert_eq!(quote(Path::new("/a b/it's")), r"'/a b/it'\''s'");
    }
}
