//! Fully connected deep linear network `f(x) = x W_1 W_2 ... W_L`.

use crate::{Homogeneous, LinearPredictor, ScalarModel, normal_tensor};
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use rand::Rng;

/// Shape and initialisation of a [`DeepLinear`] network.
#[derive(Debug, Clone, PartialEq)]
pub struct DeepLinearConfig {
    /// Input dimension d.
    pub input_dim: usize,
    /// Number of weight matrices L >= 1 (L = 1 is a linear model).
    pub depth: usize,
    /// Hidden width k (unused when L = 1).
    pub width: usize,
    /// Standard deviation of the i.i.d. Gaussian initial weights.
    pub init_std: f64,
}

impl DeepLinearConfig {
    /// Draws the initial weights from `rng` on `device`.
    pub fn init(&self, rng: &mut impl Rng, device: &Device) -> DeepLinear {
        assert!(self.depth >= 1 && self.input_dim >= 1 && (self.depth == 1 || self.width >= 1));
        let dims: Vec<usize> = std::iter::once(self.input_dim)
            .chain(std::iter::repeat_n(self.width, self.depth - 1))
            .chain(std::iter::once(1))
            .collect();
        let layers = dims
            .windows(2)
            .map(|w| Param::from_tensor(normal_tensor([w[0], w[1]], self.init_std, rng, device)))
            .collect();
        DeepLinear { layers }
    }
}

/// Deep linear network with scalar output (Gunasekar et al. 2018, Ji & Telgarsky 2019).
///
/// # Shapes
/// - weights: `W_1: [d, k]`, `W_2..W_{L-1}: [k, k]`, `W_L: [k, 1]` (`[d, 1]` when L = 1)
/// - input `[n, d]`, output `[n]`
#[derive(Module, Debug)]
pub struct DeepLinear {
    /// The weight matrices, applied left to right to a row vector.
    pub layers: Vec<Param<Tensor<2>>>,
}

impl DeepLinear {
    /// The depth L.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }
}

impl ScalarModel for DeepLinear {
    fn forward(&self, x: Tensor<2>) -> Tensor<1> {
        let n = x.dims()[0];
        let out = self.layers.iter().fold(x, |h, w| h.matmul(w.val()));
        out.reshape([n])
    }
}

impl Homogeneous for DeepLinear {
    fn homogeneity_degree(&self) -> u32 {
        self.layers.len() as u32
    }
}

impl LinearPredictor for DeepLinear {
    fn effective_predictor(&self) -> Tensor<1> {
        let mut it = self.layers.iter();
        let first = it.next().expect("at least one layer").val();
        let d = first.dims()[0];
        it.fold(first, |acc, w| acc.matmul(w.val())).reshape([d])
    }
}
