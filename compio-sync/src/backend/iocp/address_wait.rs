//! The `WaitOnAddress` path of `wait_blocking`: a plain thread sleeps on the
//! queue's event-count word, and falls back to parking on a waker if the
//! call is missing or fails.

use std::{
    pin::Pin,
    task::{Context, Poll},
    thread,
};

use super::{
    Iocp, IocpWaiter, VIA_ADDRESS, finish,
    list::{NOTIFIED, WAITING},
    reap, sys,
};
use crate::{
    backend::Woken,
    loom::{atomic::Ordering::*, lock},
};

impl Iocp {
    /// Blocks in `WaitOnAddress` on the queue's word until `waiter` is
    /// notified; returns what the notifier handed over. The waiter is idle
    /// on return.
    ///
    /// # Safety
    ///
    /// As for [`WaitQueue::poll_wait`](crate::backend::WaitQueue::poll_wait):
    /// `waiter` was registered with this queue and has not yet been observed
    /// `Ready` or cancelled.
    pub(super) unsafe fn wait_address_blocking(&self, waiter: Pin<&IocpWaiter>) -> Woken {
        // An op submitted by an earlier poll on a runtime is of no use to a
        // blocked thread; cancel it (with no lock held: its cancel may wait
        // for a notifier's post to return).
        reap(&waiter);
        let Some(address_wait) = sys::address_wait() else {
            // SAFETY: forwarded from our caller.
            return unsafe { self.park_blocking(waiter) };
        };
        let stale = {
            let mut list = lock(&self.list);
            // Acquire: pairs with the Release store of NOTIFIED in
            // `List::mark`.
            if waiter.node.state.load(Acquire) == NOTIFIED {
                drop(list);
                return finish(&waiter);
            }
            debug_assert_eq!(
                waiter.node.state.load(Relaxed),
                WAITING,
                "wait_blocking: not registered"
            );
            // From here on a notifier that selects this waiter bumps the word
            // and wakes it; before, it used the waker or the op, and we see
            // its mark under this lock.
            waiter.path.store(VIA_ADDRESS, Relaxed);
            // SAFETY: WAITING under the lock, so the waiter is linked into
            // this list.
            unsafe { list.with_waker(&waiter, Option::take) }
        };
        // User code, with no lock held.
        drop(stale);
        loop {
            // Snapshot the word BEFORE re-checking the state: a notifier
            // marks first and bumps second (Release), so either this Acquire
            // load reads the bump (and the state load below sees the mark),
            // or `WaitOnAddress` compares against a value the bump has since
            // changed and returns, or this thread is queued before the
            // notifier's `WakeByAddressAll`.
            let seen = self.word.load(Acquire);
            if waiter.node.state.load(Acquire) == NOTIFIED {
                return finish(&waiter);
            }
            if address_wait.wait(&self.word, seen).is_err() {
                // SAFETY: forwarded from our caller.
                return unsafe { self.park_blocking(waiter) };
            }
        }
    }

    /// Fallback for `wait_blocking`: moves the waiter to the waker path with
    /// a waker that unparks this thread, and parks until notified.
    ///
    /// # Safety
    ///
    /// As for `wait_address_blocking`.
    unsafe fn park_blocking(&self, waiter: Pin<&IocpWaiter>) -> Woken {
        let waker = crate::blocking::thread_waker();
        let mut cx = Context::from_waker(&waker);
        loop {
            // SAFETY: forwarded from our caller.
            match unsafe { self.poll_via_waker(waiter, &mut cx) } {
                Poll::Ready(woken) => return woken,
                Poll::Pending => thread::park(),
            }
        }
    }
}
