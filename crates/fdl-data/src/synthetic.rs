//! Seeded synthetic data generators.

use crate::Dataset;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// The one RNG fdl uses everywhere, so a seed means the same numbers on every platform.
pub fn rng_from_seed(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `n` points x ~ N(0, I_d) with independent uniform labels in {-1, +1}.
///
/// At least one label of each sign is guaranteed (for n >= 2), so the set is a real
/// classification problem. With n <= d the points are linearly separable almost surely.
pub fn gaussian_random_labels(n: usize, d: usize, rng: &mut impl Rng) -> Dataset {
    let x: Vec<f64> = (0..n * d).map(|_| rng.sample(StandardNormal)).collect();
    let mut y: Vec<f64> = (0..n)
        .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
        .collect();
    if n >= 2 && y.iter().all(|&v| v == y[0]) {
        y[n - 1] = -y[0];
    }
    Dataset::new(x, y, d).expect("generator produces a valid dataset")
}

/// `n` points x ~ N(0, I_d) labelled `y = sign(x_1 - x_2)` (the first two coordinates): the
/// steepest-descent experiment's data (Gunasekar et al. 2018). Needs d >= 2.
pub fn gaussian_difference_labels(n: usize, d: usize, rng: &mut impl Rng) -> Dataset {
    assert!(d >= 2, "y = sign(x_1 - x_2) needs two coordinates");
    let x: Vec<f64> = (0..n * d).map(|_| rng.sample(StandardNormal)).collect();
    let y = x
        .chunks(d)
        .map(|r| if r[0] >= r[1] { 1.0 } else { -1.0 })
        .collect();
    Dataset::new(x, y, d).expect("generator produces a valid dataset")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data() {
        let a = gaussian_random_labels(5, 16, &mut rng_from_seed(7));
        let b = gaussian_random_labels(5, 16, &mut rng_from_seed(7));
        assert_eq!(a, b);
        let c = gaussian_random_labels(5, 16, &mut rng_from_seed(8));
        assert_ne!(a, c);
    }

    #[test]
    fn difference_labels_follow_the_first_two_coordinates() {
        let d = gaussian_difference_labels(30, 5, &mut rng_from_seed(2));
        for n in 0..d.len() {
            let r = d.row(n);
            assert_eq!(d.y()[n], if r[0] >= r[1] { 1.0 } else { -1.0 });
        }
    }

    #[test]
    fn both_classes_present() {
        for seed in 0..50 {
            let d = gaussian_random_labels(3, 4, &mut rng_from_seed(seed));
            assert!(d.y().contains(&1.0) && d.y().contains(&-1.0));
            d.require_binary_labels().unwrap();
        }
    }
}
