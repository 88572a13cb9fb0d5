//! The two-layer ReLU net and the empirical NTK: forward pass against the formula, the closed-form
//! NTK against per-example gradients, and a wide net's H(0) against Du et al.'s H_inf.

mod common;

use burn::tensor::{Device, FloatDType};
use fdl_models::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn device() -> Device {
    common::flex_autodiff(FloatDType::F64)
}

/// n points on the unit sphere in R^d.
fn sphere(n: usize, d: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = common::gaussian(&mut rng, n * d);
    for row in x.chunks_mut(d) {
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        row.iter_mut().for_each(|v| *v /= norm);
    }
    x
}

fn net(d: usize, m: usize, outer: OuterLayer, seed: u64) -> TwoLayer {
    net_scaled(d, m, outer, Scaling::Ntk, seed)
}

fn net_scaled(d: usize, m: usize, outer: OuterLayer, scaling: Scaling, seed: u64) -> TwoLayer {
    TwoLayerConfig {
        input_dim: d,
        width: m,
        outer,
        scaling,
    }
    .init(&mut ChaCha8Rng::seed_from_u64(seed), &device())
}

#[test]
fn forward_is_the_scaled_sum_of_relu_neurons() {
    let (d, m) = (3, 7);
    let model = net(d, m, OuterLayer::FixedSigns, 1);
    let x = sphere(4, d, 2);
    let out = to_host(model.forward(tensor2_from_host(&x, 4, d, &device())));
    let w = to_host(model.inner.val().flatten::<1>(0, 1));
    let a = to_host(model.outer_weights().flatten::<1>(0, 1));
    for (n, row) in x.chunks(d).enumerate() {
        let f: f64 = (0..m)
            .map(|r| a[r] * (0..d).map(|i| row[i] * w[i * m + r]).sum::<f64>().max(0.0))
            .sum::<f64>()
            / (m as f64).sqrt();
        assert!((out[n] - f).abs() < 1e-12, "{} vs {f}", out[n]);
    }
}

#[test]
fn closed_form_ntk_equals_the_per_example_gradient_ntk() {
    let (d, m) = (4, 9);
    let dev = device();
    let (x1, x2) = (sphere(5, d, 3), sphere(3, d, 4));
    let variants = [
        (OuterLayer::FixedSigns, Scaling::Ntk),
        (OuterLayer::Trained, Scaling::Ntk),
        (OuterLayer::FixedSigns, Scaling::Standard),
        (OuterLayer::Trained, Scaling::Standard),
    ];
    for (outer, scaling) in variants {
        let model = net_scaled(d, m, outer, scaling, 5);
        let t1 = tensor2_from_host(&x1, 5, d, &dev);
        let t2 = tensor2_from_host(&x2, 3, d, &dev);
        let closed = to_host(model.ntk(t1.clone(), t2.clone()).flatten::<1>(0, 1));
        let generic = empirical_ntk(&model, t1, t2);
        assert_eq!(closed.len(), 15);
        common::assert_entrywise(&closed, &generic, 1e-12, &format!("{outer:?} {scaling:?}"));
        let (_, params) = jacobian(&model, tensor2_from_host(&x1[..d], 1, d, &dev));
        let expected = d * m + if outer == OuterLayer::Trained { m } else { 0 };
        assert_eq!(
            params, expected,
            "{outer:?}: fixed signs are not parameters"
        );
    }
}

#[test]
fn closed_form_ntk_holds_on_both_pattern_paths() {
    // Equal a_r^2 (fixed signs): the pattern overlaps are counted on packed bits, for a Gram of
    // one set with itself (upper triangle, mirrored) and of two sets; unequal a_r^2 (outer
    // weights moved off +-1): a float matmul. m = 130 spans two 64-bit words and a remainder.
    let (d, m) = (4, 130);
    let dev = device();
    let (x1, x2) = (
        tensor2_from_host(&sphere(5, d, 3), 5, d, &dev),
        tensor2_from_host(&sphere(3, d, 4), 3, d, &dev),
    );
    for outer in [OuterLayer::FixedSigns, OuterLayer::Trained] {
        let mut model = net(d, m, outer, 8);
        if outer == OuterLayer::Trained {
            let theta: Vec<f64> = flat_params(&model)
                .iter()
                .enumerate()
                .map(|(k, v)| v * (1.0 + 0.1 * (k % 7) as f64))
                .collect();
            model = with_flat_params(model, &theta);
        }
        for (a, b) in [(&x1, &x1), (&x1, &x2)] {
            let closed = to_host(model.ntk(a.clone(), b.clone()).flatten::<1>(0, 1));
            let generic = empirical_ntk(&model, a.clone(), b.clone());
            common::assert_entrywise(&closed, &generic, 1e-12, &format!("{outer:?}"));
        }
    }
}

/// H(0) of a net with m = 40,000 neurons is a Monte Carlo estimate of H_inf: entries are means
/// of m bounded terms, standard error below 0.5 / sqrt(m) = 2.5e-3.
#[test]
fn wide_net_gram_approaches_du_h_inf() {
    let (n, d, m) = (6, 5, 40_000);
    let dev = device();
    let x = sphere(n, d, 6);
    let model = net(d, m, OuterLayer::FixedSigns, 7);
    let t = tensor2_from_host(&x, n, d, &dev);
    let h0 = to_host(model.ntk(t.clone(), t).flatten::<1>(0, 1));
    let h_inf = fdl_analysis::du_kernel(&x, &x, d);
    for (a, b) in h0.iter().zip(&h_inf) {
        assert!((a - b).abs() < 0.015, "{a} vs {b}");
    }
}

fn mlp(d: usize, width: usize, hidden: usize, seed: u64) -> Mlp {
    MlpConfig {
        input_dim: d,
        width,
        hidden,
        weight_std: 1.4,
        bias_std: 0.3,
    }
    .init(&mut ChaCha8Rng::seed_from_u64(seed), &device())
}

fn host(t: burn::tensor::Tensor<2>) -> Vec<f64> {
    to_host(t.flatten::<1>(0, 1))
}

#[test]
fn structured_mlp_ntk_equals_the_per_example_gradient_ntk() {
    let dev = device();
    let (x1, x2) = (sphere(4, 3, 8), sphere(3, 3, 9));
    let (t1, t2) = (
        tensor2_from_host(&x1, 4, 3, &dev),
        tensor2_from_host(&x2, 3, 3, &dev),
    );
    // Two sets, and one set with itself (traced once, one triangle of each Gram).
    for hidden in [1, 2, 3] {
        let model = mlp(3, 5, hidden, 10 + hidden as u64);
        for (a, b) in [(&t1, &t2), (&t1, &t1)] {
            let (total, parts) = model.ntk_by_layer(a.clone(), b.clone());
            assert_eq!(parts.len(), hidden + 1);
            let generic = empirical_ntk(&model, a.clone(), b.clone());
            let context = format!("hidden {hidden}");
            common::assert_entrywise(&host(total), &generic, 1e-12, &context);
        }
    }
}

#[test]
fn host_and_composed_mlp_ntks_agree_layer_by_layer() {
    // The host path (faer, one triangle) against Burn's ops, every part, for two sets and one
    // set with itself; 70 rows cross the 64-row tiles of the mirroring.
    let dev = device();
    let (x1, x2) = (sphere(70, 6, 31), sphere(9, 6, 32));
    let (t1, t2) = (
        tensor2_from_host(&x1, 70, 6, &dev),
        tensor2_from_host(&x2, 9, 6, &dev),
    );
    let model = mlp(6, 20, 2, 33);
    for (a, b) in [(&t1, &t2), (&t1, &t1)] {
        let (total, parts) = model.ntk_by_layer(a.clone(), b.clone());
        let (total_ops, parts_ops) = model.ntk_by_layer_composed(a.clone(), b.clone());
        assert_eq!(parts.len(), parts_ops.len());
        let pairs = std::iter::once((total, total_ops)).chain(parts.into_iter().zip(parts_ops));
        for (p, q) in pairs {
            common::assert_entrywise(&host(p), &host(q), 1e-12, "host vs composed");
        }
    }
}

#[test]
fn linearized_mlp_starts_at_the_network_and_has_its_ntk() {
    let dev = device();
    let x = sphere(5, 4, 11);
    let t = tensor2_from_host(&x, 5, 4, &dev);
    let model = mlp(4, 6, 2, 12);
    let lin = LinearizedMlp::around(&model);
    let (f, f_lin) = (
        to_host(model.forward(t.clone())),
        to_host(lin.forward(t.clone())),
    );
    for (a, b) in f.iter().zip(&f_lin) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
    // The linearization's tangent kernel (w.r.t. delta) is the network's NTK at theta_0.
    let structured = host(model.ntk_by_layer(t.clone(), t.clone()).0);
    let of_lin = empirical_ntk(&lin, t.clone(), t);
    common::assert_entrywise(&structured, &of_lin, 1e-12, "linearized NTK");
}

/// A wide MLP's NTK at initialization is a Monte Carlo estimate of the infinite-width kernel;
/// the relative error of an entry shrinks like 1/sqrt(width).
#[test]
fn wide_mlp_ntk_approaches_the_arc_cosine_recursion() {
    let dev = device();
    let (n, d) = (4, 3);
    let x = sphere(n, d, 13);
    let t = tensor2_from_host(&x, n, d, &dev);
    let exact = fdl_analysis::relu_mlp_kernels(&x, &x, d, 2, 1.4, 0.3).ntk;
    let model = mlp(d, 3000, 2, 14);
    let empirical = host(model.ntk_by_layer(t.clone(), t).0);
    for (a, b) in empirical.iter().zip(&exact) {
        assert!((a - b).abs() < 0.1 * b.abs(), "{a} vs {b}");
    }
}

/// With the outer layer trained too, a very wide net's NTK approaches the full two-layer ReLU
/// NTK (H_inf plus the outer-layer term) within the 1/sqrt(m) Monte Carlo error.
#[test]
fn wide_trained_outer_net_approaches_the_two_layer_relu_ntk() {
    let (n, d, m) = (5, 4, 40_000);
    let dev = device();
    let x = sphere(n, d, 15);
    let model = net(d, m, OuterLayer::Trained, 16);
    let t = tensor2_from_host(&x, n, d, &dev);
    let empirical = host(model.ntk(t.clone(), t));
    let exact = fdl_analysis::two_layer_relu_ntk(&x, &x, d);
    for (a, b) in empirical.iter().zip(&exact) {
        assert!((a - b).abs() < 0.02, "{a} vs {b}");
    }
}

/// Standard and NTK scaling compute the same function from the same draw; only the gradients
/// (and so the NTK's outer-layer term, m times larger) differ.
#[test]
fn standard_scaling_is_the_same_function_with_a_larger_outer_gradient() {
    let (d, m) = (3, 16);
    let dev = device();
    let x = tensor2_from_host(&sphere(4, d, 17), 4, d, &dev);
    let ntk = net_scaled(d, m, OuterLayer::Trained, Scaling::Ntk, 18);
    let standard = net_scaled(d, m, OuterLayer::Trained, Scaling::Standard, 18);
    let (a, b) = (
        to_host(ntk.forward(x.clone())),
        to_host(standard.forward(x.clone())),
    );
    for (u, v) in a.iter().zip(&b) {
        assert!((u - v).abs() < 1e-12, "{u} vs {v}");
    }
    let (k_ntk, k_std) = (
        host(ntk.ntk(x.clone(), x.clone())),
        host(standard.ntk(x.clone(), x)),
    );
    assert!(
        k_std[0] > 2.0 * k_ntk[0],
        "outer term grows: {} vs {}",
        k_std[0],
        k_ntk[0]
    );
}

/// A linearization starts at the network, is linear in its parameters, has the network's NTK at
/// theta_0 and tracks it to second order (the exported check).
fn assert_linearization<M: ScalarModel, L: ScalarModel>(
    net: &M,
    lin: &L,
    x: &[f64],
    d: usize,
    what: &str,
) {
    let t = tensor2_from_host(x, x.len() / d, d, &device());
    if let Err(e) = check_linearization(net, lin, t, 1e-12) {
        panic!("{what}: {e}");
    }
}

#[test]
fn two_layer_linearizations_have_the_networks_ntk() {
    let x = sphere(5, 3, 19);
    for outer in [OuterLayer::FixedSigns, OuterLayer::Trained] {
        for scaling in [Scaling::Ntk, Scaling::Standard] {
            let model = net_scaled(3, 7, outer, scaling, 20);
            let lin = LinearizedTwoLayer::around(&model);
            assert_linearization(&model, &lin, &x, 3, &format!("{outer:?} {scaling:?}"));
        }
    }
}

/// A diagonal net away from its symmetric start (u != v, so every coordinate has a gradient),
/// built from host values so its parameters are fresh leaves of the autodiff graph.
fn diagonal_net(d: usize, depth: u32, seed: u64) -> DiagonalNet {
    let dev = device();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut positive = |_| 0.3 + 0.7 * rand::Rng::random::<f64>(&mut rng);
    let u: Vec<f64> = (0..d).map(&mut positive).collect();
    let v: Vec<f64> = (0..d).map(&mut positive).collect();
    DiagonalNet {
        u: burn::module::Param::from_tensor(tensor1_from_host(&u, &dev)),
        v: burn::module::Param::from_tensor(tensor1_from_host(&v, &dev)),
        depth,
    }
}

#[test]
fn diagonal_linearization_has_the_networks_ntk() {
    let x = sphere(6, 4, 23);
    for depth in [1, 2, 3] {
        let model = diagonal_net(4, depth, 24 + depth as u64);
        let lin = LinearizedDiagonal::around(&model);
        assert_linearization(&model, &lin, &x, 4, &format!("diagonal D = {depth}"));
    }
}

#[test]
fn diagonal_linearization_tracks_a_tiny_step_to_second_order() {
    // Move both by the same small displacement: f and f_lin differ by O(|delta|^2).
    let (d, dev) = (4, device());
    let x = sphere(5, d, 31);
    let t = tensor2_from_host(&x, 5, d, &dev);
    let model = diagonal_net(d, 2, 32);
    let base = LinearizedDiagonal::around(&model);
    for h in [1e-3, 1e-4] {
        let du: Vec<f64> = (0..d).map(|i| h * (1.0 + i as f64)).collect();
        let dv: Vec<f64> = (0..d).map(|i| -h * (0.5 + i as f64)).collect();
        let (u0, v0) = (to_host(model.u.val()), to_host(model.v.val()));
        let add = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p + q).collect::<Vec<_>>();
        let moved = DiagonalNet {
            u: burn::module::Param::from_tensor(tensor1_from_host(&add(&u0, &du), &dev)),
            v: burn::module::Param::from_tensor(tensor1_from_host(&add(&v0, &dv), &dev)),
            depth: 2,
        };
        let lin = LinearizedDiagonal {
            delta_u: burn::module::Param::from_tensor(tensor1_from_host(&du, &dev)),
            delta_v: burn::module::Param::from_tensor(tensor1_from_host(&dv, &dev)),
            ..base.clone()
        };
        let (f, f_lin) = (
            to_host(moved.forward(t.clone())),
            to_host(lin.forward(t.clone())),
        );
        // D = 2: f - f_lin = <du^2 - dv^2, x> exactly.
        for (n, (a, b)) in f.iter().zip(&f_lin).enumerate() {
            let exact: f64 = (0..d)
                .map(|i| (du[i] * du[i] - dv[i] * dv[i]) * x[n * d + i])
                .sum();
            assert!((a - b - exact).abs() < 1e-15, "h {h}: {a} - {b} vs {exact}");
            assert!((a - b).abs() <= 20.0 * h * h, "h {h}: gap {}", a - b);
        }
    }
}
