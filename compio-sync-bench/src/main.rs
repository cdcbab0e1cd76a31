//! The comparison binary: compio-sync's `Semaphore`, `Notify`, `Mutex` and
//! `Condvar` on every wait-queue backend (the Semaphore and Mutex under both
//! fairness policies), against the same primitives of tokio, async-lock,
//! event-listener, futures-intrusive (fair and unfair) and maitake-sync, all
//! driven on the compio runtime (one `compio::runtime::Runtime` per OS
//! thread).
//!
//! ```text
//! cargo run --release -p compio-sync-bench [-- --quick] [--json PATH] [--svg PATH]
//!     [--only NAME]... [--scenario ID]...
//! ```
//!
//! # Scenarios
//!
//! Semaphore (`compio_sync::Semaphore` vs tokio, async-lock,
//! futures-intrusive, maitake-sync):
//!
//! - **S1** uncontended `try_acquire` + drop, one task.
//! - **S2** uncontended `acquire().await` + drop, one task.
//! - **S3** one runtime, 1 permit, 64 tasks each looping {acquire, yield,
//!   release}; the yield goes through the executor, so the permit is held
//!   across a scheduling point and the other tasks queue up.
//! - **S4** T = 2 and 4 threads, each with its own runtime and 16 tasks running
//!   the S3 loop on one shared `Arc` semaphore of 1 and of T permits. Besides
//!   ns/op it reports how long single acquires waited (time around the
//!   `acquire().await`): the median over repeats of each run's p50, p99 and
//!   p99.9, and the max over all repeats. A long max under a barging policy is a starving
//!   waiter.
//! - **S7** the S3 workload under a counting global allocator: heap allocations
//!   per acquire, taken as the marginal count between a run and one three times
//!   as long (so spawning the tasks cancels out). "waited" is the share of
//!   acquires that returned `Pending` at least once, i.e. really contended.
//!
//! Notify (`compio_sync::Notify` vs `tokio::sync::Notify`,
//! `maitake_sync::WaitQueue`, whose `wake` stores one wakeup like
//! `notify_one`, and `event_listener::Event` plus an atomic flag, in the
//! listen-then-check pattern):
//!
//! - **S5** ping-pong between two threads, each with its own runtime and one
//!   task: A notifies B, B notifies A, N round trips. Reports the mean round
//!   trip and the p50/p99 of single round trips (medians over repeats). Once
//!   a thread sleeps, this is dominated by the OS's cross-thread wake, the
//!   same for every mechanism. On a loaded machine a few preemption stalls
//!   (milliseconds) move the mean, and so `x tokio`, by tens of percent
//!   between runs; the p50 column is the stable comparison.
//! - **S5b** the same ping-pong between two tasks on one runtime: the
//!   primitive's own overhead.
//!
//! Mutex (`compio_sync::Mutex` vs tokio, async-lock, futures-intrusive fair
//! and unfair, maitake-sync):
//!
//! - **S6** T = 2 and 4 threads x 16 tasks on one shared `Arc` mutex, each task
//!   looping {lock, increment, unlock}, every 4th critical section yielding
//!   to the executor while locked. ns per lock/unlock.
//!
//! Condvar (`compio_sync::Mutex<VecDeque>` + `compio_sync::Condvar`; tokio has
//! no condition variable, so its reference row is `tokio::sync::Mutex` +
//! `tokio::sync::Notify`, and S8's ratios are taken against that row):
//!
//! - **S8** producer/consumer between two threads, each with its own runtime:
//!   the producer pushes M items under the lock and calls `notify_one`, the
//!   consumer waits with `wait_while(guard, |q| q.is_empty())` and then
//!   drains the queue under the same lock (one pop per lock made the tokio
//!   row bimodal: see `condvar_queue`). ns per item; "waited" is the share of
//!   the consumer's rounds that returned `Pending` at least once, and the
//!   JSON gives the items taken per round. The mutex's fairness policy
//!   decides this one: tokio's strict-FIFO Mutex falls into a lock convoy
//!   (two cross-thread wakes per item), as compio-sync's `.strict_fifo()`
//!   would; compio-sync's rows use its default, barging, policy.
//!
//! # Method
//!
//! Within each scenario every repeat runs every implementation once, round
//! robin, starting one implementation later each repeat, so drift on a noisy
//! machine hits all of them alike; results are medians over repeats. Every run
//! asserts that its work was done: every critical section counted, never more
//! holders inside than permits, all tasks and threads joined, and all permits
//! back at the end; the S6 counter equals T x 16 x K exactly; every S5 wake-up
//! answers the other side's notification of the same round; S8 consumes
//! exactly 0..M, in order, and leaves the queue empty. A broken implementation
//! panics rather than looking fast. A run that does not finish within a
//! deadline (20 s in quick mode, 60 s in full) is a hang (a lost wakeup or a
//! deadlock): its row says HANG, with how far it got (e.g. which side of a
//! ping-pong was left waiting), in the table, the JSON and the SVG; that
//! implementation is skipped for the rest of the scenario, the benchmark goes
//! on, and the process exits with status 3 at the end.
//!
//! # Reading the table
//!
//! `x tokio` is the time divided by the tokio row's time in the same scenario
//! of the same run (S8: the `tokio Mutex+Notify` row): below 1 is faster than
//! tokio. Absolute numbers on a shared 2-core VM move by tens of percent
//! between runs; compare ratios within one run. tokio and maitake-sync are
//! strict FIFO (every release hands the permit or lock to the oldest waiter,
//! which across threads costs a cross-thread wake per operation); async-lock
//! and futures-intrusive "unfair" barge; compio-sync's default barges with a
//! starvation bound, and its `fifo` rows are the `.strict_fifo()` policy.
//!
//! The wait columns of S4 are the starvation figure. Barging shows as a tiny
//! p50 and a long tail; strict FIFO as a p50 of roughly (tasks x hold time).
//! `compio_sync::STARVATION_BOUND` counts from the first time a waiter is
//! woken and loses the race, so it bounds that waiter's last stretch, not
//! its whole wait. On a loaded machine p99.9 and max also include OS
//! preemption of whole threads (milliseconds), for every implementation.

mod alloc;
mod condvar_queue;
mod impls;
mod mutex_counter;
mod ping_pong;
mod report;
mod scenarios;

use std::{
    panic,
    path::PathBuf,
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use report::Row;
use scenarios::{Sample, Scenario, Sizes};
use serde_json::json;

#[global_allocator]
static GLOBAL: alloc::CountingAlloc = alloc::CountingAlloc;

struct Options {
    quick: bool,
    json: PathBuf,
    svg: PathBuf,
    only: Vec<String>,
    scenarios: Vec<String>,
}

fn usage() -> ! {
    eprintln!(
        "usage: compio-sync-bench [--quick] [--json PATH] [--svg PATH] [--only NAME]... [--scenario ID]...\n\
         --only keeps implementations whose name contains NAME (the tokio baselines are always kept)\n\
         --scenario keeps scenarios whose id starts with ID (S1, S2, S3, S4, S4_t2, S4_t4_p1, S5, S5b, S6, S6_t2, S7, S8)"
    );
    std::process::exit(2)
}

fn parse_args() -> Options {
    let target = target_dir();
    let mut options = Options {
        quick: false,
        json: target.join("bench-results.json"),
        svg: target.join("bench-results.svg"),
        only: Vec::new(),
        scenarios: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--json" => options.json = args.next().unwrap_or_else(|| usage()).into(),
            "--svg" => options.svg = args.next().unwrap_or_else(|| usage()).into(),
            "--only" => options.only.push(args.next().unwrap_or_else(|| usage())),
            "--scenario" => options
                .scenarios
                .push(args.next().unwrap_or_else(|| usage())),
            // `cargo bench`-style harness flags are ignored.
            "--bench" => {}
            _ => usage(),
        }
    }
    options
}

/// `$CARGO_TARGET_DIR`, else the workspace's `target/`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    )
}

/// How one run ended (a failed check panics instead).
enum Outcome {
    Done(Sample),
    /// Missed its deadline; what it reported about its progress.
    Hung(String),
}

/// Runs one scenario of one implementation on a thread of its own and waits
/// at most `limit` for it. A run that does not finish in time (a lost
/// wakeup, a deadlock) is reported as hung, with its progress, and its
/// threads are left behind, asleep: the rest of the benchmark goes on, and
/// the process exits with status 3 at the end. A panic (a failed check) is
/// resumed here, as before.
fn run_guarded(imp: &impls::Impl, scenario: Scenario, sizes: Sizes, limit: Duration) -> Outcome {
    let (tx, rx) = mpsc::channel();
    let run = imp.run;
    thread::Builder::new()
        .name("bench-run".into())
        .spawn(move || {
            let _ = tx.send(panic::catch_unwind(move || run(scenario, &sizes)));
        })
        .expect("cannot spawn a benchmark thread");
    match rx.recv_timeout(limit) {
        Ok(Ok(sample)) => Outcome::Done(sample),
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let progress = scenarios::progress().unwrap_or_default();
            eprintln!(
                "\nHANG: `{} / {}` has run for {limit:?}; probable lost wakeup or deadlock. \
                 Left behind; skipping it for the rest of this scenario.\nHANG: progress: {progress}",
                scenario.describe(),
                imp.name
            );
            Outcome::Hung(progress)
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            unreachable!("the benchmark thread always sends its result")
        }
    }
}

fn main() {
    let options = parse_args();
    let quick = options.quick;
    let reps = if quick { 7 } else { 11 };
    let sizes = if quick {
        Sizes {
            uncontended_iters: 1_000_000,
            s3_iters_per_task: 1_000,
            s4_ops: 32_000,
            s7_iters_per_task: 100,
            s5_round_trips: 2_000,
            s5b_round_trips: 20_000,
            s6_ops: 16_000,
            s8_items: 30_000,
        }
    } else {
        Sizes {
            uncontended_iters: 3_000_000,
            s3_iters_per_task: 4_000,
            s4_ops: 96_000,
            s7_iters_per_task: 300,
            s5_round_trips: 3_000,
            s5b_round_trips: 100_000,
            s6_ops: 64_000,
            s8_items: 150_000,
        }
    };
    let mut scenarios = vec![Scenario::S1, Scenario::S2, Scenario::S3];
    for threads in [2, 4] {
        for permits in [1, threads] {
            scenarios.push(Scenario::S4 { threads, permits });
        }
    }
    scenarios.push(Scenario::S5);
    scenarios.push(Scenario::S5b);
    for threads in [2, 4] {
        scenarios.push(Scenario::S6 { threads });
    }
    scenarios.push(Scenario::S7);
    scenarios.push(Scenario::S8);
    if !options.scenarios.is_empty() {
        scenarios.retain(|s| {
            options
                .scenarios
                .iter()
                .any(|id| s.id().starts_with(id.as_str()))
        });
    }

    let impls: Vec<impls::Impl> = impls::registry()
        .into_iter()
        .filter(|i| {
            i.name == impls::baseline(i.family)
                || options.only.is_empty()
                || options.only.iter().any(|o| i.name.contains(o.as_str()))
        })
        .collect();

    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "compio-sync-bench: {} mode, {cores} cores, compio {} (compio-runtime {}), {reps} repeats, medians",
        if quick { "quick" } else { "full" },
        env!("BENCH_COMPIO_VERSION"),
        env!("BENCH_COMPIO_RUNTIME_VERSION"),
    );
    println!(
        "sizes: S1/S2 {} iters; S3 {} tasks x {}; S4 {} acquires over T x {} tasks; S7 {} tasks x {} and x3 that. \
         futures-intrusive: fair and unfair; maitake-sync: its default (spinlock) Semaphore. \
         compio-sync default policy: barging, STARVATION_BOUND {:?}.\n       \
         S5 {} round trips; S5b {} round trips; S6 {} lock/unlock over T x {} tasks; S8 {} items.",
        sizes.uncontended_iters,
        scenarios::S3_TASKS,
        sizes.s3_iters_per_task,
        sizes.s4_ops,
        scenarios::S4_TASKS_PER_THREAD,
        scenarios::S3_TASKS,
        sizes.s7_iters_per_task,
        compio_sync::STARVATION_BOUND,
        sizes.s5_round_trips,
        sizes.s5b_round_trips,
        sizes.s6_ops,
        scenarios::S4_TASKS_PER_THREAD,
        sizes.s8_items,
    );
    // A run takes well under a second on these machines; the limit only
    // has to tell a hang from a slow run.
    let limit = Duration::from_secs(if quick { 20 } else { 60 });
    let mut hangs = Vec::new();

    let started = Instant::now();
    let mut rows = Vec::new();
    for &scenario in &scenarios {
        let scenario_started = Instant::now();
        println!("\n{}", scenario.describe());
        println!("{}", report::table_header(scenario));
        let impls: Vec<&impls::Impl> = impls
            .iter()
            .filter(|i| i.family == scenario.family())
            .collect();
        let n = impls.len();
        let mut samples = vec![Vec::with_capacity(reps); n];
        let mut hung: Vec<Option<String>> = vec![None; n];
        // S7 counts allocations, which do not need many repeats.
        let scenario_reps = if scenario == Scenario::S7 {
            reps.min(3)
        } else {
            reps
        };
        // One discarded warm-up pass for the cheap single-runtime scenarios.
        let warmup = matches!(
            scenario,
            Scenario::S1 | Scenario::S2 | Scenario::S3 | Scenario::S5b
        );
        for rep in 0..scenario_reps + usize::from(warmup) {
            for k in 0..n {
                let i = (k + rep) % n;
                let imp = impls[i];
                if hung[i].is_some() {
                    continue;
                }
                match run_guarded(imp, scenario, sizes, limit) {
                    Outcome::Done(sample) => {
                        if !(warmup && rep == 0) {
                            samples[i].push(sample);
                        }
                    }
                    Outcome::Hung(progress) => {
                        hangs.push(format!("{} / {}: {progress}", scenario.id(), imp.name));
                        hung[i] = Some(progress);
                    }
                }
            }
        }
        let mut scenario_rows: Vec<Row> = impls
            .iter()
            .zip(&samples)
            .zip(hung)
            .map(|((imp, s), hung)| match hung {
                None => Row::aggregate(scenario, imp.name, imp.ours, s),
                Some(progress) => Row::hung(scenario, imp.name, imp.ours, s.len(), progress),
            })
            .collect();
        report::set_ratios(&mut scenario_rows, impls::baseline(scenario.family()));
        for row in &scenario_rows {
            println!("{}", report::table_line(row));
        }
        println!(
            "  ({} took {:.1}s)",
            scenario.id(),
            scenario_started.elapsed().as_secs_f64()
        );
        rows.extend(scenario_rows);
    }
    let elapsed = started.elapsed();
    println!("\ntotal bench time: {:.1}s", elapsed.as_secs_f64());

    let meta = json!({
        "mode": if quick { "quick" } else { "full" },
        "cores": cores,
        "compio_version": env!("BENCH_COMPIO_VERSION"),
        "compio_runtime_version": env!("BENCH_COMPIO_RUNTIME_VERSION"),
        "repeats": reps,
        "baseline": impls::baseline(impls::Family::Semaphore),
        "baselines": {
            "semaphore": impls::baseline(impls::Family::Semaphore),
            "notify": impls::baseline(impls::Family::Notify),
            "mutex": impls::baseline(impls::Family::Mutex),
            "condvar": impls::baseline(impls::Family::Condvar),
        },
        "starvation_bound_us": compio_sync::STARVATION_BOUND.as_micros() as u64,
        "sizes": {
            "uncontended_iters": sizes.uncontended_iters,
            "s3_tasks": scenarios::S3_TASKS,
            "s3_iters_per_task": sizes.s3_iters_per_task,
            "s4_tasks_per_thread": scenarios::S4_TASKS_PER_THREAD,
            "s4_ops": sizes.s4_ops,
            "s7_iters_per_task": sizes.s7_iters_per_task,
            "s5_round_trips": sizes.s5_round_trips,
            "s5b_round_trips": sizes.s5b_round_trips,
            "s6_tasks_per_thread": scenarios::S4_TASKS_PER_THREAD,
            "s6_yield_every": scenarios::S6_YIELD_EVERY,
            "s6_ops": sizes.s6_ops,
            "s8_items": sizes.s8_items,
        },
        "seconds": elapsed.as_secs_f64(),
        "hung_runs": hangs,
    });
    write(
        &options.json,
        &serde_json::to_string_pretty(&report::json(meta, &rows)).unwrap(),
    );
    let title = format!(
        "compio-sync Semaphore, Notify, Mutex, Condvar vs peers, on compio {} ({cores} cores, {} mode)",
        env!("BENCH_COMPIO_VERSION"),
        if quick { "quick" } else { "full" }
    );
    write(&options.svg, &report::svg(&title, &scenarios, &rows));
    if !hangs.is_empty() {
        eprintln!("\n{} run(s) hung (lost wakeup or deadlock):", hangs.len());
        for hang in &hangs {
            eprintln!("  {hang}");
        }
        std::process::exit(3);
    }
}

fn write(path: &PathBuf, contents: &str) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(path, contents) {
        Ok(()) => println!("wrote {}", path.display()),
        Err(e) => {
            eprintln!("cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleeps(_: Scenario, _: &Sizes) -> Sample {
        thread::sleep(Duration::from_secs(3));
        Sample::default()
    }

    fn fails(_: Scenario, _: &Sizes) -> Sample {
        panic!("a check failed")
    }

    fn imp(run: fn(Scenario, &Sizes) -> Sample) -> impls::Impl {
        impls::Impl {
            name: "test",
            ours: false,
            family: impls::Family::Notify,
            run,
        }
    }

    const SIZES: Sizes = scenarios::tests::TINY;

    #[test]
    fn a_run_past_its_deadline_is_reported_as_hung() {
        let outcome = run_guarded(
            &imp(sleeps),
            Scenario::S5,
            SIZES,
            Duration::from_millis(100),
        );
        assert!(matches!(outcome, Outcome::Hung(_)));
    }

    #[test]
    #[should_panic(expected = "a check failed")]
    fn a_failed_check_still_panics() {
        run_guarded(&imp(fails), Scenario::S5, SIZES, Duration::from_secs(5));
    }
}
