//! The Barrier contract suite, written once generic over the backend `B` and
//! the executor `E`, instantiated for every backend on compio and on
//! `futures::executor` (`for_each_backend!` at the end); then the local
//! flavor on one thread. tokio's own `sync_barrier` tests, with only the
//! import changed, are in `tests/tokio_barrier.rs`.
//!
//! What is pinned beyond tokio: cancel safety (a dropped `wait` takes its
//! arrival back unless its generation completed), exactly one leader per
//! generation under cancellation storms, misbehaving wakers, and thousands of
//! parties across runtimes.
#![cfg(not(loom))]

mod common;

use std::{
    cell::Cell,
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::{Pin, pin},
    rc::Rc,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
    },
    task::{Poll, Waker},
    thread,
};

use common::*;
use compio_sync::{Barrier, BarrierWait, BarrierWaitResult, Notify, backend::ThreadSafe};
use futures::future::join_all;

fn poll<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    poll_once(f, Waker::noop())
}

/// The arrivals the barrier counts in its current generation (from its
/// `Debug`, which is all a test can see).
fn arrived<T: std::fmt::Debug>(barrier: &T) -> usize {
    field(barrier, "arrived")
}

/// The barrier's generation number (from its `Debug`).
fn generation<T: std::fmt::Debug>(barrier: &T) -> usize {
    field(barrier, "generation")
}

fn field<T: std::fmt::Debug>(value: &T, name: &str) -> usize {
    let debug = format!("{value:?}");
    let at = debug.find(&format!("{name}: ")).expect("field in Debug") + name.len() + 2;
    debug[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// A small deterministic PRNG (xorshift64*), so storms replay exactly.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// tokio: a barrier for 0 behaves as one for 1: every wait leads at once.
pub fn zero_parties_behaves_as_one<B: ThreadSafe>() {
    let b = Barrier::<B>::with_backend(0);
    for _ in 0..3 {
        let Poll::Ready(r) = poll(pin!(b.wait())) else {
            panic!("a barrier for 0 never blocks")
        };
        assert!(r.is_leader());
    }
    assert_eq!(generation(&b), 3);
}

/// The `n`-th arrival leads, returns at once, and wakes every other party
/// exactly once; they return `false`.
pub fn last_arrival_leads_and_wakes_every_party<B: ThreadSafe>() {
    let b = Barrier::<B>::with_backend(3);
    let (w1, waker1) = counting_waker();
    let (w2, waker2) = counting_waker();
    let mut f1 = pin!(b.wait());
    let mut f2 = pin!(b.wait());
    assert!(poll_once(f1.as_mut(), &waker1).is_pending());
    assert!(poll_once(f2.as_mut(), &waker2).is_pending());
    assert_eq!(arrived(&b), 2);
    let Poll::Ready(r3) = poll(pin!(b.wait())) else {
        panic!("the last arrival completes the generation")
    };
    assert!(r3.is_leader());
    assert_eq!((w1.wakes.load(SeqCst), w2.wakes.load(SeqCst)), (1, 1));
    let Poll::Ready(r1) = poll_once(f1.as_mut(), &waker1) else {
        panic!()
    };
    let Poll::Ready(r2) = poll_once(f2.as_mut(), &waker2) else {
        panic!()
    };
    assert!(!r1.is_leader() && !r2.is_leader());
    assert_eq!((arrived(&b), generation(&b)), (0, 1));
}

/// Generations follow each other on one barrier, each with one leader.
pub fn generations_are_reusable<B: ThreadSafe, E: Exec>() {
    const N: usize = 5;
    const ROUNDS: usize = 20;
    let b = Barrier::<B>::with_backend(N);
    let leaders = AtomicUsize::new(0);
    E::block_on(join_all((0..N).map(|_| async {
        for _ in 0..ROUNDS {
            if b.wait().await.is_leader() {
                leaders.fetch_add(1, SeqCst);
            }
        }
    })));
    assert_eq!(leaders.load(SeqCst), ROUNDS);
    assert_eq!((arrived(&b), generation(&b)), (0, ROUNDS));
}

/// The cancel safety tokio lacks (tokio#6494): a wait dropped before its
/// generation completes takes its arrival back, and the others keep waiting
/// for a replacement.
pub fn dropped_wait_takes_back_its_arrival<B: ThreadSafe>() {
    let b = Barrier::<B>::with_backend(3);
    let mut first = pin!(b.wait());
    assert!(poll(first.as_mut()).is_pending());
    {
        let mut dropped = pin!(b.wait());
        assert!(poll(dropped.as_mut()).is_pending());
        assert_eq!(arrived(&b), 2);
    }
    assert_eq!(arrived(&b), 1, "the dropped wait's arrival is taken back");
    let mut second = pin!(b.wait());
    assert!(
        poll(second.as_mut()).is_pending(),
        "the replacement is not the last"
    );
    assert!(poll(first.as_mut()).is_pending(), "still waiting");
    let Poll::Ready(third) = poll(pin!(b.wait())) else {
        panic!("the third live arrival completes it")
    };
    assert!(third.is_leader());
    assert!(matches!(poll(first.as_mut()), Poll::Ready(r) if !r.is_leader()));
    assert!(matches!(poll(second.as_mut()), Poll::Ready(r) if !r.is_leader()));
}

/// A wait dropped after its generation completed (woken, not yet polled)
/// undoes nothing: the generation completed for it too, and the next
/// generation starts from zero.
pub fn dropped_after_completion_undoes_nothing<B: ThreadSafe>() {
    let b = Barrier::<B>::with_backend(2);
    let (woken, waker) = counting_waker();
    {
        let mut early = pin!(b.wait());
        assert!(poll_once(early.as_mut(), &waker).is_pending());
        let Poll::Ready(r) = poll(pin!(b.wait())) else {
            panic!()
        };
        assert!(r.is_leader());
        assert_eq!(woken.wakes.load(SeqCst), 1);
    } // `early` dropped while notified, never observed
    assert_eq!((arrived(&b), generation(&b)), (0, 1));
    let mut next = pin!(b.wait());
    assert!(poll(next.as_mut()).is_pending(), "a fresh generation");
    assert!(matches!(poll(pin!(b.wait())), Poll::Ready(r) if r.is_leader()));
    assert!(matches!(poll(next.as_mut()), Poll::Ready(r) if !r.is_leader()));
}

/// A wait that was never polled never arrived.
pub fn unpolled_wait_never_arrives<B: ThreadSafe>() {
    let b = Barrier::<B>::with_backend(2);
    drop(b.wait());
    assert_eq!(arrived(&b), 0);
    let mut first = pin!(b.wait());
    assert!(poll(first.as_mut()).is_pending());
}

/// A completed wait stays completed, with the same result.
pub fn completed_wait_stays_completed<B: ThreadSafe>() {
    let b = Barrier::<B>::with_backend(1);
    let mut w = pin!(b.wait());
    assert!(matches!(poll(w.as_mut()), Poll::Ready(r) if r.is_leader()));
    assert!(matches!(poll(w.as_mut()), Poll::Ready(r) if r.is_leader()));
    assert_eq!(generation(&b), 1, "polling again does not arrive again");
}

/// A waker whose `clone` panics while the wait registers: the arrival is
/// counted, the panic reaches the poller, and the wait is still usable:
/// polled again with a good waker it completes with its generation; dropped,
/// it takes its arrival back.
pub fn waker_clone_panic_while_queueing_keeps_the_arrival_consistent<B: ThreadSafe>() {
    let b = Barrier::<B>::with_backend(2);
    let (hostile, waker) = Hostile::new();
    // Dropped after the panic: the arrival is taken back.
    {
        let mut w = pin!(b.wait());
        hostile.panic_on_clone(1);
        assert!(catch_unwind(AssertUnwindSafe(|| poll_once(w.as_mut(), &waker))).is_err());
        assert_eq!(arrived(&b), 1, "arrived, not queued");
    }
    assert_eq!(arrived(&b), 0);
    // Polled again after the panic: it queues and completes.
    let mut w = pin!(b.wait());
    hostile.panic_on_clone(1);
    assert!(catch_unwind(AssertUnwindSafe(|| poll_once(w.as_mut(), &waker))).is_err());
    let (woken, good) = counting_waker();
    assert!(poll_once(w.as_mut(), &good).is_pending());
    assert!(matches!(poll(pin!(b.wait())), Poll::Ready(r) if r.is_leader()));
    assert_eq!(woken.wakes.load(SeqCst), 1);
    assert!(matches!(poll_once(w.as_mut(), &good), Poll::Ready(r) if !r.is_leader()));
}

/// A waker that panics when woken: the leader's sweep still wakes every
/// other party, then the panic reaches the leader; the generation has
/// completed, the leader's wait reports it led, and the barrier goes on.
pub fn waker_wake_panic_in_the_sweep_completes_the_generation<B: ThreadSafe>() {
    let b = Barrier::<B>::with_backend(3);
    let (hostile, bad) = Hostile::new();
    let (woken, good) = counting_waker();
    let mut f1 = pin!(b.wait());
    let mut f2 = pin!(b.wait());
    assert!(poll_once(f1.as_mut(), &bad).is_pending());
    assert!(poll_once(f2.as_mut(), &good).is_pending());
    hostile.panic_on_wake(true);
    let mut leader = pin!(b.wait());
    assert!(catch_unwind(AssertUnwindSafe(|| poll(leader.as_mut()))).is_err());
    hostile.panic_on_wake(false);
    assert_eq!((hostile.wakes(), woken.wakes.load(SeqCst)), (1, 1));
    assert!(matches!(poll(leader.as_mut()), Poll::Ready(r) if r.is_leader()));
    assert!(matches!(poll(f1.as_mut()), Poll::Ready(r) if !r.is_leader()));
    assert!(matches!(poll(f2.as_mut()), Poll::Ready(r) if !r.is_leader()));
    assert_eq!((arrived(&b), generation(&b)), (0, 1));
}

/// One thread, many tasks, seeded random cancellation: every task keeps
/// `ROUNDS` completions, some through waits dropped after their generation
/// completed. On one thread the test knows exactly which: the leader bumps
/// `completed` before any other task runs, so a dropped wait's generation
/// completed iff `completed` moved since it arrived. Exact counts: every
/// generation has `N` completions and one leader.
pub fn random_cancellation_keeps_exact_counts_on_one_thread<B: ThreadSafe, E: Exec>() {
    const TASKS: usize = 12;
    const N: usize = 10;
    const ROUNDS: usize = 200;
    let b = Barrier::<B>::with_backend(N);
    let completed = Cell::new(0usize);
    let completions = Cell::new(0usize);
    let leaders = Cell::new(0usize);
    let stop = Cell::new(false);
    let wake_stop = Notify::new();
    let (late_drops, early_drops) = (Cell::new(0usize), Cell::new(0usize));
    E::block_on(join_all((0..TASKS).map(|task| {
        let (b, completed, completions, leaders, stop, wake_stop) =
            (&b, &completed, &completions, &leaders, &stop, &wake_stop);
        let (late_drops, early_drops) = (&late_drops, &early_drops);
        async move {
            let mut rng = Rng::new(task as u64 + 1);
            let count = |r: BarrierWaitResult| {
                completions.set(completions.get() + 1);
                if r.is_leader() {
                    leaders.set(leaders.get() + 1);
                    completed.set(completed.get() + 1);
                    if completed.get() == ROUNDS {
                        stop.set(true);
                        wake_stop.notify_waiters();
                    }
                }
            };
            while !stop.get() {
                // Stay away a while, so that generations fill slowly and
                // some drops come before their generation completes.
                for _ in 0..rng.below(8) {
                    yield_now().await;
                }
                if stop.get() {
                    break;
                }
                let mut w = pin!(b.wait());
                let mut stopped = pin!(wake_stop.notified());
                let seen = completed.get();
                // Polls before giving up: 0 = wait until released or
                // stopped (parked in the queue meanwhile).
                let budget = rng.below(4);
                let mut polls = 0;
                let done = std::future::poll_fn(|cx| {
                    // Give up without looking: the wait may have been woken
                    // (its generation completed) and is dropped unobserved.
                    if budget > 0 && polls >= budget {
                        return Poll::Ready(None);
                    }
                    if let Poll::Ready(r) = w.as_mut().poll(cx) {
                        return Poll::Ready(Some(r));
                    }
                    polls += 1;
                    if stopped.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(None);
                    }
                    if budget > 0 {
                        // Spin through the executor, so that other tasks
                        // arrive (and may complete this generation) before
                        // the drop.
                        cx.waker().wake_by_ref();
                    }
                    Poll::Pending
                })
                .await;
                match done {
                    Some(r) => count(r),
                    None if completed.get() != seen => {
                        // Its generation completed before the drop: it
                        // counted as a (non-leading) party.
                        completions.set(completions.get() + 1);
                        late_drops.set(late_drops.get() + 1);
                    }
                    None => early_drops.set(early_drops.get() + 1),
                }
            }
        }
    })));
    assert!(
        late_drops.get() > 0 && early_drops.get() > 0,
        "the storm dropped waits both before and after their generation completed ({} late, {} early)",
        late_drops.get(),
        early_drops.get()
    );
    assert_eq!(leaders.get(), ROUNDS, "one leader per generation");
    assert_eq!(completions.get(), N * ROUNDS, "N parties per generation");
    assert_eq!(
        (arrived(&b), generation(&b)),
        (0, ROUNDS),
        "every unfinished arrival taken back"
    );
}

/// Tasks on two runtimes wait with random cancellation (drops racing the
/// last arrival of their generation on the other thread) until `ROUNDS`
/// generations completed; then every wait is cancelled. Exact outcome: one
/// leader per generation, and with every future gone, no arrival left in the
/// barrier (each was completed or taken back).
pub fn cancellation_storm_across_threads<B: ThreadSafe, E: Exec>() {
    const PER_THREAD: usize = 8;
    const N: usize = 11;
    const ROUNDS: usize = 1000;
    with_watchdog(HANG, || {
        let b = Arc::new(Barrier::<B>::with_backend(N));
        let leaders = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let wake_stop = Arc::new(Notify::new());
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let (b, leaders, stop, wake_stop) =
                    (b.clone(), leaders.clone(), stop.clone(), wake_stop.clone());
                thread::spawn(move || {
                    E::block_on(join_all((0..PER_THREAD).map(|task| {
                        let (b, leaders, stop, wake_stop) = (&b, &leaders, &stop, &wake_stop);
                        async move {
                            let mut rng = Rng::new((t * PER_THREAD + task) as u64 + 7);
                            while !stop.load(SeqCst) {
                                let mut w = pin!(b.wait());
                                let mut stopped = pin!(wake_stop.notified());
                                stopped.as_mut().enable();
                                let budget = rng.below(4);
                                let mut polls = 0;
                                let done = std::future::poll_fn(|cx| {
                                    // Give up without looking (the wait may
                                    // have been released meanwhile).
                                    if budget > 0 && polls >= budget {
                                        return Poll::Ready(None);
                                    }
                                    if let Poll::Ready(r) = w.as_mut().poll(cx) {
                                        return Poll::Ready(Some(r));
                                    }
                                    polls += 1;
                                    if stop.load(SeqCst) || stopped.as_mut().poll(cx).is_ready() {
                                        return Poll::Ready(None);
                                    }
                                    if budget > 0 {
                                        cx.waker().wake_by_ref();
                                    }
                                    Poll::Pending
                                })
                                .await;
                                if let Some(r) = done
                                    && r.is_leader()
                                    && leaders.fetch_add(1, SeqCst) + 1 == ROUNDS
                                {
                                    stop.store(true, SeqCst);
                                    wake_stop.notify_waiters();
                                }
                            }
                        }
                    })));
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let leaders = leaders.load(SeqCst);
        assert!(leaders >= ROUNDS);
        assert_eq!(
            generation(&*b),
            leaders,
            "exactly one leader per generation"
        );
        assert_eq!(arrived(&*b), 0, "no arrival left behind by a dropped wait");
    });
}

/// Thousands of parties on two runtimes, several generations: every party
/// is released every time, with one leader per generation.
pub fn thousands_of_parties_across_two_runtimes<B: ThreadSafe, E: Exec>() {
    const PER_THREAD: usize = 1000;
    const ROUNDS: usize = 4;
    with_watchdog(HANG, || {
        let b = Arc::new(Barrier::<B>::with_backend(2 * PER_THREAD));
        let leaders = Arc::new(AtomicUsize::new(0));
        let released = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (b, leaders, released) = (b.clone(), leaders.clone(), released.clone());
                thread::spawn(move || {
                    E::block_on(join_all((0..PER_THREAD).map(|_| async {
                        for _ in 0..ROUNDS {
                            if b.wait().await.is_leader() {
                                leaders.fetch_add(1, SeqCst);
                            }
                            released.fetch_add(1, SeqCst);
                        }
                    })));
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(leaders.load(SeqCst), ROUNDS);
        assert_eq!(released.load(SeqCst), ROUNDS * 2 * PER_THREAD);
        assert_eq!((arrived(&*b), generation(&*b)), (0, ROUNDS));
    });
}

/// `Barrier` is `Send + Sync` and its future `Send` (tokio's
/// `barrier_future_is_send`), on every thread-safe backend.
pub fn auto_traits<B: ThreadSafe>() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Barrier<B>>();
    send::<BarrierWait<'static, B>>();
    send_sync::<BarrierWaitResult>();
}

macro_rules! contract_suite {
    ($name:ident, $backend:ty, $exec:ty, $($order:tt)*) => {
        mod $name {
            type B = $backend;
            type E = $exec;

            #[test]
            fn zero_parties_behaves_as_one() {
                super::zero_parties_behaves_as_one::<B>();
            }
            #[test]
            fn last_arrival_leads_and_wakes_every_party() {
                super::last_arrival_leads_and_wakes_every_party::<B>();
            }
            #[test]
            fn generations_are_reusable() {
                super::generations_are_reusable::<B, E>();
            }
            #[test]
            fn dropped_wait_takes_back_its_arrival() {
                super::dropped_wait_takes_back_its_arrival::<B>();
            }
            #[test]
            fn dropped_after_completion_undoes_nothing() {
                super::dropped_after_completion_undoes_nothing::<B>();
            }
            #[test]
            fn unpolled_wait_never_arrives() {
                super::unpolled_wait_never_arrives::<B>();
            }
            #[test]
            fn completed_wait_stays_completed() {
                super::completed_wait_stays_completed::<B>();
            }
            #[test]
            fn waker_clone_panic_while_queueing_keeps_the_arrival_consistent() {
                super::waker_clone_panic_while_queueing_keeps_the_arrival_consistent::<B>();
            }
            #[test]
            fn waker_wake_panic_in_the_sweep_completes_the_generation() {
                super::waker_wake_panic_in_the_sweep_completes_the_generation::<B>();
            }
            #[test]
            fn random_cancellation_keeps_exact_counts_on_one_thread() {
                super::random_cancellation_keeps_exact_counts_on_one_thread::<B, E>();
            }
            #[test]
            fn cancellation_storm_across_threads() {
                super::cancellation_storm_across_threads::<B, E>();
            }
            #[test]
            fn thousands_of_parties_across_two_runtimes() {
                super::thousands_of_parties_across_two_runtimes::<B, E>();
            }
            #[test]
            fn auto_traits() {
                super::auto_traits::<B>();
            }
        }
    };
}

for_each_backend!(contract_suite);

#[test]
#[should_panic(expected = "parties per generation")]
fn more_parties_than_a_generation_counts_panics() {
    let _ = Barrier::new(usize::MAX);
}

#[test]
fn debug_shows_parties_and_progress() {
    let b = Barrier::new(2);
    let mut w = pin!(b.wait());
    assert!(poll(w.as_mut()).is_pending());
    let debug = format!("{b:?}");
    assert!(
        debug.contains("n: 2") && debug.contains("arrived: 1"),
        "{debug}"
    );
    assert!(format!("{w:?}").contains("Arrived"));
}

/// The local flavor: the same source over plain cells, on one thread.
mod local {
    use super::*;
    use compio_sync::local::Barrier;

    fn on_both_executors(f: impl Fn(&dyn Fn(Pin<Box<dyn Future<Output = ()> + '_>>))) {
        f(&|fut| Compio::block_on(fut));
        f(&|fut| futures::executor::LocalPool::new().run_until(fut));
    }

    #[test]
    fn generations_with_one_leader_each() {
        on_both_executors(|run| {
            let b = Rc::new(Barrier::new(4));
            let leaders = Rc::new(Cell::new(0));
            run(Box::pin(async {
                join_all((0..4).map(|_| {
                    let (b, leaders) = (b.clone(), leaders.clone());
                    async move {
                        for _ in 0..10 {
                            if b.wait().await.is_leader() {
                                leaders.set(leaders.get() + 1);
                            }
                        }
                    }
                }))
                .await;
            }));
            assert_eq!(leaders.get(), 10);
            assert_eq!((arrived(&*b), generation(&*b)), (0, 10));
        });
    }

    #[test]
    fn dropped_wait_takes_back_its_arrival() {
        let b = Barrier::new(2);
        {
            let mut dropped = pin!(b.wait());
            assert!(poll(dropped.as_mut()).is_pending());
        }
        assert_eq!(arrived(&b), 0);
        let mut first = pin!(b.wait());
        assert!(poll(first.as_mut()).is_pending());
        assert!(matches!(poll(pin!(b.wait())), Poll::Ready(r) if r.is_leader()));
        assert!(matches!(poll(first.as_mut()), Poll::Ready(r) if !r.is_leader()));
    }

    #[test]
    fn dropped_after_completion_undoes_nothing() {
        let b = Barrier::new(2);
        {
            let mut early = pin!(b.wait());
            assert!(poll(early.as_mut()).is_pending());
            assert!(matches!(poll(pin!(b.wait())), Poll::Ready(r) if r.is_leader()));
        }
        assert_eq!((arrived(&b), generation(&b)), (0, 1));
    }

    #[test]
    fn zero_parties_behaves_as_one() {
        let b = Barrier::new(0);
        assert!(matches!(poll(pin!(b.wait())), Poll::Ready(r) if r.is_leader()));
    }
}
