//! [`SegQueue`]: waiter handles in a lock-free `crossbeam_queue::SegQueue`
//! (the research text's Phase 2).
//!
//! # Handles
//!
//! Each registration allocates a [`Handle`]: an `Arc` holding the wait's
//! state and a waker cell (`AtomicWaker`-style; see `waker_cell`). One
//! reference lives in the waiter, one in the queue. A handle is in one of three states:
//!
//! * `WAITING`: in the queue, selectable;
//! * `NOTIFIED`: a consumer popped it and won `WAITING -> NOTIFIED`;
//! * `CANCELLED`: its owner won `WAITING -> CANCELLED`. The handle may stay in
//!   the queue as a *stale* entry; whoever pops it drops it and moves on.
//!
//! The two transitions out of `WAITING` are `compare_exchange`s on one word,
//! so a notifier and a cancelling owner agree on who won: a stale handle never
//! consumes a `notify_one` (the notifier pops the next handle), and an owner
//! that lost the race learns it was notified (`cancel` returns `true` and the
//! primitive passes the notification on). The research text's claim that
//! stale wakers "only cause spurious wakeups" is wrong for exactly this case:
//! a stale entry that is woken in place of a live waiter loses that waiter's
//! wake-up.
//!
//! # Producers are lock-free, consumers take turns
//!
//! `register` (allocate, push) and `cancel` (one `compare_exchange`) never
//! lock. Everything that pops (`notify_one`, `notify_all` and the purge) holds
//! the `consumer` lock. `SegQueue` has no `peek` and no push-to-front: a
//! consumer that pops a handle it must *not* consume (for `notify_all`, a
//! handle registered after it started; for the purge, a live handle) keeps it
//! in `front`, a short `VecDeque` that logically precedes the `SegQueue`.
//! Only because consumers take turns can nobody observe the queue while such a
//! handle is in flight between the two, which is what keeps `notify_one`
//! exact (a concurrent consumer never finds the queue empty while a live
//! handle is out of it) and the order strict FIFO.
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

use std::{
    collections::VecDeque,
    pin::Pin,
    ptr,
    task::{Context, Poll, Waker},
};

use super::{WaitQueue, WakeBatch, waker_cell::WakerCell};
use crate::loom::{
    Arc, ParkingMutex,
    atomic::{AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering::*},
};

/// A wait queue of reference-counted waiter handles in a lock-free
/// `crossbeam_queue::SegQueue`.
///
/// Registering and cancelling are lock-free; notifiers take turns on a short
/// consumer lock (see the module source for why). `notify_one` is strict
/// FIFO, so this backend supports both fairness policies. It cannot find the
/// newest waiter: `notify_last` notifies the oldest, like `notify_one`.
///
/// Each wait allocates one handle (an `Arc`, about 40 bytes), since a handle
/// must outlive a cancelled future while it is still queued.
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
    /// Held by every consumer. Guards `front`: handles popped from `queue`
    /// but not consumed, older than everything still in `queue`.
    consumer: ParkingMutex<VecDeque<Arc<Handle>>>,
}

/// The per-wait state of a [`SegQueue`] waiter: the handle of its current
/// registration, if any.
pub struct SegQueueWaiter {
    /// Null while idle; otherwise one strong reference to the handle, made by
    /// `Arc::into_raw` and owned by this field. Every access moves it out with
    /// a `swap`, so even a misused waiter cannot alias or double-free it.
    handle: AtomicPtr<Handle>,
}

/// One registration. The last reference to a handle is dropped by its owner
/// or by a consumer; in both cases after the owner took its waker out of
/// `waker` (on `Ready` and on `cancel`, which it does before dropping its own
/// reference). So dropping a handle runs no user code, and consumers may drop
/// popped handles under the consumer lock.
struct Handle {
    /// `WAITING`, `NOTIFIED` or `CANCELLED`.
    state: AtomicU8,
    /// Registered into only by the owner; taken by the notifier that won
    /// `WAITING -> NOTIFIED` and by the owner when it is done.
    waker: WakerCell,
    /// `SegQueue::epoch` at registration.
    epoch: u64,
}

const WAITING: u8 = 0;
const NOTIFIED: u8 = 1;
const CANCELLED: u8 = 2;

impl SegQueueWaiter {
    /// Moves the handle out of the waiter, if it has one.
    fn take(&self) -> Option<Arc<Handle>> {
        // AcqRel: the waiter may be polled from a different thread each time;
        // this pairs the handle's hand-over with the `put` that stored it.
        let ptr = self.handle.swap(ptr::null_mut(), AcqRel);
        // SAFETY: a non-null pointer in `handle` is a strong reference made by
        // `Arc::into_raw` and owned by the field; the swap moved it to us.
        (!ptr.is_null()).then(|| unsafe { Arc::from_raw(ptr) })
    }

    /// Stores `handle` in an idle waiter.
    fn put(&self, handle: Arc<Handle>) {
        let old = self.handle.swap(Arc::into_raw(handle).cast_mut(), AcqRel);
        assert!(old.is_null(), "SegQueue waiter registered twice");
    }
}

impl SegQueue {
    /// Stale handles tolerated before a cancellation purges them (see the
    /// module docs on bounded growth). Tiny under loom, so that a model with
    /// a few waiters reaches the purge.
    #[doc(hidden)]
    pub const PURGE_MIN: usize = if cfg!(loom) { 2 } else { 32 };

    /// The number of handles in the queue, stale ones included, plus
    /// registrations in flight. For tests of the growth bound.
    #[doc(hidden)]
    pub fn len_hint(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// Pops the oldest handle, from `front` first. The caller holds the
    /// consumer lock (`front` is its guarded data).
    fn pop(&self, front: &mut VecDeque<Arc<Handle>>) -> Option<Arc<Handle>> {
        front.pop_front().or_else(|| self.queue.pop())
    }

    /// Accounts for a popped handle that is not put back, and moves it to
    /// notified if it is still waiting. Returns its waker if it was selected,
    /// `None` (and drops it) if it was stale.
    fn consume(&self, handle: Arc<Handle>) -> Option<Option<Waker>> {
        self.len.fetch_sub(1, Relaxed);
        // Release: pairs with the owner's Acquire load (contract point 4).
        // Acquire on failure: pairs with the owner's Release exchange to
        // `CANCELLED`, so its `stale` increment comes before our decrement.
        match handle
            .state
            .compare_exchange(WAITING, NOTIFIED, AcqRel, Acquire)
        {
            Ok(_) => Some(handle.waker.take()),
            Err(_) => {
                self.stale.fetch_sub(1, Relaxed);
                None
            }
        }
    }

    /// Purges if stale handles outnumber live ones (see the module docs).
    fn maybe_purge(&self) {
        let stale = self.stale.load(Relaxed);
        let live = self.len.load(Relaxed).saturating_sub(stale);
        if stale < Self::PURGE_MIN || stale <= live {
            return;
        }
        let front = if stale >= 4 * live.max(Self::PURGE_MIN) {
            // Far over: wait for the lock (no user code runs under it).
            Some(self.consumer.lock())
        } else {
            // A busy lock means a consumer is popping, stale handles
            // included; the next cancellation tries again.
            self.consumer.try_lock()
        };
        if let Some(mut front) = front {
            self.purge(&mut front);
        }
    }

    /// Drops stale handles and moves live ones from `queue` to `front`.
    fn purge(&self, front: &mut VecDeque<Arc<Handle>>) {
        front.retain(|handle| {
            let stale = handle.state.load(Acquire) == CANCELLED;
            if stale {
                self.len.fetch_sub(1, Relaxed);
                self.stale.fetch_sub(1, Relaxed);
            }
            !stale
        });
        // Handles pushed after this read are newer than every one examined,
        // so stopping here keeps the order and bounds the work.
        for _ in 0..self.len.load(Relaxed) {
            let Some(handle) = self.queue.pop() else {
                break;
            };
            if handle.state.load(Acquire) == CANCELLED {
                self.len.fetch_sub(1, Relaxed);
                self.stale.fetch_sub(1, Relaxed);
            } else {
                front.push_back(handle);
            }
        }
    }
}

// SAFETY: contract points as argued in the code:
// 1. a handle is selected by one `WAITING -> NOTIFIED` exchange by the
//    consumer that popped it, so each selection is exact and a stale handle is
//    skipped, never counted; consumers take turns, so the oldest handle is
//    always at the head of `front` + `queue` when one pops (FIFO);
//    `notify_all` stops at the first handle with a later epoch, and every
//    handle registered before its epoch bump is ahead of those.
// 2. `NOTIFIED` is final for a handle; `cancel` reads it through its failed
//    exchange.
// 3. the owner registers into the handle's `AtomicWaker` and re-checks.
// 4. Release on `-> NOTIFIED`, Acquire where the owner reads it; `len` is
//    counted before the push, so the caller's SeqCst fences order it against
//    the notifier's `len` check.
// 5. wakers are taken under the consumer lock and woken after it; dropping a
//    handle runs no user code (see `Handle`).
// 6. the queue never points into the waiter: it holds its own reference to
//    the handle.
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
        }
    }

    unsafe fn register(&self, waiter: Pin<&SegQueueWaiter>, waker: &Waker) {
        // Cloned first: the clone is user code, and if it panics nothing has
        // happened yet (the waiter is idle, contract point 7). Nothing below
        // runs user code.
        let waker = waker.clone();
        let handle = Arc::new(Handle {
            state: AtomicU8::new(WAITING),
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

    unsafe fn poll_wait(&self, waiter: Pin<&SegQueueWaiter>, cx: &mut Context<'_>) -> Poll<()> {
        let mut handle = waiter.take().expect("poll_wait: waiter not registered");
        // Acquire: pairs with the Release in `consume` (contract point 4).
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
        // Done with the handle: clear its waker before letting go (see
        // `Handle`). The drop is user code: if it panics, the handle is
        // already ours alone and the waiter idle.
        let waker = handle.waker.take();
        drop(handle);
        drop(waker);
        Poll::Ready(())
    }

    unsafe fn cancel(&self, waiter: Pin<&SegQueueWaiter>) -> bool {
        let Some(handle) = waiter.take() else {
            return false;
        };
        // Counted before the exchange, so the consumer that pops the handle
        // and decrements can never run first.
        self.stale.fetch_add(1, Relaxed);
        // Release: orders the count above before a consumer's read of
        // `CANCELLED`. Acquire on failure: we read `NOTIFIED` and then pass the
        // notification on, after everything the notifier did (point 4).
        let notified = handle
            .state
            .compare_exchange(WAITING, CANCELLED, Release, Acquire)
            .is_err();
        if notified {
            self.stale.fetch_sub(1, Relaxed);
        }
        let waker = handle.waker.take();
        drop(handle);
        if !notified {
            self.maybe_purge();
        }
        // User code, after all our bookkeeping.
        drop(waker);
        notified
    }

    fn notify_one(&self) -> bool {
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
                if let Some(waker) = self.consume(handle) {
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

    fn notify_all(&self) -> usize {
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
                if let Some(waker) = self.consume(handle) {
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

impl std::fmt::Debug for SegQueueWaiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegQueueWaiter")
            .field("registered", &!self.handle.load(Relaxed).is_null())
            .finish()
    }
}

impl Drop for SegQueueWaiter {
    fn drop(&mut self) {
        let handle = self.take();
        // Not while unwinding: a second panic would abort and hide the first.
        if !std::thread::panicking() {
            debug_assert!(handle.is_none(), "SegQueueWaiter dropped while registered");
        }
        // Release builds: drop our reference; the queue keeps its own.
        drop(handle);
    }
}
