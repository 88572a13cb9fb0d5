//! The l_p steepest-descent direction (Gunasekar, Lee, Soudry, Srebro, ICML 2018):
//! `u = argmax_{||u||_p <= 1} <g, u>`, with `<g, u> = ||g||_q`, `q = p / (p - 1)`.
//!
//! Host-side reference: `u_i = sign(g_i) (|g_i| / ||g||_q)^{q-1}`; p = 1 moves only the largest
//! |g_i| (ties split evenly: greedy coordinate descent), p = inf is `sign(g)` (sign descent),
//! p = 2 is `g / ||g||_2` (gradient descent).

/// The dual exponent `q = p / (p - 1)` (inf for p = 1, 1 for p = inf).
pub fn dual_exponent(p: f64) -> f64 {
    if p == 1.0 {
        f64::INFINITY
    } else if p.is_infinite() {
        1.0
    } else {
        p / (p - 1.0)
    }
}

/// A unit steepest direction and the dual norm of the gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct SteepestDirection {
    /// `u` with `||u||_p = 1` maximizing `<g, u>` (zero when g = 0).
    pub unit: Vec<f64>,
    /// `||g||_q = <g, u>`.
    pub dual_norm: f64,
}

/// The l_p steepest direction of `g` for p in [1, inf], stable for p near 1 (q large): the
/// ratios `|g_i| / max |g|` are formed before any power.
pub fn steepest_direction(g: &[f64], p: f64) -> SteepestDirection {
    assert!(p >= 1.0, "steepest descent needs p >= 1, got {p}");
    let max = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if max == 0.0 {
        return SteepestDirection {
            unit: vec![0.0; g.len()],
            dual_norm: 0.0,
        };
    }
    let q = dual_exponent(p);
    if q.is_infinite() {
        let ties = g.iter().filter(|v| v.abs() == max).count() as f64;
        let unit = g
            .iter()
            .map(|&v| {
                if v.abs() == max {
                    v.signum() / ties
                } else {
                    0.0
                }
            })
            .collect();
        return SteepestDirection {
            unit,
            dual_norm: max,
        };
    }
    if q == 1.0 {
        let unit = g
            .iter()
            .map(|&v| if v == 0.0 { 0.0 } else { v.signum() })
            .collect();
        return SteepestDirection {
            unit,
            dual_norm: g.iter().map(|v| v.abs()).sum(),
        };
    }
    let dual_norm = max
        * g.iter()
            .map(|v| (v.abs() / max).powf(q))
            .sum::<f64>()
            .powf(1.0 / q);
    let unit = g
        .iter()
        .map(|&v| v.signum() * (v.abs() / dual_norm).powf(q - 1.0))
        .collect();
    SteepestDirection { unit, dual_norm }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn lp(v: &[f64], p: f64) -> f64 {
        if p.is_infinite() {
            v.iter().fold(0.0, |m, x| m.max(x.abs()))
        } else {
            v.iter().map(|x| x.abs().powf(p)).sum::<f64>().powf(1.0 / p)
        }
    }

    /// No random unit vector of the l_p ball beats the closed form, and the closed form attains
    /// <g, u> = ||g||_q with ||u||_p = 1.
    #[test]
    fn beats_brute_force_over_random_unit_vectors() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for p in [1.0, 1.01, 4.0 / 3.0, 2.0, 4.0, 50.0, f64::INFINITY] {
            for _ in 0..5 {
                let g: Vec<f64> = (0..4).map(|_| rng.random_range(-2.0..2.0)).collect();
                let s = steepest_direction(&g, p);
                let value: f64 = g.iter().zip(&s.unit).map(|(a, b)| a * b).sum();
                assert!(
                    (lp(&s.unit, p) - 1.0).abs() < 1e-9,
                    "p = {p}: ||u||_p = {}",
                    lp(&s.unit, p)
                );
                assert!((value - s.dual_norm).abs() < 1e-9 * s.dual_norm, "p = {p}");
                for _ in 0..20_000 {
                    let v: Vec<f64> = (0..4).map(|_| rng.random_range(-1.0..1.0)).collect();
                    let n = lp(&v, p);
                    let trial: f64 = g.iter().zip(&v).map(|(a, b)| a * b / n).sum();
                    assert!(
                        trial <= value + 1e-9,
                        "p = {p}: random {trial} beats {value}"
                    );
                }
            }
        }
    }

    #[test]
    fn special_cases_are_coordinate_and_sign_descent() {
        let g = [1.0, -3.0, 3.0, 0.5];
        assert_eq!(steepest_direction(&g, 1.0).unit, vec![0.0, -0.5, 0.5, 0.0]);
        assert_eq!(
            steepest_direction(&g, f64::INFINITY).unit,
            vec![1.0, -1.0, 1.0, 1.0]
        );
        let two = steepest_direction(&g, 2.0);
        let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        for (u, v) in two.unit.iter().zip(&g) {
            assert!((u - v / norm).abs() < 1e-15);
        }
    }

    #[test]
    fn p_near_one_does_not_overflow() {
        let s = steepest_direction(&[1e3, 2e3, -1e-3], 1.0001);
        assert!(s.unit.iter().all(|u| u.is_finite()) && s.dual_norm.is_finite());
        assert!(
            s.unit[1] > 0.99,
            "mass concentrates on the largest entry: {:?}",
            s.unit
        );
    }
}
