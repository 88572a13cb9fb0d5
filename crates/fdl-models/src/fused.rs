//! The two-layer readout `f = s relu(x W) a` (k outputs) as one Burn operation with its own
//! backward pass: the forward pass of `TwoLayer` and `ReluNet`.
//!
//! Composed from Burn's generic ops, one gradient step of a two-layer net makes about six passes
//! over the `n x m` hidden layer and allocates a fresh buffer for each (the matmul output, relu,
//! its mask, the broadcast outer product, the masked signal). On the flex CPU backend this
//! operation instead runs one matrix product forward, one pass that turns the saved pre-activations into
//! the back-propagated signal in place, and one matrix product backward: the cost of the two matrix
//! products and little else. Other backends keep the composed ops
//! ([`relu_readout`] checks with [`fused_readout_available`]).

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
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
/// pre-activations, and the backward pass that consumes them.
pub trait ReluReadoutKernels: Backend {
    /// `(s relu(x w) a, x w)`: the outputs `[n, k]` and the pre-activations `[n, m]`.
    fn relu_readout_keeping_hidden(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        a: FloatTensor<Self>,
        scale: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// Gradients of `sum_n g_n f_n` with respect to `[x, w, a]`, each computed only when
    /// `wanted`: with `G = (s g a^T) .* 1{h > 0}`, `dx = G w^T`, `dw = x^T G`,
    /// `da = s relu(h)^T g`.
    #[allow(clippy::too_many_arguments)]
    fn relu_readout_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        a: FloatTensor<Self>,
        hidden: FloatTensor<Self>,
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
        Self::relu_readout_keeping_hidden(x, w, a, scale).0
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
                let (out, hidden) =
                    B::relu_readout_keeping_hidden(x.clone(), w.clone(), a.clone(), scale);
                prep.finish((x, w, a, hidden, scale), out)
            }
            OpsKind::UnTracked(prep) => {
                let (x, w, a) = (x.into_primitive(), w.into_primitive(), a.into_primitive());
                prep.finish(B::relu_readout_keeping_hidden(x, w, a, scale).0)
            }
        }
    }
}

/// The backward step of the readout; its state is `(x, w, a, x w, s)`.
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
        let (x, w, a, hidden, scale) = ops.state;
        let wanted = ops.parents.each_ref().map(Option::is_some);
        let computed = B::relu_readout_backward(x, w, a, hidden, grad, scale, wanted);
        for (parent, grad) in ops.parents.into_iter().zip(computed) {
            if let (Some(node), Some(grad)) = (parent, grad) {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl ReluReadoutKernels for Flex {
    fn relu_readout_keeping_hidden(
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
        hidden: FlexTensor,
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
            DType::F32 => backward::<f32>(parts, hidden, wanted),
            DType::F64 => backward::<f64>(parts, hidden, wanted),
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
/// x86 kernels pick AVX-512 at run time where the CPU has it), the output columns split across
/// the rayon threads above a small size.
fn matmul<E: Real>(lhs: View<E>, rhs: View<E>) -> Vec<E> {
    assert_eq!(lhs.cols, rhs.rows, "inner dimensions");
    let (m, n, k) = (lhs.rows, rhs.cols, lhs.cols);
    if m * n == 0 || k == 0 {
        return vec![E::zero(); m * n];
    }
    let blocks = if m * n * k >= 64 * 64 * 64 {
        rayon::current_num_threads().min(n)
    } else {
        1
    };
    let width = n.div_ceil(blocks);
    let mut out = Vec::<E>::with_capacity(m * n);
    let dst = SendPtr(out.as_mut_ptr());
    (0..n.div_ceil(width)).into_par_iter().for_each(|block| {
        // Whole views, not their pointer fields (closures capture the fields they name).
        let (lhs, rhs) = (&lhs, &rhs);
        let (start, cols) = (block * width, width.min(n - block * width));
        // SAFETY: the blocks are disjoint column ranges of the m x n buffer `out` has room for;
        // faer writes them (Accum::Replace reads nothing) before `set_len`. The views address
        // valid memory by their construction.
        unsafe {
            let dst = MatMut::from_raw_parts_mut(dst.at(start), m, cols, n as isize, 1);
            let lhs = MatRef::from_raw_parts(lhs.ptr, m, k, lhs.row_stride, lhs.col_stride);
            let rhs = MatRef::from_raw_parts(
                rhs.ptr.offset(start as isize * rhs.col_stride),
                k,
                cols,
                rhs.row_stride,
                rhs.col_stride,
            );
            faer::linalg::matmul::matmul(dst, Accum::Replace, lhs, rhs, E::one(), Par::Seq);
        }
    });
    // SAFETY: every column block was written above.
    unsafe { out.set_len(m * n) };
    out
}

/// The output buffer's base pointer, shared by the column-block tasks of [`matmul`].
#[derive(Clone, Copy)]
struct SendPtr<E>(*mut E);

// SAFETY: the tasks write disjoint column blocks through it.
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

/// Rows of the hidden layer handed to one rayon task.
fn rows_per_task(n: usize) -> usize {
    n.div_ceil(4 * rayon::current_num_threads()).max(1)
}

fn forward<E: Real>(
    x: &FlexTensor,
    w: &FlexTensor,
    a: &FlexTensor,
    scale: f64,
) -> (FlexTensor, FlexTensor) {
    let (x, w, a_view) = (View::<E>::of(x), View::<E>::of(w), View::<E>::of(a));
    let (n, m, k) = (x.rows, w.cols, a_view.cols);
    assert_eq!(a_view.rows, m, "a is [m, k]");
    let a = a_view.to_rows();
    let hidden = matmul(x, w);
    let scale = E::from(scale).expect("a finite scale");
    let mut out = vec![E::zero(); n * k];
    if m > 0 && k > 0 {
        let rows = hidden.par_chunks(m).zip(out.par_chunks_mut(k));
        if k == 1 {
            rows.for_each(|(h, out)| out[0] = scale * relu_dot(h, &a));
        } else {
            rows.for_each(|(h, out)| relu_readout_row(h, &a, scale, out));
        }
    }
    (flex_tensor(out, n, k), flex_tensor(hidden, n, m))
}

/// `out_j = s sum_r relu(h_r) a_rj` for a row-major a `[m, k]`, skipping the inactive neurons.
fn relu_readout_row<E: Real>(h: &[E], a: &[E], scale: E, out: &mut [E]) {
    let k = out.len();
    for (&h, ar) in h.iter().zip(a.chunks_exact(k)) {
        let v = relu(h);
        if v != E::zero() {
            for (o, &arj) in out.iter_mut().zip(ar) {
                *o += v * arj;
            }
        }
    }
    out.iter_mut().for_each(|o| *o = scale * *o);
}

/// Burn's relu and its derivative's mask, `h <= 0`: a NaN pre-activation stays NaN (not 0, as
/// `max(h, 0)` would make it), so a diverging run is caught as it is on the composed path.
fn relu<E: Real>(h: E) -> E {
    if h <= E::zero() { E::zero() } else { h }
}

/// `sum_r a_r relu(h_r)`, in eight interleaved partial sums so that it vectorizes.
fn relu_dot<E: Real>(h: &[E], a: &[E]) -> E {
    let mut lanes = [E::zero(); 8];
    let (h_blocks, h_tail) = h.split_at(h.len() - h.len() % 8);
    let (a_blocks, a_tail) = a.split_at(h_blocks.len());
    for (hb, ab) in h_blocks.chunks_exact(8).zip(a_blocks.chunks_exact(8)) {
        for lane in 0..8 {
            lanes[lane] += relu(hb[lane]) * ab[lane];
        }
    }
    let tail: E = h_tail.iter().zip(a_tail).map(|(&h, &a)| relu(h) * a).sum();
    lanes.into_iter().sum::<E>() + tail
}

/// The inputs of the backward pass other than the saved pre-activations.
struct ReadoutParts<'a> {
    x: &'a FlexTensor,
    w: &'a FlexTensor,
    a: &'a FlexTensor,
    grad: &'a FlexTensor,
    scale: f64,
}

fn backward<E: Real>(
    parts: ReadoutParts<'_>,
    mut hidden: FlexTensor,
    [want_x, want_w, want_a]: [bool; 3],
) -> [Option<FlexTensor>; 3] {
    let (x, w, a) = (
        View::<E>::of(parts.x),
        View::<E>::of(parts.w),
        View::<E>::of(parts.a),
    );
    let (n, d, m, k) = (x.rows, x.cols, w.cols, a.cols);
    let readout = Readout {
        a: a.to_rows(),
        g: View::<E>::of(parts.grad).to_rows(),
        k,
        scale: E::from(parts.scale).expect("a finite scale"),
    };
    // The pre-activations become the signal G in place when no one else holds them.
    let in_place =
        hidden.is_unique() && hidden.is_contiguous() && hidden.layout().start_offset() == 0;
    let mut signal = if in_place {
        SignalBuffer::Borrowed(&mut hidden.storage_mut::<E>()[..n * m])
    } else {
        SignalBuffer::Owned(View::<E>::of(&hidden).to_rows())
    };
    let da = readout.signal_in_place(signal.as_mut(), want_a);
    let signal_view = View {
        ptr: signal.as_mut().as_ptr(),
        rows: n,
        cols: m,
        row_stride: m as isize,
        col_stride: 1,
    };
    let dx = want_x.then(|| flex_tensor(matmul(signal_view, w.t()), n, d));
    let dw = want_w.then(|| flex_tensor(matmul(x.t(), signal_view), d, m));
    let da = da.map(|da| flex_tensor(da, m, k));
    [dx, dw, da]
}

/// Where the signal G is built: the saved pre-activations themselves, or a copy.
enum SignalBuffer<'a, E> {
    Borrowed(&'a mut [E]),
    Owned(Vec<E>),
}

impl<E> SignalBuffer<'_, E> {
    fn as_mut(&mut self) -> &mut [E] {
        match self {
            Self::Borrowed(values) => values,
            Self::Owned(values) => values,
        }
    }
}

impl<E: Real> View<E> {
    /// The entries in row-major order.
    fn to_rows(self) -> Vec<E> {
        let mut out = Vec::with_capacity(self.rows * self.cols);
        for i in 0..self.rows as isize {
            for j in 0..self.cols as isize {
                // SAFETY: in bounds by the layout's invariant.
                out.push(unsafe { *self.ptr.offset(i * self.row_stride + j * self.col_stride) });
            }
        }
        out
    }
}

/// The outer weights a `[m, k]` and the output gradient g `[n, k]` (both row-major) of a
/// backward pass, with the output scale s.
struct Readout<E> {
    a: Vec<E>,
    g: Vec<E>,
    k: usize,
    scale: E,
}

impl<E: Real> Readout<E> {
    /// Overwrites each pre-activation `h_nr` with `G_nr = s (a g_n)_r 1{not h_nr <= 0}` and, when
    /// asked, returns `da = s relu(h)^T g`, `[m, k]` (read before the overwrite).
    fn signal_in_place(&self, hidden: &mut [E], want_a: bool) -> Option<Vec<E>> {
        let (k, n) = (self.k, self.g.len() / self.k.max(1));
        let m = self.a.len() / k.max(1);
        if m == 0 || n == 0 {
            return want_a.then(|| vec![E::zero(); m * k]);
        }
        let chunk_rows = rows_per_task(n);
        let tasks = hidden
            .par_chunks_mut(chunk_rows * m)
            .zip(self.g.par_chunks(chunk_rows * k));
        if !want_a {
            tasks.for_each(|(rows, gs)| self.overwrite(rows, gs, None));
            return None;
        }
        let da = tasks
            .fold(
                || vec![E::zero(); m * k],
                |mut da, (rows, gs)| {
                    self.overwrite(rows, gs, Some(&mut da));
                    da
                },
            )
            .reduce_with(|mut left, right| {
                for (l, r) in left.iter_mut().zip(right) {
                    *l += r;
                }
                left
            })
            .unwrap_or_else(|| vec![E::zero(); m * k]);
        Some(da)
    }

    /// [`Self::signal_in_place`] on a block of rows, accumulating into `da` when given.
    fn overwrite(&self, rows: &mut [E], gs: &[E], mut da: Option<&mut [E]>) {
        let (k, scale) = (self.k, self.scale);
        let m = self.a.len() / k;
        for (row, gn) in rows.chunks_exact_mut(m).zip(gs.chunks_exact(k)) {
            if k == 1 {
                // One output: plain loops the compiler vectorizes.
                let sg = scale * gn[0];
                if let Some(da) = da.as_deref_mut() {
                    for (acc, &h) in da.iter_mut().zip(row.iter()) {
                        *acc += sg * relu(h);
                    }
                }
                for (h, &ar) in row.iter_mut().zip(&self.a) {
                    *h = if *h <= E::zero() { E::zero() } else { sg * ar };
                }
                continue;
            }
            for ((h, ar), r) in row.iter_mut().zip(self.a.chunks_exact(k)).zip(0..) {
                if let Some(da) = da.as_deref_mut() {
                    let v = scale * relu(*h);
                    if v != E::zero() {
                        for (acc, &gj) in da[r * k..(r + 1) * k].iter_mut().zip(gn) {
                            *acc += v * gj;
                        }
                    }
                }
                *h = if *h <= E::zero() {
                    E::zero()
                } else {
                    scale * ar.iter().zip(gn).map(|(&a, &g)| a * g).sum::<E>()
                };
            }
        }
    }
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
            let h: Vec<f64> = (0..len).map(|i| i as f64 - 3.0).collect();
            let a: Vec<f64> = (0..len).map(|i| 1.0 + i as f64).collect();
            let expected: f64 = h.iter().zip(&a).map(|(h, a)| h.max(0.0) * a).sum();
            assert_eq!(relu_dot(&h, &a), expected);
        }
    }
}
