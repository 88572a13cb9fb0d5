//! The NTK and the linearization of the example's net, with no tangent map written for it.

use custom_architecture::Depth3;
use fdl_data::rng_from_seed;
use fdl_lab::device::{BackendKind, Precision, init_device};
use fdl_models::{Linearized, check_linearization, empirical_ntk, tensor2_from_host};
use rand::Rng;

#[test]
fn depth3_has_an_ntk_and_an_exact_linearization() {
    let device = init_device(BackendKind::Flex, Precision::F64).expect("flex device");
    let (n, d) = (6, 4);
    let net = Depth3::init(d, 16, &mut rng_from_seed(1), &device);
    let mut rng = rng_from_seed(2);
    let x: Vec<f64> = (0..n * d).map(|_| rng.random_range(-1.0..1.0)).collect();
    let x = tensor2_from_host(&x, n, d, &device);
    // Theta(x_i, x_j) = <grad f(x_i), grad f(x_j)>: symmetric, positive on the diagonal.
    let k = empirical_ntk(&net, x.clone(), x.clone());
    for i in 0..n {
        assert!(k[i * n + i] > 0.0);
        for j in 0..n {
            assert!((k[i * n + j] - k[j * n + i]).abs() < 1e-12);
        }
    }
    let lin = Linearized::around(&net, &[&x]);
    let check = check_linearization(&net, &lin, x, 1e-10).unwrap_or_else(|e| panic!("{e}"));
    assert!(check.second_order_ratio < 0.03, "{check:?}");
}
