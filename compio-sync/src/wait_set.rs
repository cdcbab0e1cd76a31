//! [`WaitSet`]: where the receivers of a fan-out channel (`watch`,
//! `broadcast`) wait for an event that every one of them must see.
//! Compiled once per flavor (see `crate::flavor`).
//!
//! # How it works
//!
//! The event is a counter that only moves forward (a watch channel's
//! version, a broadcast channel's tail position). A waiter registers with
//! the value it has seen as its tag, so a wake can tell the waiters that
//! have not seen the new value from those that already wait for the next.
//!
//! One wait queue per thread shard ([`WAIT_SHARDS`] of them; one in the
//! local flavor), each with a count of the waiters linked in it. A waiter
//! registers in the shard of the thread that first polls it
//! ([`wait_shard`]) and keeps it. Three things follow:
//!
//! * A wake goes shard by shard, so the wakers of one runtime's tasks are
//!   called back to back, and threads registering at once don't all take
//!   one lock.
//! * A wake skips the shards whose count is zero without taking their lock,
//!   so an event that nobody waits for (a burst of sends to receivers that
//!   are busy) costs one load per shard.
//! * A wake ([`WaitSet::notify_changed`]) wakes one waiter of a shard first,
//!   alone, telling it that it is the first, and then the rest. The first
//!   wake-up of a sleeping runtime is the expensive one (a system call), and
//!   the woken thread may take the notifier's CPU right then, before the
//!   notifier wakes its other waiters: the runtime would run that one task,
//!   sleep again, and be woken again for the next. So the first waiter,
//!   once polled, *helps*: it wakes the waiters of its shard that have not
//!   seen the event yet (on its own runtime, a wake is a cheap local one),
//!   and the notifier, back, finds them woken. The notifier never relies on
//!   the help: it wakes whoever is still waiting for the event. In the
//!   shard of its own thread's waiters (all of them, in the local flavor)
//!   it wakes everyone in one go: those wakes cannot hand its CPU away.
//!
//! A wake for the event `e` notifies, oldest first, the waiters whose tag is
//! not `e`, and stops at the first one whose tag is `e`. That waiter had
//! seen `e` before it registered, so every waiter behind it registered
//! later and re-checks after it (queue order is registration order): it
//! sees `e` or a later event itself, or waits for a later one, whose own
//! wake reaches it.
//!
//! The handshake is the engine's event count, with the count added: the
//! waiter counts itself, registers, `fence(SeqCst)`s and then re-checks the
//! event; the notifier changes the event, `fence(SeqCst)`s, reads each count
//! and, if it is not zero, wakes the queue. By the two fences, either the
//! waiter's re-check sees the change, or the notifier's load reads the
//! waiter's count or a later value; and that value is not zero while the
//! waiter is linked: a waiter counts itself before it is linked, and the
//! count drops only for waiters already taken out of the queue (selected by
//! a wake, or removed by their cancellation), so every decrement the load
//! reads follows the increment it undoes. The queue's own handshake
//! (contract point 4) does the rest.

use std::{
    panic::{self, AssertUnwindSafe},
    pin::Pin,
    task::{Context, Poll, Waker},
};

use crossbeam_utils::CachePadded;

use super::flavor::{AtomicUsize, Ordering::*, WAIT_SHARDS, fence, wait_shard};
use crate::backend::{Cancelled, Select, WaitQueue};

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
    /// Waiters linked in `queue` and not yet selected by a wake (and, for a
    /// moment, ones about to be linked, or just taken out).
    waiting: AtomicUsize,
}

/// The wake-up value of the first waiter a wake notifies in a shard: it
/// helps (see the module docs).
const FIRST: usize = 1;

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

#[cfg(not(loom))]
std::thread_local! {
    /// The shard of this thread's waiters ([`wait_shard`]), once one of
    /// them has registered (`NO_SHARD` until then).
    static HOME: std::cell::Cell<usize> = const { std::cell::Cell::new(NO_SHARD) };
}

/// Whether the calling thread's waiters register in shard `index`.
fn is_home(index: usize) -> bool {
    #[cfg(not(loom))]
    return HOME.try_with(|home| home.get() == index).unwrap_or(false);
    // Under loom every thread shares the one shard: model the help.
    #[cfg(loom)]
    return {
        let _ = index;
        false
    };
}

/// Runs `f`, keeping the first panic (of `f`, or already in `panic`) for
/// the caller to resume once everything else is done.
fn keep_first_panic(panic: &mut Option<Box<dyn std::any::Any + Send>>, f: impl FnOnce()) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(f)) {
        if panic.is_none() {
            *panic = Some(payload);
        } else if let Err(nested) = panic::catch_unwind(AssertUnwindSafe(|| drop(payload))) {
            // Only the first panic is resumed; dropping a later payload is
            // user code too: leak only what that raises.
            std::mem::forget(nested);
        }
    }
}

impl<B: WaitQueue> Shard<B> {
    /// Notifies, oldest first, the waiters whose tag is not `event`, up to
    /// `max` of them, stopping at the first whose tag is `event` (see the
    /// module docs), handing each `wakeup`.
    #[inline]
    fn notify_unseen(&self, event: usize, max: usize, wakeup: usize) {
        /// The count of the selected waiters, dropped even if a waker
        /// panics (the queue wakes the rest first, then resumes it).
        struct Selected<'a>(&'a AtomicUsize, usize);
        impl Drop for Selected<'_> {
            fn drop(&mut self) {
                if self.1 > 0 {
                    // Relaxed: the selected waiters are out of the queue;
                    // the count only gates wakes (module docs).
                    self.0.fetch_sub(self.1, Relaxed);
                }
            }
        }
        let mut selected = Selected(&self.waiting, 0);
        self.queue.notify_while(|tag| {
            if selected.1 == max || *tag == event {
                return Select::Keep;
            }
            selected.1 += 1;
            Select::Notify(wakeup)
        });
    }

    /// Notifies every waiter registered before the call.
    #[inline]
    fn notify_all(&self) {
        let notified = self.queue.notify_all(0);
        // Relaxed: as in `notify_unseen`. If a waker panicked, the queue
        // resumed it before we got here and the count stays too high:
        // that costs later wakes a look at this queue, never a waiter.
        self.waiting.fetch_sub(notified, Relaxed);
    }
}

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

    /// Wakes every waiter that has not seen `event` (its tag is another
    /// value), after the caller moved the event to `event`: in each shard
    /// one first, which helps, then the others (module docs). A waker that
    /// panics in `wake` does not stop the others: the first panic is
    /// resumed once every shard is done.
    pub(crate) fn notify_changed(&self, event: usize) {
        // SeqCst: orders the caller's change of the event before the loads
        // of the counts, against a waiter's (count; register; fence;
        // re-check): either it sees the change, or we see its count.
        fence(SeqCst);
        let mut panic = None;
        for (index, shard) in self.shards.iter().enumerate() {
            // Relaxed: the count only gates the wake (module docs); the
            // queue orders the rest.
            let waiting = shard.waiting.load(Relaxed);
            if waiting == 0 {
                continue;
            }
            if waiting == 1 {
                // One waiter (or one about to re-check for itself): there
                // is nobody for it to help.
                keep_first_panic(&mut panic, || {
                    shard.notify_unseen(event, usize::MAX, 0);
                });
                continue;
            }
            if is_home(index) {
                // The waiters of our own shard are (mostly) ours: waking
                // them cannot hand our CPU to their thread, nobody need
                // help, and one pass over the queue wakes them (and, at
                // worst, one that registered having seen `event` since our
                // change, which then finds nothing and waits again).
                keep_first_panic(&mut panic, || shard.notify_all());
                continue;
            }
            keep_first_panic(&mut panic, || shard.notify_unseen(event, 1, FIRST));
            keep_first_panic(&mut panic, || {
                shard.notify_unseen(event, usize::MAX, 0);
            });
        }
        if let Some(payload) = panic {
            panic::resume_unwind(payload);
        }
    }

    /// Wakes every waiter registered before this call, whatever it has seen
    /// (the close), after the caller changed the event. Panics as
    /// [`notify_changed`](Self::notify_changed).
    pub(crate) fn notify_all(&self) {
        // SeqCst: as in `notify_changed`.
        fence(SeqCst);
        let mut panic = None;
        for shard in &self.shards {
            if shard.waiting.load(Relaxed) == 0 {
                continue;
            }
            keep_first_panic(&mut panic, || shard.notify_all());
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
    /// A waiter woken first in its shard helps before it returns `Ready`:
    /// it wakes the waiters of its shard that have not seen the event as
    /// `event()` reads it now (module docs). If one of their wakers panics,
    /// the panic is resumed here, with this waiter out of the set, so that
    /// its next poll re-checks the event.
    ///
    /// # Safety
    ///
    /// `set` is the set this waiter registers with, every time.
    #[inline]
    pub(crate) unsafe fn poll_woken(
        self: Pin<&mut Self>,
        set: &WaitSet<B>,
        cx: &mut Context<'_>,
        event: impl FnOnce() -> usize,
    ) -> Poll<()> {
        let (node, shard, queued) = self.project();
        if !*queued {
            return Poll::Ready(());
        }
        let shard = &set.shards[*shard];
        // SAFETY: registered with `shard.queue` (`queued`, and the caller's
        // contract) and not yet observed `Ready`.
        match unsafe { shard.queue.poll_wait(node, cx) } {
            Poll::Ready(woken) => {
                // Out of the queue; its wake took the count.
                *queued = false;
                // Relaxed: a hint; the notifier wakes whoever it finds
                // still waiting anyway.
                if woken.wakeup == FIRST && shard.waiting.load(Relaxed) != 0 {
                    shard.notify_unseen(event(), usize::MAX, 0);
                }
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// Registers the waiter with `waker`, having seen the event `seen`, then
    /// fences: the caller re-checks the event next, and
    /// [`cancel`](Self::cancel)s if it finds it. Call only when
    /// [`poll_woken`](Self::poll_woken) returned `Ready`.
    ///
    /// If `waker`'s `clone` panics, the waiter stays out of the set.
    ///
    /// # Safety
    ///
    /// `set` is the same every time, and the waiter's owner calls
    /// [`cancel`](Self::cancel) (with `set`) before the waiter is dropped.
    #[inline]
    pub(crate) unsafe fn register(
        self: Pin<&mut Self>,
        set: &WaitSet<B>,
        waker: &Waker,
        seen: usize,
    ) {
        let (node, shard, queued) = self.project();
        debug_assert!(!*queued, "a waiter registered twice");
        if *shard == NO_SHARD {
            *shard = wait_shard();
            #[cfg(not(loom))]
            let _ = HOME.try_with(|home| home.set(*shard));
        }
        let shard = &set.shards[*shard];
        // Counted before it is linked (module docs). Relaxed: the fence
        // below orders it before the re-check.
        shard.waiting.fetch_add(1, Relaxed);
        /// Takes the count back if `register` unwinds (a waker's clone
        /// panicked): the node is then idle (contract point 7).
        struct Uncount<'a>(&'a AtomicUsize);
        impl Drop for Uncount<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Relaxed);
            }
        }
        let uncount = Uncount(&shard.waiting);
        // SAFETY: the node is idle (not `queued`), used with this queue only
        // (its shard never changes), pinned, and cancelled before it is
        // dropped (the caller's contract).
        unsafe { shard.queue.register(node, waker, seen) };
        std::mem::forget(uncount);
        *queued = true;
        // SeqCst: orders the count and the registration before the caller's
        // re-check, against a notifier's (change the event; fence; read the
        // counts).
        fence(SeqCst);
    }

    /// Takes the waiter out of the set, if it is in it. A wake it may have
    /// received needs no passing on: the notifier wakes every waiter that
    /// has not seen its event, helped or not.
    ///
    /// # Safety
    ///
    /// `set` is the set this waiter registers with.
    pub(crate) unsafe fn cancel(self: Pin<&mut Self>, set: &WaitSet<B>) {
        let (node, shard, queued) = self.project();
        if *queued {
            let shard = &set.shards[*shard];
            // SAFETY: registered with `shard.queue` (`queued`, and the
            // caller's contract), pinned since.
            if let Cancelled::Removed { .. } = unsafe { shard.queue.cancel(node) } {
                // Taken out by us, not by a wake: the count is ours to drop.
                shard.waiting.fetch_sub(1, Relaxed);
            }
            *queued = false;
        }
    }

    /// Whether the waiter is in the set (for `Debug`).
    pub(crate) fn is_queued(&self) -> bool {
        self.queued
    }
}
