//! [`IoUringFutex`] (Linux): the queue, its waiter and its [`WaitQueue`]
//! implementation. Waiters are selected in the shared intrusive list and park
//! on one kernel futex word per queue: through io_uring on a compio runtime,
//! through `futex(2)` on a blocking thread, through their waker elsewhere.
//!
//! This file holds the queue's state, the notify side (the list hooks that
//! pick futex bits under the lock and wake the word after it) and the waker
//! path. The other jobs have their own files:
//!
//! | file | job |
//! |---|---|
//! | `io_uring_wait.rs` | the io_uring wait path: arm in `register`, poll and re-arm in `poll_wait` |
//! | `syscall_wait.rs` | the `futex(2)` wait path of `wait_blocking` |
//! | `op.rs` | the io_uring `FUTEX_WAIT` op for compio's driver, and what its completions mean |
//! | `bits.rs` | the futex-bit allocator (which bitset bit each kernel-parked waiter sleeps on) |
//! | `sys.rs` | the raw `futex(2)` wait and wake calls |
//! | `probe.rs` | the global probe: may this process, this thread use the io_uring path? |
//! | `../thread_bound.rs` (shared with `Iocp`) | `ThreadBound`: the op's `!Send` parts inside a `Send` waiter |
//!
//! The design, which path a wait takes when and the private/shared futex
//! answer are documented on [`IoUringFutex`], so that they render with the
//! type (this module is private).

mod bits;
mod io_uring_wait;
mod op;
mod probe;
mod sys;
mod syscall_wait;

use std::{
    cell::Cell,
    io,
    pin::Pin,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU32, AtomicUsize},
    },
    task::{Context, Poll, Waker},
};

use self::{bits::Bits, op::InFlight};
use super::{
    Cancelled, Select, WaitQueue, Woken,
    list::{self, IDLE, Linked, NOTIFIED, Node, Patience, Pick, WAITING},
    retired::reuse_or_clone,
};
use crate::loom::{
    Mutex,
    atomic::{AtomicBool, AtomicU8, Ordering::*},
    lock,
};

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
/// nodes pinned inside the waiting futures) and a notifier picks a waiter,
/// writes the wake-up value into its node and marks it notified under the
/// list lock. That is what makes every notify exact: `notify_one` returns
/// `true` only after it has marked a specific waiting waiter, and that
/// waiter's next `poll_wait` returns `Ready` with the notifier's [`Woken`]
/// (or its `cancel` returns [`Cancelled::Notified`] with it) whatever the
/// kernel does. `notify_while` offers waiters to its selector under the same
/// lock. The kernel futex only carries the *wake-up*, never a value: a woken
/// waiter always re-reads its own state before believing anything, so a
/// spurious futex wake costs a re-arm, never a lost or a duplicated
/// notification.
///
/// **One 32-bit futex word per queue, used as an event count.** Every waiter
/// parked in the kernel waits on the same word. `register` (on the io_uring
/// path, see the table below) snapshots it before
/// the waiter is linked (so before the caller re-checks its condition) and
/// arms the first io_uring wait with that snapshot (so a notify wakes the
/// waker given to `register` even if the owner never polls; if the caller's
/// re-check succeeds, it cancels, and the op is dropped with the waiter, or
/// at its next registration: `cancel` runs no user code, and dropping
/// compio's op may drop compio's clone of the waker); a wait re-snapshots
/// it after every wake-up *before* re-checking its own state (and, if the
/// wake-up was futile and its own thread notified last, continues on the
/// waker path rather than arm a new op). A notifier that
/// selected a kernel-parked waiter bumps the word after marking the waiter
/// and then wakes the word, so a wait armed with a stale snapshot fails with
/// `EAGAIN` instead of sleeping through the notification (the classic futex
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
/// [`Cancelled::Notified`] iff a notifier had marked the waiter and the owner
/// had not yet observed it, and the caller then passes the notification on
/// (this is the trait's mechanism for every backend). Whether the kernel had
/// already delivered the futex wake is irrelevant, because the mark, not the
/// wake, is the notification.
///
/// **No helper task.** An io_uring wait is compio's `Submit` future, polled
/// inside `poll_wait` on the waiting task itself, so no task is spawned
/// whose dropped `JoinHandle` could cancel a wait.
///
/// # Which path a wait takes
///
/// The path is chosen per wait, when the waiter registers:
///
/// | where `register` runs | path ([`WaitPath`]) | how it sleeps, how it is woken |
/// |---|---|---|
/// | the thread whose notify most recently selected a waiter of this queue | [`WaitPath::Waker`] | the task's [`Waker`]: tasks of one runtime that take turns on a primitive wake each other without a kernel round trip |
/// | otherwise, a compio runtime whose driver is io_uring, and the one-time probe found `IORING_OP_FUTEX_WAIT`/`FUTEX_WAKE` (Linux 6.7+) | [`WaitPath::IoUring`] | a `FUTEX_WAIT` op submitted through `compio_runtime::Runtime::submit` (by `register`, then again by `poll_wait` after each wake-up), awaited by polling the `Submit` future inside `poll_wait`; woken by `futex(FUTEX_WAKE_BITSET)` |
/// | anywhere else: tokio, `futures::executor`, a plain thread, compio's polling driver, an older kernel, the probe forced negative | [`WaitPath::Waker`] | the task's [`Waker`], exactly as in [`Intrusive`](super::Intrusive) |
/// | a thread blocked in [`wait_blocking`](WaitQueue::wait_blocking) | [`WaitPath::Syscall`] | `futex(FUTEX_WAIT_BITSET)` on the same word as the io_uring waiters |
///
/// The first row is a prediction: a wait registered right after a notify
/// from its own thread is most likely woken from that thread again, and a
/// waker wake on the same thread costs a fraction of an io_uring round trip.
/// A wrong prediction costs nothing in correctness: a waker-path wait is
/// woken from any thread, through compio's cross-thread wake-up, exactly as
/// an [`Intrusive`](super::Intrusive) wait is. The queue remembers only the
/// thread of the last notify that selected a waiter.
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
/// before the wait was armed) and `EINTR` lead to a re-check and a new wait
/// (or the waker path, as above);
/// `ECANCELED` (the runtime cancelled the op) moves that one wait to the
/// waker path; any other error moves the wait to the waker path *and* turns
/// the io_uring path off for the rest of the process, recording the error
/// for [`io_uring_error`](Self::io_uring_error). No wait is lost either way,
/// because the switch happens under the list lock and is followed by a
/// re-check. A failing `futex(FUTEX_WAKE)` would leave a selected waiter
/// asleep, and it can only fail on invalid arguments, so it panics with a
/// message rather than lose the wake silently. A blocking waiter whose
/// `futex(FUTEX_WAIT)` fails unexpectedly falls back to parking its thread.
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
/// the global hash, and every later `PRIVATE` wake misses it (reproduced by
/// `tests/io_uring_futex_single_thread.rs` on kernels with the per-process
/// hash). A compio program that waits on its only thread and spawns a thread
/// later (compio's own blocking pool does) would hang. Shared keys always use
/// the global hash, at a small extra cost per futex operation.
///
/// # Cost, and when to choose this backend
///
/// Each wait on the io_uring path pays an op submission (one heap
/// allocation, compio's), a `futex(2)` wake and a completion: several times a
/// waker round trip ([`Intrusive`](super::Intrusive)), a little more than a
/// bare io_uring `FUTEX_WAIT` op. On one runtime, tasks that take turns on a
/// primitive notify each other from their own thread, so after the first
/// notify their waits take the waker path and cost about what
/// [`Intrusive`](super::Intrusive)'s do. Across threads, the cross-CPU
/// wake-up dominates and this backend is within noise of the others. The
/// `futex_roundtrip` example measures every path, and `BENCHMARKS.md` (written
/// by the comparison binary) has dated figures.
///
/// **Choose it** when plain threads and compio tasks contend on the same
/// primitive and the threads should sleep in the kernel on the same word as
/// the tasks ([`wait_blocking`](WaitQueue::wait_blocking)), or when every
/// parked task should be an io_uring completion (no cross-thread waker
/// traffic through compio's bounded wake queue: a notifier on another thread
/// only makes a `futex(2)` call, for every wait registered after a notify
/// from another thread). **Do not choose it for speed**: at best it matches
/// [`Intrusive`](super::Intrusive). Outside a compio io_uring runtime it behaves like
/// [`Intrusive`](super::Intrusive).
///
/// # Fairness
///
/// `notify_one` is strict FIFO (registration order), `notify_last` is LIFO
/// and `notify_while` offers waiters oldest first, whatever the kernel's own
/// futex wake order, because selection happens in the list;
/// [`register_front`](WaitQueue::register_front) links at the head. Both
/// fairness policies are supported.
pub struct IoUringFutex {
    list: Mutex<List>,
    /// The futex word: an event count bumped by every notify that selects a
    /// kernel-parked waiter. Created by the first kernel-path registration;
    /// each in-flight io_uring op holds a reference, so the kernel never
    /// waits on a freed or recycled address even after this queue is gone.
    word: OnceLock<Arc<AtomicU32>>,
    /// The [`thread_token`] of the thread whose notify most recently
    /// selected a waiter (0 before the first): the path heuristic of
    /// `register`. Only a hint, read and written `Relaxed`: every path is
    /// correct whoever notifies it.
    notifier: AtomicUsize,
}

/// The per-wait node of an [`IoUringFutex`]; one lives in each waiting future.
pub struct FutexWaiter {
    /// State, links, epoch, waker, tag and wake-up value (see `list::Node`).
    /// The waker is `None` on the kernel paths.
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
    op: Mutex<Option<InFlight>>,
    /// Whether `op` may hold a wait: lets the waker path, which never arms
    /// one, skip the `op` lock. Owner only, like `op`; under concurrent
    /// misuse a stale read only leaves an op in the slot for a later take or
    /// the waiter's drop.
    has_op: AtomicBool,
}

/// The waiter list, with the futex bits of its kernel-path waiters.
type List = list::List<FutexWaiter, Bits>;

// SAFETY: `node` returns the `node` field, the same one on every call.
unsafe impl Linked for FutexWaiter {
    fn node(&self) -> &Node<Self> {
        &self.node
    }
}

// SAFETY: `node`'s cells are only accessed under the lock of the one queue the
// waiter is registered with (the `WaitQueue` caller contract); `op` is a mutex
// over a `Send` value (`ThreadBound`); everything else is atomic.
unsafe impl Send for FutexWaiter {}
// SAFETY: as for `Send`.
unsafe impl Sync for FutexWaiter {}

impl IoUringFutex {
    /// The environment variable that forces the io_uring probe negative when
    /// it is `1`. It is read once per process, when the first wait probes, so
    /// set it before the process starts waiting. For testing the fallback.
    pub const DISABLE_ENV: &str = "COMPIO_SYNC_FUTEX_DISABLE";

    /// Whether this process can use the io_uring path at all: the kernel
    /// supports `IORING_OP_FUTEX_WAIT` and `IORING_OP_FUTEX_WAKE`,
    /// [`DISABLE_ENV`](Self::DISABLE_ENV) was not `1` at the first probe, and
    /// no unexpected op error has turned the path off
    /// ([`io_uring_error`](Self::io_uring_error)). A wait takes the path only
    /// if it also registers on a compio runtime whose driver is io_uring.
    pub fn io_uring_supported() -> bool {
        probe::supported()
    }

    /// The error that turned the io_uring path off for this process, if an
    /// io_uring `FUTEX_WAIT` ever failed in a way the backend does not
    /// expect. Waits in flight at that moment moved to the waker path.
    pub fn io_uring_error() -> Option<io::Error> {
        probe::error()
    }

    /// `register` (at the tail) and `register_front` (at the head, if
    /// `front`).
    ///
    /// # Safety
    ///
    /// As for [`WaitQueue::register`].
    unsafe fn register_at(
        &self,
        front: bool,
        waiter: Pin<&FutexWaiter>,
        waker: &Waker,
        tag: usize,
    ) {
        // Every piece of user code (dropping what the last wait retired,
        // cloning `waker`, directly or inside compio's `Submit::poll`) runs
        // BEFORE the waiter is linked, so a panic leaves it idle (contract
        // point 7); linking runs none.
        // SAFETY: the caller guarantees the waiter is idle, and is its owner.
        let mut retired = unsafe { waiter.node.take_retired() };
        // The io_uring wait a `cancel` left behind (see `cancel`).
        waiter.reap(None);
        // A notify from this very thread is most likely what wakes this wait
        // too: its waker then costs no kernel round trip (see `notifier`).
        if !self.notified_here() && probe::io_uring_here() {
            drop(retired.take());
            if self.register_via_io_uring(front, waiter, waker, tag) {
                return;
            }
        }
        // Cloned (or the retired waker reused) before locking: user code.
        let waker = reuse_or_clone(retired, waker);
        let mut list = lock(&self.list);
        waiter.path.store(VIA_WAKER, Relaxed);
        // SAFETY: the caller guarantees the waiter is idle, used with this
        // queue only, and pinned until it is idle again, which requires
        // unlinking it.
        unsafe { link(&mut list, front, waiter, Some(waker), tag) };
    }

    /// Whether the notify that most recently selected a waiter of this queue
    /// ran on this thread. A wait registered then is most likely woken from
    /// this thread again (one runtime: its tasks take turns), so it waits on
    /// the waker path, where a same-thread wake costs no kernel round trip.
    fn notified_here(&self) -> bool {
        self.notifier.load(Relaxed) == thread_token()
    }

    /// Records that a notify on this thread selected a waiter (for
    /// `notified_here`). Writes only on a change, so that notifies on one
    /// thread do not keep taking the cache line from the registrants.
    ///
    /// Called under the list lock, before the selected waiter is marked: the
    /// Relaxed store is sequenced before `List::mark`'s Release store of
    /// NOTIFIED, so a woken waiter (its Acquire load of `state`) sees it, or
    /// a later one. Its own task's next notify then overwrites it, as the
    /// heuristic expects; recorded after the notify returned, it could land
    /// after that task's store and send the task's next wait to the kernel.
    fn note_notifier(&self) {
        let here = thread_token();
        if self.notifier.load(Relaxed) != here {
            self.notifier.store(here, Relaxed);
        }
    }

    /// The futex word, created on first use.
    fn word(&self) -> Arc<AtomicU32> {
        Arc::clone(self.word.get_or_init(|| Arc::new(AtomicU32::new(0))))
    }

    /// Bumps the futex word and wakes every kernel sleeper holding one of the
    /// bits in `mask`, if any. Called with the list lock released, after the
    /// selected waiters were marked.
    fn wake_word(&self, mask: u32) {
        // No kernel-path waiter was selected, or (then) none ever existed: a
        // kernel-path waiter creates the word before it takes a bit.
        let Some(word) = self.word.get().filter(|_| mask != 0) else {
            return;
        };
        // Release: orders the Release stores of NOTIFIED made by `List::mark`
        // before this bump, for a waiter whose Acquire snapshot of the word
        // reads it (see `wait_futex_blocking` and `poll_via_io_uring`). The
        // bump makes every wait armed with an older snapshot fail with EAGAIN.
        word.fetch_add(1, Release);
        if let Err(e) = sys::futex_wake(word, mask) {
            // Only EFAULT/EINVAL are possible, and our arguments are valid: a
            // failure here means the kernel refuses futex(2) outright, and a
            // selected waiter would sleep forever. Refuse to continue.
            panic!("compio-sync: futex(FUTEX_WAKE_BITSET) failed: {e}");
        }
    }

    /// Notifies the waiter at `end`, handing it `wakeup`: through its waker,
    /// or by bumping and waking the futex word with its bit after the lock is
    /// released.
    fn notify(&self, pick: Pick, wakeup: usize) -> bool {
        let mask = Cell::new(0);
        List::notify(
            &self.list,
            pick,
            wakeup,
            |bits, waiter| {
                self.note_notifier();
                mask.set(bits.leave(waiter.held_bit()));
            },
            || self.wake_word(mask.get()),
        )
    }

    /// The waker path of `poll_wait`, also used when a kernel-path wait falls
    /// back: stores `cx.waker()` and makes the waiter a waker-path waiter.
    ///
    /// # Safety
    ///
    /// As for [`WaitQueue::poll_wait`].
    unsafe fn poll_via_waker(
        &self,
        waiter: Pin<&FutexWaiter>,
        cx: &mut Context<'_>,
    ) -> Poll<Woken> {
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
        match polled {
            Poll::Ready(_) => Poll::Ready(finish(&waiter, Some(cx))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl FutexWaiter {
    /// How this waiter is parked, or `None` while it is not waiting.
    pub fn path(&self) -> Option<WaitPath> {
        // Acquire: pairs with the Release store of NOTIFIED in `List::mark`
        // (a notified waiter reports `None`).
        if self.node.state.load(Acquire) != WAITING {
            return None;
        }
        Some(match self.path.load(Relaxed) {
            VIA_IO_URING => WaitPath::IoUring,
            VIA_SYSCALL => WaitPath::Syscall,
            _ => WaitPath::Waker,
        })
    }

    /// The futex bit a notifier must wake for this waiter: its bit on a
    /// kernel path, 0 on the waker path (which holds none). Call under the
    /// list lock, where `path` and `mask` do not change.
    fn held_bit(&self) -> u32 {
        if self.path.load(Relaxed) == VIA_WAKER {
            0
        } else {
            self.mask.load(Relaxed)
        }
    }

    /// Takes the in-flight io_uring wait out of its slot.
    fn take_op(&self) -> Option<InFlight> {
        if !self.has_op.load(Relaxed) {
            return None;
        }
        self.has_op.store(false, Relaxed);
        lock(&self.op).take()
    }

    /// Stores an in-flight io_uring wait; the slot was empty.
    fn put_op(&self, op: InFlight) {
        let replaced = lock(&self.op).replace(op);
        self.has_op.store(true, Relaxed);
        debug_assert!(replaced.is_none(), "a waiter had two io_uring waits");
    }

    /// Ends the in-flight io_uring wait, if any (see `op::reap`). The
    /// notification state is untouched: it lives in the node.
    fn reap(&self, cx: Option<&mut Context<'_>>) {
        if let Some(op) = self.take_op() {
            op::reap(op, cx);
        }
    }
}

/// A nonzero number that identifies the calling thread among the live
/// threads: the address of a thread-local. A thread that exits may pass its
/// token on to a later one, which only misleads the path heuristic once.
fn thread_token() -> usize {
    thread_local! {
        static TOKEN: u8 = const { 0 };
    }
    TOKEN.with(|token| std::ptr::from_ref(token).addr())
}

/// Links an idle `waiter` at the tail of `list` (at the head if `front`)
/// and marks it waiting.
///
/// # Safety
///
/// As for `List::push_back`: `waiter` is idle, only ever linked into this
/// list, and stays pinned until it is unlinked.
unsafe fn link(
    list: &mut List,
    front: bool,
    waiter: Pin<&FutexWaiter>,
    waker: Option<Waker>,
    tag: usize,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        if front {
            list.push_front(waiter, waker, tag)
        } else {
            list.push_back(waiter, waker, tag)
        }
    }
}

/// Makes a notified waiter idle and returns what the notifier handed over:
/// cancels or harvests its io_uring op first. If that unwinds (a waker's
/// clone or drop inside compio's op), the waiter is still notified, which the
/// next `poll_wait` or `cancel` handles.
///
/// The caller has observed `NOTIFIED` with an Acquire load.
fn finish(waiter: &FutexWaiter, cx: Option<&mut Context<'_>>) -> Woken {
    waiter.reap(cx);
    observe(waiter)
}

/// Makes a notified waiter idle and returns what the notifier handed over,
/// running no user code: `cancel`'s half of [`finish`]. An io_uring op the
/// waiter still has stays in it, retired (dropping compio's op may drop a
/// waker clone inside compio, which is user code): the next registration
/// reaps it, or the waiter's drop does, after the caller has acted on the
/// cancel (contract point 7).
///
/// The caller has observed `NOTIFIED` with an Acquire load.
fn observe(waiter: &FutexWaiter) -> Woken {
    // SAFETY: we own the waiter and observed NOTIFIED with Acquire (our
    // caller's promise); nobody else touches a notified node.
    let woken = unsafe { waiter.node.woken() };
    waiter.node.state.store(IDLE, Relaxed);
    woken
}

// SAFETY: every contract point is argued where it is implemented: selection
// is exact because a node is unlinked and marked `NOTIFIED` (with its wake-up
// value) under the lock that guards linking, and the kernel futex only carries
// wake-ups that the owner re-checks against `state`; `notify_while`'s selector
// runs under that same lock; wakers are taken under the lock and woken after
// it, and the futex wake runs after it too; a node's memory is not touched
// after it is marked (the futex wake touches only the shared word); ordering
// comes from the lock plus the Release/Acquire pairs on `state` and the word;
// `register` runs all user code before linking, and a guard gives the futex
// bit back if it unwinds.
unsafe impl WaitQueue for IoUringFutex {
    type Waiter = FutexWaiter;

    #[cfg(not(loom))]
    const NEW: Self = Self {
        list: Mutex::new(List::new(Bits::new())),
        word: OnceLock::new(),
        notifier: AtomicUsize::new(0),
    };

    fn new() -> Self {
        Self {
            list: Mutex::new(List::new(Bits::new())),
            word: OnceLock::new(),
            notifier: AtomicUsize::new(0),
        }
    }

    fn new_waiter() -> FutexWaiter {
        FutexWaiter {
            node: Node::new(),
            path: AtomicU8::new(VIA_WAKER),
            mask: AtomicU32::new(0),
            snapshot: AtomicU32::new(0),
            op: Mutex::new(None),
            has_op: AtomicBool::new(false),
        }
    }

    unsafe fn register(&self, waiter: Pin<&FutexWaiter>, waker: &Waker, tag: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.register_at(false, waiter, waker, tag) }
    }

    /// Links at the head of the list, on whichever path `register` would
    /// take: the next `notify_one` or `notify_while` selects this waiter.
    unsafe fn register_front(&self, waiter: Pin<&FutexWaiter>, waker: &Waker, tag: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.register_at(true, waiter, waker, tag) }
    }

    unsafe fn poll_wait(&self, waiter: Pin<&FutexWaiter>, cx: &mut Context<'_>) -> Poll<Woken> {
        // Acquire: pairs with the Release store of NOTIFIED in `List::mark`.
        if waiter.node.state.load(Acquire) == NOTIFIED {
            return Poll::Ready(finish(&waiter, Some(cx)));
        }
        if waiter.path.load(Relaxed) == VIA_IO_URING {
            if let Some(poll) = self.poll_via_io_uring(&waiter, cx) {
                return poll;
            }
            // The io_uring wait cannot continue; drop what is left of it.
            waiter.reap(Some(cx));
        }
        // SAFETY: forwarded from our caller.
        unsafe { self.poll_via_waker(waiter, cx) }
    }

    /// Sleeps in `futex(2)` on the queue's futex word, the same word the
    /// io_uring waiters of this queue park on.
    unsafe fn wait_blocking(&self, waiter: Pin<&FutexWaiter>) -> Woken {
        // SAFETY: forwarded from the caller.
        unsafe { self.wait_futex_blocking(waiter) }
    }

    unsafe fn poll_notified(&self, waiter: Pin<&FutexWaiter>) -> Poll<Woken> {
        // Acquire: pairs with the Release store of NOTIFIED in `List::mark`.
        // `cancel`'s half of a notified waiter's `Ready`: the wait it leaves
        // behind is retired, as there (no user code runs here).
        if waiter.node.state.load(Acquire) == NOTIFIED {
            Poll::Ready(observe(&waiter))
        } else {
            Poll::Pending
        }
    }

    unsafe fn cancel(&self, waiter: Pin<&FutexWaiter>) -> Cancelled {
        // Acquire: pairs with the Release store of NOTIFIED in `List::mark`.
        // No user code runs here (contract point 7): the waker and the
        // io_uring op the wait leaves behind are retired in the waiter (see
        // `observe`), and dropped after the caller has acted on the result.
        match waiter.node.state.load(Acquire) {
            IDLE => return Cancelled::Idle,
            NOTIFIED => return Cancelled::Notified(observe(&waiter)),
            _ => {}
        }
        let mut list = lock(&self.list);
        // Acquire: as above; a notifier may have marked it since.
        if waiter.node.state.load(Acquire) == NOTIFIED {
            drop(list);
            return Cancelled::Notified(observe(&waiter));
        }
        // Unlinked without a notification: nobody wakes its bit. Its io_uring
        // wait, if any, stays armed until it is reaped: a wake it receives
        // meanwhile (its bit may go to another waiter) is a spurious one for
        // nobody, and every wake wakes all holders of a bit, so it never eats
        // one.
        list.extra.leave(waiter.held_bit());
        // SAFETY: still WAITING under the lock, so the waiter is linked into
        // this list (the caller uses it with no other queue).
        let tag = unsafe { list.remove(&waiter) };
        Cancelled::Removed { tag }
    }

    unsafe fn release(&self, waiter: Pin<&FutexWaiter>) {
        // The io_uring wait first: compio's op holds the runtime's driver,
        // and only this thread may drop it (`ThreadBound`). Left for the
        // waiter's drop on another thread, it would wait there for this
        // thread to arm another wait or exit, and the runtime's driver with
        // it.
        waiter.reap(None);
        // SAFETY: the caller guarantees the waiter is idle, and is its owner.
        drop(unsafe { waiter.node.take_retired() });
    }

    fn notify_one(&self, wakeup: usize) -> bool {
        self.notify(Pick::Head, wakeup)
    }

    fn notify_one_near(&self, wakeup: usize) -> bool {
        self.notify(Pick::Near(Patience::Skips), wakeup)
    }

    fn notify_one_near_within(&self, wakeup: usize, patience: std::time::Duration) -> bool {
        self.notify(Pick::Near(Patience::Within(patience)), wakeup)
    }

    fn notify_last(&self, wakeup: usize) -> bool {
        self.notify(Pick::Tail, wakeup)
    }

    fn notify_all(&self, wakeup: usize) -> usize {
        // The futex bits of the waiters selected under the lock, woken (and
        // reset) after each batch.
        let mask = Cell::new(0);
        List::notify_all(
            &self.list,
            wakeup,
            |bits, waiter| {
                self.note_notifier();
                mask.set(mask.get() | bits.leave(waiter.held_bit()));
            },
            || self.wake_word(mask.take()),
        )
    }

    fn notify_while(&self, select: impl FnMut(&mut usize) -> Select) -> usize {
        // As `notify_all`: under the lock, each waiter `select` picks gives
        // its futex bit to `mask`; after each batch, the word is bumped and
        // those bits woken.
        let mask = Cell::new(0);
        List::notify_while(
            &self.list,
            select,
            |bits, waiter| {
                self.note_notifier();
                mask.set(mask.get() | bits.leave(waiter.held_bit()));
            },
            || self.wake_word(mask.take()),
        )
    }
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
