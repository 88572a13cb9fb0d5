//! Gradient descent on the square loss through the trainer, against Du et al.'s update of the
//! two-layer ReLU net written out on the host.

mod common;

use common::device;

use burn::tensor::Device;
use fdl_models::{
    OuterLayer, Scaling, TwoLayerConfig, tensor1_from_host, tensor2_from_host, to_host,
};
use fdl_optim::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const X: [f64; 6] = [0.6, 0.8, -1.0, 0.0, 0.28, -0.96];
const Y: [f64; 3] = [0.5, -1.2, 0.3];
const ETA: f64 = 0.4;
const STEPS: usize = 5;

/// The three points on the device.
fn batch(dev: &Device) -> Batch {
    Batch {
        x: tensor2_from_host(&X, 3, 2, dev),
        y: tensor1_from_host(&Y, dev),
    }
}

#[test]
fn square_loss_gd_is_du_et_al_update() {
    let (d, m) = (2, 6);
    let dev = device();
    let model = TwoLayerConfig {
        input_dim: d,
        width: m,
        outer: OuterLayer::FixedSigns,
        scaling: Scaling::Ntk,
    }
    .init(&mut ChaCha8Rng::seed_from_u64(3), &dev);
    let mut w = to_host(model.inner.val().flatten::<1>(0, 1)); // [d, m] row-major
    let a = to_host(model.outer_weights().flatten::<1>(0, 1));
    let scale = 1.0 / (m as f64).sqrt();
    let f = |w: &[f64], x: &[f64]| -> f64 {
        (0..m)
            .map(|r| a[r] * (0..d).map(|i| x[i] * w[i * m + r]).sum::<f64>().max(0.0))
            .sum::<f64>()
            * scale
    };
    let mut host_losses = Vec::new();
    for _ in 0..=STEPS {
        let residuals: Vec<f64> = X.chunks(d).zip(Y).map(|(x, y)| f(&w, x) - y).collect();
        host_losses.push(0.5 * residuals.iter().map(|r| r * r).sum::<f64>());
        // w_r <- w_r - eta sum_i r_i a_r 1{w_r.x_i >= 0} x_i / sqrt(m)
        let mut next = w.clone();
        for r in 0..m {
            for (x, res) in X.chunks(d).zip(&residuals) {
                if (0..d).map(|i| x[i] * w[i * m + r]).sum::<f64>() >= 0.0 {
                    for i in 0..d {
                        next[i * m + r] -= ETA * res * a[r] * x[i] * scale;
                    }
                }
            }
        }
        w = next;
    }

    let batch = batch(&dev);
    let config = TrainConfig {
        loss: Loss::Square,
        step_rule: StepRule::constant(StepRuleKind::Fixed, ETA),
        steps: STEPS,
        geometry: LpGeometry::euclidean(),
        method: Method::Steepest,
    };
    let mut losses = Vec::new();
    let probes: Vec<usize> = (0..=STEPS).collect();
    Trainer::plain(model)
        .run(
            &batch,
            &config,
            &probes,
            |p| {
                losses.push(p.loss.ln_loss.exp());
                Ok(())
            },
            |_| {},
        )
        .unwrap();
    assert_eq!(losses.len(), host_losses.len());
    for (t, (a, b)) in losses.iter().zip(&host_losses).enumerate() {
        assert!((a - b).abs() < 1e-12 * (1.0 + b), "step {t}: {a} vs {b}");
    }
    assert!(losses[STEPS] < losses[0], "GD lowers the square loss");
}

/// A step 50 times too large diverges under a fixed rule; the adaptive rule steps back, halves
/// it, and the loss never rises.
#[test]
fn adaptive_steps_back_from_a_rising_loss() {
    let (d, m) = (2, 6);
    let dev = device();
    let batch = batch(&dev);
    let net = || {
        TwoLayerConfig {
            input_dim: d,
            width: m,
            outer: OuterLayer::FixedSigns,
            scaling: Scaling::Ntk,
        }
        .init(&mut ChaCha8Rng::seed_from_u64(3), &dev)
    };
    let config = |schedule| TrainConfig {
        loss: Loss::Square,
        step_rule: StepRule {
            kind: StepRuleKind::Fixed,
            size: 50.0 * ETA,
            schedule,
        },
        steps: 300,
        geometry: LpGeometry::euclidean(),
        method: Method::Steepest,
    };
    let mut fixed_last = f64::NAN;
    let fixed = Trainer::plain(net()).run(
        &batch,
        &config(Schedule::Constant),
        &[],
        |p| {
            fixed_last = p.loss.ln_loss;
            Ok(())
        },
        |_| {},
    );
    assert!(
        fixed.is_err() || fixed_last > 0.0,
        "the fixed rule does not converge at this size"
    );
    let mut losses = Vec::new();
    let every: Vec<usize> = (0..=300).collect();
    Trainer::plain(net())
        .run(
            &batch,
            &config(Schedule::Adaptive { growth: 1.1 }),
            &every,
            |p| {
                losses.push(p.loss.ln_loss);
                Ok(())
            },
            |_| {},
        )
        .unwrap();
    for w in losses.windows(2) {
        assert!(w[1] <= w[0], "the loss rose: {} -> {}", w[0], w[1]);
    }
    assert!(losses.last().unwrap() < &(losses[0] - 10.0), "{losses:?}");
}

/// One gradient step of size eta from the same point: the network and its linearization differ
/// at second order in eta, so a tenfold smaller step shrinks the difference about a hundredfold.
#[test]
fn linearized_mlp_tracks_the_network_to_second_order_in_the_step() {
    use fdl_models::{LinearizedMlp, MlpConfig, ScalarModel};
    let dev = device();
    let batch = batch(&dev);
    let gap_after_one_step = |eta: f64| -> f64 {
        let net = MlpConfig {
            input_dim: 2,
            width: 8,
            hidden: 2,
            weight_std: 1.3,
            bias_std: 0.2,
        }
        .init(&mut ChaCha8Rng::seed_from_u64(4), &dev);
        let lin = LinearizedMlp::around(&net);
        let config = TrainConfig {
            loss: Loss::Square,
            step_rule: StepRule::constant(StepRuleKind::Fixed, eta),
            steps: 1,
            geometry: LpGeometry::euclidean(),
            method: Method::Steepest,
        };
        let mut real = Trainer::plain(net);
        real.run(&batch, &config, &[], |_| Ok(()), |_| {}).unwrap();
        let mut linear = Trainer::plain(lin);
        linear
            .run(&batch, &config, &[], |_| Ok(()), |_| {})
            .unwrap();
        let a = to_host(real.model().forward(batch.x.clone()));
        let b = to_host(linear.model().forward(batch.x.clone()));
        a.iter()
            .zip(&b)
            .map(|(u, v)| (u - v).abs())
            .fold(0.0, f64::max)
    };
    let (coarse, fine) = (gap_after_one_step(1e-2), gap_after_one_step(1e-3));
    assert!(coarse > 0.0 && coarse < 1e-2, "gap {coarse}");
    let ratio = coarse / fine;
    assert!(
        (50.0..200.0).contains(&ratio),
        "second order: ratio {ratio} ({coarse} vs {fine})"
    );
}
