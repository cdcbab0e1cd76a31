//! Single-thread flavors: `!Send`, `!Sync` primitives for the tasks of one
//! runtime, with no lock and no atomic read-modify-write on any path.
//!
//! compio runs one runtime per thread, and most state never leaves its
//! thread. For tasks on one runtime, an atomic read-modify-write and a
//! thread-safe queue are pure overhead: these types use plain cells and the
//! [`Local`](crate::backend::Local) queue instead, and allocate nothing per
//! wait. Share them between tasks with `&` or `Rc` (their owned permits hold
//! an `Rc`).
//!
//! | thread-safe | local |
//! |---|---|
//! | [`crate::Semaphore`], `Arc<Semaphore>` | [`Semaphore`], `Rc<Semaphore>` |
//! | [`crate::Notify`] | [`Notify`] |
//! | [`crate::RwLock`], `Arc<RwLock<T>>` | [`RwLock`], `Rc<RwLock<T>>` |
//!
//! # One source
//!
//! These are not a second implementation. `src/semaphore/` and
//! `src/notify.rs` are compiled twice: under the crate root, and here, where
//! the names they import from `super::flavor` (`AtomicUsize`, `fence`, `Arc`,
//! `DefaultBackend`) are a `Cell`-based counter, a no-op, `Rc` and
//! [`Local`](crate::backend::Local). The API, semantics, fairness policies
//! and cancel safety are therefore the thread-safe types' exactly, minus
//! `Send`, `Sync` and the blocking entry points (`blocking_acquire*` exist
//! only where the semaphore is `Sync`). The method docs are shared too, so
//! their examples show the thread-safe types; the ones here read the same
//! with `compio_sync::local` and `Rc`. The error types are shared:
//! [`AcquireError`] and [`TryAcquireError`] are the crate root's.
//!
//! # Examples
//!
//! ```
//! use std::rc::Rc;
//! use compio_sync::local::{Notify, Semaphore};
//!
//! # compio::runtime::Runtime::new().unwrap().block_on(async {
//! let semaphore = Rc::new(Semaphore::new(1));
//! let notify = Rc::new(Notify::new());
//! let task = compio::runtime::spawn({
//!     let (semaphore, notify) = (semaphore.clone(), notify.clone());
//!     async move {
//!         let _permit = semaphore.acquire().await.unwrap();
//!         notify.notify_one();
//!     }
//! });
//! notify.notified().await;
//! task.await.unwrap();
//! assert_eq!(semaphore.available_permits(), 1);
//! # });
//! ```
//!
//! Neither type may leave its thread:
//!
//! ```compile_fail
//! fn assert_send<T: Send>() {}
//! assert_send::<compio_sync::local::Semaphore>();
//! ```
//!
//! ```compile_fail
//! fn assert_sync<T: Sync>() {}
//! assert_sync::<compio_sync::local::Semaphore>();
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>() {}
//! assert_send::<compio_sync::local::Notify>();
//! ```
//!
//! ```compile_fail
//! fn assert_sync<T: Sync>() {}
//! assert_sync::<compio_sync::local::Notify>();
//! ```
//!
//! Their permits and futures may not either (they hold a `&` or an `Rc` of
//! a `!Sync` primitive):
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let semaphore = compio_sync::local::Semaphore::new(1);
//! assert_send(semaphore.try_acquire().unwrap());
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let semaphore = std::rc::Rc::new(compio_sync::local::Semaphore::new(1));
//! assert_send(semaphore.try_acquire_owned().unwrap());
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let semaphore = compio_sync::local::Semaphore::new(1);
//! assert_send(semaphore.acquire());
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let notify = compio_sync::local::Notify::new();
//! assert_send(notify.notified());
//! ```
//!
//! Nor may a [`RwLock`] or its guards, whatever `T` is:
//!
//! ```compile_fail
//! fn assert_send<T: Send>() {}
//! assert_send::<compio_sync::local::RwLock<u32>>();
//! ```
//!
//! ```compile_fail
//! fn assert_sync<T: Sync>() {}
//! assert_sync::<compio_sync::local::RwLock<u32>>();
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let lock = compio_sync::local::RwLock::new(0);
//! assert_send(lock.try_read().unwrap());
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let lock = compio_sync::local::RwLock::new(0);
//! assert_send(lock.try_write().unwrap());
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let lock = std::rc::Rc::new(compio_sync::local::RwLock::new(0));
//! assert_send(lock.try_write_owned().unwrap());
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let lock = compio_sync::local::RwLock::new(0);
//! assert_send(lock.write());
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let lock = compio_sync::local::RwLock::new(0);
//! assert_send(lock.try_upgradable_read().unwrap());
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let lock = std::rc::Rc::new(compio_sync::local::RwLock::new(0));
//! assert_send(lock.try_upgradable_read_owned().unwrap());
//! ```
//!
//! And they have no blocking entry points:
//!
//! ```compile_fail
//! let semaphore = compio_sync::local::Semaphore::new(1);
//! let _ = semaphore.blocking_acquire();
//! ```
//!
//! ```compile_fail
//! let lock = compio_sync::local::RwLock::new(0);
//! let _ = lock.blocking_read();
//! ```

// The single-thread names for the shared source (see `crate::flavor`).
mod flavor;

// The thread-safe primitives' own files, compiled again against `flavor`
// above. Loading a file twice is the point, hence `clippy::duplicate_mod`.
#[allow(clippy::duplicate_mod)]
#[path = "../notify.rs"]
mod notify;
#[allow(clippy::duplicate_mod)]
#[path = "../rwlock/mod.rs"]
mod rwlock;
#[allow(clippy::duplicate_mod)]
#[path = "../semaphore/mod.rs"]
mod semaphore;

pub use self::{
    notify::{Notified, Notify, OwnedNotified},
    rwlock::{
        OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockUpgradableReadGuard,
        OwnedRwLockWriteGuard, RwLock, RwLockMappedWriteGuard, RwLockReadGuard,
        RwLockUpgradableReadGuard, RwLockWriteGuard,
    },
    semaphore::{Acquire, OwnedSemaphorePermit, STARVATION_BOUND, Semaphore, SemaphorePermit},
};
pub use crate::error::{AcquireError, TryAcquireError, TryLockError};
