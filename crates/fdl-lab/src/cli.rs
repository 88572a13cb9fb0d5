//! The `fdl` command line: `list`, `reproduce <name>`, `run <config.toml>`.

use crate::error::{EXIT_FAIL, EXIT_PASS, EXIT_UNDECIDED, LabError};
use crate::experiments::registry;
use crate::lab::{RunRequest, execute, read_config_file};
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
    #[arg(long, value_parser = ["flex", "ndarray", "wgpu"])]
    device: Option<String>,
    /// Float precision [default: the experiment's, f64 for implicit-bias experiments].
    #[arg(long, value_parser = ["f32", "f64"])]
    dtype: Option<String>,
    /// Override a config key, e.g. --set steps=200000 --set depths=[1,2,3,4,5].
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
            device: self.device,
            dtype: self.dtype,
            sets: self.sets,
        }
    }
}

fn list() {
    for e in registry() {
        println!("{:<22} {}", e.name(), e.claim());
    }
}

fn run(request: RunRequest) -> Result<i32, LabError> {
    let outcome = execute(&request)?;
    let report = &outcome.report;
    println!("{}: {}\n", report.experiment, report.claim);
    print!("{}", report.table());
    println!("\nrun folder: {}", outcome.folder.display());
    let (_, failed, undecided) = report.counts();
    let total = report.checks.len();
    Ok(match report.verdict {
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
    })
}

/// Parses the arguments, runs, prints, and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List => {
            list();
            Ok(EXIT_PASS)
        }
        Command::Reproduce { name, options } => run(options.into_request(name, None)),
        Command::Run { config, options } => read_config_file(&config)
            .and_then(|(name, table, dir)| run(options.into_request(name, Some((table, dir))))),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        e.exit_code()
    })
}
