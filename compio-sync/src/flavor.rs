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
        atomic::{AtomicUsize, Ordering, fence},
        spin_loop,
    },
};
