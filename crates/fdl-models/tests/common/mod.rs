//! Shared by the model tests: the flex autodiff device (its precision fixed once per test
//! binary), Gaussian draws, and the entrywise comparisons the NTK and gradient tests make.

#![allow(dead_code)]

use burn::tensor::{Device, FloatDType};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::sync::OnceLock;

/// The flex autodiff device in `dtype`; every call in one test binary must ask for the same one.
pub fn flex_autodiff(dtype: FloatDType) -> Device {
    static DEVICE: OnceLock<(FloatDType, Device)> = OnceLock::new();
    let (fixed, device) = DEVICE.get_or_init(|| {
        let mut d = Device::flex();
        d.configure(dtype).expect("configure the dtype once");
        (dtype, d.autodiff())
    });
    assert_eq!(*fixed, dtype, "one dtype per test binary");
    device.clone()
}

/// `len` standard normal draws from `rng`.
pub fn gaussian(rng: &mut impl Rng, len: usize) -> Vec<f64> {
    (0..len).map(|_| StandardNormal.sample(rng)).collect()
}

/// `len` standard normal draws from a ChaCha8 stream seeded with `seed`.
pub fn normal(len: usize, seed: u64) -> Vec<f64> {
    gaussian(&mut ChaCha8Rng::seed_from_u64(seed), len)
}

/// Asserts `|a_i - e_i| < tol (1 + |e_i|)` for every entry (and equal lengths).
pub fn assert_entrywise(actual: &[f64], expected: &[f64], tol: f64, context: &str) {
    assert_eq!(actual.len(), expected.len(), "{context}: lengths");
    for (a, e) in actual.iter().zip(expected) {
        assert!(
            (a - e).abs() < tol * (1.0 + e.abs()),
            "{context}: {a} vs {e}"
        );
    }
}

/// Asserts `|a_i - e_i| < rel max_j |e_j|` for every entry (and equal lengths): for f32, whose
/// round-off is relative to the largest entry of a product rather than to each entry.
pub fn assert_within_scale(actual: &[f64], expected: &[f64], rel: f64, context: &str) {
    assert_eq!(actual.len(), expected.len(), "{context}: lengths");
    let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() < rel * scale, "{context}: {a} vs {e}");
    }
}
