//! A model's outputs and their parameter gradient in closed form on host `f64` vectors.
//!
//! A step of a tiny model through Burn is 20-40 op dispatches and two read-backs (about 10 us at
//! D = 16), while the arithmetic is a few hundred multiply-adds. A model that can say what its
//! outputs and gradient are in closed form lets the trainer run such steps on the host, with the
//! same loss, step rule and probes; `tests/host_program.rs` checks every program against the
//! autodiff path.

/// The outputs `f(x_n; theta)` of a fixed batch and `sum_n c_n grad_theta f(x_n; theta)`, with
/// theta flat in the module's visiting order (as [`flat_params`](crate::flat_params)).
pub trait HostProgram {
    /// The number of parameters.
    fn num_params(&self) -> usize;

    /// Writes `f(x_n; theta)` for every input of the batch into `out`.
    fn outputs(&mut self, theta: &[f64], out: &mut [f64]);

    /// Writes `sum_n c_n grad_theta f(x_n; theta)` into `grad`, at the theta of the last
    /// [`outputs`](Self::outputs) call (which may cache what this needs).
    fn pullback(&mut self, theta: &[f64], coefficients: &[f64], grad: &mut [f64]);
}

/// `x^T c` for row-major `x` of shape `[c.len(), out.len()]`.
pub(crate) fn transposed_product(x: &[f64], c: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    for (row, &cn) in x.chunks_exact(out.len()).zip(c) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o += cn * v;
        }
    }
}

/// `x beta` for row-major `x` of shape `[out.len(), beta.len()]`.
pub(crate) fn product(x: &[f64], beta: &[f64], out: &mut [f64]) {
    for (o, row) in out.iter_mut().zip(x.chunks_exact(beta.len())) {
        *o = dot(row, beta);
    }
}

/// `<a, b>` with eight independent partial sums, for host programs: a single running sum is one
/// dependent add per element (latency-bound, about 4x slower at D = 64), and the compiler may
/// not reorder it.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 8;
    let mut acc = [0.0; LANES];
    let (a_body, a_tail) = a.split_at(a.len() - a.len() % LANES);
    let (b_body, b_tail) = b[..a.len()].split_at(a_body.len());
    for (x, y) in a_body.chunks_exact(LANES).zip(b_body.chunks_exact(LANES)) {
        for k in 0..LANES {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f64>() + tail
}
