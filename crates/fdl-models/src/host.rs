//! Moving numbers between host `f64` vectors and Burn tensors.

use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand_distr::{Distribution, Normal};

/// Reads a float tensor back to the host as `f64`, whatever its dtype.
pub fn to_host<const D: usize>(tensor: Tensor<D>) -> Vec<f64> {
    tensor
        .into_data()
        .try_into_vec_as::<f64>()
        .expect("float tensor data converts to f64")
}

/// A `[len]` tensor from host values, in the device's float dtype.
pub fn tensor1_from_host(values: &[f64], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

/// A `[rows, cols]` tensor from row-major host values, in the device's float dtype.
pub fn tensor2_from_host(values: &[f64], rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    assert_eq!(
        values.len(),
        rows * cols,
        "host buffer does not match [{rows}, {cols}]"
    );
    Tensor::from_data(TensorData::new(values.to_vec(), [rows, cols]), device)
}

/// Entries drawn i.i.d. from N(0, std^2) on the host, so every backend gets the same numbers.
pub fn normal_tensor<const D: usize>(
    shape: [usize; D],
    std: f64,
    rng: &mut impl Rng,
    device: &Device,
) -> Tensor<D> {
    let normal = Normal::new(0.0, std).expect("standard deviation is finite and non-negative");
    let len = shape.iter().product();
    let values: Vec<f64> = (0..len).map(|_| normal.sample(rng)).collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}
