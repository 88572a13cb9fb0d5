//! The run folder (DESIGN.md's contract), written under a temporary name and renamed at the end
//! so that a reader never sees a half-written run.

use crate::error::LabError;
use std::fs;
use std::path::{Path, PathBuf};

/// A run folder being written; removed on drop unless committed.
#[derive(Debug)]
pub struct RunFolder {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

impl RunFolder {
    /// Creates `.<name>.tmp-<host>-<pid>` beside `target`, with a `figures/` subfolder (the
    /// host too, so that processes on two machines sharing a folder never collide).
    pub fn create(target: &Path) -> Result<Self, LabError> {
        let name = target.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
            LabError::Usage(format!("--out {}: not a folder name", target.display()))
        })?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| LabError::io(&parent, e))?;
        let staging = parent.join(staging_name(name, std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| LabError::io(&staging, e))?;
        }
        let figures = staging.join("figures");
        fs::create_dir_all(&figures).map_err(|e| LabError::io(&figures, e))?;
        Ok(Self {
            target: target.to_path_buf(),
            staging,
            committed: false,
        })
    }

    /// Where files are written until [`commit`](Self::commit).
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// Writes one file into the staging folder.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> Result<(), LabError> {
        let path = self.staging.join(name);
        fs::write(&path, contents).map_err(|e| LabError::io(&path, e))
    }

    /// Writes `data` as CSV (x0..x{d-1}, y) under `name` in the staging folder.
    pub fn write_dataset(&self, name: &str, data: &fdl_data::Dataset) -> Result<(), LabError> {
        let mut csv = Vec::new();
        fdl_data::write_csv(data, &mut csv).map_err(|e| LabError::Io {
            path: name.into(),
            source: std::io::Error::other(e),
        })?;
        self.write(name, csv)
    }

    /// Moves the staging folder to the target unless one is there already (another run of the
    /// same sweep cell finished first): one `rename`, so a complete folder is never replaced
    /// and never briefly absent. Returns whether this run's folder was moved into place.
    pub fn commit_unless_present(mut self) -> Result<bool, LabError> {
        match fs::rename(&self.staging, &self.target) {
            Ok(()) => {
                self.committed = true;
                Ok(true)
            }
            // Renaming a directory onto a non-empty one fails (ENOTEMPTY or EEXIST).
            Err(_) if self.target.join("report.json").exists() => Ok(false),
            Err(e) => Err(LabError::io(&self.target, e)),
        }
    }

    /// Moves the staging folder to the target, replacing an earlier run there.
    pub fn commit(mut self) -> Result<PathBuf, LabError> {
        let old = self.staging.with_extension("old");
        let had_old = self.target.exists();
        if had_old {
            fs::rename(&self.target, &old).map_err(|e| LabError::io(&self.target, e))?;
        }
        fs::rename(&self.staging, &self.target).map_err(|e| LabError::io(&self.target, e))?;
        if had_old {
            fs::remove_dir_all(&old).map_err(|e| LabError::io(&old, e))?;
        }
        self.committed = true;
        Ok(self.target.clone())
    }
}

/// This machine's name (`/proc/sys/kernel/hostname`; `localhost` where there is none).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The staging name of run folder `name` written by process `pid` of this machine.
pub fn staging_name(name: &str, pid: u32) -> String {
    format!(".{name}.tmp-{}-{pid}", host_name())
}

/// The folder name and pid of a staging folder written on this machine, if `entry` is one.
pub fn parse_staging(entry: &str) -> Option<(&str, u32)> {
    let (name, rest) = entry.strip_prefix('.')?.split_once(".tmp-")?;
    let (host, pid) = rest.rsplit_once('-')?;
    (host == host_name()).then_some(())?;
    Some((name, pid.parse().ok()?))
}

/// Writes `path` under a temporary name beside it and renames it into place, so a reader sees
/// the old file or the new one, never half of one.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), LabError> {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(staging_name(&name, std::process::id()));
    fs::write(&tmp, contents).map_err(|e| LabError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| LabError::io(path, e))
}

impl Drop for RunFolder {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_folder_leaves_nothing_and_commit_replaces() {
        let root = std::env::temp_dir().join(format!("fdl-runfolder-{}", std::process::id()));
        let target = root.join("run");
        {
            let f = RunFolder::create(&target).unwrap();
            f.write("a.txt", "1").unwrap();
        }
        assert!(!target.exists());
        assert_eq!(fs::read_dir(&root).unwrap().count(), 0);
        for v in ["1", "2"] {
            let f = RunFolder::create(&target).unwrap();
            f.write("a.txt", v).unwrap();
            f.commit().unwrap();
        }
        assert_eq!(fs::read_to_string(target.join("a.txt")).unwrap(), "2");
        assert_eq!(fs::read_dir(&root).unwrap().count(), 1);
        // A second run of the same cell keeps the first one's folder.
        fs::write(target.join("report.json"), "{}").unwrap();
        let f = RunFolder::create(&target).unwrap();
        f.write("a.txt", "3").unwrap();
        assert!(!f.commit_unless_present().unwrap());
        assert_eq!(fs::read_to_string(target.join("a.txt")).unwrap(), "2");
        assert_eq!(fs::read_dir(&root).unwrap().count(), 1);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn staging_names_carry_host_and_pid() {
        let name = staging_name("0007", 42);
        assert_eq!(parse_staging(&name), Some(("0007", 42)));
        assert_eq!(parse_staging(".0007.tmp-elsewhere-42"), None);
        assert_eq!(parse_staging("0007"), None);
    }
}
