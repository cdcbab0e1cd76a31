//! Notify a task to wake up, with tokio's `Notify` semantics.
//!
//! # How it works
//!
//! All the state lives in one word, `state = generation << 1 | PERMIT`, plus a
//! registration counter and three wait queues.
//!
//! * **The permit.** `notify_one` first tries to hand its notification to a
//!   queued waiter (`queue.notify_one()`). Only if nobody is queued does it
//!   set `PERMIT`, which the next `Notified` consumes. Setting the permit
//!   races with a waiter that is registering, and is resolved by the event
//!   count `registrations`. The waiter registers, counts itself,
//!   `fence(SeqCst)`s and re-checks `PERMIT`. The notifier sets `PERMIT`,
//!   `fence(SeqCst)`s and re-reads the count. If the count moved, the
//!   notifier takes the permit back and retries the queue. Either the waiter
//!   takes the permit or the notifier finds the waiter, and one notification
//!   is never delivered twice. `PERMIT` is one bit, so at most one is
//!   stored.
//! * **`notify_waiters` and the generation.** A `Notified` records the
//!   generation (the number of `notify_waiters` calls) when it is created,
//!   and completes once it changes, as in tokio. `notify_waiters` bumps the
//!   generation, `fence(SeqCst)`s and wakes the `all` queue. A registering
//!   waiter re-checks the generation after its fence.
//! * **Which notification did a waiter get?** A `Notified` dropped after
//!   `notify_one` picked it must pass that notification on. One dropped after
//!   `notify_waiters` woke it must not, or it would invent a permit. A
//!   [`WaitQueue`] tells a waiter only *that* it was notified, not by whom.
//!   So each `Notified` holds two waiter nodes: one in a `one` queue
//!   (`notify_one`/`notify_last` pick from it) and one in the `all` queue
//!   (`notify_waiters` drains it). A notified `one` node always means a
//!   `notify_one`, so a dropped `Notified` passes on exactly what it should.
//!   The price is a second registration (one more queue operation) per wait.
//! * **Stale `one` nodes.** A waiter woken by `notify_waiters` stays in its
//!   `one` queue until its task runs. A `notify_one` made after the
//!   `notify_waiters` must not go to it (tokio has already removed it). So
//!   there are two `one` queues, picked by the parity of the generation:
//!   waiters register in `one[generation & 1]`, and `notify_one` picks from
//!   the current parity. A waiter of generation `g` can therefore be picked
//!   by `notify_one` only at generation `g` (a real notification, made
//!   before the broadcast), or at `g + 2` or later (a stale pick). When a
//!   waiter sees a `one` notification and the generation has moved by two
//!   or more, it cannot tell which, and it passes the notification on. A
//!   notification is never lost that way. At worst there is one extra
//!   wake-up, in the rare case of a `notify_one` followed by two
//!   `notify_waiters` before the waiter runs. For the same reason, a waiter
//!   that has not run since two `notify_waiters` calls may hold up a
//!   `notify_one` until its task runs or drops it.
//!
//! A notification passed on by a dropped `Notified` goes to the longest
//! waiter (`notify_one`), even if it came from `notify_last`.

use std::{
    fmt,
    future::Future,
    marker::PhantomPinned,
    pin::Pin,
    task::{Context, Poll, Waker},
};

use crate::{
    backend::{DefaultBackend, WaitQueue},
    loom::atomic::{AtomicUsize, Ordering::*, fence},
};

/// `state`: a `notify_one` is stored for the next `Notified`.
const PERMIT: usize = 1;
/// `state`: the generation (count of `notify_waiters` calls) sits above this.
const GENERATION_SHIFT: u32 = 1;
/// `state`: one `notify_waiters` call.
const ONE_GENERATION: usize = 1 << GENERATION_SHIFT;

fn generation(state: usize) -> usize {
    state >> GENERATION_SHIFT
}

/// How many generations `now` is past `then` (the counter wraps).
fn generations_since(then: usize, now: usize) -> usize {
    now.wrapping_sub(then) & (usize::MAX >> GENERATION_SHIFT)
}

/// Notifies a single task, or every waiting task, to wake up.
///
/// A `Notify` carries no data. It signals that something happened, and
/// tasks pair it with their own state. The semantics are
/// [`tokio::sync::Notify`]'s:
///
/// * [`notified()`](Self::notified)`.await` waits for a notification.
/// * [`notify_one`](Self::notify_one) wakes the longest-waiting task. If no
///   task waits, it stores a *permit* instead, and the next `notified()`
///   completes at once. At most one permit is stored, however many
///   `notify_one` calls there are.
/// * [`notify_last`](Self::notify_last) is the same, but wakes the task
///   that started waiting most recently.
/// * [`notify_waiters`](Self::notify_waiters) wakes every task waiting on a
///   [`Notified`] created before the call, and stores no permit.
///
/// `B` is the wait-queue backend (see [`crate::backend`]).
///
/// [`tokio::sync::Notify`]: https://docs.rs/tokio/latest/tokio/sync/struct.Notify.html
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use compio_sync::Notify;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let notify = Arc::new(Notify::new());
/// let waiter = compio::runtime::spawn({
///     let notify = notify.clone();
///     async move {
///         notify.notified().await;
///         "woken"
///     }
/// });
/// notify.notify_one();
/// assert_eq!(waiter.await.unwrap(), "woken");
/// # });
/// ```
///
/// A permit stored before anyone waits is not lost:
///
/// ```
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let notify = compio_sync::Notify::new();
/// notify.notify_one();
/// notify.notify_one(); // still one permit
/// notify.notified().await; // completes at once
/// # });
/// ```
pub struct Notify<B: WaitQueue = DefaultBackend> {
    /// `generation << GENERATION_SHIFT | PERMIT`.
    state: AtomicUsize,
    /// How many times a `Notified` has registered (wrapping). A `notify_one`
    /// that stores the permit re-reads it to find waiters that registered
    /// meanwhile.
    registrations: AtomicUsize,
    /// Where `notify_one` and `notify_last` pick waiters, by generation
    /// parity: a waiter of generation `g` waits in `one[g & 1]`.
    one: [B; 2],
    /// Where `notify_waiters` wakes waiters: every waiting `Notified` has a
    /// node here too.
    all: B,
}

#[cfg(not(loom))]
impl Notify {
    /// Creates a `Notify` with no permit, on the default backend.
    ///
    /// # Examples
    ///
    /// ```
    /// let notify = compio_sync::Notify::new();
    /// notify.notify_one();
    /// ```
    pub fn new() -> Self {
        Self::with_backend()
    }

    /// Creates a `Notify` in a `const` context, e.g. a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::Notify;
    ///
    /// static SHUTDOWN: Notify = Notify::const_new();
    /// SHUTDOWN.notify_waiters();
    /// ```
    pub const fn const_new() -> Self {
        Self::const_with_backend()
    }
}

#[cfg(loom)]
impl Notify {
    /// Creates a `Notify` with no permit, on the default backend.
    pub fn new() -> Self {
        Self::with_backend()
    }
}

impl<B: WaitQueue> Notify<B> {
    /// Creates a `Notify` with no permit, on the backend `B`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Notify, backend::MutexVecDeque};
    ///
    /// let notify = Notify::<MutexVecDeque>::with_backend();
    /// notify.notify_one();
    /// ```
    pub fn with_backend() -> Self {
        Self {
            state: AtomicUsize::new(0),
            registrations: AtomicUsize::new(0),
            one: [B::new(), B::new()],
            all: B::new(),
        }
    }

    /// `const` form of [`with_backend`](Self::with_backend).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Notify, backend::MutexVecDeque};
    ///
    /// static READY: Notify<MutexVecDeque> = Notify::const_with_backend();
    /// READY.notify_one();
    /// ```
    #[cfg(not(loom))]
    pub const fn const_with_backend() -> Self {
        Self {
            state: AtomicUsize::new(0),
            registrations: AtomicUsize::new(0),
            one: [B::NEW, B::NEW],
            all: B::NEW,
        }
    }

    /// Returns a future that completes when this `Notify` is notified.
    ///
    /// The future records how many [`notify_waiters`](Self::notify_waiters)
    /// calls there have been. A later call completes it, even if it has
    /// never been polled. It is queued for [`notify_one`](Self::notify_one)
    /// only once it is polled or [enabled](Notified::enable).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. If a `Notified` picked by `notify_one` or `notify_last`
    /// is dropped before it returns `Ready`, the notification goes to the
    /// next waiter, or becomes the permit. A `Notified` woken by
    /// `notify_waiters` passes nothing on.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::Notify;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let notify = Arc::new(Notify::new());
    /// let notified = notify.notified(); // created before the broadcast
    /// notify.notify_waiters();
    /// notified.await; // completes
    /// # });
    /// ```
    pub fn notified(&self) -> Notified<'_, B> {
        // Acquire: a `Notified` made after seeing a broadcast's effects also
        // counts that broadcast (pairs with `notify_waiters`' AcqRel bump).
        let generation = generation(self.state.load(Acquire));
        Notified {
            notify: self,
            st: NotifiedState {
                generation,
                phase: Phase::Init,
                waker: None,
            },
            one: B::new_waiter(),
            all: B::new_waiter(),
            _pin: PhantomPinned,
        }
    }

    /// Wakes the task that has waited longest. If no task waits, stores a
    /// permit for the next [`notified`](Self::notified) instead. At most one
    /// permit is ever stored.
    ///
    /// Everything the caller did before `notify_one` happens-before the
    /// completion of the `Notified` that receives it.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let notify = compio_sync::Notify::new();
    /// let first = notify.notified();
    /// let second = notify.notified();
    /// let (mut first, mut second) = (std::pin::pin!(first), std::pin::pin!(second));
    /// first.as_mut().enable();
    /// second.as_mut().enable();
    /// notify.notify_one();
    /// first.await; // the longest waiter gets it; `second` keeps waiting
    /// # });
    /// ```
    pub fn notify_one(&self) {
        self.notify(false);
    }

    /// Wakes the task that started waiting most recently (LIFO). If no task
    /// waits, stores a permit, as [`notify_one`](Self::notify_one) does.
    ///
    /// Backends that cannot pick the newest waiter say so in their docs, and
    /// pick another one.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let notify = compio_sync::Notify::new();
    /// let first = notify.notified();
    /// let second = notify.notified();
    /// let (mut first, mut second) = (std::pin::pin!(first), std::pin::pin!(second));
    /// first.as_mut().enable();
    /// second.as_mut().enable();
    /// notify.notify_last();
    /// second.await; // the newest waiter gets it
    /// # });
    /// ```
    pub fn notify_last(&self) {
        self.notify(true);
    }

    /// Wakes every task whose [`Notified`] was created before this call,
    /// whether or not it has been polled yet. Stores no permit, and does not
    /// consume one.
    ///
    /// Everything the caller did before `notify_waiters` happens-before the
    /// completion of each `Notified` it completes.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let notify = compio_sync::Notify::new();
    /// // Created (not yet polled) before the broadcast: all three complete.
    /// let notified: Vec<_> = (0..3).map(|_| notify.notified()).collect();
    /// notify.notify_waiters();
    /// futures::future::join_all(notified).await;
    /// // A later `Notified` waits for the next notification.
    /// let mut later = std::pin::pin!(notify.notified());
    /// assert!(!later.as_mut().enable());
    /// # });
    /// ```
    pub fn notify_waiters(&self) {
        // AcqRel: our caller's writes happen-before the completions that see
        // the new generation (their Acquire loads of `state`).
        self.state.fetch_add(ONE_GENERATION, AcqRel);
        // SeqCst: orders the bump before the look at `all` below, against a
        // registering waiter's (register in `all`; fence; re-check the
        // generation). Either we find it, or it sees the bump.
        fence(SeqCst);
        self.all.notify_all();
    }

    /// `notify_one` (`lifo == false`) or `notify_last` (`lifo == true`).
    fn notify(&self, lifo: bool) {
        // Acquire: a registration counted here happens-before the queue
        // attempt below, so the attempt sees it (pairs with the Release
        // increment in `Notified::start`).
        let mut seen = self.registrations.load(Acquire);
        loop {
            let queue = &self.one[generation(self.state.load(Acquire)) & 1];
            let delivered = if lifo {
                queue.notify_last()
            } else {
                queue.notify_one()
            };
            if delivered {
                return;
            }
            // Nobody waits: store the permit. AcqRel: our caller's writes
            // happen-before the consumer's (Acquire in `take_permit`).
            if self.state.fetch_or(PERMIT, AcqRel) & PERMIT != 0 {
                // A permit was already stored: they do not add up.
                return;
            }
            // SeqCst: orders the PERMIT store before the load of
            // `registrations`, against a waiter's (register; count; fence;
            // re-check PERMIT). Either it sees the permit, or we see it
            // counted.
            fence(SeqCst);
            let now = self.registrations.load(Acquire);
            if now == seen {
                return;
            }
            seen = now;
            // A waiter registered since we looked at the queue and may have
            // re-checked before our store: take the permit back and deliver
            // through the queue instead. If it is gone, a waiter took it.
            if !self.take_permit() {
                return;
            }
        }
    }

    /// Consumes the stored permit, if any.
    fn take_permit(&self) -> bool {
        // AcqRel: the notifier's writes happen-before our caller's return
        // (pairs with the AcqRel `fetch_or` in `notify`).
        self.state.load(Relaxed) & PERMIT != 0
            && self.state.fetch_and(!PERMIT, AcqRel) & PERMIT != 0
    }
}

impl<B: WaitQueue> fmt::Debug for Notify<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Relaxed);
        f.debug_struct("Notify")
            .field("permit", &(state & PERMIT != 0))
            .field("notify_waiters_calls", &generation(state))
            .finish_non_exhaustive()
    }
}

impl<B: WaitQueue> Default for Notify<B> {
    /// A `Notify` with no permit.
    fn default() -> Self {
        Self::with_backend()
    }
}

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
    st: NotifiedState,
    /// Node in `notify.one[st.generation & 1]`.
    one: B::Waiter,
    /// Node in `notify.all`.
    all: B::Waiter,
    _pin: PhantomPinned,
}

/// The plain (unpinned) fields of a [`Notified`].
#[derive(Debug)]
struct NotifiedState {
    /// The generation when the future was created.
    generation: usize,
    phase: Phase,
    /// The last waker the future was polled with: `enable` polls with it, so
    /// as not to replace the task's waker in the queues.
    waker: Option<Waker>,
}

/// Where a [`Notified`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Neither polled nor enabled; both nodes idle.
    Init,
    /// Both nodes registered: `one` in `notify.one[generation & 1]`, `all` in
    /// `notify.all` (either may since have been notified).
    Waiting,
    /// Completed; both nodes idle.
    Done,
}

/// Why a waiting [`Notified`] completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leave {
    /// It consumed the stored permit on its re-check.
    Permit,
    /// Its `one` node was notified.
    One,
    /// The generation moved: a `notify_waiters` covers it.
    Broadcast,
}

impl<'a, B: WaitQueue> Notified<'a, B> {
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
        let (notify, st, one, all) = self.project();
        st.poll(notify, one, all, None).is_ready()
    }

    /// Splits the pinned future into its nodes (pinned) and its plain state.
    #[allow(clippy::type_complexity)]
    fn project(
        self: Pin<&mut Self>,
    ) -> (
        &'a Notify<B>,
        &mut NotifiedState,
        Pin<&B::Waiter>,
        Pin<&B::Waiter>,
    ) {
        // SAFETY: the nodes are never moved out of `self`, which is pinned,
        // so pinning shared references to them is sound. The references are
        // to disjoint fields.
        unsafe {
            let this = self.get_unchecked_mut();
            (
                this.notify,
                &mut this.st,
                Pin::new_unchecked(&this.one),
                Pin::new_unchecked(&this.all),
            )
        }
    }
}

impl NotifiedState {
    fn poll<B: WaitQueue>(
        &mut self,
        notify: &Notify<B>,
        one: Pin<&B::Waiter>,
        all: Pin<&B::Waiter>,
        waker: Option<&Waker>,
    ) -> Poll<()> {
        match self.phase {
            Phase::Init => self.start(notify, one, all, waker),
            Phase::Waiting => self.check(notify, one, all, waker),
            Phase::Done => Poll::Ready(()),
        }
    }

    /// First poll (or `enable`): the fast paths, then registration and
    /// re-check.
    fn start<B: WaitQueue>(
        &mut self,
        notify: &Notify<B>,
        one: Pin<&B::Waiter>,
        all: Pin<&B::Waiter>,
        waker: Option<&Waker>,
    ) -> Poll<()> {
        // Acquire: the broadcaster's writes happen-before our completion.
        // A broadcast is checked first, as tokio does: a future it covers
        // leaves the permit for others.
        if generation(notify.state.load(Acquire)) != self.generation || notify.take_permit() {
            self.phase = Phase::Done;
            return Poll::Ready(());
        }
        let waker = match waker {
            Some(waker) => &*self.waker.insert(waker.clone()),
            None => Waker::noop(),
        };
        // Registering clones the waker (user code). A register that unwinds
        // leaves its own node idle (contract point 7), but if the second one
        // panics the first node is linked: the guard unlinks both while
        // unwinding (cancelling an idle node is a no-op), so the future is
        // back in `Init` with nothing linked, and a later poll starts over.
        let unwinding = Unregister {
            notify,
            one,
            all,
            parity: self.generation & 1,
        };
        // Both nodes are idle (`Init`); each is only ever used with the queue
        // it is registered in here (`one` with the queue of our generation's
        // parity, which never changes).
        // SAFETY: idle nodes, one queue each (above); both stay pinned in the
        // future, whose `Drop` cancels them while `Waiting` (and the guard
        // until then).
        unsafe {
            notify.all.register(all, waker);
            notify.one[self.generation & 1].register(one, waker);
        }
        std::mem::forget(unwinding);
        // Release: publishes the registrations to a storing `notify` (its
        // Acquire load of `registrations`).
        notify.registrations.fetch_add(1, Release);
        self.phase = Phase::Waiting;
        // SeqCst: orders the registrations (and the count) before the
        // re-check below, against `notify`'s (store PERMIT; fence; read
        // `registrations`) and `notify_waiters`' (bump; fence; drain `all`).
        fence(SeqCst);
        let state = notify.state.load(Acquire);
        if generation(state) != self.generation {
            return self.leave(notify, one, all, Leave::Broadcast);
        }
        if state & PERMIT != 0 && notify.take_permit() {
            return self.leave(notify, one, all, Leave::Permit);
        }
        Poll::Pending
    }

    /// A later poll (or `enable`) while queued.
    fn check<B: WaitQueue>(
        &mut self,
        notify: &Notify<B>,
        one: Pin<&B::Waiter>,
        all: Pin<&B::Waiter>,
        waker: Option<&Waker>,
    ) -> Poll<()> {
        if let Some(waker) = waker {
            if !self.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
                self.waker = Some(waker.clone());
            }
        }
        let waker = self.waker.as_ref().unwrap_or(Waker::noop());
        let mut cx = Context::from_waker(waker);
        // SAFETY: `one` is registered with this queue (`Waiting`) and has not
        // been observed `Ready` (that ends `Waiting`).
        if unsafe { notify.one[self.generation & 1].poll_wait(one, &mut cx) }.is_ready() {
            return self.leave(notify, one, all, Leave::One);
        }
        // Acquire: as in `start`.
        if generation(notify.state.load(Acquire)) != self.generation
            // SAFETY: `all` is registered with `notify.all` and not yet
            // observed `Ready`.
            || unsafe { notify.all.poll_wait(all, &mut cx) }.is_ready()
        {
            return self.leave(notify, one, all, Leave::Broadcast);
        }
        Poll::Pending
    }

    /// Leaves both queues and completes, passing on a `notify_one` this
    /// future received but does not consume.
    fn leave<B: WaitQueue>(
        &mut self,
        notify: &Notify<B>,
        one: Pin<&B::Waiter>,
        all: Pin<&B::Waiter>,
        why: Leave,
    ) -> Poll<()> {
        // SAFETY: both nodes were registered with these queues in `start`;
        // a node already observed `Ready` is idle, and `cancel` on an idle
        // node returns `false` without touching the queue.
        let got_one = unsafe { notify.one[self.generation & 1].cancel(one) } || why == Leave::One;
        // SAFETY: as above. Whether `notify_waiters` reached this node does
        // not matter: the generation says so.
        unsafe { notify.all.cancel(all) };
        self.phase = Phase::Done;
        self.waker = None;
        // Read after observing the notifications: a `notify_one` that picked
        // us read a generation no later than this one.
        let moved = generations_since(self.generation, generation(notify.state.load(Acquire)));
        let pass_on = match why {
            // We consumed the permit; a `notify_one` that also reached us
            // belongs to someone else.
            Leave::Permit => got_one,
            // Our `one` queue is picked only at our generation (a real
            // notification, sent before any broadcast covered us: consume it)
            // or two or more generations later (it may have been meant for
            // a later waiter: pass it on, never lose it).
            Leave::One | Leave::Broadcast => got_one && moved >= 2,
        };
        if pass_on {
            notify.notify_one();
        }
        Poll::Ready(())
    }

    /// Called on drop: leaves the queues, passing on a `notify_one` that
    /// reached this future.
    fn cancel<B: WaitQueue>(
        &mut self,
        notify: &Notify<B>,
        one: Pin<&B::Waiter>,
        all: Pin<&B::Waiter>,
    ) {
        if self.phase != Phase::Waiting {
            return;
        }
        // SAFETY: both nodes are registered with these queues (`Waiting`).
        let got_one = unsafe { notify.one[self.generation & 1].cancel(one) };
        // SAFETY: as above.
        unsafe { notify.all.cancel(all) };
        self.phase = Phase::Done;
        if got_one {
            // Picked by `notify_one`/`notify_last` and never completed: in
            // every order of events tokio's would forward it too.
            notify.notify_one();
        }
    }
}

/// Unlinks both nodes of a [`Notified`] whose registration unwinds (a waker
/// whose `clone` panics); `mem::forget` once both are registered.
struct Unregister<'a, B: WaitQueue> {
    notify: &'a Notify<B>,
    one: Pin<&'a B::Waiter>,
    all: Pin<&'a B::Waiter>,
    parity: usize,
}

impl<B: WaitQueue> Drop for Unregister<'_, B> {
    fn drop(&mut self) {
        // SAFETY: each node is used with this queue only (`one` with the queue
        // of its generation's parity) and is pinned in its future; a node
        // whose register unwound, or that was never registered, is idle, and
        // `cancel` on an idle node is a no-op.
        let got_one = unsafe { self.notify.one[self.parity].cancel(self.one) };
        // SAFETY: as above.
        unsafe { self.notify.all.cancel(self.all) };
        // `one` registers last, so when anything unwinds it is idle: no
        // `notify_one` can have picked it.
        debug_assert!(!got_one, "a node that never registered was notified");
    }
}

impl<B: WaitQueue> Future for Notified<'_, B> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let (notify, st, one, all) = self.project();
        st.poll(notify, one, all, Some(cx.waker()))
    }
}

impl<B: WaitQueue> Drop for Notified<'_, B> {
    fn drop(&mut self) {
        // SAFETY: `drop` is the last use of `self`. If the future was ever
        // polled or enabled it was pinned, so the nodes have not moved since;
        // if not, it is in `Init` and `cancel` does not touch them.
        let (one, all) = unsafe { (Pin::new_unchecked(&self.one), Pin::new_unchecked(&self.all)) };
        self.st.cancel(self.notify, one, all);
    }
}

impl<B: WaitQueue> fmt::Debug for Notified<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("generation", &self.st.generation)
            .field("phase", &self.st.phase)
            .finish_non_exhaustive()
    }
}
