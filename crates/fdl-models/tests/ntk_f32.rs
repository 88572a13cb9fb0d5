//! The structured and the per-example-gradient NTK agree in f32 too (to 1e-5 relative), the
//! precision NTK experiments run in. A separate test binary: the dtype is fixed per process.

use burn::tensor::{Device, FloatDType};
use fdl_models::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

#[test]
fn structured_and_generic_mlp_ntk_agree_in_f32() {
    let mut dev = Device::flex();
    dev.configure(FloatDType::F32).expect("configure f32 once");
    let dev = dev.autodiff();
    let (n, d) = (8, 5);
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let x: Vec<f64> = (0..n * d)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let t = tensor2_from_host(&x, n, d, &dev);
    let model = MlpConfig {
        input_dim: d,
        width: 64,
        hidden: 2,
        weight_std: 1.0,
        bias_std: 0.1,
    }
    .init(&mut rng, &dev);
    let structured = to_host(
        model
            .ntk_by_layer(t.clone(), t.clone())
            .0
            .flatten::<1>(0, 1),
    );
    let generic = empirical_ntk(&model, t.clone(), t);
    let scale = generic.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (a, b) in structured.iter().zip(&generic) {
        assert!((a - b).abs() < 1e-5 * scale, "{a} vs {b}");
    }
}
