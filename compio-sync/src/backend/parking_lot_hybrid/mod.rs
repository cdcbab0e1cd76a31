//! [`ParkingLotHybrid`]: a `parking_lot` wait list with a lock-free slot for a
//! lone waiter.
//!
//! Most waits in practice have at most one waiter at a time (a Notify
//! ping-pong, a Mutex with one contender). That waiter parks in the *slot*: a
//! state word, a waker cell and the slot waiter's tag and wake-up value,
//! registered, notified and observed without any lock. Further waiters go to
//! a FIFO list behind a `parking_lot::Mutex`.
//!
//! # The state word
//!
//! `state` holds the slot's state in its three low bits and the `LIST` flag,
//! which is set exactly while the list is non-empty (it changes only under the
//! list lock, so under that lock it is exact). The slot states:
//!
//! | slot bits | meaning | who holds the slot's `tag`/`wakeup` |
//! |---|---|---|
//! | `SLOT_EMPTY` | no slot waiter | nobody |
//! | `SLOT_CLAIMED` | its owner is registering or cancelling; not selectable | the owner |
//! | `SLOT_WAITING` | waiting, selectable | nobody (claim it first) |
//! | `SLOT_SELECTING` | a notifier claimed the waiter (a [`SlotClaim`]) | that notifier |
//! | `SLOT_NOTIFIED` | notified, not yet observed by its owner | the owner |
//!
//! A waiter takes the slot only by `compare_exchange(0, SLOT_CLAIMED)`: the
//! slot is empty *and* the list is empty. Claimed, it is not yet waiting, so
//! no notifier selects it: its owner stores its (already cloned) waker and its
//! tag first and only then moves the slot to `SLOT_WAITING`, so a notifier
//! that selects the slot always finds the waker to wake, and the registration
//! runs no user code once it is visible (contract point 7). That gives the
//! invariant behind strict FIFO: **a waiting slot waiter is older than every
//! listed waiter whose registration did not overlap its own.** (A listed
//! waiter registered while the slot was busy or the list non-empty; the slot
//! cannot be retaken until the list has drained. Registrations that overlap
//! have no order to keep.) So `notify_one` and `notify_while` try the slot
//! first, then the list head; `notify_last` tries the list tail first, then
//! the slot.
//!
//! No path stores a whole new state: every transition is a `compare_exchange`
//! or a `fetch_*` on the bits it owns, so a slot transition can never erase
//! the `LIST` flag, nor the reverse.
//!
//! # Selecting the slot waiter
//!
//! Every notifier selects the slot waiter in two steps: it *claims* it with a
//! `compare_exchange(SLOT_WAITING, SLOT_SELECTING)`, then writes the wake-up
//! value and moves the slot to `SLOT_NOTIFIED` (a `notify_while` selector may
//! instead lower the tag and put it back to `SLOT_WAITING`). The claim is
//! what makes a selection whole against a cancel, which is a CAS as well:
//! the owner's cancel moves `SLOT_WAITING` to `SLOT_CLAIMED` before it reads
//! the tag, so it reads the tag either before a selector's claim or after
//! its verdict, never in the middle; and a cancel that finds the slot
//! `SLOT_SELECTING` waits for the verdict. So do other notifiers. The wait is
//! short: between claim and verdict the claimant runs no user code (a
//! `notify_while` selector is the primitive's own bookkeeping, which the
//! trait forbids to block or panic; if it panics anyway, [`SlotClaim`]'s
//! `Drop` puts the waiter back). `notify_while` and `notify_all` claim under
//! the list lock, so selection is serialized by that lock (contract point 4);
//! `notify_one` and `notify_last` claim the slot without it, and always
//! notify what they claim, so a lock holder that finds the slot
//! `SLOT_SELECTING` may treat it as already notified.
//!
//! # Who owns the slot's waker cell
//!
//! Only the waiter holding the slot registers into or takes from
//! `slot_waker` (a [`WakerCell`]), from its successful
//! `compare_exchange(0, SLOT_CLAIMED)` until its `Release` of the slot bits
//! back to `SLOT_EMPTY`. It takes its waker out before that release, so it
//! never takes the next owner's. A notifier only takes (and wakes) the
//! waker after it moved the slot to `SLOT_NOTIFIED`; if that runs late,
//! after the slot changed hands, it wakes the next owner spuriously, which
//! costs that task one extra poll (the poll stores its waker again). The
//! owner clones its waker, and drops a replaced one, outside the cell, so a
//! waker that panics there cannot leave the cell, or the slot, taken.
//!
//! # Files
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | the queue, its waiter, the state word, and the [`WaitQueue`] implementation |
//! | `slot.rs` | the lone-waiter slot: registering, polling, cancelling, and a notifier's claim |
//! | `listed.rs` | the `parking_lot::Mutex` list of the other waiters |

mod listed;
mod slot;

use std::{
    collections::VecDeque,
    marker::PhantomPinned,
    pin::Pin,
    task::{Context, Poll, Waker},
};

use self::{
    listed::{End, List},
    slot::SlotData,
};
use super::{
    Cancelled, Select, WaitQueue, WakeBatch, Woken,
    retired::{Retired, reuse_or_clone},
    waker_cell::WakerCell,
};
use crate::loom::{
    ParkingMutex, UnsafeCell,
    atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering::*},
};

/// A wait queue built from a `parking_lot::Mutex` list and a lock-free slot
/// (an `AtomicWaker`-style cell) that serves a lone waiter without taking the
/// lock.
///
/// `notify_one` is strict FIFO and `notify_last` is LIFO, so this backend
/// supports both fairness policies. Registration allocates only when the list
/// grows.
///
/// With one waiter at a time, register, notify and `Ready` are a handful of
/// atomic operations. With several, the later ones pay for the lock, and
/// cancelling a listed waiter costs a binary search plus a `VecDeque` removal.
pub struct ParkingLotHybrid {
    /// The slot's state (`SLOT_*` bits) and the `LIST` flag.
    state: AtomicU8,
    /// The slot waiter's waker; see the module docs for who may touch it.
    slot_waker: WakerCell,
    /// The slot waiter's tag and wake-up value. Accessed only by whoever
    /// holds the slot (module docs, "The state word"): the owner while
    /// `SLOT_CLAIMED` or `SLOT_NOTIFIED`, a notifier while `SLOT_SELECTING`.
    slot: UnsafeCell<SlotData>,
    /// Waiters that found the slot taken, in registration order.
    list: ParkingMutex<List>,
}

// SAFETY: `slot` is the only field that is not `Sync` by itself; it is only
// accessed by whoever holds the slot, which the state word's CAS transitions
// make exclusive (module docs, "The state word"), with Acquire/Release edges
// between successive holders.
unsafe impl Sync for ParkingLotHybrid {}

/// The per-wait state of a [`ParkingLotHybrid`] waiter.
pub struct HybridWaiter {
    /// `IDLE`, `IN_SLOT`, `LISTED` or `NOTIFIED`. The owner alone writes
    /// `IDLE` and `IN_SLOT`; `LISTED` and `NOTIFIED` are written under the
    /// list lock.
    state: AtomicU8,
    /// The list ticket while `LISTED`. Written and read under the list lock.
    ticket: AtomicU64,
    /// What a listed waiter's notifier handed over, and its tag as the
    /// selectors left it: written under the list lock before the Release
    /// store of `NOTIFIED`, read by the owner after its Acquire load (so
    /// Relaxed suffices). A slot waiter's live in the queue's `slot`.
    wakeup: AtomicUsize,
    tag: AtomicUsize,
    /// The waker `cancel` or a `Ready` took back, dropped by the next
    /// registration or with the waiter (see `super::retired`).
    retired: Retired,
    _pin: PhantomPinned,
}

/// Waiter state: not known to the queue.
const IDLE: u8 = 0;
/// Waiter state: holds the slot. Whether it is waiting or notified lives in
/// the queue's state word (there is only one slot).
const IN_SLOT: u8 = 1;
/// Waiter state: an entry in the list points at this waiter.
const LISTED: u8 = 2;
/// Waiter state: removed from the list by a notifier, not yet observed.
const NOTIFIED: u8 = 3;

/// Slot bits of the state word (see the module docs' table).
const SLOT_MASK: u8 = 0b0111;
const SLOT_EMPTY: u8 = 0;
const SLOT_WAITING: u8 = 1;
const SLOT_NOTIFIED: u8 = 2;
const SLOT_CLAIMED: u8 = 3;
const SLOT_SELECTING: u8 = 4;
/// Set exactly while the list is non-empty.
const LIST: u8 = 0b1000;

impl HybridWaiter {
    /// Observes a listed waiter's notification: the waiter becomes idle.
    /// The caller saw `NOTIFIED` with an Acquire load.
    fn take_woken(&self) -> Woken {
        let woken = Woken {
            wakeup: self.wakeup.load(Relaxed),
            tag: self.tag.load(Relaxed),
        };
        self.state.store(IDLE, Relaxed);
        woken
    }
}

// SAFETY: contract points as argued in the code:
// 1. the slot is selected by claiming it (one `compare_exchange` from
//    `SLOT_WAITING`), a listed waiter by removing its entry under the lock,
//    so each selection is exact and happens once; FIFO follows from the slot
//    invariant in the module docs; `notify_all` reads its ticket bound and
//    the slot under the list lock, the one point ordered against every
//    registration; `notify_while` offers the slot, then the list, under it.
// 2. notified is sticky: only the owner moves `SLOT_NOTIFIED`/`NOTIFIED`
//    back; a cancel reads the slot tag only while it holds the slot, so it is
//    the one the last selector left.
// 3. the slot waiter registers into `slot_waker` and re-checks; a listed
//    waiter's entry holds its latest waker.
// 4. Release on every move to notified, Acquire where the owner reads it; the
//    caller's SeqCst fences order registration (`state` RMW or list push)
//    against the notifier's read of `state`. Selection is serialized by the
//    list lock and the slot claim (module docs).
// 5. wakers are woken and dropped after the lock is released.
// 6. only listed waiters are pointed to, and only while listed; the slot
//    waiter's data lives in the queue.
// 7. `register` clones before anything else; see each path for the rest.
unsafe impl WaitQueue for ParkingLotHybrid {
    type Waiter = HybridWaiter;

    #[cfg(not(loom))]
    const NEW: Self = Self {
        state: AtomicU8::new(0),
        slot_waker: WakerCell::new(),
        slot: UnsafeCell::new(SlotData { tag: 0, wakeup: 0 }),
        list: ParkingMutex::new(List::new()),
    };

    fn new() -> Self {
        Self {
            state: AtomicU8::new(0),
            slot_waker: WakerCell::new(),
            slot: UnsafeCell::new(SlotData { tag: 0, wakeup: 0 }),
            list: ParkingMutex::new(List::new()),
        }
    }

    fn new_waiter() -> HybridWaiter {
        HybridWaiter {
            state: AtomicU8::new(IDLE),
            ticket: AtomicU64::new(0),
            wakeup: AtomicUsize::new(0),
            tag: AtomicUsize::new(0),
            retired: Retired::new(),
            _pin: PhantomPinned,
        }
    }

    unsafe fn register(&self, waiter: Pin<&HybridWaiter>, waker: &Waker, tag: usize) {
        debug_assert_eq!(
            waiter.state.load(Relaxed),
            IDLE,
            "register: waiter not idle"
        );
        // Cloned (or the retired waker reused) first: user code, and if it
        // panics nothing has happened yet (the waiter is idle, contract point
        // 7). Nothing below runs user code.
        // SAFETY: the caller guarantees the waiter is idle, and is its owner.
        let waker = reuse_or_clone(unsafe { waiter.retired.take() }, waker);
        let Some(waker) = self.try_register_slot(&waiter, waker, tag) else {
            return;
        };
        self.push_listed(&waiter, waker, tag, End::Back);
    }

    /// Registers at the head: into the slot if the queue is empty, else at
    /// the front of the list. A waiting slot waiter stays ahead of it: the
    /// slot waiter is always the oldest (module docs), so `register_front`
    /// puts the waiter second when it finds the slot taken.
    unsafe fn register_front(&self, waiter: Pin<&HybridWaiter>, waker: &Waker, tag: usize) {
        debug_assert_eq!(
            waiter.state.load(Relaxed),
            IDLE,
            "register: waiter not idle"
        );
        // Cloned or reused first, as in `register`.
        // SAFETY: as in `register`.
        let waker = reuse_or_clone(unsafe { waiter.retired.take() }, waker);
        let Some(waker) = self.try_register_slot(&waiter, waker, tag) else {
            return;
        };
        self.push_listed(&waiter, waker, tag, End::Front);
    }

    unsafe fn poll_wait(&self, waiter: Pin<&HybridWaiter>, cx: &mut Context<'_>) -> Poll<Woken> {
        // Acquire: pairs with the Release store in `List::notify`.
        match waiter.state.load(Acquire) {
            IN_SLOT => return self.poll_slot(&waiter, cx),
            NOTIFIED => return Poll::Ready(waiter.take_woken()),
            state => assert_eq!(state, LISTED, "poll_wait: waiter not registered"),
        }
        // Cloning a waker is user code (it may panic, or re-enter this queue),
        // so it never runs under the lock (contract points 5 and 7): under the
        // lock we only compare; if a new waker is needed, we unlock, clone,
        // and lock again to store it.
        let mut fresh: Option<Waker> = None;
        loop {
            let stored = {
                let mut list = self.list.lock();
                if waiter.state.load(Acquire) == NOTIFIED {
                    drop(list);
                    // User code; if it panics the waiter stays NOTIFIED.
                    drop(fresh);
                    return Poll::Ready(waiter.take_woken());
                }
                let index = list
                    .position(&waiter)
                    .expect("poll_wait: listed waiter has no entry");
                let entry = &mut list.entries[index];
                if entry.waker.will_wake(cx.waker()) {
                    Some(None)
                } else {
                    // Only the owner stores wakers: the entry still holds the
                    // one we compared on our previous turn, if any.
                    fresh
                        .take()
                        .map(|new| Some(std::mem::replace(&mut entry.waker, new)))
                }
            };
            match stored {
                Some(stale) => {
                    // Dropped with the lock released (point 5); at most one
                    // of the two is `Some`.
                    drop(stale);
                    drop(fresh);
                    return Poll::Pending;
                }
                None => fresh = Some(cx.waker().clone()),
            }
        }
    }

    unsafe fn poll_notified(&self, waiter: Pin<&HybridWaiter>) -> Poll<Woken> {
        // Acquire: pairs with the Release store in `List::notify`. A listed
        // waiter moves to NOTIFIED only by a notifier, and out of it only by
        // its owner, so no lock is needed to look.
        match waiter.state.load(Acquire) {
            IN_SLOT => self.poll_slot_notified(&waiter),
            NOTIFIED => Poll::Ready(waiter.take_woken()),
            state => {
                assert_eq!(state, LISTED, "poll_notified: waiter not registered");
                Poll::Pending
            }
        }
    }

    unsafe fn cancel(&self, waiter: Pin<&HybridWaiter>) -> Cancelled {
        // Acquire: pairs with the Release store in `List::notify`.
        match waiter.state.load(Acquire) {
            IDLE => return Cancelled::Idle,
            IN_SLOT => return self.cancel_slot(&waiter),
            NOTIFIED => return Cancelled::Notified(waiter.take_woken()),
            _ => {}
        }
        let entry = {
            let mut list = self.list.lock();
            if waiter.state.load(Acquire) == NOTIFIED {
                return Cancelled::Notified(waiter.take_woken());
            }
            let index = list
                .position(&waiter)
                .expect("cancel: listed waiter has no entry");
            let entry = list.entries.remove(index).expect("index found above");
            self.entry_removed(&list);
            waiter.state.store(IDLE, Relaxed);
            entry
        };
        // The waker is user code: retired, and dropped after the caller has
        // acted on the result (contract point 7).
        // SAFETY: we are the waiter's owner, in its `cancel`.
        unsafe { waiter.retired.keep(Some(entry.waker)) };
        Cancelled::Removed { tag: entry.tag }
    }

    fn notify_one(&self, wakeup: usize) -> bool {
        loop {
            // Acquire: pairs with the Release that emptied the slot.
            let state = self.state.load(Acquire);
            if matches!(state & SLOT_MASK, SLOT_WAITING | SLOT_SELECTING) {
                // The slot waiter is the oldest: take it, or wait for the
                // notifier holding it to decide (a `Keep` leaves it to us).
                if self.try_notify_slot(wakeup) {
                    self.wake_slot();
                    return true;
                }
                continue;
            }
            if state & LIST == 0 {
                return false;
            }
            if let Some(notified) = self.notify_listed(wakeup, VecDeque::pop_front, true) {
                return notified;
            }
        }
    }

    fn notify_last(&self, wakeup: usize) -> bool {
        loop {
            let state = self.state.load(Acquire);
            // A non-empty list's tail is newer than the slot waiter.
            if state & LIST != 0
                && self.notify_listed(wakeup, VecDeque::pop_back, false) == Some(true)
            {
                return true;
            }
            if self.try_notify_slot(wakeup) {
                self.wake_slot();
                return true;
            }
            // Nothing found: done, unless the list filled up meanwhile.
            if self.state.load(Acquire) & LIST == 0 {
                return false;
            }
        }
    }

    fn notify_all(&self, wakeup: usize) -> usize {
        let mut batch = WakeBatch::new();
        let mut list = self.list.lock();
        // The linearization point: listed registrations hold this lock, so the
        // ones before have a ticket below `target`; a slot registration after
        // the check below is not selected.
        let target = list.next_ticket;
        let mut wake_slot = self.try_notify_slot(wakeup);
        let mut count = usize::from(wake_slot);
        loop {
            let mut drained = true;
            while list.entries.front().is_some_and(|e| e.ticket < target) {
                if batch.is_full() {
                    drained = false;
                    break;
                }
                let entry = list.entries.pop_front().expect("front checked above");
                batch.push(Some(List::notify(entry, wakeup)));
                count += 1;
            }
            self.entry_removed(&list);
            drop(list);
            if std::mem::take(&mut wake_slot) {
                // Like the batch, a panicking wake here is kept for `finish`.
                batch.run_user(|| self.wake_slot());
            }
            batch.wake_all();
            if drained {
                // Resumes the first panic a waker raised, once every batch is done.
                batch.finish();
                return count;
            }
            list = self.list.lock();
        }
    }

    fn notify_while(&self, mut select: impl FnMut(&mut usize) -> Select) -> usize {
        // Nobody to offer (a registration in progress, `SLOT_CLAIMED`, does
        // not count: it overlaps this call). Acquire: as in `notify_one`.
        let state = self.state.load(Acquire);
        if state & LIST == 0 && !matches!(state & SLOT_MASK, SLOT_WAITING | SLOT_SELECTING) {
            return 0;
        }
        let mut batch = WakeBatch::new();
        let mut count = 0;
        let mut list = self.list.lock();
        loop {
            let mut done = true;
            // Each time we hold the lock (the batch is empty then), the
            // slot first: a waiting slot waiter is older than every listed
            // one (module docs). After a batch, one can only be there if it
            // registered while the list was empty, so it is still older than
            // every entry.
            // In order: a slot waiter still registering is waited for, not
            // skipped (see `claim_slot_in_order`).
            if let Some(mut claim) = self.claim_slot_in_order() {
                match claim.with_tag(&mut select) {
                    Select::Notify(wakeup) => {
                        claim.notify(wakeup);
                        // Only moves the waker out: no user code under the
                        // lock. Woken with the batch.
                        batch.push(self.slot_waker.take());
                        count += 1;
                    }
                    Select::Keep => {
                        // The claim's drop puts the waiter back, with the
                        // tag the selector left.
                        drop(claim);
                        drop(list);
                        batch.finish();
                        return count;
                    }
                }
            }
            while let Some(front) = list.entries.front_mut() {
                if batch.is_full() {
                    done = false;
                    break;
                }
                let Select::Notify(wakeup) = select(&mut front.tag) else {
                    break;
                };
                let entry = list.entries.pop_front().expect("front checked above");
                batch.push(Some(List::notify(entry, wakeup)));
                count += 1;
            }
            self.entry_removed(&list);
            drop(list);
            batch.wake_all();
            if done {
                // Resumes the first panic a waker raised, once every batch is done.
                batch.finish();
                return count;
            }
            list = self.list.lock();
        }
    }
}

impl Default for ParkingLotHybrid {
    fn default() -> Self {
        <Self as WaitQueue>::new()
    }
}

impl std::fmt::Debug for ParkingLotHybrid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParkingLotHybrid")
            .field("state", &self.state.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for HybridWaiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HybridWaiter")
            .field("state", &self.state.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl Drop for HybridWaiter {
    fn drop(&mut self) {
        // Not while unwinding: a second panic would abort and hide the first.
        // (Debug builds only, as the assertion.)
        if cfg!(debug_assertions) && !std::thread::panicking() {
            debug_assert!(
                matches!(self.state.load(Relaxed), IDLE | NOTIFIED),
                "HybridWaiter dropped while registered"
            );
        }
    }
}
