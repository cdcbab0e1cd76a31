//! The lone-waiter slot of a [`ParkingLotHybrid`]: its data, a notifier's
//! claim on it, and the slot halves of registering, polling and cancelling
//! (see the module docs of `super`, "The state word").

use std::task::{Context, Poll, Waker};

use super::{
    HybridWaiter, IDLE, IN_SLOT, ParkingLotHybrid, SLOT_CLAIMED, SLOT_EMPTY, SLOT_MASK,
    SLOT_NOTIFIED, SLOT_SELECTING, SLOT_WAITING,
};
use crate::{
    backend::{Cancelled, Woken, waker_cell::spin},
    loom::atomic::Ordering::*,
};

/// The slot waiter's share of a [`Woken`].
#[derive(Clone, Copy)]
pub(super) struct SlotData {
    pub(super) tag: usize,
    pub(super) wakeup: usize,
}

/// A notifier's hold on the slot waiter: the slot is `SLOT_SELECTING`, so the
/// waiter can neither leave nor be selected by another notifier, and the
/// holder alone touches `slot`. Ends by [`notify`](Self::notify), or by drop,
/// which puts the waiter back to `SLOT_WAITING` (a `Keep`, or a selector
/// that panicked).
pub(super) struct SlotClaim<'a> {
    queue: &'a ParkingLotHybrid,
}

impl SlotClaim<'_> {
    /// Runs `f` on the claimed waiter's tag.
    pub(super) fn with_tag<R>(&mut self, f: impl FnOnce(&mut usize) -> R) -> R {
        // SAFETY: we hold the slot (`SLOT_SELECTING`), which gives us its
        // data; our claim's Acquire ordered the last holder's writes before.
        unsafe { self.queue.with_slot(|slot| f(&mut slot.tag)) }
    }

    /// Hands the claimed waiter `wakeup` and marks it notified. The caller
    /// then takes its waker from `slot_waker` and wakes it, with no lock
    /// held.
    pub(super) fn notify(self, wakeup: usize) {
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
pub(super) fn wait_for_claim(turn: &mut u32) {
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
    pub(super) unsafe fn with_slot<R>(&self, f: impl FnOnce(&mut SlotData) -> R) -> R {
        // SAFETY: whoever holds the slot is the only one to access `slot`
        // (guaranteed by the caller), and the Acquire that gave it the slot
        // ordered the previous holder's accesses before.
        self.slot.with_mut(|slot| f(unsafe { &mut *slot }))
    }

    /// Claims the slot waiter for a notifier (`SLOT_WAITING` ->
    /// `SLOT_SELECTING`). If another notifier holds it, waits for that one's
    /// verdict. Returns `None` if the slot holds no waiting waiter.
    pub(super) fn claim_slot(&self) -> Option<SlotClaim<'_>> {
        self.claim_slot_after(false)
    }

    /// As [`claim_slot`](Self::claim_slot), but also waits out an owner that
    /// holds the slot (`SLOT_CLAIMED`: registering or cancelling, a few
    /// instructions with no lock and no user code), and then claims the
    /// waiter if it registered, or returns `None` if it cancelled.
    ///
    /// For `notify_while`, whose selector may lower tags (strict FIFO's
    /// partial hand-over: only the head may hold a part). Skipping a slot
    /// waiter that is still registering would offer the list head a part,
    /// and the next call, which tries the slot first, would offer the rest
    /// to the slot waiter: two waiters each holding a part of what both
    /// need, neither ever served (the soak's strict `RwLock` stall: every
    /// read permit held by two queued writers). Waiting here keeps "the
    /// head" the same waiter from one call to the next.
    pub(super) fn claim_slot_in_order(&self) -> Option<SlotClaim<'_>> {
        self.claim_slot_after(true)
    }

    fn claim_slot_after(&self, wait_for_owner: bool) -> Option<SlotClaim<'_>> {
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
                SLOT_CLAIMED if wait_for_owner => {
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
    pub(super) fn try_notify_slot(&self, wakeup: usize) -> bool {
        match self.claim_slot() {
            Some(claim) => {
                claim.notify(wakeup);
                true
            }
            None => false,
        }
    }

    /// Wakes the slot's waker, after a notifier moved the slot to notified.
    pub(super) fn wake_slot(&self) {
        if let Some(waker) = self.slot_waker.take() {
            waker.wake();
        }
    }

    /// Hands the slot back after its owner saw `SLOT_NOTIFIED` (Acquire),
    /// and returns what the notifier left.
    pub(super) fn release_notified_slot(&self, waiter: &HybridWaiter) -> Woken {
        // SAFETY: we own the slot waiter and saw `SLOT_NOTIFIED` (Acquire).
        let slot = unsafe { self.with_slot(|slot| *slot) };
        // Take our waker before the slot can change hands (see module docs).
        let stale = self.slot_waker.take();
        // Release: our last use of `slot` and `slot_waker` happens-before the
        // next owner's Acquire `compare_exchange(0, SLOT_CLAIMED)`.
        self.state.fetch_sub(SLOT_NOTIFIED, Release);
        waiter.state.store(IDLE, Relaxed);
        // User code: retired, not dropped, so that a panic cannot lose the
        // `Ready` (contract point 7).
        // SAFETY: we are the waiter's owner, in its `poll_wait`.
        unsafe { waiter.retired.keep(stale) };
        Woken {
            wakeup: slot.wakeup,
            tag: slot.tag,
        }
    }

    /// `poll_notified` of the slot waiter: no waker is stored, and a
    /// notified slot is released as in [`poll_slot`](Self::poll_slot).
    pub(super) fn poll_slot_notified(&self, waiter: &HybridWaiter) -> Poll<Woken> {
        // Acquire: pairs with the Release in `SlotClaim::notify`.
        if self.state.load(Acquire) & SLOT_MASK == SLOT_NOTIFIED {
            Poll::Ready(self.release_notified_slot(waiter))
        } else {
            Poll::Pending
        }
    }

    pub(super) fn poll_slot(&self, waiter: &HybridWaiter, cx: &mut Context<'_>) -> Poll<Woken> {
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

    pub(super) fn cancel_slot(&self, waiter: &HybridWaiter) -> Cancelled {
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
        // User code: retired, and dropped after the caller has acted on the
        // result (contract point 7).
        // SAFETY: we are the waiter's owner, in its `cancel`.
        unsafe { waiter.retired.keep(waker) };
        cancelled
    }

    /// The fast path of a registration: if nobody waits anywhere, takes the
    /// slot and returns `None`; otherwise hands `waker` back for the list.
    /// Runs no user code.
    pub(super) fn try_register_slot(
        &self,
        waiter: &HybridWaiter,
        waker: Waker,
        tag: usize,
    ) -> Option<Waker> {
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
}
