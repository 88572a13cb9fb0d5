//! The empirical NTK Gram matrix, next to the peer workload `ntk-gram` (W2) of shared/bench:
//! (a) Du et al.'s two-layer net, n = 1000, d = 100, m = 4096 (closed form); (b) the MLP
//! 100-512-512-1 in NTK parameterization (sigma_w = sigma_b = 1), N in {128, 1024}, structured
//! per-layer form. f32, inputs x ~ N(0, I); the Gram is read back to the host. On flex unless
//! `FDL_BENCH_DEVICE` names another backend (scripts/gpu-check.sh times cuda and wgpu).

use divan::Bencher;
use fdl_data::{gaussian_random_labels, rng_from_seed};
mod common;

use common::bench_device;
use fdl_lab::device::Precision;
use fdl_models::{MlpConfig, OuterLayer, Scaling, TwoLayerConfig, tensor2_from_host, to_host};

/// The allocator the `fdl` binary uses, so the timings are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

fn inputs(n: usize, d: usize) -> burn::tensor::Tensor<2> {
    let device = bench_device(Precision::F32);
    let data = gaussian_random_labels(n, d, &mut rng_from_seed(0));
    tensor2_from_host(data.x(), n, d, &device)
}

#[divan::bench(args = [128, 1024], sample_count = 10)]
fn mlp_512_structured(bencher: Bencher, n: usize) {
    let x = inputs(n, 100);
    let model = MlpConfig {
        input_dim: 100,
        width: 512,
        hidden: 2,
        weight_std: 1.0,
        bias_std: 1.0,
    }
    .init(&mut rng_from_seed(1), &x.device());
    bencher.bench_local(|| {
        to_host(
            model
                .ntk_by_layer(x.clone(), x.clone())
                .0
                .flatten::<1>(0, 1),
        )
    });
}

#[divan::bench(sample_count = 10)]
fn du_two_layer_closed_form(bencher: Bencher) {
    let x = inputs(1000, 100);
    let model = TwoLayerConfig {
        input_dim: 100,
        width: 4096,
        outer: OuterLayer::FixedSigns,
        scaling: Scaling::Ntk,
    }
    .init(&mut rng_from_seed(1), &x.device());
    bencher.bench_local(|| to_host(model.ntk(x.clone(), x.clone()).flatten::<1>(0, 1)));
}
