//! `Iocp` (Windows), driven through the `WaitQueue` trait directly: register,
//! `fence(SeqCst)`, re-check, then `poll_wait`/`cancel`/`wait_blocking`; and
//! notify. Each behaviour runs on the path it concerns: the completion path
//! (a compio runtime: the waiter is an op on the runtime's port), the waker
//! fallback (`futures::executor`), the `WaitOnAddress` path (a blocked plain
//! thread), and the whole file once more in a child process with the probe
//! forced negative (`COMPIO_SYNC_IOCP_DISABLE=1`).
//!
//! Built and run here under Wine (`wine-cargo test -p compio-sync --test
//! iocp`); see the `Iocp` docs for what that does and does not verify.
#![cfg(all(windows, feature = "iocp", not(loom)))]

use std::{
    future::poll_fn,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering::*, fence},
    },
    task::{Poll, Waker},
    thread,
    time::Duration,
};

use compio_sync::backend::{Cancelled, Iocp, IocpPath, IocpWaiter, Select, WaitQueue, Woken};

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
    std::env::var_os(Iocp::DISABLE_ENV).is_some_and(|v| v == "1")
}

/// The path a task on a compio runtime must take in this run.
fn compio_path() -> IocpPath {
    if forced_negative() {
        IocpPath::Waker
    } else {
        IocpPath::Completion
    }
}

fn new_waiter() -> Pin<Box<IocpWaiter>> {
    Box::pin(Iocp::new_waiter())
}

/// Registers `w` with the current task's waker and [`TAG`], then issues the
/// caller-side `fence(SeqCst)` of the protocol.
async fn register(q: &Iocp, w: Pin<&IocpWaiter>) {
    register_tagged(q, w, TAG).await
}

/// [`register`] with another tag.
async fn register_tagged(q: &Iocp, w: Pin<&IocpWaiter>, tag: usize) {
    poll_fn(|cx| {
        // SAFETY: `w` is idle, heap-pinned, used with `q` only, and every test
        // makes it idle (Ready or cancel) before dropping it.
        unsafe { q.register(w, cx.waker(), tag) };
        Poll::Ready(())
    })
    .await;
    fence(SeqCst);
}

/// [`register_tagged`] at the head of the queue (`register_front`).
async fn register_front(q: &Iocp, w: Pin<&IocpWaiter>, tag: usize) {
    poll_fn(|cx| {
        // SAFETY: as in `register_tagged`.
        unsafe { q.register_front(w, cx.waker(), tag) };
        Poll::Ready(())
    })
    .await;
    fence(SeqCst);
}

/// Polls `w` once; true if it was notified.
async fn poll_once(q: &Iocp, w: Pin<&IocpWaiter>) -> bool {
    // SAFETY: `w` is registered with `q` and not yet observed Ready.
    poll_fn(|cx| Poll::Ready(unsafe { q.poll_wait(w, cx) }.is_ready())).await
}

/// Polls `w` until it is notified; returns what the notifier handed over.
async fn wait(q: &Iocp, w: Pin<&IocpWaiter>) -> Woken {
    // SAFETY: `w` is registered with `q` and not yet observed Ready.
    poll_fn(|cx| unsafe { q.poll_wait(w, cx) }).await
}

fn cancel(q: &Iocp, w: Pin<&IocpWaiter>) -> Cancelled {
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

/// Runs the test body on a compio runtime (the completion path, unless
/// forced negative) and on `futures::executor` (the waker path).
fn on_both_executors<F, Fut>(body: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    compio_runtime().block_on(body());
    futures::executor::block_on(body());
    assert!(Iocp::completion_error().is_none());
}

/// The path a task registering right now takes: the completion path on a
/// compio runtime (unless forced negative), the waker elsewhere.
fn compio_path_or_waker() -> IocpPath {
    if compio::runtime::Runtime::try_with_current(|_| ()).is_ok() {
        compio_path()
    } else {
        IocpPath::Waker
    }
}

/// Registers `w` from a plain thread (the waker path, until
/// `wait_blocking` moves it to the address path), at the head if `front`.
fn register_blocking(q: &Iocp, w: Pin<&IocpWaiter>, front: bool, tag: usize) {
    // SAFETY: as in `register_tagged`.
    unsafe {
        if front {
            q.register_front(w, Waker::noop(), tag)
        } else {
            q.register(w, Waker::noop(), tag)
        }
    };
    fence(SeqCst);
}

fn compio_runtime() -> compio::runtime::Runtime {
    compio::runtime::RuntimeBuilder::new()
        // Many tasks of one runtime are woken from other threads.
        .sync_queue_size(4096)
        .build()
        .expect("compio runtime")
}

/// Aborts the process with a message unless dropped within 60 s. Not a
/// timing assertion: every test here finishes in seconds, even under Wine.
struct HangGuard(Arc<AtomicBool>);

fn hang_guard(what: &'static str) -> HangGuard {
    let done = Arc::new(AtomicBool::new(false));
    let watched = Arc::clone(&done);
    thread::spawn(move || {
        for _ in 0..600 {
            if watched.load(SeqCst) {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
        eprintln!("{what}: no progress for 60 s, a wakeup was lost");
        std::process::abort();
    });
    HangGuard(done)
}

impl Drop for HangGuard {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

/// A counting semaphore built on the queue the way the primitives use it,
/// with exact bookkeeping and a count of the paths its waits took.
struct Permits {
    available: AtomicUsize,
    queue: Iocp,
    holders: AtomicUsize,
    max_holders: AtomicUsize,
    acquired: AtomicUsize,
    via_completion: AtomicUsize,
    via_waker: AtomicUsize,
    /// Blocking waits that slept in `wait_blocking`.
    blocked: AtomicUsize,
}

impl Permits {
    fn new(n: usize) -> Self {
        Self {
            available: AtomicUsize::new(n),
            queue: Iocp::new(),
            holders: AtomicUsize::new(0),
            max_holders: AtomicUsize::new(0),
            acquired: AtomicUsize::new(0),
            via_completion: AtomicUsize::new(0),
            via_waker: AtomicUsize::new(0),
            blocked: AtomicUsize::new(0),
        }
    }

    fn try_take(&self) -> bool {
        self.available
            .fetch_update(Acquire, Relaxed, |n| n.checked_sub(1))
            .is_ok()
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

    fn count_path(&self, w: &IocpWaiter) {
        match w.path() {
            Some(IocpPath::Completion) => &self.via_completion,
            Some(IocpPath::Waker) => &self.via_waker,
            _ => return,
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
                // A notification received meanwhile belongs to somebody
                // else: the guard passes it on.
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

/// A registered waiter that, if dropped while still registered, cancels and
/// passes on a notification it had received (what every primitive's `Drop`
/// does).
struct Guard<'a> {
    queue: &'a Iocp,
    waiter: Pin<Box<IocpWaiter>>,
    armed: bool,
}

impl<'a> Guard<'a> {
    fn new(queue: &'a Iocp) -> Self {
        Self {
            queue,
            waiter: new_waiter(),
            armed: true,
        }
    }

    fn waiter(&self) -> Pin<&IocpWaiter> {
        self.waiter.as_ref()
    }

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

// ---------------------------------------------------------------------------
// Detection and paths
// ---------------------------------------------------------------------------

#[test]
fn probe_passes_under_wine_and_follows_the_disable_env() {
    if forced_negative() {
        assert!(
            !Iocp::completion_supported(),
            "the env hook must force the probe negative"
        );
    } else {
        assert!(
            Iocp::completion_supported(),
            "posting a completion packet failed"
        );
    }
    assert!(
        Iocp::address_wait_supported(),
        "WaitOnAddress not found (Windows 8+ and Wine have it)"
    );
    assert!(Iocp::completion_error().is_none());
}

#[test]
fn compio_task_takes_the_completion_path() {
    compio_runtime().block_on(async {
        let q = Iocp::new();
        let w = new_waiter();
        register(&q, w.as_ref()).await;
        assert_eq!(w.path(), Some(compio_path()));
        assert!(!poll_once(&q, w.as_ref()).await);
        assert_eq!(w.path(), Some(compio_path()), "a pending poll keeps it");
        assert!(q.notify_one(ONE));
        assert_eq!(wait(&q, w.as_ref()).await, woken(ONE));
        assert_eq!(w.path(), None, "idle after Ready");
        assert!(!q.notify_one(ONE), "nobody is left to select");
    });
    assert!(Iocp::completion_error().is_none());
}

#[test]
fn futures_block_on_takes_the_waker_path() {
    let q = Iocp::new();
    futures::executor::block_on(async {
        let w = new_waiter();
        register(&q, w.as_ref()).await;
        assert_eq!(w.path(), Some(IocpPath::Waker));
        assert!(!poll_once(&q, w.as_ref()).await);
        assert!(q.notify_one(ONE));
        assert_eq!(wait(&q, w.as_ref()).await, woken(ONE));
    });
}

/// A waiter registered on a runtime and then polled by another executor on
/// the same thread (no runtime there) finishes on the waker path.
#[test]
fn completion_waiter_polled_outside_the_runtime_moves_to_the_waker_path() {
    let q = Iocp::new();
    let w = new_waiter();
    compio_runtime().block_on(async {
        register(&q, w.as_ref()).await;
        assert_eq!(w.path(), Some(compio_path()));
    });
    futures::executor::block_on(async {
        assert!(!poll_once(&q, w.as_ref()).await);
        assert_eq!(w.path(), Some(IocpPath::Waker));
        assert!(q.notify_one(LAST));
        assert_eq!(wait(&q, w.as_ref()).await, woken(LAST));
    });
}

#[test]
fn blocked_thread_sleeps_in_wait_on_address() {
    let _guard = hang_guard("blocked_thread_sleeps_in_wait_on_address");
    let q = Iocp::new();
    let w = new_waiter();
    thread::scope(|s| {
        let blocked = s.spawn(|| {
            register_blocking(&q, w.as_ref(), false, TAG);
            // SAFETY: registered, not yet observed Ready.
            unsafe { q.wait_blocking(w.as_ref()) }
        });
        while w.path() != Some(IocpPath::Address) {
            thread::sleep(Duration::from_millis(1));
        }
        // Give the thread time to be asleep inside WaitOnAddress (not a
        // correctness requirement: a wake before it sleeps is also caught).
        thread::sleep(Duration::from_millis(20));
        assert!(q.notify_one(ONE));
        assert_eq!(blocked.join().unwrap(), woken(ONE));
    });
    assert_eq!(w.path(), None);
    assert!(!q.notify_one(ONE));
}

/// Blocking threads share the word: a notify that selects one wakes them all
/// and exactly the selected one returns.
#[test]
fn notify_one_releases_exactly_the_selected_blocked_thread() {
    let _guard = hang_guard("notify_one_releases_exactly_the_selected_blocked_thread");
    const THREADS: usize = 3;
    let q = Iocp::new();
    let waiters: Vec<_> = (0..THREADS).map(|_| new_waiter()).collect();
    let returned = AtomicUsize::new(0);
    thread::scope(|s| {
        for w in &waiters {
            let (q, returned) = (&q, &returned);
            s.spawn(move || {
                register_blocking(q, w.as_ref(), false, TAG);
                // SAFETY: registered, not yet observed Ready.
                let got = unsafe { q.wait_blocking(w.as_ref()) };
                assert_eq!(got, woken(ONE));
                returned.fetch_add(1, SeqCst);
            });
        }
        while !waiters.iter().all(|w| w.path() == Some(IocpPath::Address)) {
            thread::sleep(Duration::from_millis(1));
        }
        for n in 1..=THREADS {
            assert!(q.notify_one(ONE));
            while returned.load(SeqCst) < n {
                thread::sleep(Duration::from_millis(1));
            }
            thread::sleep(Duration::from_millis(20));
            assert_eq!(returned.load(SeqCst), n, "one notify, one thread");
        }
    });
}

// ---------------------------------------------------------------------------
// Engine v2: wake-up values, tags, cancel's answer, notify_while,
// register_front, on each path
// ---------------------------------------------------------------------------

/// Each notify hands its wake-up value to the waiter it selects, with the
/// tag the waiter registered; on the completion path the value travels in
/// the list node, the packet only carries the wake-up.
#[test]
fn every_notify_hands_its_value_and_the_tag_on_each_path() {
    on_both_executors(|| async {
        let q = Iocp::new();
        let ws = [new_waiter(), new_waiter(), new_waiter()];
        for (tag, w) in ws.iter().enumerate() {
            register_tagged(&q, w.as_ref(), tag).await;
            assert_eq!(w.path(), Some(compio_path_or_waker()));
            assert!(!poll_once(&q, w.as_ref()).await);
        }
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

/// A waiter whose completion-path wait was cancelled keeps the op (which
/// holds the runtime's driver) until it is released, reused or dropped, and
/// only its own thread may drop it. `release` ends it on that thread (the
/// op's cancel posts its packet, and the driver frees the op when it
/// dequeues it), so a waiter that outlives its owner and is freed on another
/// thread after the runtime is gone (the mpsc receiver's node) leaks neither
/// the op nor the runtime. Observed through the waker the op and its park
/// keep clones of: every clone is dropped in the end.
#[test]
fn release_ends_a_cancelled_completion_wait_on_its_thread() {
    struct Counted;
    impl std::task::Wake for Counted {
        fn wake(self: Arc<Self>) {}
    }
    let state = Arc::new(Counted);
    let waker = Waker::from(state.clone());
    let q = Arc::new(Iocp::new());
    let w = new_waiter();
    compio_runtime().block_on(async {
        // SAFETY: `w` is idle, heap-pinned, used with `q` only, and idle
        // (cancelled) when it is dropped below.
        unsafe { q.register(w.as_ref(), &waker, TAG) };
        assert_eq!(w.path(), Some(compio_path()));
        assert_eq!(cancel(&q, w.as_ref()), Cancelled::Removed { tag: TAG });
        // SAFETY: as above; `w` is idle.
        unsafe { q.release(w.as_ref()) };
        // The driver dequeues the cancelled op's packet and frees the op (it
        // would leak it if still in flight when the runtime goes). It looks
        // at its port only in a poll no wake-up of the runtime cut short, as
        // a timer's is.
        for _ in 0..2 {
            compio::time::sleep(Duration::from_millis(1)).await;
        }
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

/// `cancel` says what it found: `Removed` with the tag of a waiting waiter
/// (whose op, on the completion path, is cancelled and posts its own
/// packet), `Idle` on an idle one, `Notified` with the notifier's value on a
/// notified one that had not observed it.
#[test]
fn cancel_reports_removed_idle_and_notified_with_the_value() {
    on_both_executors(|| async {
        let q = Iocp::new();
        let w = new_waiter();
        register(&q, w.as_ref()).await;
        assert!(!poll_once(&q, w.as_ref()).await);
        assert_eq!(cancel(&q, w.as_ref()), Cancelled::Removed { tag: TAG });
        assert_eq!(cancel(&q, w.as_ref()), Cancelled::Idle);
        assert!(!q.notify_one(ONE), "the cancelled waiter left nothing");
        // Notified, never polled: the packet may still be in flight.
        register(&q, w.as_ref()).await;
        assert!(q.notify_last(LAST));
        assert_eq!(cancel(&q, w.as_ref()), Cancelled::Notified(woken(LAST)));
        assert_eq!(cancel(&q, w.as_ref()), Cancelled::Idle);
        // Notified after a pending poll, then the packet given time to land.
        register(&q, w.as_ref()).await;
        assert!(!poll_once(&q, w.as_ref()).await);
        assert_eq!(q.notify_all(ALL), 1);
        yield_now().await;
        assert_eq!(cancel(&q, w.as_ref()), Cancelled::Notified(woken(ALL)));
        assert_eq!(q.notify_all(ALL), 0);
    });
}

/// `notify_while` hands over in queue order under the lock: a semaphore
/// release of 6 permits completes the waiters needing 2 and 3, lowers the
/// third's need from 5 to 4 and keeps it queued. The completed waiters wake
/// (by a posted packet on the completion path); the kept one does not, and
/// its cancel reports the lowered tag.
#[test]
fn notify_while_hands_over_oldest_first_and_stops_at_keep() {
    on_both_executors(|| async {
        let q = Iocp::new();
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
        yield_now().await;
        assert!(!poll_once(&q, ws[2].as_ref()).await, "kept, not woken");
        assert_eq!(ws[2].path(), Some(compio_path_or_waker()));
        assert_eq!(cancel(&q, ws[2].as_ref()), Cancelled::Removed { tag: 4 });
        assert!(!q.notify_one(ONE));
    });
}

/// `register_front` links at the head on every path: the next `notify_one`
/// and `notify_while` select it (a semaphore waiter passed over by a
/// barging task keeps its place).
#[test]
fn register_front_is_selected_next() {
    on_both_executors(|| async {
        let q = Iocp::new();
        let (a, b, front) = (new_waiter(), new_waiter(), new_waiter());
        register(&q, a.as_ref()).await;
        register(&q, b.as_ref()).await;
        register_front(&q, front.as_ref(), 9).await;
        assert_eq!(front.path(), Some(compio_path_or_waker()));
        for w in [&a, &b, &front] {
            assert!(!poll_once(&q, w.as_ref()).await);
        }
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
        yield_now().await;
        assert!(!poll_once(&q, a.as_ref()).await, "a keeps its place");
        assert!(q.notify_one(ONE));
        assert_eq!(wait(&q, a.as_ref()).await, woken(ONE));
        // `notify_last` still takes the tail: a front waiter is not the newest.
        register_front(&q, front.as_ref(), 9).await;
        assert!(q.notify_last(LAST));
        assert_eq!(wait(&q, b.as_ref()).await, woken(LAST));
        assert_eq!(cancel(&q, front.as_ref()), Cancelled::Removed { tag: 9 });
        assert!(!q.notify_one(ONE));
    });
}

/// Threads asleep in `WaitOnAddress`: one registered at the tail, one at the
/// head. `notify_while` is offered the head first; it hands the head a
/// value, lowers the other's tag and keeps it; the kept thread stays asleep
/// (a wake of the shared word rouses it, it re-checks and sleeps again) and
/// later returns the lowered tag.
#[test]
fn notify_while_and_register_front_on_blocked_threads() {
    let _guard = hang_guard("notify_while_and_register_front_on_blocked_threads");
    let q = Iocp::new();
    let (tail, head) = (new_waiter(), new_waiter());
    let returned = AtomicUsize::new(0);
    thread::scope(|s| {
        let tail_thread = s.spawn(|| {
            register_blocking(&q, tail.as_ref(), false, 2);
            // SAFETY: registered, not yet observed Ready.
            let got = unsafe { q.wait_blocking(tail.as_ref()) };
            returned.fetch_add(1, SeqCst);
            got
        });
        while tail.path() != Some(IocpPath::Address) {
            thread::sleep(Duration::from_millis(1));
        }
        let head_thread = s.spawn(|| {
            register_blocking(&q, head.as_ref(), true, 7);
            // SAFETY: registered, not yet observed Ready.
            let got = unsafe { q.wait_blocking(head.as_ref()) };
            returned.fetch_add(1, SeqCst);
            got
        });
        while head.path() != Some(IocpPath::Address) {
            thread::sleep(Duration::from_millis(1));
        }
        let mut offered = Vec::new();
        let picked = q.notify_while(|tag| {
            offered.push(*tag);
            if *tag == 7 {
                Select::Notify(ONE)
            } else {
                *tag = 1;
                Select::Keep
            }
        });
        assert_eq!((picked, offered), (1, vec![7, 2]));
        assert_eq!(
            head_thread.join().unwrap(),
            Woken {
                wakeup: ONE,
                tag: 7
            }
        );
        // Not a correctness requirement: time for a wrong wake to show.
        thread::sleep(Duration::from_millis(20));
        assert_eq!(returned.load(SeqCst), 1, "the kept thread sleeps on");
        assert_eq!(tail.path(), Some(IocpPath::Address));
        assert!(q.notify_one(LAST));
        assert_eq!(
            tail_thread.join().unwrap(),
            Woken {
                wakeup: LAST,
                tag: 1
            }
        );
    });
    assert!(!q.notify_one(ONE));
}

/// Contract point 7: a `register` whose waker's `clone` panics (on the
/// completion path before the op is submitted, on the waker path before the
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
        let q = Iocp::new();
        let w = new_waiter();
        for front in [false, true] {
            let unwound = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: as in `register_tagged`; idle again when dropped.
                unsafe {
                    if front {
                        q.register_front(w.as_ref(), &hostile, TAG)
                    } else {
                        q.register(w.as_ref(), &hostile, TAG)
                    }
                }
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

// ---------------------------------------------------------------------------
// Cross-thread: packets posted to a runtime asleep in its port
// ---------------------------------------------------------------------------

/// Waiters parked on a runtime that is asleep in `GetQueuedCompletionStatusEx`,
/// notified one by one from this thread; each notify releases exactly one.
#[test]
fn parked_runtime_woken_from_another_thread_exactly() {
    let _guard = hang_guard("parked_runtime_woken_from_another_thread_exactly");
    const WAITERS: usize = 5;
    let q = Arc::new(Iocp::new());
    let registered = Arc::new(AtomicUsize::new(0));
    let woken = Arc::new(AtomicUsize::new(0));
    let runtime = {
        let (q, registered, woken) = (q.clone(), registered.clone(), woken.clone());
        thread::spawn(move || {
            compio_runtime().block_on(async {
                let tasks: Vec<_> = (0..WAITERS)
                    .map(|_| {
                        let (q, registered, woken) = (q.clone(), registered.clone(), woken.clone());
                        compio::runtime::spawn(async move {
                            let w = new_waiter();
                            register(&q, w.as_ref()).await;
                            assert_eq!(w.path(), Some(compio_path()));
                            registered.fetch_add(1, SeqCst);
                            assert_eq!(wait(&q, w.as_ref()).await, crate::woken(ONE));
                            woken.fetch_add(1, SeqCst);
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    };
    while registered.load(SeqCst) < WAITERS {
        thread::sleep(Duration::from_millis(1));
    }
    for n in 1..=WAITERS {
        // Let the runtime fall asleep in its port.
        thread::sleep(Duration::from_millis(10));
        assert!(q.notify_one(ONE));
        while woken.load(SeqCst) < n {
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(woken.load(SeqCst), n);
    }
    runtime.join().unwrap();
    assert!(!q.notify_one(ONE));
    assert!(Iocp::completion_error().is_none());
}

/// `notify_while` from another thread hands values to tasks parked on a
/// runtime asleep in its port: the three oldest get theirs, the rest are
/// kept until a `notify_all`, and every task reads its own tag back.
#[test]
fn notify_while_posts_to_a_parked_runtime_from_another_thread() {
    let _guard = hang_guard("notify_while_posts_to_a_parked_runtime_from_another_thread");
    const WAITERS: usize = 6;
    const PICKED: usize = 3;
    let q = Arc::new(Iocp::new());
    let registered = Arc::new(AtomicUsize::new(0));
    let woken = Arc::new(AtomicUsize::new(0));
    let runtime = {
        let (q, registered, woken) = (q.clone(), registered.clone(), woken.clone());
        thread::spawn(move || {
            compio_runtime().block_on(async {
                let mut tasks = Vec::new();
                for i in 0..WAITERS {
                    let (q, mine, woken) = (q.clone(), registered.clone(), woken.clone());
                    tasks.push(compio::runtime::spawn(async move {
                        let w = new_waiter();
                        register_tagged(&q, w.as_ref(), i).await;
                        assert_eq!(w.path(), Some(compio_path()));
                        mine.fetch_add(1, SeqCst);
                        let got = wait(&q, w.as_ref()).await;
                        let wakeup = if i < PICKED { ONE } else { ALL };
                        assert_eq!(got, Woken { wakeup, tag: i });
                        woken.fetch_add(1, SeqCst);
                    }));
                    // Registered in spawn order, so the tags are FIFO order.
                    while registered.load(SeqCst) <= i {
                        yield_now().await;
                    }
                }
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    };
    while registered.load(SeqCst) < WAITERS {
        thread::sleep(Duration::from_millis(1));
    }
    // Let the runtime fall asleep in its port.
    thread::sleep(Duration::from_millis(10));
    let mut offered = Vec::new();
    let picked = q.notify_while(|tag| {
        offered.push(*tag);
        if *tag < PICKED {
            Select::Notify(ONE)
        } else {
            Select::Keep
        }
    });
    assert_eq!(picked, PICKED);
    assert_eq!(offered, (0..=PICKED).collect::<Vec<_>>(), "oldest first");
    while woken.load(SeqCst) < PICKED {
        thread::sleep(Duration::from_millis(1));
    }
    thread::sleep(Duration::from_millis(20));
    assert_eq!(woken.load(SeqCst), PICKED, "the kept ones sleep on");
    assert_eq!(q.notify_all(ALL), WAITERS - PICKED);
    runtime.join().unwrap();
    assert!(!q.notify_one(ONE));
    assert!(Iocp::completion_error().is_none());
}

/// Runs `tasks` tasks on a fresh runtime, each doing `rounds` rounds of
/// acquire, yield, release.
fn compio_worker(p: &Arc<Permits>, tasks: usize, rounds: usize) {
    compio_runtime().block_on(async {
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

#[test]
fn two_runtimes_share_one_queue_with_exact_counts() {
    let _guard = hang_guard("two_runtimes_share_one_queue_with_exact_counts");
    const TASKS: usize = 8;
    const ROUNDS: usize = 200;
    for permits in [1, 2] {
        let p = Arc::new(Permits::new(permits));
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| compio_worker(&p, TASKS, ROUNDS));
            }
        });
        assert_eq!(p.acquired.load(SeqCst), 2 * TASKS * ROUNDS);
        assert!(p.max_holders.load(SeqCst) <= permits);
        assert_eq!(p.available.load(SeqCst), permits);
        if compio_path() == IocpPath::Completion {
            assert!(p.via_completion.load(SeqCst) > 0, "no completion wait");
            assert_eq!(p.via_waker.load(SeqCst), 0);
        } else {
            assert_eq!(p.via_completion.load(SeqCst), 0);
        }
    }
    assert!(Iocp::completion_error().is_none());
}

#[test]
fn blocking_threads_and_runtimes_mixed_with_exact_counts() {
    let _guard = hang_guard("blocking_threads_and_runtimes_mixed_with_exact_counts");
    const TASKS: usize = 6;
    const ROUNDS: usize = 150;
    const BLOCKING_ROUNDS: usize = 300;
    let p = Arc::new(Permits::new(1));
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| compio_worker(&p, TASKS, ROUNDS));
        }
        for _ in 0..2 {
            s.spawn(|| {
                for round in 0..BLOCKING_ROUNDS {
                    p.acquire_blocking();
                    // Now and then hold the permit long enough that the other
                    // blocking thread certainly has to sleep.
                    if round % 10 == 0 {
                        thread::sleep(Duration::from_micros(200));
                    } else {
                        thread::yield_now();
                    }
                    p.release();
                }
            });
        }
    });
    assert_eq!(
        p.acquired.load(SeqCst),
        2 * TASKS * ROUNDS + 2 * BLOCKING_ROUNDS
    );
    assert_eq!(p.max_holders.load(SeqCst), 1);
    assert_eq!(p.available.load(SeqCst), 1);
    assert!(p.blocked.load(SeqCst) > 0, "no blocking thread ever slept");
    if compio_path() == IocpPath::Completion {
        assert!(p.via_completion.load(SeqCst) > 0);
    }
}

/// The exactly-once post: a notifier on another thread races the owner's
/// cancel (which must then post the op's packet itself) thousands of times.
/// Every `true` notify is accounted for, by a wake-up or by a cancel that
/// returned `Notified`. A double post would complete an op compio has freed (a
/// crash or a corrupted driver, not a quiet failure).
#[test]
fn cancel_racing_a_cross_thread_notify_posts_exactly_once() {
    let _guard = hang_guard("cancel_racing_a_cross_thread_notify_posts_exactly_once");
    const ROUNDS: usize = 3000;
    let q = Arc::new(Iocp::new());
    let stop = Arc::new(AtomicBool::new(false));
    let selected = Arc::new(AtomicUsize::new(0));
    let notifier = {
        let (q, stop, selected) = (q.clone(), stop.clone(), selected.clone());
        thread::spawn(move || {
            while !stop.load(SeqCst) {
                if q.notify_one(ONE) {
                    selected.fetch_add(1, SeqCst);
                }
                thread::yield_now();
            }
        })
    };
    let (mut passed_on, mut woken) = (0, 0);
    compio_runtime().block_on(async {
        for round in 0..ROUNDS {
            let w = new_waiter();
            register(&q, w.as_ref()).await;
            if round % 3 == 0 {
                yield_now().await;
            }
            if round % 5 == 0 && poll_once(&q, w.as_ref()).await {
                woken += 1;
                continue;
            }
            match cancel(&q, w.as_ref()) {
                Cancelled::Notified(got) => {
                    assert_eq!(got, crate::woken(ONE));
                    passed_on += 1;
                }
                Cancelled::Removed { tag } => assert_eq!(tag, TAG),
                Cancelled::Idle => panic!("a registered waiter cancelled as idle"),
            }
        }
    });
    stop.store(true, SeqCst);
    notifier.join().unwrap();
    assert_eq!(selected.load(SeqCst), passed_on + woken);
    assert!(Iocp::completion_error().is_none());
}

// ---------------------------------------------------------------------------
// The probe forced negative: the whole file again, in a child process
// ---------------------------------------------------------------------------

#[test]
fn whole_file_passes_with_the_probe_forced_negative() {
    if forced_negative() {
        return; // we are the child
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env(Iocp::DISABLE_ENV, "1")
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
    assert!(stdout.contains("cancel_racing_a_cross_thread"), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}
