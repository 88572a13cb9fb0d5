//! Lab errors and the exit codes they map to.

use fdl_analysis::SolverError;
use fdl_data::DataError;
use fdl_optim::TrainError;

/// Exit code when every check passes.
pub const EXIT_PASS: i32 = 0;
/// Exit code when a check fails; the run folder is complete.
pub const EXIT_FAIL: i32 = 1;
/// Exit code for bad usage or bad input (nothing is written).
pub const EXIT_USAGE: i32 = 2;
/// Exit code when the run could not finish: divergence, a solver failure, I/O (nothing is
/// written).
pub const EXIT_UNFINISHED: i32 = 3;
/// Exit code when no check fails but at least one cannot be decided; the run folder is
/// complete.
pub const EXIT_UNDECIDED: i32 = 4;

/// Exit code of a sweep stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it);
/// rerunning it finishes the rest.
pub const EXIT_INTERRUPTED: i32 = 130;

/// A configuration problem, always naming the key.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    /// A key that the experiment does not have.
    #[error("unknown config key `{key}` for {experiment}; known keys: {known}")]
    UnknownKey {
        /// The key.
        key: String,
        /// The experiment.
        experiment: String,
        /// Comma-separated list of valid keys.
        known: String,
    },
    /// `--set` without `=`.
    #[error("--set '{0}': expected key=value")]
    BadSet(String),
    /// A value of the wrong type or an unknown variant.
    #[error("config key `{key}`: {message}")]
    BadValue {
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A value outside its allowed range.
    #[error("config key `{key}` = {value}: {allowed}")]
    OutOfRange {
        /// The key (`table.key` inside a nested table).
        key: String,
        /// The value given, as TOML.
        value: String,
        /// The allowed values.
        allowed: String,
    },
    /// The config file could not be read or parsed.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

impl ConfigError {
    /// The error of a nested table's key, its key prefixed with the table's (`training.steps`).
    pub fn within(table: &str, error: ConfigError) -> ConfigError {
        match error {
            ConfigError::OutOfRange {
                key,
                value,
                allowed,
            } => ConfigError::OutOfRange {
                key: format!("{table}.{key}"),
                value,
                allowed,
            },
            ConfigError::BadValue { key, message } => ConfigError::BadValue {
                key: format!("{table}.{key}"),
                message,
            },
            other => other,
        }
    }
}

/// Everything that stops a run.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Bad command-line usage (unknown experiment, ...).
    #[error("{0}")]
    Usage(String),
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Bad data.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A reference solver failed; non-separable data is bad input.
    #[error(transparent)]
    Solver(#[from] SolverError),
    /// Training stopped (divergence).
    #[error("{variant}: {source}")]
    Train {
        /// The variant being trained.
        variant: String,
        /// Why it stopped.
        source: TrainError,
    },
    /// The backend could not be set up.
    #[error("device: {0}")]
    Device(String),
    /// Writing the run folder failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A run folder given to `fdl check` or `fdl replot` cannot be read back.
    #[error("{path}: {message}")]
    RunFolder {
        /// The file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// Drawing a figure failed.
    #[error("figure {name}: {message}")]
    Figure {
        /// The figure file.
        name: String,
        /// What went wrong.
        message: String,
    },
}

impl LabError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            LabError::Usage(_)
            | LabError::Config(_)
            | LabError::Data(_)
            | LabError::Device(_)
            | LabError::RunFolder { .. } => EXIT_USAGE,
            LabError::Solver(
                SolverError::NotSeparable { .. } | SolverError::NoInterpolant { .. },
            ) => EXIT_USAGE,
            LabError::Solver(SolverError::Failed { .. })
            | LabError::Train { .. }
            | LabError::Io { .. }
            | LabError::Figure { .. } => EXIT_UNFINISHED,
        }
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        LabError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
