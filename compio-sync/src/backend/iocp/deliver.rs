//! The notify side of [`Iocp`]: what the list hooks do. Under the list lock,
//! each selected waiter is noted the way it sleeps ([`Wakes::selected`]:
//! its park claimed, or the address wake flagged); with the lock released,
//! [`Iocp::deliver`] posts the claimed packets and wakes the blocking
//! threads. Waker-path waiters are woken by the list itself.

use std::{
    any::Any,
    mem,
    panic::{AssertUnwindSafe, catch_unwind, resume_unwind},
    sync::Arc,
};

use super::{Iocp, IocpWaiter, VIA_ADDRESS, VIA_COMPLETION, op::Park, probe, sys};
use crate::loom::atomic::Ordering::*;

/// What a notify must do after the list lock is released.
#[derive(Default)]
pub(super) struct Wakes {
    /// The first claimed park of a selected completion-path waiter, to post
    /// (kept apart so that `notify_one` does not allocate).
    park: Option<Arc<Park>>,
    /// The others (`notify_all`, `notify_while`).
    more_parks: Vec<Arc<Park>>,
    /// A selected waiter sleeps in `WaitOnAddress`.
    address: bool,
    /// The first panic of a fallback waker, resumed once the notify is done.
    panic: Option<Box<dyn Any + Send>>,
}

impl Wakes {
    /// Under the list lock, on a waiter a notify selected (before it is
    /// marked): notes how to wake it once the lock is released.
    pub(super) fn selected(&mut self, waiter: &IocpWaiter) {
        match waiter.path.load(Relaxed) {
            VIA_COMPLETION => {
                // The claim fails only if compio cancelled the op first; the
                // owner is then running and sees the mark under this lock.
                let park = waiter.park.lock().clone();
                if let Some(park) = park.filter(|park| park.claim()) {
                    match self.park {
                        None => self.park = Some(park),
                        Some(_) => self.more_parks.push(park),
                    }
                }
            }
            VIA_ADDRESS => self.address = true,
            // The list wakes the waker.
            _ => {}
        }
    }

    /// Ends the notify: resumes the first panic a fallback waker raised.
    pub(super) fn finish(mut self) {
        let panic = self.panic.take();
        drop(self);
        if let Some(payload) = panic {
            resume_unwind(payload);
        }
    }
}

impl Drop for Wakes {
    fn drop(&mut self) {
        // Reached with a panic kept only if the notify itself unwinds (a
        // list waker's panic): dropping a payload is user code and could
        // panic again while unwinding, so it is leaked.
        if let Some(payload) = self.panic.take() {
            mem::forget(payload);
        }
    }
}

impl Iocp {
    /// With the list lock released: posts the claimed packets and wakes the
    /// blocking threads. Runs no user code until every claim is ended (a
    /// cancel may be waiting on one), then wakes the fallback wakers of the
    /// posts that failed, keeping the first panic for [`Wakes::finish`].
    pub(super) fn deliver(&self, wakes: &mut Wakes) {
        if mem::take(&mut wakes.address) {
            // Release: the marks stored before this bump are visible to a
            // thread whose Acquire snapshot reads it (`wait_address_blocking`).
            self.word.fetch_add(1, Release);
            if let Some(address_wait) = sys::address_wait() {
                address_wait.wake_all(&self.word);
            }
        }
        let mut failed = Vec::new();
        let parks = wakes
            .park
            .take()
            .into_iter()
            .chain(wakes.more_parks.drain(..));
        for park in parks {
            if let Err(error) = park.post() {
                probe::record_error(&error);
                failed.push(park);
            }
        }
        for park in failed {
            let Some(waker) = park.fallback.take() else {
                continue;
            };
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake())) {
                // Only the first panic is resumed; dropping a payload is
                // user code too, so later ones are leaked.
                if wakes.panic.is_none() {
                    wakes.panic = Some(payload);
                } else {
                    mem::forget(payload);
                }
            }
        }
    }
}
