//! [`Local`]: the single-thread wait queue, the default backend of
//! [`compio_sync::local`](crate::local).
//!
//! It is [`Intrusive`]'s list behind a `RefCell` instead of a `Mutex`: the
//! same nodes, the same code for every operation (`super::list`), no lock and
//! no atomic read-modify-write. A `RefCell` is `!Sync`, so only the thread
//! that owns the queue reaches the list; its borrow flag (a plain counter)
//! turns a re-entrant lock, which the list never takes (it runs no user code
//! while it holds the lock), into a panic rather than two `&mut` to one list.

use std::{
    cell::RefCell,
    fmt,
    marker::PhantomData,
    pin::Pin,
    task::{Context, Poll, Waker},
};

use super::{
    Cancelled, Intrusive, IntrusiveWaiter, Select, WaitQueue, Woken,
    list::{End, List, Pick},
};

/// A single-thread FIFO wait queue: no lock, no atomic read-modify-write and
/// no heap allocation per wait. `!Send` and `!Sync`.
///
/// The backend of the [`local`](crate::local) primitives. Its waiters are
/// [`IntrusiveWaiter`]s, nodes stored in the waiting futures, as in
/// [`Intrusive`]. Supports both fairness policies (its `notify_one` is strict
/// FIFO), and `notify_last` (LIFO).
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<compio_sync::backend::Local>();
/// ```
///
/// ```compile_fail
/// fn assert_sync<T: Sync>() {}
/// assert_sync::<compio_sync::backend::Local>();
/// ```
pub struct Local {
    /// The list; `!Sync` (a `RefCell`), so only this thread reaches it.
    list: RefCell<List<IntrusiveWaiter>>,
    /// `!Send` as well: the local flavors are bound to the thread (the
    /// runtime) that made them, as `Rc` is, which leaves room to tie them to
    /// thread-local state later.
    _not_send: PhantomData<*const ()>,
}

// SAFETY: as for `Intrusive`, whose list and code this is: a node is unlinked
// and marked `NOTIFIED` under the borrow that guards linking; wakers are taken
// under it and woken after it is released; a node's memory is not touched
// after it is unlinked. Ordering (point 4) holds trivially: every call runs on
// the one thread that owns the queue (`!Send`, `!Sync`), in program order.
unsafe impl WaitQueue for Local {
    type Waiter = IntrusiveWaiter;

    // `List::register` links under the `RefCell`, which every notify
    // borrows (and one thread does both).
    const REGISTERS_UNDER_SELECTION_LOCK: bool = true;

    #[cfg(not(loom))]
    const NEW: Self = Self {
        list: RefCell::new(List::new(())),
        _not_send: PhantomData,
    };

    fn new() -> Self {
        Self {
            list: RefCell::new(List::new(())),
            _not_send: PhantomData,
        }
    }

    fn new_waiter() -> IntrusiveWaiter {
        Intrusive::new_waiter()
    }

    unsafe fn register(&self, waiter: Pin<&IntrusiveWaiter>, waker: &Waker, tag: usize) {
        // SAFETY: the caller guarantees the waiter is idle, used with this
        // queue only, and pinned until it is idle again.
        unsafe { List::register(&self.list, waiter, waker, tag, End::Tail) }
    }

    unsafe fn register_front(&self, waiter: Pin<&IntrusiveWaiter>, waker: &Waker, tag: usize) {
        // SAFETY: as in `register`.
        unsafe { List::register(&self.list, waiter, waker, tag, End::Head) }
    }

    unsafe fn poll_wait(&self, waiter: Pin<&IntrusiveWaiter>, cx: &mut Context<'_>) -> Poll<Woken> {
        // SAFETY: the caller guarantees the waiter was registered with this
        // queue and not yet observed `Ready` or cancelled.
        unsafe { List::poll_wait(&self.list, &waiter, cx) }
    }

    unsafe fn poll_notified(&self, waiter: Pin<&IntrusiveWaiter>) -> Poll<Woken> {
        // SAFETY: the caller guarantees the waiter was registered with this
        // queue and not yet observed `Ready` or cancelled, and owns it.
        unsafe { List::poll_notified(waiter.get_ref()) }
    }

    unsafe fn cancel(&self, waiter: Pin<&IntrusiveWaiter>) -> Cancelled {
        // SAFETY: the caller uses the waiter with this queue only.
        unsafe { List::cancel(&self.list, &waiter) }
    }

    fn notify_one(&self, wakeup: usize) -> bool {
        List::notify(&self.list, Pick::Head, wakeup, |(), _| {}, || {})
    }

    fn notify_last(&self, wakeup: usize) -> bool {
        List::notify(&self.list, Pick::Tail, wakeup, |(), _| {}, || {})
    }

    fn notify_all(&self, wakeup: usize) -> usize {
        List::notify_all(&self.list, wakeup, |(), _| {}, || {})
    }

    fn notify_while(&self, select: impl FnMut(&mut usize) -> Select) -> usize {
        List::notify_while(&self.list, select, |(), _| {}, || {})
    }
}

impl Default for Local {
    fn default() -> Self {
        <Self as WaitQueue>::new()
    }
}

impl fmt::Debug for Local {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Local").finish_non_exhaustive()
    }
}
