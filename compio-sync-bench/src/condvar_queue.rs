//! S8: Condvar producer/consumer. One producer thread pushes M items, in
//! order, into a mutex-protected `VecDeque` and wakes one consumer after each
//! push; one consumer thread sleeps while the queue is empty, then takes every
//! queued item under the same lock. Each thread has its own runtime and one
//! task. The consumer checks that it got exactly 0..M in order.
//!
//! What dominates is the mutex's fairness policy. Under strict FIFO (tokio's
//! Mutex, or compio-sync's `.strict_fifo()`) the threads fall into a lock
//! convoy: each unlock hands the lock to the other thread, which is asleep,
//! so the producer, blocked on the lock, builds no backlog and every item
//! costs two cross-thread wakes (measured: about 17 µs per item, 1.1 items
//! per consumer round, for tokio and for compio-sync `Intrusive` strict FIFO
//! alike). A barging mutex lets the producer keep pushing while the consumer
//! wakes up (about 0.1 µs per item, 150-300 items per round, nearly every
//! round going through the Condvar wait). The consumer drains the queue,
//! rather than popping one item per lock, because with one pop per lock the
//! tokio row flipped between the two regimes from run to run (0.12 vs
//! 16.7 µs per item, depending on whether the two threads really ran at the
//! same time), which made its ratio meaningless.

use std::{
    future::{Future, poll_fn},
    pin::pin,
    sync::{Arc, Barrier},
    thread,
    time::Instant,
};

use crate::{
    impls::BenchCondvar,
    scenarios::{Sample, Scenario, Sizes, Span, join_all, per_op, runtime},
};

/// Runs S8 once on `C`.
pub fn run<C: BenchCondvar>(scenario: Scenario, sizes: &Sizes) -> Sample {
    assert_eq!(scenario, Scenario::S8, "not a Condvar scenario");
    producer_consumer::<C>(sizes.s8_items)
}

/// Runs `body` as the one task of a fresh runtime on a new thread, after
/// `barrier`; returns when it started and ended, and its output.
fn side<T: Send + 'static, F: Future<Output = T> + 'static>(
    barrier: Arc<Barrier>,
    body: impl FnOnce() -> F + Send + 'static,
) -> thread::JoinHandle<(Instant, Instant, T)> {
    thread::spawn(move || {
        let rt = runtime();
        let result = rt.block_on(async move {
            let task = compio::runtime::spawn(async move {
                barrier.wait();
                let start = Instant::now();
                let out = body().await;
                (start, Instant::now(), out)
            });
            join_all(vec![task]).await.pop().unwrap()
        });
        drop(rt);
        result
    })
}

/// Joins a thread, resuming its panic.
fn join<T>(handle: thread::JoinHandle<T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn producer_consumer<C: BenchCondvar>(items: usize) -> Sample {
    let queue = Arc::new(C::create());
    let barrier = Arc::new(Barrier::new(2));
    let producer = side(barrier.clone(), {
        let queue = queue.clone();
        move || async move {
            for item in 0..items as u64 {
                queue.push(item).await;
            }
        }
    });
    let consumer = side(barrier, {
        let queue = queue.clone();
        move || async move {
            let mut batch = Vec::new();
            let (mut next, mut rounds, mut waited) = (0u64, 0usize, 0usize);
            while next < items as u64 {
                batch.clear();
                let mut pended = false;
                {
                    let mut pop = pin!(queue.pop_all(&mut batch));
                    poll_fn(|cx| {
                        let poll = pop.as_mut().poll(cx);
                        pended |= poll.is_pending();
                        poll
                    })
                    .await;
                }
                assert!(
                    !batch.is_empty(),
                    "S8: the consumer's wait returned with no item"
                );
                for &item in &batch {
                    assert_eq!(item, next, "S8: item out of order, lost or duplicated");
                    next += 1;
                }
                rounds += 1;
                waited += usize::from(pended);
            }
            (next as usize, rounds, waited)
        }
    });
    let mut span = Span::default();
    let (start, end, ()) = join(producer);
    span.add(start, end);
    let (start, end, (consumed, rounds, waited)) = join(consumer);
    span.add(start, end);
    assert_eq!(consumed, items, "S8: wrong number of items consumed");
    assert_eq!(
        queue.try_len(),
        Some(0),
        "S8: items left in the queue, or the mutex was left locked"
    );
    Sample {
        ns_per_op: per_op(span.elapsed(), items),
        waited_fraction: Some(waited as f64 / rounds as f64),
        items_per_round: Some(items as f64 / rounds as f64),
        ..Sample::default()
    }
}
