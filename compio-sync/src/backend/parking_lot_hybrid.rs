//! [`ParkingLotHybrid`]: a `parking_lot` wait list with a lock-free slot for a
//! lone waiter (the research text's Phase 1).
//!
//! Most waits in practice have at most one waiter at a time (a Notify
//! ping-pong, a Mutex with one contender). That waiter parks in the *slot*: a
//! state word plus a waker cell, touched without any lock. Further
//! waiters go to a FIFO list behind a `parking_lot::Mutex`.
//!
//! # The state word
//!
//! `state` holds the slot's state in its two low bits (`SLOT_EMPTY`,
//! `SLOT_CLAIMED`, `SLOT_WAITING`, `SLOT_NOTIFIED`) and the `LIST` flag, which
//! is set exactly while the list is non-empty (it changes only under the list
//! lock, so under that lock it is exact).
//!
//! A waiter takes the slot only by `compare_exchange(0, SLOT_CLAIMED)`: the
//! slot is empty *and* the list is empty. A claimed slot is not yet waiting,
//! so no notifier selects it: its owner stores its (already cloned) waker
//! first and only then moves the slot to `SLOT_WAITING`, so a notifier that
//! selects the slot always finds the waker to wake, and the registration runs
//! no user code once it is visible (contract point 7). That gives the
//! invariant behind strict FIFO: **a waiting slot waiter is older than every
//! listed waiter whose registration did not overlap its own.** (A listed
//! waiter registered while the slot was busy or the list non-empty; the slot
//! cannot be retaken until the list has drained. Registrations that overlap
//! have no order to keep.) So `notify_one` tries the slot first, then the
//! list head; `notify_last` tries the list tail first, then the slot.
//!
//! No path stores a whole new state: every transition is a `compare_exchange`
//! or a `fetch_*` on the bits it owns, so a mode change can never erase a
//! queued waiter. (The research sketch's unconditional `store(MODE_EMPTY)`
//! could overwrite `MODE_MULTI` with waiters queued; there is no such store
//! here.)
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

use std::{
    collections::VecDeque,
    marker::PhantomPinned,
    pin::Pin,
    ptr::NonNull,
    task::{Context, Poll, Waker},
};

use super::{WaitQueue, WakeBatch, waker_cell::WakerCell};
use crate::loom::{
    ParkingMutex,
    atomic::{AtomicU8, AtomicU64, Ordering::*},
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
    /// Waiters that found the slot taken, in registration order.
    list: ParkingMutex<List>,
}

/// The per-wait state of a [`ParkingLotHybrid`] waiter.
pub struct HybridWaiter {
    /// `IDLE`, `IN_SLOT`, `LISTED` or `NOTIFIED`. The owner alone writes
    /// `IDLE` and `IN_SLOT`; `LISTED` and `NOTIFIED` are written under the
    /// list lock.
    state: AtomicU8,
    /// The list ticket while `LISTED`. Written and read under the list lock.
    ticket: AtomicU64,
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

/// Slot bits of the state word.
const SLOT_MASK: u8 = 0b011;
const SLOT_EMPTY: u8 = 0;
const SLOT_WAITING: u8 = 1;
const SLOT_NOTIFIED: u8 = 2;
/// Taken by a registering waiter that has not stored its waker yet; not
/// selectable.
const SLOT_CLAIMED: u8 = 3;
/// Set exactly while the list is non-empty.
const LIST: u8 = 0b100;

struct Entry {
    waiter: NonNull<HybridWaiter>,
    waker: Waker,
    ticket: u64,
}

struct List {
    /// Sorted by `ticket` (tickets are handed out in push order), so a waiter
    /// finds its entry by binary search.
    entries: VecDeque<Entry>,
    /// The ticket of the next registration. `notify_all` notifies the tickets
    /// below the value it reads.
    next_ticket: u64,
}

// SAFETY: `List` holds pointers to `HybridWaiter`s, which are `Sync`; they are
// only followed under the list lock, while the waiter is `LISTED` and so still
// alive (the caller cancels a waiter before dropping it).
unsafe impl Send for List {}

impl List {
    const fn new() -> Self {
        Self {
            entries: VecDeque::new(),
            next_ticket: 0,
        }
    }

    fn position(&self, waiter: &HybridWaiter) -> Option<usize> {
        let ticket = waiter.ticket.load(Relaxed);
        self.entries
            .binary_search_by_key(&ticket, |entry| entry.ticket)
            .ok()
    }

    /// Marks a just-removed entry's waiter notified and returns its waker.
    /// Called under the list lock.
    fn notify(entry: Entry) -> Waker {
        // Release pairs with the owner's Acquire load of `state`, so everything
        // the notifier did before notifying happens-before the owner's `Ready`
        // (contract point 4).
        // SAFETY: the entry was in the list under the lock we hold, so its
        // waiter is `LISTED` and alive; it is not touched after this store.
        unsafe { entry.waiter.as_ref().state.store(NOTIFIED, Release) };
        entry.waker
    }
}

impl ParkingLotHybrid {
    /// Moves the slot from waiting to notified. Returns whether it did; the
    /// caller then wakes `slot_waker`, with no lock held.
    fn try_notify_slot(&self) -> bool {
        let mut state = self.state.load(Acquire);
        while state & SLOT_MASK == SLOT_WAITING {
            // Release: pairs with the owner's Acquire load that sees
            // `SLOT_NOTIFIED` (contract point 4). The loop only retries when
            // another bit (`LIST`) changed under us.
            match self.state.compare_exchange_weak(
                state,
                state - SLOT_WAITING + SLOT_NOTIFIED,
                AcqRel,
                Acquire,
            ) {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
        false
    }

    /// Hands the slot back after its owner saw `SLOT_NOTIFIED`.
    fn release_notified_slot(&self, waiter: &HybridWaiter) -> Poll<()> {
        // Take our waker before the slot can change hands (see module docs).
        let stale = self.slot_waker.take();
        // Release: our last use of `slot_waker` happens-before the next
        // owner's Acquire `compare_exchange(0, SLOT_WAITING)`.
        self.state.fetch_sub(SLOT_NOTIFIED, Release);
        waiter.state.store(IDLE, Relaxed);
        drop(stale);
        Poll::Ready(())
    }

    fn poll_slot(&self, waiter: &HybridWaiter, cx: &mut Context<'_>) -> Poll<()> {
        // Acquire: pairs with the Release in `try_notify_slot`.
        if self.state.load(Acquire) & SLOT_MASK == SLOT_NOTIFIED {
            return self.release_notified_slot(waiter);
        }
        if !self.slot_waker.will_wake(cx.waker()) {
            // Cloned, and the replaced waker dropped, outside the cell (user
            // code, contract point 7). If either panics, we still hold the
            // slot with a waker stored, and the next poll or cancel goes on.
            let stale = self.slot_waker.register(cx.waker().clone());
            drop(stale);
        }
        // Register, then re-check: a notifier that selected us before the
        // register woke the old waker, or found the cell busy and took
        // nothing; either way we see `SLOT_NOTIFIED` here.
        if self.state.load(Acquire) & SLOT_MASK == SLOT_NOTIFIED {
            return self.release_notified_slot(waiter);
        }
        Poll::Pending
    }

    /// Wakes the slot's waker, after a notifier moved the slot to notified.
    fn wake_slot(&self) {
        if let Some(waker) = self.slot_waker.take() {
            waker.wake();
        }
    }

    fn cancel_slot(&self, waiter: &HybridWaiter) -> bool {
        // Our waker must leave `slot_waker` before the slot can change hands.
        let waker = self.slot_waker.take();
        let mut state = self.state.load(Acquire);
        let notified = loop {
            match state & SLOT_MASK {
                SLOT_WAITING => {
                    // Release: as in `release_notified_slot`. Acquire on
                    // failure: we may see `SLOT_NOTIFIED` and must then see
                    // what the notifier did before it (point 4).
                    match self.state.compare_exchange_weak(
                        state,
                        state - SLOT_WAITING,
                        Release,
                        Acquire,
                    ) {
                        Ok(_) => break false,
                        Err(actual) => state = actual,
                    }
                }
                SLOT_NOTIFIED => {
                    // Release: as in `release_notified_slot`.
                    self.state.fetch_sub(SLOT_NOTIFIED, Release);
                    break true;
                }
                _ => unreachable!("cancel: slot owner found the slot empty"),
            }
        };
        waiter.state.store(IDLE, Relaxed);
        drop(waker);
        notified
    }

    /// Pops the list head or tail (as `pop` chooses) and notifies it. Returns
    /// `Some(true)` if it did, `Some(false)` if the list was empty, and `None`
    /// if `slot_first` is set and the slot holds a waiting waiter (which is
    /// older than every listed one, so `notify_one` must take it instead).
    fn notify_listed(
        &self,
        pop: fn(&mut VecDeque<Entry>) -> Option<Entry>,
        slot_first: bool,
    ) -> Option<bool> {
        let waker = {
            let mut list = self.list.lock();
            if slot_first && self.state.load(Acquire) & SLOT_MASK == SLOT_WAITING {
                // The slot was retaken after we looked (the list had drained
                // in between), so its waiter is older than every entry now.
                return None;
            }
            let Some(entry) = pop(&mut list.entries) else {
                return Some(false);
            };
            if list.entries.is_empty() {
                // Under the lock, so `LIST` stays exact.
                self.state.fetch_and(!LIST, Relaxed);
            }
            List::notify(entry)
        };
        // Woken with the lock released (contract point 5).
        waker.wake();
        Some(true)
    }
}

// SAFETY: contract points as argued in the code:
// 1. the slot is selected by one `compare_exchange` from `SLOT_WAITING`, a
//    listed waiter by removing its entry under the lock, so each selection is
//    exact and happens once; FIFO follows from the slot invariant in the
//    module docs; `notify_all` reads its ticket bound and the slot under the
//    list lock, the one point ordered against every registration.
// 2. notified is sticky: only the owner moves `SLOT_NOTIFIED`/`NOTIFIED` back.
// 3. the slot waiter registers into `slot_waker` and re-checks; a listed
//    waiter's entry holds its latest waker.
// 4. Release on every move to notified, Acquire where the owner reads it; the
//    caller's SeqCst fences order registration (`state` RMW or list push)
//    against the notifier's read of `state`.
// 5. wakers are woken and dropped after the lock is released.
// 6. only listed waiters are pointed to, and only while listed.
unsafe impl WaitQueue for ParkingLotHybrid {
    type Waiter = HybridWaiter;

    #[cfg(not(loom))]
    const NEW: Self = Self {
        state: AtomicU8::new(0),
        slot_waker: WakerCell::new(),
        list: ParkingMutex::new(List::new()),
    };

    fn new() -> Self {
        Self {
            state: AtomicU8::new(0),
            slot_waker: WakerCell::new(),
            list: ParkingMutex::new(List::new()),
        }
    }

    fn new_waiter() -> HybridWaiter {
        HybridWaiter {
            state: AtomicU8::new(IDLE),
            ticket: AtomicU64::new(0),
            _pin: PhantomPinned,
        }
    }

    unsafe fn register(&self, waiter: Pin<&HybridWaiter>, waker: &Waker) {
        debug_assert_eq!(
            waiter.state.load(Relaxed),
            IDLE,
            "register: waiter not idle"
        );
        // Cloned first: the clone is user code, and if it panics nothing has
        // happened yet (the waiter is idle, contract point 7). Nothing below
        // runs user code.
        let waker = waker.clone();
        // Fast path: nobody waits anywhere, claim the slot. Acquire: pairs
        // with the previous owner's Release of the slot, so its last use of
        // `slot_waker` happens-before ours.
        if self
            .state
            .compare_exchange(SLOT_EMPTY, SLOT_CLAIMED, Acquire, Relaxed)
            .is_ok()
        {
            // Claimed, not waiting: no notifier selects us yet, so the waker
            // is in place before anyone can look for it. The previous owner
            // emptied the cell before it released the slot.
            let stale = self.slot_waker.register(waker);
            debug_assert!(stale.is_none(), "slot waker left behind");
            waiter.state.store(IN_SLOT, Relaxed);
            // CLAIMED -> WAITING, leaving `LIST` alone: from here a notifier
            // may select us. Release: publishes the stored waker and our
            // `IN_SLOT` (the caller's SeqCst fence orders this store against a
            // notifier's look at `state`).
            self.state.fetch_sub(SLOT_CLAIMED - SLOT_WAITING, Release);
            return;
        }
        let mut list = self.list.lock();
        let ticket = list.next_ticket;
        list.next_ticket += 1;
        list.entries.push_back(Entry {
            waiter: NonNull::from(waiter.get_ref()),
            waker,
            ticket,
        });
        waiter.ticket.store(ticket, Relaxed);
        waiter.state.store(LISTED, Relaxed);
        // Relaxed: the list contents travel through the lock; the caller's
        // SeqCst fence orders this flag against a notifier's read of `state`.
        self.state.fetch_or(LIST, Relaxed);
    }

    unsafe fn poll_wait(&self, waiter: Pin<&HybridWaiter>, cx: &mut Context<'_>) -> Poll<()> {
        // Acquire: pairs with the Release store in `List::notify`.
        match waiter.state.load(Acquire) {
            IN_SLOT => return self.poll_slot(&waiter, cx),
            NOTIFIED => {
                waiter.state.store(IDLE, Relaxed);
                return Poll::Ready(());
            }
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
                    waiter.state.store(IDLE, Relaxed);
                    return Poll::Ready(());
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

    unsafe fn cancel(&self, waiter: Pin<&HybridWaiter>) -> bool {
        match waiter.state.load(Acquire) {
            IDLE => return false,
            IN_SLOT => return self.cancel_slot(&waiter),
            NOTIFIED => {
                waiter.state.store(IDLE, Relaxed);
                return true;
            }
            _ => {}
        }
        let entry = {
            let mut list = self.list.lock();
            if waiter.state.load(Acquire) == NOTIFIED {
                waiter.state.store(IDLE, Relaxed);
                return true;
            }
            let index = list
                .position(&waiter)
                .expect("cancel: listed waiter has no entry");
            let entry = list.entries.remove(index);
            if list.entries.is_empty() {
                self.state.fetch_and(!LIST, Relaxed);
            }
            waiter.state.store(IDLE, Relaxed);
            entry
        };
        drop(entry);
        false
    }

    fn notify_one(&self) -> bool {
        loop {
            // Acquire: pairs with the Release that emptied the slot.
            let state = self.state.load(Acquire);
            if state & SLOT_MASK == SLOT_WAITING {
                if self.try_notify_slot() {
                    self.wake_slot();
                    return true;
                }
                continue;
            }
            if state & LIST == 0 {
                return false;
            }
            match self.notify_listed(VecDeque::pop_front, true) {
                Some(notified) => return notified,
                None => continue,
            }
        }
    }

    fn notify_last(&self) -> bool {
        loop {
            let state = self.state.load(Acquire);
            // A non-empty list's tail is newer than the slot waiter.
            if state & LIST != 0 && self.notify_listed(VecDeque::pop_back, false) == Some(true) {
                return true;
            }
            if self.try_notify_slot() {
                self.wake_slot();
                return true;
            }
            // Nothing found: done, unless the list filled up meanwhile.
            if self.state.load(Acquire) & LIST == 0 {
                return false;
            }
        }
    }

    fn notify_all(&self) -> usize {
        let mut batch = WakeBatch::new();
        let mut list = self.list.lock();
        // The linearization point: listed registrations hold this lock, so the
        // ones before have a ticket below `target`; a slot registration after
        // the check below is not selected.
        let target = list.next_ticket;
        let mut wake_slot = self.try_notify_slot();
        let mut count = usize::from(wake_slot);
        loop {
            let mut drained = true;
            while list.entries.front().is_some_and(|e| e.ticket < target) {
                if batch.is_full() {
                    drained = false;
                    break;
                }
                let entry = list.entries.pop_front().expect("front checked above");
                batch.push(Some(List::notify(entry)));
                count += 1;
            }
            if list.entries.is_empty() {
                self.state.fetch_and(!LIST, Relaxed);
            }
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
        if !std::thread::panicking() {
            debug_assert!(
                matches!(self.state.load(Relaxed), IDLE | NOTIFIED),
                "HybridWaiter dropped while registered"
            );
        }
    }
}
