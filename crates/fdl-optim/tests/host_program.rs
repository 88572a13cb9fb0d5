//! Models' host programs against Burn's autodiff: the outputs and gradient of one point, and
//! whole training runs through the trainer (which takes the host path when it can).

mod common;

use common::device;

use fdl_data::{gaussian_random_labels, rng_from_seed};
use fdl_models::{
    DeepLinear, DeepLinearConfig, LinearConv, LinearConvConfig, ScalarModel, flat_grads,
    flat_params, tensor1_from_host, tensor2_from_host, to_host,
};
use fdl_optim::*;

fn conv(dim: usize, depth: usize, seed: u64) -> LinearConv {
    LinearConvConfig {
        input_dim: dim,
        depth,
        init_std: 1.0 / (dim as f64).sqrt(),
    }
    .init(&mut rng_from_seed(seed), &device())
}

fn batch(n: usize, dim: usize, seed: u64) -> Batch {
    let data = gaussian_random_labels(n, dim, &mut rng_from_seed(seed));
    Batch {
        x: tensor2_from_host(data.x(), n, dim, &device()),
        y: tensor1_from_host(data.y(), &device()),
    }
}

/// Largest |a - b| relative to the largest |b|.
fn relative_gap(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

/// The program's outputs and pullback at the model's point against Burn's forward and backward.
fn program_gap(model: &impl ScalarModel, b: &Batch) -> (f64, f64) {
    let n = b.x.dims()[0];
    let mut program = model.host_program(&b.x).expect("a host program");
    let theta = flat_params(model);
    assert_eq!(program.num_params(), theta.len());
    let mut outputs = vec![0.0; n];
    program.outputs(&theta, &mut outputs);
    let reference = model.forward(b.x.clone());
    let output_gap = relative_gap(&outputs, &to_host(reference.clone()));
    let c: Vec<f64> = (0..n)
        .map(|i| ((i * 7 % 5) as f64 - 2.0) * 0.4 + 0.1)
        .collect();
    let mut grad = vec![0.0; theta.len()];
    program.pullback(&theta, &c, &mut grad);
    let grads = (reference * tensor1_from_host(&c, &device()))
        .sum()
        .backward();
    (output_gap, relative_gap(&grad, &flat_grads(model, &grads)))
}

#[test]
fn deep_linear_program_matches_autodiff() {
    // Depth 1 at n x d = 300 x 300 also takes the multi-core products.
    for (n, dim, depth, width) in [(6, 7, 1, 1), (6, 7, 2, 3), (5, 16, 4, 16), (300, 300, 1, 1)] {
        let model = DeepLinearConfig {
            input_dim: dim,
            depth,
            width,
            init_std: 0.5,
        }
        .init(&mut rng_from_seed(8), &device());
        let (outputs, grad) = program_gap(&model, &batch(n, dim, 9));
        assert!(
            outputs < 1e-13 && grad < 1e-13,
            "L = {depth}: {outputs:e}, {grad:e}"
        );
    }
}

/// The flat parameters after `steps` of l_p steepest descent on a linear model (the
/// steepest-descent experiment's setting), with or without the host program.
fn steepest_run(p: f64, steps: usize, host: bool) -> Vec<f64> {
    steepest_run_on(20, 10, p, steps, host)
}

/// As [`steepest_run`] on `n` examples in dimension `dim`.
fn steepest_run_on(n: usize, dim: usize, p: f64, steps: usize, host: bool) -> Vec<f64> {
    let model: DeepLinear = DeepLinearConfig {
        input_dim: dim,
        depth: 1,
        width: 1,
        init_std: 0.0,
    }
    .init(&mut rng_from_seed(10), &device());
    let mut trainer = Trainer::plain(model);
    if !host {
        trainer = trainer.autodiff_only();
    }
    let config = TrainConfig {
        loss: Loss::Exponential,
        step_rule: StepRule::constant(StepRuleKind::InverseLoss, 0.01),
        steps,
        geometry: LpGeometry {
            p,
            scope: NormScope::Global,
        },
        method: Method::Steepest,
    };
    trainer
        .run(&batch(n, dim, 11), &config, &[], |_| Ok(()), |_| {})
        .expect("finite");
    assert_eq!(trainer.ran_on_host(), host, "the path taken");
    flat_params(trainer.model())
}

#[test]
fn host_steepest_descent_matches_autodiff() {
    // Rounding only (measured 1e-16 after 2000 steps), except p = 4, whose trajectory passes a
    // sensitive stretch near step 300 where the autodiff path alone, started 1e-15 apart,
    // separates to 6e-5: it is compared over the first 100 steps.
    for (p, steps) in [
        (1.0, 2000),
        (4.0 / 3.0, 2000),
        (2.0, 2000),
        (4.0, 100),
        (f64::INFINITY, 2000),
    ] {
        let gap = relative_gap(
            &steepest_run(p, steps, true),
            &steepest_run(p, steps, false),
        );
        assert!(gap < 1e-13, "p = {p}: {gap:e}");
    }
    // A batch large enough for the products to run on every core, rows split unevenly. Smooth
    // geometries only: at d = 300, l_inf and l_1 take the signs (or the argmax) of gradient
    // coordinates near zero, which rounding flips (measured 6e-6 after 200 l_inf steps).
    for p in [2.0, 4.0 / 3.0] {
        let gap = relative_gap(
            &steepest_run_on(301, 300, p, 200, true),
            &steepest_run_on(301, 300, p, 200, false),
        );
        assert!(gap < 1e-13, "p = {p}, n x d = 301 x 300: {gap:e}");
    }
}

#[test]
fn linear_conv_program_matches_autodiff() {
    // An odd and an even length, every depth the experiments use and one more.
    for (dim, depth) in [(7, 1), (7, 2), (16, 3), (16, 4), (10, 5)] {
        let model = conv(dim, depth, 3);
        let b = batch(6, dim, 4);
        let mut program = model
            .host_program(&b.x)
            .expect("LinearConv has a host program");
        let theta = flat_params(&model);
        let mut outputs = vec![0.0; 6];
        program.outputs(&theta, &mut outputs);
        let reference = model.forward(b.x.clone());
        assert!(relative_gap(&outputs, &to_host(reference.clone())) < 1e-13);

        let c = [0.3, -1.2, 0.7, 2.0, -0.1, 0.9];
        let mut grad = vec![0.0; theta.len()];
        program.pullback(&theta, &c, &mut grad);
        let grads = (reference * tensor1_from_host(&c, &device()))
            .sum()
            .backward();
        let gap = relative_gap(&grad, &flat_grads(&model, &grads));
        assert!(
            gap < 1e-13,
            "D = {dim}, L = {depth}: gradient off by {gap:e}"
        );
    }
}

/// The direction, `ln s` and the probed losses after `steps` of plain GD on the exponential loss
/// (the scaled parameterization of depth-conv), with or without the host program.
fn trained(depth: usize, steps: usize, host: bool) -> (Vec<f64>, f64, Vec<f64>) {
    let mut trainer = Trainer::scaled(conv(16, depth, 5));
    if !host {
        trainer = trainer.autodiff_only();
    }
    let config = TrainConfig {
        loss: Loss::Exponential,
        step_rule: StepRule::constant(StepRuleKind::Fixed, 0.005),
        steps,
        geometry: LpGeometry::euclidean(),
        method: Method::Steepest,
    };
    let mut losses = Vec::new();
    trainer
        .run(
            &batch(5, 16, 6),
            &config,
            &[10, 100, 1000],
            |p| {
                losses.push(p.loss.ln_loss);
                Ok(())
            },
            |_| {},
        )
        .expect("finite");
    assert_eq!(trainer.ran_on_host(), host, "the path taken");
    (flat_params(trainer.model()), trainer.ln_scale(), losses)
}

#[test]
fn host_and_autodiff_runs_agree() {
    // Only the summation order differs, so the runs agree to rounding (measured: 4e-15 after
    // 3000 steps at L = 4). Plain GD, because with normalized steps (fixed-length or relative)
    // these nets pass stretches where the autodiff path alone, started 1e-15 apart, separates to
    // 1e-3 within 300 steps: a property of the trajectory that no implementation can remove.
    for depth in [1, 2, 4] {
        let (phi, ln_s, losses) = trained(depth, 3000, true);
        let (phi_ad, ln_s_ad, losses_ad) = trained(depth, 3000, false);
        let gap = relative_gap(&phi, &phi_ad);
        assert!(gap < 1e-12, "L = {depth}: directions differ by {gap:e}");
        assert!(
            (ln_s - ln_s_ad).abs() < 1e-12,
            "L = {depth}: {ln_s} vs {ln_s_ad}"
        );
        assert!(
            relative_gap(&losses, &losses_ad) < 1e-12,
            "{losses:?} vs {losses_ad:?}"
        );
    }
}

/// A run on the host path (true) or Burn's (false), returning the direction and `ln s`.
type RunOnPath = dyn Fn(bool) -> (Vec<f64>, f64);

/// The direction and `ln s` after `steps` of a normalized step rule, scaled, on either path.
fn normalized_run(
    model: impl fdl_models::Homogeneous,
    rule: StepRule,
    geometry: LpGeometry,
    steps: usize,
    host: bool,
) -> (Vec<f64>, f64) {
    let dim = 16;
    let mut trainer = Trainer::scaled(model);
    if !host {
        trainer = trainer.autodiff_only();
    }
    let config = TrainConfig {
        loss: Loss::Exponential,
        step_rule: rule,
        steps,
        geometry,
        method: Method::Steepest,
    };
    trainer
        .run(&batch(5, dim, 6), &config, &[], |_| Ok(()), |_| {})
        .expect("finite");
    assert_eq!(trainer.ran_on_host(), host, "the path taken");
    (flat_params(trainer.model()), trainer.ln_scale())
}

#[test]
fn normalized_step_rules_agree_on_both_paths() {
    // The norms behind relative and fixed-length steps (||g||_q, ||theta||_p, ln s) on the host
    // path against Burn's, over 20 steps (measured gaps 1e-16 to 1e-15): the relative conv run
    // enters one of the sensitive stretches of host_and_autodiff_runs_agree soon after (2e-11
    // at step 30), where rounding is amplified on either path alone.
    let deep = || {
        DeepLinearConfig {
            input_dim: 16,
            depth: 3,
            width: 4,
            init_std: 0.5,
        }
        .init(&mut rng_from_seed(12), &device())
    };
    let l1 = LpGeometry {
        p: 1.0,
        scope: NormScope::Global,
    };
    let cases: Vec<(&str, Box<RunOnPath>)> = vec![
        (
            "conv relative",
            Box::new(|host| {
                let rule = StepRule::constant(StepRuleKind::Relative, 0.05);
                normalized_run(conv(16, 3, 5), rule, LpGeometry::euclidean(), 20, host)
            }),
        ),
        (
            "conv fixed-length",
            Box::new(|host| {
                let rule = StepRule::constant(StepRuleKind::FixedLength, 0.05);
                normalized_run(conv(16, 2, 5), rule, LpGeometry::euclidean(), 20, host)
            }),
        ),
        (
            "deep linear relative l1",
            Box::new(move |host| {
                let rule = StepRule::constant(StepRuleKind::Relative, 0.05);
                normalized_run(deep(), rule, l1, 20, host)
            }),
        ),
        (
            "deep linear fixed-length l1",
            Box::new(move |host| {
                let rule = StepRule::constant(StepRuleKind::FixedLength, 0.05);
                normalized_run(deep(), rule, l1, 20, host)
            }),
        ),
    ];
    for (name, run) in cases {
        let (phi, ln_s) = run(true);
        let (phi_ad, ln_s_ad) = run(false);
        let gap = relative_gap(&phi, &phi_ad);
        assert!(gap < 1e-12, "{name}: directions differ by {gap:e}");
        assert!(
            (ln_s - ln_s_ad).abs() < 1e-12,
            "{name}: {ln_s} vs {ln_s_ad}"
        );
    }
}

#[test]
fn a_diverging_host_run_leaves_its_last_point_in_the_model() {
    // A step far too large for plain GD on the square loss: the error names the step, and the
    // module holds the last point of the run (as on the autodiff path), not the start.
    let model: DeepLinear = DeepLinearConfig {
        input_dim: 10,
        depth: 1,
        width: 1,
        init_std: 0.3,
    }
    .init(&mut rng_from_seed(13), &device());
    let start = flat_params(&model);
    let config = TrainConfig {
        loss: Loss::Square,
        step_rule: StepRule::constant(StepRuleKind::Fixed, 50.0),
        steps: 10_000,
        geometry: LpGeometry::euclidean(),
        method: Method::Steepest,
    };
    let mut ends = Vec::new();
    for host in [true, false] {
        let mut trainer = Trainer::plain(model.clone());
        if !host {
            trainer = trainer.autodiff_only();
        }
        let error = trainer
            .run(&batch(20, 10, 14), &config, &[], |_| Ok(()), |_| {})
            .expect_err("diverges");
        let TrainError::Diverged { step, .. } = error else {
            panic!("{error}")
        };
        assert_eq!(trainer.ran_on_host(), host);
        ends.push((step, flat_params(trainer.model())));
    }
    assert_eq!(ends[0].0, ends[1].0, "both paths stop at the same step");
    for (_, end) in &ends {
        assert!(end.iter().all(|v| v.is_finite()), "{end:?}");
        assert!(
            relative_gap(end, &start) > 1e6,
            "the module still holds the start"
        );
    }
}
