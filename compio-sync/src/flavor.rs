//! The thread-safe flavor: the names the primitives' source is written
//! against.
//!
//! `src/semaphore/`, `src/notify/` and every other primitive take their counters, fences, shared
//! pointer and default backend from `super::flavor`, never from `std` or
//! `crate::loom` directly. They are compiled twice: here, under the crate
//! root, with the real atomics; and under [`crate::local`], whose own
//! `flavor` module gives the same names to plain cells. One source, two
//! flavors, as `synchrony`'s `sync` and `unsync` modules.

pub(crate) use std::sync::Arc;

pub(crate) use crate::{
    backend::DefaultBackend,
    loom::{
        UnsafeCell,
        atomic::{AtomicUsize, Ordering, fence},
        spin_loop,
    },
};

/// The locks the channels keep their values behind (`mpsc`'s message queue,
/// `watch`'s value, `broadcast`'s ring slots and tail), each held briefly
/// and never across an `.await`: `parking_lot`'s, whose guards never
/// poison; loom's under `cfg(loom)`, with the same API. The single-thread
/// flavor gives these names to `RefCell` wrappers.
#[cfg(not(loom))]
pub(crate) use parking_lot::{Mutex, MutexGuard, RwLock, RwLockReadGuard};

#[cfg(loom)]
pub(crate) use self::loom_locks::{Mutex, MutexGuard, RwLock, RwLockReadGuard};

/// The lock of `mpsc`'s message queue, whose sections are a few
/// instructions: a test-and-test-and-set lock whose unlock is a plain store
/// (see `crate::spin_lock`). The single-thread flavor gives this name to
/// its `RefCell` wrapper, as `Mutex`.
pub(crate) use crate::spin_lock::SpinLock;

/// A value allocated on first use: where an `RwLock` keeps its writer
/// cohorts (see `crate::lazy_box`).
pub(crate) use crate::lazy_box::LazyBox;

/// Whether an `RwLock`'s waiting writers pass the writers' turn within
/// their thread's cohort first (`rwlock/cohort.rs`): a hand-over to a task of
/// the same runtime costs no cross-thread wake-up. The single-thread flavor
/// has one thread, so nothing to gain.
pub(crate) const WRITER_COHORTS: bool = true;

/// How many wait queues the receivers of a fan-out channel (`watch`,
/// `broadcast`: `crate::wait_set`) are spread over, one per thread (see
/// [`wait_shard`]): receivers on many threads then do not all register
/// behind one lock, and a send wakes each shard in turn (tokio's
/// `BigNotify` spreads its receivers too, at random).
#[cfg(not(loom))]
pub(crate) const WAIT_SHARDS: usize = 4;

/// [`WAIT_SHARDS`] under loom: the one shard that [`wait_shard`] picks
/// there (the empty ones would only add loads for loom to interleave).
#[cfg(loom)]
pub(crate) const WAIT_SHARDS: usize = 1;

/// `parking_lot`'s lock API over loom's locks (poisoning ignored, as
/// `parking_lot` has none).
#[cfg(loom)]
mod loom_locks {
    pub(crate) use loom::sync::{MutexGuard, RwLockReadGuard, RwLockWriteGuard};

    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        }
    }

    #[derive(Debug)]
    pub(crate) struct RwLock<T>(loom::sync::RwLock<T>);

    impl<T> RwLock<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::RwLock::new(value))
        }

        pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
            self.0
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        }

        pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
            self.0
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        }
    }
}

/// The wait shard of the calling thread, below [`WAIT_SHARDS`]: where a
/// `watch` or `broadcast` receiver waiting on this thread registers.
/// Threads take shards round robin at their first wait, so that the waiters
/// of one thread (one runtime) share a queue, apart from other threads'
/// (until there are more threads than shards): registrations on different
/// threads do not contend on one queue lock, and a send wakes one runtime's
/// waiters back to back, while that runtime's first wake-up is still in
/// flight, rather than interleaved with the other runtimes'. Only where a
/// waiter waits: any shard is correct.
#[cfg(not(loom))]
pub(crate) fn wait_shard() -> usize {
    use std::{
        cell::Cell,
        sync::atomic::{AtomicUsize, Ordering::Relaxed},
    };
    /// The next thread's shard (before the modulo).
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::thread_local! {
        static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    SHARD
        .try_with(|shard| {
            if shard.get() == usize::MAX {
                // Relaxed: a hint, ordering nothing.
                shard.set(NEXT.fetch_add(1, Relaxed) % WAIT_SHARDS);
            }
            shard.get()
        })
        // A thread-local being torn down: any shard will do.
        .unwrap_or(0)
}

/// [`wait_shard`] under loom: one shard (a per-thread choice from a global
/// counter would differ between the model's executions).
#[cfg(loom)]
pub(crate) fn wait_shard() -> usize {
    0
}
