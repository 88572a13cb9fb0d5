//! The lab: an open registry of experiments and what it does with them. One run goes from
//! request to committed run folder (resolve the config, load data, set up the device, run, write
//! config, summary, metrics, figures, manifest and report, rename the folder into place);
//! `check` and `replot` redo the report and the figures of a run folder from its summary.

use crate::config::{Layers, from_table, parse_set};
use crate::device::{BackendKind, Precision, init_device};
use crate::error::{ConfigError, LabError};
use crate::experiment::{DataFormat, DynExperiment, Experiment, Figure, Pipeline, RunContext};
use crate::figures::save_svg;
use crate::recorder::Metrics;
use crate::report::{Check, Comparison, Report};
use crate::run_folder::{RunFolder, write_atomically};
use serde::Deserialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};
use toml::{Table, Value};

/// Keys every experiment has, handled by the lab rather than the experiment.
const COMMON_KEYS: [&str; 4] = ["seed", "device", "dtype", "data"];

/// The lab-level part of a resolved config.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommonConfig {
    seed: u64,
    device: BackendKind,
    dtype: Precision,
    #[serde(default)]
    data: Option<PathBuf>,
}

/// What the user asked for.
#[derive(Debug, Default, Clone)]
pub struct RunRequest {
    /// Experiment name (from the command line or the config file's `experiment` key).
    pub experiment: String,
    /// A config file's table and the folder relative paths in it are resolved against.
    pub file: Option<(Table, PathBuf)>,
    /// Apply the experiment's `--quick` overrides.
    pub quick: bool,
    /// Run folder (default `runs/<experiment>`).
    pub out: Option<PathBuf>,
    /// `--data FILE.csv`.
    pub data: Option<PathBuf>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--device`.
    pub device: Option<String>,
    /// `--dtype`.
    pub dtype: Option<String>,
    /// `--set key=value`, in order.
    pub sets: Vec<String>,
    /// Overrides already parsed (a sweep cell's), applied after `sets`.
    pub overrides: Vec<(String, Value)>,
    /// Leave a complete run folder at `out` in place rather than replace it (a sweep cell run
    /// twice at once: the first to finish stays).
    pub keep_existing: bool,
}

/// A finished run.
#[derive(Debug)]
pub struct RunOutcome {
    /// The report.
    pub report: Report,
    /// Where the run folder is.
    pub folder: PathBuf,
}

/// Reads a config file: a TOML table with an `experiment` key.
pub fn read_config_file(path: &Path) -> Result<(String, Table, PathBuf), LabError> {
    let fail = |message: String| ConfigError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let mut table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| fail(e.to_string().trim_end().replace('\n', " ")))?;
    let name = match table.remove("experiment") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(fail("`experiment` must be a string".into()).into()),
        None => {
            return Err(
                fail("missing key `experiment` (e.g. experiment = \"depth-conv\")".into()).into(),
            );
        }
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok((name, table, dir))
}

/// Builds the resolved table: defaults, file, quick, flags, then `--set`.
fn resolve(exp: &dyn DynExperiment, req: &RunRequest) -> Result<Table, LabError> {
    let mut table = Table::new();
    table.insert("seed".into(), Value::Integer(0));
    table.insert(
        "device".into(),
        Value::String(BackendKind::Flex.name().into()),
    );
    table.insert("dtype".into(), Value::String(exp.dtype().name().into()));
    table.extend(exp.defaults());
    let mut layers = Layers {
        experiment: exp.name(),
        table,
        optional: &["data"],
    };
    if let Some((file, dir)) = &req.file {
        let mut file = file.clone();
        if let Some(Value::String(p)) = file.get("data") {
            let resolved = dir.join(p).display().to_string();
            file.insert("data".into(), Value::String(resolved));
        }
        layers.merge(file)?;
    }
    if req.quick {
        layers.merge(exp.quick())?;
    }
    if let Some(seed) = req.seed {
        let seed = i64::try_from(seed).map_err(|_| ConfigError::OutOfRange {
            key: "seed".into(),
            value: seed.to_string(),
            allowed: "0..=2^63-1".into(),
        })?;
        layers.set("seed", Value::Integer(seed))?;
    }
    for (key, flag) in [("device", &req.device), ("dtype", &req.dtype)] {
        if let Some(v) = flag {
            layers.set(key, Value::String(v.clone()))?;
        }
    }
    if let Some(data) = &req.data {
        layers.set("data", Value::String(data.display().to_string()))?;
    }
    for arg in &req.sets {
        let (key, value) = parse_set(arg)?;
        layers.set(&key, value)?;
    }
    for (key, value) in &req.overrides {
        layers.set(key, value.clone())?;
    }
    Ok(layers.table)
}

/// Splits the lab's keys from the experiment's.
fn split(mut table: Table) -> Result<(CommonConfig, Table), LabError> {
    let mut common = Table::new();
    for key in COMMON_KEYS {
        if let Some(v) = table.remove(key) {
            common.insert(key.into(), v);
        }
    }
    Ok((from_table(common)?, table))
}

/// The experiments a program knows, in `fdl list` order, and the commands on them.
#[derive(Default)]
pub struct Lab {
    experiments: Vec<Box<dyn DynExperiment>>,
}

impl Lab {
    /// A lab with no experiment.
    pub fn new() -> Self {
        Self::default()
    }

    /// A lab with fdl's experiments, in catalogue order.
    pub fn with_builtins() -> Self {
        Self {
            experiments: crate::experiments::builtins(),
        }
    }

    /// Adds an experiment. Panics if one of that name is already registered (a programming
    /// error the first run shows).
    pub fn register<E: Experiment>(self) -> Self {
        self.register_dyn(Box::new(Pipeline::<E>(std::marker::PhantomData)))
    }

    /// Adds a type-erased experiment.
    pub fn register_dyn(mut self, experiment: Box<dyn DynExperiment>) -> Self {
        let name = experiment.name();
        assert!(
            self.find(name).is_err(),
            "an experiment named {name} is already registered"
        );
        self.experiments.push(experiment);
        self
    }

    /// The registered experiments, in order.
    pub fn experiments(&self) -> impl Iterator<Item = &dyn DynExperiment> {
        self.experiments.iter().map(|e| e.as_ref())
    }

    /// Looks an experiment up by name; the error lists the known ones.
    pub fn find(&self, name: &str) -> Result<&dyn DynExperiment, LabError> {
        self.experiments()
            .find(|e| e.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.experiments().map(|e| e.name()).collect();
                LabError::Usage(format!(
                    "unknown experiment '{name}'; known experiments: {}",
                    known.join(", ")
                ))
            })
    }

    /// The whole `fdl` command line on this lab's experiments; never returns.
    pub fn main(self) -> ! {
        crate::cli::init_logging();
        std::process::exit(crate::cli::main(&self))
    }

    /// Resolves and validates a request's config without running it.
    pub fn validate(&self, req: &RunRequest) -> Result<(), LabError> {
        let exp = self.find(&req.experiment)?;
        let (_, exp_table) = split(resolve(exp, req)?)?;
        Ok(exp.validate(&exp_table)?)
    }

    /// Runs an experiment end to end. Nothing is left on disk unless the run completes.
    pub fn execute(&self, req: &RunRequest) -> Result<RunOutcome, LabError> {
        let exp = self.find(&req.experiment)?;
        let resolved = resolve(exp, req)?;
        let (common, exp_table) = split(resolved.clone())?;
        exp.validate(&exp_table)?;
        let (data, matrix) = match (common.data.as_deref(), exp.data_format()) {
            (None, _) => (None, None),
            (Some(path), DataFormat::Labelled) => (Some(fdl_data::read_csv(path)?), None),
            (Some(path), DataFormat::SymmetricMatrix) => {
                (None, Some(fdl_data::read_symmetric_csv(path)?))
            }
        };
        let device = init_device(common.device, common.dtype)?;
        let target = match &req.out {
            Some(out) => out.clone(),
            None => timestamped_folder(&PathBuf::from("runs").join(exp.name())),
        };
        let folder = RunFolder::create(&target)?;
        tracing::info!(target: "fdl", experiment = exp.name(), folder = %folder.staging().display(), "run started");

        let started = SystemTime::now();
        let clock = Instant::now();
        let mut ctx = RunContext::new(device, common.dtype, common.seed, data, folder)?;
        ctx.matrix = matrix;
        let ran = exp.run(exp_table, &mut ctx)?;
        let mut report = ran.report;
        ctx.recorder.flush()?;
        ctx.folder.write("summary.json", &ran.summary)?;
        if !ran.figures.is_empty() {
            report.figures = draw(ctx.folder.staging(), &ran.figures)?;
        }
        require_a_check(&mut report);

        let mut saved = Table::new();
        saved.insert("experiment".into(), Value::String(exp.name().into()));
        saved.extend(resolved);
        if common.data.is_some() {
            // The run folder's own copy, so `fdl run <folder>/config.toml` reruns on the same data.
            saved.insert("data".into(), Value::String("dataset.csv".into()));
        }
        let config_text = toml::to_string(&saved).expect("a table serializes");
        ctx.folder.write("config.toml", config_text)?;
        let manifest = json!({
            "fdl_version": env!("CARGO_PKG_VERSION"),
            "git_commit": option_env!("FDL_GIT_COMMIT").filter(|c| !c.is_empty()),
            "git_dirty": option_env!("FDL_GIT_DIRTY").and_then(|d| d.parse::<bool>().ok()),
            "command_line": std::env::args().collect::<Vec<_>>(),
            "experiment": exp.name(),
            "device": common.device.name(),
            "dtype": common.dtype.name(),
            "seed": common.seed,
            "data": common.data.as_ref().map_or_else(|| "generated from seed".to_string(), |p| p.display().to_string()),
            "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "started": humantime::format_rfc3339_seconds(started).to_string(),
            "finished": humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            "wall_seconds": clock.elapsed().as_secs_f64(),
            "timings_seconds": ctx.timings.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        });
        ctx.folder.write(
            "manifest.json",
            serde_json::to_string_pretty(&manifest).expect("json"),
        )?;
        write_report(ctx.folder.staging(), &report)?;
        let folder = if req.keep_existing {
            if !ctx.folder.commit_unless_present()? {
                tracing::info!(target: "fdl", folder = %target.display(), "another run finished this folder first; kept it");
            }
            target
        } else {
            ctx.folder.commit()?
        };
        if req.out.is_none() {
            link_latest(&folder);
        }
        Ok(RunOutcome { report, folder })
    }

    /// Re-evaluates the checks of a run folder from its `config.toml` and `summary.json`, without
    /// retraining, and rewrites its report (figures as they are).
    pub fn check(&self, dir: &Path) -> Result<RunOutcome, LabError> {
        let (exp, table, summary) = self.open_run(dir)?;
        let mut report = exp.assess(table, &summary).map_err(|e| in_folder(e, dir))?;
        report.figures = previous_figures(dir);
        require_a_check(&mut report);
        write_report(dir, &report)?;
        Ok(RunOutcome {
            report,
            folder: dir.to_path_buf(),
        })
    }

    /// Redraws the figures of a run folder from its `summary.json` and `metrics.csv`; returns
    /// their paths.
    pub fn replot(&self, dir: &Path) -> Result<Vec<PathBuf>, LabError> {
        let (exp, table, summary) = self.open_run(dir)?;
        let metrics = Metrics::read(&dir.join("metrics.csv"))?;
        let figures = exp
            .figures(table, &summary, &metrics)
            .map_err(|e| in_folder(e, dir))?;
        let names = draw(dir, &figures)?;
        Ok(names.iter().map(|n| dir.join(n)).collect())
    }

    /// A run folder's experiment, resolved experiment table and summary text.
    fn open_run(&self, dir: &Path) -> Result<(&dyn DynExperiment, Table, String), LabError> {
        let (name, table, config_dir) = read_config_file(&dir.join("config.toml"))?;
        let exp = self.find(&name)?;
        let request = RunRequest {
            experiment: name,
            file: Some((table, config_dir)),
            ..Default::default()
        };
        let (_, exp_table) = split(resolve(exp, &request)?)?;
        let path = dir.join("summary.json");
        let summary = std::fs::read_to_string(&path).map_err(|e| LabError::RunFolder {
            path: path.display().to_string(),
            message: format!("{e} (a run folder written before summary.json existed has none)"),
        })?;
        Ok((exp, exp_table, summary))
    }
}

/// Names the run folder in an error about one of its files.
fn in_folder(e: LabError, dir: &Path) -> LabError {
    match e {
        LabError::RunFolder { path, message } => LabError::RunFolder {
            path: dir.join(path).display().to_string(),
            message,
        },
        e => e,
    }
}

/// A verdict needs something measured: a configuration that leaves no check is no pass.
fn require_a_check(report: &mut Report) {
    if report.checks.is_empty() {
        report.check(Check::undecided(
            "checks evaluated",
            Comparison::AtLeast,
            1.0,
            "this configuration leaves no check to evaluate",
        ));
    }
}

/// Writes `report.json` and `report.md` into `dir`, each under a temporary name first.
fn write_report(dir: &Path, report: &Report) -> Result<(), LabError> {
    let json = serde_json::to_string_pretty(report).expect("a report serializes");
    write_atomically(&dir.join("report.json"), json.as_bytes())?;
    write_atomically(&dir.join("report.md"), report.markdown().as_bytes())
}

/// Draws each figure into `dir/figures/`; returns the paths relative to `dir`.
pub(crate) fn draw(dir: &Path, figures: &[Figure]) -> Result<Vec<String>, LabError> {
    let folder = dir.join("figures");
    std::fs::create_dir_all(&folder).map_err(|e| LabError::io(&folder, e))?;
    figures
        .iter()
        .map(|f| {
            let relative = format!("figures/{}", f.file);
            let tmp = dir.join(format!("figures/.{}.tmp", f.file));
            save_svg(&tmp, &f.panels)?;
            let path = dir.join(&relative);
            std::fs::rename(&tmp, &path).map_err(|e| LabError::io(&path, e))?;
            Ok(relative)
        })
        .collect()
}

/// The figure list of an existing report.json (empty if it cannot be read).
fn previous_figures(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("report.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| serde_json::from_value(v["figures"].clone()).ok())
        .unwrap_or_default()
}

/// `root/<UTC date-time>` (with `-2`, `-3`, ... if that exists), so a default run never
/// replaces an earlier one.
fn timestamped_folder(root: &Path) -> PathBuf {
    let stamp: String = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .chars()
        .filter_map(|c| match c {
            '-' | ':' => None,
            'T' => Some('-'),
            'Z' => None,
            c => Some(c),
        })
        .collect();
    let mut target = root.join(&stamp);
    let mut k = 2;
    while target.exists() {
        target = root.join(format!("{stamp}-{k}"));
        k += 1;
    }
    target
}

/// Points `<folder's parent>/latest` at the folder just written (best effort: a file system
/// without symbolic links keeps the runs, only without the link).
fn link_latest(folder: &Path) {
    #[cfg(unix)]
    {
        let (Some(parent), Some(name)) = (folder.parent(), folder.file_name()) else {
            return;
        };
        let tmp = parent.join(".latest.tmp");
        let _ = std::fs::remove_file(&tmp);
        let linked = std::os::unix::fs::symlink(name, &tmp)
            .and_then(|()| std::fs::rename(&tmp, parent.join("latest")));
        if let Err(e) = linked {
            tracing::warn!(target: "fdl", "could not link {}/latest: {e}", parent.display());
        }
    }
    #[cfg(not(unix))]
    let _ = folder;
}
