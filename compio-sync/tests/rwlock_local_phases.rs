//! An `RwLock`'s readers under the default policy: a wake-up goes to a
//! reader of the releasing thread first (its local phase) for up to half
//! the starvation bound, rather than for at most 4 wake-ups in a row; the
//! reader of another thread at the head of the queue comes after. With a
//! starvation bound of zero, the head comes first (strict FIFO hands the
//! permits to every queued reader at once, in arrival order: see
//! `tests/rwlock/single.rs`).
#![cfg(not(loom))]

mod common;

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use common::*;
use compio_sync::RwLock;

/// Readers of this thread queued behind the reader of the other thread.
const OURS: usize = 6;

/// A read that holds its guard once done.
type Read<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Queues a reader of another thread, then `OURS` readers of this thread,
/// behind a write lock, unlocks it, and polls whichever reader was woken
/// (keeping every read guard), until all have read. Returns the order in
/// which they were woken: `OURS` stands for the other thread's reader.
fn wake_order(lock: &RwLock<()>) -> Vec<usize> {
    let held = lock.try_write().unwrap();
    let guards = std::sync::Mutex::new(Vec::new());
    let read = |_: usize| -> Read<'_> {
        Box::pin(async {
            let guard = lock.read().await;
            guards.lock().unwrap().push(guard);
        })
    };
    let counters: Vec<(Arc<CountingWaker>, std::task::Waker)> =
        (0..=OURS).map(|_| counting_waker()).collect();
    let mut reads: Vec<Option<Read<'_>>> = (0..=OURS).map(|n| Some(read(n))).collect();
    // The other thread's reader first: it is the head of the queue.
    std::thread::scope(|s| {
        s.spawn(|| {
            let r = reads[OURS].as_mut().unwrap();
            assert!(poll_once(r.as_mut(), &counters[OURS].1).is_pending());
        });
    });
    for n in 0..OURS {
        let r = reads[n].as_mut().unwrap();
        assert!(poll_once(r.as_mut(), &counters[n].1).is_pending());
    }
    drop(held);
    let mut order = Vec::new();
    while order.len() <= OURS {
        let woken: Vec<usize> = (0..=OURS)
            .filter(|&n| {
                reads[n].is_some()
                    && counters[n]
                        .0
                        .wakes
                        .load(std::sync::atomic::Ordering::SeqCst)
                        > 0
            })
            .collect();
        assert_eq!(
            woken.len(),
            1,
            "one wake-up in flight at a time: {woken:?} after {order:?}"
        );
        let n = woken[0];
        let r = reads[n].as_mut().unwrap();
        assert!(
            poll_once(r.as_mut(), &counters[n].1).is_ready(),
            "reader {n} woken, yet not served"
        );
        reads[n] = None;
        order.push(n);
    }
    assert_eq!(
        guards.lock().unwrap().len(),
        OURS + 1,
        "every reader holds the lock"
    );
    order
}

/// The readers of the thread that unlocked go first, all six: past the 4
/// wake-ups in a row that other semaphores allow, as the head (of another
/// thread) has waited far less than half the bound (an hour's bound here).
#[test]
fn a_write_unlock_wakes_this_threads_readers_first() {
    let lock = RwLock::new(()).starvation_bound(Duration::from_secs(3600));
    assert_eq!(wake_order(&lock), [0, 1, 2, 3, 4, 5, OURS]);
}

/// With a starvation bound of zero there is no local phase: the head, of
/// the other thread, is woken first.
#[test]
fn no_local_phase_with_a_zero_starvation_bound() {
    let lock = RwLock::new(()).starvation_bound(Duration::ZERO);
    assert_eq!(wake_order(&lock)[0], OURS);
}

/// Once the head has been passed over for half the bound, it is next.
#[test]
fn the_head_is_next_once_half_the_bound_has_passed() {
    let bound = Duration::from_millis(40);
    let lock = RwLock::new(()).starvation_bound(bound);
    let held = lock.try_write().unwrap();
    let (theirs_count, theirs_waker) = counting_waker();
    let (ours_count, ours_waker) = counting_waker();
    let mut theirs = Box::pin(lock.read());
    std::thread::scope(|s| {
        s.spawn(|| assert!(poll_once(theirs.as_mut(), &theirs_waker).is_pending()));
    });
    let mut ours: Vec<_> = (0..2).map(|_| Box::pin(lock.read())).collect();
    for r in &mut ours {
        assert!(poll_once(r.as_mut(), &ours_waker).is_pending());
    }
    drop(held);
    // The first wake-up passes the head over (and starts its patience).
    let load = |c: &Arc<CountingWaker>| c.wakes.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!((load(&theirs_count), load(&ours_count)), (0, 1));
    std::thread::sleep(bound);
    // Served, this reader passes the wake-up on: to the head now.
    let first = poll_once(ours[0].as_mut(), &ours_waker);
    assert!(first.is_ready());
    assert_eq!((load(&theirs_count), load(&ours_count)), (1, 1));
    assert!(poll_once(theirs.as_mut(), &theirs_waker).is_ready());
}
