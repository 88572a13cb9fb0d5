//! The numeric kernels of the fused two-layer readout on flex tensors, in f32 and f64: one
//! matrix product forward with relu (and, for one output, the readout) in the same pass, and
//! the backward pass that turns the kept activations into the back-propagated signal in place.
//! The Burn wiring (backend extension, autodiff rule) is in the parent module.

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::tensor::{Element, TensorData};
use faer::traits::RealField;
use faer::{Accum, MatMut, MatRef, Par};
use num_traits::Float;
use rayon::prelude::*;

/// A float type the kernels run in.
pub(super) trait Real:
    Float + Element + RealField + bytemuck::Pod + Send + Sync + std::iter::Sum
{
}
impl Real for f32 {}
impl Real for f64 {}

/// A strided read-only 2-D view of a flex tensor (any layout Burn produces: transposed, offset).
#[derive(Clone, Copy)]
struct View<E> {
    ptr: *const E,
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
}

// SAFETY: a view only reads, and the tensor it views outlives every use (the kernels below).
unsafe impl<E: Sync> Send for View<E> {}
unsafe impl<E: Sync> Sync for View<E> {}

impl<E: Real> View<E> {
    fn of(tensor: &FlexTensor) -> Self {
        let layout = tensor.layout();
        let dims = layout.shape().as_slice();
        assert_eq!(dims.len(), 2, "the fused readout takes matrices");
        let strides = layout.strides();
        let storage = tensor.storage::<E>();
        assert!(layout.start_offset() <= storage.len());
        Self {
            // SAFETY: the offset lies inside the buffer (checked above) and every (row, col)
            // the layout addresses lies inside it too (flex's own invariant).
            ptr: unsafe { storage.as_ptr().add(layout.start_offset()) },
            rows: dims[0],
            cols: dims[1],
            row_stride: strides[0],
            col_stride: strides[1],
        }
    }

    /// The transposed view (no copy).
    fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

/// `lhs rhs` into a new row-major `[lhs.rows, rhs.cols]` buffer, by faer's matrix product (its
/// x86 kernels pick AVX-512 at run time where the CPU has it), on the rayon threads above a
/// small size (`Par::rayon`).
fn matmul<E: Real>(lhs: View<E>, rhs: View<E>) -> Vec<E> {
    assert_eq!(lhs.cols, rhs.rows, "inner dimensions");
    let (m, n, k) = (lhs.rows, rhs.cols, lhs.cols);
    let mut out = vec![E::zero(); m * n];
    if m * n == 0 || k == 0 {
        return out;
    }
    // Threads pay off from about 2M multiply-adds (tens of microseconds).
    let par = if m * n * k >= 1 << 21 {
        Par::rayon(0)
    } else {
        Par::Seq
    };
    // SAFETY: the views address valid memory by their construction, and `out` is m x n.
    let (lhs, rhs) = unsafe {
        (
            MatRef::from_raw_parts(lhs.ptr, m, k, lhs.row_stride, lhs.col_stride),
            MatRef::from_raw_parts(rhs.ptr, k, n, rhs.row_stride, rhs.col_stride),
        )
    };
    let dst = MatMut::from_row_major_slice_mut(&mut out, m, n);
    faer::linalg::matmul::matmul(dst, Accum::Replace, lhs, rhs, E::one(), par);
    out
}

fn flex_tensor<E: Real>(values: Vec<E>, rows: usize, cols: usize) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, [rows, cols]))
}

/// Rows of an `n x m` hidden layer handed to one rayon task: a few tasks per thread, none under
/// 32K entries (below that, waking a thread costs more than the pass).
fn rows_per_task(n: usize, m: usize) -> usize {
    n.div_ceil(4 * rayon::current_num_threads())
        .max(32_768usize.div_ceil(m.max(1)))
        .max(1)
}

pub(super) fn forward<E: Real>(
    x: &FlexTensor,
    w: &FlexTensor,
    a: &FlexTensor,
    scale: f64,
) -> (FlexTensor, FlexTensor) {
    let (a_tensor, scale_f64) = (a, scale);
    let (x, w, a) = (View::<E>::of(x), View::<E>::of(w), View::<E>::of(a));
    let (n, m, k) = (x.rows, w.cols, a.cols);
    assert_eq!(a.rows, m, "a is [m, k]");
    let scale = E::from(scale).expect("a finite scale");
    // x w, then relu(x w) in place: the state the backward pass needs.
    let mut activations = matmul(x, w);
    if m == 0 || n == 0 {
        return (
            flex_tensor(vec![E::zero(); n * k], n, k),
            flex_tensor(activations, n, m),
        );
    }
    if k == 1 {
        let a = a.to_rows();
        let mut out = vec![E::zero(); n];
        let rows = rows_per_task(n, m);
        activations
            .par_chunks_mut(rows * m)
            .zip(out.par_chunks_mut(rows))
            .for_each(|(block, out)| {
                for (h, out) in block.chunks_exact_mut(m).zip(out) {
                    *out = scale * relu_dot_in_place(h, &a);
                }
            });
        return (flex_tensor(out, n, 1), flex_tensor(activations, n, m));
    }
    activations
        .par_chunks_mut(rows_per_task(n, m) * m)
        .for_each(|block| block.iter_mut().for_each(|h| *h = relu(*h)));
    let activations = flex_tensor(activations, n, m);
    // k outputs: the narrow product by flex's own matmul (faster than faer's at k columns).
    let out = Flex::float_mul_scalar(
        Flex::float_matmul(activations.clone(), a_tensor.clone()),
        scale_f64.into(),
    );
    (out, activations)
}

/// Burn's relu and its derivative's mask, `h <= 0`: a NaN pre-activation stays NaN (not 0, as
/// `max(h, 0)` would make it), so a diverging run is caught as it is on the composed path.
fn relu<E: Real>(h: E) -> E {
    if h <= E::zero() { E::zero() } else { h }
}

/// Replaces h by relu(h) and returns `sum_r a_r relu(h_r)`, in eight interleaved partial sums so
/// that it vectorizes.
fn relu_dot_in_place<E: Real>(h: &mut [E], a: &[E]) -> E {
    let mut lanes = [E::zero(); 8];
    let split = h.len() - h.len() % 8;
    let (h_blocks, h_tail) = h.split_at_mut(split);
    let (a_blocks, a_tail) = a.split_at(split);
    for (hb, ab) in h_blocks.chunks_exact_mut(8).zip(a_blocks.chunks_exact(8)) {
        for lane in 0..8 {
            hb[lane] = relu(hb[lane]);
            lanes[lane] += hb[lane] * ab[lane];
        }
    }
    let mut tail = E::zero();
    for (h, &a) in h_tail.iter_mut().zip(a_tail) {
        *h = relu(*h);
        tail += *h * a;
    }
    lanes.into_iter().sum::<E>() + tail
}

/// The inputs of the backward pass other than the saved activations.
pub(super) struct ReadoutParts<'a> {
    pub(super) x: &'a FlexTensor,
    pub(super) w: &'a FlexTensor,
    pub(super) a: &'a FlexTensor,
    pub(super) grad: &'a FlexTensor,
    pub(super) scale: f64,
}

pub(super) fn backward<E: Real>(
    parts: ReadoutParts<'_>,
    activations: FlexTensor,
    [want_x, want_w, want_a]: [bool; 3],
) -> [Option<FlexTensor>; 3] {
    let (x, w, a, g) = (
        View::<E>::of(parts.x),
        View::<E>::of(parts.w),
        View::<E>::of(parts.a),
        View::<E>::of(parts.grad),
    );
    let (n, d, m, k) = (x.rows, x.cols, w.cols, a.cols);
    let scale = E::from(parts.scale).expect("a finite scale");
    let (signal, da) = if k == 1 {
        // The activations become the signal G in place when no one else holds them.
        let in_place = activations.is_unique()
            && activations.is_contiguous()
            && activations.layout().start_offset() == 0;
        let mut signal = if in_place {
            activations
        } else {
            flex_tensor(View::<E>::of(&activations).to_rows(), n, m)
        };
        let (a, g) = (a.to_rows(), g.to_rows());
        let da = signal_in_place(
            &mut signal.storage_mut::<E>()[..n * m],
            &a,
            &g,
            scale,
            want_a,
        );
        (signal, da.map(|da| flex_tensor(da, m, 1)))
    } else {
        // k outputs: the narrow products by flex's own matmul, then one masking pass.
        let da = want_a.then(|| {
            Flex::float_mul_scalar(
                Flex::float_matmul(
                    Flex::float_transpose(activations.clone()),
                    parts.grad.clone(),
                ),
                parts.scale.into(),
            )
        });
        let mut signal =
            Flex::float_matmul(parts.grad.clone(), Flex::float_transpose(parts.a.clone()));
        assert!(signal.is_contiguous() && signal.layout().start_offset() == 0);
        let relu = match activations.as_slice::<E>() {
            Some(relu) => std::borrow::Cow::Borrowed(relu),
            None => std::borrow::Cow::Owned(View::<E>::of(&activations).to_rows()),
        };
        mask_by_activations(&mut signal.storage_mut::<E>()[..n * m], &relu, m, scale);
        (signal, da)
    };
    let signal = View::<E>::of(&signal);
    let dx = want_x.then(|| flex_tensor(matmul(signal, w.t()), n, d));
    let dw = want_w.then(|| flex_tensor(matmul(x.t(), signal), d, m));
    [dx, dw, da]
}

impl<E: Real> View<E> {
    /// The entry at (row, col).
    fn at(&self, row: usize, col: usize) -> E {
        assert!(
            row < self.rows && col < self.cols,
            "({row}, {col}) outside the view"
        );
        // SAFETY: in bounds (asserted) and the layout addresses valid memory.
        unsafe {
            *self
                .ptr
                .offset(row as isize * self.row_stride + col as isize * self.col_stride)
        }
    }

    /// The entries in row-major order.
    fn to_rows(self) -> Vec<E> {
        (0..self.rows)
            .flat_map(|i| (0..self.cols).map(move |j| (i, j)))
            .map(|(i, j)| self.at(i, j))
            .collect()
    }
}

/// `G_nr = s P_nr 1{not r_nr <= 0}` in place of `P = g a^T`, with r the row-major activations.
fn mask_by_activations<E: Real>(signal: &mut [E], activations: &[E], m: usize, scale: E) {
    if m == 0 {
        return;
    }
    let block = rows_per_task(signal.len() / m, m) * m;
    signal
        .par_chunks_mut(block)
        .zip(activations.par_chunks(block))
        .for_each(|(rows, relu)| {
            for (p, &r) in rows.iter_mut().zip(relu) {
                *p = if r <= E::zero() {
                    E::zero()
                } else {
                    scale * *p
                };
            }
        });
}

/// One output: overwrites each activation `r_nr` with `G_nr = s g_n a_r 1{not r_nr <= 0}` and,
/// when asked, returns `da_r = s sum_n g_n r_nr` (read before the overwrite).
fn signal_in_place<E: Real>(
    activations: &mut [E],
    a: &[E],
    g: &[E],
    scale: E,
    want_a: bool,
) -> Option<Vec<E>> {
    let m = a.len();
    if m == 0 || g.is_empty() {
        return want_a.then(|| vec![E::zero(); m]);
    }
    let chunk_rows = rows_per_task(g.len(), m);
    let tasks = activations
        .par_chunks_mut(chunk_rows * m)
        .zip(g.par_chunks(chunk_rows));
    let overwrite = |rows: &mut [E], gs: &[E], mut da: Option<&mut [E]>| {
        for (row, &gn) in rows.chunks_exact_mut(m).zip(gs) {
            let sg = scale * gn;
            if let Some(da) = da.as_deref_mut() {
                for (acc, &r) in da.iter_mut().zip(row.iter()) {
                    *acc += sg * r;
                }
            }
            for (r, &ar) in row.iter_mut().zip(a) {
                *r = if *r <= E::zero() { E::zero() } else { sg * ar };
            }
        }
    };
    if !want_a {
        tasks.for_each(|(rows, gs)| overwrite(rows, gs, None));
        return None;
    }
    let da = tasks
        .fold(
            || vec![E::zero(); m],
            |mut da, (rows, gs)| {
                overwrite(rows, gs, Some(&mut da));
                da
            },
        )
        .reduce_with(|mut left, right| {
            for (l, r) in left.iter_mut().zip(right) {
                *l += r;
            }
            left
        })
        .unwrap_or_else(|| vec![E::zero(); m]);
    Some(da)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: usize, cols: usize, seed: u64) -> FlexTensor {
        // A fixed, sign-mixed pattern; no random source needed.
        let values: Vec<f64> = (0..rows * cols)
            .map(|i| (((i as u64 * 2654435761 + seed * 97) % 1000) as f64) / 500.0 - 1.0)
            .collect();
        flex_tensor(values, rows, cols)
    }

    fn host(t: &FlexTensor) -> Vec<f64> {
        View::<f64>::of(t).to_rows()
    }

    #[test]
    fn backward_is_the_same_whether_the_hidden_layer_is_shared_or_not() {
        let (n, d, m) = (9, 4, 13);
        let (x, w, a, g) = (
            matrix(n, d, 1),
            matrix(d, m, 2),
            matrix(m, 1, 3),
            matrix(n, 1, 4),
        );
        let (_, hidden) = forward::<f64>(&x, &w, &a, 0.7);
        let parts = || ReadoutParts {
            x: &x,
            w: &w,
            a: &a,
            grad: &g,
            scale: 0.7,
        };
        let kept = hidden.clone();
        let copied = backward::<f64>(parts(), hidden.clone(), [true; 3]);
        assert_eq!(
            host(&kept),
            host(&hidden),
            "a shared hidden layer is left alone"
        );
        drop(kept);
        let in_place = backward::<f64>(parts(), hidden, [true; 3]);
        for (c, i) in copied.iter().zip(&in_place) {
            assert_eq!(host(c.as_ref().unwrap()), host(i.as_ref().unwrap()));
        }
        // dW against the definition: sum_n x_nk s g_n a_r 1{(x w)_nr > 0}.
        let (xs, ws, as_, gs) = (host(&x), host(&w), host(&a), host(&g));
        let dw = host(in_place[1].as_ref().unwrap());
        for k in 0..d {
            for r in 0..m {
                let expected: f64 = (0..n)
                    .map(|i| {
                        let h: f64 = (0..d).map(|j| xs[i * d + j] * ws[j * m + r]).sum();
                        if h > 0.0 {
                            xs[i * d + k] * 0.7 * gs[i] * as_[r]
                        } else {
                            0.0
                        }
                    })
                    .sum();
                assert!((dw[k * m + r] - expected).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn relu_dot_covers_the_tail() {
        for len in [0, 1, 7, 8, 9, 17] {
            let mut h: Vec<f64> = (0..len).map(|i| i as f64 - 3.0).collect();
            let a: Vec<f64> = (0..len).map(|i| 1.0 + i as f64).collect();
            let relu: Vec<f64> = h.iter().map(|h| h.max(0.0)).collect();
            let expected: f64 = relu.iter().zip(&a).map(|(r, a)| r * a).sum();
            assert_eq!(relu_dot_in_place(&mut h, &a), expected);
            assert_eq!(h, relu);
        }
    }
}
