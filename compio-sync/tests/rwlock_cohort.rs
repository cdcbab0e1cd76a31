//! Writers of two threads: under the default policy (writer cohorts, see
//! `rwlock/cohort.rs`), one thread's writers cannot starve another's; under
//! strict FIFO, writers are served in arrival order, whatever their thread.
//!
//! Its own test binary: a thread's cohort is picked round robin at its
//! first wait, so with no other test here that waits on a cohort, the test
//! thread and the one it spawns land in different cohorts.
#![cfg(not(loom))]

mod common;

use std::{future::Future, pin::Pin, time::Duration};

use common::*;
use compio_sync::{RwLock, STARVATION_PASSES};

/// Writers of this thread queued behind a held lock.
const OURS: usize = 10;

/// What the writer of the other thread pushes.
const THEIRS: usize = 100;

/// A write that pushes its number.
type Write<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Queues `OURS` writers on this thread and one on another thread behind a
/// held write lock, then polls them, ours first, until all are done.
/// Returns the order in which they wrote.
fn write_order(lock: &RwLock<Vec<usize>>) -> Vec<usize> {
    let (_c, waker) = counting_waker();
    let held = lock.try_write().unwrap();
    let write = |n: usize| -> Write<'_> { Box::pin(async move { lock.write().await.push(n) }) };
    let mut ours: Vec<Option<Write<'_>>> = (0..OURS).map(|n| Some(write(n))).collect();
    for w in ours.iter_mut().flatten() {
        assert!(poll_once(w.as_mut(), &waker).is_pending());
    }
    let mut theirs = Some(write(THEIRS));
    std::thread::scope(|s| {
        s.spawn(|| {
            let w = theirs.as_mut().unwrap();
            assert!(poll_once(w.as_mut(), &waker).is_pending());
        });
    });
    drop(held);
    // Every round polls our writers in arrival order, then theirs.
    for round in 0.. {
        assert!(round <= OURS + 1, "writers stuck: {:?}", lock.try_read());
        for w in ours.iter_mut().chain(std::iter::once(&mut theirs)) {
            if let Some(f) = w
                && poll_once(f.as_mut(), &waker).is_ready()
            {
                *w = None;
            }
        }
        if ours
            .iter()
            .chain(std::iter::once(&theirs))
            .all(Option::is_none)
        {
            break;
        }
    }
    let order = lock.try_write().expect("free at the end").clone();
    assert_eq!(order.len(), OURS + 1, "every writer wrote once");
    order
}

/// The turn that a cohort gives back goes to whoever takes it first (see
/// `rwlock/cohort.rs` for why it is not handed to the queue): a writer of
/// this thread that arrives after it was given back takes it before the
/// woken writer of the other thread runs. Each time, the other writer is
/// passed over, and after `STARVATION_PASSES` passes it claims the turn:
/// this thread's writers cannot starve it. (An hour's bound: only the count
/// can run out.)
#[test]
fn writer_of_another_thread_passed_over_claims_the_turn() {
    let lock = &RwLock::new(Vec::new()).starvation_bound(Duration::from_secs(3600));
    let (_c, waker) = counting_waker();
    let write = |n: usize| -> Write<'_> { Box::pin(async move { lock.write().await.push(n) }) };
    // A reader holds the lock whenever a writer arrives, so that the writer
    // holding the turn waits (for the reader) while the other one is polled.
    let reader = lock.try_read().unwrap();
    let mut ours = write(0);
    assert!(
        poll_once(ours.as_mut(), &waker).is_pending(),
        "takes the turn"
    );
    let mut theirs = write(THEIRS);
    std::thread::scope(|s| {
        s.spawn(|| assert!(poll_once(theirs.as_mut(), &waker).is_pending()));
    });
    drop(reader);
    let mut next = 1;
    let mut theirs = Some(theirs);
    while let Some(w) = theirs.as_mut() {
        assert!(
            next <= STARVATION_PASSES as usize + 1,
            "the other thread's writer starves"
        );
        // Ours gets the lock and gives the turn back; the next one arrives
        // and takes it (unless the other thread's writer has claimed it).
        assert!(poll_once(ours.as_mut(), &waker).is_ready());
        let reader = lock.try_read().unwrap();
        ours = write(next);
        next += 1;
        assert!(poll_once(ours.as_mut(), &waker).is_pending());
        // Woken by the turn given back: passed over, or it holds the turn.
        if poll_once(w.as_mut(), &waker).is_ready() {
            panic!("a reader holds the lock")
        }
        drop(reader);
        if poll_once(w.as_mut(), &waker).is_ready() {
            theirs = None;
        }
    }
    assert!(poll_once(ours.as_mut(), &waker).is_ready());
    let order = lock.try_write().expect("free at the end").clone();
    let mut expected: Vec<usize> = (0..=STARVATION_PASSES as usize).collect();
    expected.push(THEIRS);
    expected.push(STARVATION_PASSES as usize + 1);
    assert_eq!(
        order, expected,
        "passed over {STARVATION_PASSES} times, then served before this thread's next writer"
    );
}

#[test]
fn strict_fifo_serves_writers_in_arrival_order() {
    let order = write_order(&RwLock::new(Vec::new()).strict_fifo());
    let mut expected: Vec<usize> = (0..OURS).collect();
    expected.push(THEIRS);
    assert_eq!(order, expected, "tokio's order: arrival order");
}
