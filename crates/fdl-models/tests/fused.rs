//! The fused two-layer readout (flex) against the same nets composed from Burn's generic ops:
//! outputs and the gradients with respect to W, a and x, for contiguous and strided inputs, one
//! output (`TwoLayer`) and several (`ReluNet`).

mod common;
use common::normal;

use burn::tensor::{Device, FloatDType, Tensor};
use fdl_models::fused::fused_readout_available;
use fdl_models::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn device() -> Device {
    common::flex_autodiff(FloatDType::F64)
}

fn net(d: usize, m: usize, outer: OuterLayer, scaling: Scaling) -> TwoLayer {
    TwoLayerConfig {
        input_dim: d,
        width: m,
        outer,
        scaling,
    }
    .init(&mut ChaCha8Rng::seed_from_u64(3), &device())
}

fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |s, v| s.max(v.abs())).max(1e-300);
    a.iter()
        .zip(b)
        .fold(0.0f64, |s, (x, y)| s.max((x - y).abs()))
        / scale
}

/// Outputs and gradients of `sum_n c_n f(x_n)` (W, a when trained, x) by one forward rule.
fn outputs_and_grads(
    net: &TwoLayer,
    x: Tensor<2>,
    c: &[f64],
    fused: bool,
) -> (Vec<f64>, Vec<f64>, Option<Vec<f64>>, Vec<f64>) {
    let x = x.require_grad();
    let n = x.dims()[0];
    let out = if fused {
        assert!(fused_readout_available(&x), "flex runs the fused readout");
        net.forward(x.clone())
    } else {
        net.forward_composed(x.clone()).reshape([n])
    };
    let grads = (out.clone() * tensor1_from_host(c, &device()))
        .sum()
        .backward();
    let dw = to_host(net.inner.grad(&grads).expect("dW").reshape([-1]));
    let da = net
        .outer
        .as_ref()
        .map(|a| to_host(a.grad(&grads).expect("da").reshape([-1])));
    let dx = to_host(x.grad(&grads).expect("dx").reshape([-1]));
    (to_host(out), dw, da, dx)
}

fn assert_fused_matches_composed(net: &TwoLayer, x: Tensor<2>) {
    let n = x.dims()[0];
    let c = normal(n, 11);
    let fused = outputs_and_grads(net, x.clone(), &c, true);
    let composed = outputs_and_grads(net, x, &c, false);
    assert!(max_rel_diff(&fused.0, &composed.0) < 1e-12, "outputs");
    assert!(max_rel_diff(&fused.1, &composed.1) < 1e-12, "dW");
    match (&fused.2, &composed.2) {
        (Some(f), Some(c)) => assert!(max_rel_diff(f, c) < 1e-12, "da"),
        (None, None) => {}
        _ => panic!("a has a gradient in one rule only"),
    }
    assert!(max_rel_diff(&fused.3, &composed.3) < 1e-12, "dx");
}

#[test]
fn fused_readout_equals_the_composed_net_for_every_parameterization() {
    // The second size is large enough for the matrix products to split across threads.
    for (n, d, m) in [(37, 6, 45), (71, 9, 613)] {
        let x = tensor2_from_host(&normal(n * d, 1), n, d, &device());
        for outer in [OuterLayer::FixedSigns, OuterLayer::Trained] {
            for scaling in [Scaling::Ntk, Scaling::Standard] {
                assert_fused_matches_composed(&net(d, m, outer, scaling), x.clone());
            }
        }
    }
}

#[test]
fn fused_readout_reads_strided_inputs() {
    let (n, d, m) = (20, 4, 33);
    // x as the transpose of a [d, n] tensor and W as the transpose of an [m, d] one: views
    // with column-major strides, no copies.
    let x = tensor2_from_host(&normal(n * d, 2), d, n, &device()).transpose();
    let w = tensor2_from_host(&normal(m * d, 4), m, d, &device()).transpose();
    let a = tensor2_from_host(&normal(m, 5), m, 1, &device());
    let net = TwoLayer::from_weights(w, a, OuterLayer::Trained, 0.3);
    assert_fused_matches_composed(&net, x);
}

#[test]
fn fused_readout_handles_a_dead_layer_and_a_single_example() {
    let (d, m) = (3, 8);
    // Every pre-activation negative: zero output, zero gradients, as relu's derivative at <= 0.
    let w = Tensor::<2>::ones([d, m], &device()) * -1.0;
    let a = tensor2_from_host(&normal(m, 6), m, 1, &device());
    let net = TwoLayer::from_weights(w, a, OuterLayer::Trained, 1.0);
    let x = Tensor::<2>::ones([1, d], &device());
    assert_fused_matches_composed(&net, x.clone());
    let (out, dw, _, _) = outputs_and_grads(&net, x, &[1.0], true);
    assert_eq!(out, vec![0.0]);
    assert!(dw.iter().all(|&v| v == 0.0));
}

#[test]
fn a_nan_pre_activation_stays_nan_as_on_the_composed_path() {
    let (d, m) = (3, 5);
    let net = net(d, m, OuterLayer::FixedSigns, Scaling::Ntk);
    let x = tensor2_from_host(&[1.0, f64::NAN, 0.5, 0.2, 0.1, -0.3], 2, d, &device());
    let fused = to_host(net.forward(x.clone()));
    let composed = to_host(net.forward_composed(x).reshape([2]));
    assert!(
        fused[0].is_nan() && composed[0].is_nan(),
        "{fused:?} {composed:?}"
    );
    assert!((fused[1] - composed[1]).abs() < 1e-12);
}

#[test]
fn fused_readout_with_several_outputs_equals_the_composed_relu_net() {
    for (n, d, m, k) in [(23, 5, 17, 3), (64, 9, 600, 10)] {
        let net = ReluNetConfig {
            input_dim: d,
            width: m,
            outputs: k,
        }
        .init(&mut ChaCha8Rng::seed_from_u64(8), &device());
        let x = tensor2_from_host(&normal(n * d, 9), n, d, &device());
        let c = tensor2_from_host(&normal(n * k, 10), n, k, &device());
        let run = |fused: bool| {
            let x = x.clone().require_grad();
            let out = if fused {
                net.logits(x.clone())
            } else {
                net.logits_composed(x.clone())
            };
            let grads = (out.clone() * c.clone()).sum().backward();
            let flat = |t: Tensor<2>| to_host(t.reshape([-1]));
            [
                flat(out),
                flat(net.inner.grad(&grads).expect("dU")),
                flat(net.outer.grad(&grads).expect("dA")),
                flat(x.grad(&grads).expect("dx")),
            ]
        };
        let (fused, composed) = (run(true), run(false));
        for (what, (f, c)) in ["logits", "dU", "dA", "dx"]
            .iter()
            .zip(fused.iter().zip(&composed))
        {
            assert!(max_rel_diff(f, c) < 1e-12, "{what} at k = {k}");
        }
    }
}
