//! A labelled dataset stored row-major in `f64`.

use crate::DataError;

/// Points `x_n` in R^d (row-major, `n * d` values) with real labels `y_n`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    x: Vec<f64>,
    y: Vec<f64>,
    dim: usize,
}

impl Dataset {
    /// Builds a dataset, checking shapes and finiteness.
    pub fn new(x: Vec<f64>, y: Vec<f64>, dim: usize) -> Result<Self, DataError> {
        if dim == 0 {
            return Err(DataError::Invalid("dataset has no features".into()));
        }
        if y.is_empty() {
            return Err(DataError::Invalid("dataset has no rows".into()));
        }
        if x.len() != y.len() * dim {
            return Err(DataError::Invalid(format!(
                "x has {} values, expected {} rows x {} features",
                x.len(),
                y.len(),
                dim
            )));
        }
        if let Some(i) = x.iter().chain(&y).position(|v| !v.is_finite()) {
            return Err(DataError::Invalid(format!(
                "non-finite value at flat index {i}"
            )));
        }
        Ok(Self { x, y, dim })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there are no points (never for a constructed dataset).
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Input dimension d.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Row-major inputs, `len() * dim()` values.
    pub fn x(&self) -> &[f64] {
        &self.x
    }

    /// Labels.
    pub fn y(&self) -> &[f64] {
        &self.y
    }

    /// The n-th input row.
    pub fn row(&self, n: usize) -> &[f64] {
        &self.x[n * self.dim..(n + 1) * self.dim]
    }

    /// Rows `z_n = y_n x_n`, row-major: the margin of a linear predictor beta is `z_n . beta`.
    pub fn signed_rows(&self) -> Vec<f64> {
        self.x
            .chunks(self.dim)
            .zip(&self.y)
            .flat_map(|(row, &y)| row.iter().map(move |v| v * y))
            .collect()
    }

    /// The same data with every input row scaled to unit Euclidean norm (Du et al.'s setting);
    /// a zero row is an error naming it.
    pub fn with_unit_rows(&self) -> Result<Dataset, DataError> {
        let mut x = self.x.clone();
        for (n, row) in x.chunks_mut(self.dim).enumerate() {
            let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm == 0.0 {
                return Err(DataError::Invalid(format!(
                    "input row {} is zero and cannot be scaled to unit norm",
                    n + 1
                )));
            }
            row.iter_mut().for_each(|v| *v /= norm);
        }
        Dataset::new(x, self.y.clone(), self.dim)
    }

    /// The inputs with a constant 1 appended to every row (`[n, d + 1]`, row-major): the bias
    /// coordinate of a bias-free (homogeneous) model.
    pub fn x_with_constant(&self) -> Vec<f64> {
        self.x
            .chunks(self.dim)
            .flat_map(|row| row.iter().copied().chain([1.0]))
            .collect()
    }

    /// Checks that every label is -1 or +1 (binary classification).
    pub fn require_binary_labels(&self) -> Result<(), DataError> {
        match self.y.iter().position(|&v| v != 1.0 && v != -1.0) {
            None => Ok(()),
            Some(n) => Err(DataError::Invalid(format!(
                "label y = {} at data row {} is not -1 or +1",
                self.y[n],
                n + 1
            ))),
        }
    }
}
