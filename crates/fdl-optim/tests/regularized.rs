//! Regularized training through `train_regularized`: stationarity on a small problem, the
//! gradient against finite differences of the objective, and the multi-class path.

mod common;

use common::device;

use burn::tensor::Device;
use burn::tensor::Tensor;
use fdl_models::{Classifier, DeepLinearConfig, ReluNetConfig, tensor2_from_host, to_host};
use fdl_optim::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// n points in [-1, 1]^2 with a constant third feature, labelled by sign(sin(3 x_1) - x_2).
fn wavy(n: usize, dev: &Device) -> (Tensor<2>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..n {
        let (a, b): (f64, f64) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
        x.extend([a, b, 1.0]);
        y.push(if (3.0 * a).sin() > b { 1.0 } else { -1.0 });
    }
    (tensor2_from_host(&x, n, 3, dev), y)
}

fn objective<M: Classifier>(net: &M, x: &Tensor<2>, labels: &Labels, lambda: f64) -> f64 {
    let logits = to_host(net.logits(x.clone()));
    labels.loss_and_derivative(&logits).0 + lambda * param_sums(net, None).param_sq
}

#[test]
fn gradient_descent_reaches_a_stationary_point() {
    // A smooth non-convex model (a depth-2 linear net), so exact stationarity is reachable.
    let dev = device();
    let (x, y) = wavy(12, &dev);
    let labels = Labels::Signs(y);
    let net = DeepLinearConfig {
        input_dim: 3,
        depth: 2,
        width: 4,
        init_std: 0.5,
    }
    .init(&mut ChaCha8Rng::seed_from_u64(1), &dev);
    let config = ContinuationConfig {
        lambdas: vec![1e-1, 1e-2],
        steps_per_stage: 100_000,
        rate: (0.5, 0.5),
        method: Method::Steepest,
        grad_tolerance: Some(1e-9),
    };
    let mut stages = Vec::new();
    let net = train_regularized(net, &x, &labels, &config, |s, _| stages.push(*s), |_| {}).unwrap();
    assert_eq!(stages.len(), 2);
    for s in &stages {
        assert!(
            s.grad_norm < 1e-9,
            "lambda {}: grad {}",
            s.lambda,
            s.grad_norm
        );
        assert!(s.steps < config.steps_per_stage, "stopped on the tolerance");
    }
    let base = objective(&net, &x, &labels, 1e-2);
    assert!((base - stages[1].objective).abs() < 1e-12);
    // Independently of the reported gradient: the objective is flat along theta (radial
    // derivative ~ 0) and rises under scaling either way.
    let h = 1e-5;
    let up = objective(&scale_params(net.clone(), 1.0 + h), &x, &labels, 1e-2);
    let down = objective(&scale_params(net, 1.0 - h), &x, &labels, 1e-2);
    assert!(
        ((up - down) / (2.0 * h)).abs() < 1e-7,
        "radial slope {}",
        (up - down) / (2.0 * h)
    );
    assert!(up > base - 1e-14 && down > base - 1e-14);
}

#[test]
fn adam_trains_ten_classes_and_reports_the_multiclass_margin() {
    let dev = device();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (n, d, k) = (30, 5, 3);
    let x: Vec<f64> = (0..n * d).map(|_| rng.random_range(-1.0..1.0)).collect();
    let classes: Vec<f64> = (0..n).map(|i| (i % k) as f64).collect();
    let labels = Labels::from_values(&classes, k).unwrap();
    let xt = tensor2_from_host(&x, n, d, &dev);
    let net = ReluNetConfig {
        input_dim: d,
        width: 64,
        outputs: k,
    }
    .init(&mut rng, &dev);
    let config = ContinuationConfig {
        lambdas: vec![1e-4],
        steps_per_stage: 3000,
        rate: (1e-2, 1e-3),
        method: Method::adam(),
        grad_tolerance: None,
    };
    let start = Instant::now();
    let mut last = None;
    let net =
        train_regularized(net, &xt, &labels, &config, |s, _| last = Some(*s), |_| {}).unwrap();
    eprintln!(
        "{:.1} us per step",
        start.elapsed().as_secs_f64() * 1e6 / 3000.0
    );
    let s = last.unwrap();
    assert_eq!(s.steps, 3000);
    assert_eq!(s.train_error, 0.0, "64 neurons fit 30 points");
    let margins = labels.margins(&to_host(net.logits(xt)));
    let min = margins.iter().copied().fold(f64::INFINITY, f64::min);
    assert!((min - s.min_margin).abs() < 1e-12 && min > 0.0);
}
