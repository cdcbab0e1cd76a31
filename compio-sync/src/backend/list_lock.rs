//! The lock a [`List`](super::list::List) is reached through: the crate's
//! spin lock, a `Mutex`, or a `RefCell` for the single-thread queue.

use std::ops::DerefMut;

use crate::loom::{Mutex, MutexGuard, lock};

/// The lock a [`List`](super::list::List) is reached through.
///
/// The list runs no user code while it holds the lock (contract point 5), so
/// a lock is never taken twice by one thread.
pub(super) trait ListLock<T> {
    /// Exclusive access to the list, until dropped.
    type Guard<'a>: DerefMut<Target = T>
    where
        Self: 'a;

    fn lock(&self) -> Self::Guard<'_>;
}

/// The thread-safe backends' lock (`std`'s, or loom's in the models).
impl<T> ListLock<T> for Mutex<T> {
    type Guard<'a>
        = MutexGuard<'a, T>
    where
        T: 'a;

    fn lock(&self) -> MutexGuard<'_, T> {
        lock(self)
    }
}

/// The lock of the thread-safe `Intrusive` queue: a spin lock whose unlock
/// is a plain store (see `crate::spin_lock`). The list's sections are a few
/// pointer writes and never run user code.
impl<T> ListLock<T> for crate::spin_lock::SpinLock<T> {
    type Guard<'a>
        = crate::spin_lock::SpinLockGuard<'a, T>
    where
        T: 'a;

    #[inline]
    fn lock(&self) -> Self::Guard<'_> {
        crate::spin_lock::SpinLock::lock(self)
    }
}

/// The single-thread lock: a `RefCell` is `!Sync`, so only its own thread
/// reaches the list, and its borrow flag (a plain counter, no atomics) turns
/// a re-entrant lock, which would be a bug of ours, into a panic instead of
/// two `&mut` to one list.
impl<T> ListLock<T> for std::cell::RefCell<T> {
    type Guard<'a>
        = std::cell::RefMut<'a, T>
    where
        T: 'a;

    fn lock(&self) -> std::cell::RefMut<'_, T> {
        self.borrow_mut()
    }
}
