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
//! | [`crate::Mutex`] and its guards | [`Mutex`] and its guards (owned ones hold an `Rc`) |
//! | [`crate::Notify`] | [`Notify`] |
//! | [`crate::RwLock`] and its guards | [`RwLock`] and its guards (owned ones hold an `Rc`) |
//! | [`crate::Condvar`] | [`Condvar`], waiting with [`MutexGuard`]s of a local [`Mutex`] |
//! | [`crate::Barrier`] | [`Barrier`] |
//! | [`crate::OnceCell`] | [`OnceCell`] |
//! | [`crate::SetOnce`] | [`SetOnce`] |
//! | [`crate::oneshot`], [`crate::mpsc`] | [`oneshot`], [`mpsc`] |
//! | [`crate::watch`] | [`watch`] |
//! | [`crate::broadcast`] | [`broadcast`] |
//!
//! # Which flavor when
//!
//! | the primitive is shared by | use |
//! |---|---|
//! | tasks of one runtime (one thread) only | `compio_sync::local` |
//! | tasks of several runtimes, or tasks and plain threads | the crate root (thread-safe) |
//! | tasks on a multi-threaded executor (tokio's default runtime) | the crate root: its tasks move between threads |
//!
//! The compiler enforces the choice: a local primitive is neither `Send`
//! nor `Sync`, so a future holding one cannot be spawned on another thread.
//!
//! # One source
//!
//! These are not a second implementation. Every primitive's files
//! (`src/semaphore/`, `src/mutex/`, `src/rwlock/`, `src/notify/`, the
//! channels, ...) are compiled twice: under the crate root, and here, where
//! the names they import from `super::flavor` (`AtomicUsize`, `fence`, `Arc`,
//! `DefaultBackend`) are a `Cell`-based counter, a no-op, `Rc` and
//! [`Local`](crate::backend::Local). The API, semantics, fairness policies
//! and cancel safety are therefore the thread-safe types' exactly, minus
//! `Send`, `Sync` and the blocking entry points (`blocking_acquire*` exist
//! only where the semaphore is `Sync`). The method docs are shared too, so
//! their examples show the thread-safe types; the ones here read the same
//! with `compio_sync::local` and `Rc`. The error types are shared:
//! [`AcquireError`], [`TryAcquireError`] and [`TryLockError`] are the crate
//! root's.
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
//! ```compile_fail
//! fn assert_send<T: Send>() {}
//! assert_send::<compio_sync::local::Mutex<u8>>();
//! ```
//!
//! ```compile_fail
//! fn assert_sync<T: Sync>() {}
//! assert_sync::<compio_sync::local::Mutex<u8>>();
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>() {}
//! assert_send::<compio_sync::local::Condvar>();
//! ```
//!
//! ```compile_fail
//! fn assert_sync<T: Sync>() {}
//! assert_sync::<compio_sync::local::Condvar>();
//! ```
//!
//! Their permits, guards and futures may not either (they hold a `&` or an `Rc` of
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
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let mutex = compio_sync::local::Mutex::new(0);
//! assert_send(mutex.try_lock().unwrap());
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let mutex = compio_sync::local::Mutex::new(0);
//! assert_send(mutex.lock());
//! ```
//!
//! Nor may the barrier and the once-cells, or their futures:
//!
//! ```compile_fail
//! fn assert_send<T: Send>() {}
//! assert_send::<compio_sync::local::Barrier>();
//! ```
//!
//! ```compile_fail
//! fn assert_sync<T: Sync>() {}
//! assert_sync::<compio_sync::local::Barrier>();
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let barrier = compio_sync::local::Barrier::new(2);
//! assert_send(barrier.wait());
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>() {}
//! assert_send::<compio_sync::local::OnceCell<u32>>();
//! ```
//!
//! ```compile_fail
//! fn assert_sync<T: Sync>() {}
//! assert_sync::<compio_sync::local::OnceCell<u32>>();
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let cell = compio_sync::local::OnceCell::<u32>::new();
//! assert_send(cell.get_or_init(|| async { 1 }));
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>() {}
//! assert_send::<compio_sync::local::SetOnce<u32>>();
//! ```
//!
//! ```compile_fail
//! fn assert_sync<T: Sync>() {}
//! assert_sync::<compio_sync::local::SetOnce<u32>>();
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let cell = compio_sync::local::SetOnce::<u32>::new();
//! assert_send(cell.wait());
//! ```
//!
//! Nor may a [`RwLock`] or its guards and futures, whatever `T` is:
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
//! while the thread-safe ones are `Send` and `Sync` (for a `Send + Sync`
//! value):
//!
//! ```
//! fn assert_send_sync<T: Send + Sync>() {}
//! assert_send_sync::<compio_sync::Barrier>();
//! assert_send_sync::<compio_sync::OnceCell<u32>>();
//! assert_send_sync::<compio_sync::SetOnce<u32>>();
//! assert_send_sync::<compio_sync::RwLock<u32>>();
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
//! let mutex = compio_sync::local::Mutex::new(1);
//! let _ = mutex.blocking_lock();
//! ```
//!
//! ```compile_fail
//! let lock = compio_sync::local::RwLock::new(0);
//! let _ = lock.blocking_read();
//! ```
//!
//! The channels (`src/oneshot/` and `src/mpsc/`, compiled here too) stay on
//! their thread, and have no blocking entry points either:
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let (tx, _rx) = compio_sync::local::mpsc::channel::<u32>(1);
//! assert_send(tx);
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let (_tx, rx) = compio_sync::local::mpsc::unbounded_channel::<u32>();
//! assert_send(rx);
//! ```
//!
//! ```compile_fail
//! fn assert_sync<T: Sync>(_: &T) {}
//! let (tx, _rx) = compio_sync::local::mpsc::channel::<u32>(1);
//! assert_sync(&tx);
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let (tx, _rx) = compio_sync::local::oneshot::channel::<u32>();
//! assert_send(tx);
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let (_tx, rx) = compio_sync::local::oneshot::channel::<u32>();
//! assert_send(rx);
//! ```
//!
//! ```compile_fail
//! let (_tx, mut rx) = compio_sync::local::mpsc::channel::<u32>(1);
//! let _ = rx.blocking_recv();
//! ```
//!
//! ```compile_fail
//! let (tx, _rx) = compio_sync::local::mpsc::channel::<u32>(1);
//! let _ = tx.blocking_send(1);
//! ```
//!
//! ```compile_fail
//! let (_tx, rx) = compio_sync::local::oneshot::channel::<u32>();
//! let _ = rx.blocking_recv();
//! ```
//!
//! The same code with `compio_sync::mpsc` and `compio_sync::oneshot`
//! compiles:
//!
//! ```
//! fn assert_send_sync<T: Send + Sync>(_: &T) {}
//! let (tx, rx) = compio_sync::mpsc::channel::<u32>(1);
//! assert_send_sync(&tx);
//! assert_send_sync(&rx);
//! let (tx, rx) = compio_sync::oneshot::channel::<u32>();
//! assert_send_sync(&tx);
//! assert_send_sync(&rx);
//! ```

// The single-thread names for the shared source (see `crate::flavor`).
mod flavor;

// The thread-safe primitives' own files, compiled again against `flavor`
// above. Loading a file twice is the point, hence `clippy::duplicate_mod`.
#[allow(clippy::duplicate_mod)]
#[path = "../barrier.rs"]
mod barrier;
#[allow(clippy::duplicate_mod)]
#[path = "../condvar.rs"]
mod condvar;
#[allow(clippy::duplicate_mod)]
#[path = "../mpsc/mod.rs"]
pub mod mpsc;
#[allow(clippy::duplicate_mod)]
#[path = "../mutex/mod.rs"]
mod mutex;
#[allow(clippy::duplicate_mod)]
#[path = "../notify/mod.rs"]
mod notify;
#[allow(clippy::duplicate_mod)]
#[path = "../once_cell.rs"]
mod once_cell;
#[allow(clippy::duplicate_mod)]
#[path = "../oneshot/mod.rs"]
pub mod oneshot;
#[allow(clippy::duplicate_mod)]
#[path = "../rwlock/mod.rs"]
mod rwlock;
#[allow(clippy::duplicate_mod)]
#[path = "../semaphore/mod.rs"]
mod semaphore;
#[allow(clippy::duplicate_mod)]
#[path = "../set_once.rs"]
mod set_once;
#[allow(clippy::duplicate_mod)]
#[path = "../wait_set.rs"]
mod wait_set;

// Channels: a file of their own each, which compiles the thread-safe
// channel's source again and shares its error module.
pub mod broadcast;
pub mod watch;

pub use self::{
    barrier::{Barrier, BarrierWait, BarrierWaitResult},
    condvar::Condvar,
    mutex::{
        MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, TryLockError,
    },
    notify::{Notified, Notify, OwnedNotified},
    once_cell::OnceCell,
    rwlock::{
        OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockUpgradableReadGuard,
        OwnedRwLockWriteGuard, RwLock, RwLockMappedWriteGuard, RwLockReadGuard,
        RwLockUpgradableReadGuard, RwLockWriteGuard,
    },
    semaphore::{
        Acquire, OwnedSemaphorePermit, STARVATION_BOUND, STARVATION_PASSES, Semaphore,
        SemaphorePermit,
    },
    set_once::SetOnce,
};
pub use crate::error::{AcquireError, SetError, SetOnceError, TryAcquireError};

/// The single-thread [`Notify`]'s named futures, at tokio's path (as
/// `compio_sync::futures`).
///
/// # Examples
///
/// ```
/// use compio_sync::local::{Notify, futures::OwnedNotified};
/// use std::rc::Rc;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let notify = Rc::new(Notify::new());
/// let waiter: OwnedNotified = notify.clone().notified_owned();
/// notify.notify_one();
/// waiter.await;
/// # });
/// ```
pub mod futures {
    pub use super::notify::{Notified, OwnedNotified};
}
