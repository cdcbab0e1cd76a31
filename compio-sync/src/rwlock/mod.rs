//! An async reader-writer lock: a [`Semaphore`] of `max_readers` permits,
//! plus the data it guards, plus a one-permit semaphore and a [`Notify`] for
//! upgradable reads.
//!
//! # How it works
//!
//! As in tokio and maitake-sync, the lock *is* a semaphore: a reader takes
//! one of its `max_readers` permits, a writer takes all of them. The waiting,
//! cancellation and fairness logic are the semaphore's:
//!
//! * **Writers do not starve.** A writer that has to wait closes the
//!   semaphore's fast path at once (under the default policy it claims the
//!   semaphore's priority as soon as it queues; under strict FIFO queued
//!   waiters close it anyway), so readers that arrive while it waits queue
//!   behind it, as in tokio. Released permits collect for it until it has
//!   all of them. Under strict FIFO it keeps its place in the queue, as in
//!   tokio.
//! * **Under the default policy, waiting writers take turns** at a
//!   one-permit semaphore, `upgrade` (below), as async-lock's writers take
//!   its writer mutex: only the writer holding it queues for the read
//!   permits, and it gives it up once it holds them. That writer claims the
//!   priority and queues ahead of the readers already waiting (unless a
//!   starving reader holds the priority), so it waits only for the readers
//!   inside the lock. Without the turns, a writer that queued while another
//!   held the priority would queue behind the waiting readers, without the
//!   priority, and wait for the wake chain (below) to reach it through all
//!   of them, one task switch each: the writers' long tail. With them, the
//!   next writer claims the priority as soon as it runs, but readers may
//!   get in between the two writers meanwhile (as in async-lock); writers
//!   still cannot starve, since a writer waits at most for its turn (the
//!   semaphore's starvation bound) and then for the readers inside.
//! * **The turn passes within a thread first** (`cohort.rs`, lock
//!   cohorting): the waiting writers of one thread queue at their cohort's
//!   gate, and the writer holding the turn hands it to the next writer of
//!   its own thread, up to four times in a row, before it goes back to
//!   every thread. A hand-over to another runtime costs a cross-thread
//!   wake-up and that runtime's scheduling delay (2-4 µs median, 10-26 µs
//!   at p90 on 2 vCPUs); while one is in flight, nobody claims the lock
//!   for writers, and the queue of waiting writers was the writers' tail.
//!   The cohorts are allocated when a writer first has to wait. The
//!   single-thread flavor has none.
//! * **Upgradable reads** (which tokio lacks) use the second, one-permit
//!   semaphore, `upgrade`, too (same policy as the lock). The upgradable
//!   reader holds it plus one read permit, and upgrading waits for the other
//!   `max_readers - 1` (claiming the priority as a writer does). Two
//!   upgrades never wait for each other: there is only one upgradable
//!   reader. An upgrade and a writer must not either: a writer queued for
//!   every read permit while the upgradable reader holds one, and the
//!   upgrade queued behind that writer, would wait for each other forever.
//!   Under the default policy every writer that has to wait holds `upgrade`
//!   while it queues for the read permits, so it never queues while the
//!   upgradable reader holds one. Under strict FIFO (tokio's order):
//!   - a writer that has to wait counts itself in `direct_writers`, then
//!     looks at `upgraders`; if there is no upgradable reader it queues for
//!     the read permits directly, in arrival order with the readers (tokio's
//!     order), and uncounts itself once it holds them (or is cancelled);
//!   - if there is one, it waits for `upgrade` first, and queues for the
//!     read permits only once the upgradable reader is gone;
//!   - the upgradable reader, holding `upgrade`, counts itself in
//!     `upgraders`, then looks at `direct_writers`, and takes its read
//!     permit only once none is left (the last one wakes it through a
//!     `Notify`).
//!
//!   Count, fence, look on both sides (Dekker): either the writer sees the
//!   upgradable reader, or the upgradable reader sees and waits for the
//!   writer. A writer that finds the lock free takes the read permits at
//!   once and counts nothing, so an uncontended write costs what tokio's
//!   does.
//! * **A writer's unlock gives the permits back as any release does.**
//!   Under the default policy that wakes one waiter (the head, or the
//!   unlocking thread's own near it: see the semaphore's docs), which takes
//!   its permit and wakes the next (the semaphore's wake chain, as
//!   async-lock's `no_writer` event wakes one reader that wakes the next):
//!   the queued readers come back one per task switch, so few hold the lock
//!   at once, and the next writer usually finds it free instead of waiting
//!   for a crowd of readers (during which its claim keeps every other task
//!   out). Waking them in one batch measured several times slower in the
//!   read-mostly mixes. Under strict FIFO the unlock hands the permits to
//!   the queue in order, as tokio's does. A downgrade (write to read) hands
//!   the other permits to the queued readers in one batch: the lock stays
//!   read-held by the downgraded guard, so they may as well join it.
//! * **Readers come back a runtime at a time** (the default policy's
//!   *local phases*). The wake chain goes to a reader of the waking thread
//!   among the first 32 queued, passing over the readers of other threads
//!   for as long as the head has waited less than half the starvation
//!   bound (250 µs by default, counted from the first wake-up that passed
//!   it over), where any other semaphore passes the head over at most 4
//!   times in a row (`WaitQueue::notify_one_near_within`). A reader phase
//!   then runs on the runtime that ended the write, and the next writer,
//!   which must wait for every reader inside, waits for that runtime's only,
//!   with no cross-thread wake-up. While a writer of another thread waits
//!   for the writers' turn the phases pause (the 4 wake-ups rule applies):
//!   that writer's runtime, idle for want of its readers, would otherwise
//!   be woken late for the turn. Measured (S9, each runtime pinned to a
//!   CPU, 5 alternated quick runs): read-mostly on 2 runtimes 267-293 ->
//!   171-178 ns per operation (async-lock: 0.53x, was 0.89x), on 4 runtimes
//!   261-297 -> 223-243 ns (0.73x, was 0.88x); write-heavy 366-381 ->
//!   277-294 ns on 2 runtimes; the writers' p99.9 wait stays at 0.33-0.55x
//!   tokio's. Without the pause, the write-heavy mix on 4 runtimes had
//!   writers' p99.9 at 1.1-1.4x tokio's. A reader of another thread may so
//!   wait up to half the bound longer; after its starvation bound it claims
//!   the priority, as any waiter does.
//!
//! The guards hold their permits and release them on drop; the semaphore's
//! Acquire (taking permits) and Release (returning them) order every write
//! before the next read or write.

use std::{cell::UnsafeCell, fmt, ptr::NonNull};

mod cohort;
mod owned_write_guard;
mod raw;
mod read_guard;
mod upgradable;
mod write_guard;

pub use self::{
    owned_write_guard::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard},
    read_guard::{OwnedRwLockReadGuard, RwLockReadGuard},
    upgradable::{OwnedRwLockUpgradableReadGuard, RwLockUpgradableReadGuard},
    write_guard::{RwLockMappedWriteGuard, RwLockWriteGuard},
};
// The flavor (see `crate::flavor`): this folder is compiled once under the
// crate root and once under `crate::local`.
use self::raw::{MAX_READS, RawRwLock};
use super::{
    flavor::{Arc, DefaultBackend},
    semaphore::Semaphore,
};
use crate::{backend::WaitQueue, error::TryLockError};

/// An asynchronous reader-writer lock, with [`tokio::sync::RwLock`]'s API,
/// plus upgradable reads.
///
/// Any number of readers ([`read`](Self::read), up to the maximum given to
/// [`with_max_readers`](Self::with_max_readers)) or one writer
/// ([`write`](Self::write)) may hold the lock at a time. Waiting does not
/// block the thread, and the guards may be held across `.await` points.
///
/// Writers do not starve: once a writer waits, readers that arrive queue
/// behind it, as in tokio. Under the default policy waiting writers take
/// turns, as in async-lock: the writer whose turn it is goes ahead of the
/// readers already queued, and once it has the lock the next one's turn
/// begins (readers may get in between the two). The turn goes to a waiting
/// writer of the same thread first, up to four times in a row, which saves
/// a cross-thread wake-up per hand-over. Fairness otherwise follows
/// [`Semaphore`]: by
/// default a task that finds the lock free takes it even if others wait
/// (*barging*, much faster under cross-thread contention), and a reader
/// passed over for longer than [`STARVATION_BOUND`](crate::STARVATION_BOUND)
/// gets the lock handed to it. [`strict_fifo`](Self::strict_fifo) gives
/// tokio's first-in, first-out order. (While an upgradable reader exists,
/// writers wait for it to go before they queue, so readers that queue
/// meanwhile go first.)
///
/// [`upgradable_read`](Self::upgradable_read) (async-lock's name; tokio has
/// none) reads while keeping the right to become the writer:
/// [`RwLockUpgradableReadGuard::upgrade`] waits for the other readers to
/// leave, and no writer can get in between. Only one upgradable reader exists
/// at a time, so two upgrades never wait for each other; it waits for the
/// writers already queued, and writers that come after it wait for it.
///
/// `B` is the wait-queue backend (see [`crate::backend`]).
///
/// [`tokio::sync::RwLock`]: https://docs.rs/tokio/latest/tokio/sync/struct.RwLock.html
///
/// # Examples
///
/// ```
/// use compio_sync::RwLock;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let lock = RwLock::new(5);
/// {
///     let r1 = lock.read().await;
///     let r2 = lock.read().await;
///     assert_eq!(*r1 + *r2, 10);
/// }
/// *lock.write().await += 1;
/// assert_eq!(*lock.read().await, 6);
/// # });
/// ```
pub struct RwLock<T: ?Sized, B: WaitQueue = DefaultBackend> {
    raw: RawRwLock<B>,
    /// The data. Accessed only through a guard (which holds read permits)
    /// or through `&mut self`.
    c: UnsafeCell<T>,
}

// SAFETY: a `RwLock<T>` owns a `T`; sending it sends the `T`. The backend's
// share: a queue need not be `Send` (see `Mutex`).
unsafe impl<T: ?Sized + Send, B: WaitQueue> Send for RwLock<T, B> where Semaphore<B>: Send {}
// SAFETY: shared access gives several threads `&T` at once (needs
// `T: Sync`) and one thread at a time `&mut T` (needs `T: Send`), as tokio's
// and std's `RwLock`. (The lock's `Notify` holds the same queue type as its
// semaphores, so it is `Sync` exactly when they are.)
unsafe impl<T: ?Sized + Send + Sync, B: WaitQueue> Sync for RwLock<T, B> where Semaphore<B>: Sync {}

#[cfg(not(loom))]
impl<T> RwLock<T> {
    /// Creates an unlocked lock holding `value`, on the default backend.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = compio_sync::RwLock::new(5);
    /// assert_eq!(*lock.try_read().unwrap(), 5);
    /// ```
    pub fn new(value: T) -> Self {
        Self::with_backend(value)
    }

    /// Creates an unlocked lock admitting at most `max_reads` readers at
    /// once, on the default backend.
    ///
    /// # Panics
    ///
    /// Panics if `max_reads` is `0` or more than `u32::MAX >> 3`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = compio_sync::RwLock::with_max_readers(0, 2);
    /// let (a, b) = (lock.try_read().unwrap(), lock.try_read().unwrap());
    /// assert!(lock.try_read().is_err());
    /// # drop((a, b));
    /// ```
    #[track_caller]
    pub fn with_max_readers(value: T, max_reads: u32) -> Self {
        Self::with_backend_and_max_readers(value, max_reads)
    }

    /// Creates an unlocked lock in a `const` context, e.g. a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::RwLock;
    ///
    /// static CONFIG: RwLock<u32> = RwLock::const_new(1);
    /// assert_eq!(*CONFIG.try_read().unwrap(), 1);
    /// ```
    pub const fn const_new(value: T) -> Self {
        Self::const_with_max_readers(value, MAX_READS)
    }

    /// `const` form of [`with_max_readers`](Self::with_max_readers).
    ///
    /// # Panics
    ///
    /// Panics (at compile time in a `const`) if `max_reads` is `0` or more
    /// than `u32::MAX >> 3`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::RwLock;
    ///
    /// static ONE_READER: RwLock<()> = RwLock::const_with_max_readers((), 1);
    /// let guard = ONE_READER.try_read().unwrap();
    /// assert!(ONE_READER.try_read().is_err());
    /// # drop(guard);
    /// ```
    pub const fn const_with_max_readers(value: T, max_reads: u32) -> Self {
        Self {
            raw: RawRwLock::const_new(max_reads),
            c: UnsafeCell::new(value),
        }
    }
}

#[cfg(loom)]
impl<T> RwLock<T> {
    /// Creates an unlocked lock holding `value`, on the default backend.
    pub fn new(value: T) -> Self {
        Self::with_backend(value)
    }

    /// Creates an unlocked lock admitting at most `max_reads` readers.
    #[track_caller]
    pub fn with_max_readers(value: T, max_reads: u32) -> Self {
        Self::with_backend_and_max_readers(value, max_reads)
    }
}

impl<T, B: WaitQueue> RwLock<T, B> {
    /// Creates an unlocked lock holding `value`, on the backend `B`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{RwLock, backend::MutexVecDeque};
    ///
    /// let lock = RwLock::<_, MutexVecDeque>::with_backend("hello");
    /// assert_eq!(*lock.try_read().unwrap(), "hello");
    /// ```
    pub fn with_backend(value: T) -> Self {
        Self::with_backend_and_max_readers(value, MAX_READS)
    }

    /// Creates an unlocked lock admitting at most `max_reads` readers, on
    /// the backend `B`.
    ///
    /// # Panics
    ///
    /// Panics if `max_reads` is `0` or more than `u32::MAX >> 3`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{RwLock, backend::MutexVecDeque};
    ///
    /// let lock = RwLock::<_, MutexVecDeque>::with_backend_and_max_readers(0, 1);
    /// let guard = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_err());
    /// # drop(guard);
    /// ```
    #[track_caller]
    pub fn with_backend_and_max_readers(value: T, max_reads: u32) -> Self {
        Self {
            raw: RawRwLock::new(max_reads),
            c: UnsafeCell::new(value),
        }
    }

    /// Switches this lock to strict first-in, first-out order (tokio's):
    /// the lock goes to waiters in the order they started waiting, and the
    /// `try_*` methods fail while anyone waits.
    ///
    /// Costs a task switch (often a cross-thread wake) per contended lock;
    /// see [`Semaphore::strict_fifo`](crate::Semaphore::strict_fifo).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::RwLock;
    ///
    /// static FAIR: RwLock<u32> = RwLock::const_new(0).strict_fifo();
    /// assert!(FAIR.is_strict_fifo());
    /// ```
    #[must_use]
    pub const fn strict_fifo(mut self) -> Self {
        self.raw.set_strict_fifo();
        self
    }

    /// Sets how long a reader may be passed over by tasks that barge in
    /// before the lock is handed to it directly (default policy; see
    /// [`Semaphore::starvation_bound`](crate::Semaphore::starvation_bound)
    /// and [`STARVATION_BOUND`](crate::STARVATION_BOUND), the default).
    /// Writers do not wait for it: a waiting writer closes the fast path at
    /// once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use compio_sync::RwLock;
    ///
    /// static STATE: RwLock<u32> = RwLock::const_new(0).starvation_bound(Duration::from_micros(100));
    /// # assert_eq!(*STATE.try_read().unwrap(), 0);
    /// ```
    #[must_use]
    pub const fn starvation_bound(mut self, bound: std::time::Duration) -> Self {
        self.raw.set_starvation_bound(bound);
        self
    }

    /// Consumes the lock and returns the data.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = compio_sync::RwLock::new(vec![1, 2]);
    /// assert_eq!(lock.into_inner(), vec![1, 2]);
    /// ```
    pub fn into_inner(self) -> T {
        self.c.into_inner()
    }
}

impl<T: ?Sized, B: WaitQueue> RwLock<T, B> {
    /// Returns `true` if this lock uses strict FIFO order.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = compio_sync::RwLock::new(());
    /// assert!(!lock.is_strict_fifo());
    /// ```
    pub fn is_strict_fifo(&self) -> bool {
        self.raw.is_strict_fifo()
    }

    fn data(&self) -> NonNull<T> {
        // SAFETY: `UnsafeCell::get` never returns null.
        unsafe { NonNull::new_unchecked(self.c.get()) }
    }

    /// Locks with shared read access, waiting while a writer holds the lock
    /// or waits for it.
    ///
    /// Readers that arrive while a writer waits queue behind it, so a task
    /// that holds a read guard, then waits for a write, then for another
    /// read, deadlocks (as with tokio).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes leaves no trace
    /// (a permit already handed to it is passed on), and the order of the
    /// other waiters is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let lock = Arc::new(compio_sync::RwLock::new(1));
    /// let r1 = lock.read().await;
    /// let other = lock.clone();
    /// compio::runtime::spawn(async move {
    ///     assert_eq!(*other.read().await, 1);
    /// })
    /// .await
    /// .unwrap();
    /// assert_eq!(*r1, 1);
    /// # });
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T, B> {
        self.raw.read().await;
        RwLockReadGuard::new(&self.raw, self.data())
    }

    /// Locks with shared read access if that is possible now.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if a writer holds the lock or waits for it (or, in
    /// strict FIFO order, if anyone waits), or `max_readers` readers hold it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = compio_sync::RwLock::new(1);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err());
    /// assert_eq!(*lock.try_read().unwrap(), 1);
    /// # drop(r);
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T, B>, TryLockError> {
        self.raw.try_read()?;
        Ok(RwLockReadGuard::new(&self.raw, self.data()))
    }

    /// Locks with shared read access, returning a guard that keeps the
    /// `Arc` alive (and so can move into a spawned task).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`read`](Self::read).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let lock = Arc::new(compio_sync::RwLock::new(3));
    /// let guard = lock.clone().read_owned().await;
    /// compio::runtime::spawn(async move { assert_eq!(*guard, 3) }).await.unwrap();
    /// # });
    /// ```
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T, T, B> {
        self.raw.read().await;
        let data = self.data();
        OwnedRwLockReadGuard::new(self, data)
    }

    /// Locks with shared read access if possible now, as an owned guard.
    ///
    /// # Errors
    ///
    /// As [`try_read`](Self::try_read).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(compio_sync::RwLock::new(1));
    /// let r = lock.clone().try_read_owned().unwrap();
    /// assert!(lock.clone().try_write_owned().is_err());
    /// # drop(r);
    /// ```
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T, T, B>, TryLockError> {
        self.raw.try_read()?;
        let data = self.data();
        Ok(OwnedRwLockReadGuard::new(self, data))
    }

    /// Locks with exclusive write access, waiting until no reader or writer
    /// holds the lock.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes gives back the
    /// permits it had collected, and readers that queued behind it proceed.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let lock = compio_sync::RwLock::new(1);
    /// *lock.write().await += 1;
    /// assert_eq!(*lock.read().await, 2);
    /// # });
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T, B> {
        self.raw.write().await;
        RwLockWriteGuard::new(&self.raw, self.data())
    }

    /// Locks with exclusive write access if the lock is free now.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if anyone holds the lock (or, in strict FIFO order,
    /// waits for it).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = compio_sync::RwLock::new(1);
    /// let w = lock.try_write().unwrap();
    /// assert!(lock.try_read().is_err());
    /// # drop(w);
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T, B>, TryLockError> {
        self.raw.try_write()?;
        Ok(RwLockWriteGuard::new(&self.raw, self.data()))
    }

    /// Locks with exclusive write access, as an owned guard.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`write`](Self::write).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let lock = Arc::new(compio_sync::RwLock::new(0));
    /// let mut guard = lock.clone().write_owned().await;
    /// compio::runtime::spawn(async move { *guard = 7 }).await.unwrap();
    /// assert_eq!(*lock.read().await, 7);
    /// # });
    /// ```
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T, B> {
        self.raw.write().await;
        OwnedRwLockWriteGuard::new(self)
    }

    /// Locks with exclusive write access if free now, as an owned guard.
    ///
    /// # Errors
    ///
    /// As [`try_write`](Self::try_write).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(compio_sync::RwLock::new(1));
    /// let w = lock.clone().try_write_owned().unwrap();
    /// assert!(lock.clone().try_read_owned().is_err());
    /// # drop(w);
    /// ```
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T, B>, TryLockError> {
        self.raw.try_write()?;
        Ok(OwnedRwLockWriteGuard::new(self))
    }

    /// Locks with shared read access that can later be upgraded to write
    /// access without letting a writer in between (async-lock's API).
    ///
    /// Only one upgradable reader exists at a time; plain readers may hold
    /// the lock alongside it. While it exists, writers wait.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`read`](Self::read).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{RwLock, RwLockUpgradableReadGuard};
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let lock = RwLock::new(1);
    /// let reader = lock.read().await;
    /// let upgradable = lock.upgradable_read().await;
    /// assert_eq!(*reader + *upgradable, 2);
    /// drop(reader);
    /// let mut writer = RwLockUpgradableReadGuard::upgrade(upgradable).await;
    /// *writer = 2;
    /// # });
    /// ```
    pub async fn upgradable_read(&self) -> RwLockUpgradableReadGuard<'_, T, B> {
        self.raw.upgradable_read().await;
        RwLockUpgradableReadGuard::new(&self.raw, self.data())
    }

    /// Locks with upgradable read access if possible now.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if another upgradable reader or a writer holds the
    /// lock, or a writer waits for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = compio_sync::RwLock::new(1);
    /// let upgradable = lock.try_upgradable_read().unwrap();
    /// assert!(lock.try_upgradable_read().is_err());
    /// assert!(lock.try_read().is_ok());
    /// # drop(upgradable);
    /// ```
    pub fn try_upgradable_read(&self) -> Result<RwLockUpgradableReadGuard<'_, T, B>, TryLockError> {
        self.raw.try_upgradable_read()?;
        Ok(RwLockUpgradableReadGuard::new(&self.raw, self.data()))
    }

    /// Locks with upgradable read access, as an owned guard.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`read`](Self::read).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{OwnedRwLockUpgradableReadGuard, RwLock};
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let lock = Arc::new(RwLock::new(1));
    /// let upgradable = lock.clone().upgradable_read_owned().await;
    /// let writer = OwnedRwLockUpgradableReadGuard::upgrade(upgradable).await;
    /// assert_eq!(*writer, 1);
    /// # });
    /// ```
    pub async fn upgradable_read_owned(self: Arc<Self>) -> OwnedRwLockUpgradableReadGuard<T, B> {
        self.raw.upgradable_read().await;
        OwnedRwLockUpgradableReadGuard::new(self)
    }

    /// Locks with upgradable read access if possible now, as an owned
    /// guard.
    ///
    /// # Errors
    ///
    /// As [`try_upgradable_read`](Self::try_upgradable_read).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(compio_sync::RwLock::new(1));
    /// let upgradable = lock.clone().try_upgradable_read_owned().unwrap();
    /// assert!(lock.clone().try_upgradable_read_owned().is_err());
    /// # drop(upgradable);
    /// ```
    pub fn try_upgradable_read_owned(
        self: Arc<Self>,
    ) -> Result<OwnedRwLockUpgradableReadGuard<T, B>, TryLockError> {
        self.raw.try_upgradable_read()?;
        Ok(OwnedRwLockUpgradableReadGuard::new(self))
    }

    /// Returns a mutable reference to the data. No locking is needed: the
    /// `&mut self` borrow proves no guard exists.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = compio_sync::RwLock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(*lock.try_read().unwrap(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.c.get_mut()
    }
}

/// Blocking entry points, for plain threads that share the lock with tasks:
/// only where another thread can release it, that is where the semaphore is
/// `Sync` (never a [`local`](crate::local) lock).
#[cfg(not(loom))]
impl<T: ?Sized, B: WaitQueue> RwLock<T, B>
where
    Semaphore<B>: Sync,
{
    /// Blocks the current thread until it holds shared read access.
    ///
    /// # Panics
    ///
    /// Panics if called on a thread that is running a compio runtime: it
    /// would block every task of that runtime. Use [`read`](Self::read).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(compio_sync::RwLock::new(1));
    /// let l = lock.clone();
    /// let seen = std::thread::spawn(move || *l.blocking_read()).join().unwrap();
    /// assert_eq!(seen, 1);
    /// ```
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T, B> {
        crate::blocking::block_on("RwLock::blocking_read", self.read())
    }

    /// Blocks the current thread until it holds exclusive write access.
    ///
    /// # Panics
    ///
    /// As [`blocking_read`](Self::blocking_read).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(compio_sync::RwLock::new(1));
    /// let l = lock.clone();
    /// std::thread::spawn(move || *l.blocking_write() += 1).join().unwrap();
    /// assert_eq!(*lock.blocking_read(), 2);
    /// ```
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T, B> {
        crate::blocking::block_on("RwLock::blocking_write", self.write())
    }
}

impl<T: ?Sized + fmt::Debug, B: WaitQueue> fmt::Debug for RwLock<T, B> {
    /// Shows the data if it can be read now, `<locked>` otherwise. Never
    /// waits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// On the default backend only, so that `RwLock::default()` needs no type
/// annotation (other backends: `with_backend(T::default())`).
#[cfg(not(loom))]
impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

/// On the default backend only, as `new`.
#[cfg(not(loom))]
impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}
