//! The one place that sets the loom models' preemption bound.
//!
//! Every `tests/loom_*.rs` file includes this module
//! (`#[path = "common/loom.rs"] mod loom_model;`) and runs each model through
//! [`check`] or [`check_on`], never through `loom::model` or a `Builder` of
//! its own.
//!
//! # Which bound a model gets
//!
//! 1. `LOOM_MAX_PREEMPTIONS`, when set, wins for every model (loom's
//!    `Builder::new` reads it). Use it for a by-hand run at a higher bound,
//!    e.g. `LOOM_MAX_PREEMPTIONS=3`.
//! 2. Otherwise the model's [`Class`] picks the bound, from [`bound`]. CI
//!    sets no bound, so this table is the CI policy.
//!
//! The other `LOOM_*` variables (`LOOM_MAX_BRANCHES`, `LOOM_CHECKPOINT_*`,
//! `LOOM_LOCATION`, ...) work as loom documents them. `LOOM_LOG` does not:
//! loom installs its log subscriber only in `loom::model`, and the tracing
//! crates are not dependencies of ours; to read a trace, run the model with
//! `loom::model` by hand.
#![allow(dead_code)]

use compio_sync::backend::{Intrusive, MutexVecDeque, ParkingLotHybrid, SegQueue, WaitQueue};

/// How large a model's state space is.
#[derive(Clone, Copy, Debug)]
pub enum Class {
    /// A queue's own protocol, driven through the `WaitQueue` calls: two or
    /// three threads, a few calls each (`loom_backends`, `loom_seg_queue`).
    /// Bound 3: the whole set takes seconds at 3.
    Queue,
    /// A primitive on a backend, with one or two hand-offs between its
    /// threads. Bound 2 (tokio's CI bound).
    Primitive,
    /// A primitive model with three threads that each make several calls
    /// (the hand-over, priority and strict-FIFO models). Bound 2 on the
    /// lock-based backends (`Intrusive`, `MutexVecDeque`), where the
    /// primitive's own races are explored in full; bound 1 on the backends
    /// with a lock-free claim protocol (`ParkingLotHybrid`, `SegQueue`). There
    /// every spin on a claim held by another thread is a loom yield, which
    /// costs no preemption, and each preemption multiplies the state space:
    /// the strict-FIFO priority model runs about sixty times longer on
    /// `ParkingLotHybrid` at bound 2 than at 1. Every `Large` model was run
    /// once by hand at bound 2 on those backends too, and passed
    /// (`LOOM_MAX_PREEMPTIONS=2`, a few minutes). Their claim protocols are
    /// checked at bound 3 in the `Queue` models, so what bound 1 leaves out
    /// there is the primitive's own races, which bound 2 covers on the
    /// lock-based backends.
    Large,
    /// A primitive model with four threads. Bound 1 on every backend: the
    /// four-thread hand-over model in `loom_semaphore` finds its bug at 1,
    /// and runs ten times longer at 2.
    FourThreads,
}

/// How a backend's queue protocol scales under loom (see [`Class::Large`]).
pub trait Backend: WaitQueue + 'static {
    /// Notifiers claim a waiter with a lock-free protocol and spin while
    /// another thread holds the claim.
    const CLAIMS: bool;
}

impl Backend for Intrusive {
    const CLAIMS: bool = false;
}
impl Backend for MutexVecDeque {
    const CLAIMS: bool = false;
}
impl Backend for ParkingLotHybrid {
    const CLAIMS: bool = true;
}
impl Backend for SegQueue {
    const CLAIMS: bool = true;
}

/// The preemption bound of a model of `class` on a backend whose protocol
/// [`CLAIMS`](Backend::CLAIMS) (or not), when `LOOM_MAX_PREEMPTIONS` is unset.
pub const fn bound(class: Class, claims: bool) -> usize {
    match class {
        Class::Queue => 3,
        Class::Primitive => 2,
        Class::Large if claims => 1,
        Class::Large => 2,
        Class::FourThreads => 1,
    }
}

/// Runs `f` under loom at the bound of a `class` model that is the same on
/// every backend (or runs on one).
pub fn check(class: Class, f: impl Fn() + Sync + Send + 'static) {
    run(bound(class, false), f);
}

/// Runs `f`, a model of `class` on backend `B`, under loom.
pub fn check_on<B: Backend>(class: Class, f: impl Fn() + Sync + Send + 'static) {
    run(bound(class, B::CLAIMS), f);
}

fn run(default_bound: usize, f: impl Fn() + Sync + Send + 'static) {
    // `Builder::new` reads the `LOOM_*` variables, `LOOM_MAX_PREEMPTIONS`
    // included; the class's bound applies only where that one is unset.
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(default_bound);
    }
    builder.check(f);
}
