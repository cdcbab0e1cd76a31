//! The Mutex scenario:
//!
//! - **S6** counter: T = 2 and 4 threads, each with its own runtime and
//!   [`TASKS_PER_THREAD`] tasks, share one `Arc` mutex around a `u64`. Each
//!   task does K rounds of {lock, increment, unlock}; every
//!   [`S6_YIELD_EVERY`]-th critical section yields to the executor while
//!   holding the lock, so the other tasks and threads queue up. ns per
//!   lock/unlock, and how long single `lock().await`s waited (p50, p99,
//!   p99.9: medians over repeats; max over all), as S4 reports for the
//!   semaphore.
//!
//! Checks: every critical section counted, never two holders inside, every
//! task and thread joined, the counter equals T x 16 x K exactly, and the
//! mutex is free at the end.
//!
//! The counter on one runtime (S10_S6) has two floors: the same loop with
//! no lock at all ([`floor_one_runtime`]), and the *wake floor*
//! ([`wake_floor_one_runtime`]): the same loop under a
//! [`Baton`], whose holder wakes the next task once per yield it takes while
//! holding, as a barging mutex's unlock wakes one waiter that then finds the
//! lock taken again (see the semaphore scenarios' docs).

use std::{
    cell::Cell,
    future::{Future, ready},
    ops::{Deref, DerefMut},
    rc::Rc,
    sync::{Arc, Barrier},
    thread,
    time::Instant,
};

use super::{TASKS_PER_THREAD, semaphore::Baton};
use crate::harness::{
    Case, Check, Columns, DistKind, Sample,
    rt::{Span, join_all, join_thread, runtime, yield_now},
    set_progress,
};

/// What a benchmarked async mutex must offer, around a `u64` counter.
///
/// Not `Send` or `Sync`: the single-thread flavors run the counter on one
/// runtime ([`run_one_runtime`]); S6 asks for `Send + Sync` itself.
pub trait BenchMutex: 'static {
    /// An unlocked mutex holding 0.
    fn create() -> Self;
    /// Locks, waiting if needed.
    fn lock(&self) -> impl Future<Output = impl DerefMut<Target = u64> + '_> + '_;
    /// The value, if the mutex is free now.
    fn try_value(&self) -> Option<u64>;
}

/// In S6, every `S6_YIELD_EVERY`-th critical section of a task yields to the
/// executor while holding the lock.
pub const S6_YIELD_EVERY: usize = 4;

/// The Mutex scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Counter over `threads` threads (runtimes) x [`TASKS_PER_THREAD`] tasks.
    S6 {
        /// Threads (runtimes).
        threads: usize,
    },
}

/// How much work the Mutex scenario does per run.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Lock/unlock pairs per S6 run, over all threads and tasks (each of the
    /// T x 16 tasks does `s6_ops / (T * 16)`).
    pub s6_ops: usize,
}

impl Scenario {
    /// Every Mutex scenario, in report order.
    pub fn all() -> Vec<Self> {
        vec![Self::S6 { threads: 2 }, Self::S6 { threads: 4 }]
    }
}

impl super::Scenario for Scenario {
    type Sizes = Sizes;

    fn case(self, sizes: &Sizes) -> Case {
        let Self::S6 { threads } = self;
        Case {
            id: format!("S6_t{threads}"),
            title: format!(
                "S6 Mutex counter, {threads} threads x {TASKS_PER_THREAD} tasks, {} locks, \
                 yield in every {S6_YIELD_EVERY}th critical section",
                sizes.s6_ops
            ),
            columns: Columns {
                dist: Some(DistKind::Wait),
                ..Columns::NS_PER_OP
            },
            warmup: false,
            max_repeats: None,
        }
    }
}

/// Runs `scenario` once on `M`.
pub fn run<M: BenchMutex + Send + Sync>(scenario: Scenario, sizes: &Sizes) -> Sample {
    let Scenario::S6 { threads } = scenario;
    let iters = (sizes.s6_ops / (threads * TASKS_PER_THREAD)).max(1);
    counter::<M>(threads, iters)
}

/// The S6 counter on one runtime ([`TASKS_PER_THREAD`] tasks, no other
/// thread), on `M`, which need not be `Send` or `Sync`.
pub fn run_one_runtime<M: BenchMutex>(sizes: &Sizes) -> Sample {
    one_runtime::<M>(sizes, 1, "S6 one runtime")
}

/// The floor of the counter on one runtime: the same loop on [`NoLock`],
/// which excludes nobody (so the exclusion check is off; the counter is
/// still checked).
pub fn floor_one_runtime(sizes: &Sizes) -> Sample {
    one_runtime::<NoLock>(sizes, usize::MAX, "S6 one runtime, floor")
}

fn one_runtime<M: BenchMutex>(sizes: &Sizes, limit: usize, what: &str) -> Sample {
    let iters = (sizes.s6_ops / TASKS_PER_THREAD).max(1);
    let mutex = Rc::new(M::create());
    let check = Arc::new(Check::new(limit));
    check.report_progress(TASKS_PER_THREAD * iters);
    let rt = runtime();
    let (start, end, waits) = rt.block_on(tasks(mutex.clone(), check.clone(), iters));
    drop(rt);
    let mut span = Span::default();
    span.add(start, end);
    let ops = TASKS_PER_THREAD * iters;
    finish(&*mutex, &check, span, waits, ops, what)
}

/// The wake floor of the counter on one runtime (see the module docs): the
/// loop of [`tasks`] under a [`Baton`] instead of a lock, waking the next
/// task after each yield taken while holding.
pub fn wake_floor_one_runtime(sizes: &Sizes) -> Sample {
    let iters = (sizes.s6_ops / TASKS_PER_THREAD).max(1);
    let baton = Rc::new(Baton::new(TASKS_PER_THREAD));
    let counter = Rc::new(Cell::new(0u64));
    let check = Arc::new(Check::new(1));
    let rt = runtime();
    let (start, end, waits) = rt.block_on(async {
        let start = Instant::now();
        let handles = (0..TASKS_PER_THREAD)
            .map(|me| {
                let (baton, counter, check) = (baton.clone(), counter.clone(), check.clone());
                compio::runtime::spawn(async move {
                    let mut waits = Vec::with_capacity(iters);
                    for k in 0..iters {
                        let asked = Instant::now();
                        baton.wait(me).await;
                        waits.push(asked.elapsed().as_nanos() as u64);
                        check.enter();
                        counter.set(counter.get() + 1);
                        let yields = k % S6_YIELD_EVERY == S6_YIELD_EVERY - 1;
                        if yields {
                            yield_now().await;
                        }
                        check.exit();
                        if yields || k + 1 == iters {
                            baton.after_yield(me, k + 1 == iters);
                        }
                    }
                    waits
                })
            })
            .collect();
        let waits = join_all(handles).await;
        (start, Instant::now(), waits)
    });
    drop(rt);
    let mut span = Span::default();
    span.add(start, end);
    let ops = TASKS_PER_THREAD * iters;
    finish(&NoLock(counter), &check, span, waits, ops, "S6 wake floor")
}

/// The floor's "mutex": every lock succeeds at once and nobody is excluded.
/// Its guard adds what the holder added to its copy of the counter when it
/// is dropped, so overlapping holders lose no increment.
struct NoLock(Rc<Cell<u64>>);

/// A [`NoLock`] guard: a copy of the counter, and the value it started at.
struct NoLockGuard<'a>(&'a Cell<u64>, u64, u64);

impl Deref for NoLockGuard<'_> {
    type Target = u64;
    fn deref(&self) -> &u64 {
        &self.1
    }
}

impl DerefMut for NoLockGuard<'_> {
    fn deref_mut(&mut self) -> &mut u64 {
        &mut self.1
    }
}

impl Drop for NoLockGuard<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() + (self.1 - self.2));
    }
}

impl BenchMutex for NoLock {
    fn create() -> Self {
        Self(Rc::new(Cell::new(0)))
    }
    fn lock(&self) -> impl Future<Output = impl DerefMut<Target = u64> + '_> + '_ {
        let value = self.0.get();
        ready(NoLockGuard(&self.0, value, value))
    }
    fn try_value(&self) -> Option<u64> {
        Some(self.0.get())
    }
}

fn counter<M: BenchMutex + Send + Sync>(threads: usize, iters: usize) -> Sample {
    let mutex = Arc::new(M::create());
    let check = Arc::new(Check::new(1));
    check.report_progress(threads * TASKS_PER_THREAD * iters);
    let barrier = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let mutex = mutex.clone();
            let check = check.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                let rt = runtime();
                let out = rt.block_on(async {
                    barrier.wait();
                    tasks(mutex, check, iters).await
                });
                drop(rt);
                out
            })
        })
        .collect();
    let mut span = Span::default();
    let mut waits = Vec::new();
    for worker in workers {
        let (start, end, thread_waits) = join_thread(worker);
        span.add(start, end);
        waits.extend(thread_waits);
    }
    finish(
        &*mutex,
        &check,
        span,
        waits,
        threads * TASKS_PER_THREAD * iters,
        "S6",
    )
}

/// One runtime's share of the counter: [`TASKS_PER_THREAD`] tasks doing
/// `iters` rounds each. Returns when it started and ended, and each task's
/// wait times.
async fn tasks<M: BenchMutex, P: Deref<Target = M> + Clone + 'static>(
    mutex: P,
    check: Arc<Check>,
    iters: usize,
) -> (Instant, Instant, Vec<Vec<u64>>) {
    let start = Instant::now();
    let handles = (0..TASKS_PER_THREAD)
        .map(|_| {
            let mutex = mutex.clone();
            let check = check.clone();
            compio::runtime::spawn(async move {
                let mut waits = Vec::with_capacity(iters);
                for k in 0..iters {
                    let asked = Instant::now();
                    let mut guard = mutex.lock().await;
                    waits.push(asked.elapsed().as_nanos() as u64);
                    check.enter();
                    *guard += 1;
                    if k % S6_YIELD_EVERY == S6_YIELD_EVERY - 1 {
                        yield_now().await;
                    }
                    check.exit();
                    drop(guard);
                }
                waits
            })
        })
        .collect();
    let waits = join_all(handles).await;
    (start, Instant::now(), waits)
}

/// Checks the run's work and makes its sample.
fn finish<M: BenchMutex>(
    mutex: &M,
    check: &Check,
    span: Span,
    waits: Vec<Vec<u64>>,
    ops: usize,
    what: &str,
) -> Sample {
    set_progress(None);
    let waits: Vec<u64> = waits.into_iter().flatten().collect();
    check.verify(ops, what);
    assert_eq!(waits.len(), ops, "{what}: missing wait samples");
    assert_eq!(
        mutex.try_value(),
        Some(ops as u64),
        "{what}: the counter is wrong, or the mutex was left locked"
    );
    Sample::timed(span.elapsed(), ops).with_dist(&waits)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::{
        future::ready,
        sync::atomic::{AtomicU64, Ordering::Relaxed},
    };

    use super::*;

    pub(crate) const TINY: Sizes = Sizes { s6_ops: 640 };

    /// A "mutex" that excludes nobody: each guard works on a copy and writes
    /// it back on drop, so updates are lost and holders overlap.
    struct NoLock(AtomicU64);

    struct Snapshot<'a>(&'a AtomicU64, u64);

    impl std::ops::Deref for Snapshot<'_> {
        type Target = u64;
        fn deref(&self) -> &u64 {
            &self.1
        }
    }

    impl DerefMut for Snapshot<'_> {
        fn deref_mut(&mut self) -> &mut u64 {
            &mut self.1
        }
    }

    impl Drop for Snapshot<'_> {
        fn drop(&mut self) {
            self.0.store(self.1, Relaxed);
        }
    }

    impl BenchMutex for NoLock {
        fn create() -> Self {
            Self(AtomicU64::new(0))
        }
        fn lock(&self) -> impl Future<Output = impl DerefMut<Target = u64> + '_> + '_ {
            ready(Snapshot(&self.0, self.0.load(Relaxed)))
        }
        fn try_value(&self) -> Option<u64> {
            Some(self.0.load(Relaxed))
        }
    }

    #[test]
    #[should_panic(expected = "holders were inside at once")]
    fn check_catches_a_mutex_that_excludes_nobody() {
        run::<NoLock>(Scenario::S6 { threads: 2 }, &TINY);
    }

    /// A mutex that locks properly but forgets every other increment.
    struct Forgets(tokio::sync::Mutex<(u64, bool)>);

    struct Forgetful<'a>(tokio::sync::MutexGuard<'a, (u64, bool)>, u64);

    impl std::ops::Deref for Forgetful<'_> {
        type Target = u64;
        fn deref(&self) -> &u64 {
            &self.1
        }
    }

    impl DerefMut for Forgetful<'_> {
        fn deref_mut(&mut self) -> &mut u64 {
            &mut self.1
        }
    }

    impl Drop for Forgetful<'_> {
        fn drop(&mut self) {
            let keep = self.0.1;
            self.0.1 = !keep;
            if keep {
                self.0.0 = self.1;
            }
        }
    }

    impl BenchMutex for Forgets {
        fn create() -> Self {
            Self(tokio::sync::Mutex::new((0, true)))
        }
        async fn lock(&self) -> impl DerefMut<Target = u64> + '_ {
            let guard = self.0.lock().await;
            let value = guard.0;
            Forgetful(guard, value)
        }
        fn try_value(&self) -> Option<u64> {
            self.0.try_lock().ok().map(|g| g.0)
        }
    }

    /// The floors of the one-runtime counter do the work (the counter is
    /// checked); the no-lock floor fails the exclusion check it skips.
    #[test]
    fn one_runtime_floors_count_the_work() {
        assert!(floor_one_runtime(&TINY).ns_per_op.is_finite());
        assert!(wake_floor_one_runtime(&TINY).ns_per_op.is_finite());
    }

    #[test]
    #[should_panic(expected = "holders were inside at once")]
    fn the_no_lock_floor_excludes_nobody() {
        run_one_runtime::<NoLock>(&TINY);
    }

    #[test]
    #[should_panic(expected = "S6: the counter is wrong")]
    fn check_catches_lost_increments() {
        run::<Forgets>(Scenario::S6 { threads: 2 }, &TINY);
    }
}
