//! A symmetric matrix as CSV: `d` rows of `d` numbers, no header (strict-saddle's M).

use crate::DataError;
use std::path::Path;

/// A symmetric matrix, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct SymmetricMatrix {
    /// The entries, row-major `[dim, dim]`.
    pub values: Vec<f64>,
    /// Rows (= columns).
    pub dim: usize,
}

/// Largest |M_ij - M_ji| allowed, relative to the largest |M_ij|.
const SYMMETRY_TOLERANCE: f64 = 1e-12;

/// Reads a symmetric matrix; errors name the file, row and column (1-based).
pub fn read_symmetric_csv(path: &Path) -> Result<SymmetricMatrix, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(file);
    let cell = |row: usize, column: usize, message: String| DataError::Cell {
        path: path.to_path_buf(),
        row,
        column: format!("column {column}"),
        message,
    };
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| DataError::Csv {
            path: path.to_path_buf(),
            row: i + 1,
            message: e.to_string(),
        })?;
        let row = record
            .iter()
            .enumerate()
            .map(|(j, text)| match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(cell(
                    i + 1,
                    j + 1,
                    format!("'{text}' is not a finite number"),
                )),
            })
            .collect::<Result<Vec<f64>, _>>()?;
        rows.push(row);
    }
    let dim = rows.len();
    if dim == 0 {
        return Err(DataError::Invalid(format!("{}: no rows", path.display())));
    }
    if let Some((i, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != dim) {
        return Err(DataError::Csv {
            path: path.to_path_buf(),
            row: i + 1,
            message: format!(
                "{} numbers, but the file has {dim} rows: a {dim} x {dim} matrix needs {dim} per row",
                row.len()
            ),
        });
    }
    let scale = rows.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    let asymmetric = (0..dim)
        .flat_map(|i| (0..i).map(move |j| (i, j)))
        .find(|&(i, j)| (rows[i][j] - rows[j][i]).abs() > SYMMETRY_TOLERANCE * scale);
    if let Some((i, j)) = asymmetric {
        return Err(cell(
            i + 1,
            j + 1,
            format!(
                "{} but row {}, column {} is {}: M must be symmetric",
                rows[i][j],
                j + 1,
                i + 1,
                rows[j][i]
            ),
        ));
    }
    Ok(SymmetricMatrix {
        values: rows.into_iter().flatten().collect(),
        dim,
    })
}

/// Writes a matrix as [`read_symmetric_csv`] reads it (full precision).
pub fn write_symmetric_csv(m: &SymmetricMatrix) -> String {
    m.values
        .chunks(m.dim)
        .map(|row| {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:e}")).collect();
            cells.join(",") + "\n"
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<SymmetricMatrix, DataError> {
        let path = std::env::temp_dir().join(format!(
            "fdl-matrix-{}-{}.csv",
            std::process::id(),
            text.len()
        ));
        std::fs::write(&path, text).unwrap();
        let m = read_symmetric_csv(&path);
        std::fs::remove_file(&path).unwrap();
        m
    }

    #[test]
    fn reads_and_writes_a_symmetric_matrix() {
        let m = read("2, 1\n1, 3\n").unwrap();
        assert_eq!((m.dim, m.values.clone()), (2, vec![2.0, 1.0, 1.0, 3.0]));
        assert_eq!(read(&write_symmetric_csv(&m)).unwrap(), m);
    }

    #[test]
    fn bad_matrices_name_row_and_column() {
        let err = |t: &str| read(t).unwrap_err().to_string();
        assert!(err("1,2\n3,4\n").contains("row 2, column 'column 1': 3 but row 1, column 2 is 2"));
        assert!(err("1,2\n2\n").contains("row 2: 1 numbers, but the file has 2 rows"));
        assert!(err("1,x\nx,1\n").contains("row 1, column 'column 2': 'x' is not a finite number"));
        assert!(err("").contains("no rows"));
    }
}
