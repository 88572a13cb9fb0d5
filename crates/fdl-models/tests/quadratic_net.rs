//! The quadratic-activation net against its formula: outputs, and the per-example gradient
//! `d f / d w_j = 2 a_j (w_j . x) x / d` (and `(w_j . x)^2 / d` for a trained a_j).

mod common;

use burn::tensor::FloatDType;
use fdl_models::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[test]
fn outputs_and_gradients_follow_the_formula() {
    let device = common::flex_autodiff(FloatDType::F64);
    let (n, d, k) = (4, 3, 5);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let x = common::gaussian(&mut rng, n * d);
    let xt = tensor2_from_host(&x, n, d, &device);
    for train_outer in [false, true] {
        let net = QuadraticNetConfig {
            input_dim: d,
            width: k,
            train_outer,
        }
        .init(&mut ChaCha8Rng::seed_from_u64(2), &device);
        let w = to_host(net.inner.val().flatten::<1>(0, 1)); // [d, k] row-major
        let proj = |i: usize, j: usize| (0..d).map(|l| x[i * d + l] * w[l * k + j]).sum::<f64>();
        let f = to_host(net.forward(xt.clone()));
        let (jac, p) = jacobian(&net, xt.clone());
        assert_eq!(p, d * k + if train_outer { k } else { 0 });
        for i in 0..n {
            let expected: f64 = (0..k).map(|j| proj(i, j).powi(2)).sum::<f64>() / d as f64;
            assert!((f[i] - expected).abs() < 1e-12, "f {} vs {expected}", f[i]);
            for l in 0..d {
                for j in 0..k {
                    let g = 2.0 * proj(i, j) * x[i * d + l] / d as f64;
                    assert!(
                        (jac[i * p + l * k + j] - g).abs() < 1e-12,
                        "outer {train_outer} p {p} i {i} l {l} j {j}: {} vs {g}",
                        jac[i * p + l * k + j]
                    );
                }
            }
            if train_outer {
                for j in 0..k {
                    let g = proj(i, j).powi(2) / d as f64;
                    assert!((jac[i * p + d * k + j] - g).abs() < 1e-12);
                }
            }
        }
    }
}
