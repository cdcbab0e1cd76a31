//! The RwLock scenario:
//!
//! - **S9** read-mostly (90% reads) and write-heavy (50% writes): T = 2 and
//!   4 threads, each with its own runtime and [`TASKS_PER_THREAD`] tasks,
//!   share one `Arc` lock around a pair of `u64`s. Each task does K
//!   operations; the n-th is a write when `(n + task) % 10` falls among the
//!   scenario's write tenths. A write bumps both halves of the pair, a read
//!   checks that they are equal; every [`S9_YIELD_EVERY`]-th operation of a
//!   task yields to the executor while holding the lock, so the others
//!   queue up. ns per operation (reads and writes), and how long single
//!   `write().await`s waited (p50, p99, p99.9: medians over repeats; max over
//!   all): the writers' starvation figure.
//!
//! Checks: every read and write counted, never a writer alongside anyone
//! else, never a torn pair, every task and thread joined, the pair equals the
//! number of writes exactly, and the lock is free at the end.

use std::{
    future::Future,
    ops::{Deref, DerefMut},
    sync::{
        Arc, Barrier,
        atomic::{AtomicUsize, Ordering::SeqCst},
    },
    thread,
    time::Instant,
};

use super::TASKS_PER_THREAD;
use crate::harness::{
    Case, Check, Columns, DistKind, Sample,
    rt::{Span, join_all, join_thread, runtime, yield_now},
    set_progress,
};

/// The data: a writer bumps both halves (with a yield in between at times),
/// a reader checks they are equal.
pub type Pair = (u64, u64);

/// What a benchmarked async reader-writer lock must offer, around a
/// [`Pair`].
pub trait BenchRwLock: Send + Sync + 'static {
    /// An unlocked lock holding `(0, 0)`.
    fn create() -> Self;
    /// Locks for reading, waiting if needed.
    fn read(&self) -> impl Future<Output = impl Deref<Target = Pair> + '_> + '_;
    /// Locks for writing, waiting if needed.
    fn write(&self) -> impl Future<Output = impl DerefMut<Target = Pair> + '_> + '_;
    /// The value, if the lock can be written now.
    fn try_value(&self) -> Option<Pair>;
}

/// In S9, every `S9_YIELD_EVERY`-th operation of a task yields to the
/// executor while holding the lock.
pub const S9_YIELD_EVERY: usize = 4;

/// The RwLock scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// `write_tenths` of every ten operations write, over `threads` threads
    /// (runtimes) x [`TASKS_PER_THREAD`] tasks.
    S9 {
        /// Threads (runtimes).
        threads: usize,
        /// Writes per ten operations (1: read-mostly, 5: write-heavy).
        write_tenths: usize,
    },
}

/// How much work the RwLock scenario does per run.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Operations per S9 run, over all threads and tasks.
    pub s9_ops: usize,
}

impl Scenario {
    /// Every RwLock scenario, in report order.
    pub fn all() -> Vec<Self> {
        [(2, 1), (4, 1), (2, 5), (4, 5)]
            .into_iter()
            .map(|(threads, write_tenths)| Self::S9 {
                threads,
                write_tenths,
            })
            .collect()
    }
}

impl super::Scenario for Scenario {
    type Sizes = Sizes;

    fn case(self, sizes: &Sizes) -> Case {
        let Self::S9 {
            threads,
            write_tenths,
        } = self;
        let (id, mix) = if write_tenths == 1 {
            ("r90", "read-mostly (90% reads)")
        } else {
            ("w50", "write-heavy (50% writes)")
        };
        Case {
            id: format!("S9_t{threads}_{id}"),
            title: format!(
                "S9 RwLock {mix}, {threads} threads x {TASKS_PER_THREAD} tasks, {} ops, \
                 yield in every {S9_YIELD_EVERY}th critical section; wait = writers' wait",
                sizes.s9_ops
            ),
            columns: Columns {
                dist: Some(DistKind::Wait),
                ..Columns::NS_PER_OP
            },
            warmup: false,
            max_repeats: None,
        }
    }
}

/// Who is inside the lock: a writer must be alone.
#[derive(Default)]
struct Exclusion {
    readers: AtomicUsize,
    writers: AtomicUsize,
    violations: AtomicUsize,
}

impl Exclusion {
    fn enter_read(&self) {
        self.readers.fetch_add(1, SeqCst);
        if self.writers.load(SeqCst) != 0 {
            self.violations.fetch_add(1, SeqCst);
        }
    }
    fn exit_read(&self) {
        self.readers.fetch_sub(1, SeqCst);
    }
    fn enter_write(&self) {
        if self.writers.fetch_add(1, SeqCst) != 0 || self.readers.load(SeqCst) != 0 {
            self.violations.fetch_add(1, SeqCst);
        }
    }
    fn exit_write(&self) {
        self.writers.fetch_sub(1, SeqCst);
    }
}

/// Runs `scenario` once on `L`.
pub fn run<L: BenchRwLock>(scenario: Scenario, sizes: &Sizes) -> Sample {
    let Scenario::S9 {
        threads,
        write_tenths,
    } = scenario;
    let iters = (sizes.s9_ops / (threads * TASKS_PER_THREAD)).max(10);
    mix::<L>(threads, write_tenths, iters)
}

fn is_write(n: usize, task: usize, write_tenths: usize) -> bool {
    (n + task) % 10 < write_tenths
}

fn mix<L: BenchRwLock>(threads: usize, write_tenths: usize, iters: usize) -> Sample {
    let lock = Arc::new(L::create());
    // Every operation is one "critical section" here (any number inside).
    let check = Arc::new(Check::new(usize::MAX));
    let exclusion = Arc::new(Exclusion::default());
    let torn = Arc::new(AtomicUsize::new(0));
    check.report_progress(threads * TASKS_PER_THREAD * iters);
    let barrier = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (lock, check, exclusion, torn) =
                (lock.clone(), check.clone(), exclusion.clone(), torn.clone());
            let barrier = barrier.clone();
            thread::spawn(move || {
                let rt = runtime();
                let out = rt.block_on(async {
                    barrier.wait();
                    let start = Instant::now();
                    let handles = (0..TASKS_PER_THREAD)
                        .map(|task| {
                            let (lock, check, exclusion, torn) =
                                (lock.clone(), check.clone(), exclusion.clone(), torn.clone());
                            compio::runtime::spawn(async move {
                                let mut waits = Vec::new();
                                for n in 0..iters {
                                    let hold = n % S9_YIELD_EVERY == S9_YIELD_EVERY - 1;
                                    check.enter();
                                    if is_write(n, task, write_tenths) {
                                        let asked = Instant::now();
                                        let mut guard = lock.write().await;
                                        waits.push(asked.elapsed().as_nanos() as u64);
                                        exclusion.enter_write();
                                        guard.0 += 1;
                                        if hold {
                                            yield_now().await;
                                        }
                                        guard.1 += 1;
                                        exclusion.exit_write();
                                    } else {
                                        let guard = lock.read().await;
                                        exclusion.enter_read();
                                        if hold {
                                            yield_now().await;
                                        }
                                        if guard.0 != guard.1 {
                                            torn.fetch_add(1, SeqCst);
                                        }
                                        exclusion.exit_read();
                                    }
                                    check.exit();
                                }
                                waits
                            })
                        })
                        .collect();
                    let waits = join_all(handles).await;
                    (start, Instant::now(), waits)
                });
                drop(rt);
                out
            })
        })
        .collect();
    let mut span = Span::default();
    let mut waits = Vec::new();
    for worker in workers {
        let (start, end, thread_waits) = join_thread(worker);
        span.add(start, end);
        waits.extend(thread_waits.into_iter().flatten());
    }
    set_progress(None);
    let ops = threads * TASKS_PER_THREAD * iters;
    check.verify(ops, "S9");
    let writes = (0..TASKS_PER_THREAD)
        .map(|task| {
            (0..iters)
                .filter(|&n| is_write(n, task, write_tenths))
                .count()
        })
        .sum::<usize>()
        * threads;
    assert_eq!(waits.len(), writes, "S9: missing writer wait samples");
    assert_eq!(
        exclusion.violations.load(SeqCst),
        0,
        "S9: a writer was inside with someone else"
    );
    assert_eq!(torn.load(SeqCst), 0, "S9: a reader saw a torn pair");
    assert_eq!(
        lock.try_value(),
        Some((writes as u64, writes as u64)),
        "S9: the pair is wrong, or the lock was left held"
    );
    Sample::timed(span.elapsed(), ops).with_dist(&waits)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Mutex;

    use super::*;

    pub(crate) const TINY: Sizes = Sizes { s9_ops: 640 };

    /// A "lock" whose writers exclude nobody: readers and writers all work
    /// on the shared pair at once (behind a std mutex per access, so the
    /// test itself has no data race).
    struct NoLock(Mutex<Pair>);

    struct Shared<'a>(&'a Mutex<Pair>, Pair);

    impl Deref for Shared<'_> {
        type Target = Pair;
        fn deref(&self) -> &Pair {
            &self.1
        }
    }

    impl DerefMut for Shared<'_> {
        fn deref_mut(&mut self) -> &mut Pair {
            &mut self.1
        }
    }

    impl Drop for Shared<'_> {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = self.1;
        }
    }

    impl BenchRwLock for NoLock {
        fn create() -> Self {
            Self(Mutex::new((0, 0)))
        }
        async fn read(&self) -> impl Deref<Target = Pair> + '_ {
            Box::new(*self.0.lock().unwrap())
        }
        async fn write(&self) -> impl DerefMut<Target = Pair> + '_ {
            Shared(&self.0, *self.0.lock().unwrap())
        }
        fn try_value(&self) -> Option<Pair> {
            Some(*self.0.lock().unwrap())
        }
    }

    #[test]
    #[should_panic(expected = "S9:")]
    fn check_catches_a_lock_that_excludes_nobody() {
        run::<NoLock>(
            Scenario::S9 {
                threads: 2,
                write_tenths: 5,
            },
            &TINY,
        );
    }
}
