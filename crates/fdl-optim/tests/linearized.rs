//! The generic linearization (`fdl_models::Linearized`, a materialized Jacobian) trained by the
//! trainer follows the hand-written tangent maps step for step: both are the same linear model
//! in the same parameters, so gradient descent moves them identically (to rounding).

mod common;

use common::device;

use burn::tensor::Tensor;
use fdl_models::{
    Linearized, LinearizedMlp, LinearizedTwoLayer, MlpConfig, OuterLayer, ScalarModel, Scaling,
    TwoLayerConfig, tensor1_from_host, tensor2_from_host, to_host,
};
use fdl_optim::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Outputs agree to this after training (relative to the outputs' size), in f64.
const AGREEMENT: f64 = 1e-10;
const STEPS: usize = 200;

fn normal(len: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| StandardNormal.sample(&mut rng)).collect()
}

/// Trains `model` on `batch` by gradient descent on the square loss; its outputs on `test`.
fn trained<M: ScalarModel>(model: M, batch: &Batch, test: &Tensor<2>) -> (Vec<f64>, Vec<f64>) {
    let config = TrainConfig {
        loss: Loss::Square,
        step_rule: StepRule::constant(StepRuleKind::Fixed, 0.05),
        steps: STEPS,
        geometry: LpGeometry::euclidean(),
        method: Method::Steepest,
    };
    let mut trainer = Trainer::plain(model);
    trainer
        .run(batch, &config, &[], |_| Ok(()), |_| {})
        .expect("finite");
    (
        to_host(trainer.model().forward(batch.x.clone())),
        to_host(trainer.model().forward(test.clone())),
    )
}

fn assert_close(a: &[f64], b: &[f64], what: &str) {
    let scale = 1.0 + a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let gap = a
        .iter()
        .zip(b)
        .map(|(u, v)| (u - v).abs())
        .fold(0.0, f64::max);
    assert!(gap <= AGREEMENT * scale, "{what}: gap {gap:.3e}");
}

/// Trains the hand-written and the generic linearization from the same start and compares.
fn assert_trained_alike<M: ScalarModel, L: ScalarModel>(net: &M, hand: L, what: &str) {
    let dev = device();
    let (n, t, d) = (10, 6, 4);
    let batch = Batch {
        x: tensor2_from_host(&normal(n * d, 1), n, d, &dev),
        y: tensor1_from_host(&normal(n, 2), &dev),
    };
    let test = tensor2_from_host(&normal(t * d, 3), t, d, &dev);
    let generic = Linearized::around(net, &[&batch.x, &test]);
    let (hand_train, hand_test) = trained(hand, &batch, &test);
    let (gen_train, gen_test) = trained(generic, &batch, &test);
    assert_close(&hand_train, &gen_train, &format!("{what}, training points"));
    assert_close(&hand_test, &gen_test, &format!("{what}, test points"));
    // Training moved them: the test is not comparing two starting points.
    let start = to_host(net.forward(test.clone()));
    let moved = start
        .iter()
        .zip(&hand_test)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(moved > 1e-3, "{what}: training barely moved ({moved:.2e})");
}

#[test]
fn generic_and_hand_written_linearizations_train_alike() {
    let dev = device();
    for outer in [OuterLayer::FixedSigns, OuterLayer::Trained] {
        let net = TwoLayerConfig {
            input_dim: 4,
            width: 16,
            outer,
            scaling: Scaling::Ntk,
        }
        .init(&mut ChaCha8Rng::seed_from_u64(4), &dev);
        let hand = LinearizedTwoLayer::around(&net);
        assert_trained_alike(&net, hand, &format!("two-layer {outer:?}"));
    }
    let mlp = MlpConfig {
        input_dim: 4,
        width: 12,
        hidden: 2,
        weight_std: 1.4,
        bias_std: 0.3,
    }
    .init(&mut ChaCha8Rng::seed_from_u64(5), &dev);
    assert_trained_alike(&mlp, LinearizedMlp::around(&mlp), "mlp");
}
