//! The waiting side: [`Notified`] and [`OwnedNotified`], and the state
//! machine they share.

use std::{
    fmt,
    future::Future,
    marker::PhantomPinned,
    pin::Pin,
    task::{Context, Poll, Waker},
};

use super::{
    ALL, Arc, DefaultBackend, KIND, LAST, Notify, PERMIT,
    flavor::{Ordering::*, fence},
    generation, sent_at,
};
use crate::backend::{Cancelled, WaitQueue};

/// Future returned by [`Notify::notified`].
///
/// `!Unpin`: its wait-queue nodes live inside it. Pin it (`.await` does, as
/// does [`std::pin::pin!`]) to poll it or to call [`enable`](Self::enable).
///
/// ```compile_fail
/// fn assert_unpin<T: Unpin>(_: T) {}
/// let notify = compio_sync::Notify::new();
/// assert_unpin(notify.notified());
/// ```
///
/// Once it has completed it stays completed: polling it again returns
/// `Ready`.
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a, B: WaitQueue = DefaultBackend> {
    notify: &'a Notify<B>,
    state: NotifiedState,
    /// Node in `notify.queue`.
    waiter: B::Waiter,
    _pin: PhantomPinned,
}

/// Future returned by [`Notify::notified_owned`]: a [`Notified`] that owns
/// an `Arc` of its `Notify`.
///
/// `!Unpin`, as `Notified`.
///
/// ```compile_fail
/// fn assert_unpin<T: Unpin>(_: T) {}
/// let notify = std::sync::Arc::new(compio_sync::Notify::new());
/// assert_unpin(notify.notified_owned());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct OwnedNotified<B: WaitQueue = DefaultBackend> {
    notify: Arc<Notify<B>>,
    state: NotifiedState,
    /// Node in `notify.queue`.
    waiter: B::Waiter,
    _pin: PhantomPinned,
}

impl<B: WaitQueue> OwnedNotified<B> {
    pub(super) fn new(notify: Arc<Notify<B>>) -> Self {
        Self {
            state: NotifiedState::new(&notify),
            notify,
            waiter: B::new_waiter(),
            _pin: PhantomPinned,
        }
    }

    /// As [`Notified::enable`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{pin::pin, sync::Arc};
    /// use compio_sync::Notify;
    ///
    /// let notify = Arc::new(Notify::new());
    /// let mut notified = pin!(notify.clone().notified_owned());
    /// assert!(!notified.as_mut().enable());
    /// notify.notify_one();
    /// assert!(notified.as_mut().enable());
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let (notify, state, waiter) = self.project();
        state.poll(notify, waiter, None).is_ready()
    }

    /// Splits the pinned future into its node (pinned) and its plain state.
    fn project(self: Pin<&mut Self>) -> (&Notify<B>, &mut NotifiedState, Pin<&B::Waiter>) {
        // SAFETY: the node is never moved out of `self`, which is pinned, so
        // pinning a shared reference to it is sound. The references are to
        // disjoint fields.
        unsafe {
            let this = self.get_unchecked_mut();
            (
                &this.notify,
                &mut this.state,
                Pin::new_unchecked(&this.waiter),
            )
        }
    }
}

impl<B: WaitQueue> Future for OwnedNotified<B> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let (notify, state, waiter) = self.project();
        state.poll(notify, waiter, Some(cx.waker()))
    }
}

impl<B: WaitQueue> Drop for OwnedNotified<B> {
    fn drop(&mut self) {
        // SAFETY: as in `Notified`'s `Drop`: pinned since the first poll or
        // `enable`, or still `Init` (then untouched).
        let waiter = unsafe { Pin::new_unchecked(&self.waiter) };
        self.state.cancel(&self.notify, waiter);
    }
}

impl<B: WaitQueue> fmt::Debug for OwnedNotified<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedNotified")
            .field("generation", &self.state.generation)
            .field("phase", &self.state.phase)
            .finish_non_exhaustive()
    }
}

/// The plain (unpinned) fields of a [`Notified`] or [`OwnedNotified`].
#[derive(Debug)]
struct NotifiedState {
    /// The generation when the future was created.
    generation: usize,
    phase: Phase,
}

impl NotifiedState {
    fn new<B: WaitQueue>(notify: &Notify<B>) -> Self {
        // Acquire: a `Notified` made after seeing a broadcast's effects also
        // counts that broadcast (pairs with `notify_waiters`' AcqRel bump).
        Self {
            generation: generation(notify.state.load(Acquire)),
            phase: Phase::Init,
        }
    }
}

/// Where a [`Notified`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Neither polled nor enabled (or re-armed after a broadcast that was
    /// not for it); the node is idle.
    Init,
    /// The node is registered in `notify.queue` (it may since have been
    /// notified).
    Waiting,
    /// Completed; the node is idle.
    Done,
}

/// Why a waiting [`Notified`] completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leave {
    /// It consumed the stored permit on its re-check.
    Permit,
    /// The generation moved: a `notify_waiters` covers it.
    Broadcast,
}

impl<'a, B: WaitQueue> Notified<'a, B> {
    pub(super) fn new(notify: &'a Notify<B>) -> Self {
        Self {
            notify,
            state: NotifiedState::new(notify),
            waiter: B::new_waiter(),
            _pin: PhantomPinned,
        }
    }

    /// Queues this future for [`Notify::notify_one`] without polling it, so
    /// that a notification sent between now and the first poll is not
    /// missed. Polling does the same, so call this only to register *before*
    /// the first poll. Like a poll, but it stores no waker.
    ///
    /// Returns `true` if the future is ready (its next poll returns `Ready`):
    /// a `notify_waiters` happened since it was created, or it consumed the
    /// stored permit (only on the first `enable` or poll), or, if it was
    /// already queued, a notification has reached it since.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::{pin::pin, sync::atomic::{AtomicBool, Ordering}};
    /// use compio_sync::Notify;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let notify = Notify::new();
    /// let ready = AtomicBool::new(false);
    /// let mut notified = pin!(notify.notified());
    /// // Queue first, then check the condition: a notify_one in between
    /// // is not lost.
    /// assert!(!notified.as_mut().enable());
    /// ready.store(true, Ordering::SeqCst);
    /// notify.notify_one();
    /// if !ready.load(Ordering::SeqCst) {
    ///     notified.as_mut().await;
    /// }
    /// assert!(notified.as_mut().enable(), "the notification reached it");
    /// # });
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let (notify, state, waiter) = self.project();
        state.poll(notify, waiter, None).is_ready()
    }

    /// Splits the pinned future into its node (pinned) and its plain state.
    fn project(self: Pin<&mut Self>) -> (&'a Notify<B>, &mut NotifiedState, Pin<&B::Waiter>) {
        // SAFETY: the node is never moved out of `self`, which is pinned, so
        // pinning a shared reference to it is sound. The references are to
        // disjoint fields.
        unsafe {
            let this = self.get_unchecked_mut();
            (
                this.notify,
                &mut this.state,
                Pin::new_unchecked(&this.waiter),
            )
        }
    }
}

impl NotifiedState {
    fn poll<B: WaitQueue>(
        &mut self,
        notify: &Notify<B>,
        waiter: Pin<&B::Waiter>,
        waker: Option<&Waker>,
    ) -> Poll<()> {
        match self.phase {
            Phase::Init => self.start(notify, waiter, waker),
            Phase::Waiting => self.check(notify, waiter, waker),
            Phase::Done => Poll::Ready(()),
        }
    }

    /// First poll (or `enable`): the fast paths, then registration and
    /// re-check.
    fn start<B: WaitQueue>(
        &mut self,
        notify: &Notify<B>,
        waiter: Pin<&B::Waiter>,
        waker: Option<&Waker>,
    ) -> Poll<()> {
        // Acquire: the broadcaster's writes happen-before our completion.
        // A broadcast is checked first, as tokio does: a future it covers
        // leaves the permit for others.
        if generation(notify.state.load(Acquire)) != self.generation || notify.take_permit() {
            self.phase = Phase::Done;
            return Poll::Ready(());
        }
        let waker = waker.unwrap_or(Waker::noop());
        // SAFETY: the node is idle (`Init`) and only ever used with
        // `notify.queue`; it stays pinned in the future, whose `Drop`
        // cancels it while `Waiting`. If `register` unwinds (a waker's clone
        // panicked), the node is idle (contract point 7) and we stay `Init`.
        // SAFETY: as argued above: an idle node, one queue, pinned.
        unsafe { notify.queue.register(waiter, waker, 0) };
        self.phase = Phase::Waiting;
        if !B::REGISTERS_UNDER_SELECTION_LOCK {
            // Release: publishes the registration to a storing `notify`
            // (its Acquire load of `registrations`).
            notify.registrations.fetch_add(1, Release);
            // SeqCst: orders the registration (and the count) before the
            // re-check below, against `notify`'s (store PERMIT; fence; read
            // `registrations`) and `notify_waiters`' (bump; fence; wake
            // all).
            fence(SeqCst);
        }
        // Where the queue linked us under its selection lock, the lock
        // orders the registration against every notify: `notify` stores the
        // permit under it (`notify_or`) and `notify_waiters` sweeps under
        // it, so whichever takes it second sees the other, and the load
        // below sees a permit or a broadcast that missed us.
        // Acquire: the notifier's writes happen-before our completion.
        let state = notify.state.load(Acquire);
        if generation(state) != self.generation {
            return self.leave(notify, waiter, Leave::Broadcast);
        }
        if state & PERMIT != 0 && notify.take_permit() {
            return self.leave(notify, waiter, Leave::Permit);
        }
        Poll::Pending
    }

    /// A later poll (or `enable`) while queued.
    fn check<B: WaitQueue>(
        &mut self,
        notify: &Notify<B>,
        waiter: Pin<&B::Waiter>,
        waker: Option<&Waker>,
    ) -> Poll<()> {
        let polled = match waker {
            // SAFETY: the node is registered with `notify.queue` (`Waiting`)
            // and has not been observed `Ready` (that ends `Waiting`).
            Some(waker) => unsafe {
                notify
                    .queue
                    .poll_wait(waiter, &mut Context::from_waker(waker))
            },
            // `enable`: the queue keeps the waker of the last poll.
            // SAFETY: as for `poll_wait` above.
            None => unsafe { notify.queue.poll_notified(waiter) },
        };
        if let Poll::Ready(woken) = polled {
            match woken.wakeup & KIND {
                ALL if !self.broadcast_since(notify) => {
                    // Woken by the broadcast that made our own generation
                    // (we registered between its bump and its sweep): it is
                    // not for us. Queue again. (From `enable`, with no
                    // waker: the broadcast has just woken the task's, so the
                    // task's next poll of this future gives it one.)
                    self.phase = Phase::Init;
                    return self.start(notify, waiter, waker);
                }
                ALL => {}
                _ => self.settle_one(notify, woken.wakeup, false),
            }
            self.phase = Phase::Done;
            return Poll::Ready(());
        }
        if self.broadcast_since(notify) {
            return self.leave(notify, waiter, Leave::Broadcast);
        }
        Poll::Pending
    }

    /// Whether a `notify_waiters` happened since this future was created.
    fn broadcast_since<B: WaitQueue>(&self, notify: &Notify<B>) -> bool {
        // Acquire: the broadcaster's writes happen-before our completion.
        generation(notify.state.load(Acquire)) != self.generation
    }

    /// Leaves the queue and completes, passing on a `notify_one` this future
    /// received but does not consume.
    fn leave<B: WaitQueue>(
        &mut self,
        notify: &Notify<B>,
        waiter: Pin<&B::Waiter>,
        why: Leave,
    ) -> Poll<()> {
        // SAFETY: the node was registered with `notify.queue` in `start` and
        // not yet observed `Ready`.
        let cancelled = unsafe { notify.queue.cancel(waiter) };
        self.phase = Phase::Done;
        if let Cancelled::Notified(woken) = cancelled
            && woken.wakeup & KIND != ALL
        {
            // We complete through the permit (and so must not also keep a
            // `notify_one`), or through a broadcast.
            self.settle_one(notify, woken.wakeup, why == Leave::Permit);
        }
        Poll::Ready(())
    }

    /// A `notify_one`/`notify_last` reached this future, which completes:
    /// keep it, or pass it on in the same order if this future completes
    /// for another reason (`surplus`), or if it was sent after a broadcast
    /// that covers this future (tokio's would have found this future already
    /// woken, and gone to the next waiter or become the permit).
    fn settle_one<B: WaitQueue>(&self, notify: &Notify<B>, wakeup: usize, surplus: bool) {
        if surplus || !sent_at(wakeup, self.generation) {
            notify.notify(wakeup & KIND == LAST);
        }
    }

    /// Called on drop: leaves the queue, passing on a `notify_one` that
    /// reached this future.
    fn cancel<B: WaitQueue>(&mut self, notify: &Notify<B>, waiter: Pin<&B::Waiter>) {
        if self.phase != Phase::Waiting {
            return;
        }
        // SAFETY: the node is registered with `notify.queue` (`Waiting`).
        let cancelled = unsafe { notify.queue.cancel(waiter) };
        self.phase = Phase::Done;
        if let Cancelled::Notified(woken) = cancelled
            && woken.wakeup & KIND != ALL
        {
            // Picked by `notify_one`/`notify_last` and never completed: pass
            // it on, in the same order, as tokio does.
            notify.notify(woken.wakeup & KIND == LAST);
        }
    }
}

impl<B: WaitQueue> Future for Notified<'_, B> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let (notify, state, waiter) = self.project();
        state.poll(notify, waiter, Some(cx.waker()))
    }
}

impl<B: WaitQueue> Drop for Notified<'_, B> {
    fn drop(&mut self) {
        // SAFETY: `drop` is the last use of `self`. If the future was ever
        // polled or enabled it was pinned, so the node has not moved since;
        // if not, it is in `Init` and `cancel` does not touch it.
        let waiter = unsafe { Pin::new_unchecked(&self.waiter) };
        self.state.cancel(self.notify, waiter);
    }
}

impl<B: WaitQueue> fmt::Debug for Notified<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("generation", &self.state.generation)
            .field("phase", &self.state.phase)
            .finish_non_exhaustive()
    }
}
