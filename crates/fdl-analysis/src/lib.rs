//! Margins, Fourier spectra, infinite-width kernels, spectra, and exact convex reference
//! solvers for fdl.
//!
//! Everything here works on plain host `f64` slices: analysis does not care which backend or
//! model produced a predictor. Reference solutions are exact convex programs solved by Clarabel
//! (an interior-point solver for QPs and second-order cone programs), never trained models.

#![warn(missing_docs)]

mod fourier;
mod kernels;
mod kkt;
mod margin;
mod sgd_rate;
mod solvers;
mod spectral;
mod vector;

pub use fourier::{FourierSummary, dft, fourier_norm, fourier_summary};
pub use kernels::{
    MlpKernels, du_kernel, relu_feature_kernel, relu_mlp_kernels, two_layer_relu_ntk,
};
pub use kkt::{BridgeKkt, bridge_kkt_residual};
pub use margin::{
    inverse_logistic, min_margin, norm_power, normalized_margin_fourier, normalized_margin_l2,
    smoothed_normalized_margin,
};
pub use sgd_rate::{least_squares_spectrum, sgd_rate};
pub use solvers::{
    ALMOST_SOLVED_RESIDUAL, KernelPredictor, LiftedMargin, MaxMargin, SolveStatus, SolverError,
    fourier_l1_max_margin, fourier_l1_nearest_optimum, kernel_ridge, kernel_svm, l2_max_margin,
    lifted_l1_margin, lp_max_margin, lp_norm, min_l1_interpolant, min_l2_interpolant, q_alpha,
    q_alpha_interpolant, relu_feature_sup,
};
pub use spectral::{TopSingular, kernel_gd_predictions, symmetric_eigenvalues, top_singular};
pub use vector::{FitError, cosine, dot, linear_slope, loglog_slope, norm2};
