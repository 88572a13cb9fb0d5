//! The structured and the per-example-gradient NTK agree in f32 too (to 1e-5 relative), the
//! precision NTK experiments run in, and so do the fused and the composed two-layer readout.
//! A separate test binary: the dtype is fixed per process.

mod common;

use burn::tensor::{Device, FloatDType};
use fdl_models::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn device() -> Device {
    common::flex_autodiff(FloatDType::F32)
}

#[test]
fn structured_and_generic_mlp_ntk_agree_in_f32() {
    let dev = device();
    let (n, d) = (8, 5);
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let x = common::gaussian(&mut rng, n * d);
    let t = tensor2_from_host(&x, n, d, &dev);
    let t2 = tensor2_from_host(&x[..3 * d], 3, d, &dev);
    let model = MlpConfig {
        input_dim: d,
        width: 64,
        hidden: 2,
        weight_std: 1.0,
        bias_std: 0.1,
    }
    .init(&mut rng, &dev);
    // One set with itself (one triangle per Gram) and two sets.
    for (a, b) in [(&t, &t), (&t, &t2)] {
        let structured = to_host(
            model
                .ntk_by_layer(a.clone(), b.clone())
                .0
                .flatten::<1>(0, 1),
        );
        let generic = empirical_ntk(&model, a.clone(), b.clone());
        common::assert_within_scale(&structured, &generic, 1e-5, "MLP NTK");
    }
}

#[test]
fn bit_counted_du_gram_agrees_with_per_example_gradients_in_f32() {
    let dev = device();
    let (n, d, m) = (7, 5, 200);
    let mut rng = ChaCha8Rng::seed_from_u64(22);
    let x = common::gaussian(&mut rng, n * d);
    let t = tensor2_from_host(&x, n, d, &dev);
    let net = TwoLayerConfig {
        input_dim: d,
        width: m,
        outer: OuterLayer::FixedSigns,
        scaling: Scaling::Ntk,
    }
    .init(&mut rng, &dev);
    let closed = to_host(net.ntk(t.clone(), t.clone()).flatten::<1>(0, 1));
    let generic = empirical_ntk(&net, t.clone(), t);
    common::assert_within_scale(&closed, &generic, 1e-5, "Du Gram");
}

#[test]
fn fused_and_composed_two_layer_gradients_agree_in_f32() {
    let dev = device();
    let (n, d, m) = (200, 20, 512);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x = common::gaussian(&mut rng, n * d);
    let c = common::gaussian(&mut rng, n);
    let x = tensor2_from_host(&x, n, d, &dev);
    let net = TwoLayerConfig {
        input_dim: d,
        width: m,
        outer: OuterLayer::Trained,
        scaling: Scaling::Ntk,
    }
    .init(&mut rng, &dev);
    assert!(fused::fused_readout_available(&x));
    let grads = |out: burn::tensor::Tensor<1>| {
        let g = (out.clone() * tensor1_from_host(&c, &dev)).sum().backward();
        let dw = to_host(net.inner.grad(&g).expect("dW").reshape([-1]));
        let da = to_host(
            net.outer
                .as_ref()
                .unwrap()
                .grad(&g)
                .expect("da")
                .reshape([-1]),
        );
        (to_host(out), dw, da)
    };
    let fused = grads(net.forward(x.clone()));
    let composed = grads(net.forward_composed(x).reshape([n]));
    for (f, c) in [
        (&fused.0, &composed.0),
        (&fused.1, &composed.1),
        (&fused.2, &composed.2),
    ] {
        common::assert_within_scale(f, c, 1e-5, "fused vs composed");
    }
}
