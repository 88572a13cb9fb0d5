//! The generic linearization (Jacobian from per-example gradients) against the hand-written
//! tangent maps, the exported linearization check on every architecture, and the check's own
//! negative controls.

mod common;

use burn::tensor::{Device, FloatDType, Tensor};
use fdl_models::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Outputs and kernels agree to this (relative) between the generic and the hand-written maps.
const AGREEMENT: f64 = 1e-10;
/// The input width of every test model.
const DIM: usize = 3;

fn device() -> Device {
    common::flex_autodiff(FloatDType::F64)
}

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `[n, d]` standard normal inputs.
fn inputs(n: usize, d: usize, seed: u64) -> Tensor<2> {
    let mut r = rng(seed);
    let x = common::gaussian(&mut r, n * d);
    tensor2_from_host(&x, n, d, &device())
}

fn max_gap(a: &[f64], b: &[f64]) -> f64 {
    let scale = 1.0 + a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .map(|(u, v)| (u - v).abs())
        .fold(0.0, f64::max)
        / scale
}

/// The generic linearization around `net`, materialized on `x` and `x_test`, agrees with the
/// hand-written `hand` on both: outputs at the start and the tangent kernel.
fn assert_generic_equals<M: ScalarModel, L: ScalarModel>(net: &M, hand: &L, what: &str) {
    let (x, x_test) = (inputs(6, DIM, 1), inputs(4, DIM, 2));
    let generic = Linearized::around(net, &[&x, &x_test]);
    for t in [&x, &x_test] {
        let gap = max_gap(
            &to_host(hand.forward(t.clone())),
            &to_host(generic.forward(t.clone())),
        );
        assert!(gap < AGREEMENT, "{what}: outputs differ by {gap:.3e}");
    }
    let gap = max_gap(
        &empirical_ntk(hand, x.clone(), x_test.clone()),
        &empirical_ntk(&generic, x, x_test),
    );
    assert!(
        gap < AGREEMENT,
        "{what}: tangent kernels differ by {gap:.3e}"
    );
}

#[test]
fn generic_linearization_equals_the_hand_written_two_layer_mlp_and_diagonal_maps() {
    for outer in [OuterLayer::FixedSigns, OuterLayer::Trained] {
        for scaling in [Scaling::Ntk, Scaling::Standard] {
            let net = TwoLayerConfig {
                input_dim: DIM,
                width: 8,
                outer,
                scaling,
            }
            .init(&mut rng(3), &device());
            let hand = LinearizedTwoLayer::around(&net);
            assert_generic_equals(&net, &hand, &format!("two-layer {outer:?} {scaling:?}"));
        }
    }
    let mlp = MlpConfig {
        input_dim: DIM,
        width: 7,
        hidden: 2,
        weight_std: 1.4,
        bias_std: 0.3,
    }
    .init(&mut rng(4), &device());
    assert_generic_equals(&mlp, &LinearizedMlp::around(&mlp), "mlp");
    for depth in [2, 3] {
        let diag = DiagonalNetConfig {
            input_dim: DIM,
            depth,
            alpha: 0.7,
        }
        .init(&device());
        let hand = LinearizedDiagonal::around(&diag);
        assert_generic_equals(&diag, &hand, &format!("diagonal D = {depth}"));
    }
}

#[test]
fn every_linearization_passes_the_exported_check() {
    let x = inputs(5, DIM, 5);
    let net = TwoLayerConfig {
        input_dim: DIM,
        width: 6,
        outer: OuterLayer::Trained,
        scaling: Scaling::Ntk,
    }
    .init(&mut rng(6), &device());
    let conv = LinearConvConfig {
        input_dim: DIM,
        depth: 3,
        init_std: 0.5,
    }
    .init(&mut rng(7), &device());
    let deep = DeepLinearConfig {
        input_dim: DIM,
        depth: 3,
        width: 4,
        init_std: 0.5,
    }
    .init(&mut rng(8), &device());
    let checks = [
        (
            "two-layer, hand-written",
            check_linearization(
                &net,
                &LinearizedTwoLayer::around(&net),
                x.clone(),
                AGREEMENT,
            ),
        ),
        (
            "two-layer, generic",
            check_linearization(&net, &Linearized::around(&net, &[&x]), x.clone(), AGREEMENT),
        ),
        (
            "linear conv (no hand-written map), generic",
            check_linearization(
                &conv,
                &Linearized::around(&conv, &[&x]),
                x.clone(),
                AGREEMENT,
            ),
        ),
        (
            "deep linear (no hand-written map), generic",
            check_linearization(
                &deep,
                &Linearized::around(&deep, &[&x]),
                x.clone(),
                AGREEMENT,
            ),
        ),
    ];
    for (what, check) in checks {
        let check = check.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            check.second_order_ratio > 0.0 && check.second_order_ratio < 0.03,
            "{what}: {check:?}"
        );
    }
}

#[test]
fn the_check_rejects_a_network_posing_as_its_own_linearization() {
    let x = inputs(5, DIM, 9);
    let net = TwoLayerConfig {
        input_dim: DIM,
        width: 6,
        outer: OuterLayer::Trained,
        scaling: Scaling::Ntk,
    }
    .init(&mut rng(10), &device());
    let err = check_linearization(&net, &net.clone(), x, AGREEMENT).unwrap_err();
    assert!(err.contains("not linear in its parameters"), "{err}");
}

#[test]
fn the_check_rejects_a_linearization_around_other_weights() {
    let x = inputs(5, DIM, 11);
    let config = TwoLayerConfig {
        input_dim: DIM,
        width: 6,
        outer: OuterLayer::FixedSigns,
        scaling: Scaling::Ntk,
    };
    let (net, other) = (
        config.init(&mut rng(12), &device()),
        config.init(&mut rng(13), &device()),
    );
    let err =
        check_linearization(&net, &LinearizedTwoLayer::around(&other), x, AGREEMENT).unwrap_err();
    assert!(err.contains("at the start"), "{err}");
}

#[test]
#[should_panic(expected = "is not among the 4 inputs the Jacobian was materialized on")]
fn an_input_the_jacobian_was_not_built_on_is_refused_by_name() {
    let net = DeepLinearConfig {
        input_dim: DIM,
        depth: 2,
        width: 3,
        init_std: 0.5,
    }
    .init(&mut rng(14), &device());
    let lin = Linearized::around(&net, &[&inputs(4, DIM, 15)]);
    lin.forward(inputs(2, DIM, 16));
}

#[test]
fn the_check_rejects_a_permuted_jacobian_and_a_missing_parameter() {
    let x = inputs(5, DIM, 17);
    let net = TwoLayerConfig {
        input_dim: DIM,
        width: 6,
        outer: OuterLayer::Trained,
        scaling: Scaling::Ntk,
    }
    .init(&mut rng(18), &device());
    // Swapping two parameters' columns leaves the outputs and the NTK (J J^T) unchanged.
    let mut lin = Linearized::around(&net, &[&x]);
    let (n, p) = (lin.jacobian.dims()[0], lin.jacobian.dims()[1]);
    let mut j = to_host(lin.jacobian.clone());
    for row in j.chunks_mut(p) {
        row.swap(0, 1);
    }
    lin.jacobian = tensor2_from_host(&j, n, p, &device());
    let err = check_linearization(&net, &lin, x.clone(), AGREEMENT).unwrap_err();
    assert!(err.contains("Jacobians"), "{err}");
    // A linearization with the outer layer frozen has fewer parameters than the net.
    let frozen = TwoLayerConfig {
        outer: OuterLayer::FixedSigns,
        input_dim: DIM,
        width: 6,
        scaling: Scaling::Ntk,
    }
    .init(&mut rng(18), &device());
    let err =
        check_linearization(&net, &LinearizedTwoLayer::around(&frozen), x, AGREEMENT).unwrap_err();
    assert!(err.contains("parameters"), "{err}");
}
