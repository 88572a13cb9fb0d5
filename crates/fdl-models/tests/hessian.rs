//! The generic Hessian (differences of autodiff gradients, Richardson-extrapolated) against the
//! analytic Hessian of matrix factorization and of a quadratic.

mod common;
use common::normal;

use burn::module::{Module, Param};
use burn::tensor::{Device, FloatDType, Tensor};
use fdl_models::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn device() -> Device {
    common::flex_autodiff(FloatDType::F64)
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

#[test]
fn factorization_hessian_matches_the_analytic_one() {
    let (d, r) = (6, 3);
    // A symmetric M that is not diagonal, and a U away from every critical point.
    let g = normal(d * d, 1);
    let m: Vec<f64> = (0..d * d)
        .map(|k| {
            let (i, j) = (k / d, k % d);
            (0..d).map(|l| g[i * d + l] * g[j * d + l]).sum::<f64>() / d as f64
        })
        .collect();
    let u = normal(d * r, 2);
    let model = Factorization::new(&m, &u, d, r, &device());
    let (h, p) = hessian(&model);
    assert_eq!(p, d * r);
    let mut analytic = vec![0.0; p * p];
    let mut e = vec![0.0; p];
    for j in 0..p {
        e[j] = 1.0;
        for (i, v) in factorization_hessian_vector(&u, &m, &e, d, r)
            .into_iter()
            .enumerate()
        {
            analytic[i * p + j] = v;
        }
        e[j] = 0.0;
    }
    let gap: Vec<f64> = h.iter().zip(&analytic).map(|(a, b)| a - b).collect();
    assert!(
        max_abs(&gap) <= 1e-8 * max_abs(&analytic),
        "largest entry gap {:.3e} against {:.3e}",
        max_abs(&gap),
        max_abs(&analytic)
    );
    // The gradient too: (U U^T - M) U.
    let grad = gradient(&model);
    let uut_m: Vec<f64> = (0..d * d)
        .map(|k| {
            (0..r)
                .map(|l| u[(k / d) * r + l] * u[(k % d) * r + l])
                .sum::<f64>()
                - m[k]
        })
        .collect();
    for i in 0..d {
        for j in 0..r {
            let expected: f64 = (0..d).map(|l| uut_m[i * d + l] * u[l * r + j]).sum();
            assert!((grad[i * r + j] - expected).abs() < 1e-12 * (1.0 + expected.abs()));
        }
    }
}

/// `w^T A w / 2 + (w . w)^2 / 8`: Hessian `A + (w.w) I / 2 + w w^T`.
#[derive(Module, Debug)]
struct Quartic {
    w: Param<Tensor<1>>,
    a: Tensor<2>,
}

impl Objective for Quartic {
    fn loss(&self) -> Tensor<1> {
        let w = self.w.val();
        let n = w.dims()[0];
        let aw = self
            .a
            .clone()
            .matmul(w.clone().reshape([n, 1]))
            .reshape([n]);
        let sq = w.clone().square().sum();
        (w * aw).sum() * 0.5 + sq.square() * 0.125
    }
}

#[test]
fn a_quadratic_plus_quartic_has_its_closed_form_hessian() {
    let n = 5;
    let b = normal(n * n, 3);
    let a: Vec<f64> = (0..n * n).map(|k| b[k] + b[(k % n) * n + k / n]).collect();
    let w = normal(n, 4);
    let model = Quartic {
        w: Param::from_tensor(tensor1_from_host(&w, &device())),
        a: tensor2_from_host(&a, n, n, &device()),
    };
    let (h, _) = hessian(&model);
    let ww: f64 = w.iter().map(|x| x * x).sum();
    for i in 0..n {
        for j in 0..n {
            let expected = a[i * n + j] + if i == j { ww / 2.0 } else { 0.0 } + w[i] * w[j];
            assert!(
                (h[i * n + j] - expected).abs() < 1e-9 * (1.0 + expected.abs()),
                "H[{i},{j}] = {} vs {expected}",
                h[i * n + j]
            );
        }
    }
}

#[test]
fn quadratic_net_least_squares_has_its_analytic_hessian() {
    // L = (1/4n) sum_i r_i^2, r_i = sum_j p_ij^2 / d - y_i, p_ij = x_i . w_j:
    // H[(a,j),(b,l)] = (1/(n d)) sum_i x_ia x_ib ((2/d) p_ij p_il + delta_jl r_i).
    let (n, d, k) = (7, 4, 3);
    let x = normal(n * d, 5);
    let y = normal(n, 6);
    let config = QuadraticNetConfig {
        input_dim: d,
        width: k,
        train_outer: false,
    };
    let model = config.init(&mut ChaCha8Rng::seed_from_u64(7), &device());
    let w = flat_params(&model);
    let fit = LeastSquares::new(model, &x, &y, &device());
    let (h, p) = hessian(&fit);
    assert_eq!(p, d * k);
    let p_ij = |i: usize, j: usize| (0..d).map(|a| x[i * d + a] * w[a * k + j]).sum::<f64>();
    let r = |i: usize| (0..k).map(|j| p_ij(i, j).powi(2)).sum::<f64>() / d as f64 - y[i];
    let mut worst = 0.0f64;
    let mut largest = 0.0f64;
    for (a, j, b, l) in
        (0..d * k).flat_map(|u| (0..d * k).map(move |v| (u / k, u % k, v / k, v % k)))
    {
        let expected = (0..n)
            .map(|i| {
                let cross = 2.0 / d as f64 * p_ij(i, j) * p_ij(i, l);
                x[i * d + a] * x[i * d + b] * (cross + if j == l { r(i) } else { 0.0 })
            })
            .sum::<f64>()
            / (n * d) as f64;
        worst = worst.max((h[(a * k + j) * p + b * k + l] - expected).abs());
        largest = largest.max(expected.abs());
    }
    assert!(
        worst <= 1e-8 * largest,
        "largest entry gap {worst:e} of {largest:e}"
    );
}
