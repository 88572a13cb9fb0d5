//! Paper-style SVG figures: panels of line series on linear or log axes (plotters).

use crate::error::LabError;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::path::Path;

/// One curve.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points `(x, y)`; non-finite points and, on log axes, non-positive ones are dropped.
    pub points: Vec<(f64, f64)>,
    /// Dashed reference line rather than a measured curve.
    pub reference: bool,
    /// Draw point markers.
    pub markers: bool,
    /// Join the points with a line (false: a scatter of markers).
    pub joined: bool,
    /// Drawn in the colour of the measured series before it, without a legend entry (the
    /// per-seed points around a mean curve).
    pub companion: bool,
    /// The points outline a region, filled translucently (a confidence band); a companion.
    pub filled: bool,
}

impl Series {
    /// A measured curve.
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            points,
            reference: false,
            markers: false,
            joined: true,
            companion: false,
            filled: false,
        }
    }

    /// Points drawn as markers only (data).
    pub fn scatter(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            markers: true,
            joined: false,
            ..Self::line(label, points)
        }
    }

    /// A reference curve (drawn dashed and grey-ish).
    pub fn reference(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            points,
            reference: true,
            markers: false,
            joined: true,
            companion: false,
            filled: false,
        }
    }

    /// Points (markers only) in the colour of the measured series added just before, with no
    /// legend entry: the per-seed values around a mean curve.
    pub fn companion_points(points: Vec<(f64, f64)>) -> Self {
        Self {
            companion: true,
            ..Self::scatter(String::new(), points)
        }
    }

    /// A band between `lower` and `upper` (same x values, in order), filled in the colour of
    /// the measured series added just before, with no legend entry: a confidence interval.
    pub fn band(lower: Vec<(f64, f64)>, upper: Vec<(f64, f64)>) -> Self {
        let mut points = lower;
        points.extend(upper.into_iter().rev());
        Self {
            companion: true,
            filled: true,
            joined: false,
            ..Self::line(String::new(), points)
        }
    }

    /// Adds point markers.
    pub fn with_markers(mut self) -> Self {
        self.markers = true;
        self
    }
}

/// One panel of a figure.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    /// Title above the panel.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Log-scaled x axis.
    pub log_x: bool,
    /// Log-scaled y axis.
    pub log_y: bool,
    /// The curves.
    pub series: Vec<Series>,
    /// Where the legend goes (upper right by default).
    pub legend: Legend,
}

/// Legend corner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Legend {
    /// Upper right.
    #[default]
    UpperRight,
    /// Lower left.
    LowerLeft,
    /// Lower right.
    LowerRight,
}

/// Compact tick labels: `0.5`, `20`, `1e-6`, `1e4`.
fn tick(v: &f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-2..1e4).contains(&a) {
        let s = format!("{v:.1e}");
        s.replace(".0e", "e")
    } else {
        // Ticks are round numbers, so trailing zeros trim away; nine decimals keep the ticks of
        // an axis spanning 0.99999990..0.99999999 apart.
        let s = format!("{v:.9}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

fn keep(log: bool, v: f64) -> bool {
    v.is_finite() && (!log || v > 0.0)
}

/// Axis range covering `values`, padded; on log axes a factor, else 5% of the span.
fn range(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        return if log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        (lo / 1.5, hi * 1.5)
    } else if hi - lo < 1e-12 * hi.abs().max(1.0) {
        (lo - 0.5 * lo.abs().max(1e-3), hi + 0.5 * hi.abs().max(1e-3))
    } else {
        let pad = 0.05 * (hi - lo);
        (lo - pad, hi + pad)
    }
}

fn draw_on<DB, X, Y>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &Panel,
    x: X,
    y: Y,
) -> Result<(), String>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x, y)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(|e| e.to_string())?;
    // References first, underneath the measured curves that should lie on them. Measured
    // curves are coloured by their position among the measured ones, so the same variant keeps
    // its colour in every panel whatever references a panel adds.
    let references = panel.series.iter().filter(|s| s.reference);
    let mut next = 0usize;
    let measured = panel.series.iter().filter(|s| !s.reference).map(|s| {
        if !s.companion {
            next += 1;
        }
        (Some(next.saturating_sub(1)), s)
    });
    let order = references.map(|s| (None, s)).chain(measured);
    let mut reference_shade = 0u8;
    for (index, s) in order {
        let color = match index {
            None => {
                reference_shade += 1;
                RGBColor(0, 0, 0)
                    .mix(1.0 - 0.3 * (reference_shade - 1) as f64)
                    .to_rgba()
            }
            Some(i) => COLORS[i % COLORS.len()].to_rgba(),
        };
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|&(a, b)| keep(panel.log_x, a) && keep(panel.log_y, b))
            .collect();
        if s.filled {
            if points.len() >= 3 {
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        points,
                        color.mix(0.2).filled(),
                    )))
                    .map_err(|e| e.to_string())?;
            }
            continue;
        }
        let style = color.stroke_width(if s.reference { 3 } else { 2 });
        let line = if s.joined { points.clone() } else { Vec::new() };
        let drawn = if s.reference {
            chart.draw_series(DashedLineSeries::new(line, 8, 5, style))
        } else {
            chart.draw_series(LineSeries::new(line, style))
        };
        let drawn = drawn.map_err(|e| e.to_string())?;
        if !s.companion {
            drawn.label(s.label.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        }
        if s.markers {
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(|e| e.to_string())?;
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .position(match panel.legend {
            Legend::UpperRight => SeriesLabelPosition::UpperRight,
            Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
            Legend::LowerRight => SeriesLabelPosition::LowerRight,
        })
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &Panel,
) -> Result<(), String> {
    let xs = panel
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .filter(|&v| keep(panel.log_x, v));
    let ys = panel
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|&v| keep(panel.log_y, v));
    let (x0, x1) = range(xs, panel.log_x);
    let (y0, y1) = range(ys, panel.log_y);
    let lin = |a: f64, b: f64| -> RangedCoordf64 { (a..b).into() };
    match (panel.log_x, panel.log_y) {
        (false, false) => draw_on(area, panel, lin(x0, x1), lin(y0, y1)),
        (true, false) => draw_on(area, panel, (x0..x1).log_scale(), lin(y0, y1)),
        (false, true) => draw_on(area, panel, lin(x0, x1), (y0..y1).log_scale()),
        (true, true) => draw_on(area, panel, (x0..x1).log_scale(), (y0..y1).log_scale()),
    }
}

/// Draws `panels` into an SVG file: side by side, in rows of four when there are more.
pub fn save_svg(path: &Path, panels: &[Panel]) -> Result<(), LabError> {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let fail = |message: String| LabError::Figure {
        name: name.clone(),
        message,
    };
    let columns = panels.len().clamp(1, 4);
    let rows = panels.len().max(1).div_ceil(columns);
    let root = SVGBackend::new(path, (520 * columns as u32, 420 * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    let areas = root.split_evenly((rows, columns));
    for (area, panel) in areas.iter().zip(panels) {
        draw_panel(area, panel).map_err(fail)?;
    }
    root.present().map_err(|e| fail(e.to_string()))
}

/// Saves each `(file name, panels)` as `figures/<file name>` under `folder` and returns the paths
/// relative to it, for `Report::figures`.
pub fn save_figures(folder: &Path, files: &[(&str, &[Panel])]) -> Result<Vec<String>, LabError> {
    files
        .iter()
        .map(|(name, panels)| {
            let relative = format!("figures/{name}");
            save_svg(&folder.join(&relative), panels)?;
            Ok(relative)
        })
        .collect()
}
