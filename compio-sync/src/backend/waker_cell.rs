//! [`WakerCell`]: a single-registrant waker slot that never runs user code
//! inside its critical sections.
//!
//! It is `atomic_waker::AtomicWaker`'s algorithm (from `futures`' `AtomicWaker`:
//! a `REGISTERING`/`WAKING` state word guarding one `Option<Waker>`), with the
//! one change this crate needs: `AtomicWaker::register` clones the waker and
//! drops the replaced one *while it holds the cell*, so a `clone` or `drop`
//! that panics leaves the cell locked for good and every later `wake`
//! silently does nothing (issue 8, defect 3). Here the caller clones before
//! calling [`register`](WakerCell::register) and gets the replaced waker
//! back to drop after it; inside the cell only `Option<Waker>` moves and
//! [`Waker::will_wake`] (a pointer comparison) run.
//!
//! The other difference: `register` does not wake the new waker when a
//! [`take`](WakerCell::take) raced it (that would be user code, after the
//! waiter became visible). The take then returns `None`, and the registrant
//! must re-check whether it was notified after `register` returns. Both users
//! (`ParkingLotHybrid`'s slot, `SegQueue`'s handles) do: they register, then
//! re-check their state word, which the notifier writes before it takes.

use std::task::Waker;

use crate::loom::{
    UnsafeCell,
    atomic::{AtomicU8, Ordering::*},
};

/// Nobody holds the cell.
const IDLE: u8 = 0;
/// The registrant holds the cell (`register` or `will_wake`).
const REGISTERING: u8 = 0b01;
/// A taker holds the cell, or (with `REGISTERING`) a take found it held.
const WAKING: u8 = 0b10;

/// A waker slot with one registrant (the waiter that owns it) and any number
/// of takers (notifiers).
pub(super) struct WakerCell {
    /// `IDLE`, `REGISTERING`, `WAKING` or `REGISTERING | WAKING`.
    state: AtomicU8,
    /// Accessed only by whoever moved `state` from `IDLE` to `REGISTERING`
    /// or to `WAKING`.
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: `waker` is only accessed by the one thread that holds the cell
// (see `state`), and `Waker` is `Send + Sync`.
unsafe impl Send for WakerCell {}
// SAFETY: as for `Send`.
unsafe impl Sync for WakerCell {}

impl WakerCell {
    #[cfg(not(loom))]
    pub(super) const fn new() -> Self {
        Self {
            state: AtomicU8::new(IDLE),
            waker: UnsafeCell::new(None),
        }
    }

    #[cfg(loom)]
    pub(super) fn new() -> Self {
        Self {
            state: AtomicU8::new(IDLE),
            waker: UnsafeCell::new(None),
        }
    }

    /// Runs `f` on the stored waker, holding the cell as its registrant.
    /// Called by the registrant only (one at a time).
    fn with_registering<R>(&self, f: impl FnOnce(&mut Option<Waker>) -> R) -> R {
        // Acquire: pairs with the Release that ended the previous holder's
        // access (a taker's `fetch_and`, our own last unlock).
        while let Err(state) = self
            .state
            .compare_exchange_weak(IDLE, REGISTERING, Acquire, Relaxed)
        {
            debug_assert_eq!(state & REGISTERING, 0, "WakerCell: two registrants");
            // A taker holds the cell for a few instructions, running no user
            // code (it only moves the waker out): wait for it.
            spin();
        }
        // SAFETY: we moved `state` from IDLE to REGISTERING, so we hold the
        // cell: no taker touches `waker` until we unlock.
        let result = self.waker.with_mut(|waker| f(unsafe { &mut *waker }));
        // AcqRel: Release publishes our write of `waker` to the next holder;
        // Acquire pairs with a racing take's `fetch_or(WAKING)` (which found
        // us holding the cell and returned `None`), so the state the taker's
        // notifier wrote before it is visible to our caller's re-check. The
        // swap also clears that taker's WAKING bit.
        self.state.swap(IDLE, AcqRel);
        result
    }

    /// Whether the stored waker would wake the same task as `waker`.
    pub(super) fn will_wake(&self, waker: &Waker) -> bool {
        self.with_registering(|slot| slot.as_ref().is_some_and(|old| old.will_wake(waker)))
    }

    /// Stores `waker` and returns the waker it replaces, for the caller to
    /// drop (user code) after this returns. The caller must then re-check
    /// whether it was notified: a take that raced this call returned `None`.
    #[must_use = "the replaced waker must be dropped by the caller"]
    pub(super) fn register(&self, waker: Waker) -> Option<Waker> {
        self.with_registering(|slot| slot.replace(waker))
    }

    /// Takes the stored waker, for the caller to wake or drop. Returns `None`
    /// if the cell is empty or the registrant holds it (it re-checks after).
    /// Never waits.
    pub(super) fn take(&self) -> Option<Waker> {
        // AcqRel: Acquire pairs with the registrant's Release unlock (its
        // `waker` write); Release orders everything before the take (the
        // notifier's state change) before the registrant's Acquire unlock.
        match self.state.fetch_or(WAKING, AcqRel) {
            IDLE => {
                // SAFETY: we moved `state` from IDLE to WAKING, so we hold
                // the cell.
                let waker = self.waker.with_mut(|waker| unsafe { (*waker).take() });
                // Release: our access to `waker` happens-before the next
                // holder's.
                self.state.fetch_and(!WAKING, Release);
                waker
            }
            // The registrant holds it (and re-checks), or another take does.
            _ => None,
        }
    }
}

/// One turn of a spin-wait on another thread's short critical section (the
/// cell's holder here; `ParkingLotHybrid` waits this way for a slot claim).
pub(super) fn spin() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::hint::spin_loop();
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::{
        sync::{
            Arc,
            atomic::{AtomicUsize, Ordering::SeqCst},
        },
        task::Wake,
    };

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    #[test]
    fn register_returns_the_replaced_waker_and_take_empties() {
        let cell = WakerCell::new();
        let a = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let b = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        assert!(cell.register(a.clone()).is_none());
        assert!(cell.will_wake(&a));
        assert!(!cell.will_wake(&b));
        assert!(cell.register(b.clone()).unwrap().will_wake(&a));
        assert!(cell.take().unwrap().will_wake(&b));
        assert!(cell.take().is_none());
        assert!(!cell.will_wake(&a));
    }
}
