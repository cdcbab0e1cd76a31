//! Every implementation under test, per family: compio-sync's backends
//! under both fairness policies, and the peers (tokio, async-lock,
//! event-listener, futures-intrusive fair and unfair, maitake-sync). Here
//! each family's trait is implemented for them, the ratio baselines are
//! named, the quick and full sizes are set, and [`benches`] turns it all into
//! the list of [`Bench`]es the harness runs.
//!
//! To add a backend of compio-sync, add its type to the `ours!` lists in
//! [`benches`]: that registers its Semaphore and Mutex under both policies,
//! and its Notify and Condvar. To add a peer, implement the family's trait
//! for it and add one entry line.

use std::{
    collections::VecDeque,
    ops::DerefMut,
    sync::Arc,
    sync::atomic::{AtomicBool, Ordering::SeqCst},
};

#[cfg(target_os = "linux")]
use compio_sync::backend::IoUringFutex;
#[cfg(windows)]
use compio_sync::backend::Iocp;
use compio_sync::backend::{Intrusive, MutexVecDeque, ParkingLotHybrid, SegQueue, ThreadSafe};
use compio_sync::{Condvar, Mutex, Notify, Semaphore};

use crate::{
    harness::{Bench, Candidate, Role},
    scenarios::{
        Entry, Scenario,
        condvar::{self, BenchCondvar},
        fanout::{self, BenchFanout},
        mutex::{self, BenchMutex},
        notify::{self, BenchNotify},
        semaphore::{self, BenchSemaphore},
    },
};

/// `compio_sync::Semaphore` on backend `B`; `STRICT_FIFO` selects
/// `.strict_fifo()` instead of the default (barging with a starvation bound).
pub struct Ours<B: ThreadSafe, const STRICT_FIFO: bool>(Semaphore<B>);

impl<B: ThreadSafe, const STRICT_FIFO: bool> BenchSemaphore for Ours<B, STRICT_FIFO> {
    fn with_permits(permits: usize) -> Self {
        let sem = Semaphore::<B>::with_backend(permits);
        Self(if STRICT_FIFO { sem.strict_fifo() } else { sem })
    }
    fn try_acq(&self) -> Option<impl Sized + '_> {
        self.0.try_acquire().ok()
    }
    async fn acq(&self) -> impl Sized + '_ {
        self.0.acquire().await.expect("semaphore closed")
    }
}

impl BenchSemaphore for tokio::sync::Semaphore {
    fn with_permits(permits: usize) -> Self {
        Self::new(permits)
    }
    fn try_acq(&self) -> Option<impl Sized + '_> {
        self.try_acquire().ok()
    }
    async fn acq(&self) -> impl Sized + '_ {
        self.acquire().await.expect("semaphore closed")
    }
}

impl BenchSemaphore for async_lock::Semaphore {
    fn with_permits(permits: usize) -> Self {
        Self::new(permits)
    }
    fn try_acq(&self) -> Option<impl Sized + '_> {
        self.try_acquire()
    }
    async fn acq(&self) -> impl Sized + '_ {
        self.acquire().await
    }
}

impl BenchSemaphore for maitake_sync::Semaphore {
    fn with_permits(permits: usize) -> Self {
        Self::new(permits)
    }
    fn try_acq(&self) -> Option<impl Sized + '_> {
        self.try_acquire(1).ok()
    }
    async fn acq(&self) -> impl Sized + '_ {
        self.acquire(1).await.expect("semaphore closed")
    }
}

/// `futures_intrusive::sync::Semaphore` (the thread-safe one, on a
/// `parking_lot` mutex); `FAIR` is its `is_fair` constructor flag.
pub struct FuturesIntrusive<const FAIR: bool>(futures_intrusive::sync::Semaphore);

impl<const FAIR: bool> BenchSemaphore for FuturesIntrusive<FAIR> {
    fn with_permits(permits: usize) -> Self {
        Self(futures_intrusive::sync::Semaphore::new(FAIR, permits))
    }
    fn try_acq(&self) -> Option<impl Sized + '_> {
        self.0.try_acquire(1)
    }
    async fn acq(&self) -> impl Sized + '_ {
        self.0.acquire(1).await
    }
}

/// `compio_sync::Notify` on backend `B`.
pub struct OursNotify<B: ThreadSafe>(Notify<B>);

impl<B: ThreadSafe> BenchNotify for OursNotify<B> {
    fn create() -> Self {
        Self(Notify::<B>::with_backend())
    }
    fn notify(&self) {
        self.0.notify_one();
    }
    async fn wait(&self) {
        self.0.notified().await;
    }
}

impl BenchNotify for tokio::sync::Notify {
    fn create() -> Self {
        Self::new()
    }
    fn notify(&self) {
        self.notify_one();
    }
    async fn wait(&self) {
        self.notified().await;
    }
}

/// `maitake_sync::WaitQueue`: `wake()` stores one wakeup when nobody waits,
/// which is exactly `Notify::notify_one`.
impl BenchNotify for maitake_sync::WaitQueue {
    fn create() -> Self {
        Self::new()
    }
    fn notify(&self) {
        self.wake();
    }
    async fn wait(&self) {
        maitake_sync::WaitQueue::wait(self)
            .await
            .expect("wait queue closed");
    }
}

/// `event_listener::Event` has no stored notification, so the notification
/// is an atomic flag and the event only wakes: the crate's documented
/// listen-then-check pattern. `notify` sets the flag (SeqCst), then notifies;
/// `wait` takes the flag, else creates a listener and takes the flag again
/// before sleeping. Either the second check sees the flag or the listener
/// was registered before `notify` looked for listeners (both sides are
/// SeqCst / fenced), so no wakeup is lost; `swap(false)` consumes the
/// notification exactly once.
pub struct EventListenerFlag {
    event: event_listener::Event,
    flag: AtomicBool,
}

impl BenchNotify for EventListenerFlag {
    fn create() -> Self {
        Self {
            event: event_listener::Event::new(),
            flag: AtomicBool::new(false),
        }
    }
    fn notify(&self) {
        self.flag.store(true, SeqCst);
        self.event.notify(1);
    }
    async fn wait(&self) {
        loop {
            if self.flag.swap(false, SeqCst) {
                return;
            }
            let listener = self.event.listen();
            if self.flag.swap(false, SeqCst) {
                return;
            }
            listener.await;
        }
    }
}

/// `compio_sync::Mutex` on backend `B`; `STRICT_FIFO` selects
/// `.strict_fifo()` instead of the default (barging with a starvation bound).
pub struct OursMutex<B: ThreadSafe, const STRICT_FIFO: bool>(Mutex<u64, B>);

impl<B: ThreadSafe, const STRICT_FIFO: bool> BenchMutex for OursMutex<B, STRICT_FIFO> {
    fn create() -> Self {
        let mutex = Mutex::<u64, B>::with_backend(0);
        let mutex = if STRICT_FIFO {
            mutex.strict_fifo()
        } else {
            mutex
        };
        assert_eq!(mutex.is_strict_fifo(), STRICT_FIFO);
        Self(mutex)
    }
    async fn lock(&self) -> impl DerefMut<Target = u64> + '_ {
        self.0.lock().await
    }
    fn try_value(&self) -> Option<u64> {
        self.0.try_lock().ok().map(|g| *g)
    }
}

impl BenchMutex for tokio::sync::Mutex<u64> {
    fn create() -> Self {
        Self::new(0)
    }
    async fn lock(&self) -> impl DerefMut<Target = u64> + '_ {
        tokio::sync::Mutex::lock(self).await
    }
    fn try_value(&self) -> Option<u64> {
        self.try_lock().ok().map(|g| *g)
    }
}

impl BenchMutex for async_lock::Mutex<u64> {
    fn create() -> Self {
        Self::new(0)
    }
    async fn lock(&self) -> impl DerefMut<Target = u64> + '_ {
        async_lock::Mutex::lock(self).await
    }
    fn try_value(&self) -> Option<u64> {
        self.try_lock().map(|g| *g)
    }
}

impl BenchMutex for maitake_sync::Mutex<u64> {
    fn create() -> Self {
        Self::new(0)
    }
    async fn lock(&self) -> impl DerefMut<Target = u64> + '_ {
        maitake_sync::Mutex::lock(self).await
    }
    fn try_value(&self) -> Option<u64> {
        self.try_lock().map(|g| *g)
    }
}

/// `futures_intrusive::sync::Mutex` (on a `parking_lot` mutex); `FAIR` is its
/// `is_fair` constructor flag.
pub struct FuturesIntrusiveMutex<const FAIR: bool>(futures_intrusive::sync::Mutex<u64>);

impl<const FAIR: bool> BenchMutex for FuturesIntrusiveMutex<FAIR> {
    fn create() -> Self {
        Self(futures_intrusive::sync::Mutex::new(0, FAIR))
    }
    async fn lock(&self) -> impl DerefMut<Target = u64> + '_ {
        self.0.lock().await
    }
    fn try_value(&self) -> Option<u64> {
        self.0.try_lock().map(|g| *g)
    }
}

/// `compio_sync::Mutex<VecDeque>` + `compio_sync::Condvar`, both on backend
/// `B`, default fairness policy: `notify_one` after each push,
/// `wait_while(guard, |q| q.is_empty())`, then drain, on the consumer side.
pub struct OursCondvar<B: ThreadSafe> {
    queue: Mutex<VecDeque<u64>, B>,
    items: Condvar<B>,
}

impl<B: ThreadSafe> BenchCondvar for OursCondvar<B> {
    fn create() -> Self {
        Self {
            queue: Mutex::with_backend(VecDeque::new()),
            items: Condvar::with_backend(),
        }
    }
    async fn push(&self, item: u64) {
        self.queue.lock().await.push_back(item);
        self.items.notify_one();
    }
    async fn pop_all(&self, out: &mut Vec<u64>) {
        let guard = self.queue.lock().await;
        let mut guard = self.items.wait_while(guard, |q| q.is_empty()).await;
        out.extend(guard.drain(..));
    }
    fn try_len(&self) -> Option<usize> {
        self.queue.try_lock().ok().map(|q| q.len())
    }
}

/// The tokio reference for S8 (tokio has no condition variable):
/// `tokio::sync::Mutex<VecDeque>` + `tokio::sync::Notify`. The consumer
/// drains the queue under the lock and, if it was empty, unlocks and awaits
/// `notified()`; a push that lands in between leaves `notify_one`'s stored
/// permit, so no wakeup is lost.
pub struct TokioMutexNotify {
    queue: tokio::sync::Mutex<VecDeque<u64>>,
    items: tokio::sync::Notify,
}

impl BenchCondvar for TokioMutexNotify {
    fn create() -> Self {
        Self {
            queue: tokio::sync::Mutex::new(VecDeque::new()),
            items: tokio::sync::Notify::new(),
        }
    }
    async fn push(&self, item: u64) {
        self.queue.lock().await.push_back(item);
        self.items.notify_one();
    }
    async fn pop_all(&self, out: &mut Vec<u64>) {
        loop {
            {
                let mut queue = self.queue.lock().await;
                if !queue.is_empty() {
                    out.extend(queue.drain(..));
                    return;
                }
            }
            self.items.notified().await;
        }
    }
    fn try_len(&self) -> Option<usize> {
        self.queue.try_lock().ok().map(|q| q.len())
    }
}

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

/// The quick and full sizes of every family.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// S1-S4, S7.
    pub semaphore: semaphore::Sizes,
    /// S5, S5b.
    pub notify: notify::Sizes,
    /// S6.
    pub mutex: mutex::Sizes,
    /// S8.
    pub condvar: condvar::Sizes,
    /// S12.
    pub fanout: fanout::Sizes,
}

impl Sizes {
    /// `--quick`: about a minute for the whole run on two cores.
    pub const QUICK: Self = Self {
        semaphore: semaphore::Sizes {
            uncontended_iters: 1_000_000,
            s3_iters_per_task: 1_000,
            s4_ops: 32_000,
            s7_iters_per_task: 100,
        },
        notify: notify::Sizes {
            s5_round_trips: 2_000,
            s5b_round_trips: 20_000,
        },
        mutex: mutex::Sizes { s6_ops: 16_000 },
        condvar: condvar::Sizes { s8_items: 30_000 },
        fanout: fanout::Sizes {
            lockstep_rounds: 300,
            burst_rounds: 40,
            burst: 64,
            one_runtime_rounds: 2_000,
        },
    };

    /// The full run.
    pub const FULL: Self = Self {
        semaphore: semaphore::Sizes {
            uncontended_iters: 3_000_000,
            s3_iters_per_task: 4_000,
            s4_ops: 96_000,
            s7_iters_per_task: 300,
        },
        notify: notify::Sizes {
            s5_round_trips: 3_000,
            s5b_round_trips: 100_000,
        },
        mutex: mutex::Sizes { s6_ops: 64_000 },
        condvar: condvar::Sizes { s8_items: 150_000 },
        fanout: fanout::Sizes {
            lockstep_rounds: 1_000,
            burst_rounds: 200,
            burst: 64,
            one_runtime_rounds: 10_000,
        },
    };
}

/// The baseline of the Semaphore, Notify and Mutex scenarios.
pub const TOKIO: &str = "tokio";
/// The baseline of S8 (tokio has no condition variable).
pub const TOKIO_MUTEX_NOTIFY: &str = "tokio Mutex+Notify";
/// The name of the floor rows.
pub const FLOOR: &str = "floor: no synchronization";

/// The display name of compio-sync's rows on the default backend
/// (`compio_sync::backend::DefaultBackend`) under the default policy.
pub fn default_backend() -> String {
    let path = std::any::type_name::<compio_sync::backend::DefaultBackend>();
    format!("compio-sync {}", path.rsplit("::").next().unwrap_or(path))
}

fn entry<S: Scenario>(name: &'static str, role: Role, run: crate::scenarios::Run<S>) -> Entry<S> {
    Entry { name, role, run }
}

/// Registers each listed backend of compio-sync in the family module
/// `$family` through `$adapter`, the family's adapter type; with `both`,
/// under both fairness policies (`$adapter<B, STRICT_FIFO>`).
macro_rules! ours {
    (both, $family:ident, $adapter:ident, [$($backend:ident),* $(,)?]) => {
        vec![$(
            entry(
                concat!("compio-sync ", stringify!($backend)),
                Role::Ours,
                $family::run::<$adapter<$backend, false>>,
            ),
            entry(
                concat!("compio-sync ", stringify!($backend), " fifo"),
                Role::OursStrictFifo,
                $family::run::<$adapter<$backend, true>>,
            ),
        )*]
    };
    (one, $family:ident, $adapter:ident, [$($backend:ident),* $(,)?]) => {
        vec![$(entry(
            concat!("compio-sync ", stringify!($backend)),
            Role::Ours,
            $family::run::<$adapter<$backend>>,
        ),)*]
    };
}

/// Every Semaphore implementation, compio-sync's first.
fn semaphores() -> Vec<Entry<semaphore::Scenario>> {
    let mut all = ours!(
        both,
        semaphore,
        Ours,
        [MutexVecDeque, ParkingLotHybrid, SegQueue, Intrusive]
    );
    #[cfg(target_os = "linux")]
    all.extend(ours!(both, semaphore, Ours, [IoUringFutex]));
    #[cfg(windows)]
    all.extend(ours!(both, semaphore, Ours, [Iocp]));
    all.extend([
        entry(TOKIO, Role::Peer, semaphore::run::<tokio::sync::Semaphore>),
        entry(
            "async-lock",
            Role::Peer,
            semaphore::run::<async_lock::Semaphore>,
        ),
        entry(
            "futures-intrusive fair",
            Role::Peer,
            semaphore::run::<FuturesIntrusive<true>>,
        ),
        entry(
            "futures-intrusive unfair",
            Role::Peer,
            semaphore::run::<FuturesIntrusive<false>>,
        ),
        entry(
            "maitake-sync",
            Role::Peer,
            semaphore::run::<maitake_sync::Semaphore>,
        ),
    ]);
    all
}

/// Every Notify implementation, compio-sync's first.
fn notifies() -> Vec<Entry<notify::Scenario>> {
    let mut all = ours!(
        one,
        notify,
        OursNotify,
        [MutexVecDeque, ParkingLotHybrid, SegQueue, Intrusive]
    );
    #[cfg(target_os = "linux")]
    all.extend(ours!(one, notify, OursNotify, [IoUringFutex]));
    #[cfg(windows)]
    all.extend(ours!(one, notify, OursNotify, [Iocp]));
    all.extend([
        entry(TOKIO, Role::Peer, notify::run::<tokio::sync::Notify>),
        entry(
            "event-listener Event+flag",
            Role::Peer,
            notify::run::<EventListenerFlag>,
        ),
        entry(
            "maitake-sync WaitQueue",
            Role::Peer,
            notify::run::<maitake_sync::WaitQueue>,
        ),
    ]);
    all
}

/// Every Mutex implementation, compio-sync's first.
fn mutexes() -> Vec<Entry<mutex::Scenario>> {
    let mut all = ours!(
        both,
        mutex,
        OursMutex,
        [MutexVecDeque, ParkingLotHybrid, SegQueue, Intrusive]
    );
    #[cfg(target_os = "linux")]
    all.extend(ours!(both, mutex, OursMutex, [IoUringFutex]));
    #[cfg(windows)]
    all.extend(ours!(both, mutex, OursMutex, [Iocp]));
    all.extend([
        entry(TOKIO, Role::Peer, mutex::run::<tokio::sync::Mutex<u64>>),
        entry(
            "async-lock",
            Role::Peer,
            mutex::run::<async_lock::Mutex<u64>>,
        ),
        entry(
            "futures-intrusive fair",
            Role::Peer,
            mutex::run::<FuturesIntrusiveMutex<true>>,
        ),
        entry(
            "futures-intrusive unfair",
            Role::Peer,
            mutex::run::<FuturesIntrusiveMutex<false>>,
        ),
        entry(
            "maitake-sync",
            Role::Peer,
            mutex::run::<maitake_sync::Mutex<u64>>,
        ),
    ]);
    all
}

/// Every Condvar implementation, compio-sync's first.
fn condvars() -> Vec<Entry<condvar::Scenario>> {
    let mut all = ours!(
        one,
        condvar,
        OursCondvar,
        [MutexVecDeque, ParkingLotHybrid, SegQueue, Intrusive]
    );
    #[cfg(target_os = "linux")]
    all.extend(ours!(one, condvar, OursCondvar, [IoUringFutex]));
    #[cfg(windows)]
    all.extend(ours!(one, condvar, OursCondvar, [Iocp]));
    all.push(entry(
        TOKIO_MUTEX_NOTIFY,
        Role::Peer,
        condvar::run::<TokioMutexNotify>,
    ));
    all
}

/// Every watch implementation (S12w), compio-sync's first.
fn watches() -> Vec<Entry<fanout::Family<false>>> {
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
fn broadcasts() -> Vec<Entry<fanout::Family<true>>> {
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
fn one_runtime_watches() -> Vec<Entry<fanout::OneRuntime<false>>> {
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
fn one_runtime_broadcasts() -> Vec<Entry<fanout::OneRuntime<true>>> {
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

/// The benches of one family: one per scenario, with every entry and, where
/// the scenario has one, its floor (last).
fn family<S: Scenario>(
    scenarios: Vec<S>,
    sizes: S::Sizes,
    entries: &[Entry<S>],
    baseline: &'static str,
    ratio_label: &'static str,
) -> Vec<Bench> {
    scenarios
        .into_iter()
        .map(|scenario| {
            let candidate = |name, role, run: crate::scenarios::Run<S>| Candidate {
                name,
                role,
                run: Arc::new(move || run(scenario, &sizes)),
            };
            let mut candidates: Vec<Candidate> = entries
                .iter()
                .map(|e| candidate(e.name, e.role, e.run))
                .collect();
            if let Some(floor) = scenario.floor() {
                candidates.push(candidate(FLOOR, Role::Floor, floor));
            }
            Bench {
                case: scenario.case(&sizes),
                baseline,
                ratio_label,
                candidates,
            }
        })
        .collect()
}

/// Every scenario with every implementation, in report order.
pub fn benches(sizes: &Sizes) -> Vec<Bench> {
    let mut all = family(
        semaphore::Scenario::all(),
        sizes.semaphore,
        &semaphores(),
        TOKIO,
        "x tokio",
    );
    all.extend(family(
        notify::Scenario::all(),
        sizes.notify,
        &notifies(),
        TOKIO,
        "x tokio",
    ));
    all.extend(family(
        mutex::Scenario::all(),
        sizes.mutex,
        &mutexes(),
        TOKIO,
        "x tokio",
    ));
    all.extend(family(
        condvar::Scenario::all(),
        sizes.condvar,
        &condvars(),
        TOKIO_MUTEX_NOTIFY,
        "x tokio M+N",
    ));
    let fanout = fanout::Scenario::all(&sizes.fanout);
    all.extend(family(
        fanout.iter().map(|&s| fanout::Family::<false>(s)).collect(),
        sizes.fanout,
        &watches(),
        TOKIO,
        "x tokio",
    ));
    all.extend(family(
        fanout.into_iter().map(fanout::Family::<true>).collect(),
        sizes.fanout,
        &broadcasts(),
        TOKIO,
        "x tokio",
    ));
    all.extend(family(
        vec![fanout::OneRuntime::<false>],
        sizes.fanout,
        &one_runtime_watches(),
        TOKIO,
        "x tokio",
    ));
    all.extend(family(
        vec![fanout::OneRuntime::<true>],
        sizes.fanout,
        &one_runtime_broadcasts(),
        TOKIO,
        "x tokio",
    ));
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::{condvar, fanout, mutex, notify, semaphore};

    const TINY: Sizes = Sizes {
        semaphore: semaphore::tests::TINY,
        notify: notify::tests::TINY,
        mutex: mutex::tests::TINY,
        condvar: condvar::tests::TINY,
        fanout: fanout::tests::TINY,
    };

    /// Every registered implementation passes every scenario of its family,
    /// and every bench has its baseline.
    #[test]
    fn every_implementation_passes_every_scenario() {
        for bench in benches(&TINY) {
            assert!(
                bench.candidates.iter().any(|c| c.name == bench.baseline),
                "{}: no baseline",
                bench.case.id
            );
            for candidate in &bench.candidates {
                let sample = (candidate.run)();
                assert!(
                    sample.ns_per_op.is_finite(),
                    "{} {}",
                    candidate.name,
                    bench.case.id
                );
            }
        }
    }

    #[test]
    fn floors_are_in_s1_to_s3_only_and_the_default_backend_is_registered() {
        let benches = benches(&TINY);
        for bench in &benches {
            let floors = bench
                .candidates
                .iter()
                .filter(|c| c.role == Role::Floor)
                .count();
            let expected = usize::from(["S1", "S2", "S3"].contains(&bench.case.id.as_str()));
            assert_eq!(floors, expected, "{}", bench.case.id);
        }
        assert!(
            benches[0]
                .candidates
                .iter()
                .any(|c| c.name == default_backend())
        );
    }
}
