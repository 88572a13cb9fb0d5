//! Burn modules for fdl, and the traits that training and analysis rely on.
//!
//! A model is a Burn [`Module`](burn::module::Module) mapping a batch of inputs `[n, d]` to one
//! real output per input (`[n]`), see [`ScalarModel`]. Models whose output is `c^L` times larger
//! when every parameter is scaled by `c` implement [`Homogeneous`]; models that are linear in
//! their input expose the vector `beta` with `f(x) = <beta, x>` through [`LinearPredictor`].
//! Adding an architecture means writing one module and implementing these traits.

#![warn(missing_docs)]

mod binary_gram;
mod deep_linear;
mod diagonal;
mod factorization;
mod flat;
pub mod fused;
mod hessian;
mod host;
mod host_gram;
mod host_program;
mod least_squares;
mod linear_conv;
mod linearization;
mod linearized;
mod mlp;
mod mlp_host;
mod ntk;
mod quadratic_net;
mod relu_net;
mod spin_team;
mod traits;
mod two_layer;

pub use binary_gram::{BitRows, binary_gram};
pub use deep_linear::{DeepLinear, DeepLinearConfig};
pub use diagonal::{DiagonalNet, DiagonalNetConfig, LinearizedDiagonal};
pub use factorization::{Factorization, factorization_hessian_vector};
pub use flat::{displaced, flat_grads, flat_params, with_flat_params};
pub use hessian::{gradient, hessian, hessian_vector};
pub use host::{normal_tensor, tensor1_from_host, tensor2_from_host, to_host};
pub use host_program::{HostProgram, dot};
pub use least_squares::LeastSquares;
pub use linear_conv::{LinearConv, LinearConvConfig, circulant_index};
pub use linearization::{LinearizationCheck, check_linearization};
pub use linearized::Linearized;
pub use mlp::{Dense, LinearizedMlp, Mlp, MlpConfig};
pub use ntk::{empirical_ntk, jacobian};
pub use quadratic_net::{OuterWeights, QuadraticNet, QuadraticNetConfig};
pub use relu_net::{ReluNet, ReluNetConfig};
pub use traits::{Classifier, Homogeneous, LinearPredictor, Objective, ScalarModel};
pub use two_layer::{LinearizedTwoLayer, OuterLayer, Scaling, TwoLayer, TwoLayerConfig};
