//! Loom models of the `Semaphore` protocol, on every backend that builds
//! under loom (the queues' own protocols are in `loom_backends.rs`).
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" cargo test --release -p compio-sync --test loom_semaphore`
//! (the preemption bound is set in `common/loom.rs`; `LOOM_MAX_PREEMPTIONS` overrides it).
//!
//! `loom::future::block_on` parks on loom's scheduler, so a lost wake-up shows
//! up as a deadlock that loom reports.
#![cfg(loom)]

mod common;
#[path = "common/loom.rs"]
mod loom_model;

use std::{
    future::Future,
    pin::pin,
    task::{Context, Poll},
};

use compio_sync::Semaphore;
use futures::task::noop_waker;
use loom::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::*},
    },
    thread,
};
use loom_model::{Backend, Class, check_on};

fn sem<B: Backend>(permits: usize, strict: bool) -> Semaphore<B> {
    let s = Semaphore::<B>::with_backend(permits);
    if strict { s.strict_fifo() } else { s }
}

fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(&noop_waker()))
}

fn acquire_release<B: Backend>(strict: bool) {
    check_on::<B>(Class::Primitive, move || {
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
pub fn semaphore_acquire_release_barging<B: Backend>() {
    acquire_release::<B>(false);
}

/// As above, strict FIFO.
pub fn semaphore_acquire_release_strict<B: Backend>() {
    acquire_release::<B>(true);
}

fn release_races_cancel<B: Backend>(strict: bool) {
    check_on::<B>(Class::Large, move || {
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
pub fn semaphore_release_races_cancel_barging<B: Backend>() {
    release_races_cancel::<B>(false);
}

/// As above, strict FIFO.
pub fn semaphore_release_races_cancel_strict<B: Backend>() {
    release_races_cancel::<B>(true);
}

/// Semaphore: `close` racing an `acquire` on an empty semaphore: the acquire
/// always fails, and never hangs.
pub fn semaphore_close_races_acquire<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
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
pub fn semaphore_priority_cancel_races_release<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
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
pub fn semaphore_acquire_many_served_by_release<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
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
pub fn semaphore_served_waiter_keeps_others_priority<B: Backend>() {
    check_on::<B>(Class::Large, || {
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
pub fn semaphore_served_waiter_keeps_others_priority_barging<B: Backend>() {
    check_on::<B>(Class::Large, || {
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
pub fn semaphore_strict_hand_over_races_registration<B: Backend>() {
    check_on::<B>(Class::Large, || {
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

/// Semaphore (default policy) regression, found by the soak: two
/// `acquire_many(2)` waiters, and two permits added one at a time by two
/// other threads. A waiter woken with too few permits claims `PRIORITY` (it
/// wants several) and queues again at the head, and so can one woken just
/// before that, ahead of it; releases then hand over. A hand-over that gave
/// the head *part* of what it needs could give each waiter one permit (a
/// waiter queued again at the head overtakes one holding a part): two parts
/// that add up to every permit, neither waiter served, and loom reports the
/// deadlock. All-or-nothing hand-over (`hand_over_share`) leaves a permit
/// in the word until one waiter can have both. (Checked: with
/// `hand_over_share` returning `available.min(need)` this model deadlocks
/// at bound 1, on every backend, and passes on HEAD.)
///
/// Run per backend by `partial_hand_overs` below, not by `loom_suite!`.
pub fn semaphore_partial_hand_overs_never_strand_every_permit<B: Backend>() {
    check_on::<B>(Class::FourThreads, || {
        let s = Arc::new(sem::<B>(0, false));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                thread::spawn(move || {
                    let p = loom::future::block_on(s.acquire_many(2)).unwrap();
                    assert_eq!(p.num_permits(), 2);
                })
            })
            .collect();
        let adders: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                thread::spawn(move || s.add_permits(1))
            })
            .collect();
        for t in adders.into_iter().chain(waiters) {
            t.join().unwrap();
        }
        assert_eq!(s.available_permits(), 2);
    });
}

/// Semaphore (default policy): a waiter of another thread queues first, one
/// of this thread behind it, and this thread releases the held permit. Its
/// wake-up goes to this thread's waiter, past the head
/// (`WaitQueue::notify_one_near` on `Intrusive`), or to the head: either
/// way both are served, and the permit is back.
pub fn semaphore_near_wake_passes_the_head<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let s = Arc::new(sem::<B>(1, false));
        let held = s.try_acquire().unwrap();
        let queued = Arc::new(AtomicBool::new(false));
        let other = {
            let (s, queued) = (s.clone(), queued.clone());
            thread::spawn(move || {
                let mut acquire = pin!(s.acquire());
                assert!(poll_once(acquire.as_mut()).is_pending());
                queued.store(true, SeqCst);
                drop(loom::future::block_on(acquire).unwrap());
            })
        };
        while !queued.load(SeqCst) {
            thread::yield_now();
        }
        let mut mine = pin!(s.acquire());
        assert!(poll_once(mine.as_mut()).is_pending());
        drop(held);
        drop(loom::future::block_on(mine).unwrap());
        other.join().unwrap();
        assert_eq!(s.available_permits(), 1);
    });
}

macro_rules! loom_suite {
    ($name:ident, $backend:ty, $($order:tt)+) => {
        mod $name {
            type B = $backend;

            #[test]
            fn semaphore_strict_hand_over_races_registration() {
                super::semaphore_strict_hand_over_races_registration::<B>();
            }
            #[test]
            fn semaphore_near_wake_passes_the_head() {
                super::semaphore_near_wake_passes_the_head::<B>();
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

for_each_backend!(loom_suite, once);

/// Semaphore (default policy): a `wake_next` that finds nobody to notify
/// races a waiter's registration and another release. Two `acquire_many(2)`
/// waiters; two permits added before they run, then one more from another
/// thread. Reproduces a lost wake-up on HEAD at bound 2: the adder's
/// `wake_next` sets `PENDING`, finds nobody queued (the first waiter was
/// served on its re-check and is leaving) and, before it clears `PENDING`,
/// the second waiter registers (its re-check finds one permit) and the
/// first waiter's release of its two sees `PENDING` and leaves the wake-up
/// to the adder, which clears `PENDING` and returns: three permits in the
/// word, a waiter queued, no wake-up in flight. (Fixed: `wake_next` looks
/// again after clearing `PENDING` if a waiter registered meanwhile.)
pub fn semaphore_empty_wake_racing_release_keeps_a_wake_in_flight<B: Backend>() {
    check_on::<B>(Class::Large, || {
        let s = Arc::new(sem::<B>(0, false));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                thread::spawn(move || {
                    let p = loom::future::block_on(s.acquire_many(2)).unwrap();
                    assert_eq!(p.num_permits(), 2);
                })
            })
            .collect();
        let adder = {
            let s = s.clone();
            thread::spawn(move || s.add_permits(1))
        };
        s.add_permits(1);
        s.add_permits(1);
        adder.join().unwrap();
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(s.available_permits(), 3);
    });
}

mod empty_wake_racing_release {
    #[test]
    #[ignore = "about 4 minutes at bound 2 on a shared 2-core machine: run by hand with -- --ignored (passes; deadlocked before the fix)"]
    fn intrusive() {
        super::semaphore_empty_wake_racing_release_keeps_a_wake_in_flight::<
            compio_sync::backend::Intrusive,
        >();
    }
}

/// [`semaphore_partial_hand_overs_never_strand_every_permit`] per backend,
/// outside `loom_suite!`: on `ParkingLotHybrid` and `SegQueue` it takes
/// minutes even at bound 1, too long for CI, so those two are ignored (run
/// them by hand with `-- --ignored`; they pass). The hand-over policy it
/// checks is the semaphore's, the same on every backend; those backends'
/// claim protocols are checked in `loom_backends` and `loom_seg_queue`.
mod partial_hand_overs {
    use compio_sync::backend::{Intrusive, MutexVecDeque, ParkingLotHybrid, SegQueue};

    use super::semaphore_partial_hand_overs_never_strand_every_permit as model;

    #[test]
    fn intrusive() {
        model::<Intrusive>();
    }
    #[test]
    fn mutex_vecdeque() {
        model::<MutexVecDeque>();
    }
    #[test]
    #[ignore = "minutes even at bound 1: run by hand (see the module docs)"]
    fn parking_lot_hybrid() {
        model::<ParkingLotHybrid>();
    }
    #[test]
    #[ignore = "minutes even at bound 1: run by hand (see the module docs)"]
    fn seg_queue() {
        model::<SegQueue>();
    }
}
