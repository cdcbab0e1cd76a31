//! [`Iocp`] (Windows): waiting tasks park as IOCP completions on their compio
//! runtime's port; blocking threads sleep in `WaitOnAddress`.
//!
//! The design, which path a wait takes when, and what was verified where are
//! documented on [`Iocp`], so that they render with the type (this module is
//! private). The files split as the Linux twin's concerns do:
//! `op.rs` is the compio op and its exactly-once completion, `sys.rs` the
//! Win32 calls and the probe; this file is the queue (selection in the
//! shared intrusive list, `list.rs`).

mod op;
mod sys;

use std::{
    any::Any,
    cell::RefCell,
    io,
    panic::{AssertUnwindSafe, catch_unwind, resume_unwind},
    pin::Pin,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicI32, AtomicU32},
    },
    task::{Context, Poll, Waker},
    thread,
};

use compio_driver::DriverType;
use compio_runtime::{Runtime, Submit};

use self::op::{Park, ParkOp, ThreadBound};
use super::{
    WaitQueue,
    list::{self, End, IDLE, Linked, NOTIFIED, Node, WAITING},
};
use crate::loom::{
    Mutex, ParkingMutex,
    atomic::{AtomicU8, Ordering::*},
    lock,
};

/// [`IocpPath`] encodings for `IocpWaiter::path`.
const VIA_WAKER: u8 = 0;
const VIA_COMPLETION: u8 = 1;
const VIA_ADDRESS: u8 = 2;

/// How a registered [`IocpWaiter`] sleeps and is woken (see [`Iocp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IocpPath {
    /// Woken through its task's [`Waker`] (the portable fallback).
    Waker,
    /// Parked as an IOCP operation on its compio runtime's completion port,
    /// completed by a packet the notifier posts to it.
    Completion,
    /// A thread blocked in `WaitOnAddress` ([`WaitQueue::wait_blocking`]).
    Address,
}

/// A FIFO wait queue whose waiting tasks park as IOCP completions on their
/// compio runtime's port, and whose blocking threads sleep in
/// `WaitOnAddress` (Windows only, feature `iocp`, on by default).
///
/// The twin of `IoUringFutex` on Linux, built the same way.
///
/// # Design
///
/// **Selection is userspace, IOCP is the transport.** Waiters are linked in
/// the FIFO list that [`Intrusive`](super::Intrusive) uses (nodes pinned
/// inside the waiting futures), and a notifier picks a waiter and marks it
/// notified under the list lock. That mark *is* the notification: it makes
/// `notify_one` exact (`true` only after a specific waiting waiter was
/// marked, whose next `poll_wait` returns `Ready` and whose `cancel` returns
/// `true`). The completion packet or the address wake only carries the
/// wake-up; a woken waiter re-reads its own state before believing anything.
///
/// **A waiting task is an IOCP operation.** On a compio runtime, `register`
/// submits a compio op (an `OpCode` whose `operate` starts nothing and
/// returns `Pending`, recording the driver's port and the op's `OVERLAPPED`)
/// through `compio_runtime::Runtime::submit`, polls it once so that compio
/// pushes it, and only then links the waiter. A notifier that selects the
/// waiter posts one packet, `PostQueuedCompletionStatus(port, 0, 0,
/// OVERLAPPED)`, addressed to that op, after releasing the list lock; the
/// runtime's own `GetQueuedCompletionStatusEx` dequeues it, compio completes
/// the op and wakes the task, and the task's `poll_wait` sees the mark.
/// compio keeps an overlapped op's memory until its packet arrives, so a
/// wait that is cancelled (the future dropped, or compio cancelling the op)
/// posts the packet itself; an atomic claim makes sure that exactly one of
/// the notifier and the cancel posts it, and a cancel that finds a notifier
/// mid-post waits for that call to return, so the port is never closed
/// under it. Nothing is polled or re-armed on a spurious wake-up: a packet is
/// only ever posted for a selected waiter, so every completion means
/// "notified" (or "cancelled", which the waiter handles by re-checking on
/// the waker path).
///
/// **Why a posted packet and not a wait packet.** The research text also
/// suggests an event object bound to the port with
/// `NtAssociateWaitCompletionPacket`. That costs an event per wait plus
/// `NtCreateWaitCompletionPacket`/`NtAssociateWaitCompletionPacket`/`SetEvent`
/// calls, and compio's own event ops take that route only behind its
/// `iocp-wait-packet` feature (by default through a thread-pool wait). A
/// packet posted straight to the waiting op is one call, and the notifier
/// already knows which op it selected.
///
/// **Blocking threads** ([`wait_blocking`](WaitQueue::wait_blocking)) sleep
/// in `WaitOnAddress` on the queue's 32-bit word, used as an event count:
/// the thread snapshots the word *before* re-checking its state; a notifier
/// that selected a blocking thread marks it, bumps the word (Release) and
/// calls `WakeByAddressAll`, so a thread about to sleep with a stale
/// snapshot returns at once. Windows has no wake mask, so that wake rouses
/// every blocking thread of this queue; the ones not selected re-check and
/// sleep again (blocking threads are expected to be few).
///
/// **Cancel after wake** is exact: [`cancel`](WaitQueue::cancel) returns
/// `true` iff the waiter was marked and the owner had not observed it, and
/// the caller passes the notification on. Whether the packet had arrived is
/// irrelevant: the mark, not the packet, is the notification.
///
/// # Which path a wait takes
///
/// Chosen per wait, when the waiter registers:
///
/// | where `register` runs | path ([`IocpPath`]) | how it sleeps, how it is woken |
/// |---|---|---|
/// | a compio runtime (IOCP driver), and the one-time probe passed | [`IocpPath::Completion`] | a compio op in flight on the runtime's port, submitted by `register` and awaited by polling its `Submit` inside `poll_wait`; woken by a packet posted to that op |
/// | anywhere else: tokio, `futures::executor`, a plain thread, the probe failed or was forced negative, a posting call failed earlier in the process | [`IocpPath::Waker`] | the task's [`Waker`], exactly as in [`Intrusive`](super::Intrusive) |
/// | a thread in [`wait_blocking`](WaitQueue::wait_blocking), when `WaitOnAddress` and `WakeByAddressAll` were found | [`IocpPath::Address`] | `WaitOnAddress` on the queue's word; woken by `WakeByAddressAll` |
/// | a thread in `wait_blocking` without them, or after `WaitOnAddress` failed | [`IocpPath::Waker`] | a waker that unparks the thread, as the `WaitQueue` default |
///
/// All kinds can wait on one queue at once; the notifier wakes each selected
/// waiter the way it sleeps. **The probe** runs once per process: it posts a
/// packet to a fresh completion port and dequeues it again (so a Windows, or
/// a Wine, whose posting calls do not work makes every wait take the waker
/// path), and it reads the environment variable
/// [`DISABLE_ENV`](Self::DISABLE_ENV) (`COMPIO_SYNC_IOCP_DISABLE=1` forces it
/// negative, for testing the fallback). `WaitOnAddress` and
/// `WakeByAddressAll` are looked up at run time (`GetProcAddress`), not
/// linked, so a system without them still loads. Nothing here panics for
/// lack of a runtime or of a call.
///
/// **Errors.** If posting a packet fails, the notifier wakes the waiter's
/// task through its waker instead (the waiter keeps a current copy for this
/// case) and the completion path is turned off for the rest of the process,
/// with the error kept for [`completion_error`](Self::completion_error). A
/// completion that carries an error moves that wait to the waker path and
/// is recorded the same way. Either way the switch is made under the list
/// lock and followed by a re-check, so no wake-up is lost. A blocking thread
/// whose `WaitOnAddress` fails parks on a waker instead.
///
/// # Cost
///
/// One completion-path wait costs an `Arc` and compio's op allocation, a
/// push into the driver, and on the notifier's side one
/// `PostQueuedCompletionStatus`; the waiting runtime dequeues the packet in
/// its next `GetQueuedCompletionStatusEx`. Two tasks on one runtime that
/// wake each other through it pay that kernel round trip where the waker
/// path is a local queue push; across threads the waker path posts to the
/// waiting runtime's port too (compio's cross-thread wake), so there the two
/// are alike. The comparison binary's S5 (two threads) and S5b (one
/// runtime) rows measure exactly this.
///
/// **Measured under Wine only** (`BENCHMARKS-wine.md`, generated by
/// `wine-cargo run --release -p compio-sync-bench -- --quick --scenario S5
/// --scenario S3 ...`; Wine figures, not Windows ones). Across threads (S5)
/// the completion path costs about what the waker path costs (p50 within
/// 1-1.5x of [`Intrusive`](super::Intrusive) in three runs). On one runtime
/// (S5b) it costs about 80 to 1400 times the waker path's 0.4 us per round
/// trip, depending on the run: under Wine every posted packet and every
/// dequeue is a request to the `wineserver` process, and the figure is set
/// by how fast that process is scheduled, not by this crate. On Windows
/// both are system calls; the one-runtime cost there is still to be
/// measured on a real Windows machine.
///
/// **Choose it** when plain threads and compio tasks contend on the same
/// primitive and the threads should sleep in the kernel (`WaitOnAddress`),
/// or when every parked task should be an IOCP completion on its own port.
/// **Do not choose it for speed** on one runtime: the waker path is a local
/// queue push. Outside a compio runtime it behaves like
/// [`Intrusive`](super::Intrusive).
///
/// # What was verified where
///
/// Under Wine 10 (`wine-cargo`, compio's real IOCP driver on Wine's
/// completion ports): every contract suite (Semaphore, Mutex, Notify,
/// Condvar, the raw queue suite), the hostile-waker suite and the soak, on
/// compio (completion path) and on `futures::executor` (waker path);
/// `tests/iocp.rs` (which path each waiter takes, packets posted to a
/// runtime asleep in its port, a cancel racing a cross-thread notify, mixed
/// runtimes and blocking threads with exact counts, the whole file again
/// with the probe forced negative); and the comparison binary. Wine
/// implements completion ports, `PostQueuedCompletionStatus` and
/// `WaitOnAddress` in its own `ntdll`/`wineserver`, so these runs check the
/// protocol (exactly-once posting, cancel races, fallbacks), not Windows'
/// kernel. Needs a real Windows machine: the cost figures, the behaviour of
/// the kernel's completion queue under load, and a driver teardown while a
/// notifier is mid-post (the port lifetime argument above relies on the
/// kernel's handle reference during `PostQueuedCompletionStatus`).
///
/// **A compio caveat** (compio-driver 0.12's IOCP driver, not this crate):
/// the driver does not read its port while its own waker has been woken
/// since its last poll, so a `block_on` future that keeps waking itself
/// (a busy `yield`) starves every completion of that runtime, these
/// included, as it would starve a file read. Futures that wait (return
/// `Pending` without waking themselves) are not affected.
///
/// # Fairness
///
/// `notify_one` is strict FIFO and `notify_last` LIFO, because selection
/// happens in the list. Both fairness policies are supported.
pub struct Iocp {
    list: Mutex<List>,
    /// The blocking threads' event count: bumped by every notify that
    /// selects a thread sleeping in `WaitOnAddress`.
    word: AtomicU32,
}

/// The per-wait node of an [`Iocp`]; one lives in each waiting future.
pub struct IocpWaiter {
    /// State, links, epoch and waker (see `list::Node`). The waker is `None`
    /// on the completion and address paths.
    node: Node<Self>,
    /// `VIA_*`: how a notifier must wake this waiter. Written by the owner
    /// under the list lock, read by notifiers under the lock and by the owner
    /// at any time.
    path: AtomicU8,
    /// The completion-path park of the current wait. Set by the owner before
    /// the waiter is linked, read (cloned) by notifiers under the list lock
    /// while it is linked, cleared by the owner once the waiter is idle.
    park: ParkingMutex<Option<Arc<Park>>>,
    /// The op in flight. Owner only (the lock only makes concurrent misuse
    /// of the owner methods sound).
    submit: ParkingMutex<Option<ThreadBound<Submit<ParkOp>>>>,
}

/// The waiter list. No bookkeeping beside it: each waiter carries its path.
type List = list::List<IocpWaiter>;

// SAFETY: `node` returns the `node` field, the same one on every call.
unsafe impl Linked for IocpWaiter {
    fn node(&self) -> &Node<Self> {
        &self.node
    }
}

// SAFETY: `node`'s cells are only accessed under the lock of the one queue the
// waiter is registered with (the `WaitQueue` caller contract); `park` and
// `submit` are mutexes over `Send` data (`ThreadBound` only touches the
// `Submit` on its own thread); everything else is atomic.
unsafe impl Send for IocpWaiter {}
// SAFETY: as for `Send`.
unsafe impl Sync for IocpWaiter {}

/// What a notify must do after the list lock is released.
#[derive(Default)]
struct Wakes {
    /// The first claimed park of a selected completion-path waiter, to post
    /// (kept apart so that `notify_one` does not allocate).
    park: Option<Arc<Park>>,
    /// The others (`notify_all`).
    more_parks: Vec<Arc<Park>>,
    /// A selected waiter sleeps in `WaitOnAddress`.
    address: bool,
    /// The first panic of a fallback waker, resumed once the notify is done.
    panic: Option<Box<dyn Any + Send>>,
}

impl Wakes {
    fn push(&mut self, park: Arc<Park>) {
        match self.park {
            None => self.park = Some(park),
            Some(_) => self.more_parks.push(park),
        }
    }

    /// Ends the notify: resumes the first panic a fallback waker raised.
    fn finish(mut self) {
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
            std::mem::forget(payload);
        }
    }
}

impl Iocp {
    /// The environment variable that forces the probe negative when it is
    /// `1`. It is read once per process, when the first wait probes, so set
    /// it before the process starts waiting. For testing the fallback.
    pub const DISABLE_ENV: &str = "COMPIO_SYNC_IOCP_DISABLE";

    /// Whether this process can use the completion path at all: posting a
    /// completion packet worked in the probe, [`DISABLE_ENV`](Self::DISABLE_ENV)
    /// was not `1` at the first probe, and no posting or completion error has
    /// turned the path off ([`completion_error`](Self::completion_error)). A
    /// wait takes the path only if it also registers on a compio runtime.
    pub fn completion_supported() -> bool {
        COMPLETION_ERROR.load(Relaxed) == 0 && probe()
    }

    /// Whether blocking threads sleep in `WaitOnAddress` (found at run
    /// time); otherwise they park on a waker.
    pub fn address_wait_supported() -> bool {
        sys::address_wait().is_some()
    }

    /// The error that turned the completion path off for this process, if a
    /// post or a completion ever failed. Waits in flight at that moment
    /// finished on the waker path.
    pub fn completion_error() -> Option<io::Error> {
        match COMPLETION_ERROR.load(Relaxed) {
            0 => None,
            NOT_AN_OS_ERROR => Some(io::ErrorKind::Unsupported.into()),
            code => Some(io::Error::from_raw_os_error(code)),
        }
    }

    /// The completion half of `register`: submits the op for `waker`, then
    /// links the waiter on the completion path. Returns `false`, with the
    /// waiter still idle and unlinked, if the op could not be submitted (the
    /// caller then registers it on the waker path).
    ///
    /// The op is pushed BEFORE the waiter is linked, because pushing polls
    /// compio's `Submit`, which clones `waker` (user code), as does the
    /// fallback copy: if either panics, the waiter has never been visible to
    /// a notifier, and the dropped `Submit` cancels the op (which posts its
    /// own packet).
    fn register_via_completion(&self, waiter: Pin<&IocpWaiter>, waker: &Waker) -> bool {
        let park = Arc::new(Park::new());
        // A fresh cell returns no old waker.
        let _none = park.fallback.register(waker.clone());
        let op = ParkOp::new(Arc::clone(&park));
        let Ok(mut submit) = Runtime::try_with_current(|rt| rt.submit(op)) else {
            return false;
        };
        let mut cx = Context::from_waker(waker);
        // Pushes the op: `operate` arms the park with the port and the
        // `OVERLAPPED`. It completes only by a post, so `Ready` here means
        // the push failed.
        if Pin::new(&mut submit).poll(&mut cx).is_ready() || !park.is_armed() {
            return false;
        }
        // Stored before linking: once linked, a notifier may claim the park
        // and the owner may `cancel`, which reaps the op from here.
        let replaced = waiter.submit.lock().replace(ThreadBound::new(submit));
        debug_assert!(replaced.is_none(), "register: an idle waiter had an op");
        *waiter.park.lock() = Some(park);
        let mut list = lock(&self.list);
        waiter.path.store(VIA_COMPLETION, Relaxed);
        // SAFETY: the caller of `register` guarantees the waiter is idle, used
        // with this queue only, and pinned until it is idle again, which
        // requires unlinking it.
        unsafe { list.push_back(waiter, None) };
        true
    }

    /// The completion path of `poll_wait`. `None` means "use the waker
    /// path": the op completed without a notification (compio cancelled it,
    /// or it failed), or this is not the thread or runtime it belongs to.
    fn poll_via_completion(&self, waiter: &IocpWaiter, cx: &mut Context<'_>) -> Option<Poll<()>> {
        // Outside a compio runtime nothing drives the op's driver.
        Runtime::try_with_current(|_| ()).ok()?;
        let park = waiter.park.lock().clone()?;
        // Keep the fallback waker current (it is only woken if a post
        // fails). Cloned and the old one dropped with no lock held: both are
        // user code.
        if !park.fallback.will_wake(cx.waker()) {
            let fresh = cx.waker().clone();
            drop(park.fallback.register(fresh));
        }
        // Polling the op clones `cx`'s waker (user code), so it is moved out
        // of its slot first and put back if still pending. If the poll
        // unwinds, the `Submit` is dropped (cancelling the op, which posts
        // its own packet); the waiter stays linked on the completion path,
        // and the next `poll_wait` finds no op and moves to the waker path.
        let mut slot = waiter.submit.lock().take();
        let submit = slot.as_mut()?.get_mut();
        let Some(submit) = submit else {
            // Polled on a thread other than the op's: we may not touch it
            // (`reap` leaks it, see `ThreadBound`).
            *waiter.submit.lock() = slot;
            return None;
        };
        match Pin::new(submit).poll(cx) {
            Poll::Pending => {
                *waiter.submit.lock() = slot;
                // A notifier whose post failed wakes the fallback waker, but
                // finds none while we were registering it above: it marked
                // the waiter first, so look.
                if waiter.node.state.load(Acquire) == NOTIFIED {
                    return Some(ready(waiter));
                }
                Some(Poll::Pending)
            }
            Poll::Ready(out) => {
                drop(slot);
                match out.0 {
                    // Our packets carry success, and so does a cancel's.
                    Ok(_) => {}
                    // An abort is a cancellation by someone else (compio's
                    // cancel tokens), not a failure of the path.
                    Err(error) if error.raw_os_error() == Some(ERROR_OPERATION_ABORTED) => {}
                    Err(error) => record_error(&error),
                }
                // Acquire: pairs with the Release store in `List::mark`,
                // which the notifier made before it posted the packet.
                if waiter.node.state.load(Acquire) == NOTIFIED {
                    return Some(ready(waiter));
                }
                // Completed without a mark we can see: compio cancelled the
                // op. The waker path re-checks under the list lock.
                None
            }
        }
    }

    /// The waker path of `poll_wait`, also used when a completion-path wait
    /// falls back: stores `cx.waker()` and makes the waiter a waker-path
    /// waiter.
    ///
    /// # Safety
    ///
    /// As for [`WaitQueue::poll_wait`].
    unsafe fn poll_via_waker(&self, waiter: Pin<&IocpWaiter>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: forwarded from our caller: registered with this queue and
        // not yet observed `Ready` or cancelled.
        let polled = unsafe {
            List::poll_waker(&self.list, &waiter, cx.waker(), |_, waiter| {
                // Under the lock: from here on a notifier wakes the waker. A
                // notifier that selected this waiter before the switch
                // posted (or found the op cancelled) and marked it, and we
                // would have seen the mark under this lock.
                waiter.path.store(VIA_WAKER, Relaxed);
            })
        };
        if polled.is_ready() {
            return ready(&waiter);
        }
        Poll::Pending
    }

    /// Blocks in `WaitOnAddress` on the queue's word until `waiter` is
    /// notified; the waiter is idle on return.
    ///
    /// # Safety
    ///
    /// As for [`WaitQueue::poll_wait`].
    unsafe fn wait_address_blocking(&self, waiter: Pin<&IocpWaiter>) {
        // An op submitted by an earlier poll on a runtime is of no use to a
        // blocked thread; cancel it.
        reap(&waiter);
        let Some(address_wait) = sys::address_wait() else {
            // SAFETY: forwarded from our caller.
            return unsafe { self.park_blocking(waiter) };
        };
        let stale = {
            let mut list = lock(&self.list);
            if waiter.node.state.load(Acquire) == NOTIFIED {
                drop(list);
                finish(&waiter);
                return;
            }
            debug_assert_eq!(
                waiter.node.state.load(Relaxed),
                WAITING,
                "wait_blocking: not registered"
            );
            // From here on a notifier that selects this waiter bumps the word
            // and wakes it; before, it used the waker or the op, and we see
            // its mark under this lock.
            waiter.path.store(VIA_ADDRESS, Relaxed);
            // SAFETY: WAITING under the lock, so the waiter is linked into
            // this list.
            unsafe { list.with_waker(&waiter, Option::take) }
        };
        // User code, with no lock held.
        drop(stale);
        loop {
            // Snapshot the word BEFORE re-checking the state: a notifier
            // marks first and bumps second (Release), so either this Acquire
            // load reads the bump (and the state load below sees the mark),
            // or `WaitOnAddress` compares against a value the bump has since
            // changed and returns, or this thread is queued before the
            // notifier's `WakeByAddressAll`.
            let seen = self.word.load(Acquire);
            if waiter.node.state.load(Acquire) == NOTIFIED {
                finish(&waiter);
                return;
            }
            if address_wait.wait(&self.word, seen).is_err() {
                // SAFETY: forwarded from our caller.
                return unsafe { self.park_blocking(waiter) };
            }
        }
    }

    /// Fallback for `wait_blocking`: moves the waiter to the waker path with
    /// a waker that unparks this thread, and parks until notified.
    ///
    /// # Safety
    ///
    /// As for `wait_blocking`.
    unsafe fn park_blocking(&self, waiter: Pin<&IocpWaiter>) {
        let waker = crate::blocking::thread_waker();
        let mut cx = Context::from_waker(&waker);
        // SAFETY: forwarded from our caller.
        while unsafe { self.poll_via_waker(waiter, &mut cx) }.is_pending() {
            thread::park();
        }
    }

    /// Under the list lock, on a waiter a notify selected (before it is
    /// marked): notes how to wake it once the lock is released.
    fn selected(waiter: &IocpWaiter, wakes: &mut Wakes) {
        match waiter.path.load(Relaxed) {
            VIA_COMPLETION => {
                // The claim fails only if compio cancelled the op first; the
                // owner is then running and sees the mark under this lock.
                let park = waiter.park.lock().clone();
                if let Some(park) = park.filter(|park| park.claim()) {
                    wakes.push(park);
                }
            }
            VIA_ADDRESS => wakes.address = true,
            // The list wakes the waker.
            _ => {}
        }
    }

    /// With the list lock released: posts the claimed packets and wakes the
    /// blocking threads. Runs no user code until every claim is ended (a
    /// cancel may be waiting on one), then wakes the fallback wakers of the
    /// posts that failed, keeping the first panic for [`Wakes::finish`].
    fn deliver(&self, wakes: &mut Wakes) {
        if std::mem::take(&mut wakes.address) {
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
                record_error(&error);
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
                    std::mem::forget(payload);
                }
            }
        }
    }

    /// Notifies the waiter at `end` the way it sleeps.
    fn notify(&self, end: End) -> bool {
        let wakes = RefCell::new(Wakes::default());
        let notified = List::notify(
            &self.list,
            end,
            |_, waiter| Self::selected(waiter, &mut wakes.borrow_mut()),
            || self.deliver(&mut wakes.borrow_mut()),
        );
        wakes.into_inner().finish();
        notified
    }
}

/// Ends a notified waiter's wait: cancels its op (if the packet has not been
/// dequeued yet) and makes it idle.
fn finish(waiter: &IocpWaiter) {
    reap(waiter);
    *waiter.park.lock() = None;
    waiter.node.state.store(IDLE, Relaxed);
}

/// [`finish`], then `Ready`.
fn ready(waiter: &IocpWaiter) -> Poll<()> {
    finish(waiter);
    Poll::Ready(())
}

/// Drops the waiter's op, if any. A pending op is cancelled by compio, which
/// calls `ParkOp::cancel`: it posts the op's packet unless a notifier did.
/// The notification state is untouched: it lives in `state`.
fn reap(waiter: &IocpWaiter) {
    let op = waiter.submit.lock().take();
    drop(op);
}

/// `ERROR_OPERATION_ABORTED` (winerror.h): an I/O operation was cancelled.
const ERROR_OPERATION_ABORTED: i32 = 995;

/// The value recorded in [`COMPLETION_ERROR`] for an error without a code.
const NOT_AN_OS_ERROR: i32 = -1;

/// The first posting or completion error (a Win32 code, or
/// `NOT_AN_OS_ERROR`); 0 while none happened. Non-zero turns the completion
/// path off.
static COMPLETION_ERROR: AtomicI32 = AtomicI32::new(0);

fn record_error(error: &io::Error) {
    let code = match error.raw_os_error() {
        Some(0) | None => NOT_AN_OS_ERROR,
        Some(code) => code,
    };
    let _first_error_wins = COMPLETION_ERROR.compare_exchange(0, code, Relaxed, Relaxed);
}

/// Whether a registration on this thread, now, takes the completion path.
fn completion_here() -> bool {
    Iocp::completion_supported()
        && Runtime::try_with_current(|rt| rt.driver_type() == DriverType::IOCP).unwrap_or(false)
}

/// The one-time probe: do completion packets work in this process?
fn probe() -> bool {
    static PROBE: OnceLock<bool> = OnceLock::new();
    *PROBE.get_or_init(|| {
        if std::env::var_os(Iocp::DISABLE_ENV).is_some_and(|v| v == "1") {
            return false;
        }
        sys::packets_round_trip()
    })
}

// SAFETY: every contract point is argued where it is implemented: selection
// is exact because a node is unlinked and marked `NOTIFIED` under the lock
// that guards linking, and a packet or address wake only carries a wake-up
// the owner re-checks against `state`; wakers are cloned before linking,
// taken under the lock and woken after it, and packets are posted after it
// too; a node's memory is not touched after it is marked (a notifier keeps
// only an `Arc` of the park, never a pointer to the node); ordering comes
// from the lock plus the Release/Acquire pairs on `state` and the word.
unsafe impl WaitQueue for Iocp {
    type Waiter = IocpWaiter;

    const NEW: Self = Self {
        list: Mutex::new(List::new(())),
        word: AtomicU32::new(0),
    };

    fn new() -> Self {
        Self::NEW
    }

    fn new_waiter() -> IocpWaiter {
        IocpWaiter {
            node: Node::new(),
            path: AtomicU8::new(VIA_WAKER),
            park: ParkingMutex::new(None),
            submit: ParkingMutex::new(None),
        }
    }

    unsafe fn register(&self, waiter: Pin<&IocpWaiter>, waker: &Waker) {
        // Every piece of user code (cloning `waker`, directly or inside
        // compio's `Submit::poll`) runs BEFORE the waiter is linked, so a
        // panic leaves it idle (contract point 7); linking runs none.
        if completion_here() && self.register_via_completion(waiter, waker) {
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

    unsafe fn poll_wait(&self, waiter: Pin<&IocpWaiter>, cx: &mut Context<'_>) -> Poll<()> {
        // Acquire: pairs with the Release store in `List::mark`.
        if waiter.node.state.load(Acquire) == NOTIFIED {
            return ready(&waiter);
        }
        if waiter.path.load(Relaxed) == VIA_COMPLETION {
            if let Some(poll) = self.poll_via_completion(&waiter, cx) {
                return poll;
            }
            // The op cannot carry this wait on; drop what is left of it.
            reap(&waiter);
        }
        // SAFETY: forwarded from our caller.
        unsafe { self.poll_via_waker(waiter, cx) }
    }

    /// Sleeps in `WaitOnAddress` on the queue's word (or parks the thread
    /// if that call is missing or fails).
    unsafe fn wait_blocking(&self, waiter: Pin<&IocpWaiter>) {
        // SAFETY: forwarded from the caller.
        unsafe { self.wait_address_blocking(waiter) }
    }

    unsafe fn cancel(&self, waiter: Pin<&IocpWaiter>) -> bool {
        match waiter.node.state.load(Acquire) {
            IDLE => return false,
            NOTIFIED => {
                finish(&waiter);
                return true;
            }
            _ => {}
        }
        // Cancel the op first: its packet (posted by the cancel, or by a
        // notifier that selects us meanwhile) then wakes nobody.
        reap(&waiter);
        let waker = {
            let mut list = lock(&self.list);
            if waiter.node.state.load(Acquire) == NOTIFIED {
                drop(list);
                finish(&waiter);
                return true;
            }
            // SAFETY: still WAITING under the lock, so the waiter is linked
            // into this list (the caller uses it with no other queue).
            unsafe { list.remove(&waiter) }
        };
        *waiter.park.lock() = None;
        // User code, with no lock held.
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
        // The parks and blocking threads selected under the lock, delivered
        // after each batch.
        let wakes = RefCell::new(Wakes::default());
        let count = List::notify_all(
            &self.list,
            |_, waiter| Self::selected(waiter, &mut wakes.borrow_mut()),
            || self.deliver(&mut wakes.borrow_mut()),
        );
        wakes.into_inner().finish();
        count
    }
}

impl IocpWaiter {
    /// How this waiter is parked, or `None` while it is not waiting.
    pub fn path(&self) -> Option<IocpPath> {
        if self.node.state.load(Acquire) != WAITING {
            return None;
        }
        Some(match self.path.load(Relaxed) {
            VIA_COMPLETION => IocpPath::Completion,
            VIA_ADDRESS => IocpPath::Address,
            _ => IocpPath::Waker,
        })
    }
}

impl Default for Iocp {
    fn default() -> Self {
        <Self as WaitQueue>::new()
    }
}

impl std::fmt::Debug for Iocp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iocp")
            .field("word", &self.word.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for IocpWaiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IocpWaiter")
            .field("state", &self.node.state.load(Relaxed))
            .field("path", &self.path())
            .finish_non_exhaustive()
    }
}
