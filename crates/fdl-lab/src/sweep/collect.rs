//! Aggregation of a sweep's cells: `summary.csv` (one row per cell), `aggregate.csv` (per grid
//! point and quantity: mean and 95% t interval over seeds, pass rate of each check), `report.md`
//! with the pass-rate table, and the figures of [`plots`](super::plots).

use super::interval::{Interval, mean_interval95};
use super::{CellState, Sweep, Tally, plots};
use crate::error::LabError;
use crate::report::{Verdict, fmt_num, md_cell};
use crate::run_folder::write_atomically;
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// One check of a cell's report.json.
#[derive(Debug, Clone)]
pub struct CheckRecord {
    /// Its name.
    pub name: String,
    /// Measured value (NaN when not measured).
    pub value: f64,
    /// Threshold.
    pub threshold: f64,
    /// `>=`, `<=`, `<` or `>`.
    pub comparison: String,
    /// Its verdict.
    pub verdict: Verdict,
}

/// What a cell left: its state, and for a complete cell its checks, headline and run time.
#[derive(Debug, Clone)]
pub struct CellResult {
    /// The cell's index.
    pub index: usize,
    /// Its state.
    pub state: CellState,
    /// Its checks (empty unless complete).
    pub checks: Vec<CheckRecord>,
    /// Its headline numbers.
    pub headline: Map<String, Value>,
    /// Wall-clock seconds of the run (manifest.json).
    pub wall_seconds: Option<f64>,
}

/// Reads every cell's results.
pub fn load(sweep: &Sweep) -> Vec<CellResult> {
    sweep
        .cells
        .iter()
        .map(|cell| {
            let state = sweep.state(cell.index);
            let dir = sweep.cell_dir(cell.index);
            let read = |file: &str| {
                std::fs::read_to_string(dir.join(file))
                    .ok()
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                    .unwrap_or(Value::Null)
            };
            let (report, manifest) = match state {
                CellState::Complete(_) => (read("report.json"), read("manifest.json")),
                _ => (Value::Null, Value::Null),
            };
            let checks = report["checks"]
                .as_array()
                .map(|cs| {
                    cs.iter()
                        .map(|c| CheckRecord {
                            name: c["name"].as_str().unwrap_or_default().to_string(),
                            value: c["value"].as_f64().unwrap_or(f64::NAN),
                            threshold: c["threshold"].as_f64().unwrap_or(f64::NAN),
                            comparison: c["comparison"].as_str().unwrap_or_default().to_string(),
                            verdict: serde_json::from_value(c["verdict"].clone())
                                .unwrap_or(Verdict::Fail),
                        })
                        .collect()
                })
                .unwrap_or_default();
            CellResult {
                index: cell.index,
                state,
                checks,
                headline: report["headline"].as_object().cloned().unwrap_or_default(),
                wall_seconds: manifest["wall_seconds"].as_f64(),
            }
        })
        .collect()
}

/// The numbers under `path` in a headline: dot-separated keys or array indices, `*` for every
/// element of an array (in order).
pub fn lookup(headline: &Map<String, Value>, path: &str) -> Vec<f64> {
    let mut current: Vec<&Value> = Vec::new();
    let mut parts = path.split('.');
    let Some(first) = parts.next().and_then(|k| headline.get(k)) else {
        return Vec::new();
    };
    current.push(first);
    for part in parts {
        current = current
            .into_iter()
            .flat_map(|v| -> Vec<&Value> {
                match (part, v) {
                    ("*", Value::Array(items)) => items.iter().collect(),
                    (k, Value::Object(m)) => m.get(k).into_iter().collect(),
                    (k, Value::Array(items)) => k
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| items.get(i))
                        .into_iter()
                        .collect(),
                    _ => Vec::new(),
                }
            })
            .collect();
    }
    current.into_iter().filter_map(Value::as_f64).collect()
}

/// The scalar numbers of a headline as `path = value`, through objects and arrays of objects
/// (arrays of plain numbers, such as a weight vector, are left out).
pub fn scalars(headline: &Map<String, Value>) -> Vec<(String, f64)> {
    fn walk(v: &Value, path: String, out: &mut Vec<(String, f64)>) {
        match v {
            Value::Number(n) => out.extend(n.as_f64().map(|x| (path, x))),
            Value::Object(m) => {
                for (k, v) in m {
                    walk(v, format!("{path}.{k}"), out);
                }
            }
            Value::Array(items) if !items.iter().all(Value::is_number) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, format!("{path}.{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (k, v) in headline {
        walk(v, k.clone(), &mut out);
    }
    out
}

/// The state of a cell as a word, and the exit code its run gave.
fn status(state: &CellState) -> (&'static str, Option<i32>) {
    match state {
        CellState::Complete(Verdict::Pass) => ("pass", Some(crate::error::EXIT_PASS)),
        CellState::Complete(Verdict::Fail) => ("fail", Some(crate::error::EXIT_FAIL)),
        CellState::Complete(Verdict::Undecided) => {
            ("undecided", Some(crate::error::EXIT_UNDECIDED))
        }
        CellState::Failed(e) => ("could not finish", Some(e.exit_code)),
        CellState::Missing => ("not run", None),
    }
}

/// Check names in order of first appearance.
pub(super) fn check_names(results: &[CellResult]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for c in results.iter().flat_map(|r| &r.checks) {
        if !names.contains(&c.name) {
            names.push(c.name.clone());
        }
    }
    names
}

/// `summary.csv`: one row per cell.
fn summary_csv(sweep: &Sweep, results: &[CellResult]) -> Result<Vec<u8>, LabError> {
    let checks = check_names(results);
    let mut headline_keys: Vec<String> = Vec::new();
    for r in results {
        for (k, _) in scalars(&r.headline) {
            if !headline_keys.contains(&k) {
                headline_keys.push(k);
            }
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err =
        |e: csv::Error| LabError::io(&sweep.folder.join("summary.csv"), std::io::Error::other(e));
    let mut header: Vec<String> = vec!["cell".into(), "point".into()];
    header.extend(sweep.spec.axes().iter().map(|a| a.to_string()));
    header.extend(["seed", "status", "exit_code", "error", "wall_seconds"].map(String::from));
    for c in &checks {
        header.push(format!("check:{c}"));
        header.push(format!("pass:{c}"));
    }
    header.extend(headline_keys.iter().map(|k| format!("headline:{k}")));
    w.write_record(&header).map_err(csv_err)?;
    for (cell, r) in sweep.cells.iter().zip(results) {
        let (word, code) = status(&r.state);
        let mut row: Vec<String> = vec![sweep.cell_name(cell.index), cell.point.to_string()];
        row.extend(cell.values.iter().map(|(_, v)| plain(v)));
        row.push(cell.seed.to_string());
        row.push(word.to_string());
        row.push(code.map_or_else(String::new, |c| c.to_string()));
        row.push(match &r.state {
            CellState::Failed(e) => e.error.clone(),
            _ => String::new(),
        });
        row.push(
            r.wall_seconds
                .map_or_else(String::new, |s| format!("{s:.3}")),
        );
        for name in &checks {
            match r.checks.iter().find(|c| &c.name == name) {
                Some(c) => {
                    row.push(number(c.value));
                    row.push((c.verdict == Verdict::Pass).to_string());
                }
                None => row.extend([String::new(), String::new()]),
            }
        }
        let values = scalars(&r.headline);
        for k in &headline_keys {
            row.push(
                values
                    .iter()
                    .find(|(key, _)| key == k)
                    .map_or_else(String::new, |(_, v)| number(*v)),
            );
        }
        w.write_record(&row).map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| csv_err(e.into_error().into()))
}

/// A TOML value as a CSV cell (strings without quotes).
pub(super) fn plain(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// A number in full precision (empty for NaN).
fn number(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v:e}")
    }
}

/// One check at one grid point, over its seeds.
struct CheckStats {
    name: String,
    /// The measured values of the complete cells.
    values: Vec<f64>,
    /// Cells where it passes.
    passes: usize,
    /// Cells run (complete, or could not finish).
    cells: usize,
    threshold: f64,
    comparison: String,
}

/// Per grid point: each check's values and passes, and each headline scalar's values.
struct PointStats {
    checks: Vec<CheckStats>,
    headline: Vec<(String, Vec<f64>)>,
}

fn point_stats(sweep: &Sweep, results: &[CellResult], point: usize) -> PointStats {
    let cells: Vec<&CellResult> = sweep
        .cells
        .iter()
        .zip(results)
        .filter(|(c, _)| c.point == point)
        .map(|(_, r)| r)
        .collect();
    let complete: Vec<&&CellResult> = cells
        .iter()
        .filter(|r| matches!(r.state, CellState::Complete(_)))
        .collect();
    // A cell that could not finish counts against every check's pass rate.
    let unfinished = cells
        .iter()
        .filter(|r| matches!(r.state, CellState::Failed(_)))
        .count();
    let checks = check_names(results)
        .into_iter()
        .map(|name| {
            let found: Vec<&CheckRecord> = complete
                .iter()
                .filter_map(|r| r.checks.iter().find(|c| c.name == name))
                .collect();
            let passes = found.iter().filter(|c| c.verdict == Verdict::Pass).count();
            let (threshold, comparison) = found.first().map_or((f64::NAN, String::new()), |c| {
                (c.threshold, c.comparison.clone())
            });
            CheckStats {
                values: found.iter().map(|c| c.value).collect(),
                name,
                passes,
                cells: found.len() + unfinished,
                threshold,
                comparison,
            }
        })
        .collect();
    let mut headline: Vec<(String, Vec<f64>)> = Vec::new();
    for r in &complete {
        for (k, v) in scalars(&r.headline) {
            match headline.iter_mut().find(|(key, _)| *key == k) {
                Some((_, values)) => values.push(v),
                None => headline.push((k, vec![v])),
            }
        }
    }
    PointStats { checks, headline }
}

/// `aggregate.csv`: per grid point and quantity, n, mean and 95% t interval; for checks also
/// the pass count and rate.
fn aggregate_csv(sweep: &Sweep, stats: &[PointStats]) -> Result<Vec<u8>, LabError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| {
        LabError::io(
            &sweep.folder.join("aggregate.csv"),
            std::io::Error::other(e),
        )
    };
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(sweep.spec.axes().iter().map(|a| a.to_string()));
    header.extend(
        [
            "quantity",
            "n",
            "mean",
            "ci95_low",
            "ci95_high",
            "passes",
            "cells",
            "pass_rate",
        ]
        .map(String::from),
    );
    w.write_record(&header).map_err(csv_err)?;
    for (point, s) in stats.iter().enumerate() {
        let axes: Vec<String> = sweep
            .spec
            .point_values(point)
            .iter()
            .map(|(_, v)| plain(v))
            .collect();
        let interval = |values: &[f64]| -> [String; 4] {
            match mean_interval95(values) {
                Some(Interval { n, mean, low, high }) => {
                    [n.to_string(), number(mean), number(low), number(high)]
                }
                None => ["0".into(), String::new(), String::new(), String::new()],
            }
        };
        for c in &s.checks {
            let mut row = vec![point.to_string()];
            row.extend(axes.iter().cloned());
            row.push(format!("check:{}", c.name));
            row.extend(interval(&c.values));
            row.push(c.passes.to_string());
            row.push(c.cells.to_string());
            row.push(format!("{:.4}", c.passes as f64 / c.cells.max(1) as f64));
            w.write_record(&row).map_err(csv_err)?;
        }
        for (name, values) in &s.headline {
            let mut row = vec![point.to_string()];
            row.extend(axes.iter().cloned());
            row.push(format!("headline:{name}"));
            row.extend(interval(values));
            row.extend([String::new(), String::new(), String::new()]);
            w.write_record(&row).map_err(csv_err)?;
        }
    }
    w.into_inner().map_err(|e| csv_err(e.into_error().into()))
}

/// A grid point's label: `a=1, b=x`, or `all cells` without axes.
pub(super) fn point_label(sweep: &Sweep, point: usize) -> String {
    let values = sweep.spec.point_values(point);
    if values.is_empty() {
        "all cells".into()
    } else {
        values
            .iter()
            .map(|(k, v)| format!("{k}={}", plain(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `mean [low, high]`.
fn interval_text(values: &[f64]) -> String {
    match mean_interval95(values) {
        Some(i) if i.n > 1 => format!(
            "{} [{}, {}]",
            fmt_num(i.mean),
            fmt_num(i.low),
            fmt_num(i.high)
        ),
        Some(i) => fmt_num(i.mean),
        None => "n/a".into(),
    }
}

/// The sweep's `report.md`.
fn report_md(
    sweep: &Sweep,
    results: &[CellResult],
    stats: &[PointStats],
    tally: &Tally,
    figures: &[String],
) -> String {
    let spec = &sweep.spec;
    let mut md = format!(
        "# Sweep: {}{}\n\n{} cells: {} grid point(s) x {} seed(s) ({}). Spec: `sweep.toml`.\n\n**{tally}.**\n\n",
        spec.experiment,
        if spec.quick { " (--quick)" } else { "" },
        sweep.cells.len(),
        spec.points(),
        spec.seeds.len(),
        seeds_text(&spec.seeds),
    );
    md.push_str("## Pass rate per check (cells passing / cells run; a cell that could not finish counts as not passing)\n\n");
    check_table(&mut md, sweep, stats, true, |c| {
        format!("{}/{}", c.passes, c.cells)
    });
    md.push_str("\n## Check values: mean [95% t interval] over seeds\n\n");
    check_table(&mut md, sweep, stats, false, |c| interval_text(&c.values));
    let troubled: Vec<String> = sweep
        .cells
        .iter()
        .zip(results)
        .filter_map(|(cell, r)| {
            let what = match &r.state {
                CellState::Complete(Verdict::Pass) => return None,
                CellState::Complete(v) => {
                    let names: Vec<&str> = r
                        .checks
                        .iter()
                        .filter(|c| c.verdict != Verdict::Pass)
                        .map(|c| c.name.as_str())
                        .collect();
                    format!("{}: {}", v.word(), names.join("; "))
                }
                CellState::Failed(e) => {
                    format!("could not finish (exit {}): {}", e.exit_code, e.error)
                }
                CellState::Missing => "not run".into(),
            };
            Some(format!(
                "- cell {} ({}): {what}",
                sweep.cell_name(cell.index),
                sweep.describe(cell)
            ))
        })
        .collect();
    if !troubled.is_empty() {
        md.push_str("\n## Cells that did not pass\n\n");
        md.push_str(&troubled.join("\n"));
        md.push('\n');
    }
    if !figures.is_empty() {
        md.push_str("\n## Figures\n\nMean over seeds with its 95% t interval (band) and every seed (points).\n\n");
        for f in figures {
            let _ = writeln!(md, "![{f}]({f})\n");
        }
    }
    md.push_str("\nFiles: `summary.csv` (one row per cell), `aggregate.csv` (per grid point: mean, 95% t interval, pass rate), `cells/NNNN/` (each cell's run folder).\n");
    md
}

/// A markdown table: one row per check (with its threshold if asked), one column per grid
/// point, `cell` of each check at each point.
fn check_table(
    md: &mut String,
    sweep: &Sweep,
    stats: &[PointStats],
    threshold: bool,
    cell: impl Fn(&CheckStats) -> String,
) {
    let points = sweep.spec.points();
    md.push_str(if threshold {
        "| check | threshold |"
    } else {
        "| check |"
    });
    for p in 0..points {
        let _ = write!(md, " {} |", md_cell(&point_label(sweep, p)));
    }
    md.push_str(if threshold { "\n|---|---|" } else { "\n|---|" });
    md.push_str(&"---|".repeat(points));
    md.push('\n');
    let Some(first) = stats.first() else {
        return;
    };
    for (k, c) in first.checks.iter().enumerate() {
        let _ = write!(md, "| {} |", md_cell(&c.name));
        if threshold {
            let _ = write!(md, " {} {} |", c.comparison, fmt_num(c.threshold));
        }
        for s in stats {
            let _ = write!(md, " {} |", cell(&s.checks[k]));
        }
        md.push('\n');
    }
}

/// `0..32` for a contiguous run of seeds, else the list.
pub fn seeds_text(seeds: &[u64]) -> String {
    let contiguous = seeds.windows(2).all(|w| w[1] == w[0] + 1);
    match (seeds.first(), seeds.last()) {
        (Some(a), Some(b)) if contiguous && seeds.len() > 2 => format!("seeds {a}..{}", b + 1),
        _ => format!(
            "seeds {}",
            seeds
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// What `collect` produced.
#[derive(Debug)]
pub struct Collected {
    /// Cell counts.
    pub tally: Tally,
    /// The report text.
    pub report: String,
}

/// Writes `summary.csv`, `aggregate.csv`, the figures and `report.md` into the sweep folder.
pub fn collect(sweep: &Sweep) -> Result<Collected, LabError> {
    let results = load(sweep);
    // From the rows themselves, so that counts and rows agree while Slurm is still writing.
    let tally = Tally::of(results.iter().map(|r| r.state.clone()));
    let stats: Vec<PointStats> = (0..sweep.spec.points())
        .map(|p| point_stats(sweep, &results, p))
        .collect();
    write_atomically(
        &sweep.folder.join("summary.csv"),
        &summary_csv(sweep, &results)?,
    )?;
    write_atomically(
        &sweep.folder.join("aggregate.csv"),
        &aggregate_csv(sweep, &stats)?,
    )?;
    let mut figures = vec![plots::checks_figure(sweep, &results)];
    figures.extend(
        sweep
            .spec
            .plots
            .iter()
            .enumerate()
            .map(|(k, p)| plots::plot_figure(sweep, &results, k, &p.x, &p.y)),
    );
    figures.retain(|f| f.panels.iter().any(|p| !p.series.is_empty()));
    let names = crate::lab::draw(&sweep.folder, &figures)?;
    let report = report_md(sweep, &results, &stats, &tally, &names);
    write_atomically(&sweep.folder.join("report.md"), report.as_bytes())?;
    Ok(Collected { tally, report })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headline_paths_reach_into_arrays_of_objects() {
        let h: Map<String, Value> = serde_json::from_str(
            r#"{"conv": [{"depth": 1, "r": 3.5, "beta": [1, 2]}, {"depth": 2, "r": 2.7, "beta": [3, 4]}], "m": 0.5}"#,
        )
        .unwrap();
        assert_eq!(lookup(&h, "conv.*.depth"), [1.0, 2.0]);
        assert_eq!(lookup(&h, "conv.1.r"), [2.7]);
        assert_eq!(lookup(&h, "conv.*.beta.0"), [1.0, 3.0]);
        assert_eq!(lookup(&h, "m"), [0.5]);
        assert!(lookup(&h, "nothing.*").is_empty());
        let s = scalars(&h);
        let keys: Vec<&str> = s.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["conv.0.depth", "conv.0.r", "conv.1.depth", "conv.1.r", "m"]
        );
    }

    #[test]
    fn seed_lists_read_as_ranges_when_contiguous() {
        assert_eq!(seeds_text(&[0, 1, 2, 3]), "seeds 0..4");
        assert_eq!(seeds_text(&[0, 2]), "seeds 0, 2");
    }
}
