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
