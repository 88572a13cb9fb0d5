//! Two-layer ReLU network `f(x) = (1/sqrt m) sum_r a_r relu(w_r . x)` (Du, Zhai, Poczos, Singh
//! 2018, arXiv:1810.02054), with the outer layer fixed or trained.

use crate::fused::{fused_readout_available, relu_readout};
use crate::{
    BitRows, Homogeneous, ScalarModel, binary_gram, normal_tensor, tensor2_from_host, to_host,
};
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, activation::relu};
use rand::Rng;

/// Which parameters of a [`TwoLayer`] net are trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OuterLayer {
    /// a_r in {-1, +1} drawn once and kept fixed; only W is trained (Du et al.).
    FixedSigns,
    /// a_r in {-1, +1} at initialization, trained along with W.
    Trained,
}

/// Where the 1/sqrt(m) of a [`TwoLayer`] net sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaling {
    /// In the forward pass, `f = (1/sqrt m) sum_r a_r relu(w_r . x)` with a_r = +-1 (Du et al.,
    /// Jacot et al.): every parameter's gradient is O(1/sqrt m).
    Ntk,
    /// In the initialization, `f = sum_r a_r relu(w_r . x)` with a_r = +-1/sqrt(m): the same
    /// function at initialization, but the outer layer's gradient is sqrt(m) times larger.
    Standard,
}

/// Shape and initialisation of a [`TwoLayer`] net.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoLayerConfig {
    /// Input dimension d.
    pub input_dim: usize,
    /// Number of hidden neurons m.
    pub width: usize,
    /// Whether the outer layer is trained.
    pub outer: OuterLayer,
    /// Where the 1/sqrt(m) scaling sits.
    pub scaling: Scaling,
}

impl TwoLayerConfig {
    /// Draws w_r ~ N(0, I) and uniform signs a_r from `rng` on `device`.
    pub fn init(&self, rng: &mut impl Rng, device: &Device) -> TwoLayer {
        assert!(self.input_dim >= 1 && self.width >= 1);
        let inner = normal_tensor([self.input_dim, self.width], 1.0, rng, device);
        let (magnitude, output_scale) = match self.scaling {
            Scaling::Ntk => (1.0, 1.0 / (self.width as f64).sqrt()),
            Scaling::Standard => (1.0 / (self.width as f64).sqrt(), 1.0),
        };
        let signs: Vec<f64> = (0..self.width)
            .map(|_| {
                if rng.random::<bool>() {
                    magnitude
                } else {
                    -magnitude
                }
            })
            .collect();
        let signs = tensor2_from_host(&signs, self.width, 1, device);
        TwoLayer::from_weights(inner, signs, self.outer, output_scale)
    }
}

/// Two-layer ReLU net in the NTK scaling of Du et al.
///
/// # Shapes
/// - `inner`: W as `[d, m]` (column r is w_r); outer weights `[m, 1]`
/// - input `[n, d]`, output `[n]`
#[derive(Module, Debug)]
pub struct TwoLayer {
    /// The hidden weights W, `[d, m]`.
    pub inner: Param<Tensor<2>>,
    /// The outer weights a when they are trained.
    pub outer: Option<Param<Tensor<2>>>,
    /// The outer weights a when they are fixed (a constant of the module, never updated).
    pub fixed_outer: Option<Tensor<2>>,
    /// The width m.
    #[module(skip)]
    pub width: usize,
    /// The factor in front of the sum: 1/sqrt(m) (NTK parameterization) or 1 (standard).
    #[module(skip)]
    pub output_scale: f64,
}

impl TwoLayer {
    /// A net with hidden weights W `[d, m]`, outer weights a `[m, 1]` (trained or a fixed
    /// constant) and the factor `output_scale` in front of the sum.
    pub fn from_weights(
        inner: Tensor<2>,
        outer: Tensor<2>,
        trained: OuterLayer,
        output_scale: f64,
    ) -> Self {
        let width = inner.dims()[1];
        assert_eq!(outer.dims(), [width, 1], "a is [m, 1]");
        let (outer, fixed_outer) = match trained {
            OuterLayer::FixedSigns => (None, Some(outer)),
            OuterLayer::Trained => (Some(Param::from_tensor(outer)), None),
        };
        TwoLayer {
            inner: Param::from_tensor(inner),
            outer,
            fixed_outer,
            width,
            output_scale,
        }
    }

    /// The outer weights a, `[m, 1]`.
    pub fn outer_weights(&self) -> Tensor<2> {
        match (&self.outer, &self.fixed_outer) {
            (Some(a), _) => a.val(),
            (None, Some(a)) => a.clone(),
            (None, None) => unreachable!("a TwoLayer net always has outer weights"),
        }
    }

    /// Pre-activations `x W`, `[n, m]`.
    pub fn pre_activations(&self, x: Tensor<2>) -> Tensor<2> {
        x.matmul(self.inner.val())
    }

    /// Activation pattern `1{w_r . x_n >= 0}` as 0/1 floats, `[n, m]`.
    pub fn activation_pattern(&self, x: Tensor<2>) -> Tensor<2> {
        self.pre_activations(x).greater_equal_elem(0.0).float()
    }

    /// The empirical NTK between the rows of `x1` and `x2`, `[n1, n2]`, in closed form
    /// (exact for this architecture, no per-example gradients), with c the output scale:
    /// `c^2 (x1 x2^T) .* (S1 diag(a^2) S2^T)` from W, plus `c^2 relu(x1 W) relu(x2 W)^T` from a
    /// when it is trained. With fixed signs in NTK scaling this is Du et al.'s H(t).
    ///
    /// Runs without autodiff (the module's `valid()` copy, the inputs' plain tensors).
    pub fn ntk(&self, x1: Tensor<2>, x2: Tensor<2>) -> Tensor<2> {
        let this = self.valid();
        let (x1, x2) = (x1.without_autodiff(), x2.without_autodiff());
        this.ntk_plain(x1, x2)
    }

    fn ntk_plain(&self, x1: Tensor<2>, x2: Tensor<2>) -> Tensor<2> {
        let c2 = self.output_scale * self.output_scale;
        let inputs = x1.clone().matmul(x2.clone().transpose());
        let mut k = inputs * self.pattern_gram(x1.clone(), x2.clone()) * c2;
        if self.outer.is_some() {
            let (h1, h2) = (
                relu(self.pre_activations(x1)),
                relu(self.pre_activations(x2)),
            );
            k = k + h1.matmul(h2.transpose()) * c2;
        }
        k
    }
}

impl TwoLayer {
    /// `S1 diag(a^2) S2^T` for the activation patterns S of `x1` and `x2`. On the CPU with every
    /// `a_r^2` equal (fixed signs, Du et al.'s H) it is `a^2` times the exact pattern overlaps,
    /// counted on packed bits ([`binary_gram`]); otherwise a float matmul.
    fn pattern_gram(&self, x1: Tensor<2>, x2: Tensor<2>) -> Tensor<2> {
        let a_sq = self.outer_weights().square().reshape([1, self.width]);
        if fused_readout_available(&x1) {
            let a_host = to_host(a_sq.clone());
            if let Some(&a0) = a_host.first()
                && a_host.iter().all(|&v| v == a0)
            {
                let (n1, n2) = (x1.dims()[0], x2.dims()[0]);
                let device = x1.device();
                let (s1, s2) = (self.packed_pattern(x1), self.packed_pattern(x2));
                let counts: Vec<f64> = binary_gram(&s1, &s2)
                    .into_iter()
                    .map(|c| f64::from(c) * a0)
                    .collect();
                return tensor2_from_host(&counts, n1, n2, &device);
            }
        }
        let (s1, s2) = (self.activation_pattern(x1), self.activation_pattern(x2));
        (s1 * a_sq).matmul(s2.transpose())
    }

    /// The activation pattern of `x` as packed bit rows on the host.
    fn packed_pattern(&self, x: Tensor<2>) -> BitRows {
        let n = x.dims()[0];
        let bits = self
            .pre_activations(x)
            .greater_equal_elem(0.0)
            .into_data()
            .try_into_vec_as::<bool>()
            .expect("a bool tensor reads back as bools");
        BitRows::pack(&bits, n, self.width)
    }

    /// The outputs from Burn's generic ops, on any backend, `[n, 1]`. [`ScalarModel::forward`]
    /// computes the same function with the fused readout of [`crate::fused`] where that runs.
    pub fn forward_composed(&self, x: Tensor<2>) -> Tensor<2> {
        let hidden = relu(self.pre_activations(x));
        // A multiplication, not a division: Burn 0.22.1's autodiff takes the reciprocal of a
        // divisor in f32 in the backward pass (float_div_scalar), a 3e-8 error in f64 gradients.
        hidden.matmul(self.outer_weights()) * self.output_scale
    }
}

impl ScalarModel for TwoLayer {
    fn forward(&self, x: Tensor<2>) -> Tensor<1> {
        let n = x.dims()[0];
        let out = if fused_readout_available(&x) {
            relu_readout(x, self.inner.val(), self.outer_weights(), self.output_scale)
        } else {
            self.forward_composed(x)
        };
        out.reshape([n])
    }
}

impl Homogeneous for TwoLayer {
    /// Degree 2 with a trained outer layer, 1 with fixed signs.
    fn homogeneity_degree(&self) -> u32 {
        if self.outer.is_some() { 2 } else { 1 }
    }
}

/// The linearization of a [`TwoLayer`] net around its parameters theta_0, trained in the
/// displacement delta (Lee et al. 2019): with c the output scale and S_0 the activation pattern
/// at theta_0, `f_lin(x) = f(x; theta_0) + c [(S_0 .* (x dW)) a_0 + relu(x W_0) da]`.
#[derive(Module, Debug)]
pub struct LinearizedTwoLayer {
    /// W_0 and a_0, frozen (module constants).
    pub base: (Tensor<2>, Tensor<2>),
    /// dW, starting at 0.
    pub delta_inner: Param<Tensor<2>>,
    /// da when the outer layer is trained.
    pub delta_outer: Option<Param<Tensor<2>>>,
    /// The output scale c.
    #[module(skip)]
    pub output_scale: f64,
}

impl LinearizedTwoLayer {
    /// The linearization of `net` at its current parameters.
    pub fn around(net: &TwoLayer) -> Self {
        let (w0, a0) = (net.inner.val().detach(), net.outer_weights().detach());
        Self {
            delta_inner: Param::from_tensor(w0.zeros_like()),
            delta_outer: net
                .outer
                .as_ref()
                .map(|_| Param::from_tensor(a0.zeros_like())),
            base: (w0, a0),
            output_scale: net.output_scale,
        }
    }
}

impl ScalarModel for LinearizedTwoLayer {
    fn forward(&self, x: Tensor<2>) -> Tensor<1> {
        let n = x.dims()[0];
        let (w0, a0) = &self.base;
        let pre = x.clone().matmul(w0.clone());
        let gate = pre.clone().greater_equal_elem(0.0);
        let moved = x.matmul(self.delta_inner.val());
        let tangent = moved.zeros_like().mask_where(gate, moved);
        let mut out = (relu(pre.clone()) + tangent).matmul(a0.clone());
        if let Some(da) = &self.delta_outer {
            out = out + relu(pre).matmul(da.val());
        }
        (out * self.output_scale).reshape([n])
    }
}
