//! [`WaitSet`]: where the receivers of a fan-out channel (`watch`,
//! `broadcast`) wait for an event that every one of them must see.
//! Compiled once per flavor (see `crate::flavor`).
//!
//! # How it works
//!
//! One wait queue per thread shard ([`WAIT_SHARDS`] of them; one in the
//! local flavor), each with a count of the waiters registered in it. A
//! waiter registers in the shard of the thread that first polls it
//! ([`wait_shard`]) and keeps it. Two things follow:
//!
//! * A wake ([`WaitSet::notify_all`]) goes shard by shard, so the wakers of
//!   one runtime's tasks are called back to back, while that runtime's first
//!   wake-up is still on its way, instead of interleaved with every other
//!   runtime's; and threads registering at once don't all take one lock.
//! * A wake skips the shards whose count is zero without taking their lock,
//!   so an event that nobody waits for (a burst of sends to receivers that
//!   are busy) costs one load per shard.
//!
//! The handshake is the engine's event count, with the count added: the
//! waiter registers, counts itself (Release), `fence(SeqCst)`s and then
//! re-checks the event; the notifier changes the event, `fence(SeqCst)`s,
//! reads each count (Acquire) and, if it is not zero, takes it (a swap to
//! zero) and wakes the queue. By the two fences, either the waiter's
//! re-check sees the change, or the notifier's load reads the waiter's count
//! or a later value, and so does its swap (later still); another notifier's
//! swap that took the count first woke the waiter itself, since a count
//! seen (Acquire, against the Release) means its registration is visible to
//! the `notify_all` that follows. Only the
//! notifier takes counts away, so a waiter pays one atomic operation per
//! wait; one that leaves without a wake (cancelled) leaves its count behind,
//! which costs the next event one needless `notify_all` of that shard.

use std::{
    panic::{self, AssertUnwindSafe},
    pin::Pin,
    task::{Context, Poll, Waker},
};

use crossbeam_utils::CachePadded;

use super::flavor::{AtomicUsize, Ordering::*, WAIT_SHARDS, fence, wait_shard};
use crate::backend::WaitQueue;

/// The waiters of an event, spread over one queue per thread shard (see the
/// module docs).
pub(crate) struct WaitSet<B: WaitQueue> {
    /// A cache line (or more) each: the threads registering in different
    /// shards write to them at the same time.
    shards: [CachePadded<Shard<B>>; WAIT_SHARDS],
}

/// One thread shard of a [`WaitSet`].
struct Shard<B> {
    queue: B,
    /// Registrations in `queue` since its last wake (the waiters that the
    /// next wake must reach, and any that left since without one).
    waiting: AtomicUsize,
}

/// A waiter of a [`WaitSet`]: the wait-queue node and where it waits. Lives
/// pinned inside a future, whose `Drop` calls [`cancel`](Self::cancel).
pub(crate) struct SetWaiter<B: WaitQueue> {
    /// Node in the queue of `shards[shard]`, registered iff `queued`.
    node: B::Waiter,
    /// The node's shard: chosen at its first registration (`NO_SHARD`
    /// until then), then kept (a node is used with one queue only).
    shard: usize,
    queued: bool,
}

/// `SetWaiter::shard` before the node's first registration.
const NO_SHARD: usize = usize::MAX;

impl<B: WaitQueue> WaitSet<B> {
    pub(crate) fn new() -> Self {
        Self {
            shards: std::array::from_fn(|_| {
                CachePadded::new(Shard {
                    queue: B::new(),
                    waiting: AtomicUsize::new(0),
                })
            }),
        }
    }

    /// Wakes every waiter registered before this call, after the caller
    /// changed the event. A waker that panics in `wake` does not stop the
    /// others (each queue wakes all of its own first): the first panic is
    /// resumed once every shard is done.
    pub(crate) fn notify_all(&self) {
        // SeqCst: orders the caller's change of the event before the swaps
        // of the counts, against a waiter's (register; count; fence;
        // re-check): either it sees the change, or we take its count.
        fence(SeqCst);
        let mut panic = None;
        for shard in &self.shards {
            // A load first: a shard nobody waits in is only read, so that
            // the threads registering there keep its line. Acquire: a count
            // seen (and then taken) makes its registration visible to
            // `notify_all` (pairs with the Release in `register`).
            if shard.waiting.load(Acquire) == 0 || shard.waiting.swap(0, Acquire) == 0 {
                continue;
            }
            if let Err(payload) =
                panic::catch_unwind(AssertUnwindSafe(|| shard.queue.notify_all(0)))
            {
                if panic.is_none() {
                    panic = Some(payload);
                } else if let Err(nested) = panic::catch_unwind(AssertUnwindSafe(|| drop(payload)))
                {
                    // Only the first panic is resumed; dropping a later
                    // payload is user code too: leak only what that raises.
                    std::mem::forget(nested);
                }
            }
        }
        if let Some(payload) = panic {
            panic::resume_unwind(payload);
        }
    }
}

impl<B: WaitQueue> SetWaiter<B> {
    pub(crate) fn new() -> Self {
        Self {
            node: B::new_waiter(),
            shard: NO_SHARD,
            queued: false,
        }
    }

    /// The node, pinned, and the other fields.
    fn project(self: Pin<&mut Self>) -> (Pin<&B::Waiter>, &mut usize, &mut bool) {
        // SAFETY: `node` is never moved out of `self`, which is pinned, so
        // pinning a shared reference to it is sound; the other fields are
        // not structurally pinned. The references are to disjoint fields.
        unsafe {
            let this = self.get_unchecked_mut();
            (
                Pin::new_unchecked(&this.node),
                &mut this.shard,
                &mut this.queued,
            )
        }
    }

    /// `Pending` while registered and not yet woken; `Ready` when the caller
    /// should (re-)check the event: never registered, or woken (then out of
    /// the set).
    ///
    /// # Safety
    ///
    /// `set` is the set this waiter registers with, every time.
    pub(crate) unsafe fn poll_woken(
        self: Pin<&mut Self>,
        set: &WaitSet<B>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let (node, shard, queued) = self.project();
        if !*queued {
            return Poll::Ready(());
        }
        // SAFETY: registered with `set.shards[*shard].queue` (`queued`, and the
        // caller's contract) and not yet observed `Ready`.
        match unsafe { set.shards[*shard].queue.poll_wait(node, cx) } {
            Poll::Ready(_) => {
                // Out of the queue; the wake took the count with it.
                *queued = false;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// Registers the waiter with `waker`, then fences: the caller re-checks
    /// the event next, and [`cancel`](Self::cancel)s if it finds it. Call
    /// only when [`poll_woken`](Self::poll_woken) returned `Ready`.
    ///
    /// If `waker`'s `clone` panics, the waiter stays out of the set.
    ///
    /// # Safety
    ///
    /// `set` is the same every time, and the waiter's owner calls
    /// [`cancel`](Self::cancel) (with `set`) before the waiter is dropped.
    pub(crate) unsafe fn register(self: Pin<&mut Self>, set: &WaitSet<B>, waker: &Waker) {
        let (node, shard, queued) = self.project();
        debug_assert!(!*queued, "a waiter registered twice");
        if *shard == NO_SHARD {
            *shard = wait_shard();
        }
        // If `register` unwinds (a waker's clone panicked) the node is idle
        // (contract point 7), uncounted, and `queued` stays false.
        // SAFETY: the node is idle (not `queued`), used with this queue only
        // (its shard never changes), pinned, and cancelled before it is
        // dropped (the caller's contract).
        unsafe { set.shards[*shard].queue.register(node, waker, 0) };
        *queued = true;
        // Release: a notifier that sees this count (Acquire) finds the node.
        set.shards[*shard].waiting.fetch_add(1, Release);
        // SeqCst: orders the count before the caller's re-check, against a
        // notifier's (change the event; fence; read the counts).
        fence(SeqCst);
    }

    /// Takes the waiter out of the set, if it is in it. A wake it may have
    /// received needs no passing on: every waiter gets one.
    ///
    /// # Safety
    ///
    /// `set` is the set this waiter registers with.
    pub(crate) unsafe fn cancel(self: Pin<&mut Self>, set: &WaitSet<B>) {
        let (node, shard, queued) = self.project();
        if *queued {
            // SAFETY: registered with `set.shards[*shard].queue` (`queued`, and
            // the caller's contract), pinned since.
            unsafe { set.shards[*shard].queue.cancel(node) };
            // The count stays until the next wake takes it (module docs).
            *queued = false;
        }
    }

    /// Whether the waiter is in the set (for `Debug`).
    pub(crate) fn is_queued(&self) -> bool {
        self.queued
    }
}
