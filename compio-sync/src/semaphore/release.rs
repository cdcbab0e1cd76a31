//! The releasing side of the permit protocol: how permits come back.
//! `release` (a permit's drop, `add_permits`, a `Mutex` guard's unlock) and
//! `release_to_waiters` (an `RwLock` writer's downgrade) serve queued waiters
//! first or add the permits to the `permits` word (`add_to_word`, which
//! panics past `MAX_PERMITS` with the semaphore left as it was), then wake
//! the next waiter. The hand-over and the wake-up themselves are in
//! `protocol.rs`.

use super::{MAX_PERMITS, ONE_WAITER, PERMIT_SHIFT, Semaphore, available, flavor::Ordering::*};
use crate::backend::WaitQueue;

/// The panic of a release or `add_permits` past `MAX_PERMITS` (out of line,
/// so that the inlined release carries no formatting code).
#[cold]
#[inline(never)]
#[track_caller]
fn overflow(n: usize) -> ! {
    panic!("number of added permits ({n}) would overflow MAX_PERMITS ({MAX_PERMITS})")
}

impl<B: WaitQueue> Semaphore<B> {
    /// Returns `n` permits and wakes a waiter if needed: how permits are
    /// dropped, how `add_permits` adds, and how a [`Mutex`](crate::Mutex)
    /// guard unlocks.
    ///
    /// Panics, leaving the semaphore unchanged, if the result would exceed
    /// `MAX_PERMITS` (as tokio does, for added and for dropped permits).
    ///
    /// Inlined (a permit's drop is this call): the uncontended release is
    /// one CAS and a look at `waiters`; the hand-over, the wake loop and the
    /// overflow panic stay out of line.
    #[inline]
    #[track_caller]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let cur = self.permits.load(Relaxed);
        if self.hands_over(cur) && self.waiters.load(Relaxed) >= ONE_WAITER {
            return self.release_handing_over(n);
        }
        self.add_to_word(n);
        self.wake_next_after_add();
    }

    /// [`release`](Self::release) in hand-over mode with waiters: they are
    /// served first, straight from the release, so these permits never show
    /// as available while a waiter needs them (tokio's order). Only the
    /// surplus goes to the word. (A waiter that registers meanwhile is
    /// covered by the handshake in `wake_next`.)
    #[inline(never)]
    #[track_caller]
    fn release_handing_over(&self, n: usize) {
        let n = self.hand_over_from(n);
        if n == 0 {
            return;
        }
        self.add_to_word(n);
        self.wake_next_after_add();
    }

    /// Adds `n` permits to the word, panicking, with
    /// the semaphore left at what it held, past `MAX_PERMITS`.
    ///
    /// One `fetch_add`, not a CAS loop (half the cost of a load and a CAS on
    /// the uncontended release). It cannot wrap: the count takes the
    /// word's 62 upper bits, and both `available(cur)` and `n` are at most
    /// `MAX_PERMITS` (2^61 - 1), which is checked first. Past `MAX_PERMITS`
    /// the excess is taken back before the panic; another thread may see it
    /// for that instant, as in tokio (which does not take it back).
    #[inline]
    #[track_caller]
    pub(super) fn add_to_word(&self, n: usize) {
        if n > MAX_PERMITS {
            overflow(n);
        }
        // Release: the permits' previous users happen-before whoever
        // takes them (pairs with the Acquire CAS in `try_take`). SeqCst:
        // this RMW stands in for `wake_next`'s fence (see
        // `wake_next_after_add`); it costs no more than Release on x86.
        let prev = self.permits.fetch_add(n << PERMIT_SHIFT, SeqCst);
        if available(prev) + n > MAX_PERMITS {
            self.take_back(n);
            overflow(n);
        }
    }

    /// Undoes an [`add_to_word`](Self::add_to_word) of `n` that went past
    /// `MAX_PERMITS`: takes back `n`, or as many as are still available if
    /// another thread took some of the excess meanwhile (never driving the
    /// count below zero).
    #[cold]
    #[inline(never)]
    fn take_back(&self, n: usize) {
        let mut cur = self.permits.load(Relaxed);
        loop {
            let back = available(cur).min(n);
            match self.permits.compare_exchange_weak(
                cur,
                cur - (back << PERMIT_SHIFT),
                Relaxed,
                Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Returns `n` permits to the waiters first, in queue order, under
    /// either policy: each waiter from the head on gets what it needs (all
    /// of it, or, under strict FIFO, what is left) and is woken, until one
    /// cannot be served; the rest stays available, as after
    /// [`release`](Self::release).
    ///
    /// For a release that many waiters can share at once (an `RwLock`
    /// writer downgrading): the queued readers are woken in one batch instead
    /// of one by one along the barging policy's wake chain.
    #[track_caller]
    pub(crate) fn release_to_waiters(&self, n: usize) {
        if self.strict || n == 0 {
            // Strict FIFO: that is what `release` does.
            return self.release(n);
        }
        // The permits go to the word first, so that a waker that panics in
        // the hand-over below loses none of them; then the queue takes from
        // the word what its waiters need, in order (a barging task may take
        // some first: that is the policy).
        self.add_to_word(n);
        if self.waiters.load(Relaxed) >= ONE_WAITER {
            self.hand_over();
        }
        // A waiter that registered meanwhile (not seen above) is covered by
        // the handshake here, as after any release.
        self.wake_next();
    }
}
