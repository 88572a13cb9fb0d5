//! The experiment trait, its type-erased form for the registry, and the context a run gets.

use crate::config::{from_table_naming_keys, to_table};
use crate::device::DType;
use crate::error::{ConfigError, LabError};
use crate::recorder::Recorder;
use crate::report::Report;
use crate::run_folder::RunFolder;
use burn::tensor::Device;
use fdl_data::Dataset;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::IsTerminal;
use std::time::Instant;
use toml::Table;

/// Range checks on a deserialized config; each error names the key and the allowed values.
pub trait Validate {
    /// Checks every value against its allowed range.
    fn validate(&self) -> Result<(), ConfigError>;
}

/// One experiment: a config with the defaults that reproduce the figure, and a run.
pub trait ExperimentSpec: Sync + 'static {
    /// Typed configuration; `Default` gives the defaults that reproduce the paper's figure.
    type Config: Serialize + DeserializeOwned + Default + Validate;
    /// Registry name, e.g. `depth-conv`.
    const NAME: &'static str;
    /// One-line claim.
    const CLAIM: &'static str;
    /// Default float precision.
    const DTYPE: DType;
    /// Overrides for `--quick` (a reduced run that still evaluates every check it can).
    fn quick() -> Table;
    /// Runs the experiment and returns its report.
    fn run(config: Self::Config, ctx: &mut RunContext) -> Result<Report, LabError>;
}

/// What a running experiment is given: device, data, the run folder and its recorder.
pub struct RunContext {
    /// Autodiff device, dtype already fixed.
    pub device: Device,
    /// The dtype of the run.
    pub dtype: DType,
    /// Seed for data and initialisation.
    pub seed: u64,
    /// Data from `--data`, if given (otherwise experiments generate theirs from the seed).
    pub data: Option<Dataset>,
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
        dtype: DType,
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

/// Object-safe view of an experiment, for the registry.
pub trait Experiment: Sync {
    /// Registry name.
    fn name(&self) -> &'static str;
    /// One-line claim.
    fn claim(&self) -> &'static str;
    /// Default dtype.
    fn dtype(&self) -> DType;
    /// The defaults as a TOML table.
    fn defaults(&self) -> Table;
    /// `--quick` overrides.
    fn quick(&self) -> Table;
    /// Deserializes and range-checks a resolved table.
    fn validate(&self, table: &Table) -> Result<(), ConfigError>;
    /// Runs with a resolved table.
    fn run(&self, table: Table, ctx: &mut RunContext) -> Result<Report, LabError>;
}

/// Adapts an [`ExperimentSpec`] to the object-safe [`Experiment`].
pub struct Registered<E>(pub std::marker::PhantomData<E>);

impl<E: ExperimentSpec> Experiment for Registered<E> {
    fn name(&self) -> &'static str {
        E::NAME
    }
    fn claim(&self) -> &'static str {
        E::CLAIM
    }
    fn dtype(&self) -> DType {
        E::DTYPE
    }
    fn defaults(&self) -> Table {
        to_table(&E::Config::default())
    }
    fn quick(&self) -> Table {
        E::quick()
    }
    fn validate(&self, table: &Table) -> Result<(), ConfigError> {
        from_table_naming_keys::<E::Config>(table.clone(), &self.defaults())?.validate()
    }
    fn run(&self, table: Table, ctx: &mut RunContext) -> Result<Report, LabError> {
        let config: E::Config = from_table_naming_keys(table, &self.defaults())?;
        config.validate()?;
        E::run(config, ctx)
    }
}
