//! The borrowed guards: [`MutexGuard`] and [`MappedMutexGuard`].

use std::{
    fmt,
    marker::PhantomData,
    ops::{Deref, DerefMut},
    ptr::NonNull,
};

use super::{DefaultBackend, Mutex, Semaphore};
use crate::backend::WaitQueue;

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
    /// Wraps the permit the caller has just taken (and forgotten).
    pub(super) fn new(lock: &'a Mutex<T, B>) -> Self {
        Self { lock }
    }

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
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized, B: WaitQueue> DerefMut for MutexGuard<'_, T, B> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit and we have the
        // guard mutably, so this is the only reference to the data.
        unsafe { &mut *self.lock.data.get() }
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
