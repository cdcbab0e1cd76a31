//! An async counting semaphore, with tokio's API and two fairness policies.
//!
//! # How it works
//!
//! The permits live in one atomic word, `permits` (`available << 2 | PRIORITY
//! | CLOSED`), so the uncontended `acquire`/`release` is one CAS / one
//! `fetch_add`. Tasks that must wait park in a [`WaitQueue`] `queue`; their
//! number, plus a `PENDING` flag, lives in a second word, `waiters`.
//!
//! * **Release** adds the permits, issues `fence(SeqCst)`, and wakes one
//!   waiter unless one is already on its way (`PENDING`). The woken waiter
//!   clears `PENDING` and, if permits remain after it took its share, wakes
//!   the next (a wake chain, as in Go's `sync.Mutex`): at most one wake is in
//!   flight, so a burst of releases does not turn into a burst of cross-thread
//!   wakes.
//! * **Barging (default).** A task that finds permits takes them, even if
//!   others wait. This keeps a hot permit on the thread that uses it (about
//!   40-250 ns per contended operation across two threads, against 1.2-5.4 µs
//!   for strict handoff on the machines we measured). To bound starvation, a
//!   woken waiter that still finds no permits and has waited for
//!   longer than [`STARVATION_BOUND`], or that needs more than one permit
//!   (`acquire_many(n > 1)` at the head of the queue), becomes the *priority
//!   waiter*: it sets `PRIORITY`, which closes the barging fast path; every
//!   permit released from then on is handed to it (it waits in its own queue,
//!   `priority`), until it has all it needs.
//! * **Strict FIFO** ([`Semaphore::strict_fifo`]) is tokio's order: no barging
//!   while anyone waits, and every woken head of the queue becomes the priority
//!   waiter at once. Needs a backend whose `notify_one` is FIFO.
//!
//! Both handshakes (a waiter registering vs a releaser looking for waiters)
//! are the [`WaitQueue`] event-count protocol: register, `fence(SeqCst)`,
//! re-check; change, `fence(SeqCst)`, notify.

use std::{
    fmt,
    future::Future,
    marker::PhantomPinned,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use crate::{
    backend::{DefaultBackend, WaitQueue},
    loom::atomic::{AtomicUsize, Ordering::*, fence},
};

/// How long a waiter may wait while barging tasks take the permits before
/// permits are handed to it directly (default policy).
///
/// Measured from when the waiter first queued. A waiter that is woken, finds
/// the permits taken, and has waited this long becomes the *priority waiter*:
/// it closes the fast path and every release goes to it until it is served.
/// Waiters are woken in queue order, one wake-up in flight at a time, so a
/// waiter deep in a long queue can wait longer than the bound before its turn
/// to be woken comes; from then on, nobody barges past it.
#[cfg(not(loom))]
pub const STARVATION_BOUND: std::time::Duration = std::time::Duration::from_micros(500);

/// `permits` word: the semaphore is closed.
const CLOSED: usize = 1;
/// `permits` word: a priority waiter exists; released permits are reserved for
/// it and the fast path is closed.
const PRIORITY: usize = 2;
/// `permits` word: available permits are stored above this shift.
const PERMIT_SHIFT: u32 = 2;

/// `waiters` word: a waiter has been woken and has not yet run.
const PENDING: usize = 1;
/// `waiters` word: one waiter in `queue`.
const ONE_WAITER: usize = 2;

/// An asynchronous counting semaphore.
///
/// A semaphore holds a number of permits; [`acquire`](Self::acquire) waits
/// for one, and dropping the returned [`SemaphorePermit`] gives it back. The
/// API and semantics follow [`tokio::sync::Semaphore`], with one deliberate
/// difference: by default the semaphore is **not** strictly fair. A task that
/// finds free permits takes them even if others wait (*barging*), which is
/// much faster under cross-thread contention; a waiter that has waited longer
/// than [`STARVATION_BOUND`], or one that needs several permits, gets the
/// permits handed to it directly. Call [`strict_fifo`](Self::strict_fifo) for
/// tokio's exact first-in, first-out order.
///
/// `B` is the wait-queue backend (see [`crate::backend`]).
///
/// [`tokio::sync::Semaphore`]: https://docs.rs/tokio/latest/tokio/sync/struct.Semaphore.html
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use compio_sync::Semaphore;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let semaphore = Arc::new(Semaphore::new(2));
/// let a = semaphore.acquire().await.unwrap();
/// let b = semaphore.try_acquire().unwrap();
/// assert!(semaphore.try_acquire().is_err());
/// drop(a);
/// assert_eq!(semaphore.available_permits(), 1);
/// # drop(b);
/// # });
/// ```
pub struct Semaphore<B: WaitQueue = DefaultBackend> {
    /// `available << PERMIT_SHIFT | PRIORITY | CLOSED`.
    permits: AtomicUsize,
    /// `waiters_in_queue * ONE_WAITER | PENDING`.
    waiters: AtomicUsize,
    /// Strict FIFO instead of barging.
    strict: bool,
    /// Where tasks wait for permits.
    queue: B,
    /// Where the (at most one) priority waiter waits.
    priority: B,
}

/// Error returned by [`Semaphore::acquire`] when the semaphore is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

/// Error returned by [`Semaphore::try_acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore has been [closed](Semaphore::close).
    Closed,
    /// The semaphore has no permits available (or they are reserved for a
    /// waiter).
    NoPermits,
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

fn available(word: usize) -> usize {
    word >> PERMIT_SHIFT
}

/// See [`Semaphore::MAX_PERMITS`].
const MAX_PERMITS: usize = usize::MAX >> 3;

impl Semaphore {
    /// The maximum number of permits a semaphore can hold: `usize::MAX >> 3`,
    /// as in tokio. The same for every backend.
    ///
    /// Declared on `Semaphore` with the default backend only, so that
    /// `Semaphore::MAX_PERMITS` needs no type annotation (a default type
    /// parameter is not applied in an expression path); generic code writes
    /// `Semaphore::MAX_PERMITS` too.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::Semaphore;
    ///
    /// let unlimited = Semaphore::new(Semaphore::MAX_PERMITS);
    /// assert_eq!(unlimited.available_permits(), Semaphore::MAX_PERMITS);
    /// ```
    pub const MAX_PERMITS: usize = MAX_PERMITS;
}

#[cfg(not(loom))]
impl Semaphore {
    /// Creates a semaphore with `permits` permits, on the default backend.
    ///
    /// # Panics
    ///
    /// Panics if `permits` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(3);
    /// assert_eq!(semaphore.available_permits(), 3);
    /// ```
    #[track_caller]
    pub fn new(permits: usize) -> Self {
        Self::with_backend(permits)
    }

    /// Creates a semaphore with `permits` permits in a `const` context, e.g.
    /// a `static`.
    ///
    /// # Panics
    ///
    /// Panics (at compile time in a `const`) if `permits` exceeds
    /// [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::Semaphore;
    ///
    /// static LIMIT: Semaphore = Semaphore::const_new(10);
    /// assert_eq!(LIMIT.available_permits(), 10);
    /// ```
    pub const fn const_new(permits: usize) -> Self {
        Self::const_with_backend(permits)
    }
}

#[cfg(loom)]
impl Semaphore {
    /// Creates a semaphore with `permits` permits, on the default backend.
    #[track_caller]
    pub fn new(permits: usize) -> Self {
        Self::with_backend(permits)
    }
}

impl<B: WaitQueue> Semaphore<B> {
    /// Creates a semaphore with `permits` permits on the backend `B`.
    ///
    /// # Panics
    ///
    /// Panics if `permits` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Semaphore, backend::MutexVecDeque};
    ///
    /// let semaphore = Semaphore::<MutexVecDeque>::with_backend(2);
    /// assert_eq!(semaphore.available_permits(), 2);
    /// ```
    #[track_caller]
    pub fn with_backend(permits: usize) -> Self {
        Self::check_new(permits);
        Self {
            permits: AtomicUsize::new(permits << PERMIT_SHIFT),
            waiters: AtomicUsize::new(0),
            strict: false,
            queue: B::new(),
            priority: B::new(),
        }
    }

    /// `const` form of [`with_backend`](Self::with_backend).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Semaphore, backend::MutexVecDeque};
    ///
    /// static LIMIT: Semaphore<MutexVecDeque> = Semaphore::const_with_backend(4);
    /// assert_eq!(LIMIT.available_permits(), 4);
    /// ```
    #[cfg(not(loom))]
    pub const fn const_with_backend(permits: usize) -> Self {
        Self::check_new(permits);
        Self {
            permits: AtomicUsize::new(permits << PERMIT_SHIFT),
            waiters: AtomicUsize::new(0),
            strict: false,
            queue: B::NEW,
            priority: B::NEW,
        }
    }

    #[track_caller]
    const fn check_new(permits: usize) {
        assert!(
            permits <= MAX_PERMITS,
            "a semaphore may not have more than MAX_PERMITS permits"
        );
    }

    /// Switches this semaphore to strict first-in, first-out order: tokio's
    /// semantics. Permits go to waiters in the order they started waiting; an
    /// `acquire_many(n)` at the head blocks those behind it until it has `n`;
    /// `try_acquire` fails while anyone waits.
    ///
    /// Strict FIFO costs a task switch (often a cross-thread wake) per
    /// contended acquire; the default policy (barging with a starvation
    /// bound) does not. Strict order needs a backend whose `notify_one` is
    /// FIFO; see the backend's docs.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::Semaphore;
    ///
    /// static FAIR: Semaphore = Semaphore::const_new(1).strict_fifo();
    /// assert!(FAIR.is_strict_fifo());
    /// ```
    #[must_use]
    pub const fn strict_fifo(mut self) -> Self {
        self.set_strict_fifo();
        self
    }

    /// In-place form of [`strict_fifo`](Self::strict_fifo), for the
    /// primitives built on a semaphore (their `const` builders cannot move
    /// the semaphore out of `self`).
    pub(crate) const fn set_strict_fifo(&mut self) {
        self.strict = true;
    }

    /// Returns `true` if this semaphore uses strict FIFO order.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(1);
    /// assert!(!semaphore.is_strict_fifo());
    /// ```
    pub fn is_strict_fifo(&self) -> bool {
        self.strict
    }

    /// Returns the number of permits available now.
    ///
    /// Permits held by a priority waiter that is still collecting them are not
    /// counted.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(2);
    /// let _permit = semaphore.try_acquire().unwrap();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        available(self.permits.load(Acquire))
    }

    /// Adds `n` permits, waking waiters that can now proceed.
    ///
    /// Works on a closed semaphore too (the permits are added; it stays
    /// closed).
    ///
    /// # Panics
    ///
    /// Panics if the result would exceed [`Semaphore::MAX_PERMITS`]; the
    /// semaphore is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(0);
    /// semaphore.add_permits(2);
    /// assert_eq!(semaphore.available_permits(), 2);
    /// ```
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Returns `n` permits and wakes a waiter if needed: how permits are
    /// dropped, how `add_permits` adds, and how a [`Mutex`](crate::Mutex)
    /// guard unlocks.
    ///
    /// Panics, leaving the semaphore unchanged, if the result would exceed
    /// `MAX_PERMITS` (as tokio does, for added and for dropped permits).
    #[track_caller]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut cur = self.permits.load(Relaxed);
        loop {
            let total = available(cur).checked_add(n);
            assert!(
                total.is_some_and(|t| t <= MAX_PERMITS),
                "number of added permits ({n}) would overflow MAX_PERMITS ({MAX_PERMITS})"
            );
            // Release: the permits' previous users happen-before whoever
            // takes them (pairs with the Acquire CAS in `try_take`).
            match self.permits.compare_exchange_weak(
                cur,
                cur + (n << PERMIT_SHIFT),
                Release,
                Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        self.wake_next();
    }

    /// Removes up to `n` available permits and returns how many were removed.
    ///
    /// Never reopens a closed semaphore and never touches permits that are
    /// held.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(3);
    /// assert_eq!(semaphore.forget_permits(5), 3);
    /// assert_eq!(semaphore.available_permits(), 0);
    /// ```
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut cur = self.permits.load(Relaxed);
        loop {
            let removed = available(cur).min(n);
            match self.permits.compare_exchange_weak(
                cur,
                cur - (removed << PERMIT_SHIFT),
                AcqRel,
                Relaxed,
            ) {
                Ok(_) => return removed,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Closes the semaphore: every pending and future `acquire` fails with
    /// [`AcquireError`] and `try_acquire` with [`TryAcquireError::Closed`].
    /// Permits already held stay valid and are returned as usual.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Semaphore, TryAcquireError};
    ///
    /// let semaphore = Semaphore::new(1);
    /// semaphore.close();
    /// assert!(semaphore.is_closed());
    /// assert_eq!(semaphore.try_acquire().err(), Some(TryAcquireError::Closed));
    /// ```
    pub fn close(&self) {
        self.permits.fetch_or(CLOSED, AcqRel);
        // SeqCst: orders the CLOSED store before the queue scans below,
        // against a registering waiter's (register; fence; re-check).
        fence(SeqCst);
        // A waker that panics in `wake` must not keep the priority waiter
        // from learning of the close: wake both queues, then re-raise.
        let woken = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.queue.notify_all();
        }));
        self.priority.notify_all();
        if let Err(panic) = woken {
            std::panic::resume_unwind(panic);
        }
    }

    /// Returns `true` if the semaphore is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(1);
    /// assert!(!semaphore.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.permits.load(Acquire) & CLOSED != 0
    }

    /// Acquires one permit, waiting until one is available.
    ///
    /// Fails only if the semaphore is closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes gives back any
    /// permits it had been handed, passes on a wake-up it had received, and
    /// leaves nothing in the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let semaphore = compio_sync::Semaphore::new(1);
    /// let permit = semaphore.acquire().await.unwrap();
    /// assert_eq!(permit.num_permits(), 1);
    /// # });
    /// ```
    pub fn acquire(&self) -> Acquire<'_, B> {
        Acquire::new(self, 1)
    }

    /// Acquires `n` permits at once, waiting until they are available.
    ///
    /// A waiter for several permits is never starved by single-permit
    /// acquires: once it reaches the head of the queue, released permits are
    /// collected for it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`acquire`](Self::acquire): permits already collected
    /// for this call are returned on drop.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let semaphore = compio_sync::Semaphore::new(5);
    /// let permit = semaphore.acquire_many(3).await.unwrap();
    /// assert_eq!(semaphore.available_permits(), 2);
    /// # drop(permit);
    /// # });
    /// ```
    pub fn acquire_many(&self, n: u32) -> Acquire<'_, B> {
        Acquire::new(self, n)
    }

    /// Takes one permit if one is available now.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Closed`] if the semaphore is closed,
    /// [`TryAcquireError::NoPermits`] if no permit is free (or free permits
    /// are reserved for a waiter).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Semaphore, TryAcquireError};
    ///
    /// let semaphore = Semaphore::new(1);
    /// let permit = semaphore.try_acquire().unwrap();
    /// assert_eq!(semaphore.try_acquire().err(), Some(TryAcquireError::NoPermits));
    /// # drop(permit);
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_, B>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are available now.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(4);
    /// let permit = semaphore.try_acquire_many(3).unwrap();
    /// assert_eq!(permit.num_permits(), 3);
    /// assert!(semaphore.try_acquire_many(2).is_err());
    /// ```
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_, B>, TryAcquireError> {
        self.try_take(n as usize, self.strict)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    /// Acquires one permit, returning an owned permit that keeps the `Arc`
    /// alive.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`acquire`](Self::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(1));
    /// let permit = semaphore.clone().acquire_owned().await.unwrap();
    /// compio::runtime::spawn(async move { drop(permit) }).await.unwrap();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// # });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit<B>, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Acquires `n` permits, returning an owned permit.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`acquire_many`](Self::acquire_many).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(3));
    /// let permit = semaphore.clone().acquire_many_owned(2).await.unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// # });
    /// ```
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit<B>, AcquireError> {
        self.acquire_many(n).await?.forget();
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    /// Takes one permit now, as an owned permit.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(1));
    /// let permit = semaphore.clone().try_acquire_owned().unwrap();
    /// assert!(semaphore.clone().try_acquire_owned().is_err());
    /// # drop(permit);
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit<B>, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Takes `n` permits now, as an owned permit.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(2));
    /// let permit = semaphore.clone().try_acquire_many_owned(2).unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// ```
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit<B>, TryAcquireError> {
        self.try_take(n as usize, self.strict)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    /// Blocks the current thread until a permit is acquired.
    ///
    /// For plain threads that share a semaphore with async tasks.
    ///
    /// # Panics
    ///
    /// Panics if called on a thread that is running a compio runtime: it would
    /// block every task of that runtime. Use [`acquire`](Self::acquire) there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(1));
    /// let s = semaphore.clone();
    /// std::thread::spawn(move || {
    ///     let _permit = s.blocking_acquire().unwrap();
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_acquire(&self) -> Result<SemaphorePermit<'_, B>, AcquireError> {
        self.blocking_acquire_many(1)
    }

    /// Blocks the current thread until `n` permits are acquired.
    ///
    /// # Panics
    ///
    /// As [`blocking_acquire`](Self::blocking_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(2);
    /// let permit = semaphore.blocking_acquire_many(2).unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_, B>, AcquireError> {
        let mut acquire = self.acquire_many(n);
        acquire.st.blocking = true;
        crate::blocking::block_on("Semaphore::blocking_acquire", acquire)
    }

    /// Blocks the current thread until a permit is acquired, returning an
    /// owned permit.
    ///
    /// # Panics
    ///
    /// As [`blocking_acquire`](Self::blocking_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(1));
    /// let permit = std::thread::spawn({
    ///     let semaphore = semaphore.clone();
    ///     move || semaphore.blocking_acquire_owned().unwrap()
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(semaphore.available_permits(), 0);
    /// drop(permit);
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_acquire_owned(
        self: Arc<Self>,
    ) -> Result<OwnedSemaphorePermit<B>, AcquireError> {
        self.blocking_acquire_many_owned(1)
    }

    /// Blocks the current thread until `n` permits are acquired, returning an
    /// owned permit.
    ///
    /// # Panics
    ///
    /// As [`blocking_acquire`](Self::blocking_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(3));
    /// let permit = semaphore.clone().blocking_acquire_many_owned(2).unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit<B>, AcquireError> {
        self.blocking_acquire_many(n)?.forget();
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    /// Takes `n` permits if the policy allows it now.
    ///
    /// `strict` closes the fast path while anyone waits (strict FIFO).
    fn try_take(&self, n: usize, strict: bool) -> Result<(), TryAcquireError> {
        let mut cur = self.permits.load(Relaxed);
        loop {
            if cur & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if n == 0 {
                // As tokio: zero permits are always available, whoever waits.
                return Ok(());
            }
            if cur & PRIORITY != 0 || available(cur) < n {
                return Err(TryAcquireError::NoPermits);
            }
            if strict && self.waiters.load(Relaxed) != 0 {
                return Err(TryAcquireError::NoPermits);
            }
            // Acquire: the previous holders' writes happen-before ours (pairs
            // with the Release in `release`/`add_permits`).
            match self.permits.compare_exchange_weak(
                cur,
                cur - (n << PERMIT_SHIFT),
                Acquire,
                Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Wakes whoever should take the available permits next, unless a wake
    /// is already in flight.
    ///
    /// Called after every change that can let a waiter proceed: a release, a
    /// waiter leaving with permits to spare, a cancelled waiter passing on its
    /// wake-up, the priority waiter stepping down.
    fn wake_next(&self) {
        loop {
            // SeqCst: orders the caller's change to `permits` (or `waiters`)
            // before the loads below, against a waiter's (register; fence;
            // re-check). Either we see its registration, or it sees our change.
            fence(SeqCst);
            let word = self.permits.load(Relaxed);
            if word & CLOSED == 0 && available(word) == 0 {
                return;
            }
            if word & PRIORITY != 0 {
                // Released permits are reserved for the priority waiter. If it
                // has just stepped down, it calls `wake_next` itself after
                // clearing PRIORITY, and sees our permits: both are RMWs of
                // `permits`, so its CAS comes after our change.
                self.priority.notify_one();
                return;
            }
            let mut w = self.waiters.load(Relaxed);
            loop {
                if w < ONE_WAITER || w & PENDING != 0 {
                    return;
                }
                // Acquire: the registrations counted in `w` happen-before our
                // `notify_one` (pairs with the AcqRel increment in `enqueue`).
                match self
                    .waiters
                    .compare_exchange_weak(w, w | PENDING, Acquire, Relaxed)
                {
                    Ok(_) => break,
                    Err(actual) => w = actual,
                }
            }
            if self.queue.notify_one() {
                return;
            }
            // Nobody was queued to wake (the waiters we counted have left):
            // drop PENDING. But a strict FIFO waiter counted after our
            // `notify_one` saw PENDING set and left its wake-up to us (its
            // `start` defers to the wake-up in flight), so if anyone is
            // counted now, look again. Leaving waiters uncount themselves
            // before they unlink, so whoever is counted now is queued and the
            // next `notify_one` finds it: this loops only while new waiters
            // arrive. (Closing wakes everyone anyway.)
            let left = self.waiters.fetch_and(!PENDING, AcqRel) & !PENDING;
            if left < ONE_WAITER || word & CLOSED != 0 {
                return;
            }
        }
    }

    fn clear_pending(&self) {
        self.waiters.fetch_and(!PENDING, AcqRel);
    }

    /// Counts a freshly registered waiter.
    fn enqueue(&self) {
        // AcqRel: publishes the registration to `wake_next`'s Acquire CAS.
        self.waiters.fetch_add(ONE_WAITER, AcqRel);
    }

    fn dequeue(&self) {
        self.waiters.fetch_sub(ONE_WAITER, AcqRel);
    }

    /// Tries to become the priority waiter, taking what is available (up to
    /// `want`) in the same step. If everything wanted is available, takes it
    /// without becoming the priority waiter ([`Claim::Served`]).
    fn claim_priority(&self, want: usize) -> Claim {
        let mut cur = self.permits.load(Relaxed);
        loop {
            if cur & (CLOSED | PRIORITY) != 0 {
                return Claim::Refused;
            }
            let take = available(cur).min(want);
            let mut next = cur - (take << PERMIT_SHIFT);
            if take < want {
                next |= PRIORITY;
            }
            // Acquire: the releasers' writes happen-before ours (pairs with
            // the Release in `release`/`add_permits`).
            match self
                .permits
                .compare_exchange_weak(cur, next, Acquire, Relaxed)
            {
                Ok(_) if take == want => return Claim::Served,
                Ok(_) => return Claim::Priority(take),
                Err(actual) => cur = actual,
            }
        }
    }

    /// As the priority waiter: takes up to `want` more permits. Clears
    /// PRIORITY when `want` is reached or the semaphore is closed (then
    /// returning the permits already collected, `held`).
    fn collect(&self, held: usize, want: usize) -> Collect {
        let mut cur = self.permits.load(Relaxed);
        loop {
            debug_assert!(
                cur & PRIORITY != 0,
                "Semaphore::collect called by a waiter that does not hold PRIORITY"
            );
            let (next, outcome) = if cur & CLOSED != 0 {
                ((cur & !PRIORITY) + (held << PERMIT_SHIFT), Collect::Closed)
            } else {
                let take = available(cur).min(want);
                let next = cur - (take << PERMIT_SHIFT);
                if take == want {
                    (next & !PRIORITY, Collect::Done)
                } else {
                    (next, Collect::Partial(take))
                }
            };
            if next == cur {
                return outcome;
            }
            match self
                .permits
                .compare_exchange_weak(cur, next, AcqRel, Relaxed)
            {
                Ok(_) => return outcome,
                Err(actual) => cur = actual,
            }
        }
    }

    /// The priority waiter steps down without being served, returning the
    /// permits it had collected.
    fn abandon_priority(&self, held: usize) {
        let mut cur = self.permits.load(Relaxed);
        loop {
            let next = (cur & !PRIORITY) + (held << PERMIT_SHIFT);
            match self
                .permits
                .compare_exchange_weak(cur, next, AcqRel, Relaxed)
            {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        self.wake_next();
    }
}

/// What [`Semaphore::claim_priority`] did.
enum Claim {
    /// Took every permit wanted; PRIORITY untouched.
    Served,
    /// Set PRIORITY and took this many permits (fewer than wanted).
    Priority(usize),
    /// Another waiter holds PRIORITY, or the semaphore is closed: nothing
    /// changed.
    Refused,
}

/// What the priority waiter's [`Semaphore::collect`] did.
enum Collect {
    /// Took the last permits wanted and cleared PRIORITY.
    Done,
    /// Took this many permits (maybe none); still the priority waiter.
    Partial(usize),
    /// The semaphore is closed: returned the permits held, cleared PRIORITY.
    Closed,
}

impl<B: WaitQueue> fmt::Debug for Semaphore<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.permits.load(Relaxed);
        f.debug_struct("Semaphore")
            .field("permits", &available(word))
            .field("closed", &(word & CLOSED != 0))
            .field("waiters", &(self.waiters.load(Relaxed) / ONE_WAITER))
            .field("strict_fifo", &self.strict)
            .finish()
    }
}

/// A semaphore with no permits, on the default backend (only there, so that
/// `Semaphore::default()` needs no type annotation; other backends use
/// `with_backend(0)`).
#[cfg(not(loom))]
impl Default for Semaphore {
    fn default() -> Self {
        Self::new(0)
    }
}

/// Where an [`Acquire`] future is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not yet tried (or between attempts); `waiter` is idle.
    Start,
    /// Registered in `queue` and counted in `waiters`.
    Queued,
    /// The priority waiter; `waiter` is idle.
    Priority,
    /// The priority waiter, registered in `priority`.
    PriorityQueued,
    /// Completed; `waiter` is idle.
    Done,
}

/// Future returned by [`Semaphore::acquire`] and
/// [`Semaphore::acquire_many`].
///
/// `!Unpin`: its wait-queue node lives inside it. Pin it (`.await` does) to
/// poll it.
///
/// ```compile_fail
/// fn assert_unpin<T: Unpin>(_: T) {}
/// let semaphore = compio_sync::Semaphore::new(1);
/// assert_unpin(semaphore.acquire());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Acquire<'a, B: WaitQueue = DefaultBackend> {
    sem: &'a Semaphore<B>,
    st: AcquireState,
    waiter: B::Waiter,
    _pin: PhantomPinned,
}

/// The plain (unpinned) fields of an [`Acquire`].
#[derive(Debug)]
struct AcquireState {
    /// Permits wanted.
    want: usize,
    /// Permits collected so far as the priority waiter.
    held: usize,
    phase: Phase,
    /// When this waiter first queued (set on the slow path only).
    #[cfg(not(loom))]
    waiting_since: Option<std::time::Instant>,
    /// Driven by `blocking_acquire*`: sleep in `WaitQueue::wait_blocking`
    /// instead of returning `Pending`.
    blocking: bool,
}

type Step = Poll<Result<(), AcquireError>>;

impl<'a, B: WaitQueue> Acquire<'a, B> {
    fn new(sem: &'a Semaphore<B>, want: u32) -> Self {
        Self {
            sem,
            st: AcquireState {
                want: want as usize,
                held: 0,
                phase: Phase::Start,
                #[cfg(not(loom))]
                waiting_since: None,
                blocking: false,
            },
            waiter: B::new_waiter(),
            _pin: PhantomPinned,
        }
    }

    /// Splits the pinned future into its node (pinned) and its plain state.
    fn project(self: Pin<&mut Self>) -> (&'a Semaphore<B>, &mut AcquireState, Pin<&B::Waiter>) {
        // SAFETY: `waiter` is never moved out of `self`, which is pinned, so
        // pinning a shared reference to it is sound. The two references are
        // to disjoint fields.
        unsafe {
            let this = self.get_unchecked_mut();
            (this.sem, &mut this.st, Pin::new_unchecked(&this.waiter))
        }
    }
}

impl AcquireState {
    /// Notes that this waiter starts (or resumes) waiting.
    fn queued(&mut self) {
        #[cfg(not(loom))]
        self.waiting_since
            .get_or_insert_with(std::time::Instant::now);
    }

    /// Called when a woken waiter finds the permits taken: says whether it
    /// has waited past the starvation bound.
    fn passed_over(&mut self) -> bool {
        #[cfg(not(loom))]
        {
            self.waiting_since
                .is_some_and(|since| since.elapsed() >= STARVATION_BOUND)
        }
        // Loom has no clock: the first failed wake-up passes the bound, which
        // makes the priority path reachable in the models.
        #[cfg(loom)]
        true
    }

    fn poll<B: WaitQueue>(
        &mut self,
        sem: &Semaphore<B>,
        waiter: Pin<&B::Waiter>,
        cx: &mut Context<'_>,
    ) -> Step {
        loop {
            let step = match self.phase {
                Phase::Start => self.start(sem, waiter, cx),
                Phase::Queued => {
                    // SAFETY: registered with `sem.queue` in `start`.
                    if unsafe { self.wait(&sem.queue, waiter, cx) }.is_pending() {
                        return Poll::Pending;
                    }
                    sem.dequeue();
                    self.on_woken(sem)
                }
                Phase::Priority => self.collect(sem, waiter, cx),
                Phase::PriorityQueued => {
                    // SAFETY: registered with `sem.priority` in `collect`.
                    if unsafe { self.wait(&sem.priority, waiter, cx) }.is_pending() {
                        return Poll::Pending;
                    }
                    self.phase = Phase::Priority;
                    continue;
                }
                Phase::Done => panic!("`Acquire` polled after completion"),
            };
            match step {
                // A blocking acquire sleeps in the queue's `wait_blocking`
                // (next loop turn) rather than returning `Pending`.
                Some(Poll::Pending) if self.blocking => {}
                Some(step) => return step,
                None => {}
            }
        }
    }

    /// Waits in `queue` for a notification: polls it, or, for a blocking
    /// acquire, sleeps until it comes.
    ///
    /// # Safety
    ///
    /// As for [`WaitQueue::poll_wait`].
    unsafe fn wait<B: WaitQueue>(
        &self,
        queue: &B,
        waiter: Pin<&B::Waiter>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        #[cfg(not(loom))]
        if self.blocking {
            // SAFETY: forwarded from the caller.
            unsafe { queue.wait_blocking(waiter) };
            return Poll::Ready(());
        }
        // SAFETY: forwarded from the caller.
        unsafe { queue.poll_wait(waiter, cx) }
    }

    fn finish(&mut self, result: Result<(), AcquireError>) -> Option<Step> {
        self.phase = Phase::Done;
        Some(Poll::Ready(result))
    }

    /// Fast path, then registration and re-check.
    fn start<B: WaitQueue>(
        &mut self,
        sem: &Semaphore<B>,
        waiter: Pin<&B::Waiter>,
        cx: &mut Context<'_>,
    ) -> Option<Step> {
        match sem.try_take(self.want, sem.strict) {
            Ok(()) => return self.finish(Ok(())),
            Err(TryAcquireError::Closed) => return self.finish(Err(AcquireError(()))),
            Err(TryAcquireError::NoPermits) => {}
        }
        // SAFETY: the waiter is idle in `Start`; it is only used with
        // `sem.queue` until it is idle again; it is pinned in the future,
        // whose `Drop` cancels it.
        unsafe { sem.queue.register(waiter, cx.waker()) };
        sem.enqueue();
        self.phase = Phase::Queued;
        self.queued();
        // SeqCst: orders the registration (and count) before the re-check,
        // against `wake_next`'s (change; fence; look for waiters).
        fence(SeqCst);
        let result = if sem.strict {
            // Permits go only to the head of the queue: make sure the head is
            // woken if permits are free now. It may be us.
            sem.wake_next();
            if sem.permits.load(Relaxed) & CLOSED == 0 {
                return Some(Poll::Pending);
            }
            Err(AcquireError(()))
        } else {
            match sem.try_take(self.want, false) {
                Err(TryAcquireError::NoPermits) => return Some(Poll::Pending),
                Ok(()) => Ok(()),
                Err(TryAcquireError::Closed) => Err(AcquireError(())),
            }
        };
        // Completed on the re-check: leave the queue, passing on a wake-up
        // that may have reached us meanwhile. Uncount before unlinking, so
        // that a counted waiter is always queued (`wake_next` relies on it).
        sem.dequeue();
        // SAFETY: registered with `sem.queue` just above.
        let notified = unsafe { sem.queue.cancel(waiter) };
        if notified {
            sem.clear_pending();
            sem.wake_next();
        }
        self.finish(result)
    }

    /// A queued waiter was woken (and uncounted): it is served, becomes the
    /// priority waiter, or queues again. Whichever it does, it clears
    /// `PENDING` (it may be the wake-up in flight), and it calls `wake_next`
    /// after any outcome that can leave permits for others.
    fn on_woken<B: WaitQueue>(&mut self, sem: &Semaphore<B>) -> Option<Step> {
        if !sem.strict {
            let result = match sem.try_take(self.want, false) {
                Ok(()) => Ok(()),
                Err(TryAcquireError::Closed) => Err(AcquireError(())),
                Err(TryAcquireError::NoPermits) => Err(AcquireError(())),
            };
            if result.is_ok() || sem.is_closed() {
                sem.clear_pending();
                sem.wake_next();
                return self.finish(result);
            }
        }
        if sem.strict || self.want > 1 || self.passed_over() {
            // PRIORITY is set before PENDING is cleared, so no second waiter
            // is woken to race us for the baton (strict FIFO relies on it).
            match sem.claim_priority(self.want) {
                Claim::Served => {
                    // Everything we want was free: we never held PRIORITY,
                    // so we must not go through `collect`, whose completion
                    // clears the bit (it may be another waiter's by then).
                    sem.clear_pending();
                    sem.wake_next();
                    return self.finish(Ok(()));
                }
                Claim::Priority(taken) => {
                    sem.clear_pending();
                    self.held = taken;
                    self.phase = Phase::Priority;
                    return None;
                }
                Claim::Refused => {}
            }
        }
        sem.clear_pending();
        if sem.is_closed() {
            sem.wake_next();
            return self.finish(Err(AcquireError(())));
        }
        // Queue again: `start` re-registers and re-checks.
        self.phase = Phase::Start;
        None
    }

    /// As the priority waiter: collects released permits until it has
    /// `want`, waiting in `sem.priority` in between.
    fn collect<B: WaitQueue>(
        &mut self,
        sem: &Semaphore<B>,
        waiter: Pin<&B::Waiter>,
        cx: &mut Context<'_>,
    ) -> Option<Step> {
        let mut registered = false;
        loop {
            let outcome = sem.collect(self.held, self.want - self.held);
            let result = match outcome {
                Collect::Partial(taken) => {
                    self.held += taken;
                    if registered {
                        self.phase = Phase::PriorityQueued;
                        return Some(Poll::Pending);
                    }
                    // SAFETY: the waiter is idle in `Priority`; it is only
                    // used with `sem.priority` until it is idle again; pinned
                    // in the future, whose `Drop` cancels it.
                    unsafe { sem.priority.register(waiter, cx.waker()) };
                    registered = true;
                    // SeqCst: registration before the re-check (the next
                    // `collect`), against `wake_next`'s (change; fence; look).
                    fence(SeqCst);
                    continue;
                }
                Collect::Done => Ok(()),
                Collect::Closed => Err(AcquireError(())),
            };
            if registered {
                // SAFETY: registered with `sem.priority` above. A wake-up
                // it may have got is moot: we are leaving the priority role.
                unsafe { sem.priority.cancel(waiter) };
            }
            self.held = 0;
            // PRIORITY is cleared: hand leftover permits to the queue.
            sem.wake_next();
            return self.finish(result);
        }
    }

    /// Leaves the semaphore as it was before this wait: called on drop.
    fn cancel<B: WaitQueue>(&mut self, sem: &Semaphore<B>, waiter: Pin<&B::Waiter>) {
        match self.phase {
            Phase::Start | Phase::Done => {}
            Phase::Queued => {
                // Uncount before unlinking, as in `start`.
                sem.dequeue();
                // SAFETY: registered with `sem.queue`.
                let notified = unsafe { sem.queue.cancel(waiter) };
                if notified {
                    // We were the wake-up in flight: pass it on.
                    sem.clear_pending();
                    sem.wake_next();
                }
            }
            Phase::Priority | Phase::PriorityQueued => {
                if self.phase == Phase::PriorityQueued {
                    // SAFETY: registered with `sem.priority`.
                    unsafe { sem.priority.cancel(waiter) };
                }
                sem.abandon_priority(self.held);
                self.held = 0;
            }
        }
        self.phase = Phase::Done;
    }
}

impl<'a, B: WaitQueue> Future for Acquire<'a, B> {
    type Output = Result<SemaphorePermit<'a, B>, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (sem, st, waiter) = self.project();
        // With the `tokio` feature, each completed acquire spends a unit of
        // tokio's task budget, as tokio's own semaphore does.
        crate::coop::budgeted(cx, |cx| st.poll(sem, waiter, cx)).map(|result| {
            result.map(|()| SemaphorePermit {
                sem,
                permits: st.want,
            })
        })
    }
}

impl<B: WaitQueue> Drop for Acquire<'_, B> {
    fn drop(&mut self) {
        // SAFETY: `drop` is the last use of `self`. If the future was ever
        // polled it was pinned, so `waiter` has not moved since; if it was
        // not, the waiter is idle and `cancel` does not touch it (`Start`).
        let waiter = unsafe { Pin::new_unchecked(&self.waiter) };
        self.st.cancel(self.sem, waiter);
    }
}

impl<B: WaitQueue> fmt::Debug for Acquire<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("want", &self.st.want)
            .field("held", &self.st.held)
            .field("phase", &self.st.phase)
            .finish_non_exhaustive()
    }
}

/// Permits borrowed from a [`Semaphore`]; dropping it returns them.
#[must_use = "dropping the permit returns it to the semaphore at once"]
pub struct SemaphorePermit<'a, B: WaitQueue = DefaultBackend> {
    sem: &'a Semaphore<B>,
    permits: usize,
}

/// Owned permits from an `Arc<Semaphore>`; dropping it returns them.
#[must_use = "dropping the permit returns it to the semaphore at once"]
pub struct OwnedSemaphorePermit<B: WaitQueue = DefaultBackend> {
    sem: Arc<Semaphore<B>>,
    permits: usize,
}

impl<'a, B: WaitQueue> SemaphorePermit<'a, B> {
    /// Forgets the permits without returning them: the semaphore has that
    /// many fewer permits from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(2);
    /// semaphore.try_acquire().unwrap().forget();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Returns how many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(3);
    /// assert_eq!(semaphore.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Returns the semaphore the permits belong to.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(1);
    /// let permit = semaphore.try_acquire().unwrap();
    /// assert!(std::ptr::eq(permit.semaphore(), &semaphore));
    /// ```
    pub fn semaphore(&self) -> &'a Semaphore<B> {
        self.sem
    }

    /// Moves the permits of `other` into `self`.
    ///
    /// # Panics
    ///
    /// Panics if the permits come from different semaphores.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(3);
    /// let mut a = semaphore.try_acquire().unwrap();
    /// a.merge(semaphore.try_acquire_many(2).unwrap());
    /// assert_eq!(a.num_permits(), 3);
    /// ```
    #[track_caller]
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "merging permits from different semaphore instances"
        );
        self.permits = self
            .permits
            .checked_add(other.permits)
            .expect("merged permit count overflows usize");
        other.permits = 0;
    }

    /// Splits `n` permits off into a new permit. Returns `None` if this holds
    /// fewer than `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(3);
    /// let mut a = semaphore.try_acquire_many(3).unwrap();
    /// let b = a.split(1).unwrap();
    /// assert_eq!((a.num_permits(), b.num_permits()), (2, 1));
    /// assert!(a.split(5).is_none());
    /// ```
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(Self {
            sem: self.sem,
            permits: n,
        })
    }
}

impl<B: WaitQueue> OwnedSemaphorePermit<B> {
    /// Forgets the permits without returning them.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(1));
    /// semaphore.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(semaphore.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Returns how many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(2));
    /// assert_eq!(semaphore.try_acquire_many_owned(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Returns the semaphore the permits belong to.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(1));
    /// let permit = semaphore.clone().try_acquire_owned().unwrap();
    /// assert!(Arc::ptr_eq(permit.semaphore(), &semaphore));
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore<B>> {
        &self.sem
    }

    /// Moves the permits of `other` into `self`.
    ///
    /// # Panics
    ///
    /// Panics if the permits come from different semaphores.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(2));
    /// let mut a = semaphore.clone().try_acquire_owned().unwrap();
    /// a.merge(semaphore.clone().try_acquire_owned().unwrap());
    /// assert_eq!(a.num_permits(), 2);
    /// ```
    #[track_caller]
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
            "merging permits from different semaphore instances"
        );
        self.permits = self
            .permits
            .checked_add(other.permits)
            .expect("merged permit count overflows usize");
        other.permits = 0;
    }

    /// Splits `n` permits off into a new owned permit. Returns `None` if this
    /// holds fewer than `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(2));
    /// let mut a = semaphore.clone().try_acquire_many_owned(2).unwrap();
    /// let b = a.split(1).unwrap();
    /// assert_eq!((a.num_permits(), b.num_permits()), (1, 1));
    /// ```
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(Self {
            sem: self.sem.clone(),
            permits: n,
        })
    }
}

impl<B: WaitQueue> Drop for SemaphorePermit<'_, B> {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl<B: WaitQueue> Drop for OwnedSemaphorePermit<B> {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl<B: WaitQueue> fmt::Debug for SemaphorePermit<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

impl<B: WaitQueue> fmt::Debug for OwnedSemaphorePermit<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}
