//! The Notify scenarios, ping-pong: side A notifies `ping` and waits on
//! `pong`; side B waits on `ping` and notifies `pong`. One round trip is one
//! notification each way. Each reports the mean round trip and the p50/p99
//! of single round trips (medians over repeats).
//!
//! - **S5** A and B on two threads, each with its own runtime and one task.
//!   Once a thread sleeps, this is dominated by the OS's cross-thread wake,
//!   the same for every mechanism. On a loaded machine a few preemption
//!   stalls (milliseconds) move the mean, and so the ratio, by tens of
//!   percent between runs; the p50 column is the stable comparison.
//! - **S5b** A and B as two tasks on one runtime: the primitive's own
//!   overhead. Its floor is the same ping-pong on [`BareWaker`], a flag and
//!   one waker slot in `Cell`s: what is left is the executor's cost of
//!   waking and polling a task.
//!
//! Checks: every wake-up answers the other side's notification of the same
//! round (a spurious or stale completion panics, a lost one hangs and the
//! watchdog says which side waits), and both sides finish every round.

use std::{
    cell::Cell,
    future::{Future, poll_fn},
    rc::Rc,
    sync::{
        Arc, Barrier,
        atomic::{AtomicU64, Ordering::*},
    },
    task::{Poll, Waker},
    time::Instant,
};

use super::Run;
use crate::harness::{
    Case, Columns, DistKind, Sample,
    rt::{join_all, join_thread, runtime, spawn_runtime_thread},
    set_progress,
};

/// What a benchmarked notification must offer: tokio's `Notify` contract
/// for one waiter. `notify` wakes the waiter, or, if none waits, stores one
/// notification that the next `wait` consumes; `wait` completes only after a
/// `notify` (no spurious completion, no lost notification).
///
/// Not `Send` or `Sync`: S5b also runs the single-thread flavors; S5 asks
/// for `Send + Sync` itself.
pub trait BenchNotify: 'static {
    /// A fresh notifier, with no stored notification.
    fn create() -> Self;
    /// Wakes the waiter, or stores one notification.
    fn notify(&self);
    /// Waits for (or consumes a stored) notification.
    fn wait(&self) -> impl Future<Output = ()> + '_;
}

/// One Notify scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Ping-pong between two threads, each with its own runtime and one task.
    S5,
    /// Ping-pong between two tasks on one runtime.
    S5b,
}

/// How much work the Notify scenarios do per run.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Round trips per S5 run (cross-thread).
    pub s5_round_trips: usize,
    /// Round trips per S5b run (one runtime).
    pub s5b_round_trips: usize,
}

impl Scenario {
    /// Every Notify scenario, in report order.
    pub fn all() -> Vec<Self> {
        vec![Self::S5, Self::S5b]
    }
}

impl super::Scenario for Scenario {
    type Sizes = Sizes;

    fn case(self, sizes: &Sizes) -> Case {
        let (id, title) = match self {
            Self::S5 => (
                "S5",
                format!(
                    "S5 Notify ping-pong, 2 threads (1 runtime + 1 task each), {} round trips",
                    sizes.s5_round_trips
                ),
            ),
            Self::S5b => (
                "S5b",
                format!(
                    "S5b Notify ping-pong, 2 tasks on 1 runtime, {} round trips",
                    sizes.s5b_round_trips
                ),
            ),
        };
        Case {
            id: id.into(),
            title,
            columns: Columns {
                time: "mean rt",
                time_words: "mean ns per round trip",
                dist: Some(DistKind::RoundTrip),
                chart_allocs: false,
            },
            warmup: self == Self::S5b,
            max_repeats: None,
        }
    }

    fn floor(self) -> Option<Run<Self>> {
        (self == Self::S5b).then_some(floor as Run<Self>)
    }
}

/// The floor of S5b: the same ping-pong on [`BareWaker`], the least a
/// single-thread notifier can do.
pub fn floor(scenario: Scenario, sizes: &Sizes) -> Sample {
    run_one_runtime::<BareWaker>(scenario, sizes)
}

/// The floor's notifier, for one waiting task on one thread: a flag and one
/// waker slot in `Cell`s. No queue, no atomics, no second waiter: only the
/// executor's cost of waking and polling a task is left.
pub struct BareWaker {
    notified: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl BenchNotify for BareWaker {
    fn create() -> Self {
        Self {
            notified: Cell::new(false),
            waker: Cell::new(None),
        }
    }
    fn notify(&self) {
        self.notified.set(true);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
    fn wait(&self) -> impl Future<Output = ()> + '_ {
        poll_fn(|cx| {
            if self.notified.replace(false) {
                Poll::Ready(())
            } else {
                self.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
    }
}

/// Runs `scenario` once on `N`.
pub fn run<N: BenchNotify + Send + Sync>(scenario: Scenario, sizes: &Sizes) -> Sample {
    match scenario {
        Scenario::S5 => cross_thread::<N>(sizes.s5_round_trips),
        Scenario::S5b => run_one_runtime::<N>(scenario, sizes),
    }
}

/// Runs S5b once on `N`, which need not be `Send` or `Sync` (the
/// single-thread flavors run here).
///
/// # Panics
///
/// On S5 (two threads).
pub fn run_one_runtime<N: BenchNotify>(scenario: Scenario, sizes: &Sizes) -> Sample {
    assert_eq!(scenario, Scenario::S5b, "only S5b runs on one runtime");
    one_runtime::<N>(sizes.s5b_round_trips)
}

/// The two notifiers and the round counters that check every wake-up was
/// caused by the other side's notification of this round: a spurious or
/// stale completion (a wait that returns without, or on an earlier,
/// notification) reads the wrong round and panics, and a lost one hangs
/// (the watchdog names it).
struct Pair<N> {
    ping: N,
    pong: N,
    /// Shared with the watchdog's progress report (the notifiers need not be
    /// `Sync`; the counters are).
    rounds: Arc<Rounds>,
}

/// The counters of a [`Pair`].
#[derive(Default)]
struct Rounds {
    /// The round A has started (stored before A notifies `ping`).
    sent: AtomicU64,
    /// The round B has answered (stored before B notifies `pong`).
    echoed: AtomicU64,
}

impl<N: BenchNotify> Pair<N> {
    fn new() -> Self {
        Self {
            ping: N::create(),
            pong: N::create(),
            rounds: Arc::default(),
        }
    }

    /// Side A: `rounds` round trips. Returns the wall time of the whole loop
    /// and the duration of each round trip, in nanoseconds.
    async fn serve(&self, rounds: u64) -> (u64, Vec<u64>) {
        let mut times = Vec::with_capacity(rounds as usize);
        let start = Instant::now();
        let mut last = start;
        for round in 1..=rounds {
            self.rounds.sent.store(round, Release);
            self.ping.notify();
            self.pong.wait().await;
            let echoed = self.rounds.echoed.load(Acquire);
            assert_eq!(
                echoed, round,
                "ping-pong: A's wait returned without B's answer to round {round}"
            );
            let now = Instant::now();
            times.push((now - last).as_nanos() as u64);
            last = now;
        }
        ((last - start).as_nanos() as u64, times)
    }

    /// Side B: answers `rounds` pings.
    async fn echo(&self, rounds: u64) {
        for round in 1..=rounds {
            self.ping.wait().await;
            let sent = self.rounds.sent.load(Acquire);
            assert_eq!(
                sent, round,
                "ping-pong: B's wait returned without A's ping of round {round}"
            );
            self.rounds.echoed.store(round, Release);
            self.pong.notify();
        }
    }

    /// Reports the round counters to the watchdog until the next
    /// `set_progress`.
    fn report_progress(&self, rounds: usize) {
        let pair = self.rounds.clone();
        set_progress(Some(Box::new(move || {
            let (sent, echoed) = (pair.sent.load(Acquire), pair.echoed.load(Acquire));
            let stuck = if sent == echoed {
                "A waits on pong: B answered, A was not woken"
            } else {
                "B waits on ping: A pinged, B has not answered"
            };
            format!("of {rounds} rounds, A sent {sent}, B echoed {echoed} ({stuck})")
        })));
    }

    /// Panics unless both sides completed `rounds` rounds.
    fn verify(&self, rounds: u64, times: &[u64], what: &str) {
        assert_eq!(
            self.rounds.sent.load(Acquire),
            rounds,
            "{what}: A did not finish"
        );
        assert_eq!(
            self.rounds.echoed.load(Acquire),
            rounds,
            "{what}: B did not finish"
        );
        assert_eq!(times.len() as u64, rounds, "{what}: missing round trips");
    }
}

fn sample(rounds: usize, total_ns: u64, times: Vec<u64>) -> Sample {
    Sample {
        ns_per_op: total_ns as f64 / rounds as f64,
        ..Sample::default()
    }
    .with_dist(&times)
}

/// S5: A and B on two threads, each with its own runtime running one task.
fn cross_thread<N: BenchNotify + Send + Sync>(rounds: usize) -> Sample {
    let pair = Arc::new(Pair::<N>::new());
    pair.report_progress(rounds);
    let barrier = Arc::new(Barrier::new(2));
    let spawn_side = |serve: bool| {
        let pair = pair.clone();
        let barrier = barrier.clone();
        spawn_runtime_thread(move || async move {
            barrier.wait();
            if serve {
                Some(pair.serve(rounds as u64).await)
            } else {
                pair.echo(rounds as u64).await;
                None
            }
        })
    };
    let b = spawn_side(false);
    let a = spawn_side(true);
    let (total, times) = join_thread(a).expect("side A returns its times");
    join_thread(b);
    set_progress(None);
    pair.verify(rounds as u64, &times, "S5");
    sample(rounds, total, times)
}

/// S5b: A and B as two tasks on one runtime.
fn one_runtime<N: BenchNotify>(rounds: usize) -> Sample {
    let pair = Rc::new(Pair::<N>::new());
    pair.report_progress(rounds);
    let rt = runtime();
    let (total, times) = rt.block_on(async {
        let b = compio::runtime::spawn({
            let pair = pair.clone();
            async move { pair.echo(rounds as u64).await }
        });
        let a = compio::runtime::spawn({
            let pair = pair.clone();
            async move { pair.serve(rounds as u64).await }
        });
        let result = join_all(vec![a]).await.pop().unwrap();
        join_all(vec![b]).await;
        result
    });
    drop(rt);
    set_progress(None);
    pair.verify(rounds as u64, &times, "S5b");
    sample(rounds, total, times)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::future::ready;

    use super::*;

    pub(crate) const TINY: Sizes = Sizes {
        s5_round_trips: 200,
        s5b_round_trips: 1_000,
    };

    /// A "notify" whose wait never waits: the round counters must catch it.
    struct Spurious;

    impl BenchNotify for Spurious {
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
    fn one_runtime_check_catches_a_wait_that_does_not_wait() {
        run::<Spurious>(Scenario::S5b, &TINY);
    }

    #[test]
    #[should_panic(expected = "wait returned without")]
    fn cross_thread_check_catches_a_wait_that_does_not_wait() {
        run::<Spurious>(Scenario::S5, &TINY);
    }
}
