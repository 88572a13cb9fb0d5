//! Linear convolutional network with full-width circular convolutions (Gunasekar et al. 2018).

use crate::host_program::{dot, product, transposed_product};
use crate::{Homogeneous, HostProgram, LinearPredictor, ScalarModel, normal_tensor, to_host};
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

    fn host_program(&self, x: &Tensor<2>) -> Option<Box<dyn HostProgram>> {
        let [n, dim] = x.dims();
        Some(Box::new(ConvProgram {
            x: to_host(x.clone()),
            dim,
            depth: self.depth(),
            partial: vec![0.0; dim * self.depth()],
            upstream: vec![0.0; 2 * dim],
            rows: n,
        }))
    }
}

/// [`LinearConv`]'s outputs and gradient on the host: beta_1 = w_1, beta_k = beta_(k-1) (*) w_k,
/// f(x) = <x, beta_L>; backward through the chain with `d<g, a (*) b>/db = corr(g, a)`.
struct ConvProgram {
    /// The batch, row-major `[rows, dim]`.
    x: Vec<f64>,
    rows: usize,
    dim: usize,
    depth: usize,
    /// The partial products beta_1..beta_L of the last `outputs` call.
    partial: Vec<f64>,
    /// The upstream gradient and a scratch vector.
    upstream: Vec<f64>,
}

/// `out = a (*) b`, `(a (*) b)[i] = sum_j a[j] b[(i - j) mod D]`.
fn circular_convolution(a: &[f64], b: &[f64], out: &mut [f64]) {
    let d = a.len();
    out.fill(0.0);
    for (j, &aj) in a.iter().enumerate() {
        for (o, &bv) in out[j..].iter_mut().zip(&b[..d - j]) {
            *o += aj * bv;
        }
        for (o, &bv) in out[..j].iter_mut().zip(&b[d - j..]) {
            *o += aj * bv;
        }
    }
}

/// `out = corr(g, v)`, `corr(g, v)[m] = sum_i g[i] v[(i - m) mod D]`.
fn circular_correlation(g: &[f64], v: &[f64], out: &mut [f64]) {
    let d = g.len();
    for (m, o) in out.iter_mut().enumerate() {
        *o = dot(&g[m..], &v[..d - m]) + dot(&g[..m], &v[d - m..]);
    }
}

impl HostProgram for ConvProgram {
    fn num_params(&self) -> usize {
        self.dim * self.depth
    }

    fn outputs(&mut self, theta: &[f64], out: &mut [f64]) {
        let d = self.dim;
        self.partial[..d].copy_from_slice(&theta[..d]);
        for k in 1..self.depth {
            let (done, rest) = self.partial.split_at_mut(k * d);
            circular_convolution(
                &done[(k - 1) * d..],
                &theta[k * d..(k + 1) * d],
                &mut rest[..d],
            );
        }
        product(
            &self.x,
            &self.partial[(self.depth - 1) * d..],
            &mut out[..self.rows],
        );
    }

    fn pullback(&mut self, theta: &[f64], coefficients: &[f64], grad: &mut [f64]) {
        let d = self.dim;
        let (upstream, scratch) = self.upstream.split_at_mut(d);
        transposed_product(&self.x, coefficients, upstream);
        for k in (1..self.depth).rev() {
            let grad_k = &mut grad[k * d..(k + 1) * d];
            circular_correlation(upstream, &self.partial[(k - 1) * d..k * d], grad_k);
            circular_correlation(upstream, &theta[k * d..(k + 1) * d], scratch);
            upstream.copy_from_slice(scratch);
        }
        grad[..d].copy_from_slice(upstream);
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
