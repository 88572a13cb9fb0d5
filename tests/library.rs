//! Library-level properties that cut across crates: the shipped experiment files equal the
//! built-in defaults, and long runs stay finite.

use fdl_data::{gaussian_random_labels, rng_from_seed};
use fdl_lab::device::{BackendKind, Precision, init_device};
use fdl_models::{LinearConvConfig, tensor1_from_host, tensor2_from_host};
use fdl_optim::{Batch, Loss, LpGeometry, Method, StepRule, StepRuleKind, TrainConfig, Trainer};

#[test]
fn shipped_experiment_files_equal_the_built_in_defaults() {
    for exp in fdl_lab::Lab::with_builtins().experiments() {
        let path = format!(
            "{}/experiments/{}.toml",
            env!("CARGO_MANIFEST_DIR"),
            exp.name()
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut table: toml::Table = text.parse().unwrap();
        assert_eq!(
            table
                .remove("experiment")
                .and_then(|v| v.as_str().map(String::from))
                .as_deref(),
            Some(exp.name())
        );
        for key in ["seed", "device", "dtype"] {
            table
                .remove(key)
                .unwrap_or_else(|| panic!("{path} lacks {key}"));
        }
        assert_eq!(
            table,
            exp.defaults(),
            "{path} differs from the defaults of `fdl reproduce {}`",
            exp.name()
        );
    }
}

/// A 4-layer conv net under relative steps has ln ||theta|| growing like c t: after 10^5 steps
/// the plain parameters would be e^{~500} and beta e^{~2000}, far past f64. The scaled
/// parameterization keeps every quantity finite.
#[test]
fn hundred_thousand_relative_steps_of_a_depth_four_conv_net_stay_finite() {
    let device = init_device(BackendKind::Flex, Precision::F64).expect("f64 on flex");
    let data = gaussian_random_labels(5, 16, &mut rng_from_seed(0));
    let batch = Batch {
        x: tensor2_from_host(data.x(), 5, 16, &device),
        y: tensor1_from_host(data.y(), &device),
    };
    let model = LinearConvConfig {
        input_dim: 16,
        depth: 4,
        init_std: 0.1,
    }
    .init(&mut rng_from_seed(1), &device);
    let mut trainer = Trainer::scaled(model);
    let config = TrainConfig {
        loss: Loss::Exponential,
        step_rule: StepRule::constant(StepRuleKind::Relative, 0.01),
        steps: 100_000,
        geometry: LpGeometry::euclidean(),
        method: Method::Steepest,
    };
    let mut last_margin = None;
    trainer
        .run(
            &batch,
            &config,
            &[100_000],
            |p| {
                last_margin = p.normalized_margin();
                assert!(p.unit_margins.iter().all(|m| m.is_finite()));
                Ok(())
            },
            |_| {},
        )
        .expect("no divergence");
    let ln_beta = 4.0 * trainer.ln_scale();
    assert!(
        ln_beta > 709.0,
        "the plain parameterization would have overflowed: ln ||beta|| ~ {ln_beta}"
    );
    assert!(last_margin.is_some_and(|m| m.is_finite() && m > 0.0));
}

/// Every package depends on the workspace-hack crate, so a package-scoped build (`cargo test -p
/// fdl-models`) resolves features as the workspace does and does not rebuild Burn.
#[test]
fn every_workspace_member_depends_on_the_workspace_hack() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut manifests = vec![format!("{root}/Cargo.toml")];
    for dir in ["crates", "examples"] {
        for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
            let path = entry.unwrap().path().join("Cargo.toml");
            if path.is_file() && !path.starts_with(format!("{root}/crates/fdl-workspace-hack")) {
                manifests.push(path.display().to_string());
            }
        }
    }
    assert!(manifests.len() >= 7, "{manifests:?}");
    for m in manifests {
        let text = std::fs::read_to_string(&m).unwrap();
        assert!(
            text.contains("fdl-workspace-hack = {"),
            "{m} lacks the fdl-workspace-hack dependency (run scripts/workspace-hack.sh)"
        );
    }
}
