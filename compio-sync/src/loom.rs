//! The one place that chooses between `std` and [`loom`] primitives.
//!
//! Every atomic, cell, lock and thread the crate touches comes from here, so the
//! same code runs under the loom model checker (`RUSTFLAGS="--cfg loom"`) and in
//! ordinary builds. `UnsafeCell` has loom's closure-based API (`with`/`with_mut`)
//! in both builds, so loom can check every access to cell contents.
//!
//! [`loom`]: https://docs.rs/loom

#[cfg(loom)]
pub(crate) use loom::{
    cell::UnsafeCell,
    sync::{Mutex, MutexGuard, atomic},
};

#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard, atomic};

#[cfg(not(loom))]
pub(crate) use self::std_cell::UnsafeCell;

#[cfg(not(loom))]
mod std_cell {
    /// `std::cell::UnsafeCell` with loom's closure-based access API.
    #[derive(Debug)]
    #[repr(transparent)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }

        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

/// Locks a mutex, ignoring poisoning.
///
/// The crate never runs user code (wakers included) while holding one of its
/// locks, so a poisoned lock only means a panic inside our own bookkeeping,
/// which leaves the protected list consistent (every list operation completes
/// its pointer updates before anything that can panic).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
