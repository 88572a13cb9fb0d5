//! L-BFGS (Liu & Nocedal 1989) with the More-Thuente line search, on any [`Objective`]: the
//! quasi-Newton method of the landscape sweeps, which must drive a loss to 1e-10 of its start or
//! a gradient to 1e-8 of its start in a few hundred iterations where gradient descent needs
//! 10^4 or more. The algorithm is argmin's (a maintained implementation, tested against
//! reference problems); this module only moves the module's parameters in and out of a flat
//! vector and computes the loss and gradient with Burn's autodiff.

use crate::TrainError;
use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use fdl_models::{Objective, flat_grads, flat_params, to_host, with_flat_params};

/// When [`minimize_lbfgs`] stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsOptions {
    /// Pairs (s, y) kept for the inverse-Hessian estimate.
    pub memory: usize,
    /// Iteration budget.
    pub max_iterations: u64,
    /// Stop once the loss is at most this (-inf: never).
    pub target_loss: f64,
    /// Stop once ||grad|| is at most this times ||grad|| at the start (0: never).
    pub gradient_tolerance: f64,
}

impl Default for LbfgsOptions {
    fn default() -> Self {
        Self {
            memory: 10,
            max_iterations: 10_000,
            target_loss: f64::NEG_INFINITY,
            gradient_tolerance: 0.0,
        }
    }
}

/// Where [`minimize_lbfgs`] stopped.
#[derive(Debug, Clone)]
pub struct LbfgsMinimum<O> {
    /// The objective at the best point found.
    pub objective: O,
    /// Its loss.
    pub loss: f64,
    /// Its gradient norm.
    pub gradient_norm: f64,
    /// The gradient norm at the start.
    pub initial_gradient_norm: f64,
    /// Iterations taken.
    pub iterations: u64,
    /// Why it stopped (a tolerance, the budget, or a line search that could make no progress:
    /// the loss is flat to machine precision there).
    pub stopped: String,
}

/// The objective's parameters as one flat vector, for argmin.
struct Flat<O> {
    base: O,
}

impl<O: Objective> Flat<O> {
    fn at(&self, theta: &[f64]) -> O {
        with_flat_params(self.base.clone(), theta)
    }
}

impl<O: Objective> CostFunction for Flat<O> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, theta: &Self::Param) -> Result<f64, argmin::core::Error> {
        let loss = to_host(self.at(theta).loss())[0];
        if loss.is_finite() {
            Ok(loss)
        } else {
            Err(argmin::core::Error::msg(format!("the loss is {loss}")))
        }
    }
}

impl<O: Objective> Gradient for Flat<O> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, theta: &Self::Param) -> Result<Vec<f64>, argmin::core::Error> {
        let objective = self.at(theta);
        Ok(flat_grads(&objective, &objective.loss().backward()))
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Minimizes `objective` by L-BFGS from its current parameters. A non-finite loss at the start
/// is an error; later, the line search only accepts points that decrease the loss.
pub fn minimize_lbfgs<O: Objective>(
    objective: O,
    options: &LbfgsOptions,
) -> Result<LbfgsMinimum<O>, TrainError> {
    let start = flat_params(&objective);
    // argmin drops the problem when a line search fails: keep a copy to evaluate the end.
    let problem = Flat {
        base: objective.clone(),
    };
    let initial_loss = to_host(problem.base.loss())[0];
    crate::error::finite(0, "loss", initial_loss)?;
    let initial_gradient_norm = norm(&problem.gradient(&start).expect("gradients are finite"));
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), options.memory)
        .with_tolerance_grad(options.gradient_tolerance * initial_gradient_norm)
        .and_then(|s| s.with_tolerance_cost(0.0))
        .expect("non-negative tolerances");
    let result = Executor::new(problem, solver)
        .configure(|state| {
            state
                .param(start)
                .max_iters(options.max_iterations)
                .target_cost(options.target_loss)
        })
        .ctrlc(false)
        .timer(false)
        .run()
        .map_err(|e| TrainError::Solver(format!("L-BFGS: {e}")))?;
    let state = result.state();
    let stopped = match state.get_termination_reason() {
        // More-Thuente fails once no step decreases the loss in floating point.
        Some(TerminationReason::SolverExit(why)) => {
            format!("no decrease found (flat to machine precision): {why}")
        }
        Some(reason) => reason.text().to_string(),
        None => "not terminated".into(),
    };
    let iterations = state.get_iter();
    let best = state
        .get_best_param()
        .or(state.get_param())
        .expect("argmin keeps the best point")
        .clone();
    let problem = Flat { base: objective };
    let gradient_norm = norm(&problem.gradient(&best).expect("gradients are finite"));
    let objective = problem.at(&best);
    let loss = to_host(objective.loss())[0];
    Ok(LbfgsMinimum {
        objective,
        loss,
        gradient_norm,
        initial_gradient_norm,
        iterations,
        stopped,
    })
}
