//! The single-thread flavor: the names of `crate::flavor`, given to plain
//! cells.
//!
//! Everything here is `!Sync`, so every type compiled with it is too, and no
//! operation is an atomic read-modify-write: a counter is a `Cell`, a fence is
//! nothing, the shared pointer is `Rc`, and the queue is
//! [`Local`](crate::backend::Local).

use std::cell::Cell;

pub(crate) use std::{rc::Rc as Arc, sync::atomic::Ordering};

pub(crate) use crate::{backend::Local as DefaultBackend, loom::UnsafeCell};

/// A `usize` counter with [`std::sync::atomic::AtomicUsize`]'s API, for one
/// thread: a `Cell`. The orderings are accepted and ignored (one thread
/// observes its own writes in program order), and every "atomic"
/// read-modify-write is a plain load and store.
#[derive(Debug, Default)]
pub(crate) struct AtomicUsize(Cell<usize>);

impl AtomicUsize {
    #[inline(always)]
    pub(crate) const fn new(value: usize) -> Self {
        Self(Cell::new(value))
    }

    #[inline(always)]
    pub(crate) fn load(&self, _: Ordering) -> usize {
        self.0.get()
    }

    /// Sets the value, returning the old one.
    #[inline(always)]
    fn update(&self, f: impl FnOnce(usize) -> usize) -> usize {
        let old = self.0.get();
        self.0.set(f(old));
        old
    }

    #[inline(always)]
    pub(crate) fn fetch_add(&self, value: usize, _: Ordering) -> usize {
        self.update(|old| old.wrapping_add(value))
    }

    #[inline(always)]
    pub(crate) fn fetch_sub(&self, value: usize, _: Ordering) -> usize {
        self.update(|old| old.wrapping_sub(value))
    }

    #[inline(always)]
    pub(crate) fn fetch_or(&self, value: usize, _: Ordering) -> usize {
        self.update(|old| old | value)
    }

    #[inline(always)]
    pub(crate) fn fetch_and(&self, value: usize, _: Ordering) -> usize {
        self.update(|old| old & value)
    }

    #[inline(always)]
    pub(crate) fn compare_exchange(
        &self,
        current: usize,
        new: usize,
        _: Ordering,
        _: Ordering,
    ) -> Result<usize, usize> {
        let old = self.0.get();
        if old == current {
            self.0.set(new);
            Ok(old)
        } else {
            Err(old)
        }
    }

    /// As [`compare_exchange`](Self::compare_exchange): a cell never fails
    /// spuriously.
    #[inline(always)]
    pub(crate) fn compare_exchange_weak(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize> {
        self.compare_exchange(current, new, success, failure)
    }
}

/// A fence orders one thread's accesses against another's; with one thread
/// there is nothing to order.
#[inline(always)]
pub(crate) fn fence(_: Ordering) {}

/// The channels' locks (see `crate::flavor`), for one thread: a `RefCell`.
/// There is no other thread to wait for, so a borrow that conflicts (a
/// `watch::Ref` still alive across a send on the same channel) is a bug in
/// the caller, and panics where the thread-safe lock would deadlock.
#[derive(Debug)]
pub(crate) struct Mutex<T>(std::cell::RefCell<T>);

/// `crate::flavor::SpinLock` (the message queue's lock): on one thread, the
/// same `RefCell` as [`Mutex`].
pub(crate) use Mutex as SpinLock;

/// The guard of [`Mutex`].
pub(crate) type MutexGuard<'a, T> = std::cell::RefMut<'a, T>;

impl<T> Mutex<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(std::cell::RefCell::new(value))
    }

    #[track_caller]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0
            .try_borrow_mut()
            .expect("a local channel's state is already borrowed on this thread")
    }
}

/// The reader-writer lock of `watch`'s value (see `crate::flavor`), for one
/// thread: a `RefCell`, as [`Mutex`].
#[derive(Debug)]
pub(crate) struct RwLock<T>(std::cell::RefCell<T>);

/// The shared guard of [`RwLock`].
pub(crate) type RwLockReadGuard<'a, T> = std::cell::Ref<'a, T>;

impl<T> RwLock<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(std::cell::RefCell::new(value))
    }

    #[track_caller]
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
        self.0
            .try_borrow()
            .expect("a local channel's value is being modified on this thread")
    }

    #[track_caller]
    pub(crate) fn write(&self) -> std::cell::RefMut<'_, T> {
        self.0.try_borrow_mut().expect(
            "a local channel's value is borrowed on this thread: drop the `Ref` before sending",
        )
    }
}

/// `crate::flavor::LazyBox` for one thread: a `OnceCell`. (Unused: this
/// flavor has no writer cohorts, see [`WRITER_COHORTS`].)
pub(crate) struct LazyBox<T>(std::cell::OnceCell<Box<T>>);

impl<T> LazyBox<T> {
    pub(crate) const fn new() -> Self {
        Self(std::cell::OnceCell::new())
    }

    pub(crate) fn get_or_init(&self, init: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(|| Box::new(init()))
    }
}

/// Whether an `RwLock`'s waiting writers form per-thread cohorts (see
/// `crate::flavor`): one thread, so no.
pub(crate) const WRITER_COHORTS: bool = false;

/// How many wait queues a fan-out channel spreads its receivers over (see
/// `crate::flavor`): one thread has no lock to contend on, so one.
pub(crate) const WAIT_SHARDS: usize = 1;

/// [`std::sync::atomic::AtomicUsize::store`], for the once-cells' state
/// words (`OnceCell`, `SetOnce`) and the broadcast channel's tail position.
impl AtomicUsize {
    #[inline(always)]
    pub(crate) fn store(&self, value: usize, _: Ordering) {
        self.0.set(value);
    }
}

/// A spin-wait hint. On one thread nothing can change while we spin, so the
/// shared source never spins in this flavor (see `SetOnce::set`); the hint is
/// here so that the names match.
#[inline(always)]
pub(crate) fn spin_loop() {
    std::hint::spin_loop();
}

/// The wait shard of the calling thread (see `crate::flavor`): the one
/// shard there is.
#[inline(always)]
pub(crate) fn wait_shard() -> usize {
    0
}
