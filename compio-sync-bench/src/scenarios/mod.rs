//! The scenario families, one module each, with the small trait its
//! implementations are driven through:
//!
//! - [`semaphore`] ([`BenchSemaphore`](semaphore::BenchSemaphore)): S1-S4, S7;
//! - [`notify`] ([`BenchNotify`](notify::BenchNotify)): S5, S5b ping-pong;
//! - [`mutex`] ([`BenchMutex`](mutex::BenchMutex)): S6 counter;
//! - [`condvar`] ([`BenchCondvar`](condvar::BenchCondvar)): S8
//!   producer/consumer;
//! - [`local`]: S10, the single-thread flavors on the one-runtime scenarios
//!   of the families above (through their traits).
//! - [`barrier`] ([`BenchBarrier`](barrier::BenchBarrier)): S9b barrier
//!   cycle.
//! - [`rwlock`] ([`BenchRwLock`](rwlock::BenchRwLock)): S9 read-mostly and
//!   write-heavy mixes.
//! - [`channels`] ([`BenchMpsc`](channels::BenchMpsc),
//!   [`BenchOneshot`](channels::BenchOneshot)): S11 mpsc and oneshot.
//! - [`fanout`] ([`BenchFanout`](fanout::BenchFanout)): S12 watch and
//!   broadcast fan-out.
//!
//! A family depends on the harness and on this module's [`Scenario`] trait
//! only. It does not know which implementations exist: the registry
//! implements the family's trait for them and lists them. Every run checks that its work was done and panics
//! otherwise, so that a broken implementation cannot look fast; each family
//! has negative tests that feed those checks a broken implementation.

pub mod barrier;
pub mod channels;
pub mod condvar;
pub mod fanout;
pub mod local;
pub mod mutex;
pub mod notify;
pub mod rwlock;
pub mod semaphore;

use crate::harness::{Case, Role, Sample};

/// The name of the wake floor rows (see [`Scenario::cost_floor`]).
pub const WAKE_FLOOR: &str = "floor: one task-to-task wake per yield";

/// The name of S1's and S2's atomic floor row (see [`semaphore::AtomicFloor`]).
pub const ATOMIC_FLOOR: &str = "floor: one atomic take and give-back";

/// One scenario of a family, with its parameters.
pub trait Scenario: Copy + Send + Sync + 'static {
    /// How much work the family's scenarios do per run.
    type Sizes: Copy + Send + Sync + 'static;

    /// The scenario as the harness sees it (id, title, columns).
    fn case(self, sizes: &Self::Sizes) -> Case;

    /// The scenario's loop with no synchronization at all, if it has one.
    fn floor(self) -> Option<Run<Self>> {
        None
    }

    /// The scenario's loop with, in place of the primitive, the least any
    /// implementation of it must do, if it has one, with the name of its
    /// row: in the contended loops, one task-to-task wake-up per yield taken
    /// while holding ([`semaphore::Baton`], [`WAKE_FLOOR`]); in the S12
    /// fan-out, one wake-up per receiver per value ([`fanout::BareFanout`],
    /// [`fanout::FANOUT_FLOOR`]); in S1 and S2, one atomic read-modify-write to
    /// take a permit and one to give it back ([`semaphore::AtomicFloor`],
    /// [`ATOMIC_FLOOR`]).
    fn cost_floor(self) -> Option<(&'static str, Run<Self>)> {
        None
    }
}

/// One run of one scenario on one implementation.
pub type Run<S> = fn(S, &<S as Scenario>::Sizes) -> Sample;

/// One registered implementation of a family.
pub struct Entry<S: Scenario> {
    /// Display name, unique within the family.
    pub name: &'static str,
    /// compio-sync's (and under which policy) or a peer's.
    pub role: Role,
    /// The family's runner, monomorphised for the implementation.
    pub run: Run<S>,
}

/// Tasks per runtime (per thread) in the multi-thread scenarios (S4, S6).
pub const TASKS_PER_THREAD: usize = 16;
