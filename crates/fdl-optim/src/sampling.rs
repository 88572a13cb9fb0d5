//! Mini-batch sampling for stochastic gradient descent. The trainer still evaluates the model
//! on every example (probes and step rules see the full-batch loss); a mini-batch enters through
//! the per-example weights of the gradient: example n gets `(N / |B|) count_n(B)`, so the
//! stochastic gradient of the summed loss is unbiased, and the update equals that of SGD on the
//! mean loss with step `N` times the trainer's (Robbins & Monro 1951; Ma, Bassily, Belkin 2018).

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Which examples a step's gradient uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "sampling")]
pub enum Sampling {
    /// Every example at every step (gradient descent).
    #[default]
    Full,
    /// `batch` examples drawn uniformly with replacement at every step.
    WithReplacement {
        /// Examples per step.
        batch: usize,
        /// Seed of the draws.
        seed: u64,
    },
    /// Epochs: each a fresh seeded permutation of the examples, taken `batch` at a time (an
    /// epoch's last batch holds the remainder).
    Epochs {
        /// Examples per step.
        batch: usize,
        /// Seed of the permutations.
        seed: u64,
    },
}

/// The running state of a [`Sampling`]: its generator and, for epochs, the permutation.
#[derive(Debug, Clone)]
pub(crate) struct Sampler {
    sampling: Sampling,
    rng: ChaCha8Rng,
    order: Vec<usize>,
    next: usize,
}

impl Sampler {
    /// A sampler over `n` examples; an error for an empty batch.
    pub(crate) fn new(sampling: Sampling, n: usize) -> Result<Self, &'static str> {
        let seed = match sampling {
            Sampling::Full => 0,
            Sampling::WithReplacement { batch, seed } | Sampling::Epochs { batch, seed } => {
                if batch == 0 {
                    return Err("a mini-batch needs at least one example");
                }
                seed
            }
        };
        Ok(Self {
            sampling,
            rng: ChaCha8Rng::seed_from_u64(seed),
            order: (0..n).collect(),
            next: n,
        })
    }

    /// The next step's per-example gradient weights `(N / |B|) count_n(B)`; `None` for full
    /// batches (every weight 1).
    pub(crate) fn next_weights(&mut self) -> Option<Vec<f64>> {
        let n = self.order.len();
        let mut counts = vec![0usize; n];
        let drawn = match self.sampling {
            Sampling::Full => return None,
            Sampling::WithReplacement { batch, .. } => {
                for _ in 0..batch {
                    counts[self.rng.random_range(0..n)] += 1;
                }
                batch
            }
            Sampling::Epochs { batch, .. } => {
                if self.next >= n {
                    self.order.shuffle(&mut self.rng);
                    self.next = 0;
                }
                let end = (self.next + batch).min(n);
                for &i in &self.order[self.next..end] {
                    counts[i] += 1;
                }
                let drawn = end - self.next;
                self.next = end;
                drawn
            }
        };
        let scale = n as f64 / drawn as f64;
        Some(counts.iter().map(|&c| c as f64 * scale).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(sampling: Sampling, steps: usize) -> Vec<Vec<f64>> {
        let mut s = Sampler::new(sampling, 10).unwrap();
        (0..steps).map(|_| s.next_weights().unwrap()).collect()
    }

    #[test]
    fn the_sequence_depends_only_on_the_seed() {
        let a = Sampling::WithReplacement { batch: 3, seed: 7 };
        assert_eq!(draws(a, 50), draws(a, 50));
        let b = Sampling::WithReplacement { batch: 3, seed: 8 };
        assert_ne!(draws(a, 50), draws(b, 50));
        let e = Sampling::Epochs { batch: 4, seed: 7 };
        assert_eq!(draws(e, 50), draws(e, 50));
    }

    #[test]
    fn an_epoch_uses_every_example_once_and_weights_are_unbiased() {
        // Batches of 4 over 10 examples: 4, 4, 2 per epoch; each example once per epoch.
        let epoch = draws(Sampling::Epochs { batch: 4, seed: 1 }, 3);
        for n in 0..10 {
            let used: Vec<f64> = epoch.iter().map(|w| w[n]).filter(|&w| w > 0.0).collect();
            assert_eq!(used.len(), 1, "example {n}: {used:?}");
        }
        assert_eq!(epoch[2].iter().filter(|&&w| w > 0.0).count(), 2);
        // With replacement, E[weight_n] = 1: the mean over many steps is near 1 everywhere.
        let many = draws(Sampling::WithReplacement { batch: 2, seed: 3 }, 20_000);
        for n in 0..10 {
            let mean = many.iter().map(|w| w[n]).sum::<f64>() / many.len() as f64;
            // sd of one weight: sqrt(n / b - ...) ~ 2.1; of the mean ~ 0.015.
            assert!((mean - 1.0).abs() < 0.06, "example {n}: mean weight {mean}");
        }
        assert!(Sampler::new(Sampling::Epochs { batch: 0, seed: 0 }, 10).is_err());
    }
}
