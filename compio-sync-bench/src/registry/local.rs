//! The S10 half of the registry: the single-thread flavors
//! (`compio_sync::local`) and their peers, each kind in its own list, with
//! the thread-safe default as the baseline and tokio beside it.
//!
//! The local peers: `local-sync`'s semaphore (monoio's), `futures::lock`'s
//! mutex, and `synchrony`'s unsync mutex and event (compio's own choice).

use std::{cell::Cell, ops::DerefMut};

use compio_sync::{backend::DefaultBackend, local as flavor};

use crate::{
    harness::{Bench, Role},
    registry::{Ours, OursMutex, OursNotify, TOKIO, entry, family},
    scenarios::{
        Entry,
        local::{self, Scenario, Sizes},
        mutex::BenchMutex,
        notify::BenchNotify,
        semaphore::BenchSemaphore,
    },
};

/// The baseline of every S10 ratio: the crate root's types on the default
/// backend, default policy.
pub const THREAD_SAFE: &str = "compio-sync thread-safe default";

/// `compio_sync::local::Semaphore`; `STRICT_FIFO` selects `.strict_fifo()`.
pub struct OursLocal<const STRICT_FIFO: bool>(flavor::Semaphore);

impl<const STRICT_FIFO: bool> BenchSemaphore for OursLocal<STRICT_FIFO> {
    fn with_permits(permits: usize) -> Self {
        let sem = flavor::Semaphore::new(permits);
        Self(if STRICT_FIFO { sem.strict_fifo() } else { sem })
    }
    fn try_acq(&self) -> Option<impl Sized + '_> {
        self.0.try_acquire().ok()
    }
    async fn acq(&self) -> impl Sized + '_ {
        self.0.acquire().await.expect("semaphore closed")
    }
}

impl BenchSemaphore for local_sync::semaphore::Semaphore {
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

/// `compio_sync::local::Notify`.
pub struct OursLocalNotify(flavor::Notify);

impl BenchNotify for OursLocalNotify {
    fn create() -> Self {
        Self(flavor::Notify::new())
    }
    fn notify(&self) {
        self.0.notify_one();
    }
    async fn wait(&self) {
        self.0.notified().await;
    }
}

/// `synchrony::unsync::event::Event` (the `local-event` crate) with a flag,
/// so that a notification sent before the wait is kept, as
/// `Notify::notify_one` keeps it.
pub struct SynchronyEventFlag {
    event: synchrony::unsync::event::Event,
    flag: Cell<bool>,
}

impl BenchNotify for SynchronyEventFlag {
    fn create() -> Self {
        Self {
            event: synchrony::unsync::event::Event::new(),
            flag: Cell::new(false),
        }
    }
    fn notify(&self) {
        self.flag.set(true);
        self.event.notify(1);
    }
    async fn wait(&self) {
        // One thread: nothing can set the flag between the check and the
        // `listen`, so one check before listening suffices.
        while !self.flag.replace(false) {
            self.event.listen().await;
        }
    }
}

/// `compio_sync::local::Mutex`; `STRICT_FIFO` selects `.strict_fifo()`.
pub struct OursLocalMutex<const STRICT_FIFO: bool>(flavor::Mutex<u64>);

impl<const STRICT_FIFO: bool> BenchMutex for OursLocalMutex<STRICT_FIFO> {
    fn create() -> Self {
        let mutex = flavor::Mutex::new(0);
        Self(if STRICT_FIFO {
            mutex.strict_fifo()
        } else {
            mutex
        })
    }
    async fn lock(&self) -> impl DerefMut<Target = u64> + '_ {
        self.0.lock().await
    }
    fn try_value(&self) -> Option<u64> {
        self.0.try_lock().ok().map(|g| *g)
    }
}

impl BenchMutex for futures::lock::Mutex<u64> {
    fn create() -> Self {
        Self::new(0)
    }
    async fn lock(&self) -> impl DerefMut<Target = u64> + '_ {
        self.lock().await
    }
    fn try_value(&self) -> Option<u64> {
        self.try_lock().map(|g| *g)
    }
}

impl BenchMutex for synchrony::unsync::mutex::Mutex<u64> {
    fn create() -> Self {
        Self::new(0)
    }
    async fn lock(&self) -> impl DerefMut<Target = u64> + '_ {
        self.lock().await
    }
    fn try_value(&self) -> Option<u64> {
        self.try_lock().map(|g| *g)
    }
}

fn semaphores() -> Vec<Entry<Scenario>> {
    vec![
        entry(
            "compio-sync local",
            Role::Ours,
            local::run_semaphore::<OursLocal<false>>,
        ),
        entry(
            "compio-sync local fifo",
            Role::OursStrictFifo,
            local::run_semaphore::<OursLocal<true>>,
        ),
        entry(
            THREAD_SAFE,
            Role::Ours,
            local::run_semaphore::<Ours<DefaultBackend, false>>,
        ),
        entry(
            TOKIO,
            Role::Peer,
            local::run_semaphore::<tokio::sync::Semaphore>,
        ),
        entry(
            "local-sync",
            Role::Peer,
            local::run_semaphore::<local_sync::semaphore::Semaphore>,
        ),
    ]
}

fn notifies() -> Vec<Entry<Scenario>> {
    vec![
        entry(
            "compio-sync local",
            Role::Ours,
            local::run_notify::<OursLocalNotify>,
        ),
        entry(
            THREAD_SAFE,
            Role::Ours,
            local::run_notify::<OursNotify<DefaultBackend>>,
        ),
        entry(TOKIO, Role::Peer, local::run_notify::<tokio::sync::Notify>),
        entry(
            "synchrony unsync Event+flag",
            Role::Peer,
            local::run_notify::<SynchronyEventFlag>,
        ),
    ]
}

fn mutexes() -> Vec<Entry<Scenario>> {
    vec![
        entry(
            "compio-sync local",
            Role::Ours,
            local::run_mutex::<OursLocalMutex<false>>,
        ),
        entry(
            "compio-sync local fifo",
            Role::OursStrictFifo,
            local::run_mutex::<OursLocalMutex<true>>,
        ),
        entry(
            THREAD_SAFE,
            Role::Ours,
            local::run_mutex::<OursMutex<DefaultBackend, false>>,
        ),
        entry(
            TOKIO,
            Role::Peer,
            local::run_mutex::<tokio::sync::Mutex<u64>>,
        ),
        entry(
            "futures::lock",
            Role::Peer,
            local::run_mutex::<futures::lock::Mutex<u64>>,
        ),
        entry(
            "synchrony unsync",
            Role::Peer,
            local::run_mutex::<synchrony::unsync::mutex::Mutex<u64>>,
        ),
    ]
}

/// The S10 benches, in report order.
pub fn benches(sizes: Sizes) -> Vec<Bench> {
    const LABEL: &str = "x thread-safe";
    let mut all = family(
        Scenario::SEMAPHORE.into(),
        sizes,
        &semaphores(),
        THREAD_SAFE,
        LABEL,
    );
    all.extend(family(
        vec![Scenario::S5b],
        sizes,
        &notifies(),
        THREAD_SAFE,
        LABEL,
    ));
    all.extend(family(
        vec![Scenario::S6],
        sizes,
        &mutexes(),
        THREAD_SAFE,
        LABEL,
    ));
    all
}
