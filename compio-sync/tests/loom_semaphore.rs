//! Loom models of the `Semaphore` protocol, on every backend that builds
//! under loom (the queues' own protocols are in `loom_backends.rs`).
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p compio-sync --test loom_semaphore`
//!
//! `loom::future::block_on` parks on loom's scheduler, so a lost wake-up shows
//! up as a deadlock that loom reports.
#![cfg(loom)]

use std::{
    future::Future,
    pin::pin,
    task::{Context, Poll},
};

use compio_sync::{Semaphore, backend::WaitQueue};
use futures::task::noop_waker;
use loom::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::*},
    },
    thread,
};

fn sem<B: WaitQueue>(permits: usize, strict: bool) -> Semaphore<B> {
    let s = Semaphore::<B>::with_backend(permits);
    if strict { s.strict_fifo() } else { s }
}

fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(&noop_waker()))
}

fn acquire_release<B: WaitQueue>(strict: bool) {
    loom::model(move || {
        let s = Arc::new(sem::<B>(1, strict));
        let inside = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (s, inside) = (s.clone(), inside.clone());
                thread::spawn(move || {
                    loom::future::block_on(async {
                        let p = s.acquire().await.unwrap();
                        assert!(!inside.swap(true, SeqCst), "mutual exclusion");
                        inside.store(false, SeqCst);
                        drop(p);
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(s.available_permits(), 1);
    });
}

/// Semaphore: two threads contend for one permit; both finish (no lost
/// wake-up) and the permit is back.
pub fn semaphore_acquire_release_barging<B: WaitQueue>() {
    acquire_release::<B>(false);
}

/// As above, strict FIFO.
pub fn semaphore_acquire_release_strict<B: WaitQueue>() {
    acquire_release::<B>(true);
}

fn release_races_cancel<B: WaitQueue>(strict: bool) {
    loom::model(move || {
        let s = Arc::new(sem::<B>(0, strict));
        let s2 = s.clone();
        // A waiter that registers and then gives up.
        let canceller = thread::spawn(move || {
            let mut f = pin!(s2.acquire());
            if let Poll::Ready(p) = poll_once(f.as_mut()) {
                drop(p.unwrap());
            }
        });
        let s3 = s.clone();
        let releaser = thread::spawn(move || s3.add_permits(1));
        // This waiter must get the permit whatever the canceller did with its
        // wake-up.
        let p = loom::future::block_on(s.acquire()).unwrap();
        drop(p);
        canceller.join().unwrap();
        releaser.join().unwrap();
        assert_eq!(s.available_permits(), 1);
    });
}

/// Semaphore: a release racing a cancelled waiter: the permit is never lost
/// and the remaining waiter is woken.
pub fn semaphore_release_races_cancel_barging<B: WaitQueue>() {
    release_races_cancel::<B>(false);
}

/// As above, strict FIFO.
pub fn semaphore_release_races_cancel_strict<B: WaitQueue>() {
    release_races_cancel::<B>(true);
}

/// Semaphore: `close` racing an `acquire` on an empty semaphore: the acquire
/// always fails, and never hangs.
pub fn semaphore_close_races_acquire<B: WaitQueue>() {
    loom::model(|| {
        let s = Arc::new(sem::<B>(0, false));
        let s2 = s.clone();
        let closer = thread::spawn(move || s2.close());
        let r = loom::future::block_on(s.acquire());
        assert!(r.is_err());
        closer.join().unwrap();
    });
}

/// Semaphore: an `acquire_many` collecting permits as the priority waiter,
/// cancelled while a release races it: every permit comes back.
pub fn semaphore_priority_cancel_races_release<B: WaitQueue>() {
    loom::model(|| {
        let s = Arc::new(sem::<B>(1, false));
        let s2 = s.clone();
        let releaser = thread::spawn(move || s2.add_permits(1));
        {
            let mut f = pin!(s.acquire_many(3));
            let _ = poll_once(f.as_mut());
            let _ = poll_once(f.as_mut());
        }
        releaser.join().unwrap();
        assert_eq!(s.available_permits(), 2);
    });
}

/// Semaphore: an `acquire_many(2)` is served when a release arrives from
/// another thread (priority hand-off).
pub fn semaphore_acquire_many_served_by_release<B: WaitQueue>() {
    loom::model(|| {
        let s = Arc::new(sem::<B>(1, false));
        let s2 = s.clone();
        let releaser = thread::spawn(move || s2.add_permits(1));
        let p = loom::future::block_on(s.acquire_many(2)).unwrap();
        assert_eq!(p.num_permits(), 2);
        drop(p);
        releaser.join().unwrap();
        assert_eq!(s.available_permits(), 2);
    });
}

/// Semaphore (strict FIFO): a woken waiter that finds everything it wants
/// must not step through the priority role. Regression model for a hang
/// found by the soak: waiter A is woken and takes its permit; before A
/// finishes, a second release wakes B, an `acquire_many(2)` that takes one
/// permit and becomes the priority waiter. A then "finished collecting" by
/// clearing PRIORITY, which was B's, and no release woke B again: B sat on
/// one permit forever.
pub fn semaphore_served_waiter_keeps_others_priority<B: WaitQueue>() {
    loom::model(|| {
        let s = Arc::new(sem::<B>(0, true));
        let waiters: Vec<_> = [1, 2]
            .into_iter()
            .map(|n| {
                let s = s.clone();
                thread::spawn(move || {
                    let p = loom::future::block_on(s.acquire_many(n)).unwrap();
                    assert_eq!(p.num_permits(), n as usize);
                })
            })
            .collect();
        s.add_permits(1);
        s.add_permits(1);
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(s.available_permits(), 2);
    });
}

/// As above, default policy: `acquire_many(2)` at the head takes priority at
/// once, and a concurrently served single-permit waiter must leave it alone.
pub fn semaphore_served_waiter_keeps_others_priority_barging<B: WaitQueue>() {
    loom::model(|| {
        let s = Arc::new(sem::<B>(0, false));
        let waiters: Vec<_> = [1, 2]
            .into_iter()
            .map(|n| {
                let s = s.clone();
                thread::spawn(move || {
                    let p = loom::future::block_on(s.acquire_many(n)).unwrap();
                    assert_eq!(p.num_permits(), n as usize);
                })
            })
            .collect();
        s.add_permits(1);
        s.add_permits(1);
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(s.available_permits(), 2);
    });
}

/// Semaphore (strict FIFO): releases hand permits straight to a queued
/// `acquire_many(2)`, one at a time, racing its registration: it is served
/// with both, and nothing is left in the word or lost.
pub fn semaphore_strict_hand_over_races_registration<B: WaitQueue>() {
    loom::model(|| {
        let s = Arc::new(sem::<B>(0, true));
        let s2 = s.clone();
        let waiter = thread::spawn(move || {
            let p = loom::future::block_on(s2.acquire_many(2)).unwrap();
            assert_eq!(p.num_permits(), 2);
            p.forget();
        });
        let s3 = s.clone();
        let releaser = thread::spawn(move || s3.add_permits(1));
        s.add_permits(1);
        waiter.join().unwrap();
        releaser.join().unwrap();
        assert_eq!(s.available_permits(), 0, "both permits went to the waiter");
    });
}

macro_rules! loom_suite {
    ($name:ident, $backend:ty) => {
        mod $name {
            type B = $backend;

            #[test]
            fn semaphore_strict_hand_over_races_registration() {
                super::semaphore_strict_hand_over_races_registration::<B>();
            }
            #[test]
            fn semaphore_acquire_release_barging() {
                super::semaphore_acquire_release_barging::<B>();
            }
            #[test]
            fn semaphore_acquire_release_strict() {
                super::semaphore_acquire_release_strict::<B>();
            }
            #[test]
            fn semaphore_release_races_cancel_barging() {
                super::semaphore_release_races_cancel_barging::<B>();
            }
            #[test]
            fn semaphore_release_races_cancel_strict() {
                super::semaphore_release_races_cancel_strict::<B>();
            }
            #[test]
            fn semaphore_close_races_acquire() {
                super::semaphore_close_races_acquire::<B>();
            }
            #[test]
            fn semaphore_priority_cancel_races_release() {
                super::semaphore_priority_cancel_races_release::<B>();
            }
            #[test]
            fn semaphore_acquire_many_served_by_release() {
                super::semaphore_acquire_many_served_by_release::<B>();
            }
            #[test]
            fn semaphore_served_waiter_keeps_others_priority() {
                super::semaphore_served_waiter_keeps_others_priority::<B>();
            }
            #[test]
            fn semaphore_served_waiter_keeps_others_priority_barging() {
                super::semaphore_served_waiter_keeps_others_priority_barging::<B>();
            }
        }
    };
}

loom_suite!(intrusive, compio_sync::backend::Intrusive);
loom_suite!(mutex_vecdeque, compio_sync::backend::MutexVecDeque);
loom_suite!(parking_lot_hybrid, compio_sync::backend::ParkingLotHybrid);
loom_suite!(seg_queue, compio_sync::backend::SegQueue);
