//! Momentum and Adam through the trainer: Burn's optimizers on the true logistic-loss gradient,
//! checked step by step against the textbook recursions computed on the host.

mod common;

use common::device;

use fdl_models::{
    DeepLinear, DeepLinearConfig, LinearPredictor, tensor1_from_host, tensor2_from_host, to_host,
};
use fdl_optim::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const X: [f64; 8] = [0.5, 1.5, 1.5, 0.5, -0.5, -1.5, 2.0, -0.3];
const Y: [f64; 4] = [1.0, 1.0, -1.0, 1.0];
const STEPS: usize = 6;
const LR: f64 = 0.3;

/// The logistic-loss gradient `-sum_n sigmoid(-m_n) y_n x_n` at w.
fn gradient(w: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; 2];
    for (x, y) in X.chunks(2).zip(Y) {
        let m = y * (x[0] * w[0] + x[1] * w[1]);
        let s = 1.0 / (1.0 + m.exp());
        g[0] -= s * y * x[0];
        g[1] -= s * y * x[1];
    }
    g
}

/// The data on the device and a linear model w = 0.
fn linear_model_at_zero() -> (Batch, DeepLinear) {
    let dev = device();
    let batch = Batch {
        x: tensor2_from_host(&X, 4, 2, &dev),
        y: tensor1_from_host(&Y, &dev),
    };
    let model = DeepLinearConfig {
        input_dim: 2,
        depth: 1,
        width: 1,
        init_std: 0.0,
    }
    .init(&mut ChaCha8Rng::seed_from_u64(0), &dev);
    (batch, model)
}

/// The predictor after each step when training from w = 0 with `method`.
fn trained(method: Method) -> Vec<Vec<f64>> {
    let (batch, model) = linear_model_at_zero();
    let config = TrainConfig {
        loss: Loss::Logistic,
        step_rule: StepRule::constant(StepRuleKind::Fixed, LR),
        steps: STEPS,
        geometry: LpGeometry::euclidean(),
        method,
    };
    let mut path = Vec::new();
    let probes: Vec<usize> = (1..=STEPS).collect();
    Trainer::plain(model)
        .run(
            &batch,
            &config,
            &probes,
            |p| {
                path.push(to_host(p.model.effective_predictor()));
                Ok(())
            },
            |_| {},
        )
        .unwrap();
    path
}

fn assert_path(device: &[Vec<f64>], host: &[Vec<f64>], what: &str) {
    assert_eq!(device.len(), host.len());
    for (t, (a, b)) in device.iter().zip(host).enumerate() {
        for (x, y) in a.iter().zip(b) {
            assert!(
                (x - y).abs() < 1e-12 * (1.0 + y.abs()),
                "{what}, step {}: {a:?} vs {b:?}",
                t + 1
            );
        }
    }
}

#[test]
fn momentum_is_the_heavy_ball_recursion() {
    let mu = 0.9;
    // Burn stores the momentum factor in f32.
    let mu_f32 = mu as f32 as f64;
    let (mut w, mut v) = (vec![0.0; 2], vec![0.0; 2]);
    let mut host = Vec::new();
    for _ in 0..STEPS {
        let g = gradient(&w);
        for i in 0..2 {
            v[i] = mu_f32 * v[i] + g[i];
            w[i] -= LR * v[i];
        }
        host.push(w.clone());
    }
    assert_path(&trained(Method::heavy_ball(mu)), &host, "heavy ball");
}

#[test]
fn dampened_momentum_takes_the_first_gradient_whole() {
    let mu = 0.9;
    let mu_f32 = mu as f32 as f64;
    let (mut w, mut v) = (vec![0.0; 2], vec![0.0; 2]);
    let mut host = Vec::new();
    for t in 0..STEPS {
        let g = gradient(&w);
        for i in 0..2 {
            // Burn's first step takes the raw gradient, later ones the damped average.
            v[i] = if t == 0 {
                g[i]
            } else {
                mu_f32 * v[i] + (1.0 - mu) * g[i]
            };
            w[i] -= LR * v[i];
        }
        host.push(w.clone());
    }
    let method = Method::Momentum {
        momentum: mu,
        dampening: mu,
    };
    assert_path(&trained(method), &host, "dampened momentum");
}

#[test]
fn adam_is_the_bias_corrected_recursion() {
    // Burn holds the constants and the bias corrections in f32; so does this reference.
    let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
    let (mut w, mut m, mut v) = (vec![0.0; 2], vec![0.0; 2], vec![0.0; 2]);
    let mut host = Vec::new();
    for t in 1..=STEPS as i32 {
        let g = gradient(&w);
        let c2 = (1.0 - b2.powi(t)).sqrt();
        let c1 = 1.0 - b1.powi(t);
        for i in 0..2 {
            m[i] = b1 as f64 * m[i] + (1.0 - b1) as f64 * g[i];
            v[i] = b2 as f64 * v[i] + (1.0 - b2) as f64 * g[i] * g[i];
            // m_hat / (sqrt(v_hat) + eps) = m c2 / c1 / (sqrt(v) + eps c2).
            w[i] -= LR * m[i] * (c2 / c1) as f64 / (v[i].sqrt() + (eps * c2) as f64);
        }
        host.push(w.clone());
    }
    assert_path(&trained(Method::adam()), &host, "adam");
}

#[test]
fn stateful_methods_refuse_normalized_rules_and_other_geometries() {
    let (batch, model) = linear_model_at_zero();
    let config = TrainConfig {
        loss: Loss::Logistic,
        step_rule: StepRule::constant(StepRuleKind::InverseLoss, LR),
        steps: 1,
        geometry: LpGeometry::euclidean(),
        method: Method::adam(),
    };
    let err = Trainer::plain(model)
        .run(&batch, &config, &[], |_| Ok(()), |_| {})
        .unwrap_err();
    assert!(matches!(err, TrainError::Unsupported(_)), "{err}");
}
