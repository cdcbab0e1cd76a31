//! [`Iocp`] (Windows): the queue, its waiter and its [`WaitQueue`]
//! implementation. Waiters are selected in the shared intrusive list
//! (`list.rs`); waiting tasks park as IOCP completions on their compio
//! runtime's port, blocking threads sleep in `WaitOnAddress`, and everything
//! else waits on its waker.
//!
//! This file holds the queue's state, the waker path and the `WaitQueue`
//! implementation. The other jobs have their own files, split as the Linux
//! twin's (`io_uring_futex/`) are:
//!
//! | file | job |
//! |---|---|
//! | `completion_wait.rs` | the completion path: submit and link in `register`, poll the op in `poll_wait` |
//! | `address_wait.rs` | the `WaitOnAddress` path of `wait_blocking`, and its parking fallback |
//! | `deliver.rs` | the notify side: the list hooks that claim parks under the lock, and the posts and address wakes after it |
//! | `op.rs` | the compio op a completion-path waiter parks as, and its exactly-once completion ([`Park`](op::Park)) |
//! | `sys.rs` | the Win32 calls: posting a packet, `WaitOnAddress`/`WakeByAddressAll`, the packet round trip of the probe |
//! | `probe.rs` | the global probe: may this process, this thread use the completion path? |
//! | `../thread_bound.rs` (shared with `IoUringFutex`) | `ThreadBound`: the op's `!Send` parts inside a `Send` waiter |
//!
//! The design, which path a wait takes when, and what was verified where are
//! documented on [`Iocp`], so that they render with the type (this module is
//! private).

mod address_wait;
mod completion_wait;
mod deliver;
mod op;
mod probe;
mod sys;

use std::{
    cell::RefCell,
    io,
    pin::Pin,
    sync::{Arc, atomic::AtomicU32},
    task::{Context, Poll, Waker},
};

use compio_runtime::Submit;

use self::{
    deliver::Wakes,
    op::{Park, ParkOp},
};
use super::{
    Cancelled, Select, WaitQueue, Woken,
    list::{self, IDLE, Linked, NOTIFIED, Node, Patience, Pick, WAITING},
    retired::reuse_or_clone,
    thread_bound::ThreadBound,
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
/// inside the waiting futures), and a notifier picks a waiter, writes the
/// wake-up value into its node and marks it notified under the list lock.
/// That mark *is* the notification: it makes every notify exact
/// (`notify_one` returns `true` only after a specific waiting waiter was
/// marked, whose next `poll_wait` returns `Ready` with the notifier's
/// [`Woken`], or whose `cancel` returns [`Cancelled::Notified`] with it).
/// `notify_while` offers waiters to its selector under the same lock, and
/// the tag the selector leaves is in the node too. The completion packet or
/// the address wake only carries the *wake-up*, never a value; a woken
/// waiter re-reads its own state before believing anything.
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
/// **Why a posted packet and not a wait packet.** An event object bound to
/// the port with `NtAssociateWaitCompletionPacket` would also work. That
/// costs an event per wait plus
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
/// [`Cancelled::Notified`] iff the waiter was marked and the owner had not
/// observed it, and the caller passes the notification on. Whether the
/// packet had arrived is irrelevant: the mark, not the packet, is the
/// notification.
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
/// is recorded the same way (an abort by compio's own cancel tokens is a
/// cancellation, not an error). Either way the switch is made under the list
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
/// **Measured under Wine only** (figures in `BENCHMARKS-wine.md`, generated
/// by the comparison binary under `wine-cargo`; Wine figures, not Windows
/// ones). Across threads (S5) the completion path costs about what the waker
/// path costs. On one runtime (S5b) it costs orders of magnitude more than
/// the waker path, and the factor varies widely from run to run: under Wine
/// every posted packet and every dequeue is a request to the `wineserver`
/// process, so the figure is set by how fast that process is scheduled, not
/// by this crate. On Windows both are system calls; the one-runtime cost
/// there is still to be measured on a real Windows machine.
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
/// `tests/iocp.rs` (which path each waiter takes, wake-up values and tags on
/// each path, `notify_while` and `register_front` with parked runtimes and
/// blocked threads, packets posted to a runtime asleep in its port, a cancel
/// racing a cross-thread notify, mixed runtimes and blocking threads with
/// exact counts, the whole file again with the probe forced negative); and
/// the comparison binary. Wine implements completion ports,
/// `PostQueuedCompletionStatus` and `WaitOnAddress` in its own
/// `ntdll`/`wineserver`, so these runs check the protocol (exactly-once
/// posting, cancel races, fallbacks), not Windows' kernel. Needs a real
/// Windows machine: the cost figures, the behaviour of the kernel's
/// completion queue under load, and a driver teardown while a notifier is
/// mid-post (the port lifetime argument above relies on the kernel's handle
/// reference during `PostQueuedCompletionStatus`).
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
/// `notify_one` is strict FIFO (registration order), `notify_last` is LIFO
/// and `notify_while` offers waiters oldest first, because selection
/// happens in the list; [`register_front`](WaitQueue::register_front) links
/// at the head on every path. Both fairness policies are supported.
pub struct Iocp {
    list: Mutex<List>,
    /// The blocking threads' event count: bumped by every notify that
    /// selects a thread sleeping in `WaitOnAddress`.
    word: AtomicU32,
}

/// The per-wait node of an [`Iocp`]; one lives in each waiting future.
pub struct IocpWaiter {
    /// State, links, epoch, waker, tag and wake-up value (see `list::Node`).
    /// The waker is `None` on the completion and address paths.
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
        probe::supported()
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
        probe::error()
    }

    /// `register` (at the tail) and `register_front` (at the head, if
    /// `front`).
    ///
    /// # Safety
    ///
    /// As for [`WaitQueue::register`].
    unsafe fn register_at(&self, front: bool, waiter: Pin<&IocpWaiter>, waker: &Waker, tag: usize) {
        // Every piece of user code (cloning `waker`, directly or inside
        // compio's `Submit::poll`) runs BEFORE the waiter is linked, so a
        // panic leaves it idle (contract point 7); linking runs none.
        // SAFETY: the caller guarantees the waiter is idle, and is its owner.
        let mut retired = unsafe { waiter.node.take_retired() };
        // What the last wait's `cancel` left in the waiter (see `observe`).
        reap(&waiter);
        let park = waiter.park.lock().take();
        drop(park);
        if probe::completion_here() {
            // User code too, and the waiter is still idle.
            drop(retired.take());
            if self.register_via_completion(front, waiter, waker, tag) {
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

    /// The waker path of `poll_wait`, also used when a completion-path wait
    /// falls back: stores `cx.waker()` and makes the waiter a waker-path
    /// waiter.
    ///
    /// # Safety
    ///
    /// As for [`WaitQueue::poll_wait`].
    unsafe fn poll_via_waker(&self, waiter: Pin<&IocpWaiter>, cx: &mut Context<'_>) -> Poll<Woken> {
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
        match polled {
            Poll::Ready(_) => Poll::Ready(finish(&waiter)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Notifies the waiter at `end`, handing it `wakeup`, and wakes it the
    /// way it sleeps.
    fn notify(&self, pick: Pick, wakeup: usize) -> bool {
        let wakes = RefCell::new(Wakes::default());
        let notified = List::notify(
            &self.list,
            pick,
            wakeup,
            |_, waiter| wakes.borrow_mut().selected(waiter),
            || self.deliver(&mut wakes.borrow_mut()),
        );
        wakes.into_inner().finish();
        notified
    }
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
    waiter: Pin<&IocpWaiter>,
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

/// Ends a notified waiter's wait: cancels its op (if the packet has not been
/// dequeued yet), makes it idle and returns what the notifier handed over.
/// If dropping the op or the park unwinds (user code: compio's clone of the
/// waker, the park's fallback waker), the waiter is still notified, which
/// the next `poll_wait` or `cancel` handles.
///
/// The caller has observed `NOTIFIED` with an Acquire load.
fn finish(waiter: &IocpWaiter) -> Woken {
    reap(waiter);
    let park = waiter.park.lock().take();
    drop(park);
    observe(waiter)
}

/// Makes a notified waiter idle and returns what the notifier handed over,
/// running no user code: `cancel`'s half of [`finish`]. The op and the park
/// stay in the waiter, retired (dropping them may drop wakers, which is user
/// code): the next registration drops them, or the waiter's drop does, after
/// the caller has acted on the cancel (contract point 7).
///
/// The caller has observed `NOTIFIED` with an Acquire load.
fn observe(waiter: &IocpWaiter) -> Woken {
    // SAFETY: we own the waiter and observed NOTIFIED with Acquire (our
    // caller's promise); nobody else touches a notified node.
    let woken = unsafe { waiter.node.woken() };
    waiter.node.state.store(IDLE, Relaxed);
    woken
}

/// Drops the waiter's op, if any. A pending op is cancelled by compio, which
/// calls `ParkOp::cancel`: it posts the op's packet unless a notifier did.
/// The notification state is untouched: it lives in the node.
fn reap(waiter: &IocpWaiter) {
    let op = waiter.submit.lock().take();
    drop(op);
}

// SAFETY: every contract point is argued where it is implemented: selection
// is exact because a node is unlinked and marked `NOTIFIED` (with its wake-up
// value) under the lock that guards linking, and a packet or address wake
// only carries a wake-up the owner re-checks against `state`;
// `notify_while`'s selector runs under that same lock; wakers are cloned
// before linking, taken under the lock and woken after it, and packets are
// posted after it too; a node's memory is not touched after it is marked (a
// notifier keeps only an `Arc` of the park, never a pointer to the node);
// ordering comes from the lock plus the Release/Acquire pairs on `state` and
// the word; `register` runs all user code before linking.
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

    unsafe fn register(&self, waiter: Pin<&IocpWaiter>, waker: &Waker, tag: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.register_at(false, waiter, waker, tag) }
    }

    /// Links at the head of the list, on whichever path `register` would
    /// take: the next `notify_one` or `notify_while` selects this waiter.
    unsafe fn register_front(&self, waiter: Pin<&IocpWaiter>, waker: &Waker, tag: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.register_at(true, waiter, waker, tag) }
    }

    unsafe fn poll_wait(&self, waiter: Pin<&IocpWaiter>, cx: &mut Context<'_>) -> Poll<Woken> {
        // Acquire: pairs with the Release store of NOTIFIED in `List::mark`.
        if waiter.node.state.load(Acquire) == NOTIFIED {
            return Poll::Ready(finish(&waiter));
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
    unsafe fn wait_blocking(&self, waiter: Pin<&IocpWaiter>) -> Woken {
        // SAFETY: forwarded from the caller.
        unsafe { self.wait_address_blocking(waiter) }
    }

    unsafe fn poll_notified(&self, waiter: Pin<&IocpWaiter>) -> Poll<Woken> {
        // Acquire: pairs with the Release store of NOTIFIED in `List::mark`.
        // `cancel`'s half of a notified waiter's `Ready`: the wait it leaves
        // behind is retired, as there (no user code runs here).
        if waiter.node.state.load(Acquire) == NOTIFIED {
            Poll::Ready(observe(&waiter))
        } else {
            Poll::Pending
        }
    }

    unsafe fn cancel(&self, waiter: Pin<&IocpWaiter>) -> Cancelled {
        // No user code runs here (contract point 7): the waker, the op and
        // the park the wait leaves behind are retired in the waiter (see
        // `observe`), and dropped after the caller has acted on the result.
        // Acquire: pairs with the Release store of NOTIFIED in `List::mark`.
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
        // Unlinked, no notifier selects the waiter any more, so none posts
        // to its op: the op's own cancel posts its packet when the op is
        // dropped (with the waiter, or at its next registration), and that
        // packet wakes nobody.
        // SAFETY: still WAITING under the lock, so the waiter is linked into
        // this list (the caller uses it with no other queue).
        let tag = unsafe { list.remove(&waiter) };
        Cancelled::Removed { tag }
    }

    unsafe fn release(&self, waiter: Pin<&IocpWaiter>) {
        // As at the start of `register_at`, and nothing armed after: the op
        // holds the runtime's driver, and only this thread may drop it
        // (`ThreadBound`); left for the waiter's drop on another thread, it
        // would wait there for this thread to arm another wait or exit, and
        // the runtime's driver with it.
        reap(&waiter);
        let park = waiter.park.lock().take();
        drop(park);
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
        // The parks and blocking threads selected under the lock, delivered
        // after each batch.
        let wakes = RefCell::new(Wakes::default());
        let count = List::notify_all(
            &self.list,
            wakeup,
            |_, waiter| wakes.borrow_mut().selected(waiter),
            || self.deliver(&mut wakes.borrow_mut()),
        );
        wakes.into_inner().finish();
        count
    }

    fn notify_while(&self, select: impl FnMut(&mut usize) -> Select) -> usize {
        // As `notify_all`: under the lock, each waiter `select` picks has its
        // park claimed (or its address wake noted) as it is marked; after
        // each batch, the claimed packets are posted and the word woken.
        let wakes = RefCell::new(Wakes::default());
        let count = List::notify_while(
            &self.list,
            select,
            |_, waiter| wakes.borrow_mut().selected(waiter),
            || self.deliver(&mut wakes.borrow_mut()),
        );
        wakes.into_inner().finish();
        count
    }
}

impl IocpWaiter {
    /// How this waiter is parked, or `None` while it is not waiting.
    pub fn path(&self) -> Option<IocpPath> {
        // Acquire: pairs with the Release store of NOTIFIED in `List::mark`
        // (a notified waiter reports `None`).
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
