//! Randomized soak with a stall watchdog (issue 8).
//!
//! Many OS threads, each running its own compio runtime with several tasks,
//! share one primitive and hammer it with random operations and random
//! cancellation, on every backend and under both fairness policies:
//!
//! * **Semaphore**: tasks loop `acquire_many(1 + rand % max)` (plain, owned,
//!   `try_`, raced against a yield-counting future so it is dropped after a
//!   random number of polls, or against a short compio timer), sometimes
//!   yield or sleep while holding, sometimes split the permit and release
//!   it in pieces. Checked all along: the permits held never exceed the
//!   semaphore's size and every permit has the size asked for. Checked after
//!   every round (all tasks joined): `available_permits()` is the initial
//!   count again (no permit lost or invented).
//! * **mpsc** (bounded): producers on several runtimes and one receiver,
//!   every operation raced at random against polls or a timer; every sent
//!   message arrives once, in its producer's order, and all capacity comes
//!   back (`tests/soak/mpsc.rs`).
//! * **RwLock**: random reads, writes, upgradable reads (upgraded, raced
//!   against cancellation, downgraded or dropped), write downgrades and
//!   `try_` variants, every wait raced at random. Checked: a writer is
//!   alone, one upgradable reader at most, no torn read; after every round
//!   the lock is free and holds exactly the completed writes
//!   (`tests/soak/rwlock.rs`).
//! * **watch, broadcast**: a sender thread sends numbered values in random
//!   bursts to receiver tasks on several runtimes whose waits are raced at
//!   random; every broadcast receiver accounts for every value (received in
//!   order or reported lagged), every watch receiver sees the values grow
//!   and ends on the last one (`tests/soak/fanout.rs`).
//! * **Notify**: a producer thread gives tokens, each with `notify_one` or
//!   `notify_waiters`, to consumers that look, `enable` a `Notified`, look
//!   again and wait (raced at random); half the time it then waits for every
//!   token to be taken with no further notification, so a lost wake-up
//!   stalls the round (`tests/soak/notify.rs`).
//! * **oneshot**: pairs of tasks on two runtimes hand each other one half
//!   of many channels and play them at random (send, drop, wait for
//!   `closed`; await raced, `try_recv`, close then look, drop); the two
//!   halves' outcomes must agree and every value is dropped exactly once
//!   (`tests/soak/oneshot.rs`).
//! * **Mutex + Condvar**: a bounded buffer (two condvars, not-empty and
//!   not-full) with producers and consumers whose `lock`/`wait_while` are
//!   cancelled at random. Checked: mutual exclusion, the buffer never
//!   exceeds its capacity, and produced = consumed + left over.
//!
//! A watchdog thread watches the round's progress counter (successful
//! acquisitions, never cancellations). If it does not move for
//! `SOAK_STALL_SECS` (10 s) it prints the primitive's `Debug`, the tasks'
//! phases and the seed to stderr and exits the process with status 1, so a
//! runtime thread stuck forever cannot keep the test alive.
//!
//! Environment:
//! * `SOAK_SECS`: total wall time over all configurations (default 8).
//! * `SOAK_OPS`: instead of time, successful operations per configuration.
//! * `SOAK_SEED`: replay a run (the seed is printed at the start).
//! * `SOAK_FILTER`: run only the configurations whose name contains it,
//!   e.g. `strict/Intrusive` or `semaphore/`.
//! * `SOAK_STALL_SECS`: the watchdog's no-progress limit (default 10).
//! * `SOAK_STALL_HOLD`: on a stall, print the dump and then hold the process
//!   (stalled threads and all) for a debugger instead of exiting.
//!
//! Short run (part of `cargo test --workspace`):
//! `cargo test --release -p compio-sync --test soak -- --nocapture`.
//! Long run: `SOAK_SECS=600 cargo test --release -p compio-sync --test soak -- --nocapture`.
//! To hunt for hangs, run two or three such processes at once.
#![cfg(not(loom))]

#[path = "soak/buffer.rs"]
mod buffer;
mod common;
#[path = "soak/fanout.rs"]
mod fanout;
#[path = "soak/mpsc.rs"]
mod mpsc;
#[path = "soak/notify.rs"]
mod notify;
#[path = "soak/oneshot.rs"]
mod oneshot;
#[path = "soak/rwlock.rs"]
mod rwlock;
#[path = "soak/semaphore.rs"]
mod semaphore;

use buffer::soak_buffer;
use fanout::{soak_broadcast, soak_watch};
use mpsc::soak_mpsc;
use notify::soak_notify;
use oneshot::soak_oneshot;
use rwlock::soak_rwlock;
use semaphore::soak_semaphore;

use std::{
    fmt::Debug,
    future::Future,
    io::Write,
    pin::pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering::SeqCst},
    },
    task::Poll,
    thread,
    time::{Duration, Instant},
};

use common::yield_now;
use compio_sync::{
    Condvar, Mutex, Semaphore,
    backend::{Intrusive, MutexVecDeque, ParkingLotHybrid, SegQueue, ThreadSafe},
};
use futures::future::{Either, join_all, select};

// ---------------------------------------------------------------- settings

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    let value = value.trim();
    let parsed = if let Some(hex) = value.strip_prefix("0x") {
        u64::from_str_radix(hex, 16)
    } else {
        value.parse()
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={value:?} is not a number")))
}

#[derive(Clone, Copy)]
enum Budget {
    /// Wall time for one configuration.
    Time(Duration),
    /// Successful operations for one configuration.
    Ops(u64),
}

struct Settings {
    seed: u64,
    budget: Budget,
    stall: Duration,
}

// -------------------------------------------------------------- randomness

/// xorshift64*, seeded through splitmix64: small, fast, replayable.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(splitmix(seed) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-ish in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// True with probability `1 / n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for one task of one round of one configuration.
fn derive(seed: u64, parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(seed, |acc, &p| splitmix(acc ^ splitmix(p.wrapping_add(1))))
}

// ------------------------------------------------------- shared round state

/// What a task is doing right now (for the stall dump).
const PHASES: [&str; 9] = [
    "idle",
    "acquire (plain)",
    "acquire (owned)",
    "acquire (raced vs polls)",
    "acquire (raced vs timer)",
    "holding",
    "lock / wait (plain)",
    "lock / wait (raced vs polls)",
    "lock / wait (raced vs timer)",
];
const IDLE: u8 = 0;
const ACQ_PLAIN: u8 = 1;
const ACQ_OWNED: u8 = 2;
const ACQ_POLLS: u8 = 3;
const ACQ_TIMER: u8 = 4;
const HOLDING: u8 = 5;
const WAIT_PLAIN: u8 = 6;
const WAIT_POLLS: u8 = 7;
const WAIT_TIMER: u8 = 8;

struct TaskStat {
    phase: AtomicU8,
    ops: AtomicU64,
}

/// Counters shared by every task of one round, read by the watchdog.
struct Round {
    stop: AtomicBool,
    /// Successful operations (acquisitions, produce/consume): the watchdog's
    /// progress signal. Cancellations do not count.
    progress: AtomicU64,
    cancelled: AtomicU64,
    tasks: Vec<TaskStat>,
}

impl Round {
    fn new(tasks: usize) -> Self {
        Self {
            stop: AtomicBool::new(false),
            progress: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            tasks: (0..tasks)
                .map(|_| TaskStat {
                    phase: AtomicU8::new(IDLE),
                    ops: AtomicU64::new(0),
                })
                .collect(),
        }
    }
    fn set(&self, task: usize, phase: u8) {
        self.tasks[task].phase.store(phase, SeqCst);
    }
    fn done(&self, task: usize) {
        self.tasks[task].ops.fetch_add(1, SeqCst);
        self.progress.fetch_add(1, SeqCst);
    }
    fn stopped(&self) -> bool {
        self.stop.load(SeqCst)
    }
    fn phases(&self) -> String {
        let mut counts = [0usize; PHASES.len()];
        for t in &self.tasks {
            counts[usize::from(t.phase.load(SeqCst))] += 1;
        }
        let mut out = String::new();
        for (name, n) in PHASES.iter().zip(counts) {
            if n > 0 {
                out += &format!("  {n:>3} task(s) in {name}\n");
            }
        }
        let per_task: Vec<String> = self
            .tasks
            .iter()
            .map(|t| format!("{}:{}", t.phase.load(SeqCst), t.ops.load(SeqCst)))
            .collect();
        out += &format!("  per task (phase:ops): {}\n", per_task.join(" "));
        out
    }
}

/// Watches `round.progress`; on a stall, dumps `dump()` and the phases to
/// stderr (bypassing the test harness's capture) and exits the process.
fn watchdog(
    round: Arc<Round>,
    finished: Arc<AtomicBool>,
    stall: Duration,
    context: String,
    dump: Box<dyn Fn() -> String + Send>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let tick = Duration::from_millis(50).min(stall);
        let mut last = round.progress.load(SeqCst);
        let mut since = Instant::now();
        while !finished.load(SeqCst) {
            thread::sleep(tick);
            let now = round.progress.load(SeqCst);
            if now != last {
                last = now;
                since = Instant::now();
            } else if since.elapsed() >= stall {
                let msg = format!(
                    "\n!!! SOAK STALL: no progress for {stall:?} in {context}\n\
                     !!! after {now} successful ops, {} cancellations this round\n\
                     !!! state: {}\n{}\
                     !!! replay: SOAK_SEED={:#x} (see the seed line above)\n",
                    round.cancelled.load(SeqCst),
                    dump(),
                    round.phases(),
                    settings_seed(),
                );
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(msg.as_bytes());
                if std::env::var_os("SOAK_STALL_HOLD").is_some() {
                    // Keep the stalled threads as they are, for a debugger
                    // (`gdb -p PID`, `thread apply all bt`).
                    let _ = writeln!(
                        err,
                        "!!! SOAK_STALL_HOLD: holding, pid {}",
                        std::process::id()
                    );
                    let _ = err.flush();
                    drop(err);
                    loop {
                        thread::park();
                    }
                }
                let _ = err.flush();
                std::process::exit(1);
            }
        }
    })
}

/// Runs one round of a task soak (Semaphore, RwLock): `threads` OS threads,
/// each a runtime running `tasks` tasks, task `me` made by `task(me, rng)`
/// with its own seeded `Rng`; stops them when the round's budget is spent,
/// joins them (a panic sets `stop` so that the others end their loops), then
/// stops the watchdog and re-raises the first panic, after printing the seed
/// that replays it.
#[allow(clippy::too_many_arguments)]
fn run_task_round<Fut: Future<Output = ()>>(
    threads: usize,
    tasks: usize,
    seed: u64,
    ids: [u64; 2],
    round: &Round,
    budget: Budget,
    finished: &AtomicBool,
    dog: thread::JoinHandle<()>,
    context: &str,
    task: impl Fn(usize, Rng) -> Fut + Clone + Send + 'static,
) {
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let task = task.clone();
            thread::spawn(move || {
                runtime().block_on(join_all((0..tasks).map(|k| {
                    let me = t * tasks + k;
                    task(me, Rng::new(derive(seed, &[ids[0], ids[1], me as u64])))
                })));
            })
        })
        .collect();
    stop_when_spent(round, budget);
    let mut end = RoundEnd::default();
    for w in workers {
        end.join(round, w);
    }
    end.finish(finished, dog, context, seed);
}

static SEED: AtomicU64 = AtomicU64::new(0);
fn settings_seed() -> u64 {
    SEED.load(SeqCst)
}

/// A compio runtime per thread; the cross-thread wake queue is made large so
/// that `wake()` from other runtimes never blocks on it.
fn runtime() -> compio::runtime::Runtime {
    compio::runtime::RuntimeBuilder::new()
        .sync_queue_size(4096)
        .build()
        .expect("compio runtime")
}

/// Ready after `n` self-woken polls: raced against an acquire, it drops the
/// acquire after a random number of polls (and re-polls it spuriously).
async fn polls(n: u64) {
    let mut left = n;
    std::future::poll_fn(|cx| {
        if left == 0 {
            Poll::Ready(())
        } else {
            left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// How an operation is raced.
enum Race {
    Plain,
    Polls(u64),
    Timer(Duration),
}

impl Race {
    fn pick(rng: &mut Rng) -> Self {
        match rng.below(8) {
            0 => Race::Polls(rng.below(4)),
            1 => Race::Timer(Duration::from_micros(1 + rng.below(200))),
            _ => Race::Plain,
        }
    }
    /// The stall dump's phase for an acquisition under this race.
    fn acquire_phase(&self) -> u8 {
        match self {
            Race::Plain => ACQ_PLAIN,
            Race::Polls(_) => ACQ_POLLS,
            Race::Timer(_) => ACQ_TIMER,
        }
    }
    /// The stall dump's phase for a wait (a lock, a condvar, a receive)
    /// under this race.
    fn wait_phase(&self) -> u8 {
        match self {
            Race::Plain => WAIT_PLAIN,
            Race::Polls(_) => WAIT_POLLS,
            Race::Timer(_) => WAIT_TIMER,
        }
    }
    /// Runs `fut` under this race: `None` if it was cancelled.
    async fn run<F: Future>(self, fut: F) -> Option<F::Output> {
        match self {
            Race::Plain => Some(fut.await),
            Race::Polls(n) => match select(pin!(fut), pin!(polls(n))).await {
                Either::Left((out, _)) => Some(out),
                Either::Right(_) => None,
            },
            Race::Timer(d) => compio::time::timeout(d, fut).await.ok(),
        }
    }
}

/// Something to do while holding: nothing, yield a few times, or sleep.
async fn hold(rng: &mut Rng) {
    match rng.below(8) {
        0..=3 => {}
        4..=6 => {
            for _ in 0..=rng.below(3) {
                yield_now().await;
            }
        }
        _ => compio::time::sleep(Duration::from_micros(rng.below(50))).await,
    }
}

// ------------------------------------------------------- round budgeting

/// The budget of the next round (rounds last at most 2 s or 2 M ops, so that
/// conservation is checked often), or `None` when the configuration is done.
fn next_round(budget: Budget, started: Instant, ops: u64, rounds: u64) -> Option<Budget> {
    match budget {
        Budget::Time(t) => {
            let left = t.saturating_sub(started.elapsed());
            (rounds == 0 || !left.is_zero()).then(|| Budget::Time(left.min(Duration::from_secs(2))))
        }
        Budget::Ops(n) => {
            (rounds == 0 || ops < n).then(|| Budget::Ops(n.saturating_sub(ops).clamp(1, 2_000_000)))
        }
    }
}

/// Blocks until the round has spent its budget, then tells its tasks to stop.
fn stop_when_spent(round: &Round, budget: Budget) {
    let start = Instant::now();
    loop {
        let spent = match budget {
            Budget::Time(t) => start.elapsed() >= t,
            Budget::Ops(n) => round.progress.load(SeqCst) >= n,
        };
        if spent {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    round.stop.store(true, SeqCst);
}

/// The end of a round: collects the first panic of the round's threads as
/// they are joined, then stops the watchdog and re-raises that panic after
/// printing the seed that replays it.
#[derive(Default)]
struct RoundEnd {
    panic: Option<Box<dyn std::any::Any + Send>>,
}

impl RoundEnd {
    /// Joins `thread`; if it panicked, keeps the panic (the first one wins)
    /// and sets `round.stop`, so that the others end their loops.
    fn join<T>(&mut self, round: &Round, thread: thread::JoinHandle<T>) -> Option<T> {
        match thread.join() {
            Ok(value) => Some(value),
            Err(panic) => {
                round.stop.store(true, SeqCst);
                self.panic.get_or_insert(panic);
                None
            }
        }
    }

    /// Whether a thread joined so far panicked.
    fn failed(&self) -> bool {
        self.panic.is_some()
    }

    /// Stops the watchdog (`finished`, `dog`), then re-raises the first
    /// panic, if any, after printing `context` and the seed.
    fn finish(self, finished: &AtomicBool, dog: thread::JoinHandle<()>, context: &str, seed: u64) {
        finished.store(true, SeqCst);
        dog.join().unwrap();
        if let Some(panic) = self.panic {
            eprintln!("soak: {context} failed; SOAK_SEED={seed:#x}");
            std::panic::resume_unwind(panic);
        }
    }
}

/// Runs `poke` every 5 ms on another thread while `f` runs: wakes the
/// workers still waiting once a round has stopped, however many of them
/// are yet to register.
fn poking_while<R>(mut poke: impl FnMut() + Send + 'static, f: impl FnOnce() -> R) -> R {
    let done = Arc::new(AtomicBool::new(false));
    let poker = thread::spawn({
        let done = done.clone();
        move || {
            while !done.load(SeqCst) {
                poke();
                thread::sleep(Duration::from_millis(5));
            }
        }
    });
    let result = f();
    done.store(true, SeqCst);
    poker.join().unwrap();
    result
}

// --------------------------------------------------------------- the driver

type Run = fn(&Settings, u64, &str, bool);

fn configurations() -> Vec<(String, Run, bool)> {
    // (backend, semaphore, mutex+condvar, mpsc)
    let mut backends: Vec<(&str, Run, Run, Run)> = vec![
        (
            "MutexVecDeque",
            soak_semaphore::<MutexVecDeque>,
            soak_buffer::<MutexVecDeque>,
            soak_mpsc::<MutexVecDeque>,
        ),
        (
            "ParkingLotHybrid",
            soak_semaphore::<ParkingLotHybrid>,
            soak_buffer::<ParkingLotHybrid>,
            soak_mpsc::<ParkingLotHybrid>,
        ),
        (
            "SegQueue",
            soak_semaphore::<SegQueue>,
            soak_buffer::<SegQueue>,
            soak_mpsc::<SegQueue>,
        ),
        (
            "Intrusive",
            soak_semaphore::<Intrusive>,
            soak_buffer::<Intrusive>,
            soak_mpsc::<Intrusive>,
        ),
    ];
    #[cfg(all(target_os = "linux", feature = "io-uring-futex"))]
    backends.push((
        "IoUringFutex",
        soak_semaphore::<compio_sync::backend::IoUringFutex>,
        soak_buffer::<compio_sync::backend::IoUringFutex>,
        soak_mpsc::<compio_sync::backend::IoUringFutex>,
    ));
    #[cfg(all(windows, feature = "iocp"))]
    backends.push((
        "Iocp",
        soak_semaphore::<compio_sync::backend::Iocp>,
        soak_buffer::<compio_sync::backend::Iocp>,
        soak_mpsc::<compio_sync::backend::Iocp>,
    ));
    let rwlocks: Vec<(&str, Run)> = vec![
        ("MutexVecDeque", soak_rwlock::<MutexVecDeque>),
        ("ParkingLotHybrid", soak_rwlock::<ParkingLotHybrid>),
        ("SegQueue", soak_rwlock::<SegQueue>),
        ("Intrusive", soak_rwlock::<Intrusive>),
        #[cfg(all(target_os = "linux", feature = "io-uring-futex"))]
        (
            "IoUringFutex",
            soak_rwlock::<compio_sync::backend::IoUringFutex>,
        ),
        #[cfg(all(windows, feature = "iocp"))]
        ("Iocp", soak_rwlock::<compio_sync::backend::Iocp>),
    ];
    // (backend, broadcast, watch, notify): the primitives with no policy.
    let unpolicied: Vec<(&str, Run, Run, Run)> = vec![
        (
            "MutexVecDeque",
            soak_broadcast::<MutexVecDeque>,
            soak_watch::<MutexVecDeque>,
            soak_notify::<MutexVecDeque>,
        ),
        (
            "ParkingLotHybrid",
            soak_broadcast::<ParkingLotHybrid>,
            soak_watch::<ParkingLotHybrid>,
            soak_notify::<ParkingLotHybrid>,
        ),
        (
            "SegQueue",
            soak_broadcast::<SegQueue>,
            soak_watch::<SegQueue>,
            soak_notify::<SegQueue>,
        ),
        (
            "Intrusive",
            soak_broadcast::<Intrusive>,
            soak_watch::<Intrusive>,
            soak_notify::<Intrusive>,
        ),
        #[cfg(all(target_os = "linux", feature = "io-uring-futex"))]
        (
            "IoUringFutex",
            soak_broadcast::<compio_sync::backend::IoUringFutex>,
            soak_watch::<compio_sync::backend::IoUringFutex>,
            soak_notify::<compio_sync::backend::IoUringFutex>,
        ),
        #[cfg(all(windows, feature = "iocp"))]
        (
            "Iocp",
            soak_broadcast::<compio_sync::backend::Iocp>,
            soak_watch::<compio_sync::backend::Iocp>,
            soak_notify::<compio_sync::backend::Iocp>,
        ),
    ];
    let mut out = Vec::new();
    for &(backend, broadcast, watch, notify) in &unpolicied {
        out.push((format!("notify/{backend}"), notify, false));
        out.push((format!("broadcast/{backend}"), broadcast, false));
        out.push((format!("watch/{backend}"), watch, false));
    }
    for strict in [false, true] {
        for &(backend, run) in &rwlocks {
            let policy = if strict { "strict" } else { "barging" };
            out.push((format!("rwlock/{policy}/{backend}"), run, strict));
        }
    }
    for (primitive, which) in [("semaphore", 0), ("mutex+condvar", 1)] {
        for strict in [false, true] {
            for &(backend, sem, buf, _) in &backends {
                let policy = if strict { "strict" } else { "barging" };
                let run = if which == 0 { sem } else { buf };
                out.push((format!("{primitive}/{policy}/{backend}"), run, strict));
            }
        }
    }
    // The channel's capacity is served in strict FIFO order (tokio's), its
    // only policy.
    for &(backend, _, _, mpsc) in &backends {
        out.push((format!("mpsc/bounded/{backend}"), mpsc, true));
    }
    // No wait queue, hence no backend.
    out.push(("oneshot".to_string(), soak_oneshot, false));
    out
}

#[test]
fn soak() {
    let seed = env_u64("SOAK_SEED").unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        splitmix(t.as_nanos() as u64 ^ u64::from(std::process::id()))
    });
    SEED.store(seed, SeqCst);
    let filter = std::env::var("SOAK_FILTER").unwrap_or_default();
    let configs: Vec<_> = configurations()
        .into_iter()
        .enumerate()
        .filter(|(_, (name, ..))| name.contains(&filter))
        .collect();
    assert!(
        !configs.is_empty(),
        "SOAK_FILTER={filter:?} matches nothing"
    );
    let budget = match env_u64("SOAK_OPS") {
        Some(ops) => Budget::Ops(ops),
        None => {
            let total = Duration::from_secs_f64(env_u64("SOAK_SECS").unwrap_or(8) as f64);
            Budget::Time(total / configs.len() as u32)
        }
    };
    let settings = Settings {
        seed,
        budget,
        stall: Duration::from_secs(env_u64("SOAK_STALL_SECS").unwrap_or(10)),
    };
    // Straight to stderr: visible even when the harness captures output and
    // the watchdog ends the process.
    let _ = writeln!(
        std::io::stderr(),
        "soak: SOAK_SEED={seed:#x}, {} configurations, {} each, stall limit {:?}",
        configs.len(),
        match budget {
            Budget::Time(t) => format!("{t:.2?}"),
            Budget::Ops(n) => format!("{n} ops"),
        },
        settings.stall
    );
    for (cfg, (name, run, strict)) in configs {
        run(&settings, cfg as u64, &name, strict);
    }
}
