//! A [`SegQueue`](super::SegQueue) registration: its `Handle`, shared by the
//! waiter and the queue, and the waiter that owns one (see the module docs of
//! `super` for the states).

use std::ptr;

use super::super::{Woken, retired::Retired, waker_cell::WakerCell};
use crate::loom::{
    Arc,
    atomic::{AtomicPtr, AtomicU8, AtomicUsize, Ordering::*},
};

/// The per-wait state of a [`SegQueue`](super::SegQueue) waiter: the handle of its current
/// registration, if any.
pub struct SegQueueWaiter {
    /// Null while idle; otherwise one strong reference to the handle, made by
    /// `Arc::into_raw` and owned by this field. Every access moves it out with
    /// a `swap`, so even a misused waiter cannot alias or double-free it.
    pub(super) handle: AtomicPtr<Handle>,
    /// The waker `cancel` or a `Ready` took out of the last handle, dropped
    /// by the next registration or with the waiter (see `backend::retired`).
    pub(super) retired: Retired,
}

/// One registration. The last reference to a handle is dropped by its owner
/// or by a consumer; in both cases after the owner took its waker out of
/// `waker` (on `Ready` and on `cancel`, which it does before dropping its own
/// reference). So dropping a handle runs no user code, and consumers may drop
/// popped handles under the consumer lock.
pub(super) struct Handle {
    /// `WAITING`, `SELECTING`, `NOTIFIED` or `CANCELLED` (see the module
    /// docs). Only a consumer holding the consumer lock moves it to
    /// `SELECTING` or `NOTIFIED`; only the owner moves it to `CANCELLED`.
    pub(super) state: AtomicU8,
    /// The waiter's tag. Set at registration; written (lowered) only by the
    /// consumer that holds the `SELECTING` claim, before it ends the claim
    /// with a Release store; read by the owner after an Acquire read of
    /// `NOTIFIED` or a successful `WAITING -> CANCELLED`.
    pub(super) tag: AtomicUsize,
    /// The value handed over. Written only by consumers, under the consumer
    /// lock, before the Release that marks the handle `NOTIFIED`; read by the
    /// owner after its Acquire read of `NOTIFIED`.
    pub(super) wakeup: AtomicUsize,
    /// Registered into only by the owner; taken by the notifier that marked
    /// the handle `NOTIFIED` and by the owner when it is done.
    pub(super) waker: WakerCell,
    /// `SegQueue::epoch` at registration.
    pub(super) epoch: u64,
}

pub(super) const WAITING: u8 = 0;
pub(super) const SELECTING: u8 = 1;
pub(super) const NOTIFIED: u8 = 2;
pub(super) const CANCELLED: u8 = 3;

impl Handle {
    /// What the notifier handed over. The caller observed `NOTIFIED` with
    /// an Acquire load (or exchange), which orders these reads after the
    /// notifier's writes.
    pub(super) fn woken(&self) -> Woken {
        Woken {
            wakeup: self.wakeup.load(Relaxed),
            tag: self.tag.load(Relaxed),
        }
    }
}

/// Ends a `SELECTING` claim by putting the handle back to `WAITING` if the
/// selector unwinds (it must not, contract point 5, but a cancel waiting
/// for the claim would otherwise spin forever). Forgotten on the normal path.
pub(super) struct ClaimGuard<'a>(pub(super) &'a Handle);

impl Drop for ClaimGuard<'_> {
    fn drop(&mut self) {
        // Release: pairs with a canceller's Acquire exchange, as on the
        // normal `Keep` path. The tag is untouched (the selector's copy is
        // lost), so the owner reads the tag as the claim found it.
        self.0.state.store(WAITING, Release);
    }
}

impl SegQueueWaiter {
    /// Moves the handle out of the waiter, if it has one.
    pub(super) fn take(&self) -> Option<Arc<Handle>> {
        // AcqRel: the waiter may be polled from a different thread each time;
        // this pairs the handle's hand-over with the `put` that stored it.
        let ptr = self.handle.swap(ptr::null_mut(), AcqRel);
        // SAFETY: a non-null pointer in `handle` is a strong reference made by
        // `Arc::into_raw` and owned by the field; the swap moved it to us.
        (!ptr.is_null()).then(|| unsafe { Arc::from_raw(ptr) })
    }

    /// Stores `handle` in an idle waiter.
    pub(super) fn put(&self, handle: Arc<Handle>) {
        // AcqRel: see `take`.
        let old = self.handle.swap(Arc::into_raw(handle).cast_mut(), AcqRel);
        assert!(old.is_null(), "SegQueue waiter registered twice");
    }
}

impl std::fmt::Debug for SegQueueWaiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegQueueWaiter")
            .field("registered", &!self.handle.load(Relaxed).is_null())
            .finish()
    }
}

impl Drop for SegQueueWaiter {
    fn drop(&mut self) {
        let handle = self.take();
        // Not while unwinding: a second panic would abort and hide the first.
        // (Debug builds only, as the assertion.)
        if cfg!(debug_assertions) && !std::thread::panicking() {
            debug_assert!(handle.is_none(), "SegQueueWaiter dropped while registered");
        }
        // Release builds: drop our reference; the queue keeps its own.
        drop(handle);
    }
}
