//! The borrowed write guards: [`RwLockWriteGuard`] and
//! [`RwLockMappedWriteGuard`]. Each holds every read permit of the lock and
//! a pointer to the (part of the) data it writes.

use std::{
    fmt,
    marker::PhantomData,
    mem::ManuallyDrop,
    ops::{Deref, DerefMut},
    ptr::NonNull,
};

use super::{DefaultBackend, RawRwLock, RwLockReadGuard, Semaphore};
use crate::backend::WaitQueue;

/// RAII guard of exclusive write access to a [`RwLock`](super::RwLock):
/// derefs (mutably) to the data, releases the lock on drop.
///
/// [`downgrade`](Self::downgrade) turns it into a read guard without letting
/// another writer in; [`map`](Self::map) narrows it to a part of the data.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized, B: WaitQueue = DefaultBackend> {
    /// The lock's semaphores: this guard holds every read permit.
    raw: &'a RawRwLock<B>,
    /// Points into the lock's data; valid while the permits are held.
    data: NonNull<T>,
    marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard is an exclusive borrow of a `T` (like `&mut T`: moving it
// needs `T: Send`); tokio also asks `T: Sync`, since it can downgrade to a
// shareable read guard. The holder releases the semaphores from the other
// thread: they must be `Sync`.
unsafe impl<T: ?Sized + Send + Sync, B: WaitQueue> Send for RwLockWriteGuard<'_, T, B> where
    Semaphore<B>: Sync
{
}
// SAFETY: sharing the guard shares `&T`; tokio's bound.
unsafe impl<T: ?Sized + Send + Sync, B: WaitQueue> Sync for RwLockWriteGuard<'_, T, B> where
    Semaphore<B>: Sync
{
}

impl<'a, T: ?Sized, B: WaitQueue> RwLockWriteGuard<'a, T, B> {
    /// A guard for the write permits the caller has taken.
    pub(super) fn new(raw: &'a RawRwLock<B>, data: NonNull<T>) -> Self {
        Self {
            raw,
            data,
            marker: PhantomData,
        }
    }

    /// Takes the parts out without releasing the permits.
    fn into_parts(this: Self) -> (&'a RawRwLock<B>, NonNull<T>) {
        let this = ManuallyDrop::new(this);
        (this.raw, this.data)
    }

    /// Narrows the guard to a part of the data.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new((0, 0));
    /// let mut second = RwLockWriteGuard::map(lock.try_write().unwrap(), |p| &mut p.1);
    /// *second = 5;
    /// drop(second);
    /// assert_eq!(*lock.try_read().unwrap(), (0, 5));
    /// ```
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U, B>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = NonNull::from(f(&mut *this));
        let (raw, _) = Self::into_parts(this);
        RwLockMappedWriteGuard::new(raw, data)
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
    /// use compio_sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(vec![1]);
    /// let mut first = RwLockWriteGuard::try_map(lock.try_write().unwrap(), |v| v.first_mut())
    ///     .ok()
    ///     .unwrap();
    /// *first = 9;
    /// drop(first);
    /// assert_eq!(*lock.try_read().unwrap(), [9]);
    /// ```
    pub fn try_map<U: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<RwLockMappedWriteGuard<'a, U, B>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(NonNull::from) else {
            return Err(this);
        };
        let (raw, _) = Self::into_parts(this);
        Ok(RwLockMappedWriteGuard::new(raw, data))
    }

    /// Turns the guard into a mapped guard of the whole data (so that code
    /// that takes a [`RwLockMappedWriteGuard`] can take this one too).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(1);
    /// let mut mapped = RwLockWriteGuard::into_mapped(lock.try_write().unwrap());
    /// *mapped = 2;
    /// drop(mapped);
    /// assert_eq!(*lock.try_read().unwrap(), 2);
    /// ```
    pub fn into_mapped(this: Self) -> RwLockMappedWriteGuard<'a, T, B> {
        let (raw, data) = Self::into_parts(this);
        RwLockMappedWriteGuard::new(raw, data)
    }

    /// Atomically downgrades to a read guard: no writer can get in between,
    /// and readers waiting for the lock may now proceed.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::RwLock;
    ///
    /// let lock = RwLock::new(1);
    /// let mut w = lock.try_write().unwrap();
    /// *w = 2;
    /// let r = w.downgrade();
    /// assert_eq!(*r, 2);
    /// assert!(lock.try_read().is_ok());
    /// assert!(lock.try_write().is_err());
    /// ```
    pub fn downgrade(self) -> RwLockReadGuard<'a, T, B> {
        let (raw, data) = Self::into_parts(self);
        raw.downgrade_write();
        RwLockReadGuard::new(raw, data)
    }

    /// Atomically downgrades to a read guard of a part of the data.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new((1, 2));
    /// let mut w = lock.try_write().unwrap();
    /// w.1 = 3;
    /// let second = RwLockWriteGuard::downgrade_map(w, |p| &p.1);
    /// assert_eq!(*second, 3);
    /// assert!(lock.try_read().is_ok());
    /// ```
    pub fn downgrade_map<U: ?Sized, F>(this: Self, f: F) -> RwLockReadGuard<'a, U, B>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = NonNull::from(f(&*this));
        let (raw, _) = Self::into_parts(this);
        raw.downgrade_write();
        RwLockReadGuard::new(raw, data)
    }

    /// Atomically downgrades to a read guard of a part of the data if `f`
    /// returns `Some`; otherwise gives the write guard back.
    ///
    /// # Errors
    ///
    /// Returns the original guard if `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(vec![1]);
    /// let first = RwLockWriteGuard::try_downgrade_map(lock.try_write().unwrap(), |v| v.first());
    /// assert_eq!(*first.ok().unwrap(), 1);
    /// ```
    pub fn try_downgrade_map<U: ?Sized, F>(
        this: Self,
        f: F,
    ) -> Result<RwLockReadGuard<'a, U, B>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let Some(data) = f(&*this).map(NonNull::from) else {
            return Err(this);
        };
        let (raw, _) = Self::into_parts(this);
        raw.downgrade_write();
        Ok(RwLockReadGuard::new(raw, data))
    }
}

impl<T: ?Sized, B: WaitQueue> Deref for RwLockWriteGuard<'_, T, B> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds every read permit, so it is the only
        // holder of the lock; `data` points into the lock's data.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized, B: WaitQueue> DerefMut for RwLockWriteGuard<'_, T, B> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and the guard is borrowed mutably.
        unsafe { self.data.as_mut() }
    }
}

impl<T: ?Sized, B: WaitQueue> Drop for RwLockWriteGuard<'_, T, B> {
    fn drop(&mut self) {
        self.raw.write_unlock();
    }
}

impl<T: ?Sized + fmt::Debug, B: WaitQueue> fmt::Debug for RwLockWriteGuard<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display, B: WaitQueue> fmt::Display for RwLockWriteGuard<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// A [`RwLockWriteGuard`] narrowed by [`RwLockWriteGuard::map`] to a part
/// of the data. (It cannot downgrade: the rest of the data would have to be
/// readable through it.)
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized, B: WaitQueue = DefaultBackend> {
    /// The lock's semaphores: this guard holds every read permit.
    raw: &'a RawRwLock<B>,
    /// Points into the lock's data; valid while the permits are held.
    data: NonNull<T>,
    marker: PhantomData<&'a mut T>,
}

// SAFETY: as for `RwLockWriteGuard`.
unsafe impl<T: ?Sized + Send + Sync, B: WaitQueue> Send for RwLockMappedWriteGuard<'_, T, B> where
    Semaphore<B>: Sync
{
}
// SAFETY: as for `RwLockWriteGuard`.
unsafe impl<T: ?Sized + Send + Sync, B: WaitQueue> Sync for RwLockMappedWriteGuard<'_, T, B> where
    Semaphore<B>: Sync
{
}

impl<'a, T: ?Sized, B: WaitQueue> RwLockMappedWriteGuard<'a, T, B> {
    fn new(raw: &'a RawRwLock<B>, data: NonNull<T>) -> Self {
        Self {
            raw,
            data,
            marker: PhantomData,
        }
    }

    /// Takes the parts out without releasing the permits.
    fn into_parts(this: Self) -> (&'a RawRwLock<B>, NonNull<T>) {
        let this = ManuallyDrop::new(this);
        (this.raw, this.data)
    }

    /// Narrows the guard further.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(((1, 2), 3));
    /// let pair = RwLockWriteGuard::map(lock.try_write().unwrap(), |t| &mut t.0);
    /// let mut two = RwLockMappedWriteGuard::map(pair, |p| &mut p.1);
    /// *two = 20;
    /// drop(two);
    /// assert_eq!(*lock.try_read().unwrap(), ((1, 20), 3));
    /// ```
    pub fn map<U: ?Sized, F>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U, B>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = NonNull::from(f(&mut *this));
        let (raw, _) = Self::into_parts(this);
        RwLockMappedWriteGuard::new(raw, data)
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
    /// use compio_sync::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new((vec![1], 0));
    /// let v = RwLockWriteGuard::map(lock.try_write().unwrap(), |t| &mut t.0);
    /// let first = RwLockMappedWriteGuard::try_map(v, |v| v.first_mut()).ok().unwrap();
    /// assert_eq!(*first, 1);
    /// ```
    pub fn try_map<U: ?Sized, F>(
        mut this: Self,
        f: F,
    ) -> Result<RwLockMappedWriteGuard<'a, U, B>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let Some(data) = f(&mut *this).map(NonNull::from) else {
            return Err(this);
        };
        let (raw, _) = Self::into_parts(this);
        Ok(RwLockMappedWriteGuard::new(raw, data))
    }
}

impl<T: ?Sized, B: WaitQueue> Deref for RwLockMappedWriteGuard<'_, T, B> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds every read permit; `data` points into the
        // lock's data, derived from the guard that held them before.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized, B: WaitQueue> DerefMut for RwLockMappedWriteGuard<'_, T, B> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and the guard is borrowed mutably.
        unsafe { self.data.as_mut() }
    }
}

impl<T: ?Sized, B: WaitQueue> Drop for RwLockMappedWriteGuard<'_, T, B> {
    fn drop(&mut self) {
        self.raw.write_unlock();
    }
}

impl<T: ?Sized + fmt::Debug, B: WaitQueue> fmt::Debug for RwLockMappedWriteGuard<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display, B: WaitQueue> fmt::Display for RwLockMappedWriteGuard<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
