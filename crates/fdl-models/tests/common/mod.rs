//! Shared by the model tests: the flex autodiff device, its precision fixed once per test binary.

use burn::tensor::{Device, FloatDType};
use std::sync::OnceLock;

/// The flex autodiff device in `dtype`; every call in one test binary must ask for the same one.
pub fn flex_autodiff(dtype: FloatDType) -> Device {
    static DEVICE: OnceLock<(FloatDType, Device)> = OnceLock::new();
    let (fixed, device) = DEVICE.get_or_init(|| {
        let mut d = Device::flex();
        d.configure(dtype).expect("configure the dtype once");
        (dtype, d.autodiff())
    });
    assert_eq!(*fixed, dtype, "one dtype per test binary");
    device.clone()
}
