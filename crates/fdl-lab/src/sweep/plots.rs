//! The figures of a sweep: a quantity against a grid axis, the seed, or a headline path, as the
//! mean over seeds with its 95% t band and every seed's point.

use super::CellState;
use super::Sweep;
use super::collect::{CellResult, check_names, lookup, plain, point_label};
use super::interval::{Interval, mean_interval95};
use crate::experiment::Figure;
use crate::figures::{Panel, Series};
use crate::report::fmt_num;
use std::collections::BTreeMap;

/// What the x axis of a figure is.
enum XAxis {
    /// A grid or zip axis.
    Axis(usize),
    /// The seed.
    Seed,
    /// A headline path.
    Path(String),
}

/// A TOML number as f64.
fn as_number(v: &toml::Value) -> Option<f64> {
    v.as_float().or(v.as_integer().map(|i| i as f64))
}

/// The axis of a grid with one axis, if its values are numbers.
fn numeric_axis(sweep: &Sweep) -> Option<usize> {
    let numeric =
        || (0..sweep.spec.points()).all(|p| as_number(&sweep.spec.point_values(p)[0].1).is_some());
    (sweep.spec.axes().len() == 1 && numeric()).then_some(0)
}

/// `(series label, x, y)` points of one quantity in every complete cell.
fn points_of(
    sweep: &Sweep,
    results: &[CellResult],
    x: &XAxis,
    y: &dyn Fn(&CellResult) -> Vec<f64>,
) -> Vec<(String, f64, f64)> {
    let mut out = Vec::new();
    for (cell, r) in sweep.cells.iter().zip(results) {
        if !matches!(r.state, CellState::Complete(_)) {
            continue;
        }
        let ys = y(r);
        let (label, xs) = match x {
            XAxis::Axis(k) => {
                let others: Vec<String> = cell
                    .values
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i != k)
                    .map(|(_, (k, v))| format!("{k}={}", plain(v)))
                    .collect();
                let xv = as_number(&cell.values[*k].1);
                (others.join(", "), xv.into_iter().collect::<Vec<_>>())
            }
            XAxis::Seed => (point_label(sweep, cell.point), vec![cell.seed as f64]),
            XAxis::Path(p) => (point_label(sweep, cell.point), lookup(&r.headline, p)),
        };
        if xs.len() == ys.len() {
            out.extend(xs.into_iter().zip(ys).map(|(a, b)| (label.clone(), a, b)));
        }
    }
    out
}

/// A panel of mean lines with 95% bands and per-seed points, one series per label.
fn band_panel(title: &str, x_label: &str, points: &[(String, f64, f64)], seed_axis: bool) -> Panel {
    let mut labels: Vec<&str> = Vec::new();
    for (l, ..) in points {
        if !labels.contains(&l.as_str()) {
            labels.push(l);
        }
    }
    let mut series = Vec::new();
    for label in labels {
        let mine: Vec<(f64, f64)> = points
            .iter()
            .filter(|(l, ..)| l == label)
            .map(|&(_, x, y)| (x, y))
            .filter(|(_, y)| y.is_finite())
            .collect();
        let mut by_x: BTreeMap<i64, (f64, Vec<f64>)> = BTreeMap::new();
        if seed_axis {
            // Across seeds: one mean and interval, drawn over the seed range.
            let ys: Vec<f64> = mine.iter().map(|p| p.1).collect();
            let lo = mine.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
            let hi = mine.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
            for x in [lo, hi] {
                by_x.insert(ordered(x), (x, ys.clone()));
            }
        } else {
            for &(x, y) in &mine {
                by_x.entry(ordered(x)).or_insert((x, Vec::new())).1.push(y);
            }
        }
        let stats: Vec<(f64, Interval)> = by_x
            .values()
            .filter_map(|(x, ys)| mean_interval95(ys).map(|i| (*x, i)))
            .collect();
        let name = if label.is_empty() {
            "mean".to_string()
        } else {
            label.to_string()
        };
        let mean = Series::line(name, stats.iter().map(|(x, i)| (*x, i.mean)).collect());
        // Over seeds the mean is one number drawn across the range: no markers that would look
        // like two measurements.
        series.push(if seed_axis { mean } else { mean.with_markers() });
        let banded: Vec<&(f64, Interval)> =
            stats.iter().filter(|(_, i)| i.low.is_finite()).collect();
        if !banded.is_empty() {
            series.push(Series::band(
                banded.iter().map(|(x, i)| (*x, i.low)).collect(),
                banded.iter().map(|(x, i)| (*x, i.high)).collect(),
            ));
        }
        series.push(Series::companion_points(mine));
    }
    let ys: Vec<f64> = points
        .iter()
        .map(|p| p.2)
        .filter(|y| y.is_finite())
        .collect();
    let positive = !ys.is_empty() && ys.iter().all(|&y| y > 0.0);
    let spread = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        / ys.iter().copied().fold(f64::INFINITY, f64::min);
    Panel {
        title: title.to_string(),
        x_label: x_label.to_string(),
        y_label: String::new(),
        log_y: positive && spread > 100.0,
        series,
        ..Default::default()
    }
}

/// Sortable key of a finite x.
fn ordered(x: f64) -> i64 {
    let bits = x.to_bits() as i64;
    if bits < 0 { bits ^ i64::MAX } else { bits }
}

/// `figures/checks.svg`: every check's value against the grid's one numeric axis (or the seed),
/// with its threshold.
pub(super) fn checks_figure(sweep: &Sweep, results: &[CellResult]) -> Figure {
    let x = numeric_axis(sweep).map_or(XAxis::Seed, XAxis::Axis);
    let x_label = match x {
        XAxis::Axis(k) => sweep.spec.axes()[k].to_string(),
        _ => "seed".into(),
    };
    let panels = check_names(results)
        .into_iter()
        .filter_map(|name| {
            let value = |r: &CellResult| -> Vec<f64> {
                r.checks
                    .iter()
                    .filter(|c| c.name == name)
                    .map(|c| c.value)
                    .collect()
            };
            let points = points_of(sweep, results, &x, &value);
            if points.iter().all(|p| !p.2.is_finite()) {
                return None;
            }
            let threshold = results
                .iter()
                .flat_map(|r| &r.checks)
                .find(|c| c.name == name)
                .map(|c| (c.threshold, c.comparison.clone()));
            let mut panel = band_panel(&name, &x_label, &points, matches!(x, XAxis::Seed));
            if let Some((t, cmp)) = threshold
                && t.is_finite()
            {
                let xs = points.iter().map(|p| p.1);
                let lo = xs.clone().fold(f64::INFINITY, f64::min);
                let hi = xs.fold(f64::NEG_INFINITY, f64::max);
                panel.series.push(Series::reference(
                    format!("threshold ({cmp} {})", fmt_num(t)),
                    vec![(lo, t), (hi, t)],
                ));
                if panel.log_y && t <= 0.0 {
                    panel.log_y = false;
                }
            }
            Some(panel)
        })
        .collect();
    Figure {
        file: "checks.svg".into(),
        panels,
    }
}

/// `figures/plot-K.svg`: the spec's `[[plot]]` K.
pub(super) fn plot_figure(
    sweep: &Sweep,
    results: &[CellResult],
    k: usize,
    x: &str,
    y: &str,
) -> Figure {
    let axis = match sweep.spec.axes().iter().position(|a| *a == x) {
        Some(i) => XAxis::Axis(i),
        None if x == "seed" => XAxis::Seed,
        None => XAxis::Path(x.to_string()),
    };
    let value = |r: &CellResult| -> Vec<f64> {
        match y.strip_prefix("check:") {
            Some(name) => r
                .checks
                .iter()
                .filter(|c| c.name == name)
                .map(|c| c.value)
                .collect(),
            None => lookup(&r.headline, y),
        }
    };
    let points = points_of(sweep, results, &axis, &value);
    let panel = band_panel(
        &format!("{y} against {x}"),
        x,
        &points,
        matches!(axis, XAxis::Seed),
    );
    Figure {
        file: format!("plot-{}.svg", k + 1),
        panels: vec![panel],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_values_sort_by_their_order() {
        assert!(ordered(-1.0) < ordered(0.5) && ordered(0.5) < ordered(2.0));
    }
}
