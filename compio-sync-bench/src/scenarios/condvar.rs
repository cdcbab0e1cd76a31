//! The Condvar scenario:
//!
//! - **S8** producer/consumer. One producer thread pushes M items, in order,
//!   into a mutex-protected `VecDeque` and wakes one consumer after each
//!   push; one consumer thread sleeps while the queue is empty, then takes
//!   every queued item under the same lock. Each thread has its own runtime
//!   and one task. ns per item; "waited" is the share of the consumer's
//!   rounds that returned `Pending` at least once, and the items taken per
//!   round are reported too.
//!
//! What dominates is the mutex's fairness policy. Under strict FIFO (tokio's
//! Mutex, or compio-sync's `.strict_fifo()`) the threads fall into a lock
//! convoy: each unlock hands the lock to the other thread, which is asleep,
//! so the producer, blocked on the lock, builds no backlog, every item costs
//! two cross-thread wakes and a round takes about one item. A barging mutex
//! lets the producer keep pushing while the consumer wakes up: rounds take
//! hundreds of items, items cost two orders of magnitude less, and nearly
//! every round goes through the Condvar wait. The consumer drains the queue,
//! rather than popping one item per lock, because with one pop per lock the
//! tokio row flipped between the two regimes from run to run (depending on
//! whether the two threads really ran at the same time), which made its
//! ratio meaningless.
//!
//! Checks: the consumer gets exactly 0..M, in order, no round comes back
//! empty, and the queue is empty and unlocked at the end.

use std::{
    future::{Future, poll_fn},
    pin::pin,
    sync::{Arc, Barrier},
    thread,
    time::Instant,
};

use crate::harness::{
    Case, Columns, Sample,
    rt::{Span, join_thread, spawn_runtime_thread},
};

/// What S8 needs: an unbounded FIFO queue of `u64` behind an async mutex,
/// whose consumer sleeps while the queue is empty and then takes everything
/// queued.
pub trait BenchCondvar: Send + Sync + 'static {
    /// An empty queue.
    fn create() -> Self;
    /// Appends `item` (under the lock) and wakes one waiting consumer.
    fn push(&self, item: u64) -> impl Future<Output = ()> + '_;
    /// Waits while the queue is empty, then moves every queued item, oldest
    /// first, to the end of `out` (under one lock).
    fn pop_all(&self, out: &mut Vec<u64>) -> impl Future<Output = ()>;
    /// The number of queued items, if the mutex is free now.
    fn try_len(&self) -> Option<usize>;
}

/// The Condvar scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Producer/consumer between two threads, each with its own runtime.
    S8,
}

/// How much work the Condvar scenario does per run.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Items per S8 run.
    pub s8_items: usize,
}

impl Scenario {
    /// Every Condvar scenario, in report order.
    pub fn all() -> Vec<Self> {
        vec![Self::S8]
    }
}

impl super::Scenario for Scenario {
    type Sizes = Sizes;

    fn case(self, sizes: &Sizes) -> Case {
        Case {
            id: "S8".into(),
            title: format!(
                "S8 Condvar producer/consumer, 2 threads, Mutex<VecDeque>, consumer drains, {} items",
                sizes.s8_items
            ),
            columns: Columns {
                time: "ns/item",
                time_words: "ns per item",
                ..Columns::NS_PER_OP
            },
            warmup: false,
            max_repeats: None,
        }
    }
}

/// Runs S8 once on `C`.
pub fn run<C: BenchCondvar>(scenario: Scenario, sizes: &Sizes) -> Sample {
    let Scenario::S8 = scenario;
    producer_consumer::<C>(sizes.s8_items)
}

/// Runs `body` as the one task of a fresh runtime on a new thread, after
/// `barrier`; returns when it started and ended, and its output.
fn side<T: Send + 'static, F: Future<Output = T> + 'static>(
    barrier: Arc<Barrier>,
    body: impl FnOnce() -> F + Send + 'static,
) -> thread::JoinHandle<(Instant, Instant, T)> {
    spawn_runtime_thread(move || async move {
        barrier.wait();
        let start = Instant::now();
        let out = body().await;
        (start, Instant::now(), out)
    })
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
    let (start, end, ()) = join_thread(producer);
    span.add(start, end);
    let (start, end, (consumed, rounds, waited)) = join_thread(consumer);
    span.add(start, end);
    assert_eq!(consumed, items, "S8: wrong number of items consumed");
    assert_eq!(
        queue.try_len(),
        Some(0),
        "S8: items left in the queue, or the mutex was left locked"
    );
    Sample {
        waited_fraction: Some(waited as f64 / rounds as f64),
        extras: vec![("items_per_round", items as f64 / rounds as f64)],
        ..Sample::timed(span.elapsed(), items)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::{
        collections::VecDeque,
        future::ready,
        sync::atomic::{AtomicBool, Ordering::Relaxed},
    };

    use super::*;

    pub(crate) const TINY: Sizes = Sizes { s8_items: 2_000 };

    /// A consumer whose wait returns at once: its first round takes nothing
    /// (deterministically, whatever the producer has done by then), as a
    /// wait that does not wait for an item would.
    struct NoWait(std::sync::Mutex<VecDeque<u64>>, AtomicBool);

    impl BenchCondvar for NoWait {
        fn create() -> Self {
            Self(Default::default(), AtomicBool::new(true))
        }
        fn push(&self, item: u64) -> impl Future<Output = ()> + '_ {
            self.0.lock().unwrap().push_back(item);
            ready(())
        }
        fn pop_all(&self, out: &mut Vec<u64>) -> impl Future<Output = ()> {
            if !self.1.swap(false, Relaxed) {
                out.extend(self.0.lock().unwrap().drain(..));
            }
            ready(())
        }
        fn try_len(&self) -> Option<usize> {
            Some(self.0.lock().unwrap().len())
        }
    }

    #[test]
    #[should_panic(expected = "S8: the consumer's wait returned with no item")]
    fn check_catches_a_pop_that_does_not_wait() {
        run::<NoWait>(Scenario::S8, &TINY);
    }

    /// A queue that drops every 100th item.
    struct Lossy(std::sync::Mutex<VecDeque<u64>>, tokio::sync::Notify);

    impl BenchCondvar for Lossy {
        fn create() -> Self {
            Self(Default::default(), tokio::sync::Notify::new())
        }
        fn push(&self, item: u64) -> impl Future<Output = ()> + '_ {
            if item % 100 != 99 {
                self.0.lock().unwrap().push_back(item);
            }
            self.1.notify_one();
            ready(())
        }
        async fn pop_all(&self, out: &mut Vec<u64>) {
            loop {
                {
                    let mut queue = self.0.lock().unwrap();
                    if !queue.is_empty() {
                        out.extend(queue.drain(..));
                        return;
                    }
                }
                self.1.notified().await;
            }
        }
        fn try_len(&self) -> Option<usize> {
            Some(self.0.lock().unwrap().len())
        }
    }

    #[test]
    #[should_panic(expected = "S8: item out of order, lost or duplicated")]
    fn check_catches_a_lost_item() {
        run::<Lossy>(Scenario::S8, &TINY);
    }
}
