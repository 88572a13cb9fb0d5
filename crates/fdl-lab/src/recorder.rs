//! Metrics in long format (`variant, step, metric, value`), streamed to `metrics.csv` as the run
//! goes and kept in memory for the figures; [`Metrics::read`] loads them back for `fdl replot`.

use crate::error::LabError;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The header of `metrics.csv`.
const HEADER: [&str; 4] = ["variant", "step", "metric", "value"];

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

/// Every recorded value of a run, in recording order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    rows: Vec<MetricRow>,
}

impl Metrics {
    /// `(step, value)` of one metric of one variant, in recording order.
    pub fn series(&self, variant: &str, metric: &str) -> Vec<(f64, f64)> {
        self.rows
            .iter()
            .filter(|r| r.variant == variant && r.metric == metric)
            .map(|r| (r.step as f64, r.value))
            .collect()
    }

    /// All rows.
    pub fn rows(&self) -> &[MetricRow] {
        &self.rows
    }

    /// Reads a run folder's `metrics.csv`; a malformed row is an error naming the file and row.
    pub fn read(path: &Path) -> Result<Self, LabError> {
        let fail = |message: String| LabError::RunFolder {
            path: path.display().to_string(),
            message,
        };
        let mut reader = csv::Reader::from_path(path).map_err(|e| fail(e.to_string()))?;
        let header = reader.headers().map_err(|e| fail(e.to_string()))?;
        if header.iter().ne(HEADER) {
            return Err(fail(format!("header must be {}", HEADER.join(","))));
        }
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let row = i + 2;
            let record = record.map_err(|e| fail(format!("row {row}: {e}")))?;
            let field = |k: usize| record.get(k).unwrap_or_default();
            let step = field(1)
                .parse()
                .map_err(|e| fail(format!("row {row}, field step: {e}")))?;
            let value = field(3)
                .parse()
                .map_err(|e| fail(format!("row {row}, field value: {e}")))?;
            rows.push(MetricRow {
                variant: field(0).into(),
                step,
                metric: field(2).into(),
                value,
            });
        }
        Ok(Self { rows })
    }
}

/// Writes `metrics.csv` and remembers every row.
pub struct Recorder {
    out: csv::Writer<File>,
    path: PathBuf,
    metrics: Metrics,
}

impl Recorder {
    /// Creates `metrics.csv` in `folder` with its header.
    pub fn create(folder: &Path) -> Result<Self, LabError> {
        let path = folder.join("metrics.csv");
        let mut out = csv::Writer::from_path(&path).map_err(|e| csv_error(&path, e))?;
        out.write_record(HEADER).map_err(|e| csv_error(&path, e))?;
        Ok(Self {
            out,
            path,
            metrics: Metrics::default(),
        })
    }

    /// Records one value (written in Rust's shortest round-trip form, so it reads back exactly).
    pub fn record(
        &mut self,
        variant: &str,
        step: usize,
        metric: &str,
        value: f64,
    ) -> Result<(), LabError> {
        let (step_text, value_text) = (step.to_string(), format!("{value:e}"));
        self.out
            .write_record([variant, &step_text, metric, &value_text])
            .map_err(|e| csv_error(&self.path, e))?;
        self.metrics.rows.push(MetricRow {
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
        self.metrics.series(variant, metric)
    }

    /// Everything recorded so far.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

fn csv_error(path: &Path, e: csv::Error) -> LabError {
    LabError::io(path, std::io::Error::other(e))
}

/// Writes `predictors.csv`: one row per variant, `variant, beta_0..beta_{d-1}`.
pub fn predictors_csv(rows: &[(String, Vec<f64>)]) -> String {
    let dim = rows.first().map_or(0, |(_, b)| b.len());
    let mut out = csv::Writer::from_writer(Vec::new());
    let header =
        std::iter::once("variant".to_string()).chain((0..dim).map(|j| format!("beta_{j}")));
    out.write_record(header).expect("writing to memory");
    for (label, beta) in rows {
        let row = std::iter::once(label.clone()).chain(beta.iter().map(|b| format!("{b:e}")));
        out.write_record(row).expect("writing to memory");
    }
    String::from_utf8(out.into_inner().expect("writing to memory")).expect("utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_read_back_exactly_and_bad_rows_are_named() {
        let dir = std::env::temp_dir().join(format!("fdl-recorder-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut rec = Recorder::create(&dir).unwrap();
        let values = [0.1, 1.0 / 3.0, -2.5e-300, 7e200];
        for (i, v) in values.iter().enumerate() {
            rec.record("a,b", i, "loss", *v).unwrap();
        }
        rec.flush().unwrap();
        let read = Metrics::read(&dir.join("metrics.csv")).unwrap();
        assert_eq!(&read, rec.metrics());
        std::fs::write(
            dir.join("bad.csv"),
            "variant,step,metric,value\nA,1,loss,0.5\nA,x,loss,1\n",
        )
        .unwrap();
        let err = Metrics::read(&dir.join("bad.csv")).unwrap_err().to_string();
        assert!(
            err.contains("bad.csv") && err.contains("row 3, field step"),
            "{err}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
