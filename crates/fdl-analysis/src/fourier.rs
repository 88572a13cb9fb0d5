//! The discrete Fourier transform of a predictor and measures of its sparsity.
//!
//! Convention: unnormalized DFT, `(F beta)_k = sum_j beta_j e^{-2 pi i j k / D}`, any length D.

use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;

/// `F beta` for any length (rustfft handles non-powers of two exactly).
pub fn dft(beta: &[f64]) -> Vec<Complex64> {
    let mut buf: Vec<Complex64> = beta.iter().map(|&b| Complex64::new(b, 0.0)).collect();
    FftPlanner::new()
        .plan_fft_forward(buf.len())
        .process(&mut buf);
    buf
}

/// `||F beta||_p = (sum_k |(F beta)_k|^p)^{1/p}` for p > 0 (a quasi-norm for p < 1).
pub fn fourier_norm(beta: &[f64], p: f64) -> f64 {
    dft(beta)
        .iter()
        .map(|c| c.norm().powf(p))
        .sum::<f64>()
        .powf(1.0 / p)
}

/// Sparsity measures of `|F beta|`.
#[derive(Debug, Clone, PartialEq)]
pub struct FourierSummary {
    /// `|F beta|` sorted in decreasing order, divided by its maximum.
    pub sorted_normalized: Vec<f64>,
    /// `||F beta||_1 / ||F beta||_2`: sqrt(D) for a flat spectrum, sqrt(2) for one conjugate pair.
    pub l1_over_l2: f64,
    /// Number of coefficients above `threshold` times the largest.
    pub count_above: usize,
}

/// Summarizes the spectrum of `beta`, counting coefficients above `threshold * max`.
pub fn fourier_summary(beta: &[f64], threshold: f64) -> FourierSummary {
    let mut mags: Vec<f64> = dft(beta).iter().map(|c| c.norm()).collect();
    mags.sort_by(|a, b| b.total_cmp(a));
    let max = mags.first().copied().unwrap_or(0.0);
    let l1: f64 = mags.iter().sum();
    let l2 = mags.iter().map(|m| m * m).sum::<f64>().sqrt();
    FourierSummary {
        sorted_normalized: mags
            .iter()
            .map(|m| if max > 0.0 { m / max } else { 0.0 })
            .collect(),
        l1_over_l2: if l2 > 0.0 { l1 / l2 } else { 0.0 },
        count_above: mags.iter().filter(|&&m| m > threshold * max).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_dft(beta: &[f64]) -> Vec<Complex64> {
        let d = beta.len();
        (0..d)
            .map(|k| {
                beta.iter()
                    .enumerate()
                    .map(|(j, &b)| {
                        let angle = -2.0 * std::f64::consts::PI * (j * k) as f64 / d as f64;
                        Complex64::from_polar(b, angle)
                    })
                    .sum()
            })
            .collect()
    }

    #[test]
    fn matches_the_naive_sum_for_odd_and_even_lengths() {
        for d in [1, 5, 12, 16, 17] {
            let beta: Vec<f64> = (0..d).map(|j| ((j * 7 + 3) % 5) as f64 - 2.0).collect();
            for (a, b) in dft(&beta).iter().zip(naive_dft(&beta)) {
                assert!((a - b).norm() < 1e-10);
            }
        }
    }

    #[test]
    fn a_pure_cosine_is_one_conjugate_pair() {
        let d = 16;
        let beta: Vec<f64> = (0..d)
            .map(|j| (2.0 * std::f64::consts::PI * 3.0 * j as f64 / d as f64).cos())
            .collect();
        let s = fourier_summary(&beta, 1e-3);
        assert_eq!(s.count_above, 2);
        assert!((s.l1_over_l2 - 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn a_delta_has_a_flat_spectrum() {
        let mut beta = vec![0.0; 9];
        beta[4] = 2.0;
        let s = fourier_summary(&beta, 1e-3);
        assert_eq!(s.count_above, 9);
        assert!((s.l1_over_l2 - 3.0).abs() < 1e-12);
        assert!((fourier_norm(&beta, 1.0) - 18.0).abs() < 1e-12);
    }
}
