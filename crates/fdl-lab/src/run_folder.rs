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
    /// Creates `.<name>.tmp-<pid>` beside `target`, with a `figures/` subfolder.
    pub fn create(target: &Path) -> Result<Self, LabError> {
        let name = target.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
            LabError::Usage(format!("--out {}: not a folder name", target.display()))
        })?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(|e| LabError::io(&parent, e))?;
        let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
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

/// Writes `path` under a temporary name beside it and renames it into place, so a reader sees
/// the old file or the new one, never half of one.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), LabError> {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
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
        fs::remove_dir_all(root).unwrap();
    }
}
