//! A barrier for a fixed number of tasks, with tokio's `Barrier` API, built
//! directly on the wait queue, and cancel safe.
//!
//! # How it works
//!
//! All the state is one word, `state = generation << COUNT_BITS | arrived`,
//! plus one wait queue.
//!
//! * **Arriving.** A `wait()` future arrives on its first poll with a
//!   compare-and-swap that adds one to `arrived` in the current generation.
//!   The arrival that makes `arrived == n` is the *leader*: its CAS also
//!   starts the next generation (bumps `generation`, resets `arrived` to 0),
//!   then it `fence(SeqCst)`s and wakes every queued waiter, handing each the
//!   number of the generation that completed. Every other arrival registers
//!   in the queue, `fence(SeqCst)`s and re-checks the generation: the event
//!   count handshake of [`crate::backend`], so a waiter either sees the bump
//!   or is found by the leader's `notify_all`.
//! * **Which generation woke me?** A waiter of generation `g` can be swept
//!   by the `notify_all` of generation `g - 1` if it registered between that
//!   leader's bump and its sweep. The wake-up carries the completed
//!   generation, so such a waiter tells it apart and queues again.
//! * **Cancellation.** A future dropped while its generation is still
//!   incomplete takes its arrival back, with a CAS that succeeds only if the
//!   generation has not moved. The CAS decides the race with the last
//!   arrival: either the drop comes first (then that arrival is not the
//!   last, and the generation waits for a replacement), or the leader's CAS
//!   comes first (then the generation completed for everyone, the dropped
//!   future included, and nothing is taken back).

use std::{
    fmt,
    future::Future,
    marker::PhantomPinned,
    pin::Pin,
    task::{Context, Poll},
};

// The flavor (see `crate::flavor`): this file is compiled once under the
// crate root and once under `crate::local`.
use super::flavor::{AtomicUsize, DefaultBackend, Ordering::*, fence};
use crate::backend::{Cancelled, WaitQueue};

/// `state`: the low half counts the arrivals of the current generation.
const COUNT_BITS: u32 = usize::BITS / 2;
/// `state`: the arrivals of the current generation.
const ARRIVED: usize = (1 << COUNT_BITS) - 1;
/// `state`: one generation.
const ONE_GENERATION: usize = 1 << COUNT_BITS;

/// The generation number in `state` (wrapping in the high half).
fn generation(state: usize) -> usize {
    state >> COUNT_BITS
}

/// A barrier: `n` tasks call [`wait`](Self::wait), and all of them continue
/// once the `n`-th has arrived. It can be used again at once (each round is
/// a *generation*).
///
/// The API is [`tokio::sync::Barrier`]'s. One thing differs, and it is an
/// addition: [`wait`](Self::wait) is **cancel safe** (tokio's is not,
/// tokio#6494). A `wait()` future dropped before its generation completes
/// takes back its arrival, and the others keep waiting for a replacement.
///
/// `B` is the wait-queue backend (see [`crate::backend`]).
///
/// [`tokio::sync::Barrier`]: https://docs.rs/tokio/latest/tokio/sync/struct.Barrier.html
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use compio_sync::Barrier;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let barrier = Arc::new(Barrier::new(10));
/// let tasks: Vec<_> = (0..10)
///     .map(|_| {
///         let barrier = barrier.clone();
///         compio::runtime::spawn(async move { barrier.wait().await.is_leader() })
///     })
///     .collect();
/// let mut leaders = 0;
/// for task in tasks {
///     leaders += task.await.unwrap() as usize;
/// }
/// assert_eq!(leaders, 1, "exactly one leader per generation");
/// # });
/// ```
pub struct Barrier<B: WaitQueue = DefaultBackend> {
    /// `generation << COUNT_BITS | arrived`. Every change is a CAS, so the
    /// last arrival and a cancelling one never both win.
    state: AtomicUsize,
    /// Parties per generation (at least 1).
    n: usize,
    /// Where the arrivals of the current generation wait; the leader wakes
    /// them all, with the generation that completed as the wake-up value.
    queue: B,
}

impl Barrier {
    /// Creates a barrier for `n` tasks, on the default backend. A barrier
    /// for 0 tasks behaves as one for 1 (every `wait` completes at once, as
    /// leader), as tokio's and `std`'s do.
    ///
    /// # Panics
    ///
    /// If `n` is larger than the arrivals one generation can count: `2^32 - 1`
    /// on 64-bit targets, `2^16 - 1` on 32-bit ones (half the bits of the
    /// state word go to the generation number). tokio accepts larger `n`,
    /// for a barrier that can never complete.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let barrier = compio_sync::Barrier::new(1);
    /// assert!(barrier.wait().await.is_leader());
    /// # });
    /// ```
    #[track_caller]
    pub fn new(n: usize) -> Self {
        Self::with_backend(n)
    }
}

impl<B: WaitQueue> Barrier<B> {
    /// Creates a barrier for `n` tasks on the backend `B`; see
    /// [`new`](Barrier::new).
    ///
    /// # Panics
    ///
    /// As [`new`](Barrier::new).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Barrier, backend::MutexVecDeque};
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let barrier = Barrier::<MutexVecDeque>::with_backend(1);
    /// assert!(barrier.wait().await.is_leader());
    /// # });
    /// ```
    #[track_caller]
    pub fn with_backend(n: usize) -> Self {
        assert!(
            n <= ARRIVED,
            "a Barrier counts at most {ARRIVED} parties per generation (got {n})"
        );
        Self {
            state: AtomicUsize::new(0),
            n: n.max(1),
            queue: B::new(),
        }
    }

    /// Waits until all `n` tasks have called `wait` in this generation.
    ///
    /// Returns a [`BarrierWaitResult`] whose
    /// [`is_leader`](BarrierWaitResult::is_leader) is `true` for exactly one
    /// task per generation: the one whose arrival completed it. The others
    /// are woken and return `false`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, which tokio's is not. Dropping the future:
    ///
    /// * before its first poll: it never arrived;
    /// * after it arrived, before its generation completed: it takes its
    ///   arrival back. The generation then needs one more `wait` to
    ///   complete, and the tasks already waiting keep waiting for it;
    /// * after its generation completed (it was woken, or is about to be,
    ///   but has not returned `Ready`): nothing is undone. The generation
    ///   completed for every party, this one included, and its result would
    ///   have been `false`.
    ///
    /// The leader can never be dropped half-way: the arrival that completes
    /// a generation returns `Ready` (as leader) from the same poll, so every
    /// generation has exactly one leader, and it learns that it is one.
    ///
    /// # Panics
    ///
    /// Waking the other parties is user code (their wakers). If a waker
    /// panics when woken, the leader still wakes every party, then the
    /// first such panic resumes out of the leader's poll. The generation has
    /// completed all the same, and polling the leader's future again returns
    /// its result (`is_leader() == true`).
    ///
    /// # Examples
    ///
    /// A wait dropped before the barrier is full gives its place back:
    ///
    /// ```
    /// use std::pin::pin;
    /// use compio_sync::Barrier;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let barrier = Barrier::new(2);
    /// {
    ///     let mut early = pin!(barrier.wait());
    ///     assert!(futures::poll!(early.as_mut()).is_pending());
    /// } // dropped: its arrival is taken back
    /// let mut first = pin!(barrier.wait());
    /// assert!(futures::poll!(first.as_mut()).is_pending(), "still one party short");
    /// let second = barrier.wait().await;
    /// assert!(second.is_leader());
    /// assert!(!first.await.is_leader());
    /// # });
    /// ```
    pub fn wait(&self) -> BarrierWait<'_, B> {
        BarrierWait {
            barrier: self,
            phase: Phase::Init,
            waiter: B::new_waiter(),
            _pin: PhantomPinned,
        }
    }

    /// Counts this task's arrival in the current generation. Returns the
    /// generation, and whether this arrival completed it (then the next one
    /// has started, and the caller must [`release`](Self::release) it).
    fn arrive(&self) -> (usize, bool) {
        let mut state = self.state.load(Relaxed);
        loop {
            let last = (state & ARRIVED) + 1 == self.n;
            let next = if last {
                // Start the next generation with nobody arrived.
                (state & !ARRIVED).wrapping_add(ONE_GENERATION)
            } else {
                state + 1
            };
            // AcqRel: the leader's CAS reads every arrival of its generation
            // (a chain of RMWs), so what each party did before `wait`
            // happens-before the leader returns; the waiters acquire the
            // leader's release through their loads of `state` or through the
            // queue (contract point 4).
            match self
                .state
                .compare_exchange_weak(state, next, AcqRel, Relaxed)
            {
                Ok(_) => return (generation(state), last),
                Err(actual) => state = actual,
            }
        }
    }

    /// The leader's second step: wakes every waiter of the generation it
    /// completed.
    fn release(&self, completed: usize) {
        // SeqCst: orders the leader's bump (its CAS in `arrive`) before the
        // look at the queue in `notify_all`, against a waiter's (register;
        // fence; re-check the generation). Either it sees the bump, or the
        // sweep finds it.
        fence(SeqCst);
        self.queue.notify_all(completed);
    }

    /// Whether generation `generation_at_arrival` has completed.
    fn completed(&self, generation_at_arrival: usize) -> bool {
        // Acquire: the leader's CAS (and what every party did before it)
        // happens-before the caller's return.
        generation(self.state.load(Acquire)) != generation_at_arrival
    }

    /// Takes back an arrival in `generation_at_arrival`, unless that
    /// generation has completed. Returns whether it was taken back.
    fn depart(&self, generation_at_arrival: usize) -> bool {
        let mut state = self.state.load(Relaxed);
        loop {
            if generation(state) != generation_at_arrival {
                // The leader's CAS came first: the generation completed for
                // us too.
                return false;
            }
            debug_assert!(state & ARRIVED > 0, "an arrival to take back");
            // Acquire on failure is not needed: a completed generation is
            // only reported, nothing of the leader's is read.
            match self
                .state
                .compare_exchange_weak(state, state - 1, AcqRel, Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }
}

impl<B: WaitQueue> fmt::Debug for Barrier<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Relaxed);
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .field("arrived", &(state & ARRIVED))
            .field("generation", &generation(state))
            .finish_non_exhaustive()
    }
}

/// What [`Barrier::wait`] returns: whether this task was the generation's
/// leader.
#[derive(Debug, Clone)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Returns `true` for exactly one task per generation: the one whose
    /// arrival completed it.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let barrier = compio_sync::Barrier::new(2);
    /// let (a, b) = futures::join!(barrier.wait(), barrier.wait());
    /// assert!(a.is_leader() != b.is_leader());
    /// # });
    /// ```
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

/// Future returned by [`Barrier::wait`].
///
/// `!Unpin`: its wait-queue node lives inside it.
///
/// ```compile_fail
/// fn assert_unpin<T: Unpin>(_: T) {}
/// let barrier = compio_sync::Barrier::new(2);
/// assert_unpin(barrier.wait());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct BarrierWait<'a, B: WaitQueue = DefaultBackend> {
    barrier: &'a Barrier<B>,
    phase: Phase,
    /// Node in `barrier.queue`; linked only while `phase` is `Arrived` with
    /// `queued`.
    waiter: B::Waiter,
    _pin: PhantomPinned,
}

/// Where a [`BarrierWait`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not yet polled: not counted, node idle.
    Init,
    /// Counted as an arrival in `generation`. The node is registered iff
    /// `queued` (not yet, or not again, if a waker's `clone` unwound out of
    /// `register`, or after a wake-up meant for the previous generation).
    Arrived { generation: usize, queued: bool },
    /// Returned `Ready` with this result; node idle.
    Done { leader: bool },
}

impl<B: WaitQueue> BarrierWait<'_, B> {
    /// Registers the node, then re-checks the generation (the waiter's side
    /// of the handshake). Returns `Ready` if the generation has completed.
    fn queue(
        barrier: &Barrier<B>,
        phase: &mut Phase,
        waiter: Pin<&B::Waiter>,
        cx: &Context<'_>,
    ) -> Poll<BarrierWaitResult> {
        let Phase::Arrived { generation, .. } = *phase else {
            unreachable!("queued only after arriving")
        };
        // If `register` unwinds, the node is idle (contract point 7) and
        // `queued` stays false.
        // SAFETY: the node is idle (not `queued`), used with this queue only,
        // and pinned in the future, whose `Drop` cancels it while `queued`.
        unsafe { barrier.queue.register(waiter, cx.waker(), 0) };
        *phase = Phase::Arrived {
            generation,
            queued: true,
        };
        // SeqCst: orders the registration before the re-check below, against
        // the leader's (bump; fence; notify_all) in `arrive`.
        fence(SeqCst);
        if barrier.completed(generation) {
            // SAFETY: registered just above, not yet observed `Ready`. A
            // wake-up it may hold is a sweep: nothing to pass on.
            unsafe { barrier.queue.cancel(waiter) };
            *phase = Phase::Done { leader: false };
            return Poll::Ready(BarrierWaitResult(false));
        }
        Poll::Pending
    }
}

impl<B: WaitQueue> Future for BarrierWait<'_, B> {
    type Output = BarrierWaitResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        // SAFETY: the node is never moved out of `self`, which is pinned, so
        // pinning a shared reference to it is sound. The references are to
        // disjoint fields.
        let (barrier, phase, waiter) = unsafe {
            let this = self.get_unchecked_mut();
            (
                this.barrier,
                &mut this.phase,
                Pin::new_unchecked(&this.waiter),
            )
        };
        match *phase {
            Phase::Init => {
                let (generation, leader) = barrier.arrive();
                if leader {
                    // Done first: if a waker panics in the sweep (the panic
                    // is resumed here once every waiter has been woken), the
                    // generation has completed all the same.
                    *phase = Phase::Done { leader: true };
                    barrier.release(generation);
                    return Poll::Ready(BarrierWaitResult(true));
                }
                *phase = Phase::Arrived {
                    generation,
                    queued: false,
                };
                Self::queue(barrier, phase, waiter, cx)
            }
            Phase::Arrived {
                generation,
                queued: false,
            } => {
                if barrier.completed(generation) {
                    *phase = Phase::Done { leader: false };
                    return Poll::Ready(BarrierWaitResult(false));
                }
                Self::queue(barrier, phase, waiter, cx)
            }
            Phase::Arrived {
                generation,
                queued: true,
            } => {
                // SAFETY: registered (`queued`) and not yet observed `Ready`.
                match unsafe { barrier.queue.poll_wait(waiter, cx) } {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(woken) => {
                        // Either our generation's sweep (it carries our
                        // generation), or the previous one's, which found us
                        // registered before it swept: then queue again.
                        *phase = Phase::Arrived {
                            generation,
                            queued: false,
                        };
                        if woken.wakeup == generation || barrier.completed(generation) {
                            *phase = Phase::Done { leader: false };
                            return Poll::Ready(BarrierWaitResult(false));
                        }
                        Self::queue(barrier, phase, waiter, cx)
                    }
                }
            }
            Phase::Done { leader } => Poll::Ready(BarrierWaitResult(leader)),
        }
    }
}

impl<B: WaitQueue> Drop for BarrierWait<'_, B> {
    fn drop(&mut self) {
        let Phase::Arrived { generation, queued } = self.phase else {
            return;
        };
        if queued {
            // SAFETY: registered with `barrier.queue` (`queued`), and pinned
            // since (the future was polled).
            let cancelled = unsafe { self.barrier.queue.cancel(Pin::new_unchecked(&self.waiter)) };
            if let Cancelled::Notified(woken) = cancelled
                && woken.wakeup == generation
            {
                // Our generation's sweep reached us: it completed.
                return;
            }
        }
        // Take the arrival back, unless the generation has completed (its
        // leader's CAS came first; its sweep may still be on its way to
        // others).
        self.barrier.depart(generation);
    }
}

impl<B: WaitQueue> fmt::Debug for BarrierWait<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("barrier", self.barrier)
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}
