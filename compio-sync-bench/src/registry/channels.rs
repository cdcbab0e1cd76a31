//! The S11 part of the registry: compio-sync's `mpsc` and `oneshot`
//! against tokio, flume, async-channel and kanal (thread-safe), and the local
//! flavor against local-sync.

use compio_sync::backend::{Intrusive, ThreadSafe};

use crate::{
    harness::Role,
    registry::{TOKIO, entry},
    scenarios::{
        Entry,
        channels::{self, BenchLocalMpsc, BenchMpsc, BenchOneshot},
    },
};

/// One of two handle types: a channel's bounded or unbounded half, behind
/// one type for [`BenchMpsc`].
#[derive(Clone)]
pub enum Either<A, B> {
    /// The bounded channel's.
    Bounded(A),
    /// The unbounded channel's.
    Unbounded(B),
}

/// `compio_sync::mpsc` on backend `B`.
pub struct OursMpsc<B: ThreadSafe>(std::marker::PhantomData<B>);

impl<B: ThreadSafe> BenchMpsc for OursMpsc<B> {
    type Tx = Either<compio_sync::mpsc::Sender<u64, B>, compio_sync::mpsc::UnboundedSender<u64, B>>;
    type Rx =
        Either<compio_sync::mpsc::Receiver<u64, B>, compio_sync::mpsc::UnboundedReceiver<u64, B>>;
    fn create(cap: Option<usize>) -> (Self::Tx, Self::Rx) {
        match cap {
            Some(cap) => {
                let (tx, rx) = compio_sync::mpsc::channel_with_backend(cap);
                (Either::Bounded(tx), Either::Bounded(rx))
            }
            None => {
                let (tx, rx) = compio_sync::mpsc::unbounded_channel_with_backend();
                (Either::Unbounded(tx), Either::Unbounded(rx))
            }
        }
    }
    async fn send(tx: &Self::Tx, value: u64) {
        match tx {
            Either::Bounded(tx) => tx.send(value).await.expect("receiver gone"),
            Either::Unbounded(tx) => tx.send(value).expect("receiver gone"),
        }
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        match rx {
            Either::Bounded(rx) => rx.recv().await,
            Either::Unbounded(rx) => rx.recv().await,
        }
    }
}

/// `tokio::sync::mpsc`.
pub struct TokioMpsc;

impl BenchMpsc for TokioMpsc {
    type Tx = Either<tokio::sync::mpsc::Sender<u64>, tokio::sync::mpsc::UnboundedSender<u64>>;
    type Rx = Either<tokio::sync::mpsc::Receiver<u64>, tokio::sync::mpsc::UnboundedReceiver<u64>>;
    fn create(cap: Option<usize>) -> (Self::Tx, Self::Rx) {
        match cap {
            Some(cap) => {
                let (tx, rx) = tokio::sync::mpsc::channel(cap);
                (Either::Bounded(tx), Either::Bounded(rx))
            }
            None => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                (Either::Unbounded(tx), Either::Unbounded(rx))
            }
        }
    }
    async fn send(tx: &Self::Tx, value: u64) {
        match tx {
            Either::Bounded(tx) => tx.send(value).await.expect("receiver gone"),
            Either::Unbounded(tx) => tx.send(value).expect("receiver gone"),
        }
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        match rx {
            Either::Bounded(rx) => rx.recv().await,
            Either::Unbounded(rx) => rx.recv().await,
        }
    }
}

impl BenchMpsc for flume::Sender<u64> {
    type Tx = flume::Sender<u64>;
    type Rx = flume::Receiver<u64>;
    fn create(cap: Option<usize>) -> (Self::Tx, Self::Rx) {
        cap.map_or_else(flume::unbounded, flume::bounded)
    }
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send_async(value).await.expect("receiver gone");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv_async().await.ok()
    }
}

impl BenchMpsc for async_channel::Sender<u64> {
    type Tx = async_channel::Sender<u64>;
    type Rx = async_channel::Receiver<u64>;
    fn create(cap: Option<usize>) -> (Self::Tx, Self::Rx) {
        cap.map_or_else(async_channel::unbounded, async_channel::bounded)
    }
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).await.expect("receiver gone");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await.ok()
    }
}

impl BenchMpsc for kanal::AsyncSender<u64> {
    type Tx = kanal::AsyncSender<u64>;
    type Rx = kanal::AsyncReceiver<u64>;
    fn create(cap: Option<usize>) -> (Self::Tx, Self::Rx) {
        cap.map_or_else(kanal::unbounded_async, kanal::bounded_async)
    }
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).await.expect("receiver gone");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await.ok()
    }
}

/// `compio_sync::local::mpsc` (single thread).
pub struct OursLocalMpsc;

impl BenchLocalMpsc for OursLocalMpsc {
    type Tx = Either<
        compio_sync::local::mpsc::Sender<u64>,
        compio_sync::local::mpsc::UnboundedSender<u64>,
    >;
    type Rx = Either<
        compio_sync::local::mpsc::Receiver<u64>,
        compio_sync::local::mpsc::UnboundedReceiver<u64>,
    >;
    fn create(cap: Option<usize>) -> (Self::Tx, Self::Rx) {
        match cap {
            Some(cap) => {
                let (tx, rx) = compio_sync::local::mpsc::channel(cap);
                (Either::Bounded(tx), Either::Bounded(rx))
            }
            None => {
                let (tx, rx) = compio_sync::local::mpsc::unbounded_channel();
                (Either::Unbounded(tx), Either::Unbounded(rx))
            }
        }
    }
    async fn send(tx: &Self::Tx, value: u64) {
        match tx {
            Either::Bounded(tx) => tx.send(value).await.expect("receiver gone"),
            Either::Unbounded(tx) => tx.send(value).expect("receiver gone"),
        }
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        match rx {
            Either::Bounded(rx) => rx.recv().await,
            Either::Unbounded(rx) => rx.recv().await,
        }
    }
}

/// `local_sync::mpsc` (single thread).
pub struct LocalSyncMpsc;

impl BenchLocalMpsc for LocalSyncMpsc {
    type Tx = Either<local_sync::mpsc::bounded::Tx<u64>, local_sync::mpsc::unbounded::Tx<u64>>;
    type Rx = Either<local_sync::mpsc::bounded::Rx<u64>, local_sync::mpsc::unbounded::Rx<u64>>;
    fn create(cap: Option<usize>) -> (Self::Tx, Self::Rx) {
        match cap {
            Some(cap) => {
                let (tx, rx) = local_sync::mpsc::bounded::channel(cap);
                (Either::Bounded(tx), Either::Bounded(rx))
            }
            None => {
                let (tx, rx) = local_sync::mpsc::unbounded::channel();
                (Either::Unbounded(tx), Either::Unbounded(rx))
            }
        }
    }
    async fn send(tx: &Self::Tx, value: u64) {
        match tx {
            Either::Bounded(tx) => tx.send(value).await.expect("receiver gone"),
            Either::Unbounded(tx) => tx.send(value).expect("receiver gone"),
        }
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        match rx {
            Either::Bounded(rx) => rx.recv().await,
            Either::Unbounded(rx) => rx.recv().await,
        }
    }
}

/// The name of the single-thread mpsc rows' baseline.
pub const LOCAL_SYNC: &str = "local-sync";

/// Every single-thread mpsc implementation (S11 local), with the
/// thread-safe compio-sync and tokio rows for reference.
pub(super) fn local_mpscs() -> Vec<Entry<channels::Scenario>> {
    vec![
        entry(
            "compio-sync local",
            Role::Ours,
            channels::run_local_mpsc::<OursLocalMpsc>,
        ),
        entry(
            LOCAL_SYNC,
            Role::Peer,
            channels::run_local_mpsc::<LocalSyncMpsc>,
        ),
        entry(
            "compio-sync Intrusive",
            Role::Ours,
            channels::run_local_mpsc::<OursMpsc<Intrusive>>,
        ),
        entry(TOKIO, Role::Peer, channels::run_local_mpsc::<TokioMpsc>),
    ]
}

/// `compio_sync::oneshot`.
pub struct OursOneshot;

impl BenchOneshot for OursOneshot {
    type Tx = compio_sync::oneshot::Sender<u64>;
    type Rx = compio_sync::oneshot::Receiver<u64>;
    fn create() -> (Self::Tx, Self::Rx) {
        compio_sync::oneshot::channel()
    }
    fn send(tx: Self::Tx, value: u64) {
        tx.send(value).expect("receiver gone");
    }
    async fn recv(rx: Self::Rx) -> u64 {
        rx.await.expect("sender gone")
    }
}

/// `tokio::sync::oneshot`.
pub struct TokioOneshot;

impl BenchOneshot for TokioOneshot {
    type Tx = tokio::sync::oneshot::Sender<u64>;
    type Rx = tokio::sync::oneshot::Receiver<u64>;
    fn create() -> (Self::Tx, Self::Rx) {
        tokio::sync::oneshot::channel()
    }
    fn send(tx: Self::Tx, value: u64) {
        tx.send(value).expect("receiver gone");
    }
    async fn recv(rx: Self::Rx) -> u64 {
        rx.await.expect("sender gone")
    }
}

/// Every mpsc implementation (S11), compio-sync's (default backend) first.
pub(super) fn mpscs() -> Vec<Entry<channels::Scenario>> {
    vec![
        entry(
            "compio-sync Intrusive",
            Role::Ours,
            channels::run_mpsc::<OursMpsc<Intrusive>>,
        ),
        entry(TOKIO, Role::Peer, channels::run_mpsc::<TokioMpsc>),
        entry(
            "flume",
            Role::Peer,
            channels::run_mpsc::<flume::Sender<u64>>,
        ),
        entry(
            "async-channel",
            Role::Peer,
            channels::run_mpsc::<async_channel::Sender<u64>>,
        ),
        entry(
            "kanal",
            Role::Peer,
            channels::run_mpsc::<kanal::AsyncSender<u64>>,
        ),
    ]
}

/// Every oneshot implementation (S11).
pub(super) fn oneshots() -> Vec<Entry<channels::Scenario>> {
    vec![
        entry(
            "compio-sync Intrusive",
            Role::Ours,
            channels::run_oneshot::<OursOneshot>,
        ),
        entry(TOKIO, Role::Peer, channels::run_oneshot::<TokioOneshot>),
    ]
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    /// How many sends a capacity-1 channel of `C` completes at once while
    /// its receiver waits in `recv` (spawned, run until it waits, not run
    /// again before the sends).
    fn sends_accepted_while_the_receiver_waits<C: BenchMpsc>() -> usize {
        crate::harness::rt::runtime().block_on(async {
            let (tx, mut rx) = C::create(Some(1));
            let receiver = compio::runtime::spawn(async move {
                let mut got = 0;
                while C::recv(&mut rx).await.is_some() {
                    got += 1;
                }
                got
            });
            // The receiver runs until it waits on the empty channel.
            crate::harness::rt::yield_now().await;
            let mut accepted = 0;
            while accepted < 4 && C::send(&tx, accepted as u64).now_or_never().is_some() {
                accepted += 1;
            }
            drop(tx);
            // No message lost: the receiver gets every accepted one.
            assert_eq!(receiver.await.unwrap(), accepted);
            accepted
        })
    }

    /// kanal hands a message straight to a waiting receiver without using a
    /// slot, so its capacity-1 channel holds two messages while the receiver
    /// has not run: in the S11 capacity-1 rows it waits about half as often
    /// as a channel with tokio's semantics. tokio, flume, async-channel and
    /// compio-sync hold one. (Pins the peers' behaviour the report's S11
    /// notes rely on.)
    #[test]
    fn only_kanal_holds_more_than_its_capacity_while_the_receiver_waits() {
        assert_eq!(
            sends_accepted_while_the_receiver_waits::<OursMpsc<Intrusive>>(),
            1
        );
        assert_eq!(sends_accepted_while_the_receiver_waits::<TokioMpsc>(), 1);
        assert_eq!(
            sends_accepted_while_the_receiver_waits::<flume::Sender<u64>>(),
            1
        );
        assert_eq!(
            sends_accepted_while_the_receiver_waits::<async_channel::Sender<u64>>(),
            1
        );
        assert_eq!(
            sends_accepted_while_the_receiver_waits::<kanal::AsyncSender<u64>>(),
            2
        );
    }
}
