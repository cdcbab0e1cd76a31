//! `IoUringFutex`, driven through the `WaitQueue` trait directly: register,
//! `fence(SeqCst)`, re-check, then `poll_wait`/`cancel`/`wait_blocking`; and
//! notify. Each behaviour runs on the path it concerns: io_uring (a compio
//! runtime), the waker fallback (`futures::executor`, tokio), the futex(2)
//! path (a blocked plain thread), and the whole file once more in a child
//! process with the probe forced negative (`COMPIO_SYNC_FUTEX_DISABLE=1`).
//!
//! The last section checks the kernel facts the backend relies on, with raw
//! io_uring and futex syscalls: which private/shared combinations of waiter
//! and waker see each other.
#![cfg(all(target_os = "linux", feature = "io-uring-futex", not(loom)))]

use std::{
    future::{Future, poll_fn},
    io::Write,
    pin::Pin,
    sync::{
        Arc, Barrier,
        atomic::{AtomicBool, AtomicUsize, Ordering::*, fence},
    },
    task::{Context, Poll, Waker},
    thread,
};

use compio_sync::backend::{
    Cancelled, FutexWaiter, IoUringFutex, Select, WaitPath, WaitQueue, Woken,
};

/// The wake-up values each notify hands over in these tests, and the tag
/// waiters register with unless a test says otherwise: each `Woken` names
/// the notify that produced it.
const ONE: usize = 11;
const LAST: usize = 22;
const ALL: usize = 33;
const TAG: usize = 5;

/// What a waiter registered with [`TAG`] receives from a notify that handed
/// it `wakeup`.
fn woken(wakeup: usize) -> Woken {
    Woken { wakeup, tag: TAG }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Whether this process runs with the probe forced negative (the child run).
fn forced_negative() -> bool {
    std::env::var_os(IoUringFutex::DISABLE_ENV).is_some_and(|v| v == "1")
}

/// The path a task on a compio (io_uring) runtime must take in this run.
fn compio_path() -> WaitPath {
    if forced_negative() {
        WaitPath::Waker
    } else {
        WaitPath::IoUring
    }
}

fn new_waiter() -> Pin<Box<FutexWaiter>> {
    Box::pin(IoUringFutex::new_waiter())
}

/// Registers `w` with the current task's waker and [`TAG`], then issues the
/// caller-side `fence(SeqCst)` of the protocol.
async fn register(q: &IoUringFutex, w: Pin<&FutexWaiter>) {
    register_tagged(q, w, TAG).await
}

/// [`register`] with another tag.
async fn register_tagged(q: &IoUringFutex, w: Pin<&FutexWaiter>, tag: usize) {
    poll_fn(|cx| {
        // SAFETY: `w` is idle, heap-pinned, used with `q` only, and every test
        // makes it idle (Ready or cancel) before dropping it.
        unsafe { q.register(w, cx.waker(), tag) };
        Poll::Ready(())
    })
    .await;
    fence(SeqCst);
}

/// Polls `w` once; true if it was notified.
async fn poll_once(q: &IoUringFutex, w: Pin<&FutexWaiter>) -> bool {
    // SAFETY: `w` is registered with `q` and not yet observed Ready.
    poll_fn(|cx| Poll::Ready(unsafe { q.poll_wait(w, cx) }.is_ready())).await
}

/// Polls `w` until it is notified; returns what the notifier handed over.
async fn wait(q: &IoUringFutex, w: Pin<&FutexWaiter>) -> Woken {
    // SAFETY: `w` is registered with `q` and not yet observed Ready.
    poll_fn(|cx| unsafe { q.poll_wait(w, cx) }).await
}

fn cancel(q: &IoUringFutex, w: Pin<&FutexWaiter>) -> Cancelled {
    // SAFETY: `w` is used with `q` only.
    unsafe { q.cancel(w) }
}

async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
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

/// Lets a compio runtime run its driver a few times, so that pushed io_uring
/// waits reach the kernel.
async fn settle() {
    for _ in 0..4 {
        yield_now().await;
    }
}

/// A counting semaphore built on the queue the way the primitives use it,
/// with exact bookkeeping for the tests.
struct Permits {
    available: AtomicUsize,
    queue: IoUringFutex,
    /// Holders right now, and the most ever seen at once.
    holders: AtomicUsize,
    max_holders: AtomicUsize,
    acquired: AtomicUsize,
    /// Waits that registered, per path.
    via_io_uring: AtomicUsize,
    via_waker: AtomicUsize,
    via_syscall: AtomicUsize,
    /// Blocking waits that slept in `wait_blocking`.
    blocked: AtomicUsize,
}

impl Permits {
    fn new(n: usize) -> Self {
        Self {
            available: AtomicUsize::new(n),
            queue: IoUringFutex::new(),
            holders: AtomicUsize::new(0),
            max_holders: AtomicUsize::new(0),
            acquired: AtomicUsize::new(0),
            via_io_uring: AtomicUsize::new(0),
            via_waker: AtomicUsize::new(0),
            via_syscall: AtomicUsize::new(0),
            blocked: AtomicUsize::new(0),
        }
    }

    fn try_take(&self) -> bool {
        let mut n = self.available.load(Relaxed);
        while n > 0 {
            match self
                .available
                .compare_exchange_weak(n, n - 1, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => n = actual,
            }
        }
        false
    }

    fn enter(&self) {
        let now = self.holders.fetch_add(1, SeqCst) + 1;
        self.max_holders.fetch_max(now, SeqCst);
        self.acquired.fetch_add(1, SeqCst);
    }

    fn release(&self) {
        self.holders.fetch_sub(1, SeqCst);
        self.available.fetch_add(1, Release);
        fence(SeqCst);
        self.queue.notify_one(ONE);
    }

    fn count_path(&self, w: &FutexWaiter) {
        match w.path() {
            Some(WaitPath::IoUring) => &self.via_io_uring,
            Some(WaitPath::Waker) => &self.via_waker,
            Some(WaitPath::Syscall) => &self.via_syscall,
            None => return,
        }
        .fetch_add(1, Relaxed);
    }

    async fn acquire(&self) {
        loop {
            if self.try_take() {
                return self.enter();
            }
            let w = Guard::new(&self.queue);
            register(&self.queue, w.waiter()).await;
            self.count_path(&w.waiter);
            if self.try_take() {
                // Got one in the re-check; a notification we received in the
                // meantime belongs to somebody else (the guard passes it on).
                drop(w);
                return self.enter();
            }
            wait(&self.queue, w.waiter()).await;
            w.idle();
        }
    }

    fn acquire_blocking(&self) {
        loop {
            if self.try_take() {
                return self.enter();
            }
            let w = Guard::new(&self.queue);
            // SAFETY: as in `register`.
            unsafe { self.queue.register(w.waiter(), Waker::noop(), TAG) };
            fence(SeqCst);
            if self.try_take() {
                drop(w);
                return self.enter();
            }
            // SAFETY: registered with this queue, not yet observed Ready.
            unsafe { self.queue.wait_blocking(w.waiter()) };
            self.blocked.fetch_add(1, Relaxed);
            w.idle();
        }
    }
}

/// A registered waiter that, if dropped while still registered (the future
/// was cancelled, or the re-check succeeded), cancels and passes on a
/// notification it had received: what every primitive's `Drop` does.
struct Guard<'a> {
    queue: &'a IoUringFutex,
    waiter: Pin<Box<FutexWaiter>>,
    armed: bool,
}

impl<'a> Guard<'a> {
    fn new(queue: &'a IoUringFutex) -> Self {
        Self {
            queue,
            waiter: new_waiter(),
            armed: true,
        }
    }

    fn waiter(&self) -> Pin<&FutexWaiter> {
        self.waiter.as_ref()
    }

    /// The waiter was observed Ready: nothing to cancel.
    fn idle(mut self) {
        self.armed = false;
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if self.armed
            && matches!(
                cancel(self.queue, self.waiter.as_ref()),
                Cancelled::Notified(_)
            )
        {
            self.queue.notify_one(ONE);
        }
    }
}

fn compio_runtime() -> compio::runtime::Runtime {
    compio::runtime::Runtime::new().expect("compio runtime")
}

/// Runs `body` on a fresh compio runtime, then meets the other threads that
/// may wake its spawned tasks at `done`, and only then drops the runtime.
///
/// compio-executor 0.1.4's cross-thread wake (`Remote::schedule`) reads the
/// task's runtime state after its last check that the task is alive, with
/// nothing holding the runtime back. A notify on another thread that has
/// made its wake-up visible (so the task can finish and the runtime drop)
/// but is still inside that wake would read freed memory; AddressSanitizer
/// caught it here. Our queues wake outside their locks after publishing, as
/// tokio's do: the race is the executor's, so these tests keep the runtime
/// alive until every waking thread is done with it.
fn block_on_then_meet<T>(done: &Barrier, body: impl Future<Output = T>) -> T {
    let rt = compio_runtime();
    let out = rt.block_on(body);
    done.wait();
    drop(rt);
    out
}

/// The kernel's thread id of the calling thread.
fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// Whether thread `tid` of this process is asleep inside syscall `nr`
/// (`/proc/self/task/<tid>/stat` state `S` and `.../syscall` naming `nr`).
fn asleep_in_syscall(tid: i32, nr: libc::c_long) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().next());
    let syscall =
        std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall")).unwrap_or_default();
    let current = syscall
        .split_whitespace()
        .next()
        .and_then(|n| n.parse::<libc::c_long>().ok());
    state == Some("S") && current == Some(nr)
}

/// Spins (yielding) until thread `tid` sleeps in syscall `nr`.
fn until_asleep_in(tid: i32, nr: libc::c_long) {
    while !asleep_in_syscall(tid, nr) {
        thread::yield_now();
    }
}

/// Turns a hang (a lost wakeup) into a failure: aborts the test process with
/// a message unless dropped within 60 s. Not a timing assertion: every test
/// here finishes in well under a second.
struct HangGuard(Arc<AtomicBool>);

/// Aborts the process if the guard is not dropped within 60 s.
fn hang_guard(what: &'static str) -> HangGuard {
    hang_guard_dumping(what, String::new)
}

/// [`hang_guard`] that prints `dump()` (the test's state) before aborting.
fn hang_guard_dumping(what: &'static str, dump: impl Fn() -> String + Send + 'static) -> HangGuard {
    let done = Arc::new(AtomicBool::new(false));
    let watched = Arc::clone(&done);
    thread::spawn(move || {
        for _ in 0..600 {
            if watched.load(SeqCst) {
                return;
            }
            thread::sleep(std::time::Duration::from_millis(100));
        }
        // Straight to fd 2: `eprintln!` in a thread spawned by a test is
        // captured by the test harness, and lost when we abort.
        let _ = writeln!(
            std::io::stderr(),
            "{what}: no progress for 60 s, a wakeup was lost; {}",
            dump()
        );
        std::process::abort();
    });
    HangGuard(done)
}

impl Drop for HangGuard {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

// ---------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------

#[test]
fn probe_follows_kernel_and_disable_env() {
    if forced_negative() {
        assert!(
            !IoUringFutex::io_uring_supported(),
            "the env hook must force the probe negative"
        );
    } else {
        // These machines run Linux 6.18; FUTEX_WAIT/WAKE exist since 6.7.
        assert!(
            IoUringFutex::io_uring_supported(),
            "io_uring futex ops not detected"
        );
    }
    assert!(IoUringFutex::io_uring_error().is_none());
}

#[compio::test]
async fn compio_task_takes_the_io_uring_path() {
    let q = IoUringFutex::new();
    let w = new_waiter();
    register(&q, w.as_ref()).await;
    assert_eq!(w.path(), Some(compio_path()));
    assert!(!poll_once(&q, w.as_ref()).await);
    assert_eq!(
        w.path(),
        Some(compio_path()),
        "a pending poll keeps the path"
    );
    settle().await;
    assert!(q.notify_one(ONE));
    assert_eq!(wait(&q, w.as_ref()).await, woken(ONE));
    assert_eq!(w.path(), None, "idle after Ready");
    assert!(!q.notify_one(ONE), "nobody is left to select");
}

/// The path heuristic: a wait registered on the thread whose notify last
/// selected a waiter of the queue takes the waker path (a same-runtime wake
/// costs no kernel round trip); before any notify, and after a notify from
/// another thread, it arms a FUTEX_WAIT. Each wait is woken on its path.
#[compio::test]
async fn wait_after_a_same_thread_notify_takes_the_waker_path() {
    let q = IoUringFutex::new();
    let w = new_waiter();
    register(&q, w.as_ref()).await;
    assert_eq!(w.path(), Some(compio_path()), "no notify yet");
    assert!(q.notify_one(ONE));
    assert_eq!(wait(&q, w.as_ref()).await, woken(ONE));

    register(&q, w.as_ref()).await;
    assert_eq!(w.path(), Some(WaitPath::Waker), "this thread notified last");
    assert!(!poll_once(&q, w.as_ref()).await);
    settle().await;
    assert_eq!(w.path(), Some(WaitPath::Waker), "a pending poll keeps it");
    // Woken from another thread, through the waker.
    thread::scope(|s| {
        s.spawn(|| assert!(q.notify_one(ONE)));
    });
    assert_eq!(wait(&q, w.as_ref()).await, woken(ONE));

    register(&q, w.as_ref()).await;
    assert_eq!(
        w.path(),
        Some(compio_path()),
        "another thread notified last"
    );
    assert!(q.notify_last(LAST));
    assert_eq!(wait(&q, w.as_ref()).await, woken(LAST));
    // notify_all and notify_while count as notifies of their thread too.
    register(&q, w.as_ref()).await;
    for notify_while in [false, true] {
        thread::scope(|s| {
            s.spawn(|| assert!(q.notify_one(ONE)));
        });
        assert_eq!(wait(&q, w.as_ref()).await, woken(ONE));
        register(&q, w.as_ref()).await;
        assert_eq!(w.path(), Some(compio_path()));
        let selected = if notify_while {
            q.notify_while(|_| Select::Notify(ALL))
        } else {
            q.notify_all(ALL)
        };
        assert_eq!(selected, 1);
        assert_eq!(wait(&q, w.as_ref()).await, woken(ALL));
        register(&q, w.as_ref()).await;
        assert_eq!(w.path(), Some(WaitPath::Waker));
    }
    assert_eq!(cancel(&q, w.as_ref()), Cancelled::Removed { tag: TAG });
    assert!(!q.notify_one(ONE));
}

/// A futile wake-up of an armed wait (its futex bit is shared with the
/// waiter a notify selected) on the thread that notified last continues on
/// the waker path instead of arming a new FUTEX_WAIT, and is still woken by
/// its own notify, from this thread or another.
#[compio::test]
async fn futile_wake_after_a_same_thread_notify_continues_on_the_waker_path() {
    for foreign in [false, true] {
        let q = IoUringFutex::new();
        // 33 kernel waiters on 32 bits: the last shares its bit with one of
        // the first 32.
        let ws: Vec<_> = (0..33).map(|_| new_waiter()).collect();
        for w in &ws {
            register(&q, w.as_ref()).await;
            assert_eq!(w.path(), Some(compio_path()));
            assert!(!poll_once(&q, w.as_ref()).await);
        }
        settle().await;
        let (last, first) = ws.split_last().unwrap();
        // Each notify bumps the word, so `last` sees at least one futile
        // wake-up (its bit, or EAGAIN for a wait armed before a bump).
        for w in first {
            assert!(q.notify_one(ONE));
            assert_eq!(wait(&q, w.as_ref()).await, woken(ONE));
        }
        // Its completion is reaped within a few driver turns.
        let mut turns = 0;
        while last.path() != Some(WaitPath::Waker) && compio_path() == WaitPath::IoUring {
            turns += 1;
            assert!(turns < 1000, "the futile wake-up never completed");
            settle().await;
            assert!(!poll_once(&q, last.as_ref()).await);
        }
        if foreign {
            thread::scope(|s| {
                s.spawn(|| assert!(q.notify_one(LAST)));
            });
        } else {
            assert!(q.notify_one(LAST));
        }
        assert_eq!(wait(&q, last.as_ref()).await, woken(LAST));
        assert!(!q.notify_one(ONE));
    }
}

/// The race the path heuristic opens: a waker-path wait on a runtime whose
/// thread then sleeps in `io_uring_enter` (no FUTEX_WAIT armed for it), woken
/// by notifies from another thread. Every wake must arrive through the
/// waker, across threads, exactly once per notify.
#[test]
fn waker_path_waits_on_a_parked_runtime_are_woken_from_another_thread() {
    const ROUNDS: usize = 50;
    let q = Arc::new(IoUringFutex::new());
    let w = Arc::pin(IoUringFutex::new_waiter());
    // The second wait of each round registers a waker that counts its wakes,
    // so that a hang tells a wake this queue never made from one the
    // executor lost.
    let wakes = Arc::new(AtomicUsize::new(0));
    let woken_count = Arc::new(AtomicUsize::new(0));
    let registered = Arc::new(AtomicUsize::new(0));
    let _guard = {
        let (q, w, wakes, woken_count, registered) = (
            q.clone(),
            w.clone(),
            wakes.clone(),
            woken_count.clone(),
            registered.clone(),
        );
        hang_guard_dumping(
            "waker_path_waits_on_a_parked_runtime_are_woken_from_another_thread",
            move || {
                format!(
                    "registered {}, woken {}, counted wakes {}, {q:?}, {w:?}",
                    registered.load(SeqCst),
                    woken_count.load(SeqCst),
                    wakes.load(SeqCst),
                )
            },
        )
    };
    let (tx, rx) = std::sync::mpsc::channel();
    thread::scope(|s| {
        let runtime = s.spawn(|| {
            tx.send(gettid()).unwrap();
            compio_runtime().block_on(async {
                let w = w.as_ref();
                for round in 0..ROUNDS {
                    // A notify from this thread makes the next wait take the
                    // waker path (nobody waits, so first one of our own).
                    register(&q, w).await;
                    assert!(q.notify_one(ONE));
                    assert_eq!(wait(&q, w).await, woken(ONE));
                    poll_fn(|cx| {
                        let waker = counting_waker(cx.waker(), &wakes);
                        // SAFETY: `w` is idle, pinned in its Arc and used
                        // with `q` only.
                        unsafe { q.register(w, &waker, TAG) };
                        Poll::Ready(())
                    })
                    .await;
                    fence(SeqCst);
                    assert_eq!(w.path(), Some(WaitPath::Waker), "round {round}");
                    registered.fetch_add(1, SeqCst);
                    let got = poll_fn(|cx| {
                        let waker = counting_waker(cx.waker(), &wakes);
                        // SAFETY: `w` is registered with `q` and not yet
                        // observed Ready.
                        unsafe { q.poll_wait(w, &mut Context::from_waker(&waker)) }
                    })
                    .await;
                    assert_eq!(got, woken(LAST));
                    woken_count.fetch_add(1, SeqCst);
                }
            });
        });
        let tid = rx.recv().unwrap();
        for round in 1..=ROUNDS {
            // A failed assertion on the runtime thread fails the test (the
            // scope re-raises it) instead of hanging it.
            while registered.load(SeqCst) < round {
                assert!(!runtime.is_finished(), "round {round}: the runtime stopped");
                thread::yield_now();
            }
            // Half the rounds wait until the runtime thread sleeps; the
            // others race the notify against its way to sleep.
            if round % 2 == 0 {
                until_asleep_in(tid, libc::SYS_io_uring_enter);
            }
            assert!(q.notify_last(LAST), "round {round}: the waiter is linked");
            while woken_count.load(SeqCst) < round {
                // (It may finish right after its last count.)
                assert!(
                    !runtime.is_finished() || woken_count.load(SeqCst) >= round,
                    "round {round}: the runtime stopped"
                );
                thread::yield_now();
            }
        }
    });
    assert_eq!(woken_count.load(SeqCst), ROUNDS);
    assert_eq!(
        wakes.load(SeqCst),
        ROUNDS,
        "one wake per notify, through the waker"
    );
    assert!(!q.notify_one(ONE));
}

/// A waker that counts its wakes in `wakes`, then wakes `inner`.
fn counting_waker(inner: &Waker, wakes: &Arc<AtomicUsize>) -> Waker {
    struct Counting {
        inner: Waker,
        wakes: Arc<AtomicUsize>,
    }
    impl std::task::Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.wakes.fetch_add(1, SeqCst);
            self.inner.wake_by_ref();
        }
    }
    Waker::from(Arc::new(Counting {
        inner: inner.clone(),
        wakes: wakes.clone(),
    }))
}

#[test]
fn futures_block_on_takes_the_waker_path() {
    let q = IoUringFutex::new();
    futures::executor::block_on(async {
        let w = new_waiter();
        register(&q, w.as_ref()).await;
        assert_eq!(w.path(), Some(WaitPath::Waker));
        assert!(!poll_once(&q, w.as_ref()).await);
        assert!(q.notify_one(ONE));
        wait(&q, w.as_ref()).await;
    });
}

/// With compio's `polling` feature (the fusion driver), a runtime forced onto
/// the polling driver must use the waker path, and work.
#[cfg(feature = "polling")]
#[test]
fn polling_driver_takes_the_waker_path() {
    let mut proactor = compio_driver::ProactorBuilder::new();
    proactor.driver_type(compio_driver::DriverType::Poll);
    let rt = compio::runtime::RuntimeBuilder::new()
        .with_proactor(proactor)
        .build()
        .unwrap();
    assert_eq!(rt.driver_type(), compio_driver::DriverType::Poll);
    rt.block_on(async {
        let q = IoUringFutex::new();
        let w = new_waiter();
        register(&q, w.as_ref()).await;
        assert_eq!(w.path(), Some(WaitPath::Waker));
        assert!(!poll_once(&q, w.as_ref()).await);
        assert!(q.notify_one(ONE));
        wait(&q, w.as_ref()).await;
    });
}

#[test]
fn tokio_tasks_take_the_waker_path_with_exact_counts() {
    let _guard = hang_guard("tokio_tasks_take_the_waker_path_with_exact_counts");
    const TASKS: usize = 8;
    const ROUNDS: usize = 200;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let p = Arc::new(Permits::new(1));
    rt.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let p = Arc::clone(&p);
                tokio::spawn(async move {
                    for _ in 0..ROUNDS {
                        p.acquire().await;
                        tokio::task::yield_now().await;
                        p.release();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(p.acquired.load(SeqCst), TASKS * ROUNDS);
    assert_eq!(p.max_holders.load(SeqCst), 1);
    assert_eq!(p.available.load(SeqCst), 1);
    assert_eq!(p.via_io_uring.load(SeqCst), 0, "no compio runtime here");
}

#[test]
fn blocked_thread_sleeps_in_futex_syscall() {
    let _guard = hang_guard("blocked_thread_sleeps_in_futex_syscall");
    let q = IoUringFutex::new();
    let w = new_waiter();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::scope(|s| {
        let blocked = s.spawn(|| {
            tx.send(gettid()).unwrap();
            // SAFETY: as in `register`.
            unsafe { q.register(w.as_ref(), Waker::noop(), TAG) };
            fence(SeqCst);
            // SAFETY: registered with `q`, not yet observed Ready.
            unsafe { q.wait_blocking(w.as_ref()) }
        });
        let tid = rx.recv().unwrap();
        // The path first: the thread may sleep in futex(2) for other reasons
        // on its way (an allocator or `OnceLock` wait under parallel tests).
        while w.path() != Some(WaitPath::Syscall) {
            thread::yield_now();
        }
        until_asleep_in(tid, libc::SYS_futex);
        assert!(q.notify_one(ONE));
        assert_eq!(blocked.join().unwrap(), woken(ONE));
    });
    assert_eq!(w.path(), None);
}

// ---------------------------------------------------------------------------
// Register / notify / cancel semantics, on each path
// ---------------------------------------------------------------------------

/// The scenarios below run as async bodies on a compio runtime (io_uring path,
/// or the waker path in the child run) and under `futures::executor`.
fn on_both_executors<F: Future<Output = ()>>(body: impl Fn() -> F) {
    let _guard = hang_guard("a single-thread scenario");
    compio_runtime().block_on(body());
    futures::executor::block_on(body());
}

#[test]
fn notify_before_poll_is_sticky() {
    on_both_executors(|| async {
        let q = IoUringFutex::new();
        let w = new_waiter();
        register(&q, w.as_ref()).await;
        assert!(q.notify_one(ONE));
        assert!(
            !q.notify_one(ONE),
            "a notified waiter is not selected twice"
        );
        assert!(
            poll_once(&q, w.as_ref()).await,
            "the mark is observed on the next poll"
        );
    });
}

/// Contract point 3: a notify wakes the waker given to `register`, even if
/// the owner never called `poll_wait` (on the io_uring path the wait is armed
/// by `register` itself).
#[test]
fn notify_wakes_the_register_waker_without_any_poll() {
    struct Count(AtomicUsize);
    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    on_both_executors(|| async {
        let q = IoUringFutex::new();
        let w = new_waiter();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        // SAFETY: as in `register`.
        unsafe { q.register(w.as_ref(), &waker, TAG) };
        fence(SeqCst);
        settle().await;
        assert_eq!(count.0.load(SeqCst), 0);
        assert!(q.notify_one(ONE));
        // On the io_uring path the wake arrives as a completion the runtime
        // must reap; yield until it has.
        while count.0.load(SeqCst) == 0 {
            yield_now().await;
        }
        assert_eq!(count.0.load(SeqCst), 1);
        assert_eq!(
            cancel(&q, w.as_ref()),
            Cancelled::Notified(woken(ONE)),
            "notified, never observed"
        );
        // The re-check-succeeded shape: register, then cancel at once.
        // SAFETY: as in `register`.
        unsafe { q.register(w.as_ref(), &waker, TAG) };
        assert_eq!(cancel(&q, w.as_ref()), Cancelled::Removed { tag: TAG });
        assert!(!q.notify_one(ONE));
    });
}

#[test]
fn cancel_waiting_returns_removed_with_its_tag_and_leaves_nothing() {
    on_both_executors(|| async {
        let q = IoUringFutex::new();
        let w = new_waiter();
        register(&q, w.as_ref()).await;
        assert!(!poll_once(&q, w.as_ref()).await);
        settle().await;
        assert_eq!(cancel(&q, w.as_ref()), Cancelled::Removed { tag: TAG });
        assert_eq!(
            cancel(&q, w.as_ref()),
            Cancelled::Idle,
            "cancel on an idle waiter"
        );
        assert!(
            !q.notify_one(ONE),
            "the cancelled waiter left nothing behind"
        );
        assert_eq!(q.notify_all(ALL), 0);
    });
}

/// A waiter whose io_uring wait was cancelled keeps the op (which holds the
/// runtime's driver) until it is released, reused or dropped, and only its
/// own thread may drop it. `release` ends it on that thread, so a waiter
/// that outlives its owner and is freed on another thread after the
/// runtime is gone (the mpsc receiver's node, freed with the channel by the
/// last sender) leaks neither the op nor the runtime. Observed through the
/// waker the op keeps a clone of: every clone is dropped in the end.
#[test]
fn release_ends_a_cancelled_io_uring_wait_on_its_thread() {
    struct Counted;
    impl std::task::Wake for Counted {
        fn wake(self: Arc<Self>) {}
    }
    let state = Arc::new(Counted);
    let waker = Waker::from(state.clone());
    let q = Arc::new(IoUringFutex::new());
    let w = new_waiter();
    compio_runtime().block_on(async {
        // SAFETY: `w` is idle, heap-pinned, used with `q` only, and idle
        // (cancelled) when it is dropped below.
        unsafe { q.register(w.as_ref(), &waker, TAG) };
        assert_eq!(w.path(), Some(compio_path()));
        assert_eq!(cancel(&q, w.as_ref()), Cancelled::Removed { tag: TAG });
        // SAFETY: as above; `w` is idle.
        unsafe { q.release(w.as_ref()) };
    });
    // Freed on another thread, after its runtime is gone.
    thread::spawn(move || drop(w)).join().unwrap();
    drop(waker);
    assert_eq!(
        Arc::strong_count(&state),
        1,
        "a clone of the waker outlived the runtime (a leaked op)"
    );
}

#[test]
fn cancel_after_notify_passes_the_wake_on() {
    on_both_executors(|| async {
        let q = IoUringFutex::new();
        let (a, b) = (new_waiter(), new_waiter());
        register(&q, a.as_ref()).await;
        register(&q, b.as_ref()).await;
        assert!(!poll_once(&q, a.as_ref()).await);
        assert!(!poll_once(&q, b.as_ref()).await);
        settle().await;
        assert!(q.notify_one(ONE), "selects a (FIFO)");
        // Let a's futex wake complete in the kernel and its completion arrive
        // before a's owner gives up: the wake is consumed, the mark is not.
        settle().await;
        assert_eq!(
            cancel(&q, a.as_ref()),
            Cancelled::Notified(woken(ONE)),
            "a was notified and had not observed it"
        );
        assert!(q.notify_one(ONE), "passing it on selects b");
        wait(&q, b.as_ref()).await;
        assert!(!q.notify_one(ONE));
    });
}

#[test]
fn cancel_right_after_notify_passes_the_wake_on() {
    on_both_executors(|| async {
        let q = IoUringFutex::new();
        let (a, b) = (new_waiter(), new_waiter());
        register(&q, a.as_ref()).await;
        register(&q, b.as_ref()).await;
        assert!(!poll_once(&q, a.as_ref()).await);
        assert!(!poll_once(&q, b.as_ref()).await);
        settle().await;
        // No yield between the notify and the cancel: a's wake is still in
        // flight in the kernel.
        assert!(q.notify_one(ONE));
        assert_eq!(cancel(&q, a.as_ref()), Cancelled::Notified(woken(ONE)));
        assert!(q.notify_one(ONE));
        wait(&q, b.as_ref()).await;
    });
}

#[test]
fn stale_waiter_does_not_eat_the_wake() {
    on_both_executors(|| async {
        let q = IoUringFutex::new();
        let (a, b, c) = (new_waiter(), new_waiter(), new_waiter());
        register(&q, a.as_ref()).await;
        register(&q, b.as_ref()).await;
        assert!(!poll_once(&q, a.as_ref()).await);
        assert!(!poll_once(&q, b.as_ref()).await);
        settle().await;
        // a gives up while parked. On the io_uring path its kernel wait stays
        // armed until compio's AsyncCancel runs, which it has not yet: no
        // yield from here to the notifies.
        assert_eq!(cancel(&q, a.as_ref()), Cancelled::Removed { tag: TAG });
        // c takes a's futex bit, so a wake aimed at c also reaches stale a.
        register(&q, c.as_ref()).await;
        assert!(!poll_once(&q, c.as_ref()).await);
        assert!(q.notify_one(ONE), "selects b, not the stale a");
        assert!(q.notify_one(ONE), "selects c");
        assert!(!q.notify_one(ONE), "a is gone");
        wait(&q, b.as_ref()).await;
        wait(&q, c.as_ref()).await;
    });
}

#[test]
fn notify_one_is_fifo_and_notify_last_is_lifo() {
    on_both_executors(|| async {
        let q = IoUringFutex::new();
        let ws = [new_waiter(), new_waiter(), new_waiter(), new_waiter()];
        for w in &ws {
            register(&q, w.as_ref()).await;
            assert!(!poll_once(&q, w.as_ref()).await);
        }
        settle().await;
        assert!(q.notify_one(ONE));
        assert!(q.notify_last(LAST));
        settle().await;
        let ready = [
            poll_once(&q, ws[0].as_ref()).await,
            poll_once(&q, ws[1].as_ref()).await,
            poll_once(&q, ws[2].as_ref()).await,
            poll_once(&q, ws[3].as_ref()).await,
        ];
        assert_eq!(ready, [true, false, false, true]);
        assert!(q.notify_one(ONE));
        wait(&q, ws[1].as_ref()).await;
        assert!(!poll_once(&q, ws[2].as_ref()).await);
        assert!(q.notify_one(ONE));
        wait(&q, ws[2].as_ref()).await;
    });
}

#[test]
fn notify_all_selects_exactly_the_earlier_waiters() {
    on_both_executors(|| async {
        let q = IoUringFutex::new();
        let ws = [new_waiter(), new_waiter(), new_waiter()];
        for w in &ws {
            register(&q, w.as_ref()).await;
            assert!(!poll_once(&q, w.as_ref()).await);
        }
        settle().await;
        assert_eq!(q.notify_all(ALL), 3);
        let late = new_waiter();
        register(&q, late.as_ref()).await;
        assert!(!poll_once(&q, late.as_ref()).await);
        for w in &ws {
            wait(&q, w.as_ref()).await;
        }
        settle().await;
        assert!(
            !poll_once(&q, late.as_ref()).await,
            "registered after notify_all"
        );
        assert_eq!(q.notify_all(ALL), 1);
        wait(&q, late.as_ref()).await;
    });
}

#[test]
fn notify_all_beyond_one_wake_batch_and_32_futex_bits() {
    // 80 waiters: more than a WakeBatch (32) and more than the 32 futex bits,
    // so bits are shared and the notify runs in several rounds.
    on_both_executors(|| async {
        let q = IoUringFutex::new();
        let ws: Vec<_> = (0..80).map(|_| new_waiter()).collect();
        for w in &ws {
            register(&q, w.as_ref()).await;
            assert!(!poll_once(&q, w.as_ref()).await);
        }
        settle().await;
        assert_eq!(q.notify_all(ALL), 80);
        for w in &ws {
            wait(&q, w.as_ref()).await;
        }
        assert!(!q.notify_one(ONE));
    });
}

#[test]
fn shared_futex_bits_with_notify_one_wake_the_selected_waiter() {
    // 40 waiters parked at once share bits; each notify_one must still
    // complete exactly the head, in order.
    on_both_executors(|| async {
        let q = IoUringFutex::new();
        let ws: Vec<_> = (0..40).map(|_| new_waiter()).collect();
        for w in &ws {
            register(&q, w.as_ref()).await;
            assert!(!poll_once(&q, w.as_ref()).await);
        }
        settle().await;
        for (i, w) in ws.iter().enumerate() {
            assert!(q.notify_one(ONE));
            wait(&q, w.as_ref()).await;
            if let Some(next) = ws.get(i + 1) {
                assert!(
                    !poll_once(&q, next.as_ref()).await,
                    "waiter {} woke early",
                    i + 1
                );
            }
        }
    });
}

/// Engine v2: each notify hands its wake-up value to the waiter it selects,
/// with the tag the waiter registered; on the io_uring path the value
/// travels in the list node, the futex only carries the wake-up.
#[test]
fn every_notify_hands_its_value_and_the_tag_on_each_path() {
    on_both_executors(|| async {
        let q = IoUringFutex::new();
        let ws = [new_waiter(), new_waiter(), new_waiter()];
        for (tag, w) in ws.iter().enumerate() {
            register_tagged(&q, w.as_ref(), tag).await;
            assert!(!poll_once(&q, w.as_ref()).await);
        }
        settle().await;
        assert!(q.notify_one(ONE), "selects ws[0]");
        assert!(q.notify_last(LAST), "selects ws[2]");
        assert_eq!(q.notify_all(ALL), 1, "selects ws[1]");
        let got = [
            wait(&q, ws[0].as_ref()).await,
            wait(&q, ws[1].as_ref()).await,
            wait(&q, ws[2].as_ref()).await,
        ];
        let expected = [(ONE, 0), (ALL, 1), (LAST, 2)].map(|(wakeup, tag)| Woken { wakeup, tag });
        assert_eq!(got, expected);
    });
}

/// `notify_while` hands over in queue order under the lock: a semaphore
/// release of 6 permits completes the waiters needing 2 and 3, lowers the
/// third's need from 5 to 4 and keeps it queued. The completed waiters wake
/// (through the futex on the io_uring path); the kept one does not, and its
/// cancel reports the lowered tag.
#[test]
fn notify_while_hands_over_oldest_first_and_stops_at_keep() {
    on_both_executors(|| async {
        let q = IoUringFutex::new();
        let mut offered = 0;
        assert_eq!(
            q.notify_while(|_| {
                offered += 1;
                Select::Keep
            }),
            0
        );
        assert_eq!(offered, 0, "an empty queue offers nobody");
        let ws = [new_waiter(), new_waiter(), new_waiter()];
        for (w, need) in ws.iter().zip([2, 3, 5]) {
            register_tagged(&q, w.as_ref(), need).await;
            assert!(!poll_once(&q, w.as_ref()).await);
        }
        settle().await;
        let mut permits = 6;
        let picked = q.notify_while(|need| {
            let granted = permits.min(*need);
            permits -= granted;
            *need -= granted;
            if *need == 0 {
                Select::Notify(ONE)
            } else {
                Select::Keep
            }
        });
        assert_eq!((picked, permits), (2, 0));
        let done = Woken {
            wakeup: ONE,
            tag: 0,
        };
        assert_eq!(wait(&q, ws[0].as_ref()).await, done);
        assert_eq!(wait(&q, ws[1].as_ref()).await, done);
        settle().await;
        assert!(!poll_once(&q, ws[2].as_ref()).await, "kept, not woken");
        assert_eq!(cancel(&q, ws[2].as_ref()), Cancelled::Removed { tag: 4 });
        assert!(!q.notify_one(ONE));
    });
}

/// `register_front` links at the head on every path: the next `notify_one`
/// and `notify_while` select it (and, on the io_uring path, its futex bit
/// is the one woken).
#[test]
fn register_front_is_selected_next() {
    on_both_executors(|| async {
        let q = IoUringFutex::new();
        let (a, b, front) = (new_waiter(), new_waiter(), new_waiter());
        register(&q, a.as_ref()).await;
        register(&q, b.as_ref()).await;
        poll_fn(|cx| {
            // SAFETY: as in `register`.
            unsafe { q.register_front(front.as_ref(), cx.waker(), 9) };
            Poll::Ready(())
        })
        .await;
        fence(SeqCst);
        assert_eq!(front.path(), Some(compio_path_or_waker()));
        for w in [&a, &b, &front] {
            assert!(!poll_once(&q, w.as_ref()).await);
        }
        settle().await;
        let mut offered = Vec::new();
        assert_eq!(
            q.notify_while(|tag| {
                offered.push(*tag);
                Select::Keep
            }),
            0
        );
        assert_eq!(offered, [9], "the head is offered first");
        assert!(q.notify_one(ONE));
        assert_eq!(
            wait(&q, front.as_ref()).await,
            Woken {
                wakeup: ONE,
                tag: 9
            }
        );
        settle().await;
        assert!(!poll_once(&q, a.as_ref()).await, "a keeps its place");
        assert!(q.notify_one(ONE));
        assert_eq!(wait(&q, a.as_ref()).await, woken(ONE));
        assert_eq!(cancel(&q, b.as_ref()), Cancelled::Removed { tag: TAG });
    });
}

/// Contract point 7: a `register` whose waker's `clone` panics (on the
/// io_uring path inside compio's op poll, on the waker path before the
/// lock) leaves the waiter idle; the queue stays usable, and the waiter can
/// register again.
#[test]
fn register_whose_waker_clone_panics_leaves_the_waiter_idle() {
    use std::{
        panic::{AssertUnwindSafe, catch_unwind},
        task::{RawWaker, RawWakerVTable},
    };
    unsafe fn clone(_: *const ()) -> RawWaker {
        panic!("hostile waker: clone");
    }
    unsafe fn noop(_: *const ()) {}
    const VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    on_both_executors(|| async {
        // SAFETY: every vtable function ignores the (null) data pointer.
        let hostile = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
        let q = IoUringFutex::new();
        let w = new_waiter();
        for _ in 0..40 {
            let unwound = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: as in `register`; idle again when dropped.
                unsafe { q.register(w.as_ref(), &hostile, TAG) }
            }));
            assert!(unwound.is_err());
            assert_eq!(w.path(), None);
            assert_eq!(cancel(&q, w.as_ref()), Cancelled::Idle);
            assert!(!q.notify_one(ONE), "nothing was linked");
        }
        register(&q, w.as_ref()).await;
        assert_eq!(w.path(), Some(compio_path_or_waker()));
        assert!(q.notify_one(ONE));
        assert_eq!(wait(&q, w.as_ref()).await, woken(ONE));
    });
}

/// The path a task registering right now takes: io_uring on a compio
/// runtime (unless forced negative), the waker elsewhere.
fn compio_path_or_waker() -> WaitPath {
    if compio::runtime::Runtime::try_with_current(|_| ()).is_ok() {
        compio_path()
    } else {
        WaitPath::Waker
    }
}

// ---------------------------------------------------------------------------
// Cross-thread, exact counts
// ---------------------------------------------------------------------------

/// Runs `tasks` tasks on a fresh compio runtime, each doing `rounds` rounds of
/// acquire, yield, release, then meets every other thread that releases at
/// `done` before the runtime is dropped.
fn compio_worker(p: &Arc<Permits>, tasks: usize, rounds: usize, done: &Barrier) {
    block_on_then_meet(done, async {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let p = Arc::clone(p);
                compio::runtime::spawn(async move {
                    for _ in 0..rounds {
                        p.acquire().await;
                        yield_now().await;
                        p.release();
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
}

/// Holds one of `p`'s permits (taken before any task started, so no notify
/// has selected a waiter yet) until a compio task waits on it, then releases
/// it: that wait registered on a fresh queue, so it took the compio path
/// (the io_uring one unless the probe is forced negative), whatever the path
/// heuristic makes of the waits after it. Counts as one acquire.
fn hold_until_a_compio_task_waits(p: &Permits) {
    let first = match compio_path() {
        WaitPath::IoUring => &p.via_io_uring,
        _ => &p.via_waker,
    };
    while first.load(SeqCst) == 0 {
        thread::yield_now();
    }
    p.release();
}

/// Takes a permit of a fresh `p` for [`hold_until_a_compio_task_waits`].
fn hold(p: &Permits) {
    assert!(p.try_take());
    p.enter();
}

#[test]
fn two_runtimes_share_one_queue_with_exact_counts() {
    let _guard = hang_guard("two_runtimes_share_one_queue_with_exact_counts");
    const TASKS: usize = 8;
    const ROUNDS: usize = 300;
    for permits in [1, 2] {
        let p = Arc::new(Permits::new(permits));
        for _ in 0..permits {
            hold(&p);
        }
        // Both runtimes and this thread (see `compio_worker`).
        let done = Barrier::new(3);
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| compio_worker(&p, TASKS, ROUNDS, &done));
            }
            for _ in 0..permits {
                hold_until_a_compio_task_waits(&p);
            }
            done.wait();
        });
        assert_eq!(p.acquired.load(SeqCst), 2 * TASKS * ROUNDS + permits);
        assert!(p.max_holders.load(SeqCst) <= permits);
        assert_eq!(p.available.load(SeqCst), permits);
        assert_eq!(p.holders.load(SeqCst), 0);
        if compio_path() == WaitPath::IoUring {
            // The queue is fresh: the waits before the first notify arm a
            // FUTEX_WAIT; later ones take the waker path when the last notify
            // came from their own runtime (see the path heuristic tests).
            assert!(
                p.via_io_uring.load(SeqCst) > 0,
                "no wait took the io_uring path"
            );
        } else {
            assert_eq!(p.via_io_uring.load(SeqCst), 0);
        }
    }
}

#[test]
fn blocking_threads_and_runtimes_mixed_with_exact_counts() {
    let _guard = hang_guard("blocking_threads_and_runtimes_mixed_with_exact_counts");
    const TASKS: usize = 6;
    const ROUNDS: usize = 200;
    const BLOCKING_ROUNDS: usize = 400;
    let p = Arc::new(Permits::new(1));
    hold(&p);
    // Both runtimes, both blocking threads and this one (see
    // `compio_worker`).
    let done = Barrier::new(5);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| compio_worker(&p, TASKS, ROUNDS, &done));
        }
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..BLOCKING_ROUNDS {
                    p.acquire_blocking();
                    thread::yield_now();
                    p.release();
                }
                done.wait();
            });
        }
        hold_until_a_compio_task_waits(&p);
        done.wait();
    });
    assert_eq!(
        p.acquired.load(SeqCst),
        2 * TASKS * ROUNDS + 2 * BLOCKING_ROUNDS + 1
    );
    assert_eq!(p.max_holders.load(SeqCst), 1);
    assert_eq!(p.available.load(SeqCst), 1);
    assert!(p.blocked.load(SeqCst) > 0, "no blocking thread ever slept");
    if compio_path() == WaitPath::IoUring {
        assert!(p.via_io_uring.load(SeqCst) > 0);
    }
}

/// Waiters parked on a runtime thread that is asleep in `io_uring_enter`
/// (so their FUTEX_WAITs are certainly armed), notified from this thread.
#[test]
fn parked_runtime_woken_from_another_thread_exactly() {
    let _guard = hang_guard("parked_runtime_woken_from_another_thread_exactly");
    const WAITERS: usize = 5;
    let q = Arc::new(IoUringFutex::new());
    let woken = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = std::sync::mpsc::channel();
    // The runtime and this thread (see `block_on_then_meet`).
    let done = Barrier::new(2);
    thread::scope(|s| {
        s.spawn(|| {
            tx.send(gettid()).unwrap();
            block_on_then_meet(&done, async {
                let tasks: Vec<_> = (0..WAITERS)
                    .map(|_| {
                        let (q, woken, started) = (q.clone(), woken.clone(), started.clone());
                        compio::runtime::spawn(async move {
                            let w = new_waiter();
                            register(&q, w.as_ref()).await;
                            assert_eq!(w.path(), Some(compio_path()));
                            started.fetch_add(1, SeqCst);
                            wait(&q, w.as_ref()).await;
                            woken.fetch_add(1, SeqCst);
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            });
        });
        let tid = rx.recv().unwrap();
        let settled = |expect_woken: usize| {
            while started.load(SeqCst) < WAITERS || woken.load(SeqCst) < expect_woken {
                thread::yield_now();
            }
            until_asleep_in(tid, libc::SYS_io_uring_enter);
        };
        settled(0);
        assert!(q.notify_one(ONE));
        settled(1);
        assert_eq!(woken.load(SeqCst), 1, "exactly one woke");
        assert!(q.notify_one(ONE));
        settled(2);
        assert_eq!(woken.load(SeqCst), 2);
        assert_eq!(q.notify_all(ALL), WAITERS - 2);
        done.wait();
    });
    assert_eq!(woken.load(SeqCst), WAITERS);
    assert!(!q.notify_one(ONE));
}

/// A cancelled io_uring wait still armed in the kernel (its runtime thread is
/// blocked, so compio's AsyncCancel has not been submitted) holds the same
/// futex bit as a thread blocked in futex(2). Notifying the thread must wake
/// it: a wake limited to one sleeper would go to the older, stale wait.
#[test]
fn stale_io_uring_wait_does_not_eat_a_wake_meant_for_a_blocked_thread() {
    let _guard = hang_guard("stale_io_uring_wait_does_not_eat_a_wake_meant_for_a_blocked_thread");
    let q = Arc::new(IoUringFutex::new());
    let (armed_tx, armed_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::scope(|s| {
        let (q, armed_tx) = (&q, &armed_tx);
        let runtime = s.spawn(move || {
            compio_runtime().block_on(async {
                let a = new_waiter();
                register(q, a.as_ref()).await;
                assert_eq!(a.path(), Some(compio_path()));
                assert!(!poll_once(q, a.as_ref()).await);
                settle().await;
                assert_eq!(cancel(q, a.as_ref()), Cancelled::Removed { tag: TAG });
                armed_tx.send(()).unwrap();
                // Block the runtime thread: nothing it pushed is submitted.
                go_rx.recv().unwrap();
            });
        });
        armed_rx.recv().unwrap();
        let blocked = s.spawn(|| {
            tx.send(gettid()).unwrap();
            let c = new_waiter();
            // SAFETY: as in `register`.
            unsafe { q.register(c.as_ref(), Waker::noop(), TAG) };
            fence(SeqCst);
            // SAFETY: registered with `q`, not yet observed Ready.
            unsafe { q.wait_blocking(c.as_ref()) };
        });
        until_asleep_in(rx.recv().unwrap(), libc::SYS_futex);
        assert!(
            q.notify_one(ONE),
            "selects the blocked thread, not the cancelled waiter"
        );
        blocked.join().unwrap();
        go_tx.send(()).unwrap();
        runtime.join().unwrap();
    });
    assert!(!q.notify_one(ONE));
}

/// One waiter blocked in futex(2), one parked in an io_uring FUTEX_WAIT, both
/// on the queue's single futex word: both wake, by notify_one twice, by
/// notify_all and by notify_while, each with the value its notify handed over.
#[test]
fn syscall_waiter_and_io_uring_waiter_on_one_word_both_wake() {
    let _guard = hang_guard("syscall_waiter_and_io_uring_waiter_on_one_word_both_wake");
    const WHILE: usize = 44;
    for mode in ["notify_one", "notify_all", "notify_while"] {
        let expected = match mode {
            "notify_one" => woken(ONE),
            "notify_all" => woken(ALL),
            _ => Woken {
                wakeup: WHILE,
                tag: 0,
            },
        };
        let q = IoUringFutex::new();
        let registered = AtomicUsize::new(0);
        let (tx, rx) = std::sync::mpsc::channel();
        let tx2 = tx.clone();
        thread::scope(|s| {
            let runtime = s.spawn(|| {
                tx.send(("runtime", gettid())).unwrap();
                compio_runtime().block_on(async {
                    let w = new_waiter();
                    register(&q, w.as_ref()).await;
                    assert_eq!(w.path(), Some(compio_path()));
                    registered.fetch_add(1, SeqCst);
                    wait(&q, w.as_ref()).await
                })
            });
            let blocked = s.spawn(|| {
                tx2.send(("blocked", gettid())).unwrap();
                let w = new_waiter();
                // SAFETY: as in `register`.
                unsafe { q.register(w.as_ref(), Waker::noop(), TAG) };
                fence(SeqCst);
                registered.fetch_add(1, SeqCst);
                // SAFETY: registered with `q`, not yet observed Ready.
                unsafe { q.wait_blocking(w.as_ref()) }
            });
            let mut tids = [rx.recv().unwrap(), rx.recv().unwrap()];
            tids.sort();
            while registered.load(SeqCst) < 2 {
                thread::yield_now();
            }
            until_asleep_in(tids[0].1, libc::SYS_futex);
            until_asleep_in(tids[1].1, libc::SYS_io_uring_enter);
            match mode {
                "notify_one" => {
                    assert!(q.notify_one(ONE));
                    assert!(q.notify_one(ONE));
                }
                "notify_all" => assert_eq!(q.notify_all(ALL), 2),
                _ => assert_eq!(
                    q.notify_while(|tag| {
                        *tag = 0;
                        Select::Notify(WHILE)
                    }),
                    2
                ),
            }
            assert_eq!(runtime.join().unwrap(), expected, "{mode}: io_uring waiter");
            assert_eq!(blocked.join().unwrap(), expected, "{mode}: blocked thread");
        });
        assert!(!q.notify_one(ONE));
    }
}

// ---------------------------------------------------------------------------
// The probe forced negative: the whole file again, in a child process
// ---------------------------------------------------------------------------

#[test]
fn whole_suite_passes_with_the_probe_forced_negative() {
    if forced_negative() {
        return; // we are the child
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env(IoUringFutex::DISABLE_ENV, "1")
        .arg("--test-threads=2")
        .output()
        .expect("re-run this test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "fallback run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("test result: ok."), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}

// ---------------------------------------------------------------------------
// Kernel facts: which futex waiters and wakers see each other
// ---------------------------------------------------------------------------

mod kernel {
    use std::{ptr, sync::atomic::AtomicU32, thread};

    use io_uring::{IoUring, opcode};

    use super::{gettid, until_asleep_in};

    const FUTEX2_SIZE_U32: u32 = 0x02;
    const FUTEX2_PRIVATE: u32 = 128;
    const MATCH_ANY: u32 = u32::MAX;
    /// futex2 syscall numbers (the same on x86_64 and aarch64, Linux 6.7+).
    const SYS_FUTEX_WAKE: libc::c_long = 454;
    const SYS_FUTEX_WAIT: libc::c_long = 455;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Waiter {
        IoUring,
        LegacySyscall,
        Futex2Syscall,
    }

    #[derive(Debug, Clone, Copy)]
    enum Waker {
        LegacySyscall,
        Futex2Syscall,
        IoUring,
    }

    fn flags2(private: bool) -> u32 {
        FUTEX2_SIZE_U32 | if private { FUTEX2_PRIVATE } else { 0 }
    }

    fn legacy_op(op: libc::c_int, private: bool) -> libc::c_int {
        op | if private { libc::FUTEX_PRIVATE_FLAG } else { 0 }
    }

    /// Blocks in a syscall wait on `word` (expected 0); returns its result.
    fn syscall_wait(kind: Waiter, word: &AtomicU32, private: bool) -> libc::c_long {
        // SAFETY: `word` is live and aligned; no timeout.
        unsafe {
            match kind {
                Waiter::LegacySyscall => libc::syscall(
                    libc::SYS_futex,
                    word.as_ptr(),
                    legacy_op(libc::FUTEX_WAIT_BITSET, private),
                    0u32,
                    ptr::null::<libc::timespec>(),
                    ptr::null::<u32>(),
                    MATCH_ANY,
                ),
                Waiter::Futex2Syscall => libc::syscall(
                    SYS_FUTEX_WAIT,
                    word.as_ptr(),
                    0u64,
                    u64::from(MATCH_ANY),
                    flags2(private),
                    ptr::null::<libc::timespec>(),
                    libc::CLOCK_MONOTONIC,
                ),
                Waiter::IoUring => unreachable!(),
            }
        }
    }

    /// Wakes up to one waiter on `word`; returns how many woke.
    fn wake(kind: Waker, ring: &mut IoUring, word: &AtomicU32, private: bool) -> i64 {
        match kind {
            // SAFETY: `word` is live and aligned.
            Waker::LegacySyscall => unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    word.as_ptr(),
                    legacy_op(libc::FUTEX_WAKE_BITSET, private),
                    1,
                    ptr::null::<libc::timespec>(),
                    ptr::null::<u32>(),
                    MATCH_ANY,
                )
            },
            // SAFETY: `word` is live and aligned.
            Waker::Futex2Syscall => unsafe {
                libc::syscall(
                    SYS_FUTEX_WAKE,
                    word.as_ptr(),
                    u64::from(MATCH_ANY),
                    1,
                    flags2(private),
                )
            },
            Waker::IoUring => {
                let entry =
                    opcode::FutexWake::new(word.as_ptr(), 1, u64::from(MATCH_ANY), flags2(private))
                        .build()
                        .user_data(2);
                // SAFETY: the entry points at `word`, which outlives the
                // synchronous completion we wait for below.
                unsafe { ring.submission().push(&entry).unwrap() };
                ring.submit_and_wait(1).unwrap();
                take_cqe(ring, 2)
            }
        }
    }

    /// Waits for, and returns the result of, the completion with `user_data`.
    fn take_cqe(ring: &mut IoUring, user_data: u64) -> i64 {
        loop {
            if let Some(cqe) = ring.completion().find(|c| c.user_data() == user_data) {
                return i64::from(cqe.result());
            }
            ring.submit_and_wait(1).unwrap();
        }
    }

    fn check(ring: &mut IoUring, waiter: Waiter, wp: bool, waker: Waker, kp: bool) {
        let word = Box::new(AtomicU32::new(0));
        let expected = i64::from(wp == kp);
        let what = format!("{waiter:?} waiter (private={wp}) vs {waker:?} wake (private={kp})");
        if waiter == Waiter::IoUring {
            let entry = opcode::FutexWait::new(word.as_ptr(), 0, u64::from(MATCH_ANY), flags2(wp))
                .build()
                .user_data(1);
            // SAFETY: `word` outlives the wait: we reap its completion below.
            unsafe { ring.submission().push(&entry).unwrap() };
            // The kernel arms a FUTEX_WAIT while it processes the SQE.
            ring.submit().unwrap();
            assert_eq!(wake(waker, ring, &word, kp), expected, "{what}");
            if expected == 0 {
                assert_eq!(wake(Waker::IoUring, ring, &word, wp), 1, "{what}: cleanup");
            }
            assert_eq!(take_cqe(ring, 1), 0, "{what}: the wait completes as woken");
        } else {
            thread::scope(|s| {
                let (tx, rx) = std::sync::mpsc::channel();
                let word = &*word;
                let blocked = s.spawn(move || {
                    tx.send(gettid()).unwrap();
                    syscall_wait(waiter, word, wp)
                });
                let nr = match waiter {
                    Waiter::LegacySyscall => libc::SYS_futex,
                    _ => SYS_FUTEX_WAIT,
                };
                until_asleep_in(rx.recv().unwrap(), nr);
                assert_eq!(wake(waker, ring, word, kp), expected, "{what}");
                if expected == 0 {
                    assert_eq!(
                        wake(Waker::LegacySyscall, ring, word, wp),
                        1,
                        "{what}: cleanup"
                    );
                }
                assert_eq!(
                    blocked.join().unwrap(),
                    0,
                    "{what}: the wait returns as woken"
                );
            });
        }
    }

    /// Every waiter kind is woken by every waker kind with the same
    /// private/shared flag, and by none with the other flag.
    #[test]
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    fn private_and_shared_keys_never_mix_and_every_same_kind_pair_wakes() {
        let mut ring = IoUring::new(8).unwrap();
        for waiter in [
            Waiter::IoUring,
            Waiter::LegacySyscall,
            Waiter::Futex2Syscall,
        ] {
            for waker in [Waker::LegacySyscall, Waker::Futex2Syscall, Waker::IoUring] {
                for wp in [false, true] {
                    for kp in [false, true] {
                        check(&mut ring, waiter, wp, waker, kp);
                    }
                }
            }
        }
    }
}
