//! The structured NTK of an [`Mlp`](crate::Mlp) on host matrices (the flex CPU backend): the
//! forward trace, the back-propagated signals and the per-layer Grams, every product by faer on
//! every core. The same arithmetic as `Mlp::ntk_by_layer`'s Burn ops, without a dispatch or an
//! intermediate tensor per op; tested against the per-example-gradient NTK.

use crate::host_gram::{GramFloat, HostMatrix, fill_lower, gram};
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// One dense layer on the host: `z = s h W + sigma_b b`.
pub(crate) struct HostDense<T> {
    /// `W`, `[fan_in, fan_out]`.
    pub weight: HostMatrix<T>,
    /// `sigma_b b`, `[fan_out]`.
    pub scaled_bias: Vec<T>,
    /// `s = sigma_w / sqrt(fan_in)`.
    pub scale: f64,
}

/// Each layer's input `A_l` and back-propagated signal `Delta_l = df/dz_l` for one input set.
struct Signals<T> {
    inputs: Vec<HostMatrix<T>>,
    deltas: Vec<HostMatrix<T>>,
}

/// `alpha a b` for row-major `a` `[n, k]` and `b` `[k, m]` (or `b^T` with `transpose_b`, `b`
/// then `[m, k]`), row-major `[n, m]`.
fn product<T: GramFloat>(
    a: &HostMatrix<T>,
    b: &HostMatrix<T>,
    transpose_b: bool,
    alpha: T,
) -> HostMatrix<T> {
    let b_view = MatRef::from_row_major_slice(&b.values, b.rows, b.cols);
    let b_view = if transpose_b {
        b_view.transpose()
    } else {
        b_view
    };
    let (rows, cols) = (a.rows, b_view.ncols());
    let mut values = vec![T::of(0.0); rows * cols];
    matmul(
        MatMut::from_row_major_slice_mut(&mut values, rows, cols),
        Accum::Replace,
        MatRef::from_row_major_slice(&a.values, a.rows, a.cols),
        b_view,
        alpha,
        Par::rayon(0),
    );
    HostMatrix { values, rows, cols }
}

/// The forward trace and the signals `Delta_L = 1`,
/// `Delta_l = (Delta_(l+1) W_(l+1)^T s_(l+1)) .* 1{z_l > 0}`.
fn signals<T: GramFloat + PartialOrd>(layers: &[HostDense<T>], x: HostMatrix<T>) -> Signals<T> {
    let zero = T::of(0.0);
    let mut inputs = vec![x];
    let mut gates: Vec<Vec<bool>> = Vec::with_capacity(layers.len() - 1);
    for (l, layer) in layers.iter().enumerate() {
        let mut z = product(&inputs[l], &layer.weight, false, T::of(layer.scale));
        for row in z.values.chunks_exact_mut(z.cols) {
            for (v, &b) in row.iter_mut().zip(&layer.scaled_bias) {
                *v += b;
            }
        }
        if l + 1 < layers.len() {
            gates.push(z.values.iter().map(|&v| v > zero).collect());
            // Selects, not branches: the signs are random, and a mispredicted branch per entry
            // cost more than the products.
            z.values
                .iter_mut()
                .for_each(|v| *v = if *v > zero { *v } else { zero });
            inputs.push(z);
        }
    }
    let n = inputs[0].rows;
    let last = layers.len() - 1;
    let mut deltas = vec![HostMatrix {
        values: vec![T::of(1.0); n * layers[last].weight.cols],
        rows: n,
        cols: layers[last].weight.cols,
    }];
    for l in (0..last).rev() {
        let next = &layers[l + 1];
        let mut back = product(&deltas[0], &next.weight, true, T::of(next.scale));
        for (v, &open) in back.values.iter_mut().zip(&gates[l]) {
            *v = if open { *v } else { zero };
        }
        deltas.insert(0, back);
    }
    Signals { inputs, deltas }
}

/// Each layer's NTK contribution `(s_l^2 A_l A'_l^T + sigma_b^2) .* (Delta_l Delta'_l^T)`,
/// row-major `[n1, n2]`; with `x2` absent the Gram of `x1` with itself (one triangle each).
pub(crate) fn ntk_parts<T: GramFloat + PartialOrd>(
    layers: &[HostDense<T>],
    bias_var: f64,
    x1: HostMatrix<T>,
    x2: Option<HostMatrix<T>>,
) -> Vec<HostMatrix<T>> {
    let same = x2.is_none();
    let s1 = signals(layers, x1);
    let s2 = x2.map(|x| signals(layers, x));
    let s2 = s2.as_ref().unwrap_or(&s1);
    let b2 = T::of(bias_var);
    layers
        .iter()
        .enumerate()
        .map(|(l, layer)| {
            let s_sq = T::of(layer.scale.powi(2));
            let inputs = gram(&s1.inputs[l], &s2.inputs[l], same);
            let mut part = gram(&s1.deltas[l], &s2.deltas[l], same);
            for (p, i) in part.iter_mut().zip(inputs) {
                *p = (i * s_sq + b2) * *p;
            }
            let (rows, cols) = (s1.inputs[l].rows, s2.inputs[l].rows);
            if same {
                fill_lower(&mut part, rows);
            }
            HostMatrix {
                values: part,
                rows,
                cols,
            }
        })
        .collect()
}
