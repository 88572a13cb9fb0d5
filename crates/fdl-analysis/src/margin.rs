//! Margins of linear predictors: `min_n <z_n, beta>` with `z_n = y_n x_n`, and normalized forms.

use crate::{dot, fourier_norm, norm2};

/// `min_n <z_n, beta>` over the rows of `z` (row-major, `beta.len()` columns).
pub fn min_margin(z: &[f64], beta: &[f64]) -> f64 {
    z.chunks(beta.len())
        .map(|row| dot(row, beta))
        .fold(f64::INFINITY, f64::min)
}

/// `min_n <z_n, beta> / ||beta||_2`.
pub fn normalized_margin_l2(z: &[f64], beta: &[f64]) -> f64 {
    min_margin(z, beta) / norm2(beta)
}

/// `min_n <z_n, beta> / ||F beta||_p`, the margin depth-conv nets maximize for p = 2/L.
pub fn normalized_margin_fourier(z: &[f64], beta: &[f64], p: f64) -> f64 {
    min_margin(z, beta) / fourier_norm(beta, p)
}

/// `l^{-1}(L) = -ln(expm1(L))` for the summed logistic loss L, from `ln L` (so that it stays
/// exact when L underflows): the margin a single point would need to have loss L.
pub fn inverse_logistic(ln_loss: f64) -> f64 {
    if ln_loss < -30.0 {
        // expm1(L) = L (1 + L/2 + ...): -ln L - L/2 to double precision.
        -ln_loss - 0.5 * ln_loss.exp()
    } else {
        -ln_loss.exp().exp_m1().ln()
    }
}

/// `||theta||^L` from `||theta||^2`, for any homogeneity degree L (in the log domain, so a
/// parameter norm past 1e154 does not overflow before the division it is used in).
pub fn norm_power(param_sq: f64, degree: f64) -> f64 {
    (0.5 * degree * param_sq.ln()).exp()
}

/// Lyu & Li's smoothed normalized margin `l^{-1}(L) / ||theta||^L` of an L-homogeneous model
/// (Lyu & Li 2020, arXiv:1906.05890, eq. (3)), from the summed logistic loss's `ln L` and
/// `||theta||^2`. It is below the normalized margin `min_n y_n f(x_n) / ||theta||^L` and tends
/// to it as the loss vanishes.
pub fn smoothed_normalized_margin(ln_loss: f64, param_sq: f64, degree: f64) -> f64 {
    inverse_logistic(ln_loss) / norm_power(param_sq, degree)
}

#[cfg(test)]
mod smoothed_tests {
    use super::*;

    /// A depth-3 bias-free ReLU net f(x) = w3 . relu(W2 relu(W1 x)): homogeneous of degree 3.
    struct Depth3 {
        w1: Vec<f64>, // [4, 2]
        w2: Vec<f64>, // [3, 4]
        w3: Vec<f64>, // [3]
    }

    impl Depth3 {
        fn scaled(&self, c: f64) -> Self {
            let s = |v: &[f64]| v.iter().map(|x| c * x).collect();
            Self {
                w1: s(&self.w1),
                w2: s(&self.w2),
                w3: s(&self.w3),
            }
        }
        fn forward(&self, x: &[f64]) -> f64 {
            let layer = |w: &[f64], h: &[f64]| -> Vec<f64> {
                w.chunks(h.len()).map(|row| dot(row, h).max(0.0)).collect()
            };
            dot(&self.w3, &layer(&self.w2, &layer(&self.w1, x)))
        }
        fn param_sq(&self) -> f64 {
            [&self.w1, &self.w2, &self.w3]
                .iter()
                .map(|v| dot(v, v))
                .sum()
        }
        /// ln of the summed logistic loss and the smallest margin.
        fn loss_and_margin(&self, data: &[([f64; 2], f64)]) -> (f64, f64) {
            let margins: Vec<f64> = data.iter().map(|(x, y)| y * self.forward(x)).collect();
            let loss: f64 = margins.iter().map(|m| (-m).exp().ln_1p()).sum();
            (
                loss.ln(),
                margins.iter().copied().fold(f64::INFINITY, f64::min),
            )
        }
    }

    #[test]
    fn the_smoothed_margin_of_a_depth_three_net_is_scale_free_in_the_limit_and_below_the_margin() {
        let net = Depth3 {
            w1: vec![1.0, 0.5, -0.3, 1.2, 0.8, -0.7, -1.0, -0.4],
            w2: vec![
                0.9, 0.1, 0.4, -0.2, 0.3, 0.8, -0.5, 0.6, -0.4, 0.2, 0.7, 0.9,
            ],
            w3: vec![1.1, -0.6, 0.5],
        };
        let data: Vec<([f64; 2], f64)> = [[1.0, 0.2], [0.4, 1.0], [-0.3, 0.9], [0.8, -0.5]]
            .iter()
            .map(|x| (*x, net.forward(x).signum()))
            .collect();
        let mut previous = f64::NEG_INFINITY;
        let mut gaps = Vec::new();
        for c in [1.0, 2.0, 4.0, 8.0] {
            let big = net.scaled(c);
            let (ln_loss, min) = big.loss_and_margin(&data);
            let normalized = min / norm_power(big.param_sq(), 3.0);
            let smoothed = smoothed_normalized_margin(ln_loss, big.param_sq(), 3.0);
            // f(c theta) = c^3 f(theta): the normalized margin does not depend on c ...
            let base = net.loss_and_margin(&data).1 / net.param_sq().powf(1.5);
            assert!(
                (normalized - base).abs() < 1e-12 * base.abs(),
                "{normalized} {base}"
            );
            // ... and the smoothed one is below it, rising to it as c grows.
            assert!(
                smoothed <= normalized && smoothed > previous,
                "c = {c}: {smoothed}"
            );
            previous = smoothed;
            gaps.push(1.0 - smoothed / normalized);
        }
        // The gap is about ln(n) / (c^3 min margin): it shrinks eightfold per doubling of c.
        assert!(gaps.windows(2).all(|g| g[1] < 0.2 * g[0]), "{gaps:?}");
        // The degree is L = 3: using L = 2 would make the normalized margin grow like c.
        let big = net.scaled(8.0);
        let wrong = big.loss_and_margin(&data).1 / norm_power(big.param_sq(), 2.0);
        assert!(wrong > 10.0 * previous);
    }

    #[test]
    fn norm_power_matches_powf_and_survives_huge_norms() {
        assert!((norm_power(9.0, 3.0) - 27.0).abs() < 1e-12);
        assert!((norm_power(4.0, 1.0) - 2.0).abs() < 1e-15);
        assert!(norm_power(1e300, 3.0).is_infinite());
        // One point with margin m has loss ln(1 + e^-m); l^{-1} gives m back, also past e^-745.
        for m in [-2.0f64, 0.5, 3.0, 40.0, 800.0] {
            let ln_loss = if m < 700.0 {
                (-m).exp().ln_1p().ln()
            } else {
                -m
            };
            assert!(
                (inverse_logistic(ln_loss) - m).abs() < 1e-9 * m.abs().max(1.0),
                "{m}"
            );
        }
    }
}
