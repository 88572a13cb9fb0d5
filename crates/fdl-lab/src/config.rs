//! Layered configuration: built-in defaults, then a TOML file, then `--set key=value`, checked
//! against the defaults so that a typo or a wrong type is an error naming the key, never a
//! silently ignored setting (nanoGPT's configurator, Hydra's override grammar).

use crate::error::ConfigError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use toml::{Table, Value};

/// Serializes a typed config into a TOML table.
pub fn to_table<C: Serialize>(config: &C) -> Table {
    match Value::try_from(config).expect("configs serialize to TOML") {
        Value::Table(t) => t,
        _ => unreachable!("a config struct serializes to a table"),
    }
}

/// Parses a `--set` value as TOML (`3`, `1e-4`, `[1, 2]`, `"text"`), or as a bare string.
fn parse_value(raw: &str) -> Value {
    let wrapped = format!("v = {raw}");
    match wrapped.parse::<Table>() {
        Ok(mut t) => t.remove("v").expect("parsed key"),
        Err(_) => Value::String(raw.to_string()),
    }
}

/// Splits `key=value`.
pub fn parse_set(arg: &str) -> Result<(String, Value), ConfigError> {
    let (key, value) = arg
        .split_once('=')
        .ok_or_else(|| ConfigError::BadSet(arg.to_string()))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(ConfigError::BadSet(arg.to_string()));
    }
    Ok((key.to_string(), parse_value(value.trim())))
}

/// Converts integers to floats where the default is a float (`--set step_size=1`).
fn coerce(default: Option<&Value>, value: Value) -> Value {
    match (default, value) {
        (Some(Value::Float(_)), Value::Integer(i)) => Value::Float(i as f64),
        (Some(Value::Array(d)), Value::Array(items)) => {
            Value::Array(items.into_iter().map(|v| coerce(d.first(), v)).collect())
        }
        (_, v) => v,
    }
}

/// A table of defaults plus the keys that may be set although they have no default.
pub struct Layers<'a> {
    /// The experiment, for messages.
    pub experiment: &'a str,
    /// The resolved table so far.
    pub table: Table,
    /// Optional keys without a default (e.g. `data`).
    pub optional: &'a [&'a str],
}

impl Layers<'_> {
    /// Applies one override; `key` may be dotted (`training.steps`) to reach into a nested
    /// table, and a table value merges key by key. Keys that are neither defaults nor optional
    /// are rejected, naming the known ones.
    pub fn set(&mut self, key: &str, value: Value) -> Result<(), ConfigError> {
        let optional = self.optional.contains(&key);
        let unknown = |table: &Table| ConfigError::UnknownKey {
            key: key.to_string(),
            experiment: self.experiment.to_string(),
            known: known_keys(table, self.optional).join(", "),
        };
        let (path, last) = match key.rsplit_once('.') {
            Some((path, last)) => (Some(path), last),
            None => (None, key),
        };
        let mut target = &mut self.table;
        for part in path.into_iter().flat_map(|p| p.split('.')) {
            match target.get(part) {
                Some(Value::Table(_)) => {}
                _ => return Err(unknown(&self.table)),
            }
            target = match target.get_mut(part) {
                Some(Value::Table(t)) => t,
                _ => unreachable!("checked above"),
            };
        }
        match (target.get(last), value) {
            (Some(Value::Table(_)), Value::Table(entries)) => {
                for (k, v) in entries {
                    self.set(&format!("{key}.{k}"), v)?;
                }
                Ok(())
            }
            (None, _) if !optional => Err(unknown(&self.table)),
            (default, value) => {
                let value = coerce(default, value);
                target.insert(last.to_string(), value);
                Ok(())
            }
        }
    }

    /// Applies every key of `overrides`.
    pub fn merge(&mut self, overrides: Table) -> Result<(), ConfigError> {
        overrides.into_iter().try_for_each(|(k, v)| self.set(&k, v))
    }
}

/// Every settable key of `table`, nested ones dotted, then the optional ones.
fn known_keys(table: &Table, optional: &[&str]) -> Vec<String> {
    fn walk(prefix: &str, table: &Table, out: &mut Vec<String>) {
        for (k, v) in table {
            let key = format!("{prefix}{k}");
            match v {
                Value::Table(t) => walk(&format!("{key}."), t, out),
                _ => out.push(key),
            }
        }
    }
    let mut keys = Vec::new();
    walk("", table, &mut keys);
    keys.extend(optional.iter().map(|k| k.to_string()));
    keys
}

/// Deserializes a resolved table into a typed config; errors name the key (dotted inside a
/// nested table).
pub fn from_table<C: DeserializeOwned>(table: Table) -> Result<C, ConfigError> {
    table.try_into::<C>().map_err(|e| {
        let text = e.to_string();
        let (message, key) = match text.trim_end().rsplit_once("\nin `") {
            Some((m, k)) => (m.to_string(), k.trim_end_matches('`').to_string()),
            None => (text.trim_end().to_string(), String::from("?")),
        };
        ConfigError::BadValue {
            key,
            message: message.replace('\n', " "),
        }
    })
}

/// One config key's documentation, from its doc comment and its declared rules.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDoc {
    /// The key.
    pub key: &'static str,
    /// Its doc comment.
    pub doc: &'static str,
    /// What each of its rules allows.
    pub allowed: Vec<String>,
    /// The keys of a nested table.
    pub nested: Option<Vec<FieldDoc>>,
}

/// The defaults of an experiment as the commented TOML of `experiments/NAME.toml`: a header,
/// the lab's keys, then every key with its doc comment and allowed values above it, nested
/// tables last.
pub fn commented_toml(
    name: &str,
    claim: &str,
    dtype: &str,
    defaults: &Table,
    fields: &[FieldDoc],
) -> String {
    let mut out = comment(&format!("{name}: {claim}"));
    out.push_str("#\n");
    out.push_str(&comment(&format!(
        "The defaults of `fdl reproduce {name}`, as `fdl config {name}` prints them (a test keeps experiments/{name}.toml equal to that output). Copy the file, edit it and run it with `fdl run my.toml`; `--set key=value` overrides any key (`table.key` inside a table)."
    )));
    out.push_str(&format!("\nexperiment = \"{name}\"\n\n"));
    out.push_str("# Seed for data generation and initialisation.\nseed = 0\n\n");
    out.push_str("# Backend: \"flex\" (CPU), \"ndarray\", \"wgpu\" or \"cuda\" (with their cargo features).\ndevice = \"flex\"\n\n");
    out.push_str(&format!(
        "# Float precision: \"f32\" or \"f64\".\ndtype = \"{dtype}\"\n\n"
    ));
    out.push_str("# A CSV file to train on instead of the generated data (relative to this file).\n# data = \"my-data.csv\"\n");
    write_keys(&mut out, "", defaults, fields);
    out
}

/// `text` as `# ` comment lines of at most 96 characters (paragraphs split at blank lines).
fn comment(text: &str) -> String {
    let mut out = String::new();
    for paragraph in text.split("\n\n") {
        let mut line = String::from("#");
        for word in paragraph.split_whitespace() {
            if line.len() + 1 + word.len() > 96 && line.len() > 1 {
                out.push_str(&line);
                out.push('\n');
                line = String::from("#");
            }
            line.push(' ');
            line.push_str(word);
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn write_keys(out: &mut String, prefix: &str, table: &Table, fields: &[FieldDoc]) {
    let doc_of = |key: &str| fields.iter().find(|f| f.key == key);
    let (tables, plain): (Vec<_>, Vec<_>) = table
        .iter()
        .partition(|(_, v)| matches!(v, Value::Table(_)));
    for (key, value) in plain {
        out.push('\n');
        if let Some(field) = doc_of(key) {
            out.push_str(&comment(field.doc));
            for allowed in &field.allowed {
                out.push_str(&comment(&format!("Allowed: {allowed}.")));
            }
        }
        out.push_str(&format!("{key} = {}\n", value_text(value)));
    }
    for (key, value) in tables {
        let Value::Table(inner) = value else {
            unreachable!("partitioned")
        };
        let nested = doc_of(key)
            .and_then(|f| f.nested.clone())
            .unwrap_or_default();
        out.push('\n');
        if let Some(field) = doc_of(key) {
            out.push_str(&comment(field.doc));
        }
        out.push_str(&format!("[{prefix}{key}]\n"));
        write_keys(out, &format!("{prefix}{key}."), inner, &nested);
    }
}

/// A value as TOML (floats keep a decimal point or exponent; infinity as `inf`).
fn value_text(value: &Value) -> String {
    match value {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(value_text).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Demo {
        steps: usize,
        rate: f64,
        depths: Vec<usize>,
    }

    fn layers() -> Layers<'static> {
        Layers {
            experiment: "demo",
            table: to_table(&Demo {
                steps: 3,
                rate: 0.5,
                depths: vec![1],
            }),
            optional: &["data"],
        }
    }

    #[test]
    fn set_parses_toml_values_and_coerces_integers_to_floats() {
        let mut l = layers();
        for arg in ["steps=10", "rate=1", "depths=[1,2,3]"] {
            let (k, v) = parse_set(arg).unwrap();
            l.set(&k, v).unwrap();
        }
        let d: Demo = from_table(l.table).unwrap();
        assert_eq!(
            d,
            Demo {
                steps: 10,
                rate: 1.0,
                depths: vec![1, 2, 3]
            }
        );
    }

    #[test]
    fn unknown_key_lists_the_known_ones() {
        let err = layers()
            .set("stepz", Value::Integer(1))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`stepz`") && err.contains("steps, rate, depths, data"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_names_the_key() {
        let mut l = layers();
        let (k, v) = parse_set("steps=abc").unwrap();
        l.set(&k, v).unwrap();
        let err = from_table::<Demo>(l.table).unwrap_err().to_string();
        assert!(err.starts_with("config key `steps`"), "{err}");
    }

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        depth: usize,
        inner: Inner,
    }

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        steps: usize,
        rate: f64,
    }

    fn nested() -> Layers<'static> {
        Layers {
            experiment: "demo",
            table: to_table(&Outer::default()),
            optional: &[],
        }
    }

    #[test]
    fn a_bad_value_inside_a_nested_table_names_its_dotted_key() {
        let mut l = nested();
        l.set("inner.steps", Value::String("many".into())).unwrap();
        let err = from_table::<Outer>(l.table).unwrap_err().to_string();
        assert!(err.starts_with("config key `inner.steps`"), "{err}");
    }

    #[test]
    fn a_nested_table_merges_key_by_key_and_unknown_nested_keys_are_named() {
        let mut l = nested();
        let file: Table = "[inner]\nrate = 2".parse().unwrap();
        l.merge(file).unwrap();
        let outer: Outer = from_table(l.table.clone()).unwrap();
        assert_eq!((outer.inner.steps, outer.inner.rate), (0, 2.0));
        let err = l
            .set("inner.stepz", Value::Integer(1))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`inner.stepz`") && err.contains("inner.steps, inner.rate"),
            "{err}"
        );
        assert!(l.set("depth.x", Value::Integer(1)).is_err());
    }

    #[test]
    fn set_without_equals_is_rejected() {
        assert!(matches!(parse_set("steps"), Err(ConfigError::BadSet(_))));
    }
}
