//! The `futex(2)` wait path of `wait_blocking`: a plain thread sleeps in the
//! kernel on the same futex word (and the same kind of key) as the io_uring
//! waiters of its queue, and falls back to parking on a waker if `futex(2)`
//! fails in a way it should not.

use std::{
    pin::Pin,
    task::{Context, Waker},
    thread,
};

use super::{
    FutexWaiter, IoUringFutex, VIA_SYSCALL, VIA_WAKER, finish,
    list::{NOTIFIED, WAITING},
    sys,
};
use crate::{
    backend::Woken,
    loom::{atomic::Ordering::*, lock},
};

impl IoUringFutex {
    /// Blocks the calling thread until `waiter` is notified, sleeping in
    /// `futex(2)` on the queue's futex word; returns what the notifier handed
    /// over. The waiter is idle on return.
    ///
    /// It returns only once the waiter is notified; there is no timeout. If
    /// `futex(2)` fails in a way it should not, the thread parks on a waker
    /// instead, so it still wakes.
    ///
    /// # Safety
    ///
    /// As for [`WaitQueue::poll_wait`](crate::backend::WaitQueue::poll_wait):
    /// `waiter` was registered with this queue and has not yet been observed
    /// `Ready` or cancelled.
    pub(super) unsafe fn wait_futex_blocking(&self, waiter: Pin<&FutexWaiter>) -> Woken {
        // An io_uring wait armed by an earlier poll on a runtime is of no use
        // to a blocked thread; cancel it.
        waiter.reap(None);
        let word = self.word();
        let stale = {
            let mut list = lock(&self.list);
            // Acquire: pairs with the Release store of NOTIFIED in `List::mark`.
            if waiter.node.state.load(Acquire) == NOTIFIED {
                drop(list);
                return finish(&waiter, None);
            }
            debug_assert_eq!(
                waiter.node.state.load(Relaxed),
                WAITING,
                "wait_blocking: not registered"
            );
            if waiter.path.load(Relaxed) == VIA_WAKER {
                waiter.mask.store(list.extra.take(), Relaxed);
            }
            // From here on a notifier that selects this waiter bumps the word
            // and wakes it with `futex(2)`; before, it used the waker, and we
            // see its mark under this lock.
            waiter.path.store(VIA_SYSCALL, Relaxed);
            // SAFETY: WAITING under the lock, so the waiter is linked into
            // this list (the caller uses it with no other queue).
            unsafe { list.with_waker(&waiter, Option::take) }
        };
        // User code, with the lock released (contract point 5).
        drop(stale);
        let mask = waiter.mask.load(Relaxed);
        loop {
            // Snapshot the word BEFORE re-checking the state: a notifier
            // stores NOTIFIED first and bumps the word second (Release), so
            // either this Acquire load reads the bump (and the state load
            // below sees the mark), or the kernel compares against a value
            // the bump has since changed (EAGAIN), or the wait is queued
            // before the notifier's wake.
            let seen = word.load(Acquire);
            // Acquire: pairs with the Release store of NOTIFIED in `List::mark`.
            if waiter.node.state.load(Acquire) == NOTIFIED {
                return finish(&waiter, None);
            }
            match sys::futex_wait(&word, seen, mask) {
                Ok(()) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EINTR)) => {}
                Err(_) => {
                    // SAFETY: forwarded from our caller.
                    return unsafe { self.park_blocking(waiter) };
                }
            }
        }
    }

    /// Fallback for `wait_blocking` when `futex(2)` fails unexpectedly: moves
    /// the waiter to the waker path with a waker that unparks this thread,
    /// and parks until notified.
    ///
    /// # Safety
    ///
    /// As for `wait_futex_blocking`.
    unsafe fn park_blocking(&self, waiter: Pin<&FutexWaiter>) -> Woken {
        let waker: Waker = crate::blocking::thread_waker();
        let mut cx = Context::from_waker(&waker);
        loop {
            // SAFETY: forwarded from our caller.
            if let std::task::Poll::Ready(woken) = unsafe { self.poll_via_waker(waiter, &mut cx) } {
                return woken;
            }
            thread::park();
        }
    }
}
