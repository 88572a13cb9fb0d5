//! The training loop with probes at chosen steps and a divergence guard: full-batch gradient
//! steps, or mini-batch ones ([`Sampling`]).

use crate::error::finite;
use crate::sampling::Sampler;
use crate::{
    Loss, LossState, LpGeometry, Method, Sampling, Schedule, StepRule, TrainError, param_lp_norm,
    param_sums, scale_params, steepest_steps, update_params,
};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{DType, Tensor};
use fdl_models::{
    Homogeneous, HostProgram, ScalarModel, dot, flat_params, to_host, with_flat_params,
};

/// Training inputs `[n, d]` and labels `[n]` on the device.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Inputs, `[n, d]`.
    pub x: Tensor<2>,
    /// Labels in {-1, +1} for classification, real targets for the square loss, `[n]`.
    pub y: Tensor<1>,
}

/// How the parameters are stored during training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Parameterization {
    /// The module holds theta itself.
    Plain,
    /// The module holds `phi = theta / ||theta||` and the trainer keeps `ln ||theta||`; exact for
    /// a model of homogeneity degree L, whose gradient at `s phi` is `s^{L-1}` times that at phi.
    Scaled {
        /// Homogeneity degree L.
        degree: u32,
    },
}

/// Loss, step rule and length of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// The loss on margins `y f(x)`.
    pub loss: Loss,
    /// The step rule.
    pub step_rule: StepRule,
    /// Number of steps.
    pub steps: usize,
    /// The norm of steepest descent (l2 over all parameters: gradient descent).
    pub geometry: LpGeometry,
    /// Steepest descent, or one of Burn's stateful optimizers.
    pub method: Method,
}

/// What a probe sees: the current point, its loss, and its margins.
pub struct Probe<'a, M> {
    /// Steps taken so far (0 = the initial point).
    pub step: usize,
    /// The module; under [`Parameterization::Scaled`] it holds the direction phi.
    pub model: &'a M,
    /// `ln s` with theta = s * phi (0 under [`Parameterization::Plain`]).
    pub ln_scale: f64,
    /// Homogeneity degree when scaled.
    pub degree: Option<u32>,
    /// Margins `y_n f(x_n; phi)` of the stored parameters; the true margins are `s^L` times these.
    pub unit_margins: &'a [f64],
    /// Outputs `f(x_n; phi)` of the stored parameters.
    pub outputs: &'a [f64],
    /// The loss at the true parameters.
    pub loss: &'a LossState,
    /// `||phi||^2` of the stored parameters.
    pub param_sq: f64,
}

impl<M> Probe<'_, M> {
    /// `ln ||theta||`.
    pub fn ln_theta_norm(&self) -> f64 {
        self.ln_scale + 0.5 * self.param_sq.ln()
    }

    /// `min_n y_n f(x_n) / ||theta||^L` (scale-free for a homogeneous model of degree L).
    pub fn normalized_margin(&self) -> Option<f64> {
        let degree = self.degree?;
        let min = self
            .unit_margins
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        Some(min / self.param_sq.powf(degree as f64 / 2.0))
    }
}

/// State of an adaptive step size (`Schedule::Adaptive`): the current size and the last
/// accepted point to step back to.
struct Adaptive<M> {
    size: f64,
    growth: f64,
    /// The module, `ln s` and `ln L` at the last accepted point.
    accepted: Option<(M, f64, f64)>,
}

impl<M: Clone> Adaptive<M> {
    /// Whether `ln_loss` is above the last accepted loss.
    fn worse(&self, ln_loss: f64) -> bool {
        self.accepted.as_ref().is_some_and(|a| ln_loss > a.2)
    }

    /// Halves the size and returns the point to go back to (none before the first acceptance,
    /// or at the last step, where the run must end on an evaluated point).
    fn reject(&mut self, may: bool) -> Option<(M, f64)> {
        let (model, ln_scale, _) = self.accepted.as_ref().filter(|_| may)?;
        self.size *= 0.5;
        Some((model.clone(), *ln_scale))
    }

    fn accept(&mut self, model: &M, ln_scale: f64, ln_loss: f64) {
        self.accepted = Some((model.clone(), ln_scale, ln_loss));
    }
}

/// The flat parameters of a run on a model's [`HostProgram`], with the program's buffers.
struct HostRun {
    program: Box<dyn HostProgram>,
    theta: Vec<f64>,
    outputs: Vec<f64>,
    grad: Vec<f64>,
}

impl HostRun {
    /// `||theta||^2`, `||g||^2` and `<theta, g>` of the last pullback.
    fn sums(&self) -> crate::ParamSums {
        crate::ParamSums {
            param_sq: dot(&self.theta, &self.theta),
            grad_sq: dot(&self.grad, &self.grad),
            param_dot_grad: dot(&self.theta, &self.grad),
        }
    }

    /// Replaces the gradient by the l_p steepest step `d = ||g||_q u` over the whole vector (as
    /// [`steepest_steps`] with [`NormScope::Global`](crate::NormScope::Global)) and returns
    /// `||d||_p` and `||theta||_p`.
    fn steepest_step(&mut self, p: f64) -> (f64, f64) {
        let direction = crate::steepest_direction(&self.grad, p);
        for (g, u) in self.grad.iter_mut().zip(&direction.unit) {
            *g = u * direction.dual_norm;
        }
        (direction.dual_norm, crate::lp_norm(&self.theta, p))
    }

    /// `theta <- rescale * (theta - step * g)`, as [`update_params`].
    fn update(&mut self, step: f64, rescale: f64) {
        for (t, g) in self.theta.iter_mut().zip(&self.grad) {
            *t = (*t - *g * step) * rescale;
        }
    }
}

/// Full-batch trainer for any [`ScalarModel`].
pub struct Trainer<M> {
    model: M,
    ln_scale: f64,
    param: Parameterization,
    /// Stop once `ln L` falls below this.
    target_ln_loss: Option<f64>,
    /// Steps taken by the last `run`.
    steps_taken: usize,
    /// Which examples each step's gradient uses.
    sampling: Sampling,
    /// Whether a model's [`HostProgram`] may replace Burn's autodiff.
    host_programs: bool,
    /// Whether the last `run` took the host path.
    ran_on_host: bool,
}

impl<M: ScalarModel> Trainer<M> {
    /// Trains the parameters as they are stored.
    pub fn plain(model: M) -> Self {
        Self {
            model,
            ln_scale: 0.0,
            param: Parameterization::Plain,
            target_ln_loss: None,
            steps_taken: 0,
            sampling: Sampling::Full,
            host_programs: true,
            ran_on_host: false,
        }
    }

    /// Takes each step's gradient on a mini-batch (stochastic gradient descent); probes and
    /// step rules still see the full-batch loss. The draws restart from the seed at every `run`.
    pub fn sampled(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    /// Trains through Burn's autodiff even where the model has a [`HostProgram`] (to compare the
    /// two, or to time the Burn path).
    pub fn autodiff_only(mut self) -> Self {
        self.host_programs = false;
        self
    }

    /// Ends a run early, with a last probe, at the first step where the loss is below `loss`
    /// ("train until the loss is below 1e-10" instead of a guessed number of steps).
    pub fn stop_below(mut self, loss: f64) -> Self {
        self.target_ln_loss = Some(loss.ln());
        self
    }

    /// Steps taken by the last [`run`](Self::run) (fewer than configured after an early stop).
    pub fn steps_taken(&self) -> usize {
        self.steps_taken
    }

    /// Whether the last [`run`](Self::run) trained on the model's [`HostProgram`] instead of
    /// Burn's autodiff.
    pub fn ran_on_host(&self) -> bool {
        self.ran_on_host
    }

    /// The module, holding the direction phi under a scaled parameterization.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// `ln s` with theta = s * phi.
    pub fn ln_scale(&self) -> f64 {
        self.ln_scale
    }

    /// The host run of this configuration: l_p steepest descent in f64 on flex, on a model with
    /// a [`HostProgram`] (the same arithmetic as the Burn path, without per-op dispatch). On a GPU
    /// the run stays on the GPU the user chose.
    fn host_run(&self, batch: &Batch, config: &TrainConfig, adaptive: bool) -> Option<HostRun> {
        let eligible = self.host_programs
            && config.method == Method::Steepest
            && config.geometry.scope == crate::NormScope::Global
            && !adaptive
            && batch.x.dtype() == DType::F64
            && fdl_models::fused::on_flex(&batch.x);
        if !eligible {
            return None;
        }
        let program = self.model.host_program(&batch.x)?;
        let theta = flat_params(&self.model);
        assert_eq!(theta.len(), program.num_params(), "host program size");
        Some(HostRun {
            outputs: vec![0.0; batch.x.dims()[0]],
            grad: vec![0.0; theta.len()],
            program,
            theta,
        })
    }

    /// Runs `config.steps` steps, calling `probe` at every step listed in `probe_steps` (and at
    /// the end); `on_step` is called after every step (progress bars). Stops with an error at the
    /// first NaN or infinite quantity, naming the step and the quantity.
    pub fn run(
        &mut self,
        batch: &Batch,
        config: &TrainConfig,
        probe_steps: &[usize],
        probe: impl FnMut(&Probe<'_, M>) -> Result<(), String>,
        on_step: impl FnMut(usize),
    ) -> Result<(), TrainError> {
        self.ran_on_host = false;
        let scaled = matches!(self.param, Parameterization::Scaled { .. });
        if let Some(why) =
            config
                .method
                .incompatibility(&config.step_rule, &config.geometry, scaled)
        {
            return Err(TrainError::Unsupported(why));
        }
        if scaled && !config.loss.is_classification() {
            return Err(TrainError::Unsupported(
                "the square loss is not scale-invariant: train it with the plain parameterization",
            ));
        }
        let adaptive = matches!(config.step_rule.schedule, Schedule::Adaptive { .. });
        let mut host = self.host_run(batch, config, adaptive);
        self.ran_on_host = host.is_some();
        let result = self.run_steps(batch, config, probe_steps, probe, on_step, &mut host);
        // The host path keeps theta outside the module: write it back however the run ended.
        if let Some(h) = &host {
            self.model = with_flat_params(self.model.clone(), &h.theta);
        }
        result
    }

    /// The steps of [`run`](Self::run), on `host` when it is given.
    fn run_steps(
        &mut self,
        batch: &Batch,
        config: &TrainConfig,
        probe_steps: &[usize],
        mut probe: impl FnMut(&Probe<'_, M>) -> Result<(), String>,
        mut on_step: impl FnMut(usize),
        host: &mut Option<HostRun>,
    ) -> Result<(), TrainError> {
        let degree = match self.param {
            Parameterization::Plain => None,
            Parameterization::Scaled { degree } => Some(degree),
        };
        let targets = to_host(batch.y.clone());
        let mut sampler =
            Sampler::new(self.sampling, targets.len()).map_err(TrainError::Unsupported)?;
        let mut optimizer = config.method.burn_optimizer();
        let mut next_probe = probe_steps.iter().copied().peekable();
        let mut adaptive = match config.step_rule.schedule {
            Schedule::Adaptive { growth } => Some(Adaptive {
                size: config.step_rule.size,
                growth,
                accepted: None,
            }),
            _ => None,
        };
        for step in 0..=config.steps {
            let (outputs, out_host) = match host.as_mut() {
                Some(h) => {
                    h.program.outputs(&h.theta, &mut h.outputs);
                    (None, h.outputs.clone())
                }
                None => {
                    let outputs = self.model.forward(batch.x.clone());
                    let out_host = to_host(outputs.clone());
                    (Some(outputs), out_host)
                }
            };
            let bad = out_host.iter().copied().find(|m| !m.is_finite());
            // An adaptive run steps back from a point that is non-finite or raises the loss.
            if let (Some(a), Some(_)) = (adaptive.as_mut(), bad)
                && let Some(back) = a.reject(step < config.steps)
            {
                (self.model, self.ln_scale) = back;
                on_step(step + 1);
                continue;
            }
            if let Some(value) = bad {
                return Err(TrainError::Diverged {
                    step,
                    quantity: "output",
                    value,
                });
            }
            let unit_host: Vec<f64> = out_host.iter().zip(&targets).map(|(f, y)| f * y).collect();
            let ln_margin_scale = self.ln_scale * degree.unwrap_or(1) as f64;
            let loss = match config.loss {
                Loss::Square => LossState::square(&out_host, &targets),
                margin_loss => LossState::new(margin_loss, ln_margin_scale, &unit_host),
            };
            finite(step, "ln(grad L / L)", loss.ln_weight_over_loss)?;
            if let Some(a) = adaptive.as_mut() {
                if a.worse(loss.ln_loss)
                    && let Some(back) = a.reject(step < config.steps)
                {
                    (self.model, self.ln_scale) = back;
                    on_step(step + 1);
                    continue;
                }
                a.accept(&self.model, self.ln_scale, loss.ln_loss);
            }
            // dL/df_n = e^G c_n: -y_n w_n for a margin loss, the scaled residual for the square loss.
            let coefficients: Vec<f64> = match config.loss {
                Loss::Square => loss.weights.clone(),
                _ => loss
                    .weights
                    .iter()
                    .zip(&targets)
                    .map(|(w, y)| -w * y)
                    .collect(),
            };

            let reached = self.target_ln_loss.is_some_and(|t| loss.ln_loss < t);
            let last = step == config.steps || reached;
            self.steps_taken = step;
            let probing = next_probe.next_if(|&s| s <= step).is_some() || last;
            while next_probe.next_if(|&s| s <= step).is_some() {}
            if probing {
                if let Some(h) = &host {
                    self.model = with_flat_params(self.model.clone(), &h.theta);
                }
                let sums = param_sums(&self.model, None);
                let view = Probe {
                    step,
                    model: &self.model,
                    ln_scale: self.ln_scale,
                    degree,
                    unit_margins: &unit_host,
                    outputs: &out_host,
                    loss: &loss,
                    param_sq: sums.param_sq,
                };
                probe(&view).map_err(TrainError::Probe)?;
            }
            if last {
                break;
            }
            // A mini-batch: example n's term weighted by (N / |B|) count_n(B).
            let coefficients: Vec<f64> = match sampler.next_weights() {
                None => coefficients,
                Some(w) => coefficients.iter().zip(&w).map(|(c, w)| c * w).collect(),
            };

            if let Some(optimizer) = optimizer.as_mut() {
                let lr = adaptive
                    .as_ref()
                    .map_or_else(|| config.step_rule.size_at(step, config.steps), |a| a.size);
                let outputs = outputs.expect("stateful optimizers run on Burn");
                self.stateful_step(optimizer, lr, outputs, &coefficients, &loss, step + 1)?;
                on_step(step + 1);
                continue;
            }
            let (grads, step_norm, sums) = match (host.as_mut(), outputs) {
                (Some(h), _) => {
                    h.program.pullback(&h.theta, &coefficients, &mut h.grad);
                    let step_norm = (!config.geometry.is_euclidean())
                        .then(|| h.steepest_step(config.geometry.p));
                    (None, step_norm, h.sums())
                }
                (None, outputs) => {
                    let outputs = outputs.expect("the Burn path has its outputs");
                    let coefficients =
                        fdl_models::tensor1_from_host(&coefficients, &outputs.device());
                    let mut grads = (outputs * coefficients).sum().backward();
                    // l_p geometry: the gradient is replaced by the steepest step d (d = g for l2).
                    let step_norm = (!config.geometry.is_euclidean()).then(|| {
                        let d = steepest_steps(&self.model, &mut grads, config.geometry);
                        (d, param_lp_norm(&self.model, config.geometry.p))
                    });
                    let sums = param_sums(&self.model, Some(&grads));
                    (Some(grads), step_norm, sums)
                }
            };
            finite(step + 1, "gradient norm", sums.grad_sq)?;
            finite(step + 1, "parameter norm", sums.param_sq)?;
            if sums.grad_sq == 0.0 && config.step_rule.is_normalized() {
                return Err(TrainError::ZeroGradient { step: step + 1 });
            }
            // theta-space quantities from phi-space ones: grad_theta = s^{L-1} grad_phi.
            let ln_s = self.ln_scale;
            let l = degree.unwrap_or(1) as f64;
            // ||d||_p and ||theta||_p in theta-space from phi-space ones.
            let (ln_d_phi, ln_phi) = match step_norm {
                None => (0.5 * sums.grad_sq.ln(), 0.5 * sums.param_sq.ln()),
                Some((d, phi)) => (d.ln(), phi.ln()),
            };
            let ln_g_theta = (l - 1.0) * ln_s + ln_d_phi;
            let ln_theta = ln_s + ln_phi;
            let ln_k_theta = config.step_rule.ln_multiplier(
                adaptive
                    .as_ref()
                    .map_or_else(|| config.step_rule.size_at(step, config.steps), |a| a.size),
                ln_g_theta,
                ln_theta,
                loss.ln_max_weight,
                loss.ln_weight_over_loss,
            );
            // phi <- phi - k_theta s^{L-2} g_phi (the theta update divided by s).
            let kappa = (ln_k_theta + (l - 2.0) * ln_s).exp();
            finite(step + 1, "step multiplier", kappa)?;

            let rescale = match degree {
                None => 1.0,
                Some(_) => {
                    let new_sq = sums.param_sq - 2.0 * kappa * sums.param_dot_grad
                        + kappa * kappa * sums.grad_sq;
                    let norm = finite(step + 1, "parameter norm", new_sq.sqrt())?;
                    self.ln_scale = finite(step + 1, "ln ||theta||", ln_s + norm.ln())?;
                    1.0 / norm
                }
            };
            match (host.as_mut(), grads) {
                (Some(h), _) => h.update(kappa, rescale),
                (None, grads) => {
                    let grads = grads.expect("the Burn path has its gradients");
                    self.model = update_params(self.model.clone(), &grads, kappa, rescale);
                }
            }
            if let Some(a) = adaptive.as_mut() {
                a.size *= a.growth;
            }
            on_step(step + 1);
        }
        Ok(())
    }
}

impl<M: ScalarModel> Trainer<M> {
    /// One step of a Burn optimizer on the true gradient `sum_n dL/df_n grad f_n` (its state
    /// accumulates gradients across steps, so they must not be rescaled per step).
    fn stateful_step(
        &mut self,
        optimizer: &mut ModuleOptimizer,
        lr: f64,
        outputs: Tensor<1>,
        coefficients: &[f64],
        loss: &LossState,
        step: usize,
    ) -> Result<(), TrainError> {
        let scale = finite(step, "largest loss derivative", loss.ln_max_weight.exp())?;
        let weights: Vec<f64> = coefficients.iter().map(|c| c * scale).collect();
        let weights = fdl_models::tensor1_from_host(&weights, &outputs.device());
        let grads = (outputs * weights).sum().backward();
        let sums = param_sums(&self.model, Some(&grads));
        finite(step, "gradient norm", sums.grad_sq)?;
        let grads = GradientsParams::from_grads(grads, &self.model);
        self.model = optimizer.step(lr, self.model.clone(), grads);
        Ok(())
    }
}

impl<M: Homogeneous> Trainer<M> {
    /// Trains `theta = s * phi` with phi on the unit sphere and `ln s` on the host.
    pub fn scaled(model: M) -> Self {
        let degree = model.homogeneity_degree();
        let norm = param_sums(&model, None).param_sq.sqrt();
        assert!(
            norm > 0.0 && norm.is_finite(),
            "a scaled parameterization needs theta != 0"
        );
        Self {
            model: scale_params(model, 1.0 / norm),
            ln_scale: norm.ln(),
            param: Parameterization::Scaled { degree },
            target_ln_loss: None,
            steps_taken: 0,
            sampling: Sampling::Full,
            host_programs: true,
            ran_on_host: false,
        }
    }
}
