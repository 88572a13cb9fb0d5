//! Mini-batch SGD through the trainer: a batch of every example per epoch is gradient descent
//! exactly, the draws depend only on the seed, and the expected stochastic step is the GD step.

mod common;

use common::device;

use burn::tensor::Device;
use fdl_models::{
    DeepLinearConfig, LinearPredictor, tensor1_from_host, tensor2_from_host, to_host,
};
use fdl_optim::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const N: usize = 12;
const D: usize = 4;

fn batch(dev: &Device) -> Batch {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let x: Vec<f64> = (0..N * D)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let y: Vec<f64> = (0..N)
        .map(|n| if n % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    Batch {
        x: tensor2_from_host(&x, N, D, dev),
        y: tensor1_from_host(&y, dev),
    }
}

/// The linear predictor after `steps` steps of logistic-loss descent from a fixed start.
fn trained(sampling: Sampling, steps: usize, eta: f64) -> Vec<f64> {
    let dev = device();
    let model = DeepLinearConfig {
        input_dim: D,
        depth: 1,
        width: 1,
        init_std: 0.3,
    }
    .init(&mut ChaCha8Rng::seed_from_u64(2), &dev);
    let config = TrainConfig {
        loss: Loss::Logistic,
        step_rule: StepRule::constant(StepRuleKind::Fixed, eta),
        steps,
        geometry: LpGeometry::euclidean(),
        method: Method::Steepest,
    };
    let mut trainer = Trainer::plain(model).sampled(sampling);
    trainer
        .run(&batch(&dev), &config, &[], |_| Ok(()), |_| {})
        .expect("finite");
    to_host(trainer.model().effective_predictor())
}

#[test]
fn one_batch_of_every_example_per_epoch_is_gradient_descent_exactly() {
    let gd = trained(Sampling::Full, 50, 0.1);
    let epochs = trained(Sampling::Epochs { batch: N, seed: 9 }, 50, 0.1);
    assert_eq!(gd, epochs);
    let sgd = trained(Sampling::Epochs { batch: 3, seed: 9 }, 50, 0.1);
    assert_ne!(gd, sgd, "smaller batches take other steps");
}

#[test]
fn a_run_depends_only_on_its_seed() {
    let a = trained(Sampling::WithReplacement { batch: 2, seed: 4 }, 30, 0.1);
    assert_eq!(
        a,
        trained(Sampling::WithReplacement { batch: 2, seed: 4 }, 30, 0.1)
    );
    assert_ne!(
        a,
        trained(Sampling::WithReplacement { batch: 2, seed: 5 }, 30, 0.1)
    );
}

#[test]
fn the_expected_stochastic_step_is_the_gradient_step() {
    // One step from the same start: w_1 is affine in the step's weights, so over seeds the mean
    // of w_1 tends to the GD step. Each coordinate's mean must be within 4 standard errors
    // (estimated from the same draws) of GD's; a wrong N / |B| factor would be off by 90%.
    let gd = trained(Sampling::Full, 1, 0.1);
    let draws = 4000;
    let runs: Vec<Vec<f64>> = (0..draws)
        .map(|seed| trained(Sampling::WithReplacement { batch: 1, seed }, 1, 0.1))
        .collect();
    for i in 0..D {
        let values: Vec<f64> = runs.iter().map(|w| w[i]).collect();
        let mean = values.iter().sum::<f64>() / draws as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (draws - 1) as f64;
        let se = (var / draws as f64).sqrt();
        assert!(
            (mean - gd[i]).abs() < 4.0 * se,
            "coordinate {i}: mean {mean:.5} vs GD {:.5} (standard error {se:.2e})",
            gd[i]
        );
        assert!(se > 0.0, "the draws differ");
    }
}

#[test]
fn mini_batches_work_in_the_scaled_parameterization_and_any_geometry() {
    let dev = device();
    let run = |sampling: Sampling| {
        let model = DeepLinearConfig {
            input_dim: D,
            depth: 2,
            width: 3,
            init_std: 0.3,
        }
        .init(&mut ChaCha8Rng::seed_from_u64(2), &dev);
        let config = TrainConfig {
            loss: Loss::Exponential,
            step_rule: StepRule::constant(StepRuleKind::Relative, 0.01),
            steps: 40,
            geometry: LpGeometry {
                p: f64::INFINITY,
                scope: NormScope::Global,
            },
            method: Method::Steepest,
        };
        let mut trainer = Trainer::scaled(model).sampled(sampling);
        trainer
            .run(&batch(&dev), &config, &[], |_| Ok(()), |_| {})
            .expect("finite");
        (
            to_host(trainer.model().effective_predictor()),
            trainer.ln_scale(),
        )
    };
    assert_eq!(
        run(Sampling::Full),
        run(Sampling::Epochs { batch: N, seed: 1 })
    );
    assert_ne!(
        run(Sampling::Full),
        run(Sampling::Epochs { batch: 4, seed: 1 })
    );
}
