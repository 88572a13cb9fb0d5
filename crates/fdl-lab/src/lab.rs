//! One run from request to committed run folder: resolve the config, load data, set up the
//! device, run the experiment, write config, manifest and report, rename the folder into place.

use crate::config::{Layers, from_table, parse_set};
use crate::device::{DType, DeviceKind, init_device};
use crate::error::{ConfigError, LabError};
use crate::experiment::{Experiment, RunContext};
use crate::experiments::{find, registry};
use crate::report::{Check, Comparison, Report};
use crate::run_folder::RunFolder;
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
    device: DeviceKind,
    dtype: DType,
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
}

/// A finished run.
#[derive(Debug)]
pub struct RunOutcome {
    /// The report.
    pub report: Report,
    /// Where the run folder is.
    pub folder: PathBuf,
}

/// Looks up an experiment, or lists the known ones.
pub fn experiment(name: &str) -> Result<&'static dyn Experiment, LabError> {
    find(name).ok_or_else(|| {
        let known: Vec<&str> = registry().iter().map(|e| e.name()).collect();
        LabError::Usage(format!(
            "unknown experiment '{name}'; known experiments: {}",
            known.join(", ")
        ))
    })
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
fn resolve(exp: &dyn Experiment, req: &RunRequest) -> Result<Table, LabError> {
    let mut table = Table::new();
    table.insert("seed".into(), Value::Integer(0));
    table.insert(
        "device".into(),
        Value::String(DeviceKind::Flex.name().into()),
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
            key: "seed",
            value: seed.to_string(),
            allowed: "0..=2^63-1",
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

/// Runs an experiment end to end. Nothing is left on disk unless the run completes.
pub fn execute(req: &RunRequest) -> Result<RunOutcome, LabError> {
    let exp = experiment(&req.experiment)?;
    let resolved = resolve(exp, req)?;
    let (common, exp_table) = split(resolved.clone())?;
    exp.validate(&exp_table)?;
    let data = common.data.as_deref().map(fdl_data::read_csv).transpose()?;
    let device = init_device(common.device, common.dtype)?;
    let target = req
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(exp.name()));
    let folder = RunFolder::create(&target)?;
    tracing::info!(target: "fdl", experiment = exp.name(), folder = %folder.staging().display(), "run started");

    let started = SystemTime::now();
    let clock = Instant::now();
    let mut ctx = RunContext::new(device, common.dtype, common.seed, data, folder)?;
    let mut report = exp.run(exp_table, &mut ctx)?;
    if report.checks.is_empty() {
        // A verdict needs something measured: a configuration that leaves no check is no pass.
        report.check(Check::undecided(
            "checks evaluated",
            Comparison::AtLeast,
            1.0,
            "this configuration leaves no check to evaluate",
        ));
    }
    ctx.recorder.flush()?;

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
    ctx.folder.write(
        "report.json",
        serde_json::to_string_pretty(&report).expect("json"),
    )?;
    ctx.folder.write("report.md", report.markdown())?;
    let folder = ctx.folder.commit()?;
    Ok(RunOutcome { report, folder })
}
