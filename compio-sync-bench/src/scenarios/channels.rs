//! The channel scenarios (S11):
//!
//! - **S11 mpsc throughput.** `P` producer tasks (1: SPSC, or 4) send `M`
//!   numbered messages in total through one channel to one consumer task,
//!   bounded at 1, 64 or 1024 slots, or unbounded; either with the producers
//!   on one runtime and the consumer on another (two threads, `x2`), each
//!   producer on a runtime of its own (`xp`: 5 runtimes for 4 producers), or
//!   all tasks on one runtime (`x1`). ns per message and heap allocations per
//!   message (the whole run, channel creation included).
//! - **S11 local.** The same mpsc loop with every task on one runtime, for
//!   the single-thread channels: compio-sync's `local::mpsc` against
//!   `local-sync`'s, with the thread-safe rows for reference.
//! - **S11 oneshot.** `M` one-shot channels, made beforehand: a producer
//!   runtime sends on each sender, in order, and a consumer runtime awaits
//!   each receiver (`x2`, timed from a start barrier both runtimes pass, as
//!   the mpsc rows, so that starting the runtimes is not counted); or both
//!   sides as two tasks of one runtime (`x1`). ns per channel (the send, the
//!   receive and the two halves' drops) and allocations per channel
//!   (creation included).
//!
//! Checks: the consumer gets every message exactly once, each producer's in
//! order, and then the end of the stream; every oneshot value arrives.
//!
//! The one-runtime capacity-1 rows (`S11_*_b1_x1`, `S11_local_*_b1`) have a
//! floor: the same loop on [`BareSlot`], one slot in a `Cell` and the
//! waiting tasks' wakers, no atomics. Under tokio's contract (a send that
//! is cancelled while it waits sent nothing), a message through one slot
//! costs the consumer's wake-up and the producer's: the floor is those two
//! task switches. A channel that parks the waiting sender with its message
//! (kanal, flume) lets the consumer take two messages per wake-up and can
//! go below it. kanal also hands a message straight to a receiver that
//! waits, without using a slot: its capacity-1 channel accepts two sends
//! while the receiver has not run (tokio's, flume's, async-channel's and
//! compio-sync's accept one; a test in the registry pins this), so in every
//! capacity-1 row it waits about half as often.

use std::{
    cell::{Cell, RefCell},
    collections::VecDeque,
    future::{Future, poll_fn},
    rc::Rc,
    sync::{Arc, Barrier},
    task::{Poll, Waker},
    time::Instant,
};

use super::Run;
use crate::harness::{
    Case, Columns, Sample, alloc,
    rt::{Span, join_all, join_thread, runtime, spawn_runtime_thread},
};

/// An mpsc channel of `u64` under test: bounded and unbounded flavors behind
/// one pair of handle types.
pub trait BenchMpsc: 'static {
    /// A sender (cloned per producer).
    type Tx: Clone + Send + 'static;
    /// The receiver.
    type Rx: Send + 'static;
    /// A channel with `cap` slots, or unbounded for `None`.
    fn create(cap: Option<usize>) -> (Self::Tx, Self::Rx);
    /// Sends `value`, waiting for room; panics if the receiver is gone.
    fn send(tx: &Self::Tx, value: u64) -> impl Future<Output = ()>;
    /// The next message, or `None` once every sender is gone.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>>;
}

/// A channel that may be `!Send` (the single-thread flavors): only the
/// one-runtime scenarios run it. Every [`BenchMpsc`] is one.
pub trait BenchLocalMpsc: 'static {
    /// A sender (cloned per producer).
    type Tx: Clone + 'static;
    /// The receiver.
    type Rx: 'static;
    /// A channel with `cap` slots, or unbounded for `None`.
    fn create(cap: Option<usize>) -> (Self::Tx, Self::Rx);
    /// Sends `value`, waiting for room; panics if the receiver is gone.
    fn send(tx: &Self::Tx, value: u64) -> impl Future<Output = ()>;
    /// The next message, or `None` once every sender is gone.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>>;
}

impl<C: BenchMpsc> BenchLocalMpsc for C {
    type Tx = C::Tx;
    type Rx = C::Rx;
    fn create(cap: Option<usize>) -> (Self::Tx, Self::Rx) {
        C::create(cap)
    }
    fn send(tx: &Self::Tx, value: u64) -> impl Future<Output = ()> {
        C::send(tx, value)
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>> {
        C::recv(rx)
    }
}

/// A oneshot channel of `u64` under test.
pub trait BenchOneshot: 'static {
    /// The sending half.
    type Tx: Send + 'static;
    /// The receiving half.
    type Rx: Send + 'static;
    /// A new channel.
    fn create() -> (Self::Tx, Self::Rx);
    /// Sends `value`; panics if the receiver is gone.
    fn send(tx: Self::Tx, value: u64);
    /// Waits for the value; panics if the sender was dropped.
    fn recv(rx: Self::Rx) -> impl Future<Output = u64>;
}

/// Where the tasks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Producers on one runtime (thread), the consumer on another.
    TwoRuntimes,
    /// Every task on one runtime.
    OneRuntime,
    /// Each producer on a runtime of its own, the consumer on another (5
    /// runtimes for 4 producers).
    RuntimePerProducer,
}

/// One channel scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// mpsc throughput: producers, capacity (`None`: unbounded), placement.
    Mpsc(usize, Option<usize>, Placement),
    /// mpsc throughput of the single-thread channels (one runtime):
    /// producers, capacity.
    LocalMpsc(usize, Option<usize>),
    /// oneshot send and receive, per channel.
    Oneshot(Placement),
}

/// How much work the channel scenarios do per run.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Messages per mpsc run across two runtimes.
    pub cross_messages: usize,
    /// Messages per mpsc run on one runtime.
    pub local_messages: usize,
    /// Channels per oneshot run.
    pub oneshots: usize,
}

impl Scenario {
    /// Every mpsc scenario, in report order.
    pub fn mpsc_all() -> Vec<Self> {
        let mut all = Vec::new();
        for placement in [Placement::TwoRuntimes, Placement::OneRuntime] {
            for producers in [1, 4] {
                for cap in [Some(1), Some(64), Some(1024), None] {
                    all.push(Self::Mpsc(producers, cap, placement));
                }
            }
        }
        for cap in [Some(1), Some(64), Some(1024), None] {
            all.push(Self::Mpsc(4, cap, Placement::RuntimePerProducer));
        }
        all
    }

    /// Every single-thread mpsc scenario, in report order.
    pub fn local_all() -> Vec<Self> {
        let mut all = Vec::new();
        for producers in [1, 4] {
            for cap in [Some(1), Some(64), None] {
                all.push(Self::LocalMpsc(producers, cap));
            }
        }
        all
    }

    /// Every oneshot scenario, in report order.
    pub fn oneshot_all() -> Vec<Self> {
        vec![
            Self::Oneshot(Placement::TwoRuntimes),
            Self::Oneshot(Placement::OneRuntime),
        ]
    }

    fn messages(self, sizes: &Sizes) -> usize {
        match self {
            Self::Mpsc(.., Placement::TwoRuntimes | Placement::RuntimePerProducer) => {
                sizes.cross_messages
            }
            Self::Mpsc(.., Placement::OneRuntime) | Self::LocalMpsc(..) => sizes.local_messages,
            Self::Oneshot(_) => sizes.oneshots,
        }
    }
}

fn placement_id(placement: Placement) -> &'static str {
    match placement {
        Placement::TwoRuntimes => "x2",
        Placement::OneRuntime => "x1",
        Placement::RuntimePerProducer => "xp",
    }
}

impl super::Scenario for Scenario {
    type Sizes = Sizes;

    fn case(self, sizes: &Sizes) -> Case {
        let n = self.messages(sizes);
        let (id, title) = match self {
            Self::Mpsc(producers, cap, placement) => {
                let kind = if producers == 1 {
                    "spsc".to_owned()
                } else {
                    format!("mpsc{producers}")
                };
                let bound = cap.map_or_else(|| "unb".to_owned(), |c| format!("b{c}"));
                let place = match placement {
                    Placement::TwoRuntimes => "producers and consumer on 2 runtimes",
                    Placement::OneRuntime => "all tasks on 1 runtime",
                    Placement::RuntimePerProducer => {
                        "a runtime per producer and one for the consumer"
                    }
                };
                (
                    format!("S11_{kind}_{bound}_{}", placement_id(placement)),
                    format!(
                        "S11 mpsc {producers} producer(s), {}, {place}, {n} messages",
                        cap.map_or_else(|| "unbounded".to_owned(), |c| format!("bounded {c}"))
                    ),
                )
            }
            Self::LocalMpsc(producers, cap) => {
                let kind = if producers == 1 {
                    "spsc".to_owned()
                } else {
                    format!("mpsc{producers}")
                };
                let bound = cap.map_or_else(|| "unb".to_owned(), |c| format!("b{c}"));
                (
                    format!("S11_local_{kind}_{bound}"),
                    format!(
                        "S11 single-thread mpsc, {producers} producer(s), {}, all tasks on 1 runtime, {n} messages",
                        cap.map_or_else(|| "unbounded".to_owned(), |c| format!("bounded {c}"))
                    ),
                )
            }
            Self::Oneshot(placement) => (
                format!("S11_oneshot_{}", placement_id(placement)),
                format!(
                    "S11 oneshot send+recv+drop, {}, {n} channels",
                    match placement {
                        Placement::OneRuntime => "2 tasks on 1 runtime",
                        _ => "sender and receiver on 2 runtimes",
                    }
                ),
            ),
        };
        Case {
            id,
            title,
            columns: Columns {
                time: "ns/msg",
                time_words: "ns per message",
                ..Columns::NS_PER_OP
            },
            warmup: matches!(
                self,
                Self::Mpsc(.., Placement::OneRuntime)
                    | Self::LocalMpsc(..)
                    | Self::Oneshot(Placement::OneRuntime)
            ),
            max_repeats: None,
        }
    }

    fn floor(self) -> Option<Run<Self>> {
        matches!(
            self,
            Self::Mpsc(_, Some(1), Placement::OneRuntime) | Self::LocalMpsc(_, Some(1))
        )
        .then_some(floor as Run<Self>)
    }
}

/// The floor of the one-runtime capacity-1 rows: the same loop on
/// [`BareSlot`].
pub fn floor(scenario: Scenario, sizes: &Sizes) -> Sample {
    let scenario = match scenario {
        Scenario::Mpsc(producers, cap, Placement::OneRuntime) => {
            Scenario::LocalMpsc(producers, cap)
        }
        other => other,
    };
    run_local_mpsc::<BareSlot>(scenario, sizes)
}

/// The floor's channel: one slot in a `Cell`, the receiver's waker, and the
/// waiting senders' wakers in arrival order; for tasks on one thread, with
/// no atomics and no permits. A send that finds the slot taken waits (its
/// message stays in its future, as tokio's contract requires); taking a
/// message wakes the first waiting sender, and the receiver then yields
/// once rather than register (that sender, scheduled first, fills the slot
/// before it looks again), as compio-sync's channel does. The receiver
/// keeps its waker between waits (replaced only when it would not wake the
/// same task) and is woken only while it waits. What is left is the
/// executor's cost of the two task switches per message.
pub struct BareSlot;

/// What a [`BareSlot`]'s handles share.
pub struct Slot {
    message: Cell<Option<u64>>,
    receiver: RefCell<Option<Waker>>,
    receiver_waits: Cell<bool>,
    /// The receiver handed the slot to a waiting sender and has not yielded
    /// since.
    handed_over: Cell<bool>,
    senders_waiting: RefCell<VecDeque<Waker>>,
    senders: Cell<usize>,
}

impl Slot {
    fn wake_receiver(&self) {
        if self.receiver_waits.replace(false)
            && let Some(waker) = &*self.receiver.borrow()
        {
            waker.wake_by_ref();
        }
    }
}

/// A [`BareSlot`] sender: the last one's drop ends the stream.
pub struct BareSender(Rc<Slot>);

impl Clone for BareSender {
    fn clone(&self) -> Self {
        self.0.senders.set(self.0.senders.get() + 1);
        Self(self.0.clone())
    }
}

impl Drop for BareSender {
    fn drop(&mut self) {
        self.0.senders.set(self.0.senders.get() - 1);
        if self.0.senders.get() == 0 {
            self.0.wake_receiver();
        }
    }
}

impl BenchLocalMpsc for BareSlot {
    type Tx = BareSender;
    type Rx = Rc<Slot>;
    fn create(cap: Option<usize>) -> (BareSender, Rc<Slot>) {
        assert_eq!(cap, Some(1), "the floor is a one-slot channel");
        let slot = Rc::new(Slot {
            message: Cell::new(None),
            receiver: RefCell::new(None),
            receiver_waits: Cell::new(false),
            handed_over: Cell::new(false),
            senders_waiting: RefCell::new(VecDeque::new()),
            senders: Cell::new(1),
        });
        (BareSender(slot.clone()), slot)
    }
    fn send(tx: &BareSender, value: u64) -> impl Future<Output = ()> {
        let mut value = Some(value);
        poll_fn(move |cx| {
            let slot = &tx.0;
            match slot.message.take() {
                None => {
                    slot.message.set(value.take());
                    slot.wake_receiver();
                    Poll::Ready(())
                }
                taken => {
                    slot.message.set(taken);
                    slot.senders_waiting
                        .borrow_mut()
                        .push_back(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }
    fn recv(rx: &mut Rc<Slot>) -> impl Future<Output = Option<u64>> {
        poll_fn(|cx| {
            if let Some(message) = rx.message.take() {
                let next = rx.senders_waiting.borrow_mut().pop_front();
                if let Some(waker) = next {
                    waker.wake();
                    rx.handed_over.set(true);
                }
                return Poll::Ready(Some(message));
            }
            if rx.senders.get() == 0 {
                return Poll::Ready(None);
            }
            if rx.handed_over.replace(false) {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let mut receiver = rx.receiver.borrow_mut();
            if !receiver.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *receiver = Some(cx.waker().clone());
            }
            rx.receiver_waits.set(true);
            Poll::Pending
        })
    }
}

/// Runs one mpsc scenario once on `C`.
pub fn run_mpsc<C: BenchMpsc>(scenario: Scenario, sizes: &Sizes) -> Sample {
    let Scenario::Mpsc(producers, cap, placement) = scenario else {
        unreachable!("an mpsc implementation is only registered for mpsc scenarios")
    };
    let n = scenario.messages(sizes);
    let per = n / producers;
    let allocs_before = alloc::allocations();
    let (tx, mut rx) = C::create(cap);
    let produce = move |tx: C::Tx| {
        (0..producers).map(move |id| {
            let tx = tx.clone();
            async move {
                for seq in 0..per as u64 {
                    C::send(&tx, (id as u64) << 32 | seq).await;
                }
            }
        })
    };
    let consume = move || async move {
        let mut next = vec![0u64; producers];
        let mut got = 0usize;
        while let Some(message) = C::recv(&mut rx).await {
            let (id, seq) = ((message >> 32) as usize, message & 0xffff_ffff);
            assert_eq!(
                seq, next[id],
                "S11: message out of order, lost or duplicated"
            );
            next[id] += 1;
            got += 1;
        }
        got
    };
    let (elapsed, got) = match placement {
        Placement::TwoRuntimes => runtimes_timed(
            vec![move || async move {
                let tasks = produce(tx).map(compio::runtime::spawn).collect();
                join_all(tasks).await;
            }],
            consume,
        ),
        Placement::RuntimePerProducer => {
            let senders = (0..producers)
                .map(|id| {
                    let tx = tx.clone();
                    move || async move {
                        for seq in 0..per as u64 {
                            C::send(&tx, (id as u64) << 32 | seq).await;
                        }
                    }
                })
                .collect();
            drop(tx);
            runtimes_timed(senders, consume)
        }
        Placement::OneRuntime => runtime().block_on(async move {
            let start = Instant::now();
            let consumer = compio::runtime::spawn(consume());
            let tasks = produce(tx).map(compio::runtime::spawn).collect();
            join_all(tasks).await;
            let got = join_all(vec![consumer]).await.pop().expect("one task");
            (start.elapsed(), got)
        }),
    };
    assert_eq!(
        got,
        per * producers,
        "S11: wrong number of messages received"
    );
    let allocs = alloc::allocations() - allocs_before;
    Sample {
        allocs_per_op: Some(allocs as f64 / got as f64),
        ..Sample::timed(elapsed, got)
    }
}

/// Runs one single-thread mpsc scenario once on `C` (every task on one
/// runtime).
pub fn run_local_mpsc<C: BenchLocalMpsc>(scenario: Scenario, sizes: &Sizes) -> Sample {
    let Scenario::LocalMpsc(producers, cap) = scenario else {
        unreachable!("a single-thread channel is only registered for its scenarios")
    };
    let n = scenario.messages(sizes);
    let per = n / producers;
    let allocs_before = alloc::allocations();
    let (elapsed, got) = runtime().block_on(async move {
        let (tx, mut rx) = C::create(cap);
        let start = Instant::now();
        let consumer = compio::runtime::spawn(async move {
            let mut next = vec![0u64; producers];
            let mut got = 0usize;
            while let Some(message) = C::recv(&mut rx).await {
                let (id, seq) = ((message >> 32) as usize, message & 0xffff_ffff);
                assert_eq!(
                    seq, next[id],
                    "S11: message out of order, lost or duplicated"
                );
                next[id] += 1;
                got += 1;
            }
            got
        });
        let tasks = (0..producers)
            .map(|id| {
                let tx = tx.clone();
                compio::runtime::spawn(async move {
                    for seq in 0..per as u64 {
                        C::send(&tx, (id as u64) << 32 | seq).await;
                    }
                })
            })
            .collect();
        drop(tx);
        join_all(tasks).await;
        let got = join_all(vec![consumer]).await.pop().expect("one task");
        (start.elapsed(), got)
    });
    assert_eq!(
        got,
        per * producers,
        "S11: wrong number of messages received"
    );
    let allocs = alloc::allocations() - allocs_before;
    Sample {
        allocs_per_op: Some(allocs as f64 / got as f64),
        ..Sample::timed(elapsed, got)
    }
}

/// Runs each of `produce` and `consume` on a runtime of its own, all timed
/// from a start barrier they pass together (so that starting the runtimes
/// is not counted): the span from the earliest start to the latest end, and
/// what `consume` returns.
fn runtimes_timed<P, C, PF, CF>(produce: Vec<P>, consume: C) -> (std::time::Duration, usize)
where
    P: FnOnce() -> PF + Send + 'static,
    PF: Future<Output = ()> + 'static,
    C: FnOnce() -> CF + Send + 'static,
    CF: Future<Output = usize> + 'static,
{
    let barrier = Arc::new(Barrier::new(produce.len() + 1));
    let producers: Vec<_> = produce
        .into_iter()
        .map(|produce| {
            let barrier = barrier.clone();
            spawn_runtime_thread(move || async move {
                barrier.wait();
                let start = Instant::now();
                produce().await;
                (start, Instant::now())
            })
        })
        .collect();
    let consumer = spawn_runtime_thread(move || async move {
        barrier.wait();
        let start = Instant::now();
        let got = consume().await;
        (start, Instant::now(), got)
    });
    let mut span = Span::default();
    for producer in producers {
        let (start, end) = join_thread(producer);
        span.add(start, end);
    }
    let (start, end, got) = join_thread(consumer);
    span.add(start, end);
    (span.elapsed(), got)
}

/// Runs one oneshot scenario once on `C`.
pub fn run_oneshot<C: BenchOneshot>(scenario: Scenario, sizes: &Sizes) -> Sample {
    let Scenario::Oneshot(placement) = scenario else {
        unreachable!("a oneshot implementation is only registered for oneshot scenarios")
    };
    let n = scenario.messages(sizes);
    let allocs_before = alloc::allocations();
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..n).map(|_| C::create()).unzip();
    let send_all = move || {
        for (i, tx) in txs.into_iter().enumerate() {
            C::send(tx, i as u64);
        }
    };
    let recv_all = move || async move {
        let mut got = 0usize;
        for (i, rx) in rxs.into_iter().enumerate() {
            assert_eq!(C::recv(rx).await, i as u64, "S11 oneshot: wrong value");
            got += 1;
        }
        got
    };
    let (elapsed, got) = match placement {
        Placement::TwoRuntimes | Placement::RuntimePerProducer => {
            runtimes_timed(vec![move || async move { send_all() }], recv_all)
        }
        Placement::OneRuntime => runtime().block_on(async move {
            let start = Instant::now();
            let consumer = compio::runtime::spawn(recv_all());
            compio::runtime::spawn(async move { send_all() }).await.ok();
            let got = join_all(vec![consumer]).await.pop().expect("one task");
            (start.elapsed(), got)
        }),
    };
    assert_eq!(got, n, "S11 oneshot: wrong number of values received");
    let allocs = alloc::allocations() - allocs_before;
    Sample {
        allocs_per_op: Some(allocs as f64 / n as f64),
        ..Sample::timed(elapsed, n)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const TINY: Sizes = Sizes {
        cross_messages: 400,
        local_messages: 400,
        oneshots: 100,
    };

    /// A channel that drops every other message: the order check catches
    /// it.
    struct Lossy;

    impl BenchMpsc for Lossy {
        type Tx = compio_sync::mpsc::UnboundedSender<u64>;
        type Rx = compio_sync::mpsc::UnboundedReceiver<u64>;
        fn create(_: Option<usize>) -> (Self::Tx, Self::Rx) {
            compio_sync::mpsc::unbounded_channel()
        }
        async fn send(tx: &Self::Tx, value: u64) {
            if value.is_multiple_of(2) {
                tx.send(value).unwrap();
            }
        }
        async fn recv(rx: &mut Self::Rx) -> Option<u64> {
            rx.recv().await
        }
    }

    #[test]
    #[should_panic = "S11"]
    fn a_channel_that_loses_messages_fails() {
        run_mpsc::<Lossy>(Scenario::Mpsc(1, None, Placement::OneRuntime), &TINY);
    }
}
