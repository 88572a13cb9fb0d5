//! The l_p steepest-descent direction (Gunasekar, Lee, Soudry, Srebro, ICML 2018):
//! `u = argmax_{||u||_p <= 1} <g, u>`, with `<g, u> = ||g||_q`, `q = p / (p - 1)`.
//!
//! `u_i = sign(g_i) (|g_i| / ||g||_q)^{q-1}`; p = 1 moves only the largest |g_i| (ties split
//! evenly: greedy coordinate descent), p = inf is `sign(g)` (sign descent), p = 2 is
//! `g / ||g||_2` (gradient descent). [`steepest_direction`] is the host-side reference;
//! [`steepest_steps`] does the same on any Burn module's gradients, over the whole parameter
//! vector or per tensor, on the device.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Gradients, Tensor};
use fdl_models::to_host;
use serde::{Deserialize, Serialize};

/// Where the l_p norm of steepest descent is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NormScope {
    /// One norm over the whole parameter vector, all tensors together (the theory's setting).
    Global,
    /// Each parameter tensor is its own l_p ball (as per-tensor optimizers such as signSGD do).
    PerTensor,
}

/// Steepest descent with respect to an l_p norm, p in [1, inf].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LpGeometry {
    /// The norm's exponent; 2 is gradient descent.
    pub p: f64,
    /// Where the norm is taken.
    pub scope: NormScope,
}

impl LpGeometry {
    /// The l2 geometry over the whole parameter vector: plain gradient descent.
    pub fn euclidean() -> Self {
        Self {
            p: 2.0,
            scope: NormScope::Global,
        }
    }

    /// True when steepest descent is plain gradient descent (the step is the gradient itself).
    pub fn is_euclidean(&self) -> bool {
        self.p == 2.0 && self.scope == NormScope::Global
    }
}

/// The dual exponent `q = p / (p - 1)` (inf for p = 1, 1 for p = inf).
pub fn dual_exponent(p: f64) -> f64 {
    if p == 1.0 {
        f64::INFINITY
    } else if p.is_infinite() {
        1.0
    } else {
        p / (p - 1.0)
    }
}

/// A unit steepest direction and the dual norm of the gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct SteepestDirection {
    /// `u` with `||u||_p = 1` maximizing `<g, u>` (zero when g = 0).
    pub unit: Vec<f64>,
    /// `||g||_q = <g, u>`.
    pub dual_norm: f64,
}

/// The l_p steepest direction of `g` for p in [1, inf], stable for p near 1 (q large): the
/// ratios `|g_i| / max |g|` are formed before any power.
pub fn steepest_direction(g: &[f64], p: f64) -> SteepestDirection {
    assert!(p >= 1.0, "steepest descent needs p >= 1, got {p}");
    let max = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if max == 0.0 {
        return SteepestDirection {
            unit: vec![0.0; g.len()],
            dual_norm: 0.0,
        };
    }
    let q = dual_exponent(p);
    if q.is_infinite() {
        let ties = g.iter().filter(|v| v.abs() == max).count() as f64;
        let unit = g
            .iter()
            .map(|&v| {
                if v.abs() == max {
                    v.signum() / ties
                } else {
                    0.0
                }
            })
            .collect();
        return SteepestDirection {
            unit,
            dual_norm: max,
        };
    }
    if q == 1.0 {
        let unit = g
            .iter()
            .map(|&v| if v == 0.0 { 0.0 } else { v.signum() })
            .collect();
        return SteepestDirection {
            unit,
            dual_norm: g.iter().map(|v| v.abs()).sum(),
        };
    }
    let dual_norm = max
        * g.iter()
            .map(|v| (v.abs() / max).powf(q))
            .sum::<f64>()
            .powf(1.0 / q);
    let unit = g
        .iter()
        .map(|&v| v.signum() * (v.abs() / dual_norm).powf(q - 1.0))
        .collect();
    SteepestDirection { unit, dual_norm }
}

/// One `[1]`-shaped statistic per float parameter: of its gradient in `grads` (parameters
/// without one are skipped), or of the parameter itself when `grads` is `None`.
struct Stats<'a, F> {
    grads: Option<&'a Gradients>,
    stat: F,
    out: Vec<Tensor<1>>,
}

impl<F: FnMut(usize, Tensor<1>) -> Tensor<1>> ModuleVisitor for Stats<'_, F> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = match self.grads {
            Some(grads) => match param.val().grad(grads) {
                Some(g) => g,
                None => return,
            },
            None => param.val().inner(),
        };
        let n = t.shape().num_elements();
        let i = self.out.len();
        self.out.push((self.stat)(i, t.reshape([n])));
    }
}

/// The statistics of [`Stats`], read back together.
fn stats<M: Module>(
    model: &M,
    grads: Option<&Gradients>,
    stat: impl FnMut(usize, Tensor<1>) -> Tensor<1>,
) -> Vec<f64> {
    let mut v = Stats {
        grads,
        stat,
        out: Vec::new(),
    };
    model.visit(&mut v);
    if v.out.is_empty() {
        Vec::new()
    } else {
        to_host(Tensor::cat(v.out, 0))
    }
}

/// One statistic per gradient tensor.
fn per_tensor<M: Module>(
    model: &M,
    grads: &Gradients,
    stat: impl FnMut(usize, Tensor<1>) -> Tensor<1>,
) -> Vec<f64> {
    stats(model, Some(grads), stat)
}

/// `||v||_p` for p in [1, inf], without overflow (the ratios `|v_i| / max |v|` are formed first).
pub fn lp_norm(v: &[f64], p: f64) -> f64 {
    let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if max == 0.0 || p.is_infinite() {
        return max;
    }
    max * v
        .iter()
        .map(|x| (x.abs() / max).powf(p))
        .sum::<f64>()
        .powf(1.0 / p)
}

/// `||theta||_p` over every float parameter of `model`, p in [1, inf], without overflow.
pub fn param_lp_norm<M: Module>(model: &M, p: f64) -> f64 {
    let max = stats(model, None, |_, t| t.abs().max())
        .into_iter()
        .fold(0.0, f64::max);
    if max == 0.0 || p.is_infinite() {
        return max;
    }
    max * stats(model, None, |_, t| (t.abs() / max).powf_scalar(p).sum())
        .iter()
        .sum::<f64>()
        .powf(1.0 / p)
}

/// Writes `step(i, g)` in place of the i-th gradient tensor.
struct Replace<'a, F> {
    grads: &'a mut Gradients,
    step: F,
    index: usize,
}

impl<F: FnMut(usize, Tensor<1>) -> Tensor<1>> ModuleVisitor for Replace<'_, F> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        if let Some(g) = tensor.grad(self.grads) {
            let dims = g.dims();
            let n = g.shape().num_elements();
            let d = (self.step)(self.index, g.reshape([n])).reshape(dims);
            tensor.grad_replace(self.grads, d);
            self.index += 1;
        }
    }
}

/// Replaces every parameter gradient g in `grads` by the l_p steepest step `d = ||g||_q u`
/// (`||u||_p = 1` over the scope, maximizing `<g, u>`; for p = 2 globally, d = g), and returns
/// `||d||_p` over the whole parameter vector. Per tensor, each `d_T = ||g_T||_q u_T`, so
/// `||d||_p = (sum_T ||g_T||_q^p)^{1/p}`. Stable for p near 1: ratios `|g| / max` are formed
/// before any power.
pub fn steepest_steps<M: Module>(model: &M, grads: &mut Gradients, geometry: LpGeometry) -> f64 {
    let (p, q) = (geometry.p, dual_exponent(geometry.p));
    let per = geometry.scope == NormScope::PerTensor;
    let maxes = per_tensor(model, grads, |_, g| g.abs().max());
    let global_max = maxes.iter().copied().fold(0.0, f64::max);
    if global_max == 0.0 {
        return 0.0;
    }
    let scale: Vec<f64> = maxes
        .iter()
        .map(|&m| if per { m } else { global_max })
        .collect();
    // Per tensor: its own dual norm ||g_T||_q, and the dual norm of its scope.
    let own: Vec<f64>;
    let scope: Vec<f64>;
    // p = 1 only: the number of tied maxima in each tensor's scope.
    let mut ties = vec![1.0; maxes.len()];
    if q.is_infinite() {
        let counts = per_tensor(model, grads, |i, g| {
            g.abs().greater_equal_elem(scale[i]).float().sum()
        });
        let total: f64 = counts.iter().sum();
        ties = counts
            .iter()
            .map(|&c| if per { c } else { total })
            .collect();
        own = maxes.clone();
        scope = scale.clone();
    } else if q == 1.0 {
        own = per_tensor(model, grads, |_, g| g.abs().sum());
        let total: f64 = own.iter().sum();
        scope = own.iter().map(|&s| if per { s } else { total }).collect();
    } else {
        let ratios = per_tensor(model, grads, |i, g| {
            (g.abs() / scale[i]).powf_scalar(q).sum()
        });
        own = ratios
            .iter()
            .zip(&scale)
            .map(|(r, &m)| m * r.powf(1.0 / q))
            .collect();
        let total = global_max * ratios.iter().sum::<f64>().powf(1.0 / q);
        scope = own.iter().map(|&d| if per { d } else { total }).collect();
    }
    let mut replace = Replace {
        grads,
        index: 0,
        step: |i: usize, g: Tensor<1>| {
            if q.is_infinite() {
                // u = sign(g) 1[|g| = max] / ties, d = max u.
                let mask = g.clone().abs().greater_equal_elem(scale[i]).float();
                g.sign() * mask * (scale[i] / ties[i])
            } else if q == 1.0 {
                g.sign() * scope[i]
            } else {
                g.clone().sign() * (g.abs() / scope[i]).powf_scalar(q - 1.0) * scope[i]
            }
        },
    };
    model.visit(&mut replace);
    if !per {
        return scope[0];
    }
    let m = own.iter().copied().fold(0.0, f64::max);
    if p.is_infinite() {
        m
    } else {
        m * own
            .iter()
            .map(|d| (d / m).powf(p))
            .sum::<f64>()
            .powf(1.0 / p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn lp(v: &[f64], p: f64) -> f64 {
        if p.is_infinite() {
            v.iter().fold(0.0, |m, x| m.max(x.abs()))
        } else {
            v.iter().map(|x| x.abs().powf(p)).sum::<f64>().powf(1.0 / p)
        }
    }

    /// No random unit vector of the l_p ball beats the closed form, and the closed form attains
    /// <g, u> = ||g||_q with ||u||_p = 1.
    #[test]
    fn beats_brute_force_over_random_unit_vectors() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for p in [1.0, 1.01, 4.0 / 3.0, 2.0, 4.0, 50.0, f64::INFINITY] {
            for _ in 0..5 {
                let g: Vec<f64> = (0..4).map(|_| rng.random_range(-2.0..2.0)).collect();
                let s = steepest_direction(&g, p);
                let value: f64 = g.iter().zip(&s.unit).map(|(a, b)| a * b).sum();
                assert!(
                    (lp(&s.unit, p) - 1.0).abs() < 1e-9,
                    "p = {p}: ||u||_p = {}",
                    lp(&s.unit, p)
                );
                assert!((value - s.dual_norm).abs() < 1e-9 * s.dual_norm, "p = {p}");
                for _ in 0..20_000 {
                    let v: Vec<f64> = (0..4).map(|_| rng.random_range(-1.0..1.0)).collect();
                    let n = lp(&v, p);
                    let trial: f64 = g.iter().zip(&v).map(|(a, b)| a * b / n).sum();
                    assert!(
                        trial <= value + 1e-9,
                        "p = {p}: random {trial} beats {value}"
                    );
                }
            }
        }
    }

    #[test]
    fn special_cases_are_coordinate_and_sign_descent() {
        let g = [1.0, -3.0, 3.0, 0.5];
        assert_eq!(steepest_direction(&g, 1.0).unit, vec![0.0, -0.5, 0.5, 0.0]);
        assert_eq!(
            steepest_direction(&g, f64::INFINITY).unit,
            vec![1.0, -1.0, 1.0, 1.0]
        );
        let two = steepest_direction(&g, 2.0);
        let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        for (u, v) in two.unit.iter().zip(&g) {
            assert!((u - v / norm).abs() < 1e-15);
        }
    }

    #[test]
    fn p_near_one_does_not_overflow() {
        let s = steepest_direction(&[1e3, 2e3, -1e-3], 1.0001);
        assert!(s.unit.iter().all(|u| u.is_finite()) && s.dual_norm.is_finite());
        assert!(
            s.unit[1] > 0.99,
            "mass concentrates on the largest entry: {:?}",
            s.unit
        );
    }
}
