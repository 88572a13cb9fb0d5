//! The l1 max margin over the lifted features relu(u . x), u on the unit sphere (Wei, Lee, Liu,
//! Ma 2019, arXiv:1810.05369, Theorem 4.3: half of it is the max normalized margin of a wide
//! two-layer ReLU net), by column generation with a certified upper bound.
//!
//! Over a finite direction set U the problem is the LP `min ||alpha||_1 s.t.
//! y_i sum_k alpha_k relu(u_k . x_i) >= 1` with value p_U (gamma_U = 1/p_U <= gamma). Its dual
//! `max sum lambda s.t. |sum_i lambda_i y_i relu(u . x_i)| <= 1 for all u` gives the certificate:
//! with `c* = max_u |sum_i lambda_i y_i relu(u . x_i)|` over the whole sphere, lambda / c* is dual
//! feasible, so `gamma <= c* / p_U`. Each round adds the directions attaining c* until c* <= 1 +
//! tolerance. The maximization over the sphere is exact (an arrangement of great circles), which
//! is what makes the upper bound a certificate; it is implemented for d <= 3 (2-D inputs plus a
//! constant feature).

use super::conic::ConicProblem;
use super::{SolveStatus, SolverError};
use clarabel::solver::SupportedConeT::NonnegativeConeT;

/// The lifted l1 max margin with both bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct LiftedMargin {
    /// `1 / p_U` over the final direction set: a lower bound on gamma_l1 (attained by `weights`).
    pub lower: f64,
    /// `c* / p_U`: a certified upper bound on gamma_l1.
    pub upper: f64,
    /// The directions u_k (unit vectors, row-major `[K, d]`) of the final LP.
    pub directions: Vec<f64>,
    /// alpha_k of the final LP, scaled to `||alpha||_1 = 1` (margin `lower`).
    pub weights: Vec<f64>,
    /// Directions in the starting grid.
    pub grid_directions: usize,
    /// Column-generation rounds.
    pub rounds: usize,
    /// How the final LP was solved.
    pub status: SolveStatus,
}

impl LiftedMargin {
    /// The midpoint of the bounds.
    pub fn value(&self) -> f64 {
        0.5 * (self.lower + self.upper)
    }
}

/// `sum_i c_i relu(u . x_i)`.
fn feature_sum(u: &[f64], x: &[f64], d: usize, c: &[f64]) -> f64 {
    x.chunks(d)
        .zip(c)
        .map(|(xi, ci)| ci * dot(u, xi).max(0.0))
        .sum()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalized(v: &[f64]) -> Option<Vec<f64>> {
    let n = dot(v, v).sqrt();
    (n > 1e-300).then(|| v.iter().map(|x| x / n).collect())
}

fn cross(a: &[f64], b: &[f64]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// `sum_{i in S(u)} c_i x_i` for the points active at u (`u . x_i > 0`), plus `extra` if given.
fn active_sum(u: &[f64], x: &[f64], d: usize, c: &[f64], extra: Option<usize>) -> Vec<f64> {
    let mut v = vec![0.0; d];
    for (i, (xi, ci)) in x.chunks(d).zip(c).enumerate() {
        if dot(u, xi) > 0.0 || extra == Some(i) {
            v.iter_mut().zip(xi).for_each(|(a, b)| *a += ci * b);
        }
    }
    v
}

/// Every point where `g(u) = sum_i c_i relu(u . x_i)` can attain its maximum over the unit
/// sphere: g is linear (`u . v_S`) on each cell of the arrangement of the great circles
/// `u . x_i = 0`, so the maximum sits at a vertex, at `v_S` projected onto a circle (inside an
/// arc), or at `v_S / |v_S|` (inside a cell). The list may hold extra points; it never misses
/// the maximizer.
fn candidates(x: &[f64], d: usize, c: &[f64]) -> Vec<Vec<f64>> {
    let n = c.len();
    let rows: Vec<&[f64]> = x.chunks(d).collect();
    let mut out = Vec::new();
    match d {
        1 => out.extend([vec![1.0], vec![-1.0]]),
        2 => {
            // Vertices +-x_i^perp; each arc between them is a cell with optimum v_S / |v_S|.
            let mut angles: Vec<f64> = Vec::new();
            for r in &rows {
                if let Some(p) = normalized(&[-r[1], r[0]]) {
                    for s in [1.0, -1.0] {
                        out.push(vec![s * p[0], s * p[1]]);
                        angles.push((s * p[1]).atan2(s * p[0]));
                    }
                }
            }
            angles.sort_by(f64::total_cmp);
            angles.push(angles.first().map_or(0.0, |a| a + std::f64::consts::TAU));
            for w in angles.windows(2) {
                let mid = 0.5 * (w[0] + w[1]);
                let u = [mid.cos(), mid.sin()];
                out.extend(normalized(&active_sum(&u, x, d, c, None)));
            }
            if out.is_empty() {
                out.extend([vec![1.0, 0.0], vec![-1.0, 0.0]]);
            }
        }
        3 => {
            for i in 0..n {
                let Some(ni) = normalized(rows[i]) else {
                    continue;
                };
                // An orthonormal basis (e1, e2) of the circle u . x_i = 0.
                let helper = if ni[0].abs() < 0.9 {
                    [1.0, 0.0, 0.0]
                } else {
                    [0.0, 1.0, 0.0]
                };
                let e1 = normalized(&cross(&ni, &helper)).expect("helper is not parallel");
                let e2 = cross(&ni, &e1);
                let mut angles = Vec::new();
                for (j, r) in rows.iter().enumerate() {
                    if j == i {
                        continue;
                    }
                    if let Some(v) = normalized(&cross(&ni, r)) {
                        for s in [1.0, -1.0] {
                            let p: Vec<f64> = v.iter().map(|a| s * a).collect();
                            angles.push(dot(&p, &e2).atan2(dot(&p, &e1)));
                            out.push(p);
                        }
                    }
                }
                angles.sort_by(f64::total_cmp);
                if angles.len() < 2 {
                    angles = vec![0.0, 1.5, 3.0, 4.5];
                }
                angles.push(angles[0] + std::f64::consts::TAU);
                for w in angles.windows(2) {
                    let t = 0.5 * (w[0] + w[1]);
                    let u: Vec<f64> = (0..3).map(|k| t.cos() * e1[k] + t.sin() * e2[k]).collect();
                    // On the arc: v_S projected onto the circle's plane.
                    let v = active_sum(&u, x, d, c, None);
                    let along = dot(&v, &ni);
                    let proj: Vec<f64> = v.iter().zip(&ni).map(|(a, b)| a - along * b).collect();
                    out.extend(normalized(&proj));
                    // The two cells beside the arc: S and S + {i}.
                    out.extend(normalized(&v));
                    out.extend(normalized(&active_sum(&u, x, d, c, Some(i))));
                }
            }
            if out.is_empty() {
                out.extend([vec![1.0, 0.0, 0.0], vec![-1.0, 0.0, 0.0]]);
            }
        }
        _ => unreachable!("checked by the caller"),
    }
    out
}

/// `max_{|u| = 1} |sum_i c_i relu(u . x_i)|` exactly (rows of `x`, `[n, d]`, d <= 3): the dual
/// certificate of the lifted problem, and the global-optimality test of a regularized two-layer
/// net (Wei et al. 2019: a stationary point is a global optimum of the infinite-width problem
/// iff this is at most 2 lambda with c_i = -dL/df(x_i)).
pub fn relu_feature_sup(x: &[f64], d: usize, c: &[f64]) -> f64 {
    assert!(
        (1..=3).contains(&d),
        "the exact sphere oracle handles d <= 3"
    );
    sphere_maximum(x, d, c).0
}

/// `max_u |g(u)|` over the sphere with its maximizers within `1e-12` relative of the maximum.
fn sphere_maximum(x: &[f64], d: usize, c: &[f64]) -> (f64, Vec<Vec<f64>>) {
    let neg: Vec<f64> = c.iter().map(|v| -v).collect();
    let mut best = 0.0f64;
    let mut scored = Vec::new();
    for coefficients in [c, &neg[..]] {
        for u in candidates(x, d, coefficients) {
            let g = feature_sum(&u, x, d, c).abs();
            best = best.max(g);
            scored.push((g, u));
        }
    }
    let top = scored
        .into_iter()
        .filter(|(g, _)| *g >= best * (1.0 - 1e-12))
        .map(|(_, u)| u)
        .collect();
    (best, top)
}

/// `ceil(k)` directions spread evenly over the unit sphere (a circle for d = 2, a Fibonacci
/// lattice for d = 3).
fn sphere_grid(d: usize, k: usize) -> Vec<Vec<f64>> {
    use std::f64::consts::{PI, TAU};
    match d {
        1 => vec![vec![1.0], vec![-1.0]],
        2 => (0..k)
            .map(|j| {
                let t = TAU * j as f64 / k as f64;
                vec![t.cos(), t.sin()]
            })
            .collect(),
        _ => {
            let golden = PI * (3.0 - 5f64.sqrt());
            (0..k)
                .map(|j| {
                    let z = 1.0 - 2.0 * (j as f64 + 0.5) / k as f64;
                    let r = (1.0 - z * z).sqrt();
                    let t = golden * j as f64;
                    vec![r * t.cos(), r * t.sin(), z]
                })
                .collect()
        }
    }
}

/// The LP over the directions `u`: its value p_U, the weights alpha and the duals lambda.
fn restricted_lp(
    u: &[Vec<f64>],
    x: &[f64],
    y: &[f64],
    d: usize,
) -> Result<(f64, Vec<f64>, Vec<f64>, SolveStatus), SolverError> {
    let (n, k) = (y.len(), u.len());
    let nv = 2 * k;
    let mut a = Vec::with_capacity((n + nv) * nv);
    for (xi, yi) in x.chunks(d).zip(y) {
        let features: Vec<f64> = u.iter().map(|uk| yi * dot(uk, xi).max(0.0)).collect();
        // y_i phi(x_i) (alpha+ - alpha-) >= 1, written as b - A v >= 0 with b = -1.
        a.extend(features.iter().map(|f| -f));
        a.extend(features.iter().copied());
    }
    for j in 0..nv {
        let mut row = vec![0.0; nv];
        row[j] = -1.0;
        a.extend(row);
    }
    let mut b = vec![-1.0; n];
    b.extend(std::iter::repeat_n(0.0, nv));
    let (v, z, status) = ConicProblem {
        n: nv,
        p: vec![0.0; nv * nv],
        q: vec![1.0; nv],
        a,
        b,
        cones: vec![NonnegativeConeT(n + nv)],
    }
    .solve_primal_dual("lifted l1")?;
    let alpha: Vec<f64> = (0..k).map(|j| v[j] - v[k + j]).collect();
    let value: f64 = alpha.iter().map(|a| a.abs()).sum();
    Ok((value, alpha, z[..n].to_vec(), status))
}

/// gamma_l1 of the data (rows of `x`, `[n, d]`, labels +-1) over the features relu(u . x) with
/// |u| = 1, starting from `grid` evenly spread directions and adding the dual's most violated
/// direction until the certificate's upper bound is within `tolerance` (relative) of the lower
/// bound. Inputs of dimension d <= 3 only (the exact oracle); not separable by the features is a
/// typed error.
pub fn lifted_l1_margin(
    x: &[f64],
    y: &[f64],
    d: usize,
    grid: usize,
    tolerance: f64,
) -> Result<LiftedMargin, SolverError> {
    if !(1..=3).contains(&d) {
        return Err(SolverError::Failed {
            problem: "lifted l1",
            status: format!(
                "the exact sphere oracle handles inputs of dimension 1 to 3 (with any constant feature), got {d}"
            ),
        });
    }
    let mut directions = sphere_grid(d, grid.max(4));
    let grid_directions = directions.len();
    for round in 1..=500 {
        let (value, alpha, lambda, status) = restricted_lp(&directions, x, y, d)?;
        let c: Vec<f64> = lambda.iter().zip(y).map(|(l, yi)| l * yi).collect();
        // The LP's own dual value is sum lambda = p_U (strong duality); the certificate scales it.
        let dual_value: f64 = lambda.iter().sum();
        let (c_star, maximizers) = sphere_maximum(x, d, &c);
        let upper = c_star.max(1.0) / dual_value.max(value * (1.0 - 1e-9));
        let lower = 1.0 / value;
        // New directions only: a maximizer already in the set means the gap left is the LP
        // solver's own accuracy (1e-8), which more rounds cannot close.
        let fresh: Vec<Vec<f64>> = maximizers
            .into_iter()
            .filter(|u| {
                directions
                    .iter()
                    .all(|v| v.iter().zip(u).map(|(a, b)| (a - b).abs()).sum::<f64>() > 1e-12)
            })
            .collect();
        if upper <= lower * (1.0 + tolerance) || fresh.is_empty() || round == 500 {
            let norm: f64 = alpha.iter().map(|a| a.abs()).sum();
            return Ok(LiftedMargin {
                lower,
                upper: upper.max(lower),
                directions: directions.concat(),
                weights: alpha.iter().map(|a| a / norm).collect(),
                grid_directions,
                rounds: round,
                status,
            });
        }
        directions.extend(fresh);
    }
    unreachable!("the loop returns at round 500")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oracle_finds_the_sphere_maximum_of_a_random_arrangement() {
        // Against a dense Fibonacci grid (which can only be lower) and its best point refined.
        let x = [
            0.3, -0.8, 1.0, -0.5, 0.2, 1.0, 0.9, 0.4, 1.0, -0.1, -0.6, 1.0, 0.7, 0.9, 1.0,
        ];
        let c = [0.7, -1.1, 0.4, 0.9, -0.3];
        let (best, _) = sphere_maximum(&x, 3, &c);
        let grid = sphere_grid(3, 400_000);
        let dense = grid
            .iter()
            .map(|u| feature_sum(u, &x, 3, &c).abs())
            .fold(0.0, f64::max);
        assert!(dense <= best * (1.0 + 1e-12), "{dense} > {best}");
        assert!(dense >= best * (1.0 - 1e-3), "{dense} far below {best}");
    }

    #[test]
    fn known_optima() {
        // Two positive points on the axes: one neuron on the diagonal, margin 1/sqrt(2)
        // (dual lambda = (1, 1)/sqrt(2) certifies it).
        let m = lifted_l1_margin(&[1.0, 0.0, 0.0, 1.0], &[1.0, 1.0], 2, 7, 1e-8).unwrap();
        assert!((m.lower - 0.5f64.sqrt()).abs() < 1e-7, "{m:?}");
        assert!((m.upper - 0.5f64.sqrt()).abs() < 1e-7, "{m:?}");
        // x and -x with opposite labels: half a neuron on each side, margin 1/2 (lambda = (1, 1)).
        let m = lifted_l1_margin(&[1.0, 0.0, -1.0, 0.0], &[1.0, -1.0], 2, 7, 1e-8).unwrap();
        assert!(
            (m.lower - 0.5).abs() < 1e-7 && (m.upper - 0.5).abs() < 1e-7,
            "{m:?}"
        );
        // One point: the neuron u = x/|x|, margin |x|, in three dimensions.
        let m = lifted_l1_margin(&[0.6, 0.0, 0.8], &[-1.0], 3, 50, 1e-8).unwrap();
        assert!(
            (m.lower - 1.0).abs() < 1e-7 && (m.upper - 1.0).abs() < 1e-7,
            "{m:?}"
        );
        // d = 4 is refused with a reason.
        let e = lifted_l1_margin(&[1.0; 4], &[1.0], 4, 10, 1e-8).unwrap_err();
        assert!(e.to_string().contains("dimension 1 to 3"), "{e}");
    }

    #[test]
    fn column_generation_beats_the_grid_and_closes_the_gap() {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for k in 0..20 {
            let a = -1.0 + 2.0 * ((k * 7) % 20) as f64 / 19.0;
            let b = -1.0 + 2.0 * ((k * 13 + 5) % 20) as f64 / 19.0;
            x.extend([a, b, 1.0]);
            y.push(if (3.0 * a).sin() > b { 1.0 } else { -1.0 });
        }
        let exact = lifted_l1_margin(&x, &y, 3, 200, 1e-8).unwrap();
        assert!(exact.upper <= exact.lower * (1.0 + 1e-8));
        assert!(exact.rounds > 1);
        let grid_only = restricted_lp(&sphere_grid(3, 200), &x, &y, 3).unwrap().0;
        assert!(
            1.0 / grid_only < exact.lower * (1.0 - 1e-4),
            "the grid is low"
        );
        // The returned weights attain the lower bound.
        let dirs: Vec<&[f64]> = exact.directions.chunks(3).collect();
        let margin = x
            .chunks(3)
            .zip(&y)
            .map(|(xi, yi)| {
                yi * dirs
                    .iter()
                    .zip(&exact.weights)
                    .map(|(u, w)| w * dot(u, xi).max(0.0))
                    .sum::<f64>()
            })
            .fold(f64::INFINITY, f64::min);
        assert!(
            (margin - exact.lower).abs() < 1e-6 * exact.lower,
            "{margin}"
        );
    }
}
