//! [`SegQueue`]: waiter handles in a lock-free `crossbeam_queue::SegQueue`.
//!
//! # Handles
//!
//! Each registration allocates a [`Handle`]: an `Arc` holding the wait's
//! state, its tag, the wake-up value a notifier hands over, and a waker cell
//! (`AtomicWaker`-style; see `waker_cell`). One reference lives in the
//! waiter, one in the queue. A handle's `state` is one of:
//!
//! * `WAITING`: queued and selectable;
//! * `SELECTING`: a `notify_while` holding the consumer lock has claimed it
//!   and is running its selector on the tag; it leaves before the lock is
//!   released, to `NOTIFIED` or back to `WAITING`;
//! * `NOTIFIED`: a consumer selected it (final for the handle);
//! * `CANCELLED`: its owner won `WAITING -> CANCELLED` (final). The handle
//!   may stay queued as a *stale* entry; whoever pops it drops it and moves
//!   on.
//!
//! Every transition out of `WAITING` is a `compare_exchange` on that one
//! word, so a notifier and a cancelling owner agree on who won. A stale
//! handle is never offered to a selector and never consumes a `notify_one`:
//! the notifier drops it and takes the next one. (A stale entry woken in
//! place of a live waiter would lose that waiter's wake-up: this is why a
//! handle has a state at all, rather than being a bare waker.)
//!
//! # Selection with a tag: the `SELECTING` claim
//!
//! A `notify_while` selector reads and may lower the offered waiter's tag,
//! and the owner may cancel at the same moment. The owner must read exactly
//! the tag the selector left (a semaphore's release may have assigned it
//! permits, which the owner then gives back), never a half-made selection.
//! So the notifier first claims the handle (`WAITING -> SELECTING`), runs
//! the selector on a copy of the tag, writes the tag (and the wake-up), and
//! only then leaves `SELECTING`: to `NOTIFIED` if selected, to `WAITING` if
//! kept. An owner whose cancel finds `SELECTING` waits for the consumer lock
//! (the claim never outlives it, and no user code runs under it) and tries
//! again. Its successful `WAITING -> CANCELLED` exchange reads the `WAITING`
//! that ended the claim, so it sees the tag written before it.
//!
//! # Producers are lock-free, consumers take turns
//!
//! `register` (allocate, push) and `cancel` (one `compare_exchange`, unless
//! it meets a claim) never lock; `register_front` does. Everything that pops (`notify_*` and the
//! purge) holds the `consumer` lock. `SegQueue` has no `peek` and no
//! push-to-front, so the consumer side keeps `front`: handles popped from the
//! `SegQueue` but not consumed, which logically precede it. `notify_while`
//! looks at the head by moving it to `front` and leaves it there when its
//! selector says `Keep`; `notify_all` puts back the first handle registered
//! after it started; the purge moves live handles there; `register_front`
//! pushes its handle there, under the lock. Every pop takes from `front`
//! first. Because consumers take turns, nobody observes the queue
//! while a handle is between the two, which keeps `notify_one` exact (a
//! consumer never finds the queue empty while a live handle is out of it) and
//! the order strict FIFO (a handle in `front` is older than every handle in
//! the `SegQueue`, or was registered at the front).
//!
//! # Bounded growth
//!
//! A stream of cancelled waits (`timeout(acquire)` that always expires) leaves
//! stale handles behind with nobody popping them. `stale` counts them; when a
//! cancellation finds at least `PURGE_MIN` (32) of them and more stale than
//! live handles, it purges: it pops up to the queue's length, drops stale
//! handles and moves live ones, in order, to `front`. It only `try_lock`s the
//! consumer lock (a consumer at work pops stale handles too) until the stale
//! handles reach `4 × max(live, PURGE_MIN)`; from there it waits for the lock.
//! Without concurrent cancellations the queue holds at most
//! `max(2 × live, PURGE_MIN + live)` handles; with them, at most
//! `4 × max(live, PURGE_MIN) + live` plus one per cancelling thread.

//! # Files
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | the queue and its [`WaitQueue`] implementation |
//! | `handle.rs` | a registration's `Handle` (its state word and waker cell) and the waiter that owns it |
//! | `consumer.rs` | the consumer side: popping, selecting with a claim, purging stale handles |
//! | `tests.rs` | unit tests: bounded growth, hand-over order, races of selection and cancel |

mod consumer;
mod handle;
#[cfg(all(test, not(loom)))]
mod tests;

use std::{
    collections::VecDeque,
    pin::Pin,
    ptr,
    task::{Context, Poll, Waker},
};

pub use self::handle::SegQueueWaiter;
use self::handle::{CANCELLED, Handle, NOTIFIED, SELECTING, WAITING};
use super::{
    Cancelled, Select, WaitQueue, WakeBatch, Woken,
    retired::{Retired, reuse_or_clone},
    waker_cell::WakerCell,
};
use crate::loom::{
    Arc, ParkingMutex,
    atomic::{AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering::*},
};

/// A wait queue of reference-counted waiter handles in a lock-free
/// `crossbeam_queue::SegQueue`.
///
/// `register` and `cancel` are lock-free (a cancel that races a
/// `notify_while` looking at the same waiter waits for it); notifiers and
/// `register_front` take turns on a short consumer lock. `notify_one` and `notify_while` are strict
/// FIFO, so this backend supports both fairness policies. It cannot find the
/// newest waiter: `notify_last` notifies the oldest, like `notify_one`.
///
/// Each wait allocates one handle (an `Arc`), since a handle must outlive a
/// cancelled future while it is still queued.
pub struct SegQueue {
    /// Handles in registration order, after those in `front`.
    queue: crate::loom::SegQueue<Arc<Handle>>,
    /// Handles in `front` and `queue`, stale ones included, plus
    /// registrations that counted themselves and have not pushed yet.
    /// Incremented before a push, decremented after a pop that consumes.
    len: AtomicUsize,
    /// Cancelled handles still in `front` or `queue`. Incremented before the
    /// cancelling exchange (undone if it fails), decremented by the consumer
    /// that pops the handle, so it never underflows.
    stale: AtomicUsize,
    /// `notify_all` generation. Bumped under the consumer lock; a handle
    /// records the value read at registration.
    epoch: AtomicU64,
    /// The selection lock of contract point 4, held by every consumer. It
    /// guards `front` (handles popped from `queue` but not consumed, older
    /// than everything still in `queue`) and every `SELECTING` claim.
    consumer: ParkingMutex<VecDeque<Arc<Handle>>>,
}

// SAFETY: contract points as argued in the code:
// 1. a handle is selected by one transition out of `WAITING` (an exchange to
//    `NOTIFIED`, or the `SELECTING` claim ended by a store of `NOTIFIED`) made
//    by the consumer that holds the consumer lock and the handle, so each
//    selection is exact and stale handles are skipped, never counted or
//    offered; consumers take turns and `front` precedes `queue`, so the
//    oldest handle (or the last registered at the front) is at the head
//    whenever one pops (FIFO); `notify_all` stops at the first live handle
//    with a later epoch, and every handle registered before its epoch bump
//    is ahead of those (front registrations carry epoch 0).
// 2. `NOTIFIED` and `CANCELLED` are final for a handle; `cancel` reads
//    `NOTIFIED` through its failed exchange, and the tag the last claim left
//    through its successful one.
// 3. the owner registers into the handle's waker cell and re-checks; the
//    notifier takes the waker after marking.
// 4. Release on `-> NOTIFIED`, Acquire where the owner reads it; `len` is
//    counted before the push, so the caller's SeqCst fences order it against
//    the notifier's `len` check; every selection holds the consumer lock.
// 5. wakers are taken under the consumer lock and woken after it; dropping a
//    handle runs no user code (see `Handle`).
// 6. the queue never points into the waiter: it holds its own reference to
//    the handle.
// 7. `register` drops the retired waker and clones first; `poll_wait` keeps
//    the handle in the waiter while user code runs; `cancel` and a `Ready`
//    run none (the waker they take back is retired into the waiter).
unsafe impl WaitQueue for SegQueue {
    type Waiter = SegQueueWaiter;

    #[cfg(not(loom))]
    const NEW: Self = Self {
        queue: crossbeam_queue::SegQueue::new(),
        len: AtomicUsize::new(0),
        stale: AtomicUsize::new(0),
        epoch: AtomicU64::new(0),
        consumer: ParkingMutex::new(VecDeque::new()),
    };

    fn new() -> Self {
        Self {
            queue: crate::loom::SegQueue::new(),
            len: AtomicUsize::new(0),
            stale: AtomicUsize::new(0),
            epoch: AtomicU64::new(0),
            consumer: ParkingMutex::new(VecDeque::new()),
        }
    }

    fn new_waiter() -> SegQueueWaiter {
        SegQueueWaiter {
            handle: AtomicPtr::new(ptr::null_mut()),
            retired: Retired::new(),
        }
    }

    unsafe fn register(&self, waiter: Pin<&SegQueueWaiter>, waker: &Waker, tag: usize) {
        // Cloned (or the retired waker reused) first: user code, and if it
        // panics nothing has happened yet (the waiter is idle, contract point
        // 7). Nothing below runs user code.
        // SAFETY: the caller guarantees the waiter is idle, and is its owner.
        let waker = reuse_or_clone(unsafe { waiter.retired.take() }, waker);
        let handle = Arc::new(Handle {
            state: AtomicU8::new(WAITING),
            tag: AtomicUsize::new(tag),
            wakeup: AtomicUsize::new(0),
            waker: WakerCell::new(),
            // Acquire: pairs with `notify_all`'s bump, so a handle that reads
            // the new epoch is pushed after every handle registered before it.
            epoch: self.epoch.load(Acquire),
        });
        // The waker is in place before the handle can be popped; the cell is
        // new, so nothing is replaced.
        let none = handle.waker.register(waker);
        debug_assert!(none.is_none());
        waiter.put(handle.clone());
        // Counted before the push: `len` never under-counts, so a notifier that
        // reads 0 (after its fence) may skip the lock.
        self.len.fetch_add(1, Relaxed);
        self.queue.push(handle);
    }

    unsafe fn register_front(&self, waiter: Pin<&SegQueueWaiter>, waker: &Waker, tag: usize) {
        // As in `register`: cloned or reused first, no user code below.
        // SAFETY: as in `register`.
        let waker = reuse_or_clone(unsafe { waiter.retired.take() }, waker);
        let handle = Arc::new(Handle {
            state: AtomicU8::new(WAITING),
            tag: AtomicUsize::new(tag),
            wakeup: AtomicUsize::new(0),
            waker: WakerCell::new(),
            // Older than every `notify_all`: the head keeps the lowest epoch
            // (`notify_all` stops at the first later one), and a `notify_all`
            // under way may count this waiter (as the trait allows).
            epoch: 0,
        });
        let none = handle.waker.register(waker);
        debug_assert!(none.is_none());
        waiter.put(handle.clone());
        // Counted before it becomes visible, as in `register`.
        self.len.fetch_add(1, Relaxed);
        // The head of `front` is the head of the queue. Registrants at the
        // front take the consumer lock; the lock-free path is `register`.
        self.consumer.lock().push_front(handle);
    }

    unsafe fn poll_wait(&self, waiter: Pin<&SegQueueWaiter>, cx: &mut Context<'_>) -> Poll<Woken> {
        let mut handle = waiter.take().expect("poll_wait: waiter not registered");
        // Acquire: pairs with the Release that marked it (contract point 4).
        // `SELECTING` counts as not notified: the claim ends before the
        // waker is taken.
        if handle.state.load(Acquire) != NOTIFIED {
            if !handle.waker.will_wake(cx.waker()) {
                // Cloning is user code (contract point 7): the handle goes
                // back into the waiter while it runs, so that a panic leaves
                // the waiter registered (never a queued handle its owner lost
                // track of, which would eat a wake-up).
                waiter.put(handle);
                let fresh = cx.waker().clone();
                handle = waiter.take().expect("poll_wait: handle put back above");
                let stale = handle.waker.register(fresh);
                // The same for the replaced waker's drop.
                waiter.put(handle);
                drop(stale);
                handle = waiter.take().expect("poll_wait: handle put back above");
            }
            // Register, then re-check: a notifier that selected us before the
            // register woke the old waker, or found the cell busy and took
            // nothing; either way we see `NOTIFIED` here.
            if handle.state.load(Acquire) != NOTIFIED {
                waiter.put(handle);
                return Poll::Pending;
            }
        }
        // SAFETY: we are the waiter's owner, in its `poll_wait`.
        Poll::Ready(unsafe { finish(&waiter, handle) })
    }

    unsafe fn poll_notified(&self, waiter: Pin<&SegQueueWaiter>) -> Poll<Woken> {
        let handle = waiter.take().expect("poll_notified: waiter not registered");
        // Acquire: pairs with the Release that marked it (contract point 4).
        // `SELECTING` counts as not notified, as in `poll_wait`.
        if handle.state.load(Acquire) != NOTIFIED {
            waiter.put(handle);
            return Poll::Pending;
        }
        // SAFETY: we are the waiter's owner, in its `poll_notified`.
        Poll::Ready(unsafe { finish(&waiter, handle) })
    }

    unsafe fn cancel(&self, waiter: Pin<&SegQueueWaiter>) -> Cancelled {
        let Some(handle) = waiter.take() else {
            return Cancelled::Idle;
        };
        let outcome = loop {
            // Counted before the exchange, so the consumer that pops the
            // handle and decrements can never run first.
            self.stale.fetch_add(1, Relaxed);
            // Release on success: orders the count above before a consumer's
            // Acquire read of `CANCELLED`. Acquire on success: pairs with the
            // Release that ended the last claim, so we read the tag it left.
            // Acquire on failure: we read `NOTIFIED` and then pass the
            // notification on, after everything the notifier did (point 4).
            match handle
                .state
                .compare_exchange(WAITING, CANCELLED, AcqRel, Acquire)
            {
                Ok(_) => {
                    break Cancelled::Removed {
                        tag: handle.tag.load(Relaxed),
                    };
                }
                Err(state) => {
                    self.stale.fetch_sub(1, Relaxed);
                    if state == NOTIFIED {
                        break Cancelled::Notified(handle.woken());
                    }
                    debug_assert_eq!(state, SELECTING, "cancel: handle already cancelled");
                    self.wait_for_claim(&handle);
                }
            }
        };
        let waker = handle.waker.take();
        drop(handle);
        if let Cancelled::Removed { .. } = outcome {
            self.maybe_purge();
        }
        // User code: retired, and dropped after the caller has acted on the
        // result (contract point 7).
        // SAFETY: we are the waiter's owner, in its `cancel`.
        unsafe { waiter.retired.keep(waker) };
        outcome
    }

    fn notify_one(&self, wakeup: usize) -> bool {
        // The caller's fence(SeqCst) precedes this load and a registrant's
        // follows its `len` increment, so 0 here means no waiter to find.
        if self.len.load(Relaxed) == 0 {
            return false;
        }
        let waker = {
            let mut front = self.consumer.lock();
            loop {
                let Some(handle) = self.pop(&mut front) else {
                    return false;
                };
                if let Some(waker) = self.consume(handle, wakeup) {
                    break waker;
                }
            }
        };
        // Woken with the lock released (contract point 5).
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }

    fn notify_all(&self, wakeup: usize) -> usize {
        // As in `notify_one`.
        if self.len.load(Relaxed) == 0 {
            return 0;
        }
        let mut batch = WakeBatch::new();
        let mut count = 0;
        let mut front = self.consumer.lock();
        // AcqRel: Release pairs with the Acquire epoch read in `register`.
        // Every handle queued now has an epoch <= `target`; a handle with a
        // later one was registered after this point, behind all of them.
        let target = self.epoch.fetch_add(1, AcqRel);
        loop {
            let mut drained = true;
            loop {
                if batch.is_full() {
                    drained = false;
                    break;
                }
                let Some(handle) = self.pop(&mut front) else {
                    break;
                };
                if handle.epoch > target && handle.state.load(Relaxed) == WAITING {
                    // Registered after we started: not ours, and it stays
                    // the oldest handle.
                    front.push_front(handle);
                    break;
                }
                if let Some(waker) = self.consume(handle, wakeup) {
                    batch.push(waker);
                    count += 1;
                }
            }
            drop(front);
            batch.wake_all();
            if drained {
                // Resumes the first panic a waker raised, once every batch is done.
                batch.finish();
                return count;
            }
            front = self.consumer.lock();
        }
    }

    fn notify_while(&self, mut select: impl FnMut(&mut usize) -> Select) -> usize {
        // As in `notify_one`.
        if self.len.load(Relaxed) == 0 {
            return 0;
        }
        let mut batch = WakeBatch::new();
        let mut count = 0;
        let mut front = self.consumer.lock();
        loop {
            let mut done = true;
            loop {
                if batch.is_full() {
                    done = false;
                    break;
                }
                let Some(waker) = self.offer_head(&mut front, &mut select) else {
                    break;
                };
                batch.push(waker);
                count += 1;
            }
            drop(front);
            batch.wake_all();
            if done {
                // Resumes the first panic a waker raised, once every batch is done.
                batch.finish();
                return count;
            }
            front = self.consumer.lock();
        }
    }
}

/// A notified registration's end (`poll_wait`'s and `poll_notified`'s
/// `Ready`): what the notifier handed over. Done with the handle, its waker
/// is cleared before letting go (see `Handle`); dropping the waker is user
/// code, so it is retired, and a panic cannot lose this `Ready` (contract
/// point 7).
///
/// # Safety
///
/// The caller is `waiter`'s owner, in one of its polls.
unsafe fn finish(waiter: &SegQueueWaiter, handle: Arc<Handle>) -> Woken {
    let woken = handle.woken();
    let waker = handle.waker.take();
    drop(handle);
    // SAFETY: the caller's contract.
    unsafe { waiter.retired.keep(waker) };
    woken
}

impl Default for SegQueue {
    fn default() -> Self {
        <Self as WaitQueue>::new()
    }
}

impl std::fmt::Debug for SegQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegQueue")
            .field("len", &self.len.load(Relaxed))
            .field("stale", &self.stale.load(Relaxed))
            .finish_non_exhaustive()
    }
}
