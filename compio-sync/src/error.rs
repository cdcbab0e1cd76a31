//! Error types of the primitives, compiled once and shared by both flavors:
//! the primitives' own files are compiled per flavor (see `crate::flavor`),
//! but a `compio_sync::local::Semaphore` fails with the same
//! [`AcquireError`] as a `compio_sync::Semaphore`.

use std::fmt;

/// Error returned by [`Semaphore::acquire`](crate::Semaphore::acquire) when the semaphore is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(pub(crate) ());

/// Error returned by [`Semaphore::try_acquire`](crate::Semaphore::try_acquire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore has been [closed](crate::Semaphore::close).
    Closed,
    /// The semaphore has no permits available (or they are reserved for a
    /// waiter).
    NoPermits,
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

/// Error returned by [`Mutex::try_lock`](crate::Mutex::try_lock) (and the
/// other `try_lock*` methods) when the lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(pub(crate) ());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation would block")
    }
}

impl std::error::Error for TryLockError {}
/// Error returned by [`OnceCell::set`](crate::OnceCell::set), giving the
/// value back.
#[derive(Debug, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell was already initialized.
    AlreadyInitializedError(T),
    /// An initializer (`get_or_init`) was running.
    InitializingError(T),
}

impl<T> SetError<T> {
    /// Whether the cell was already initialized.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = compio_sync::OnceCell::from(1);
    /// assert!(cell.set(2).unwrap_err().is_already_init_err());
    /// ```
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Whether an initializer was running.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cell = compio_sync::OnceCell::new();
    /// let mut init = pin!(cell.get_or_init(std::future::pending));
    /// assert!(futures::poll!(init.as_mut()).is_pending(), "initializing");
    /// assert!(cell.set(2).unwrap_err().is_initializing_err());
    /// # });
    /// ```
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("AlreadyInitializedError"),
            SetError::InitializingError(_) => f.write_str("InitializingError"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for SetError<T> {}

/// Error returned by [`SetOnce::set`](crate::SetOnce::set): the cell already
/// holds a value (or another `set` is writing one). Gives the value back.
#[derive(Debug, PartialEq, Eq)]
pub struct SetOnceError<T>(pub T);

impl<T> fmt::Display for SetOnceError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SetOnceError")
    }
}

impl<T: fmt::Debug> std::error::Error for SetOnceError<T> {}
