//! The homogeneous two-layer ReLU net of the margin papers (Wei, Lee, Liu, Ma 2019; Lyu & Li
//! 2020): `f(x) = A^T relu(U^T x)` with k outputs and no biases (append a constant feature to x
//! to get one), so `f(x; c theta) = c^2 f(x; theta)`.

use crate::fused::{fused_readout_available, relu_readout};
use crate::{Classifier, OuterLayer, TwoLayer, tensor2_from_host};
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, activation::relu};
use rand::Rng;

/// Shape of a [`ReluNet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReluNetConfig {
    /// Input dimension d (including any constant feature).
    pub input_dim: usize,
    /// Hidden width m.
    pub width: usize,
    /// Outputs k: 1 for a binary task with labels +-1, the number of classes otherwise.
    pub outputs: usize,
}

/// Entries uniform on `[-bound, bound]`, drawn on the host.
fn uniform(rows: usize, cols: usize, bound: f64, rng: &mut impl Rng, device: &Device) -> Tensor<2> {
    let values: Vec<f64> = (0..rows * cols)
        .map(|_| rng.random_range(-bound..=bound))
        .collect();
    tensor2_from_host(&values, rows, cols, device)
}

impl ReluNetConfig {
    /// PyTorch's default initialization of bias-free linear layers: every weight uniform on
    /// `+-1/sqrt(fan_in)`, so `||theta_0||^2` grows like m / 3 (what the width sweeps compare).
    pub fn init(&self, rng: &mut impl Rng, device: &Device) -> ReluNet {
        assert!(self.input_dim >= 1 && self.width >= 1 && self.outputs >= 1);
        let inner = uniform(
            self.input_dim,
            self.width,
            1.0 / (self.input_dim as f64).sqrt(),
            rng,
            device,
        );
        let outer = uniform(
            self.width,
            self.outputs,
            1.0 / (self.width as f64).sqrt(),
            rng,
            device,
        );
        ReluNet::from_weights(inner, outer)
    }
}

/// Two-layer ReLU net without biases, k outputs.
///
/// # Shapes
/// - `inner`: U as `[d, m]`; `outer`: A as `[m, k]`
/// - input `[n, d]`, logits `[n, k]`
#[derive(Module, Debug)]
pub struct ReluNet {
    /// U, `[d, m]`.
    pub inner: Param<Tensor<2>>,
    /// A, `[m, k]`.
    pub outer: Param<Tensor<2>>,
}

impl ReluNet {
    /// A net with the given weights U `[d, m]` and A `[m, k]`.
    pub fn from_weights(inner: Tensor<2>, outer: Tensor<2>) -> Self {
        assert_eq!(
            inner.dims()[1],
            outer.dims()[0],
            "U is [d, m] and A is [m, k]"
        );
        Self {
            inner: Param::from_tensor(inner),
            outer: Param::from_tensor(outer),
        }
    }

    /// The hidden width m.
    pub fn width(&self) -> usize {
        self.inner.dims()[1]
    }

    /// The number of outputs k.
    pub fn outputs(&self) -> usize {
        self.outer.dims()[1]
    }

    /// The same function as a [`TwoLayer`] with a trained outer layer and output scale 1
    /// (single-output nets only), for the scalar trainer and the NTK linearization.
    pub fn to_two_layer(&self) -> TwoLayer {
        assert_eq!(self.outputs(), 1, "only a single-output net is a TwoLayer");
        TwoLayer::from_weights(
            self.inner.val().detach(),
            self.outer.val().detach(),
            OuterLayer::Trained,
            1.0,
        )
    }
}

impl ReluNet {
    /// The logits from Burn's generic ops, on any backend; [`Classifier::logits`] computes the
    /// same function with the fused readout of [`crate::fused`] where that runs.
    pub fn logits_composed(&self, x: Tensor<2>) -> Tensor<2> {
        relu(x.matmul(self.inner.val())).matmul(self.outer.val())
    }
}

impl Classifier for ReluNet {
    fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        if fused_readout_available(&x) {
            relu_readout(x, self.inner.val(), self.outer.val(), 1.0)
        } else {
            self.logits_composed(x)
        }
    }
}
