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
    sync::{Arc, Mutex, MutexGuard, atomic},
};

#[cfg(not(loom))]
pub(crate) use std::sync::{Arc, Mutex, MutexGuard, atomic};

// Third-party building blocks of the backends. Each has a stand-in under loom
// (module `loom_stand_ins` below) with the same method names, so backend code
// is written once.
#[cfg(not(loom))]
pub(crate) use crossbeam_queue::SegQueue;
#[cfg(not(loom))]
pub(crate) use parking_lot::Mutex as ParkingMutex;

#[cfg(loom)]
pub(crate) use self::loom_stand_ins::{ParkingMutex, SegQueue};

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

/// loom-visible stand-ins for `parking_lot::Mutex` and
/// `crossbeam_queue::SegQueue`.
///
/// The real types synchronize through `std` atomics (and `parking_lot` parks
/// the OS thread), which loom can neither see nor schedule: a real
/// `parking_lot` lock would deadlock a loom model, and happens-before edges
/// made inside `SegQueue` would be invisible to it. Each
/// stand-in keeps the real type's contract and builds it from loom's own
/// primitives, so loom explores interleavings *between* calls and sees the
/// synchronization each call provides. What loom does not explore is the
/// inside of the real types: a `SegQueue` operation is one atomic step in the
/// model. Their own authors test those internals; our models check how the
/// backends use them. (The backends' waker cell, `backend::waker_cell`, is
/// our own code built from this module's atomics and cell, so loom sees
/// inside it.)
#[cfg(loom)]
mod loom_stand_ins {
    use std::collections::VecDeque;

    /// `parking_lot::Mutex`: no poisoning, `lock` returns the guard.
    #[derive(Debug)]
    pub(crate) struct ParkingMutex<T>(loom::sync::Mutex<T>);

    impl<T> ParkingMutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            super::lock(&self.0)
        }

        pub(crate) fn try_lock(&self) -> Option<loom::sync::MutexGuard<'_, T>> {
            match self.0.try_lock() {
                Ok(guard) => Some(guard),
                Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
        }
    }

    /// `crossbeam_queue::SegQueue`: a linearizable unbounded MPMC FIFO. A
    /// `push` happens-before the `pop` that returns its value, as in the real
    /// queue; the loom mutex inside gives each call one atomic step.
    #[derive(Debug)]
    pub(crate) struct SegQueue<T>(loom::sync::Mutex<VecDeque<T>>);

    impl<T> SegQueue<T> {
        pub(crate) fn new() -> Self {
            Self(loom::sync::Mutex::new(VecDeque::new()))
        }

        pub(crate) fn push(&self, value: T) {
            super::lock(&self.0).push_back(value);
        }

        pub(crate) fn pop(&self) -> Option<T> {
            super::lock(&self.0).pop_front()
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

/// A spin-wait hint, for a wait of a few instructions on another thread.
/// Under loom it yields to the model's other threads (a plain spin would
/// never let them run).
#[inline(always)]
pub(crate) fn spin_loop() {
    #[cfg(loom)]
    loom::hint::spin_loop();
    #[cfg(not(loom))]
    std::hint::spin_loop();
}
