//! S8: Condvar producer/consumer. One producer thread pushes M items, in
//! order, into a mutex-protected `VecDeque` and wakes one consumer after each
//! push; one consumer thread pops them, sleeping while the queue is empty.
//! Each thread has its own runtime and one task. The consumer checks that it
//! got exactly 0..M in order.

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
            let (mut consumed, mut waited) = (0usize, 0usize);
            for expected in 0..items as u64 {
                let mut pop = pin!(queue.pop());
                let mut pended = false;
                let item = poll_fn(|cx| {
                    let poll = pop.as_mut().poll(cx);
                    pended |= poll.is_pending();
                    poll
                })
                .await;
                assert_eq!(item, expected, "S8: item out of order, lost or duplicated");
                consumed += 1;
                waited += usize::from(pended);
            }
            (consumed, waited)
        }
    });
    let mut span = Span::default();
    let (start, end, ()) = join(producer);
    span.add(start, end);
    let (start, end, (consumed, waited)) = join(consumer);
    span.add(start, end);
    assert_eq!(consumed, items, "S8: wrong number of items consumed");
    assert_eq!(
        queue.try_len(),
        Some(0),
        "S8: items left in the queue, or the mutex was left locked"
    );
    Sample {
        ns_per_op: per_op(span.elapsed(), items),
        waited_fraction: Some(waited as f64 / items as f64),
        ..Sample::default()
    }
}
