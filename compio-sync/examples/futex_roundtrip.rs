//! What one futex wait/wake round trip costs through `IoUringFutex`, beside
//! the `Intrusive` backend, on one compio runtime and across threads.
//!
//! ```text
//! cargo run --release -p compio-sync --example futex_roundtrip
//! ```
//!
//! A round trip is: A signals B and waits; B wakes, signals A; A wakes. Each
//! signal is a flag plus `notify_one` on a `WaitQueue`, each wait is
//! register, `fence(SeqCst)`, re-check, `poll_wait` (or `wait_blocking`),
//! the protocol the primitives use. Rows:
//!
//! - `one runtime`: two tasks on one compio runtime (brief scenario S5b);
//!   each wakes the other from its own thread, so after the first notify
//!   `IoUringFutex` waits there take the waker path (its path heuristic);
//! - `raw FUTEX_WAIT`: the same with no wait queue, a bare io_uring
//!   `FUTEX_WAIT` op woken by `futex(FUTEX_WAKE)`, with shared and private
//!   keys (the floor under the io_uring path, and the price of shared keys);
//! - `two runtimes`: the two tasks on two threads, each with its runtime (S5);
//! - `two threads`: plain threads (`wait_blocking` in futex(2) for
//!   IoUringFutex; a thread-parking waker for Intrusive).
//!
//! The `IoUringFutex (waker path)` rows come from a child run of this binary
//! with `COMPIO_SYNC_FUTEX_DISABLE=1`. Every configuration runs `REPEATS`
//! times, interleaved; the table gives the median of the per-run means and
//! the p50/p99 of all individual round trips. Each run asserts that every
//! round trip completed. An argument keeps only the rows whose name contains
//! it (e.g. `-- "one runtime"`).

#[cfg(target_os = "linux")]
fn main() {
    bench::main()
}

#[cfg(not(target_os = "linux"))]
fn main() {}

#[cfg(target_os = "linux")]
mod bench {
    use std::{
        future::poll_fn,
        io,
        pin::pin,
        sync::{
            Arc,
            atomic::{AtomicBool, AtomicU32, Ordering::*, fence},
        },
        task::{Context, Poll, Wake, Waker},
        thread,
        time::{Duration, Instant},
    };

    use compio_driver::{IourOpCode, OpEntry};
    use compio_sync::backend::{
        Cancelled, Intrusive, IoUringFutex, ThreadSafe, WaitPath, WaitQueue,
    };

    const REPEATS: usize = 5;
    const LOCAL_ROUNDS: usize = 20_000;
    const CROSS_ROUNDS: usize = 2_000;

    /// A one-shot flag with a wait queue: the shape of `Notify`.
    struct Signal<Q> {
        flag: AtomicBool,
        queue: Q,
    }

    impl<Q: ThreadSafe> Signal<Q> {
        fn new() -> Self {
            Self {
                flag: AtomicBool::new(false),
                queue: Q::new(),
            }
        }

        fn set(&self) {
            self.flag.store(true, Release);
            fence(SeqCst);
            self.queue.notify_one(0);
        }

        fn take(&self) -> bool {
            self.flag.swap(false, Acquire)
        }

        async fn wait(&self) {
            while !self.take() {
                let w = pin!(Q::new_waiter());
                let w = w.as_ref();
                let done = poll_fn(|cx| {
                    // SAFETY: `w` is idle, pinned for this iteration and made
                    // idle (Ready or cancel) before the iteration ends.
                    unsafe { self.queue.register(w, cx.waker(), 0) };
                    fence(SeqCst);
                    Poll::Ready(self.take())
                })
                .await;
                if done {
                    // SAFETY: `w` is used with this queue only.
                    if let Cancelled::Notified(_) = unsafe { self.queue.cancel(w) } {
                        self.queue.notify_one(0);
                    }
                    return;
                }
                // SAFETY: registered above, not yet observed Ready.
                poll_fn(|cx| unsafe { self.queue.poll_wait(w, cx) }).await;
            }
        }
    }

    /// Blocking waits: futex(2) for IoUringFutex, a parking waker otherwise.
    trait BlockingWait {
        fn wait_blocking(&self);
    }

    impl BlockingWait for Signal<IoUringFutex> {
        fn wait_blocking(&self) {
            while !self.take() {
                let w = pin!(IoUringFutex::new_waiter());
                let w = w.as_ref();
                // SAFETY: as in `Signal::wait`.
                unsafe { self.queue.register(w, Waker::noop(), 0) };
                fence(SeqCst);
                if self.take() {
                    // SAFETY: used with this queue only.
                    if let Cancelled::Notified(_) = unsafe { self.queue.cancel(w) } {
                        self.queue.notify_one(0);
                    }
                    return;
                }
                // SAFETY: registered above, not yet observed Ready.
                unsafe { self.queue.wait_blocking(w) };
            }
        }
    }

    struct Unpark(thread::Thread);

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    impl BlockingWait for Signal<Intrusive> {
        fn wait_blocking(&self) {
            let waker = Waker::from(Arc::new(Unpark(thread::current())));
            let mut cx = Context::from_waker(&waker);
            let mut fut = pin!(self.wait());
            while fut.as_mut().poll(&mut cx).is_pending() {
                thread::park();
            }
        }
    }

    /// Per-run result: mean ns per round trip, and every round trip's ns.
    struct Run {
        mean: f64,
        samples: Vec<u64>,
    }

    fn run_from(samples: Vec<u64>, total: Duration) -> Run {
        Run {
            mean: total.as_nanos() as f64 / samples.len() as f64,
            samples,
        }
    }

    /// Two tasks on one compio runtime.
    fn one_runtime<Q: ThreadSafe>() -> Run {
        compio::runtime::Runtime::new().unwrap().block_on(async {
            let (a, b) = (Arc::new(Signal::<Q>::new()), Arc::new(Signal::<Q>::new()));
            let echo = compio::runtime::spawn({
                let (a, b) = (a.clone(), b.clone());
                async move {
                    for _ in 0..LOCAL_ROUNDS {
                        b.wait().await;
                        a.set();
                    }
                }
            });
            let mut samples = Vec::with_capacity(LOCAL_ROUNDS);
            let start = Instant::now();
            for _ in 0..LOCAL_ROUNDS {
                let t = Instant::now();
                b.set();
                a.wait().await;
                samples.push(t.elapsed().as_nanos() as u64);
            }
            let total = start.elapsed();
            echo.await.unwrap();
            assert_eq!(samples.len(), LOCAL_ROUNDS);
            run_from(samples, total)
        })
    }

    /// Two tasks on two runtimes (two threads).
    fn two_runtimes<Q: ThreadSafe>() -> Run {
        let (a, b) = (Arc::new(Signal::<Q>::new()), Arc::new(Signal::<Q>::new()));
        let echo = thread::spawn({
            let (a, b) = (a.clone(), b.clone());
            move || {
                compio::runtime::Runtime::new().unwrap().block_on(async {
                    for _ in 0..CROSS_ROUNDS {
                        b.wait().await;
                        a.set();
                    }
                })
            }
        });
        let run = compio::runtime::Runtime::new().unwrap().block_on(async {
            let mut samples = Vec::with_capacity(CROSS_ROUNDS);
            let start = Instant::now();
            for _ in 0..CROSS_ROUNDS {
                let t = Instant::now();
                b.set();
                a.wait().await;
                samples.push(t.elapsed().as_nanos() as u64);
            }
            run_from(samples, start.elapsed())
        });
        echo.join().unwrap();
        run
    }

    /// Two plain threads, blocking waits.
    fn two_threads<Q: ThreadSafe>() -> Run
    where
        Signal<Q>: BlockingWait,
    {
        let (a, b) = (Arc::new(Signal::<Q>::new()), Arc::new(Signal::<Q>::new()));
        let echo = thread::spawn({
            let (a, b) = (a.clone(), b.clone());
            move || {
                for _ in 0..CROSS_ROUNDS {
                    b.wait_blocking();
                    a.set();
                }
            }
        });
        let mut samples = Vec::with_capacity(CROSS_ROUNDS);
        let start = Instant::now();
        for _ in 0..CROSS_ROUNDS {
            let t = Instant::now();
            b.set();
            a.wait_blocking();
            samples.push(t.elapsed().as_nanos() as u64);
        }
        let run = run_from(samples, start.elapsed());
        echo.join().unwrap();
        run
    }

    const FUTEX2_SIZE_U32: u32 = 0x02;
    const FUTEX2_PRIVATE: u32 = 128;

    /// A bare io_uring FUTEX_WAIT (any bit) on a word that outlives the op.
    struct RawWait {
        word: Arc<AtomicU32>,
        expected: u32,
        flags: u32,
    }

    // SAFETY: the entry points into `word`, which the op owns until compio
    // drops it after the completion.
    unsafe impl IourOpCode for RawWait {
        type Control = ();

        fn create_entry(&mut self, _: &mut ()) -> OpEntry {
            io_uring::opcode::FutexWait::new(
                self.word.as_ptr(),
                u64::from(self.expected),
                u64::from(u32::MAX),
                self.flags,
            )
            .build()
            .into()
        }
    }

    fn raw_wake(word: &AtomicU32, private: bool) -> io::Result<()> {
        let op = libc::FUTEX_WAKE | if private { libc::FUTEX_PRIVATE_FLAG } else { 0 };
        // SAFETY: `word` is live and aligned.
        let r = unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), op, 1) };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Waits until `word` moves past `seen` through bare io_uring ops.
    async fn raw_wait(word: &Arc<AtomicU32>, seen: &mut u32, flags: u32) {
        loop {
            let now = word.load(Acquire);
            if now != *seen {
                *seen = now;
                return;
            }
            let op = RawWait {
                word: word.clone(),
                expected: now,
                flags,
            };
            let res = compio::runtime::submit(op).await.0;
            match res {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {}
                Err(e) => panic!("FUTEX_WAIT failed: {e}"),
            }
        }
    }

    /// Two tasks on one runtime, bare FUTEX_WAIT ops and futex(2) wakes.
    fn raw_one_runtime(private: bool) -> Run {
        let flags = FUTEX2_SIZE_U32 | if private { FUTEX2_PRIVATE } else { 0 };
        compio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let (a, b) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
                let echo = compio::runtime::spawn({
                    let (a, b) = (a.clone(), b.clone());
                    async move {
                        let mut seen = 0;
                        for _ in 0..LOCAL_ROUNDS {
                            raw_wait(&b, &mut seen, flags).await;
                            a.fetch_add(1, Release);
                            raw_wake(&a, private).unwrap();
                        }
                    }
                });
                let mut seen = 0;
                let mut samples = Vec::with_capacity(LOCAL_ROUNDS);
                let start = Instant::now();
                for _ in 0..LOCAL_ROUNDS {
                    let t = Instant::now();
                    b.fetch_add(1, Release);
                    raw_wake(&b, private).unwrap();
                    raw_wait(&a, &mut seen, flags).await;
                    samples.push(t.elapsed().as_nanos() as u64);
                }
                let total = start.elapsed();
                echo.await.unwrap();
                assert_eq!(a.load(SeqCst) as usize, LOCAL_ROUNDS);
                run_from(samples, total)
            })
    }

    /// Checks that the IoUringFutex rows take the path they claim.
    fn check_path(expect: WaitPath) {
        compio::runtime::Runtime::new().unwrap().block_on(async {
            let q = IoUringFutex::new();
            let w = pin!(IoUringFutex::new_waiter());
            let w = w.as_ref();
            poll_fn(|cx| {
                // SAFETY: idle, pinned, cancelled below.
                unsafe { q.register(w, cx.waker(), 0) };
                Poll::Ready(())
            })
            .await;
            assert_eq!(w.path(), Some(expect), "IoUringFutex took the wrong path");
            // SAFETY: used with `q` only.
            assert_eq!(unsafe { q.cancel(w) }, Cancelled::Removed { tag: 0 });
        });
    }

    type Bench = (&'static str, fn() -> Run);

    fn report(rows: &[Bench]) {
        // An optional argument keeps only the rows whose name contains it.
        let filter = std::env::args().nth(1).unwrap_or_default();
        let rows: Vec<Bench> = rows
            .iter()
            .copied()
            .filter(|(n, _)| n.contains(&filter))
            .collect();
        let rows = &rows[..];
        let mut runs: Vec<Vec<Run>> = rows.iter().map(|_| Vec::new()).collect();
        for _ in 0..REPEATS {
            for (i, (_, f)) in rows.iter().enumerate() {
                runs[i].push(f());
            }
        }
        for ((name, _), runs) in rows.iter().zip(runs) {
            let mut means: Vec<f64> = runs.iter().map(|r| r.mean).collect();
            means.sort_by(f64::total_cmp);
            let mut all: Vec<u64> = runs.into_iter().flat_map(|r| r.samples).collect();
            all.sort_unstable();
            let pct = |p: f64| all[((all.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
            println!(
                "| {name} | {:.2} | {:.2} | {:.2} |",
                means[REPEATS / 2] / 1000.0,
                pct(0.50),
                pct(0.99)
            );
        }
    }

    pub fn main() {
        let child = std::env::var_os(IoUringFutex::DISABLE_ENV).is_some();
        if child {
            check_path(WaitPath::Waker);
            report(&[
                (
                    "one runtime: IoUringFutex (waker path)",
                    one_runtime::<IoUringFutex>,
                ),
                (
                    "two runtimes: IoUringFutex (waker path)",
                    two_runtimes::<IoUringFutex>,
                ),
            ]);
            return;
        }
        check_path(WaitPath::IoUring);
        println!("| round trip | mean µs (median of {REPEATS} runs) | p50 µs | p99 µs |");
        println!("|---|---|---|---|");
        report(&[
            ("one runtime: Intrusive", one_runtime::<Intrusive>),
            (
                "one runtime: IoUringFutex (waker path after the first wake)",
                one_runtime::<IoUringFutex>,
            ),
            ("one runtime: raw FUTEX_WAIT, shared key", || {
                raw_one_runtime(false)
            }),
            ("one runtime: raw FUTEX_WAIT, private key", || {
                raw_one_runtime(true)
            }),
            ("two runtimes: Intrusive", two_runtimes::<Intrusive>),
            (
                "two runtimes: IoUringFutex (io_uring path)",
                two_runtimes::<IoUringFutex>,
            ),
            ("two threads: Intrusive (park)", two_threads::<Intrusive>),
            (
                "two threads: IoUringFutex (futex(2))",
                two_threads::<IoUringFutex>,
            ),
        ]);
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .env(IoUringFutex::DISABLE_ENV, "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}
