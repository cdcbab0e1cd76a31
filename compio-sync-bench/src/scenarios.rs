//! The scenario list, what a run measures, the shared helpers, and the
//! Semaphore scenarios (S1-S4, S7). The Notify, Mutex and Condvar scenarios
//! live in `ping_pong`, `mutex_counter` and `condvar_queue`. Each runs one
//! implementation once, checks that the work was done (panicking otherwise),
//! and returns what it measured.

use std::{
    future::{Future, poll_fn},
    hint::black_box,
    pin::{Pin, pin},
    sync::{
        Arc, Barrier,
        atomic::{AtomicU64, AtomicUsize, Ordering::*},
    },
    task::{Context, Poll},
    thread,
    time::{Duration, Instant},
};

use compio::runtime::{ResumeUnwind, Runtime};

use crate::{
    alloc,
    impls::{BenchSemaphore, Family},
};

/// Tasks in S3 and S7 (all on one runtime).
pub const S3_TASKS: usize = 64;
/// Tasks per runtime (per thread) in S4 and S6.
pub const S4_TASKS_PER_THREAD: usize = 16;
/// In S6, every `S6_YIELD_EVERY`-th critical section of a task yields to the
/// executor while holding the lock.
pub const S6_YIELD_EVERY: usize = 4;

/// One scenario (with its parameters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Uncontended `try_acquire` + drop.
    S1,
    /// Uncontended `acquire().await` + drop.
    S2,
    /// One runtime, 1 permit, [`S3_TASKS`] tasks looping {acquire, yield, release}.
    S3,
    /// `threads` threads, each with its own runtime and
    /// [`S4_TASKS_PER_THREAD`] tasks looping {acquire, yield, release} on one
    /// shared semaphore of `permits` permits.
    S4 {
        /// Threads (runtimes).
        threads: usize,
        /// Permits of the shared semaphore.
        permits: usize,
    },
    /// S3 under the counting allocator: heap allocations per acquire.
    S7,
    /// Notify ping-pong between two threads, each with its own runtime and
    /// one task.
    S5,
    /// Notify ping-pong between two tasks on one runtime.
    S5b,
    /// Mutex counter: `threads` threads, each with its own runtime and
    /// [`S4_TASKS_PER_THREAD`] tasks looping {lock, increment, unlock}, every
    /// [`S6_YIELD_EVERY`]-th critical section yielding while locked.
    S6 {
        /// Threads (runtimes).
        threads: usize,
    },
    /// Condvar producer/consumer: one producer thread pushes into a
    /// `Mutex<VecDeque>` and notifies, one consumer thread waits while the
    /// queue is empty and then drains it. Each thread has its own runtime.
    S8,
}

impl Scenario {
    /// Short stable id (JSON key).
    pub fn id(self) -> String {
        match self {
            Self::S1 => "S1".into(),
            Self::S2 => "S2".into(),
            Self::S3 => "S3".into(),
            Self::S4 { threads, permits } => format!("S4_t{threads}_p{permits}"),
            Self::S7 => "S7".into(),
            Self::S5 => "S5".into(),
            Self::S5b => "S5b".into(),
            Self::S6 { threads } => format!("S6_t{threads}"),
            Self::S8 => "S8".into(),
        }
    }

    /// Which primitive (and so which implementations) it exercises.
    pub fn family(self) -> Family {
        match self {
            Self::S1 | Self::S2 | Self::S3 | Self::S4 { .. } | Self::S7 => Family::Semaphore,
            Self::S5 | Self::S5b => Family::Notify,
            Self::S6 { .. } => Family::Mutex,
            Self::S8 => Family::Condvar,
        }
    }

    /// Whether the run reports a round-trip distribution (S5, S5b).
    pub fn is_ping_pong(self) -> bool {
        matches!(self, Self::S5 | Self::S5b)
    }

    /// Human description.
    pub fn describe(self) -> String {
        match self {
            Self::S1 => "S1 uncontended try_acquire+drop".into(),
            Self::S2 => "S2 uncontended acquire().await+drop".into(),
            Self::S3 => format!("S3 1 runtime, 1 permit, {S3_TASKS} tasks"),
            Self::S4 { threads, permits } => format!(
                "S4 {threads} threads x {S4_TASKS_PER_THREAD} tasks, {permits} permit{}",
                if permits == 1 { "" } else { "s" }
            ),
            Self::S7 => format!("S7 allocations, 1 permit, {S3_TASKS} tasks"),
            Self::S5 => "S5 Notify ping-pong, 2 threads (1 runtime + 1 task each); per round trip".into(),
            Self::S5b => "S5b Notify ping-pong, 2 tasks on 1 runtime; per round trip".into(),
            Self::S6 { threads } => format!(
                "S6 Mutex counter, {threads} threads x {S4_TASKS_PER_THREAD} tasks, yield in every {S6_YIELD_EVERY}th critical section"
            ),
            Self::S8 => "S8 Condvar producer/consumer, 2 threads, Mutex<VecDeque>, consumer drains; per item; x tokio = vs tokio Mutex+Notify (tokio has no Condvar)".into(),
        }
    }
}

/// How much work each scenario does per run.
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
    /// Round trips per S5 run (cross-thread).
    pub s5_round_trips: usize,
    /// Round trips per S5b run (one runtime).
    pub s5b_round_trips: usize,
    /// Lock/unlock pairs per S6 run, over all threads and tasks (each of the
    /// T x 16 tasks does `s6_ops / (T * 16)`).
    pub s6_ops: usize,
    /// Items per S8 run.
    pub s8_items: usize,
}

/// A distribution of durations, in nanoseconds: how long single acquires
/// waited (S4), or how long single round trips took (S5, S5b).
#[derive(Clone, Copy, Debug, Default)]
pub struct Waits {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Longest.
    pub max: u64,
}

impl Waits {
    /// The distribution of `samples` (sorted here), which must not be empty.
    pub fn of(samples: &mut [u64]) -> Self {
        samples.sort_unstable();
        let n = samples.len();
        let at = |q: f64| samples[((n - 1) as f64 * q).round() as usize];
        Self {
            p50: at(0.50),
            p99: at(0.99),
            p999: at(0.999),
            max: samples[n - 1],
        }
    }
}

/// What one run measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    /// Wall time per completed acquire/release, in nanoseconds.
    pub ns_per_op: f64,
    /// S4: how long single acquires waited.
    pub waits: Option<Waits>,
    /// S5, S5b: how long single round trips took (`ns_per_op` is the mean).
    pub round_trips: Option<Waits>,
    /// S8: items the consumer took per round (one `wait_while` + drain).
    pub items_per_round: Option<f64>,
    /// S7: heap allocations per acquire.
    pub allocs_per_acquire: Option<f64>,
    /// S7: fraction of acquires that returned `Pending` at least once.
    pub waited_fraction: Option<f64>,
}

/// Runs Semaphore `scenario` once on `S`.
pub fn run<S: BenchSemaphore>(scenario: Scenario, sizes: &Sizes) -> Sample {
    match scenario {
        Scenario::S1 => s1::<S>(sizes.uncontended_iters),
        Scenario::S2 => s2::<S>(sizes.uncontended_iters),
        Scenario::S3 => {
            let (elapsed, _) = contended_one_runtime::<S>(sizes.s3_iters_per_task, false);
            Sample {
                ns_per_op: per_op(elapsed, S3_TASKS * sizes.s3_iters_per_task),
                ..Sample::default()
            }
        }
        Scenario::S4 { threads, permits } => {
            let iters = (sizes.s4_ops / (threads * S4_TASKS_PER_THREAD)).max(1);
            s4::<S>(threads, permits, iters)
        }
        Scenario::S7 => s7::<S>(sizes.s7_iters_per_task),
        Scenario::S5 | Scenario::S5b | Scenario::S6 { .. } | Scenario::S8 => {
            unreachable!("{scenario:?} is not a Semaphore scenario")
        }
    }
}

/// A compio runtime for one benchmark thread. The cross-thread wake queue is
/// made larger than the default 64 so that it can never fill up (a full queue
/// makes `wake()` spin, compio#1044): at most one entry per task is queued.
pub fn runtime() -> Runtime {
    Runtime::builder()
        .sync_queue_size(1024)
        .build()
        .expect("cannot build a compio runtime")
}

/// The wall time of work spread over several threads: from the earliest
/// start to the latest end. Each thread reads its own start right after the
/// start barrier, so a thread that is descheduled (the main thread, or a
/// slow starter) cannot shorten the span to nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span(Option<(Instant, Instant)>);

impl Span {
    /// Adds one thread's `start..end`.
    pub fn add(&mut self, start: Instant, end: Instant) {
        self.0 = Some(match self.0 {
            None => (start, end),
            Some((s, e)) => (s.min(start), e.max(end)),
        });
    }

    /// Earliest start to latest end.
    pub fn elapsed(self) -> Duration {
        self.0.map_or(Duration::ZERO, |(start, end)| end - start)
    }
}

/// How far the running scenario has got, for the watchdog's hang report.
type ProgressFn = Box<dyn Fn() -> String + Send>;

static PROGRESS: std::sync::Mutex<Option<ProgressFn>> = std::sync::Mutex::new(None);

/// Sets (or, with `None`, clears) what the watchdog prints about the running
/// scenario if it hangs.
pub fn set_progress(progress: Option<ProgressFn>) {
    *PROGRESS.lock().unwrap_or_else(|e| e.into_inner()) = progress;
}

/// The running scenario's progress, if it reports one.
pub fn progress() -> Option<String> {
    PROGRESS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|f| f())
}

/// Nanoseconds per operation.
pub fn per_op(elapsed: Duration, ops: usize) -> f64 {
    elapsed.as_nanos() as f64 / ops as f64
}

/// Joins compio tasks, resuming any panic of theirs.
pub async fn join_all<T>(handles: Vec<compio::runtime::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.resume_unwind().expect("task was cancelled"));
    }
    out
}

/// Returns `Pending` once (waking itself first), so the task goes back through
/// the executor's run queue.
pub struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A [`YieldNow`].
pub fn yield_now() -> YieldNow {
    YieldNow(false)
}

/// Counts critical sections and checks that no more than `permits` holders
/// were ever inside at once.
pub struct Check {
    permits: usize,
    inside: AtomicUsize,
    max_inside: AtomicUsize,
    done: AtomicU64,
}

impl Check {
    /// No critical section yet, `permits` allowed at once.
    pub fn new(permits: usize) -> Self {
        Self {
            permits,
            inside: AtomicUsize::new(0),
            max_inside: AtomicUsize::new(0),
            done: AtomicU64::new(0),
        }
    }

    /// A holder enters.
    pub fn enter(&self) {
        let now = self.inside.fetch_add(1, AcqRel) + 1;
        if now > self.permits {
            self.max_inside.fetch_max(now, Relaxed);
        }
    }

    /// A holder leaves, having completed its critical section.
    pub fn exit(&self) {
        self.done.fetch_add(1, Relaxed);
        self.inside.fetch_sub(1, AcqRel);
    }

    /// Reports `done` of `expected` critical sections to the watchdog until
    /// the next `set_progress`.
    pub fn report_progress(self: &Arc<Self>, expected: usize) {
        let check = self.clone();
        set_progress(Some(Box::new(move || {
            format!(
                "{} of {expected} critical sections done, {} holder(s) inside",
                check.done.load(Relaxed),
                check.inside.load(Relaxed)
            )
        })));
    }

    /// Panics unless exactly `expected` critical sections completed, none
    /// remains open, and at most `permits` were ever open at once.
    pub fn verify(&self, expected: usize, what: &str) {
        let max = self.max_inside.load(Relaxed);
        assert!(
            max <= self.permits,
            "{what}: {max} holders were inside at once with {} permit(s)",
            self.permits
        );
        assert_eq!(self.inside.load(Relaxed), 0, "{what}: a holder never left");
        assert_eq!(
            self.done.load(Relaxed),
            expected as u64,
            "{what}: wrong number of completed critical sections"
        );
    }
}

/// Checks, around an uncontended loop on a 1-permit semaphore, that a held
/// permit excludes others and that dropping it gives it back.
fn check_one_permit<S: BenchSemaphore>(sem: &S, what: &str) {
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

fn s1<S: BenchSemaphore>(iters: usize) -> Sample {
    let sem = S::with_permits(1);
    let rt = runtime();
    let elapsed = rt.block_on(async {
        check_one_permit(&sem, "S1 before");
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
        check_one_permit(&sem, "S1 after");
        elapsed
    });
    Sample {
        ns_per_op: per_op(elapsed, iters),
        ..Sample::default()
    }
}

fn s2<S: BenchSemaphore>(iters: usize) -> Sample {
    let sem = S::with_permits(1);
    let rt = runtime();
    let elapsed = rt.block_on(async {
        check_one_permit(&sem, "S2 before");
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
        check_one_permit(&sem, "S2 after");
        elapsed
    });
    Sample {
        ns_per_op: per_op(elapsed, iters),
        ..Sample::default()
    }
}

/// S3 (and S7's workload): one runtime, 1 permit, [`S3_TASKS`] tasks each
/// doing `iters` rounds of {acquire, yield, release}. Returns the wall time
/// and, if `probe`, how many acquires returned `Pending` at least once.
fn contended_one_runtime<S: BenchSemaphore>(iters: usize, probe: bool) -> (Duration, usize) {
    let sem = Arc::new(S::with_permits(1));
    let check = Arc::new(Check::new(1));
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
    check_one_permit(&*sem, "one-runtime contended, after");
    (elapsed, waited)
}

fn s4<S: BenchSemaphore>(threads: usize, permits: usize, iters: usize) -> Sample {
    let sem = Arc::new(S::with_permits(permits));
    let check = Arc::new(Check::new(permits));
    check.report_progress(threads * S4_TASKS_PER_THREAD * iters);
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
                    let handles = (0..S4_TASKS_PER_THREAD)
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
    let mut waits = Vec::with_capacity(threads * S4_TASKS_PER_THREAD * iters);
    for worker in workers {
        let (start, end, thread_waits) = worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        span.add(start, end);
        waits.extend(thread_waits.into_iter().flatten());
    }
    set_progress(None);
    let ops = threads * S4_TASKS_PER_THREAD * iters;
    check.verify(ops, "S4");
    assert_eq!(waits.len(), ops, "S4: missing wait samples");
    let held: Vec<_> = (0..permits).map_while(|_| sem.try_acq()).collect();
    assert_eq!(held.len(), permits, "S4: permits lost");
    assert!(sem.try_acq().is_none(), "S4: more permits than configured");
    drop(held);
    Sample {
        ns_per_op: per_op(span.elapsed(), ops),
        waits: Some(Waits::of(&mut waits)),
        ..Sample::default()
    }
}

/// Heap allocations per contended acquire, as the marginal count between two
/// runs of different length (which cancels the fixed cost of spawning tasks).
fn s7<S: BenchSemaphore>(iters: usize) -> Sample {
    let before = alloc::allocations();
    let (_, _) = contended_one_runtime::<S>(iters, true);
    let small = alloc::allocations() - before;
    let before = alloc::allocations();
    let (elapsed, waited) = contended_one_runtime::<S>(3 * iters, true);
    let large = alloc::allocations() - before;
    let extra_acquires = S3_TASKS * 2 * iters;
    let acquires = S3_TASKS * 3 * iters;
    Sample {
        ns_per_op: per_op(elapsed, acquires),
        allocs_per_acquire: Some(large.saturating_sub(small) as f64 / extra_acquires as f64),
        waited_fraction: Some(waited as f64 / acquires as f64),
        ..Sample::default()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::future::{Future, ready};

    use super::*;
    use crate::impls;

    /// A "semaphore" that never says no: the checks must catch it.
    struct Unlimited;

    impl BenchSemaphore for Unlimited {
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

    pub(crate) const TINY: Sizes = Sizes {
        uncontended_iters: 1_000,
        s3_iters_per_task: 10,
        s4_ops: 640,
        s7_iters_per_task: 5,
        s5_round_trips: 200,
        s5b_round_trips: 1_000,
        s6_ops: 640,
        s8_items: 2_000,
    };

    #[test]
    #[should_panic(expected = "second permit out of one")]
    fn uncontended_check_catches_an_unlimited_semaphore() {
        run::<Unlimited>(Scenario::S1, &TINY);
    }

    #[test]
    #[should_panic(expected = "holders were inside at once")]
    fn contended_check_catches_an_unlimited_semaphore() {
        run::<Unlimited>(Scenario::S3, &TINY);
    }

    #[test]
    #[should_panic(expected = "holders were inside at once")]
    fn cross_thread_check_catches_an_unlimited_semaphore() {
        run::<Unlimited>(
            Scenario::S4 {
                threads: 2,
                permits: 1,
            },
            &TINY,
        );
    }

    /// A "notify" whose wait never waits: the round counters must catch it.
    struct Spurious;

    impl impls::BenchNotify for Spurious {
        fn create() -> Self {
            Self
        }
        fn notify(&self) {}
        fn wait(&self) -> impl Future<Output = ()> + '_ {
            ready(())
        }
    }

    #[test]
    #[should_panic(expected = "wait returned without")]
    fn ping_pong_check_catches_a_wait_that_does_not_wait() {
        (impls::notify_entry::<Spurious>("spurious", false).run)(Scenario::S5b, &TINY);
    }

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

    impl std::ops::DerefMut for Snapshot<'_> {
        fn deref_mut(&mut self) -> &mut u64 {
            &mut self.1
        }
    }

    impl Drop for Snapshot<'_> {
        fn drop(&mut self) {
            self.0.store(self.1, Relaxed);
        }
    }

    impl impls::BenchMutex for NoLock {
        fn create() -> Self {
            Self(AtomicU64::new(0))
        }
        fn lock(&self) -> impl Future<Output = impl std::ops::DerefMut<Target = u64> + '_> + '_ {
            ready(Snapshot(&self.0, self.0.load(Relaxed)))
        }
        fn try_value(&self) -> Option<u64> {
            Some(self.0.load(Relaxed))
        }
    }

    #[test]
    #[should_panic(expected = "holders were inside at once")]
    fn mutex_check_catches_a_mutex_that_excludes_nobody() {
        (impls::mutex_entry::<NoLock>("no lock", false).run)(Scenario::S6 { threads: 2 }, &TINY);
    }

    /// A queue whose consumer does not wait while it is empty.
    /// A consumer whose wait returns at once: its first round takes nothing
    /// (deterministically, whatever the producer has done by then), as a
    /// wait that does not wait for an item would.
    struct NoWait(
        std::sync::Mutex<std::collections::VecDeque<u64>>,
        std::sync::atomic::AtomicBool,
    );

    impl impls::BenchCondvar for NoWait {
        fn create() -> Self {
            Self(Default::default(), std::sync::atomic::AtomicBool::new(true))
        }
        fn push(&self, item: u64) -> impl Future<Output = ()> + '_ {
            self.0.lock().unwrap().push_back(item);
            ready(())
        }
        fn pop_all(&self, out: &mut Vec<u64>) -> impl Future<Output = ()> {
            if !self.1.swap(false, std::sync::atomic::Ordering::Relaxed) {
                out.extend(self.0.lock().unwrap().drain(..));
            }
            ready(())
        }
        fn try_len(&self) -> Option<usize> {
            Some(self.0.lock().unwrap().len())
        }
    }

    #[test]
    #[should_panic(expected = "S8:")]
    fn condvar_check_catches_a_pop_that_does_not_wait() {
        (impls::condvar_entry::<NoWait>("no wait", false).run)(Scenario::S8, &TINY);
    }

    /// Every registered implementation passes every scenario of its family.
    #[test]
    fn every_implementation_passes_every_scenario() {
        for imp in impls::registry() {
            for scenario in [
                Scenario::S1,
                Scenario::S2,
                Scenario::S3,
                Scenario::S4 {
                    threads: 2,
                    permits: 1,
                },
                Scenario::S4 {
                    threads: 4,
                    permits: 4,
                },
                Scenario::S7,
                Scenario::S5,
                Scenario::S5b,
                Scenario::S6 { threads: 2 },
                Scenario::S6 { threads: 4 },
                Scenario::S8,
            ]
            .into_iter()
            .filter(|s| s.family() == imp.family)
            {
                let sample = (imp.run)(scenario, &TINY);
                assert!(sample.ns_per_op > 0.0, "{} {scenario:?}", imp.name);
            }
        }
    }
}
