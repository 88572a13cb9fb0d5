//! Helper threads that stay awake between the parallel sections of a host program's steps.
//!
//! A host step of a large linear model is two matrix-vector products of about 50 us each,
//! split across the cores, with 10-30 us of serial work (the loss, the step) between them. Rayon's
//! idle workers go to sleep in that gap, and waking them cost a quarter of the step (perf:
//! `finish_task_switch`, `sched_yield`). The helpers here spin for [`SPIN`] after each section
//! before they sleep, as the thread pools of compiled loops do (OpenMP's spin count, Eigen's
//! pool under XLA).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, TryLockError};
use std::time::{Duration, Instant};

/// How long an idle helper spins before it sleeps.
const SPIN: Duration = Duration::from_micros(300);

/// The work of one section, its lifetime erased: valid until every helper has finished with it,
/// which [`Team::run`] waits for before it returns.
type Job = *const (dyn Fn(usize) + Sync);

struct Shared {
    /// `(section number << 16) | helpers with an item in it` (helper `i` runs item `i + 1`), one
    /// word so that a helper reads both at once; a helper runs a section when it sees a new value.
    generation: AtomicU64,
    /// The section's work; written before `generation` is bumped (release), read after (acquire).
    job: Mutex<Option<SendJob>>,
    /// Helpers still running this section.
    remaining: AtomicUsize,
    /// Whether a helper's item panicked in this section.
    panicked: AtomicBool,
    /// Sleeping helpers wait here for a new generation.
    sleep: Mutex<usize>,
    wake: Condvar,
}

#[derive(Clone, Copy)]
struct SendJob(Job);
// SAFETY: the pointee is `Sync`, and `Team::run` keeps it alive while any helper can use it.
unsafe impl Send for SendJob {}

/// A fixed team of helper threads; [`split_work`] runs a section on it.
struct Team {
    shared: &'static Shared,
    helpers: usize,
    /// One section at a time: a caller that finds the team busy uses rayon instead.
    busy: Mutex<()>,
}

impl Team {
    fn new(helpers: usize) -> Self {
        let shared: &'static Shared = Box::leak(Box::new(Shared {
            generation: AtomicU64::new(0),
            job: Mutex::new(None),
            remaining: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            sleep: Mutex::new(0),
            wake: Condvar::new(),
        }));
        for index in 0..helpers {
            std::thread::Builder::new()
                .name(format!("fdl-spin-{index}"))
                .spawn(move || helper(shared, index))
                .expect("spawning a host-program helper thread");
        }
        Self {
            shared,
            helpers,
            busy: Mutex::new(()),
        }
    }

    /// Runs `work(0)` here and `work(1..items)` on the helpers; returns when all are done.
    fn run(&self, items: usize, work: &(dyn Fn(usize) + Sync)) {
        let s = self.shared;
        let active = items - 1;
        // SAFETY: only the lifetime is erased; `_wait` below keeps this function from returning
        // or unwinding before `remaining` reaches zero, after which no helper touches the job.
        let job: Job = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync), Job>(work) };
        *s.job.lock().expect("job slot") = Some(SendJob(job));
        s.remaining.store(active, Ordering::Relaxed);
        s.panicked.store(false, Ordering::Relaxed);
        let section = (s.generation.load(Ordering::Relaxed) >> 16) + 1;
        s.generation
            .store((section << 16) | active as u64, Ordering::Release);
        let _wait = WaitForHelpers(s);
        if *s.sleep.lock().unwrap_or_else(|p| p.into_inner()) > 0 {
            s.wake.notify_all();
        }
        let own = catch_unwind(AssertUnwindSafe(|| work(0)));
        drop(_wait);
        if let Err(payload) = own {
            std::panic::resume_unwind(payload);
        }
        assert!(
            !s.panicked.load(Ordering::Relaxed),
            "a host-program helper thread panicked"
        );
    }
}

/// Waits, however [`Team::run`] leaves, until every helper is done with the section's job.
struct WaitForHelpers(&'static Shared);

impl Drop for WaitForHelpers {
    fn drop(&mut self) {
        let mut spins = 0u32;
        while self.0.remaining.load(Ordering::Acquire) != 0 {
            // A preempted helper: give its core back rather than spin against it.
            spins += 1;
            if spins < 4096 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        *self.0.job.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

fn helper(s: &'static Shared, index: usize) {
    let mut seen = 0;
    loop {
        seen = next_generation(s, seen);
        if index as u64 >= seen & 0xffff {
            continue;
        }
        let job = s
            .job
            .lock()
            .expect("job slot")
            .expect("a job for this section");
        // SAFETY: see `Team::run`: the job outlives this section.
        let work = unsafe { &*job.0 };
        if catch_unwind(AssertUnwindSafe(|| work(index + 1))).is_err() {
            s.panicked.store(true, Ordering::Relaxed);
        }
        s.remaining.fetch_sub(1, Ordering::Release);
    }
}

/// Waits for a generation after `seen`: spinning for [`SPIN`], then asleep.
fn next_generation(s: &Shared, seen: u64) -> u64 {
    let start = Instant::now();
    let mut spins = 0u32;
    loop {
        let g = s.generation.load(Ordering::Acquire);
        if g != seen {
            return g;
        }
        std::hint::spin_loop();
        spins += 1;
        if spins.is_multiple_of(256) && start.elapsed() > SPIN {
            break;
        }
    }
    let mut sleepers = s.sleep.lock().expect("sleep lock");
    *sleepers += 1;
    loop {
        let g = s.generation.load(Ordering::Acquire);
        if g != seen {
            *sleepers -= 1;
            return g;
        }
        sleepers = s.wake.wait(sleepers).expect("sleep lock");
    }
}

fn team() -> &'static Team {
    static TEAM: OnceLock<Team> = OnceLock::new();
    TEAM.get_or_init(|| Team::new(rayon::current_num_threads().saturating_sub(1)))
}

/// Runs `work` on every item: the first on this thread, the others on the spinning team (or on
/// rayon's pool when the team is in use by another thread or has too few helpers).
pub(crate) fn split_work<T: Send>(items: impl Iterator<Item = T>, work: impl Fn(T) + Sync) {
    let slots: Vec<Mutex<Option<T>>> = items.map(|item| Mutex::new(Some(item))).collect();
    let run_item = |i: usize| {
        let item = slots[i].lock().expect("item slot").take();
        work(item.expect("each item runs once"));
    };
    match slots.len() {
        0 => {}
        1 => run_item(0),
        // Inside rayon's pool (a run's parallel cells) every core is busy already: helpers
        // spinning beside its workers would only take their cores.
        n if rayon::current_thread_index().is_some() => in_rayon(n, &run_item),
        n => {
            let team = team();
            // A section that panicked poisons the lock; the team itself is fine.
            let guard = match team.busy.try_lock() {
                Ok(guard) => Some(guard),
                Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            };
            match guard {
                Some(_guard) if n - 1 <= team.helpers.min(0xffff) => team.run(n, &run_item),
                guard => {
                    drop(guard);
                    in_rayon(n, &run_item);
                }
            }
        }
    }
}

/// Items `1..n` on rayon's pool, item 0 on this thread.
fn in_rayon(n: usize, run_item: &(dyn Fn(usize) + Sync)) {
    rayon::in_place_scope(|scope| {
        for i in 1..n {
            scope.spawn(move |_| run_item(i));
        }
        run_item(0);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(blocks: usize) -> Vec<u64> {
        let mut out = vec![0u64; blocks];
        split_work(out.iter_mut().enumerate(), |(i, o)| {
            *o = (0..1000u64).map(|k| k * (i as u64 + 1)).sum();
        });
        out
    }

    #[test]
    fn every_item_runs_once_section_after_section() {
        let blocks = rayon::current_num_threads().max(2);
        let expected: Vec<u64> = (1..=blocks as u64).map(|i| 499_500 * i).collect();
        for _ in 0..2000 {
            assert_eq!(sums(blocks), expected);
        }
        // More items than helpers, and one item, take the other paths.
        assert_eq!(sums(blocks + 3).len(), blocks + 3);
        assert_eq!(sums(1), vec![499_500]);
    }

    #[test]
    fn callers_on_several_threads_share_the_team() {
        let blocks = rayon::current_num_threads().max(2);
        let expected: Vec<u64> = (1..=blocks as u64).map(|i| 499_500 * i).collect();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..500 {
                        assert_eq!(sums(blocks), expected);
                    }
                });
            }
        });
    }

    #[test]
    fn inside_rayons_pool_the_items_run_on_its_workers() {
        let blocks = rayon::current_num_threads().max(2);
        let expected: Vec<u64> = (1..=blocks as u64).map(|i| 499_500 * i).collect();
        use rayon::prelude::*;
        let nested: Vec<Vec<u64>> = (0..8).into_par_iter().map(|_| sums(blocks)).collect();
        assert!(nested.iter().all(|s| *s == expected));
    }

    #[test]
    fn a_panicking_item_reaches_the_caller_and_the_team_goes_on() {
        let blocks = rayon::current_num_threads().max(2);
        for bad in [0, blocks - 1] {
            let result = catch_unwind(|| {
                split_work(0..blocks, |i| assert!(i != bad, "item {i} fails"));
            });
            assert!(result.is_err(), "item {bad}'s panic is the caller's");
        }
        assert_eq!(sums(blocks).len(), blocks);
    }
}
