//! Log-spaced probe steps: 0, 1, 2, 5, 10, 20, 50, ... and the last step.

/// The steps `0, 1, 2, 5, 10, 20, 50, ...` up to `last`, with `last` always included.
pub fn log_spaced_steps(last: usize) -> Vec<usize> {
    let mut steps = vec![0];
    let mut decade = 1usize;
    'outer: loop {
        for m in [1, 2, 5] {
            let Some(t) = decade.checked_mul(m) else {
                break 'outer;
            };
            if t > last {
                break 'outer;
            }
            steps.push(t);
        }
        let Some(next) = decade.checked_mul(10) else {
            break;
        };
        decade = next;
    }
    if *steps.last().expect("non-empty") != last {
        steps.push(last);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_two_five_per_decade_and_the_end() {
        assert_eq!(
            log_spaced_steps(120),
            vec![0, 1, 2, 5, 10, 20, 50, 100, 120]
        );
        assert_eq!(log_spaced_steps(100), vec![0, 1, 2, 5, 10, 20, 50, 100]);
        assert_eq!(log_spaced_steps(0), vec![0]);
    }
}
