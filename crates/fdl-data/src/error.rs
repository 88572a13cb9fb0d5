//! Errors raised while reading, generating or checking data.

use std::path::PathBuf;

/// Everything that can go wrong with a dataset; each variant names the place.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// File that failed.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The CSV parser rejected a record.
    #[error("{path}: row {row}: {message}")]
    Csv {
        /// File that failed.
        path: PathBuf,
        /// 1-based line number in the file (the header is row 1).
        row: usize,
        /// What the parser said.
        message: String,
    },
    /// The header is not `x0,...,x{d-1},y`.
    #[error("{path}: bad header: {message} (expected columns x0,x1,...,x{{d-1}},y)")]
    Header {
        /// File that failed.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A cell is not a finite number, or a label is not in the allowed set.
    #[error("{path}: row {row}, column '{column}': {message}")]
    Cell {
        /// File that failed.
        path: PathBuf,
        /// 1-based line number in the file (the header is row 1).
        row: usize,
        /// Column name from the header.
        column: String,
        /// What is wrong with the value.
        message: String,
    },
    /// The dataset as a whole is unusable (empty, too few features, ...).
    #[error("{0}")]
    Invalid(String),
}
