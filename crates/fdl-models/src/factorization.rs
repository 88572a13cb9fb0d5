//! Symmetric low-rank matrix factorization `f(U) = ||U U^T - M||_F^2 / 4`, U in R^{d x r}: the
//! textbook landscape with only strict saddles and global minima (Ge, Jin, Zheng 2017), for any
//! symmetric M.

use crate::{Objective, tensor2_from_host};
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};

/// `f(U) = ||U U^T - M||_F^2 / 4`.
#[derive(Module, Debug)]
pub struct Factorization {
    /// U, `[d, r]`.
    pub u: Param<Tensor<2>>,
    /// M, `[d, d]` (a module constant).
    pub target: Tensor<2>,
}

impl Factorization {
    /// The problem for symmetric `m` (`[d, d]`, row-major) at `u` (`[d, r]`, row-major).
    pub fn new(m: &[f64], u: &[f64], d: usize, r: usize, device: &Device) -> Self {
        assert_eq!(m.len(), d * d, "M is d x d");
        assert_eq!(u.len(), d * r, "U is d x r");
        Self {
            u: Param::from_tensor(tensor2_from_host(u, d, r, device)),
            target: tensor2_from_host(m, d, d, device),
        }
    }
}

impl Objective for Factorization {
    fn loss(&self) -> Tensor<1> {
        let u = self.u.val();
        let residual = u.clone().matmul(u.transpose()) - self.target.clone();
        residual.square().sum() * 0.25
    }
}

/// The analytic Hessian-vector product `H[E] = (U U^T - M) E + (U E^T + E U^T) U` of
/// [`Factorization`]'s loss, all row-major on the host (U and E `[d, r]`, M `[d, d]`).
pub fn factorization_hessian_vector(
    u: &[f64],
    m: &[f64],
    e: &[f64],
    d: usize,
    r: usize,
) -> Vec<f64> {
    let mul = |a: &[f64], b: &[f64], rows: usize, inner: usize, cols: usize, bt: bool| {
        let mut out = vec![0.0; rows * cols];
        for i in 0..rows {
            for k in 0..inner {
                for j in 0..cols {
                    let bkj = if bt {
                        b[j * inner + k]
                    } else {
                        b[k * cols + j]
                    };
                    out[i * cols + j] += a[i * inner + k] * bkj;
                }
            }
        }
        out
    };
    let uut = mul(u, u, d, r, d, true);
    let residual: Vec<f64> = uut.iter().zip(m).map(|(a, b)| a - b).collect();
    let (ue, eu) = (mul(u, e, d, r, d, true), mul(e, u, d, r, d, true));
    let sym: Vec<f64> = ue.iter().zip(&eu).map(|(a, b)| a + b).collect();
    let first = mul(&residual, e, d, d, r, false);
    let second = mul(&sym, u, d, d, r, false);
    first.iter().zip(&second).map(|(a, b)| a + b).collect()
}
