//! Running a [`Bench`]: every repeat runs every candidate once, round robin,
//! starting one candidate later each repeat, so that drift on a noisy
//! machine hits all of them alike. Results are medians over repeats. Each run
//! goes through the [watchdog](super::watchdog): a hung candidate gets a HANG
//! row and is skipped for the rest of the scenario.

use std::time::{Duration, Instant};

use super::{
    bench::Bench,
    progress::{self, Progress},
    report::{self, BenchResult, Row},
    watchdog::{Outcome, run_guarded},
};

/// How many repeats, and how long a run may take before it counts as hung.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Repeats per scenario (a scenario may ask for fewer).
    pub repeats: usize,
    /// The deadline of one run.
    pub limit: Duration,
}

/// Runs `bench`, printing its table as it goes and counting its runs on
/// `bar` ([`progress::runs`] of them, skipped ones included).
pub fn run(bench: &Bench, settings: Settings, bar: &Progress) -> BenchResult {
    let started = Instant::now();
    bar.println(&format!("\n{}", bench.case.title));
    bar.println(&report::table_header(bench));
    let candidates = &bench.candidates;
    let n = candidates.len();
    let mut samples = vec![Vec::new(); n];
    let mut hung: Vec<Option<String>> = vec![None; n];
    let repeats = progress::repeats(bench, settings);
    let warmup = usize::from(bench.case.warmup);
    for rep in 0..repeats + warmup {
        for k in 0..n {
            let i = (k + rep) % n;
            if hung[i].is_some() {
                continue;
            }
            let candidate = &candidates[i];
            bar.start(&bench.case.id, candidate.name, rep, repeats, warmup);
            let label = format!("{} / {}", bench.case.title, candidate.name);
            match run_guarded(&candidate.run, settings.limit) {
                Outcome::Done(sample) => {
                    if rep >= warmup {
                        samples[i].push(sample);
                    }
                    bar.done(1);
                }
                Outcome::Hung(progress) => {
                    bar.eprintln(&format!(
                        "\nHANG: `{label}` has run for {:?}; probable lost wakeup or deadlock. \
                         Left behind; skipping it for the rest of this scenario.\nHANG: progress: {progress}",
                        settings.limit
                    ));
                    hung[i] = Some(progress);
                    // This run and the ones it will skip.
                    bar.done((repeats + warmup - rep) as u64);
                }
            }
        }
    }
    let rows = candidates
        .iter()
        .zip(&samples)
        .zip(hung)
        .map(|((c, s), hung)| match hung {
            None => Row::aggregate(c.name, c.role, s),
            Some(progress) => Row::hung(c.name, c.role, s.len(), progress),
        })
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    let result = BenchResult::new(bench, rows, seconds);
    for row in &result.rows {
        bar.println(&report::table_line(row));
    }
    bar.println(&format!("  ({} took {seconds:.1}s)", bench.case.id));
    result
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{
            Arc, Mutex,
            atomic::{AtomicUsize, Ordering::Relaxed},
        },
        thread,
    };

    use super::*;
    use crate::harness::{
        bench::{Candidate, Case, Columns, Role},
        sample::Sample,
    };

    fn case(warmup: bool) -> Case {
        Case {
            id: "T".into(),
            title: "test".into(),
            columns: Columns::NS_PER_OP,
            warmup,
            max_repeats: None,
        }
    }

    #[test]
    fn repeats_interleave_and_rotate_and_the_warmup_is_discarded() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let candidate = |name: &'static str| {
            let order = order.clone();
            Candidate {
                name,
                role: Role::Peer,
                run: Arc::new(move || {
                    order.lock().unwrap().push(name);
                    Sample {
                        ns_per_op: 1.0,
                        ..Sample::default()
                    }
                }),
            }
        };
        let bench = Bench {
            case: case(true),
            baseline: "a",
            ratio_label: "x a",
            candidates: vec![candidate("a"), candidate("b")],
        };
        let settings = Settings {
            repeats: 2,
            limit: Duration::from_secs(5),
        };
        let result = run(&bench, settings, &Progress::hidden());
        assert_eq!(*order.lock().unwrap(), ["a", "b", "b", "a", "a", "b"]);
        assert!(result.rows.iter().all(|r| r.reps == 2));
    }

    #[test]
    fn a_hung_candidate_gets_a_hang_row_and_is_not_run_again() {
        let runs = Arc::new(AtomicUsize::new(0));
        let hangs = {
            let runs = runs.clone();
            Candidate {
                name: "hangs",
                role: Role::Ours,
                run: Arc::new(move || {
                    runs.fetch_add(1, Relaxed);
                    thread::sleep(Duration::from_secs(2));
                    Sample::default()
                }),
            }
        };
        let bench = Bench {
            case: case(false),
            baseline: "hangs",
            ratio_label: "x hangs",
            candidates: vec![hangs],
        };
        let settings = Settings {
            repeats: 3,
            limit: Duration::from_millis(50),
        };
        let result = run(&bench, settings, &Progress::hidden());
        assert_eq!(runs.load(Relaxed), 1);
        assert!(result.rows[0].hung.is_some());
        assert_eq!(result.rows[0].ratio, None);
    }
}
