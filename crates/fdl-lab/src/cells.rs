//! Independent cells inside one run (width x seed x ...) run in parallel on the available cores
//! (rayon), advancing one shared progress bar.

use crate::error::LabError;
use rayon::prelude::*;

/// Runs `work` on every cell in parallel and returns the results in the cells' order; the first
/// error (in cell order) is returned.
pub fn run_cells<C: Sync, R: Send>(
    cells: &[C],
    work: impl Fn(&C) -> Result<R, LabError> + Sync + Send,
) -> Result<Vec<R>, LabError> {
    cells.par_iter().map(&work).collect()
}

/// Mean and the (min, max) spread of `values` (NaN when empty).
pub fn mean_and_spread(values: &[f64]) -> (f64, f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (mean, min, max)
}
