//! The owned write guards: [`OwnedRwLockWriteGuard`] and
//! [`OwnedRwLockMappedWriteGuard`]. Each keeps its lock alive through an
//! `Arc` (an `Rc` in the local flavor) and holds every read permit.

use std::{
    fmt,
    mem::ManuallyDrop,
    ops::{Deref, DerefMut},
    ptr::{self, NonNull},
};

use super::{Arc, DefaultBackend, OwnedRwLockReadGuard, RwLock, Semaphore};
use crate::backend::WaitQueue;

/// Owned guard of exclusive write access to a [`RwLock`] in an `Arc`: like
/// [`RwLockWriteGuard`](super::RwLockWriteGuard), but keeps the lock alive
/// and has no lifetime, so it can move into a spawned task.
///
/// Not `#[must_use]`, as in tokio.
pub struct OwnedRwLockWriteGuard<T: ?Sized, B: WaitQueue = DefaultBackend> {
    /// Keeps the lock alive; this guard holds every read permit.
    lock: Arc<RwLock<T, B>>,
}

// SAFETY: as tokio's: the guard gives `&mut T` on the thread it moves to
// (`T: Send`), can downgrade to a shared read guard (`T: Sync`), and can drop
// the last `Arc` there.
unsafe impl<T: ?Sized + Send + Sync, B: WaitQueue> Send for OwnedRwLockWriteGuard<T, B> where
    Semaphore<B>: Send + Sync
{
}
// SAFETY: sharing the guard shares `&T`; tokio's bounds.
unsafe impl<T: ?Sized + Send + Sync, B: WaitQueue> Sync for OwnedRwLockWriteGuard<T, B> where
    Semaphore<B>: Send + Sync
{
}

impl<T: ?Sized, B: WaitQueue> OwnedRwLockWriteGuard<T, B> {
    /// A guard for the write permits the caller has taken.
    pub(super) fn new(lock: Arc<RwLock<T, B>>) -> Self {
        Self { lock }
    }

    /// Takes the `Arc` out without releasing the permits.
    fn into_arc(this: Self) -> Arc<RwLock<T, B>> {
        let this = ManuallyDrop::new(this);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is
        // moved out exactly once.
        unsafe { ptr::read(&this.lock) }
    }

    /// Returns the lock this guard writes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{OwnedRwLockWriteGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let guard = lock.clone().try_write_owned().unwrap();
    /// assert!(Arc::ptr_eq(OwnedRwLockWriteGuard::rwlock(&guard), &lock));
    /// ```
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T, B>> {
        &this.lock
    }

    /// Narrows the guard to a part of the data.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{OwnedRwLockWriteGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new((0, 0)));
    /// let mut second = OwnedRwLockWriteGuard::map(lock.clone().try_write_owned().unwrap(), |p| &mut p.1);
    /// *second = 5;
    /// drop(second);
    /// assert_eq!(*lock.try_read().unwrap(), (0, 5));
    /// ```
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, U, B>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = NonNull::from(f(&mut *this));
        OwnedRwLockMappedWriteGuard::new(Self::into_arc(this), data)
    }

    /// Narrows the guard to a part of the data if `f` returns `Some`;
    /// otherwise gives the guard back.
    ///
    /// # Errors
    ///
    /// Returns the original guard if `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{OwnedRwLockWriteGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new(Some(1)));
    /// let inner = OwnedRwLockWriteGuard::try_map(lock.try_write_owned().unwrap(), Option::as_mut);
    /// assert_eq!(*inner.ok().unwrap(), 1);
    /// ```
    pub fn try_map<U: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, U, B>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(NonNull::from) else {
            return Err(this);
        };
        Ok(OwnedRwLockMappedWriteGuard::new(Self::into_arc(this), data))
    }

    /// Turns the guard into a mapped guard of the whole data.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{OwnedRwLockWriteGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let mapped = OwnedRwLockWriteGuard::into_mapped(lock.try_write_owned().unwrap());
    /// assert_eq!(*mapped, 1);
    /// ```
    pub fn into_mapped(mut this: Self) -> OwnedRwLockMappedWriteGuard<T, T, B> {
        let data = NonNull::from(&mut *this);
        OwnedRwLockMappedWriteGuard::new(Self::into_arc(this), data)
    }

    /// Atomically downgrades to an owned read guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let mut w = lock.clone().try_write_owned().unwrap();
    /// *w = 2;
    /// let r = w.downgrade();
    /// assert_eq!(*r, 2);
    /// assert!(lock.try_write().is_err());
    /// assert!(lock.try_read().is_ok());
    /// ```
    pub fn downgrade(mut self) -> OwnedRwLockReadGuard<T, T, B> {
        let data = NonNull::from(&mut *self);
        let lock = Self::into_arc(self);
        lock.raw.downgrade_write();
        OwnedRwLockReadGuard::new(lock, data)
    }

    /// Atomically downgrades to an owned read guard of a part of the data.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{OwnedRwLockWriteGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new((1, 2)));
    /// let first = OwnedRwLockWriteGuard::downgrade_map(lock.clone().try_write_owned().unwrap(), |p| &p.0);
    /// assert_eq!(*first, 1);
    /// assert!(lock.try_read().is_ok());
    /// ```
    pub fn downgrade_map<U: ?Sized, F>(this: Self, f: F) -> OwnedRwLockReadGuard<T, U, B>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = NonNull::from(f(&*this));
        let lock = Self::into_arc(this);
        lock.raw.downgrade_write();
        OwnedRwLockReadGuard::new(lock, data)
    }

    /// Atomically downgrades to an owned read guard of a part of the data
    /// if `f` returns `Some`; otherwise gives the write guard back.
    ///
    /// # Errors
    ///
    /// Returns the original guard if `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{OwnedRwLockWriteGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new(vec![1]));
    /// let w = lock.try_write_owned().unwrap();
    /// let none = OwnedRwLockWriteGuard::try_downgrade_map(w, |v| v.get(5));
    /// assert!(none.is_err());
    /// ```
    pub fn try_downgrade_map<U: ?Sized, F>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockReadGuard<T, U, B>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let Some(data) = f(&*this).map(NonNull::from) else {
            return Err(this);
        };
        let lock = Self::into_arc(this);
        lock.raw.downgrade_write();
        Ok(OwnedRwLockReadGuard::new(lock, data))
    }
}

impl<T: ?Sized, B: WaitQueue> Deref for OwnedRwLockWriteGuard<T, B> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds every read permit of the lock it keeps
        // alive, so it is the only holder.
        unsafe { &*self.lock.c.get() }
    }
}

impl<T: ?Sized, B: WaitQueue> DerefMut for OwnedRwLockWriteGuard<T, B> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and the guard is borrowed mutably.
        unsafe { &mut *self.lock.c.get() }
    }
}

impl<T: ?Sized, B: WaitQueue> Drop for OwnedRwLockWriteGuard<T, B> {
    fn drop(&mut self) {
        self.lock.raw.write_unlock();
    }
}

impl<T: ?Sized + fmt::Debug, B: WaitQueue> fmt::Debug for OwnedRwLockWriteGuard<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display, B: WaitQueue> fmt::Display for OwnedRwLockWriteGuard<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// An [`OwnedRwLockWriteGuard`] narrowed by [`OwnedRwLockWriteGuard::map`]
/// to a part `U` of the data `T`.
pub struct OwnedRwLockMappedWriteGuard<T: ?Sized, U: ?Sized = T, B: WaitQueue = DefaultBackend> {
    /// Points into the lock's data; valid while the permits are held.
    data: NonNull<U>,
    /// Keeps the lock alive; this guard holds every read permit.
    lock: Arc<RwLock<T, B>>,
}

// SAFETY: as for `OwnedRwLockWriteGuard`, for the `T` it keeps alive and the
// `U` it gives access to; tokio's bounds.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync, B: WaitQueue> Send
    for OwnedRwLockMappedWriteGuard<T, U, B>
where
    Semaphore<B>: Send + Sync,
{
}
// SAFETY: sharing the guard shares `&U` and the `Arc`; tokio's bounds.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync, B: WaitQueue> Sync
    for OwnedRwLockMappedWriteGuard<T, U, B>
where
    Semaphore<B>: Send + Sync,
{
}

impl<T: ?Sized, U: ?Sized, B: WaitQueue> OwnedRwLockMappedWriteGuard<T, U, B> {
    fn new(lock: Arc<RwLock<T, B>>, data: NonNull<U>) -> Self {
        Self { data, lock }
    }

    /// Takes the `Arc` out without releasing the permits.
    fn into_arc(this: Self) -> Arc<RwLock<T, B>> {
        let this = ManuallyDrop::new(this);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is
        // moved out exactly once.
        unsafe { ptr::read(&this.lock) }
    }

    /// Returns the lock this guard writes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new((1, 2)));
    /// let one = OwnedRwLockWriteGuard::map(lock.clone().try_write_owned().unwrap(), |p| &mut p.0);
    /// assert!(Arc::ptr_eq(OwnedRwLockMappedWriteGuard::rwlock(&one), &lock));
    /// ```
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T, B>> {
        &this.lock
    }

    /// Narrows the guard further.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new(((1, 2), 3)));
    /// let pair = OwnedRwLockWriteGuard::map(lock.try_write_owned().unwrap(), |t| &mut t.0);
    /// let two = OwnedRwLockMappedWriteGuard::map(pair, |p| &mut p.1);
    /// assert_eq!(*two, 2);
    /// ```
    pub fn map<V: ?Sized, F>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, V, B>
    where
        F: FnOnce(&mut U) -> &mut V,
    {
        let data = NonNull::from(f(&mut *this));
        OwnedRwLockMappedWriteGuard::new(Self::into_arc(this), data)
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
    /// use compio_sync::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new((vec![4], 0)));
    /// let v = OwnedRwLockWriteGuard::map(lock.try_write_owned().unwrap(), |t| &mut t.0);
    /// let last = OwnedRwLockMappedWriteGuard::try_map(v, |v| v.last_mut()).ok().unwrap();
    /// assert_eq!(*last, 4);
    /// ```
    pub fn try_map<V: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, V, B>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut V>,
    {
        let Some(data) = f(&mut *this).map(NonNull::from) else {
            return Err(this);
        };
        Ok(OwnedRwLockMappedWriteGuard::new(Self::into_arc(this), data))
    }
}

impl<T: ?Sized, U: ?Sized, B: WaitQueue> Deref for OwnedRwLockMappedWriteGuard<T, U, B> {
    type Target = U;

    fn deref(&self) -> &U {
        // SAFETY: the guard holds every read permit of the lock it keeps
        // alive; `data` points into that lock's data.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized, U: ?Sized, B: WaitQueue> DerefMut for OwnedRwLockMappedWriteGuard<T, U, B> {
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as in `deref`, and the guard is borrowed mutably.
        unsafe { self.data.as_mut() }
    }
}

impl<T: ?Sized, U: ?Sized, B: WaitQueue> Drop for OwnedRwLockMappedWriteGuard<T, U, B> {
    fn drop(&mut self) {
        self.lock.raw.write_unlock();
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug, B: WaitQueue> fmt::Debug
    for OwnedRwLockMappedWriteGuard<T, U, B>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Display, B: WaitQueue> fmt::Display
    for OwnedRwLockMappedWriteGuard<T, U, B>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
