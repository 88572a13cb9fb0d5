//! A model's outputs and their parameter gradient in closed form on host `f64` vectors.
//!
//! A step of a tiny model through Burn is 20-40 op dispatches and two read-backs (about 10 us at
//! D = 16), while the arithmetic is a few hundred multiply-adds. A model that can say what its
//! outputs and gradient are in closed form lets the trainer run such steps on the host, with the
//! same loss, step rule and probes; `tests/host_program.rs` checks every program against the
//! autodiff path.

use crate::spin_team::split_work;

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

/// Matrices with at least this many entries are multiplied on every core (below it, handing
/// the work to other threads costs more than it saves; a 1000 x 1000 product takes about 0.05 ms).
const PARALLEL_ENTRIES: usize = 1 << 16;

/// `x^T c` for row-major `x` of shape `[c.len(), out.len()]`.
pub(crate) fn transposed_product(x: &[f64], c: &[f64], out: &mut [f64]) {
    let cols = out.len();
    if x.len() < PARALLEL_ENTRIES {
        return simd::transposed_product(x, c, out);
    }
    // Each core sums its block of rows into its own vector; the vectors are added at the end.
    let rows_per_block = c.len().div_ceil(rayon::current_num_threads());
    let mut partial = vec![vec![0.0; cols]; c.len().div_ceil(rows_per_block)];
    split_work(
        partial.iter_mut().zip(
            x.chunks(rows_per_block * cols)
                .zip(c.chunks(rows_per_block)),
        ),
        |(part, (block, c))| simd::transposed_product(block, c, part),
    );
    out.fill(0.0);
    for part in partial {
        for (o, v) in out.iter_mut().zip(part) {
            *o += v;
        }
    }
}

/// `x beta` for row-major `x` of shape `[out.len(), beta.len()]`.
pub(crate) fn product(x: &[f64], beta: &[f64], out: &mut [f64]) {
    let cols = beta.len();
    if x.len() < PARALLEL_ENTRIES {
        return simd::product(x, beta, out);
    }
    let rows_per_block = out.len().div_ceil(rayon::current_num_threads());
    split_work(
        out.chunks_mut(rows_per_block)
            .zip(x.chunks(rows_per_block * cols)),
        |(out, block)| simd::product(block, beta, out),
    );
}

/// The matrix-vector kernels, compiled twice on x86-64: for the baseline (SSE2, two lanes) and
/// for AVX2 (four lanes), which is chosen at run time when the CPU has it. The default target
/// cannot assume AVX2, and these loops are the whole cost of a large linear model's step.
mod simd {
    use super::dot;

    #[inline(always)]
    fn product_kernel(x: &[f64], beta: &[f64], out: &mut [f64]) {
        for (o, row) in out.iter_mut().zip(x.chunks_exact(beta.len())) {
            *o = dot(row, beta);
        }
    }

    #[inline(always)]
    fn transposed_kernel(x: &[f64], c: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for (row, &cn) in x.chunks_exact(out.len()).zip(c) {
            for (o, &v) in out.iter_mut().zip(row) {
                *o += cn * v;
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn product_avx2(x: &[f64], beta: &[f64], out: &mut [f64]) {
        product_kernel(x, beta, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn transposed_avx2(x: &[f64], c: &[f64], out: &mut [f64]) {
        transposed_kernel(x, c, out);
    }

    /// `x beta` on this core.
    pub(super) fn product(x: &[f64], beta: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { product_avx2(x, beta, out) };
        }
        product_kernel(x, beta, out);
    }

    /// `x^T c` on this core.
    pub(super) fn transposed_product(x: &[f64], c: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { transposed_avx2(x, c, out) };
        }
        transposed_kernel(x, c, out);
    }
}

/// `<a, b>` with eight independent partial sums, for host programs: a single running sum is one
/// dependent add per element (latency-bound, about 4x slower at D = 64), and the compiler may
/// not reorder it.
#[inline(always)]
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
