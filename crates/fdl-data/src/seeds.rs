//! Seeds for the random streams of a run (data, initialization, sampling) and of its cells
//! (width x seed index x n ...), derived from the run's seed by a hash rather than by arithmetic.
//!
//! Arithmetic seeds collide across runs: `seed + 1000 s + m` gives the same stream to (seed 0,
//! s = 1, m = 16) and (seed 1000, s = 0, m = 16), and `seed + width` makes run 64's data the
//! init of run 0's width-64 net, so a sweep over seeds would reuse its own numbers. Here every
//! (run seed, stream name, indices) goes through SplitMix64's finalizer (Steele, Lea and Flood,
//! OOPSLA 2014), a bijection of u64 with full avalanche, so nearby inputs give unrelated seeds,
//! the same on every platform.

use crate::rng_from_seed;
use rand_chacha::ChaCha8Rng;

/// SplitMix64's finalizer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of one stream: the run's `seed`, a `stream` naming what it seeds (`"data"`,
/// `"init"`, ...) and the cell's indices (width, seed index, n, ...).
pub fn cell_seed(seed: u64, stream: &str, indices: &[u64]) -> u64 {
    let mut h = mix(seed);
    for byte in stream.bytes() {
        h = mix(h ^ u64::from(byte));
    }
    // The lengths separate ("ab", [1]) from ("a", [b'b', 1]) and [1, 2] from [1] then [2].
    h = mix(h ^ stream.len() as u64);
    for &i in indices {
        h = mix(h ^ i);
    }
    mix(h ^ indices.len() as u64)
}

/// The RNG of one stream: [`rng_from_seed`] of [`cell_seed`].
pub fn stream_rng(seed: u64, stream: &str, indices: &[u64]) -> ChaCha8Rng {
    rng_from_seed(cell_seed(seed, stream, indices))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn cells_of_different_runs_and_streams_never_share_a_seed() {
        let mut seen = HashSet::new();
        for run in (0..64u64).chain((1..64).map(|k| 1000 * k)) {
            for stream in ["init", "data"] {
                for s in 0..10u64 {
                    for m in [4u64, 16, 64, 1000, 1016] {
                        assert!(seen.insert(cell_seed(run, stream, &[s, m])));
                    }
                }
                assert!(seen.insert(cell_seed(run, stream, &[])));
            }
        }
        // The collisions of the old arithmetic: seed + 1000 s + m, and seed + width.
        assert_ne!(
            cell_seed(0, "init", &[1, 16]),
            cell_seed(1000, "init", &[0, 16])
        );
        assert_ne!(cell_seed(64, "data", &[]), cell_seed(0, "init", &[64]));
        assert_ne!(
            cell_seed(1, "ab", &[]),
            cell_seed(1, "a", &[u64::from(b'b')])
        );
        assert_eq!(cell_seed(7, "init", &[3]), cell_seed(7, "init", &[3]));
    }

    #[test]
    fn the_mixer_matches_splitmix64s_reference_outputs() {
        // SplitMix64 with state 0 outputs mix(0), mix(golden), ... (Vigna's reference code).
        assert_eq!(mix(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(mix(0x9e37_79b9_7f4a_7c15), 0x6e78_9e6a_a1b9_65f4);
    }
}
