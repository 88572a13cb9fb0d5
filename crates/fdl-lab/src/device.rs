//! Backend and dtype selection: the only place that knows which backends are compiled in.

use crate::error::LabError;
use burn::tensor::{Device, FloatDType};
use serde::{Deserialize, Serialize};

/// A Burn backend compiled into this binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Burn's pure-Rust CPU backend (gemm, rayon, SIMD): the default.
    Flex,
    /// Burn's ndarray CPU backend (feature `ndarray`; deprecated upstream).
    Ndarray,
    /// wgpu: a GPU, or software Vulkan (lavapipe) where none exists (feature `wgpu`).
    Wgpu,
}

/// Floating-point precision of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats.
    F32,
    /// 64-bit floats (implicit-bias experiments: margins pass 745 and exp underflows).
    F64,
}

impl BackendKind {
    /// The backends compiled into this build.
    pub fn compiled() -> Vec<BackendKind> {
        let mut kinds = vec![BackendKind::Flex];
        if cfg!(feature = "ndarray") {
            kinds.push(BackendKind::Ndarray);
        }
        if cfg!(feature = "wgpu") {
            kinds.push(BackendKind::Wgpu);
        }
        kinds
    }

    /// Lower-case name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Flex => "flex",
            BackendKind::Ndarray => "ndarray",
            BackendKind::Wgpu => "wgpu",
        }
    }
}

impl Precision {
    /// Lower-case name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }
}

fn base_device(kind: BackendKind) -> Result<Device, LabError> {
    let missing = |feature: &str| {
        LabError::Usage(format!(
            "device '{}' is not compiled in; rebuild with `--features {feature}` (compiled: {})",
            kind.name(),
            BackendKind::compiled()
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    match kind {
        BackendKind::Flex => Ok(Device::flex()),
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        BackendKind::Ndarray => Ok(Device::ndarray()),
        #[cfg(not(feature = "ndarray"))]
        BackendKind::Ndarray => Err(missing("ndarray")),
        #[cfg(feature = "wgpu")]
        BackendKind::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
        #[cfg(not(feature = "wgpu"))]
        BackendKind::Wgpu => Err(missing("wgpu")),
    }
}

/// An autodiff device of `kind` whose default float type is `dtype`.
///
/// Burn fixes a device's dtype at its first use, process-wide: asking for a second dtype on the
/// same backend in one process is an error.
pub fn init_device(kind: BackendKind, dtype: Precision) -> Result<Device, LabError> {
    let mut device = base_device(kind)?;
    let float = match dtype {
        Precision::F32 => FloatDType::F32,
        Precision::F64 => FloatDType::F64,
    };
    if let Err(e) = device.configure(float) {
        // Already fixed earlier in this process: fine if it is the dtype we want.
        if device.settings().float_dtype != float {
            return Err(LabError::Device(format!(
                "cannot run {} in {}: {e}",
                kind.name(),
                dtype.name()
            )));
        }
    }
    Ok(device.autodiff())
}
