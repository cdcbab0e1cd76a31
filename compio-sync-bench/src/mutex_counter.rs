//! S6: Mutex counter. T threads, each with its own runtime and
//! [`S4_TASKS_PER_THREAD`] tasks, share one `Arc` mutex around a `u64`. Each
//! task does K rounds of {lock, increment, unlock}; every
//! [`S6_YIELD_EVERY`]-th critical section yields to the executor while
//! holding the lock, so the other tasks and threads queue up.

use std::{
    sync::{Arc, Barrier},
    thread,
    time::Instant,
};

use crate::{
    impls::BenchMutex,
    scenarios::{
        Check, S4_TASKS_PER_THREAD, S6_YIELD_EVERY, Sample, Scenario, Sizes, Span, join_all,
        per_op, runtime, set_progress, yield_now,
    },
};

/// Runs S6 once on `M`.
pub fn run<M: BenchMutex>(scenario: Scenario, sizes: &Sizes) -> Sample {
    let Scenario::S6 { threads } = scenario else {
        unreachable!("{scenario:?} is not a Mutex scenario")
    };
    let iters = (sizes.s6_ops / (threads * S4_TASKS_PER_THREAD)).max(1);
    counter::<M>(threads, iters)
}

fn counter<M: BenchMutex>(threads: usize, iters: usize) -> Sample {
    let mutex = Arc::new(M::create());
    let check = Arc::new(Check::new(1));
    check.report_progress(threads * S4_TASKS_PER_THREAD * iters);
    let barrier = Arc::new(Barrier::new(threads));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let mutex = mutex.clone();
            let check = check.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                let rt = runtime();
                let span = rt.block_on(async {
                    barrier.wait();
                    let start = Instant::now();
                    let handles = (0..S4_TASKS_PER_THREAD)
                        .map(|_| {
                            let mutex = mutex.clone();
                            let check = check.clone();
                            compio::runtime::spawn(async move {
                                for k in 0..iters {
                                    let mut guard = mutex.lock().await;
                                    check.enter();
                                    *guard += 1;
                                    if k % S6_YIELD_EVERY == S6_YIELD_EVERY - 1 {
                                        yield_now().await;
                                    }
                                    check.exit();
                                    drop(guard);
                                }
                            })
                        })
                        .collect();
                    join_all(handles).await;
                    (start, Instant::now())
                });
                drop(rt);
                span
            })
        })
        .collect();
    let mut span = Span::default();
    for worker in workers {
        let (start, end) = worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        span.add(start, end);
    }
    set_progress(None);
    let ops = threads * S4_TASKS_PER_THREAD * iters;
    check.verify(ops, "S6");
    assert_eq!(
        mutex.try_value(),
        Some(ops as u64),
        "S6: the counter is wrong, or the mutex was left locked"
    );
    Sample {
        ns_per_op: per_op(span.elapsed(), ops),
        ..Sample::default()
    }
}
