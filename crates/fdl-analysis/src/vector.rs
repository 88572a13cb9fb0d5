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

/// The least-squares slope of `ln y` against `ln x` over the points with both positive and
/// finite (the exponent a of `y ~ x^a`); NaN with fewer than two such points.
pub fn loglog_slope(points: &[(f64, f64)]) -> f64 {
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0 && x.is_finite() && y.is_finite())
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    if logs.len() < 2 {
        return f64::NAN;
    }
    let n = logs.len() as f64;
    let (mx, my) = logs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (sxy, sxx) = logs.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    sxy / sxx
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
        assert!((loglog_slope(&pts) + 0.5).abs() < 1e-12);
        assert!(loglog_slope(&pts[..1]).is_nan());
    }
}
