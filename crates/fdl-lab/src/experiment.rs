//! The experiment trait (a typed pipeline: config -> run -> summary -> checks and figures), its
//! type-erased form for the registry, and the context a run gets.

use crate::config::{FieldDoc, commented_toml, from_table, to_table};
use crate::device::Precision;
use crate::error::{ConfigError, LabError};
use crate::figures::Panel;
use crate::recorder::{Metrics, Recorder};
use crate::report::{Check, Report};
use crate::run_folder::RunFolder;
use burn::tensor::Device;
use fdl_analysis::SolveStatus;
use fdl_data::Dataset;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::io::IsTerminal;
use std::time::Instant;
use toml::Table;

/// Range checks on a deserialized config; each error names the key and the allowed values.
/// `#[derive(Config)]` implements it from rules declared per field.
pub trait Validate {
    /// Checks every value against its allowed range.
    fn validate(&self) -> Result<(), ConfigError>;
    /// Every key's documentation and allowed values, for `fdl config` (none by default).
    fn fields() -> Vec<FieldDoc>
    where
        Self: Sized,
    {
        Vec::new()
    }
}

/// One experiment as a typed pipeline: `run` trains and solves the exact references and returns
/// a [`Summary`](Experiment::Summary) (written as `summary.json`); the checks, findings and
/// figures are pure functions of the config and the summary (plus `metrics.csv` for figures),
/// so `fdl check` and `fdl replot` redo them from a run folder without retraining. The lab owns
/// recording, timing, progress, figure files, the headline and the report.
pub trait Experiment: Sync + Send + 'static {
    /// Typed configuration; `Default` gives the defaults that reproduce the paper's figure.
    type Config: Serialize + DeserializeOwned + Default + Validate;
    /// What a run measured: everything the checks and figures need besides `metrics.csv`.
    type Summary: Serialize + DeserializeOwned;
    /// Registry name, e.g. `depth-conv`.
    const NAME: &'static str;
    /// One-line claim.
    const CLAIM: &'static str;
    /// Default float precision.
    const DTYPE: Precision = Precision::F64;
    /// What `--data` holds for this experiment.
    const DATA: DataFormat = DataFormat::Labelled;
    /// Overrides for `--quick` (a reduced run that still evaluates every check it can).
    fn quick() -> Table {
        Table::new()
    }
    /// Trains and solves the exact references; records curves through `ctx.recorder`.
    fn run(config: &Self::Config, ctx: &mut RunContext) -> Result<Self::Summary, LabError>;
    /// The theory's checks on a summary: measured value against the science's threshold.
    fn checks(config: &Self::Config, summary: &Self::Summary) -> Vec<Check>;
    /// Measured behaviour worth stating that is not a check, in sentences.
    fn findings(_config: &Self::Config, _summary: &Self::Summary) -> Vec<String> {
        Vec::new()
    }
    /// The status of every exact reference the checks compare with.
    fn references(_summary: &Self::Summary) -> Vec<(String, SolveStatus)> {
        Vec::new()
    }
    /// The report's headline numbers; by default the whole summary.
    fn headline(_config: &Self::Config, summary: &Self::Summary) -> Map<String, Value> {
        match serde_json::to_value(summary) {
            Ok(Value::Object(map)) => map,
            Ok(other) => Map::from_iter([("summary".to_string(), other)]),
            Err(e) => Map::from_iter([(
                "summary".to_string(),
                Value::from(format!("not serializable: {e}")),
            )]),
        }
    }
    /// The figures, from the summary and the recorded curves.
    fn figures(
        _config: &Self::Config,
        _summary: &Self::Summary,
        _metrics: &Metrics,
    ) -> Vec<Figure> {
        Vec::new()
    }
}

/// One figure file: its name under `figures/` and its panels, drawn side by side.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File name, e.g. `smoothed_margin.svg`.
    pub file: String,
    /// The panels.
    pub panels: Vec<Panel>,
}

impl Figure {
    /// A figure file from its panels.
    pub fn new(file: impl Into<String>, panels: impl Into<Vec<Panel>>) -> Self {
        Self {
            file: file.into(),
            panels: panels.into(),
        }
    }
}

/// The kind of file `--data` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// Labelled points: columns `x0..x{D-1},y` with a header ([`RunContext::data`]).
    Labelled,
    /// A symmetric matrix: `d` rows of `d` numbers, no header ([`RunContext::matrix`]).
    SymmetricMatrix,
}

/// What a running experiment is given: device, data, the run folder and its recorder.
pub struct RunContext {
    /// Autodiff device, dtype already fixed.
    pub device: Device,
    /// The dtype of the run.
    pub dtype: Precision,
    /// Seed for data and initialisation.
    pub seed: u64,
    /// Data from `--data`, if given (otherwise experiments generate theirs from the seed).
    pub data: Option<Dataset>,
    /// The matrix from `--data`, for an experiment whose data is one ([`DataFormat`]).
    pub matrix: Option<fdl_data::SymmetricMatrix>,
    /// The run folder being written.
    pub folder: RunFolder,
    /// metrics.csv.
    pub recorder: Recorder,
    /// Wall-clock seconds per variant.
    pub timings: Vec<(String, f64)>,
    progress: ProgressBar,
}

impl RunContext {
    /// A context writing into `folder`.
    pub fn new(
        device: Device,
        dtype: Precision,
        seed: u64,
        data: Option<Dataset>,
        folder: RunFolder,
    ) -> Result<Self, LabError> {
        let recorder = Recorder::create(folder.staging())?;
        let progress = if std::io::stderr().is_terminal() {
            ProgressBar::new(0)
        } else {
            ProgressBar::hidden()
        };
        progress.set_style(
            ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} steps ({eta} left)")
                .expect("valid template")
                .progress_chars("=> "),
        );
        Ok(Self {
            device,
            dtype,
            seed,
            data,
            matrix: None,
            folder,
            recorder,
            timings: Vec::new(),
            progress,
        })
    }

    /// Announces the total number of steps of the whole run (one bar for all variants).
    pub fn set_total_steps(&self, total: u64) {
        self.progress.set_length(total);
    }

    /// The progress bar, for the training loop's per-step callback.
    pub fn progress(&self) -> &ProgressBar {
        &self.progress
    }

    /// Times `work` and stores its duration under `label`.
    pub fn timed<T>(
        &mut self,
        label: &str,
        work: impl FnOnce(&mut Self) -> Result<T, LabError>,
    ) -> Result<T, LabError> {
        self.progress.set_message(label.to_string());
        let start = Instant::now();
        let out = work(self)?;
        self.timings
            .push((label.to_string(), start.elapsed().as_secs_f64()));
        Ok(out)
    }

    /// Hides the progress bar.
    pub fn finish_progress(&self) {
        self.progress.finish_and_clear();
    }
}

/// What a run hands the lab: its report, the summary and the figures.
pub struct Ran {
    /// The report (checks, references, headline, findings).
    pub report: Report,
    /// `summary.json`'s text.
    pub summary: String,
    /// Figures to draw into `figures/`.
    pub figures: Vec<Figure>,
}

/// Object-safe view of an experiment, for the registry.
pub trait DynExperiment: Sync + Send {
    /// Registry name.
    fn name(&self) -> &'static str;
    /// One-line claim.
    fn claim(&self) -> &'static str;
    /// Default dtype.
    fn dtype(&self) -> Precision;
    /// What `--data` holds.
    fn data_format(&self) -> DataFormat;
    /// The defaults as a TOML table.
    fn defaults(&self) -> Table;
    /// `--quick` overrides.
    fn quick(&self) -> Table;
    /// The defaults as commented TOML (`fdl config NAME`, `experiments/NAME.toml`).
    fn config_toml(&self) -> String;
    /// Deserializes and range-checks a resolved table.
    fn validate(&self, table: &Table) -> Result<(), ConfigError>;
    /// Runs with a resolved table.
    fn run(&self, table: Table, ctx: &mut RunContext) -> Result<Ran, LabError>;
    /// The report from a resolved table and `summary.json`'s text (`fdl check`).
    fn assess(&self, table: Table, summary: &str) -> Result<Report, LabError>;
    /// The figures from a resolved table, `summary.json`'s text and the metrics (`fdl replot`).
    fn figures(
        &self,
        table: Table,
        summary: &str,
        metrics: &Metrics,
    ) -> Result<Vec<Figure>, LabError>;
}

/// Adapts an [`Experiment`] to the object-safe [`DynExperiment`].
pub(crate) struct Pipeline<E>(pub std::marker::PhantomData<E>);

impl<E: Experiment> Pipeline<E> {
    fn config(&self, table: Table) -> Result<E::Config, LabError> {
        let config: E::Config = from_table(table)?;
        config.validate()?;
        Ok(config)
    }

    fn summary(text: &str) -> Result<E::Summary, LabError> {
        serde_json::from_str(text).map_err(|e| LabError::RunFolder {
            path: "summary.json".into(),
            message: format!("does not read as a {} summary: {e}", E::NAME),
        })
    }

    /// The report of a summary: checks, references, findings, and the summary as headline.
    fn report(config: &E::Config, summary: &E::Summary) -> Report {
        let mut report = Report::new(E::NAME, E::CLAIM);
        for check in E::checks(config, summary) {
            report.check(check);
        }
        for (name, status) in E::references(summary) {
            report.reference(name, &status);
        }
        for finding in E::findings(config, summary) {
            report.finding(finding);
        }
        report.headline = E::headline(config, summary);
        report
    }
}

impl<E: Experiment> DynExperiment for Pipeline<E> {
    fn name(&self) -> &'static str {
        E::NAME
    }
    fn claim(&self) -> &'static str {
        E::CLAIM
    }
    fn dtype(&self) -> Precision {
        E::DTYPE
    }
    fn data_format(&self) -> DataFormat {
        E::DATA
    }
    fn defaults(&self) -> Table {
        to_table(&E::Config::default())
    }
    fn quick(&self) -> Table {
        E::quick()
    }
    fn config_toml(&self) -> String {
        commented_toml(
            E::NAME,
            E::CLAIM,
            E::DTYPE.name(),
            &self.defaults(),
            &E::Config::fields(),
        )
    }
    fn validate(&self, table: &Table) -> Result<(), ConfigError> {
        from_table::<E::Config>(table.clone())?.validate()
    }
    fn run(&self, table: Table, ctx: &mut RunContext) -> Result<Ran, LabError> {
        let config = self.config(table)?;
        let summary = E::run(&config, ctx)?;
        ctx.finish_progress();
        let text = serde_json::to_string_pretty(&summary).map_err(|e| LabError::RunFolder {
            path: "summary.json".into(),
            message: format!("the summary does not serialize: {e}"),
        })?;
        let mut report = Self::report(&config, &summary);
        // `fdl check` must read back what `reproduce` judged (a NaN in an f64 field, say, is
        // written as null and does not).
        if let Err(e) = Self::summary(&text) {
            report.finding(format!("fdl check cannot re-read this run: {e}"));
        }
        Ok(Ran {
            report,
            figures: E::figures(&config, &summary, ctx.recorder.metrics()),
            summary: text,
        })
    }
    fn assess(&self, table: Table, summary: &str) -> Result<Report, LabError> {
        let config = self.config(table)?;
        Ok(Self::report(&config, &Self::summary(summary)?))
    }
    fn figures(
        &self,
        table: Table,
        summary: &str,
        metrics: &Metrics,
    ) -> Result<Vec<Figure>, LabError> {
        let config = self.config(table)?;
        Ok(E::figures(&config, &Self::summary(summary)?, metrics))
    }
}
