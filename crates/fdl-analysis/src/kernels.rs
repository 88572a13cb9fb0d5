//! Infinite-width kernels of ReLU networks in closed form: the arc-cosine kernels of Cho & Saul
//! (2009) and the NTK/NNGP recursion of Jacot et al. (2018) and Lee et al. (2019).
//!
//! Inputs are row-major `[n, d]` slices; kernels between two sets come back row-major
//! `[n1, n2]`. For (u, v) ~ N(0, [[a, c], [c, b]]) with angle theta = arccos(c / sqrt(ab)):
//! `E[relu(u) relu(v)] = sqrt(ab) (sin theta + (pi - theta) cos theta) / (2 pi)` and
//! `E[1{u > 0} 1{v > 0}] = (pi - theta) / (2 pi)`.

use std::f64::consts::PI;

/// The angle between two vectors from their inner product and squared norms, clamped so
/// rounding never leaves [0, pi]; 0 when either vector is zero.
fn angle(dot: f64, sq_a: f64, sq_b: f64) -> f64 {
    let norms = (sq_a * sq_b).sqrt();
    if norms == 0.0 {
        return 0.0;
    }
    (dot / norms).clamp(-1.0, 1.0).acos()
}

/// `E[relu(u) relu(v)]` for the covariance `[[a, c], [c, b]]` (arc-cosine kernel of degree 1).
fn relu_expectation(a: f64, b: f64, c: f64) -> f64 {
    let t = angle(c, a, b);
    (a * b).sqrt() * (t.sin() + (PI - t) * t.cos()) / (2.0 * PI)
}

/// `E[1{u > 0} 1{v > 0}]` for the covariance `[[a, c], [c, b]]` (arc-cosine kernel of degree 0).
fn step_expectation(a: f64, b: f64, c: f64) -> f64 {
    (PI - angle(c, a, b)) / (2.0 * PI)
}

/// Row norms squared and the cross inner products of two row-major sets.
fn inner_products(x1: &[f64], x2: &[f64], d: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let sq =
        |x: &[f64]| -> Vec<f64> { x.chunks(d).map(|r| r.iter().map(|v| v * v).sum()).collect() };
    let mut cross = Vec::with_capacity(x1.len() / d * (x2.len() / d));
    for a in x1.chunks(d) {
        for b in x2.chunks(d) {
            cross.push(a.iter().zip(b).map(|(u, v)| u * v).sum());
        }
    }
    (sq(x1), sq(x2), cross)
}

/// Du et al. (2018, arXiv:1810.02054, eq. 4) `H_inf(x, x') = x.x' (pi - arccos(cos(x, x'))) / (2 pi)`:
/// the Gram matrix of `f(x) = (1/sqrt m) sum_r a_r relu(w_r.x)`, w_r ~ N(0, I), trained in W only,
/// as m -> infinity. Returns the `[n1, n2]` kernel between the rows of `x1` and `x2`.
pub fn du_kernel(x1: &[f64], x2: &[f64], d: usize) -> Vec<f64> {
    let (s1, s2, cross) = inner_products(x1, x2, d);
    let n2 = s2.len();
    cross
        .iter()
        .enumerate()
        .map(|(k, &c)| c * step_expectation(s1[k / n2], s2[k % n2], c))
        .collect()
}

/// The full NTK of the same two-layer ReLU net with the outer layer trained too
/// (a_r ~ N(0, 1)): `H_inf(x, x') + E[relu(w.x) relu(w.x')]`.
pub fn two_layer_relu_ntk(x1: &[f64], x2: &[f64], d: usize) -> Vec<f64> {
    let (s1, s2, cross) = inner_products(x1, x2, d);
    let n2 = s2.len();
    cross
        .iter()
        .enumerate()
        .map(|(k, &c)| {
            let (a, b) = (s1[k / n2], s2[k % n2]);
            c * step_expectation(a, b, c) + relu_expectation(a, b, c)
        })
        .collect()
}

/// The arc-cosine kernel of degree 1, `E[relu(w.x) relu(w.x')]` with w ~ N(0, I) (Cho & Saul
/// 2009): the kernel of the random ReLU features relu(w.x), i.e. the NNGP of a two-layer net.
pub fn relu_feature_kernel(x1: &[f64], x2: &[f64], d: usize) -> Vec<f64> {
    let (s1, s2, cross) = inner_products(x1, x2, d);
    let n2 = s2.len();
    cross
        .iter()
        .enumerate()
        .map(|(k, &c)| relu_expectation(s1[k / n2], s2[k % n2], c))
        .collect()
}

/// The NNGP and NTK of an infinitely wide ReLU MLP.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpKernels {
    /// The output covariance at initialization (NNGP), `[n1, n2]`.
    pub nngp: Vec<f64>,
    /// The neural tangent kernel, `[n1, n2]`.
    pub ntk: Vec<f64>,
}

/// Kernels of a ReLU MLP with `hidden` hidden layers in NTK parameterization: each dense layer
/// is `z = (weight_std / sqrt(fan_in)) W h + bias_std b` with W, b ~ N(0, 1), the last one
/// linear (neural-tangents' `Dense(weight_std, bias_std)` / `Relu` stack). The recursion:
/// `K_0 = weight_std^2 x.x'/d + bias_std^2`, `Theta_0 = K_0`, and per hidden layer
/// `K_{l+1} = weight_std^2 E[relu relu](K_l) + bias_std^2`,
/// `Theta_{l+1} = K_{l+1} + weight_std^2 E[relu' relu'](K_l) Theta_l`.
pub fn relu_mlp_kernels(
    x1: &[f64],
    x2: &[f64],
    d: usize,
    hidden: usize,
    weight_std: f64,
    bias_std: f64,
) -> MlpKernels {
    let (w2, b2) = (weight_std * weight_std, bias_std * bias_std);
    let (s1, s2, cross) = inner_products(x1, x2, d);
    let first = |v: f64| w2 * v / d as f64 + b2;
    // Diagonals K_l(x, x) of each set, advanced alongside the cross terms.
    let mut k1: Vec<f64> = s1.iter().map(|&v| first(v)).collect();
    let mut k2: Vec<f64> = s2.iter().map(|&v| first(v)).collect();
    let mut k: Vec<f64> = cross.iter().map(|&v| first(v)).collect();
    let mut theta = k.clone();
    let n2 = k2.len();
    // E[relu(u)^2] for u ~ N(0, a) is a / 2.
    let diagonal = |v: &[f64]| -> Vec<f64> { v.iter().map(|&a| w2 * a / 2.0 + b2).collect() };
    for _ in 0..hidden {
        for (j, (kj, tj)) in k.iter_mut().zip(theta.iter_mut()).enumerate() {
            let (a, b) = (k1[j / n2], k2[j % n2]);
            let dot = w2 * step_expectation(a, b, *kj);
            *kj = w2 * relu_expectation(a, b, *kj) + b2;
            *tj = *kj + dot * *tj;
        }
        k1 = diagonal(&k1);
        k2 = diagonal(&k2);
    }
    MlpKernels {
        nngp: k,
        ntk: theta,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random normals (Box-Muller on an LCG), enough for Monte Carlo.
    struct Normals(u64);
    impl Normals {
        fn uniform(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
        fn next(&mut self) -> f64 {
            let (u, v) = (self.uniform(), self.uniform());
            (-2.0 * u.ln()).sqrt() * (2.0 * PI * v).cos()
        }
    }

    const X: [f64; 9] = [1.0, 0.0, 0.0, 0.6, 0.8, 0.0, -0.3, 0.2, 0.9];

    #[test]
    fn du_kernel_has_half_the_squared_norm_on_the_diagonal_and_is_symmetric() {
        let h = du_kernel(&X, &X, 3);
        for i in 0..3 {
            let sq: f64 = X[3 * i..3 * i + 3].iter().map(|v| v * v).sum();
            assert!((h[4 * i] - sq / 2.0).abs() < 1e-15);
            for j in 0..3 {
                assert_eq!(h[3 * i + j], h[3 * j + i]);
            }
        }
        // Unit rows 0 and 1 at cosine 0.6.
        let expected = 0.6 * (PI - 0.6f64.acos()) / (2.0 * PI);
        assert!((h[1] - expected).abs() < 1e-15);
    }

    /// Both closed forms against the average over m = 400,000 random neurons (standard error
    /// about 1/sqrt(m) = 1.6e-3 times the spread of one neuron's term).
    #[test]
    fn closed_forms_match_monte_carlo_neurons() {
        let m = 400_000;
        let mut rng = Normals(7);
        let (mut h, mut full) = ([0.0; 9], [0.0; 9]);
        for _ in 0..m {
            let w = [rng.next(), rng.next(), rng.next()];
            let pre: Vec<f64> = X
                .chunks(3)
                .map(|x| x.iter().zip(&w).map(|(a, b)| a * b).sum())
                .collect();
            for i in 0..3 {
                for j in 0..3 {
                    let xx: f64 = X[3 * i..3 * i + 3]
                        .iter()
                        .zip(&X[3 * j..3 * j + 3])
                        .map(|(a, b)| a * b)
                        .sum();
                    let both = (pre[i] >= 0.0 && pre[j] >= 0.0) as u8 as f64;
                    h[3 * i + j] += xx * both / m as f64;
                    full[3 * i + j] += (xx * both + pre[i].max(0.0) * pre[j].max(0.0)) / m as f64;
                }
            }
        }
        let (exact_h, exact_full) = (du_kernel(&X, &X, 3), two_layer_relu_ntk(&X, &X, 3));
        for k in 0..9 {
            assert!(
                (h[k] - exact_h[k]).abs() < 5e-3,
                "H_inf[{k}]: {} vs {}",
                h[k],
                exact_h[k]
            );
            assert!(
                (full[k] - exact_full[k]).abs() < 6e-3,
                "NTK[{k}]: {} vs {}",
                full[k],
                exact_full[k]
            );
        }
    }

    /// One hidden layer: the recursion written out by hand from its definition.
    #[test]
    fn mlp_recursion_with_one_hidden_layer_is_the_two_layer_formula() {
        let (ws, bs) = (1.3, 0.2);
        let k = relu_mlp_kernels(&X, &X, 3, 1, ws, bs);
        let (w2, b2) = (ws * ws, bs * bs);
        for i in 0..3 {
            for j in 0..3 {
                let (xi, xj) = (&X[3 * i..3 * i + 3], &X[3 * j..3 * j + 3]);
                let dot =
                    |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(u, v)| u * v).sum() };
                let k0 = w2 * dot(xi, xj) / 3.0 + b2;
                let (a, b) = (w2 * dot(xi, xi) / 3.0 + b2, w2 * dot(xj, xj) / 3.0 + b2);
                let k1 = w2 * relu_expectation(a, b, k0) + b2;
                let theta = k1 + w2 * step_expectation(a, b, k0) * k0;
                assert!((k.nngp[3 * i + j] - k1).abs() < 1e-15);
                assert!((k.ntk[3 * i + j] - theta).abs() < 1e-15);
            }
        }
    }

    /// The NNGP diagonal follows its own recursion: with no bias and weight_std^2 = 2 (He
    /// scaling) every layer keeps E[z^2] = 2 |x|^2 / d.
    #[test]
    fn he_scaling_preserves_the_nngp_diagonal_through_depth() {
        let k = relu_mlp_kernels(&X, &X, 3, 5, 2f64.sqrt(), 0.0);
        for i in 0..3 {
            let sq: f64 = X[3 * i..3 * i + 3].iter().map(|v| v * v).sum();
            assert!((k.nngp[4 * i] - 2.0 * sq / 3.0).abs() < 1e-12);
        }
    }

    #[test]
    fn kernels_between_two_sets_are_the_off_diagonal_block() {
        let (a, b) = (&X[..3], &X[3..]);
        let gram = relu_mlp_kernels(&X, &X, 3, 2, 1.0, 0.1);
        let cross = relu_mlp_kernels(a, b, 3, 2, 1.0, 0.1);
        assert_eq!(cross.ntk.len(), 2);
        for j in 0..2 {
            assert!((cross.ntk[j] - gram.ntk[1 + j]).abs() < 1e-15);
            assert!((cross.nngp[j] - gram.nngp[1 + j]).abs() < 1e-15);
        }
        let du = du_kernel(a, b, 3);
        let du_gram = du_kernel(&X, &X, 3);
        assert_eq!(du, du_gram[1..3].to_vec());
    }
}
