//! The experiments, one module each, in one ordered registry (`fdl list` reads it).

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
mod require;
mod steepest_descent;

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
pub use steepest_descent::{SteepestDescent, SteepestDescentConfig};

use crate::experiment::{Experiment, Registered};
use std::marker::PhantomData;

static DEPTH_CONV: Registered<DepthConv> = Registered(PhantomData);
static DEPTH_LINEAR: Registered<DepthLinear> = Registered(PhantomData);
static GD_GLOBAL_MIN: Registered<GdGlobalMin> = Registered(PhantomData);
static HOMOGENEOUS_MARGIN: Registered<HomogeneousMargin> = Registered(PhantomData);
static KERNEL_VS_RICH: Registered<KernelVsRich> = Registered(PhantomData);
static LAZY_DRIFT: Registered<LazyDrift> = Registered(PhantomData);
static LOGISTIC_MAX_MARGIN: Registered<LogisticMaxMargin> = Registered(PhantomData);
static NTK_VS_REGULARIZED: Registered<NtkVsRegularized> = Registered(PhantomData);
static OVERPARAM_GENERALIZATION: Registered<OverparamGeneralization> = Registered(PhantomData);
static OVERPARAM_MARGIN: Registered<OverparamMargin> = Registered(PhantomData);
static STEEPEST_DESCENT: Registered<SteepestDescent> = Registered(PhantomData);

/// Every experiment, in catalogue order.
pub fn registry() -> [&'static dyn Experiment; 11] {
    [
        &GD_GLOBAL_MIN,
        &LAZY_DRIFT,
        &OVERPARAM_GENERALIZATION,
        &OVERPARAM_MARGIN,
        &NTK_VS_REGULARIZED,
        &HOMOGENEOUS_MARGIN,
        &LOGISTIC_MAX_MARGIN,
        &STEEPEST_DESCENT,
        &KERNEL_VS_RICH,
        &DEPTH_LINEAR,
        &DEPTH_CONV,
    ]
}

/// Looks an experiment up by name.
pub fn find(name: &str) -> Option<&'static dyn Experiment> {
    registry().into_iter().find(|e| e.name() == name)
}
