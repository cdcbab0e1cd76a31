//! [`Retired`]: where a waiter keeps the waker it is done with, until its
//! owner may drop it (contract point 7).
//!
//! `cancel`, and a `poll_wait` that returns `Ready`, hand their caller a
//! decision to act on: a notification to pass on, permits to give back.
//! Dropping a waker is user code and may panic. Dropped inside those calls,
//! after the decision, a panic would unwind through the caller before it
//! acted, and the notification or the permits would be lost. So neither
//! call drops the waker it takes back from the queue: it *retires* it into
//! the waiter. The retired waker is dropped by the waiter's next `register`
//! (first thing, while the waiter is still idle, so a panic there leaves it
//! idle), or with the waiter itself, which its owner drops after it has acted
//! on the result. A `register` with a waker that wakes the same task reuses
//! the retired one instead of cloning ([`reuse_or_clone`]).
//!
//! The list backends retire into the node's own waker slot (an idle node is
//! its owner's alone); the others embed a [`Retired`].

use std::task::Waker;

use crate::loom::UnsafeCell;

/// A waiter's retired waker. Touched only by the waiter's owner, from its
/// calls on the waiter, which never overlap (the trait's caller contract).
pub(super) struct Retired {
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: `waker` is only accessed by the waiter's owner, one call at a
// time (see `keep` and `take`), and `Waker` is `Send + Sync`.
unsafe impl Send for Retired {}
// SAFETY: as for `Send`.
unsafe impl Sync for Retired {}

impl Retired {
    #[cfg(not(loom))]
    pub(super) const fn new() -> Self {
        Self {
            waker: UnsafeCell::new(None),
        }
    }

    #[cfg(loom)]
    pub(super) fn new() -> Self {
        Self {
            waker: UnsafeCell::new(None),
        }
    }

    /// Retires `waker`: it stays here until [`take`](Self::take) or the
    /// waiter's drop. Runs no user code.
    ///
    /// # Safety
    ///
    /// Called by the waiter's owner, from `cancel` or `poll_wait` (its calls
    /// never overlap).
    pub(super) unsafe fn keep(&self, waker: Option<Waker>) {
        let Some(waker) = waker else {
            return;
        };
        let old = self.waker.with_mut(|slot| {
            // SAFETY: only the owner touches the cell, one call at a time
            // (guaranteed by the caller).
            unsafe { (*slot).replace(waker) }
        });
        // Every registration starts with `take`, and each registration
        // retires at most once (its `cancel` or its `Ready`), so the cell was
        // empty. Were it not, the older waker is dropped here: one drop.
        debug_assert!(old.is_none(), "a waiter retired two wakers");
        drop(old);
    }

    /// Takes the retired waker, for `register` to reuse or drop.
    ///
    /// # Safety
    ///
    /// As for [`keep`](Self::keep), from `register`.
    pub(super) unsafe fn take(&self) -> Option<Waker> {
        // SAFETY: as in `keep`.
        self.waker.with_mut(|slot| unsafe { (*slot).take() })
    }
}

/// The waker a registration stores: the `retired` one if it wakes the same
/// task as `waker` (no clone needed), otherwise a clone of `waker`, after the
/// retired one is dropped. Both the drop and the clone are user code: call
/// while the waiter is idle and not yet visible to any notifier, so that a
/// panic leaves it idle (contract point 7).
pub(super) fn reuse_or_clone(retired: Option<Waker>, waker: &Waker) -> Waker {
    match retired {
        Some(old) if old.will_wake(waker) => old,
        old => {
            drop(old);
            waker.clone()
        }
    }
}
