//! The consumer side of a [`SegQueue`]: everything that pops runs here,
//! under the consumer lock (see the module docs of `super`).

use std::{collections::VecDeque, task::Waker};

use super::{
    SegQueue,
    handle::{CANCELLED, ClaimGuard, Handle, NOTIFIED, SELECTING, WAITING},
};
use crate::{
    backend::Select,
    loom::{Arc, atomic::Ordering::*},
};

/// How many times a cancel looks at a claimed handle before it waits for the
/// consumer lock (see `SegQueue::wait_for_claim`). One under loom, where a
/// spin is only more interleavings of the same outcome.
const CLAIM_SPINS: usize = if cfg!(loom) { 1 } else { 100 };

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
    pub(super) fn pop(&self, front: &mut VecDeque<Arc<Handle>>) -> Option<Arc<Handle>> {
        front.pop_front().or_else(|| self.queue.pop())
    }

    /// Makes the oldest handle the head of `front` without consuming it, and
    /// returns it. The caller holds the consumer lock.
    pub(super) fn peek<'a>(&self, front: &'a mut VecDeque<Arc<Handle>>) -> Option<&'a Arc<Handle>> {
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
    pub(super) fn forget_stale(&self) {
        self.len.fetch_sub(1, Relaxed);
        self.stale.fetch_sub(1, Relaxed);
    }

    /// Hands a popped handle `wakeup` and moves it to notified if it is
    /// still waiting, accounting for it either way (it is not put back).
    /// Returns its waker if it was selected, `None` (and drops it) if it was
    /// stale. The caller holds the consumer lock.
    pub(super) fn consume(&self, handle: Arc<Handle>, wakeup: usize) -> Option<Option<Waker>> {
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
    pub(super) fn offer_head(
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
    pub(super) fn wait_for_claim(&self, handle: &Handle) {
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
    pub(super) fn maybe_purge(&self) {
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
    pub(super) fn purge(&self, front: &mut VecDeque<Arc<Handle>>) {
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
