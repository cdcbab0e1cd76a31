//! The wait-queue engine: the [`WaitQueue`] trait and its backends.
//!
//! Every primitive in this crate keeps its *condition* (permits, a stored
//! notification, ...) in its own atomics and parks waiting tasks in a
//! [`WaitQueue`]. The queue knows nothing about the condition. The two meet
//! through one protocol, the *event count* (Dekker-style) handshake:
//!
//! ```text
//!   waiter                                notifier
//!   ------                                --------
//!   queue.register(node, waker, tag)      change the condition (atomic RMW)
//!   fence(SeqCst)                         fence(SeqCst)
//!   re-check the condition                queue.notify_one(wakeup)
//!   if unmet: return Pending
//! ```
//!
//! The two `SeqCst` fences order "register, then re-check" against "change,
//! then look for waiters": either the waiter's re-check sees the change, or the
//! notifier's look at the queue sees the registered waiter. A kernel futex is
//! the same shape (`register` snapshots the futex word, `notify` bumps it), so
//! one trait fits list-based queues and futex-based ones alike.
//!
//! A notify hands the waiter it selects a *wake-up value*, and
//! [`notify_while`](WaitQueue::notify_while) lets the notifier look at each
//! waiter's *tag* in queue order and hand it something (permits) before it
//! is woken: a primitive learns why its task woke, with nothing to re-check,
//! as maitake-sync's `Wakeup` and tokio's permit assignment do.
//!
//! | backend | what it is | allocation per wait | wake order |
//! |---|---|---|---|
//! | [`MutexVecDeque`] | `std::sync::Mutex<VecDeque<..>>` (the baseline) | amortised `VecDeque` growth | FIFO |
//! | [`Intrusive`] | intrusive doubly-linked list, nodes pinned in the futures | none | FIFO |
//! | [`ParkingLotHybrid`] | lock-free slot for a lone waiter, `parking_lot::Mutex` list for the rest | amortised `VecDeque` growth | FIFO |
//! | [`SegQueue`] | `Arc` handles in a lock-free `crossbeam_queue::SegQueue`; notifiers take turns on a consumer lock | one `Arc` per wait | FIFO (`notify_last` = `notify_one`) |
//! | `IoUringFutex` (Linux, feature `io-uring-futex`) | the intrusive list for selection; waiters park on one futex word via io_uring `FUTEX_WAIT` or `futex(2)`, else on their waker | one compio op per io_uring wait | FIFO |
//! | [`Local`] (single thread: `!Send`, `!Sync`) | [`Intrusive`]'s list behind a `RefCell`; the backend of [`crate::local`] | none | FIFO |
//! | `Iocp` (Windows, feature `iocp`) | the intrusive list for selection; waiters park as IOCP completions on their runtime's port, or in `WaitOnAddress`, else on their waker | one compio op per completion wait | FIFO |
//!
//! [`DefaultBackend`] names the one the primitives use when none is chosen.
//!
//! # Choosing a backend
//!
//! The comparison binary measures every backend side by side
//! ([BENCHMARKS.md] is its latest dated report). What it shows, and what to
//! expect on other machines: the four userspace queues are within
//! run-to-run noise of each other, because the cost of contention is the
//! cross-thread wake-up and the fairness policy, not the queue. Keep the
//! default ([`Intrusive`]: no allocation, FIFO) unless you have a reason:
//! [`MutexVecDeque`] is the simplest to audit; [`SegQueue`] never blocks a
//! registering task on a lock; `IoUringFutex` lets plain threads
//! (`blocking_*`) and tasks sleep on one futex word, at the price of a
//! kernel round trip per wait (several times a waker round trip on one
//! runtime; see its docs); `Iocp` is its Windows twin.
//!
//! [BENCHMARKS.md]: https://github.com/compio-rs/compio-sync/blob/main/BENCHMARKS.md
//!
//! # Writing a primitive on the engine
//!
//! This module is public for backend authors (implement [`WaitQueue`] and
//! keep every point of its `# Safety` contract; [`MutexVecDeque`] is the
//! simplest reference) and for authors of new primitives. A primitive keeps
//! its condition in its own atomics and follows the handshake above. A
//! one-shot event, complete with cancellation:
//!
//! ```
//! use std::{
//!     future::Future,
//!     marker::PhantomPinned,
//!     pin::Pin,
//!     sync::atomic::{AtomicBool, Ordering::*, fence},
//!     task::{Context, Poll},
//! };
//! use compio_sync::backend::{DefaultBackend, WaitQueue};
//!
//! struct Event<B: WaitQueue = DefaultBackend> {
//!     set: AtomicBool,
//!     queue: B,
//! }
//!
//! impl<B: WaitQueue> Event<B> {
//!     fn set(&self) {
//!         self.set.store(true, Release);
//!         // Change the condition, fence, then look for waiters.
//!         fence(SeqCst);
//!         self.queue.notify_all(0);
//!     }
//!     fn wait(&self) -> Wait<'_, B> {
//!         Wait { event: self, queued: false, node: B::new_waiter(), _pin: PhantomPinned }
//!     }
//! }
//!
//! struct Wait<'a, B: WaitQueue> {
//!     event: &'a Event<B>,
//!     queued: bool,
//!     node: B::Waiter,
//!     _pin: PhantomPinned, // the node may be linked into the queue: never move it
//! }
//!
//! impl<B: WaitQueue> Future for Wait<'_, B> {
//!     type Output = ();
//!     fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
//!         // SAFETY: `node` is never moved out of the pinned future.
//!         let (event, queued, node) = unsafe {
//!             let this = self.get_unchecked_mut();
//!             (this.event, &mut this.queued, Pin::new_unchecked(&this.node))
//!         };
//!         if !*queued {
//!             if event.set.load(Acquire) {
//!                 return Poll::Ready(());
//!             }
//!             // Register, fence, then re-check the condition.
//!             // SAFETY: the node is idle, used with this queue only, and
//!             // pinned until `Drop` has cancelled it.
//!             unsafe { event.queue.register(node, cx.waker(), 0) };
//!             *queued = true;
//!             fence(SeqCst);
//!             if event.set.load(Acquire) {
//!                 return Poll::Ready(()); // `Drop` unlinks the node
//!             }
//!         }
//!         // SAFETY: registered above and not yet observed `Ready`.
//!         match unsafe { event.queue.poll_wait(node, cx) } {
//!             Poll::Ready(_woken) => {
//!                 *queued = false;
//!                 Poll::Ready(())
//!             }
//!             Poll::Pending => Poll::Pending,
//!         }
//!     }
//! }
//!
//! impl<B: WaitQueue> Drop for Wait<'_, B> {
//!     fn drop(&mut self) {
//!         if self.queued {
//!             // SAFETY: registered (so pinned since) with this queue. A
//!             // `notify_all` it received needs no passing on.
//!             unsafe { self.event.queue.cancel(Pin::new_unchecked(&self.node)) };
//!         }
//!     }
//! }
//!
//! # compio::runtime::Runtime::new().unwrap().block_on(async {
//! let event = Event { set: AtomicBool::new(false), queue: DefaultBackend::new() };
//! let (_, ()) = futures::join!(event.wait(), async { event.set() });
//! # });
//! ```
//!
//! # Platform selection
//!
//! | target | backends that exist | [`DefaultBackend`] |
//! |---|---|---|
//! | Linux | the four userspace queues, and `IoUringFutex` (feature `io-uring-futex`, on by default) | [`Intrusive`] |
//! | Windows | the four userspace queues, and `Iocp` (feature `iocp`, on by default) | [`Intrusive`] |
//! | any other (macOS, the BSDs, ...) | the four userspace queues; both features are accepted and ignored | [`Intrusive`] |
//!
//! The default is the same everywhere, on purpose. The userspace queues need
//! nothing from the OS beyond `std`, and [`Intrusive`] is within noise of the
//! other three while allocating nothing per wait (table above). The two
//! kernel-transport backends, `IoUringFutex` and `Iocp`, keep selection in
//! that same list and only change how a waiter sleeps: each wait on one
//! runtime then pays a kernel round trip (an io_uring `FUTEX_WAIT` op, or a
//! posted IOCP completion) where the waker path is a local queue push, and
//! across threads they measure the same as the waker path, because there
//! the OS wake-up is the cost for every mechanism. So neither is a better
//! default on its platform; they are there for what the waker path cannot
//! do (plain threads sleeping in the kernel beside tasks, every parked task
//! a completion on its runtime), and each falls back to the waker path where
//! its kernel facility is missing. How much a wait costs on each path is in
//! their docs and in `BENCHMARKS.md`; the `Iocp` figures so far are
//! measured under Wine only, and its docs say what still needs a real
//! Windows machine.
//!
//! The crate builds where neither futex nor IOCP exists: `cargo check -p
//! compio-sync --lib` passes for `x86_64-unknown-freebsd` and
//! `aarch64-apple-darwin` (with `-Zbuild-std`, through the same toolchain
//! `wine-cargo` uses for Windows: `wine-cargo check -p compio-sync --lib
//! --target x86_64-unknown-freebsd --target aarch64-apple-darwin`), with
//! default features and with none.

use std::{
    any::Any,
    panic::{AssertUnwindSafe, catch_unwind, resume_unwind},
    pin::Pin,
    task::{Context, Poll, Waker},
};

mod intrusive;
#[cfg(all(target_os = "linux", feature = "io-uring-futex", not(loom)))]
mod io_uring_futex;
#[cfg(all(windows, feature = "iocp", not(loom)))]
mod iocp;
mod list;
mod list_lock;
mod local;
mod mutex_vecdeque;
mod parking_lot_hybrid;
mod retired;
mod seg_queue;
#[cfg(any(
    all(target_os = "linux", feature = "io-uring-futex", not(loom)),
    all(windows, feature = "iocp", not(loom))
))]
mod thread_bound;
mod waker_cell;

#[cfg(all(target_os = "linux", feature = "io-uring-futex", not(loom)))]
pub use self::io_uring_futex::{FutexWaiter, IoUringFutex, WaitPath};
#[cfg(all(windows, feature = "iocp", not(loom)))]
pub use self::iocp::{Iocp, IocpPath, IocpWaiter};
pub use self::parking_lot_hybrid::{HybridWaiter, ParkingLotHybrid};
pub use self::seg_queue::{SegQueue, SegQueueWaiter};
pub use self::{
    intrusive::{Intrusive, IntrusiveWaiter},
    local::Local,
    mutex_vecdeque::{MutexVecDeque, VecDequeWaiter},
};

/// The backend every primitive uses unless another is named with
/// `with_backend`: [`Intrusive`], the zero-allocation FIFO list.
pub type DefaultBackend = Intrusive;

/// What a queue hands the waiter it selects, and what the waiter left for it.
///
/// `wakeup` is written by the notifier before the waiter is marked notified:
/// its meaning is the primitive's (which `notify_*` picked it, "permits
/// granted", "closed", ...). `tag` is the value the waiter registered with,
/// as a selector of [`WaitQueue::notify_while`] may have lowered it (a
/// semaphore waiter registers the permits it still needs; a hand-over lowers
/// it as it assigns permits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Woken {
    /// The value the notifier handed over.
    pub wakeup: usize,
    /// The waiter's tag when it was selected.
    pub tag: usize,
}

/// What [`WaitQueue::cancel`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// The waiter was idle: nothing to undo.
    Idle,
    /// The waiter was waiting and has been removed; `tag` is its tag then
    /// (lower than registered if a selector assigned it something).
    Removed {
        /// The waiter's tag when it was removed.
        tag: usize,
    },
    /// The waiter had been notified and its owner had not observed it: the
    /// caller now holds this wake-up and must pass on what it must not keep.
    Notified(Woken),
}

/// A [`WaitQueue::notify_while`] selector's verdict on the waiter it is
/// offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    /// Notify this waiter, handing it this wake-up value; then offer the next.
    Notify(usize),
    /// Leave this waiter queued (with its tag as the selector left it), and
    /// stop.
    Keep,
}

/// A queue of parked tasks, the engine under every primitive of this crate.
///
/// A queue holds *waiters*: per-wait nodes of type [`WaitQueue::Waiter`] that
/// live inside the waiting future (pinned there, so a queue may link them
/// intrusively). A waiter is in one of three states:
///
/// * **idle**: not known to the queue (the state after
///   [`new_waiter`](WaitQueue::new_waiter), after `poll_wait` returned
///   `Ready`, and after `cancel`);
/// * **waiting**: registered, not yet selected by a notify;
/// * **notified**: selected by a notify, which the owner has not yet observed.
///
/// A notifier hands the waiter it selects a *wake-up* value, and a waiter
/// registers with a *tag* that selectors can read and lower (see [`Woken`]):
/// the primitive learns why it woke, and a hand-over (permits, a slot, a
/// value) is complete before the waiter runs, with no re-check.
///
/// # Safety
///
/// Implementors promise all of the following; the primitives rely on each one
/// for memory safety or for the absence of lost wakeups.
///
/// 1. **Selection is exact.** `notify_one` and `notify_last` move at most one
///    waiting waiter to notified and return `true` iff they did; `notify_all`
///    moves every waiter that was waiting when it was called (and no waiter
///    registered after it started) and returns how many; `notify_while` offers
///    waiting waiters to its selector one at a time, oldest first, and
///    notifies exactly those the selector picks. A notified waiter is never
///    selected again until it is registered anew. `notify_one` selects in
///    registration order (FIFO) unless the backend's docs say otherwise.
/// 2. **Notified is sticky, and carries its value.** Once a waiter is
///    notified, the next `poll_wait` returns `Ready` and the next `cancel`
///    returns [`Cancelled::Notified`], each with the [`Woken`] the notifier
///    left; either one returns the waiter to idle. `cancel` on a waiting
///    waiter returns [`Cancelled::Removed`] with its current tag and leaves
///    the queue as if the waiter had never registered; on an idle waiter it
///    returns [`Cancelled::Idle`].
/// 3. **Wake-up.** When a notify selects a waiter, it wakes the waker most
///    recently given to `register` or `poll_wait` for that waiter, after the
///    waiter is marked notified.
/// 4. **Ordering.** Everything the caller did before a notify call
///    happens-before the `Ready` that observes its selection. A caller that
///    issues `fence(SeqCst)` after `register` and before re-checking its
///    condition, and a notifier that issues `fence(SeqCst)` after changing the
///    condition and before calling `notify_*`, never both miss each other.
///    Calls of `notify_while` are serialized with each other (one
///    *selection lock*), so a selector's reads and writes of the primitive's
///    state are atomic with respect to other selectors; every selection is
///    exact (point 1), whichever notify makes it. A queue whose
///    `REGISTERS_UNDER_SELECTION_LOCK` is `true` keeps that promise, and
///    the one of [`notify_or`](WaitQueue::notify_or): a registration is
///    either seen by a notify or happens-after it (and after its
///    `otherwise`).
/// 5. **No user code under locks.** Wakers are woken and dropped outside any
///    lock the queue holds, so a waker that re-enters the queue (or the
///    primitive around it) from `wake` or `Drop` cannot deadlock. The
///    selector of `notify_while` runs under the selection lock and may hold
///    up a concurrent `cancel` of the waiter it is offered: it must be short,
///    must not block or call into the queue, and must not panic.
/// 6. **No access after idle.** Once a waiter is idle (by `Ready` or by
///    `cancel`), the queue never touches its memory again, so the owner may
///    drop it.
/// 7. **Misbehaving wakers cost only their own task.** Cloning, waking and
///    dropping a waker is user code, and it may panic or re-enter the queue.
///    None of it runs under a lock of the queue (point 5; a `clone` included:
///    under a lock the queue only compares wakers with [`Waker::will_wake`]).
///    If `register` unwinds, the waiter is **idle**: nothing can have
///    selected it, and the caller need not cancel it (the queue clones
///    before the waiter becomes visible, and runs no user code after). If
///    `poll_wait` unwinds, the waiter is in a state the next `poll_wait` or
///    `cancel` handles (still waiting, or notified, never half-linked), so a
///    notification it had received is still there. **`cancel` runs no user
///    code, and neither does `poll_wait` once it has made the waiter idle to
///    return `Ready`**: what they report (a notification, or an assignment
///    to pass on) always reaches the caller. The waker they take back is
///    *retired* into the waiter and dropped by its next `register` (before
///    the waiter becomes visible), by [`release`](WaitQueue::release), or
///    with the waiter itself, which the caller drops after acting on the
///    result; a panic of that drop is then
///    the caller's to propagate, with nothing lost. A `register` whose waker
///    wakes the same task as the retired one reuses it. A panicking `wake`
///    in `notify_all` or `notify_while` does not stop it: every selected
///    waiter is still marked and woken, and the first panic is resumed once
///    at the end; `notify_one` and `notify_last` mark their waiter before
///    they wake it. No waker panic aborts the process.
///
/// Callers of the `unsafe` methods promise what their `# Safety` sections say:
/// a waiter is used with one queue only, its owner makes its calls on it one
/// at a time (they never overlap: a future makes them from `poll` and `drop`,
/// through `&mut self`), and it is idle (cancelled or observed `Ready`)
/// before it is moved out of its pin or dropped.
///
/// A queue need not be `Send` or `Sync`: a primitive is as thread-safe as its
/// queue (its auto traits follow from its fields), and [`ThreadSafe`] names
/// the queues threads may share. [`Local`] is neither.
pub unsafe trait WaitQueue: Sized + 'static {
    /// The per-wait node, stored (pinned) in each waiting future.
    type Waiter;

    /// Whether `register` and `register_front` link a waiter under the lock
    /// that every `notify_*` takes to select waiters (the selection lock of
    /// contract point 4). The lock then orders each registration against
    /// each notify by itself: whichever takes it second happens-after
    /// everything the other did before it. A primitive whose waiter fences
    /// only to order its registration against a notifier's (change; fence;
    /// notify) may leave that fence out, and one that records its
    /// condition in [`notify_or`](Self::notify_or)'s `otherwise` needs no
    /// handshake at all. `false` (the default) promises nothing: the
    /// handshake's fences are needed.
    const REGISTERS_UNDER_SELECTION_LOCK: bool = false;

    /// An empty queue, usable in `const` and `static` items.
    #[cfg(not(loom))]
    #[allow(clippy::declare_interior_mutable_const)]
    const NEW: Self;

    /// Creates an empty queue.
    fn new() -> Self;

    /// Creates an idle waiter.
    fn new_waiter() -> Self::Waiter;

    /// Registers an idle `waiter` at the tail of the queue, to be woken through
    /// `waker`, leaving `tag` for selectors. The waiter becomes waiting.
    ///
    /// # Safety
    ///
    /// `waiter` is idle, is only ever used with this queue, and stays pinned
    /// until it is idle again.
    unsafe fn register(&self, waiter: Pin<&Self::Waiter>, waker: &Waker, tag: usize);

    /// Registers an idle `waiter` at the *head* of the queue, ahead of every
    /// waiter registered with [`register`](Self::register): it is the next
    /// one `notify_one` and `notify_while` select (a backend whose head is
    /// special, as `ParkingLotHybrid`'s lone-waiter slot, may put it second;
    /// its docs say so). For a waiter that was
    /// woken, found nothing, and waits again without losing its place (a
    /// semaphore waiter passed over by a barging task). A `notify_all`
    /// already under way may count such a waiter as registered before it.
    ///
    /// The default registers at the tail, as [`register`](Self::register):
    /// a backend that cannot insert at the head says so in its docs.
    ///
    /// # Safety
    ///
    /// As for [`register`](Self::register).
    unsafe fn register_front(&self, waiter: Pin<&Self::Waiter>, waker: &Waker, tag: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.register(waiter, waker, tag) }
    }

    /// Polls a registered waiter: `Ready` with what the notifier handed over
    /// once it has been notified (it is then idle again), otherwise stores
    /// `cx.waker()` (replacing the old one if it would not wake the same
    /// task) and returns `Pending`.
    ///
    /// # Safety
    ///
    /// `waiter` was registered with this queue and has not yet been observed
    /// `Ready` or cancelled.
    unsafe fn poll_wait(&self, waiter: Pin<&Self::Waiter>, cx: &mut Context<'_>) -> Poll<Woken>;

    /// Looks at a registered waiter without giving it a waker: `Ready`, as
    /// from [`poll_wait`](Self::poll_wait), once it has been notified (it is
    /// then idle again), otherwise `Pending`, with the waker of its last
    /// `register` or `poll_wait` left in place.
    ///
    /// For a poll that has no waker of its own: tokio's `Notified::enable`
    /// queues a future, or asks whether it was notified, without changing
    /// the waker its task polled it with. The future need not keep a clone
    /// of that waker to pass to `poll_wait` (a clone and a drop per wait).
    /// Runs no user code, as [`cancel`](Self::cancel): a waker or kernel
    /// wait it ends is retired (contract point 7). A waiter that sleeps
    /// some other way than on its waker (a kernel wait) is not re-armed
    /// here after a spurious wake-up: its next `poll_wait` does that.
    ///
    /// # Safety
    ///
    /// As for [`poll_wait`](Self::poll_wait).
    unsafe fn poll_notified(&self, waiter: Pin<&Self::Waiter>) -> Poll<Woken>;

    /// Blocks the calling thread until `waiter` is notified; the waiter is
    /// idle on return, as after `poll_wait` returned `Ready`.
    ///
    /// For blocking entry points (`blocking_acquire`, ...): register with a
    /// waker that unparks this thread, `fence(SeqCst)`, re-check the
    /// condition, then call this instead of polling. The default parks the
    /// thread between polls; a backend with a better way to sleep (a futex
    /// shared with the async waiters) overrides it.
    ///
    /// # Safety
    ///
    /// As for [`poll_wait`](Self::poll_wait).
    #[cfg(not(loom))]
    unsafe fn wait_blocking(&self, waiter: Pin<&Self::Waiter>) -> Woken {
        let waker = crate::blocking::thread_waker();
        let mut cx = Context::from_waker(&waker);
        loop {
            // SAFETY: forwarded from the caller.
            match unsafe { self.poll_wait(waiter, &mut cx) } {
                Poll::Ready(woken) => return woken,
                Poll::Pending => std::thread::park(),
            }
        }
    }

    /// Makes `waiter` idle, unlinking it if it is still waiting, and says
    /// what it found (see [`Cancelled`]). Runs no user code: the waker it
    /// takes back stays in the waiter until the waiter is registered again
    /// or dropped (contract point 7), so act on the result before dropping
    /// the waiter.
    ///
    /// # Safety
    ///
    /// `waiter` is only ever used with this queue.
    unsafe fn cancel(&self, waiter: Pin<&Self::Waiter>) -> Cancelled;

    /// Drops what an idle `waiter` still holds from its last wait (the
    /// retired waker of contract point 7, a kernel wait being cancelled)
    /// now, on the calling thread, instead of with the waiter.
    ///
    /// For a waiter that outlives the future or handle that used it (the
    /// mpsc receiver's node lives in the channel, which its last sender may
    /// free on another thread, after the receiver's runtime is gone). Runs
    /// user code (a waker's drop), which may panic; the waiter stays idle.
    ///
    /// The default registers the waiter with a no-op waker (which drops the
    /// retired one) and cancels it at once (which retires the no-op): a
    /// notify that selects it in between is lost, so call it only on a
    /// waiter whose owner is gone. A backend whose registration arms a
    /// kernel wait overrides it.
    ///
    /// # Safety
    ///
    /// `waiter` is idle, and only ever used with this queue.
    unsafe fn release(&self, waiter: Pin<&Self::Waiter>) {
        // SAFETY: forwarded from the caller: idle, used with this queue only,
        // and pinned by the `Pin` for the duration of the call, by the end of
        // which it is idle again.
        unsafe {
            self.register(waiter, Waker::noop(), 0);
            self.cancel(waiter);
        }
    }

    /// Notifies the longest-waiting waiter, if any, handing it `wakeup`.
    /// Returns whether one was notified.
    fn notify_one(&self, wakeup: usize) -> bool;

    /// Notifies one waiter, if any, handing it `wakeup`, preferring one that
    /// registered on the calling thread. Returns whether one was notified.
    ///
    /// For a wake-up that any waiter may answer, where the one woken only
    /// gets to try (the barging semaphore's): a waiter of this thread (of
    /// this runtime, on a thread-per-core runtime) is woken without a
    /// cross-thread wake-up, and runs soon, instead of holding the wake-up
    /// in flight until another runtime gets to it. The longest-waiting
    /// waiter must still be woken regularly: a semaphore waiter counts the
    /// wake-ups it loses toward its starvation bound.
    ///
    /// The default is [`notify_one`](Self::notify_one). The backends on the
    /// intrusive list (`Intrusive`, `IoUringFutex`, `Iocp`) look at the
    /// first 4 waiters for one of this thread, and give at most 4 wake-ups
    /// in a row past the head.
    fn notify_one_near(&self, wakeup: usize) -> bool {
        self.notify_one(wakeup)
    }

    /// [`notify_one_near`](Self::notify_one_near) with a bound in time
    /// rather than in wake-ups: a waiter of this thread goes first for as
    /// long as the longest-waiting waiter has waited less than `patience`
    /// (counted from when a near wake-up first looked at it), and it may be
    /// further from the head. Returns whether one was notified.
    ///
    /// For waiters that all proceed together once woken (an `RwLock`'s
    /// readers after a write): waking this thread's first lets a burst of
    /// them run on this runtime before the others are brought in, at the
    /// price of `patience` more wait for the others.
    ///
    /// The default is [`notify_one_near`](Self::notify_one_near). The
    /// backends on the intrusive list look at the first 32 waiters for one
    /// of this thread (under loom, which has no clock, they keep
    /// `notify_one_near`'s bound).
    fn notify_one_near_within(&self, wakeup: usize, patience: std::time::Duration) -> bool {
        let _ = patience;
        self.notify_one_near(wakeup)
    }

    /// Notifies the most recently registered waiter, if any (LIFO). Backends
    /// that cannot pick the newest document it and notify some waiter.
    fn notify_last(&self, wakeup: usize) -> bool {
        self.notify_one(wakeup)
    }

    /// [`notify_one`](Self::notify_one) (or [`notify_last`](Self::notify_last)
    /// if `last`); if no waiter is waiting, runs `otherwise` instead. Returns
    /// whether a waiter was notified.
    ///
    /// On a queue that registers under its selection lock
    /// ([`REGISTERS_UNDER_SELECTION_LOCK`](Self::REGISTERS_UNDER_SELECTION_LOCK)),
    /// every registration either is seen by this call (and may be the one
    /// notified) or happens-after everything `otherwise` did: a backend that
    /// says so runs `otherwise` under that lock. A primitive that records
    /// its condition in `otherwise` (`Notify`'s stored permit) then needs no
    /// other handshake with registering waiters: a waiter that re-checks
    /// the condition after `register` sees it. `otherwise` runs no user
    /// code: it must be short, must not block or call into the queue, and
    /// must not panic (as a selector of [`notify_while`](Self::notify_while)).
    ///
    /// The default notifies, then runs `otherwise` with no lock held. That
    /// keeps the promise above on a single-thread queue (nothing runs between
    /// the two), and promises nothing more on the others; a thread-safe
    /// backend that registers under its selection lock overrides it.
    fn notify_or(&self, last: bool, wakeup: usize, otherwise: impl FnOnce()) -> bool {
        let notified = if last {
            self.notify_last(wakeup)
        } else {
            self.notify_one(wakeup)
        };
        if !notified {
            otherwise();
        }
        notified
    }

    /// Notifies every waiter registered before this call, handing each
    /// `wakeup`. Returns how many.
    fn notify_all(&self, wakeup: usize) -> usize;

    /// Offers waiting waiters to `select`, oldest first, under the selection
    /// lock, until it returns [`Select::Keep`] or none is left; notifies each
    /// one it picks with the value it gives. `select` may lower the offered
    /// waiter's tag (it must not raise it), whatever it returns. Returns how
    /// many were notified.
    ///
    /// This is how a primitive hands something over in queue order: a
    /// semaphore's release assigns permits to the head, partially if it
    /// needs more than there are, and notifies each waiter it completes.
    fn notify_while(&self, select: impl FnMut(&mut usize) -> Select) -> usize;
}

/// A [`WaitQueue`] that threads may share, with waiters that may be too:
/// every backend except [`Local`].
///
/// Implemented for every such queue (and so sealed: there is nothing to
/// implement). Generic code that shares a primitive between threads bounds
/// its backend with this rather than with [`WaitQueue`]:
///
/// ```
/// use std::sync::Arc;
/// use compio_sync::{Semaphore, backend::ThreadSafe};
///
/// fn share<B: ThreadSafe>(semaphore: Arc<Semaphore<B>>) {
///     std::thread::spawn(move || drop(semaphore.try_acquire())).join().unwrap();
/// }
/// share(Arc::new(Semaphore::new(1)));
/// ```
pub trait ThreadSafe: WaitQueue<Waiter: Send + Sync> + Send + Sync {}

impl<Q: WaitQueue<Waiter: Send + Sync> + Send + Sync> ThreadSafe for Q {}

/// A fixed-size batch of wakers, collected under a lock and woken after it is
/// released (contract point 5), without allocating.
///
/// A waker that panics in `wake` does not stop the batch (contract point 7):
/// every waker is woken, the first panic is kept, and [`finish`](Self::finish)
/// resumes it once the whole `notify_all` is done (all its batches).
pub(crate) struct WakeBatch {
    /// `Some` in `..len` only: [`wake_all`](Self::wake_all) empties them
    /// all, and `Drop` calls it, so the array needs no drop glue of its own
    /// (which would look at every slot of every batch).
    wakers: std::mem::ManuallyDrop<[Option<Waker>; Self::CAPACITY]>,
    len: usize,
    /// The first panic raised by a waker of this `notify_all`.
    panic: Option<Box<dyn Any + Send>>,
}

impl WakeBatch {
    pub(crate) const CAPACITY: usize = 32;

    pub(crate) const fn new() -> Self {
        Self {
            wakers: std::mem::ManuallyDrop::new([const { None }; Self::CAPACITY]),
            len: 0,
            panic: None,
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == Self::CAPACITY
    }

    /// Adds a waker. Panics if the batch is full; check [`is_full`](Self::is_full).
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        assert!(!self.is_full(), "WakeBatch overflow");
        self.wakers[self.len] = waker;
        self.len += 1;
    }

    /// Runs user code (a wake) with no lock held, keeping its panic, if any,
    /// for [`finish`](Self::finish) instead of unwinding now.
    pub(crate) fn run_user(&mut self, f: impl FnOnce()) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
            if self.panic.is_none() {
                self.panic = Some(payload);
            } else {
                // Only the first panic is resumed. Dropping a payload is
                // user code too (its `Drop` may panic again): drop a later
                // one under `catch_unwind`, and leak only what *that* raises.
                if let Err(nested) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
                    std::mem::forget(nested);
                }
            }
        }
    }

    /// Wakes (and so drops) every collected waker, keeping the first panic.
    /// Call with no lock held; the batch is empty again afterwards.
    pub(crate) fn wake_all(&mut self) {
        for i in 0..self.len {
            if let Some(waker) = self.wakers[i].take() {
                self.run_user(|| waker.wake());
            }
        }
        self.len = 0;
    }

    /// Ends the `notify_all` this batch served: wakes what is left, then
    /// resumes the first panic a waker raised, if any.
    pub(crate) fn finish(&mut self) {
        self.wake_all();
        if let Some(payload) = self.panic.take() {
            resume_unwind(payload);
        }
    }
}

impl Drop for WakeBatch {
    fn drop(&mut self) {
        // Reached with wakers left only if the `notify_all` itself unwinds
        // (a bug of ours, or a failing futex wake): wake them anyway, without
        // unwinding again (a panic while unwinding would abort).
        self.wake_all();
    }
}
