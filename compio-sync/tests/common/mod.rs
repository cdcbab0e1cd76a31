//! Helpers shared by the integration tests: executors, wakers, a watchdog.
#![allow(dead_code)]

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::SeqCst},
        mpsc,
    },
    task::{Context, Poll, Wake, Waker},
    thread,
    time::Duration,
};

/// An executor the contract suite runs on. Every test body is executor-agnostic;
/// concurrency inside one executor comes from `futures::future::join_all`.
pub trait Exec: 'static {
    const NAME: &'static str;
    fn block_on<F: Future>(future: F) -> F::Output;
}

/// compio's runtime (io_uring on Linux).
pub struct Compio;
impl Exec for Compio {
    const NAME: &'static str = "compio";
    fn block_on<F: Future>(future: F) -> F::Output {
        compio::runtime::RuntimeBuilder::new()
            // Cross-thread tests wake many tasks of this runtime from another
            // thread; compio's default cross-thread queue (64) would make
            // `wake()` wait for room.
            .sync_queue_size(4096)
            .build()
            .expect("compio runtime")
            .block_on(future)
    }
}

/// `futures::executor::block_on`: a second executor, to show the crate is
/// runtime-agnostic.
pub struct Futures;
impl Exec for Futures {
    const NAME: &'static str = "futures";
    fn block_on<F: Future>(future: F) -> F::Output {
        futures::executor::block_on(future)
    }
}

/// Runs `f` on a fresh thread and fails the test if it does not finish in
/// `limit` (a hang guard, not a timing assertion: `limit` is minutes-scale
/// slack for work that takes milliseconds).
pub fn with_watchdog<F: FnOnce() + Send + 'static>(limit: Duration, f: F) {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(limit) {
        Ok(()) => handle.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The closure panicked: propagate its panic.
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test hung (no progress in {limit:?})"),
    }
}

/// The hang guard used by default.
pub const HANG: Duration = Duration::from_secs(120);

/// A shorter hang guard for tests that repeat a scenario many times.
pub const SHORT_HANG: Duration = Duration::from_secs(20);

/// A waker that counts its wakes.
#[derive(Default)]
pub struct CountingWaker {
    pub wakes: AtomicUsize,
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
    }
}

pub fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker::default());
    (counter.clone(), Waker::from(counter))
}

/// Polls a pinned future once with `waker`.
pub fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

/// Yields to the executor once (wakes itself and returns `Pending`).
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// Tracks how many holders are inside a critical section at once.
#[derive(Default)]
pub struct Occupancy {
    inside: AtomicUsize,
    pub max: AtomicUsize,
    pub total: AtomicUsize,
}

impl Occupancy {
    pub fn enter(&self) {
        let now = self.inside.fetch_add(1, SeqCst) + 1;
        self.max.fetch_max(now, SeqCst);
        self.total.fetch_add(1, SeqCst);
    }
    pub fn exit(&self) {
        self.inside.fetch_sub(1, SeqCst);
    }
}
