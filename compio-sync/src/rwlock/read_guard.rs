//! The read guards: [`RwLockReadGuard`] and [`OwnedRwLockReadGuard`]. Each
//! holds one read permit and a pointer to the (part of the) data it reads.

use std::{
    fmt,
    marker::PhantomData,
    mem::ManuallyDrop,
    ops::Deref,
    ptr::{self, NonNull},
};

use super::{Arc, DefaultBackend, RawRwLock, RwLock, Semaphore};
use crate::backend::WaitQueue;

/// RAII guard of shared read access to a [`RwLock`]: derefs to the data,
/// releases the read access on drop.
///
/// Made by [`RwLock::read`], [`RwLock::try_read`], and by downgrading a
/// write or upgradable guard. [`map`](Self::map) narrows it to a part of the
/// data.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized, B: WaitQueue = DefaultBackend> {
    /// The lock's semaphores: this guard holds one read permit.
    raw: &'a RawRwLock<B>,
    /// Points into the lock's data; valid (for reads) while the permit is
    /// held.
    data: NonNull<T>,
    marker: PhantomData<&'a T>,
}

// SAFETY: the guard is a shared borrow of a `T` (moving it to another thread
// gives that thread `&T`: needs `T: Sync`) and of the lock's semaphores
// (which the holder releases from that thread: needs them `Sync`). As
// tokio's.
unsafe impl<T: ?Sized + Sync, B: WaitQueue> Send for RwLockReadGuard<'_, T, B> where
    Semaphore<B>: Sync
{
}
// SAFETY: sharing the guard shares `&T`; tokio's bound (`T: Send + Sync`).
unsafe impl<T: ?Sized + Send + Sync, B: WaitQueue> Sync for RwLockReadGuard<'_, T, B> where
    Semaphore<B>: Sync
{
}

impl<'a, T: ?Sized, B: WaitQueue> RwLockReadGuard<'a, T, B> {
    /// A guard for a read permit the caller has taken.
    pub(super) fn new(raw: &'a RawRwLock<B>, data: NonNull<T>) -> Self {
        Self {
            raw,
            data,
            marker: PhantomData,
        }
    }

    /// Takes the parts out without releasing the permit.
    fn into_parts(this: Self) -> (&'a RawRwLock<B>, NonNull<T>) {
        let this = ManuallyDrop::new(this);
        (this.raw, this.data)
    }

    /// Narrows the guard to a part of the data. An associated function
    /// (`RwLockReadGuard::map(guard, f)`), so that it does not shadow a
    /// method of `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{RwLock, RwLockReadGuard};
    ///
    /// let lock = RwLock::new((1, 2));
    /// let second = RwLockReadGuard::map(lock.try_read().unwrap(), |p| &p.1);
    /// assert_eq!(*second, 2);
    /// ```
    pub fn map<U: ?Sized, F>(this: Self, f: F) -> RwLockReadGuard<'a, U, B>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = NonNull::from(f(&*this));
        let (raw, _) = Self::into_parts(this);
        RwLockReadGuard::new(raw, data)
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
    /// use compio_sync::{RwLock, RwLockReadGuard};
    ///
    /// let lock = RwLock::new(vec![1, 2]);
    /// let first = RwLockReadGuard::try_map(lock.try_read().unwrap(), |v| v.first());
    /// assert_eq!(*first.ok().unwrap(), 1);
    /// let none = RwLockReadGuard::try_map(lock.try_read().unwrap(), |v| v.get(9));
    /// assert!(none.is_err());
    /// ```
    pub fn try_map<U: ?Sized, F>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U, B>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let Some(data) = f(&*this).map(NonNull::from) else {
            return Err(this);
        };
        let (raw, _) = Self::into_parts(this);
        Ok(RwLockReadGuard::new(raw, data))
    }
}

impl<T: ?Sized, B: WaitQueue> Deref for RwLockReadGuard<'_, T, B> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read permit, so no writer (and no
        // `&mut T`) exists; `data` points into the lock's data.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized, B: WaitQueue> Drop for RwLockReadGuard<'_, T, B> {
    fn drop(&mut self) {
        self.raw.read_unlock();
    }
}

impl<T: ?Sized + fmt::Debug, B: WaitQueue> fmt::Debug for RwLockReadGuard<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display, B: WaitQueue> fmt::Display for RwLockReadGuard<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Owned guard of shared read access to a [`RwLock`] in an `Arc`: like
/// [`RwLockReadGuard`], but keeps the lock alive and has no lifetime. `U` is
/// the part of the data `T` it reads (after [`map`](Self::map)).
///
/// Not `#[must_use]`, as in tokio: `lock.read_owned().await;` is a way to
/// wait until no writer holds the lock.
pub struct OwnedRwLockReadGuard<T: ?Sized, U: ?Sized = T, B: WaitQueue = DefaultBackend> {
    /// Points into the lock's data; valid while the permit is held.
    data: NonNull<U>,
    /// Keeps the lock alive; this guard holds one of its read permits.
    lock: Arc<RwLock<T, B>>,
}

// SAFETY: as tokio's: the guard can drop the last `Arc`, and so the `T`, on
// another thread (needs `T: Send + Sync` for the shared lock), and gives
// `&U` there (needs `U: Sync`).
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync, B: WaitQueue> Send
    for OwnedRwLockReadGuard<T, U, B>
where
    Semaphore<B>: Send + Sync,
{
}
// SAFETY: sharing the guard shares `&U` and the `Arc`; tokio's bounds.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync, B: WaitQueue> Sync
    for OwnedRwLockReadGuard<T, U, B>
where
    Semaphore<B>: Send + Sync,
{
}

impl<T: ?Sized, U: ?Sized, B: WaitQueue> OwnedRwLockReadGuard<T, U, B> {
    /// A guard for a read permit the caller has taken.
    pub(super) fn new(lock: Arc<RwLock<T, B>>, data: NonNull<U>) -> Self {
        Self { data, lock }
    }

    /// Takes the `Arc` out without releasing the permit.
    fn into_arc(this: Self) -> Arc<RwLock<T, B>> {
        let this = ManuallyDrop::new(this);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is
        // moved out exactly once.
        unsafe { ptr::read(&this.lock) }
    }

    /// Returns the lock this guard reads.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{OwnedRwLockReadGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let guard = lock.clone().try_read_owned().unwrap();
    /// assert!(Arc::ptr_eq(OwnedRwLockReadGuard::rwlock(&guard), &lock));
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
    /// use compio_sync::{OwnedRwLockReadGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new((1, 2)));
    /// let first = OwnedRwLockReadGuard::map(lock.try_read_owned().unwrap(), |p| &p.0);
    /// assert_eq!(*first, 1);
    /// ```
    pub fn map<V: ?Sized, F>(this: Self, f: F) -> OwnedRwLockReadGuard<T, V, B>
    where
        F: FnOnce(&U) -> &V,
    {
        let data = NonNull::from(f(&*this));
        OwnedRwLockReadGuard::new(Self::into_arc(this), data)
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
    /// use compio_sync::{OwnedRwLockReadGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new(Some(3)));
    /// let inner = OwnedRwLockReadGuard::try_map(lock.try_read_owned().unwrap(), Option::as_ref);
    /// assert_eq!(*inner.ok().unwrap(), 3);
    /// ```
    pub fn try_map<V: ?Sized, F>(this: Self, f: F) -> Result<OwnedRwLockReadGuard<T, V, B>, Self>
    where
        F: FnOnce(&U) -> Option<&V>,
    {
        let Some(data) = f(&*this).map(NonNull::from) else {
            return Err(this);
        };
        Ok(OwnedRwLockReadGuard::new(Self::into_arc(this), data))
    }
}

impl<T: ?Sized, U: ?Sized, B: WaitQueue> Deref for OwnedRwLockReadGuard<T, U, B> {
    type Target = U;

    fn deref(&self) -> &U {
        // SAFETY: the guard holds a read permit of the lock it keeps alive,
        // so no writer exists; `data` points into that lock's data.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized, U: ?Sized, B: WaitQueue> Drop for OwnedRwLockReadGuard<T, U, B> {
    fn drop(&mut self) {
        self.lock.raw.read_unlock();
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug, B: WaitQueue> fmt::Debug for OwnedRwLockReadGuard<T, U, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Display, B: WaitQueue> fmt::Display
    for OwnedRwLockReadGuard<T, U, B>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
