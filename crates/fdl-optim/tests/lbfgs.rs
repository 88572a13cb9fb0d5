//! L-BFGS on problems with known minimizers: a convex quadratic, Rosenbrock's valley, and a
//! planted quadratic-activation net (zero loss reachable).

mod common;

use common::device;

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use fdl_models::{
    LeastSquares, Objective, QuadraticNetConfig, flat_params, tensor2_from_host, with_flat_params,
};
use fdl_optim::{LbfgsOptions, minimize_lbfgs};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// `theta^T A theta / 2 - b^T theta` with A = tridiag(-1, 2, -1) (positive definite).
#[derive(Module, Debug)]
struct Quadratic {
    theta: Param<Tensor<2>>,
    a: Tensor<2>,
    b: Tensor<2>,
}

impl Objective for Quadratic {
    fn loss(&self) -> Tensor<1> {
        let theta = self.theta.val();
        let quad = theta
            .clone()
            .transpose()
            .matmul(self.a.clone().matmul(theta.clone()));
        let lin = self.b.clone().transpose().matmul(theta);
        (quad * 0.5 - lin).reshape([1])
    }
}

#[test]
fn lbfgs_finds_the_minimizer_of_a_convex_quadratic() {
    let (n, dev) = (6, device());
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        a[i * n + i] = 2.0;
        if i + 1 < n {
            a[i * n + i + 1] = -1.0;
            a[(i + 1) * n + i] = -1.0;
        }
    }
    // b = A theta* for a chosen theta*: the minimizer is theta*.
    let target: Vec<f64> = (0..n).map(|i| (i as f64 - 2.5) / 3.0).collect();
    let b: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| a[i * n + j] * target[j]).sum())
        .collect();
    let problem = Quadratic {
        theta: Param::from_tensor(tensor2_from_host(&vec![0.0; n], n, 1, &dev)),
        a: tensor2_from_host(&a, n, n, &dev),
        b: tensor2_from_host(&b, n, 1, &dev),
    };
    let options = LbfgsOptions {
        gradient_tolerance: 1e-12,
        ..Default::default()
    };
    let end = minimize_lbfgs(problem, &options).unwrap();
    let theta = flat_params(&end.objective);
    for (got, want) in theta.iter().zip(&target) {
        assert!((got - want).abs() < 1e-10, "{theta:?} vs {target:?}");
    }
    // Gradient descent needs about kappa ln(1e12) = 540 steps here (kappa = 19.5).
    assert!(end.iterations <= 50, "{} iterations", end.iterations);
}

/// Rosenbrock's function `(1 - x)^2 + 100 (y - x^2)^2`, minimum 0 at (1, 1).
#[derive(Module, Debug)]
struct Rosenbrock {
    point: Param<Tensor<1>>,
}

impl Objective for Rosenbrock {
    fn loss(&self) -> Tensor<1> {
        let p = self.point.val();
        let (x, y) = (p.clone().slice(0..1), p.slice(1..2));
        (x.clone().neg() + 1.0).square() + (y - x.square()).square() * 100.0
    }
}

#[test]
fn lbfgs_follows_rosenbrocks_valley_to_its_minimum() {
    let dev = device();
    let start = Tensor::<1>::from_floats([-1.2, 1.0], &dev);
    let problem = Rosenbrock {
        point: Param::from_tensor(start),
    };
    let options = LbfgsOptions {
        gradient_tolerance: 1e-10,
        ..Default::default()
    };
    let end = minimize_lbfgs(problem, &options).unwrap();
    let p = flat_params(&end.objective);
    assert!(
        (p[0] - 1.0).abs() < 1e-8 && (p[1] - 1.0).abs() < 1e-8,
        "{p:?}"
    );
    assert!(end.loss < 1e-16, "loss {}", end.loss);
}

#[test]
fn lbfgs_fits_planted_targets_of_a_wide_quadratic_net() {
    let (n, d, dev) = (12, 4, device());
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut normal =
        |len: usize| -> Vec<f64> { (0..len).map(|_| StandardNormal.sample(&mut rng)).collect() };
    let (x, g) = (normal(n * d), normal(d * d));
    // y = x^T G G^T x / d: zero loss is reachable with k = d.
    let y: Vec<f64> = x
        .chunks(d)
        .map(|row| {
            (0..d)
                .map(|j| (0..d).map(|i| row[i] * g[i * d + j]).sum::<f64>().powi(2))
                .sum::<f64>()
                / d as f64
        })
        .collect();
    let config = QuadraticNetConfig {
        input_dim: d,
        width: d,
        train_outer: false,
    };
    let model = config.init(&mut ChaCha8Rng::seed_from_u64(4), &dev);
    let fit = LeastSquares::new(model, &x, &y, &dev);
    let start = fdl_models::to_host(fit.loss())[0];
    let options = LbfgsOptions {
        target_loss: 1e-14 * start,
        ..Default::default()
    };
    let end = minimize_lbfgs(fit, &options).unwrap();
    assert!(end.loss <= 1e-14 * start, "L/L0 = {}", end.loss / start);
    assert!(end.gradient_norm < 1e-6 * end.initial_gradient_norm);
}

#[test]
fn flat_parameters_round_trip() {
    let dev = device();
    let config = QuadraticNetConfig {
        input_dim: 3,
        width: 2,
        train_outer: true,
    };
    let model = config.init(&mut ChaCha8Rng::seed_from_u64(5), &dev);
    let values: Vec<f64> = (0..8).map(|i| i as f64 * 0.5 - 1.0).collect();
    assert_eq!(flat_params(&with_flat_params(model, &values)), values);
}
