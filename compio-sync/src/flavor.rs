//! The thread-safe flavor: the names the primitives' source is written
//! against.
//!
//! `src/semaphore/`, `src/notify/` and every other primitive take their counters, fences, shared
//! pointer and default backend from `super::flavor`, never from `std` or
//! `crate::loom` directly. They are compiled twice: here, under the crate
//! root, with the real atomics; and under [`crate::local`], whose own
//! `flavor` module gives the same names to plain cells. One source, two
//! flavors, as `synchrony`'s `sync` and `unsync` modules.

pub(crate) use std::sync::Arc;

pub(crate) use crate::{
    backend::DefaultBackend,
    loom::{
        UnsafeCell,
        atomic::{AtomicUsize, Ordering, fence},
        spin_loop,
    },
};

/// A short-held lock around plain data (a channel's message queue):
/// `parking_lot::Mutex` (loom's stand-in under loom). Never held across user
/// code: no waker and no `Drop` of a user value runs under it.
pub(crate) use crate::loom::ParkingMutex as Lock;
