//! Datasets for fdl: a plain row-major container, seeded synthetic generators, and CSV in/out.
//!
//! Everything here is host-side `f64`: data are generated on the CPU from a seed so that every
//! backend trains on the same numbers, and moved to a Burn device by the layers above.

#![warn(missing_docs)]

mod csv_io;
mod dataset;
mod digits;
mod error;
mod matrix_csv;
mod seeds;
mod synthetic;

pub use csv_io::{read_csv, write_csv};
pub use dataset::Dataset;
pub use digits::{
    DIGITS_PIXELS, DIGITS_ROWS, DIGITS_SPLIT_SEED, DigitsSplit, DigitsTask, digits, digits_split,
};
pub use error::DataError;
pub use matrix_csv::{SymmetricMatrix, read_symmetric_csv, write_symmetric_csv};
pub use seeds::{cell_seed, stream_rng};
pub use synthetic::{
    OFF_MARGIN, XorNoise, asymmetric_gaussian_2d, gaussian_difference_labels,
    gaussian_random_labels, normal_values, rng_from_seed, sine_boundary_2d, soudry_2d,
    sparse_regression, sphere_gaussian_targets, xor_cube,
};
