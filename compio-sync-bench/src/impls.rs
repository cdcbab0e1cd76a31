//! The implementations under test and the one trait the scenarios drive them
//! through.
//!
//! To add a backend of this crate, add its type to the `ours!` list in
//! [`registry`]: that registers it under both fairness policies. To add a
//! peer, implement [`BenchSemaphore`] for it and add one [`entry`] line.

use std::future::Future;

#[cfg(target_os = "linux")]
use compio_sync::backend::IoUringFutex;
use compio_sync::backend::{Intrusive, MutexVecDeque, ParkingLotHybrid, SegQueue, WaitQueue};

use crate::scenarios::{self, Sample, Scenario, Sizes};
use compio_sync::Semaphore;

/// What a benchmarked semaphore must offer: build with `permits`, take one
/// permit without waiting, take one permit asynchronously. A permit (the
/// returned value) gives its permit back when dropped.
pub trait BenchSemaphore: Send + Sync + 'static {
    /// A semaphore holding `permits` permits.
    fn with_permits(permits: usize) -> Self;
    /// One permit if one is free now.
    fn try_acq(&self) -> Option<impl Sized + '_>;
    /// Waits for one permit. Panics if the semaphore was closed.
    fn acq(&self) -> impl Future<Output = impl Sized + '_> + '_;
}

/// `compio_sync::Semaphore` on backend `B`; `STRICT_FIFO` selects
/// `.strict_fifo()` instead of the default (barging with a starvation bound).
pub struct Ours<B: WaitQueue, const STRICT_FIFO: bool>(Semaphore<B>);

impl<B: WaitQueue, const STRICT_FIFO: bool> BenchSemaphore for Ours<B, STRICT_FIFO> {
    fn with_permits(permits: usize) -> Self {
        let sem = Semaphore::<B>::with_backend(permits);
        Self(if STRICT_FIFO { sem.strict_fifo() } else { sem })
    }
    fn try_acq(&self) -> Option<impl Sized + '_> {
        self.0.try_acquire().ok()
    }
    async fn acq(&self) -> impl Sized + '_ {
        self.0.acquire().await.expect("semaphore closed")
    }
}

impl BenchSemaphore for tokio::sync::Semaphore {
    fn with_permits(permits: usize) -> Self {
        Self::new(permits)
    }
    fn try_acq(&self) -> Option<impl Sized + '_> {
        self.try_acquire().ok()
    }
    async fn acq(&self) -> impl Sized + '_ {
        self.acquire().await.expect("semaphore closed")
    }
}

impl BenchSemaphore for async_lock::Semaphore {
    fn with_permits(permits: usize) -> Self {
        Self::new(permits)
    }
    fn try_acq(&self) -> Option<impl Sized + '_> {
        self.try_acquire()
    }
    async fn acq(&self) -> impl Sized + '_ {
        self.acquire().await
    }
}

impl BenchSemaphore for maitake_sync::Semaphore {
    fn with_permits(permits: usize) -> Self {
        Self::new(permits)
    }
    fn try_acq(&self) -> Option<impl Sized + '_> {
        self.try_acquire(1).ok()
    }
    async fn acq(&self) -> impl Sized + '_ {
        self.acquire(1).await.expect("semaphore closed")
    }
}

/// `futures_intrusive::sync::Semaphore` (the thread-safe one, on a
/// `parking_lot` mutex); `FAIR` is its `is_fair` constructor flag.
pub struct FuturesIntrusive<const FAIR: bool>(futures_intrusive::sync::Semaphore);

impl<const FAIR: bool> BenchSemaphore for FuturesIntrusive<FAIR> {
    fn with_permits(permits: usize) -> Self {
        Self(futures_intrusive::sync::Semaphore::new(FAIR, permits))
    }
    fn try_acq(&self) -> Option<impl Sized + '_> {
        self.0.try_acquire(1)
    }
    async fn acq(&self) -> impl Sized + '_ {
        self.0.acquire(1).await
    }
}

/// One registered implementation: a display name and the scenario runner
/// monomorphised for it.
pub struct Impl {
    /// Display name, unique.
    pub name: &'static str,
    /// Whether this is one of compio-sync's own semaphores.
    pub ours: bool,
    /// Runs one scenario once and returns its measurement.
    pub run: fn(Scenario, &Sizes) -> Sample,
}

/// Registers `S` under `name`.
pub fn entry<S: BenchSemaphore>(name: &'static str, ours: bool) -> Impl {
    Impl {
        name,
        ours,
        run: scenarios::run::<S>,
    }
}

/// Registers each listed backend of this crate twice: default policy and
/// strict FIFO.
macro_rules! ours {
    ($($backend:ident),* $(,)?) => {
        vec![$(
            entry::<Ours<$backend, false>>(concat!("compio-sync ", stringify!($backend)), true),
            entry::<Ours<$backend, true>>(concat!("compio-sync ", stringify!($backend), " fifo"), true),
        )*]
    };
}

/// Name of the implementation every ratio is taken against.
pub const BASELINE: &str = "tokio";

/// Every implementation, ours first.
pub fn registry() -> Vec<Impl> {
    let mut impls = ours![MutexVecDeque, ParkingLotHybrid, SegQueue, Intrusive];
    #[cfg(target_os = "linux")]
    impls.extend(ours![IoUringFutex]);
    impls.extend([
        entry::<tokio::sync::Semaphore>(BASELINE, false),
        entry::<async_lock::Semaphore>("async-lock", false),
        entry::<FuturesIntrusive<true>>("futures-intrusive fair", false),
        entry::<FuturesIntrusive<false>>("futures-intrusive unfair", false),
        entry::<maitake_sync::Semaphore>("maitake-sync", false),
    ]);
    impls
}
