//! Async synchronization primitives for [compio], with tokio's API.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backend;
#[cfg(not(loom))]
mod blocking;
mod condvar;
pub(crate) mod loom;
mod mutex;
mod notify;
mod semaphore;

pub use condvar::Condvar;
pub use mutex::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, TryLockError,
};
pub use notify::{Notified, Notify};
#[cfg(not(loom))]
pub use semaphore::STARVATION_BOUND;
pub use semaphore::{
    Acquire, AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
