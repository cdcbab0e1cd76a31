//! The progress bar on stderr: how many runs of the whole plan are done, and
//! which scenario, implementation and repeat is running. It is an
//! [`indicatif`] bar on its default target, so it is drawn only when stderr
//! is a terminal and a log sees nothing of it. The text on stdout (the
//! tables) goes through [`Progress::println`], which lifts the bar for the
//! time of the line.
//!
//! The bar is redrawn only between runs, by the thread that starts them
//! (its clock is then as fresh as the last run start), never on a timer: the counting allocator counts every thread's
//! allocations, and a redraw thread would add its own to the runs that
//! count them.

use indicatif::{ProgressBar, ProgressStyle};

use super::{bench::Bench, runner::Settings};

/// How many runs `bench` takes under `settings`: every candidate once per
/// repeat and once more for the warm-up, if it has one.
pub fn runs(bench: &Bench, settings: Settings) -> u64 {
    let per_candidate = repeats(bench, settings) + usize::from(bench.case.warmup);
    (per_candidate * bench.candidates.len()) as u64
}

/// The repeats `bench` gets under `settings` (a scenario may ask for fewer).
pub fn repeats(bench: &Bench, settings: Settings) -> usize {
    bench
        .case
        .max_repeats
        .map_or(settings.repeats, |max| settings.repeats.min(max))
}

/// The bar over a whole run of the benchmark.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar over `benches`, whose length is every run they will take.
    pub fn new(benches: &[Bench], settings: Settings) -> Self {
        let total = benches.iter().map(|b| runs(b, settings)).sum();
        let bar = ProgressBar::new(total).with_style(
            ProgressStyle::with_template("[{bar:20}] {pos}/{len} eta {eta} {wide_msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        Self { bar }
    }

    /// A bar that draws nothing (for tests).
    #[cfg(test)]
    pub fn hidden() -> Self {
        Self {
            bar: ProgressBar::hidden(),
        }
    }

    /// Shows which run starts: `scenario`, `name`, and the repeat `rep`
    /// (0-based, counting the warm-up) of `repeats` after `warmup` warm-ups.
    pub fn start(&self, scenario: &str, name: &str, rep: usize, repeats: usize, warmup: usize) {
        // The name last: a narrow terminal cuts the end of the line.
        let repeat = if rep < warmup {
            "warm-up".to_owned()
        } else {
            format!("rep {}/{repeats}", rep - warmup + 1)
        };
        self.bar.set_message(format!("{scenario} {repeat}: {name}"));
        // Past indicatif's rate limit, so that the line names the run that
        // is going on, not one that ended a few milliseconds ago.
        self.bar.force_draw();
    }

    /// Counts `runs` runs as done (or skipped, after a hang).
    pub fn done(&self, runs: u64) {
        self.bar.inc(runs);
    }

    /// Prints `line` on stdout, with the bar lifted meanwhile.
    pub fn println(&self, line: &str) {
        self.bar.suspend(|| println!("{line}"));
    }

    /// Prints `line` on stderr, with the bar lifted meanwhile.
    pub fn eprintln(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
