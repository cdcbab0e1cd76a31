//! The io_uring `FUTEX_WAIT` op as compio's driver runs it: the op type
//! ([`FutexWaitOp`]), arming it on the current runtime ([`submit_wait`]),
//! and what each completion means ([`classify`]).
//!
//! The op is driven by polling compio's `Submit` future from inside
//! `poll_wait`, on the waiter's own task: no helper task is spawned, so there
//! is no `JoinHandle` whose drop could cancel a wait behind our back.

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::{Arc, atomic::AtomicU32},
    task::{Context, Poll},
};

use compio_driver::{IourOpCode, OpEntry};
use compio_runtime::{Runtime, Submit};
use io_uring::opcode::FutexWait;

use super::{super::thread_bound::ThreadBound, probe};

/// futex2 size flag (`linux/futex.h`): the futex word is 32 bits wide.
/// Without it the kernel rejects the op (`EINVAL`).
const FUTEX2_SIZE_U32: u32 = 0x02;

/// io_uring futex flags: a 32-bit word, shared key (no `FUTEX2_PRIVATE`; see
/// the `IoUringFutex` docs for why).
const URING_FUTEX_FLAGS: u32 = FUTEX2_SIZE_U32;

/// An armed wait, kept in its waiter until it completes or is reaped.
pub(super) type InFlight = ThreadBound<Submit<FutexWaitOp>>;

/// The io_uring `FUTEX_WAIT` op: sleep while the word holds `expected`, until
/// a wake for one of the bits in `mask`.
pub(super) struct FutexWaitOp {
    /// Keeps the word alive for as long as compio keeps the op, which is
    /// until the kernel has finished with it.
    word: Arc<AtomicU32>,
    expected: u32,
    mask: u32,
}

// SAFETY: the entry points at the word inside `self.word`, an `Arc` the op
// owns; compio keeps the op (and so the `Arc`) alive until the op's completion
// has been reaped or the ring is closed, so the address stays valid for the
// entry's whole life in the kernel. The entry carries no other pointers.
unsafe impl IourOpCode for FutexWaitOp {
    type Control = ();

    fn create_entry(&mut self, _: &mut ()) -> OpEntry {
        FutexWait::new(
            self.word.as_ptr().cast_const(),
            u64::from(self.expected),
            u64::from(self.mask),
            URING_FUTEX_FLAGS,
        )
        .build()
        .into()
    }

    fn create_entry_fallback(&mut self, _: &mut ()) -> OpEntry {
        // compio only asks when its own probe says FUTEX_WAIT is unsupported;
        // ours said it was. Complete immediately with `Unsupported` (below)
        // rather than block a pool thread.
        OpEntry::Blocking
    }

    fn call_blocking(&mut self, _: &mut ()) -> io::Result<usize> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

// SAFETY: `pre_submit` never returns `Decision::Wait` or `Decision::Aio`, so
// the `op_type` agreement the trait asks for is vacuous.
#[cfg(feature = "polling")]
unsafe impl compio_driver::PollOpCode for FutexWaitOp {
    type Control = ();

    fn pre_submit(&mut self, _: &mut ()) -> io::Result<compio_driver::Decision> {
        // Never submitted to a polling driver (the probe checks the driver
        // type); if it is, fail so the wait falls back.
        Err(io::ErrorKind::Unsupported.into())
    }

    fn operate(&mut self, _: &mut ()) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::ErrorKind::Unsupported.into()))
    }
}

/// What arming a `FUTEX_WAIT` gave.
pub(super) enum Armed {
    /// In flight: to be stored in the waiter's op slot.
    InFlight(InFlight),
    /// It completed on its first poll (io_uring never does this): re-check.
    Completed,
    /// Continue on the waker path.
    Fallback,
}

/// Submits a `FUTEX_WAIT` on `word` that expects `expected` and sleeps on the
/// bits of `mask`, and polls it once, which pushes it to the ring and gives
/// it `cx`'s waker. Polling clones the waker (user code): call it with no
/// lock held. If that clone panics, the `Submit` is dropped while
/// unwinding, which cancels the op.
pub(super) fn submit_wait(
    word: &Arc<AtomicU32>,
    expected: u32,
    mask: u32,
    cx: &mut Context<'_>,
) -> Armed {
    let op = FutexWaitOp {
        word: Arc::clone(word),
        expected,
        mask,
    };
    let Ok(mut submit) = Runtime::try_with_current(|rt| rt.submit(op)) else {
        return Armed::Fallback;
    };
    match Pin::new(&mut submit).poll(cx) {
        Poll::Pending => Armed::InFlight(ThreadBound::new(submit)),
        Poll::Ready(out) => match classify(out.0) {
            Completion::Retry => Armed::Completed,
            Completion::Fallback => Armed::Fallback,
        },
    }
}

/// What a finished `FUTEX_WAIT` means for its waiter. The notification
/// itself is never here: it is the waiter's list state, which the waiter
/// re-checks after every completion.
pub(super) enum Completion {
    /// Woken, or the word moved, or interrupted: re-check and wait again.
    Retry,
    /// Continue this wait on the waker path.
    Fallback,
}

/// Classifies a `FUTEX_WAIT` result. An unexpected error is never swallowed:
/// it is recorded (and turns the io_uring path off, see `probe`), and the
/// wait continues on the waker path.
pub(super) fn classify(result: io::Result<usize>) -> Completion {
    let error = match result {
        // Woken by a FUTEX_WAKE: for us, or for another holder of our bit.
        Ok(_) => return Completion::Retry,
        Err(error) => error,
    };
    match error.raw_os_error() {
        // The word no longer held the snapshot when the kernel armed the
        // wait; interrupted.
        Some(libc::EAGAIN | libc::EINTR) => Completion::Retry,
        // Someone cancelled the op (compio's cancel tokens, ring teardown).
        // Not an error of the path; finish this wait through the waker.
        Some(libc::ECANCELED) => Completion::Fallback,
        other => {
            // Unexpected (EINVAL, EFAULT, ENOSYS, EOPNOTSUPP, or the driver
            // rejecting the op): record it and turn the path off.
            probe::record_error(other);
            Completion::Fallback
        }
    }
}

/// Ends an in-flight op taken out of its waiter: a completed op has its
/// result classified (an unexpected error is recorded, not dropped); a
/// pending one is dropped, which makes compio submit an `AsyncCancel` for it.
/// On another thread than the op's, it is handed back untouched to its own
/// thread, which drops it later (`ThreadBound`).
pub(super) fn reap(mut op: InFlight, cx: Option<&mut Context<'_>>) {
    if let Some(submit) = op.get_mut() {
        let mut noop = Context::from_waker(std::task::Waker::noop());
        let cx = cx.unwrap_or(&mut noop);
        if let Poll::Ready(out) = Pin::new(submit).poll(cx) {
            let _retry_or_fallback_does_not_matter_now = classify(out.0);
        }
    }
    drop(op);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::IoUringFutex;

    fn os(errno: i32) -> io::Result<usize> {
        Err(io::Error::from_raw_os_error(errno))
    }

    /// Every FUTEX_WAIT outcome has an explicit meaning; only the unexpected
    /// ones turn the io_uring path off, and the first one is kept.
    #[test]
    fn completions_are_classified_and_unexpected_errors_recorded() {
        let _path = probe::TEST_PATH_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        assert!(matches!(classify(Ok(0)), Completion::Retry));
        assert!(matches!(classify(os(libc::EAGAIN)), Completion::Retry));
        assert!(matches!(classify(os(libc::EINTR)), Completion::Retry));
        assert!(matches!(
            classify(os(libc::ECANCELED)),
            Completion::Fallback
        ));
        assert!(
            IoUringFutex::io_uring_error().is_none(),
            "ECANCELED is not an error"
        );
        assert!(matches!(classify(os(libc::EINVAL)), Completion::Fallback));
        assert!(matches!(classify(os(libc::EFAULT)), Completion::Fallback));
        let recorded = IoUringFutex::io_uring_error().expect("EINVAL recorded");
        assert_eq!(recorded.raw_os_error(), Some(libc::EINVAL));
        assert!(
            !IoUringFutex::io_uring_supported(),
            "the path is off after an error"
        );
        assert!(!probe::io_uring_here());
        // The other unit tests run in this process: turn the path back on.
        probe::clear_error();
        assert!(IoUringFutex::io_uring_error().is_none());
    }
}
