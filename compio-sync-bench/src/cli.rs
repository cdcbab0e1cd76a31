//! The command line, parsed with [`lexopt`]. This module uses nothing else of
//! the crate (`tests/cli.rs` includes it on its own), so the defaults that
//! depend on the workspace are resolved by `main`; here an option the user
//! did not give stays `None`.

use std::{ffi::OsString, path::PathBuf};

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Run the benchmark with these options.
    Run(Options),
    /// Print [`HELP`] and exit.
    Help,
}

/// The options of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `--quick`: the quick sizes and repeats.
    pub quick: bool,
    /// `--pin` (`Some(true)`: each runtime thread pinned to one CPU, round
    /// robin, or an error where that cannot be done) or `--no-pin`
    /// (`Some(false)`: the OS places them). `None`: pinned where the OS
    /// allows it (Linux), placed by the OS elsewhere.
    pub pin: Option<bool>,
    /// `--json PATH`: where the JSON goes.
    pub json: Option<PathBuf>,
    /// `--svg PATH`: where the chart goes.
    pub svg: Option<PathBuf>,
    /// `--md PATH`: where the Markdown report goes.
    pub md: Option<PathBuf>,
    /// `--only NAME`, repeated: keep the implementations whose name contains
    /// one of these (the baselines and floors are always kept).
    pub only: Vec<String>,
    /// `--scenario ID`, repeated: keep the scenarios whose id starts with one
    /// of these.
    pub scenarios: Vec<String>,
}

impl Options {
    /// Whether `--only` or `--scenario` narrows the run.
    pub fn narrowed(&self) -> bool {
        !self.only.is_empty() || !self.scenarios.is_empty()
    }
}

/// The one-line synopsis, also printed under a command-line error.
pub const USAGE: &str = "usage: compio-sync-bench [--quick] [--pin | --no-pin] [--md PATH] \
                         [--svg PATH] [--json PATH] [--only NAME]... [--scenario ID]...";

/// The `--help` text.
pub const HELP: &str = "\
compio-sync-bench: compio-sync's primitives on every wait-queue backend and both fairness policies
against tokio, async-lock, event-listener, futures-intrusive, maitake-sync and the channel and
local peers, all on the compio runtime; interleaved repeats, medians, ratios within one run.

usage: compio-sync-bench [--quick] [--pin | --no-pin] [--md PATH] [--svg PATH]
                         [--json PATH] [--only NAME]... [--scenario ID]...

options:
  --quick          quick mode: smaller sizes, 7 repeats (full mode: 11) and a 20 s hang
                   deadline per run (full mode: 60 s)
  --pin            pin each runtime thread a scenario starts to one CPU, round robin over the
                   CPUs the process may use, as a thread-per-core server does; an error where
                   the OS does not allow it. The default on Linux; elsewhere the default is
                   --no-pin
  --no-pin         let the OS place the runtime threads: the runs of a multi-runtime scenario
                   then fall into two modes, runtimes sharing a CPU or running in parallel,
                   which moves its rows and ratios from run to run
  --md PATH        the Markdown report (default: BENCHMARKS.md at the workspace root; for a
                   run narrowed by --only or --scenario, bench-results.md in the target dir)
  --svg PATH       the chart (default: benchmarks.svg next to the report; for a narrowed run,
                   bench-results.svg next to it)
  --json PATH      the results as JSON (default: bench-results.json in $CARGO_TARGET_DIR,
                   else in the workspace's target/)
  --only NAME      keep only the implementations whose name contains NAME (repeatable; the
                   baselines and the floors are always kept)
  --scenario ID    keep only the scenarios whose id starts with ID (repeatable; a prefix, so
                   S1 also keeps S10-S12 and S9 keeps S9b), e.g. S1, S4, S4_t2, S4_t4_p1, S5,
                   S5b, S6, S6_t2, S7, S8, S9_, S9_t2_r90, S9b, S10, S11, S11_spsc,
                   S11_oneshot, S12, S12w, S12b
  --bench          ignored (what `cargo bench` passes)
  -h, --help       print this help

output: a table per scenario on stdout as it goes, a progress bar on stderr when it is a
terminal, a one-screen summary at the end (best compio-sync row, best peer, their ratio and
the goals, pass or FAIL), and the report, chart and JSON files. Exit status: 0, 2 on a
command-line error, 3 if a run hung (lost wakeup or deadlock).

examples:
  cargo run --release -p compio-sync-bench -- --quick
  cargo run --release -p compio-sync-bench -- --quick --scenario S1 --scenario S5b
  cargo run --release -p compio-sync-bench -- --only Intrusive --scenario S4
  cargo run --release -p compio-sync-bench -- --quick --no-pin --scenario S9_
  cargo run --release -p compio-sync-bench -- --quick --json target/ci-bench.json \\
      --svg target/ci-bench.svg --md target/ci-bench.md
";

/// Parses `args` (without the program name).
pub fn parse(
    args: impl IntoIterator<Item = impl Into<OsString>>,
) -> Result<Command, lexopt::Error> {
    use lexopt::prelude::*;

    let mut options = Options::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("quick") => options.quick = true,
            Long("pin") => options.pin = Some(true),
            Long("no-pin") => options.pin = Some(false),
            Long("json") => options.json = Some(parser.value()?.into()),
            Long("svg") => options.svg = Some(parser.value()?.into()),
            Long("md") => options.md = Some(parser.value()?.into()),
            Long("only") => options.only.push(parser.value()?.string()?),
            Long("scenario") => options.scenarios.push(parser.value()?.string()?),
            // `cargo bench`-style harness flags are ignored.
            Long("bench") => {}
            Short('h') | Long("help") => return Ok(Command::Help),
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(Command::Run(options))
}
