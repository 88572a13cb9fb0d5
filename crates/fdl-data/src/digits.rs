//! The bundled handwritten digits (UCI "Optical Recognition of Handwritten Digits", E. Alpaydin
//! and C. Kaynak 1998, CC BY 4.0, as redistributed with scikit-learn; see data/NOTICE.md).
//!
//! 1797 images of 8x8 pixels with intensities 0..16, scaled here to [0, 1], and a fixed seeded
//! split: the rows are permuted once with [`DIGITS_SPLIT_SEED`] and the first `n_train` of the
//! permutation are the training set, the rest the test set.

use crate::{DataError, Dataset, rng_from_seed};
use flate2::read::GzDecoder;
use rand::seq::SliceRandom;
use std::io::Read;

/// The gzipped CSV: 64 pixel values then the class 0..9 per row, no header.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");
/// Number of images.
pub const DIGITS_ROWS: usize = 1797;
/// Pixels per image.
pub const DIGITS_PIXELS: usize = 64;
/// Seed of the permutation that defines the train/test split (fixed: the split is part of the
/// experiment, not of the run's seed).
pub const DIGITS_SPLIT_SEED: u64 = 20_190_101;

/// Which labels a digits task uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigitsTask {
    /// Digits 0-4 labelled -1, digits 5-9 labelled +1.
    LowVsHigh,
    /// The class 0..9 itself (as a float label).
    TenClass,
}

/// The digits split into a training and a test set.
#[derive(Debug, Clone)]
pub struct DigitsSplit {
    /// The first `n_train` images of the fixed permutation.
    pub train: Dataset,
    /// The remaining images.
    pub test: Dataset,
}

/// All 1797 images (pixels scaled to [0, 1]) with their classes 0..9, in file order.
pub fn digits() -> Dataset {
    let mut text = String::new();
    GzDecoder::new(DIGITS_CSV_GZ)
        .read_to_string(&mut text)
        .expect("the bundled digits file is valid gzip");
    let mut x = Vec::with_capacity(DIGITS_ROWS * DIGITS_PIXELS);
    let mut y = Vec::with_capacity(DIGITS_ROWS);
    for line in text.lines() {
        let values: Vec<f64> = line
            .split(',')
            .map(|v| v.parse().expect("the bundled digits file holds integers"))
            .collect();
        assert_eq!(values.len(), DIGITS_PIXELS + 1, "digits row width");
        x.extend(values[..DIGITS_PIXELS].iter().map(|v| v / 16.0));
        y.push(values[DIGITS_PIXELS]);
    }
    assert_eq!(y.len(), DIGITS_ROWS, "digits row count");
    Dataset::new(x, y, DIGITS_PIXELS).expect("the bundled digits are a valid dataset")
}

/// The fixed split of the digits for `task`, with `n_train` training images.
pub fn digits_split(task: DigitsTask, n_train: usize) -> Result<DigitsSplit, DataError> {
    if n_train == 0 || n_train >= DIGITS_ROWS {
        return Err(DataError::Invalid(format!(
            "digits: n_train = {n_train} must be between 1 and {}",
            DIGITS_ROWS - 1
        )));
    }
    let all = digits();
    let mut order: Vec<usize> = (0..DIGITS_ROWS).collect();
    order.shuffle(&mut rng_from_seed(DIGITS_SPLIT_SEED));
    let subset = |rows: &[usize]| {
        let x = rows.iter().flat_map(|&r| all.row(r).to_vec()).collect();
        let y = rows
            .iter()
            .map(|&r| match task {
                DigitsTask::TenClass => all.y()[r],
                DigitsTask::LowVsHigh if all.y()[r] < 5.0 => -1.0,
                DigitsTask::LowVsHigh => 1.0,
            })
            .collect();
        Dataset::new(x, y, DIGITS_PIXELS)
    };
    Ok(DigitsSplit {
        train: subset(&order[..n_train])?,
        test: subset(&order[n_train..])?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_digits_have_every_class_and_unit_range() {
        let d = digits();
        assert_eq!(d.len(), DIGITS_ROWS);
        assert!(d.x().iter().all(|&v| (0.0..=1.0).contains(&v)));
        assert!(d.x().contains(&1.0));
        for class in 0..10 {
            let count = d.y().iter().filter(|&&c| c == class as f64).count();
            assert!((170..=190).contains(&count), "class {class}: {count}");
        }
    }

    #[test]
    fn split_is_fixed_disjoint_and_labelled_by_task() {
        let a = digits_split(DigitsTask::LowVsHigh, 1000).unwrap();
        let b = digits_split(DigitsTask::LowVsHigh, 1000).unwrap();
        assert_eq!(a.train, b.train);
        assert_eq!((a.train.len(), a.test.len()), (1000, 797));
        a.train.require_binary_labels().unwrap();
        let ten = digits_split(DigitsTask::TenClass, 1000).unwrap();
        assert_eq!(ten.train.x(), a.train.x());
        for (c, y) in ten.train.y().iter().zip(a.train.y()) {
            assert_eq!(*y, if *c < 5.0 { -1.0 } else { 1.0 });
        }
        assert!(digits_split(DigitsTask::TenClass, 1797).is_err());
    }
}
