//! [`ThreadBound`]: a value that may only be used or dropped on the thread
//! that created it, inside a type that must be `Send`.
//!
//! Shared by the two kernel-transport backends. compio's `Submit` future
//! (an op in flight on a runtime: `IoUringFutex`'s io_uring `FUTEX_WAIT`,
//! `Iocp`'s parked completion) holds an `Rc` to its runtime's driver, while
//! the waiters (`FutexWaiter`, `IocpWaiter`) must be `Send`. A waiter keeps
//! its op in a `ThreadBound`: on the op's thread it is polled and dropped as
//! usual; anywhere else it is never touched and is leaked instead, which is
//! sound and keeps the op's memory (the kernel wait, the `OVERLAPPED`) alive.
//! That happens only if a pinned future that waited on a compio runtime is
//! moved to another thread before its wait ends, or if a waiter that
//! outlives its owner is freed on another thread without a
//! `WaitQueue::release` first (the mpsc receiver's node releases itself when
//! the receiver drops): the leaked op holds its runtime's driver, which is
//! then leaked too.

use std::{
    mem::ManuallyDrop,
    thread::{self, ThreadId},
};

/// A `T` that is only ever accessed or dropped on its `owner` thread.
pub(super) struct ThreadBound<T> {
    owner: ThreadId,
    value: ManuallyDrop<T>,
}

// SAFETY: `value` is only accessed (`get_mut`) or dropped (`Drop`) on the
// `owner` thread; on any other thread it is left untouched and leaked.
unsafe impl<T> Send for ThreadBound<T> {}

thread_local! {
    static THREAD_ID: ThreadId = thread::current().id();
}

/// The calling thread's id; `None` while its thread-locals are being torn
/// down (the value is then leaked, never touched).
fn current_thread_id() -> Option<ThreadId> {
    THREAD_ID.try_with(|id| *id).ok()
}

impl<T> ThreadBound<T> {
    /// Binds `value` to the calling thread.
    pub(super) fn new(value: T) -> Self {
        Self {
            owner: thread::current().id(),
            value: ManuallyDrop::new(value),
        }
    }

    /// The value, if called on its owner thread.
    pub(super) fn get_mut(&mut self) -> Option<&mut T> {
        (current_thread_id() == Some(self.owner)).then_some(&mut *self.value)
    }
}

impl<T> Drop for ThreadBound<T> {
    fn drop(&mut self) {
        if current_thread_id() == Some(self.owner) {
            // SAFETY: `value` is dropped once, here, and on the owner thread
            // (the invariant `Send` relies on); never touched afterwards.
            unsafe { ManuallyDrop::drop(&mut self.value) }
        }
    }
}
