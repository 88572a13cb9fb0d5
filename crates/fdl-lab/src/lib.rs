//! fdl-lab: the experiments of fdl and everything around them: the registry, layered
//! configuration, the run folder, metrics, figures, reports and the command line.
//!
//! Data flow of a run (DESIGN.md): CLI args -> resolved config (defaults, file, `--quick`,
//! flags, `--set`; validated) -> dataset -> models on the chosen device -> training loop with
//! probes -> metrics.csv -> exact references -> checks -> figures and report -> exit code.

#![warn(missing_docs)]

// `#[derive(Config)]` names `::fdl_lab`, inside this crate too.
extern crate self as fdl_lab;

pub mod cells;
pub mod cli;
pub mod config;
pub mod device;
pub mod error;
pub mod experiment;
pub mod experiments;
pub mod figures;
pub mod lab;
pub mod recorder;
pub mod report;
pub mod rules;
pub mod run_folder;
pub mod stats;
pub mod sweep;
pub mod tracking;

pub use experiment::{DataFormat, DynExperiment, Experiment, Figure, RunContext, Validate};
pub use fdl_derive::Config;
pub use lab::{Lab, RunOutcome, RunRequest};
pub use recorder::Metrics;
pub use report::{Check, Comparison, Report, Verdict};
