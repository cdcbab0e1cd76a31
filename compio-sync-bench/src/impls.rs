//! The implementations under test and the traits the scenarios drive them
//! through, one trait per primitive family: [`BenchSemaphore`] (S1-S4, S7),
//! [`BenchNotify`] (S5, S5b), [`BenchMutex`] (S6) and [`BenchCondvar`] (S8).
//!
//! To add a backend of this crate, add its type to the `ours!` list in
//! [`registry`]: that registers its Semaphore and Mutex under both fairness
//! policies, and its Notify and Condvar. To add a peer, implement the family's
//! trait for it and add one entry line.

use std::{
    collections::VecDeque,
    future::Future,
    ops::DerefMut,
    sync::atomic::{AtomicBool, Ordering::SeqCst},
};

#[cfg(target_os = "linux")]
use compio_sync::backend::IoUringFutex;
use compio_sync::backend::{Intrusive, MutexVecDeque, ParkingLotHybrid, SegQueue, WaitQueue};
use compio_sync::{Condvar, Mutex, Notify, Semaphore};

use crate::{
    condvar_queue, mutex_counter, ping_pong,
    scenarios::{self, Sample, Scenario, Sizes},
};

/// What a benchmarked semaphore must offer: build with `permits`, take one
/// permit without waiting, take one permit asynchronously. A permit (the
/// returned value) gives its permit back when dropped.
pub trait BenchSemaphore: Send + Sync + 'static {
    /// A semaphore holding `permits` permits.
    fn with_permits(permits: usize) -> Self;
    /// One permit if one is free now.
    fn try_acq(&self) -> Option<impl Sized + '_>;
    /// Waits for one permit. Panics if the semaphore was closed.
    fn acq(&self) -> impl Future<Output = impl Sized + '_> + '_;
}

/// `compio_sync::Semaphore` on backend `B`; `STRICT_FIFO` selects
/// `.strict_fifo()` instead of the default (barging with a starvation bound).
pub struct Ours<B: WaitQueue, const STRICT_FIFO: bool>(Semaphore<B>);

impl<B: WaitQueue, const STRICT_FIFO: bool> BenchSemaphore for Ours<B, STRICT_FIFO> {
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

/// What a benchmarked notification must offer: tokio's `Notify` contract
/// for one waiter. `notify` wakes the waiter, or, if none waits, stores one
/// notification that the next `wait` consumes; `wait` completes only after a
/// `notify` (no spurious completion, no lost notification).
pub trait BenchNotify: Send + Sync + 'static {
    /// A fresh notifier, with no stored notification.
    fn create() -> Self;
    /// Wakes the waiter, or stores one notification.
    fn notify(&self);
    /// Waits for (or consumes a stored) notification.
    fn wait(&self) -> impl Future<Output = ()> + '_;
}

/// `compio_sync::Notify` on backend `B`.
pub struct OursNotify<B: WaitQueue>(Notify<B>);

impl<B: WaitQueue> BenchNotify for OursNotify<B> {
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

/// What a benchmarked async mutex must offer, around a `u64` counter.
pub trait BenchMutex: Send + Sync + 'static {
    /// An unlocked mutex holding 0.
    fn create() -> Self;
    /// Locks, waiting if needed.
    fn lock(&self) -> impl Future<Output = impl DerefMut<Target = u64> + '_> + '_;
    /// The value, if the mutex is free now.
    fn try_value(&self) -> Option<u64>;
}

/// `compio_sync::Mutex` on backend `B`; `STRICT_FIFO` selects
/// `.strict_fifo()` instead of the default (barging with a starvation bound).
pub struct OursMutex<B: WaitQueue, const STRICT_FIFO: bool>(Mutex<u64, B>);

impl<B: WaitQueue, const STRICT_FIFO: bool> BenchMutex for OursMutex<B, STRICT_FIFO> {
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

/// What S8 needs: an unbounded FIFO queue of `u64` behind an async mutex,
/// whose consumer sleeps while the queue is empty and then takes everything
/// queued.
pub trait BenchCondvar: Send + Sync + 'static {
    /// An empty queue.
    fn create() -> Self;
    /// Appends `item` (under the lock) and wakes one waiting consumer.
    fn push(&self, item: u64) -> impl Future<Output = ()> + '_;
    /// Waits while the queue is empty, then moves every queued item, oldest
    /// first, to the end of `out` (under one lock).
    fn pop_all(&self, out: &mut Vec<u64>) -> impl Future<Output = ()>;
    /// The number of queued items, if the mutex is free now.
    fn try_len(&self) -> Option<usize>;
}

/// `compio_sync::Mutex<VecDeque>` + `compio_sync::Condvar`, both on backend
/// `B`, default fairness policy: `notify_one` after each push,
/// `wait_while(guard, |q| q.is_empty())`, then drain, on the consumer side.
pub struct OursCondvar<B: WaitQueue> {
    queue: Mutex<VecDeque<u64>, B>,
    items: Condvar<B>,
}

impl<B: WaitQueue> BenchCondvar for OursCondvar<B> {
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

/// The primitive a scenario exercises; each has its own implementations and
/// its own ratio baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// S1-S4, S7.
    Semaphore,
    /// S5, S5b.
    Notify,
    /// S6.
    Mutex,
    /// S8.
    Condvar,
}

/// One registered implementation: a display name and the scenario runner
/// monomorphised for it.
pub struct Impl {
    /// Display name, unique within its family.
    pub name: &'static str,
    /// Whether this is one of compio-sync's own primitives.
    pub ours: bool,
    /// Which scenarios it runs.
    pub family: Family,
    /// Runs one scenario (of its family) once and returns its measurement.
    pub run: fn(Scenario, &Sizes) -> Sample,
}

/// Registers semaphore `S` under `name`.
pub fn entry<S: BenchSemaphore>(name: &'static str, ours: bool) -> Impl {
    Impl {
        name,
        ours,
        family: Family::Semaphore,
        run: scenarios::run::<S>,
    }
}

/// Registers notifier `N` under `name`.
pub fn notify_entry<N: BenchNotify>(name: &'static str, ours: bool) -> Impl {
    Impl {
        name,
        ours,
        family: Family::Notify,
        run: ping_pong::run::<N>,
    }
}

/// Registers mutex `M` under `name`.
pub fn mutex_entry<M: BenchMutex>(name: &'static str, ours: bool) -> Impl {
    Impl {
        name,
        ours,
        family: Family::Mutex,
        run: mutex_counter::run::<M>,
    }
}

/// Registers condvar queue `C` under `name`.
pub fn condvar_entry<C: BenchCondvar>(name: &'static str, ours: bool) -> Impl {
    Impl {
        name,
        ours,
        family: Family::Condvar,
        run: condvar_queue::run::<C>,
    }
}

/// Registers each listed backend of this crate: its Semaphore and Mutex
/// under both policies (default and strict FIFO), its Notify and its Condvar.
macro_rules! ours {
    ($($backend:ident),* $(,)?) => {
        vec![$(
            entry::<Ours<$backend, false>>(concat!("compio-sync ", stringify!($backend)), true),
            entry::<Ours<$backend, true>>(concat!("compio-sync ", stringify!($backend), " fifo"), true),
            notify_entry::<OursNotify<$backend>>(concat!("compio-sync ", stringify!($backend)), true),
            mutex_entry::<OursMutex<$backend, false>>(concat!("compio-sync ", stringify!($backend)), true),
            mutex_entry::<OursMutex<$backend, true>>(concat!("compio-sync ", stringify!($backend), " fifo"), true),
            condvar_entry::<OursCondvar<$backend>>(concat!("compio-sync ", stringify!($backend)), true),
        )*]
    };
}

/// Name of the implementation every ratio is taken against, per family.
pub fn baseline(family: Family) -> &'static str {
    match family {
        Family::Semaphore | Family::Notify | Family::Mutex => "tokio",
        Family::Condvar => "tokio Mutex+Notify",
    }
}

/// Every implementation, ours first (in each family).
pub fn registry() -> Vec<Impl> {
    let mut impls = ours![MutexVecDeque, ParkingLotHybrid, SegQueue, Intrusive];
    #[cfg(target_os = "linux")]
    impls.extend(ours![IoUringFutex]);
    impls.extend([
        entry::<tokio::sync::Semaphore>(baseline(Family::Semaphore), false),
        entry::<async_lock::Semaphore>("async-lock", false),
        entry::<FuturesIntrusive<true>>("futures-intrusive fair", false),
        entry::<FuturesIntrusive<false>>("futures-intrusive unfair", false),
        entry::<maitake_sync::Semaphore>("maitake-sync", false),
        notify_entry::<tokio::sync::Notify>(baseline(Family::Notify), false),
        notify_entry::<EventListenerFlag>("event-listener Event+flag", false),
        notify_entry::<maitake_sync::WaitQueue>("maitake-sync WaitQueue", false),
        mutex_entry::<tokio::sync::Mutex<u64>>(baseline(Family::Mutex), false),
        mutex_entry::<async_lock::Mutex<u64>>("async-lock", false),
        mutex_entry::<FuturesIntrusiveMutex<true>>("futures-intrusive fair", false),
        mutex_entry::<FuturesIntrusiveMutex<false>>("futures-intrusive unfair", false),
        mutex_entry::<maitake_sync::Mutex<u64>>("maitake-sync", false),
        condvar_entry::<TokioMutexNotify>(baseline(Family::Condvar), false),
    ]);
    impls
}
