//! The `fdl` command line: `list`, `reproduce <name>`, `run <config.toml>`, `check <run>`,
//! `replot <run>`, `config <name>` and `sweep ...`, on the experiments of a [`Lab`].

use crate::device::{BackendKind, Precision};
use crate::error::{EXIT_FAIL, EXIT_INTERRUPTED, EXIT_PASS, EXIT_UNDECIDED, LabError};
use crate::lab::{Lab, RunOutcome, RunRequest, read_config_file};
use crate::report::Verdict;
use crate::sweep::{Sweep, SweepSpec, local, slurm};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};

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
    /// The backends compiled into this binary and whether each starts on this machine (a GPU is
    /// started with a one-element round trip), with the precisions it supports.
    Devices,
    /// Sweeps: an experiment over a grid of overrides times seeds (a spec file; see
    /// experiments/sweeps/), locally or on Slurm, resumable, aggregated over seeds.
    Sweep {
        #[command(subcommand)]
        command: SweepCommand,
    },
}

#[derive(Debug, Subcommand)]
enum SweepCommand {
    /// Print the cells (index, overrides, seed) after checking each one's config.
    Plan(SweepTarget),
    /// Run the cells not yet complete in parallel processes, then collect.
    Run {
        #[command(flatten)]
        target: SweepTarget,
        /// Cells run at once [default: the number of cores]; each gets cores / jobs threads.
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
    },
    /// Run one cell in this process (what local workers and Slurm array tasks call); exits 0
    /// once the cell's run folder is in place, whatever its verdict.
    Cell {
        #[command(flatten)]
        target: SweepTarget,
        /// The cell's index (see `fdl sweep plan`).
        #[arg(long, value_name = "I")]
        index: usize,
    },
    /// Write (and submit with sbatch, unless --dry-run) a Slurm job array for the cells not
    /// yet complete.
    Slurm {
        #[command(flatten)]
        target: SweepTarget,
        #[command(flatten)]
        options: SlurmArgs,
    },
    /// Count the cells by state and list the ones that could not finish.
    Status(SweepTarget),
    /// Aggregate the complete cells: summary.csv, aggregate.csv, report.md, figures.
    Collect(SweepTarget),
}

#[derive(Debug, Args)]
struct SweepTarget {
    /// A sweep spec (TOML) or a sweep folder.
    spec: PathBuf,
    /// Sweep folder [default: sweeps/<spec file name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct SlurmArgs {
    /// Slurm partition.
    #[arg(long)]
    partition: Option<String>,
    /// Time limit per array task, e.g. 00:30:00.
    #[arg(long)]
    time: Option<String>,
    /// CPUs per array task (each cell's thread count).
    #[arg(long, default_value_t = 1)]
    cpus_per_task: usize,
    /// Memory per array task, e.g. 4G.
    #[arg(long)]
    mem: Option<String>,
    /// Cells each array task runs one after another.
    #[arg(long, default_value_t = 1)]
    cells_per_task: usize,
    /// At most this many array tasks at once.
    #[arg(long, value_name = "N")]
    max_running: Option<usize>,
    /// A further #SBATCH option, verbatim (repeatable), e.g. --sbatch=--account=proj.
    #[arg(long = "sbatch", value_name = "OPTION", allow_hyphen_values = true)]
    extra: Vec<String>,
    /// Write the script only.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Args)]
struct RunOptions {
    /// A reduced run (under 30 s) that still evaluates every check it can.
    #[arg(long)]
    quick: bool,
    /// Run folder [default: runs/<experiment>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Train on this CSV (columns x0..x{D-1}, y with y in {-1, +1}; a header row); for
    /// strict-saddle, the symmetric PSD matrix M (d rows of d numbers, no header).
    #[arg(long, value_name = "FILE.csv")]
    data: Option<PathBuf>,
    /// Seed for data generation and initialisation.
    #[arg(long)]
    seed: Option<u64>,
    /// Backend: flex (default), ndarray, wgpu, cuda (all but flex need their cargo feature).
    #[arg(long, value_enum)]
    device: Option<BackendKind>,
    /// Float precision [default: the experiment's, f64 for implicit-bias experiments].
    #[arg(long, value_enum)]
    dtype: Option<Precision>,
    /// Override a config key, e.g. --set widths=[100,400] --set training.steps=200000.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Run at each of these seeds as a sweep (`0..10`, `0..=9` or `1,4,7`); --out is then the
    /// sweep folder [default: sweeps/<experiment>-seeds-<seeds>].
    #[arg(long, value_name = "RANGE", conflicts_with = "seed")]
    seeds: Option<String>,
    /// With --seeds: cells run at once [default: the number of cores].
    #[arg(long, value_name = "N", requires = "seeds")]
    jobs: Option<usize>,
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
            ..Default::default()
        }
    }

    /// `reproduce NAME --seeds ...`: a sweep with one grid point, the other options its fixed
    /// overrides.
    fn into_seed_sweep(self, experiment: String, seeds: &str) -> Result<Sweep, LabError> {
        let seeds = parse_seed_list(seeds)?;
        let mut spec = SweepSpec::seeds_only(&experiment, self.quick, seeds);
        let flags = [
            ("data", self.data.map(|d| d.display().to_string())),
            ("device", self.device.map(|d| d.name().to_string())),
            ("dtype", self.dtype.map(|d| d.name().to_string())),
        ];
        for (key, value) in flags {
            if let Some(v) = value {
                spec.set.push((key.into(), toml::Value::String(v)));
            }
        }
        for arg in &self.sets {
            spec.set.push(crate::config::parse_set(arg)?);
        }
        let folder = self.out.unwrap_or_else(|| {
            let range = crate::sweep::collect::seeds_text(&spec.seeds)
                .trim_start_matches("seeds ")
                .replace(", ", ",");
            let quick = if spec.quick { "-quick" } else { "" };
            PathBuf::from("sweeps").join(format!("{experiment}{quick}-seeds-{range}"))
        });
        Ok(Sweep::new(spec, folder))
    }
}

/// `0..10`, `0..=9` or `1,4,7`.
fn parse_seed_list(text: &str) -> Result<Vec<u64>, LabError> {
    let value = if text.contains("..") {
        toml::Value::String(text.to_string())
    } else {
        let items: Result<Vec<toml::Value>, _> = text
            .split(',')
            .map(|s| s.trim().parse::<i64>().map(toml::Value::Integer))
            .collect();
        toml::Value::Array(items.map_err(|_| {
            LabError::Usage(format!("--seeds {text}: expected 0..10, 0..=9 or 1,4,7"))
        })?)
    };
    crate::sweep::spec::parse_seeds(&value).map_err(|e| LabError::Usage(format!("--seeds: {e}")))
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
        Command::Devices => {
            for kind in BackendKind::all() {
                let status = match crate::device::probe(kind) {
                    Ok(precisions) => format!(
                        "ready  {}",
                        precisions
                            .iter()
                            .map(|p| p.name())
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    Err(e) => format!("unusable: {e}"),
                };
                println!("{:<8} {status}", kind.name());
            }
            Ok(EXIT_PASS)
        }
        Command::Reproduce { name, options } => match options.seeds.clone() {
            Some(seeds) => {
                let jobs = options.jobs;
                options
                    .into_seed_sweep(name, &seeds)
                    .and_then(|sweep| run_sweep(lab, &sweep, jobs))
            }
            None => lab
                .execute(&options.into_request(name, None))
                .map(|o| verdict(&o)),
        },
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
        Command::Sweep { command } => sweep(lab, command),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        e.exit_code()
    })
}

/// Opens a sweep target.
fn open(target: &SweepTarget) -> Result<Sweep, LabError> {
    Sweep::open(&target.spec, target.out.as_deref())
}

/// The running program, which local workers and Slurm tasks run again.
fn this_program() -> Result<PathBuf, LabError> {
    std::env::current_exe().map_err(|e| LabError::io(Path::new("current executable"), e))
}

/// `fdl sweep ...`.
fn sweep(lab: &Lab, command: SweepCommand) -> Result<i32, LabError> {
    match command {
        SweepCommand::Plan(target) => {
            let sweep = open(&target)?;
            sweep.validate(lab)?;
            for cell in &sweep.cells {
                println!("{:>6}  {}", cell.index, sweep.describe(cell));
            }
            println!(
                "{} cells ({} grid point(s) x {} seed(s)) of {} into {}",
                sweep.cells.len(),
                sweep.spec.points(),
                sweep.spec.seeds.len(),
                sweep.spec.experiment,
                sweep.folder.display()
            );
            Ok(EXIT_PASS)
        }
        SweepCommand::Run { target, jobs } => run_sweep(lab, &open(&target)?, jobs),
        SweepCommand::Cell { target, index } => {
            let sweep = open(&target)?;
            // Once per sweep, not per array task: a prepared folder's spec was checked by `open`,
            // and the cell's own config is validated when it runs.
            if !sweep.is_prepared() {
                sweep.prepare(lab)?;
            }
            stop_cleanly_on_signal(&sweep, index);
            let (v, ran) = sweep.run_cell(lab, index)?;
            let how = if ran { "ran" } else { "already complete" };
            println!("cell {index} {how}: {}", v.word());
            Ok(EXIT_PASS)
        }
        SweepCommand::Slurm { target, options } => {
            let sweep = open(&target)?;
            sweep.prepare(lab)?;
            let options = slurm::SlurmOptions {
                partition: options.partition,
                time: options.time,
                cpus_per_task: options.cpus_per_task,
                mem: options.mem,
                cells_per_task: options.cells_per_task,
                max_running: options.max_running,
                extra: options.extra,
                dry_run: options.dry_run,
            };
            let job = slurm::write(&sweep, &this_program()?, &options)?;
            if job.tasks.is_empty() {
                println!(
                    "every cell of {} is complete; nothing to submit",
                    sweep.folder.display()
                );
                return Ok(EXIT_PASS);
            }
            println!(
                "{} array task(s): {}",
                job.tasks.len(),
                job.script.display()
            );
            if !options.dry_run {
                let id = slurm::submit(&job)?;
                println!(
                    "submitted job {id}; `fdl sweep status {}` follows it",
                    sweep.folder.display()
                );
            }
            Ok(EXIT_PASS)
        }
        SweepCommand::Status(target) => {
            let sweep = open(&target)?;
            println!("{}: {}", sweep.folder.display(), sweep.tally());
            for cell in &sweep.cells {
                if let crate::sweep::CellState::Failed(e) = sweep.state(cell.index) {
                    println!(
                        "  cell {} ({}): exit {}: {}",
                        cell.index,
                        sweep.describe(cell),
                        e.exit_code,
                        e.error
                    );
                }
            }
            Ok(EXIT_PASS)
        }
        SweepCommand::Collect(target) => {
            let sweep = open(&target)?;
            let collected = crate::sweep::collect::collect(&sweep)?;
            print!("{}", collected.report);
            println!("\nsweep folder: {}", sweep.folder.display());
            Ok(collected.tally.exit_code())
        }
    }
}

/// SIGTERM (Slurm's time limit or `scancel`) or SIGINT while a cell runs: record why the cell
/// stopped, remove its staging folder and exit 143, so `fdl sweep status` says what happened
/// and a resubmission reruns it.
fn stop_cleanly_on_signal(sweep: &Sweep, index: usize) {
    let sweep = sweep.clone();
    let _ = ctrlc::set_handler(move || {
        let staging = sweep
            .folder
            .join("cells")
            .join(crate::run_folder::staging_name(
                &sweep.cell_name(index),
                std::process::id(),
            ));
        let _ = std::fs::remove_dir_all(staging);
        let _ = sweep.record_failure(
            index,
            &crate::sweep::CellError {
                exit_code: 143,
                error: "stopped by SIGTERM or SIGINT (a Slurm time limit, scancel or Ctrl-C) before it finished".into(),
            },
        );
        std::process::exit(143);
    });
}

/// Prepares, runs locally and collects a sweep; the exit code says how its cells ended.
fn run_sweep(lab: &Lab, sweep: &Sweep, jobs: Option<usize>) -> Result<i32, LabError> {
    sweep.prepare(lab)?;
    let jobs = jobs.unwrap_or_else(local::available_cores);
    let before = sweep.tally();
    let todo = before.missing + before.unfinished;
    eprintln!(
        "{} cells of {} ({} to run, {} complete) with {jobs} at a time into {}",
        sweep.cells.len(),
        sweep.spec.experiment,
        todo,
        sweep.cells.len() - todo,
        sweep.folder.display()
    );
    let ended = local::run(sweep, &this_program()?, jobs)?;
    if ended == local::Ended::Interrupted {
        eprintln!(
            "interrupted: {}; rerun the same command to finish the rest",
            sweep.tally()
        );
        return Ok(EXIT_INTERRUPTED);
    }
    let collected = crate::sweep::collect::collect(sweep)?;
    print!("{}", collected.report);
    println!("\nsweep folder: {}", sweep.folder.display());
    Ok(collected.tally.exit_code())
}
