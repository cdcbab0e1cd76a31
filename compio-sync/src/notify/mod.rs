//! Notify a task to wake up, with tokio's `Notify` semantics.
//!
//! # How it works
//!
//! All the state lives in one word, `state = generation << 1 | PERMIT`, plus a
//! registration counter and one wait queue.
//!
//! * **The permit.** `notify_one` first tries to hand its notification to a
//!   queued waiter. Only if nobody is queued does it set `PERMIT`, which the
//!   next `Notified` consumes. Setting the permit races with a waiter that
//!   is registering, which re-checks `PERMIT` after it is queued. On a queue
//!   that links waiters under its selection lock (the default one), the
//!   permit is set under that lock (`WaitQueue::notify_or`), so the waiter's
//!   registration either comes first (and is notified) or sees the permit.
//!   On the others, the race is resolved by the event count
//!   `registrations`: the waiter registers, counts itself, `fence(SeqCst)`s
//!   and re-checks `PERMIT`; the notifier sets `PERMIT`, `fence(SeqCst)`s
//!   and re-reads the count, and if it moved, takes the permit back and
//!   retries the queue. Either way the waiter takes the permit or the
//!   notifier finds the waiter, and one notification is never delivered
//!   twice. `PERMIT` is one bit, so at most one is stored.
//! * **`notify_waiters` and the generation.** A `Notified` records the
//!   generation (the number of `notify_waiters` calls) when it is created,
//!   and completes once it changes, as in tokio. `notify_waiters` bumps the
//!   generation, `fence(SeqCst)`s and wakes every queued waiter. A
//!   registering waiter re-checks the generation after its fence.
//! * **Which notification did a waiter get?** The queue tells it: the
//!   notifier hands each waiter it selects a wake-up value, `ONE` or `LAST`
//!   (with the generation the notifier saw) or `ALL`. A waiter that completes
//!   because a `notify_waiters` covers it, but also holds a `notify_one` sent
//!   after that broadcast (a later generation than its own), passes the
//!   `notify_one` on in the same order (FIFO or LIFO), as tokio's would
//!   have gone to another waiter. A `Notified` dropped while holding a
//!   `notify_one` passes it on the same way; one woken by `notify_waiters`
//!   passes nothing on.

mod notified;

use std::fmt;

pub use self::notified::{Notified, OwnedNotified};

// The flavor (see `crate::flavor`): this file is compiled once under the
// crate root and once under `crate::local`.
use super::flavor::{self, Arc, AtomicUsize, DefaultBackend, Ordering::*, fence};
use crate::backend::WaitQueue;

/// `state`: a `notify_one` is stored for the next `Notified`.
const PERMIT: usize = 1;
/// `state`: the generation (count of `notify_waiters` calls) sits above this.
const GENERATION_SHIFT: u32 = 1;
/// `state`: one `notify_waiters` call.
const ONE_GENERATION: usize = 1 << GENERATION_SHIFT;

fn generation(state: usize) -> usize {
    state >> GENERATION_SHIFT
}

/// Wake-up values: the low two bits say which notify picked the waiter;
/// `ONE` and `LAST` carry the generation the notifier saw above them.
const KIND: usize = 0b11;
/// Wake-up: picked by `notify_one`.
const ONE: usize = 0;
/// Wake-up: picked by `notify_last`.
const LAST: usize = 1;
/// Wake-up: reached by `notify_waiters`.
const ALL: usize = 2;
/// Where the generation sits in a `ONE`/`LAST` wake-up.
const WAKEUP_GENERATION_SHIFT: u32 = 2;

fn one_wakeup(lifo: bool, generation: usize) -> usize {
    (generation << WAKEUP_GENERATION_SHIFT) | if lifo { LAST } else { ONE }
}

/// Whether a `ONE`/`LAST` wake-up was sent at `generation` (compared in the
/// bits the wake-up keeps; the counter wraps).
fn sent_at(wakeup: usize, generation: usize) -> bool {
    (generation << WAKEUP_GENERATION_SHIFT) >> WAKEUP_GENERATION_SHIFT
        == wakeup >> WAKEUP_GENERATION_SHIFT
}

/// Notifies a single task, or every waiting task, to wake up.
///
/// A `Notify` carries no data. It signals that something happened, and
/// tasks pair it with their own state. The semantics are
/// [`tokio::sync::Notify`]'s:
///
/// * [`notified()`](Self::notified)`.await` waits for a notification.
/// * [`notify_one`](Self::notify_one) wakes the longest-waiting task. If no
///   task waits, it stores a *permit* instead, and the next `notified()`
///   completes at once. At most one permit is stored, however many
///   `notify_one` calls there are.
/// * [`notify_last`](Self::notify_last) is the same, but wakes the task
///   that started waiting most recently.
/// * [`notify_waiters`](Self::notify_waiters) wakes every task waiting on a
///   [`Notified`] created before the call, and stores no permit.
///
/// `B` is the wait-queue backend (see [`crate::backend`]).
///
/// [`tokio::sync::Notify`]: https://docs.rs/tokio/latest/tokio/sync/struct.Notify.html
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use compio_sync::Notify;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let notify = Arc::new(Notify::new());
/// let waiter = compio::runtime::spawn({
///     let notify = notify.clone();
///     async move {
///         notify.notified().await;
///         "woken"
///     }
/// });
/// notify.notify_one();
/// assert_eq!(waiter.await.unwrap(), "woken");
/// # });
/// ```
///
/// A permit stored before anyone waits is not lost:
///
/// ```
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let notify = compio_sync::Notify::new();
/// notify.notify_one();
/// notify.notify_one(); // still one permit
/// notify.notified().await; // completes at once
/// # });
/// ```
pub struct Notify<B: WaitQueue = DefaultBackend> {
    /// `generation << GENERATION_SHIFT | PERMIT`.
    state: AtomicUsize,
    /// How many times a `Notified` has registered (wrapping), on a queue
    /// that does not register under its selection lock. A `notify_one` that
    /// stores the permit re-reads it to find waiters that registered
    /// meanwhile.
    registrations: AtomicUsize,
    /// Where `Notified` futures wait; `notify_one`/`notify_last` pick one,
    /// `notify_waiters` wakes them all, each with a wake-up value saying
    /// which.
    queue: B,
}

#[cfg(not(loom))]
impl Notify {
    /// Creates a `Notify` with no permit, on the default backend.
    ///
    /// # Examples
    ///
    /// ```
    /// let notify = compio_sync::Notify::new();
    /// notify.notify_one();
    /// ```
    pub fn new() -> Self {
        Self::with_backend()
    }

    /// Creates a `Notify` in a `const` context, e.g. a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::Notify;
    ///
    /// static SHUTDOWN: Notify = Notify::const_new();
    /// SHUTDOWN.notify_waiters();
    /// ```
    pub const fn const_new() -> Self {
        Self::const_with_backend()
    }
}

#[cfg(loom)]
impl Notify {
    /// Creates a `Notify` with no permit, on the default backend.
    pub fn new() -> Self {
        Self::with_backend()
    }
}

impl<B: WaitQueue> Notify<B> {
    /// Creates a `Notify` with no permit, on the backend `B`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Notify, backend::MutexVecDeque};
    ///
    /// let notify = Notify::<MutexVecDeque>::with_backend();
    /// notify.notify_one();
    /// ```
    pub fn with_backend() -> Self {
        Self {
            state: AtomicUsize::new(0),
            registrations: AtomicUsize::new(0),
            queue: B::new(),
        }
    }

    /// `const` form of [`with_backend`](Self::with_backend).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Notify, backend::MutexVecDeque};
    ///
    /// static READY: Notify<MutexVecDeque> = Notify::const_with_backend();
    /// READY.notify_one();
    /// ```
    #[cfg(not(loom))]
    pub const fn const_with_backend() -> Self {
        Self {
            state: AtomicUsize::new(0),
            registrations: AtomicUsize::new(0),
            queue: B::NEW,
        }
    }

    /// Returns a future that completes when this `Notify` is notified.
    ///
    /// The future records how many [`notify_waiters`](Self::notify_waiters)
    /// calls there have been. A later call completes it, even if it has
    /// never been polled. It is queued for [`notify_one`](Self::notify_one)
    /// only once it is polled or [enabled](Notified::enable).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. If a `Notified` picked by `notify_one` or `notify_last`
    /// is dropped before it returns `Ready`, the notification goes to the
    /// next waiter, or becomes the permit. A `Notified` woken by
    /// `notify_waiters` passes nothing on.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::Notify;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let notify = Arc::new(Notify::new());
    /// let notified = notify.notified(); // created before the broadcast
    /// notify.notify_waiters();
    /// notified.await; // completes
    /// # });
    /// ```
    pub fn notified(&self) -> Notified<'_, B> {
        Notified::new(self)
    }

    /// [`notified`](Self::notified), as a future that owns an `Arc` of the
    /// `Notify` and so has no lifetime: it can move into a spawned task.
    ///
    /// # Cancel safety
    ///
    /// As [`notified`](Self::notified).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::Notify;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let notify = Arc::new(Notify::new());
    /// let notified = notify.clone().notified_owned(); // created before the broadcast
    /// let waiter = compio::runtime::spawn(notified);
    /// notify.notify_waiters();
    /// waiter.await.unwrap();
    /// # });
    /// ```
    pub fn notified_owned(self: Arc<Self>) -> OwnedNotified<B> {
        OwnedNotified::new(self)
    }

    /// Wakes the task that has waited longest. If no task waits, stores a
    /// permit for the next [`notified`](Self::notified) instead. At most one
    /// permit is ever stored.
    ///
    /// Everything the caller did before `notify_one` happens-before the
    /// completion of the `Notified` that receives it.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let notify = compio_sync::Notify::new();
    /// let first = notify.notified();
    /// let second = notify.notified();
    /// let (mut first, mut second) = (std::pin::pin!(first), std::pin::pin!(second));
    /// first.as_mut().enable();
    /// second.as_mut().enable();
    /// notify.notify_one();
    /// first.await; // the longest waiter gets it; `second` keeps waiting
    /// # });
    /// ```
    pub fn notify_one(&self) {
        self.notify(false);
    }

    /// Wakes the task that started waiting most recently (LIFO). If no task
    /// waits, stores a permit, as [`notify_one`](Self::notify_one) does.
    ///
    /// Backends that cannot pick the newest waiter say so in their docs, and
    /// pick another one.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let notify = compio_sync::Notify::new();
    /// let first = notify.notified();
    /// let second = notify.notified();
    /// let (mut first, mut second) = (std::pin::pin!(first), std::pin::pin!(second));
    /// first.as_mut().enable();
    /// second.as_mut().enable();
    /// notify.notify_last();
    /// second.await; // the newest waiter gets it
    /// # });
    /// ```
    pub fn notify_last(&self) {
        self.notify(true);
    }

    /// Wakes every task whose [`Notified`] was created before this call,
    /// whether or not it has been polled yet. Stores no permit, and does not
    /// consume one.
    ///
    /// Everything the caller did before `notify_waiters` happens-before the
    /// completion of each `Notified` it completes.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let notify = compio_sync::Notify::new();
    /// // Created (not yet polled) before the broadcast: all three complete.
    /// let notified: Vec<_> = (0..3).map(|_| notify.notified()).collect();
    /// notify.notify_waiters();
    /// futures::future::join_all(notified).await;
    /// // A later `Notified` waits for the next notification.
    /// let mut later = std::pin::pin!(notify.notified());
    /// assert!(!later.as_mut().enable());
    /// # });
    /// ```
    pub fn notify_waiters(&self) {
        // AcqRel: our caller's writes happen-before the completions that see
        // the new generation (their Acquire loads of `state`).
        self.state.fetch_add(ONE_GENERATION, AcqRel);
        // SeqCst: orders the bump before the look at the queue below,
        // against a registering waiter's (register; fence; re-check the
        // generation). Either we find it, or it sees the bump. Where the
        // queue links waiters under the lock `notify_all` takes, the lock
        // does that: whichever of the two takes it second sees the other.
        if !B::REGISTERS_UNDER_SELECTION_LOCK {
            fence(SeqCst);
        }
        self.queue.notify_all(ALL);
    }

    /// `notify_one` (`lifo == false`) or `notify_last` (`lifo == true`).
    fn notify(&self, lifo: bool) {
        if B::REGISTERS_UNDER_SELECTION_LOCK {
            // The generation we see goes with the notification (see below).
            let wakeup = one_wakeup(lifo, generation(self.state.load(Acquire)));
            // Nobody waits: store the permit, under the selection lock that
            // registrations take (`notify_or`). A waiter that registers
            // after it re-checks `PERMIT` and finds it; one that registered
            // before is the one notified. No count, no fence, no retry.
            // AcqRel: our caller's writes happen-before the consumer's
            // (Acquire in `take_permit`). A permit already stored stays
            // one: they do not add up.
            self.queue.notify_or(lifo, wakeup, || {
                self.state.fetch_or(PERMIT, AcqRel);
            });
            return;
        }
        // Acquire: a registration counted here happens-before the queue
        // attempt below, so the attempt sees it (pairs with the Release
        // increment in `Notified::start`).
        let mut seen = self.registrations.load(Acquire);
        loop {
            // The generation we see goes with the notification: a waiter
            // that a later `notify_waiters` covers can tell it was meant for
            // somebody else (see `NotifiedState::leave`).
            let wakeup = one_wakeup(lifo, generation(self.state.load(Acquire)));
            let delivered = if lifo {
                self.queue.notify_last(wakeup)
            } else {
                self.queue.notify_one(wakeup)
            };
            if delivered {
                return;
            }
            // Nobody waits: store the permit. AcqRel: our caller's writes
            // happen-before the consumer's (Acquire in `take_permit`).
            if self.state.fetch_or(PERMIT, AcqRel) & PERMIT != 0 {
                // A permit was already stored: they do not add up.
                return;
            }
            // SeqCst: orders the PERMIT store before the load of
            // `registrations`, against a waiter's (register; count; fence;
            // re-check PERMIT). Either it sees the permit, or we see it
            // counted.
            fence(SeqCst);
            let now = self.registrations.load(Acquire);
            if now == seen {
                return;
            }
            seen = now;
            // A waiter registered since we looked at the queue and may have
            // re-checked before our store: take the permit back and deliver
            // through the queue instead. If it is gone, a waiter took it.
            if !self.take_permit() {
                return;
            }
        }
    }

    /// Consumes the stored permit, if any.
    fn take_permit(&self) -> bool {
        // AcqRel: the notifier's writes happen-before our caller's return
        // (pairs with the AcqRel `fetch_or` in `notify`).
        self.state.load(Relaxed) & PERMIT != 0
            && self.state.fetch_and(!PERMIT, AcqRel) & PERMIT != 0
    }
}

impl<B: WaitQueue> fmt::Debug for Notify<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Relaxed);
        f.debug_struct("Notify")
            .field("permit", &(state & PERMIT != 0))
            .field("notify_waiters_calls", &generation(state))
            .finish_non_exhaustive()
    }
}

/// A `Notify` with no permit, on the default backend only, so that
/// `Notify::default()` needs no type annotation (other backends:
/// `with_backend()`).
impl Default for Notify {
    fn default() -> Self {
        Self::with_backend()
    }
}
