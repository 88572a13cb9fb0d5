//! The device of the benches that also time GPUs: `FDL_BENCH_DEVICE` names the backend (flex,
//! wgpu or cuda, the latter two compiled in with their features); flex when unset.

use burn::tensor::Device;
use fdl_lab::device::{BackendKind, Precision, init_device};

/// The backend `FDL_BENCH_DEVICE` names, set up in `dtype`; panics with the reason otherwise.
pub fn bench_device(dtype: Precision) -> Device {
    let name = std::env::var("FDL_BENCH_DEVICE").unwrap_or_else(|_| "flex".to_string());
    let kind: BackendKind = serde_json::from_value(serde_json::Value::String(name.clone()))
        .unwrap_or_else(|e| panic!("FDL_BENCH_DEVICE={name}: {e}"));
    init_device(kind, dtype).unwrap_or_else(|e| panic!("FDL_BENCH_DEVICE={name}: {e}"))
}
