//! The [`Acquire`] future: the waiting side of the semaphore protocol.

use std::{
    fmt,
    future::Future,
    marker::PhantomPinned,
    pin::Pin,
    task::{Context, Poll},
};

#[cfg(not(loom))]
use super::STARVATION_PASSES;
use super::{
    AcquireError, CLOSED, PRIORITY, Semaphore, SemaphorePermit, TryAcquireError, WAKE_CLOSED,
    WAKE_GRANTED, WAKE_RETRY, available,
    flavor::{DefaultBackend, Ordering::*, fence},
};
use crate::backend::{Cancelled, WaitQueue, Woken};

/// Future returned by [`Semaphore::acquire`] and
/// [`Semaphore::acquire_many`].
///
/// `!Unpin`: its wait-queue node lives inside it. Pin it (`.await` does) to
/// poll it. The node is written only when the first attempt fails, so an
/// acquire that completes at once never initialises it.
///
/// ```compile_fail
/// fn assert_unpin<T: Unpin>(_: T) {}
/// let semaphore = compio_sync::Semaphore::new(1);
/// assert_unpin(semaphore.acquire());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Acquire<'a, B: WaitQueue = DefaultBackend> {
    sem: &'a Semaphore<B>,
    state: AcquireState,
    /// The queue node, once an attempt has failed (`None` until then: the
    /// fast path never touches it). Structurally pinned: set from `None` in
    /// place and never moved out or replaced; dropped with the future, after
    /// `Drop` has taken it out of the queue.
    ///
    /// Measured (S2, uncontended `acquire().await` + drop, same-run A/B, 5
    /// rounds): 19.9-22.4 ns per acquire with the node written by `new`,
    /// 16.6-18.1 ns with it written here (tokio: 33-37 ns). Writing the
    /// node cost a few stores and a copy of the future's fresh state
    /// through the stack, which stalled on store forwarding. The `Option`
    /// tag costs 8 bytes of future size.
    waiter: Option<B::Waiter>,
    _pin: PhantomPinned,
}

/// Where an [`Acquire`] future is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not yet tried, or between attempts; `waiter` is idle.
    Start,
    /// `waiter` is registered in `queue` (tag: the permits it still needs)
    /// and counted in `waiters`.
    Queued,
    /// Completed; `waiter` is idle and `held` is zero.
    Done,
}

/// What one step of the state machine decided.
enum Step {
    /// Take the next step now.
    Again,
    /// Wait for the waker (or, blocking, in `WaitQueue::wait_blocking`).
    Pending,
    /// Complete with this result.
    Done(Result<(), AcquireError>),
}

/// The plain (unpinned) fields of an [`Acquire`].
#[derive(Debug)]
struct AcquireState {
    /// Permits wanted.
    want: usize,
    /// Permits this acquire already holds: handed over to its node while it
    /// waited, or taken. They go back to the semaphore if it does not
    /// complete.
    held: usize,
    /// The tag `waiter` was registered with (what it still needed then);
    /// `need - tag` is what a hand-over gave it.
    need: usize,
    /// This acquire set `PRIORITY`, and clears it when it leaves.
    owns_priority: bool,
    /// It was woken and passed over: it queues again at the head, keeping
    /// its place (as Go's `sync.Mutex` requeues a woken waiter LIFO).
    requeue_front: bool,
    /// Woken with `RETRY` and passed over, it queues again still counted in
    /// `waiters` and still holding `PENDING` (the wake-up in flight), and
    /// gives both up only when it leaves: registered again (`PENDING`
    /// cleared, the count kept) or dropped first (both).
    retrying: bool,
    phase: Phase,
    /// When this waiter will have waited past the semaphore's starvation
    /// bound, counted from when it first queued (set on the slow path of the
    /// default policy only).
    #[cfg(not(loom))]
    starving_at: StarvingAt,
    /// Driven by `blocking_acquire*`: sleep in `WaitQueue::wait_blocking`
    /// instead of returning `Pending`.
    pub(super) blocking: bool,
    /// Claim `PRIORITY` as soon as this acquire has to wait, not after a
    /// first failed wake-up (default policy): for an `RwLock` writer, so that
    /// readers arriving while it waits queue behind it, as in tokio.
    eager_priority: bool,
}

/// When a waiter starts to starve (default policy): see
/// [`STARVATION_BOUND`](super::STARVATION_BOUND).
#[cfg(not(loom))]
#[derive(Debug, Clone, Copy)]
enum StarvingAt {
    /// Not yet queued.
    Unset,
    /// Passed over at or after `deadline`, it claims `PRIORITY`.
    At {
        deadline: std::time::Instant,
        /// Passed-over wake-ups so far.
        passes: u32,
        /// Passed-over wake-ups left before the clock is read again (see
        /// `AcquireState::passed_over`).
        skip: u32,
    },
    /// Never (a bound of `Duration::MAX`, or one past what `Instant` holds).
    Never,
}

impl<'a, B: WaitQueue> Acquire<'a, B> {
    pub(super) fn new(sem: &'a Semaphore<B>, want: u32) -> Self {
        Self {
            sem,
            state: AcquireState {
                want: want as usize,
                held: 0,
                need: 0,
                owns_priority: false,
                requeue_front: false,
                retrying: false,
                phase: Phase::Start,
                #[cfg(not(loom))]
                starving_at: StarvingAt::Unset,
                blocking: false,
                eager_priority: false,
            },
            waiter: None,
            _pin: PhantomPinned,
        }
    }

    /// Makes this a blocking acquire (see `AcquireState::blocking`).
    #[cfg(not(loom))]
    pub(super) fn set_blocking(&mut self) {
        self.state.blocking = true;
    }

    /// Makes this acquire claim `PRIORITY` as soon as it queues (see
    /// `AcquireState::eager_priority`). No effect under strict FIFO, where
    /// queued waiters already close the fast path.
    pub(crate) fn set_eager_priority(&mut self) {
        self.state.eager_priority = true;
    }

    /// Splits the pinned future into its plain state and its node slot
    /// (`waiter`, structurally pinned: see [`NodeSlot::node`]).
    fn project(self: Pin<&mut Self>) -> (&'a Semaphore<B>, &mut AcquireState, NodeSlot<'_, B>) {
        // SAFETY: of the fields, only `waiter` is structurally pinned, and
        // it is handed out as a `NodeSlot`, whose only access never moves a
        // node it holds. The references are to disjoint fields.
        let this = unsafe { self.get_unchecked_mut() };
        (this.sem, &mut this.state, NodeSlot(&mut this.waiter))
    }
}

/// An [`Acquire`]'s `waiter` field, borrowed from the pinned future.
struct NodeSlot<'s, B: WaitQueue>(&'s mut Option<B::Waiter>);

impl<'s, B: WaitQueue> NodeSlot<'s, B> {
    /// The node, written in place the first time: an idle waiter.
    fn node(self) -> Pin<&'s B::Waiter> {
        // `None` has nothing pinned to move: writing the node over it is
        // the only write the slot ever takes.
        let waiter = self.0.get_or_insert_with(B::new_waiter);
        // SAFETY: the slot is in a pinned `Acquire` (`project`), and a node
        // it holds is never moved out or replaced until the future drops.
        unsafe { Pin::new_unchecked(waiter) }
    }
}

impl AcquireState {
    /// Notes that this waiter starts (or resumes) waiting, under the
    /// starvation bound `bound`: the first time, reads the clock (unless no
    /// deadline can come of it) and sets the deadline.
    fn note_waiting_since(&mut self, bound: std::time::Duration) {
        #[cfg(not(loom))]
        if let StarvingAt::Unset = self.starving_at {
            self.starving_at = if bound == std::time::Duration::MAX {
                StarvingAt::Never
            } else {
                std::time::Instant::now()
                    .checked_add(bound)
                    .map_or(StarvingAt::Never, |deadline| StarvingAt::At {
                        deadline,
                        passes: 0,
                        skip: 0,
                    })
            };
        }
        #[cfg(loom)]
        let _ = bound;
    }

    /// Called when a woken waiter finds the permits taken: says whether it
    /// has waited past the starvation bound `bound` (the deadline
    /// `note_waiting_since` set).
    ///
    /// This runs once per wake-up that finds the permits taken, the hot path
    /// of a contended permit (a barging mutex wakes its next waiter on every
    /// unlock that finds one queued), and a clock read costs about as much
    /// as the rest of that wake-up. So while wake-ups come much faster than
    /// the bound runs out, the clock is read only every few of them: after
    /// each read, the waiter skips as many wake-ups as, at its average pace
    /// so far, fit in half the time left, and at most [`MAX_CLOCK_SKIP`]
    /// ([`clock_skip`]). At a steady pace it then notices the deadline at
    /// once or one wake-up late; wake-ups slow next to what is left of the
    /// bound (a long critical section, a bound of zero) each read the clock.
    #[inline]
    fn passed_over(&mut self, bound: std::time::Duration) -> bool {
        #[cfg(not(loom))]
        {
            match &mut self.starving_at {
                StarvingAt::At {
                    deadline,
                    passes,
                    skip,
                } => {
                    *passes = passes.saturating_add(1);
                    // Starving by count, whatever the clock says (see
                    // `STARVATION_PASSES`).
                    if *passes >= STARVATION_PASSES {
                        return true;
                    }
                    if *skip > 0 {
                        *skip -= 1;
                        return false;
                    }
                    let remaining = deadline.saturating_duration_since(std::time::Instant::now());
                    if remaining.is_zero() {
                        return true;
                    }
                    *skip = clock_skip(*passes, bound, remaining);
                    false
                }
                StarvingAt::Unset | StarvingAt::Never => false,
            }
        }
        // Loom has no clock: the first failed wake-up passes the bound, which
        // makes the priority path reachable in the models.
        #[cfg(loom)]
        {
            let _ = bound;
            true
        }
    }

    // Out of line: `Acquire::poll` keeps only its fast path inline.
    #[inline(never)]
    fn poll<B: WaitQueue>(
        &mut self,
        sem: &Semaphore<B>,
        waiter: Pin<&B::Waiter>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        loop {
            let step = match self.phase {
                Phase::Start => self.start(sem, waiter, cx),
                Phase::Queued => {
                    // SAFETY: registered with `sem.queue` in `start`, and not
                    // yet observed `Ready` (that leaves `Queued`).
                    match unsafe { self.wait(sem, waiter, cx) } {
                        Poll::Pending => Step::Pending,
                        Poll::Ready(woken) => self.on_woken(sem, woken),
                    }
                }
                Phase::Done => panic!("`Acquire` polled after completion"),
            };
            match step {
                Step::Again => {}
                // A blocking acquire sleeps in the queue's `wait_blocking`
                // (next turn) rather than returning `Pending`.
                Step::Pending if self.blocking => {}
                Step::Pending => return Poll::Pending,
                Step::Done(result) => return Poll::Ready(result),
            }
        }
    }

    /// Waits in the queue: polls it, or, for a blocking acquire, sleeps until
    /// notified.
    ///
    /// # Safety
    ///
    /// As for [`WaitQueue::poll_wait`].
    unsafe fn wait<B: WaitQueue>(
        &self,
        sem: &Semaphore<B>,
        waiter: Pin<&B::Waiter>,
        cx: &mut Context<'_>,
    ) -> Poll<Woken> {
        #[cfg(not(loom))]
        if self.blocking {
            // SAFETY: forwarded from the caller.
            return Poll::Ready(unsafe { sem.queue.wait_blocking(waiter) });
        }
        // SAFETY: forwarded from the caller.
        unsafe { sem.queue.poll_wait(waiter, cx) }
    }

    /// Fast path, then registration and re-check.
    fn start<B: WaitQueue>(
        &mut self,
        sem: &Semaphore<B>,
        waiter: Pin<&B::Waiter>,
        cx: &mut Context<'_>,
    ) -> Step {
        let missing = self.want - self.held;
        // A retrying waiter has just found the permits taken (`on_woken`):
        // it goes straight to the registration and its re-check.
        if !self.retrying {
            match sem.try_take(missing, sem.strict) {
                Ok(()) => {
                    self.held = self.want;
                    return self.finish(sem, Ok(()));
                }
                Err(TryAcquireError::Closed) => return self.finish(sem, Err(AcquireError(()))),
                Err(TryAcquireError::NoPermits) => {}
            }
        }
        // An eager-priority acquire (an `RwLock` writer or upgrade) that
        // finds no other waiter holding `PRIORITY` queues at the head, ahead
        // of the readers already waiting: it then waits only for the readers
        // inside the lock, as async-lock's writer does, instead of for every
        // reader queued before it too. Writers keep their arrival order among
        // themselves (the later ones find `PRIORITY` set), and a starving
        // reader holding `PRIORITY` keeps its place. Default policy only;
        // strict FIFO is tokio's order. (A hint: a `PRIORITY` that changes
        // meanwhile leaves either position a valid queue state.)
        let writer_first = self.eager_priority
            && !self.owns_priority
            && !sem.strict
            && sem.permits.load(Relaxed) & PRIORITY == 0;
        // SAFETY: the waiter is idle in `Start`; it is only used with
        // `sem.queue`; it is pinned in the future, whose `Drop` cancels it
        // while `Queued`. If `register` unwinds, the waiter is idle (contract
        // point 7) and we are still in `Start`.
        // SAFETY: as argued above: an idle waiter, one queue, pinned.
        unsafe {
            if std::mem::take(&mut self.requeue_front) || writer_first {
                sem.queue.register_front(waiter, cx.waker(), missing);
            } else {
                sem.queue.register(waiter, cx.waker(), missing);
            }
        }
        self.need = missing;
        if std::mem::take(&mut self.retrying) {
            // Still counted: publish the registration and give up PENDING,
            // in one read-modify-write.
            sem.requeue_waiter();
        } else {
            sem.count_waiter();
        }
        self.phase = Phase::Queued;
        // The clock matters only for the starvation bound: strict FIFO
        // hands over in order and never asks (`passed_over`).
        if !sem.strict {
            self.note_waiting_since(sem.starvation_bound);
        }
        if self.eager_priority && !self.owns_priority && !sem.strict {
            // Close the fast path now. The re-check below then sees
            // `PRIORITY` and hands over whatever is in the word, in order.
            self.owns_priority = sem.claim_priority();
        }
        // SeqCst: orders the registration (and count) before the re-check,
        // against `wake_next`'s (change; fence; look for waiters) and
        // `close`'s (close; fence; `notify_all`). On a queue that registers
        // under its selection lock, the fence is left out: that lock orders
        // the registration against `close`'s `notify_all`, and against
        // `wake_next` the count above and the load below, both `SeqCst`,
        // do its job (the argument of `wake_next_after_add`, on this side:
        // if the count precedes the releaser's look at `waiters` in the
        // single total order of `SeqCst` operations, it sees us; otherwise
        // its change of `permits`, sequenced before that look, precedes our
        // load, which sees it). On x86 that saves an `mfence` per wait.
        // Under loom, which models `SeqCst` accesses as `AcqRel` only, the
        // fence stays.
        if cfg!(loom) || !B::REGISTERS_UNDER_SELECTION_LOCK {
            fence(SeqCst);
        }
        // SeqCst: see above. (At least Acquire: a close seen here
        // happens-before our `Err`, see `try_take`.)
        let word = sem.permits.load(SeqCst);
        if word & CLOSED != 0 {
            let retry = self.leave_queue(sem, waiter);
            if retry {
                sem.clear_pending();
            }
            return self.finish(sem, Err(AcquireError(())));
        }
        if sem.hands_over(word) {
            if available(word) > 0 {
                // Permits a release left in the word before it saw us: hand
                // them to the queue in order (perhaps to us), then look.
                sem.hand_over();
                return Step::Again;
            }
            return Step::Pending;
        }
        match sem.try_take(missing, false) {
            // Permits we saw but cannot use (too few for us) may be for a
            // waiter no release woke: one that looked at `waiters` while a
            // hand-over had served us before we counted ourselves saw the
            // count one low (see the `waiters` field) and left its permits
            // in the word; we see them (our count follows its look in the
            // `SeqCst` order, so our load follows its add), so we pass
            // them on. Rare: a multi-permit waiter finding a few.
            Err(TryAcquireError::NoPermits) if available(word) > 0 => {
                sem.wake_next();
                Step::Pending
            }
            Err(TryAcquireError::NoPermits) => Step::Pending,
            Err(TryAcquireError::Closed) => {
                let retry = self.leave_queue(sem, waiter);
                if retry {
                    sem.clear_pending();
                }
                self.finish(sem, Err(AcquireError(())))
            }
            Ok(()) => {
                // Served on the re-check: leave the queue. Whatever the node
                // was given meanwhile is surplus now, and a wake-up it got
                // goes on to the next waiter.
                let retry = self.leave_queue(sem, waiter);
                if retry {
                    sem.clear_pending();
                }
                let surplus = self.held;
                self.held = self.want;
                if surplus > 0 {
                    sem.release(surplus);
                } else if retry {
                    sem.wake_next();
                }
                self.finish(sem, Ok(()))
            }
        }
    }

    /// The queue woke this waiter (it is idle again): it is served, fails,
    /// or tries its luck and queues again.
    fn on_woken<B: WaitQueue>(&mut self, sem: &Semaphore<B>, woken: Woken) -> Step {
        if woken.wakeup == WAKE_CLOSED {
            // (A hand-over uncounts the waiter it grants; a `RETRY` waiter
            // stays counted until it knows whether it leaves.)
            sem.uncount_waiter();
        }
        self.phase = Phase::Start;
        self.held += self.need - woken.tag;
        match woken.wakeup {
            // As tokio: an acquire that runs after `close` fails, even if it
            // had been handed its permits (they go back).
            WAKE_GRANTED if sem.is_closed() => self.finish(sem, Err(AcquireError(()))),
            WAKE_GRANTED => self.finish(sem, Ok(())),
            WAKE_CLOSED => self.finish(sem, Err(AcquireError(()))),
            _ => {
                debug_assert_eq!(woken.wakeup, WAKE_RETRY);
                // We are the wake-up in flight, and keep `PENDING` while we
                // look: a release meanwhile leaves its wake-up to us, and we
                // either take its permits here or see them on the re-check
                // after queueing again (which clears `PENDING` first).
                match sem.try_take(self.want - self.held, false) {
                    Ok(()) => {
                        self.held = self.want;
                        sem.leave_retrying();
                        // Permits may remain for the next waiter: pass the
                        // baton (the wake chain).
                        sem.wake_next();
                        self.finish(sem, Ok(()))
                    }
                    Err(TryAcquireError::Closed) => {
                        sem.leave_retrying();
                        self.finish(sem, Err(AcquireError(())))
                    }
                    Err(TryAcquireError::NoPermits) => {
                        // Passed over. A waiter that has starved long enough,
                        // or that needs several permits, switches releases to
                        // hand-over until it is served; `start` queues it
                        // again.
                        if !self.owns_priority
                            && (self.want > 1 || self.passed_over(sem.starvation_bound))
                        {
                            self.owns_priority = sem.claim_priority();
                        }
                        self.requeue_front = true;
                        self.retrying = true;
                        Step::Again
                    }
                }
            }
        }
    }

    /// Leaves the queue early (served or closed on the re-check, or
    /// dropped): uncounts and unlinks the waiter, and adds what a hand-over
    /// gave it to `held`. Returns whether it had been woken with `RETRY`
    /// (the wake-up in flight), which the caller must clear and pass on.
    fn leave_queue<B: WaitQueue>(&mut self, sem: &Semaphore<B>, waiter: Pin<&B::Waiter>) -> bool {
        self.phase = Phase::Start;
        // SAFETY: registered with `sem.queue` (`Queued`) and not yet observed
        // `Ready`.
        let cancelled = unsafe { sem.queue.cancel(waiter) };
        // Uncounted after unlinking: until then a releaser may count a waiter
        // that is no longer queued, which costs it an empty look at the
        // queue, never a lost wake-up (a count too low could). A hand-over
        // that granted the waiter has uncounted it already.
        if !matches!(
            cancelled,
            Cancelled::Notified(Woken {
                wakeup: WAKE_GRANTED,
                ..
            })
        ) {
            sem.uncount_waiter();
        }
        match cancelled {
            Cancelled::Idle => false,
            Cancelled::Removed { tag } => {
                self.held += self.need - tag;
                false
            }
            Cancelled::Notified(woken) => {
                self.held += self.need - woken.tag;
                woken.wakeup == WAKE_RETRY
            }
        }
    }

    /// Completes: on failure gives back what was held; steps down as the
    /// priority waiter.
    fn finish<B: WaitQueue>(
        &mut self,
        sem: &Semaphore<B>,
        result: Result<(), AcquireError>,
    ) -> Step {
        self.phase = Phase::Done;
        let held = std::mem::take(&mut self.held);
        if result.is_err() && held > 0 {
            sem.release(held);
        }
        if std::mem::take(&mut self.owns_priority) {
            sem.release_priority();
        }
        Step::Done(result)
    }

    /// Leaves the semaphore as it was before this wait: called on drop.
    #[inline(never)]
    fn cancel<B: WaitQueue>(&mut self, sem: &Semaphore<B>, waiter: Pin<&B::Waiter>) {
        let retry = match self.phase {
            Phase::Done => return,
            // Dropped between a `RETRY` wake-up and queueing again (its
            // registration unwound): still counted, and the wake-up in
            // flight, which it passes on (below).
            Phase::Start if std::mem::take(&mut self.retrying) => {
                sem.leave_retrying();
                true
            }
            Phase::Start => false,
            Phase::Queued => {
                let retry = self.leave_queue(sem, waiter);
                if retry {
                    // We were the wake-up in flight: pass it on (below).
                    sem.clear_pending();
                }
                retry
            }
        };
        self.phase = Phase::Done;
        let held = std::mem::take(&mut self.held);
        let owned_priority = std::mem::take(&mut self.owns_priority);
        if owned_priority {
            // Cleared before the permits go back, so that they go to
            // whoever is next under the barging policy.
            sem.permits.fetch_and(!super::PRIORITY, AcqRel);
        }
        if held > 0 {
            sem.release(held);
        } else if retry || owned_priority {
            sem.wake_next();
        }
    }
}

/// The most passed-over wake-ups a waiter lets go by without reading the
/// clock (see `AcquireState::passed_over`).
#[cfg(not(loom))]
const MAX_CLOCK_SKIP: u32 = 7;

/// How many passed-over wake-ups a waiter may let go by without reading the
/// clock, after `passes` of them in the time its bound `bound` took to run
/// down to `remaining`: as many as fit in half of `remaining` at that
/// average pace, at most [`MAX_CLOCK_SKIP`]. In `u128` nanoseconds, which
/// hold every product here; the common answer (the cap) costs no division.
#[cfg(not(loom))]
fn clock_skip(passes: u32, bound: std::time::Duration, remaining: std::time::Duration) -> u32 {
    let fit = u128::from(passes) * remaining.as_nanos();
    let per_skip = 2 * bound.saturating_sub(remaining).as_nanos();
    if fit >= per_skip * u128::from(MAX_CLOCK_SKIP) {
        MAX_CLOCK_SKIP
    } else {
        // Below the cap, so it fits a `u32` (and `per_skip` is not zero).
        (fit / per_skip) as u32
    }
}

impl<'a, B: WaitQueue> Future for Acquire<'a, B> {
    type Output = Result<SemaphorePermit<'a, B>, AcquireError>;

    // Inline (across crates too): the first poll's fast path is a few
    // compares and one CAS, and the caller knows the state it starts in.
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (sem, state, slot) = self.project();
        // With the `tokio` feature, each completed acquire spends a unit of
        // tokio's task budget, as tokio's own semaphore does.
        crate::coop::budgeted(cx, |cx| {
            // The uncontended first poll, without the state machine: it is
            // `start`'s fast path, for an acquire that holds nothing and
            // owns nothing yet (an `Ok` there ends in `finish` with nothing
            // to give back or step down from). Not for one that is still
            // `retrying` (polled again after its registration unwound): it
            // is counted and holds `PENDING`, which `start` gives up.
            if state.phase == Phase::Start
                && state.held == 0
                && !state.owns_priority
                && !state.retrying
                && sem.try_take(state.want, sem.strict).is_ok()
            {
                state.phase = Phase::Done;
                return Poll::Ready(Ok(()));
            }
            state.poll(sem, slot.node(), cx)
        })
        .map(|result| result.map(|()| SemaphorePermit::new(sem, state.want)))
    }
}

impl<B: WaitQueue> Drop for Acquire<'_, B> {
    // Inline up to the `Done` check: a completed acquire has nothing to undo.
    #[inline]
    fn drop(&mut self) {
        if self.state.phase == Phase::Done {
            return;
        }
        let Some(waiter) = &self.waiter else {
            // No attempt failed (never polled, or only on the fast path,
            // which completes or leaves everything as it was): nothing is
            // held, queued or owned.
            debug_assert!(self.state.phase == Phase::Start && self.state.held == 0);
            return;
        };
        // SAFETY: `drop` is the last use of `self`. A node was only ever
        // written by a poll, which pinned the future, so it has not moved
        // since.
        let waiter = unsafe { Pin::new_unchecked(waiter) };
        self.state.cancel(self.sem, waiter);
    }
}

impl<B: WaitQueue> fmt::Debug for Acquire<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("want", &self.state.want)
            .field("held", &self.state.held)
            .field("phase", &self.state.phase)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::time::Duration;

    use super::{MAX_CLOCK_SKIP, clock_skip};

    const BOUND: Duration = Duration::from_micros(500);

    #[test]
    fn fast_wake_ups_skip_the_clock_up_to_the_cap() {
        // One pass in 1µs, 499µs left: far more than the cap would fit.
        assert_eq!(
            clock_skip(1, BOUND, BOUND - Duration::from_micros(1)),
            MAX_CLOCK_SKIP
        );
        // No time measured yet (a coarse clock): as fast as can be.
        assert_eq!(clock_skip(1, BOUND, BOUND), MAX_CLOCK_SKIP);
        // Late in the bound, but after many quick passes.
        assert_eq!(
            clock_skip(1000, BOUND, Duration::from_micros(10)),
            MAX_CLOCK_SKIP
        );
    }

    #[test]
    fn skips_as_many_as_fit_in_half_the_time_left() {
        // 7 passes in 350µs (50µs each), 150µs left: half of it fits 1.5.
        assert_eq!(clock_skip(7, BOUND, Duration::from_micros(150)), 1);
        // 4 passes in 100µs (25µs each), 400µs left: half of it fits 8.
        assert_eq!(
            clock_skip(4, BOUND, Duration::from_micros(400)),
            MAX_CLOCK_SKIP
        );
    }

    #[test]
    fn slow_wake_ups_read_the_clock_every_time() {
        // One pass in 300µs, 200µs left: not one fits in half of it.
        assert_eq!(clock_skip(1, BOUND, Duration::from_micros(200)), 0);
    }

    #[test]
    fn huge_bounds_do_not_overflow() {
        let huge = Duration::from_secs(u64::MAX / 2);
        assert_eq!(
            clock_skip(u32::MAX, huge, huge - Duration::from_secs(1)),
            MAX_CLOCK_SKIP
        );
        assert_eq!(clock_skip(1, huge, Duration::from_nanos(1)), 0);
    }

    /// The node is written by the first poll that has to wait, not before:
    /// not by `acquire()`, not by a first poll that takes the permits, not by
    /// a drop of either. Once written it stays, and the drop takes it out of
    /// the queue.
    #[test]
    fn the_node_is_written_only_when_an_attempt_fails() {
        use std::{
            pin::pin,
            task::{Context, Poll, Waker},
        };

        // This flavor's semaphore (the file is built for both).
        use super::Semaphore;

        let mut cx = Context::from_waker(Waker::noop());
        let sem = Semaphore::new(1);

        let unpolled = sem.acquire();
        assert!(unpolled.waiter.is_none());
        drop(unpolled);

        let mut fast = pin!(sem.acquire());
        let Poll::Ready(Ok(permit)) = fast.as_mut().poll(&mut cx) else {
            panic!("the permit is free");
        };
        assert!(fast.waiter.is_none(), "the fast path wrote the node");

        let mut slow = Box::pin(sem.acquire());
        assert!(slow.as_mut().poll(&mut cx).is_pending());
        assert!(slow.waiter.is_some(), "a waiting acquire has its node");
        drop(slow);
        drop(permit);
        assert_eq!(
            sem.available_permits(),
            1,
            "the dropped waiter kept nothing"
        );
        assert!(sem.try_acquire().is_ok(), "and left no one queued");
    }
}
