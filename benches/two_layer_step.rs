//! One full-batch gradient-descent step of Du et al.'s two-layer ReLU net on the square loss,
//! n = 1000, d = 100, m in {1024, 4096, 16384}, f32 and f64, next to the peer workload
//! `two-layer-gd` (W1) of shared/bench: unit-norm inputs, y ~ N(0, 1), a_r = +-1 fixed.
//!
//! Each iteration runs 5 steps through the same `Trainer` gd-global-min uses (forward, residual
//! weights, backward, update); time / 5 is the cost of one step. On flex the net's readout is
//! the fused operation of `fdl_models::fused` (one matrix product each way, the backward signal
//! built in place); `unfused_f32_5_steps` times the same steps through Burn's composed ops.
//! On flex unless `FDL_BENCH_DEVICE` names another backend (scripts/gpu-check.sh times cuda, wgpu).

use burn::module::Module;
use burn::tensor::Tensor;
use divan::Bencher;
use divan::counter::ItemsCount;
use fdl_data::{rng_from_seed, sphere_gaussian_targets};
mod common;

use common::bench_device;
use fdl_lab::device::Precision;
use fdl_models::{
    OuterLayer, ScalarModel, Scaling, TwoLayer, TwoLayerConfig, tensor1_from_host,
    tensor2_from_host,
};
use fdl_optim::{Batch, Loss, LpGeometry, Method, StepRule, StepRuleKind, TrainConfig, Trainer};

/// The allocator the `fdl` binary uses, so the timings are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const N: usize = 1000;
const D: usize = 100;
const STEPS: usize = 5;

fn main() {
    divan::main();
}

/// The same net through Burn's composed ops: the path every backend but flex takes.
#[derive(Module, Debug)]
struct Composed {
    net: TwoLayer,
}

impl ScalarModel for Composed {
    fn forward(&self, x: Tensor<2>) -> Tensor<1> {
        let n = x.dims()[0];
        self.net.forward_composed(x).reshape([n])
    }
}

fn steps<M: ScalarModel>(
    bencher: Bencher,
    width: usize,
    dtype: Precision,
    wrap: impl FnOnce(TwoLayer) -> M,
) {
    // The dtype is fixed once per process; run f32 and f64 as separate invocations
    // (`cargo bench --bench two_layer_step -- f32`).
    let device = bench_device(dtype);
    let data = sphere_gaussian_targets(N, D, &mut rng_from_seed(0));
    let batch = Batch {
        x: tensor2_from_host(data.x(), N, D, &device),
        y: tensor1_from_host(data.y(), &device),
    };
    let model = TwoLayerConfig {
        input_dim: D,
        width,
        outer: OuterLayer::FixedSigns,
        scaling: Scaling::Ntk,
    }
    .init(&mut rng_from_seed(1), &device);
    let config = TrainConfig {
        loss: Loss::Square,
        step_rule: StepRule::constant(StepRuleKind::Fixed, 1e-3),
        steps: STEPS,
        geometry: LpGeometry::euclidean(),
        method: Method::Steepest,
    };
    let mut trainer = Trainer::plain(wrap(model));
    bencher.counter(ItemsCount::new(STEPS)).bench_local(|| {
        trainer
            .run(&batch, &config, &[], |_| Ok(()), |_| {})
            .expect("finite");
    });
}

#[divan::bench(args = [1024, 4096, 16384], sample_count = 10)]
fn f32_5_steps(bencher: Bencher, width: usize) {
    steps(bencher, width, Precision::F32, |net| net);
}

#[divan::bench(args = [1024, 4096, 16384], sample_count = 10)]
fn f64_5_steps(bencher: Bencher, width: usize) {
    steps(bencher, width, Precision::F64, |net| net);
}

#[divan::bench(args = [1024, 4096], sample_count = 10)]
fn unfused_f32_5_steps(bencher: Bencher, width: usize) {
    steps(bencher, width, Precision::F32, |net| Composed { net });
}
