//! Range rules for config fields, declared once per field with `#[config(rule = ...)]` (see
//! `#[derive(Config)]`). A rule says what it allows, so a violation is an error naming the key,
//! the value as TOML, and the allowed values.

use crate::error::ConfigError;
use fdl_optim::Loss;
use serde::Serialize;
use std::fmt::Display;
use std::ops::{Bound, RangeBounds};

/// A condition on a value of type `T`, with the sentence that describes what it allows.
pub trait Rule<T: ?Sized> {
    /// Whether `value` is allowed.
    fn allows(&self, value: &T) -> bool;
    /// What is allowed, e.g. `at least 2`.
    fn allowed(&self) -> String;
}

/// A rule with the reason for it appended to what it allows.
pub struct Because<R> {
    rule: R,
    reason: &'static str,
}

/// `.because(reason)` on every rule.
pub trait RuleExt: Sized {
    /// This rule, its sentence followed by `(reason)`.
    fn because(self, reason: &'static str) -> Because<Self> {
        Because { rule: self, reason }
    }
}

impl<R> RuleExt for R {}

impl<T: ?Sized, R: Rule<T>> Rule<T> for Because<R> {
    fn allows(&self, value: &T) -> bool {
        self.rule.allows(value)
    }
    fn allowed(&self) -> String {
        format!("{} ({})", self.rule.allowed(), self.reason)
    }
}

/// `Err` naming `key`, `value` and the allowed values unless `rule` allows `value`.
pub fn apply<T: Serialize + ?Sized, R: Rule<T>>(
    key: &str,
    value: &T,
    rule: &R,
) -> Result<(), ConfigError> {
    if rule.allows(value) {
        return Ok(());
    }
    Err(ConfigError::OutOfRange {
        key: key.into(),
        value: toml::Value::try_from(value).map_or_else(|_| "?".into(), |v| v.to_string()),
        allowed: rule.allowed(),
    })
}

/// `value >= min`.
pub struct AtLeast<T>(T);

/// At least `min` (a count, a number of steps, ...).
pub fn at_least<T>(min: T) -> AtLeast<T> {
    AtLeast(min)
}

impl<T: PartialOrd + Display> Rule<T> for AtLeast<T> {
    fn allows(&self, value: &T) -> bool {
        *value >= self.0
    }
    fn allowed(&self) -> String {
        format!("at least {}", self.0)
    }
}

/// A finite number above 0.
pub struct Positive;

/// A finite positive number.
pub fn positive() -> Positive {
    Positive
}

impl Rule<f64> for Positive {
    fn allows(&self, value: &f64) -> bool {
        value.is_finite() && *value > 0.0
    }
    fn allowed(&self) -> String {
        "a positive number".into()
    }
}

/// A value in an interval.
pub struct Within<R>(R);

/// A value in `range` (`0.0..1.0`, `1.0..=f64::INFINITY`, `1..=16`); NaN is never in it.
pub fn within<R>(range: R) -> Within<R> {
    Within(range)
}

impl<T: PartialOrd + Display, R: RangeBounds<T>> Rule<T> for Within<R> {
    fn allows(&self, value: &T) -> bool {
        self.0.contains(value)
    }
    fn allowed(&self) -> String {
        let lower = match self.0.start_bound() {
            Bound::Included(v) => format!("[{v}"),
            Bound::Excluded(v) => format!("({v}"),
            Bound::Unbounded => "(-inf".into(),
        };
        let upper = match self.0.end_bound() {
            Bound::Included(v) => format!("{v}]"),
            Bound::Excluded(v) => format!("{v})"),
            Bound::Unbounded => "inf)".into(),
        };
        format!("a value in {lower}, {upper}")
    }
}

/// A list of at least `min_len` entries, each allowed by a rule.
pub struct List<R> {
    min_len: usize,
    each: R,
}

/// A non-empty list, each entry allowed by `each`.
pub fn each<R>(each: R) -> List<R> {
    List { min_len: 1, each }
}

/// A list, possibly empty, each entry allowed by `each`.
pub fn all<R>(each: R) -> List<R> {
    List { min_len: 0, each }
}

/// A sweep the checks fit a slope or a transition to: at least two entries, each allowed by
/// `each`.
pub fn sweep<R>(each: R) -> List<R> {
    List { min_len: 2, each }
}

impl<T, R: Rule<T>> Rule<Vec<T>> for List<R> {
    fn allows(&self, value: &Vec<T>) -> bool {
        value.len() >= self.min_len && value.iter().all(|v| self.each.allows(v))
    }
    fn allowed(&self) -> String {
        let count = match self.min_len {
            0 => "a list".to_string(),
            1 => "a non-empty list".to_string(),
            n => format!("at least {n} values"),
        };
        format!("{count}, each {}", self.each.allowed())
    }
}

/// Any value (for list entries whose only rule is the list's length).
pub struct Anything;

/// Any value.
pub fn anything() -> Anything {
    Anything
}

impl<T> Rule<T> for Anything {
    fn allows(&self, _: &T) -> bool {
        true
    }
    fn allowed(&self) -> String {
        "any value".into()
    }
}

/// Strictly decreasing (a continuation schedule).
pub struct Decreasing;

/// A strictly decreasing list.
pub fn decreasing() -> Decreasing {
    Decreasing
}

impl Rule<Vec<f64>> for Decreasing {
    fn allows(&self, value: &Vec<f64>) -> bool {
        value.windows(2).all(|w| w[1] < w[0])
    }
    fn allowed(&self) -> String {
        "strictly decreasing".into()
    }
}

/// A margin loss (exponential or logistic): the classification experiments.
pub struct MarginLoss;

/// A classification loss.
pub fn margin_loss() -> MarginLoss {
    MarginLoss
}

impl Rule<Loss> for MarginLoss {
    fn allows(&self, value: &Loss) -> bool {
        value.is_classification()
    }
    fn allowed(&self) -> String {
        "\"exponential\" or \"logistic\" (a classification loss)".into()
    }
}

/// An enum config value: the names it has in TOML (serde's), in declaration order.
pub trait Variants: Sized {
    /// The TOML names.
    const NAMES: &'static [&'static str];
}

impl Variants for fdl_optim::StepRuleKind {
    const NAMES: &'static [&'static str] = &[
        "fixed",
        "fixed-length",
        "relative",
        "inverse-loss",
        "inverse-loss-log",
    ];
}

impl Variants for Loss {
    const NAMES: &'static [&'static str] = &["exponential", "logistic", "square"];
}

/// Any variant of an enum (serde already refuses the rest): lists the names for `fdl config`.
pub struct OneOf;

/// One of the enum's TOML names.
pub fn one_of() -> OneOf {
    OneOf
}

impl<T: Variants> Rule<T> for OneOf {
    fn allows(&self, _: &T) -> bool {
        true
    }
    fn allowed(&self) -> String {
        let names: Vec<String> = T::NAMES.iter().map(|n| format!("\"{n}\"")).collect();
        format!("one of {}", names.join(", "))
    }
}

/// A condition given as a function, with its sentence.
pub struct Custom<F> {
    test: F,
    allowed: &'static str,
}

/// `test(value)` must hold; `allowed` says what that allows.
pub fn custom<T: ?Sized, F: Fn(&T) -> bool>(test: F, allowed: &'static str) -> Custom<F> {
    Custom { test, allowed }
}

impl<T: ?Sized, F: Fn(&T) -> bool> Rule<T> for Custom<F> {
    fn allows(&self, value: &T) -> bool {
        (self.test)(value)
    }
    fn allowed(&self) -> String {
        self.allowed.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_allows_its_range_and_names_it() {
        assert!(at_least(2).allows(&2) && !at_least(2).allows(&1));
        assert!(positive().allows(&1e-9) && !positive().allows(&0.0));
        assert!(!positive().allows(&f64::NAN) && !positive().allows(&f64::INFINITY));
        let r = within(0.0..1.0);
        assert!(r.allows(&0.0) && !r.allows(&1.0) && !r.allows(&f64::NAN));
        assert_eq!(r.allowed(), "a value in [0, 1)");
        assert!(within(1..=16).allows(&16) && !within(1..=16).allows(&0));
        assert!(all(at_least(1)).allows(&Vec::<usize>::new()));
        assert_eq!(
            at_least(2).because("the labels use x_1 - x_2").allowed(),
            "at least 2 (the labels use x_1 - x_2)"
        );
        let s = sweep(at_least(1));
        assert!(s.allows(&vec![1, 2]) && !s.allows(&vec![1]) && !s.allows(&vec![0, 2]));
        assert_eq!(s.allowed(), "at least 2 values, each at least 1");
        assert!(decreasing().allows(&vec![3.0, 2.0]) && !decreasing().allows(&vec![2.0, 2.0]));
        assert!(!margin_loss().allows(&Loss::Square));
    }

    /// Each listed name deserializes, to a distinct variant, and no variant is missing.
    fn names_match_serde<
        T: Variants + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    >(
        count: usize,
    ) {
        let parsed: Vec<T> = T::NAMES
            .iter()
            .map(|n| toml::Value::String(n.to_string()).try_into().unwrap())
            .collect();
        for (i, a) in parsed.iter().enumerate() {
            assert!(!parsed[..i].contains(a), "{a:?} listed twice");
        }
        assert_eq!(parsed.len(), count);
    }

    #[test]
    fn variant_names_are_serdes() {
        names_match_serde::<fdl_optim::StepRuleKind>(5);
        names_match_serde::<Loss>(3);
        assert_eq!(
            Rule::<Loss>::allowed(&one_of()),
            "one of \"exponential\", \"logistic\", \"square\""
        );
    }

    #[test]
    fn a_violation_names_the_key_the_value_and_the_allowed_values() {
        let err = apply("widths", &vec![0usize, 4], &sweep(at_least(1))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "config key `widths` = [0, 4]: at least 2 values, each at least 1"
        );
    }
}
