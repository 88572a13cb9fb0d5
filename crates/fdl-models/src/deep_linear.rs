//! Fully connected deep linear network `f(x) = x W_1 W_2 ... W_L`.

use crate::host_program::{product, transposed_product};
use crate::{Homogeneous, HostProgram, LinearPredictor, ScalarModel, normal_tensor, to_host};
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

    fn host_program(&self, x: &Tensor<2>) -> Option<Box<dyn HostProgram>> {
        let [rows, dim] = x.dims();
        let shapes: Vec<[usize; 2]> = self.layers.iter().map(|w| w.val().dims()).collect();
        Some(Box::new(DeepLinearProgram {
            x: to_host(x.clone()),
            rows,
            dim,
            right: shapes.iter().map(|s| vec![0.0; s[0]]).collect(),
            left: vec![0.0; shapes.iter().map(|s| s[0]).max().unwrap_or(dim)],
            next: vec![0.0; shapes.iter().map(|s| s[1]).max().unwrap_or(1)],
            shapes,
        }))
    }
}

/// [`DeepLinear`]'s outputs and gradient on the host. With `b_k = W_k W_(k+1) ... W_L` (so
/// `beta = b_1`) and `a_1 = X^T c`, `a_(k+1) = W_k^T a_k`, the gradient of `sum_n c_n f(x_n)`
/// with respect to `W_k` is the rank-one `a_k b_(k+1)^T` (`b_(L+1) = 1`).
struct DeepLinearProgram {
    /// The batch, row-major `[rows, dim]`.
    x: Vec<f64>,
    rows: usize,
    dim: usize,
    /// Each layer's `[in, out]`.
    shapes: Vec<[usize; 2]>,
    /// `b_k` of the last `outputs` call, per layer (length `in_k`).
    right: Vec<Vec<f64>>,
    /// `a_k` and the next one.
    left: Vec<f64>,
    next: Vec<f64>,
}

impl DeepLinearProgram {
    /// The offset of layer k in the flat parameters.
    fn offsets(&self) -> Vec<usize> {
        self.shapes
            .iter()
            .scan(0, |at, s| {
                let start = *at;
                *at += s[0] * s[1];
                Some(start)
            })
            .collect()
    }
}

impl HostProgram for DeepLinearProgram {
    fn num_params(&self) -> usize {
        self.shapes.iter().map(|s| s[0] * s[1]).sum()
    }

    fn outputs(&mut self, theta: &[f64], out: &mut [f64]) {
        let offsets = self.offsets();
        // b_k = W_k b_(k+1), from the last layer (whose b_(L+1) is the scalar 1).
        let mut after = vec![1.0];
        for k in (0..self.shapes.len()).rev() {
            let [rows, cols] = self.shapes[k];
            let w = &theta[offsets[k]..offsets[k] + rows * cols];
            product(w, &after, &mut self.right[k]);
            after.clone_from(&self.right[k]);
        }
        product(&self.x, &self.right[0], &mut out[..self.rows]);
    }

    fn pullback(&mut self, theta: &[f64], coefficients: &[f64], grad: &mut [f64]) {
        let offsets = self.offsets();
        let layers = self.shapes.len();
        transposed_product(&self.x, coefficients, &mut self.left[..self.dim]);
        for k in 0..layers {
            let [rows, cols] = self.shapes[k];
            let after: &[f64] = if k + 1 < layers {
                &self.right[k + 1]
            } else {
                &[1.0]
            };
            let g = &mut grad[offsets[k]..offsets[k] + rows * cols];
            for (row, &a) in g.chunks_exact_mut(cols).zip(&self.left[..rows]) {
                for (gij, &b) in row.iter_mut().zip(after) {
                    *gij = a * b;
                }
            }
            if k + 1 < layers {
                let w = &theta[offsets[k]..offsets[k] + rows * cols];
                transposed_product(w, &self.left[..rows], &mut self.next[..cols]);
                self.left[..cols].copy_from_slice(&self.next[..cols]);
            }
        }
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
