//! The compio op a completion-path waiter parks as, and the [`Park`] that
//! lets exactly one party complete it.
//!
//! The op starts no I/O: [`ParkOp::operate`] records where its completion
//! must go (the driver's port and the op's `OVERLAPPED`) and returns
//! `Pending`. It completes when someone posts that packet with
//! `PostQueuedCompletionStatus`: the notifier that selected the waiter, or,
//! if the op is cancelled first, compio's call to [`OpCode::cancel`] (compio
//! keeps an overlapped op's memory until its completion arrives, so a
//! cancelled op must still get its packet). [`Park::state`] makes that
//! exactly once.

use std::{
    ffi::c_void,
    io, ptr,
    sync::{
        Arc,
        atomic::{AtomicPtr, AtomicU8, Ordering::*},
    },
    task::Poll,
    thread,
};

use compio_driver::{OpCode, Overlapped};
use windows_sys::Win32::System::IO::OVERLAPPED;

use super::{super::waker_cell::WakerCell, sys};

/// `operate` has not run yet.
const NEW: u8 = 0;
/// In flight on its driver; nobody has posted its completion.
const ARMED: u8 = 1;
/// A notifier claimed the post (under the list lock) and has not finished
/// the call yet.
const CLAIMED: u8 = 2;
/// The notifier posted the completion.
const POSTED: u8 = 3;
/// compio cancelled the op, and the cancel posted (or tried to post) it.
const CANCELLED: u8 = 4;

/// The part of a completion-path wait shared by the waiter, the op inside
/// compio and the notifier: an `Arc`, so that a notifier can finish its post
/// after the waiter's memory may be gone.
pub(super) struct Park {
    /// `NEW`, `ARMED`, `CLAIMED`, `POSTED` or `CANCELLED`; see the constants.
    state: AtomicU8,
    /// The completion port of the driver the op was pushed to. Written once
    /// by `operate` before `state` becomes `ARMED`.
    port: AtomicPtr<c_void>,
    /// The op's `OVERLAPPED`, valid until its completion is dequeued. Written
    /// with `port`.
    optr: AtomicPtr<OVERLAPPED>,
    /// The task's waker, for the one case where the packet cannot be posted:
    /// the notifier then wakes the task directly. Kept current by the owner.
    pub(super) fallback: WakerCell,
}

impl Park {
    pub(super) fn new() -> Self {
        Self {
            state: AtomicU8::new(NEW),
            port: AtomicPtr::new(ptr::null_mut()),
            optr: AtomicPtr::new(ptr::null_mut()),
            fallback: WakerCell::new(),
        }
    }

    /// Whether `operate` ran, so a post has somewhere to go.
    pub(super) fn is_armed(&self) -> bool {
        self.state.load(Acquire) != NEW
    }

    fn arm(&self, port: *mut c_void, optr: *mut OVERLAPPED) {
        self.port.store(port, Relaxed);
        self.optr.store(optr, Relaxed);
        // Release: pairs with the Acquire of `claim` and `cancel`, which then
        // read `port` and `optr`.
        self.state.store(ARMED, Release);
    }

    /// Claims the right to post the completion. Called by a notifier under
    /// the list lock, on the waiter it just marked notified; `false` if
    /// compio cancelled the op first (the owner is then running, and sees
    /// the mark when it next takes the list lock).
    pub(super) fn claim(&self) -> bool {
        // Acquire: pairs with `arm`'s Release (we read `port`/`optr` next).
        self.state
            .compare_exchange(ARMED, CLAIMED, Acquire, Relaxed)
            .is_ok()
    }

    /// Posts the completion after a successful [`claim`](Self::claim), with
    /// no lock held. On failure the claim is given back (`ARMED`), so that
    /// compio's cancel of the op still posts its packet later, and the caller
    /// must wake [`fallback`](Self::fallback).
    pub(super) fn post(&self) -> io::Result<()> {
        debug_assert_eq!(self.state.load(Relaxed), CLAIMED);
        let result = self.post_packet();
        // Release: ends the claim; a `cancel` spinning on `CLAIMED` may now
        // let compio drop the driver (and close the port).
        let next = if result.is_ok() { POSTED } else { ARMED };
        self.state.store(next, Release);
        result
    }

    fn post_packet(&self) -> io::Result<()> {
        let (port, optr) = (self.port.load(Relaxed), self.optr.load(Relaxed));
        // SAFETY: we hold the claim (`CLAIMED`, or `cancel`'s `CANCELLED`), so
        // nobody has posted this op's packet: it is still in flight and
        // compio keeps `optr` valid until the packet is dequeued. The port is
        // open: compio closes it only when its driver is dropped, and the
        // driver outlives this call because the op's `Submit` holds it and
        // dropping the `Submit` runs `cancel`, which waits while `CLAIMED`
        // (or it is `cancel` itself posting, on the driver's thread). A
        // `Submit` dropped after its op completed runs no `cancel`, but then
        // the packet was already queued, and the call looks the port up by
        // handle before it queues the packet.
        // SAFETY: `optr` and the port stay valid for this call (argued above).
        unsafe { sys::post(port, optr) }
    }

    /// compio's cancel of the op: post its packet unless a notifier did (or
    /// is doing so). Runs on the op's runtime thread.
    fn cancel(&self) {
        loop {
            // Acquire: pairs with `arm` (we may read `port`/`optr`) and with
            // `post`'s Release (the notifier is done with the port).
            match self
                .state
                .compare_exchange(ARMED, CANCELLED, Acquire, Acquire)
            {
                Ok(_) => {
                    // If this fails the packet never comes and compio keeps
                    // the op's memory for good: a leak, not a dangling
                    // pointer. Nothing waits for this packet.
                    let _leaks_the_op_on_failure = self.post_packet();
                    return;
                }
                // A notifier is between its claim and the end of its post
                // call (a syscall, no user code): wait for it, so that the
                // port stays open for it.
                Err(CLAIMED) => thread::yield_now(),
                // Posted, already cancelled, or never armed.
                Err(_) => return,
            }
        }
    }
}

/// The op: parks until its [`Park`] posts the completion.
pub(super) struct ParkOp {
    park: Arc<Park>,
}

impl ParkOp {
    pub(super) fn new(park: Arc<Park>) -> Self {
        Self { park }
    }
}

// SAFETY: `op_type` is `Overlapped` (the default): `operate` starts nothing
// and returns `Pending`, and the op completes by exactly one packet posted to
// its own driver's port with its own `OVERLAPPED` (`Park` makes it exactly
// one: a notifier's or the cancel's). compio keeps the op alive until that
// packet is dequeued. `operate` touches nothing after returning.
unsafe impl OpCode for ParkOp {
    type Control = ();

    unsafe fn operate(&mut self, _: &mut (), optr: *mut OVERLAPPED) -> Poll<io::Result<usize>> {
        // SAFETY: compio passes the `OVERLAPPED` at the start of its own
        // `#[repr(C)] Overlapped`, whose `driver` field is the port of the
        // driver the op is pushed to; it is never written after creation.
        let port = unsafe { (*optr.cast::<Overlapped>()).driver };
        if port.is_null() {
            // An `Extra` without a driver: nowhere to post to.
            return Poll::Ready(Err(io::ErrorKind::Unsupported.into()));
        }
        self.park.arm(port, optr);
        Poll::Pending
    }

    fn cancel(&mut self, _: &mut (), _: *mut OVERLAPPED) -> io::Result<()> {
        self.park.cancel();
        Ok(())
    }
}
