//! Writer cohorts: under the default policy, the writers' turn (`upgrade`,
//! see `raw.rs`) passes first among the waiting writers of one thread.
//!
//! A writer that has to wait takes the writers' turn before it claims the
//! readers' priority. Handed to a writer on another runtime, the turn costs
//! a cross-thread wake-up and that runtime's scheduling delay, during which
//! nobody claims the lock for writers: measured in S9 at 2-4 µs (median)
//! and 10-26 µs (p90) on 2 vCPUs, while up to 20 writers queued for it.
//! That queue, drained one cross-thread hand-over per writer, was the
//! writers' tail. Lock cohorting (Dice, Marathe and Shavit, "Lock
//! Cohorting", PPoPP 2012) keeps such hand-overs local:
//!
//! * The waiting writers of a thread (its `wait_shard`: threads take the
//!   shards round robin, so until there are more threads than shards a
//!   cohort is one runtime) first queue at their cohort's `gate`, a
//!   one-permit semaphore. Only the gate's holder competes for the turn.
//! * The writer holding the turn, once it holds the lock, hands the turn to
//!   the next writer of its cohort if one waits (`passed`), up to
//!   [`COHORT_PASSES`] times in a row; otherwise, or then, it gives the turn
//!   back to every thread. Then it lets the gate go, and the cohort's next
//!   writer (a same-runtime wake-up) finds the turn passed to it.
//! * A turn given back goes to whoever takes it first, under the lock's
//!   policy: the writer of another thread that waits for it is woken, and
//!   the cohort's next writer, running on the thread that gave it back,
//!   may take it again first. Each time, that writer is passed over, so
//!   after [`STARVATION_PASSES`] of them (or [`STARVATION_BOUND`]) it claims
//!   the turn, and the policy stays starvation-free: each pass costs it at
//!   most `COHORT_PASSES + 1` write sections of that cohort.
//! * Handing the turn given back to the waiting writer instead (the queue
//!   first, as `Semaphore::release_to_waiters` does) bounds that wait by
//!   `COHORT_PASSES + 1` sections, but measured worse: in S9 with 4
//!   runtimes on 2 vCPUs the writers' p99 wait went from 78-113 µs to
//!   283-357 µs (p99.9 121-169 to 378-491 µs; 3 alternated quick runs), as
//!   the turn waited for a runtime that was not running, while a running
//!   one had writers ready. With 2 runtimes the runs did not tell them
//!   apart. `tests/rwlock_cohort.rs` pins the passes.
//!
//! [`STARVATION_PASSES`]: crate::STARVATION_PASSES
//! [`STARVATION_BOUND`]: crate::STARVATION_BOUND
//!
//! The cohort's bookkeeping sits under a short lock (`state`): `waiting`
//! counts the writers that arrived and have not yet taken the gate, and
//! `passed` says that the turn is parked here for the next of them. The
//! turn is held at all times by one of: a writer, one cohort's `passed`, or
//! nobody (the semaphore has it). `passed` implies `waiting > 0`: it is set
//! only when a writer waits, the writer that takes the gate takes it, and
//! the last waiting writer that leaves without the gate (cancelled) gives
//! the turn back to every thread.

use super::super::{
    flavor::{LazyBox, Mutex, WAIT_SHARDS, WRITER_COHORTS, wait_shard},
    semaphore::{Semaphore, SemaphorePermit},
};
use crate::backend::WaitQueue;

/// Hand-overs of the writers' turn in a row within one cohort, before it
/// goes back to every thread. Writers of other threads wait at most this
/// many extra write sections per cohort ahead of them.
pub(super) const COHORT_PASSES: u32 = 4;

/// An `RwLock`'s writer cohorts, one per wait shard, allocated when a
/// writer first has to wait (most locks never need them).
pub(super) struct Cohorts<B: WaitQueue>(LazyBox<[Cohort<B>; WAIT_SHARDS]>);

/// The waiting writers of one thread (shard).
struct Cohort<B: WaitQueue> {
    /// Held by the one writer of the cohort that competes for, or holds,
    /// the writers' turn. Same (default) policy as the lock.
    gate: Semaphore<B>,
    state: Mutex<CohortState>,
}

#[derive(Default)]
struct CohortState {
    /// Writers that arrived at the cohort and have not yet taken the gate.
    waiting: usize,
    /// The writers' turn is parked here, for the next writer to take the
    /// gate.
    passed: bool,
    /// Hand-overs in a row within this cohort.
    passes: u32,
}

impl<B: WaitQueue> Cohorts<B> {
    #[cfg(not(loom))]
    pub(super) const fn new() -> Self {
        Self(LazyBox::new())
    }

    #[cfg(loom)]
    pub(super) fn new() -> Self {
        Self(LazyBox::new())
    }

    /// Counts a writer that has to wait into its thread's cohort, or `None`
    /// where this flavor has no cohorts. `turn` is the writers' turn;
    /// `readers` the lock's read permits, whose local phases pause while
    /// the writer waits for the turn.
    pub(super) fn arrive<'a>(
        &'a self,
        turn: &'a Semaphore<B>,
        readers: &'a Semaphore<B>,
    ) -> Option<Place<'a, B>> {
        if !WRITER_COHORTS {
            return None;
        }
        let cohorts = self.0.get_or_init(|| {
            std::array::from_fn(|_| Cohort {
                gate: Semaphore::with_backend(1),
                state: Mutex::new(CohortState::default()),
            })
        });
        let shard = wait_shard();
        let cohort = &cohorts[shard];
        cohort.state.lock().waiting += 1;
        Some(Place {
            cohort,
            shard,
            turn,
            readers,
            phase: Phase::Waiting,
        })
    }
}

/// A waiting writer's place in its cohort, from its arrival until it hands
/// the turn on. Dropped early (the write was cancelled), it leaves the
/// cohort and the turn as they would be had it never come.
pub(super) struct Place<'a, B: WaitQueue> {
    cohort: &'a Cohort<B>,
    /// The wait shard of `cohort`.
    shard: usize,
    turn: &'a Semaphore<B>,
    readers: &'a Semaphore<B>,
    phase: Phase,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Counted in `waiting`, not holding the gate.
    Waiting,
    /// Holding the gate (the caller holds its permit); `owns_turn` once it
    /// holds the writers' turn, passed to it or acquired. Until then it
    /// waits for the turn, and the readers' local phases are paused for its
    /// shard (see `Semaphore::keeps_local_phase`).
    Entered { owns_turn: bool },
    /// Handed the turn on.
    Done,
}

impl<'a, B: WaitQueue> Place<'a, B> {
    /// Waits for the cohort's gate, then for the writers' turn unless the
    /// previous writer of the cohort passed it on. The gate's permit is the
    /// caller's to drop after [`hand_on`](Self::hand_on).
    pub(super) async fn take_turn(&mut self) -> SemaphorePermit<'a, B> {
        debug_assert_eq!(self.phase, Phase::Waiting);
        let gate = never_closed(self.cohort.gate.acquire().await);
        let passed = {
            let mut state = self.cohort.state.lock();
            state.waiting -= 1;
            std::mem::take(&mut state.passed)
        };
        self.phase = Phase::Entered { owns_turn: passed };
        if !passed {
            // Resumed once it holds the turn, or on drop (cancelled).
            self.readers.pause_local_phases(self.shard);
            never_closed(self.turn.acquire().await).forget();
            self.readers.resume_local_phases(self.shard);
            self.phase = Phase::Entered { owns_turn: true };
        }
        gate
    }

    /// The caller holds the lock: passes the turn to the cohort's next
    /// writer if one waits and the cohort has not had it [`COHORT_PASSES`]
    /// times in a row, or gives it back to every thread.
    pub(super) fn hand_on(&mut self) {
        debug_assert_eq!(self.phase, Phase::Entered { owns_turn: true });
        self.phase = Phase::Done;
        let pass = {
            let mut state = self.cohort.state.lock();
            if state.waiting > 0 && state.passes < COHORT_PASSES {
                state.passed = true;
                state.passes += 1;
                true
            } else {
                state.passes = 0;
                false
            }
        };
        if !pass {
            // To whoever takes it first, not to the queue first: see the
            // module docs.
            self.turn.release(1);
        }
    }
}

impl<B: WaitQueue> Drop for Place<'_, B> {
    fn drop(&mut self) {
        match self.phase {
            Phase::Waiting => {
                // Cancelled before the gate: if we were the last writer the
                // turn could be passed to, it goes back to every thread.
                let release = {
                    let mut state = self.cohort.state.lock();
                    state.waiting -= 1;
                    if state.waiting == 0 && state.passed {
                        state.passed = false;
                        state.passes = 0;
                        true
                    } else {
                        false
                    }
                };
                if release {
                    self.turn.release(1);
                }
            }
            Phase::Entered { owns_turn: true } => {
                // Cancelled holding the turn (waiting for the readers): it
                // goes back to every thread; the gate's permit, dropped by
                // the caller, goes to the cohort's next writer.
                self.cohort.state.lock().passes = 0;
                self.turn.release(1);
            }
            Phase::Entered { owns_turn: false } => {
                // Cancelled waiting for the turn: local phases resume.
                self.readers.resume_local_phases(self.shard);
            }
            Phase::Done => {}
        }
    }
}

/// A lock's semaphores are never closed.
fn never_closed<T, E>(result: Result<T, E>) -> T {
    match result {
        Ok(value) => value,
        Err(_) => unreachable!("a RwLock's semaphore is never closed"),
    }
}
