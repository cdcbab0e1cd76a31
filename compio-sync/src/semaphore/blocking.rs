//! The blocking entry points (`blocking_acquire*`), for plain threads.

use super::{AcquireError, Arc, OwnedSemaphorePermit, Semaphore, SemaphorePermit};
use crate::backend::WaitQueue;

/// Blocking entry points, for plain threads that share the semaphore with
/// tasks: they exist where another thread can release the permits, that is
/// where the semaphore is `Sync` (every thread-safe backend; never a
/// [`local`](crate::local) semaphore, which only its own thread can reach, so
/// blocking on it would never end).
#[cfg(not(loom))]
impl<B: WaitQueue> Semaphore<B>
where
    Self: Sync,
{
    /// Blocks the current thread until a permit is acquired.
    ///
    /// For plain threads that share a semaphore with async tasks.
    ///
    /// # Panics
    ///
    /// Panics if called on a thread that is running a compio runtime: it would
    /// block every task of that runtime. Use [`acquire`](Self::acquire) there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(1));
    /// let s = semaphore.clone();
    /// std::thread::spawn(move || {
    ///     let _permit = s.blocking_acquire().unwrap();
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_acquire(&self) -> Result<SemaphorePermit<'_, B>, AcquireError> {
        self.blocking_acquire_many(1)
    }

    /// Blocks the current thread until `n` permits are acquired.
    ///
    /// # Panics
    ///
    /// As [`blocking_acquire`](Self::blocking_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(2);
    /// let permit = semaphore.blocking_acquire_many(2).unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// ```
    #[track_caller]
    pub fn blocking_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_, B>, AcquireError> {
        let mut acquire = self.acquire_many(n);
        acquire.set_blocking();
        crate::blocking::block_on("Semaphore::blocking_acquire", acquire)
    }

    /// Blocks the current thread until a permit is acquired, returning an
    /// owned permit.
    ///
    /// # Panics
    ///
    /// As [`blocking_acquire`](Self::blocking_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(1));
    /// let permit = std::thread::spawn({
    ///     let semaphore = semaphore.clone();
    ///     move || semaphore.blocking_acquire_owned().unwrap()
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(semaphore.available_permits(), 0);
    /// drop(permit);
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_acquire_owned(
        self: Arc<Self>,
    ) -> Result<OwnedSemaphorePermit<B>, AcquireError> {
        self.blocking_acquire_many_owned(1)
    }

    /// Blocks the current thread until `n` permits are acquired, returning an
    /// owned permit.
    ///
    /// # Panics
    ///
    /// As [`blocking_acquire`](Self::blocking_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(3));
    /// let permit = semaphore.clone().blocking_acquire_many_owned(2).unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit<B>, AcquireError> {
        self.blocking_acquire_many(n)?.forget();
        Ok(OwnedSemaphorePermit::new(self, n as usize))
    }
}
