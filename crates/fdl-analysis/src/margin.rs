//! Margins of linear predictors: `min_n <z_n, beta>` with `z_n = y_n x_n`, and normalized forms.

use crate::{dot, fourier_norm, norm2};

/// `min_n <z_n, beta>` over the rows of `z` (row-major, `beta.len()` columns).
pub fn min_margin(z: &[f64], beta: &[f64]) -> f64 {
    z.chunks(beta.len())
        .map(|row| dot(row, beta))
        .fold(f64::INFINITY, f64::min)
}

/// `min_n <z_n, beta> / ||beta||_2`.
pub fn normalized_margin_l2(z: &[f64], beta: &[f64]) -> f64 {
    min_margin(z, beta) / norm2(beta)
}

/// `min_n <z_n, beta> / ||F beta||_p`, the margin depth-conv nets maximize for p = 2/L.
pub fn normalized_margin_fourier(z: &[f64], beta: &[f64], p: f64) -> f64 {
    min_margin(z, beta) / fourier_norm(beta, p)
}
