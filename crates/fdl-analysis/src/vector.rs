//! Small dense-vector helpers.

/// `<a, b>`.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "dot of vectors of different lengths");
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `||a||_2`.
pub fn norm2(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `<a, b> / (||a|| ||b||)`; 0 when either vector is zero.
pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let denom = norm2(a) * norm2(b);
    if denom == 0.0 { 0.0 } else { dot(a, b) / denom }
}

/// Why a log-log fit could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// Fewer than two points.
    #[error("{0} point(s) to fit, at least 2 needed")]
    TooFew(usize),
    /// A point whose logarithm does not exist (zero, negative, NaN or infinite).
    #[error("point {index} is ({x}, {y}): a log-log fit needs positive finite values")]
    NotPositive {
        /// Its position in the series.
        index: usize,
        /// Its abscissa.
        x: f64,
        /// Its ordinate.
        y: f64,
    },
    /// Every abscissa is the same.
    #[error("every point has the same x = {0}")]
    Degenerate(f64),
}

/// The least-squares slope of `ln y` against `ln x` (the exponent a of `y ~ x^a`). Every point
/// must be positive and finite: a zero or NaN is an error naming it, never dropped.
pub fn loglog_slope(points: &[(f64, f64)]) -> Result<f64, FitError> {
    if points.len() < 2 {
        return Err(FitError::TooFew(points.len()));
    }
    if let Some((index, &(x, y))) = points
        .iter()
        .enumerate()
        .find(|(_, (x, y))| !(*x > 0.0 && *y > 0.0 && x.is_finite() && y.is_finite()))
    {
        return Err(FitError::NotPositive { index, x, y });
    }
    let logs: Vec<(f64, f64)> = points.iter().map(|(x, y)| (x.ln(), y.ln())).collect();
    linear_slope(&logs).map_err(|e| match e {
        FitError::Degenerate(_) => FitError::Degenerate(points[0].0),
        other => other,
    })
}

/// The least-squares slope of y against x (finite points; at least two distinct x).
pub fn linear_slope(points: &[(f64, f64)]) -> Result<f64, FitError> {
    if points.len() < 2 {
        return Err(FitError::TooFew(points.len()));
    }
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    if sxx == 0.0 {
        return Err(FitError::Degenerate(points[0].0));
    }
    Ok(sxy / sxx)
}

#[cfg(test)]
mod slope_tests {
    use super::*;

    #[test]
    fn power_law_has_its_exponent_as_slope() {
        let pts: Vec<(f64, f64)> = [100.0, 400.0, 1600.0]
            .iter()
            .map(|&m: &f64| (m, 3.0 * m.powf(-0.5)))
            .collect();
        assert!((loglog_slope(&pts).unwrap() + 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_zero_a_nan_or_too_few_points_is_an_error_not_a_dropped_point() {
        let good = [(1.0, 1.0), (2.0, 0.5), (4.0, 0.25)];
        assert_eq!(loglog_slope(&good[..1]), Err(FitError::TooFew(1)));
        assert_eq!(loglog_slope(&[]), Err(FitError::TooFew(0)));
        for bad in [0.0, -1.0, f64::INFINITY] {
            let mut pts = good;
            pts[1].1 = bad;
            assert_eq!(
                loglog_slope(&pts),
                Err(FitError::NotPositive {
                    index: 1,
                    x: 2.0,
                    y: bad
                })
            );
        }
        let mut pts = good;
        pts[2].1 = f64::NAN;
        assert!(matches!(
            loglog_slope(&pts),
            Err(FitError::NotPositive { index: 2, .. })
        ));
        assert_eq!(
            loglog_slope(&[(3.0, 1.0), (3.0, 2.0)]),
            Err(FitError::Degenerate(3.0))
        );
        let msg = loglog_slope(&[(1.0, 1.0), (2.0, 0.0)])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("(2, 0)"), "{msg}");
    }
}
