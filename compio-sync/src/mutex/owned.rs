//! The owned guards: [`OwnedMutexGuard`] and [`OwnedMappedMutexGuard`],
//! which keep the mutex alive through an `Arc` (an `Rc` in the local flavor).

use std::{
    fmt,
    mem::ManuallyDrop,
    ops::{Deref, DerefMut},
    ptr::{self, NonNull},
};

use super::{Arc, DefaultBackend, Mutex, Semaphore};
use crate::backend::WaitQueue;

/// Owned guard of a locked [`Mutex`] in an `Arc`: like [`MutexGuard`](super::MutexGuard), but
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
    /// Wraps the permit the caller has just taken (and forgotten).
    pub(super) fn new(lock: Arc<Mutex<T, B>>) -> Self {
        Self { lock }
    }

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
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized, B: WaitQueue> DerefMut for OwnedMutexGuard<T, B> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit and is borrowed
        // mutably (see `MutexGuard`).
        unsafe { &mut *self.lock.data.get() }
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
