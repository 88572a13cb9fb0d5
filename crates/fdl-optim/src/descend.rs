//! Plain gradient descent on an [`Objective`] (a loss defined by the parameters alone, such as
//! matrix factorization): the landscape experiments' optimizer, with the trainer's divergence
//! guard.

use crate::TrainError;
use crate::error::finite;
use crate::update_params;
use fdl_models::{Objective, to_host};

/// `theta <- theta - eta grad f(theta)` for up to `steps` steps. `probe(step, &objective, f)` is
/// called before every step and at the end, and ends the run early by returning `true`. The
/// first non-finite loss is an error naming the step.
pub fn descend<O: Objective>(
    mut objective: O,
    eta: f64,
    steps: usize,
    mut probe: impl FnMut(usize, &O, f64) -> bool,
) -> Result<O, TrainError> {
    for step in 0..=steps {
        let loss = objective.loss();
        let value = finite(step, "loss", to_host(loss.clone())[0])?;
        if probe(step, &objective, value) || step == steps {
            break;
        }
        let grads = loss.backward();
        objective = update_params(objective, &grads, eta, 1.0);
    }
    Ok(objective)
}
