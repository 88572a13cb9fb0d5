//! l_p steepest descent on Burn modules: the device path against the host reference, global
//! against per-tensor norms, and training a non-linear module through the public API.

mod common;

use common::device;

use burn::module::{Module, Param};
use burn::tensor::{Tensor, activation::relu};
use fdl_models::{
    Homogeneous, ScalarModel, normal_tensor, tensor1_from_host, tensor2_from_host, to_host,
};
use fdl_optim::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Two parameter tensors of different ranks.
#[derive(Module, Debug)]
struct TwoTensors {
    a: Param<Tensor<2>>,
    b: Param<Tensor<1>>,
}

const GA: [f64; 6] = [0.5, -2.0, 1.0, 0.25, -0.75, 1.5];
const GB: [f64; 3] = [3.0, -3.0, 0.1];

/// A module and gradients equal to GA (for a, shape [2, 3]) and GB (for b).
fn module_with_known_gradients() -> (TwoTensors, burn::tensor::Gradients) {
    let dev = device();
    let m = TwoTensors {
        a: Param::from_tensor(tensor2_from_host(&[0.1; 6], 2, 3, &dev)),
        b: Param::from_tensor(tensor1_from_host(&[0.2; 3], &dev)),
    };
    let loss = (m.a.val() * tensor2_from_host(&GA, 2, 3, &dev)).sum()
        + (m.b.val() * tensor1_from_host(&GB, &dev)).sum();
    let grads = loss.backward();
    (m, grads)
}

fn steps_of(m: &TwoTensors, grads: &burn::tensor::Gradients) -> (Vec<f64>, Vec<f64>) {
    (
        to_host(m.a.val().grad(grads).unwrap()),
        to_host(m.b.val().grad(grads).unwrap()),
    )
}

fn close(a: &[f64], b: &[f64]) {
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-12 * (1.0 + y.abs()), "{a:?} vs {b:?}");
    }
}

#[test]
fn device_steps_match_the_host_reference_globally_and_per_tensor() {
    for p in [1.0, 4.0 / 3.0, 2.0, 4.0, f64::INFINITY] {
        // Global: one l_p ball over all 9 entries.
        let (m, mut grads) = module_with_known_gradients();
        let norm = steepest_steps(
            &m,
            &mut grads,
            LpGeometry {
                p,
                scope: NormScope::Global,
            },
        );
        let all: Vec<f64> = GA.iter().chain(&GB).copied().collect();
        let host = steepest_direction(&all, p);
        let expected: Vec<f64> = host.unit.iter().map(|u| u * host.dual_norm).collect();
        let (da, db) = steps_of(&m, &grads);
        close(&da, &expected[..6]);
        close(&db, &expected[6..]);
        assert!((norm - host.dual_norm).abs() < 1e-12 * norm, "p = {p}");

        // Per tensor: each tensor its own ball.
        let (m, mut grads) = module_with_known_gradients();
        steepest_steps(
            &m,
            &mut grads,
            LpGeometry {
                p,
                scope: NormScope::PerTensor,
            },
        );
        let (da, db) = steps_of(&m, &grads);
        let (ha, hb) = (steepest_direction(&GA, p), steepest_direction(&GB, p));
        close(
            &da,
            &ha.unit.iter().map(|u| u * ha.dual_norm).collect::<Vec<_>>(),
        );
        close(
            &db,
            &hb.unit.iter().map(|u| u * hb.dual_norm).collect::<Vec<_>>(),
        );
    }
}

#[test]
fn coordinate_descent_moves_one_coordinate_globally_and_one_per_tensor() {
    let (m, mut grads) = module_with_known_gradients();
    steepest_steps(
        &m,
        &mut grads,
        LpGeometry {
            p: 1.0,
            scope: NormScope::Global,
        },
    );
    let (da, db) = steps_of(&m, &grads);
    let moved = da.iter().chain(&db).filter(|v| **v != 0.0).count();
    // |GB| has two tied maxima (3, -3): the global step splits between them, nothing moves in a.
    assert_eq!(moved, 2);
    assert!(da.iter().all(|v| *v == 0.0));
    assert_eq!(db, vec![1.5, -1.5, 0.0]);

    let (m, mut grads) = module_with_known_gradients();
    steepest_steps(
        &m,
        &mut grads,
        LpGeometry {
            p: 1.0,
            scope: NormScope::PerTensor,
        },
    );
    let (da, _) = steps_of(&m, &grads);
    assert_eq!(
        da,
        vec![0.0, -2.0, 0.0, 0.0, 0.0, 0.0],
        "a moves its own largest entry"
    );
}

/// A two-layer ReLU net without biases (2-homogeneous), x [n, d] -> relu(x W1) w2.
#[derive(Module, Debug)]
struct ReluNet {
    w1: Param<Tensor<2>>,
    w2: Param<Tensor<2>>,
}

impl ScalarModel for ReluNet {
    fn forward(&self, x: Tensor<2>) -> Tensor<1> {
        let n = x.dims()[0];
        relu(x.matmul(self.w1.val()))
            .matmul(self.w2.val())
            .reshape([n])
    }
}

impl Homogeneous for ReluNet {
    fn homogeneity_degree(&self) -> u32 {
        2
    }
}

#[test]
fn sign_descent_with_a_global_norm_trains_a_relu_net() {
    let dev = device();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (n, d, width) = (20, 4, 16);
    use rand_distr::{Distribution, StandardNormal};
    // Points at least 0.2 from the decision boundary ||x_0| - |x_1|| = 0.
    let mut x: Vec<f64> = Vec::new();
    while x.len() < n * d {
        let p: Vec<f64> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
        if (p[0].abs() - p[1].abs()).abs() > 0.2 {
            x.extend(p);
        }
    }
    // A non-linear rule a bias-free (positively homogeneous) ReLU net can represent.
    let y: Vec<f64> = (0..n)
        .map(|i| {
            if x[i * d].abs() > x[i * d + 1].abs() {
                1.0
            } else {
                -1.0
            }
        })
        .collect();
    let batch = Batch {
        x: tensor2_from_host(&x, n, d, &dev),
        y: tensor1_from_host(&y, &dev),
    };
    let net = ReluNet {
        w1: Param::from_tensor(normal_tensor([d, width], 1.0, &mut rng, &dev)),
        w2: Param::from_tensor(normal_tensor([width, 1], 1.0, &mut rng, &dev)),
    };
    let config = TrainConfig {
        loss: Loss::Logistic,
        // A relative l_inf step moves every entry by c ||theta||_inf: an l2 angle of order
        // c sqrt(#params), so c is smaller than for gradient descent.
        step_rule: StepRule::constant(StepRuleKind::Relative, 0.002),
        steps: 3000,
        geometry: LpGeometry {
            p: f64::INFINITY,
            scope: NormScope::Global,
        },
        method: Method::Steepest,
    };
    let mut first_loss = None;
    let mut last = (f64::NAN, f64::NAN);
    let mut trainer = Trainer::scaled(net);
    trainer
        .run(
            &batch,
            &config,
            &[0],
            |p| {
                first_loss.get_or_insert(p.loss.ln_loss);
                let min = p.unit_margins.iter().copied().fold(f64::INFINITY, f64::min);
                last = (p.loss.ln_loss, min);
                Ok(())
            },
            |_| {},
        )
        .unwrap();
    let (ln_loss, min_margin) = last;
    assert!(
        min_margin > 0.0,
        "every training point classified correctly, min margin {min_margin}"
    );
    assert!(
        ln_loss < first_loss.unwrap() - 5.0,
        "loss fell by more than e^5: {first_loss:?} -> {ln_loss}"
    );
}
