//! An async counting semaphore, with tokio's API and two fairness policies.
//!
//! # How it works
//!
//! The permits live in one atomic word, `permits` (`available << 2 | PRIORITY
//! | CLOSED`), so the uncontended `acquire`/`release` is one CAS each. Tasks
//! that must wait park in one [`WaitQueue`], registered with the number of
//! permits they still need (the waiter's *tag*); their number, plus a
//! `PENDING` flag, lives in a second word, `waiters`. Permits reach a waiter
//! in one of two ways:
//!
//! * **Hand-over** (strict FIFO always; the default policy while a starving
//!   waiter holds `PRIORITY`). A release offers the available permits to the
//!   queue in order (`WaitQueue::notify_while`): the head gets what it still
//!   needs, partially if there are not enough (its tag goes down, and it is
//!   not woken), and is woken with `GRANTED` once it has everything. The
//!   permits never pass through a woken task that might find them gone,
//!   which is tokio's semantics exactly: `available_permits()` counts only
//!   permits no waiter is owed, and an `acquire_many(n)` at the head is
//!   woken once, when it can be served.
//! * **Barging** (the default policy). A task that finds permits takes them,
//!   even if others wait: a hot permit stays on the thread that uses it,
//!   instead of a task switch per operation (often a cross-thread wake). A
//!   release wakes one waiter with `RETRY` unless one is already on its way
//!   (`PENDING`); the woken waiter clears `PENDING` and, if permits remain
//!   after it took its share, wakes the next (a wake chain, as in Go's
//!   `sync.Mutex`), so a burst of releases is not a burst of wakes. The
//!   waiter woken is one of the releasing thread's, if the queue finds one
//!   near its head (`WaitQueue::notify_one_near`): on a thread-per-core
//!   runtime it runs on the releaser's runtime soon, with no cross-thread
//!   wake-up, so the wake-up in flight, which holds back every other, is
//!   short. The head is still woken at least every fifth time. To bound
//!   starvation, a woken waiter that finds the permits taken and has waited
//!   longer than [`STARVATION_BOUND`] or been passed over
//!   [`STARVATION_PASSES`] times, or that needs more than one permit, sets
//!   `PRIORITY`: that closes the barging fast path and switches releases
//!   to hand-over until it is served.
//!
//! Both handshakes (a waiter registering vs a releaser looking for waiters)
//! are the [`WaitQueue`] event-count protocol: register, `fence(SeqCst)`,
//! re-check; change, `fence(SeqCst)`, notify. In hand-over mode both sides
//! move permits they find in the word into the queue, so a permit is never
//! left in the word while a waiter it could serve sleeps.
//!
//! # Files
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | the [`Semaphore`] type, its words' bits, constructors and builders, and the public API |
//! | `acquire.rs` | the [`Acquire`] future: the waiting side (fast path, registering, wake-ups, cancelling) |
//! | `release.rs` | the releasing side: permits coming back, served to waiters or added to the word |
//! | `protocol.rs` | the protocol's private steps: taking permits, waking and handing over, counting waiters, the priority waiter |
//! | `permit.rs` | [`SemaphorePermit`] and [`OwnedSemaphorePermit`] |
//! | `blocking.rs` | the blocking entry points (`blocking_acquire*`), for plain threads |

use std::{fmt, time::Duration};

mod acquire;
#[cfg(not(loom))]
mod blocking;
mod permit;
mod protocol;
mod release;

// The flavor (see `crate::flavor`): this file is compiled once under the
// crate root and once under `crate::local`, and `super::flavor` picks the
// counters, the fence, `Arc` (or `Rc`) and the default queue.
pub use self::{
    acquire::Acquire,
    permit::{OwnedSemaphorePermit, SemaphorePermit},
};
use super::flavor::{self, Arc, AtomicUsize, DefaultBackend, Ordering::*, fence};
use crate::backend::WaitQueue;
pub use crate::error::{AcquireError, TryAcquireError};

/// How long a waiter may wait while barging tasks take the permits before
/// permits are handed to it directly (default policy).
///
/// Measured from when the waiter first queued. A waiter that is woken, finds
/// the permits taken, and has waited this long (or been passed over
/// [`STARVATION_PASSES`] times) becomes the *priority waiter*: it closes the
/// fast path and every release goes to it until it is served.
/// (While its wake-ups come much faster than the bound runs out, a waiter
/// reads the clock only at every few of them: at a steady pace it still
/// notices the bound at once or one wake-up late, and if its wake-ups slow
/// down meanwhile, at most seven late.)
/// Waiters are woken one wake-up in flight at a time, in queue order but for
/// the releasing thread's own waiters near the head, which may go first (the
/// head at least every fifth wake-up; an [`RwLock`](crate::RwLock)'s readers
/// for up to half the bound, see its docs), so a waiter deep in a long queue
/// can wait longer than the bound before its turn to be woken comes; from
/// then on, nobody barges past it.
///
/// This is the default; [`Semaphore::starvation_bound`] sets another per
/// semaphore (and `Mutex`/`RwLock` have the same builder).
pub const STARVATION_BOUND: Duration = Duration::from_micros(500);

/// How many wake-ups a waiter may lose to barging tasks before the permits
/// are handed to it directly (default policy), however short its wait.
///
/// The count is the starvation bound's other half. A waiter that is woken
/// and finds the permits taken has been *passed over*; after this many
/// passes it becomes the priority waiter, as after [`STARVATION_BOUND`]. The
/// clock alone lets the task that releases a hot permit take it back, again
/// and again, for the whole bound: on one runtime the woken waiter can only
/// run while that task holds it, so it was passed over until the bound ran
/// out, and across runtimes every pass costs a cross-thread wake-up. Eight
/// passes keep barging's throughput within a few tens of percent and halve
/// the wait tail. Measured in the comparison binary (quick mode, 2 vCPUs,
/// 3 alternated runs each): S4 with two runtimes sharing one permit, p99
/// wait 500 µs → 240-270 µs at 330 → 420 ns per acquire (tokio: 1-5 µs per
/// acquire); the single-thread Mutex of S10_S6, p99.9 wait 500 µs → 53 µs
/// at 104 → 110 ns per lock.
///
/// A semaphore whose bound is `Duration::MAX` counts no passes: its
/// single-permit waiters are left to barging alone.
// (Loom has no clock, and its waiters starve at their first pass: unused.)
#[cfg_attr(loom, allow(dead_code))]
pub const STARVATION_PASSES: u32 = 8;

/// `permits` word: the semaphore is closed.
const CLOSED: usize = 1;
/// `permits` word: a priority waiter exists; released permits are reserved for
/// it and the fast path is closed.
const PRIORITY: usize = 2;
/// `permits` word: available permits are stored above this shift.
const PERMIT_SHIFT: u32 = 2;

/// Wake-up: permits may be free, go and look (barging).
const WAKE_RETRY: usize = 0;
/// Wake-up: the waiter has been handed every permit it needed.
const WAKE_GRANTED: usize = 1;
/// Wake-up: the semaphore is closed.
const WAKE_CLOSED: usize = 2;

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
    ///
    /// The count may be one low for an instant: a waiter counts itself
    /// after it links, and a hand-over that serves it in between uncounts
    /// it first (wrapping arithmetic: the sum comes right once it counts
    /// itself; `PENDING` is untouched). The served waiter's own re-check
    /// makes up for a release that looked in that instant (see `start` in
    /// `acquire.rs`).
    waiters: AtomicUsize,
    /// How many times a waiter has registered (wrapping): lets a wake that
    /// found nobody tell whether a waiter arrived meanwhile.
    registrations: AtomicUsize,
    /// Strict FIFO instead of barging.
    strict: bool,
    /// Under barging, wake-ups keep to the releasing thread's waiters for up
    /// to half the starvation bound (`WaitQueue::notify_one_near_within`)
    /// rather than for a few wake-ups: set for an `RwLock`'s readers.
    local_phases: bool,
    /// The wait shards (bit `1 << shard`) whose writers wait for an
    /// `RwLock`'s writers' turn: local phases pause on a thread while a
    /// shard other than its own has one (see `keeps_local_phase`).
    phase_pauses: AtomicUsize,
    /// Under barging, how long a waiter may be passed over before the
    /// permits are handed to it ([`STARVATION_BOUND`] unless set).
    starvation_bound: Duration,
    /// Where tasks wait for permits; each waiter's tag is the number of
    /// permits it still needs.
    queue: B,
}

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
            registrations: AtomicUsize::new(0),
            strict: false,
            local_phases: false,
            phase_pauses: AtomicUsize::new(0),
            starvation_bound: STARVATION_BOUND,
            queue: B::new(),
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
            registrations: AtomicUsize::new(0),
            strict: false,
            local_phases: false,
            phase_pauses: AtomicUsize::new(0),
            starvation_bound: STARVATION_BOUND,
            queue: B::NEW,
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

    /// Under the default policy, lets the waiters of the releasing thread
    /// go first for up to half the starvation bound (instead of for at most
    /// 4 wake-ups in a row): for waiters that proceed together once woken,
    /// an `RwLock`'s readers, so that a burst of them runs on the runtime
    /// that ended a write before the others are brought in (see
    /// `WaitQueue::notify_one_near_within`).
    pub(crate) const fn set_local_phases(&mut self) {
        self.local_phases = true;
    }

    /// Whether a wake-up on this thread keeps to its local phase now (see
    /// [`set_local_phases`](Self::set_local_phases)): not while a writer of
    /// another wait shard waits for the writers' turn. Measured in S9 with
    /// 4 runtimes pinned on 2 vCPUs (50% writes), local phases that went on
    /// regardless raised the writers' p99.9 wait from 0.55-0.61x tokio's to
    /// 1.1-1.4x: the writers of the other runtimes, waiting for the turn,
    /// were woken late, on runtimes idle for want of their readers. (Past
    /// `WAIT_SHARDS` threads, threads share shards: a writer of a thread
    /// that shares this one's shard does not pause it.)
    pub(super) fn keeps_local_phase(&self) -> bool {
        self.local_phases && self.phase_pauses.load(Relaxed) & !(1 << flavor::wait_shard()) == 0
    }

    /// A writer of wait shard `shard` starts waiting for the writers' turn:
    /// local phases pause on the other shards' threads until
    /// [`resume_local_phases`](Self::resume_local_phases). The writers of
    /// a shard wait for the turn one at a time (its cohort's gate), so one
    /// bit per shard counts them.
    pub(crate) fn pause_local_phases(&self, shard: usize) {
        // Relaxed: a hint for which waiter a wake-up picks (any may answer
        // it); the gate orders one writer's resume before the next one's
        // pause.
        self.phase_pauses.fetch_or(1 << shard, Relaxed);
    }

    /// The writer of `shard` holds the turn, or left: see
    /// [`pause_local_phases`](Self::pause_local_phases).
    pub(crate) fn resume_local_phases(&self, shard: usize) {
        self.phase_pauses.fetch_and(!(1 << shard), Relaxed);
    }

    /// Sets how long a waiter may be passed over by barging tasks before the
    /// permits are handed to it directly (default policy; see
    /// [`STARVATION_BOUND`], the default). Ignored under
    /// [`strict_fifo`](Self::strict_fifo), where nobody barges. Under any
    /// bound but `Duration::MAX`, a waiter passed over
    /// [`STARVATION_PASSES`] times has the permits handed to it too.
    ///
    /// A shorter bound moves a contended permit between threads more often:
    /// a lower tail of waiting times, and less of barging's throughput.
    /// `Duration::ZERO` hands the permits to any waiter that was woken and
    /// found them taken; `Duration::MAX` leaves single-permit waiters to
    /// barging alone (an `acquire_many(n > 1)` at the head is still handed
    /// its permits, or it could starve for good).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use compio_sync::Semaphore;
    ///
    /// static POOL: Semaphore =
    ///     Semaphore::const_new(4).starvation_bound(Duration::from_micros(100));
    /// # assert_eq!(POOL.available_permits(), 4);
    /// ```
    #[must_use]
    pub const fn starvation_bound(mut self, bound: Duration) -> Self {
        self.set_starvation_bound(bound);
        self
    }

    /// In-place form of [`starvation_bound`](Self::starvation_bound), for
    /// the primitives built on a semaphore.
    pub(crate) const fn set_starvation_bound(&mut self, bound: Duration) {
        self.starvation_bound = bound;
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
    /// Permits already handed to a queued waiter that needs more are not
    /// counted, as in tokio.
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

    /// Whether a waiter is counted in the queue (a snapshot): for the
    /// bounded mpsc channel's slot pool, which flushes its slots to this
    /// semaphore while senders wait (see `mpsc/chan.rs`).
    ///
    /// Acquire: a waiter whose registration (its `count_waiter`) happens-before
    /// this load is seen counted, or the load sees a later change of the
    /// word (it was served or left). A count that is one low for an instant
    /// (see the `waiters` field) can read as no waiter: the caller covers
    /// that case itself.
    pub(crate) fn has_waiters(&self) -> bool {
        self.waiters.load(Acquire) >= ONE_WAITER
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
        self.queue.notify_all(WAKE_CLOSED);
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
    #[inline]
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
    #[inline]
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
    #[inline]
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
    #[inline]
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_, B>, TryAcquireError> {
        self.try_take(n as usize, self.strict)?;
        Ok(SemaphorePermit::new(self, n as usize))
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
        Ok(OwnedSemaphorePermit::new(self, n as usize))
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
        Ok(OwnedSemaphorePermit::new(self, n as usize))
    }
}

impl<B: WaitQueue> fmt::Debug for Semaphore<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.permits.load(Relaxed);
        f.debug_struct("Semaphore")
            .field("permits", &available(word))
            .field("closed", &(word & CLOSED != 0))
            .field("waiters", &(self.waiters.load(Relaxed) / ONE_WAITER))
            .field("strict_fifo", &self.strict)
            .field("starvation_bound", &self.starvation_bound)
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
