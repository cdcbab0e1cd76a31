//! The Semaphore contract suite: every test is written once, generic over the
//! backend `B` and the executor `E`, and instantiated for every backend on
//! compio and on `futures::executor` by the `contract_suite!` lines at the end.
//! Adding a backend means adding lines there.
#![cfg(not(loom))]

mod common;

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    pin::pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
    },
    task::{Poll, Wake, Waker},
    thread,
};

use common::*;
use compio_sync::{Semaphore, TryAcquireError, backend::ThreadSafe};
use futures::future::join_all;

fn sem<B: ThreadSafe>(permits: usize, strict: bool) -> Semaphore<B> {
    let s = Semaphore::<B>::with_backend(permits);
    if strict { s.strict_fifo() } else { s }
}

/// 1000 tasks contend for 5 permits; afterwards exactly 5 `try_acquire`
/// succeed (no permit lost or duplicated), and at most 5 were ever held.
pub fn thousand_tasks_then_exactly_five_permits<B: ThreadSafe, E: Exec>(strict: bool) {
    with_watchdog(HANG, move || {
        let s = sem::<B>(5, strict);
        let occ = Occupancy::default();
        E::block_on(join_all((0..1000).map(|_| async {
            let _p = s.acquire().await.unwrap();
            occ.enter();
            yield_now().await;
            occ.exit();
        })));
        assert_eq!(occ.total.load(SeqCst), 1000);
        assert!(
            occ.max.load(SeqCst) <= 5,
            "max holders {}",
            occ.max.load(SeqCst)
        );
        let held: Vec<_> = (0..10).filter_map(|_| s.try_acquire().ok()).collect();
        assert_eq!(held.len(), 5);
        drop(held);
        assert_eq!(s.available_permits(), 5);
    });
}

/// A permit released after a failed `try_acquire` but before the waiter is
/// registered still reaches the waiter (the release lands between the fast
/// path and the re-check of `acquire`'s first poll, or after it).
pub fn release_between_failed_try_and_registration_is_not_lost<B: ThreadSafe>(strict: bool) {
    with_watchdog(HANG, move || {
        for round in 0..2000 {
            let s = Arc::new(sem::<B>(1, strict));
            let permit = s.clone().try_acquire_owned().unwrap();
            assert!(s.try_acquire().is_err());
            let releaser = thread::spawn(move || {
                if round % 2 == 0 {
                    thread::yield_now();
                }
                drop(permit);
            });
            // The release races this acquire's first poll.
            drop(futures::executor::block_on(s.acquire()).unwrap());
            releaser.join().unwrap();
        }
    });
}

/// A waiter dropped while queued leaves nothing behind; the next one runs.
pub fn cancel_while_queued_lets_next_waiter_run<B: ThreadSafe>(strict: bool) {
    let s = sem::<B>(1, strict);
    let p = s.try_acquire().unwrap();
    let (_wa, waker_a) = counting_waker();
    let (wb, waker_b) = counting_waker();
    let mut a = Box::pin(s.acquire());
    let mut b = pin!(s.acquire());
    assert!(poll_once(a.as_mut(), &waker_a).is_pending());
    assert!(poll_once(b.as_mut(), &waker_b).is_pending());
    drop(a);
    drop(p);
    assert_eq!(wb.wakes.load(SeqCst), 1, "the remaining waiter is woken");
    let permit = match poll_once(b.as_mut(), &waker_b) {
        Poll::Ready(Ok(p)) => p,
        other => panic!("expected a permit, got {other:?}"),
    };
    drop(permit);
    assert_eq!(s.available_permits(), 1);
}

/// A waiter that was woken (handed the wake-up) and then dropped before it
/// ran passes the wake-up on.
pub fn notified_waiter_dropped_passes_wakeup_on<B: ThreadSafe>(strict: bool) {
    let s = sem::<B>(0, strict);
    let (wa, waker_a) = counting_waker();
    let (wb, waker_b) = counting_waker();
    let mut a = Box::pin(s.acquire());
    let mut b = pin!(s.acquire());
    assert!(poll_once(a.as_mut(), &waker_a).is_pending());
    assert!(poll_once(b.as_mut(), &waker_b).is_pending());
    s.add_permits(1);
    assert_eq!(wa.wakes.load(SeqCst), 1, "the first waiter is woken");
    assert_eq!(wb.wakes.load(SeqCst), 0, "one wake-up in flight at a time");
    drop(a);
    assert_eq!(wb.wakes.load(SeqCst), 1, "the dropped waiter passed it on");
    assert!(matches!(
        poll_once(b.as_mut(), &waker_b),
        Poll::Ready(Ok(_))
    ));
    assert_eq!(s.available_permits(), 1);
}

/// An `acquire_many` that was handed some of its permits and is then dropped
/// gives them back, and the waiter behind it runs.
pub fn cancel_after_partial_assignment_returns_permits<B: ThreadSafe>(strict: bool) {
    let s = sem::<B>(3, strict);
    let two = s.try_acquire_many(2).unwrap();
    let one = s.try_acquire().unwrap();
    let (_wa, waker_a) = counting_waker();
    let (wb, waker_b) = counting_waker();
    let mut many = Box::pin(s.acquire_many(3));
    let mut next = pin!(s.acquire());
    assert!(poll_once(many.as_mut(), &waker_a).is_pending());
    assert!(poll_once(next.as_mut(), &waker_b).is_pending());
    drop(one);
    assert!(poll_once(many.as_mut(), &waker_a).is_pending());
    if strict {
        // The head is handed the one free permit and keeps waiting.
        assert_eq!(s.available_permits(), 0, "the free permit went to the head");
    } else {
        // The head needs more than one: it closes the fast path, and the
        // permit waits for it (all or nothing) where no barging task can
        // take it.
        assert_eq!(s.available_permits(), 1);
        assert!(s.try_acquire().is_err(), "kept for the head");
    }
    assert!(poll_once(next.as_mut(), &waker_b).is_pending());
    drop(many);
    if strict {
        // tokio's order: the returned permit is handed straight to the next
        // waiter, which is woken with it.
        assert_eq!(s.available_permits(), 0, "the collected permit went on");
    } else {
        assert_eq!(s.available_permits(), 1, "the collected permit came back");
    }
    assert!(wb.wakes.load(SeqCst) >= 1, "the next waiter was woken");
    let p = match poll_once(next.as_mut(), &waker_b) {
        Poll::Ready(Ok(p)) => p,
        other => panic!("expected a permit, got {other:?}"),
    };
    drop((p, two));
    assert_eq!(s.available_permits(), 3);
}

/// Strict FIFO: permits go to waiters in the order they started waiting,
/// whatever order they are polled in.
pub fn strict_fifo_serves_in_arrival_order<B: ThreadSafe>() {
    let s = sem::<B>(0, true);
    let (_w, waker) = counting_waker();
    let mut futs: Vec<_> = (0..6).map(|_| Box::pin(s.acquire())).collect();
    for f in &mut futs {
        assert!(poll_once(f.as_mut(), &waker).is_pending());
    }
    let mut order = Vec::new();
    let mut done = vec![false; futs.len()];
    for _ in 0..futs.len() {
        s.add_permits(1);
        // Poll newest first: a barging newcomer would win here.
        for i in (0..futs.len()).rev() {
            if !done[i]
                && let Poll::Ready(p) = poll_once(futs[i].as_mut(), &waker)
            {
                p.unwrap().forget();
                done[i] = true;
                order.push(i);
            }
        }
    }
    assert_eq!(order, vec![0, 1, 2, 3, 4, 5]);
}

/// Strict FIFO: an `acquire_many` at the head blocks smaller requests behind
/// it, and `try_acquire` fails while anyone waits.
pub fn strict_fifo_head_acquire_many_blocks_later_waiters<B: ThreadSafe>() {
    let s = sem::<B>(1, true);
    let held = s.try_acquire().unwrap();
    let (_w, waker) = counting_waker();
    let mut many = pin!(s.acquire_many(2));
    let mut one = pin!(s.acquire());
    assert!(poll_once(many.as_mut(), &waker).is_pending());
    assert!(poll_once(one.as_mut(), &waker).is_pending());
    drop(held);
    assert!(
        poll_once(one.as_mut(), &waker).is_pending(),
        "no overtaking"
    );
    assert!(poll_once(many.as_mut(), &waker).is_pending(), "has 1 of 2");
    assert_eq!(s.try_acquire().err(), Some(TryAcquireError::NoPermits));
    s.add_permits(1);
    let p = match poll_once(many.as_mut(), &waker) {
        Poll::Ready(Ok(p)) => p,
        other => panic!("expected 2 permits, got {other:?}"),
    };
    assert_eq!(p.num_permits(), 2);
    drop(p);
    assert!(matches!(
        poll_once(one.as_mut(), &waker),
        Poll::Ready(Ok(_))
    ));
}

/// Under either policy, an `acquire_many(n)` completes while another thread
/// keeps taking and returning single permits as fast as it can. Without a
/// starvation bound the stream would keep the permits from ever adding up.
pub fn acquire_many_served_despite_stream_from_other_thread<B: ThreadSafe, E: Exec>(strict: bool) {
    with_watchdog(HANG, move || {
        let s = Arc::new(sem::<B>(3, strict));
        let stop = Arc::new(AtomicBool::new(false));
        let streamed = Arc::new(AtomicUsize::new(0));
        let stream = {
            let (s, stop, streamed) = (s.clone(), stop.clone(), streamed.clone());
            thread::spawn(move || {
                E::block_on(async {
                    while !stop.load(SeqCst) {
                        let p = s.acquire().await.unwrap();
                        streamed.fetch_add(1, SeqCst);
                        drop(p);
                        // Ensure the stream really is running when `many` waits.
                        if streamed.load(SeqCst) % 64 == 0 {
                            yield_now().await;
                        }
                    }
                })
            })
        };
        while streamed.load(SeqCst) < 100 {
            thread::yield_now();
        }
        E::block_on(async {
            for _ in 0..20 {
                let p = s.acquire_many(3).await.unwrap();
                assert_eq!(p.num_permits(), 3);
            }
        });
        stop.store(true, SeqCst);
        stream.join().unwrap();
        assert_eq!(s.available_permits(), 3);
    });
}

/// `close` wakes every waiter with an error; later acquires fail at once.
pub fn close_wakes_all_waiters_with_error<B: ThreadSafe, E: Exec>(strict: bool) {
    with_watchdog(HANG, move || {
        let s = sem::<B>(0, strict);
        let (results, ()) = E::block_on(futures::future::join(
            join_all((0..50).map(|_| s.acquire())),
            async {
                // By now every acquire has been polled once and is queued.
                for _ in 0..4 {
                    yield_now().await;
                }
                s.close();
            },
        ));
        assert!(results.iter().all(|r| r.is_err()));
        assert!(s.acquire_many(1).now_or_never_err());
        assert_eq!(s.try_acquire().err(), Some(TryAcquireError::Closed));
        s.add_permits(2);
        assert_eq!(
            s.try_acquire().err(),
            Some(TryAcquireError::Closed),
            "stays closed"
        );
    });
}

trait NowOrNeverErr {
    fn now_or_never_err(self) -> bool;
}
impl<F: std::future::Future<Output = Result<T, E>>, T, E> NowOrNeverErr for F {
    fn now_or_never_err(self) -> bool {
        let (_w, waker) = counting_waker();
        matches!(poll_once(pin!(self), &waker), Poll::Ready(Err(_)))
    }
}

/// `forget_permits` removes only free permits and never reopens a closed
/// semaphore.
pub fn forget_permits_never_reopens_closed<B: ThreadSafe>(strict: bool) {
    let s = sem::<B>(4, strict);
    let p = s.try_acquire().unwrap();
    assert_eq!(s.forget_permits(10), 3);
    assert_eq!(s.available_permits(), 0);
    s.close();
    assert_eq!(s.forget_permits(1), 0);
    assert!(s.is_closed());
    drop(p);
    assert_eq!(s.available_permits(), 1);
    assert!(s.is_closed());
}

/// Going past `MAX_PERMITS` panics and leaves the semaphore usable.
pub fn max_permits_overflow_panics<B: ThreadSafe>(strict: bool) {
    let max = Semaphore::MAX_PERMITS;
    assert_eq!(max, usize::MAX >> 3);
    let r = catch_unwind(|| Semaphore::<B>::with_backend(max + 1));
    assert!(r.is_err(), "new(MAX_PERMITS + 1) panics");
    let s = sem::<B>(max, strict);
    let r = catch_unwind(AssertUnwindSafe(|| s.add_permits(1)));
    assert!(r.is_err(), "add_permits past MAX_PERMITS panics");
    assert_eq!(s.available_permits(), max, "state unchanged");
    let p = s.try_acquire_many(u32::MAX).unwrap();
    assert_eq!(s.available_permits(), max - u32::MAX as usize);
    drop(p);
    assert_eq!(s.available_permits(), max);
}

/// Dropping held permits past `MAX_PERMITS` panics as tokio does, and leaves
/// the count at `MAX_PERMITS` (it never reads `MAX_PERMITS + 1`).
pub fn dropping_permits_past_max_permits_panics<B: ThreadSafe>(strict: bool) {
    let max = Semaphore::MAX_PERMITS;
    let s = sem::<B>(max, strict);
    let p = s.try_acquire().unwrap();
    s.add_permits(1);
    assert_eq!(s.available_permits(), max);
    let r = catch_unwind(AssertUnwindSafe(|| drop(p)));
    assert!(r.is_err(), "dropping a permit past MAX_PERMITS panics");
    assert_eq!(s.available_permits(), max, "state unchanged");
    let q = s.try_acquire().unwrap();
    drop(q);
    assert_eq!(s.available_permits(), max);
}

/// `acquire_many(0)` and `try_acquire_many(0)` succeed at once, as in tokio,
/// even with waiters queued (and under strict FIFO); on a closed semaphore
/// they fail.
pub fn acquire_zero_returns_at_once_behind_waiters<B: ThreadSafe>(strict: bool) {
    let s = sem::<B>(0, strict);
    let (_counter, waker) = counting_waker();
    let mut queued = pin!(s.acquire());
    assert!(poll_once(queued.as_mut(), &waker).is_pending());
    let p = s
        .try_acquire_many(0)
        .expect("try_acquire_many(0) never waits");
    assert_eq!(p.num_permits(), 0);
    drop(p);
    let mut zero = pin!(s.acquire_many(0));
    match poll_once(zero.as_mut(), &waker) {
        Poll::Ready(Ok(p)) => assert_eq!(p.num_permits(), 0),
        other => panic!("acquire_many(0) must complete at once: {other:?}"),
    }
    // The queued waiter is untouched and still gets the next permit.
    s.add_permits(1);
    assert!(matches!(
        poll_once(queued.as_mut(), &waker),
        Poll::Ready(Ok(_))
    ));
    s.close();
    assert_eq!(s.try_acquire_many(0).err(), Some(TryAcquireError::Closed));
    let mut closed = pin!(s.acquire_many(0));
    assert!(matches!(
        poll_once(closed.as_mut(), &waker),
        Poll::Ready(Err(_))
    ));
}

/// Regression (issue 8, defect 1): a woken waiter that found every permit it
/// wanted went through the priority role and, finishing it, cleared the
/// PRIORITY flag of an `acquire_many` that had become the priority waiter
/// meanwhile: the semaphore then hung with permits parked in that waiter.
/// Many threads mix `acquire_many(1..=3)` on 3 permits; every acquire
/// completes and all permits come back. (The loom model
/// `semaphore_served_waiter_keeps_others_priority` pins the exact race.)
pub fn mixed_acquire_many_across_threads_never_strands_permits<B: ThreadSafe, E: Exec>(
    strict: bool,
) {
    with_watchdog(HANG, move || {
        let s = Arc::new(sem::<B>(3, strict));
        let done = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (s, done) = (s.clone(), done.clone());
                thread::spawn(move || {
                    E::block_on(join_all((0..3).map(|task| {
                        let (s, done) = (&s, &done);
                        async move {
                            for i in 0..300u32 {
                                let n = 1 + (t + task + i as usize) as u32 % 3;
                                let p = s.acquire_many(n).await.unwrap();
                                assert_eq!(p.num_permits(), n as usize);
                                if i % 2 == 0 {
                                    yield_now().await;
                                }
                                drop(p);
                                done.fetch_add(1, SeqCst);
                            }
                        }
                    })))
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(done.load(SeqCst), 4 * 3 * 300);
        assert_eq!(s.available_permits(), 3);
    });
}

/// tokio's strict order, exactly: a permit added while a task waits is
/// handed to that task at once. `available_permits()` never counts it and
/// `try_acquire` cannot take it; a surplus beyond what waiters need stays
/// available.
pub fn strict_add_permits_hands_to_queued_waiter<B: ThreadSafe>() {
    let s = sem::<B>(0, true);
    let (counter, waker) = counting_waker();
    let mut queued = pin!(s.acquire());
    assert!(poll_once(queued.as_mut(), &waker).is_pending());
    s.add_permits(1);
    assert_eq!(s.available_permits(), 0, "handed to the waiter, as tokio");
    assert_eq!(s.try_acquire().err(), Some(TryAcquireError::NoPermits));
    assert_eq!(counter.wakes.load(SeqCst), 1, "the waiter was woken once");
    let p = match poll_once(queued.as_mut(), &waker) {
        Poll::Ready(Ok(p)) => p,
        other => panic!("expected the handed permit, got {other:?}"),
    };
    // With a waiter queued, a surplus stays available.
    let mut second = pin!(s.acquire());
    assert!(poll_once(second.as_mut(), &waker).is_pending());
    s.add_permits(2);
    assert_eq!(s.available_permits(), 1);
    assert!(s.try_acquire().is_ok());
    assert!(matches!(
        poll_once(second.as_mut(), &waker),
        Poll::Ready(Ok(_))
    ));
    drop(p);
}

/// tokio's strict order, exactly: an `acquire_many(3)` at the head is woken
/// once, when it can be served, not by each `add_permits(1)`; the permits it
/// was given meanwhile are not available to others.
pub fn strict_acquire_many_at_head_woken_once_when_served<B: ThreadSafe>() {
    let s = sem::<B>(0, true);
    let (counter, waker) = counting_waker();
    let mut many = pin!(s.acquire_many(3));
    assert!(poll_once(many.as_mut(), &waker).is_pending());
    s.add_permits(1);
    s.add_permits(1);
    assert_eq!(counter.wakes.load(SeqCst), 0, "not woken for a part");
    assert_eq!(s.available_permits(), 0, "the parts are the head's");
    s.add_permits(1);
    assert_eq!(counter.wakes.load(SeqCst), 1, "woken once, served");
    match poll_once(many.as_mut(), &waker) {
        Poll::Ready(Ok(p)) => assert_eq!(p.num_permits(), 3),
        other => panic!("expected 3 permits, got {other:?}"),
    }
    assert_eq!(s.available_permits(), 3);
}

/// `split` and `merge` move permits between permit objects; merging permits
/// of different semaphores panics.
pub fn split_and_merge<B: ThreadSafe>(strict: bool) {
    let s = Arc::new(sem::<B>(5, strict));
    let mut a = s.try_acquire_many(3).unwrap();
    let b = a.split(2).unwrap();
    assert_eq!((a.num_permits(), b.num_permits()), (1, 2));
    assert!(a.split(2).is_none());
    a.merge(b);
    assert_eq!(a.num_permits(), 3);
    drop(a);
    assert_eq!(s.available_permits(), 5);

    let mut oa = s.clone().try_acquire_many_owned(2).unwrap();
    let ob = oa.split(1).unwrap();
    oa.merge(ob);
    assert_eq!(oa.num_permits(), 2);
    drop(oa);
    assert_eq!(s.available_permits(), 5);

    let other = sem::<B>(1, strict);
    let r = catch_unwind(AssertUnwindSafe(|| {
        let mut x = s.try_acquire().unwrap();
        x.merge(other.try_acquire().unwrap());
    }));
    assert!(r.is_err(), "merging permits of different semaphores panics");
    assert_eq!(s.available_permits(), 5, "no permit lost by the panic");
    assert_eq!(other.available_permits(), 1);
}

/// A waker whose `Drop` and `wake` call back into the semaphore does not
/// deadlock: the queue never drops or wakes a waker under its lock.
pub fn reentrant_waker_does_not_deadlock<B: ThreadSafe>(strict: bool) {
    struct Reenter<B: ThreadSafe> {
        sem: Arc<Semaphore<B>>,
        calls: Arc<AtomicUsize>,
    }
    impl<B: ThreadSafe> Wake for Reenter<B> {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            drop(self.sem.try_acquire());
            self.calls.fetch_add(1, SeqCst);
        }
    }
    impl<B: ThreadSafe> Drop for Reenter<B> {
        fn drop(&mut self) {
            // Re-enters every path: fast path, release, queue notify.
            drop(self.sem.try_acquire());
            self.sem.add_permits(0);
            self.calls.fetch_add(1, SeqCst);
        }
    }
    with_watchdog(HANG, move || {
        let s = Arc::new(sem::<B>(1, strict));
        let calls = Arc::new(AtomicUsize::new(0));
        let mk = || {
            Waker::from(Arc::new(Reenter {
                sem: s.clone(),
                calls: calls.clone(),
            }))
        };
        let held = s.try_acquire().unwrap();
        {
            let mut f = pin!(s.acquire());
            assert!(poll_once(f.as_mut(), &mk()).is_pending());
            // Replacing the stored waker drops the old one (last reference).
            assert!(poll_once(f.as_mut(), &mk()).is_pending());
            // Cancelling drops the stored waker.
        }
        let mut f = pin!(s.acquire());
        assert!(poll_once(f.as_mut(), &mk()).is_pending());
        drop(held); // wakes (and drops) the reentrant waker
        assert!(matches!(poll_once(f.as_mut(), &mk()), Poll::Ready(Ok(_))));
        assert!(calls.load(SeqCst) >= 3, "the reentrant paths ran");
    });
}

/// T threads, each with its own executor and 16 tasks, share one semaphore;
/// the number of completed critical sections is exact and never more than
/// `permits` are inside at once.
pub fn cross_thread_exact_count<B: ThreadSafe, E: Exec>(
    threads: usize,
    permits: usize,
    strict: bool,
) {
    const TASKS: usize = 16;
    const ITERS: usize = 200;
    with_watchdog(HANG, move || {
        let s = Arc::new(sem::<B>(permits, strict));
        let occ = Arc::new(Occupancy::default());
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (s, occ) = (s.clone(), occ.clone());
                thread::spawn(move || {
                    E::block_on(join_all((0..TASKS).map(|_| async {
                        for i in 0..ITERS {
                            let _p = s.acquire().await.unwrap();
                            occ.enter();
                            if i % 4 == 0 {
                                yield_now().await;
                            }
                            occ.exit();
                        }
                    })));
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(occ.total.load(SeqCst), threads * TASKS * ITERS);
        assert!(occ.max.load(SeqCst) <= permits);
        assert_eq!(s.available_permits(), permits);
    });
}

/// Dropping `acquire` futures at random points under cross-thread contention
/// loses no permit and strands no waiter.
pub fn cancellation_storm_loses_nothing<B: ThreadSafe, E: Exec>(strict: bool) {
    with_watchdog(HANG, move || {
        let s = Arc::new(sem::<B>(2, strict));
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let s = s.clone();
                thread::spawn(move || {
                    E::block_on(join_all((0..16).map(|task| {
                        let s = s.clone();
                        async move {
                            for i in 0..300usize {
                                let n = 1 + ((task + i) % 2) as u32;
                                if (i + task + t) % 3 == 0 {
                                    // Poll once or twice, then drop mid-wait.
                                    let mut f = pin!(s.acquire_many(n));
                                    if futures::poll!(f.as_mut()).is_pending() {
                                        yield_now().await;
                                        let _ = futures::poll!(f.as_mut());
                                    }
                                } else {
                                    let _p = s.acquire_many(n).await.unwrap();
                                    yield_now().await;
                                }
                            }
                        }
                    })));
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(s.available_permits(), 2);
        let both = s.try_acquire_many(2).unwrap();
        assert!(s.try_acquire().is_err());
        drop(both);
    });
}

/// Owned permits keep the semaphore alive and return permits on drop.
pub fn owned_permits_return_on_drop<B: ThreadSafe, E: Exec>(strict: bool) {
    let s = Arc::new(sem::<B>(2, strict));
    let p = E::block_on(s.clone().acquire_many_owned(2)).unwrap();
    assert!(Arc::ptr_eq(p.semaphore(), &s));
    assert_eq!(s.available_permits(), 0);
    let t = thread::spawn(move || drop(p));
    t.join().unwrap();
    assert_eq!(s.available_permits(), 2);
    let one = E::block_on(s.clone().acquire_owned()).unwrap();
    one.forget();
    assert_eq!(s.available_permits(), 1);
}

/// `blocking_acquire` on plain threads mixed with tasks on two executors
/// (each on its own thread): every release wakes someone, and the counts are
/// exact. On `IoUringFutex` the blocked threads sleep in `futex(2)` on the
/// word the compio tasks wait on through io_uring.
pub fn blocking_and_async_waiters_mixed<B: ThreadSafe, E: Exec>(strict: bool) {
    const ROUNDS: usize = 300;
    with_watchdog(HANG, move || {
        let s = Arc::new(sem::<B>(1, strict));
        let occ = Arc::new(Occupancy::default());
        let blockers: Vec<_> = (0..2)
            .map(|_| {
                let (s, occ) = (s.clone(), occ.clone());
                thread::spawn(move || {
                    for _ in 0..ROUNDS {
                        let _p = s.blocking_acquire().unwrap();
                        occ.enter();
                        occ.exit();
                    }
                })
            })
            .collect();
        let runtimes: Vec<_> = (0..2)
            .map(|_| {
                let (s, occ) = (s.clone(), occ.clone());
                thread::spawn(move || {
                    E::block_on(join_all((0..4).map(|_| async {
                        for _ in 0..ROUNDS / 4 {
                            let _p = s.acquire().await.unwrap();
                            occ.enter();
                            yield_now().await;
                            occ.exit();
                        }
                    })));
                })
            })
            .collect();
        for t in blockers.into_iter().chain(runtimes) {
            t.join().unwrap();
        }
        assert_eq!(occ.total.load(SeqCst), 4 * ROUNDS);
        assert_eq!(occ.max.load(SeqCst), 1);
        assert_eq!(s.available_permits(), 1);
    });
}

macro_rules! policy_tests {
    ($backend:ty, $exec:ty, $strict:expr) => {
        type B = $backend;
        type E = $exec;
        const STRICT: bool = $strict;

        #[test]
        fn thousand_tasks_then_exactly_five_permits() {
            super::super::thousand_tasks_then_exactly_five_permits::<B, E>(STRICT);
        }
        #[test]
        fn release_between_failed_try_and_registration_is_not_lost() {
            super::super::release_between_failed_try_and_registration_is_not_lost::<B>(STRICT);
        }
        #[test]
        fn cancel_while_queued_lets_next_waiter_run() {
            super::super::cancel_while_queued_lets_next_waiter_run::<B>(STRICT);
        }
        #[test]
        fn notified_waiter_dropped_passes_wakeup_on() {
            super::super::notified_waiter_dropped_passes_wakeup_on::<B>(STRICT);
        }
        #[test]
        fn cancel_after_partial_assignment_returns_permits() {
            super::super::cancel_after_partial_assignment_returns_permits::<B>(STRICT);
        }
        #[test]
        fn acquire_many_served_despite_stream_from_other_thread() {
            super::super::acquire_many_served_despite_stream_from_other_thread::<B, E>(STRICT);
        }
        #[test]
        fn close_wakes_all_waiters_with_error() {
            super::super::close_wakes_all_waiters_with_error::<B, E>(STRICT);
        }
        #[test]
        fn forget_permits_never_reopens_closed() {
            super::super::forget_permits_never_reopens_closed::<B>(STRICT);
        }
        #[test]
        fn max_permits_overflow_panics() {
            super::super::max_permits_overflow_panics::<B>(STRICT);
        }
        #[test]
        fn dropping_permits_past_max_permits_panics() {
            super::super::dropping_permits_past_max_permits_panics::<B>(STRICT);
        }
        #[test]
        fn acquire_zero_returns_at_once_behind_waiters() {
            super::super::acquire_zero_returns_at_once_behind_waiters::<B>(STRICT);
        }
        #[test]
        fn mixed_acquire_many_across_threads_never_strands_permits() {
            super::super::mixed_acquire_many_across_threads_never_strands_permits::<B, E>(STRICT);
        }
        #[test]
        fn split_and_merge() {
            super::super::split_and_merge::<B>(STRICT);
        }
        #[test]
        fn reentrant_waker_does_not_deadlock() {
            super::super::reentrant_waker_does_not_deadlock::<B>(STRICT);
        }
        #[test]
        fn cross_thread_2_threads_1_permit() {
            super::super::cross_thread_exact_count::<B, E>(2, 1, STRICT);
        }
        #[test]
        fn cross_thread_4_threads_4_permits() {
            super::super::cross_thread_exact_count::<B, E>(4, 4, STRICT);
        }
        #[test]
        fn cross_thread_4_threads_1_permit() {
            super::super::cross_thread_exact_count::<B, E>(4, 1, STRICT);
        }
        #[test]
        fn cancellation_storm_loses_nothing() {
            super::super::cancellation_storm_loses_nothing::<B, E>(STRICT);
        }
        #[test]
        fn owned_permits_return_on_drop() {
            super::super::owned_permits_return_on_drop::<B, E>(STRICT);
        }
        #[test]
        fn blocking_and_async_waiters_mixed() {
            super::super::blocking_and_async_waiters_mixed::<B, E>(STRICT);
        }
    };
}

/// Instantiates the whole suite for one backend on one executor, under both
/// policies (every backend's `notify_one` is FIFO, so the strict-order tests
/// run on all of them; the `notify_last` order does not matter here).
macro_rules! contract_suite {
    ($name:ident, $backend:ty, $exec:ty, $($order:tt)*) => {
        mod $name {
            mod barging {
                policy_tests!($backend, $exec, false);
            }
            mod strict {
                policy_tests!($backend, $exec, true);

                #[test]
                fn strict_fifo_serves_in_arrival_order() {
                    super::super::strict_fifo_serves_in_arrival_order::<B>();
                }
                #[test]
                fn strict_fifo_head_acquire_many_blocks_later_waiters() {
                    super::super::strict_fifo_head_acquire_many_blocks_later_waiters::<B>();
                }
                #[test]
                fn strict_add_permits_hands_to_queued_waiter() {
                    super::super::strict_add_permits_hands_to_queued_waiter::<B>();
                }
                #[test]
                fn strict_acquire_many_at_head_woken_once_when_served() {
                    super::super::strict_acquire_many_at_head_woken_once_when_served::<B>();
                }
            }
        }
    };
}

for_each_backend!(contract_suite);

use common::Compio;

/// `blocking_acquire` refuses to run on a compio runtime's thread.
#[test]
fn blocking_acquire_panics_inside_compio_runtime() {
    let s = Semaphore::new(1);
    let r = catch_unwind(AssertUnwindSafe(|| {
        Compio::block_on(async { s.blocking_acquire().map(drop) })
    }));
    let msg = r.expect_err("must panic");
    let msg = msg
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| msg.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(msg.contains("compio runtime"), "clear message: {msg}");
    assert_eq!(s.available_permits(), 1);
}

/// A `static` semaphore built with `const_new`, in strict FIFO order.
#[test]
fn const_new_in_static() {
    static S: Semaphore = Semaphore::const_new(2).strict_fifo();
    let a = S.try_acquire().unwrap();
    assert!(S.is_strict_fifo());
    assert_eq!(S.available_permits(), 1);
    drop(a);
    assert_eq!(S.available_permits(), 2);
}
