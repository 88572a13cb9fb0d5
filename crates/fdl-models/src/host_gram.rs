//! Gram matrices `A1 A2^T` of host matrices by faer's products, with only one triangle computed
//! when the two sets are the same (half the flops of a general product).

use burn::tensor::Element;
use faer::linalg::matmul::triangular::{BlockStructure, matmul};
use faer::{Accum, MatMut, MatRef, Par};

/// The float types the host Grams run in (the flex backend's f32 and f64).
pub(crate) trait GramFloat:
    faer::traits::ComplexField
    + faer::traits::Conjugate<Canonical = Self>
    + Element
    + Copy
    + std::ops::AddAssign
    + std::ops::Mul<Output = Self>
{
    /// `v` rounded to this type.
    fn of(v: f64) -> Self;
}

impl GramFloat for f32 {
    fn of(v: f64) -> Self {
        v as f32
    }
}

impl GramFloat for f64 {
    fn of(v: f64) -> Self {
        v
    }
}

/// A row-major `[rows, cols]` matrix on the host.
pub(crate) struct HostMatrix<T> {
    /// The entries, row after row.
    pub values: Vec<T>,
    /// The number of rows.
    pub rows: usize,
    /// The number of columns.
    pub cols: usize,
}

impl<T: GramFloat> HostMatrix<T> {
    fn view(&self) -> MatRef<'_, T> {
        MatRef::from_row_major_slice(&self.values, self.rows, self.cols)
    }
}

/// `a1 a2^T`, row-major `[a1.rows, a2.rows]`, on every core. With `same` (the caller knows
/// `a1 = a2`) only the upper triangle `j >= i` is computed and the rest is zero: finish with
/// [`fill_lower`] after any elementwise work, so that work is done once per pair.
pub(crate) fn gram<T: GramFloat>(a1: &HostMatrix<T>, a2: &HostMatrix<T>, same: bool) -> Vec<T> {
    assert_eq!(a1.cols, a2.cols, "gram: the two sets have different widths");
    let (n1, n2) = (a1.rows, a2.rows);
    let mut out = vec![T::of(0.0); n1 * n2];
    // Row-major [n1, n2] is column-major [n2, n1]: compute (a1 a2^T)^T = a2 a1^T there (its
    // lower triangle is the row-major upper one).
    let dst = MatMut::from_column_major_slice_mut(&mut out, n2, n1);
    let structure = if same {
        BlockStructure::TriangularLower
    } else {
        BlockStructure::Rectangular
    };
    matmul(
        dst,
        structure,
        Accum::Replace,
        a2.view(),
        BlockStructure::Rectangular,
        a1.view().transpose(),
        BlockStructure::Rectangular,
        T::of(1.0),
        Par::rayon(0),
    );
    out
}

/// Copies the upper triangle of a row-major `[n, n]` matrix onto the lower, in tiles so that the
/// strided reads stay in cache.
pub(crate) fn fill_lower<T: Copy>(c: &mut [T], n: usize) {
    const TILE: usize = 64;
    for bi in (0..n).step_by(TILE) {
        for bj in (0..=bi).step_by(TILE) {
            for i in bi..(bi + TILE).min(n) {
                for j in bj..(bj + TILE).min(i) {
                    c[i * n + j] = c[j * n + i];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: usize, cols: usize, seed: usize) -> HostMatrix<f64> {
        HostMatrix {
            values: (0..rows * cols)
                .map(|k| (((k + seed) * 7919 % 1013) as f64 / 1013.0) - 0.5)
                .collect(),
            rows,
            cols,
        }
    }

    /// The naive sum `sum_k a1_ik a2_jk`.
    fn naive(a1: &HostMatrix<f64>, a2: &HostMatrix<f64>) -> Vec<f64> {
        let mut out = vec![0.0; a1.rows * a2.rows];
        for i in 0..a1.rows {
            for j in 0..a2.rows {
                out[i * a2.rows + j] = (0..a1.cols)
                    .map(|k| a1.values[i * a1.cols + k] * a2.values[j * a2.cols + k])
                    .sum();
            }
        }
        out
    }

    #[test]
    fn grams_equal_the_naive_sum() {
        for (n1, n2, k) in [(1, 1, 1), (5, 3, 7), (70, 45, 33), (130, 3, 9)] {
            let (a1, a2) = (matrix(n1, k, 1), matrix(n2, k, 2));
            let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
            assert!(
                close(&gram(&a1, &a2, false), &naive(&a1, &a2)),
                "{n1} x {n2}"
            );
            let mut same = gram(&a1, &a1, true);
            fill_lower(&mut same, n1);
            assert!(close(&same, &naive(&a1, &a1)), "{n1} same");
        }
    }
}
