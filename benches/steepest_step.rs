//! One step of l_inf (sign) and l_1 (greedy coordinate) steepest descent on logistic regression,
//! n = d = 1000, f64, next to the peer workload `steepest-lp` (W4) of shared/bench:
//! x ~ N(0, I), y = sign(<x, w*>), logistic loss, w <- w - eta ||g||_q u with the global l_p
//! steepest direction u.
//!
//! Each iteration runs 1000 steps through the same `Trainer` the experiments use (forward,
//! stable softmax weights, backward, the steepest direction over the whole parameter vector,
//! update), as the peer's `lax.fori_loop` runs 1000 steps per call. A linear model has a host
//! program, so the steps run on the host with both matrix-vector products on every core.
//! divan's throughput column is steps per second, and time / 1000 is the cost of one step.

use burn::tensor::Device;
use divan::Bencher;
use divan::counter::ItemsCount;
use fdl_lab::device::{BackendKind, Precision, init_device};
use fdl_models::{DeepLinear, DeepLinearConfig, tensor1_from_host, tensor2_from_host};
use fdl_optim::{
    Batch, Loss, LpGeometry, Method, NormScope, StepRule, StepRuleKind, TrainConfig, Trainer,
};
use rand::Rng;
use rand_distr::StandardNormal;

/// The allocator the `fdl` binary uses, so the timings are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const N: usize = 1000;
const D: usize = 1000;
const STEPS: usize = 1000;

fn main() {
    divan::main();
}

fn device() -> Device {
    init_device(BackendKind::Flex, Precision::F64).expect("f64 on flex")
}

/// W4's data: Gaussian inputs labelled by a Gaussian planted predictor (separable).
fn setup() -> (Trainer<DeepLinear>, Batch) {
    let device = device();
    let mut rng = fdl_data::rng_from_seed(0);
    let x: Vec<f64> = (0..N * D).map(|_| rng.sample(StandardNormal)).collect();
    let w_star: Vec<f64> = (0..D).map(|_| rng.sample(StandardNormal)).collect();
    let y: Vec<f64> = x
        .chunks(D)
        .map(|r| {
            let s: f64 = r.iter().zip(&w_star).map(|(a, b)| a * b).sum();
            if s >= 0.0 { 1.0 } else { -1.0 }
        })
        .collect();
    let batch = Batch {
        x: tensor2_from_host(&x, N, D, &device),
        y: tensor1_from_host(&y, &device),
    };
    let model = DeepLinearConfig {
        input_dim: D,
        depth: 1,
        width: 1,
        init_std: 0.0,
    }
    .init(&mut rng, &device);
    (Trainer::plain(model), batch)
}

/// W4's steps on the mean loss: eta = 1e-3 for l_inf, 1 for l_1 (the trainer sums the loss, so
/// eta / n), `steps` per iteration.
fn bench_steps(bencher: Bencher, norm: &str, steps: usize, autodiff: bool) {
    let (mut trainer, batch) = setup();
    if autodiff {
        trainer = trainer.autodiff_only();
    }
    let (p, eta) = match norm {
        "linf" => (f64::INFINITY, 1e-3),
        _ => (1.0, 1.0),
    };
    let config = TrainConfig {
        loss: Loss::Logistic,
        step_rule: StepRule::constant(StepRuleKind::Fixed, eta / N as f64),
        steps,
        geometry: LpGeometry {
            p,
            scope: NormScope::Global,
        },
        method: Method::Steepest,
    };
    bencher.counter(ItemsCount::new(steps)).bench_local(|| {
        trainer
            .run(&batch, &config, &[], |_| Ok(()), |_| {})
            .expect("finite");
    });
}

#[divan::bench(args = ["linf", "l1"], sample_count = 10)]
fn steepest_steps(bencher: Bencher, norm: &str) {
    bench_steps(bencher, norm, STEPS, false);
}

/// The same through Burn's autodiff (20 steps per iteration).
#[divan::bench(args = ["linf", "l1"], sample_count = 20)]
fn steepest_autodiff_20_steps(bencher: Bencher, norm: &str) {
    bench_steps(bencher, norm, 20, true);
}
