//! [`RwLockUpgradableReadGuard`] and [`OwnedRwLockUpgradableReadGuard`]:
//! read access that can become write access with no writer in between
//! (async-lock's API; tokio has none).

use std::{
    fmt,
    marker::PhantomData,
    mem::ManuallyDrop,
    ops::Deref,
    ptr::{self, NonNull},
};

use super::{
    Arc, DefaultBackend, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RawRwLock, RwLock,
    RwLockReadGuard, RwLockWriteGuard, Semaphore,
};
use crate::{backend::WaitQueue, error::TryLockError};

/// RAII guard of upgradable read access to a [`RwLock`](super::RwLock):
/// derefs to the data, releases on drop, and can
/// [`upgrade`](Self::upgrade) to a write guard.
///
/// At most one exists at a time; plain readers may hold the lock alongside
/// it, writers may not. It holds the lock's `upgrade` permit and one read
/// permit; upgrading waits for the other read permits.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockUpgradableReadGuard<'a, T: ?Sized, B: WaitQueue = DefaultBackend> {
    /// The lock's semaphores: this guard holds the `upgrade` permit and one
    /// read permit.
    raw: &'a RawRwLock<B>,
    /// Points into the lock's data; valid (for reads) while the permits are
    /// held.
    data: NonNull<T>,
    marker: PhantomData<&'a T>,
}

// SAFETY: as for `RwLockWriteGuard` (it can upgrade to one, on the thread it
// moved to): `T: Send + Sync`, and the semaphores are released from there.
unsafe impl<T: ?Sized + Send + Sync, B: WaitQueue> Send for RwLockUpgradableReadGuard<'_, T, B> where
    Semaphore<B>: Sync
{
}
// SAFETY: sharing the guard shares `&T`.
unsafe impl<T: ?Sized + Sync, B: WaitQueue> Sync for RwLockUpgradableReadGuard<'_, T, B> where
    Semaphore<B>: Sync
{
}

impl<'a, T: ?Sized, B: WaitQueue> RwLockUpgradableReadGuard<'a, T, B> {
    /// A guard for the permits the caller has taken.
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

    /// Downgrades to a plain read guard, letting another upgradable reader
    /// or a writer queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{RwLock, RwLockUpgradableReadGuard};
    ///
    /// let lock = RwLock::new(1);
    /// let upgradable = lock.try_upgradable_read().unwrap();
    /// assert!(lock.try_upgradable_read().is_err());
    /// let reader = RwLockUpgradableReadGuard::downgrade(upgradable);
    /// assert!(lock.try_upgradable_read().is_ok());
    /// assert_eq!(*reader, 1);
    /// ```
    pub fn downgrade(this: Self) -> RwLockReadGuard<'a, T, B> {
        let (raw, data) = Self::into_parts(this);
        raw.downgrade_upgradable();
        RwLockReadGuard::new(raw, data)
    }

    /// Upgrades to a write guard if no other reader holds the lock now.
    ///
    /// # Errors
    ///
    /// Gives the guard back if other readers hold the lock (or, in strict
    /// FIFO order, if readers wait for it).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{RwLock, RwLockUpgradableReadGuard};
    ///
    /// let lock = RwLock::new(1);
    /// let reader = lock.try_read().unwrap();
    /// let upgradable = lock.try_upgradable_read().unwrap();
    /// let upgradable = RwLockUpgradableReadGuard::try_upgrade(upgradable).unwrap_err();
    /// drop(reader);
    /// let mut writer = RwLockUpgradableReadGuard::try_upgrade(upgradable).unwrap();
    /// *writer = 2;
    /// ```
    pub fn try_upgrade(this: Self) -> Result<RwLockWriteGuard<'a, T, B>, Self> {
        match this.raw.try_upgrade() {
            Ok(()) => {
                let (raw, data) = Self::into_parts(this);
                Ok(RwLockWriteGuard::new(raw, data))
            }
            Err(TryLockError(())) => Err(this),
        }
    }

    /// Upgrades to a write guard, waiting for the other readers to leave.
    /// No writer can take the lock in between, and readers that arrive
    /// while it waits queue behind it.
    ///
    /// # Cancel safety
    ///
    /// The future owns the guard. Dropping it before it completes gives back
    /// the read permits it had collected and then drops the guard, which
    /// releases the upgradable read: the lock ends up exactly as if the
    /// guard had been dropped instead of upgraded, with no permit lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{RwLock, RwLockUpgradableReadGuard};
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let lock = Arc::new(RwLock::new(0));
    /// let upgradable = lock.upgradable_read().await;
    /// if *upgradable == 0 {
    ///     let mut writer = RwLockUpgradableReadGuard::upgrade(upgradable).await;
    ///     *writer = 1;
    /// }
    /// assert_eq!(*lock.read().await, 1);
    /// # });
    /// ```
    pub async fn upgrade(this: Self) -> RwLockWriteGuard<'a, T, B> {
        // `this` lives in the future until the upgrade completes: if the
        // future is dropped first, its drop releases the upgradable read.
        this.raw.upgrade().await;
        let (raw, data) = Self::into_parts(this);
        RwLockWriteGuard::new(raw, data)
    }
}

impl<T: ?Sized, B: WaitQueue> Deref for RwLockUpgradableReadGuard<'_, T, B> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read permit, so no writer exists; `data`
        // points into the lock's data.
        unsafe { self.data.as_ref() }
    }
}

impl<T: ?Sized, B: WaitQueue> Drop for RwLockUpgradableReadGuard<'_, T, B> {
    fn drop(&mut self) {
        self.raw.upgradable_unlock();
    }
}

impl<T: ?Sized + fmt::Debug, B: WaitQueue> fmt::Debug for RwLockUpgradableReadGuard<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display, B: WaitQueue> fmt::Display for RwLockUpgradableReadGuard<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Owned guard of upgradable read access to a [`RwLock`] in an `Arc`: like
/// [`RwLockUpgradableReadGuard`], but keeps the lock alive and has no
/// lifetime, so it can move into a spawned task.
pub struct OwnedRwLockUpgradableReadGuard<T: ?Sized, B: WaitQueue = DefaultBackend> {
    /// Keeps the lock alive; this guard holds its `upgrade` permit and one
    /// read permit.
    lock: Arc<RwLock<T, B>>,
}

// SAFETY: as for `OwnedRwLockWriteGuard` (it can upgrade to one on the
// thread it moved to, and drop the last `Arc` there).
unsafe impl<T: ?Sized + Send + Sync, B: WaitQueue> Send for OwnedRwLockUpgradableReadGuard<T, B> where
    Semaphore<B>: Send + Sync
{
}
// SAFETY: sharing the guard shares `&T` and the `Arc`.
unsafe impl<T: ?Sized + Send + Sync, B: WaitQueue> Sync for OwnedRwLockUpgradableReadGuard<T, B> where
    Semaphore<B>: Send + Sync
{
}

impl<T: ?Sized, B: WaitQueue> OwnedRwLockUpgradableReadGuard<T, B> {
    /// A guard for the permits the caller has taken.
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

    /// Returns the lock this guard reads.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{OwnedRwLockUpgradableReadGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let guard = lock.clone().try_upgradable_read_owned().unwrap();
    /// assert!(Arc::ptr_eq(OwnedRwLockUpgradableReadGuard::rwlock(&guard), &lock));
    /// ```
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T, B>> {
        &this.lock
    }

    /// Downgrades to a plain owned read guard, letting another upgradable
    /// reader or a writer queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{OwnedRwLockUpgradableReadGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let upgradable = lock.clone().try_upgradable_read_owned().unwrap();
    /// let reader = OwnedRwLockUpgradableReadGuard::downgrade(upgradable);
    /// assert!(lock.try_upgradable_read().is_ok());
    /// assert_eq!(*reader, 1);
    /// ```
    pub fn downgrade(this: Self) -> OwnedRwLockReadGuard<T, T, B> {
        let lock = Self::into_arc(this);
        lock.raw.downgrade_upgradable();
        let data = lock.data();
        OwnedRwLockReadGuard::new(lock, data)
    }

    /// Upgrades to an owned write guard if no other reader holds the lock
    /// now.
    ///
    /// # Errors
    ///
    /// Gives the guard back if other readers hold the lock (or, in strict
    /// FIFO order, if readers wait for it).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{OwnedRwLockUpgradableReadGuard, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let upgradable = lock.clone().try_upgradable_read_owned().unwrap();
    /// let mut writer = OwnedRwLockUpgradableReadGuard::try_upgrade(upgradable).unwrap();
    /// *writer = 2;
    /// ```
    pub fn try_upgrade(this: Self) -> Result<OwnedRwLockWriteGuard<T, B>, Self> {
        match this.lock.raw.try_upgrade() {
            Ok(()) => Ok(OwnedRwLockWriteGuard::new(Self::into_arc(this))),
            Err(TryLockError(())) => Err(this),
        }
    }

    /// Upgrades to an owned write guard, waiting for the other readers to
    /// leave; no writer can take the lock in between.
    ///
    /// # Cancel safety
    ///
    /// As [`RwLockUpgradableReadGuard::upgrade`]: the future owns the guard,
    /// and dropping it releases the upgradable read with no permit lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{OwnedRwLockUpgradableReadGuard, RwLock};
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let lock = Arc::new(RwLock::new(0));
    /// let upgradable = lock.clone().upgradable_read_owned().await;
    /// compio::runtime::spawn(async move {
    ///     *OwnedRwLockUpgradableReadGuard::upgrade(upgradable).await = 1;
    /// })
    /// .await
    /// .unwrap();
    /// assert_eq!(*lock.read().await, 1);
    /// # });
    /// ```
    pub async fn upgrade(this: Self) -> OwnedRwLockWriteGuard<T, B> {
        this.lock.raw.upgrade().await;
        OwnedRwLockWriteGuard::new(Self::into_arc(this))
    }
}

impl<T: ?Sized, B: WaitQueue> Deref for OwnedRwLockUpgradableReadGuard<T, B> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read permit of the lock it keeps alive,
        // so no writer exists.
        unsafe { &*self.lock.c.get() }
    }
}

impl<T: ?Sized, B: WaitQueue> Drop for OwnedRwLockUpgradableReadGuard<T, B> {
    fn drop(&mut self) {
        self.lock.raw.upgradable_unlock();
    }
}

impl<T: ?Sized + fmt::Debug, B: WaitQueue> fmt::Debug for OwnedRwLockUpgradableReadGuard<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display, B: WaitQueue> fmt::Display for OwnedRwLockUpgradableReadGuard<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
