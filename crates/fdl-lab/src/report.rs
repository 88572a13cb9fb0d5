//! Theory checks and the report: a measured value against a threshold from the science.

use fdl_analysis::SolveStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The measured value meets the threshold.
    Pass,
    /// It does not, or it could not be measured (NaN, with the cause in the note).
    Fail,
    /// The run's budget cannot decide it (the note says why); never counted as a pass.
    Undecided,
}

impl Verdict {
    /// The word the tables print.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Undecided => "UNDECIDED",
        }
    }
}

/// One theory check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// Measured value (NaN when it could not be measured or decided; the note says why).
    pub value: f64,
    /// Threshold from the science.
    pub threshold: f64,
    /// How they are compared.
    pub comparison: Comparison,
    /// Whether it holds (`verdict == Pass`; NaN never passes).
    pub pass: bool,
    /// Pass, fail or undecided.
    pub verdict: Verdict,
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
        // An infinite value is no measurement either (+inf would pass every lower bound).
        let pass = value.is_finite() && comparison.holds(value, threshold);
        let mut note = note.into();
        if !value.is_finite() && !note.starts_with("not measured") {
            note = format!("not measured ({value}); {note}");
        }
        Self {
            name: name.into(),
            value,
            threshold,
            comparison,
            pass,
            verdict: if pass { Verdict::Pass } else { Verdict::Fail },
            note,
        }
    }

    /// A check of a value that may not have been measurable: an `Err` fails the check with
    /// NaN as its value and the cause at the head of the note.
    pub fn measured(
        name: impl Into<String>,
        value: Result<f64, impl std::fmt::Display>,
        comparison: Comparison,
        threshold: f64,
        note: impl Into<String>,
    ) -> Self {
        match value {
            Ok(v) => Self::new(name, v, comparison, threshold, note),
            Err(cause) => Self::new(
                name,
                f64::NAN,
                comparison,
                threshold,
                format!("not measured: {cause}; {}", note.into()),
            ),
        }
    }

    /// A check the run cannot decide (e.g. neither learner reaches the target on the grid);
    /// `reason` says why. It is never a pass.
    pub fn undecided(
        name: impl Into<String>,
        comparison: Comparison,
        threshold: f64,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            value: f64::NAN,
            threshold,
            comparison,
            pass: false,
            verdict: Verdict::Undecided,
            note: format!("undecided: {}", reason.into()),
        }
    }

    /// Appends the status of the exact reference the check compares with, when that reference
    /// was not solved to Clarabel's full accuracy.
    pub fn against(mut self, reference: &str, status: &SolveStatus) -> Self {
        if !status.solved() {
            let _ = write!(
                self.note,
                "; reference {reference} is {} (residuals {:.1e} primal, {:.1e} dual)",
                status.status, status.primal_residual, status.dual_residual
            );
        }
        self
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
    /// Pass (every check passes), fail (one fails) or undecided (none fails, one is undecided).
    pub verdict: Verdict,
    /// The checks.
    pub checks: Vec<Check>,
    /// The status of every exact reference the checks compare with (solver, residuals).
    pub references: BTreeMap<String, SolveStatus>,
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
            verdict: Verdict::Pass,
            checks: Vec::new(),
            references: BTreeMap::new(),
            headline: Default::default(),
            findings: Vec::new(),
            figures: Vec::new(),
        }
    }

    /// Adds a check.
    pub fn check(&mut self, check: Check) {
        self.passed &= check.pass;
        self.verdict = match (self.verdict, check.verdict) {
            (Verdict::Fail, _) | (_, Verdict::Fail) => Verdict::Fail,
            (Verdict::Undecided, _) | (_, Verdict::Undecided) => Verdict::Undecided,
            _ => Verdict::Pass,
        };
        self.checks.push(check);
    }

    /// Records the solver status of an exact reference (report.json's `references`).
    pub fn reference(&mut self, name: impl Into<String>, status: &SolveStatus) {
        self.references.insert(name.into(), status.clone());
    }

    /// How many checks have each verdict: (pass, fail, undecided).
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |v: Verdict| self.checks.iter().filter(|c| c.verdict == v).count();
        (
            count(Verdict::Pass),
            count(Verdict::Fail),
            count(Verdict::Undecided),
        )
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
            let verdict = c.verdict.word();
            let threshold = format!("{} {}", c.comparison.symbol(), fmt_num(c.threshold));
            let _ = writeln!(
                out,
                "{:<width$}  {:>12}  {:>14}  {verdict}",
                c.name,
                fmt_num(c.value),
                threshold
            );
        }
        for c in self.checks.iter().filter(|c| !c.value.is_finite()) {
            let _ = write!(out, "\n{}: {}\n", c.name, c.note);
        }
        for f in &self.findings {
            let _ = write!(out, "\nfinding: {f}\n");
        }
        out
    }

    /// The report for people: claim, checks table, headline numbers, figures.
    pub fn markdown(&self) -> String {
        let mut md = format!("# {}\n\n{}\n\n", self.experiment, self.claim);
        let verdict = match self.verdict {
            Verdict::Pass => "PASS: every check holds",
            Verdict::Fail => "FAIL: at least one check does not hold",
            Verdict::Undecided => "UNDECIDED: no check fails, but at least one cannot be decided",
        };
        let _ = writeln!(
            md,
            "**{verdict}.**\n\n| check | measured | threshold | result | note |\n|---|---|---|---|---|"
        );
        for c in &self.checks {
            let _ = writeln!(
                md,
                "| {} | {} | {} {} | {} | {} |",
                md_cell(&c.name),
                fmt_num(c.value),
                c.comparison.symbol(),
                fmt_num(c.threshold),
                c.verdict.word(),
                md_cell(&c.note)
            );
        }
        if !self.references.is_empty() {
            md.push_str("\n## Exact references\n\n| reference | status | primal residual | dual residual |\n|---|---|---|---|\n");
            for (name, s) in &self.references {
                let _ = writeln!(
                    md,
                    "| {name} | {} | {:.1e} | {:.1e} |",
                    s.status, s.primal_residual, s.dual_residual
                );
            }
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

/// Text for a markdown table cell: `|` (as in ||F beta||) escaped.
pub fn md_cell(text: &str) -> String {
    text.replace('|', "\\|")
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
        assert_eq!(r.verdict, Verdict::Fail);
        assert!(r.table().contains("FAIL"));
        assert!(r.checks[1].note.starts_with("not measured"));
        let inf = Check::new("c", f64::INFINITY, Comparison::AtLeast, 0.5, "");
        assert!(!inf.pass && inf.note.starts_with("not measured (inf)"));
        assert_eq!(fmt_num(0.999_999_98), "0.99999998");
        assert_eq!(fmt_num(1.0), "1");
        assert_eq!(fmt_num(1.5e-5), "1.500e-5");
    }

    #[test]
    fn an_unmeasured_value_fails_naming_its_cause() {
        let c = Check::measured(
            "slope",
            Err::<f64, _>("width 128 gave NaN"),
            Comparison::AtMost,
            -0.45,
            "sim -0.78",
        );
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.value.is_nan());
        assert!(c.note.contains("width 128 gave NaN"), "{}", c.note);
    }

    #[test]
    fn an_undecided_check_is_never_a_pass_and_a_failure_outranks_it() {
        let mut r = Report::new("x", "claim");
        r.check(Check::new("a", 1.0, Comparison::AtLeast, 0.5, ""));
        r.check(Check::undecided(
            "b",
            Comparison::AtMost,
            1.5,
            "neither reached 10%",
        ));
        assert!(!r.passed);
        assert_eq!(r.verdict, Verdict::Undecided);
        assert_eq!(r.counts(), (1, 0, 1));
        assert!(r.table().contains("UNDECIDED"));
        r.check(Check::new("c", 2.0, Comparison::AtMost, 1.0, ""));
        assert_eq!(r.verdict, Verdict::Fail);
    }

    #[test]
    fn a_check_against_an_inexact_reference_says_so() {
        let exact = SolveStatus::exact("Cholesky");
        let almost = SolveStatus {
            status: "AlmostSolved".into(),
            primal_residual: 3e-7,
            dual_residual: 1e-9,
        };
        let c = Check::new("cos", 1.0, Comparison::AtLeast, 0.99, "n");
        assert_eq!(c.clone().against("l2 SVM", &exact).note, "n");
        let noted = c.against("l2 SVM", &almost).note;
        assert!(noted.contains("l2 SVM is AlmostSolved"), "{noted}");
    }
}
