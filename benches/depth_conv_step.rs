//! One full-batch training step of a depth-L linear conv net, f64, next to the peer workload
//! `depth-conv` (W3) of shared/bench: N = 8, x ~ N(0, I), y = +-1, w_l ~ N(0, I/D),
//! theta <- theta - 0.02 g / ||g|| (global norm) on the exponential loss.
//!
//! Each iteration runs 10^4 steps through the same `Trainer` the experiments use (forward,
//! stable softmax weights, backward, global norms, update), as the peer's `lax.fori_loop` runs
//! 10^4 steps per call: a run's set-up is amortized the same way on both sides. divan's
//! throughput column is steps per second, and time / 10^4 is the cost of one step. LinearConv
//! has a host program, so f64 steps run on the host (`autodiff` rows: through Burn's autodiff,
//! 100 steps per iteration).

use burn::tensor::Device;
use divan::Bencher;
use divan::counter::ItemsCount;
use fdl_data::{gaussian_random_labels, rng_from_seed};
use fdl_lab::device::{BackendKind, Precision, init_device};
use fdl_models::{LinearConv, LinearConvConfig, tensor1_from_host, tensor2_from_host};
use fdl_optim::{Batch, Loss, LpGeometry, Method, StepRule, StepRuleKind, TrainConfig, Trainer};

/// The allocator the `fdl` binary uses, so the timings are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const N: usize = 8;
const STEPS: usize = 10_000;
/// Steps per iteration through Burn's autodiff (100x slower per step).
const AUTODIFF_STEPS: usize = 100;

fn main() {
    divan::main();
}

fn device() -> Device {
    init_device(BackendKind::Flex, Precision::F64).expect("f64 on flex")
}

fn setup(dim: usize, depth: usize) -> (Trainer<LinearConv>, Batch) {
    let device = device();
    let data = gaussian_random_labels(N, dim, &mut rng_from_seed(0));
    let batch = Batch {
        x: tensor2_from_host(data.x(), N, dim, &device),
        y: tensor1_from_host(data.y(), &device),
    };
    let init_std = 1.0 / (dim as f64).sqrt();
    let model = LinearConvConfig {
        input_dim: dim,
        depth,
        init_std,
    }
    .init(&mut rng_from_seed(1), &device);
    (Trainer::scaled(model), batch)
}

/// Normalized GD with fixed-length steps (the peer's rule) for `steps` steps per iteration.
fn bench_steps(bencher: Bencher, dim: usize, depth: usize, steps: usize, autodiff: bool) {
    let (mut trainer, batch) = setup(dim, depth);
    if autodiff {
        trainer = trainer.autodiff_only();
    }
    let config = TrainConfig {
        loss: Loss::Exponential,
        step_rule: StepRule::constant(StepRuleKind::FixedLength, 0.02),
        steps,
        geometry: LpGeometry::euclidean(),
        method: Method::Steepest,
    };
    bencher.counter(ItemsCount::new(steps)).bench_local(|| {
        trainer
            .run(&batch, &config, &[], |_| Ok(()), |_| {})
            .expect("finite");
    });
}

#[divan::bench(consts = [16, 64], args = [1, 2, 3, 4], sample_count = 20)]
fn depth_conv_steps<const D: usize>(bencher: Bencher, depth: usize) {
    bench_steps(bencher, D, depth, STEPS, false);
}

#[divan::bench(consts = [16, 64], args = [1, 2, 3, 4], sample_count = 20)]
fn depth_conv_autodiff_100_steps<const D: usize>(bencher: Bencher, depth: usize) {
    bench_steps(bencher, D, depth, AUTODIFF_STEPS, true);
}
