//! Regularized training: the mean cross-entropy (logistic loss for one output) plus
//! `lambda ||theta||^2` for any [`Classifier`], over a continuation schedule of decreasing
//! lambda where each stage starts from the previous one's end (Wei, Lee, Liu, Ma 2019,
//! arXiv:1810.05369, Theorem 4.1: the normalized margin of the minimizer tends to the max margin
//! as lambda -> 0).
//!
//! Stationarity is measured, not assumed: every stage ends with the gradient norm of the
//! objective, and a stage may stop early once it falls below a tolerance.

use crate::error::finite;
use crate::loss::{Loss, softplus};
use crate::{Method, TrainError, param_sums, update_params};
use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use fdl_models::{Classifier, tensor2_from_host, to_host};

/// Labels of a classification batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Labels {
    /// Binary labels in {-1, +1}, for a classifier with one output (logistic loss).
    Signs(Vec<f64>),
    /// Class indices in `0..classes`, for a classifier with `classes` outputs (cross-entropy).
    Classes {
        /// The class of each example.
        labels: Vec<usize>,
        /// Number of classes k >= 2.
        classes: usize,
    },
}

impl Labels {
    /// Labels from dataset values: +-1 for `classes == 1`, the class index as a float otherwise;
    /// an error names the first row whose label does not fit.
    pub fn from_values(values: &[f64], classes: usize) -> Result<Self, String> {
        let bad = |n: usize| format!("label {} at row {} does not fit", values[n], n + 1);
        if classes == 1 {
            match values.iter().position(|&v| v != 1.0 && v != -1.0) {
                Some(n) => Err(bad(n) + " a binary task (-1 or +1)"),
                None => Ok(Labels::Signs(values.to_vec())),
            }
        } else {
            let ok = |v: f64| v >= 0.0 && v.fract() == 0.0 && (v as usize) < classes;
            match values.iter().position(|&v| !ok(v)) {
                Some(n) => Err(bad(n) + &format!(" classes 0..{}", classes - 1)),
                None => Ok(Labels::Classes {
                    labels: values.iter().map(|&v| v as usize).collect(),
                    classes,
                }),
            }
        }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        match self {
            Labels::Signs(y) => y.len(),
            Labels::Classes { labels, .. } => labels.len(),
        }
    }

    /// True without examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Logits per example k (1 for binary labels).
    pub fn outputs(&self) -> usize {
        match self {
            Labels::Signs(_) => 1,
            Labels::Classes { classes, .. } => *classes,
        }
    }

    /// Margins from row-major logits `[n, k]`: `y f(x)` (binary) or `f_y - max_{j != y} f_j`.
    pub fn margins(&self, logits: &[f64]) -> Vec<f64> {
        match self {
            Labels::Signs(y) => logits.iter().zip(y).map(|(f, y)| f * y).collect(),
            Labels::Classes { labels, classes } => logits
                .chunks(*classes)
                .zip(labels)
                .map(|(row, &c)| {
                    let rival = (0..*classes)
                        .filter(|&j| j != c)
                        .map(|j| row[j])
                        .fold(f64::NEG_INFINITY, f64::max);
                    row[c] - rival
                })
                .collect(),
        }
    }

    /// Fraction of examples with margin <= 0 (a tie is an error).
    pub fn error_rate(&self, logits: &[f64]) -> f64 {
        let margins = self.margins(logits);
        margins.iter().filter(|&&m| m <= 0.0).count() as f64 / margins.len() as f64
    }

    /// The mean loss and its derivative with respect to every logit (row-major `[n, k]`).
    pub fn loss_and_derivative(&self, logits: &[f64]) -> (f64, Vec<f64>) {
        let n = self.len() as f64;
        match self {
            Labels::Signs(y) => {
                let mut loss = 0.0;
                let derivative = logits
                    .iter()
                    .zip(y)
                    .map(|(f, y)| {
                        let m = f * y;
                        loss += softplus(-m);
                        // d l(m) / df = y l'(m) = -y e^{ln(-l'(m))}.
                        -y * Loss::Logistic.ln_weight(m).exp() / n
                    })
                    .collect();
                (loss / n, derivative)
            }
            Labels::Classes { labels, classes } => {
                let mut loss = 0.0;
                let mut derivative = Vec::with_capacity(logits.len());
                for (row, &c) in logits.chunks(*classes).zip(labels) {
                    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let sum: f64 = row.iter().map(|f| (f - max).exp()).sum();
                    loss += max + sum.ln() - row[c];
                    for (j, f) in row.iter().enumerate() {
                        let p = (f - max).exp() / sum;
                        derivative.push((p - f64::from(u8::from(j == c))) / n);
                    }
                }
                (loss / n, derivative)
            }
        }
    }
}

/// A continuation schedule: stages of decreasing lambda, each warm-started from the last.
#[derive(Debug, Clone, PartialEq)]
pub struct ContinuationConfig {
    /// lambda per stage (0 for an unregularized stage).
    pub lambdas: Vec<f64>,
    /// Steps per stage.
    pub steps_per_stage: usize,
    /// Learning rate at the start and at the end of each stage (geometric in between; equal
    /// values give a constant rate).
    pub rate: (f64, f64),
    /// The update: plain gradient descent (`Method::Steepest`) or one of Burn's optimizers,
    /// whose state is kept across stages.
    pub method: Method,
    /// End a stage early once the gradient norm of the objective is below this (checked every
    /// 100 steps).
    pub grad_tolerance: Option<f64>,
}

/// What the trainer saw at one step (before its update).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInfo {
    /// Steps taken so far over all stages (0 = the initial point).
    pub step: usize,
    /// The mean loss.
    pub loss: f64,
    /// Training error (margin <= 0).
    pub train_error: f64,
}

impl ContinuationConfig {
    /// Adam (the usual constants) through `lambdas`, `steps_per_stage` steps each, its rate
    /// geometric from `rate.0` to `rate.1` within every stage.
    pub fn adam(lambdas: Vec<f64>, steps_per_stage: usize, rate: (f64, f64)) -> Self {
        Self {
            lambdas,
            steps_per_stage,
            rate,
            method: Method::adam(),
            grad_tolerance: None,
        }
    }
}

/// Where a stage ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageSummary {
    /// The stage's lambda.
    pub lambda: f64,
    /// Steps taken in the stage.
    pub steps: usize,
    /// `mean loss + lambda ||theta||^2`.
    pub objective: f64,
    /// The mean loss.
    pub loss: f64,
    /// `||grad objective||_2` at the end of the stage (the stationarity measure).
    pub grad_norm: f64,
    /// `||theta||_2^2`.
    pub param_sq: f64,
    /// Training error (margin <= 0).
    pub train_error: f64,
    /// The smallest margin.
    pub min_margin: f64,
}

impl StageSummary {
    /// `min margin / ||theta||^L` for a model of homogeneity degree L.
    pub fn normalized_margin(&self, degree: u32) -> f64 {
        self.min_margin / self.param_sq.powf(degree as f64 / 2.0)
    }
}

/// Sums `||p||^2` over every float parameter inside the autodiff graph.
struct SquaredNorm(Option<Tensor<1>>);

impl ModuleVisitor for SquaredNorm {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let sq = param.val().square().sum();
        self.0 = Some(match self.0.take() {
            Some(acc) => acc + sq,
            None => sq,
        });
    }
}

/// The objective at the current point and its gradient (as Burn gradients).
struct Evaluation {
    loss: f64,
    objective: f64,
    param_sq: f64,
    margins: Vec<f64>,
    logits: Vec<f64>,
    grads: burn::tensor::Gradients,
}

fn evaluate<M: Classifier>(model: &M, x: &Tensor<2>, labels: &Labels, lambda: f64) -> Evaluation {
    let logits = model.logits(x.clone());
    let host = to_host(logits.clone());
    let (loss, derivative) = labels.loss_and_derivative(&host);
    let [n, k] = logits.dims();
    let coefficients = tensor2_from_host(&derivative, n, k, &logits.device());
    // The gradient of sum_nk (dL/df_nk) f_nk is the loss gradient (the chain rule at this point).
    let mut surrogate = (logits * coefficients).sum();
    let mut norm = SquaredNorm(None);
    model.visit(&mut norm);
    let squared = norm.0.expect("a classifier has parameters");
    let param_sq = to_host(squared.clone().detach())[0];
    if lambda > 0.0 {
        surrogate = surrogate + squared * lambda;
    }
    Evaluation {
        loss,
        objective: loss + lambda * param_sq,
        param_sq,
        margins: labels.margins(&host),
        logits: host,
        grads: surrogate.backward(),
    }
}

/// Trains `model` through every stage of `config`, calling `on_stage` at the end of each stage
/// with its summary and the model; `on_step` at every evaluated point before its update (loss,
/// training error; progress bars). Stops with an error at the first non-finite loss, naming the
/// step and the quantity.
pub fn train_regularized<M: Classifier>(
    mut model: M,
    x: &Tensor<2>,
    labels: &Labels,
    config: &ContinuationConfig,
    mut on_stage: impl FnMut(&StageSummary, &M),
    mut on_step: impl FnMut(&StepInfo),
) -> Result<M, TrainError> {
    let mut optimizer = config.method.burn_optimizer();
    let mut step = 0;
    for &lambda in &config.lambdas {
        let mut taken = 0;
        let last = loop {
            let eval = evaluate(&model, x, labels, lambda);
            finite(step, "objective", eval.objective)?;
            let checking = config.grad_tolerance.is_some() && taken % 100 == 0;
            let end = taken == config.steps_per_stage;
            if end || checking {
                let grad_sq = param_sums(&model, Some(&eval.grads)).grad_sq;
                let grad_norm = finite(step, "gradient norm", grad_sq.sqrt())?;
                if end || config.grad_tolerance.is_some_and(|tol| grad_norm < tol) {
                    break (eval, grad_norm);
                }
            }
            on_step(&StepInfo {
                step,
                loss: eval.loss,
                train_error: labels.error_rate(&eval.logits),
            });
            let rate = stage_rate(config.rate, taken, config.steps_per_stage);
            model = match optimizer.as_mut() {
                Some(opt) => {
                    let grads = GradientsParams::from_grads(eval.grads, &model);
                    opt.step(rate, model, grads)
                }
                None => update_params(model, &eval.grads, rate, 1.0),
            };
            taken += 1;
            step += 1;
        };
        let (eval, grad_norm) = last;
        let summary = StageSummary {
            lambda,
            steps: taken,
            objective: eval.objective,
            loss: eval.loss,
            grad_norm,
            param_sq: eval.param_sq,
            train_error: labels.error_rate(&eval.logits),
            min_margin: eval.margins.iter().copied().fold(f64::INFINITY, f64::min),
        };
        on_stage(&summary, &model);
    }
    Ok(model)
}

/// The rate at step `t` of a stage of `steps`: geometric from `rate.0` to `rate.1`.
fn stage_rate(rate: (f64, f64), t: usize, steps: usize) -> f64 {
    if steps <= 1 || rate.0 == rate.1 {
        return rate.0;
    }
    rate.0 * (rate.1 / rate.0).powf(t as f64 / (steps - 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_loss_and_derivative_match_finite_differences() {
        let labels = Labels::Signs(vec![1.0, -1.0, 1.0]);
        let f = [0.3, 0.7, -40.0];
        let (l, d) = labels.loss_and_derivative(&f);
        for i in 0..3 {
            let mut g = f;
            g[i] += 1e-6;
            let numeric = (labels.loss_and_derivative(&g).0 - l) / 1e-6;
            assert!((numeric - d[i]).abs() < 1e-6, "{i}: {numeric} vs {}", d[i]);
        }
    }

    #[test]
    fn cross_entropy_derivative_matches_finite_differences_and_margins() {
        let labels = Labels::Classes {
            labels: vec![2, 0],
            classes: 3,
        };
        let f = [0.1, -0.4, 0.9, 2.0, 1.5, -3.0];
        let (l, d) = labels.loss_and_derivative(&f);
        for i in 0..6 {
            let mut g = f;
            g[i] += 1e-7;
            let numeric = (labels.loss_and_derivative(&g).0 - l) / 1e-7;
            assert!((numeric - d[i]).abs() < 1e-6, "{i}: {numeric} vs {}", d[i]);
        }
        let m = labels.margins(&f);
        assert!((m[0] - 0.8).abs() < 1e-15 && (m[1] - 0.5).abs() < 1e-15);
        assert_eq!(labels.error_rate(&[0.0, 1.0, 1.0, 1.0, 0.0, 0.0]), 0.5);
    }

    #[test]
    fn labels_are_checked_with_their_row() {
        assert!(Labels::from_values(&[1.0, -1.0], 1).is_ok());
        let e = Labels::from_values(&[1.0, 0.0], 1).unwrap_err();
        assert!(e.contains("row 2"), "{e}");
        let e = Labels::from_values(&[3.0, 10.0], 10).unwrap_err();
        assert!(e.contains("row 2") && e.contains("0..9"), "{e}");
    }

    #[test]
    fn stage_rate_is_geometric() {
        assert_eq!(stage_rate((1e-2, 1e-4), 0, 101), 1e-2);
        assert!((stage_rate((1e-2, 1e-4), 50, 101) - 1e-3).abs() < 1e-15);
        assert!((stage_rate((1e-2, 1e-4), 100, 101) - 1e-4).abs() < 1e-17);
    }
}
