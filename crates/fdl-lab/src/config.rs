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
    /// Applies one override, rejecting keys that are neither defaults nor optional.
    pub fn set(&mut self, key: &str, value: Value) -> Result<(), ConfigError> {
        if !self.table.contains_key(key) && !self.optional.contains(&key) {
            let mut known: Vec<&str> = self.table.keys().map(String::as_str).collect();
            known.extend(self.optional);
            return Err(ConfigError::UnknownKey {
                key: key.to_string(),
                experiment: self.experiment.to_string(),
                known: known.join(", "),
            });
        }
        let value = coerce(self.table.get(key), value);
        self.table.insert(key.to_string(), value);
        Ok(())
    }

    /// Applies every key of `overrides`.
    pub fn merge(&mut self, overrides: Table) -> Result<(), ConfigError> {
        overrides.into_iter().try_for_each(|(k, v)| self.set(&k, v))
    }
}

/// Deserializes a resolved table into a typed config; errors name the key.
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

/// Like [`from_table`], but when serde cannot say which key is wrong (it cannot inside
/// `#[serde(flatten)]` structs), finds it by substituting the given keys one at a time into
/// `defaults`.
pub fn from_table_naming_keys<C: DeserializeOwned>(
    table: Table,
    defaults: &Table,
) -> Result<C, ConfigError> {
    match from_table::<C>(table.clone()) {
        Err(ConfigError::BadValue { key, message }) if key == "?" => {
            for (k, v) in &table {
                let mut probe = defaults.clone();
                probe.insert(k.clone(), v.clone());
                if let Err(ConfigError::BadValue { message, .. }) = from_table::<C>(probe) {
                    return Err(ConfigError::BadValue {
                        key: k.clone(),
                        message,
                    });
                }
            }
            Err(ConfigError::BadValue { key, message })
        }
        other => other,
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
            err.contains("`stepz`") && err.contains("steps, rate, depths")
                || err.contains("depths"),
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
    struct Outer {
        #[serde(flatten)]
        inner: Inner,
        depth: usize,
    }

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    struct Inner {
        steps: usize,
    }

    #[test]
    fn a_bad_value_inside_a_flattened_struct_still_names_its_key() {
        let defaults = to_table(&Outer::default());
        let mut table = defaults.clone();
        table.insert("steps".into(), Value::String("many".into()));
        let err = from_table_naming_keys::<Outer>(table, &defaults)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("config key `steps`"), "{err}");
    }

    #[test]
    fn set_without_equals_is_rejected() {
        assert!(matches!(parse_set("steps"), Err(ConfigError::BadSet(_))));
    }
}
