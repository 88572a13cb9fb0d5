//! Model behaviour: circular convolution against the naive sum, effective predictors against
//! the forward pass, homogeneity, and autodiff gradients against finite differences.

mod common;

use burn::module::Param;
use burn::tensor::{Device, FloatDType, Tensor};
use fdl_models::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn device() -> Device {
    common::flex_autodiff(FloatDType::F64)
}

fn naive_circular_conv(a: &[f64], b: &[f64]) -> Vec<f64> {
    let d = a.len();
    (0..d)
        .map(|i| (0..d).map(|k| a[k] * b[(i + d - k) % d]).sum())
        .collect()
}

fn random_input(n: usize, d: usize, seed: u64) -> Vec<f64> {
    common::normal(n * d, seed)
}

fn conv(d: usize, depth: usize, seed: u64) -> LinearConv {
    LinearConvConfig {
        input_dim: d,
        depth,
        init_std: 0.5,
    }
    .init(&mut ChaCha8Rng::seed_from_u64(seed), &device())
}

#[test]
fn effective_predictor_is_the_naive_circular_convolution_of_the_filters() {
    for (d, depth) in [(5, 2), (8, 3), (7, 4), (16, 1)] {
        let model = conv(d, depth, 3);
        let filters: Vec<Vec<f64>> = model.filters.iter().map(|w| to_host(w.val())).collect();
        let expected = filters[1..]
            .iter()
            .fold(filters[0].clone(), |acc, w| naive_circular_conv(&acc, w));
        let beta = to_host(model.effective_predictor());
        for (a, b) in beta.iter().zip(&expected) {
            assert!((a - b).abs() < 1e-12, "D={d} L={depth}: {a} vs {b}");
        }
    }
}

fn forward_matches_predictor(model: &impl LinearPredictor, d: usize) {
    let n = 6;
    let x = random_input(n, d, 11);
    let f = to_host(model.forward(tensor2_from_host(&x, n, d, &device())));
    let beta = to_host(model.effective_predictor());
    for (i, fi) in f.iter().enumerate() {
        let dot: f64 = x[i * d..(i + 1) * d]
            .iter()
            .zip(&beta)
            .map(|(a, b)| a * b)
            .sum();
        assert!(
            (fi - dot).abs() < 1e-12 * (1.0 + dot.abs()),
            "{fi} vs {dot}"
        );
    }
}

#[test]
fn forward_pass_equals_inner_product_with_effective_predictor() {
    for depth in 1..=4 {
        forward_matches_predictor(&conv(9, depth, depth as u64), 9);
        let fc = DeepLinearConfig {
            input_dim: 9,
            depth,
            width: 5,
            init_std: 0.5,
        }
        .init(&mut ChaCha8Rng::seed_from_u64(1), &device());
        forward_matches_predictor(&fc, 9);
    }
}

#[test]
fn scaling_all_parameters_by_c_scales_output_by_c_to_the_depth() {
    let model = conv(6, 3, 5);
    let x = tensor2_from_host(&random_input(4, 6, 2), 4, 6, &device());
    let f = to_host(model.forward(x.clone()));
    let mut scaled = model.clone();
    scaled.filters = scaled
        .filters
        .into_iter()
        .map(|p| p.map(|t| t * 2.0))
        .collect();
    let g = to_host(scaled.forward(x));
    let c = 2f64.powi(model.homogeneity_degree() as i32);
    for (a, b) in f.iter().zip(&g) {
        assert!((a * c - b).abs() < 1e-12 * b.abs().max(1.0));
    }
}

/// Central finite differences of `sum_n f(x_n)` against the autodiff gradient of every entry.
fn check_gradients<M: ScalarModel>(
    model: &M,
    autodiff_grads: impl Fn(&M, &burn::tensor::Gradients) -> Vec<Vec<f64>>,
    rebuild: impl Fn(&M, usize, usize, f64) -> M,
    d: usize,
) {
    let x = tensor2_from_host(&random_input(3, d, 9), 3, d, &device());
    let grads = model.forward(x.clone()).sum().backward();
    let eps = 1e-6;
    for (k, g) in autodiff_grads(model, &grads).into_iter().enumerate() {
        for (i, gi) in g.iter().enumerate() {
            let plus: f64 = to_host(rebuild(model, k, i, eps).forward(x.clone()).sum())[0];
            let minus: f64 = to_host(rebuild(model, k, i, -eps).forward(x.clone()).sum())[0];
            let fd = (plus - minus) / (2.0 * eps);
            assert!(
                (fd - gi).abs() < 1e-6 * (1.0 + gi.abs()),
                "param {k} entry {i}: fd {fd} vs autodiff {gi}"
            );
        }
    }
}

fn bump(t: Tensor<1>, i: usize, eps: f64) -> Tensor<1> {
    let mut v = to_host(t.clone());
    v[i] += eps;
    tensor1_from_host(&v, &t.device())
}

#[test]
fn linear_conv_gradients_match_finite_differences() {
    let model = conv(5, 3, 7);
    check_gradients(
        &model,
        |m, g| {
            m.filters
                .iter()
                .map(|w| to_host(w.val().grad(g).unwrap()))
                .collect()
        },
        |m, k, i, eps| {
            let mut out = m.clone();
            out.filters[k] = Param::from_tensor(bump(m.filters[k].val(), i, eps));
            out
        },
        5,
    );
}

#[test]
fn deep_linear_gradients_match_finite_differences() {
    let model = DeepLinearConfig {
        input_dim: 4,
        depth: 3,
        width: 3,
        init_std: 0.7,
    }
    .init(&mut ChaCha8Rng::seed_from_u64(4), &device());
    check_gradients(
        &model,
        |m, g| {
            m.layers
                .iter()
                .map(|w| to_host(w.val().grad(g).unwrap()))
                .collect()
        },
        |m, k, i, eps| {
            let mut out = m.clone();
            let dims = m.layers[k].val().dims();
            let flat = bump(m.layers[k].val().reshape([dims[0] * dims[1]]), i, eps);
            out.layers[k] = Param::from_tensor(flat.reshape(dims));
            out
        },
        4,
    );
}
