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

use std::{
    collections::VecDeque,
    pin::Pin,
    ptr,
    task::{Context, Poll, Waker},
};

use super::{Cancelled, Select, WaitQueue, WakeBatch, Woken, waker_cell::WakerCell};
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
    /// `WAITING`, `SELECTING`, `NOTIFIED` or `CANCELLED` (see the module
    /// docs). Only a consumer holding the consumer lock moves it to
    /// `SELECTING` or `NOTIFIED`; only the owner moves it to `CANCELLED`.
    state: AtomicU8,
    /// The waiter's tag. Set at registration; written (lowered) only by the
    /// consumer that holds the `SELECTING` claim, before it ends the claim
    /// with a Release store; read by the owner after an Acquire read of
    /// `NOTIFIED` or a successful `WAITING -> CANCELLED`.
    tag: AtomicUsize,
    /// The value handed over. Written only by consumers, under the consumer
    /// lock, before the Release that marks the handle `NOTIFIED`; read by the
    /// owner after its Acquire read of `NOTIFIED`.
    wakeup: AtomicUsize,
    /// Registered into only by the owner; taken by the notifier that marked
    /// the handle `NOTIFIED` and by the owner when it is done.
    waker: WakerCell,
    /// `SegQueue::epoch` at registration.
    epoch: u64,
}

const WAITING: u8 = 0;
const SELECTING: u8 = 1;
const NOTIFIED: u8 = 2;
const CANCELLED: u8 = 3;

/// How many times a cancel looks at a claimed handle before it waits for the
/// consumer lock (see `SegQueue::wait_for_claim`). One under loom, where a
/// spin is only more interleavings of the same outcome.
const CLAIM_SPINS: usize = if cfg!(loom) { 1 } else { 100 };

impl Handle {
    /// What the notifier handed over. The caller observed `NOTIFIED` with
    /// an Acquire load (or exchange), which orders these reads after the
    /// notifier's writes.
    fn woken(&self) -> Woken {
        Woken {
            wakeup: self.wakeup.load(Relaxed),
            tag: self.tag.load(Relaxed),
        }
    }
}

/// Ends a `SELECTING` claim by putting the handle back to `WAITING` if the
/// selector unwinds (it must not, contract point 5, but a cancel waiting
/// for the claim would otherwise spin forever). Forgotten on the normal path.
struct ClaimGuard<'a>(&'a Handle);

impl Drop for ClaimGuard<'_> {
    fn drop(&mut self) {
        // Release: pairs with a canceller's Acquire exchange, as on the
        // normal `Keep` path. The tag is untouched (the selector's copy is
        // lost), so the owner reads the tag as the claim found it.
        self.0.state.store(WAITING, Release);
    }
}

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
        // AcqRel: see `take`.
        let old = self.handle.swap(Arc::into_raw(handle).cast_mut(), AcqRel);
        assert!(old.is_null(), "SegQueue waiter registered twice");
    }
}

impl SegQueue {
    /// Stale handles tolerated before a cancellation purges them (see the
    /// module docs on bounded growth). Tiny under loom, so that a model with
    /// a few waiters reaches the purge.
    pub(crate) const PURGE_MIN: usize = if cfg!(loom) { 2 } else { 32 };

    /// The number of handles in the queue, stale ones included, plus
    /// registrations in flight. For tests of the growth bound.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn len_hint(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// Pops the oldest handle, from `front` first. The caller holds the
    /// consumer lock (`front` is its guarded data).
    fn pop(&self, front: &mut VecDeque<Arc<Handle>>) -> Option<Arc<Handle>> {
        front.pop_front().or_else(|| self.queue.pop())
    }

    /// Makes the oldest handle the head of `front` without consuming it, and
    /// returns it. The caller holds the consumer lock.
    fn peek<'a>(&self, front: &'a mut VecDeque<Arc<Handle>>) -> Option<&'a Arc<Handle>> {
        if front.is_empty() {
            // `front` is empty, so the popped handle is the oldest: it keeps
            // its place at the head.
            front.push_back(self.queue.pop()?);
        }
        front.front()
    }

    /// Accounts for a popped stale handle, which the caller then drops. The
    /// caller read `CANCELLED` with Acquire, which pairs with the owner's
    /// Release exchange, so the owner's `stale` increment comes before this
    /// decrement.
    fn forget_stale(&self) {
        self.len.fetch_sub(1, Relaxed);
        self.stale.fetch_sub(1, Relaxed);
    }

    /// Hands a popped handle `wakeup` and moves it to notified if it is
    /// still waiting, accounting for it either way (it is not put back).
    /// Returns its waker if it was selected, `None` (and drops it) if it was
    /// stale. The caller holds the consumer lock.
    fn consume(&self, handle: Arc<Handle>, wakeup: usize) -> Option<Option<Waker>> {
        // Written before the exchange, and published by its Release; if the
        // exchange fails the handle is cancelled and nobody reads it.
        handle.wakeup.store(wakeup, Relaxed);
        // Release: pairs with the owner's Acquire read of `NOTIFIED`
        // (contract point 4, and the `wakeup` store above). Acquire on
        // failure: see `forget_stale`. No other consumer holds a claim (we
        // hold the lock), so the only other value is `CANCELLED`.
        match handle
            .state
            .compare_exchange(WAITING, NOTIFIED, Release, Acquire)
        {
            Ok(_) => {
                self.len.fetch_sub(1, Relaxed);
                // After the mark (contract point 3). A `None` means the owner
                // holds the cell: it re-checks the state afterwards and sees
                // `NOTIFIED`.
                Some(handle.waker.take())
            }
            Err(state) => {
                debug_assert_eq!(state, CANCELLED);
                self.forget_stale();
                None
            }
        }
    }

    /// Offers the head of the queue to `select`, as one step of
    /// `notify_while`, skipping stale handles. Returns `None` when the queue
    /// is empty or the selector kept the head (which stays in `front`), and
    /// the selected handle's waker otherwise. The caller holds the consumer
    /// lock.
    fn offer_head(
        &self,
        front: &mut VecDeque<Arc<Handle>>,
        select: &mut impl FnMut(&mut usize) -> Select,
    ) -> Option<Option<Waker>> {
        loop {
            let head = self.peek(front)?;
            // The claim. Acquire on failure: see `forget_stale`. Acquire on
            // success is not needed for the tag (the last writer of the tag
            // was a consumer, ordered before us by the consumer lock, or the
            // registration, ordered before us by the `SegQueue` push/pop).
            if let Err(state) = head
                .state
                .compare_exchange(WAITING, SELECTING, Relaxed, Acquire)
            {
                // Stale: never offered. No consumer leaves a claim behind or
                // a notified handle queued, so this is a cancelled one.
                debug_assert_eq!(state, CANCELLED);
                drop(front.pop_front());
                self.forget_stale();
                continue;
            }
            let mut tag = head.tag.load(Relaxed);
            let claim = ClaimGuard(head);
            let verdict = select(&mut tag);
            debug_assert!(
                tag <= head.tag.load(Relaxed),
                "notify_while: selector raised a tag"
            );
            std::mem::forget(claim);
            head.tag.store(tag, Relaxed);
            let Select::Notify(wakeup) = verdict else {
                // Release: ends the claim after the tag store above, for the
                // owner's Acquire exchange in `cancel`. The handle stays at
                // the head of `front`.
                head.state.store(WAITING, Release);
                return None;
            };
            head.wakeup.store(wakeup, Relaxed);
            // Release: ends the claim, publishing the tag and wake-up stores
            // above (and the caller's prior writes, contract point 4) to the
            // owner's Acquire read of `NOTIFIED`.
            head.state.store(NOTIFIED, Release);
            let handle = front.pop_front().expect("peeked above");
            self.len.fetch_sub(1, Relaxed);
            // After the mark (contract point 3); see `consume`.
            return Some(handle.waker.take());
        }
    }

    /// Waits until the consumer that claimed `handle` (`SELECTING`) ends its
    /// claim. A claim lasts as long as one selector call, which runs no user
    /// code: spin on the state a little, and if that was not enough (the
    /// consumer was preempted), wait for the consumer lock, which it holds
    /// until the claim ends. (Only the lock would do, but a canceller parked
    /// on it can lose it to a notifier that locks again at once, for as long
    /// as the lock's fairness allows.) The caller retries its exchange: the
    /// handle may be claimed again by then.
    fn wait_for_claim(&self, handle: &Handle) {
        for _ in 0..CLAIM_SPINS {
            // Relaxed: only a hint; the caller's exchange decides.
            if handle.state.load(Relaxed) != SELECTING {
                return;
            }
            std::hint::spin_loop();
        }
        // Taking the lock orders the consumer's end of the claim before our
        // next exchange.
        drop(self.consumer.lock());
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
        // Acquire loads of `CANCELLED`: see `forget_stale`.
        front.retain(|handle| {
            let stale = handle.state.load(Acquire) == CANCELLED;
            if stale {
                self.forget_stale();
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
                self.forget_stale();
            } else {
                front.push_back(handle);
            }
        }
    }
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
// 7. `register` clones first; `poll_wait` and `cancel` keep the handle in the
//    waiter while user code runs, or own it alone.
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

    unsafe fn register(&self, waiter: Pin<&SegQueueWaiter>, waker: &Waker, tag: usize) {
        // Cloned first: the clone is user code, and if it panics nothing has
        // happened yet (the waiter is idle, contract point 7). Nothing below
        // runs user code.
        let waker = waker.clone();
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
        // As in `register`: cloned first, no user code below.
        let waker = waker.clone();
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
        let woken = handle.woken();
        // Done with the handle: clear its waker before letting go (see
        // `Handle`). The drop is user code: if it panics, the handle is
        // already ours alone and the waiter idle.
        let waker = handle.waker.take();
        drop(handle);
        drop(waker);
        Poll::Ready(woken)
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
        // User code, after all our bookkeeping.
        drop(waker);
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

#[cfg(all(test, not(loom)))]
mod tests {
    use std::{
        panic::{AssertUnwindSafe, catch_unwind},
        pin::pin,
        sync::{
            Arc,
            atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
        },
        task::{RawWaker, RawWakerVTable, Wake},
        thread,
    };

    use super::*;

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn counting_waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count::default());
        (count.clone(), Waker::from(count))
    }

    // SAFETY (for the three wrappers): every test uses its waiters with one
    // queue, pins them for their whole life, and makes them idle before they
    // are dropped.

    fn register(queue: &SegQueue, waiter: Pin<&SegQueueWaiter>, waker: &Waker, tag: usize) {
        // SAFETY: see above.
        unsafe { queue.register(waiter, waker, tag) }
    }

    fn poll(queue: &SegQueue, waiter: Pin<&SegQueueWaiter>, waker: &Waker) -> Poll<Woken> {
        // SAFETY: see above; tests only poll registered waiters.
        unsafe { queue.poll_wait(waiter, &mut Context::from_waker(waker)) }
    }

    fn cancel(queue: &SegQueue, waiter: Pin<&SegQueueWaiter>) -> Cancelled {
        // SAFETY: see above.
        unsafe { queue.cancel(waiter) }
    }

    const TAG: usize = 3;
    const WAKEUP: usize = 7;

    /// A loop of `timeout(acquire)` that always expires: register,
    /// then cancel, forever, with nobody notifying. Stale handles
    /// must be purged.
    #[test]
    fn cancel_storm_keeps_queue_length_bounded() {
        const CYCLES: usize = 100_000;
        // The documented bound without concurrent cancellations, one
        // live waiter, plus the registration in flight.
        const BOUND: usize = SegQueue::PURGE_MIN + 1 + 1;
        let queue = SegQueue::new();
        let (live_counter, live_waker) = counting_waker();
        let live = pin!(SegQueue::new_waiter());
        register(&queue, live.as_ref(), &live_waker, TAG);
        let (stale_counter, stale_waker) = counting_waker();
        let mut longest = 0;
        for _ in 0..CYCLES {
            let waiter = pin!(SegQueue::new_waiter());
            register(&queue, waiter.as_ref(), &stale_waker, TAG);
            assert_eq!(
                cancel(&queue, waiter.as_ref()),
                Cancelled::Removed { tag: TAG }
            );
            longest = longest.max(queue.len_hint());
        }
        assert!(longest <= BOUND, "queue grew to {longest} handles");
        // The purges kept the live waiter, and at the head.
        let next = pin!(SegQueue::new_waiter());
        register(&queue, next.as_ref(), &stale_waker, TAG);
        assert!(queue.notify_one(WAKEUP));
        assert_eq!(
            (live_counter.0.load(SeqCst), stale_counter.0.load(SeqCst)),
            (1, 0)
        );
        assert_eq!(
            poll(&queue, live.as_ref(), &live_waker),
            Poll::Ready(Woken {
                wakeup: WAKEUP,
                tag: TAG
            })
        );
        assert_eq!(
            cancel(&queue, next.as_ref()),
            Cancelled::Removed { tag: TAG }
        );
        assert!(!queue.notify_one(WAKEUP));
        assert_eq!(queue.len_hint(), 0);
    }

    /// The same storm from two threads at once, while a third waiter
    /// waits.
    #[test]
    fn concurrent_cancel_storms_keep_queue_length_bounded() {
        const CYCLES: usize = 50_000;
        let queue = Arc::new(SegQueue::new());
        let (live_counter, live_waker) = counting_waker();
        let live = pin!(SegQueue::new_waiter());
        register(&queue, live.as_ref(), &live_waker, TAG);
        let storms: Vec<_> = (0..2)
            .map(|_| {
                let queue = queue.clone();
                thread::spawn(move || {
                    let (_, waker) = counting_waker();
                    let mut longest = 0;
                    for _ in 0..CYCLES {
                        let waiter = pin!(SegQueue::new_waiter());
                        register(&queue, waiter.as_ref(), &waker, TAG);
                        assert_eq!(
                            cancel(&queue, waiter.as_ref()),
                            Cancelled::Removed { tag: TAG }
                        );
                        longest = longest.max(queue.len_hint());
                    }
                    longest
                })
            })
            .collect();
        let longest = storms.into_iter().map(|t| t.join().unwrap()).max().unwrap();
        // The documented bound with concurrent cancellations (one
        // live waiter, two cancelling threads), plus the two
        // registrations in flight.
        let bound = 4 * SegQueue::PURGE_MIN + 1 + 2 + 2;
        assert!(longest <= bound, "queue grew to {longest} handles");
        assert!(queue.notify_one(WAKEUP));
        assert_eq!(live_counter.0.load(SeqCst), 1);
        assert_eq!(
            poll(&queue, live.as_ref(), &live_waker),
            Poll::Ready(Woken {
                wakeup: WAKEUP,
                tag: TAG
            })
        );
        assert!(!queue.notify_one(WAKEUP));
    }

    /// A semaphore-style hand-over: assigns permits from `budget` to each
    /// offered waiter's tag (permits still needed), notifies the waiters it
    /// completes and keeps the first it cannot.
    fn hand_over(budget: &mut usize) -> impl FnMut(&mut usize) -> Select + '_ {
        move |needed| {
            let given = (*needed).min(*budget);
            *needed -= given;
            *budget -= given;
            if *needed == 0 {
                Select::Notify(1)
            } else {
                Select::Keep
            }
        }
    }

    #[test]
    fn notify_while_serves_in_order_and_keeps_the_head_it_cannot_complete() {
        let queue = SegQueue::new();
        let (_, waker) = counting_waker();
        let (a, b, c) = (
            pin!(SegQueue::new_waiter()),
            pin!(SegQueue::new_waiter()),
            pin!(SegQueue::new_waiter()),
        );
        register(&queue, a.as_ref(), &waker, 1);
        register(&queue, b.as_ref(), &waker, 2);
        register(&queue, c.as_ref(), &waker, 4);
        let mut budget = 5;
        assert_eq!(queue.notify_while(hand_over(&mut budget)), 2);
        assert_eq!(budget, 0);
        let done = Woken { wakeup: 1, tag: 0 };
        assert_eq!(poll(&queue, a.as_ref(), &waker), Poll::Ready(done));
        assert_eq!(poll(&queue, b.as_ref(), &waker), Poll::Ready(done));
        // `c` got 2 of its 4 and stays at the head: served before anyone
        // registered later, with its lowered tag.
        assert_eq!(poll(&queue, c.as_ref(), &waker), Poll::Pending);
        let d = pin!(SegQueue::new_waiter());
        register(&queue, d.as_ref(), &waker, 1);
        let mut budget = 2;
        assert_eq!(queue.notify_while(hand_over(&mut budget)), 1);
        assert_eq!(poll(&queue, c.as_ref(), &waker), Poll::Ready(done));
        assert_eq!(poll(&queue, d.as_ref(), &waker), Poll::Pending);
        assert!(queue.notify_one(9));
        assert_eq!(
            poll(&queue, d.as_ref(), &waker),
            Poll::Ready(Woken { wakeup: 9, tag: 1 })
        );
        assert_eq!(queue.len_hint(), 0);
    }

    #[test]
    fn kept_head_is_the_next_notify_one_and_cancel_reads_its_lowered_tag() {
        let queue = SegQueue::new();
        let (count, waker) = counting_waker();
        let (a, b) = (pin!(SegQueue::new_waiter()), pin!(SegQueue::new_waiter()));
        register(&queue, a.as_ref(), &waker, 5);
        register(&queue, b.as_ref(), &waker, 5);
        let mut budget = 3;
        assert_eq!(queue.notify_while(hand_over(&mut budget)), 0);
        assert_eq!(count.0.load(SeqCst), 0);
        // The kept head is in `front`, still the oldest.
        assert!(queue.notify_one(7));
        assert_eq!(
            cancel(&queue, a.as_ref()),
            Cancelled::Notified(Woken { wakeup: 7, tag: 2 })
        );
        // And a kept head that is cancelled reports what it was assigned.
        let mut budget = 1;
        assert_eq!(queue.notify_while(hand_over(&mut budget)), 0);
        assert_eq!(cancel(&queue, b.as_ref()), Cancelled::Removed { tag: 4 });
        assert_eq!(cancel(&queue, b.as_ref()), Cancelled::Idle);
        assert!(!queue.notify_one(0));
        assert_eq!(queue.len_hint(), 0);
    }

    #[test]
    fn register_front_goes_ahead_of_every_waiter_and_of_a_kept_head() {
        let queue = SegQueue::new();
        let (_, waker) = counting_waker();
        let (a, b, c) = (
            pin!(SegQueue::new_waiter()),
            pin!(SegQueue::new_waiter()),
            pin!(SegQueue::new_waiter()),
        );
        register(&queue, a.as_ref(), &waker, 2);
        let mut budget = 1;
        assert_eq!(queue.notify_while(hand_over(&mut budget)), 0);
        // `a` is kept in `front`; `b` requeues ahead of it, `c` behind.
        // SAFETY: as for the wrappers above.
        unsafe { queue.register_front(b.as_ref(), &waker, 1) };
        register(&queue, c.as_ref(), &waker, 1);
        let mut offered = Vec::new();
        assert_eq!(
            queue.notify_while(|tag| {
                offered.push(*tag);
                Select::Keep
            }),
            0
        );
        assert_eq!(offered, vec![1]);
        assert!(queue.notify_one(4));
        assert_eq!(
            poll(&queue, b.as_ref(), &waker),
            Poll::Ready(Woken { wakeup: 4, tag: 1 })
        );
        // `notify_all` takes the front-registered and the queued alike.
        // SAFETY: as for the wrappers above.
        unsafe { queue.register_front(b.as_ref(), &waker, 3) };
        assert_eq!(queue.notify_all(6), 3);
        assert_eq!(
            poll(&queue, b.as_ref(), &waker),
            Poll::Ready(Woken { wakeup: 6, tag: 3 })
        );
        assert_eq!(
            poll(&queue, a.as_ref(), &waker),
            Poll::Ready(Woken { wakeup: 6, tag: 1 })
        );
        assert_eq!(
            poll(&queue, c.as_ref(), &waker),
            Poll::Ready(Woken { wakeup: 6, tag: 1 })
        );
        assert_eq!(queue.len_hint(), 0);
    }

    #[test]
    fn stale_handles_are_never_offered_and_never_eat_a_notify() {
        let queue = SegQueue::new();
        let (count, waker) = counting_waker();
        let (a, b, c) = (
            pin!(SegQueue::new_waiter()),
            pin!(SegQueue::new_waiter()),
            pin!(SegQueue::new_waiter()),
        );
        register(&queue, a.as_ref(), &waker, 1);
        register(&queue, b.as_ref(), &waker, 2);
        register(&queue, c.as_ref(), &waker, 3);
        assert_eq!(cancel(&queue, a.as_ref()), Cancelled::Removed { tag: 1 });
        let mut offered = Vec::new();
        let picked = queue.notify_while(|tag| {
            offered.push(*tag);
            Select::Keep
        });
        assert_eq!((picked, offered), (0, vec![2]));
        // The kept head `b` is cancelled in `front`: the notify skips it.
        assert_eq!(cancel(&queue, b.as_ref()), Cancelled::Removed { tag: 2 });
        assert!(queue.notify_one(0));
        assert_eq!(count.0.load(SeqCst), 1);
        assert_eq!(
            poll(&queue, c.as_ref(), &waker),
            Poll::Ready(Woken { wakeup: 0, tag: 3 })
        );
        assert!(!queue.notify_one(0));
        assert_eq!(queue.len_hint(), 0);
    }

    #[test]
    fn notify_all_takes_a_kept_head_and_not_later_registrations() {
        let queue = SegQueue::new();
        let (_, waker) = counting_waker();
        let (a, b, c) = (
            pin!(SegQueue::new_waiter()),
            pin!(SegQueue::new_waiter()),
            pin!(SegQueue::new_waiter()),
        );
        register(&queue, a.as_ref(), &waker, 2);
        register(&queue, b.as_ref(), &waker, 2);
        let mut budget = 1;
        assert_eq!(queue.notify_while(hand_over(&mut budget)), 0);
        assert_eq!(queue.notify_all(3), 2);
        register(&queue, c.as_ref(), &waker, 2);
        assert_eq!(
            poll(&queue, a.as_ref(), &waker),
            Poll::Ready(Woken { wakeup: 3, tag: 1 })
        );
        assert_eq!(
            poll(&queue, b.as_ref(), &waker),
            Poll::Ready(Woken { wakeup: 3, tag: 2 })
        );
        assert_eq!(cancel(&queue, c.as_ref()), Cancelled::Removed { tag: 2 });
    }

    #[test]
    fn panicking_selector_releases_its_claim() {
        let queue = SegQueue::new();
        let (_, waker) = counting_waker();
        let a = pin!(SegQueue::new_waiter());
        register(&queue, a.as_ref(), &waker, 4);
        let unwound = catch_unwind(AssertUnwindSafe(|| {
            queue.notify_while(|tag| {
                *tag = 1;
                panic!("selector");
            })
        }));
        assert!(unwound.is_err());
        // Neither stuck in `SELECTING` (this would spin) nor half-selected.
        assert_eq!(cancel(&queue, a.as_ref()), Cancelled::Removed { tag: 4 });
        assert!(!queue.notify_one(0));
    }

    #[test]
    fn register_with_a_panicking_clone_leaves_the_waiter_idle() {
        const VTABLE: RawWakerVTable =
            RawWakerVTable::new(|_| panic!("clone"), |_| {}, |_| {}, |_| {});
        // SAFETY: the vtable ignores the data pointer and its functions
        // uphold `RawWaker`'s contract trivially (clone panics, the rest do
        // nothing).
        let hostile = unsafe { Waker::from_raw(RawWaker::new(ptr::null(), &VTABLE)) };
        let queue = SegQueue::new();
        let a = pin!(SegQueue::new_waiter());
        let unwound = catch_unwind(AssertUnwindSafe(|| {
            register(&queue, a.as_ref(), &hostile, 1);
        }));
        assert!(unwound.is_err());
        assert_eq!(cancel(&queue, a.as_ref()), Cancelled::Idle);
        assert!(!queue.notify_one(0));
        assert_eq!(queue.notify_while(|_| Select::Notify(0)), 0);
    }

    /// Threads register and cancel while a notifier hands out one unit at a
    /// time with `notify_while`. Every unit the selector assigns is seen by
    /// exactly one owner: as the drop of its tag in `Removed`, or in the
    /// `Woken` of a completed wait. A canceller that read a tag in the
    /// middle of a selection would break the sum.
    #[test]
    fn selections_racing_cancels_conserve_assigned_units() {
        const NEED: usize = 3;
        const WAITS: usize = if cfg!(miri) { 50 } else { 20_000 };
        let queue = Arc::new(SegQueue::new());
        let assigned = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let notifier = {
            let (queue, assigned, stop) = (queue.clone(), assigned.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(SeqCst) {
                    queue.notify_while(|needed| {
                        // One unit per call: a kept head is offered again.
                        *needed -= 1;
                        assigned.fetch_add(1, SeqCst);
                        if *needed == 0 {
                            Select::Notify(0)
                        } else {
                            Select::Keep
                        }
                    });
                }
            })
        };
        let owners: Vec<_> = (0..2)
            .map(|_| {
                let queue = queue.clone();
                thread::spawn(move || {
                    let (_, waker) = counting_waker();
                    let mut received = 0;
                    for i in 0..WAITS {
                        let waiter = pin!(SegQueue::new_waiter());
                        register(&queue, waiter.as_ref(), &waker, NEED);
                        for _ in 0..i % 4 {
                            if let Poll::Ready(woken) = poll(&queue, waiter.as_ref(), &waker) {
                                assert_eq!(woken.tag, 0);
                                received += NEED;
                                break;
                            }
                            std::hint::spin_loop();
                        }
                        match cancel(&queue, waiter.as_ref()) {
                            Cancelled::Idle => {}
                            Cancelled::Removed { tag } => received += NEED - tag,
                            Cancelled::Notified(woken) => {
                                assert_eq!(woken.tag, 0);
                                received += NEED;
                            }
                        }
                    }
                    received
                })
            })
            .collect();
        let received: usize = owners.into_iter().map(|t| t.join().unwrap()).sum();
        stop.store(true, SeqCst);
        notifier.join().unwrap();
        assert_eq!(received, assigned.load(SeqCst));
        // Only stale handles are left: a notify drops them all and finds
        // nobody.
        assert!(!queue.notify_one(0));
        assert_eq!(queue.len_hint(), 0);
    }
}
