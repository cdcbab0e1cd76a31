//! The raw `futex(2)` calls on a queue's futex word: the sleep of a thread in
//! `wait_blocking`, and the wake a notifier issues after it selected
//! kernel-parked waiters.
//!
//! Both use *shared* keys (no `FUTEX_PRIVATE_FLAG`), the same kind of key as
//! the io_uring waits of `super::op`: a wake only reaches waits of its own
//! kind (see `IoUringFutex`'s docs, "Private or shared futex").

use std::{io, ptr, sync::atomic::AtomicU32};

/// `futex(2)` operations on a shared key (no `FUTEX_PRIVATE_FLAG`).
const WAIT: libc::c_int = libc::FUTEX_WAIT_BITSET;
const WAKE: libc::c_int = libc::FUTEX_WAKE_BITSET;

/// `futex(word, FUTEX_WAIT_BITSET, expected, NULL, NULL, mask)`: sleeps while
/// `word` holds `expected`, until a wake for one of the bits in `mask`.
pub(super) fn futex_wait(word: &AtomicU32, expected: u32, mask: u32) -> io::Result<()> {
    // SAFETY: `word` is a live, aligned u32 for the duration of the call; the
    // null timeout means "no timeout"; the kernel does not write through any
    // of the pointers.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            WAIT,
            expected,
            ptr::null::<libc::timespec>(),
            ptr::null::<u32>(),
            mask,
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `futex(word, FUTEX_WAKE_BITSET, i32::MAX, NULL, NULL, mask)`: wakes every
/// sleeper holding one of the bits in `mask` (never "just one": a stale
/// io_uring wait on the same bit must not take the wake meant for a live
/// waiter). Returns how many woke.
pub(super) fn futex_wake(word: &AtomicU32, mask: u32) -> io::Result<usize> {
    // SAFETY: `word` is a live, aligned u32 for the duration of the call; a
    // wake only hashes the address and reads none of the pointers.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            WAKE,
            i32::MAX,
            ptr::null::<libc::timespec>(),
            ptr::null::<u32>(),
            mask,
        )
    };
    usize::try_from(ret).map_err(|_| io::Error::last_os_error())
}
