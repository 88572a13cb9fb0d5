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
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, DispatchDevice, Flex, backend_extension};
use burn::tensor::{DType, Tensor};
use kernels::{ReadoutParts, backward, forward};

mod kernels;

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
    on_flex(x) && matches!(x.dtype(), DType::F32 | DType::F64)
}

/// Whether `x` lives on the flex CPU backend (with or without autodiff): the backend whose
/// tensors the host paths (fused kernels, host programs, host Grams) may read in place of Burn's
/// ops. On a GPU those paths would move the work off the device the user chose.
pub fn on_flex(x: &Tensor<2>) -> bool {
    matches!(
        x.device().as_dispatch().clone().inner(),
        DispatchDevice::Flex(_)
    )
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
