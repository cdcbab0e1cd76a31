//! [`Intrusive`]: a zero-allocation FIFO wait queue.
//!
//! The queue is a doubly-linked list whose nodes live inside the waiting
//! futures. A future that waits is `!Unpin`, so its node cannot move while it
//! is linked; dropping the future unlinks the node (the primitives call
//! [`WaitQueue::cancel`] from `Drop`). This is the layout of tokio's and
//! maitake-sync's wait lists. Wakers are woken after the lock is released.
//!
//! The lock is the crate's spin lock (`crate::spin_lock`, also the lock of
//! `mpsc`'s queue), not a `std::sync::Mutex`: every section is a few pointer
//! writes that run no user code (a waker is cloned before the lock and
//! woken or dropped after it), and a spin lock's unlock is a plain store
//! where a parking lock's is a second read-modify-write. A notify and a
//! registration each take the lock once, so a `Notify` round trip between
//! two tasks (S5b in the comparison binary) pays four atomic
//! read-modify-writes fewer: measured 383 ns -> 369 ns per round trip
//! against a floor of 311 ns, the primitive's own share down by a quarter. The list
//! itself is `super::list`, shared with `IoUringFutex`, `Iocp` and the
//! single-thread [`Local`](super::Local) queue, which is this queue with a
//! `RefCell` where this one has the `Mutex`.

use std::{
    pin::Pin,
    task::{Context, Poll, Waker},
};

use super::{
    Cancelled, Select, WaitQueue, Woken,
    list::{End, Linked, List, Node, Patience, Pick},
};
use crate::loom::atomic::Ordering::*;

/// The list's lock (see the module docs). The loom models run the list on
/// loom's `Mutex`: they check the list's protocol, which needs only mutual
/// exclusion and the lock's Acquire/Release, and a spin lock under every
/// interleaving of its waits exceeds loom's branch budget. The spin lock
/// itself is checked by the `mpsc` models, whose queue it guards.
#[cfg(not(loom))]
type Lock<T> = crate::spin_lock::SpinLock<T>;
#[cfg(loom)]
type Lock<T> = crate::loom::Mutex<T>;

/// A FIFO wait queue whose nodes are stored in the waiting futures: no heap
/// allocation per wait.
///
/// Supports both fairness policies (its `notify_one` is strict FIFO), and
/// `notify_last` (LIFO).
pub struct Intrusive {
    list: Lock<List<IntrusiveWaiter>>,
}

/// The node an [`Intrusive`] queue links; one lives in each waiting future.
pub struct IntrusiveWaiter {
    /// State, links, epoch and waker (see `list::Node`).
    node: Node<Self>,
}

// SAFETY: `node` returns the `node` field, the same one on every call.
unsafe impl Linked for IntrusiveWaiter {
    fn node(&self) -> &Node<Self> {
        &self.node
    }
}

// SAFETY: the cells of a waiter are only accessed under the lock of the one
// queue it is registered with (the `WaitQueue` caller contract); `state` is
// atomic.
unsafe impl Send for IntrusiveWaiter {}
// SAFETY: as for `Send`.
unsafe impl Sync for IntrusiveWaiter {}

// SAFETY: every contract point is argued at the code it concerns: selection is
// exact because a node is unlinked and marked `NOTIFIED` under the lock that
// guards linking; wakers are taken under the lock and woken after it; a node's
// memory is not touched after it is unlinked; ordering comes from the lock
// plus the Release/Acquire pair on `state`.
unsafe impl WaitQueue for Intrusive {
    type Waiter = IntrusiveWaiter;

    // `List::register` links under `list`'s lock, which every notify takes.
    const REGISTERS_UNDER_SELECTION_LOCK: bool = true;

    #[cfg(not(loom))]
    const NEW: Self = Self {
        list: Lock::new(List::new(())),
    };

    fn new() -> Self {
        Self {
            list: Lock::new(List::new(())),
        }
    }

    fn new_waiter() -> IntrusiveWaiter {
        IntrusiveWaiter { node: Node::new() }
    }

    unsafe fn register(&self, waiter: Pin<&IntrusiveWaiter>, waker: &Waker, tag: usize) {
        // SAFETY: the caller guarantees the waiter is idle, used with this
        // queue only, and pinned until it is idle again, which requires
        // unlinking it.
        unsafe { List::register(&self.list, waiter, waker, tag, End::Tail) }
    }

    unsafe fn register_front(&self, waiter: Pin<&IntrusiveWaiter>, waker: &Waker, tag: usize) {
        // SAFETY: as in `register`.
        unsafe { List::register(&self.list, waiter, waker, tag, End::Head) }
    }

    #[inline]
    unsafe fn poll_wait(&self, waiter: Pin<&IntrusiveWaiter>, cx: &mut Context<'_>) -> Poll<Woken> {
        // SAFETY: the caller guarantees the waiter was registered with this
        // queue and not yet observed `Ready` or cancelled.
        unsafe { List::poll_wait(&self.list, &waiter, cx) }
    }

    #[inline]
    unsafe fn poll_notified(&self, waiter: Pin<&IntrusiveWaiter>) -> Poll<Woken> {
        // SAFETY: the caller guarantees the waiter was registered with this
        // queue and not yet observed `Ready` or cancelled, and owns it.
        unsafe { List::poll_notified(waiter.get_ref()) }
    }

    unsafe fn cancel(&self, waiter: Pin<&IntrusiveWaiter>) -> Cancelled {
        // SAFETY: the caller uses the waiter with this queue only.
        unsafe { List::cancel(&self.list, &waiter) }
    }

    // `Intrusive` keeps no bookkeeping beyond the list: no hooks.

    fn notify_one(&self, wakeup: usize) -> bool {
        List::notify(&self.list, Pick::Head, wakeup, |(), _| {}, || {})
    }

    fn notify_one_near(&self, wakeup: usize) -> bool {
        List::notify(
            &self.list,
            Pick::Near(Patience::Skips),
            wakeup,
            |(), _| {},
            || {},
        )
    }

    fn notify_one_near_within(&self, wakeup: usize, patience: std::time::Duration) -> bool {
        let pick = Pick::Near(Patience::Within(patience));
        List::notify(&self.list, pick, wakeup, |(), _| {}, || {})
    }

    fn notify_last(&self, wakeup: usize) -> bool {
        List::notify(&self.list, Pick::Tail, wakeup, |(), _| {}, || {})
    }

    // `otherwise` runs under the list lock, which `register` takes too.
    fn notify_or(&self, last: bool, wakeup: usize, otherwise: impl FnOnce()) -> bool {
        let pick = if last { Pick::Tail } else { Pick::Head };
        List::notify_or(&self.list, pick, wakeup, |(), _| {}, || {}, otherwise)
    }

    fn notify_all(&self, wakeup: usize) -> usize {
        List::notify_all(&self.list, wakeup, |(), _| {}, || {})
    }

    fn notify_while(&self, select: impl FnMut(&mut usize) -> Select) -> usize {
        List::notify_while(&self.list, select, |(), _| {}, || {})
    }
}

impl Default for Intrusive {
    fn default() -> Self {
        <Self as WaitQueue>::new()
    }
}

impl std::fmt::Debug for Intrusive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intrusive").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for IntrusiveWaiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrusiveWaiter")
            .field("state", &self.node.state.load(Relaxed))
            .finish_non_exhaustive()
    }
}
