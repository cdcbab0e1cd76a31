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

/// compio's runtime (io_uring on Linux). Not in loom builds, which leave
/// compio out (the loom models include this file for `for_each_backend!`).
#[cfg(not(loom))]
pub struct Compio;
#[cfg(not(loom))]
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

/// A waker that, when woken, polls the future it was registered by (on the
/// waking thread, inside the wake), then runs `after`: a waiter polled by
/// the notifier before it goes on, as a runtime on another thread might.
pub struct PollsOnWake {
    /// The waiting future; `None` once it completed.
    pub future: std::sync::Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send>>>>,
    /// Run once, after the first poll the wake makes.
    pub after: std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl PollsOnWake {
    pub fn new(future: impl Future<Output = ()> + Send + 'static) -> Arc<Self> {
        Arc::new(Self {
            future: std::sync::Mutex::new(Some(Box::pin(future))),
            after: std::sync::Mutex::new(None),
        })
    }

    /// Whether the future completed.
    pub fn is_done(&self) -> bool {
        self.future.lock().unwrap().is_none()
    }

    /// On a new thread (not the notifier's): polls this future, with a waker
    /// that polls it again when woken, then `other` with `other_waker`;
    /// both must wait. This one registers first.
    pub fn wait_first_beside<F: Future + Send + ?Sized>(
        self: &Arc<Self>,
        other: Pin<&mut F>,
        other_waker: &Waker,
    ) {
        let waker = Waker::from(self.clone());
        thread::scope(|s| {
            s.spawn(|| {
                let mut future = self.future.lock().unwrap();
                let future = future.as_mut().unwrap().as_mut();
                assert!(poll_once(future, &waker).is_pending());
                assert!(poll_once(other, other_waker).is_pending());
            });
        });
    }
}

impl Wake for PollsOnWake {
    fn wake(self: Arc<Self>) {
        let mut future = self.future.lock().unwrap();
        if let Some(f) = future.as_mut()
            && poll_once(f.as_mut(), Waker::noop()).is_ready()
        {
            *future = None;
        }
        drop(future);
        if let Some(after) = self.after.lock().unwrap().take() {
            after();
        }
    }
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

/// A waker whose `clone`, `wake` and `drop` misbehave on request, for the
/// panic-injection and re-entrancy tests (`tests/hostile_wakers.rs`). Every
/// clone shares one [`Hostile`] state, so a test arms a behaviour once and
/// it applies to whichever clone the code under test holds.
pub struct Hostile {
    /// Clones made (successful or not).
    pub clones: AtomicUsize,
    /// Wakes received (by value or by reference).
    pub wakes: AtomicUsize,
    /// The clone with this 1-based number panics (0: none). Counted from the
    /// moment it is armed.
    panic_on_clone: AtomicUsize,
    /// Every wake panics (after it is counted).
    panic_on_wake: std::sync::atomic::AtomicBool,
    /// Every drop of a clone panics, unless the thread is already panicking.
    panic_on_drop: std::sync::atomic::AtomicBool,
    /// Run inside every `clone`, before it is counted (re-entrancy).
    on_clone: std::sync::Mutex<Option<Box<dyn Fn() + Send + Sync>>>,
}

impl Hostile {
    /// A well-behaved hostile waker (arm it later) and its shared state.
    pub fn new() -> (Arc<Hostile>, Waker) {
        let state = Arc::new(Hostile {
            clones: AtomicUsize::new(0),
            wakes: AtomicUsize::new(0),
            panic_on_clone: AtomicUsize::new(0),
            panic_on_wake: std::sync::atomic::AtomicBool::new(false),
            panic_on_drop: std::sync::atomic::AtomicBool::new(false),
            on_clone: std::sync::Mutex::new(None),
        });
        let waker = hostile_waker(state.clone());
        (state, waker)
    }

    /// The `n`-th clone from now (1-based) panics.
    pub fn panic_on_clone(&self, n: usize) {
        self.panic_on_clone
            .store(self.clones.load(SeqCst) + n, SeqCst);
    }

    pub fn panic_on_wake(&self, on: bool) {
        self.panic_on_wake.store(on, SeqCst);
    }

    pub fn panic_on_drop(&self, on: bool) {
        self.panic_on_drop.store(on, SeqCst);
    }

    /// Runs `f` inside every later `clone`.
    pub fn on_clone(&self, f: impl Fn() + Send + Sync + 'static) {
        *self.on_clone.lock().unwrap() = Some(Box::new(f));
    }

    pub fn wakes(&self) -> usize {
        self.wakes.load(SeqCst)
    }
}

fn hostile_waker(state: Arc<Hostile>) -> Waker {
    use std::task::{RawWaker, RawWakerVTable};

    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop);

    unsafe fn clone(data: *const ()) -> RawWaker {
        // SAFETY: `data` came from `Arc::into_raw` and the waker holds it.
        let state = unsafe { &*data.cast::<Hostile>() };
        if let Some(f) = &*state.on_clone.lock().unwrap() {
            f();
        }
        let n = state.clones.fetch_add(1, SeqCst) + 1;
        if state.panic_on_clone.load(SeqCst) == n {
            panic!("hostile waker: clone #{n} panics");
        }
        // SAFETY: as above; one more strong reference for the new waker.
        unsafe { Arc::increment_strong_count(data.cast::<Hostile>()) };
        RawWaker::new(data, &VTABLE)
    }

    unsafe fn wake(data: *const ()) {
        /// Releases the reference `wake` consumes, on return and when the
        /// wake panics alike (as `Arc<impl Wake>` does: it owns the `Arc`
        /// before it runs user code), so a panicking wake leaks nothing.
        struct Consumed(*const ());
        impl Drop for Consumed {
            fn drop(&mut self) {
                // SAFETY: the reference the woken waker owned; `drop` does
                // not panic while unwinding.
                unsafe { drop(self.0) };
            }
        }
        let _consumed = Consumed(data);
        // SAFETY: `_consumed` keeps the reference until this returns.
        unsafe { wake_by_ref(data) };
    }

    unsafe fn wake_by_ref(data: *const ()) {
        // SAFETY: the caller's waker holds a reference.
        let state = unsafe { &*data.cast::<Hostile>() };
        state.wakes.fetch_add(1, SeqCst);
        if state.panic_on_wake.load(SeqCst) {
            panic!("hostile waker: wake panics");
        }
    }

    unsafe fn drop(data: *const ()) {
        // SAFETY: the waker being dropped owns one strong reference.
        let state = unsafe { Arc::from_raw(data.cast::<Hostile>()) };
        if state.panic_on_drop.load(SeqCst) && !thread::panicking() {
            panic!("hostile waker: drop panics");
        }
    }

    // SAFETY: the vtable functions uphold the `RawWaker` contract: `data` is an
    // `Arc<Hostile>` pointer, each waker owns one strong reference.
    unsafe { Waker::from_raw(RawWaker::new(Arc::into_raw(state).cast(), &VTABLE)) }
}

/// Instantiates a test suite on every backend: this is the one list of
/// backends the tests know, and every suite file ends with one of its two
/// forms.
///
/// * `for_each_backend!(suite)`: every backend on each executor (compio and
///   `futures`' `block_on`), one line `suite!(module, Backend, Executor,
///   order)` each, with `module` named `<backend>_<executor>`. On
///   `futures::executor` the `IoUringFutex` backend takes its waker path; on
///   compio, its io_uring path.
/// * `for_each_backend!(suite, once)`: every backend once, for suites that
///   drive the queue with no executor (or pick their executors themselves,
///   or are loom models: under `cfg(loom)` the list holds the backends that
///   build there): `suite!(module, Backend, order)`, with `module` named
///   `<backend>`.
///
/// `order` is `lifo` when the backend's `notify_last` picks the newest
/// waiter and `no_lifo = "reason"` when it cannot (every backend's
/// `notify_one` is FIFO).
#[macro_export]
macro_rules! for_each_backend {
    ($suite:ident) => {
        $crate::for_each_backend!(@backends $suite, executors);
    };
    ($suite:ident, once) => {
        $crate::for_each_backend!(@backends $suite, once);
    };
    // The list: `[once module, compio module, futures module] Backend, order`.
    (@backends $suite:ident, $how:ident) => {
        $crate::for_each_backend!(@backend $suite, $how,
            [intrusive, intrusive_compio, intrusive_futures]
            compio_sync::backend::Intrusive, lifo);
        $crate::for_each_backend!(@backend $suite, $how,
            [mutex_vecdeque, mutex_vecdeque_compio, mutex_vecdeque_futures]
            compio_sync::backend::MutexVecDeque, lifo);
        $crate::for_each_backend!(@backend $suite, $how,
            [parking_lot_hybrid, parking_lot_hybrid_compio, parking_lot_hybrid_futures]
            compio_sync::backend::ParkingLotHybrid, lifo);
        $crate::for_each_backend!(@backend $suite, $how,
            [seg_queue, seg_queue_compio, seg_queue_futures]
            compio_sync::backend::SegQueue,
            no_lifo = "a SegQueue can only pop its head: notify_last = notify_one (FIFO)");
        // The kernel-transport backends do not build under loom.
        #[cfg(all(target_os = "linux", feature = "io-uring-futex", not(loom)))]
        $crate::for_each_backend!(@backend $suite, $how,
            [io_uring_futex, io_uring_futex_compio, io_uring_futex_futures]
            compio_sync::backend::IoUringFutex, lifo);
        // On compio the IOCP completion path, on `futures::executor` the
        // waker fallback; `tests/iocp.rs` also forces the probe negative.
        #[cfg(all(windows, feature = "iocp", not(loom)))]
        $crate::for_each_backend!(@backend $suite, $how,
            [iocp, iocp_compio, iocp_futures]
            compio_sync::backend::Iocp, lifo);
    };
    (@backend $suite:ident, executors,
        [$once:ident, $compio:ident, $futures:ident] $backend:ty, $($order:tt)+) => {
        $suite!($compio, $backend, $crate::common::Compio, $($order)+);
        $suite!($futures, $backend, $crate::common::Futures, $($order)+);
    };
    (@backend $suite:ident, once,
        [$once:ident, $compio:ident, $futures:ident] $backend:ty, $($order:tt)+) => {
        $suite!($once, $backend, $($order)+);
    };
}
