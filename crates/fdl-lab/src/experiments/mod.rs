//! fdl's experiments, one module each, in catalogue order (`fdl list` reads it).

mod benign_landscape;
mod depth_conv;
mod depth_linear;
mod gd_global_min;
mod homogeneous_margin;
mod implicit_bias;
mod kernel_vs_rich;
mod lazy_drift;
mod logistic_max_margin;
mod ntk_vs_regularized;
mod overparam_generalization;
mod overparam_margin;
mod sgd_interpolation;
mod steepest_descent;
mod strict_saddle;

pub use benign_landscape::{BenignLandscape, BenignLandscapeConfig};
pub use depth_conv::{DepthConv, DepthConvConfig};
pub use depth_linear::{DepthLinear, DepthLinearConfig};
pub use gd_global_min::{GdGlobalMin, GdGlobalMinConfig};
pub use homogeneous_margin::{HomogeneousMargin, HomogeneousMarginConfig};
pub use kernel_vs_rich::{KernelVsRich, KernelVsRichConfig};
pub use lazy_drift::{LazyDrift, LazyDriftConfig};
pub use logistic_max_margin::{LogisticMaxMargin, LogisticMaxMarginConfig};
pub use ntk_vs_regularized::{NtkVsRegularized, NtkVsRegularizedConfig};
pub use overparam_generalization::{OverparamGeneralization, OverparamGeneralizationConfig};
pub use overparam_margin::{OverparamMargin, OverparamMarginConfig};
pub use sgd_interpolation::{SgdInterpolation, SgdInterpolationConfig};
pub use steepest_descent::{SteepestDescent, SteepestDescentConfig};
pub use strict_saddle::{StrictSaddle, StrictSaddleConfig};

use crate::experiment::{DynExperiment, Pipeline};
use std::marker::PhantomData;

/// fdl's experiments, in catalogue order (what `Lab::with_builtins` registers).
pub fn builtins() -> Vec<Box<dyn DynExperiment>> {
    vec![
        Box::new(Pipeline::<StrictSaddle>(PhantomData)),
        Box::new(Pipeline::<BenignLandscape>(PhantomData)),
        Box::new(Pipeline::<GdGlobalMin>(PhantomData)),
        Box::new(Pipeline::<LazyDrift>(PhantomData)),
        Box::new(Pipeline::<SgdInterpolation>(PhantomData)),
        Box::new(Pipeline::<OverparamGeneralization>(PhantomData)),
        Box::new(Pipeline::<OverparamMargin>(PhantomData)),
        Box::new(Pipeline::<NtkVsRegularized>(PhantomData)),
        Box::new(Pipeline::<HomogeneousMargin>(PhantomData)),
        Box::new(Pipeline::<LogisticMaxMargin>(PhantomData)),
        Box::new(Pipeline::<SteepestDescent>(PhantomData)),
        Box::new(Pipeline::<KernelVsRich>(PhantomData)),
        Box::new(Pipeline::<DepthLinear>(PhantomData)),
        Box::new(Pipeline::<DepthConv>(PhantomData)),
    ]
}
