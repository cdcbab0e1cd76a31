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

/// Error returned by [`Mutex::try_lock`](crate::Mutex::try_lock) and
/// [`RwLock::try_read`](crate::RwLock::try_read) and its siblings when the
/// lock is held: tokio's `TryLockError`. Shared by both flavors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(pub(crate) ());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation would block")
    }
}

impl std::error::Error for TryLockError {}
