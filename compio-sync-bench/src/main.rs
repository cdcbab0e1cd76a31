//! The comparison binary: compio-sync's `Semaphore`, `Notify`, `Mutex`,
//! `Condvar` and `RwLock` on every wait-queue backend (the Semaphore, Mutex
//! and RwLock under both fairness policies), against the same primitives of tokio, async-lock,
//! event-listener, futures-intrusive (fair and unfair) and maitake-sync, all
//! driven on the compio runtime (one `compio::runtime::Runtime` per OS
//! thread).
//!
//! ```text
//! cargo run --release -p compio-sync-bench [-- --quick] [--pin | --no-pin] [--md PATH]
//!     [--svg PATH] [--json PATH] [--only NAME]... [--scenario ID]...
//! ```
//!
//! `--help` lists the options with their defaults and examples (the
//! [`cli`] module parses them with `lexopt`); an unknown option, a stray
//! argument or a missing value is an error with exit status 2.
//!
//! It prints a table per scenario as it goes and, at the end, a one-screen
//! summary: per scenario, grouped by family, the fastest compio-sync row,
//! the fastest peer, their ratio and the goals of [`goals`] with pass or
//! FAIL. While it runs, a progress bar on stderr counts the runs of the
//! whole plan and names the scenario, the implementation and the repeat;
//! it is drawn only when stderr is a terminal, so logs get the tables alone.
//! It writes a dated Markdown report (default `BENCHMARKS.md` at the
//! workspace root: machine, versions, command, summary, goals, tables), its
//! chart (default `benchmarks.svg` next to it) and the JSON (default
//! `target/bench-results.json`). A run narrowed with `--only` or
//! `--scenario` writes its report and chart to `target/` instead, unless
//! `--md`/`--svg` say otherwise, so that it does not replace the full
//! report.
//!
//! # Layers
//!
//! - [`cli`]: the command line; it uses nothing else of the crate.
//! - [`harness`]: timing, repeats and medians, interleaving, the watchdog,
//!   allocation counting, and the outputs. It knows nothing about scenarios.
//! - [`scenarios`]: one module per family (Semaphore S1-S4 and S7, Notify
//!   S5/S5b, Mutex S6, Condvar S8, RwLock S9, Barrier S9b, local flavors S10, channels S11), each with the trait its implementations
//!   are driven through. Their docs say what each scenario does and checks.
//! - [`registry`]: every implementation per family, the baselines and the
//!   sizes.
//! - [`goals`]: the issues' performance goals, judged on a run's results.
//! - [`summary`]: the screen at the end of the run.
//! - `main`: the run and the outputs.
//!
//! # Method
//!
//! Within each scenario every repeat runs every implementation once, round
//! robin, starting one implementation later each repeat, so drift on a noisy
//! machine hits all of them alike; results are medians over repeats. The
//! percentiles of one run come from an HDR histogram (`hdrhistogram`, three
//! significant figures: within 0.1% of the exact sample; the rank
//! convention is [`Dist`](harness::sample::Dist)'s). Every
//! run asserts that its work was done (see each family's checks), so a
//! broken implementation panics rather than looking fast. A run that does
//! not finish within a deadline (20 s in quick mode, 60 s in full) is a hang
//! (a lost wakeup or a deadlock): its row says HANG, with how far it got, in
//! the table, the JSON, the chart and the report; that implementation is
//! skipped for the rest of the scenario, the benchmark goes on, and the
//! process exits with status 3 at the end.
//!
//! # Reading the table
//!
//! `x tokio` is the time divided by the tokio row's time in the same scenario
//! of the same run (S8: the `tokio Mutex+Notify` row): below 1 is faster than
//! tokio. Absolute numbers on a shared machine move by tens of percent
//! between runs; compare ratios within one run. tokio and maitake-sync are
//! strict FIFO (every release hands the permit or lock to the oldest waiter,
//! which across threads costs a cross-thread wake per operation); async-lock
//! and futures-intrusive "unfair" barge; compio-sync's default barges with a
//! starvation bound, and its `fifo` rows are the `.strict_fifo()` policy.
//! The "no synchronization" rows of S1-S3 are the floor: the same loop with
//! nothing to wait for. S1 and S2 have a second, the atomic floor: a permit count in
//! one atomic word, taken by compare-and-swap and given back by an atomic add
//! (two read-modify-writes, the least a semaphore shared between threads
//! pays per uncontended permit). S5b's and the one-runtime capacity-1 S11
//! rows' are the same loop on a bare single-thread flag or slot with wakers:
//! what is left is the executor's cost of the task switches the scenario
//! needs. The goals table gives each time ratio per repeat too: the k-th
//! repeat of a row against the k-th of its reference, which ran in the same
//! round; its range shows how much of a verdict is noise.
//! The lock-step S12 rows across runtimes have one too: the same rounds
//! with no channel, a shared word and a bare waker per receiver (one
//! wake-up per receiver per value, which every fan-out pays).
//! They are not peers, and never the "best peer".
//!
//! The wait columns of S4 and S6 are the starvation figure. Barging shows as
//! a tiny p50 and a long tail; strict FIFO as a p50 of roughly (tasks x hold
//! time). `compio_sync::STARVATION_BOUND` counts from when a waiter first
//! queues (and `STARVATION_PASSES` counts the wake-ups it loses), but a
//! waiter notices either only when it is woken and loses the race
//! again, and waiters are woken one at a time in queue order: once every
//! waiter is past the bound, each one's turn costs two wake-ups (the one it
//! loses, then the hand-over), so a long queue's tail is longer than the
//! bound. On a loaded machine p99.9 and max also include OS preemption of
//! whole threads, for every implementation.
//!
//! # Thread placement (`--pin`, `--no-pin`)
//!
//! Under `--no-pin` the OS places the runtime threads, and a scenario with
//! two runtimes on 2 CPUs runs in one of two modes, for every
//! implementation alike: the two threads share a CPU (a cross-thread
//! wake-up is a context switch; S9_t2_r90 about 130 ns per operation), or
//! they run in parallel (every cross-thread wake-up goes through compio's
//! eventfd and the other runtime's io_uring wait; about 280 ns). Which one
//! a process gets is decided by the scheduler, so a row's repeats, and the
//! ratios between rows, move with it. `--pin` pins each runtime thread a
//! scenario starts to one CPU, round robin, as a thread-per-core server
//! does: the threads of a 2-runtime scenario then always run in parallel
//! (measured before the RwLock's local phases: S9_t2_r90 276-285 ns in 4 of
//! 4 pinned runs, against 132-232 ns unpinned). The report and the JSON (`pinned_cpus`) say which was
//! used. Pinned is the default where the OS allows it (Linux): it is how
//! the thread-per-core servers this crate is for run, and only then do a
//! scenario's runs, and the goals judged on them, stay put from one report
//! to the next (in the last unpinned report, S9_t2_r90's per-repeat ratio
//! to async-lock ranged from 0.43x to 2.15x). `--no-pin` measures the OS's
//! placement instead; elsewhere that is the default.

mod cli;
mod goals;
mod harness;
mod registry;
mod scenarios;
mod summary;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use cli::{Command, Options};
use goals::Verdict;
use harness::{
    Bench, Role,
    machine::{Machine, load_average},
    markdown,
    progress::Progress,
    report::{self, BenchResult},
    runner::{self, Settings},
    svg,
};
use serde_json::json;

#[global_allocator]
static GLOBAL: harness::alloc::CountingAlloc = harness::alloc::CountingAlloc;

/// The command line, or exits: 0 after `--help`, 2 on an error.
fn parse_args() -> Options {
    match cli::parse(std::env::args_os().skip(1)) {
        Ok(Command::Run(options)) => options,
        Ok(Command::Help) => {
            print!("{}", cli::HELP);
            std::process::exit(0)
        }
        Err(error) => {
            eprintln!(
                "compio-sync-bench: {error}\n{}\n(--help for more)",
                cli::USAGE
            );
            std::process::exit(2)
        }
    }
}

/// The workspace root (where the report goes by default).
fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the bench crate sits in the workspace")
        .to_path_buf()
}

/// `$CARGO_TARGET_DIR`, else the workspace's `target/`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_dir().join("target"), PathBuf::from)
}

/// Keeps the scenarios and implementations the options ask for.
fn select(mut benches: Vec<Bench>, options: &Options) -> Vec<Bench> {
    if !options.scenarios.is_empty() {
        benches.retain(|b| {
            options
                .scenarios
                .iter()
                .any(|id| b.case.id.starts_with(id.as_str()))
        });
    }
    if !options.only.is_empty() {
        for bench in &mut benches {
            let baseline = bench.baseline;
            bench.candidates.retain(|c| {
                c.name == baseline
                    || c.role == Role::Floor
                    || options.only.iter().any(|o| c.name.contains(o.as_str()))
            });
        }
    }
    benches
}

/// The command line, as `cargo run` would repeat it when run through cargo.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = args.join(" ");
    if std::env::var_os("CARGO_PKG_NAME").is_some() {
        let release = if cfg!(debug_assertions) {
            ""
        } else {
            " --release"
        };
        let dashes = if args.is_empty() { "" } else { " -- " };
        format!("cargo run{release} -p compio-sync-bench{dashes}{args}")
    } else {
        format!("compio-sync-bench {args}").trim_end().to_owned()
    }
}

/// Where the outputs go.
struct Paths {
    json: PathBuf,
    svg: PathBuf,
    md: PathBuf,
}

impl Paths {
    /// The report and chart go to the workspace root, or, for a narrowed
    /// run, to `target/`, unless the options name them.
    fn new(options: &Options) -> Self {
        let narrowed = options.narrowed();
        let (dir, md, svg) = if narrowed {
            (target_dir(), "bench-results.md", "bench-results.svg")
        } else {
            (workspace_dir(), "BENCHMARKS.md", "benchmarks.svg")
        };
        let md = options.md.clone().unwrap_or_else(|| dir.join(md));
        let svg = options.svg.clone().unwrap_or_else(|| {
            md.parent()
                .map_or_else(|| dir.clone(), Path::to_path_buf)
                .join(svg)
        });
        Self {
            json: options
                .json
                .clone()
                .unwrap_or_else(|| target_dir().join("bench-results.json")),
            svg,
            md,
        }
    }
}

/// What the outputs say about the run besides the results.
struct RunInfo {
    machine: Machine,
    mode: &'static str,
    /// CPUs the runtime threads were pinned to, round robin (`--pin`).
    pinned_cpus: Option<usize>,
    repeats: usize,
    seconds: f64,
    load_at_end: String,
    hangs: Vec<String>,
}

fn main() {
    let options = parse_args();
    let machine = Machine::now();
    let pinned_cpus = match options.pin {
        Some(false) => None,
        Some(true) => Some(harness::rt::pin_runtimes().unwrap_or_else(|error| {
            eprintln!("compio-sync-bench: --pin: {error}");
            std::process::exit(2)
        })),
        // The default: pinned where the OS allows it.
        None => harness::rt::pin_runtimes()
            .inspect_err(|error| {
                eprintln!("compio-sync-bench: runtime threads not pinned: {error}");
            })
            .ok(),
    };
    let (mode, repeats, sizes) = if options.quick {
        ("quick", 7, registry::Sizes::QUICK)
    } else {
        ("full", 11, registry::Sizes::FULL)
    };
    println!(
        "compio-sync-bench: {mode} mode, {} cores, compio {} (compio-runtime {}), {repeats} repeats, medians; \
         compio-sync default policy: barging, STARVATION_BOUND {:?}, STARVATION_PASSES {}; \
         load average {}",
        machine.cpus,
        env!("BENCH_COMPIO_VERSION"),
        env!("BENCH_COMPIO_RUNTIME_VERSION"),
        compio_sync::STARVATION_BOUND,
        compio_sync::STARVATION_PASSES,
        machine.load_average,
    );
    println!("platform: {}", machine.platform);
    println!("{}", placement(pinned_cpus));
    // A run takes well under a second on these machines; the limit only
    // has to tell a hang from a slow run.
    let settings = Settings {
        repeats,
        limit: Duration::from_secs(if options.quick { 20 } else { 60 }),
    };
    let started = Instant::now();
    let benches = select(registry::benches(&sizes), &options);
    let bar = Progress::new(&benches, settings);
    let results: Vec<BenchResult> = benches
        .iter()
        .map(|bench| runner::run(bench, settings, &bar))
        .collect();
    bar.finish();
    let info = RunInfo {
        machine,
        mode,
        pinned_cpus,
        repeats,
        seconds: started.elapsed().as_secs_f64(),
        load_at_end: load_average(),
        hangs: hangs(&results),
    };
    println!("\ntotal bench time: {:.1}s", info.seconds);
    let verdicts = goals::verdicts(&results);
    write_outputs(&Paths::new(&options), &info, &results, &verdicts);
    print!("{}", summary::render(&results, &verdicts));
    if !info.hangs.is_empty() {
        eprintln!(
            "\n{} run(s) hung (lost wakeup or deadlock):",
            info.hangs.len()
        );
        for hang in &info.hangs {
            eprintln!("  {hang}");
        }
        std::process::exit(3);
    }
}

/// Where the runtime threads ran, as the outputs say it.
fn placement(pinned_cpus: Option<usize>) -> String {
    match pinned_cpus {
        Some(cpus) => format!(
            "runtime threads pinned round robin to {cpus} CPUs (the default; --no-pin leaves \
             them to the OS): a scenario's threads on distinct CPUs while there are enough"
        ),
        None => "runtime threads placed by the OS (--no-pin, or pinning unavailable): two \
                 runtimes may share a CPU in some runs and not in others"
            .into(),
    }
}

/// Every HANG row, as "scenario / implementation: progress".
fn hangs(results: &[BenchResult]) -> Vec<String> {
    results
        .iter()
        .flat_map(|r| {
            r.rows.iter().filter_map(move |row| {
                let progress = row.hung.as_ref()?;
                Some(format!("{} / {}: {progress}", r.case.id, row.name))
            })
        })
        .collect()
}

/// Writes the JSON, the chart and the Markdown report.
fn write_outputs(paths: &Paths, info: &RunInfo, results: &[BenchResult], verdicts: &[Verdict]) {
    let machine = &info.machine;
    let meta = json!({
        "date": machine.date,
        "mode": info.mode,
        "cores": machine.cpus,
        "cpu": machine.cpu_model,
        "kernel": machine.kernel,
        "platform": machine.platform,
        "wine": machine.wine,
        "load_average_start": machine.load_average,
        "load_average_end": info.load_at_end,
        "commit": machine.commit,
        "command": command_line(),
        "rustc": env!("BENCH_RUSTC_VERSION"),
        "versions": env!("BENCH_LOCKED_VERSIONS"),
        "compio_version": env!("BENCH_COMPIO_VERSION"),
        "compio_runtime_version": env!("BENCH_COMPIO_RUNTIME_VERSION"),
        "repeats": info.repeats,
        "pinned_cpus": info.pinned_cpus,
        "starvation_bound_us": compio_sync::STARVATION_BOUND.as_micros() as u64,
        "starvation_passes": compio_sync::STARVATION_PASSES,
        "default_backend": registry::default_backend(),
        "seconds": info.seconds,
        "hung_runs": info.hangs,
    });
    let json = serde_json::to_string_pretty(&report::json(meta, results)).unwrap();
    write(&paths.json, &json);
    let title = format!(
        "compio-sync Semaphore, Notify, Mutex, Condvar vs peers, on compio {} ({} cores, {} mode, {}){}",
        env!("BENCH_COMPIO_VERSION"),
        machine.cpus,
        info.mode,
        machine.date,
        if machine.wine {
            ", under Wine: Wine figures"
        } else {
            ""
        },
    );
    write(&paths.svg, &svg::svg(&title, results));
    let run = [
        ("date", machine.date.clone()),
        ("command", format!("`{}`", command_line())),
        (
            "mode",
            format!(
                "{}: {} repeats per scenario (S7: 3), medians; total bench time {:.0} s",
                info.mode, info.repeats, info.seconds
            ),
        ),
        (
            "machine",
            format!("{}, {} logical CPUs", machine.cpu_model, machine.cpus),
        ),
        ("kernel", machine.kernel.clone()),
        ("platform", machine.platform.clone()),
        ("runtime threads", placement(info.pinned_cpus)),
        (
            "load average (1/5/15 min)",
            format!(
                "{} at start, {} at end",
                machine.load_average, info.load_at_end
            ),
        ),
        ("commit", machine.commit.clone()),
        ("rustc", env!("BENCH_RUSTC_VERSION").to_owned()),
        (
            "crates (Cargo.lock)",
            env!("BENCH_LOCKED_VERSIONS").to_owned(),
        ),
        (
            "compio-sync",
            format!(
                "default backend {}, default policy barging with STARVATION_BOUND {:?} \
                 and STARVATION_PASSES {}",
                registry::default_backend(),
                compio_sync::STARVATION_BOUND,
                compio_sync::STARVATION_PASSES
            ),
        ),
        (
            "hung runs",
            if info.hangs.is_empty() {
                "none".into()
            } else {
                info.hangs.join("; ")
            },
        ),
    ];
    let chart = relative_to(&paths.svg, &paths.md);
    let page = markdown::Page {
        title: if machine.wine {
            "compio-sync benchmarks (Windows build under Wine: Wine figures, not Windows ones)"
        } else {
            "compio-sync benchmarks"
        },
        intro: "Generated by `compio-sync-bench` (its crate docs say what each scenario does and \
                checks); do not edit by hand, re-run it. All numbers come from one run on a shared \
                machine: compare ratios within this file, not absolute times across runs or machines. \
                Lower is better.",
        run: &run,
        chart: Some(&chart),
        sections: &[goals::section(verdicts)],
    };
    write(&paths.md, &markdown::render(&page, results));
}

/// `path` as the Markdown file at `from` should link it: its file name if
/// both are in one directory, else the path as given.
fn relative_to(path: &Path, from: &Path) -> String {
    let same_dir = path
        .parent()
        .zip(from.parent())
        .is_some_and(|(a, b)| a == b);
    match path.file_name() {
        Some(name) if same_dir => name.to_string_lossy().into_owned(),
        _ => path.display().to_string(),
    }
}

fn write(path: &Path, contents: &str) {
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
