//! Mean and 95% confidence interval over seeds: Student's t interval, mean +- t_{0.975, n-1}
//! s / sqrt(n), with the t quantile from the regularized incomplete beta function (Numerical
//! Recipes, 3rd ed., section 6.4: t CDF; section 6.4.1: the continued fraction).

/// A mean with its two-sided 95% t interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Number of values.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Lower end (NaN with fewer than 2 values).
    pub low: f64,
    /// Upper end (NaN with fewer than 2 values).
    pub high: f64,
}

/// The mean and 95% t interval of the finite `values` (`None` when there is none).
pub fn mean_interval95(values: &[f64]) -> Option<Interval> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let n = finite.len();
    if n == 0 {
        return None;
    }
    let mean = finite.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Some(Interval {
            n,
            mean,
            low: f64::NAN,
            high: f64::NAN,
        });
    }
    let var = finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t_quantile(0.975, (n - 1) as f64) * (var / n as f64).sqrt();
    Some(Interval {
        n,
        mean,
        low: mean - half,
        high: mean + half,
    })
}

/// The `p` quantile (p in (0.5, 1)) of Student's t with `df` degrees of freedom, by bisection on
/// the CDF.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 1.0);
    while t_cdf(hi, df) < p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// P(T <= t) for t >= 0: 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2.
fn t_cdf(t: f64, df: f64) -> f64 {
    1.0 - 0.5 * incomplete_beta(df / (df + t * t), 0.5 * df, 0.5)
}

/// The regularized incomplete beta function I_x(a, b).
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry
    // I_x(a, b) = 1 - I_{1-x}(b, a) otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_fraction(1.0 - x, b, a) / b
    }
}

/// Lentz's evaluation of the incomplete beta continued fraction.
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        for aa in [
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ] {
            d = 1.0 + aa * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + aa / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Gamma(x) for x > 0 (Lanczos, g = 7, n = 9).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let series: f64 = G[1..]
        .iter()
        .enumerate()
        .map(|(i, g)| g / (x + i as f64 + 1.0))
        .sum::<f64>()
        + G[0];
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // t_{0.975, df} from any statistics table; df = 1 is tan(pi (p - 1/2)).
        for (df, t) in [
            (1.0, 12.706_204_736),
            (2.0, 4.302_652_730),
            (4.0, 2.776_445_105),
            (9.0, 2.262_157_163),
            (31.0, 2.039_513_446),
            (1e6, 1.959_966_4),
        ] {
            assert!((t_quantile(0.975, df) - t).abs() < 1e-6 * t, "df {df}");
        }
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    }

    #[test]
    fn interval_of_known_values() {
        // 1..=5: mean 3, s = sqrt(2.5), half width 2.776445 * sqrt(0.5).
        let i = mean_interval95(&[1.0, 2.0, 3.0, 4.0, 5.0, f64::NAN]).unwrap();
        assert_eq!((i.n, i.mean), (5, 3.0));
        let half = 2.776_445_105 * 0.5f64.sqrt();
        assert!((i.high - 3.0 - half).abs() < 1e-8 && (3.0 - i.low - half).abs() < 1e-8);
        let one = mean_interval95(&[2.0]).unwrap();
        assert!(one.mean == 2.0 && one.low.is_nan());
        assert!(mean_interval95(&[f64::NAN]).is_none());
    }
}
