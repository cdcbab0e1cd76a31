//! [`ParkingLotHybrid`]: a `parking_lot` wait list with a lock-free slot for a
//! lone waiter (the research text's Phase 1).
//!
//! Most waits in practice have at most one waiter at a time (a Notify
//! ping-pong, a Mutex with one contender). That waiter parks in the *slot*: a
//! state word plus an [`AtomicWaker`], touched without any lock. Further
//! waiters go to a FIFO list behind a `parking_lot::Mutex`.
//!
//! # The state word
//!
//! `state` holds the slot's state in its two low bits (`SLOT_EMPTY`,
//! `SLOT_WAITING`, `SLOT_NOTIFIED`) and the `LIST` flag, which is set exactly
//! while the list is non-empty (it changes only under the list lock, so under
//! that lock it is exact).
//!
//! A waiter takes the slot only by `compare_exchange(0, SLOT_WAITING)`: the slot
//! is empty *and* the list is empty. That gives the invariant behind strict
//! FIFO: **a waiting slot waiter is older than every listed waiter.** (A listed
//! waiter registered while the slot was busy or the list non-empty; the slot
//! cannot be retaken until the list has drained.) So `notify_one` tries the
//! slot first, then the list head; `notify_last` tries the list tail first,
//! then the slot.
//!
//! No path stores a whole new state: every transition is a `compare_exchange`
//! or a `fetch_*` on the bits it owns, so a mode change can never erase a
//! queued waiter. (The research sketch's unconditional `store(MODE_EMPTY)`
//! could overwrite `MODE_MULTI` with waiters queued; there is no such store
//! here.)
//!
//! # Who owns the slot's `AtomicWaker`
//!
//! Only the waiter holding the slot registers into or takes from
//! `slot_waker`, from its successful `compare_exchange(0, SLOT_WAITING)` until
//! its `Release` of the slot bits back to `SLOT_EMPTY`. It takes its waker out
//! before that release, so it never takes the next owner's. A notifier only
//! calls `slot_waker.wake()` after it moved the slot to `SLOT_NOTIFIED`; if
//! that call runs late, after the slot changed hands, it wakes the next owner
//! spuriously, which only costs that task one extra poll.

use std::{
    collections::VecDeque,
    marker::PhantomPinned,
    pin::Pin,
    ptr::NonNull,
    task::{Context, Poll, Waker},
};

use super::{WaitQueue, WakeBatch};
use crate::loom::{
    AtomicWaker, ParkingMutex,
    atomic::{AtomicU8, AtomicU64, Ordering::*},
};

/// A wait queue built from a `parking_lot::Mutex` list and an
/// [`AtomicWaker`](atomic_waker::AtomicWaker) slot that serves a lone waiter
/// without taking the lock.
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
    slot_waker: AtomicWaker,
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
        self.slot_waker.register(cx.waker());
        // Register, then re-check: a notifier that selected us before the
        // register above woke the old waker (or none); we see it here.
        if self.state.load(Acquire) & SLOT_MASK == SLOT_NOTIFIED {
            return self.release_notified_slot(waiter);
        }
        Poll::Pending
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
        slot_waker: AtomicWaker::new(),
        list: ParkingMutex::new(List::new()),
    };

    fn new() -> Self {
        Self {
            state: AtomicU8::new(0),
            slot_waker: AtomicWaker::new(),
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
        // Fast path: nobody waits anywhere, take the slot. Acquire: pairs with
        // the previous owner's Release of the slot, so its last use of
        // `slot_waker` happens-before ours.
        if self
            .state
            .compare_exchange(SLOT_EMPTY, SLOT_WAITING, AcqRel, Relaxed)
            .is_ok()
        {
            waiter.state.store(IN_SLOT, Relaxed);
            self.slot_waker.register(waker);
            // A notifier may have selected us between the exchange and the
            // register, and found no waker to wake. `AtomicWaker` orders its
            // `wake` before our `register` in that case, so this Acquire load
            // sees `SLOT_NOTIFIED`; we wake ourselves so that the caller, who
            // may return `Pending`, is polled again (contract point 3).
            if self.state.load(Acquire) & SLOT_MASK == SLOT_NOTIFIED {
                waker.wake_by_ref();
            }
            return;
        }
        // Cloned before locking: cloning a waker is user code.
        let waker = waker.clone();
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
        let stale = {
            let mut list = self.list.lock();
            if waiter.state.load(Acquire) == NOTIFIED {
                waiter.state.store(IDLE, Relaxed);
                return Poll::Ready(());
            }
            let index = list
                .position(&waiter)
                .expect("poll_wait: listed waiter has no entry");
            let entry = &mut list.entries[index];
            if entry.waker.will_wake(cx.waker()) {
                None
            } else {
                Some(std::mem::replace(&mut entry.waker, cx.waker().clone()))
            }
        };
        // The replaced waker is dropped with the lock released (point 5).
        drop(stale);
        Poll::Pending
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
                    self.slot_waker.wake();
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
                self.slot_waker.wake();
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
                self.slot_waker.wake();
            }
            batch.wake_all();
            if drained {
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
