//! The list of a [`ParkingLotHybrid`]: the waiters that found the slot
//! taken, in registration order, behind a `parking_lot::Mutex`.

use std::{collections::VecDeque, ptr::NonNull, task::Waker};

use super::{HybridWaiter, LIST, LISTED, NOTIFIED, ParkingLotHybrid, SLOT_MASK, SLOT_WAITING};
use crate::loom::atomic::Ordering::*;

/// Which end of the list a registration joins.
pub(super) enum End {
    Back,
    Front,
}

pub(super) struct Entry {
    pub(super) waiter: NonNull<HybridWaiter>,
    pub(super) waker: Waker,
    pub(super) ticket: u64,
    /// The waiter's tag while it is listed (lowered by `notify_while`).
    pub(super) tag: usize,
}

pub(super) struct List {
    /// Sorted by `ticket` (tickets are handed out in push order), so a waiter
    /// finds its entry by binary search.
    pub(super) entries: VecDeque<Entry>,
    /// The ticket of the next registration. `notify_all` notifies the tickets
    /// below the value it reads.
    pub(super) next_ticket: u64,
    /// The ticket of the next `register_front`: counts down from just below
    /// the first `next_ticket`, so the entries stay sorted.
    pub(super) front_ticket: u64,
}

// SAFETY: `List` holds pointers to `HybridWaiter`s, which are `Sync`; they are
// only followed under the list lock, while the waiter is `LISTED` and so still
// alive (the caller cancels a waiter before dropping it).
unsafe impl Send for List {}

impl List {
    /// The first ticket of each end; `u64` has room for 2^63 registrations
    /// at each.
    const MIDDLE: u64 = 1 << 63;

    pub(super) const fn new() -> Self {
        Self {
            entries: VecDeque::new(),
            next_ticket: Self::MIDDLE,
            front_ticket: Self::MIDDLE - 1,
        }
    }

    pub(super) fn position(&self, waiter: &HybridWaiter) -> Option<usize> {
        let ticket = waiter.ticket.load(Relaxed);
        self.entries
            .binary_search_by_key(&ticket, |entry| entry.ticket)
            .ok()
    }

    /// Hands a just-removed entry's waiter `wakeup` and its tag, marks it
    /// notified and returns its waker. Called under the list lock.
    pub(super) fn notify(entry: Entry, wakeup: usize) -> Waker {
        // SAFETY: the entry was in the list under the lock we hold, so its
        // waiter is `LISTED` and alive; it is not touched after the
        // `NOTIFIED` store.
        let waiter = unsafe { entry.waiter.as_ref() };
        waiter.wakeup.store(wakeup, Relaxed);
        waiter.tag.store(entry.tag, Relaxed);
        // Release: pairs with the owner's Acquire load of `state`, so the two
        // stores above and everything the notifier did before notifying
        // happen-before the owner's `Ready` (contract point 4).
        waiter.state.store(NOTIFIED, Release);
        entry.waker
    }
}

impl ParkingLotHybrid {
    /// Pops the list head or tail (as `pop` chooses) and notifies it with
    /// `wakeup`. Returns `Some(true)` if it did, `Some(false)` if the list
    /// was empty, and `None` if `slot_first` is set and the slot holds a
    /// waiting waiter (which is older than every listed one, so `notify_one`
    /// must take it instead).
    pub(super) fn notify_listed(
        &self,
        wakeup: usize,
        pop: fn(&mut VecDeque<Entry>) -> Option<Entry>,
        slot_first: bool,
    ) -> Option<bool> {
        let waker = {
            let mut list = self.list.lock();
            // `SLOT_SELECTING` is not checked: under the lock it is a
            // `notify_one`/`notify_last` that will notify the slot waiter.
            if slot_first && self.state.load(Acquire) & SLOT_MASK == SLOT_WAITING {
                // The slot was retaken after we looked (the list had drained
                // in between), so its waiter is older than every entry now.
                return None;
            }
            let Some(entry) = pop(&mut list.entries) else {
                return Some(false);
            };
            self.entry_removed(&list);
            List::notify(entry, wakeup)
        };
        // Woken with the lock released (contract point 5).
        waker.wake();
        Some(true)
    }

    /// Links `waiter` into the list, at the `end` given. Runs no user code.
    pub(super) fn push_listed(&self, waiter: &HybridWaiter, waker: Waker, tag: usize, end: End) {
        let mut list = self.list.lock();
        let ticket = match end {
            End::Back => {
                list.next_ticket += 1;
                list.next_ticket - 1
            }
            End::Front => {
                list.front_ticket -= 1;
                list.front_ticket + 1
            }
        };
        let entry = Entry {
            waiter: NonNull::from(waiter),
            waker,
            ticket,
            tag,
        };
        match end {
            End::Back => list.entries.push_back(entry),
            End::Front => list.entries.push_front(entry),
        }
        waiter.ticket.store(ticket, Relaxed);
        waiter.state.store(LISTED, Relaxed);
        // Relaxed: the list contents travel through the lock; the caller's
        // SeqCst fence orders this flag against a notifier's read of `state`.
        self.state.fetch_or(LIST, Relaxed);
    }

    /// Keeps `LIST` exact after an entry left `list`; call under its lock.
    pub(super) fn entry_removed(&self, list: &List) {
        if list.entries.is_empty() {
            // Relaxed: `LIST` is only a hint outside the lock; a notifier that
            // acts on it takes the lock, which orders the list contents.
            self.state.fetch_and(!LIST, Relaxed);
        }
    }
}
