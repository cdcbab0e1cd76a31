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
use super::{RecvError, SetWaiter, Shared, WaitQueue, maybe_changed};

/// Waits until `shared`'s version differs from `*version` (then stores the
/// new one there) or the channel is closed.
///
/// The handshake of the receivers' [`WaitSet`](super::WaitSet): register,
/// re-check the version; a send bumps the version, then wakes the set
/// (`Shared::wake_receivers`). Either the re-check sees the bump, or the
/// wake finds the node. The receiver's version moves only when this returns
/// `Ready`, so dropping it loses nothing.
pub(super) struct Changed<'a, T, B: WaitQueue> {
    shared: &'a Shared<T, B>,
    version: &'a mut usize,
    /// Waits in `shared.receivers`.
    waiter: SetWaiter<B>,
    _pin: PhantomPinned,
}

impl<'a, T, B: WaitQueue> Changed<'a, T, B> {
    pub(super) fn new(shared: &'a Shared<T, B>, version: &'a mut usize) -> Self {
        Self {
            shared,
            version,
            waiter: SetWaiter::new(),
            _pin: PhantomPinned,
        }
    }
}

impl<T, B: WaitQueue> Future for Changed<'_, T, B> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `waiter` is never moved out of `self`, which is pinned, so
        // pinning a mutable reference to it is sound; the other fields are
        // not structurally pinned. The references are to disjoint fields.
        let (shared, version, mut waiter) = unsafe {
            let this = self.get_unchecked_mut();
            (
                this.shared,
                &mut *this.version,
                Pin::new_unchecked(&mut this.waiter),
            )
        };
        let set = &shared.receivers;
        // With the `tokio` feature, a completion spends a unit of tokio's
        // task budget, as tokio's own `changed` does.
        crate::coop::budgeted(cx, |cx| {
            // Every send wakes every waiter: re-check once woken.
            // SAFETY: this waiter only ever uses `set`.
            // A waiter woken first on its thread helps the others there
            // (see `WaitSet`), to the version as it is now.
            std::task::ready!(unsafe { waiter.as_mut().poll_woken(set, cx, || shared.version()) });
            if let Some(result) = maybe_changed(shared, version) {
                return Poll::Ready(result);
            }
            // SAFETY: `set` every time; our `Drop` cancels the waiter.
            unsafe { waiter.as_mut().register(set, cx.waker(), *version) };
            match maybe_changed(shared, version) {
                None => Poll::Pending,
                Some(result) => {
                    // SAFETY: this waiter only ever uses `set`.
                    unsafe { waiter.cancel(set) };
                    Poll::Ready(result)
                }
            }
        })
    }
}

impl<T, B: WaitQueue> Drop for Changed<'_, T, B> {
    fn drop(&mut self) {
        // SAFETY: the waiter is pinned in this future (pinned since its
        // first poll; never registered if never polled), and only ever uses
        // `shared.receivers`; `drop` is its last use.
        unsafe { Pin::new_unchecked(&mut self.waiter).cancel(&self.shared.receivers) };
    }
}
