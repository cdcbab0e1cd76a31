//! The completion path: a task on a compio runtime parks as a [`ParkOp`] on
//! its runtime's completion port. `register` submits and pushes the op
//! before it links the waiter; `poll_wait` polls the op, whose only
//! completions are the notifier's packet and compio's cancel; a failed
//! completion, a foreign thread or a poll outside the runtime moves the wait
//! to the waker path, with no wake-up lost.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, Waker},
};

use compio_runtime::Runtime;

use super::{
    Iocp, IocpWaiter, ThreadBound, VIA_COMPLETION, finish, link,
    list::NOTIFIED,
    op::{Park, ParkOp},
    probe,
};
use crate::{
    backend::Woken,
    loom::{atomic::Ordering::*, lock},
};

/// `ERROR_OPERATION_ABORTED` (winerror.h): an I/O operation was cancelled.
const ERROR_OPERATION_ABORTED: i32 = 995;

impl Iocp {
    /// The completion half of `register`: submits the op for `waker`, then
    /// links the waiter on the completion path with `tag`, at the tail (at
    /// the head if `front`). Returns `false`, with the waiter still idle and
    /// unlinked, if the op could not be submitted (the caller then registers
    /// it on the waker path).
    ///
    /// The op is pushed BEFORE the waiter is linked, because pushing polls
    /// compio's `Submit`, which clones `waker` (user code), as does the
    /// fallback copy: if either panics, the waiter has never been visible to
    /// a notifier, and the dropped `Submit` cancels the op (which posts its
    /// own packet).
    pub(super) fn register_via_completion(
        &self,
        front: bool,
        waiter: Pin<&IocpWaiter>,
        waker: &Waker,
        tag: usize,
    ) -> bool {
        // This thread's ops that other threads dropped (see `ThreadBound`):
        // user code, so before anything is linked.
        super::super::thread_bound::reap_orphans();
        let park = Arc::new(Park::new());
        // A fresh cell returns no old waker.
        let _none = park.fallback.register(waker.clone());
        let op = ParkOp::new(Arc::clone(&park));
        let Ok(mut submit) = Runtime::try_with_current(|rt| rt.submit(op)) else {
            return false;
        };
        let mut cx = Context::from_waker(waker);
        // Pushes the op: `operate` arms the park with the port and the
        // `OVERLAPPED`. It completes only by a post, so `Ready` here means
        // the push failed.
        if Pin::new(&mut submit).poll(&mut cx).is_ready() || !park.is_armed() {
            return false;
        }
        // Stored before linking: once linked, a notifier may claim the park
        // and the owner may `cancel`, which reaps the op from here.
        let replaced = waiter.submit.lock().replace(ThreadBound::new(submit));
        debug_assert!(replaced.is_none(), "register: an idle waiter had an op");
        *waiter.park.lock() = Some(park);
        let mut list = lock(&self.list);
        // Under the lock, before the link: a notifier that selects the
        // waiter reads the path there and posts to the park stored above.
        waiter.path.store(VIA_COMPLETION, Relaxed);
        // SAFETY: the caller of `register` guarantees the waiter is idle, used
        // with this queue only, and pinned until it is idle again, which
        // requires unlinking it.
        unsafe { link(&mut list, front, waiter, None, tag) };
        true
    }

    /// The completion path of `poll_wait`. `None` means "use the waker
    /// path": the op completed without a notification (compio cancelled it,
    /// or it failed), or this is not the thread or runtime it belongs to.
    pub(super) fn poll_via_completion(
        &self,
        waiter: &IocpWaiter,
        cx: &mut Context<'_>,
    ) -> Option<Poll<Woken>> {
        // Outside a compio runtime nothing drives the op's driver.
        Runtime::try_with_current(|_| ()).ok()?;
        let park = waiter.park.lock().clone()?;
        // Keep the fallback waker current (it is only woken if a post
        // fails). Cloned and the old one dropped with no lock held: both are
        // user code.
        if !park.fallback.will_wake(cx.waker()) {
            let fresh = cx.waker().clone();
            drop(park.fallback.register(fresh));
        }
        // Polling the op clones `cx`'s waker (user code), so it is moved out
        // of its slot first and put back if still pending. If the poll
        // unwinds, the `Submit` is dropped (cancelling the op, which posts
        // its own packet); the waiter stays linked on the completion path,
        // and the next `poll_wait` finds no op and moves to the waker path.
        let mut slot = waiter.submit.lock().take();
        let submit = slot.as_mut()?.get_mut();
        let Some(submit) = submit else {
            // Polled on a thread other than the op's: we may not touch it
            // (`reap` leaks it, see `ThreadBound`).
            *waiter.submit.lock() = slot;
            return None;
        };
        match Pin::new(submit).poll(cx) {
            Poll::Pending => {
                *waiter.submit.lock() = slot;
                // A notifier whose post failed wakes the fallback waker, but
                // finds none while we were registering it above: it marked
                // the waiter first, so look. Acquire: pairs with the Release
                // store of NOTIFIED in `List::mark`.
                if waiter.node.state.load(Acquire) == NOTIFIED {
                    return Some(Poll::Ready(finish(waiter)));
                }
                Some(Poll::Pending)
            }
            Poll::Ready(out) => {
                drop(slot);
                match out.0 {
                    // Our packets carry success, and so does a cancel's.
                    Ok(_) => {}
                    // An abort is a cancellation by someone else (compio's
                    // cancel tokens), not a failure of the path.
                    Err(error) if error.raw_os_error() == Some(ERROR_OPERATION_ABORTED) => {}
                    Err(error) => probe::record_error(&error),
                }
                // Acquire: pairs with the Release store in `List::mark`,
                // which the notifier made before it posted the packet.
                if waiter.node.state.load(Acquire) == NOTIFIED {
                    return Some(Poll::Ready(finish(waiter)));
                }
                // Completed without a mark we can see: compio cancelled the
                // op. The waker path re-checks under the list lock.
                None
            }
        }
    }
}
