//! Linear convolutional network with full-width circular convolutions (Gunasekar et al. 2018).

use crate::{Homogeneous, LinearPredictor, ScalarModel, normal_tensor};
use burn::module::{Module, Param};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::Rng;

/// Shape and initialisation of a [`LinearConv`] network.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearConvConfig {
    /// Signal length D (every filter is full width, in R^D).
    pub input_dim: usize,
    /// Number of filters L >= 1.
    pub depth: usize,
    /// Standard deviation of the i.i.d. Gaussian initial filter entries.
    pub init_std: f64,
}

impl LinearConvConfig {
    /// Draws the initial filters from `rng` on `device`.
    pub fn init(&self, rng: &mut impl Rng, device: &Device) -> LinearConv {
        assert!(self.depth >= 1 && self.input_dim >= 1);
        let filters = (0..self.depth)
            .map(|_| {
                Param::from_tensor(normal_tensor([self.input_dim], self.init_std, rng, device))
            })
            .collect();
        LinearConv {
            filters,
            circulant: circulant_index(self.input_dim, device),
        }
    }
}

/// `[D, D]` gather indices with `C(w)[i, j] = w[(i - j) mod D]` (a circulant matrix).
pub fn circulant_index(dim: usize, device: &Device) -> Tensor<2, Int> {
    let idx: Vec<i64> = (0..dim)
        .flat_map(|i| (0..dim).map(move |j| ((i + dim - j) % dim) as i64))
        .collect();
    Tensor::from_data(TensorData::new(idx, [dim, dim]), device)
}

/// L-layer linear convolutional net: `f(x) = <beta, x>` with `beta = w_1 (*) w_2 (*) ... (*) w_L`,
/// `(*)` the circular convolution on Z_D.
///
/// As a network: `h_0 = x`, `h_l = h_{l-1} C(w_{l+1})` (a full-width circular correlation layer,
/// `C` the circulant matrix of [`circulant_index`]) for `l = 1..L-1`, and `f(x) = <w_1, h_{L-1}>`.
/// This uses `<x, a (*) b> = <a, corr(x, b)>`, with `corr(x, b) = x C(b)`.
///
/// # Shapes
/// - filters: `L` tensors `[D]`
/// - input `[n, D]`, output `[n]`
#[derive(Module, Debug)]
pub struct LinearConv {
    /// The filters w_1..w_L.
    pub filters: Vec<Param<Tensor<1>>>,
    /// Gather indices building a circulant matrix from a filter.
    pub circulant: Tensor<2, Int>,
}

impl LinearConv {
    /// The depth L.
    pub fn depth(&self) -> usize {
        self.filters.len()
    }

    /// The circulant matrix `C(w)[i, j] = w[(i - j) mod D]`.
    fn circulant_of(&self, w: Tensor<1>) -> Tensor<2> {
        w.take::<2, 2>(0, self.circulant.clone())
    }
}

impl ScalarModel for LinearConv {
    fn forward(&self, x: Tensor<2>) -> Tensor<1> {
        let n = x.dims()[0];
        let (first, rest) = self.filters.split_first().expect("at least one filter");
        let h = rest
            .iter()
            .fold(x, |h, w| h.matmul(self.circulant_of(w.val())));
        let d = first.val().dims()[0];
        h.matmul(first.val().reshape([d, 1])).reshape([n])
    }
}

impl Homogeneous for LinearConv {
    fn homogeneity_degree(&self) -> u32 {
        self.filters.len() as u32
    }
}

impl LinearPredictor for LinearConv {
    fn effective_predictor(&self) -> Tensor<1> {
        // (a (*) b) = C(b) a, with C(b)[i, k] = b[i - k].
        let (first, rest) = self.filters.split_first().expect("at least one filter");
        let d = first.val().dims()[0];
        let beta = rest.iter().fold(first.val().reshape([d, 1]), |acc, w| {
            self.circulant_of(w.val()).matmul(acc)
        });
        beta.reshape([d])
    }
}
