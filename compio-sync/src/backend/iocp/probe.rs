//! Whether this process may use the completion path: the one-time probe
//! (a packet posted to a fresh port comes back; forced negative by
//! [`Iocp::DISABLE_ENV`]), the first posting or completion error, which
//! turns the path off for good, and the check a registration makes that it
//! runs on a compio IOCP runtime.
//!
//! None of it panics: a missing runtime, tokio, a plain thread or a failed
//! post make a wait take the waker path (or `WaitOnAddress` when blocking).

use std::{
    io,
    sync::{
        OnceLock,
        atomic::{AtomicI32, Ordering::Relaxed},
    },
};

use compio_driver::DriverType;
use compio_runtime::Runtime;

use super::{Iocp, sys};

/// The value recorded in [`ERROR`] for an error without a code.
const NOT_AN_OS_ERROR: i32 = -1;

/// The first posting or completion error (a Win32 code, or
/// `NOT_AN_OS_ERROR`); 0 while none happened. Non-zero turns the completion
/// path off. Relaxed is enough: it only steers later registrations, and a
/// wait in flight that has not seen it yet still finishes on its own (the
/// notifier falls back to its waker, or it re-checks under the list lock).
static ERROR: AtomicI32 = AtomicI32::new(0);

/// Whether the probe passed and no error turned the path off.
pub(super) fn supported() -> bool {
    ERROR.load(Relaxed) == 0 && packets_work()
}

/// The error that turned the path off, if any.
pub(super) fn error() -> Option<io::Error> {
    match ERROR.load(Relaxed) {
        0 => None,
        NOT_AN_OS_ERROR => Some(io::ErrorKind::Unsupported.into()),
        code => Some(io::Error::from_raw_os_error(code)),
    }
}

/// Records a posting or completion error and so turns the completion path
/// off; the first one is kept.
pub(super) fn record_error(error: &io::Error) {
    let code = match error.raw_os_error() {
        Some(0) | None => NOT_AN_OS_ERROR,
        Some(code) => code,
    };
    let _first_error_wins = ERROR.compare_exchange(0, code, Relaxed, Relaxed);
}

/// Whether a registration on this thread, now, takes the completion path.
pub(super) fn completion_here() -> bool {
    supported()
        && Runtime::try_with_current(|rt| rt.driver_type() == DriverType::IOCP).unwrap_or(false)
}

/// The one-time probe: do completion packets work in this process, and is
/// the override unset?
fn packets_work() -> bool {
    static PROBE: OnceLock<bool> = OnceLock::new();
    *PROBE.get_or_init(|| {
        if std::env::var_os(Iocp::DISABLE_ENV).is_some_and(|v| v == "1") {
            return false;
        }
        sys::packets_round_trip()
    })
}
