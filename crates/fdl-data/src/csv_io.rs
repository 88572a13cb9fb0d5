//! CSV in/out with the columns `x0,...,x{d-1},y` and a header row.

use crate::{DataError, Dataset};
use std::path::Path;

/// Reads a dataset from `path`; errors name the file, row and column.
pub fn read_csv(path: &Path) -> Result<Dataset, DataError> {
    let io_err = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(file);
    let header = reader.headers().map_err(|e| csv_error(path, &e))?.clone();
    let dim = check_header(path, &header)?;

    let mut x = Vec::new();
    let mut y = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = record.map_err(|e| csv_error(path, &e))?;
        if record.len() != dim + 1 {
            return Err(DataError::Csv {
                path: path.to_path_buf(),
                row,
                message: format!("expected {} fields, found {}", dim + 1, record.len()),
            });
        }
        for (j, cell) in record.iter().enumerate() {
            let value: f64 = cell.parse().map_err(|_| DataError::Cell {
                path: path.to_path_buf(),
                row,
                column: header[j].to_string(),
                message: format!("'{cell}' is not a number"),
            })?;
            if !value.is_finite() {
                return Err(DataError::Cell {
                    path: path.to_path_buf(),
                    row,
                    column: header[j].to_string(),
                    message: format!("'{cell}' is not finite"),
                });
            }
            if j < dim {
                x.push(value)
            } else {
                y.push(value)
            }
        }
    }
    if y.is_empty() {
        return Err(DataError::Invalid(format!(
            "{}: no data rows",
            path.display()
        )));
    }
    Dataset::new(x, y, dim)
}

/// Checks the header and returns the input dimension.
fn check_header(path: &Path, header: &csv::StringRecord) -> Result<usize, DataError> {
    let bad = |message: String| DataError::Header {
        path: path.to_path_buf(),
        message,
    };
    let names: Vec<&str> = header.iter().collect();
    let Some((last, features)) = names.split_last() else {
        return Err(bad("empty header".into()));
    };
    if *last != "y" {
        return Err(bad(format!("last column is '{last}', not 'y'")));
    }
    if features.is_empty() {
        return Err(bad("no feature columns".into()));
    }
    for (j, name) in features.iter().enumerate() {
        if *name != format!("x{j}") {
            return Err(bad(format!(
                "column {} is '{name}', expected 'x{j}'",
                j + 1
            )));
        }
    }
    Ok(features.len())
}

fn csv_error(path: &Path, e: &csv::Error) -> DataError {
    DataError::Csv {
        path: path.to_path_buf(),
        row: e.position().map_or(0, |p| p.line() as usize),
        message: e.to_string(),
    }
}

/// Writes `data` with a header `x0,...,x{d-1},y`; values round-trip exactly.
pub fn write_csv(data: &Dataset, writer: impl std::io::Write) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(writer);
    let mut header: Vec<String> = (0..data.dim()).map(|j| format!("x{j}")).collect();
    header.push("y".into());
    w.write_record(&header)?;
    for n in 0..data.len() {
        let mut record: Vec<String> = data.row(n).iter().map(|v| format!("{v:?}")).collect();
        record.push(format!("{:?}", data.y()[n]));
        w.write_record(&record)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{gaussian_random_labels, rng_from_seed};

    fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("fdl-data-{}-{name}", std::process::id()));
        std::fs::write(&dir, contents).unwrap();
        dir
    }

    #[test]
    fn round_trip_is_exact() {
        let data = gaussian_random_labels(6, 3, &mut rng_from_seed(1));
        let mut buf = Vec::new();
        write_csv(&data, &mut buf).unwrap();
        let path = temp_file("rt.csv", std::str::from_utf8(&buf).unwrap());
        assert_eq!(read_csv(&path).unwrap(), data);
    }

    #[test]
    fn bad_cell_names_row_and_column() {
        let path = temp_file("bad.csv", "x0,x1,y\n1,2,1\n3,abc,-1\n");
        let err = read_csv(&path).unwrap_err().to_string();
        assert!(
            err.contains("row 3") && err.contains("'x1'") && err.contains("abc"),
            "{err}"
        );
    }

    #[test]
    fn bad_header_is_rejected() {
        let path = temp_file("hdr.csv", "a,b,label\n1,2,1\n");
        let err = read_csv(&path).unwrap_err().to_string();
        assert!(err.contains("bad header"), "{err}");
    }

    #[test]
    fn ragged_row_is_rejected() {
        let path = temp_file("ragged.csv", "x0,x1,y\n1,2,1\n3,-1\n");
        let err = read_csv(&path).unwrap_err().to_string();
        assert!(err.contains("row 3"), "{err}");
    }
}
