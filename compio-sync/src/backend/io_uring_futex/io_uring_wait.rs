//! The io_uring wait path: a task on a compio io_uring runtime parks in a
//! `FUTEX_WAIT` op on the queue's futex word. `register` arms the first wait
//! before it links the waiter; `poll_wait` polls the op and, after each
//! wake-up that was not its notification, snapshots the word, re-checks and
//! re-arms (or, if this thread notified last, continues on the waker path
//! instead); an op error or a foreign thread moves the wait to the waker
//! path, with no wake-up lost.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll, Waker},
};

use compio_runtime::Runtime;

use super::{
    super::thread_bound,
    FutexWaiter, IoUringFutex, VIA_IO_URING, finish, link,
    list::NOTIFIED,
    op::{self, Armed, Completion},
};
use crate::{
    backend::Woken,
    loom::{Mutex, atomic::Ordering::*, lock},
};

impl IoUringFutex {
    /// The io_uring half of `register`: arms a `FUTEX_WAIT` for `waker`, then
    /// links the waiter on the io_uring path with `tag`, at the tail (at the
    /// head if `front`). Returns `false`,
    /// with the waiter still idle and unlinked and its futex bit given back,
    /// if the wait could not be armed (the caller then registers it on the
    /// waker path).
    ///
    /// The wait is armed BEFORE the waiter is linked, because arming polls
    /// compio's `Submit`, which clones `waker` (user code): if that panics,
    /// the waiter has never been visible to a notifier, and the guard gives
    /// its futex bit back (contract point 7). Armed early, the wait can only
    /// be woken spuriously before the link (another waiter's wake on a shared
    /// bit, or a bump of the word); `poll_wait` then re-checks and re-arms.
    ///
    /// Arming now, for `waker`, makes a notify wake the waker given to
    /// `register` even if the owner returns `Pending` without calling
    /// `poll_wait` (contract point 3). If the caller's re-check then
    /// succeeds, its `cancel` unlinks the waiter and leaves the op retired
    /// in it, to be dropped with the waiter or at its next registration.
    pub(super) fn register_via_io_uring(
        &self,
        front: bool,
        waiter: Pin<&FutexWaiter>,
        waker: &Waker,
        tag: usize,
    ) -> bool {
        // This thread's ops that other threads dropped (see `ThreadBound`):
        // user code, so before anything is taken or linked.
        thread_bound::reap_orphans();
        let word = self.word();
        // Snapshot the word BEFORE the waiter becomes visible to notifiers
        // (linked below): a notify that selects it marks it and only then
        // bumps the word, so the bump always comes after this load, and the
        // first io_uring wait (which expects this value) either fails with
        // EAGAIN or is woken. A snapshot taken after linking could already
        // include the bump of a notify that selected us, and the wait would
        // then sleep through the only wake-up it gets.
        waiter.snapshot.store(word.load(Acquire), Relaxed);
        // The bit is taken before the wait is armed with it: a wake for a
        // waiter selected later must find a wait that expects its bit.
        let bit = BitGuard {
            list: &self.list,
            mask: lock(&self.list).extra.take(),
        };
        waiter.mask.store(bit.mask, Relaxed);
        let mut cx = Context::from_waker(waker);
        let Armed::InFlight(armed) =
            op::submit_wait(&word, waiter.snapshot.load(Relaxed), bit.mask, &mut cx)
        else {
            // Not armed (or completed at once, which io_uring never does):
            // the guard gives the bit back.
            return false;
        };
        // Stored before linking: once linked, a notifier may select us and
        // the owner may `cancel`, which reaps the op from here.
        waiter.put_op(armed);
        let mut list = lock(&self.list);
        // Linked from here on: the bit is the waiter's until it leaves the
        // list. Nothing below runs user code.
        std::mem::forget(bit);
        waiter.path.store(VIA_IO_URING, Relaxed);
        // SAFETY: the caller of `register` guarantees the waiter is idle, used
        // with this queue only, and pinned until it is idle again, which
        // requires unlinking it.
        unsafe { link(&mut list, front, waiter, None, tag) };
        true
    }

    /// The io_uring path of `poll_wait`. `None` means "use the waker path":
    /// the op failed, or this is not the thread or runtime it belongs to.
    pub(super) fn poll_via_io_uring(
        &self,
        waiter: &FutexWaiter,
        cx: &mut Context<'_>,
    ) -> Option<Poll<Woken>> {
        let word = self.word.get()?;
        // Outside a compio runtime nothing drives the op's driver.
        Runtime::try_with_current(|_| ()).ok()?;
        // Polling the op clones `cx`'s waker (user code), so the op is moved
        // out of the `op` lock first and put back if it is still pending. If
        // the poll unwinds, the op is dropped instead (compio cannot poll a
        // `Submit` whose poll panicked again); the waiter stays linked, and
        // the next `poll_wait` arms a new wait or `cancel` unlinks it.
        if let Some(mut inflight) = waiter.take_op() {
            // Polled on a thread other than the op's: we may not touch it
            // (`reap` hands it back to its thread, see `ThreadBound`).
            let Some(submit) = inflight.get_mut() else {
                waiter.put_op(inflight);
                return None;
            };
            match Pin::new(submit).poll(cx) {
                Poll::Pending => {
                    waiter.put_op(inflight);
                    return Some(Poll::Pending);
                }
                Poll::Ready(out) => {
                    drop(inflight);
                    // Never swallowed: an unexpected error is recorded.
                    if let Completion::Fallback = op::classify(out.0) {
                        return None;
                    }
                }
            }
            // The wait ended (woken, or the word moved): snapshot the word
            // BEFORE re-checking the state, as in `wait_blocking`. Acquire
            // pairs with the notifier's Release bump in `wake_word`, which
            // follows its Release store of NOTIFIED.
            waiter.snapshot.store(word.load(Acquire), Relaxed);
        }
        // Acquire: pairs with the Release store of NOTIFIED in `List::mark`.
        if waiter.node.state.load(Acquire) == NOTIFIED {
            return Some(Poll::Ready(finish(waiter, Some(cx))));
        }
        // Not notified: a wait that ended was a futile wake-up (the word
        // moved, or another holder of our bit was woken). Rather than arm a
        // new op, continue on the waker path if this thread notified last,
        // as `register` would choose now (the switch happens under the list
        // lock, with a re-check, in `poll_via_waker`).
        if self.notified_here() {
            return None;
        }
        let expected = waiter.snapshot.load(Relaxed);
        match op::submit_wait(word, expected, waiter.mask.load(Relaxed), cx) {
            Armed::InFlight(armed) => waiter.put_op(armed),
            // Completed on its first poll, which io_uring never does; poll
            // again rather than spin here.
            Armed::Completed => cx.waker().wake_by_ref(),
            Armed::Fallback => return None,
        }
        Some(Poll::Pending)
    }
}

/// Gives a futex bit back if `register` does not link its waiter (a panic in
/// the waker's clone while arming, or a wait that could not be armed).
struct BitGuard<'a> {
    list: &'a Mutex<super::List>,
    mask: u32,
}

impl Drop for BitGuard<'_> {
    fn drop(&mut self) {
        lock(self.list).extra.release(self.mask);
    }
}

#[cfg(test)]
mod tests {
    use std::{
        panic::{AssertUnwindSafe, catch_unwind},
        ptr,
        task::{RawWaker, RawWakerVTable},
    };

    use super::*;
    use crate::backend::{Cancelled, WaitQueue, io_uring_futex::probe};

    /// A waker whose `clone` panics (user code, contract point 7).
    fn clone_panics() -> Waker {
        unsafe fn clone(_: *const ()) -> RawWaker {
            panic!("hostile waker: clone");
        }
        unsafe fn noop(_: *const ()) {}
        const VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
        // SAFETY: every vtable function ignores the (null) data pointer, and
        // `clone` never returns.
        unsafe { Waker::from_raw(RawWaker::new(ptr::null(), &VTABLE)) }
    }

    /// A `register` whose arming unwinds (the waker's clone panics inside
    /// compio's `Submit::poll`) leaves the waiter idle and unlinked, and its
    /// futex bit is given back by the guard.
    #[test]
    fn register_that_unwinds_leaves_the_waiter_idle_and_gives_its_bit_back() {
        let _path = probe::TEST_PATH_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let runtime = compio_runtime::Runtime::new().expect("compio runtime");
        runtime.block_on(async {
            assert!(probe::io_uring_here(), "this test needs the io_uring path");
            let q = IoUringFutex::new();
            let w = Box::pin(IoUringFutex::new_waiter());
            let waker = clone_panics();
            for _ in 0..40 {
                let unwound = catch_unwind(AssertUnwindSafe(|| {
                    // SAFETY: `w` is idle, pinned, used with `q` only, and
                    // idle again when it is dropped (asserted below).
                    unsafe { q.register(w.as_ref(), &waker, 7) }
                }));
                assert!(unwound.is_err(), "the clone panics");
                assert!(lock(&q.list).extra.is_empty(), "a futex bit leaked");
                assert_eq!(w.path(), None);
                // SAFETY: used with `q` only.
                assert_eq!(unsafe { q.cancel(w.as_ref()) }, Cancelled::Idle);
                assert!(!q.notify_one(0), "nothing was linked");
            }
        });
    }
}
