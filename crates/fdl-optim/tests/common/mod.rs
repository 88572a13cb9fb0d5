//! Shared by the training tests: the flex autodiff device in f64, configured once per binary.

use burn::tensor::{Device, FloatDType};
use std::sync::OnceLock;

/// The flex autodiff device in f64.
pub fn device() -> Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d = Device::flex();
            d.configure(FloatDType::F64).expect("configure f64 once");
            d.autodiff()
        })
        .clone()
}
