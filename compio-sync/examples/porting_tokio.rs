//! Porting from tokio: the same worker pool written against `tokio::sync`
//! (`porting_tokio.rs`) and against `compio_sync` (`porting_compio.rs`).
//!
//! ```text
//! cargo run --release -p compio-sync --example porting_tokio
//! cargo run --release -p compio-sync --example porting_compio
//! ```
//!
//! The two files differ only in their `use` lines and in the runtime entry
//! (`#[tokio::main]` or `#[compio::main]`): compio_sync has tokio::sync's
//! names, signatures, errors and module paths (`broadcast::error::RecvError`),
//! and `compio::runtime::spawn`/`compio::time::sleep` are called like
//! `tokio::spawn`/`tokio::time::sleep`. `tests/porting_example.rs` checks that
//! claim on every CI run.
//!
//! The program: a producer submits jobs through a bounded `mpsc` queue that
//! several workers share behind an async `Mutex`; a `Semaphore` caps the jobs
//! computed at once; each job answers on its own `oneshot`; the workers add
//! to a `Mutex`-protected total, publish every result on a `broadcast`
//! channel to an auditor and count progress in a `watch`; a monitor task
//! signals the end through a `Notify`. The run checks every reply, the total,
//! the auditor's sum and the concurrency cap, and panics (exit code 101) on
//! any mismatch.
//!
//! What a port still has to look at: the default fairness policy of
//! `compio_sync`'s Semaphore, Mutex and RwLock lets a task take free permits
//! while others wait (with a bound on how long a waiter can be passed over);
//! `.strict_fifo()` gives tokio's exact order. Code that relies on FIFO
//! hand-over, not just on mutual exclusion, should ask for it. And a dropped
//! compio `JoinHandle` cancels its task, where tokio's detaches it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::spawn;
use tokio::sync::{Mutex, Notify, Semaphore, broadcast, mpsc, oneshot, watch};
use tokio::time::sleep;

// Only the `use` lines that name the library and the `#[..::main]` line may
// differ between `porting_tokio.rs` and `porting_compio.rs`;
// `tests/porting_example.rs` checks that everything else is identical.

/// Jobs the producer submits.
const JOBS: u64 = 200;
/// Worker tasks pulling jobs from the shared queue.
const WORKERS: usize = 4;
/// Jobs computed at once: fewer than `WORKERS`, so the semaphore is what
/// limits the concurrency.
const MAX_IN_FLIGHT: usize = 2;

/// One unit of work: square `n`, answer on `reply`.
struct Job {
    n: u64,
    reply: oneshot::Sender<u64>,
}

#[tokio::main]
async fn main() {
    // The job queue. A bounded mpsc has one receiver; the workers share it
    // through an async Mutex and hold the lock only while they wait for the
    // next job (the guard is a temporary of the `let` statement).
    let (job_tx, job_rx) = mpsc::channel::<Job>(16);
    let job_rx = Arc::new(Mutex::new(job_rx));

    // Caps the jobs computed at once; `in_flight`/`high_water` prove it.
    let limit = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let high_water = Arc::new(AtomicUsize::new(0));

    // The running total (an async Mutex, as the update is awaited with the
    // lock held), the progress (a watch: observers see the latest count,
    // not every step), and a feed of every result to an auditor
    // (a broadcast: each subscriber sees every value).
    let total = Arc::new(Mutex::new(0u64));
    let (progress_tx, mut progress_rx) = watch::channel(0u64);
    let (results_tx, mut results_rx) = broadcast::channel::<u64>(JOBS as usize);
    // Signalled once, by the progress monitor, when every job is done.
    let all_done = Arc::new(Notify::new());

    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let job_rx = Arc::clone(&job_rx);
        let limit = Arc::clone(&limit);
        let in_flight = Arc::clone(&in_flight);
        let high_water = Arc::clone(&high_water);
        let total = Arc::clone(&total);
        let progress_tx = progress_tx.clone();
        let results_tx = results_tx.clone();
        workers.push(spawn(async move {
            loop {
                let Some(job) = job_rx.lock().await.recv().await else {
                    break; // every sender is gone and the queue is empty
                };
                let _permit = limit.acquire().await.expect("semaphore closed");
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                high_water.fetch_max(now, Ordering::SeqCst);

                sleep(Duration::from_millis(1)).await; // the "work"
                let square = job.n * job.n;
                *total.lock().await += square;
                results_tx.send(square).expect("the auditor is subscribed");

                in_flight.fetch_sub(1, Ordering::SeqCst);
                progress_tx.send_modify(|done| *done += 1);
                // The producer keeps every reply receiver, so this succeeds.
                job.reply.send(square).expect("reply receiver dropped");
            }
        }));
    }
    // The workers hold their own clones; these would keep the channels open.
    drop((progress_tx, results_tx));

    // Progress monitor: wakes on changes (coalesced), signals the end.
    let monitor = {
        let all_done = Arc::clone(&all_done);
        spawn(async move {
            let mut updates = 0u64;
            loop {
                progress_rx
                    .changed()
                    .await
                    .expect("progress sender dropped");
                updates += 1;
                if *progress_rx.borrow_and_update() == JOBS {
                    // Stores a permit if main is not waiting yet: no lost wakeup.
                    all_done.notify_one();
                    return updates;
                }
            }
        })
    };

    // Auditor: sums the broadcast feed until every worker has dropped its
    // sender (the channel then reports `Closed`).
    let auditor = spawn(async move {
        let mut sum = 0u64;
        let mut seen = 0u64;
        loop {
            match results_rx.recv().await {
                Ok(square) => {
                    sum += square;
                    seen += 1;
                }
                Err(broadcast::error::RecvError::Closed) => return (seen, sum),
                Err(broadcast::error::RecvError::Lagged(n)) => panic!("auditor lagged by {n}"),
            }
        }
    });

    // Producer: submit every job, keep the reply receivers.
    let mut replies = Vec::new();
    for n in 1..=JOBS {
        let (reply, reply_rx) = oneshot::channel();
        job_tx.send(Job { n, reply }).await.expect("workers alive");
        replies.push((n, reply_rx));
    }
    drop(job_tx); // closes the queue: workers stop once it is drained

    all_done.notified().await;
    for (n, reply_rx) in replies {
        assert_eq!(
            reply_rx.await.expect("job dropped"),
            n * n,
            "reply for job {n}"
        );
    }
    // Await every task: a dropped compio JoinHandle cancels its task (a
    // dropped tokio one detaches it), so awaiting them is right for both.
    for worker in workers {
        worker.await.expect("worker panicked");
    }
    let updates = monitor.await.expect("monitor panicked");
    let (seen, audited) = auditor.await.expect("auditor panicked");

    let expected: u64 = (1..=JOBS).map(|n| n * n).sum();
    let total = *total.lock().await;
    assert_eq!(total, expected, "the Mutex-protected total");
    assert_eq!((seen, audited), (JOBS, expected), "the broadcast feed");
    let high_water = high_water.load(Ordering::SeqCst);
    assert!(
        (1..=MAX_IN_FLIGHT).contains(&high_water),
        "{high_water} jobs ran at once, the limit is {MAX_IN_FLIGHT}"
    );
    assert!((1..=JOBS).contains(&updates), "progress updates: {updates}");
    println!(
        "{JOBS} jobs on {WORKERS} workers, at most {high_water} at once \
         (limit {MAX_IN_FLIGHT}); total {total}; {updates} progress updates seen: ok"
    );
}
