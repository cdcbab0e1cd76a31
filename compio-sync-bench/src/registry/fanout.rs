//! The S12 part of the registry: compio-sync's `watch` and `broadcast`
//! (thread-safe and local) against tokio's and async-broadcast.

use compio_sync::backend::{Intrusive, ParkingLotHybrid, ThreadSafe};

use crate::{
    harness::Role,
    registry::{TOKIO, entry},
    scenarios::{
        Entry,
        fanout::{self, BenchFanout},
    },
};

/// `compio_sync::watch` on backend `B`.
pub struct OursWatch<B: ThreadSafe>(compio_sync::watch::Sender<u64, B>);

impl<B: ThreadSafe> BenchFanout for OursWatch<B> {
    type Rx = compio_sync::watch::Receiver<u64, B>;
    const KIND: fanout::Kind = fanout::Kind::Watch;
    fn create(_: usize) -> (Self, Self::Rx) {
        let (tx, rx) = compio_sync::watch::channel_with_backend(0);
        (Self(tx), rx)
    }
    fn send(&self, value: u64) {
        self.0.send(value).expect("receivers");
    }
    fn subscribe(&self) -> Self::Rx {
        self.0.subscribe()
    }
    async fn next(rx: &mut Self::Rx) -> Option<u64> {
        rx.changed().await.ok()?;
        Some(*rx.borrow_and_update())
    }
}

impl BenchFanout for tokio::sync::watch::Sender<u64> {
    type Rx = tokio::sync::watch::Receiver<u64>;
    const KIND: fanout::Kind = fanout::Kind::Watch;
    fn create(_: usize) -> (Self, Self::Rx) {
        tokio::sync::watch::channel(0)
    }
    fn send(&self, value: u64) {
        tokio::sync::watch::Sender::send(self, value).expect("receivers");
    }
    fn subscribe(&self) -> Self::Rx {
        tokio::sync::watch::Sender::subscribe(self)
    }
    async fn next(rx: &mut Self::Rx) -> Option<u64> {
        rx.changed().await.ok()?;
        Some(*rx.borrow_and_update())
    }
}

/// `compio_sync::local::watch` (single-thread flavor).
pub struct LocalWatch(compio_sync::local::watch::Sender<u64>);

impl BenchFanout for LocalWatch {
    type Rx = compio_sync::local::watch::Receiver<u64>;
    const KIND: fanout::Kind = fanout::Kind::Watch;
    fn create(_: usize) -> (Self, Self::Rx) {
        let (tx, rx) = compio_sync::local::watch::channel(0);
        (Self(tx), rx)
    }
    fn send(&self, value: u64) {
        self.0.send(value).expect("receivers");
    }
    fn subscribe(&self) -> Self::Rx {
        self.0.subscribe()
    }
    async fn next(rx: &mut Self::Rx) -> Option<u64> {
        rx.changed().await.ok()?;
        Some(*rx.borrow_and_update())
    }
}

/// `compio_sync::local::broadcast` (single-thread flavor).
pub struct LocalBroadcast(compio_sync::local::broadcast::Sender<u64>);

impl BenchFanout for LocalBroadcast {
    type Rx = compio_sync::local::broadcast::Receiver<u64>;
    const KIND: fanout::Kind = fanout::Kind::Broadcast;
    fn create(capacity: usize) -> (Self, Self::Rx) {
        let (tx, rx) = compio_sync::local::broadcast::channel(capacity);
        (Self(tx), rx)
    }
    fn send(&self, value: u64) {
        self.0.send(value).expect("receivers");
    }
    fn subscribe(&self) -> Self::Rx {
        self.0.subscribe()
    }
    async fn next(rx: &mut Self::Rx) -> Option<u64> {
        match rx.recv().await {
            Ok(value) => Some(value),
            Err(compio_sync::broadcast::error::RecvError::Closed) => None,
            Err(lagged) => panic!("S12: {lagged}"),
        }
    }
}

/// `compio_sync::broadcast` on backend `B`.
pub struct OursBroadcast<B: ThreadSafe>(compio_sync::broadcast::Sender<u64, B>);

impl<B: ThreadSafe> BenchFanout for OursBroadcast<B> {
    type Rx = compio_sync::broadcast::Receiver<u64, B>;
    const KIND: fanout::Kind = fanout::Kind::Broadcast;
    fn create(capacity: usize) -> (Self, Self::Rx) {
        let (tx, rx) = compio_sync::broadcast::channel_with_backend(capacity);
        (Self(tx), rx)
    }
    fn send(&self, value: u64) {
        self.0.send(value).expect("receivers");
    }
    fn subscribe(&self) -> Self::Rx {
        self.0.subscribe()
    }
    async fn next(rx: &mut Self::Rx) -> Option<u64> {
        match rx.recv().await {
            Ok(value) => Some(value),
            Err(compio_sync::broadcast::error::RecvError::Closed) => None,
            Err(lagged) => panic!("S12: {lagged}"),
        }
    }
}

impl BenchFanout for tokio::sync::broadcast::Sender<u64> {
    type Rx = tokio::sync::broadcast::Receiver<u64>;
    const KIND: fanout::Kind = fanout::Kind::Broadcast;
    fn create(capacity: usize) -> (Self, Self::Rx) {
        tokio::sync::broadcast::channel(capacity)
    }
    fn send(&self, value: u64) {
        tokio::sync::broadcast::Sender::send(self, value).expect("receivers");
    }
    fn subscribe(&self) -> Self::Rx {
        tokio::sync::broadcast::Sender::subscribe(self)
    }
    async fn next(rx: &mut Self::Rx) -> Option<u64> {
        match rx.recv().await {
            Ok(value) => Some(value),
            Err(tokio::sync::broadcast::error::RecvError::Closed) => None,
            Err(lagged) => panic!("S12: {lagged}"),
        }
    }
}

impl BenchFanout for async_broadcast::Sender<u64> {
    type Rx = async_broadcast::Receiver<u64>;
    const KIND: fanout::Kind = fanout::Kind::Broadcast;
    fn create(capacity: usize) -> (Self, Self::Rx) {
        async_broadcast::broadcast(capacity)
    }
    fn send(&self, value: u64) {
        // The capacity holds a burst, and a round waits for every receiver:
        // the channel is never full here.
        self.try_broadcast(value)
            .expect("S12: async-broadcast full or closed");
    }
    fn subscribe(&self) -> Self::Rx {
        self.new_receiver()
    }
    async fn next(rx: &mut Self::Rx) -> Option<u64> {
        match rx.recv().await {
            Ok(value) => Some(value),
            Err(async_broadcast::RecvError::Closed) => None,
            Err(lagged) => panic!("S12: {lagged}"),
        }
    }
}

/// Every watch implementation (S12w), compio-sync's first.
pub(super) fn watches() -> Vec<Entry<fanout::Family<false>>> {
    vec![
        entry(
            "compio-sync Intrusive",
            Role::Ours,
            fanout::run::<OursWatch<Intrusive>, false>,
        ),
        entry(
            "compio-sync ParkingLotHybrid",
            Role::Ours,
            fanout::run::<OursWatch<ParkingLotHybrid>, false>,
        ),
        entry(
            TOKIO,
            Role::Peer,
            fanout::run::<tokio::sync::watch::Sender<u64>, false>,
        ),
    ]
}

/// Every broadcast implementation (S12b), compio-sync's first.
pub(super) fn broadcasts() -> Vec<Entry<fanout::Family<true>>> {
    vec![
        entry(
            "compio-sync Intrusive",
            Role::Ours,
            fanout::run::<OursBroadcast<Intrusive>, true>,
        ),
        entry(
            "compio-sync ParkingLotHybrid",
            Role::Ours,
            fanout::run::<OursBroadcast<ParkingLotHybrid>, true>,
        ),
        entry(
            TOKIO,
            Role::Peer,
            fanout::run::<tokio::sync::broadcast::Sender<u64>, true>,
        ),
        entry(
            "async-broadcast",
            Role::Peer,
            fanout::run::<async_broadcast::Sender<u64>, true>,
        ),
    ]
}

/// The single-runtime S12 rows: the local flavors, the thread-safe
/// channels on the default backend, and the peers.
pub(super) fn one_runtime_watches() -> Vec<Entry<fanout::OneRuntime<false>>> {
    vec![
        entry(
            "compio-sync local",
            Role::Ours,
            fanout::run_one_runtime::<LocalWatch, false>,
        ),
        entry(
            "compio-sync Intrusive",
            Role::Ours,
            fanout::run_one_runtime::<OursWatch<Intrusive>, false>,
        ),
        entry(
            TOKIO,
            Role::Peer,
            fanout::run_one_runtime::<tokio::sync::watch::Sender<u64>, false>,
        ),
    ]
}

/// As [`one_runtime_watches`], for broadcast.
pub(super) fn one_runtime_broadcasts() -> Vec<Entry<fanout::OneRuntime<true>>> {
    vec![
        entry(
            "compio-sync local",
            Role::Ours,
            fanout::run_one_runtime::<LocalBroadcast, true>,
        ),
        entry(
            "compio-sync Intrusive",
            Role::Ours,
            fanout::run_one_runtime::<OursBroadcast<Intrusive>, true>,
        ),
        entry(
            TOKIO,
            Role::Peer,
            fanout::run_one_runtime::<tokio::sync::broadcast::Sender<u64>, true>,
        ),
        entry(
            "async-broadcast",
            Role::Peer,
            fanout::run_one_runtime::<async_broadcast::Sender<u64>, true>,
        ),
    ]
}
