//! The fan-out scenarios, S12: one sender, sixteen receiving tasks spread
//! over T runtimes (one thread each), on a watch channel or a broadcast
//! channel.
//!
//! - **Lock-step** (`S12w_tT`, `S12b_tT`): the sender (a plain thread)
//!   sends one value, then sleeps until the last of the sixteen receivers
//!   has it, and sends the next. The distribution is the *delivery latency*:
//!   from the send to the moment the last receiver's `changed()` / `recv()`
//!   returned it. The time column is the run's time per delivered value
//!   (it includes the sender's own wake-up, the same for every row), and
//!   `sends_per_s` the rounds per second.
//! - **Burst** (`S12w_burst_t2`, `S12b_burst_t2`): the same, but the sender
//!   sends a burst of values back to back before it waits. A broadcast
//!   receiver gets every value (the capacity holds a burst); a watch
//!   receiver may skip some (that is what a watch channel is for), and the
//!   time column divides by the values actually delivered.
//! - **One runtime** (`S12w_rt1`, `S12b_rt1`): lock-step with the sender and
//!   the sixteen receivers as tasks of one runtime (the sender yields until
//!   the last receiver has the value), so that the `local` flavors compare
//!   with the thread-safe channels and the peers.
//!
//! Checks: every broadcast receiver gets every value in order; every watch
//! receiver sees increasing values and ends each round at its last value;
//! each round is acknowledged by exactly sixteen receivers, and every
//! receiver ends when the sender is dropped.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst},
    },
    thread::{self, Thread},
    time::Instant,
};

use crate::harness::{
    Case, Columns, DistKind, Sample,
    rt::{join_all, join_thread, runtime},
};

/// The name of the lock-step rows' floor ([`BareFanout`]).
pub const FANOUT_FLOOR: &str = "floor: one bare wake-up per receiver";

/// Receiving tasks in every S12 scenario.
pub const RECEIVERS: usize = 16;

/// Which channel an implementation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Keeps the latest value only; receivers may skip values.
    Watch,
    /// Delivers every value to every receiver.
    Broadcast,
}

/// What S12 needs from a channel of `u64`s. The multi-runtime scenarios
/// also need the sender to be `Sync` and the receivers `Send`; the
/// single-runtime ones (`S12w_rt1`, `S12b_rt1`) take the `local` flavors
/// too.
pub trait BenchFanout: Sized + 'static {
    /// A receiver.
    type Rx: 'static;
    /// Watch or broadcast.
    const KIND: Kind;
    /// A channel holding (broadcast) at least `capacity` values, and its
    /// first receiver. A watch channel starts at 0.
    fn create(capacity: usize) -> (Self, Self::Rx);
    /// Sends `value` (never fails: there are receivers).
    fn send(&self, value: u64);
    /// Another receiver, which receives what is sent from now on.
    fn subscribe(&self) -> Self::Rx;
    /// The next value (broadcast) or the next changed value (watch); `None`
    /// once the sender is gone. A lag panics.
    fn next(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>>;
}

/// The S12 scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// Runtimes (threads) the receivers are spread over.
    pub threads: usize,
    /// Values per round (1: lock-step).
    pub burst: usize,
}

/// How much work the S12 scenarios do per run.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Rounds per lock-step run.
    pub lockstep_rounds: usize,
    /// Rounds per burst run.
    pub burst_rounds: usize,
    /// Values per burst.
    pub burst: usize,
    /// Rounds per single-runtime run.
    pub one_runtime_rounds: usize,
}

impl Scenario {
    /// Every S12 scenario of one channel kind, in report order.
    pub fn all(sizes: &Sizes) -> Vec<Self> {
        vec![
            Self {
                threads: 2,
                burst: 1,
            },
            Self {
                threads: 4,
                burst: 1,
            },
            Self {
                threads: 2,
                burst: sizes.burst,
            },
        ]
    }
}

/// The S12 scenarios of one channel kind; `K` is `true` for broadcast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Family<const BROADCAST: bool>(pub Scenario);

impl<const BROADCAST: bool> super::Scenario for Family<BROADCAST> {
    type Sizes = Sizes;

    fn case(self, sizes: &Sizes) -> Case {
        let Scenario { threads, burst } = self.0;
        let (tag, what) = if BROADCAST {
            ("b", "broadcast")
        } else {
            ("w", "watch")
        };
        let (id, title) = if burst == 1 {
            (
                format!("S12{tag}_t{threads}"),
                format!(
                    "S12 {what} fan-out, 1 sender, {RECEIVERS} receivers on {threads} runtimes, lock-step, {} rounds",
                    sizes.lockstep_rounds
                ),
            )
        } else {
            (
                format!("S12{tag}_burst_t{threads}"),
                format!(
                    "S12 {what} fan-out, 1 sender, {RECEIVERS} receivers on {threads} runtimes, bursts of {burst}, {} rounds",
                    sizes.burst_rounds
                ),
            )
        };
        Case {
            id,
            title,
            columns: Columns {
                time: "ns/value",
                time_words: "ns per delivered value",
                dist: (burst == 1).then_some(DistKind::Wait),
                chart_allocs: false,
            },
            warmup: false,
            max_repeats: None,
        }
    }

    /// Lock-step only: [`BareFanout`], a round with one bare wake-up per
    /// receiver and no channel.
    fn cost_floor(self) -> Option<(&'static str, super::Run<Self>)> {
        (self.0.burst == 1).then_some((
            FANOUT_FLOOR,
            run::<BareFanout<BROADCAST>, BROADCAST> as super::Run<Self>,
        ))
    }
}

/// Runs one S12 scenario on `C`.
pub fn run<C: BenchFanout + Send + Sync, const BROADCAST: bool>(
    family: Family<BROADCAST>,
    sizes: &Sizes,
) -> Sample
where
    C::Rx: Send,
{
    assert_eq!(
        C::KIND == Kind::Broadcast,
        BROADCAST,
        "registered in the wrong family"
    );
    let Scenario { threads, burst } = family.0;
    let rounds = if burst == 1 {
        sizes.lockstep_rounds
    } else {
        sizes.burst_rounds
    };
    fan_out::<C>(threads, burst, rounds)
}

/// The single-runtime S12 scenario of one channel kind: the sender and the
/// sixteen receivers are tasks of one runtime, so the `local` flavors run
/// too. Lock-step, as `S12w_t2`: the sender task yields until the last
/// receiver has the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OneRuntime<const BROADCAST: bool>;

impl<const BROADCAST: bool> super::Scenario for OneRuntime<BROADCAST> {
    type Sizes = Sizes;

    fn case(self, sizes: &Sizes) -> Case {
        let (tag, what) = if BROADCAST {
            ("b", "broadcast")
        } else {
            ("w", "watch")
        };
        Case {
            id: format!("S12{tag}_rt1"),
            title: format!(
                "S12 {what} fan-out, 1 sender and {RECEIVERS} receivers on 1 runtime, lock-step, {} rounds",
                sizes.one_runtime_rounds
            ),
            columns: Columns {
                time: "ns/value",
                time_words: "ns per delivered value",
                dist: Some(DistKind::Wait),
                chart_allocs: false,
            },
            warmup: true,
            max_repeats: None,
        }
    }
}

/// Runs the single-runtime S12 scenario on `C`.
pub fn run_one_runtime<C: BenchFanout, const BROADCAST: bool>(
    _: OneRuntime<BROADCAST>,
    sizes: &Sizes,
) -> Sample {
    assert_eq!(
        C::KIND == Kind::Broadcast,
        BROADCAST,
        "registered in the wrong family"
    );
    let rounds = sizes.one_runtime_rounds;
    runtime().block_on(async move {
        let (tx, rx) = C::create(2);
        let acks = std::rc::Rc::new(std::cell::Cell::new((0usize, Instant::now())));
        let mut rxs: Vec<_> = (1..RECEIVERS).map(|_| tx.subscribe()).collect();
        rxs.push(rx);
        let tasks: Vec<_> = rxs
            .into_iter()
            .map(|mut rx| {
                let acks = acks.clone();
                compio::runtime::spawn(async move {
                    let (mut delivered, mut last) = (0u64, 0u64);
                    while let Some(value) = C::next(&mut rx).await {
                        assert_eq!(value, last + 1, "S12: value lost or out of order");
                        last = value;
                        delivered += 1;
                        acks.set((acks.get().0 + 1, Instant::now()));
                    }
                    delivered
                })
            })
            .collect();
        // Let every receiver wait first.
        crate::harness::rt::yield_now().await;
        let mut latencies = Vec::with_capacity(rounds);
        let start = Instant::now();
        for round in 1..=rounds {
            let sent_at = Instant::now();
            tx.send(round as u64);
            while acks.get().0 < round * RECEIVERS {
                crate::harness::rt::yield_now().await;
            }
            latencies.push((acks.get().1 - sent_at).as_nanos() as u64);
        }
        let elapsed = start.elapsed();
        drop(tx);
        let delivered: u64 = join_all(tasks).await.into_iter().sum();
        assert_eq!(
            delivered,
            (rounds * RECEIVERS) as u64,
            "S12: deliveries lost"
        );
        Sample {
            extras: vec![("sends_per_s", rounds as f64 / elapsed.as_secs_f64())],
            ..Sample::timed(elapsed, delivered as usize)
        }
        .with_dist(&latencies)
    })
}

/// What the receivers and the sender share.
struct Shared {
    /// Receivers that have seen the current round's last value.
    acks: AtomicUsize,
    /// When the latest ack happened, in ns since `base`.
    last_ack_ns: AtomicU64,
    /// Receivers polled at least once.
    ready: AtomicUsize,
    base: Instant,
    sender: Thread,
}

impl Shared {
    fn ack(&self) {
        self.last_ack_ns
            .fetch_max(self.base.elapsed().as_nanos() as u64, SeqCst);
        let acks = self.acks.fetch_add(1, SeqCst) + 1;
        if acks.is_multiple_of(RECEIVERS) {
            self.sender.unpark();
        }
    }
}

/// One receiving task: returns how many values it received.
async fn receive<C: BenchFanout>(mut rx: C::Rx, shared: Arc<Shared>, burst: u64) -> u64 {
    shared.ready.fetch_add(1, SeqCst);
    let (mut delivered, mut last) = (0u64, 0u64);
    while let Some(value) = C::next(&mut rx).await {
        match C::KIND {
            Kind::Broadcast => assert_eq!(value, last + 1, "S12: value lost or out of order"),
            Kind::Watch => assert!(value > last, "S12: watch value went back"),
        }
        last = value;
        delivered += 1;
        if value.is_multiple_of(burst) {
            shared.ack();
        }
    }
    delivered
}

fn fan_out<C: BenchFanout + Send + Sync>(threads: usize, burst: usize, rounds: usize) -> Sample
where
    C::Rx: Send,
{
    let (tx, rx) = C::create(burst.max(2));
    let shared = Arc::new(Shared {
        acks: AtomicUsize::new(0),
        last_ack_ns: AtomicU64::new(0),
        ready: AtomicUsize::new(0),
        base: Instant::now(),
        sender: thread::current(),
    });
    let mut rxs: Vec<_> = (1..RECEIVERS).map(|_| tx.subscribe()).collect();
    rxs.push(rx);
    let per_thread = RECEIVERS / threads;
    let receivers: Vec<_> = (0..threads)
        .map(|_| {
            let mine: Vec<_> = rxs.drain(..per_thread).collect();
            let shared = shared.clone();
            thread::spawn(move || {
                runtime().block_on(async move {
                    let tasks = mine
                        .into_iter()
                        .map(|rx| {
                            compio::runtime::spawn(receive::<C>(rx, shared.clone(), burst as u64))
                        })
                        .collect();
                    join_all(tasks).await
                })
            })
        })
        .collect();
    while shared.ready.load(SeqCst) < RECEIVERS {
        thread::yield_now();
    }
    let mut latencies = Vec::with_capacity(rounds);
    let start = Instant::now();
    let mut value = 0u64;
    for round in 1..=rounds {
        let sent_at = shared.base.elapsed().as_nanos() as u64;
        for _ in 0..burst {
            value += 1;
            tx.send(value);
        }
        while shared.acks.load(SeqCst) < round * RECEIVERS {
            // Returns at once when unparked; the timeout only notices a
            // receiver thread that died (its panic is resumed below).
            thread::park_timeout(std::time::Duration::from_millis(50));
            if receivers.iter().any(thread::JoinHandle::is_finished) {
                drop(tx);
                for receiver in receivers {
                    join_thread(receiver);
                }
                panic!("S12: a receiver ended early");
            }
        }
        latencies.push(shared.last_ack_ns.load(SeqCst).saturating_sub(sent_at));
    }
    let elapsed = start.elapsed();
    drop(tx);
    let delivered: u64 = receivers.into_iter().flat_map(join_thread).sum();
    assert_eq!(
        shared.acks.load(SeqCst),
        rounds * RECEIVERS,
        "S12: a round acknowledged by the wrong number of receivers"
    );
    let sent = (rounds * burst) as u64;
    match C::KIND {
        Kind::Broadcast => assert_eq!(delivered, sent * RECEIVERS as u64, "S12: deliveries lost"),
        Kind::Watch => assert!(
            (rounds as u64 * RECEIVERS as u64..=sent * RECEIVERS as u64).contains(&delivered),
            "S12: impossible number of watch deliveries"
        ),
    }
    let sample = Sample {
        extras: vec![
            ("sends_per_s", sent as f64 / elapsed.as_secs_f64()),
            ("delivered_per_send", delivered as f64 / sent as f64),
        ],
        ..Sample::timed(elapsed, delivered as usize)
    };
    if burst == 1 {
        sample.with_dist(&latencies)
    } else {
        sample
    }
}

/// The floor of the lock-step fan-out: the least any channel must do to
/// hand one value to sixteen waiting tasks, with no channel at all. The
/// sender stores the value in one shared word and wakes each receiver's
/// [`AtomicWaker`]; a receiver registers its waker, then looks at the word.
/// That is one store and one task wake-up per receiver per value, which
/// every fan-out channel pays on top of its own bookkeeping. It keeps only
/// the latest value, so it delivers every value only when the sender waits
/// for the acks before the next send (lock-step): it is the floor of those
/// scenarios only.
///
/// [`AtomicWaker`]: futures::task::AtomicWaker
pub struct BareFanout<const BROADCAST: bool>(Arc<Bare>);

/// What the bare fan-out's sender and receivers share.
struct Bare {
    /// The latest value; `u64::MAX` once the sender is gone.
    value: AtomicU64,
    /// One waker slot per receiver, handed out by `subscribe`.
    wakers: Vec<futures::task::AtomicWaker>,
    /// Slots handed out.
    subscribed: AtomicUsize,
}

/// A bare fan-out receiver: its slot and the last value it returned.
pub struct BareRx {
    bare: Arc<Bare>,
    slot: usize,
    last: u64,
}

impl Bare {
    fn receiver(self: &Arc<Self>) -> BareRx {
        let slot = self.subscribed.fetch_add(1, SeqCst);
        assert!(slot < RECEIVERS, "the bare fan-out has {RECEIVERS} slots");
        BareRx {
            bare: self.clone(),
            slot,
            last: 0,
        }
    }

    fn publish(&self, value: u64) {
        // SeqCst: the store, then the wakers' loads, against each
        // receiver's (register; load the value): one side sees the other.
        self.value.store(value, SeqCst);
        for waker in &self.wakers[..self.subscribed.load(SeqCst)] {
            waker.wake();
        }
    }
}

impl<const BROADCAST: bool> Drop for BareFanout<BROADCAST> {
    fn drop(&mut self) {
        self.0.publish(u64::MAX);
    }
}

impl<const BROADCAST: bool> BenchFanout for BareFanout<BROADCAST> {
    type Rx = BareRx;
    const KIND: Kind = if BROADCAST {
        Kind::Broadcast
    } else {
        Kind::Watch
    };
    fn create(_: usize) -> (Self, Self::Rx) {
        let bare = Arc::new(Bare {
            value: AtomicU64::new(0),
            wakers: (0..RECEIVERS)
                .map(|_| futures::task::AtomicWaker::new())
                .collect(),
            subscribed: AtomicUsize::new(0),
        });
        let rx = bare.receiver();
        (Self(bare), rx)
    }
    fn send(&self, value: u64) {
        assert!(value < u64::MAX, "the bare fan-out's end marker");
        self.0.publish(value);
    }
    fn subscribe(&self) -> Self::Rx {
        self.0.receiver()
    }
    async fn next(rx: &mut Self::Rx) -> Option<u64> {
        std::future::poll_fn(|cx| {
            let mut value = rx.bare.value.load(SeqCst);
            if value == rx.last {
                rx.bare.wakers[rx.slot].register(cx.waker());
                // SeqCst: see `publish`.
                value = rx.bare.value.load(SeqCst);
                if value == rx.last {
                    return std::task::Poll::Pending;
                }
            }
            rx.last = value;
            std::task::Poll::Ready((value != u64::MAX).then_some(value))
        })
        .await
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const TINY: Sizes = Sizes {
        lockstep_rounds: 20,
        burst_rounds: 5,
        burst: 8,
        one_runtime_rounds: 20,
    };

    /// A "broadcast" that delivers every third value's predecessor twice.
    struct Duplicating(tokio::sync::broadcast::Sender<u64>);

    impl BenchFanout for Duplicating {
        type Rx = tokio::sync::broadcast::Receiver<u64>;
        const KIND: Kind = Kind::Broadcast;
        fn create(capacity: usize) -> (Self, Self::Rx) {
            let (tx, rx) = tokio::sync::broadcast::channel(capacity);
            (Self(tx), rx)
        }
        fn send(&self, value: u64) {
            // Errors ignored: once the receivers have caught the duplicate
            // (their panic is what the test expects), every send fails, and
            // a panic here could reach the test thread first.
            if value.is_multiple_of(3) {
                let _ = self.0.send(value - 1);
            }
            let _ = self.0.send(value);
        }
        fn subscribe(&self) -> Self::Rx {
            self.0.subscribe()
        }
        async fn next(rx: &mut Self::Rx) -> Option<u64> {
            rx.recv().await.ok()
        }
    }

    /// The bare floor delivers every value of a lock-step run (the run's
    /// own checks: in order, sixteen acks per round, every receiver ends),
    /// as a watch and as a broadcast; the burst rows have no floor.
    #[test]
    fn the_bare_floor_runs_the_lock_step_rows_only() {
        use super::super::Scenario as _;
        for threads in [2, 4] {
            let scenario = Scenario { threads, burst: 1 };
            let (watch_name, watch) = Family::<false>(scenario).cost_floor().unwrap();
            let (broadcast_name, broadcast) = Family::<true>(scenario).cost_floor().unwrap();
            assert_eq!((watch_name, broadcast_name), (FANOUT_FLOOR, FANOUT_FLOOR));
            for sample in [
                watch(Family(scenario), &TINY),
                broadcast(Family(scenario), &TINY),
            ] {
                assert!(sample.ns_per_op.is_finite());
                assert!(sample.dist.is_some(), "a lock-step run has its latencies");
            }
        }
        let burst = Scenario {
            threads: 2,
            burst: TINY.burst,
        };
        assert!(Family::<true>(burst).cost_floor().is_none());
        assert!(Family::<false>(burst).cost_floor().is_none());
    }

    #[test]
    #[should_panic(expected = "S12: value lost or out of order")]
    fn check_catches_a_duplicated_value() {
        run::<Duplicating, true>(
            Family(Scenario {
                threads: 2,
                burst: 1,
            }),
            &TINY,
        );
    }
}
