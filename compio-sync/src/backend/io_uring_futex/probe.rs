//! Whether this process may use the io_uring path: the one-time kernel probe
//! (forced negative by [`IoUringFutex::DISABLE_ENV`]), the first unexpected
//! `FUTEX_WAIT` error, which turns the path off for good, and the check a
//! registration makes that it runs on a compio io_uring runtime.
//!
//! None of it panics: an old kernel, a polling driver, tokio or a plain
//! thread make a wait take the waker path (or `futex(2)` when blocking).

use std::{
    io,
    sync::{
        OnceLock,
        atomic::{AtomicI32, Ordering::Relaxed},
    },
};

use compio_driver::DriverType;
use compio_runtime::Runtime;

use super::IoUringFutex;

/// The value recorded in [`ERROR`] for an error without an errno.
const NOT_AN_OS_ERROR: i32 = -1;

/// The first unexpected `FUTEX_WAIT` error (an errno, or `NOT_AN_OS_ERROR`);
/// 0 while none happened. Non-zero turns the io_uring path off. Relaxed is
/// enough: it only steers later registrations, and a wait in flight that
/// has not seen it yet still finishes on its own (it re-checks its state
/// under the list lock whichever path it takes).
static ERROR: AtomicI32 = AtomicI32::new(0);

/// Whether the kernel supports the io_uring futex opcodes, the override is
/// not set, and no unexpected op error turned the path off.
pub(super) fn supported() -> bool {
    ERROR.load(Relaxed) == 0 && kernel_supports()
}

/// The error that turned the path off, if any.
pub(super) fn error() -> Option<io::Error> {
    match ERROR.load(Relaxed) {
        0 => None,
        NOT_AN_OS_ERROR => Some(io::ErrorKind::Unsupported.into()),
        errno => Some(io::Error::from_raw_os_error(errno)),
    }
}

/// Records an unexpected op error (`None`: the error had no errno) and so
/// turns the io_uring path off; the first one is kept.
pub(super) fn record_error(errno: Option<i32>) {
    let _first_error_wins =
        ERROR.compare_exchange(0, errno.unwrap_or(NOT_AN_OS_ERROR), Relaxed, Relaxed);
}

/// Whether a registration on this thread, now, takes the io_uring path.
pub(super) fn io_uring_here() -> bool {
    supported()
        && Runtime::try_with_current(|rt| rt.driver_type() == DriverType::IoUring).unwrap_or(false)
}

/// The one-time probe: does the kernel support `IORING_OP_FUTEX_WAIT` and
/// `IORING_OP_FUTEX_WAKE` (Linux 6.7+), and is the override unset?
fn kernel_supports() -> bool {
    static PROBE: OnceLock<bool> = OnceLock::new();
    *PROBE.get_or_init(|| {
        if std::env::var_os(IoUringFutex::DISABLE_ENV).is_some_and(|v| v == "1") {
            return false;
        }
        let mut probe = io_uring::Probe::new();
        let registered =
            io_uring::IoUring::new(2).and_then(|ring| ring.submitter().register_probe(&mut probe));
        registered.is_ok()
            && probe.is_supported(io_uring::opcode::FutexWait::CODE)
            && probe.is_supported(io_uring::opcode::FutexWake::CODE)
    })
}

/// Held by unit tests that need the io_uring path on (or turn it off): the
/// error flag is process-wide.
#[cfg(test)]
pub(super) static TEST_PATH_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Turns the io_uring path back on after a unit test recorded an error.
#[cfg(test)]
pub(super) fn clear_error() {
    ERROR.store(0, Relaxed);
}
