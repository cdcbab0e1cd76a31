//! The Semaphore scenarios:
//!
//! - **S1** uncontended `try_acquire` + drop, one task.
//! - **S2** uncontended `acquire().await` + drop, one task.
//! - **S3** one runtime, 1 permit, [`S3_TASKS`] tasks each looping {acquire,
//!   yield, release}; the yield goes through the executor, so the permit is
//!   held across a scheduling point and the other tasks queue up.
//! - **S4** T = 2 and 4 threads, each with its own runtime and
//!   [`TASKS_PER_THREAD`] tasks running the S3 loop on one shared `Arc`
//!   semaphore of 1 and of T permits. Besides ns/op it reports how long
//!   single acquires waited (time around the `acquire().await`): the median
//!   over repeats of each run's p50, p99 and p99.9, and the max over all
//!   repeats. A long max under a barging policy is a starving waiter.
//! - **S7** the S3 workload under the counting global allocator: heap
//!   allocations per acquire, taken as the marginal count between a run and
//!   one three times as long (so spawning the tasks cancels out). "waited" is
//!   the share of acquires that returned `Pending` at least once.
//!
//! S1, S2 and S3 also have a floor: the same loop, with a "semaphore" that
//! never waits and excludes nobody ([`NoSync`]). S1 and S2 have a second
//! one, the *atomic floor* ([`AtomicFloor`]): a permit count in one atomic word,
//! taken with a compare-and-swap and given back with an atomic add. A
//! semaphore that other threads can take permits from pays at least these
//! two read-modify-writes per uncontended permit (tokio pays a third: its
//! release locks its waiter list). S3 has a second one, the
//! *wake floor*: the same loop, where a [`Baton`] excludes the other tasks
//! and every yield taken while holding it costs one wake-up of another task
//! (the next one in line, which finds the baton taken and sleeps again). A
//! barging semaphore does exactly that per operation: its release wakes one
//! waiter, and the releaser takes the permit again before that waiter runs.
//! A strict hand-over costs no less: one wake-up per operation too, and each
//! woken task then runs alone in its executor tick (with compio, a driver
//! poll per operation instead of one per two task polls). So the wake floor
//! is the least a semaphore that wakes one waiter per contended release can
//! cost here; it hands the baton on only when a task is done (no
//! starvation bound: it would cost a little more).
//!
//! Checks: a held permit excludes a second one and comes back on drop
//! (S1/S2); every critical section is counted, never more holders inside
//! than permits, every task and thread joined, all permits back at the end
//! (S3, S4, S7).

use std::{
    cell::{Cell, RefCell},
    future::{Future, poll_fn, ready},
    hint::black_box,
    pin::pin,
    rc::Rc,
    sync::{
        Arc, Barrier,
        atomic::{
            AtomicUsize,
            Ordering::{Acquire, Relaxed, Release},
        },
    },
    task::{Poll, Waker},
    thread,
    time::{Duration, Instant},
};

use super::{Run, TASKS_PER_THREAD};
use crate::harness::{
    Case, Check, Columns, DistKind, Sample, alloc,
    rt::{Span, join_all, join_thread, runtime, yield_now},
    set_progress,
};

/// What a benchmarked semaphore must offer: build with `permits`, take one
/// permit without waiting, take one permit asynchronously. A permit (the
/// returned value) gives its permit back when dropped.
///
/// Not `Send` or `Sync`: the one-runtime scenarios (S1-S3, S7) also run the
/// single-thread flavors; S4 asks for `Send + Sync` itself.
pub trait BenchSemaphore: 'static {
    /// A semaphore holding `permits` permits.
    fn with_permits(permits: usize) -> Self;
    /// One permit if one is free now.
    fn try_acq(&self) -> Option<impl Sized + '_>;
    /// Waits for one permit. Panics if the semaphore was closed.
    fn acq(&self) -> impl Future<Output = impl Sized + '_> + '_;
}

/// Tasks in S3 and S7 (all on one runtime).
pub const S3_TASKS: usize = 64;

/// One Semaphore scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Uncontended `try_acquire` + drop.
    S1,
    /// Uncontended `acquire().await` + drop.
    S2,
    /// One runtime, 1 permit, [`S3_TASKS`] tasks looping {acquire, yield, release}.
    S3,
    /// `threads` threads, each with its own runtime and [`TASKS_PER_THREAD`]
    /// tasks looping {acquire, yield, release} on one shared semaphore of
    /// `permits` permits.
    S4 {
        /// Threads (runtimes).
        threads: usize,
        /// Permits of the shared semaphore.
        permits: usize,
    },
    /// S3 under the counting allocator: heap allocations per acquire.
    S7,
}

/// How much work the Semaphore scenarios do per run.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Iterations of S1 and S2.
    pub uncontended_iters: usize,
    /// Iterations per task in S3.
    pub s3_iters_per_task: usize,
    /// Acquires per S4 run, over all threads and tasks (each of the T x 16
    /// tasks does `s4_ops / (T * 16)`).
    pub s4_ops: usize,
    /// Iterations per task in the smaller of S7's two runs (the larger does 3x).
    pub s7_iters_per_task: usize,
}

impl Scenario {
    /// Every Semaphore scenario, in report order.
    pub fn all() -> Vec<Self> {
        let mut all = vec![Self::S1, Self::S2, Self::S3];
        for threads in [2, 4] {
            for permits in [1, threads] {
                all.push(Self::S4 { threads, permits });
            }
        }
        all.push(Self::S7);
        all
    }
}

impl super::Scenario for Scenario {
    type Sizes = Sizes;

    fn case(self, sizes: &Sizes) -> Case {
        let (id, title) = match self {
            Self::S1 => (
                "S1".into(),
                format!(
                    "S1 uncontended try_acquire+drop, {} iterations",
                    sizes.uncontended_iters
                ),
            ),
            Self::S2 => (
                "S2".into(),
                format!(
                    "S2 uncontended acquire().await+drop, {} iterations",
                    sizes.uncontended_iters
                ),
            ),
            Self::S3 => (
                "S3".into(),
                format!(
                    "S3 1 runtime, 1 permit, {S3_TASKS} tasks x {} {{acquire, yield, release}}",
                    sizes.s3_iters_per_task
                ),
            ),
            Self::S4 { threads, permits } => (
                format!("S4_t{threads}_p{permits}"),
                format!(
                    "S4 {threads} threads x {TASKS_PER_THREAD} tasks, {permits} permit{}, {} acquires",
                    if permits == 1 { "" } else { "s" },
                    sizes.s4_ops
                ),
            ),
            Self::S7 => (
                "S7".into(),
                format!(
                    "S7 allocations per acquire, 1 permit, {S3_TASKS} tasks x {} and x {}",
                    sizes.s7_iters_per_task,
                    3 * sizes.s7_iters_per_task
                ),
            ),
        };
        let columns = match self {
            Self::S4 { .. } => Columns {
                dist: Some(DistKind::Wait),
                ..Columns::NS_PER_OP
            },
            Self::S7 => Columns {
                chart_allocs: true,
                ..Columns::NS_PER_OP
            },
            _ => Columns::NS_PER_OP,
        };
        Case {
            id,
            title,
            columns,
            warmup: matches!(self, Self::S1 | Self::S2 | Self::S3),
            // Allocation counts do not need many repeats.
            max_repeats: (self == Self::S7).then_some(3),
        }
    }

    fn floor(self) -> Option<Run<Self>> {
        matches!(self, Self::S1 | Self::S2 | Self::S3).then_some(floor as Run<Self>)
    }

    fn cost_floor(self) -> Option<(&'static str, Run<Self>)> {
        match self {
            Self::S1 | Self::S2 => Some((super::ATOMIC_FLOOR, atomic_floor as Run<Self>)),
            Self::S3 => Some((super::WAKE_FLOOR, wake_floor as Run<Self>)),
            _ => None,
        }
    }
}

/// Runs `scenario` once on `S`.
pub fn run<S: BenchSemaphore + Send + Sync>(scenario: Scenario, sizes: &Sizes) -> Sample {
    match scenario {
        Scenario::S4 { threads, permits } => {
            let iters = (sizes.s4_ops / (threads * TASKS_PER_THREAD)).max(1);
            s4::<S>(threads, permits, iters)
        }
        _ => run_one_runtime::<S>(scenario, sizes),
    }
}

/// Runs `scenario`, one of the scenarios on a single runtime (all but S4),
/// once on `S`, which need not be `Send` or `Sync` (the single-thread
/// flavors run here).
///
/// # Panics
///
/// On S4.
pub fn run_one_runtime<S: BenchSemaphore>(scenario: Scenario, sizes: &Sizes) -> Sample {
    run_loop::<S>(scenario, sizes, Exclusion::Checked)
}

/// Runs the floor of S1, S2 or S3: the same loop on [`NoSync`].
pub fn floor(scenario: Scenario, sizes: &Sizes) -> Sample {
    run_loop::<NoSync>(scenario, sizes, Exclusion::None)
}

/// Runs the atomic floor of S1 or S2 (see the module docs): the loop,
/// checked as the scenario is, on [`AtomicFloor`].
///
/// # Panics
///
/// On the other scenarios.
pub fn atomic_floor(scenario: Scenario, sizes: &Sizes) -> Sample {
    match scenario {
        Scenario::S1 => s1::<AtomicFloor>(sizes.uncontended_iters, Exclusion::Checked),
        Scenario::S2 => s2::<AtomicFloor>(sizes.uncontended_iters, Exclusion::Checked),
        _ => panic!("only S1 and S2 have an atomic floor"),
    }
}

/// Runs the wake floor of S3 (see the module docs): [`S3_TASKS`] tasks
/// doing the S3 loop under a [`Baton`], each yield taken while holding it
/// followed by one wake-up of the next task.
///
/// # Panics
///
/// On the other scenarios, or if the work was not done.
pub fn wake_floor(scenario: Scenario, sizes: &Sizes) -> Sample {
    assert_eq!(scenario, Scenario::S3, "only S3 has a wake floor");
    let iters = sizes.s3_iters_per_task;
    let baton = Rc::new(Baton::new(S3_TASKS));
    let check = Arc::new(Check::new(1));
    let rt = runtime();
    let elapsed = rt.block_on(async {
        let start = Instant::now();
        let handles = (0..S3_TASKS)
            .map(|me| {
                let baton = baton.clone();
                let check = check.clone();
                compio::runtime::spawn(async move {
                    for k in 0..iters {
                        baton.wait(me).await;
                        check.enter();
                        yield_now().await;
                        check.exit();
                        baton.after_yield(me, k + 1 == iters);
                    }
                })
            })
            .collect();
        join_all(handles).await;
        start.elapsed()
    });
    drop(rt);
    check.verify(S3_TASKS * iters, "S3 wake floor");
    Sample::timed(elapsed, S3_TASKS * iters)
}

/// The wake floors' exclusion (see the module docs): one baton among `n`
/// tasks on one thread, each with a waker slot. Only the holder gets past
/// [`wait`](Self::wait). After each yield it takes while holding, the holder
/// wakes the next task ([`after_yield`](Self::after_yield)), which finds the
/// baton taken and sleeps again (keeping its waker: no clone); a holder that
/// is done hands the baton to the next task.
pub struct Baton {
    holder: Cell<usize>,
    slots: Box<[RefCell<Option<Waker>>]>,
}

impl Baton {
    /// Task 0 holds the baton; `n` tasks take part.
    pub fn new(n: usize) -> Self {
        Self {
            holder: Cell::new(0),
            slots: (0..n).map(|_| RefCell::new(None)).collect(),
        }
    }

    /// Waits until task `me` holds the baton.
    pub fn wait(&self, me: usize) -> impl Future<Output = ()> + '_ {
        poll_fn(move |cx| {
            if self.holder.get() == me {
                return Poll::Ready(());
            }
            let mut slot = self.slots[me].borrow_mut();
            if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *slot = Some(cx.waker().clone());
            }
            Poll::Pending
        })
    }

    /// The holder `me` has yielded once: wakes the next task, handing it the
    /// baton if `done`.
    pub fn after_yield(&self, me: usize, done: bool) {
        assert_eq!(self.holder.get(), me, "the baton moved under its holder");
        let next = (me + 1) % self.slots.len();
        if done {
            self.holder.set(next);
        }
        if let Some(waker) = self.slots[next].borrow().as_ref() {
            waker.wake_by_ref();
        }
    }
}

/// The floor's "semaphore": every acquire succeeds at once, and nobody is
/// excluded. Only the loop around it is left.
pub struct NoSync;

impl BenchSemaphore for NoSync {
    fn with_permits(_: usize) -> Self {
        Self
    }
    fn try_acq(&self) -> Option<impl Sized + '_> {
        Some(())
    }
    fn acq(&self) -> impl Future<Output = impl Sized + '_> + '_ {
        ready(())
    }
}

/// S1's and S2's atomic floor: the permits in one atomic word, taken with a
/// compare-and-swap (never below zero) and given back with an atomic add.
/// Nobody ever waits: it is a `try_acquire`-only semaphore, the least one
/// shared between threads must do per uncontended permit.
pub struct AtomicFloor(AtomicUsize);

/// A permit of an [`AtomicFloor`]: given back on drop.
pub struct AtomicFloorPermit<'a>(&'a AtomicUsize);

impl Drop for AtomicFloorPermit<'_> {
    fn drop(&mut self) {
        // Release: the holder's writes happen-before the next taker's
        // (pairs with the Acquire of the compare-and-swap).
        self.0.fetch_add(1, Release);
    }
}

impl BenchSemaphore for AtomicFloor {
    fn with_permits(permits: usize) -> Self {
        Self(AtomicUsize::new(permits))
    }
    fn try_acq(&self) -> Option<impl Sized + '_> {
        let mut cur = self.0.load(Relaxed);
        loop {
            if cur == 0 {
                return None;
            }
            match self.0.compare_exchange_weak(cur, cur - 1, Acquire, Relaxed) {
                Ok(_) => return Some(AtomicFloorPermit(&self.0)),
                Err(actual) => cur = actual,
            }
        }
    }
    /// Never waits: an `AtomicFloor` has no waiters, so this is
    /// [`try_acq`](BenchSemaphore::try_acq), ready at once (only the
    /// uncontended S1 and S2 run on it).
    fn acq(&self) -> impl Future<Output = impl Sized + '_> + '_ {
        ready(self.try_acq())
    }
}

/// Whether the run checks that the semaphore excluded anyone (not for the
/// floor, which by design does not; its work is still counted).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exclusion {
    Checked,
    None,
}

fn run_loop<S: BenchSemaphore>(scenario: Scenario, sizes: &Sizes, exclusion: Exclusion) -> Sample {
    match scenario {
        Scenario::S1 => s1::<S>(sizes.uncontended_iters, exclusion),
        Scenario::S2 => s2::<S>(sizes.uncontended_iters, exclusion),
        Scenario::S3 => {
            let (elapsed, _) =
                contended_one_runtime::<S>(sizes.s3_iters_per_task, false, exclusion);
            Sample::timed(elapsed, S3_TASKS * sizes.s3_iters_per_task)
        }
        Scenario::S4 { .. } => panic!("S4 runs on several runtimes: `run`, not `run_loop`"),
        Scenario::S7 => {
            assert!(exclusion == Exclusion::Checked, "S7 has no floor");
            s7::<S>(sizes.s7_iters_per_task)
        }
    }
}

/// Checks, around an uncontended loop on a 1-permit semaphore, that a held
/// permit excludes others and that dropping it gives it back.
fn check_one_permit<S: BenchSemaphore>(sem: &S, exclusion: Exclusion, what: &str) {
    if exclusion == Exclusion::None {
        return;
    }
    let held = sem
        .try_acq()
        .unwrap_or_else(|| panic!("{what}: permit not free"));
    assert!(sem.try_acq().is_none(), "{what}: second permit out of one");
    drop(held);
    assert!(
        sem.try_acq().is_some(),
        "{what}: permit not given back on drop"
    );
}

/// The limit a [`Check`] enforces: `permits`, or nothing for the floor.
fn limit(permits: usize, exclusion: Exclusion) -> usize {
    match exclusion {
        Exclusion::Checked => permits,
        Exclusion::None => usize::MAX,
    }
}

fn s1<S: BenchSemaphore>(iters: usize, exclusion: Exclusion) -> Sample {
    let sem = S::with_permits(1);
    let rt = runtime();
    let elapsed = rt.block_on(async {
        check_one_permit(&sem, exclusion, "S1 before");
        let start = Instant::now();
        let mut done = 0usize;
        for _ in 0..iters {
            let permit = sem.try_acq();
            assert!(permit.is_some(), "S1: uncontended try_acquire failed");
            black_box(&permit);
            drop(permit);
            done += 1;
        }
        let elapsed = start.elapsed();
        assert_eq!(black_box(done), iters);
        check_one_permit(&sem, exclusion, "S1 after");
        elapsed
    });
    Sample::timed(elapsed, iters)
}

fn s2<S: BenchSemaphore>(iters: usize, exclusion: Exclusion) -> Sample {
    let sem = S::with_permits(1);
    let rt = runtime();
    let elapsed = rt.block_on(async {
        check_one_permit(&sem, exclusion, "S2 before");
        let start = Instant::now();
        let mut done = 0usize;
        for _ in 0..iters {
            let permit = sem.acq().await;
            black_box(&permit);
            drop(permit);
            done += 1;
        }
        let elapsed = start.elapsed();
        assert_eq!(black_box(done), iters);
        check_one_permit(&sem, exclusion, "S2 after");
        elapsed
    });
    Sample::timed(elapsed, iters)
}

/// S3 (and S7's workload): one runtime, 1 permit, [`S3_TASKS`] tasks each
/// doing `iters` rounds of {acquire, yield, release}. Returns the wall time
/// and, if `probe`, how many acquires returned `Pending` at least once.
fn contended_one_runtime<S: BenchSemaphore>(
    iters: usize,
    probe: bool,
    exclusion: Exclusion,
) -> (Duration, usize) {
    let sem = Arc::new(S::with_permits(1));
    let check = Arc::new(Check::new(limit(1, exclusion)));
    let rt = runtime();
    let (elapsed, waited) = rt.block_on(async {
        let start = Instant::now();
        let handles = (0..S3_TASKS)
            .map(|_| {
                let sem = sem.clone();
                let check = check.clone();
                compio::runtime::spawn(async move {
                    let mut waited = 0usize;
                    for _ in 0..iters {
                        let permit = if probe {
                            let mut acquire = pin!(sem.acq());
                            let mut pended = false;
                            let permit = poll_fn(|cx| {
                                let poll = acquire.as_mut().poll(cx);
                                pended |= poll.is_pending();
                                poll
                            })
                            .await;
                            waited += usize::from(pended);
                            permit
                        } else {
                            sem.acq().await
                        };
                        check.enter();
                        yield_now().await;
                        check.exit();
                        drop(permit);
                    }
                    waited
                })
            })
            .collect();
        let waited: usize = join_all(handles).await.into_iter().sum();
        (start.elapsed(), waited)
    });
    drop(rt);
    check.verify(S3_TASKS * iters, "one-runtime contended");
    check_one_permit(&*sem, exclusion, "one-runtime contended, after");
    (elapsed, waited)
}

fn s4<S: BenchSemaphore + Send + Sync>(threads: usize, permits: usize, iters: usize) -> Sample {
    let sem = Arc::new(S::with_permits(permits));
    let check = Arc::new(Check::new(permits));
    check.report_progress(threads * TASKS_PER_THREAD * iters);
    let barrier = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let sem = sem.clone();
            let check = check.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                let rt = runtime();
                let (start, end, waits) = rt.block_on(async {
                    barrier.wait();
                    let start = Instant::now();
                    let handles = (0..TASKS_PER_THREAD)
                        .map(|_| {
                            let sem = sem.clone();
                            let check = check.clone();
                            compio::runtime::spawn(async move {
                                let mut waits = Vec::with_capacity(iters);
                                for _ in 0..iters {
                                    let asked = Instant::now();
                                    let permit = sem.acq().await;
                                    waits.push(asked.elapsed().as_nanos() as u64);
                                    check.enter();
                                    yield_now().await;
                                    check.exit();
                                    drop(permit);
                                }
                                waits
                            })
                        })
                        .collect();
                    let waits = join_all(handles).await;
                    (start, Instant::now(), waits)
                });
                drop(rt);
                (start, end, waits)
            })
        })
        .collect();
    let mut span = Span::default();
    let mut waits = Vec::with_capacity(threads * TASKS_PER_THREAD * iters);
    for worker in workers {
        let (start, end, thread_waits) = join_thread(worker);
        span.add(start, end);
        waits.extend(thread_waits.into_iter().flatten());
    }
    set_progress(None);
    let ops = threads * TASKS_PER_THREAD * iters;
    check.verify(ops, "S4");
    assert_eq!(waits.len(), ops, "S4: missing wait samples");
    let held: Vec<_> = (0..permits).map_while(|_| sem.try_acq()).collect();
    assert_eq!(held.len(), permits, "S4: permits lost");
    assert!(sem.try_acq().is_none(), "S4: more permits than configured");
    drop(held);
    Sample::timed(span.elapsed(), ops).with_dist(&waits)
}

/// Heap allocations per contended acquire, as the marginal count between two
/// runs of different length (which cancels the fixed cost of spawning tasks).
fn s7<S: BenchSemaphore>(iters: usize) -> Sample {
    let before = alloc::allocations();
    let (_, _) = contended_one_runtime::<S>(iters, true, Exclusion::Checked);
    let small = alloc::allocations() - before;
    let before = alloc::allocations();
    let (elapsed, waited) = contended_one_runtime::<S>(3 * iters, true, Exclusion::Checked);
    let large = alloc::allocations() - before;
    let extra_acquires = S3_TASKS * 2 * iters;
    let acquires = S3_TASKS * 3 * iters;
    Sample {
        allocs_per_op: Some(large.saturating_sub(small) as f64 / extra_acquires as f64),
        waited_fraction: Some(waited as f64 / acquires as f64),
        ..Sample::timed(elapsed, acquires)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::scenarios::Scenario as _;

    pub(crate) const TINY: Sizes = Sizes {
        uncontended_iters: 1_000,
        s3_iters_per_task: 10,
        s4_ops: 640,
        s7_iters_per_task: 5,
    };

    #[test]
    #[should_panic(expected = "second permit out of one")]
    fn uncontended_check_catches_a_semaphore_that_excludes_nobody() {
        run::<NoSync>(Scenario::S1, &TINY);
    }

    #[test]
    #[should_panic(expected = "holders were inside at once")]
    fn contended_check_catches_a_semaphore_that_excludes_nobody() {
        run::<NoSync>(Scenario::S3, &TINY);
    }

    #[test]
    #[should_panic(expected = "holders were inside at once")]
    fn cross_thread_check_catches_a_semaphore_that_excludes_nobody() {
        run::<NoSync>(
            Scenario::S4 {
                threads: 2,
                permits: 1,
            },
            &TINY,
        );
    }

    /// A semaphore whose permits are never handed out: every acquire of
    /// the loop "completes" without doing the work.
    struct SkipsWork;

    impl BenchSemaphore for SkipsWork {
        fn with_permits(_: usize) -> Self {
            Self
        }
        fn try_acq(&self) -> Option<impl Sized + '_> {
            None::<()>
        }
        fn acq(&self) -> impl Future<Output = impl Sized + '_> + '_ {
            ready(())
        }
    }

    #[test]
    #[should_panic(expected = "S1")]
    fn uncontended_check_catches_a_failed_try_acquire() {
        run::<SkipsWork>(Scenario::S1, &TINY);
    }

    /// The floors run S1-S3 without exclusion checks but still count the
    /// work; the other scenarios have none. S3's wake floor and S1's atomic
    /// floor check both.
    #[test]
    fn floors_run_s1_to_s3_only() {
        for scenario in Scenario::all() {
            match scenario.floor() {
                Some(floor) => assert!(floor(scenario, &TINY).ns_per_op.is_finite()),
                None => assert!(!matches!(
                    scenario,
                    Scenario::S1 | Scenario::S2 | Scenario::S3
                )),
            }
            match scenario.cost_floor() {
                Some((_, floor)) => assert!(floor(scenario, &TINY).ns_per_op.is_finite()),
                None => assert!(!matches!(scenario, Scenario::S1 | Scenario::S3)),
            }
        }
    }

    /// The baton lets only its holder through, and only the holder may wake
    /// the next task.
    #[test]
    #[should_panic(expected = "the baton moved under its holder")]
    fn the_baton_catches_a_task_that_does_not_hold_it() {
        Baton::new(2).after_yield(1, false);
    }
}
