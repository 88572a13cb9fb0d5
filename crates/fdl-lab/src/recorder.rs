//! Metrics in long format (`variant, step, metric, value`), streamed to `metrics.csv` as the run
//! goes and kept in memory for the figures.

use crate::error::LabError;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// One recorded value.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// Variant label, e.g. `conv-L2`.
    pub variant: String,
    /// Training step.
    pub step: usize,
    /// Metric name.
    pub metric: String,
    /// Value.
    pub value: f64,
}

/// Writes `metrics.csv` and remembers every row.
pub struct Recorder {
    out: BufWriter<File>,
    path: PathBuf,
    rows: Vec<MetricRow>,
}

impl Recorder {
    /// Creates `metrics.csv` in `folder` with its header.
    pub fn create(folder: &Path) -> Result<Self, LabError> {
        let path = folder.join("metrics.csv");
        let file = File::create(&path).map_err(|e| LabError::io(&path, e))?;
        let mut out = BufWriter::new(file);
        writeln!(out, "variant,step,metric,value").map_err(|e| LabError::io(&path, e))?;
        Ok(Self {
            out,
            path,
            rows: Vec::new(),
        })
    }

    /// Records one value.
    pub fn record(
        &mut self,
        variant: &str,
        step: usize,
        metric: &str,
        value: f64,
    ) -> Result<(), LabError> {
        writeln!(self.out, "{variant},{step},{metric},{value:e}")
            .map_err(|e| LabError::io(&self.path, e))?;
        self.rows.push(MetricRow {
            variant: variant.into(),
            step,
            metric: metric.into(),
            value,
        });
        Ok(())
    }

    /// Flushes what was written so far (called at probes so the file follows the run).
    pub fn flush(&mut self) -> Result<(), LabError> {
        self.out.flush().map_err(|e| LabError::io(&self.path, e))
    }

    /// `(step, value)` of one metric of one variant, in recording order.
    pub fn series(&self, variant: &str, metric: &str) -> Vec<(f64, f64)> {
        self.rows
            .iter()
            .filter(|r| r.variant == variant && r.metric == metric)
            .map(|r| (r.step as f64, r.value))
            .collect()
    }
}

/// Writes `predictors.csv`: one row per variant, `variant, beta_0..beta_{d-1}`.
pub fn predictors_csv(rows: &[(String, Vec<f64>)]) -> String {
    let dim = rows.first().map_or(0, |(_, b)| b.len());
    let mut out = String::from("variant");
    for j in 0..dim {
        out.push_str(&format!(",beta_{j}"));
    }
    out.push('\n');
    for (label, beta) in rows {
        out.push_str(label);
        for b in beta {
            out.push_str(&format!(",{b:e}"));
        }
        out.push('\n');
    }
    out
}
