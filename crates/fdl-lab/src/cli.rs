//! The `fdl` command line: `list`, `reproduce <name>`, `run <config.toml>`, `check <run>`,
//! `replot <run>`, `config <name>`, on the experiments of a [`Lab`].

use crate::device::{BackendKind, Precision};
use crate::error::{EXIT_FAIL, EXIT_PASS, EXIT_UNDECIDED};
use crate::lab::{Lab, RunOutcome, RunRequest, read_config_file};
use crate::report::Verdict;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Reproduce the foundations of deep learning: NTK, max-margin, implicit bias.
#[derive(Debug, Parser)]
#[command(name = "fdl", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the experiments with their claims.
    List,
    /// Run an experiment with its defaults (or overrides) and check it against the theory.
    Reproduce {
        /// Experiment name (see `fdl list`).
        name: String,
        #[command(flatten)]
        options: RunOptions,
    },
    /// Run the experiment described by a TOML config file (`experiment = "..."` plus keys).
    Run {
        /// Config file, e.g. experiments/depth-conv.toml or a run folder's config.toml.
        config: PathBuf,
        #[command(flatten)]
        options: RunOptions,
    },
    /// Re-evaluate a run folder's checks from its summary.json (no retraining); rewrites its
    /// report and exits as `reproduce` would.
    Check {
        /// The run folder, e.g. runs/homogeneous-margin/latest.
        run: PathBuf,
    },
    /// Redraw a run folder's figures from its summary.json and metrics.csv.
    Replot {
        /// The run folder.
        run: PathBuf,
    },
    /// Print an experiment's defaults as a commented config file (each key's meaning and
    /// allowed values), ready for `fdl run`.
    Config {
        /// Experiment name (see `fdl list`).
        name: String,
    },
}

#[derive(Debug, Args)]
struct RunOptions {
    /// A reduced run (under 30 s) that still evaluates every check it can.
    #[arg(long)]
    quick: bool,
    /// Run folder [default: runs/<experiment>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Train on this CSV (columns x0..x{D-1}, y with y in {-1, +1}; a header row).
    #[arg(long, value_name = "FILE.csv")]
    data: Option<PathBuf>,
    /// Seed for data generation and initialisation.
    #[arg(long)]
    seed: Option<u64>,
    /// Backend: flex (default), ndarray, wgpu (the latter two need their cargo feature).
    #[arg(long, value_enum)]
    device: Option<BackendKind>,
    /// Float precision [default: the experiment's, f64 for implicit-bias experiments].
    #[arg(long, value_enum)]
    dtype: Option<Precision>,
    /// Override a config key, e.g. --set widths=[100,400] --set training.steps=200000.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

impl RunOptions {
    fn into_request(self, experiment: String, file: Option<(toml::Table, PathBuf)>) -> RunRequest {
        RunRequest {
            experiment,
            file,
            quick: self.quick,
            out: self.out,
            data: self.data,
            seed: self.seed,
            device: self.device.map(|d| d.name().to_string()),
            dtype: self.dtype.map(|d| d.name().to_string()),
            sets: self.sets,
        }
    }
}

fn list(lab: &Lab) {
    for e in lab.experiments() {
        println!("{:<22} {}", e.name(), e.claim());
    }
}

/// Prints a report's table and verdict; returns the exit code the verdict gives.
fn verdict(outcome: &RunOutcome) -> i32 {
    let report = &outcome.report;
    println!("{}: {}\n", report.experiment, report.claim);
    print!("{}", report.table());
    println!("\nrun folder: {}", outcome.folder.display());
    let (_, failed, undecided) = report.counts();
    let total = report.checks.len();
    match report.verdict {
        Verdict::Pass => {
            println!("PASS: all {total} checks hold");
            EXIT_PASS
        }
        Verdict::Fail => {
            println!("FAIL: {failed} of {total} checks do not hold");
            EXIT_FAIL
        }
        Verdict::Undecided => {
            println!("UNDECIDED: no check fails, but {undecided} of {total} cannot be decided");
            EXIT_UNDECIDED
        }
    }
}

/// Sets up `tracing` to stderr (level from `RUST_LOG`, default warn).
pub fn init_logging() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Parses the arguments, runs the command on `lab`'s experiments, prints, and returns the
/// process exit code.
pub fn main(lab: &Lab) -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List => {
            list(lab);
            Ok(EXIT_PASS)
        }
        Command::Reproduce { name, options } => lab
            .execute(&options.into_request(name, None))
            .map(|o| verdict(&o)),
        Command::Run { config, options } => {
            read_config_file(&config).and_then(|(name, table, dir)| {
                lab.execute(&options.into_request(name, Some((table, dir))))
                    .map(|o| verdict(&o))
            })
        }
        Command::Check { run } => lab.check(&run).map(|o| verdict(&o)),
        Command::Replot { run } => lab.replot(&run).map(|files| {
            for f in files {
                println!("{}", f.display());
            }
            EXIT_PASS
        }),
        Command::Config { name } => lab.find(&name).map(|e| {
            print!("{}", e.config_toml());
            EXIT_PASS
        }),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        e.exit_code()
    })
}
