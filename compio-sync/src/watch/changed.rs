//! The future behind [`Receiver::changed`](super::Receiver::changed) and
//! `wait_for`: a receiver's wait for a version it has not seen, directly on
//! the wait queue. Part of `channel.rs`, compiled with it once per flavor.

use std::{
    future::Future,
    marker::PhantomPinned,
    pin::Pin,
    task::{Context, Poll},
};

// The flavor's names, through the parent's imports.
use super::{RecvError, SeqCst, Shared, WaitQueue, fence, maybe_changed, wait_shard};

/// Waits until `shared`'s version differs from `*version` (then stores the
/// new one there) or the channel is closed.
///
/// The event-count handshake of [`WaitQueue`]: register, `fence(SeqCst)`,
/// re-check the version; a send bumps the version, `fence(SeqCst)`, then
/// wakes every waiter of every shard (`Shared::wake_receivers`). The node
/// waits in the shard of the thread that first polls it ([`wait_shard`]),
/// and keeps it (a node is used with one queue only). Either the
/// re-check sees the bump, or the wake finds the node. The receiver's
/// version moves only when this returns `Ready`, so dropping it loses
/// nothing.
pub(super) struct Changed<'a, T, B: WaitQueue> {
    shared: &'a Shared<T, B>,
    version: &'a mut usize,
    /// Which of `shared.receivers` the node waits in: chosen at its first
    /// registration (`NO_SHARD` until then), then kept.
    shard: usize,
    /// Node in `shared.receivers[shard]`, registered iff `queued`.
    waiter: B::Waiter,
    queued: bool,
    _pin: PhantomPinned,
}

/// `Changed::shard` before the node's first registration.
const NO_SHARD: usize = usize::MAX;

impl<'a, T, B: WaitQueue> Changed<'a, T, B> {
    pub(super) fn new(shared: &'a Shared<T, B>, version: &'a mut usize) -> Self {
        Self {
            shared,
            version,
            shard: NO_SHARD,
            waiter: B::new_waiter(),
            queued: false,
            _pin: PhantomPinned,
        }
    }
}

impl<T, B: WaitQueue> Future for Changed<'_, T, B> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `waiter` is never moved out of `self`, which is pinned, so
        // pinning a shared reference to it is sound; the other fields are
        // not structurally pinned. The references are to disjoint fields.
        let (shared, version, queue, waiter, queued) = unsafe {
            let this = self.get_unchecked_mut();
            (
                this.shared,
                &mut *this.version,
                &this.shared.receivers[if this.shard == NO_SHARD {
                    // The first wait: the node's queue from now on.
                    this.shard = wait_shard();
                    this.shard
                } else {
                    this.shard
                }],
                Pin::new_unchecked(&this.waiter),
                &mut this.queued,
            )
        };
        // With the `tokio` feature, a completion spends a unit of tokio's
        // task budget, as tokio's own `changed` does.
        crate::coop::budgeted(cx, |cx| {
            if *queued {
                // SAFETY: registered with `queue` (`queued`) and not yet
                // observed `Ready` (that clears `queued`).
                match unsafe { queue.poll_wait(waiter, cx) } {
                    // Every send wakes every waiter: re-check below.
                    Poll::Ready(_) => *queued = false,
                    Poll::Pending => return Poll::Pending,
                }
            }
            if let Some(result) = maybe_changed(shared, version) {
                return Poll::Ready(result);
            }
            // If `register` unwinds (a waker's clone panicked) the node is
            // idle (contract point 7) and `queued` stays false.
            // SAFETY: the node is idle (not `queued`), used with this queue
            // only, and pinned in this future, whose `Drop` cancels it.
            unsafe { queue.register(waiter, cx.waker(), 0) };
            *queued = true;
            // SeqCst: orders the registration before the re-check, against
            // a send's (bump the version; fence; wake the queues).
            fence(SeqCst);
            match maybe_changed(shared, version) {
                None => Poll::Pending,
                Some(result) => {
                    // SAFETY: registered just above, not observed `Ready`. A
                    // wake it may have received needs no passing on: every
                    // waiter gets one.
                    unsafe { queue.cancel(waiter) };
                    *queued = false;
                    Poll::Ready(result)
                }
            }
        })
    }
}

impl<T, B: WaitQueue> Drop for Changed<'_, T, B> {
    fn drop(&mut self) {
        if self.queued {
            // SAFETY: registered, so pinned since (the node has not moved);
            // `drop` is its last use. A wake needs no passing on.
            unsafe { self.shared.receivers[self.shard].cancel(Pin::new_unchecked(&self.waiter)) };
        }
    }
}
