//! The generic linearization (`fdl_models::Linearized`: the Jacobian materialized from
//! per-example gradients) against the hand-written tangent map of the MLP (`LinearizedMlp`), at
//! lazy-drift's size: d = 16, two hidden layers of width 256, 128 training and 128 test points,
//! f32 (lazy-drift's precision). `build` times constructing the linearization (for the generic
//! one, 256 backward passes); `steps` times 20 full-batch gradient-descent steps through the
//! same `Trainer` lazy-drift uses.

use burn::tensor::Tensor;
use divan::Bencher;
use fdl_data::{gaussian_random_labels, rng_from_seed};
use fdl_lab::device::{BackendKind, Precision, init_device};
use fdl_models::{
    Linearized, LinearizedMlp, Mlp, MlpConfig, ScalarModel, tensor1_from_host, tensor2_from_host,
};
use fdl_optim::{Batch, Loss, LpGeometry, Method, StepRule, StepRuleKind, TrainConfig, Trainer};

/// The allocator the `fdl` binary uses, so the timings are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const N: usize = 128;
const D: usize = 16;
const WIDTH: usize = 256;
const STEPS: usize = 20;

fn main() {
    divan::main();
}

/// The net, its training batch and the test inputs.
fn setup() -> (Mlp, Batch, Tensor<2>) {
    let device = init_device(BackendKind::Flex, Precision::F32).expect("flex device");
    let data = gaussian_random_labels(2 * N, D, &mut rng_from_seed(0));
    let batch = Batch {
        x: tensor2_from_host(&data.x()[..N * D], N, D, &device),
        y: tensor1_from_host(&data.y()[..N], &device),
    };
    let test = tensor2_from_host(&data.x()[N * D..], N, D, &device);
    let net = MlpConfig {
        input_dim: D,
        width: WIDTH,
        hidden: 2,
        weight_std: 1.0,
        bias_std: 0.1,
    }
    .init(&mut rng_from_seed(1), &device);
    (net, batch, test)
}

fn steps<M: ScalarModel>(bencher: Bencher, model: M, batch: &Batch) {
    let config = TrainConfig {
        loss: Loss::Square,
        step_rule: StepRule::constant(StepRuleKind::Fixed, 1.0 / N as f64),
        steps: STEPS,
        geometry: LpGeometry::euclidean(),
        method: Method::Steepest,
    };
    let mut trainer = Trainer::plain(model);
    bencher.bench_local(|| {
        trainer
            .run(batch, &config, &[], |_| Ok(()), |_| {})
            .expect("finite");
    });
}

#[divan::bench(sample_count = 5)]
fn build_hand_written(bencher: Bencher) {
    let (net, _, _) = setup();
    bencher.bench_local(|| LinearizedMlp::around(&net));
}

#[divan::bench(sample_count = 5)]
fn build_generic(bencher: Bencher) {
    let (net, batch, test) = setup();
    bencher.bench_local(|| Linearized::around(&net, &[&batch.x, &test]));
}

#[divan::bench(sample_count = 5)]
fn steps_hand_written(bencher: Bencher) {
    let (net, batch, _) = setup();
    steps(bencher, LinearizedMlp::around(&net), &batch);
}

#[divan::bench(sample_count = 5)]
fn steps_generic(bencher: Bencher) {
    let (net, batch, test) = setup();
    steps(
        bencher,
        Linearized::around(&net, &[&batch.x, &test]),
        &batch,
    );
}
