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

use std::{
    collections::VecDeque,
    marker::PhantomPinned,
    pin::Pin,
    ptr::NonNull,
    task::{Context, Poll, Waker},
};

use super::{
    Cancelled, Select, WaitQueue, WakeBatch, Woken,
    waker_cell::{WakerCell, spin},
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

/// The slot waiter's share of a [`Woken`].
#[derive(Clone, Copy)]
struct SlotData {
    tag: usize,
    wakeup: usize,
}

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

/// Which end of the list a registration joins.
enum End {
    Back,
    Front,
}

struct Entry {
    waiter: NonNull<HybridWaiter>,
    waker: Waker,
    ticket: u64,
    /// The waiter's tag while it is listed (lowered by `notify_while`).
    tag: usize,
}

struct List {
    /// Sorted by `ticket` (tickets are handed out in push order), so a waiter
    /// finds its entry by binary search.
    entries: VecDeque<Entry>,
    /// The ticket of the next registration. `notify_all` notifies the tickets
    /// below the value it reads.
    next_ticket: u64,
    /// The ticket of the next `register_front`: counts down from just below
    /// the first `next_ticket`, so the entries stay sorted.
    front_ticket: u64,
}

// SAFETY: `List` holds pointers to `HybridWaiter`s, which are `Sync`; they are
// only followed under the list lock, while the waiter is `LISTED` and so still
// alive (the caller cancels a waiter before dropping it).
unsafe impl Send for List {}

impl List {
    /// The first ticket of each end; `u64` has room for 2^63 registrations
    /// at each.
    const MIDDLE: u64 = 1 << 63;

    const fn new() -> Self {
        Self {
            entries: VecDeque::new(),
            next_ticket: Self::MIDDLE,
            front_ticket: Self::MIDDLE - 1,
        }
    }

    fn position(&self, waiter: &HybridWaiter) -> Option<usize> {
        let ticket = waiter.ticket.load(Relaxed);
        self.entries
            .binary_search_by_key(&ticket, |entry| entry.ticket)
            .ok()
    }

    /// Hands a just-removed entry's waiter `wakeup` and its tag, marks it
    /// notified and returns its waker. Called under the list lock.
    fn notify(entry: Entry, wakeup: usize) -> Waker {
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

/// A notifier's hold on the slot waiter: the slot is `SLOT_SELECTING`, so the
/// waiter can neither leave nor be selected by another notifier, and the
/// holder alone touches `slot`. Ends by [`notify`](Self::notify), or by drop,
/// which puts the waiter back to `SLOT_WAITING` (a `Keep`, or a selector
/// that panicked).
struct SlotClaim<'a> {
    queue: &'a ParkingLotHybrid,
}

impl SlotClaim<'_> {
    /// Runs `f` on the claimed waiter's tag.
    fn with_tag<R>(&mut self, f: impl FnOnce(&mut usize) -> R) -> R {
        // SAFETY: we hold the slot (`SLOT_SELECTING`), which gives us its
        // data; our claim's Acquire ordered the last holder's writes before.
        unsafe { self.queue.with_slot(|slot| f(&mut slot.tag)) }
    }

    /// Hands the claimed waiter `wakeup` and marks it notified. The caller
    /// then takes its waker from `slot_waker` and wakes it, with no lock
    /// held.
    fn notify(self, wakeup: usize) {
        let queue = self.queue;
        std::mem::forget(self);
        // SAFETY: we still hold the slot (`SLOT_SELECTING`).
        unsafe { queue.with_slot(|slot| slot.wakeup = wakeup) };
        // SELECTING -> NOTIFIED, leaving `LIST` alone. Release: pairs with the
        // owner's Acquire load that sees `SLOT_NOTIFIED`, publishing the
        // wake-up value, the tag as we left it, and everything the notifier
        // did before (contract point 4).
        queue
            .state
            .fetch_sub(SLOT_SELECTING - SLOT_NOTIFIED, Release);
    }
}

impl Drop for SlotClaim<'_> {
    fn drop(&mut self) {
        // SELECTING -> WAITING, leaving `LIST` alone. Release: publishes the
        // tag as the selector left it to the next claimant (a selector or the
        // owner's cancel), whose claim is an Acquire CAS.
        self.queue
            .state
            .fetch_sub(SLOT_SELECTING - SLOT_WAITING, Release);
    }
}

/// One turn of waiting for another thread's claim of the slot to end (it runs
/// no user code). Spins a little, then yields the CPU, in case the holder was
/// preempted.
fn wait_for_claim(turn: &mut u32) {
    #[cfg(not(loom))]
    if *turn >= 64 {
        std::thread::yield_now();
        return;
    }
    *turn += 1;
    spin();
}

impl ParkingLotHybrid {
    /// Runs `f` on the slot's data.
    ///
    /// # Safety
    ///
    /// The caller holds the slot (module docs, "The state word"): it moved
    /// the slot bits to `SLOT_CLAIMED` or `SLOT_SELECTING`, or it is the slot
    /// waiter's owner and observed `SLOT_NOTIFIED` with an Acquire load.
    unsafe fn with_slot<R>(&self, f: impl FnOnce(&mut SlotData) -> R) -> R {
        // SAFETY: whoever holds the slot is the only one to access `slot`
        // (guaranteed by the caller), and the Acquire that gave it the slot
        // ordered the previous holder's accesses before.
        self.slot.with_mut(|slot| f(unsafe { &mut *slot }))
    }

    /// Claims the slot waiter for a notifier (`SLOT_WAITING` ->
    /// `SLOT_SELECTING`). If another notifier holds it, waits for that one's
    /// verdict. Returns `None` if the slot holds no waiting waiter.
    fn claim_slot(&self) -> Option<SlotClaim<'_>> {
        let mut turn = 0;
        let mut state = self.state.load(Acquire);
        loop {
            match state & SLOT_MASK {
                SLOT_WAITING => {
                    // Acquire: pairs with the Release that made the slot
                    // waiting (the owner's registration, or a previous
                    // claimant's `Keep`), so its writes of `slot` and
                    // `slot_waker` happen-before ours. The loop retries when
                    // `LIST` changed under us or another claim won.
                    match self.state.compare_exchange_weak(
                        state,
                        state - SLOT_WAITING + SLOT_SELECTING,
                        Acquire,
                        Acquire,
                    ) {
                        Ok(_) => return Some(SlotClaim { queue: self }),
                        Err(actual) => state = actual,
                    }
                }
                SLOT_SELECTING => {
                    wait_for_claim(&mut turn);
                    state = self.state.load(Acquire);
                }
                _ => return None,
            }
        }
    }

    /// Notifies the slot waiter, if it is waiting, handing it `wakeup`;
    /// returns whether it did. The caller then calls [`wake_slot`], with no
    /// lock held.
    ///
    /// [`wake_slot`]: Self::wake_slot
    fn try_notify_slot(&self, wakeup: usize) -> bool {
        match self.claim_slot() {
            Some(claim) => {
                claim.notify(wakeup);
                true
            }
            None => false,
        }
    }

    /// Wakes the slot's waker, after a notifier moved the slot to notified.
    fn wake_slot(&self) {
        if let Some(waker) = self.slot_waker.take() {
            waker.wake();
        }
    }

    /// Hands the slot back after its owner saw `SLOT_NOTIFIED` (Acquire),
    /// and returns what the notifier left.
    fn release_notified_slot(&self, waiter: &HybridWaiter) -> Woken {
        // SAFETY: we own the slot waiter and saw `SLOT_NOTIFIED` (Acquire).
        let slot = unsafe { self.with_slot(|slot| *slot) };
        // Take our waker before the slot can change hands (see module docs).
        let stale = self.slot_waker.take();
        // Release: our last use of `slot` and `slot_waker` happens-before the
        // next owner's Acquire `compare_exchange(0, SLOT_CLAIMED)`.
        self.state.fetch_sub(SLOT_NOTIFIED, Release);
        waiter.state.store(IDLE, Relaxed);
        // User code, the waiter already idle (contract point 7).
        drop(stale);
        Woken {
            wakeup: slot.wakeup,
            tag: slot.tag,
        }
    }

    fn poll_slot(&self, waiter: &HybridWaiter, cx: &mut Context<'_>) -> Poll<Woken> {
        // Acquire: pairs with the Release in `SlotClaim::notify`.
        if self.state.load(Acquire) & SLOT_MASK == SLOT_NOTIFIED {
            return Poll::Ready(self.release_notified_slot(waiter));
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
        // nothing; either way we see `SLOT_NOTIFIED` here. (A notifier that
        // holds a claim, `SLOT_SELECTING`, takes the waker after it marks us,
        // so it finds the one we just stored.)
        if self.state.load(Acquire) & SLOT_MASK == SLOT_NOTIFIED {
            return Poll::Ready(self.release_notified_slot(waiter));
        }
        Poll::Pending
    }

    fn cancel_slot(&self, waiter: &HybridWaiter) -> Cancelled {
        // Our waker must leave `slot_waker` before the slot can change hands.
        let waker = self.slot_waker.take();
        let mut turn = 0;
        let mut state = self.state.load(Acquire);
        let cancelled = loop {
            match state & SLOT_MASK {
                SLOT_WAITING => {
                    // WAITING -> CLAIMED: from here no notifier selects us,
                    // and the tag is ours to read. Acquire: pairs with the
                    // Release of the last claimant's `Keep`, so we read the
                    // tag as it left it. Acquire on failure: we may see
                    // `SLOT_NOTIFIED` and then read what the notifier wrote.
                    match self.state.compare_exchange_weak(
                        state,
                        state - SLOT_WAITING + SLOT_CLAIMED,
                        Acquire,
                        Acquire,
                    ) {
                        Ok(_) => {
                            // SAFETY: we moved the slot to `SLOT_CLAIMED`.
                            let tag = unsafe { self.with_slot(|slot| slot.tag) };
                            // Release: our read of `slot` happens-before the
                            // next owner's Acquire claim of the empty slot.
                            self.state.fetch_sub(SLOT_CLAIMED, Release);
                            break Cancelled::Removed { tag };
                        }
                        Err(actual) => state = actual,
                    }
                }
                SLOT_SELECTING => {
                    // A notifier holds us: wait for its verdict, so the tag
                    // we report is the one it leaves.
                    wait_for_claim(&mut turn);
                    state = self.state.load(Acquire);
                }
                SLOT_NOTIFIED => {
                    // SAFETY: we own the slot waiter and saw `SLOT_NOTIFIED`
                    // (Acquire).
                    let slot = unsafe { self.with_slot(|slot| *slot) };
                    // Release: as in `release_notified_slot`.
                    self.state.fetch_sub(SLOT_NOTIFIED, Release);
                    break Cancelled::Notified(Woken {
                        wakeup: slot.wakeup,
                        tag: slot.tag,
                    });
                }
                _ => unreachable!("cancel: slot owner found the slot empty"),
            }
        };
        waiter.state.store(IDLE, Relaxed);
        // User code, the waiter already idle (contract point 7).
        drop(waker);
        cancelled
    }

    /// Pops the list head or tail (as `pop` chooses) and notifies it with
    /// `wakeup`. Returns `Some(true)` if it did, `Some(false)` if the list
    /// was empty, and `None` if `slot_first` is set and the slot holds a
    /// waiting waiter (which is older than every listed one, so `notify_one`
    /// must take it instead).
    fn notify_listed(
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

    /// The fast path of a registration: if nobody waits anywhere, takes the
    /// slot and returns `None`; otherwise hands `waker` back for the list.
    /// Runs no user code.
    fn try_register_slot(&self, waiter: &HybridWaiter, waker: Waker, tag: usize) -> Option<Waker> {
        // Acquire: pairs with the previous holder's Release of the slot, so
        // its last use of `slot` and `slot_waker` happens-before ours.
        if self
            .state
            .compare_exchange(SLOT_EMPTY, SLOT_CLAIMED, Acquire, Relaxed)
            .is_err()
        {
            return Some(waker);
        }
        // Claimed, not waiting: no notifier selects us yet, so the waker and
        // tag are in place before anyone can look for them. The previous
        // owner emptied the cell before it released the slot, so nothing is
        // replaced (and no waker is dropped here).
        let stale = self.slot_waker.register(waker);
        debug_assert!(stale.is_none(), "slot waker left behind");
        // SAFETY: we moved the slot to `SLOT_CLAIMED`.
        unsafe { self.with_slot(|slot| *slot = SlotData { tag, wakeup: 0 }) };
        waiter.state.store(IN_SLOT, Relaxed);
        // CLAIMED -> WAITING, leaving `LIST` alone: from here a notifier may
        // select us. Release: publishes the stored waker, the tag and our
        // `IN_SLOT` to the claimant's Acquire (the caller's SeqCst fence
        // orders this RMW against a notifier's look at `state`).
        self.state.fetch_sub(SLOT_CLAIMED - SLOT_WAITING, Release);
        None
    }

    /// Links `waiter` into the list, at the `end` given. Runs no user code.
    fn push_listed(&self, waiter: &HybridWaiter, waker: Waker, tag: usize, end: End) {
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
    fn entry_removed(&self, list: &List) {
        if list.entries.is_empty() {
            // Relaxed: `LIST` is only a hint outside the lock; a notifier that
            // acts on it takes the lock, which orders the list contents.
            self.state.fetch_and(!LIST, Relaxed);
        }
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
            _pin: PhantomPinned,
        }
    }

    unsafe fn register(&self, waiter: Pin<&HybridWaiter>, waker: &Waker, tag: usize) {
        debug_assert_eq!(
            waiter.state.load(Relaxed),
            IDLE,
            "register: waiter not idle"
        );
        // Cloned first: the clone is user code, and if it panics nothing has
        // happened yet (the waiter is idle, contract point 7). Nothing below
        // runs user code.
        let waker = waker.clone();
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
        // Cloned first, as in `register`.
        let waker = waker.clone();
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
        let tag = entry.tag;
        // The waker is user code: dropped with the lock released (point 5).
        drop(entry);
        Cancelled::Removed { tag }
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
            if let Some(mut claim) = self.claim_slot() {
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
        if !std::thread::panicking() {
            debug_assert!(
                matches!(self.state.load(Relaxed), IDLE | NOTIFIED),
                "HybridWaiter dropped while registered"
            );
        }
    }
}
