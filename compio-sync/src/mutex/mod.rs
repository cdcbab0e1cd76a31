//! An async mutex: a [`Semaphore`] with one permit, plus the data it guards.
//!
//! # How it works
//!
//! As in tokio and maitake-sync, the lock *is* a semaphore with a single
//! permit: `lock` acquires it, dropping the guard releases it. All the waiting,
//! cancellation and fairness logic (barging with a starvation bound by default,
//! strict FIFO with [`Mutex::strict_fifo`]) is the semaphore's, so this file
//! only has to get the data access right:
//!
//! * Exactly one guard exists while the permit is held, so the guard may hand
//!   out `&mut T`.
//! * The semaphore's Acquire (on taking the permit) and Release (on returning
//!   it) make every critical section happen-before the next one.

mod guard;
mod lock;
mod owned;

use std::{cell::UnsafeCell, fmt, future::Future};

pub use self::{
    guard::{MappedMutexGuard, MutexGuard},
    owned::{OwnedMappedMutexGuard, OwnedMutexGuard},
};
// The flavor (see `crate::flavor`): this file is compiled once under the
// crate root and once under `crate::local`, where `Arc` is `Rc`, the
// semaphore is the local one and the default queue is `backend::Local`.
use super::{
    flavor::{Arc, DefaultBackend},
    semaphore::Semaphore,
};
pub use crate::error::TryLockError;
use crate::{TryAcquireError, backend::WaitQueue};

/// An asynchronous mutual-exclusion lock, with [`tokio::sync::Mutex`]'s API.
///
/// [`lock`](Self::lock) waits (without blocking the thread) until the lock is
/// free and returns a [`MutexGuard`]; dropping the guard unlocks. The guard is
/// `Send` (when `T: Send`), so it may be held across `.await` points and moved
/// between threads.
///
/// Fairness follows [`Semaphore`]: by default a task that finds the mutex free
/// takes it even if others wait (*barging*, much faster under cross-thread
/// contention), and a waiter passed over for longer than
/// [`STARVATION_BOUND`](crate::STARVATION_BOUND) gets the lock handed to it.
/// [`strict_fifo`](Self::strict_fifo) gives tokio's exact first-in, first-out
/// order.
///
/// `B` is the wait-queue backend (see [`crate::backend`]).
///
/// Prefer `std::sync::Mutex` (or `parking_lot`) when the lock is never held
/// across an `.await`: it is cheaper. Use this one when it is.
///
/// [`tokio::sync::Mutex`]: https://docs.rs/tokio/latest/tokio/sync/struct.Mutex.html
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use compio_sync::Mutex;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let count = Arc::new(Mutex::new(0));
/// let tasks: Vec<_> = (0..4)
///     .map(|_| {
///         let count = count.clone();
///         compio::runtime::spawn(async move {
///             let mut guard = count.lock().await;
///             *guard += 1;
///         })
///     })
///     .collect();
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(*count.lock().await, 4);
/// # });
/// ```
pub struct Mutex<T: ?Sized, B: WaitQueue = DefaultBackend> {
    /// One permit: held exactly while a guard exists.
    semaphore: Semaphore<B>,
    /// The data. Accessed only through a guard (which holds the permit) or
    /// through `&mut self`.
    ///
    /// A plain `std` cell, not the loom shim's: guards hand out references
    /// that outlive any closure, and `T` may be unsized. The loom models check
    /// exclusion by putting a loom cell inside `T`.
    data: UnsafeCell<T>,
}

// The backend's share of the bounds below: a queue need not be `Send` or
// `Sync` (`backend::Local` is neither), so each impl also asks it of the
// semaphore, the one field that holds the queue.
// SAFETY: a `Mutex<T>` owns a `T`; sending it sends the `T`.
unsafe impl<T: ?Sized + Send, B: WaitQueue> Send for Mutex<T, B> where Semaphore<B>: Send {}
// SAFETY: shared access to a `Mutex<T>` only ever gives one thread at a time
// access to the `T` (the permit), so `T: Send` suffices, as for
// `std::sync::Mutex`; `T: Sync` is not needed.
unsafe impl<T: ?Sized + Send, B: WaitQueue> Sync for Mutex<T, B> where Semaphore<B>: Sync {}

#[cfg(not(loom))]
impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`, on the default backend.
    ///
    /// # Examples
    ///
    /// ```
    /// let mutex = compio_sync::Mutex::new(5);
    /// assert_eq!(*mutex.try_lock().unwrap(), 5);
    /// ```
    pub fn new(value: T) -> Self {
        Self::with_backend(value)
    }

    /// Creates an unlocked mutex in a `const` context, e.g. a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::Mutex;
    ///
    /// static LOG: Mutex<Vec<&str>> = Mutex::const_new(Vec::new());
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// LOG.lock().await.push("started");
    /// assert_eq!(LOG.lock().await.len(), 1);
    /// # });
    /// ```
    pub const fn const_new(value: T) -> Self {
        Self::const_with_backend(value)
    }
}

#[cfg(loom)]
impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`, on the default backend.
    pub fn new(value: T) -> Self {
        Self::with_backend(value)
    }
}

impl<T, B: WaitQueue> Mutex<T, B> {
    /// Creates an unlocked mutex holding `value`, on the backend `B`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Mutex, backend::MutexVecDeque};
    ///
    /// let mutex = Mutex::<_, MutexVecDeque>::with_backend("hello");
    /// assert_eq!(*mutex.try_lock().unwrap(), "hello");
    /// ```
    pub fn with_backend(value: T) -> Self {
        Self {
            semaphore: Semaphore::with_backend(1),
            data: UnsafeCell::new(value),
        }
    }

    /// `const` form of [`with_backend`](Self::with_backend).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Mutex, backend::MutexVecDeque};
    ///
    /// static COUNT: Mutex<u64, MutexVecDeque> = Mutex::const_with_backend(0);
    /// *COUNT.try_lock().unwrap() += 1;
    /// assert_eq!(*COUNT.try_lock().unwrap(), 1);
    /// ```
    #[cfg(not(loom))]
    pub const fn const_with_backend(value: T) -> Self {
        Self {
            semaphore: Semaphore::const_with_backend(1),
            data: UnsafeCell::new(value),
        }
    }

    /// Switches this mutex to strict first-in, first-out order (tokio's):
    /// the lock goes to waiters in the order they started waiting, and
    /// [`try_lock`](Self::try_lock) fails while anyone waits.
    ///
    /// Costs a task switch (often a cross-thread wake) per contended lock; see
    /// [`Semaphore::strict_fifo`].
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::Mutex;
    ///
    /// static FAIR: Mutex<u32> = Mutex::const_new(0).strict_fifo();
    /// assert!(FAIR.is_strict_fifo());
    /// ```
    #[must_use]
    pub const fn strict_fifo(mut self) -> Self {
        self.semaphore.set_strict_fifo();
        self
    }

    /// Sets how long a waiter may be passed over by tasks that barge in
    /// before the lock is handed to it directly (default policy; see
    /// [`Semaphore::starvation_bound`] and
    /// [`STARVATION_BOUND`](crate::STARVATION_BOUND), the default).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use compio_sync::Mutex;
    ///
    /// static STATE: Mutex<u32> = Mutex::const_new(0).starvation_bound(Duration::from_micros(100));
    /// # assert_eq!(*STATE.try_lock().unwrap(), 0);
    /// ```
    #[must_use]
    pub const fn starvation_bound(mut self, bound: std::time::Duration) -> Self {
        self.semaphore.set_starvation_bound(bound);
        self
    }

    /// Consumes the mutex and returns the data.
    ///
    /// # Examples
    ///
    /// ```
    /// let mutex = compio_sync::Mutex::new(vec![1, 2]);
    /// assert_eq!(mutex.into_inner(), vec![1, 2]);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized, B: WaitQueue> Mutex<T, B> {
    /// Returns `true` if this mutex uses strict FIFO order.
    ///
    /// # Examples
    ///
    /// ```
    /// let mutex = compio_sync::Mutex::new(());
    /// assert!(!mutex.is_strict_fifo());
    /// ```
    pub fn is_strict_fifo(&self) -> bool {
        self.semaphore.is_strict_fifo()
    }

    /// Locks the mutex, waiting until it is free.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. Dropping the future before it completes leaves no trace:
    /// if the lock had already been handed to it, the lock is passed on (or
    /// released), and the order of the other waiters is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let mutex = compio_sync::Mutex::new(1);
    /// let mut guard = mutex.lock().await;
    /// *guard += 1;
    /// drop(guard);
    /// assert_eq!(*mutex.lock().await, 2);
    /// # });
    /// ```
    // An `async fn` in tokio; here a hand-written future (`lock::Lock`)
    // whose uncontended first poll builds no wait future.
    #[inline]
    pub fn lock(&self) -> impl Future<Output = MutexGuard<'_, T, B>> + '_ {
        lock::Lock::new(self)
    }

    /// Locks the mutex if it is free now.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the mutex is locked (or, in strict FIFO order, if
    /// tasks are waiting for it).
    ///
    /// # Examples
    ///
    /// ```
    /// let mutex = compio_sync::Mutex::new(1);
    /// let guard = mutex.try_lock().unwrap();
    /// assert!(mutex.try_lock().is_err());
    /// drop(guard);
    /// assert!(mutex.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T, B>, TryLockError> {
        self.try_acquire()?;
        Ok(MutexGuard::new(self))
    }

    /// Locks the mutex, returning a guard that keeps the `Arc` alive (and so
    /// can be moved into a spawned task).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`lock`](Self::lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let mutex = Arc::new(compio_sync::Mutex::new(0));
    /// let mut guard = mutex.clone().lock_owned().await;
    /// compio::runtime::spawn(async move { *guard = 7 }).await.unwrap();
    /// assert_eq!(*mutex.lock().await, 7);
    /// # });
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T, B> {
        // As in `lock`.
        if !self.semaphore.acquire_now(1).await {
            match self.semaphore.acquire().await {
                Ok(permit) => permit.forget(),
                Err(_) => unreachable!("a mutex's semaphore is never closed"),
            }
        }
        OwnedMutexGuard::new(self)
    }

    /// Locks the mutex if it is free now, returning an owned guard.
    ///
    /// # Errors
    ///
    /// As [`try_lock`](Self::try_lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let mutex = Arc::new(compio_sync::Mutex::new(1));
    /// let guard = mutex.clone().try_lock_owned().unwrap();
    /// assert!(mutex.clone().try_lock_owned().is_err());
    /// # drop(guard);
    /// ```
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T, B>, TryLockError> {
        self.try_acquire()?;
        Ok(OwnedMutexGuard::new(self))
    }

    /// Returns a mutable reference to the data. No locking is needed: the
    /// `&mut self` borrow proves no guard exists.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut mutex = compio_sync::Mutex::new(1);
    /// *mutex.get_mut() = 2;
    /// assert_eq!(*mutex.try_lock().unwrap(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    fn try_acquire(&self) -> Result<(), TryLockError> {
        match self.semaphore.try_acquire() {
            Ok(permit) => {
                permit.forget();
                Ok(())
            }
            Err(TryAcquireError::NoPermits) => Err(TryLockError(())),
            Err(TryAcquireError::Closed) => unreachable!("a mutex's semaphore is never closed"),
        }
    }
}

/// Blocking entry points, for plain threads that share data with tasks:
/// only where the mutex is `Sync` (never a [`local`](crate::local) mutex,
/// which only its own thread can reach, so blocking on it would never end).
#[cfg(not(loom))]
impl<T: ?Sized, B: WaitQueue> Mutex<T, B>
where
    Self: Sync,
{
    /// Blocks the current thread until the mutex is locked.
    ///
    /// For plain threads that share data with async tasks.
    ///
    /// # Panics
    ///
    /// Panics if called on a thread that is running a compio runtime: it
    /// would block every task of that runtime. Use [`lock`](Self::lock) there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let mutex = Arc::new(compio_sync::Mutex::new(0));
    /// let m = mutex.clone();
    /// std::thread::spawn(move || *m.blocking_lock() += 1)
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(*mutex.blocking_lock(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T, B> {
        crate::blocking::block_on("Mutex::blocking_lock", self.lock())
    }

    /// Blocks the current thread until the mutex is locked, returning an
    /// owned guard.
    ///
    /// # Panics
    ///
    /// As [`blocking_lock`](Self::blocking_lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let mutex = Arc::new(compio_sync::Mutex::new(1));
    /// let guard = mutex.clone().blocking_lock_owned();
    /// assert_eq!(*guard, 1);
    /// ```
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T, B> {
        crate::blocking::block_on("Mutex::blocking_lock_owned", self.lock_owned())
    }
}

impl<T: ?Sized + fmt::Debug, B: WaitQueue> fmt::Debug for Mutex<T, B> {
    /// Shows the data if the mutex is free, `<locked>` otherwise. Never
    /// waits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// On the default backend only, so that `Mutex::default()` needs no type
/// annotation (other backends: `with_backend(T::default())`).
impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Self::with_backend(T::default())
    }
}

/// On the default backend only, as `new`: `Mutex::from(value)` needs no
/// type annotation.
impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Self::with_backend(value)
    }
}
