//! The OnceCell and SetOnce contract suite, written once generic over the
//! backend `B` and the executor `E`, instantiated for every backend on
//! compio and on `futures::executor` (`for_each_backend!` at the end); then
//! the trait impls on the default backend, and the local flavor on one
//! thread. tokio's own `sync_once_cell`/`sync_set_once` tests, with only the
//! import changed, are in `tests/tokio_once_cell.rs` and
//! `tests/tokio_set_once.rs`.
//!
//! What is pinned: one initializer at a time; a cancelled, failing or
//! panicking initializer lets the next waiter try; exact counts under
//! cancellation storms across threads; misbehaving wakers; thousands of
//! waiters; the value dropped exactly once.
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
use compio_sync::{OnceCell, SetError, SetOnce, SetOnceError, backend::ThreadSafe};
use futures::future::join_all;

fn poll<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    poll_once(f, Waker::noop())
}

/// Counts its drops.
#[derive(Debug)]
struct Dropped(Arc<AtomicUsize>, u32);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
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

// ----------------------------------------------------------------- OnceCell

/// `set` fills an empty cell once; later it reports the cell initialized and
/// gives the value back.
pub fn set_fills_once_then_reports_already_initialized<B: ThreadSafe>() {
    let cell = OnceCell::<u32, B>::with_backend();
    assert_eq!(cell.get(), None);
    assert_eq!(cell.set(1), Ok(()));
    assert_eq!(cell.set(2), Err(SetError::AlreadyInitializedError(2)));
    assert_eq!(cell.get(), Some(&1));
    assert!(cell.initialized());
}

/// `set` while an initializer runs fails with `InitializingError`, and the
/// initializer's value wins.
pub fn set_during_initialization_is_an_initializing_error<B: ThreadSafe>() {
    let cell = OnceCell::<u32, B>::with_backend();
    let release = AtomicBool::new(false);
    let mut init = pin!(cell.get_or_init(|| std::future::poll_fn(|_| {
        if release.load(SeqCst) {
            Poll::Ready(1)
        } else {
            Poll::Pending
        }
    })));
    assert!(poll(init.as_mut()).is_pending());
    assert_eq!(cell.set(2), Err(SetError::InitializingError(2)));
    release.store(true, SeqCst);
    assert_eq!(poll(init.as_mut()), Poll::Ready(&1));
    assert_eq!(cell.set(3), Err(SetError::AlreadyInitializedError(3)));
}

/// Many tasks call `get_or_init` at once: one initializer runs, the others
/// wait for it and return its value.
pub fn concurrent_get_or_init_runs_one_initializer<B: ThreadSafe, E: Exec>() {
    let cell = OnceCell::<usize, B>::with_backend();
    let runs = AtomicUsize::new(0);
    let values = E::block_on(join_all((0..64).map(|i| {
        let (cell, runs) = (&cell, &runs);
        async move {
            *cell
                .get_or_init(|| async move {
                    runs.fetch_add(1, SeqCst);
                    yield_now().await;
                    i
                })
                .await
        }
    })));
    assert_eq!(runs.load(SeqCst), 1);
    assert!(values.iter().all(|&v| v == values[0]));
}

/// An initializer whose future is dropped leaves the cell empty, and the
/// next waiter (already queued) runs its own.
pub fn cancelled_initializer_lets_the_next_waiter_try<B: ThreadSafe>() {
    let cell = OnceCell::<u32, B>::with_backend();
    let (woken, waker) = counting_waker();
    let mut second = pin!(cell.get_or_init(|| async { 2 }));
    {
        let mut first = pin!(cell.get_or_init(std::future::pending));
        assert!(poll(first.as_mut()).is_pending(), "initializing");
        assert!(poll_once(second.as_mut(), &waker).is_pending(), "waiting");
        assert!(cell.set(9).unwrap_err().is_initializing_err());
    } // the initializer is cancelled
    assert_eq!(woken.wakes.load(SeqCst), 1, "the next waiter is woken");
    assert_eq!(cell.get(), None);
    assert_eq!(poll(second.as_mut()), Poll::Ready(&2));
}

/// An initializer that fails (`get_or_try_init`) returns its error, leaves
/// the cell empty, and lets the next waiter try.
pub fn failed_initializer_lets_the_next_waiter_try<B: ThreadSafe, E: Exec>() {
    let cell = OnceCell::<u32, B>::with_backend();
    let (a, b) = E::block_on(async {
        futures::join!(
            cell.get_or_try_init(|| async {
                yield_now().await;
                Err::<u32, _>("first fails")
            }),
            cell.get_or_try_init(|| async { Ok::<_, &str>(2) }),
        )
    });
    assert_eq!((a, b), (Err("first fails"), Ok(&2)));
    assert_eq!(
        E::block_on(cell.get_or_try_init(|| async { Err::<u32, ()>(()) })),
        Ok(&2),
        "an initialized cell runs no initializer"
    );
}

/// An initializer that panics is the same as one that is cancelled: the
/// panic reaches its caller, and the next waiter initializes.
pub fn panicking_initializer_lets_the_next_waiter_try<B: ThreadSafe>() {
    let cell = OnceCell::<u32, B>::with_backend();
    let (woken, waker) = counting_waker();
    let mut second = pin!(cell.get_or_init(|| async { 2 }));
    {
        let mut first = pin!(cell.get_or_init(|| async {
            yield_now().await;
            panic!("initializer panics")
        }));
        assert!(poll(first.as_mut()).is_pending());
        assert!(poll_once(second.as_mut(), &waker).is_pending());
        assert!(catch_unwind(AssertUnwindSafe(|| poll(first.as_mut()))).is_err());
    }
    assert_eq!(woken.wakes.load(SeqCst), 1);
    assert_eq!(poll(second.as_mut()), Poll::Ready(&2));
}

/// Waiters queued behind a successful initializer are all woken once, and
/// return its value without running theirs.
pub fn waiters_behind_a_successful_initializer_all_get_its_value<B: ThreadSafe>() {
    let cell = OnceCell::<u32, B>::with_backend();
    let release = AtomicBool::new(false);
    let mut first = pin!(cell.get_or_init(|| std::future::poll_fn(|_| {
        if release.load(SeqCst) {
            Poll::Ready(1)
        } else {
            Poll::Pending
        }
    })));
    assert!(poll(first.as_mut()).is_pending());
    let wakers: Vec<_> = (0..10).map(|_| counting_waker()).collect();
    let mut waiters: Vec<_> = (0..10)
        .map(|_| Box::pin(cell.get_or_init(|| async { unreachable!("not run") })))
        .collect();
    for (w, (_, waker)) in waiters.iter_mut().zip(&wakers) {
        assert!(poll_once(w.as_mut(), waker).is_pending());
    }
    release.store(true, SeqCst);
    assert_eq!(poll(first.as_mut()), Poll::Ready(&1));
    for (w, (count, waker)) in waiters.iter_mut().zip(&wakers) {
        assert_eq!(count.wakes.load(SeqCst), 1);
        assert_eq!(poll_once(w.as_mut(), waker), Poll::Ready(&1));
    }
}

/// A waiter whose waker panics in `clone` while queueing: the panic reaches
/// it, and dropping it leaves nothing behind. A waiter whose waker panics
/// when woken: the panic surfaces in the task that hands the permit on (here
/// a cancelled initializer's drop), the woken waiter still initializes, and
/// the others still get the value.
pub fn hostile_wakers_cost_only_their_own_task<B: ThreadSafe>() {
    let cell = OnceCell::<u32, B>::with_backend();
    let mut first = Box::pin(cell.get_or_init(std::future::pending));
    assert!(poll(first.as_mut()).is_pending());
    let (hostile, bad) = Hostile::new();
    {
        let mut w = pin!(cell.get_or_init(|| async { 3 }));
        hostile.panic_on_clone(1);
        assert!(catch_unwind(AssertUnwindSafe(|| poll_once(w.as_mut(), &bad))).is_err());
    }
    let mut panicky = pin!(cell.get_or_init(|| async { 4 }));
    assert!(poll_once(panicky.as_mut(), &bad).is_pending());
    let (woken, good) = counting_waker();
    let mut other = pin!(cell.get_or_init(|| async { unreachable!("not run") }));
    assert!(poll_once(other.as_mut(), &good).is_pending());
    hostile.panic_on_wake(true);
    // Cancelling the initializer hands the permit to the head waiter, whose
    // waker panics.
    let _ = catch_unwind(AssertUnwindSafe(|| drop(first)));
    hostile.panic_on_wake(false);
    assert_eq!(hostile.wakes(), 1, "the head waiter was woken");
    assert_eq!(poll_once(panicky.as_mut(), &good), Poll::Ready(&4));
    assert_eq!(woken.wakes.load(SeqCst), 1, "woken once the value is set");
    assert_eq!(poll_once(other.as_mut(), &good), Poll::Ready(&4));
}

/// Inside an initializer until dropped (completed, failed or cancelled).
struct Inside<'a>(&'a Occupancy);

impl<'a> Inside<'a> {
    fn enter(occupancy: &'a Occupancy) -> Self {
        occupancy.enter();
        Self(occupancy)
    }
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.0.exit();
    }
}

/// Tasks on two runtimes race `get_or_try_init`; the first `FAILS`
/// initializers to run fail, and random waiters are cancelled while they
/// wait or while they initialize. Exact counts: at most one initializer at
/// a time, exactly one success, every finished caller sees its value.
pub fn initializer_cancellation_storm_across_threads<B: ThreadSafe, E: Exec>() {
    const PER_THREAD: usize = 100;
    const FAILS: usize = 50;
    with_watchdog(HANG, || {
        let cell = Arc::new(OnceCell::<usize, B>::with_backend());
        let inside = Arc::new(Occupancy::default());
        let started = Arc::new(AtomicUsize::new(0));
        let successes = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let (cell, inside, started, successes, finished) = (
                    cell.clone(),
                    inside.clone(),
                    started.clone(),
                    successes.clone(),
                    finished.clone(),
                );
                thread::spawn(move || {
                    E::block_on(join_all((0..PER_THREAD).map(|task| {
                        let (cell, inside, started, successes, finished) =
                            (&cell, &inside, &started, &successes, &finished);
                        async move {
                            let mut rng = Rng::new((t * PER_THREAD + task) as u64 + 3);
                            loop {
                                let id = t * PER_THREAD + task;
                                let mut f = pin!(cell.get_or_try_init(|| async move {
                                    // Exits on drop too: a cancelled
                                    // initializer leaves the section.
                                    let _inside = Inside::enter(inside);
                                    let run = started.fetch_add(1, SeqCst);
                                    yield_now().await;
                                    if run < FAILS {
                                        Err(())
                                    } else {
                                        successes.fetch_add(1, SeqCst);
                                        Ok(id)
                                    }
                                }));
                                // 0: wait to the end; else give up after
                                // that many polls (waiting or initializing).
                                let budget = rng.below(3);
                                let mut polls = 0;
                                let done = std::future::poll_fn(|cx| {
                                    if budget > 0 && polls >= budget {
                                        return Poll::Ready(None);
                                    }
                                    polls += 1;
                                    match f.as_mut().poll(cx) {
                                        Poll::Ready(r) => Poll::Ready(Some(r.ok().copied())),
                                        Poll::Pending => Poll::Pending,
                                    }
                                })
                                .await;
                                match done {
                                    Some(Some(v)) => {
                                        assert_eq!(Some(&v), cell.get());
                                        finished.fetch_add(1, SeqCst);
                                        return;
                                    }
                                    // Failed, or cancelled: try again.
                                    Some(None) | None => yield_now().await,
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
        assert_eq!(inside.max.load(SeqCst), 1, "one initializer at a time");
        assert_eq!(successes.load(SeqCst), 1, "exactly one success");
        assert!(started.load(SeqCst) > FAILS);
        assert_eq!(finished.load(SeqCst), 2 * PER_THREAD);
        assert!(cell.get().is_some());
    });
}

/// Thousands of waiters on two runtimes behind one slow initializer: all
/// are released with its value, and only it ran.
pub fn thousands_of_waiters_across_two_runtimes<B: ThreadSafe, E: Exec>() {
    const PER_THREAD: usize = 1000;
    with_watchdog(HANG, || {
        let cell = Arc::new(OnceCell::<usize, B>::with_backend());
        let queued = Arc::new(AtomicUsize::new(0));
        let runs = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(SetOnce::<(), B>::with_backend());
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (cell, queued, runs, release) =
                    (cell.clone(), queued.clone(), runs.clone(), release.clone());
                thread::spawn(move || {
                    E::block_on(join_all((0..PER_THREAD).map(|_| async {
                        let f = cell.get_or_init(|| async {
                            runs.fetch_add(1, SeqCst);
                            release.wait().await;
                            7
                        });
                        queued.fetch_add(1, SeqCst);
                        *f.await
                    })))
                })
            })
            .collect();
        while queued.load(SeqCst) < 2 * PER_THREAD {
            thread::yield_now();
        }
        release.set(()).unwrap();
        for t in threads {
            assert!(t.join().unwrap().iter().all(|&v| v == 7));
        }
        assert_eq!(runs.load(SeqCst), 1);
    });
}

/// `OnceCell<T>` is `Send + Sync` for `T: Send + Sync`, and only `Send` for a
/// `Send + !Sync` `T`.
pub fn once_cell_auto_traits<B: ThreadSafe>() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<OnceCell<u32, B>>();
    send::<OnceCell<Cell<u32>, B>>();
    send_sync::<SetOnce<u32, B>>();
    send::<SetOnce<Cell<u32>, B>>();
}

// ------------------------------------------------------------------ SetOnce

/// Waiters created before `set` are woken once and get the value; later
/// `wait`s return it at once.
pub fn set_wakes_every_waiter<B: ThreadSafe>() {
    let cell = SetOnce::<u32, B>::with_backend();
    let wakers: Vec<_> = (0..5).map(|_| counting_waker()).collect();
    let mut waits: Vec<_> = (0..5).map(|_| Box::pin(cell.wait())).collect();
    for (w, (_, waker)) in waits.iter_mut().zip(&wakers) {
        assert!(poll_once(w.as_mut(), waker).is_pending());
    }
    assert_eq!(cell.set(4), Ok(()));
    for (w, (count, waker)) in waits.iter_mut().zip(&wakers) {
        assert_eq!(count.wakes.load(SeqCst), 1);
        assert_eq!(poll_once(w.as_mut(), waker), Poll::Ready(&4));
    }
    assert_eq!(poll(pin!(cell.wait())), Poll::Ready(&4));
    assert_eq!(cell.set(5), Err(SetOnceError(5)));
}

/// A dropped `wait` leaves nothing behind: the other waiters are still
/// woken by `set`.
pub fn dropped_wait_leaves_nothing_behind<B: ThreadSafe>() {
    let cell = SetOnce::<u32, B>::with_backend();
    let (woken, waker) = counting_waker();
    let mut kept = pin!(cell.wait());
    assert!(poll_once(kept.as_mut(), &waker).is_pending());
    for _ in 0..10 {
        let mut dropped = pin!(cell.wait());
        assert!(poll(dropped.as_mut()).is_pending());
    }
    cell.set(1).unwrap();
    assert_eq!(woken.wakes.load(SeqCst), 1);
    assert_eq!(poll_once(kept.as_mut(), &waker), Poll::Ready(&1));
}

/// `set` racing on threads: exactly one wins, and a loser returns only once
/// the winner's value is visible.
pub fn racing_sets_one_wins_and_losers_see_the_value<B: ThreadSafe>() {
    with_watchdog(HANG, || {
        for _ in 0..200 {
            let cell = Arc::new(SetOnce::<usize, B>::with_backend());
            let threads: Vec<_> = (0..3)
                .map(|i| {
                    let cell = cell.clone();
                    thread::spawn(move || match cell.set(i) {
                        Ok(()) => true,
                        Err(SetOnceError(v)) => {
                            assert_eq!(v, i, "the value comes back");
                            assert!(cell.get().is_some(), "a failed set sees the value");
                            false
                        }
                    })
                })
                .collect();
            let wins = threads.into_iter().map(|t| t.join().unwrap());
            assert_eq!(wins.filter(|&won| won).count(), 1);
        }
    });
}

/// Thousands of waiters on two runtimes, `set` from a third thread: every
/// waiter gets the value.
pub fn set_releases_thousands_of_waiters_across_two_runtimes<B: ThreadSafe, E: Exec>() {
    const PER_THREAD: usize = 1000;
    with_watchdog(HANG, || {
        let cell = Arc::new(SetOnce::<usize, B>::with_backend());
        let queued = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (cell, queued) = (cell.clone(), queued.clone());
                thread::spawn(move || {
                    E::block_on(join_all((0..PER_THREAD).map(|_| async {
                        let mut w = pin!(cell.wait());
                        // Polled once before counting: queued, or done.
                        let first = futures::poll!(w.as_mut());
                        queued.fetch_add(1, SeqCst);
                        match first {
                            Poll::Ready(v) => *v,
                            Poll::Pending => *w.await,
                        }
                    })))
                })
            })
            .collect();
        while queued.load(SeqCst) < 2 * PER_THREAD {
            thread::yield_now();
        }
        cell.set(11).unwrap();
        for t in threads {
            assert!(t.join().unwrap().iter().all(|&v| v == 11));
        }
    });
}

/// A `wait` whose waker panics when woken: `set` still wakes the others
/// (the panic surfaces in `set`, after the value is published).
pub fn set_with_a_panicking_waker_still_publishes<B: ThreadSafe>() {
    let cell = SetOnce::<u32, B>::with_backend();
    let (hostile, bad) = Hostile::new();
    let (woken, good) = counting_waker();
    let mut a = pin!(cell.wait());
    let mut b = pin!(cell.wait());
    assert!(poll_once(a.as_mut(), &bad).is_pending());
    assert!(poll_once(b.as_mut(), &good).is_pending());
    hostile.panic_on_wake(true);
    let _ = catch_unwind(AssertUnwindSafe(|| cell.set(3)));
    hostile.panic_on_wake(false);
    assert_eq!(woken.wakes.load(SeqCst), 1);
    assert_eq!(cell.get(), Some(&3));
    assert_eq!(poll_once(a.as_mut(), &good), Poll::Ready(&3));
    assert_eq!(poll_once(b.as_mut(), &good), Poll::Ready(&3));
}

macro_rules! contract_suite {
    ($name:ident, $backend:ty, $exec:ty, $($order:tt)*) => {
        mod $name {
            type B = $backend;
            type E = $exec;

            #[test]
            fn set_fills_once_then_reports_already_initialized() {
                super::set_fills_once_then_reports_already_initialized::<B>();
            }
            #[test]
            fn set_during_initialization_is_an_initializing_error() {
                super::set_during_initialization_is_an_initializing_error::<B>();
            }
            #[test]
            fn concurrent_get_or_init_runs_one_initializer() {
                super::concurrent_get_or_init_runs_one_initializer::<B, E>();
            }
            #[test]
            fn cancelled_initializer_lets_the_next_waiter_try() {
                super::cancelled_initializer_lets_the_next_waiter_try::<B>();
            }
            #[test]
            fn failed_initializer_lets_the_next_waiter_try() {
                super::failed_initializer_lets_the_next_waiter_try::<B, E>();
            }
            #[test]
            fn panicking_initializer_lets_the_next_waiter_try() {
                super::panicking_initializer_lets_the_next_waiter_try::<B>();
            }
            #[test]
            fn waiters_behind_a_successful_initializer_all_get_its_value() {
                super::waiters_behind_a_successful_initializer_all_get_its_value::<B>();
            }
            #[test]
            fn hostile_wakers_cost_only_their_own_task() {
                super::hostile_wakers_cost_only_their_own_task::<B>();
            }
            #[test]
            fn initializer_cancellation_storm_across_threads() {
                super::initializer_cancellation_storm_across_threads::<B, E>();
            }
            #[test]
            fn thousands_of_waiters_across_two_runtimes() {
                super::thousands_of_waiters_across_two_runtimes::<B, E>();
            }
            #[test]
            fn once_cell_auto_traits() {
                super::once_cell_auto_traits::<B>();
            }
            #[test]
            fn set_wakes_every_waiter() {
                super::set_wakes_every_waiter::<B>();
            }
            #[test]
            fn dropped_wait_leaves_nothing_behind() {
                super::dropped_wait_leaves_nothing_behind::<B>();
            }
            #[test]
            fn racing_sets_one_wins_and_losers_see_the_value() {
                super::racing_sets_one_wins_and_losers_see_the_value::<B>();
            }
            #[test]
            fn set_releases_thousands_of_waiters_across_two_runtimes() {
                super::set_releases_thousands_of_waiters_across_two_runtimes::<B, E>();
            }
            #[test]
            fn set_with_a_panicking_waker_still_publishes() {
                super::set_with_a_panicking_waker_still_publishes::<B>();
            }
        }
    };
}

for_each_backend!(contract_suite);

// ------------------------------------------- trait impls (default backend)

#[test]
fn once_cell_value_is_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    drop(OnceCell::from(Dropped(drops.clone(), 1)));
    assert_eq!(drops.load(SeqCst), 1);
    let cell = OnceCell::new();
    cell.set(Dropped(drops.clone(), 2)).unwrap();
    let Err(SetError::AlreadyInitializedError(back)) = cell.set(Dropped(drops.clone(), 3)) else {
        panic!()
    };
    drop(back);
    assert_eq!(drops.load(SeqCst), 2);
    let value = cell.into_inner().unwrap();
    assert_eq!((value.1, drops.load(SeqCst)), (2, 2));
    drop(value);
    assert_eq!(drops.load(SeqCst), 3);
}

#[test]
fn once_cell_take_empties_and_allows_a_new_value() {
    let mut cell = OnceCell::from(1);
    *cell.get_mut().unwrap() = 2;
    assert_eq!(cell.take(), Some(2));
    assert_eq!(cell.get(), None);
    assert_eq!(cell.take(), None);
    Compio::block_on(async {
        assert_eq!(*cell.get_or_init(|| async { 3 }).await, 3);
    });
    assert_eq!(cell.into_inner(), Some(3));
}

#[test]
fn once_cell_clone_eq_debug_default() {
    let a = OnceCell::from(5);
    let b = a.clone();
    assert_eq!(a, b);
    assert_ne!(a, OnceCell::new());
    assert_eq!(OnceCell::<u8>::default(), OnceCell::new_with(None));
    assert_eq!(format!("{a:?}"), "OnceCell { value: Some(5) }");
    let empty = OnceCell::<u8>::new();
    assert!(
        empty.clone().set(1).is_ok(),
        "a clone of an empty cell is empty"
    );
    assert_eq!(
        SetError::InitializingError(()).to_string(),
        "InitializingError"
    );
    assert_eq!(
        SetError::AlreadyInitializedError(()).to_string(),
        "AlreadyInitializedError"
    );
}

#[test]
fn set_once_clone_eq_debug_default() {
    let a = SetOnce::from(5);
    assert_eq!(a, a.clone());
    assert_ne!(a, SetOnce::new());
    assert_eq!(SetOnce::<u8>::default(), SetOnce::new_with(None));
    assert_eq!(format!("{a:?}"), "SetOnce { value: Some(5) }");
    assert_eq!(SetOnceError(()).to_string(), "SetOnceError");
    static EARLY: SetOnce<u8> = SetOnce::const_new_with(1);
    assert_eq!(EARLY.get(), Some(&1));
}

#[test]
fn set_once_value_is_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let cell = SetOnce::new();
    cell.set(Dropped(drops.clone(), 1)).unwrap();
    drop(cell.set(Dropped(drops.clone(), 2)));
    assert_eq!(drops.load(SeqCst), 1, "the rejected value");
    drop(cell);
    assert_eq!(drops.load(SeqCst), 2);
}

// -------------------------------------------------------------------- local

/// The local flavor: the same source over plain cells, on one thread.
mod local {
    use super::*;
    use compio_sync::local::{OnceCell, SetOnce};

    fn on_both_executors(f: impl Fn(&dyn Fn(Pin<Box<dyn Future<Output = ()> + '_>>))) {
        f(&|fut| Compio::block_on(fut));
        f(&|fut| futures::executor::LocalPool::new().run_until(fut));
    }

    #[test]
    fn one_initializer_runs_and_everyone_gets_its_value() {
        on_both_executors(|run| {
            let cell = Rc::new(OnceCell::new());
            let runs = Rc::new(Cell::new(0));
            run(Box::pin(async {
                let values = join_all((0..16).map(|i| {
                    let (cell, runs) = (cell.clone(), runs.clone());
                    async move {
                        *cell
                            .get_or_init(|| async move {
                                runs.set(runs.get() + 1);
                                yield_now().await;
                                i
                            })
                            .await
                    }
                }))
                .await;
                assert!(values.iter().all(|&v| v == values[0]));
            }));
            assert_eq!(runs.get(), 1);
        });
    }

    #[test]
    fn cancelled_and_failed_initializers_let_the_next_try() {
        let cell = OnceCell::new();
        let mut third = pin!(cell.get_or_init(|| async { 3 }));
        {
            let mut first = pin!(cell.get_or_init(std::future::pending));
            assert!(poll(first.as_mut()).is_pending());
            assert!(poll(third.as_mut()).is_pending());
        }
        assert_eq!(poll(third.as_mut()), Poll::Ready(&3));
        let empty = OnceCell::<u8>::new();
        assert_eq!(
            poll(pin!(empty.get_or_try_init(|| async { Err(()) }))),
            Poll::Ready(Err(()))
        );
        assert_eq!(empty.set(1), Ok(()));
    }

    #[test]
    fn set_once_wakes_waiters() {
        on_both_executors(|run| {
            let cell = Rc::new(SetOnce::new());
            run(Box::pin(async {
                let waiters = join_all((0..8).map(|_| {
                    let cell = cell.clone();
                    async move { *cell.wait().await }
                }));
                let (values, set) = futures::join!(waiters, async {
                    yield_now().await;
                    cell.set(9)
                });
                assert_eq!(set, Ok(()));
                assert!(values.iter().all(|&v| v == 9));
            }));
            assert!(cell.set(1).is_err());
        });
    }

    #[test]
    fn const_statics_in_a_thread_local() {
        thread_local! {
            static CELL: OnceCell<u32> = const { OnceCell::const_new() };
            static ONCE: SetOnce<u32> = const { SetOnce::const_new() };
        }
        CELL.with(|c| c.set(1).unwrap());
        ONCE.with(|c| c.set(2).unwrap());
        assert_eq!(CELL.with(|c| *c.get().unwrap()), 1);
        assert_eq!(ONCE.with(|c| *c.get().unwrap()), 2);
    }
}
