//! `S1 S2^T` for 0/1 matrices by population counts of packed bit rows.
//!
//! The Gram of a two-layer ReLU net's inner weights (Du et al. 2019, H = (X X^T) .* (S S^T) / m
//! with fixed outer signs) is a product of activation patterns: a float matmul spends 2 n^2 m
//! flops on what is n^2 m / 64 AND-and-count operations on bits. The counts are exact integers.

use crate::host_gram::fill_lower;
use rayon::prelude::*;

/// The rows of a 0/1 matrix, each packed into `u64` words (bit k of word w is column 64 w + k).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitRows {
    words: Vec<u64>,
    words_per_row: usize,
    rows: usize,
    cols: usize,
}

impl BitRows {
    /// Packs a row-major `[rows, cols]` matrix of booleans.
    pub fn pack(bits: &[bool], rows: usize, cols: usize) -> Self {
        assert_eq!(
            bits.len(),
            rows * cols,
            "bit matrix does not match [{rows}, {cols}]"
        );
        let words_per_row = cols.div_ceil(64);
        let mut words = vec![0u64; rows * words_per_row];
        if cols > 0 {
            words
                .par_chunks_mut(words_per_row)
                .zip(bits.par_chunks(cols))
                .for_each(|(packed, row)| {
                    for (word, chunk) in packed.iter_mut().zip(row.chunks(64)) {
                        *word = chunk
                            .iter()
                            .enumerate()
                            .fold(0, |w, (k, &b)| w | (u64::from(b) << k));
                    }
                });
        }
        Self {
            words,
            words_per_row,
            rows,
            cols,
        }
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    fn row(&self, i: usize) -> &[u64] {
        &self.words[i * self.words_per_row..(i + 1) * self.words_per_row]
    }
}

/// `(S1 S2^T)_ij = #{k : S1_ik = S2_jk = 1}`, row-major `[s1.rows(), s2.rows()]`, on every core.
/// When the two are the same matrix only the upper triangle is counted and then mirrored.
pub fn binary_gram(s1: &BitRows, s2: &BitRows) -> Vec<u32> {
    assert_eq!(
        s1.cols, s2.cols,
        "binary_gram: the two matrices have different column counts"
    );
    let (n1, n2) = (s1.rows, s2.rows);
    let symmetric = s1 == s2;
    let mut counts = vec![0u32; n1 * n2];
    if n2 == 0 {
        return counts;
    }
    counts.par_chunks_mut(n2).enumerate().for_each(|(i, out)| {
        let first = if symmetric { i } else { 0 };
        let a = s1.row(i);
        for (j, c) in out.iter_mut().enumerate().skip(first) {
            *c = popcount::and_count(a, s2.row(j));
        }
    });
    if symmetric {
        fill_lower(&mut counts, n1);
    }
    counts
}

/// `popcount(a & b)` summed over words, compiled twice on x86-64: with the POPCNT instruction
/// (chosen at run time when the CPU has it) and without (the baseline target lacks it, and its
/// software count is several instructions per word).
mod popcount {
    #[inline(always)]
    fn kernel(a: &[u64], b: &[u64]) -> u32 {
        a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum()
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    fn kernel_popcnt(a: &[u64], b: &[u64]) -> u32 {
        kernel(a, b)
    }

    pub(super) fn and_count(a: &[u64], b: &[u64]) -> u32 {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU has POPCNT (checked just above).
            return unsafe { kernel_popcnt(a, b) };
        }
        kernel(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The naive sum `sum_k S1_ik S2_jk`.
    fn naive(s1: &[bool], s2: &[bool], n1: usize, n2: usize, m: usize) -> Vec<u32> {
        let mut out = vec![0; n1 * n2];
        for i in 0..n1 {
            for j in 0..n2 {
                out[i * n2 + j] = (0..m).filter(|&k| s1[i * m + k] && s2[j * m + k]).count() as u32;
            }
        }
        out
    }

    fn bits(len: usize, seed: u64) -> Vec<bool> {
        // A fixed xorshift stream: ones at about half the places.
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state & 1 == 1
            })
            .collect()
    }

    #[test]
    fn counts_equal_the_naive_sum() {
        // Column counts below, at and across word boundaries; a cross and a symmetric Gram.
        for m in [1, 63, 64, 65, 200] {
            let (n1, n2) = (7, 5);
            let (a, b) = (bits(n1 * m, 1 + m as u64), bits(n2 * m, 2 + m as u64));
            let (pa, pb) = (BitRows::pack(&a, n1, m), BitRows::pack(&b, n2, m));
            assert_eq!(binary_gram(&pa, &pb), naive(&a, &b, n1, n2, m), "m = {m}");
            assert_eq!(binary_gram(&pa, &pa), naive(&a, &a, n1, n1, m), "m = {m}");
        }
    }

    #[test]
    fn empty_shapes_give_empty_or_zero_counts() {
        let none = BitRows::pack(&[], 0, 10);
        let three = BitRows::pack(&[false; 30], 3, 10);
        assert!(binary_gram(&none, &three).is_empty());
        assert!(binary_gram(&three, &none).is_empty());
        assert_eq!(binary_gram(&three, &three), vec![0; 9]);
    }
}
