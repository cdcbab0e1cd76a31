//! The Win32 calls of [`Iocp`](super::Iocp), each wrapped once: posting a
//! completion packet, `WaitOnAddress`/`WakeByAddressAll` (looked up at run
//! time), and the packet round trip of the probe (`probe.rs`).

use std::{
    ffi::c_void,
    io, mem,
    ptr::{self, NonNull},
    sync::{OnceLock, atomic::AtomicU32},
};

use windows_sys::{
    Win32::{
        Foundation::{CloseHandle, ERROR_TIMEOUT, GetLastError, HANDLE, INVALID_HANDLE_VALUE},
        System::{
            IO::{
                CreateIoCompletionPort, GetQueuedCompletionStatus, OVERLAPPED,
                PostQueuedCompletionStatus,
            },
            LibraryLoader::{GetModuleHandleW, GetProcAddress},
            Threading::INFINITE,
        },
    },
    core::BOOL,
};

/// `WaitOnAddress` (Windows 8+, `api-ms-win-core-synch-l1-2-0`).
type WaitOnAddressFn = unsafe extern "system" fn(*const c_void, *const c_void, usize, u32) -> BOOL;
/// `WakeByAddressAll` (same API set).
type WakeByAddressAllFn = unsafe extern "system" fn(*const c_void);

/// The address-wait functions, if this Windows (or Wine) has them.
#[derive(Clone, Copy)]
pub(super) struct AddressWait {
    wait: WaitOnAddressFn,
    wake_all: WakeByAddressAllFn,
}

/// Looks the address-wait functions up once. They are resolved at run time,
/// not linked, so that a system without them still loads this crate and its
/// blocking threads fall back to parking (the `WaitQueue` default).
pub(super) fn address_wait() -> Option<AddressWait> {
    static FNS: OnceLock<Option<AddressWait>> = OnceLock::new();
    *FNS.get_or_init(|| {
        // The API set name first (what the SDK links against), then the DLL
        // that implements it on Windows 8+ and on Wine.
        ["api-ms-win-core-synch-l1-2-0.dll", "kernelbase.dll"]
            .into_iter()
            .find_map(|dll| {
                let wait = lookup(dll, c"WaitOnAddress")?;
                let wake_all = lookup(dll, c"WakeByAddressAll")?;
                // SAFETY: both symbols are documented with exactly these
                // signatures (synchapi.h), and a function pointer returned
                // by `GetProcAddress` has the same size as any other.
                unsafe {
                    Some(AddressWait {
                        wait: mem::transmute::<NonNull<c_void>, WaitOnAddressFn>(wait),
                        wake_all: mem::transmute::<NonNull<c_void>, WakeByAddressAllFn>(wake_all),
                    })
                }
            })
    })
}

/// `GetProcAddress(GetModuleHandleW(dll), name)`, for a module this process
/// has already loaded (both candidates above always are when they exist).
fn lookup(dll: &str, name: &std::ffi::CStr) -> Option<NonNull<c_void>> {
    let wide: Vec<u16> = dll.encode_utf16().chain([0]).collect();
    // SAFETY: `wide` is a NUL-terminated UTF-16 string that outlives the
    // call; `GetModuleHandleW` does not take a reference on the module.
    let module = unsafe { GetModuleHandleW(wide.as_ptr()) };
    if module.is_null() {
        return None;
    }
    // SAFETY: `module` is a loaded module (it stays loaded: the system DLLs
    // above are never unloaded) and `name` is NUL-terminated.
    let proc = unsafe { GetProcAddress(module, name.as_ptr().cast()) }?;
    NonNull::new(proc as *mut c_void)
}

impl AddressWait {
    /// Sleeps while `word` holds `expected`: returns after a wake for the
    /// word, a change of it, or spuriously. `Err` only if the call failed.
    pub(super) fn wait(self, word: &AtomicU32, expected: u32) -> io::Result<()> {
        // SAFETY: both pointers are to live, aligned 4-byte values for the
        // whole call (`expected` is on our stack), and the size says 4.
        let ok = unsafe {
            (self.wait)(
                word.as_ptr().cast_const().cast(),
                ptr::from_ref(&expected).cast(),
                mem::size_of::<u32>(),
                INFINITE,
            )
        };
        if ok != 0 {
            return Ok(());
        }
        // SAFETY: no preconditions; reads this thread's last-error value.
        match unsafe { GetLastError() } {
            // Cannot happen with INFINITE; treated as a spurious return.
            ERROR_TIMEOUT => Ok(()),
            code => Err(io::Error::from_raw_os_error(code as i32)),
        }
    }

    /// Wakes every thread in [`wait`](Self::wait) on `word`.
    pub(super) fn wake_all(self, word: &AtomicU32) {
        // SAFETY: the address is only used as a key: the call neither reads
        // nor writes it.
        unsafe { (self.wake_all)(word.as_ptr().cast_const().cast()) }
    }
}

/// Queues a completion packet for `optr` on `port`: the driver that reads the
/// port completes the operation `optr` belongs to, with 0 bytes and success.
///
/// # Safety
///
/// `port` is an open completion port handle for the whole call, and `optr`
/// is the `OVERLAPPED` of an operation pushed to that port's driver that has
/// not completed (this packet completes it, exactly once).
pub(super) unsafe fn post(port: HANDLE, optr: *mut OVERLAPPED) -> io::Result<()> {
    // SAFETY: guaranteed by the caller; the call only stores the pointer in
    // the packet, it does not dereference it.
    if unsafe { PostQueuedCompletionStatus(port, 0, 0, optr) } != 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether completion packets work here: a packet posted to a fresh port
/// comes back from it, with our `OVERLAPPED` pointer. Run once, by the
/// probe; never blocks (the dequeue has a zero timeout).
pub(super) fn packets_round_trip() -> bool {
    // SAFETY: creating a port that is not associated with any file.
    let port = unsafe { CreateIoCompletionPort(INVALID_HANDLE_VALUE, ptr::null_mut(), 0, 1) };
    if port.is_null() {
        return false;
    }
    // Never dereferenced by anyone: the packet only carries its address.
    let mut marker: OVERLAPPED = zeroed_overlapped();
    let sent: *mut OVERLAPPED = &mut marker;
    // SAFETY: `port` is open; `sent` is only carried, and we dequeue the
    // packet below before `marker` goes out of scope.
    let posted = unsafe { post(port, sent) }.is_ok();
    let mut bytes = 0u32;
    let mut key = 0usize;
    let mut got: *mut OVERLAPPED = ptr::null_mut();
    // SAFETY: `port` is open and every out-pointer is a live local.
    let dequeued = posted
        && unsafe { GetQueuedCompletionStatus(port, &mut bytes, &mut key, &mut got, 0) } != 0;
    // SAFETY: `port` is ours and closed once. A packet that was posted but
    // not dequeued is discarded with the port, unread.
    unsafe { CloseHandle(port) };
    dequeued && got == sent && bytes == 0 && key == 0
}

fn zeroed_overlapped() -> OVERLAPPED {
    // SAFETY: `OVERLAPPED` is plain old data (integers, a union of integers
    // and a pointer, a handle); all zeros is its documented initial value.
    unsafe { mem::zeroed() }
}
