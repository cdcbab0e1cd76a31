//! The measuring machinery. It knows nothing about the scenarios: it is
//! handed [`Bench`]es (a scenario's id, title and columns, with candidates
//! that each run once and return a [`Sample`]) and does the rest.
//!
//! - [`runner`]: repeats, interleaving, warm-up, medians;
//! - [`watchdog`]: each run on its own thread with a deadline, HANG rows;
//! - [`check`]: counting critical sections, so that a broken implementation
//!   fails its run instead of looking fast;
//! - [`rt`]: compio runtimes, joining tasks and threads, a yield, spans;
//! - [`alloc`]: the counting global allocator;
//! - [`progress`]: the progress bar on stderr over the whole plan of runs;
//! - [`report`], [`svg`], [`markdown`], [`machine`]: the text table, the
//!   JSON, the chart and the dated Markdown report.

pub mod alloc;
pub mod bench;
pub mod check;
pub mod machine;
pub mod markdown;
pub mod progress;
pub mod report;
pub mod rt;
pub mod runner;
pub mod sample;
pub mod svg;
pub mod watchdog;

pub use bench::{Bench, Candidate, Case, Columns, DistKind, Role};
pub use check::Check;
pub use sample::Sample;
pub use watchdog::set_progress;
