//! The permits an acquire returns: [`SemaphorePermit`] (borrowed) and
//! [`OwnedSemaphorePermit`] (keeps an `Arc` of the semaphore; an `Rc` in the
//! local flavor).

use std::fmt;

use super::{
    Semaphore,
    flavor::{Arc, DefaultBackend},
};
use crate::backend::WaitQueue;

/// Permits borrowed from a [`Semaphore`]; dropping it returns them.
#[must_use = "dropping the permit returns it to the semaphore at once"]
pub struct SemaphorePermit<'a, B: WaitQueue = DefaultBackend> {
    sem: &'a Semaphore<B>,
    permits: usize,
}

/// Owned permits from an `Arc<Semaphore>`; dropping it returns them.
#[must_use = "dropping the permit returns it to the semaphore at once"]
pub struct OwnedSemaphorePermit<B: WaitQueue = DefaultBackend> {
    sem: Arc<Semaphore<B>>,
    permits: usize,
}

impl<'a, B: WaitQueue> SemaphorePermit<'a, B> {
    /// `permits` permits of `sem`, already taken from it.
    pub(super) fn new(sem: &'a Semaphore<B>, permits: usize) -> Self {
        Self { sem, permits }
    }

    /// Forgets the permits without returning them: the semaphore has that
    /// many fewer permits from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(2);
    /// semaphore.try_acquire().unwrap().forget();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Returns how many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(3);
    /// assert_eq!(semaphore.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Returns the semaphore the permits belong to.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(1);
    /// let permit = semaphore.try_acquire().unwrap();
    /// assert!(std::ptr::eq(permit.semaphore(), &semaphore));
    /// ```
    pub fn semaphore(&self) -> &'a Semaphore<B> {
        self.sem
    }

    /// Moves the permits of `other` into `self`.
    ///
    /// # Panics
    ///
    /// Panics if the permits come from different semaphores.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(3);
    /// let mut a = semaphore.try_acquire().unwrap();
    /// a.merge(semaphore.try_acquire_many(2).unwrap());
    /// assert_eq!(a.num_permits(), 3);
    /// ```
    #[track_caller]
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "merging permits from different semaphore instances"
        );
        self.permits = self
            .permits
            .checked_add(other.permits)
            .expect("merged permit count overflows usize");
        other.permits = 0;
    }

    /// Splits `n` permits off into a new permit. Returns `None` if this holds
    /// fewer than `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = compio_sync::Semaphore::new(3);
    /// let mut a = semaphore.try_acquire_many(3).unwrap();
    /// let b = a.split(1).unwrap();
    /// assert_eq!((a.num_permits(), b.num_permits()), (2, 1));
    /// assert!(a.split(5).is_none());
    /// ```
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(Self {
            sem: self.sem,
            permits: n,
        })
    }
}

impl<B: WaitQueue> OwnedSemaphorePermit<B> {
    /// `permits` permits of `sem`, already taken from it.
    pub(super) fn new(sem: Arc<Semaphore<B>>, permits: usize) -> Self {
        Self { sem, permits }
    }

    /// Forgets the permits without returning them.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(1));
    /// semaphore.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(semaphore.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Returns how many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(2));
    /// assert_eq!(semaphore.try_acquire_many_owned(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Returns the semaphore the permits belong to.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(1));
    /// let permit = semaphore.clone().try_acquire_owned().unwrap();
    /// assert!(Arc::ptr_eq(permit.semaphore(), &semaphore));
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore<B>> {
        &self.sem
    }

    /// Moves the permits of `other` into `self`.
    ///
    /// # Panics
    ///
    /// Panics if the permits come from different semaphores.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(2));
    /// let mut a = semaphore.clone().try_acquire_owned().unwrap();
    /// a.merge(semaphore.clone().try_acquire_owned().unwrap());
    /// assert_eq!(a.num_permits(), 2);
    /// ```
    #[track_caller]
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
            "merging permits from different semaphore instances"
        );
        self.permits = self
            .permits
            .checked_add(other.permits)
            .expect("merged permit count overflows usize");
        other.permits = 0;
    }

    /// Splits `n` permits off into a new owned permit. Returns `None` if this
    /// holds fewer than `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let semaphore = Arc::new(compio_sync::Semaphore::new(2));
    /// let mut a = semaphore.clone().try_acquire_many_owned(2).unwrap();
    /// let b = a.split(1).unwrap();
    /// assert_eq!((a.num_permits(), b.num_permits()), (1, 1));
    /// ```
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(Self {
            sem: self.sem.clone(),
            permits: n,
        })
    }
}

impl<B: WaitQueue> Drop for SemaphorePermit<'_, B> {
    #[inline]
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl<B: WaitQueue> Drop for OwnedSemaphorePermit<B> {
    #[inline]
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl<B: WaitQueue> fmt::Debug for SemaphorePermit<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

impl<B: WaitQueue> fmt::Debug for OwnedSemaphorePermit<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}
