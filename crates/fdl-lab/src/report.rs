//! Theory checks and the report: a measured value against a threshold from the science.

use serde::Serialize;
use std::fmt::Write;

/// How a measured value is compared with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Comparison {
    /// value >= threshold
    #[serde(rename = ">=")]
    AtLeast,
    /// value <= threshold
    #[serde(rename = "<=")]
    AtMost,
    /// value < threshold
    #[serde(rename = "<")]
    Below,
    /// value > threshold
    #[serde(rename = ">")]
    Above,
}

impl Comparison {
    fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => ">=",
            Comparison::AtMost => "<=",
            Comparison::Below => "<",
            Comparison::Above => ">",
        }
    }

    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::AtLeast => value >= threshold,
            Comparison::AtMost => value <= threshold,
            Comparison::Below => value < threshold,
            Comparison::Above => value > threshold,
        }
    }
}

/// One theory check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// Measured value.
    pub value: f64,
    /// Threshold from the science.
    pub threshold: f64,
    /// How they are compared.
    pub comparison: Comparison,
    /// Whether it holds (NaN never passes).
    pub pass: bool,
    /// Where the threshold comes from, or what the value means.
    pub note: String,
}

impl Check {
    /// A check `value <comparison> threshold`.
    pub fn new(
        name: impl Into<String>,
        value: f64,
        comparison: Comparison,
        threshold: f64,
        note: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            value,
            threshold,
            comparison,
            pass: comparison.holds(value, threshold),
            note: note.into(),
        }
    }
}

/// Checks plus headline numbers and figures of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Experiment name.
    pub experiment: String,
    /// The claim being reproduced.
    pub claim: String,
    /// True when every check passes.
    pub passed: bool,
    /// The checks.
    pub checks: Vec<Check>,
    /// Numbers worth seeing first (reference optima, sparsity per depth, ...).
    pub headline: serde_json::Map<String, serde_json::Value>,
    /// Measured behaviour worth stating that is not a pass/fail check (e.g. where the catalogue's
    /// expectation and the theory part ways), in plain sentences.
    pub findings: Vec<String>,
    /// Figure files, relative to the run folder.
    pub figures: Vec<String>,
}

impl Report {
    /// A report for `experiment` with no checks yet.
    pub fn new(experiment: &str, claim: &str) -> Self {
        Self {
            experiment: experiment.into(),
            claim: claim.into(),
            passed: true,
            checks: Vec::new(),
            headline: Default::default(),
            findings: Vec::new(),
            figures: Vec::new(),
        }
    }

    /// Adds a check.
    pub fn check(&mut self, check: Check) {
        self.passed &= check.pass;
        self.checks.push(check);
    }

    /// Adds a headline number.
    pub fn headline(&mut self, key: &str, value: impl Into<serde_json::Value>) {
        self.headline.insert(key.into(), value.into());
    }

    /// Adds a finding.
    pub fn finding(&mut self, text: impl Into<String>) {
        self.findings.push(text.into());
    }

    /// The checks as an aligned text table (what the CLI prints), then the findings.
    pub fn table(&self) -> String {
        let width = self
            .checks
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let mut out = format!(
            "{:<width$}  {:>12}  {:>14}  result\n",
            "check", "measured", "threshold"
        );
        for c in &self.checks {
            let verdict = if c.pass { "PASS" } else { "FAIL" };
            let threshold = format!("{} {}", c.comparison.symbol(), fmt_num(c.threshold));
            let _ = writeln!(
                out,
                "{:<width$}  {:>12}  {:>14}  {verdict}",
                c.name,
                fmt_num(c.value),
                threshold
            );
        }
        for f in &self.findings {
            let _ = write!(out, "\nfinding: {f}\n");
        }
        out
    }

    /// The report for people: claim, checks table, headline numbers, figures.
    pub fn markdown(&self) -> String {
        let mut md = format!("# {}\n\n{}\n\n", self.experiment, self.claim);
        let verdict = if self.passed {
            "PASS: every check holds"
        } else {
            "FAIL: at least one check does not hold"
        };
        let _ = writeln!(
            md,
            "**{verdict}.**\n\n| check | measured | threshold | result | note |\n|---|---|---|---|---|"
        );
        for c in &self.checks {
            let _ = writeln!(
                md,
                "| {} | {} | {} {} | {} | {} |",
                c.name,
                fmt_num(c.value),
                c.comparison.symbol(),
                fmt_num(c.threshold),
                if c.pass { "PASS" } else { "FAIL" },
                c.note
            );
        }
        if !self.findings.is_empty() {
            md.push_str("\n## Findings\n\n");
            for f in &self.findings {
                let _ = writeln!(md, "- {f}");
            }
        }
        md.push_str("\n## Headline numbers\n\n```json\n");
        md.push_str(&serde_json::to_string_pretty(&self.headline).unwrap_or_default());
        md.push_str("\n```\n\n## Figures\n\n");
        for f in &self.figures {
            let _ = writeln!(md, "![{f}]({f})\n");
        }
        md
    }
}

/// Compact number formatting for tables.
pub fn fmt_num(v: f64) -> String {
    let trim = |s: String| s.trim_end_matches('0').trim_end_matches('.').to_string();
    if v == 0.0 || (1e-3..1e4).contains(&v.abs()) {
        let short = trim(format!("{v:.6}"));
        // A cosine of 0.99999998 is not 1: show the digits that differ.
        if (short == "1" || short == "-1") && v.abs() != 1.0 {
            trim(format!("{v:.10}"))
        } else {
            short
        }
    } else {
        format!("{v:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_check_fails_the_report_and_nan_never_passes() {
        let mut r = Report::new("x", "claim");
        r.check(Check::new("a", 0.9995, Comparison::AtLeast, 0.999, ""));
        assert!(r.passed);
        r.check(Check::new("b", f64::NAN, Comparison::AtMost, 1.0, ""));
        assert!(!r.passed);
        assert!(r.table().contains("FAIL"));
        assert_eq!(fmt_num(0.999_999_98), "0.99999998");
        assert_eq!(fmt_num(1.0), "1");
        assert_eq!(fmt_num(1.5e-5), "1.500e-5");
    }
}
