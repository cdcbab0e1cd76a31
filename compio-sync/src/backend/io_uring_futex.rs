//! [`IoUringFutex`] (Linux): waiters park on a kernel futex word, through
//! io_uring on a compio runtime and through `futex(2)` on a blocking thread.
//!
//! The design, which path a wait takes when, the private/shared futex answer
//! and the measured cost are documented on [`IoUringFutex`], so that they
//! render with the type (this module is private).

use std::{
    cell::Cell,
    io,
    mem::ManuallyDrop,
    pin::Pin,
    ptr,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicI32, AtomicU32},
    },
    task::{Context, Poll, Waker},
    thread::{self, ThreadId},
};

use compio_driver::{DriverType, IourOpCode, OpEntry};
use compio_runtime::{Runtime, Submit};
use io_uring::opcode::FutexWait;

use super::{
    WaitQueue,
    list::{self, End, IDLE, Linked, NOTIFIED, Node, WAITING},
};
use crate::loom::{
    Mutex,
    atomic::{AtomicU8, Ordering::*},
    lock,
};

/// futex2 size flag (`linux/futex.h`): the futex word is 32 bits wide.
const FUTEX2_SIZE_U32: u32 = 0x02;

/// io_uring futex flags: a 32-bit word, shared key (no `FUTEX2_PRIVATE`; see
/// the `IoUringFutex` docs for why).
const URING_FUTEX_FLAGS: u32 = FUTEX2_SIZE_U32;

/// `futex(2)` operations on the same shared key (no `FUTEX_PRIVATE_FLAG`).
const SYSCALL_WAIT: libc::c_int = libc::FUTEX_WAIT_BITSET;
const SYSCALL_WAKE: libc::c_int = libc::FUTEX_WAKE_BITSET;

/// [`WaitPath`] encodings for `FutexWaiter::path`.
const VIA_WAKER: u8 = 0;
const VIA_IO_URING: u8 = 1;
const VIA_SYSCALL: u8 = 2;

/// How a registered [`FutexWaiter`] sleeps and is woken (see [`IoUringFutex`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitPath {
    /// Woken through its task's [`Waker`] (the userspace fallback).
    Waker,
    /// Parked in an io_uring `FUTEX_WAIT` op on its compio runtime.
    IoUring,
    /// A thread blocked in `futex(2)` ([`WaitQueue::wait_blocking`]).
    Syscall,
}

/// A FIFO wait queue whose waiters park on one kernel futex word: through
/// io_uring on a compio io_uring runtime, through `futex(2)` on a blocking
/// thread, and through their [`Waker`] everywhere else (Linux only, feature
/// `io-uring-futex`).
///
/// # Design
///
/// **Selection is userspace, the futex is the transport.** Waiters are linked
/// in a FIFO list (the same intrusive list as [`Intrusive`](super::Intrusive),
/// nodes pinned inside the waiting futures) and a notifier picks a waiter and
/// marks it notified under the list lock. That is what makes `notify_one`
/// exact: it returns `true` only after it has marked a specific waiting waiter,
/// and that waiter's next `poll_wait` returns `Ready` (or its `cancel` returns
/// `true`) whatever the kernel does. The kernel futex only carries the
/// *wake-up*: a woken waiter always re-reads its own state before believing
/// anything, so a spurious futex wake costs a re-arm, never a lost or a
/// duplicated notification.
///
/// **One 32-bit futex word per queue, used as an event count.** Every waiter
/// parked in the kernel waits on the same word. `register` snapshots it before
/// the caller re-checks its condition and arms the first io_uring wait with
/// that snapshot (so a notify wakes the waker given to `register` even if the
/// owner never polls; if the caller's re-check succeeds, its `cancel` drops
/// the op again); a wait re-snapshots it after every wake-up *before*
/// re-checking its own state. A notifier that selected a
/// kernel-parked waiter bumps the word after marking the waiter and then wakes
/// the word, so a wait armed with a stale snapshot fails with `EAGAIN`
/// instead of sleeping through the notification (the classic futex
/// event-count handshake). To keep a `notify_one` from waking every sleeper,
/// each kernel-parked waiter gets one of the 32 bits of the futex *bitset*
/// (`FUTEX_WAIT_BITSET`-style mask) and a notify wakes only the bits of the
/// waiters it selected. With at most 32 kernel-parked waiters per queue no
/// two share a bit; beyond that a wake also rouses the other holders of the
/// bit, which re-arm.
///
/// **Stale kernel waits cannot eat a wake.** A cancelled waiter is unlinked
/// first, so it is never selected; its io_uring wait may stay armed in the
/// kernel until compio's `AsyncCancel` reaches it. Every wake is issued with
/// `nr = i32::MAX` (all sleepers with the selected bits), so such a stale
/// entry can at worst be woken alongside the selected waiter, never instead
/// of it.
///
/// **Cancel after wake.** [`cancel`](WaitQueue::cancel) is exact: it returns
/// `true` iff a notifier had marked the waiter and the owner had not yet
/// observed it, and the caller then passes the notification on (this is the
/// trait's mechanism for every backend). Whether the kernel had already
/// delivered the futex wake is irrelevant, because the mark, not the wake, is
/// the notification.
///
/// # Which path a wait takes
///
/// The path is chosen per wait, when the waiter registers:
///
/// | where `register` runs | path ([`WaitPath`]) | how it sleeps, how it is woken |
/// |---|---|---|
/// | a compio runtime whose driver is io_uring, and the one-time probe found `IORING_OP_FUTEX_WAIT`/`FUTEX_WAKE` (Linux 6.7+) | [`WaitPath::IoUring`] | a `FUTEX_WAIT` op submitted through `compio_runtime::Runtime::submit` (by `register`, then again by `poll_wait` after each wake-up), awaited by polling the `Submit` future inside `poll_wait`; woken by `futex(FUTEX_WAKE_BITSET)` |
/// | anywhere else: tokio, `futures::executor`, a plain thread, compio's polling driver, an older kernel, the probe forced negative | [`WaitPath::Waker`] | the task's [`Waker`], exactly as in [`Intrusive`](super::Intrusive) |
/// | a thread blocked in [`wait_blocking`](WaitQueue::wait_blocking) | [`WaitPath::Syscall`] | `futex(FUTEX_WAIT_BITSET)` on the same word as the io_uring waiters |
///
/// All three kinds can wait on one queue at once; the notifier wakes each
/// selected waiter the way it sleeps. Nothing here panics for lack of a
/// runtime or of kernel support: the probe decides. Setting the environment
/// variable `COMPIO_SYNC_FUTEX_DISABLE=1` before the first wait of the process
/// forces the probe negative (the variable is read once, when the probe runs);
/// it exists to test the fallback.
///
/// **Errors.** A `FUTEX_WAIT` completion is classified explicitly: success
/// (woken, possibly for another holder of the bit), `EAGAIN` (the word moved
/// before the wait was armed) and `EINTR` lead to a re-check and a new wait;
/// `ECANCELED` (the runtime cancelled the op) moves that one wait to the
/// waker path; any other error moves the wait to the waker path *and* turns
/// the io_uring path off for the rest of the process, recording the error
/// for [`io_uring_error`](Self::io_uring_error). No wait is lost either way, because
/// the switch happens under the list lock and is followed by a re-check.
/// A failing `futex(FUTEX_WAKE)` would leave a selected waiter asleep, and it
/// can only fail on invalid arguments (never seen), so it panics with a
/// message rather than lose the wake silently. A
/// blocking waiter whose `futex(FUTEX_WAIT)` fails unexpectedly falls back to
/// parking its thread.
///
/// # Private or shared futex
///
/// The waker and the waiter must use the same kind of key: a `PRIVATE` wake
/// never wakes a `SHARED` wait and the reverse (checked for every pair of
/// io_uring `FUTEX_WAIT`, `futex(FUTEX_WAIT_BITSET)` and futex2 `futex_wait`
/// against `futex(FUTEX_WAKE_BITSET)`, futex2 `futex_wake` and io_uring
/// `FUTEX_WAKE` in `tests/io_uring_futex.rs`: every same-kind pair wakes,
/// every mixed pair does not). This backend uses **shared** keys everywhere
/// (io_uring flags `FUTEX2_SIZE_U32` without `FUTEX2_PRIVATE`; `futex(2)`
/// without `FUTEX_PRIVATE_FLAG`). Private keys would hash into the per-process
/// futex hash that Linux 6.16+ installs when a process creates its second
/// thread, and that switch does not move waits already queued: an io_uring
/// `PRIVATE` wait armed while the process was still single-threaded stays in
/// the global hash, and every later `PRIVATE` wake misses it (reproduced on
/// this machine's 6.18 kernel by `tests/io_uring_futex_single_thread.rs`). A
/// compio program that waits on its only thread and spawns a thread later
/// (compio's own blocking pool does) would hang. Shared keys always use the
/// global hash. They cost about 0.15-0.35 µs more per futex operation than
/// private keys (measured below: 0.6-1.4 µs per round trip of two waits and
/// two wakes).
///
/// # Cost, and when to choose this backend
///
/// One round trip is: A notifies B and waits, B wakes and notifies A, A
/// wakes (flag + `notify_one`, register/fence/re-check/wait, as the
/// primitives do). Measured with `cargo run --release -p compio-sync
/// --example futex_roundtrip` on this project's machines (2 vCPUs, Linux
/// 6.18, other jobs running: load average about 2.5); medians of 5
/// interleaved runs, in µs:
///
/// | round trip | mean | p50 | p99 |
/// |---|---|---|---|
/// | one runtime, [`Intrusive`](super::Intrusive) | 0.47 | 0.40 | 0.55 |
/// | one runtime, `IoUringFutex`, io_uring path | 5.24 | 4.95 | 7.60 |
/// | one runtime, bare io_uring `FUTEX_WAIT` op, shared key | 4.97 | 4.71 | 7.24 |
/// | one runtime, bare io_uring `FUTEX_WAIT` op, private key | 4.31 | 4.03 | 5.76 |
/// | one runtime, `IoUringFutex`, waker path (probe forced negative) | 0.48 | 0.42 | 0.51 |
/// | two runtimes (two threads), `Intrusive` | 8.17 | 7.36 | 22.09 |
/// | two runtimes (two threads), `IoUringFutex`, io_uring path | 8.68 | 8.86 | 20.18 |
/// | two runtimes (two threads), `IoUringFutex`, waker path | 8.01 | 7.43 | 18.16 |
/// | two plain threads, `Intrusive` with a thread-parking waker | 5.60 | 5.06 | 8.68 |
/// | two plain threads, `IoUringFutex::wait_blocking` (futex(2)) | 5.99 | 5.33 | 9.87 |
///
/// Six runs (load average 1.9 to 4.6) gave the same picture: on one runtime
/// the io_uring path costs 5.2-7.6 µs per round trip against 0.47-0.65 µs for
/// `Intrusive` (about 11 times); the backend adds 0.2-0.6 µs to a bare op;
/// shared keys cost 0.6-1.4 µs more than private ones; across threads the
/// backends are within noise of each other (8-28 µs per round trip, set by
/// how busy the machine is). Under `strace -c` a round trip on the io_uring
/// path makes exactly 2 `futex` wakes and about 3.2 `io_uring_enter`s: the
/// syscalls are the cost, and this VM's syscalls are expensive.
///
/// **Choose it** when plain threads and compio tasks contend on the same
/// primitive and the threads should sleep in the kernel on the same word as
/// the tasks ([`wait_blocking`](WaitQueue::wait_blocking)), or when every parked task
/// should be an io_uring completion (no cross-thread waker traffic through
/// compio's bounded wake queue: a notifier on another thread only makes a
/// `futex(2)` call). **Do not choose it for speed**: on one runtime each wait
/// pays an op submission, a `futex(2)` wake and a completion, about ten
/// times a waker; across threads it gains nothing measurable. Outside a
/// compio io_uring runtime it behaves like [`Intrusive`](super::Intrusive)
/// (the waker-path rows).
///
/// # Fairness
///
/// `notify_one` is strict FIFO (registration order) and `notify_last` is LIFO,
/// whatever the kernel's own futex wake order, because selection happens in
/// the list. Both fairness policies are supported.
pub struct IoUringFutex {
    list: Mutex<List>,
    /// The futex word: an event count bumped by every notify that selects a
    /// kernel-parked waiter. Created by the first kernel-path registration;
    /// each in-flight io_uring op holds a reference, so the kernel never
    /// waits on a freed or recycled address even after this queue is gone.
    word: OnceLock<Arc<AtomicU32>>,
}

/// The per-wait node of an [`IoUringFutex`]; one lives in each waiting future.
pub struct FutexWaiter {
    /// State, links, epoch and waker (see `list::Node`). The waker is `None`
    /// on the kernel paths.
    node: Node<Self>,
    /// `VIA_*`: how a notifier must wake this waiter. Written by the owner
    /// under the list lock, read by notifiers under the lock and by the owner
    /// at any time.
    path: AtomicU8,
    /// The futex bit (a single set bit) of a kernel-path waiter. Same access
    /// rule as `path`.
    mask: AtomicU32,
    /// The futex word value the next kernel wait expects. Owner only.
    snapshot: AtomicU32,
    /// The in-flight io_uring wait, if any. Owner only (the lock only makes
    /// concurrent misuse of the owner methods sound).
    op: Mutex<OpSlot>,
}

struct OpSlot {
    inflight: Option<ThreadBound<Submit<FutexWaitOp>>>,
}

/// The waiter list, with the futex bits of its kernel-path waiters.
type List = list::List<FutexWaiter, Bits>;

/// Which futex bits the linked kernel-path waiters hold. Guarded by the list
/// lock (it is the list's `extra`).
struct Bits {
    /// Per futex bit: how many linked kernel-path waiters hold it.
    users: [u32; 32],
    /// Bit `i` is set iff `users[i] > 0`.
    busy: u32,
    /// Next bit to share once all 32 are busy.
    rotor: u32,
}

// SAFETY: `node` returns the `node` field, the same one on every call.
unsafe impl Linked for FutexWaiter {
    fn node(&self) -> &Node<Self> {
        &self.node
    }
}

// SAFETY: `node`'s cells are only accessed under the lock of the one queue the
// waiter is registered with (the `WaitQueue` caller contract); `op` is a mutex
// over `Send` data; everything else is atomic.
unsafe impl Send for FutexWaiter {}
// SAFETY: as for `Send`.
unsafe impl Sync for FutexWaiter {}

impl Bits {
    const fn new() -> Self {
        Self {
            users: [0; 32],
            busy: 0,
            rotor: 0,
        }
    }

    /// Picks the futex bit for a new kernel-path waiter: a bit no linked
    /// kernel-path waiter holds, if there is one.
    fn take(&mut self) -> u32 {
        let free = !self.busy;
        let index = if free != 0 {
            free.trailing_zeros()
        } else {
            self.rotor = (self.rotor + 1) % 32;
            self.rotor
        };
        self.users[index as usize] += 1;
        self.busy |= 1 << index;
        1 << index
    }

    fn release(&mut self, mask: u32) {
        let index = mask.trailing_zeros() as usize;
        self.users[index] -= 1;
        if self.users[index] == 0 {
            self.busy &= !mask;
        }
    }

    /// Releases the bit of `waiter`, which is leaving the list, and returns
    /// it: how a notifier wakes the waiter if it is kernel-parked, 0 on the
    /// waker path (which holds no bit).
    fn leave(&mut self, waiter: &FutexWaiter) -> u32 {
        if waiter.path.load(Relaxed) == VIA_WAKER {
            return 0;
        }
        let mask = waiter.mask.load(Relaxed);
        self.release(mask);
        mask
    }
}

impl IoUringFutex {
    /// The environment variable that forces the io_uring probe negative when
    /// it is `1`. It is read once per process, when the first wait probes, so
    /// set it before the process starts waiting. For testing the fallback.
    pub const DISABLE_ENV: &str = "COMPIO_SYNC_FUTEX_DISABLE";

    /// Whether this process can use the io_uring path at all: the kernel
    /// supports `IORING_OP_FUTEX_WAIT` and `IORING_OP_FUTEX_WAKE`,
    /// [`DISABLE_ENV`](Self::DISABLE_ENV) was not `1` at the first probe, and no unexpected op
    /// error has turned the path off ([`io_uring_error`](Self::io_uring_error)).
    /// A wait takes the path only if it also registers on a compio runtime
    /// whose driver is io_uring.
    pub fn io_uring_supported() -> bool {
        IO_URING_ERROR.load(Relaxed) == 0 && probe()
    }

    /// The error that turned the io_uring path off for this process, if an
    /// io_uring `FUTEX_WAIT` ever failed in a way the backend does not
    /// expect. Waits in flight at that moment moved to the waker path.
    pub fn io_uring_error() -> Option<io::Error> {
        match IO_URING_ERROR.load(Relaxed) {
            0 => None,
            NOT_AN_OS_ERROR => Some(io::ErrorKind::Unsupported.into()),
            errno => Some(io::Error::from_raw_os_error(errno)),
        }
    }

    /// Blocks the calling thread until `waiter` is notified, sleeping in
    /// `futex(2)` on the queue's futex word. The waiter is idle on return.
    ///
    /// This is the blocking counterpart of [`WaitQueue::poll_wait`], for
    /// `blocking_*` entry points: register, `fence(SeqCst)`, re-check the
    /// condition, then call this instead of polling. It returns only once the
    /// waiter is notified; there is no timeout. If `futex(2)` fails in a way
    /// it should not, the thread parks on a waker instead, so it still wakes.
    ///
    /// # Safety
    ///
    /// As for [`WaitQueue::poll_wait`]: `waiter` was registered with this
    /// queue and has not yet been observed `Ready` or cancelled.
    unsafe fn wait_futex_blocking(&self, waiter: Pin<&FutexWaiter>) {
        // An io_uring wait armed by an earlier poll on a runtime is of no use
        // to a blocked thread; cancel it.
        reap(&waiter, None);
        let word = self.word();
        let stale = {
            let mut list = lock(&self.list);
            if waiter.node.state.load(Acquire) == NOTIFIED {
                drop(list);
                waiter.node.state.store(IDLE, Relaxed);
                return;
            }
            debug_assert_eq!(
                waiter.node.state.load(Relaxed),
                WAITING,
                "wait_blocking: not registered"
            );
            if waiter.path.load(Relaxed) == VIA_WAKER {
                waiter.mask.store(list.extra.take(), Relaxed);
            }
            // From here on a notifier that selects this waiter bumps the word
            // and wakes it with `futex(2)`; before, it used the waker, and we
            // see its mark under this lock.
            waiter.path.store(VIA_SYSCALL, Relaxed);
            // SAFETY: WAITING under the lock, so the waiter is linked into
            // this list.
            unsafe { list.with_waker(&waiter, Option::take) }
        };
        drop(stale);
        let mask = waiter.mask.load(Relaxed);
        loop {
            // Snapshot the word BEFORE re-checking the state: a notifier marks
            // first and bumps second (Release), so either this Acquire load
            // reads the bump (and the state load below sees the mark), or the
            // kernel compares against a value the bump has since changed, or
            // the wait is queued before the notifier's wake.
            let seen = word.load(Acquire);
            if waiter.node.state.load(Acquire) == NOTIFIED {
                waiter.node.state.store(IDLE, Relaxed);
                return;
            }
            match sys_futex_wait(&word, seen, mask) {
                Ok(()) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EINTR)) => {}
                Err(_) => {
                    // SAFETY: forwarded from our caller.
                    unsafe { self.park_blocking(waiter) };
                    return;
                }
            }
        }
    }

    /// Fallback for [`wait_blocking`](WaitQueue::wait_blocking) when `futex(2)`
    /// fails unexpectedly: moves the waiter to the waker path with a waker
    /// that unparks this thread, and parks until notified.
    ///
    /// # Safety
    ///
    /// As for `wait_blocking`.
    unsafe fn park_blocking(&self, waiter: Pin<&FutexWaiter>) {
        let waker = crate::blocking::thread_waker();
        let mut cx = Context::from_waker(&waker);
        // SAFETY: forwarded from our caller.
        while unsafe { self.poll_via_waker(waiter, &mut cx) }.is_pending() {
            thread::park();
        }
    }

    /// The futex word, created on first use.
    fn word(&self) -> Arc<AtomicU32> {
        Arc::clone(self.word.get_or_init(|| Arc::new(AtomicU32::new(0))))
    }

    /// Bumps the futex word and wakes every kernel sleeper holding one of the
    /// bits in `mask`, if any. Called after the selected waiters were marked.
    fn wake_word(&self, mask: u32) {
        // No kernel-path waiter was selected, or (then) none ever existed: a
        // kernel-path waiter creates the word before it takes a bit.
        let Some(word) = self.word.get().filter(|_| mask != 0) else {
            return;
        };
        // Release: the marks stored before this bump are visible to a waiter
        // whose Acquire snapshot reads it (see `wait_blocking`). The bump
        // makes every wait armed with an older snapshot fail with EAGAIN.
        word.fetch_add(1, Release);
        if let Err(e) = sys_futex_wake(word, mask) {
            // Only EFAULT/EINVAL are possible, and our arguments are valid: a
            // failure here means the kernel refuses futex(2) outright, and a
            // selected waiter would sleep forever. Refuse to continue.
            panic!("compio-sync: futex(FUTEX_WAKE_BITSET) failed: {e}");
        }
    }

    /// Notifies the waiter at `end`: through its waker, or by bumping and
    /// waking the futex word with its bit after the lock is released.
    fn notify(&self, end: End) -> bool {
        let mask = Cell::new(0);
        List::notify(
            &self.list,
            end,
            |bits, waiter| mask.set(bits.leave(waiter)),
            || self.wake_word(mask.get()),
        )
    }

    /// The waker path of `poll_wait`, also used when a kernel-path wait falls
    /// back: stores `cx.waker()` and makes the waiter a waker-path waiter.
    ///
    /// # Safety
    ///
    /// As for [`WaitQueue::poll_wait`].
    unsafe fn poll_via_waker(&self, waiter: Pin<&FutexWaiter>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: forwarded from our caller: registered with this queue and
        // not yet observed `Ready` or cancelled.
        let polled = unsafe {
            List::poll_waker(&self.list, &waiter, cx.waker(), |bits, waiter| {
                if waiter.path.load(Relaxed) != VIA_WAKER {
                    // A notifier that selected this waiter before the switch
                    // used the futex and marked it, and we would have seen
                    // the mark under this lock.
                    bits.release(waiter.mask.load(Relaxed));
                    waiter.path.store(VIA_WAKER, Relaxed);
                }
            })
        };
        if polled.is_ready() {
            return finish(&waiter, cx);
        }
        Poll::Pending
    }

    /// The io_uring path of `poll_wait`. `None` means "use the waker path":
    /// the op failed, or this is not the thread or runtime it belongs to.
    fn poll_via_io_uring(&self, waiter: &FutexWaiter, cx: &mut Context<'_>) -> Option<Poll<()>> {
        let word = self.word.get()?;
        // Outside a compio runtime nothing drives the op's driver.
        Runtime::try_with_current(|_| ()).ok()?;
        // Polling the op clones `cx`'s waker (user code), so the op is moved
        // out of the `op` lock first and put back if it is still pending. If
        // the poll unwinds, the op is dropped instead (compio cannot poll a
        // `Submit` whose poll panicked again); the waiter stays linked, and
        // the next `poll_wait` arms a new wait or `cancel` unlinks it.
        let inflight = lock(&waiter.op).inflight.take();
        if let Some(mut bound) = inflight {
            // Polled on a thread other than the op's: we may not touch it
            // (`reap` leaks it, see `ThreadBound`).
            let Some(submit) = bound.get_mut() else {
                lock(&waiter.op).inflight = Some(bound);
                return None;
            };
            match Pin::new(submit).poll(cx) {
                Poll::Pending => {
                    lock(&waiter.op).inflight = Some(bound);
                    return Some(Poll::Pending);
                }
                Poll::Ready(out) => {
                    drop(bound);
                    if let Completion::Fallback = classify(out.0) {
                        return None;
                    }
                }
            }
            // The wait ended (woken, or the word moved): snapshot the word
            // BEFORE re-checking the state, as in `wait_blocking`.
            waiter.snapshot.store(word.load(Acquire), Relaxed);
        }
        if waiter.node.state.load(Acquire) == NOTIFIED {
            return Some(finish(waiter, cx));
        }
        match submit_wait(word, waiter, cx) {
            Armed::InFlight(op) => lock(&waiter.op).inflight = Some(op),
            // Completed on its first poll, which io_uring never does; poll
            // again rather than spin here.
            Armed::Completed => cx.waker().wake_by_ref(),
            Armed::Fallback => return None,
        }
        Some(Poll::Pending)
    }

    /// The io_uring half of `register`: arms a `FUTEX_WAIT` for `waker`, then
    /// links the waiter on the io_uring path. Returns `false`, with the
    /// waiter still idle and unlinked, if the wait could not be armed (the
    /// caller then registers it on the waker path).
    ///
    /// The wait is armed BEFORE the waiter is linked, because arming polls
    /// compio's `Submit`, which clones `waker` (user code): if that panics,
    /// the waiter has never been visible to a notifier, and the guard gives
    /// its futex bit back. Armed early, the wait can only be woken
    /// spuriously before the link (another waiter's wake on a shared bit, or
    /// a bump of the word); `poll_wait` then re-checks and re-arms.
    ///
    /// Arming now, for `waker`, makes a notify wake the waker given to
    /// `register` even if the owner returns `Pending` without calling
    /// `poll_wait` (contract point 3). If the caller's re-check then
    /// succeeds, its `cancel` drops the op again.
    fn register_via_io_uring(&self, waiter: &FutexWaiter, waker: &Waker) -> bool {
        let word = self.word();
        // Snapshot the word BEFORE the waiter becomes visible to notifiers
        // (linked below): a notify that selects it marks it and only then
        // bumps the word, so the bump always comes after this load, and the
        // first io_uring wait (which expects this value) either fails with
        // EAGAIN or is woken. A snapshot taken after linking could already
        // include the bump of a notify that selected us, and the wait would
        // then sleep through the only wake-up it gets.
        waiter.snapshot.store(word.load(Acquire), Relaxed);
        // The bit is taken before the wait is armed with it: a wake for a
        // waiter selected later must find a wait that expects its bit.
        let bit = BitGuard {
            queue: self,
            mask: lock(&self.list).extra.take(),
        };
        waiter.mask.store(bit.mask, Relaxed);
        let mut cx = Context::from_waker(waker);
        let Armed::InFlight(op) = submit_wait(&word, waiter, &mut cx) else {
            // Not armed (or completed at once, which io_uring never does):
            // the guard gives the bit back.
            return false;
        };
        // Stored before linking: once linked, a notifier may select us and
        // the owner may `cancel`, which reaps the op from here.
        let replaced = lock(&waiter.op).inflight.replace(op);
        debug_assert!(replaced.is_none(), "register: an idle waiter had an op");
        let mut list = lock(&self.list);
        std::mem::forget(bit);
        waiter.path.store(VIA_IO_URING, Relaxed);
        // SAFETY: the caller of `register` guarantees the waiter is idle, used
        // with this queue only, and pinned until it is idle again, which
        // requires unlinking it.
        unsafe { list.push_back(Pin::new_unchecked(waiter), None) };
        true
    }
}

/// Gives a futex bit back if `register` does not link its waiter (a panic in
/// the waker's clone while arming, or a wait that could not be armed).
struct BitGuard<'a> {
    queue: &'a IoUringFutex,
    mask: u32,
}

impl Drop for BitGuard<'_> {
    fn drop(&mut self) {
        lock(&self.queue.list).extra.release(self.mask);
    }
}

/// What arming a `FUTEX_WAIT` gave.
enum Armed {
    /// In flight: to be stored in the waiter's `op` slot.
    InFlight(ThreadBound<Submit<FutexWaitOp>>),
    /// It completed on its first poll (io_uring never does this): re-check.
    Completed,
    /// Continue on the waker path.
    Fallback,
}

/// Submits a `FUTEX_WAIT` that expects `waiter.snapshot` and polls it once,
/// which pushes it to the ring and gives it `cx`'s waker. Polling clones the
/// waker (user code): call it with no lock held.
fn submit_wait(word: &Arc<AtomicU32>, waiter: &FutexWaiter, cx: &mut Context<'_>) -> Armed {
    let op = FutexWaitOp {
        word: Arc::clone(word),
        expected: waiter.snapshot.load(Relaxed),
        mask: waiter.mask.load(Relaxed),
    };
    let Ok(mut submit) = Runtime::try_with_current(|rt| rt.submit(op)) else {
        return Armed::Fallback;
    };
    // If the clone inside panics, `submit` is dropped while unwinding, which
    // cancels the op.
    match Pin::new(&mut submit).poll(cx) {
        Poll::Pending => Armed::InFlight(ThreadBound::new(submit)),
        Poll::Ready(out) => match classify(out.0) {
            Completion::Retry => Armed::Completed,
            Completion::Fallback => Armed::Fallback,
        },
    }
}

/// `Ready` for a notified waiter: cancels or harvests its io_uring op and
/// makes it idle.
fn finish(waiter: &FutexWaiter, cx: &mut Context<'_>) -> Poll<()> {
    reap(waiter, Some(cx));
    waiter.node.state.store(IDLE, Relaxed);
    Poll::Ready(())
}

/// Ends the waiter's in-flight io_uring op, if any: a completed op has its
/// result checked (an unexpected error is recorded, not dropped); a pending
/// one is dropped, which makes compio submit an `AsyncCancel` for it. Either
/// way the notification state is untouched: it lives in `state`.
fn reap(waiter: &FutexWaiter, cx: Option<&mut Context<'_>>) {
    let Some(mut bound) = lock(&waiter.op).inflight.take() else {
        return;
    };
    if let Some(submit) = bound.get_mut() {
        let mut noop = Context::from_waker(Waker::noop());
        let cx = cx.unwrap_or(&mut noop);
        if let Poll::Ready(out) = Pin::new(submit).poll(cx) {
            let _retry_or_fallback_does_not_matter_now = classify(out.0);
        }
    }
    drop(bound);
}

/// What a finished `FUTEX_WAIT` means for its waiter.
enum Completion {
    /// Woken, or the word moved, or interrupted: re-check and wait again.
    Retry,
    /// Continue this wait on the waker path.
    Fallback,
}

/// The value recorded in [`IO_URING_ERROR`] for an error without an errno.
const NOT_AN_OS_ERROR: i32 = -1;

/// The first unexpected `FUTEX_WAIT` error (an errno, or `NOT_AN_OS_ERROR`);
/// 0 while none happened. Non-zero turns the io_uring path off.
static IO_URING_ERROR: AtomicI32 = AtomicI32::new(0);

fn classify(result: io::Result<usize>) -> Completion {
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
            let _first_error_wins = IO_URING_ERROR.compare_exchange(
                0,
                other.unwrap_or(NOT_AN_OS_ERROR),
                Relaxed,
                Relaxed,
            );
            Completion::Fallback
        }
    }
}

/// Whether a registration on this thread, now, takes the io_uring path.
fn io_uring_here() -> bool {
    IoUringFutex::io_uring_supported()
        && Runtime::try_with_current(|rt| rt.driver_type() == DriverType::IoUring).unwrap_or(false)
}

/// The one-time probe: does the kernel support the io_uring futex opcodes?
fn probe() -> bool {
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

// SAFETY: every contract point is argued where it is implemented: selection
// is exact because a node is unlinked and marked `NOTIFIED` under the lock that
// guards linking, and the kernel futex only carries wake-ups that the owner
// re-checks against `state`; wakers are taken under the lock and woken after
// it, and the futex wake runs after it too; a node's memory is not touched
// after it is marked (the futex wake touches only the shared word); ordering
// comes from the lock plus the Release/Acquire pairs on `state` and the word.
unsafe impl WaitQueue for IoUringFutex {
    type Waiter = FutexWaiter;

    #[cfg(not(loom))]
    const NEW: Self = Self {
        list: Mutex::new(List::new(Bits::new())),
        word: OnceLock::new(),
    };

    fn new() -> Self {
        Self {
            list: Mutex::new(List::new(Bits::new())),
            word: OnceLock::new(),
        }
    }

    fn new_waiter() -> FutexWaiter {
        FutexWaiter {
            node: Node::new(),
            path: AtomicU8::new(VIA_WAKER),
            mask: AtomicU32::new(0),
            snapshot: AtomicU32::new(0),
            op: Mutex::new(OpSlot { inflight: None }),
        }
    }

    unsafe fn register(&self, waiter: Pin<&FutexWaiter>, waker: &Waker) {
        // Every piece of user code (cloning `waker`, directly or inside
        // compio's `Submit::poll`) runs BEFORE the waiter is linked, so a
        // panic leaves it idle (contract point 7); linking runs none.
        if io_uring_here() && self.register_via_io_uring(&waiter, waker) {
            return;
        }
        // Cloned before locking: a waker's clone is user code.
        let waker = waker.clone();
        let mut list = lock(&self.list);
        waiter.path.store(VIA_WAKER, Relaxed);
        // SAFETY: the caller guarantees the waiter is idle, used with this
        // queue only, and pinned until it is idle again, which requires
        // unlinking it.
        unsafe { list.push_back(waiter, Some(waker)) };
    }

    unsafe fn poll_wait(&self, waiter: Pin<&FutexWaiter>, cx: &mut Context<'_>) -> Poll<()> {
        // Acquire: pairs with the Release store in `List::mark`.
        if waiter.node.state.load(Acquire) == NOTIFIED {
            return finish(&waiter, cx);
        }
        if waiter.path.load(Relaxed) == VIA_IO_URING {
            if let Some(poll) = self.poll_via_io_uring(&waiter, cx) {
                return poll;
            }
            // The io_uring wait cannot continue; drop what is left of it.
            reap(&waiter, Some(cx));
        }
        // SAFETY: forwarded from our caller.
        unsafe { self.poll_via_waker(waiter, cx) }
    }

    /// Sleeps in `futex(2)` on the queue's futex word, the same word the
    /// io_uring waiters of this queue park on.
    unsafe fn wait_blocking(&self, waiter: Pin<&FutexWaiter>) {
        // SAFETY: forwarded from the caller.
        unsafe { self.wait_futex_blocking(waiter) }
    }

    unsafe fn cancel(&self, waiter: Pin<&FutexWaiter>) -> bool {
        match waiter.node.state.load(Acquire) {
            IDLE => return false,
            NOTIFIED => {
                reap(&waiter, None);
                waiter.node.state.store(IDLE, Relaxed);
                return true;
            }
            _ => {}
        }
        // Cancel the io_uring wait first; a wake it may still receive is a
        // spurious one for nobody.
        reap(&waiter, None);
        let waker = {
            let mut list = lock(&self.list);
            if waiter.node.state.load(Acquire) == NOTIFIED {
                drop(list);
                waiter.node.state.store(IDLE, Relaxed);
                return true;
            }
            // Unlinked without a notification: nobody wakes its bit.
            list.extra.leave(&waiter);
            // SAFETY: still WAITING under the lock, so the waiter is linked
            // into this list (the caller uses it with no other queue).
            unsafe { list.remove(&waiter) }
        };
        drop(waker);
        false
    }

    fn notify_one(&self) -> bool {
        self.notify(End::Head)
    }

    fn notify_last(&self) -> bool {
        self.notify(End::Tail)
    }

    fn notify_all(&self) -> usize {
        // The futex bits of the waiters selected under the lock, woken (and
        // reset) after each batch.
        let mask = Cell::new(0);
        List::notify_all(
            &self.list,
            |bits, waiter| mask.set(mask.get() | bits.leave(waiter)),
            || self.wake_word(mask.take()),
        )
    }
}

impl FutexWaiter {
    /// How this waiter is parked, or `None` while it is not waiting.
    pub fn path(&self) -> Option<WaitPath> {
        if self.node.state.load(Acquire) != WAITING {
            return None;
        }
        Some(match self.path.load(Relaxed) {
            VIA_IO_URING => WaitPath::IoUring,
            VIA_SYSCALL => WaitPath::Syscall,
            _ => WaitPath::Waker,
        })
    }
}

/// The io_uring `FUTEX_WAIT` op: sleep while the word holds `expected`, until
/// a wake for one of the bits in `mask`.
struct FutexWaitOp {
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
        // Never submitted to a polling driver (the detection checks the
        // driver type); if it is, fail so the wait falls back.
        Err(io::ErrorKind::Unsupported.into())
    }

    fn operate(&mut self, _: &mut ()) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::ErrorKind::Unsupported.into()))
    }
}

/// A value that is only ever used or dropped on the thread that created it.
/// compio's `Submit` holds an `Rc` to its runtime's driver, and a waiter must
/// be `Send`; if the waiter is used from another thread, the value is leaked
/// instead (never touched), which is sound and keeps the kernel wait's memory
/// alive. This happens only if a pinned future that waited on a compio
/// runtime is moved to another thread before its wait ends.
struct ThreadBound<T> {
    owner: ThreadId,
    value: ManuallyDrop<T>,
}

// SAFETY: `value` is only accessed (`get_mut`) or dropped (`Drop`) on the
// `owner` thread; on any other thread it is left untouched and leaked.
unsafe impl<T> Send for ThreadBound<T> {}

thread_local! {
    static THREAD_ID: ThreadId = thread::current().id();
}

fn current_thread_id() -> Option<ThreadId> {
    THREAD_ID.try_with(|id| *id).ok()
}

impl<T> ThreadBound<T> {
    fn new(value: T) -> Self {
        Self {
            owner: thread::current().id(),
            value: ManuallyDrop::new(value),
        }
    }

    fn get_mut(&mut self) -> Option<&mut T> {
        (current_thread_id() == Some(self.owner)).then_some(&mut *self.value)
    }
}

impl<T> Drop for ThreadBound<T> {
    fn drop(&mut self) {
        if current_thread_id() == Some(self.owner) {
            // SAFETY: dropped once, here, on the owner thread.
            unsafe { ManuallyDrop::drop(&mut self.value) }
        }
    }
}

/// `futex(word, FUTEX_WAIT_BITSET, expected, NULL, NULL, mask)`.
fn sys_futex_wait(word: &AtomicU32, expected: u32, mask: u32) -> io::Result<()> {
    // SAFETY: `word` is a live, aligned u32 for the duration of the call; the
    // null timeout means "no timeout"; the kernel does not write through any
    // of the pointers.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            SYSCALL_WAIT,
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
/// sleeper holding one of the bits in `mask`. Returns how many woke.
fn sys_futex_wake(word: &AtomicU32, mask: u32) -> io::Result<usize> {
    // SAFETY: as in `sys_futex_wait`; a wake only hashes the address.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            SYSCALL_WAKE,
            i32::MAX,
            ptr::null::<libc::timespec>(),
            ptr::null::<u32>(),
            mask,
        )
    };
    usize::try_from(ret).map_err(|_| io::Error::last_os_error())
}

impl Default for IoUringFutex {
    fn default() -> Self {
        <Self as WaitQueue>::new()
    }
}

impl std::fmt::Debug for IoUringFutex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoUringFutex")
            .field("word", &self.word.get().map(|w| w.load(Relaxed)))
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for FutexWaiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FutexWaiter")
            .field("state", &self.node.state.load(Relaxed))
            .field("path", &self.path())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(errno: i32) -> io::Result<usize> {
        Err(io::Error::from_raw_os_error(errno))
    }

    /// Every FUTEX_WAIT outcome has an explicit meaning; only the unexpected
    /// ones turn the io_uring path off, and the first one is kept.
    #[test]
    fn completions_are_classified_and_unexpected_errors_recorded() {
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
        assert!(!io_uring_here());
    }
}
