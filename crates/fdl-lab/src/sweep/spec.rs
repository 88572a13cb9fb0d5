//! The sweep specification: an experiment, fixed overrides, a grid (cartesian axes plus zipped
//! axes) and seeds, expanded into cells with stable indices.
//!
//! ```toml
//! experiment = "depth-conv"
//! quick = true              # the experiment's --quick overrides (optional)
//! seeds = "0..32"           # or [0, 1, 5], or "0..=31", or 7
//!
//! [set]                     # fixed overrides, as --set (dotted keys for nested tables)
//! "training.steps" = 20000
//!
//! [grid]                    # cartesian product, the last axis varying fastest
//! "training.init_std" = [0.01, 0.1]
//!
//! [zip]                     # axes that advance together (equal lengths)
//! n = [100, 200]
//! dim = [50, 100]
//!
//! [[plot]]                  # figures of `fdl sweep collect` (optional)
//! x = "conv.*.depth"        # a grid or zip axis, "seed", or a headline path (* = every element)
//! y = "conv.*.fourier_l1_over_l2"   # a headline path, or "check:<check name>"
//! ```
//!
//! Cell `i` is grid point `i / seeds` (grid axes outer, zip index inner) at seed
//! `seeds[i % seeds]`, so adding seeds or grid values renumbers cells: a sweep folder is tied to
//! its spec (see `Sweep::open`).

use crate::error::ConfigError;
use std::path::Path;
use toml::{Table, Value};

/// One figure of the aggregate: `y` against `x`, mean and 95% interval over seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotSpec {
    /// A grid or zip axis, `seed`, or a headline path (`*` stands for every array element).
    pub x: String,
    /// A headline path or `check:<name>`.
    pub y: String,
}

/// A parsed sweep specification.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    /// The experiment every cell runs.
    pub experiment: String,
    /// Apply the experiment's `--quick` overrides.
    pub quick: bool,
    /// Seeds, in order.
    pub seeds: Vec<u64>,
    /// Fixed overrides, in order.
    pub set: Vec<(String, Value)>,
    /// Cartesian axes, outer first.
    pub grid: Vec<(String, Vec<Value>)>,
    /// Zipped axes (equal lengths).
    pub zip: Vec<(String, Vec<Value>)>,
    /// Figures of the aggregate.
    pub plots: Vec<PlotSpec>,
}

/// One cell: a grid point at one seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Stable index (`fdl sweep cell --index`).
    pub index: usize,
    /// Index of the grid point (cells differing only in seed share it).
    pub point: usize,
    /// The seed.
    pub seed: u64,
    /// The point's axis values, grid axes then zip axes.
    pub values: Vec<(String, Value)>,
}

/// Keys a spec may have at its top level.
const SPEC_KEYS: [&str; 7] = ["experiment", "quick", "seeds", "set", "grid", "zip", "plot"];

impl SweepSpec {
    /// A spec of `experiment` at `seeds` with no grid.
    pub fn seeds_only(experiment: &str, quick: bool, seeds: Vec<u64>) -> Self {
        Self {
            experiment: experiment.to_string(),
            quick,
            seeds,
            set: Vec::new(),
            grid: Vec::new(),
            zip: Vec::new(),
            plots: Vec::new(),
        }
    }

    /// Reads a spec file; errors name the file and the key.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let fail = |message: String| ConfigError::File {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let table: Table = text
            .parse()
            .map_err(|e: toml::de::Error| fail(e.to_string().trim_end().replace('\n', " ")))?;
        Self::from_table(table).map_err(fail)
    }

    /// Parses a spec table.
    pub fn from_table(mut table: Table) -> Result<Self, String> {
        if let Some(key) = table.keys().find(|k| !SPEC_KEYS.contains(&k.as_str())) {
            return Err(format!(
                "unknown key `{key}`; a sweep spec has {}",
                SPEC_KEYS.join(", ")
            ));
        }
        let experiment = match table.remove("experiment") {
            Some(Value::String(s)) => s,
            Some(_) => return Err("`experiment` must be a string".into()),
            None => {
                return Err("missing key `experiment` (e.g. experiment = \"depth-conv\")".into());
            }
        };
        let quick = match table.remove("quick") {
            None => false,
            Some(Value::Boolean(b)) => b,
            Some(_) => return Err("`quick` must be true or false".into()),
        };
        let seeds = match table.remove("seeds") {
            None => vec![0],
            Some(v) => parse_seeds(&v).map_err(|e| format!("seeds: {e}"))?,
        };
        let set = pairs(table.remove("set"), "set")?;
        let grid = axes(table.remove("grid"), "grid")?;
        let zip = axes(table.remove("zip"), "zip")?;
        if let Some((first, values)) = zip.first()
            && let Some((key, other)) = zip.iter().find(|(_, v)| v.len() != values.len())
        {
            return Err(format!(
                "zip: `{key}` has {} values but `{first}` has {}; zipped axes advance together",
                other.len(),
                values.len()
            ));
        }
        let mut seen: Vec<&str> = Vec::new();
        let keys = set.iter().map(|(k, _)| k);
        for key in keys.chain(grid.iter().chain(&zip).map(|(k, _)| k)) {
            check_key(key, &mut seen)?;
        }
        let plots = match table.remove("plot") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::Table(mut t) => {
                        let mut field = |name: &str| match t.remove(name) {
                            Some(Value::String(s)) => Ok(s),
                            _ => Err(format!("[[plot]] needs a string `{name}`")),
                        };
                        let plot = PlotSpec {
                            x: field("x")?,
                            y: field("y")?,
                        };
                        match t.keys().next() {
                            Some(k) => Err(format!("[[plot]]: unknown key `{k}` (x, y)")),
                            None => Ok(plot),
                        }
                    }
                    _ => Err("[[plot]] entries are tables with x and y".into()),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("`plot` is an array of tables ([[plot]])".into()),
        };
        Ok(Self {
            experiment,
            quick,
            seeds,
            set,
            grid,
            zip,
            plots,
        })
    }

    /// Whether `other` has the same cells (plots aside): what a sweep folder is tied to.
    pub fn same_cells(&self, other: &SweepSpec) -> bool {
        (
            &self.experiment,
            self.quick,
            &self.seeds,
            &self.set,
            &self.grid,
            &self.zip,
        ) == (
            &other.experiment,
            other.quick,
            &other.seeds,
            &other.set,
            &other.grid,
            &other.zip,
        )
    }

    /// The spec as TOML (what `from_table` reads back).
    pub fn to_toml(&self) -> String {
        let mut t = Table::new();
        t.insert("experiment".into(), Value::String(self.experiment.clone()));
        t.insert("quick".into(), Value::Boolean(self.quick));
        t.insert(
            "seeds".into(),
            Value::Array(
                self.seeds
                    .iter()
                    .map(|&s| Value::Integer(s as i64))
                    .collect(),
            ),
        );
        let table =
            |pairs: &[(String, Value)]| Value::Table(pairs.iter().cloned().collect::<Table>());
        let arrays = |axes: &[(String, Vec<Value>)]| {
            Value::Table(
                axes.iter()
                    .map(|(k, v)| (k.clone(), Value::Array(v.clone())))
                    .collect(),
            )
        };
        t.insert("set".into(), table(&self.set));
        t.insert("grid".into(), arrays(&self.grid));
        t.insert("zip".into(), arrays(&self.zip));
        if !self.plots.is_empty() {
            let plots = self.plots.iter().map(|p| {
                let mut pt = Table::new();
                pt.insert("x".into(), Value::String(p.x.clone()));
                pt.insert("y".into(), Value::String(p.y.clone()));
                Value::Table(pt)
            });
            t.insert("plot".into(), Value::Array(plots.collect()));
        }
        toml::to_string(&t).expect("a spec serializes")
    }

    /// Number of grid points (1 without axes).
    pub fn points(&self) -> usize {
        let grid: usize = self.grid.iter().map(|(_, v)| v.len()).product();
        grid * self.zip.first().map_or(1, |(_, v)| v.len())
    }

    /// The axis names of a grid point, grid axes then zip axes.
    pub fn axes(&self) -> Vec<&str> {
        self.grid
            .iter()
            .chain(&self.zip)
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// The axis values of grid point `point`.
    pub fn point_values(&self, point: usize) -> Vec<(String, Value)> {
        let zip_len = self.zip.first().map_or(1, |(_, v)| v.len());
        let (mut rest, z) = (point / zip_len, point % zip_len);
        let mut grid: Vec<(String, Value)> = self
            .grid
            .iter()
            .rev()
            .map(|(k, values)| {
                let v = values[rest % values.len()].clone();
                rest /= values.len();
                (k.clone(), v)
            })
            .collect();
        grid.reverse();
        grid.extend(self.zip.iter().map(|(k, v)| (k.clone(), v[z].clone())));
        grid
    }

    /// Every cell, in index order.
    pub fn cells(&self) -> Vec<Cell> {
        (0..self.points())
            .flat_map(|point| {
                let values = self.point_values(point);
                self.seeds.iter().enumerate().map(move |(k, &seed)| Cell {
                    index: point * self.seeds.len() + k,
                    point,
                    seed,
                    values: values.clone(),
                })
            })
            .collect()
    }
}

/// Seeds as `"a..b"` (b excluded), `"a..=b"`, a list of integers, or one integer.
pub fn parse_seeds(value: &Value) -> Result<Vec<u64>, String> {
    let one = |v: &Value| match v {
        Value::Integer(i) if *i >= 0 => Ok(*i as u64),
        other => Err(format!("{other} is not a seed (a non-negative integer)")),
    };
    let seeds = match value {
        Value::String(s) => parse_seed_range(s)?,
        Value::Array(items) => items.iter().map(one).collect::<Result<_, _>>()?,
        v => vec![one(v)?],
    };
    if seeds.is_empty() {
        return Err(format!("{value} names no seed"));
    }
    let mut sorted = seeds.clone();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("seed {} appears twice", w[0]));
    }
    Ok(seeds)
}

/// `"a..b"` (b excluded) or `"a..=b"`.
pub fn parse_seed_range(text: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("'{text}': expected a range like 0..10 or 0..=9, or a list [0, 3, 7]");
    let (a, b, inclusive) = match text.split_once("..=") {
        Some((a, b)) => (a, b, true),
        None => {
            let (a, b) = text.split_once("..").ok_or_else(bad)?;
            (a, b, false)
        }
    };
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    let end = if inclusive {
        b.checked_add(1).ok_or_else(bad)?
    } else {
        b
    };
    if end <= a {
        return Err(format!("'{text}' is empty"));
    }
    Ok((a..end).collect())
}

/// `[set]`'s key-value pairs.
fn pairs(value: Option<Value>, name: &str) -> Result<Vec<(String, Value)>, String> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Table(t)) => Ok(flatten(t, "")),
        Some(_) => Err(format!("`{name}` must be a table ([{name}])")),
    }
}

/// Nested tables as dotted keys: `[set.training] steps = 1` is `training.steps = 1`.
fn flatten(table: Table, prefix: &str) -> Vec<(String, Value)> {
    table
        .into_iter()
        .flat_map(|(k, v)| {
            let key = format!("{prefix}{k}");
            match v {
                Value::Table(t) => flatten(t, &format!("{key}.")),
                v => vec![(key, v)],
            }
        })
        .collect()
}

/// `[grid]` or `[zip]`: each key a non-empty array of values.
fn axes(value: Option<Value>, name: &str) -> Result<Vec<(String, Vec<Value>)>, String> {
    pairs(value, name)?
        .into_iter()
        .map(|(k, v)| match v {
            Value::Array(values) if !values.is_empty() => Ok((k, values)),
            Value::Array(_) => Err(format!("{name}: `{k}` has no values")),
            v => Err(format!(
                "{name}: `{k}` = {v} is not an array of values (e.g. {k} = [1, 2, 3])"
            )),
        })
        .collect()
}

/// A key set at most once across set, grid and zip, and never the seed.
fn check_key<'a>(key: &'a str, seen: &mut Vec<&'a str>) -> Result<(), String> {
    if key == "seed" {
        return Err("`seed` is the sweep's `seeds` key, not an override".into());
    }
    if seen.contains(&key) {
        return Err(format!("`{key}` is given twice (in set, grid or zip)"));
    }
    seen.push(key);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<SweepSpec, String> {
        SweepSpec::from_table(text.parse().unwrap())
    }

    #[test]
    fn cells_are_grid_points_times_seeds_with_the_last_axis_fastest() {
        let s = spec(
            r#"
            experiment = "depth-conv"
            seeds = "3..5"
            [set]
            training.steps = 100
            [grid]
            a = [1, 2]
            b = ["x", "y", "z"]
            [zip]
            n = [10, 20]
            d = [5, 6]
            "#,
        )
        .unwrap();
        assert_eq!(s.set, vec![("training.steps".into(), Value::Integer(100))]);
        let cells = s.cells();
        assert_eq!(cells.len(), 2 * 3 * 2 * 2);
        assert_eq!(s.points(), 12);
        let c = &cells[7];
        assert_eq!((c.index, c.point, c.seed), (7, 3, 4));
        let values: Vec<String> = c.values.iter().map(|(k, v)| format!("{k}={v}")).collect();
        // Point 3 = grid (a=1, b="y") at zip index 1.
        assert_eq!(values, ["a=1", "b=\"y\"", "n=20", "d=6"]);
        assert!(cells.iter().enumerate().all(|(i, c)| c.index == i));
        assert_eq!(
            SweepSpec::from_table(s.to_toml().parse().unwrap()).unwrap(),
            s
        );
    }

    #[test]
    fn seeds_take_ranges_lists_and_single_values() {
        let p = |t: &str| parse_seeds(&t.parse::<Table>().unwrap()["s"]);
        assert_eq!(p("s = \"0..3\"").unwrap(), [0, 1, 2]);
        assert_eq!(p("s = \"2..=4\"").unwrap(), [2, 3, 4]);
        assert_eq!(p("s = [5, 1]").unwrap(), [5, 1]);
        assert_eq!(p("s = 7").unwrap(), [7]);
        assert!(p("s = \"3..3\"").unwrap_err().contains("empty"));
        assert!(p("s = [1, 1]").unwrap_err().contains("twice"));
        assert!(p("s = -1").is_err());
        assert!(p("s = \"a..b\"").unwrap_err().contains("expected a range"));
    }

    #[test]
    fn bad_specs_name_the_key() {
        let err = |t: &str| spec(t).unwrap_err();
        assert!(err("quick = true").contains("missing key `experiment`"));
        assert!(err("experiment = \"x\"\ngrids = 1").contains("unknown key `grids`"));
        assert!(err("experiment = \"x\"\n[grid]\na = 1").contains("`a` = 1 is not an array"));
        assert!(err("experiment = \"x\"\n[grid]\na = []").contains("`a` has no values"));
        assert!(err("experiment = \"x\"\n[zip]\na = [1]\nb = [1, 2]").contains("advance together"));
        assert!(err("experiment = \"x\"\n[set]\na = 1\n[grid]\na = [1]").contains("given twice"));
        assert!(err("experiment = \"x\"\n[grid]\nseed = [1]").contains("`seeds`"));
        assert!(err("experiment = \"x\"\n[[plot]]\nx = \"a\"").contains("`y`"));
    }
}
