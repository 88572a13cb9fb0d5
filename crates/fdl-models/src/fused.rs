//! The two-layer readout `f = s relu(x W) a` (k outputs) as one Burn operation with its own
//! backward pass: the forward pass of `TwoLayer` and `ReluNet`.
//!
//! Composed from Burn's generic ops, one gradient step of a two-layer net makes about six passes
//! over the `n x m` hidden layer and allocates a fresh buffer for each (the matmul output, relu,
//! its mask, the broadcast outer product, the masked signal). On the flex CPU backend this
//! operation instead runs one matrix product forward (relu and, for one output, the readout in
//! the same pass), keeps the activations as its state, turns them into the back-propagated
//! signal in place, and runs one matrix product backward: the cost of the two products and
//! little else. (k > 1 outputs add the small products `relu(x W) a`, `g a^T`, `relu(x W)^T g`.)
//! Other backends keep the composed ops ([`relu_readout`] checks with
//! [`fused_readout_available`]).

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, DispatchDevice, Flex, backend_extension};
use burn::tensor::{DType, Element, Tensor, TensorData};
use faer::traits::RealField;
use faer::{Accum, MatMut, MatRef, Par};
use num_traits::Float;
use rayon::prelude::*;

/// The fused readout as a Burn backend extension: flex and autodiff-over-flex.
#[backend_extension(Flex, Autodiff)]
pub trait ReluReadoutBackend: Backend {
    /// `s relu(x w) a` for x `[n, d]`, w `[d, m]`, a `[m, k]`: `[n, k]`.
    fn relu_readout(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        a: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self>;
}

/// The kernels behind the autodiff rule of [`ReluReadoutBackend`]: a forward pass that keeps the
/// activations, and the backward pass that consumes them.
pub trait ReluReadoutKernels: Backend {
    /// `(s relu(x w) a, relu(x w))`: the outputs `[n, k]` and the activations `[n, m]`.
    fn relu_readout_keeping_activations(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        a: FloatTensor<Self>,
        scale: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// Gradients of `sum_n g_n f_n` with respect to `[x, w, a]`, each computed only when
    /// `wanted`: with r the activations, `G = (s g a^T) .* 1{r > 0}`, `dx = G w^T`,
    /// `dw = x^T G`, `da = s r^T g`.
    #[allow(clippy::too_many_arguments)]
    fn relu_readout_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        a: FloatTensor<Self>,
        activations: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        scale: f64,
        wanted: [bool; 3],
    ) -> [Option<FloatTensor<Self>>; 3];
}

/// Whether [`relu_readout`] runs the fused kernels for inputs like `x`: on the flex backend (with
/// or without autodiff) in f32 or f64.
pub fn fused_readout_available(x: &Tensor<2>) -> bool {
    let flex = matches!(
        x.device().as_dispatch().clone().inner(),
        DispatchDevice::Flex(_)
    );
    flex && matches!(x.dtype(), DType::F32 | DType::F64)
}

/// `s relu(x w) a`, `[n, k]`, by the fused operation (differentiable in x, w and a); callers
/// check [`fused_readout_available`] first.
pub fn relu_readout(x: Tensor<2>, w: Tensor<2>, a: Tensor<2>, scale: f64) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as ReluReadoutBackend>::relu_readout(
        x.into_dispatch(),
        w.into_dispatch(),
        a.into_dispatch(),
        scale,
    ))
}

impl ReluReadoutBackend for Flex {
    fn relu_readout(x: FlexTensor, w: FlexTensor, a: FlexTensor, scale: f64) -> FlexTensor {
        Self::relu_readout_keeping_activations(x, w, a, scale).0
    }
}

impl<B: ReluReadoutKernels, C: CheckpointStrategy> ReluReadoutBackend for Autodiff<B, C> {
    fn relu_readout(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        a: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self> {
        match ReadoutBackward
            .prepare::<C>([x.node(), w.node(), a.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, w, a) = (x.into_primitive(), w.into_primitive(), a.into_primitive());
                let (out, activations) =
                    B::relu_readout_keeping_activations(x.clone(), w.clone(), a.clone(), scale);
                prep.finish((x, w, a, activations, scale), out)
            }
            OpsKind::UnTracked(prep) => {
                let (x, w, a) = (x.into_primitive(), w.into_primitive(), a.into_primitive());
                prep.finish(B::relu_readout_keeping_activations(x, w, a, scale).0)
            }
        }
    }
}

/// The backward step of the readout; its state is `(x, w, a, relu(x w), s)`.
#[derive(Debug)]
struct ReadoutBackward;

type ReadoutState<B> = (
    FloatTensor<B>,
    FloatTensor<B>,
    FloatTensor<B>,
    FloatTensor<B>,
    f64,
);

impl<B: ReluReadoutKernels> Backward<B, 3> for ReadoutBackward {
    type State = ReadoutState<B>;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        let (x, w, a, activations, scale) = ops.state;
        let wanted = ops.parents.each_ref().map(Option::is_some);
        let computed = B::relu_readout_backward(x, w, a, activations, grad, scale, wanted);
        for (parent, grad) in ops.parents.into_iter().zip(computed) {
            if let (Some(node), Some(grad)) = (parent, grad) {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl ReluReadoutKernels for Flex {
    fn relu_readout_keeping_activations(
        x: FlexTensor,
        w: FlexTensor,
        a: FlexTensor,
        scale: f64,
    ) -> (FlexTensor, FlexTensor) {
        match x.dtype() {
            DType::F32 => forward::<f32>(&x, &w, &a, scale),
            DType::F64 => forward::<f64>(&x, &w, &a, scale),
            other => panic!("the fused readout runs in f32 or f64, not {other:?}"),
        }
    }

    fn relu_readout_backward(
        x: FlexTensor,
        w: FlexTensor,
        a: FlexTensor,
        activations: FlexTensor,
        grad: FlexTensor,
        scale: f64,
        wanted: [bool; 3],
    ) -> [Option<FlexTensor>; 3] {
        let parts = ReadoutParts {
            x: &x,
            w: &w,
            a: &a,
            grad: &grad,
            scale,
        };
        match x.dtype() {
            DType::F32 => backward::<f32>(parts, activations, wanted),
            DType::F64 => backward::<f64>(parts, activations, wanted),
            other => panic!("the fused readout runs in f32 or f64, not {other:?}"),
        }
    }
}

/// A float type the kernels run in.
trait Real: Float + Element + RealField + bytemuck::Pod + Send + Sync + std::iter::Sum {}
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
/// x86 kernels pick AVX-512 at run time where the CPU has it), the output split across the
/// rayon threads above a small size.
fn matmul<E: Real>(lhs: View<E>, rhs: View<E>) -> Vec<E> {
    assert_eq!(lhs.cols, rhs.rows, "inner dimensions");
    let (m, n, k) = (lhs.rows, rhs.cols, lhs.cols);
    if m * n == 0 || k == 0 {
        return vec![E::zero(); m * n];
    }
    // Split the longer side of the output across the threads, in pieces of at least 64, once
    // the product is worth it (2M multiply-adds, tens of microseconds).
    let by_cols = n >= m;
    let long = if by_cols { n } else { m };
    let blocks = if m * n * k >= 1 << 21 {
        rayon::current_num_threads().min(long.div_ceil(64)).max(1)
    } else {
        1
    };
    let piece = long.div_ceil(blocks);
    let mut out = Vec::<E>::with_capacity(m * n);
    let dst = SendPtr(out.as_mut_ptr());
    (0..long.div_ceil(piece)).into_par_iter().for_each(|block| {
        // Whole views, not their pointer fields (closures capture the fields they name).
        let (lhs, rhs) = (&lhs, &rhs);
        let (start, len) = (block * piece, piece.min(long - block * piece));
        let (row0, rows, col0, cols) = if by_cols {
            (0, m, start, len)
        } else {
            (start, len, 0, n)
        };
        // SAFETY: the blocks are disjoint pieces of the m x n buffer `out` has room for; faer
        // writes them (Accum::Replace reads nothing) before `set_len`. The views address valid
        // memory by their construction.
        unsafe {
            let dst =
                MatMut::from_raw_parts_mut(dst.at(row0 * n + col0), rows, cols, n as isize, 1);
            let lhs = MatRef::from_raw_parts(
                lhs.ptr.offset(row0 as isize * lhs.row_stride),
                rows,
                k,
                lhs.row_stride,
                lhs.col_stride,
            );
            let rhs = MatRef::from_raw_parts(
                rhs.ptr.offset(col0 as isize * rhs.col_stride),
                k,
                cols,
                rhs.row_stride,
                rhs.col_stride,
            );
            faer::linalg::matmul::matmul(dst, Accum::Replace, lhs, rhs, E::one(), Par::Seq);
        }
    });
    // SAFETY: every block was written above.
    unsafe { out.set_len(m * n) };
    out
}

/// The output buffer's base pointer, shared by the block tasks of [`matmul`].
#[derive(Clone, Copy)]
struct SendPtr<E>(*mut E);

// SAFETY: the tasks write disjoint blocks through it.
unsafe impl<E> Send for SendPtr<E> {}
unsafe impl<E> Sync for SendPtr<E> {}

impl<E> SendPtr<E> {
    /// The pointer `offset` entries on.
    ///
    /// # Safety
    /// `offset` lies inside the buffer.
    unsafe fn at(self, offset: usize) -> *mut E {
        unsafe { self.0.add(offset) }
    }
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

fn forward<E: Real>(
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
struct ReadoutParts<'a> {
    x: &'a FlexTensor,
    w: &'a FlexTensor,
    a: &'a FlexTensor,
    grad: &'a FlexTensor,
    scale: f64,
}

fn backward<E: Real>(
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
