//! The Barrier scenario:
//!
//! - **S9b** barrier cycle: T = 2 and 4 threads, each with its own runtime
//!   and 1 or [`TASKS_PER_THREAD`] tasks, all parties of one `Arc` barrier
//!   (n = T x tasks). Every task passes the barrier G times in a row, so
//!   each generation ends with the last arrival waking the parties on the
//!   other runtimes. ns per generation (the span over G).
//!
//! Checks: each of the G generations has exactly one leader; no party is
//! released before every party of its generation arrived (each task counts
//! its arrival before waiting, and checks the count after); every task and
//! thread joined, and every task passed G times.

use std::{
    future::Future,
    sync::{
        Arc, Barrier,
        atomic::{AtomicUsize, Ordering::*},
    },
    thread,
    time::Instant,
};

use super::TASKS_PER_THREAD;
use crate::harness::{
    Case, Columns, Sample,
    rt::{Span, join_all, join_thread, runtime},
    set_progress,
};

/// What a benchmarked async barrier must offer.
pub trait BenchBarrier: Send + Sync + 'static {
    /// A barrier for `n` parties.
    fn create(n: usize) -> Self;
    /// Waits for the generation; `true` for its one leader.
    fn wait(&self) -> impl Future<Output = bool> + '_;
}

/// The Barrier scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Barrier cycle over `threads` threads (runtimes) x `tasks` tasks.
    S9b {
        /// Threads (runtimes).
        threads: usize,
        /// Tasks per runtime.
        tasks: usize,
    },
}

/// How much work the Barrier scenario does per run.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Generations per S9b run with one task per runtime.
    pub s9b_generations: usize,
}

impl Scenario {
    /// Every Barrier scenario, in report order.
    pub fn all() -> Vec<Self> {
        [2, 4]
            .into_iter()
            .flat_map(|threads| [1, TASKS_PER_THREAD].map(|tasks| Self::S9b { threads, tasks }))
            .collect()
    }

    /// Generations per run: fewer with more tasks, so each run does a
    /// similar number of waits.
    fn generations(self, sizes: &Sizes) -> usize {
        let Self::S9b { tasks, .. } = self;
        (sizes.s9b_generations / tasks.min(4)).max(1)
    }
}

impl super::Scenario for Scenario {
    type Sizes = Sizes;

    fn case(self, sizes: &Sizes) -> Case {
        let Self::S9b { threads, tasks } = self;
        Case {
            id: format!("S9b_t{threads}_k{tasks}"),
            title: format!(
                "S9b Barrier cycle, {threads} threads x {tasks} task(s) (n = {}), {} generations",
                threads * tasks,
                self.generations(sizes)
            ),
            columns: Columns {
                time: "ns/gen",
                time_words: "ns per generation",
                ..Columns::NS_PER_OP
            },
            warmup: false,
            max_repeats: None,
        }
    }
}

/// Runs `scenario` once on `B`.
pub fn run<B: BenchBarrier>(scenario: Scenario, sizes: &Sizes) -> Sample {
    let Scenario::S9b { threads, tasks } = scenario;
    cycle::<B>(threads, tasks, scenario.generations(sizes))
}

fn cycle<B: BenchBarrier>(threads: usize, tasks: usize, generations: usize) -> Sample {
    let parties = threads * tasks;
    let barrier = Arc::new(B::create(parties));
    let arrivals = Arc::new(AtomicUsize::new(0));
    let leaders = Arc::new(AtomicUsize::new(0));
    {
        let leaders = leaders.clone();
        set_progress(Some(Box::new(move || {
            format!(
                "{} of {generations} generations done",
                leaders.load(Relaxed)
            )
        })));
    }
    let start_line = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (barrier, arrivals, leaders, start_line) = (
                barrier.clone(),
                arrivals.clone(),
                leaders.clone(),
                start_line.clone(),
            );
            thread::spawn(move || {
                let rt = runtime();
                let out = rt.block_on(async {
                    start_line.wait();
                    let start = Instant::now();
                    let handles = (0..tasks)
                        .map(|_| {
                            let (barrier, arrivals, leaders) =
                                (barrier.clone(), arrivals.clone(), leaders.clone());
                            compio::runtime::spawn(async move {
                                for generation in 1..=generations {
                                    arrivals.fetch_add(1, AcqRel);
                                    if barrier.wait().await {
                                        leaders.fetch_add(1, Relaxed);
                                    }
                                    let seen = arrivals.load(Acquire);
                                    assert!(
                                        seen >= generation * parties,
                                        "S9b: released from generation {generation} \
                                         after {seen} arrivals (n = {parties})"
                                    );
                                }
                                generations
                            })
                        })
                        .collect();
                    let passed: usize = join_all(handles).await.into_iter().sum();
                    (start, Instant::now(), passed)
                });
                drop(rt);
                out
            })
        })
        .collect();
    let mut span = Span::default();
    let mut passed = 0;
    for worker in workers {
        let (start, end, thread_passed) = join_thread(worker);
        span.add(start, end);
        passed += thread_passed;
    }
    set_progress(None);
    assert_eq!(passed, parties * generations, "S9b: a task did not finish");
    assert_eq!(
        leaders.load(Relaxed),
        generations,
        "S9b: not exactly one leader per generation"
    );
    Sample::timed(span.elapsed(), generations)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;

    pub(crate) const TINY: Sizes = Sizes {
        s9b_generations: 20,
    };

    /// A "barrier" that releases at once, everyone a leader.
    struct NoBarrier;

    impl BenchBarrier for NoBarrier {
        fn create(_: usize) -> Self {
            Self
        }
        async fn wait(&self) -> bool {
            true
        }
    }

    #[test]
    #[should_panic(expected = "S9b: released from generation")]
    fn check_catches_a_barrier_that_does_not_wait() {
        run::<NoBarrier>(
            Scenario::S9b {
                threads: 2,
                tasks: 1,
            },
            &TINY,
        );
    }

    /// A barrier that waits properly but reports no leader every other
    /// generation.
    struct Leaderless(tokio::sync::Barrier, AtomicBool);

    impl BenchBarrier for Leaderless {
        fn create(n: usize) -> Self {
            Self(tokio::sync::Barrier::new(n), AtomicBool::new(false))
        }
        async fn wait(&self) -> bool {
            self.0.wait().await.is_leader() && self.1.fetch_xor(true, Relaxed)
        }
    }

    #[test]
    #[should_panic(expected = "S9b: not exactly one leader per generation")]
    fn check_catches_a_missing_leader() {
        run::<Leaderless>(
            Scenario::S9b {
                threads: 2,
                tasks: 1,
            },
            &TINY,
        );
    }
}
