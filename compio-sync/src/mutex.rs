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

use std::{
    cell::UnsafeCell,
    fmt,
    marker::PhantomData,
    mem::ManuallyDrop,
    ops::{Deref, DerefMut},
    ptr::{self, NonNull},
    sync::Arc,
};

use crate::{
    Semaphore, TryAcquireError,
    backend::{DefaultBackend, WaitQueue},
};

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
    c: UnsafeCell<T>,
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

pub use crate::error::TryLockError;

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
            c: UnsafeCell::new(value),
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
            c: UnsafeCell::new(value),
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

    /// Consumes the mutex and returns the data.
    ///
    /// # Examples
    ///
    /// ```
    /// let mutex = compio_sync::Mutex::new(vec![1, 2]);
    /// assert_eq!(mutex.into_inner(), vec![1, 2]);
    /// ```
    pub fn into_inner(self) -> T {
        self.c.into_inner()
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
    pub async fn lock(&self) -> MutexGuard<'_, T, B> {
        match self.semaphore.acquire().await {
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("a mutex's semaphore is never closed"),
        }
        MutexGuard { lock: self }
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
        Ok(MutexGuard { lock: self })
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
        match self.semaphore.acquire().await {
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("a mutex's semaphore is never closed"),
        }
        OwnedMutexGuard { lock: self }
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
        Ok(OwnedMutexGuard { lock: self })
    }

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
    #[cfg(not(loom))]
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
    #[cfg(not(loom))]
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T, B> {
        crate::blocking::block_on("Mutex::blocking_lock_owned", self.lock_owned())
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
        self.c.get_mut()
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

/// RAII guard of a locked [`Mutex`]: derefs to the data, unlocks on drop.
///
/// `Send` when `T: Send` (it may be held across an `.await` in a spawned
/// task); `Sync` only when `T` is also `Sync`, since sharing the guard
/// shares `&T`:
///
/// ```compile_fail
/// fn assert_sync<T: Sync>(_: &T) {}
/// let mutex = compio_sync::Mutex::new(std::cell::Cell::new(0));
/// assert_sync(&mutex.try_lock().unwrap()); // `Cell` is not `Sync`
/// ```
///
/// A `Mutex<T>` with `T: !Send` is not `Sync` (it could move the `T`):
///
/// ```compile_fail
/// fn assert_sync<T: Sync>(_: &T) {}
/// assert_sync(&compio_sync::Mutex::new(std::rc::Rc::new(0)));
/// ```
#[must_use = "if unused the mutex unlocks at once"]
pub struct MutexGuard<'a, T: ?Sized, B: WaitQueue = DefaultBackend> {
    lock: &'a Mutex<T, B>,
}

// `Send` is the auto impl: `&Mutex<T>` is `Send` iff `Mutex<T>: Sync` iff
// `T: Send`, which is what moving the exclusive access to another thread
// needs.
// SAFETY: `&MutexGuard<T>` only gives `&T`, so sharing the guard shares the
// `T`: that needs `T: Sync` (plus `T: Send`, without which no thread but the
// owner's may touch the mutex at all).
unsafe impl<T: ?Sized + Send + Sync, B: WaitQueue> Sync for MutexGuard<'_, T, B> where
    Semaphore<B>: Sync
{
}

impl<'a, T: ?Sized, B: WaitQueue> MutexGuard<'a, T, B> {
    /// Returns the mutex this guard locks.
    ///
    /// An associated function (`MutexGuard::mutex(&guard)`), so that it does
    /// not shadow a method of `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Mutex, MutexGuard};
    ///
    /// let mutex = Mutex::new(0);
    /// let guard = mutex.try_lock().unwrap();
    /// assert!(std::ptr::eq(MutexGuard::mutex(&guard), &mutex));
    /// ```
    pub fn mutex(this: &Self) -> &'a Mutex<T, B> {
        this.lock
    }

    /// Narrows the guard to a part of the data, e.g. one field.
    ///
    /// The mutex stays locked until the returned guard is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Mutex, MutexGuard};
    ///
    /// let mutex = Mutex::new((1, String::from("a")));
    /// let mut name = MutexGuard::map(mutex.try_lock().unwrap(), |pair| &mut pair.1);
    /// name.push('b');
    /// drop(name);
    /// assert_eq!(mutex.try_lock().unwrap().1, "ab");
    /// ```
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> MappedMutexGuard<'a, U, B>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = NonNull::from(f(&mut *this));
        let semaphore = &this.lock.semaphore;
        // The permit moves to the mapped guard, which releases it.
        std::mem::forget(this);
        MappedMutexGuard {
            semaphore,
            data,
            marker: PhantomData,
        }
    }

    /// Narrows the guard to a part of the data if `f` returns `Some`;
    /// otherwise gives the original guard back.
    ///
    /// # Errors
    ///
    /// Returns the original guard if `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Mutex, MutexGuard};
    ///
    /// let mutex = Mutex::new(vec![1, 2, 3]);
    /// let first = MutexGuard::try_map(mutex.try_lock().unwrap(), |v| v.first_mut());
    /// assert_eq!(*first.ok().unwrap(), 1);
    /// let none = MutexGuard::try_map(mutex.try_lock().unwrap(), |v| v.get_mut(9));
    /// assert!(none.is_err());
    /// ```
    pub fn try_map<U: ?Sized, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U, B>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(NonNull::from) else {
            return Err(this);
        };
        let semaphore = &this.lock.semaphore;
        // The permit moves to the mapped guard, which releases it.
        std::mem::forget(this);
        Ok(MappedMutexGuard {
            semaphore,
            data,
            marker: PhantomData,
        })
    }
}

impl<T: ?Sized, B: WaitQueue> Deref for MutexGuard<'_, T, B> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit, so no `&mut T`
        // exists elsewhere; the returned borrow is tied to the guard.
        unsafe { &*self.lock.c.get() }
    }
}

impl<T: ?Sized, B: WaitQueue> DerefMut for MutexGuard<'_, T, B> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit and we have the
        // guard mutably, so this is the only reference to the data.
        unsafe { &mut *self.lock.c.get() }
    }
}

impl<T: ?Sized, B: WaitQueue> Drop for MutexGuard<'_, T, B> {
    fn drop(&mut self) {
        self.lock.semaphore.release(1);
    }
}

impl<T: ?Sized + fmt::Debug, B: WaitQueue> fmt::Debug for MutexGuard<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display, B: WaitQueue> fmt::Display for MutexGuard<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Owned guard of a locked [`Mutex`] in an `Arc`: like [`MutexGuard`], but
/// keeps the mutex alive and has no lifetime, so it can move into a spawned
/// task. (Not `#[must_use]`, as in tokio: `mutex.lock_owned().await;` is a
/// way to wait until the mutex is free.)
pub struct OwnedMutexGuard<T: ?Sized, B: WaitQueue = DefaultBackend> {
    lock: Arc<Mutex<T, B>>,
}

// `Send` is the auto impl (`Arc<Mutex<T>>: Send` iff `T: Send`).
// SAFETY: as for `MutexGuard`: sharing the guard shares `&T`.
unsafe impl<T: ?Sized + Send + Sync, B: WaitQueue> Sync for OwnedMutexGuard<T, B> where
    Semaphore<B>: Send + Sync
{
}

impl<T: ?Sized, B: WaitQueue> OwnedMutexGuard<T, B> {
    /// Returns the mutex this guard locks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{Mutex, OwnedMutexGuard};
    ///
    /// let mutex = Arc::new(Mutex::new(0));
    /// let guard = mutex.clone().try_lock_owned().unwrap();
    /// assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&guard), &mutex));
    /// ```
    pub fn mutex(this: &Self) -> &Arc<Mutex<T, B>> {
        &this.lock
    }

    /// Narrows the guard to a part of the data.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{Mutex, OwnedMutexGuard};
    ///
    /// let mutex = Arc::new(Mutex::new((0, 0)));
    /// let mut second = OwnedMutexGuard::map(mutex.clone().try_lock_owned().unwrap(), |p| &mut p.1);
    /// *second = 5;
    /// drop(second);
    /// assert_eq!(*mutex.try_lock().unwrap(), (0, 5));
    /// ```
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> OwnedMappedMutexGuard<T, U, B>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = NonNull::from(f(&mut *this));
        OwnedMappedMutexGuard {
            data,
            lock: this.into_arc(),
        }
    }

    /// Narrows the guard to a part of the data if `f` returns `Some`;
    /// otherwise gives the original guard back.
    ///
    /// # Errors
    ///
    /// Returns the original guard if `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{Mutex, OwnedMutexGuard};
    ///
    /// let mutex = Arc::new(Mutex::new(Some(3)));
    /// let inner = OwnedMutexGuard::try_map(mutex.clone().try_lock_owned().unwrap(), Option::as_mut);
    /// assert_eq!(*inner.ok().unwrap(), 3);
    /// ```
    pub fn try_map<U: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedMappedMutexGuard<T, U, B>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(NonNull::from) else {
            return Err(this);
        };
        Ok(OwnedMappedMutexGuard {
            data,
            lock: this.into_arc(),
        })
    }

    /// Takes the `Arc` out without unlocking: the permit moves with it.
    fn into_arc(self) -> Arc<Mutex<T, B>> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is moved
        // out exactly once.
        unsafe { ptr::read(&this.lock) }
    }
}

impl<T: ?Sized, B: WaitQueue> Deref for OwnedMutexGuard<T, B> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit (see `MutexGuard`).
        unsafe { &*self.lock.c.get() }
    }
}

impl<T: ?Sized, B: WaitQueue> DerefMut for OwnedMutexGuard<T, B> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit and is borrowed
        // mutably (see `MutexGuard`).
        unsafe { &mut *self.lock.c.get() }
    }
}

impl<T: ?Sized, B: WaitQueue> Drop for OwnedMutexGuard<T, B> {
    fn drop(&mut self) {
        self.lock.semaphore.release(1);
    }
}

impl<T: ?Sized + fmt::Debug, B: WaitQueue> fmt::Debug for OwnedMutexGuard<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display, B: WaitQueue> fmt::Display for OwnedMutexGuard<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// A [`MutexGuard`] narrowed by [`MutexGuard::map`] to a part of the data.
#[must_use = "if unused the mutex unlocks at once"]
pub struct MappedMutexGuard<'a, T: ?Sized, B: WaitQueue = DefaultBackend> {
    /// The mutex's semaphore: this guard holds its permit.
    semaphore: &'a Semaphore<B>,
    /// Points into the mutex's data; valid while the permit is held.
    data: NonNull<T>,
    marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard is an exclusive borrow of a `T` inside a mutex (plus a
// shared borrow of a `Sync` semaphore), like `&mut T`: moving it to another
// thread moves that access, which needs `T: Send`.
unsafe impl<T: ?Sized + Send, B: WaitQueue> Send for MappedMutexGuard<'_, T, B> where
    Semaphore<B>: Sync
{
}
// SAFETY: sharing the guard shares `&T`, which needs `T: Sync`.
unsafe impl<T: ?Sized + Sync, B: WaitQueue> Sync for MappedMutexGuard<'_, T, B> where
    Semaphore<B>: Sync
{
}

impl<'a, T: ?Sized, B: WaitQueue> MappedMutexGuard<'a, T, B> {
    /// Narrows the guard further.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{MappedMutexGuard, Mutex, MutexGuard};
    ///
    /// let mutex = Mutex::new(((1, 2), 3));
    /// let pair = MutexGuard::map(mutex.try_lock().unwrap(), |t| &mut t.0);
    /// let mut two = MappedMutexGuard::map(pair, |p| &mut p.1);
    /// *two = 20;
    /// drop(two);
    /// assert_eq!(*mutex.try_lock().unwrap(), ((1, 20), 3));
    /// ```
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> MappedMutexGuard<'a, U, B>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = NonNull::from(f(&mut *this));
        let semaphore = this.semaphore;
        // The permit moves to the new guard.
        std::mem::forget(this);
        MappedMutexGuard {
            semaphore,
            data,
            marker: PhantomData,
        }
    }

    /// Narrows the guard further if `f` returns `Some`; otherwise gives the
    /// guard back.
    ///
    /// # Errors
    ///
    /// Returns the original guard if `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{MappedMutexGuard, Mutex, MutexGuard};
    ///
    /// let mutex = Mutex::new((vec![1], 0));
    /// let v = MutexGuard::map(mutex.try_lock().unwrap(), |t| &mut t.0);
    /// let first = MappedMutexGuard::try_map(v, |v| v.first_mut()).ok().unwrap();
    /// assert_eq!(*first, 1);
    /// ```
    pub fn try_map<U: ?Sized, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U, B>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(NonNull::from) else {
            return Err(this);
        };
        let semaphore = this.semaphore;
        // The permit moves to the new guard.
        std::mem::forget(this);
        Ok(MappedMutexGuard {
            semaphore,
            data,
            marker: PhantomData,
        })
    }
}

impl<T: ?Sized, B: WaitQueue> Deref for MappedMutexGuard<'_, T, B> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `data` points into the locked mutex's data, derived from the
        // guard that held the permit this guard now holds.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized, B: WaitQueue> DerefMut for MappedMutexGuard<'_, T, B> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and the guard is borrowed mutably.
        unsafe { self.data.as_mut() }
    }
}

impl<T: ?Sized, B: WaitQueue> Drop for MappedMutexGuard<'_, T, B> {
    fn drop(&mut self) {
        self.semaphore.release(1);
    }
}

impl<T: ?Sized + fmt::Debug, B: WaitQueue> fmt::Debug for MappedMutexGuard<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display, B: WaitQueue> fmt::Display for MappedMutexGuard<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// An [`OwnedMutexGuard`] narrowed by [`OwnedMutexGuard::map`] to a part `U`
/// of the data `T`.
#[must_use = "if unused the mutex unlocks at once"]
pub struct OwnedMappedMutexGuard<T: ?Sized, U: ?Sized = T, B: WaitQueue = DefaultBackend> {
    /// Points into the mutex's data; valid while the permit is held.
    data: NonNull<U>,
    /// Keeps the mutex alive; this guard holds its permit.
    lock: Arc<Mutex<T, B>>,
}

// SAFETY: the guard owns a share of the mutex (moving it needs the mutex to
// be `Send + Sync`, i.e. `T: Send`) and exclusive access to a `U` inside it
// (moving that needs `U: Send`).
unsafe impl<T: ?Sized + Send, U: ?Sized + Send, B: WaitQueue> Send
    for OwnedMappedMutexGuard<T, U, B>
where
    Semaphore<B>: Send + Sync,
{
}
// SAFETY: sharing the guard shares `&U` (needs `U: Sync`) and the
// `Arc<Mutex<T>>` (needs `T: Send`); `T: Sync` and `U: Send` follow tokio's
// conservative bounds.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync, B: WaitQueue> Sync
    for OwnedMappedMutexGuard<T, U, B>
where
    Semaphore<B>: Send + Sync,
{
}

impl<T: ?Sized, U: ?Sized, B: WaitQueue> OwnedMappedMutexGuard<T, U, B> {
    /// Returns the mutex this guard locks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
    ///
    /// let mutex = Arc::new(Mutex::new((1, 2)));
    /// let one = OwnedMutexGuard::map(mutex.clone().try_lock_owned().unwrap(), |p| &mut p.0);
    /// assert!(Arc::ptr_eq(OwnedMappedMutexGuard::mutex(&one), &mutex));
    /// ```
    pub fn mutex(this: &Self) -> &Arc<Mutex<T, B>> {
        &this.lock
    }

    /// Narrows the guard further.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
    ///
    /// let mutex = Arc::new(Mutex::new(((1, 2), 3)));
    /// let pair = OwnedMutexGuard::map(mutex.clone().try_lock_owned().unwrap(), |t| &mut t.0);
    /// let two = OwnedMappedMutexGuard::map(pair, |p| &mut p.1);
    /// assert_eq!(*two, 2);
    /// ```
    pub fn map<S: ?Sized, F>(mut this: Self, f: F) -> OwnedMappedMutexGuard<T, S, B>
    where
        F: FnOnce(&mut U) -> &mut S,
    {
        let data = NonNull::from(f(&mut *this));
        OwnedMappedMutexGuard {
            data,
            lock: this.into_arc(),
        }
    }

    /// Narrows the guard further if `f` returns `Some`; otherwise gives the
    /// guard back.
    ///
    /// # Errors
    ///
    /// Returns the original guard if `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
    ///
    /// let mutex = Arc::new(Mutex::new((vec![4], 0)));
    /// let v = OwnedMutexGuard::map(mutex.clone().try_lock_owned().unwrap(), |t| &mut t.0);
    /// let last = OwnedMappedMutexGuard::try_map(v, |v| v.last_mut()).ok().unwrap();
    /// assert_eq!(*last, 4);
    /// ```
    pub fn try_map<S: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedMappedMutexGuard<T, S, B>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut S>,
    {
        let Some(data) = f(&mut *this).map(NonNull::from) else {
            return Err(this);
        };
        Ok(OwnedMappedMutexGuard {
            data,
            lock: this.into_arc(),
        })
    }

    /// Takes the `Arc` out without unlocking: the permit moves with it.
    fn into_arc(self) -> Arc<Mutex<T, B>> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is moved
        // out exactly once.
        unsafe { ptr::read(&this.lock) }
    }
}

impl<T: ?Sized, U: ?Sized, B: WaitQueue> Deref for OwnedMappedMutexGuard<T, U, B> {
    type Target = U;

    fn deref(&self) -> &U {
        // SAFETY: `data` points into the data of the mutex this guard keeps
        // alive and locked.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized, U: ?Sized, B: WaitQueue> DerefMut for OwnedMappedMutexGuard<T, U, B> {
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as in `deref`, and the guard is borrowed mutably.
        unsafe { self.data.as_mut() }
    }
}

impl<T: ?Sized, U: ?Sized, B: WaitQueue> Drop for OwnedMappedMutexGuard<T, U, B> {
    fn drop(&mut self) {
        self.lock.semaphore.release(1);
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug, B: WaitQueue> fmt::Debug
    for OwnedMappedMutexGuard<T, U, B>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Display, B: WaitQueue> fmt::Display
    for OwnedMappedMutexGuard<T, U, B>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
