//! The adapters of the lock-and-notify families (S1-S9b): compio-sync's
//! primitives and the peers', each implementing its family's trait.

use std::{
    collections::VecDeque,
    ops::{Deref, DerefMut},
    sync::atomic::{AtomicBool, Ordering::SeqCst},
};

use compio_sync::{Barrier, Condvar, Mutex, Notify, RwLock, Semaphore, backend::ThreadSafe};

use crate::scenarios::{
    barrier::BenchBarrier,
    condvar::BenchCondvar,
    mutex::BenchMutex,
    notify::BenchNotify,
    rwlock::{BenchRwLock, Pair},
    semaphore::BenchSemaphore,
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

/// `compio_sync::Barrier` on backend `B`.
pub struct OursBarrier<B: ThreadSafe>(Barrier<B>);

impl<B: ThreadSafe> BenchBarrier for OursBarrier<B> {
    fn create(n: usize) -> Self {
        Self(Barrier::<B>::with_backend(n))
    }
    async fn wait(&self) -> bool {
        self.0.wait().await.is_leader()
    }
}

impl BenchBarrier for tokio::sync::Barrier {
    fn create(n: usize) -> Self {
        Self::new(n)
    }
    async fn wait(&self) -> bool {
        tokio::sync::Barrier::wait(self).await.is_leader()
    }
}

impl BenchBarrier for async_lock::Barrier {
    fn create(n: usize) -> Self {
        Self::new(n)
    }
    async fn wait(&self) -> bool {
        async_lock::Barrier::wait(self).await.is_leader()
    }
}

/// `compio_sync::RwLock` on backend `B`; `STRICT_FIFO` selects
/// [`RwLock::strict_fifo`].
pub struct OursRwLock<B: ThreadSafe, const STRICT_FIFO: bool>(RwLock<Pair, B>);

impl<B: ThreadSafe, const STRICT_FIFO: bool> BenchRwLock for OursRwLock<B, STRICT_FIFO> {
    fn create() -> Self {
        let lock = RwLock::<Pair, B>::with_backend((0, 0));
        let lock = if STRICT_FIFO {
            lock.strict_fifo()
        } else {
            lock
        };
        assert_eq!(lock.is_strict_fifo(), STRICT_FIFO);
        Self(lock)
    }
    async fn read(&self) -> impl Deref<Target = Pair> + '_ {
        self.0.read().await
    }
    async fn write(&self) -> impl DerefMut<Target = Pair> + '_ {
        self.0.write().await
    }
    fn try_value(&self) -> Option<Pair> {
        self.0.try_write().ok().map(|g| *g)
    }
}

impl BenchRwLock for tokio::sync::RwLock<Pair> {
    fn create() -> Self {
        Self::new((0, 0))
    }
    async fn read(&self) -> impl Deref<Target = Pair> + '_ {
        tokio::sync::RwLock::read(self).await
    }
    async fn write(&self) -> impl DerefMut<Target = Pair> + '_ {
        tokio::sync::RwLock::write(self).await
    }
    fn try_value(&self) -> Option<Pair> {
        self.try_write().ok().map(|g| *g)
    }
}

impl BenchRwLock for async_lock::RwLock<Pair> {
    fn create() -> Self {
        Self::new((0, 0))
    }
    async fn read(&self) -> impl Deref<Target = Pair> + '_ {
        async_lock::RwLock::read(self).await
    }
    async fn write(&self) -> impl DerefMut<Target = Pair> + '_ {
        async_lock::RwLock::write(self).await
    }
    fn try_value(&self) -> Option<Pair> {
        self.try_write().map(|g| *g)
    }
}

impl BenchRwLock for maitake_sync::RwLock<Pair> {
    fn create() -> Self {
        Self::new((0, 0))
    }
    async fn read(&self) -> impl Deref<Target = Pair> + '_ {
        maitake_sync::RwLock::read(self).await
    }
    async fn write(&self) -> impl DerefMut<Target = Pair> + '_ {
        maitake_sync::RwLock::write(self).await
    }
    fn try_value(&self) -> Option<Pair> {
        self.try_write().map(|g| *g)
    }
}
