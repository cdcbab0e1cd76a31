//! The per-instance starvation bound (`.starvation_bound(Duration)`) of the
//! default policy: a waiter that was woken and found the permits taken by a
//! barging task gets them handed to it once it has waited that long, and
//! not before. The two extremes make the behaviour exact without timing:
//! `Duration::ZERO` (every passed-over waiter has starved) and
//! `Duration::MAX` (none ever has).
#![cfg(not(loom))]

mod common;

use std::{
    pin::pin,
    task::{Poll, Waker},
    time::Duration,
};

use common::*;
use compio_sync::{Mutex, STARVATION_BOUND, Semaphore, TryAcquireError};

/// One round of "passed over": `waiter` queues behind a held permit, the
/// permit is released (waking it), a barging `try_acquire` takes it before
/// the waiter runs, and the waiter runs and finds it taken. Returns the
/// barger's permit.
macro_rules! pass_over {
    ($sem:expr, $waiter:expr) => {{
        let held = $sem.try_acquire().unwrap();
        assert!(poll_once($waiter.as_mut(), Waker::noop()).is_pending());
        drop(held);
        let barger = $sem
            .try_acquire()
            .expect("default policy: a free permit may be taken while a waiter is woken");
        assert!(
            poll_once($waiter.as_mut(), Waker::noop()).is_pending(),
            "the permit is taken"
        );
        barger
    }};
}

#[test]
fn zero_bound_hands_the_next_release_to_a_passed_over_waiter() {
    let sem = Semaphore::new(1).starvation_bound(Duration::ZERO);
    let mut waiter = pin!(sem.acquire());
    let barger = pass_over!(sem, waiter);
    drop(barger);
    // The waiter starved: the release went to it, and barging is closed.
    assert_eq!(sem.try_acquire().err(), Some(TryAcquireError::NoPermits));
    let Poll::Ready(Ok(permit)) = poll_once(waiter.as_mut(), Waker::noop()) else {
        panic!("the release was not handed to the starving waiter");
    };
    drop(permit);
    assert_eq!(sem.available_permits(), 1);
    assert!(
        sem.try_acquire().is_ok(),
        "barging reopens once it is served"
    );
}

#[test]
fn unbounded_waiter_is_passed_over_again_and_again() {
    let sem = Semaphore::new(1).starvation_bound(Duration::MAX);
    let mut waiter = pin!(sem.acquire());
    for _ in 0..100 {
        let barger = pass_over!(sem, waiter);
        drop(barger);
        // Nobody starves under an infinite bound: the permit is free for
        // whoever comes first, here the next `pass_over!`'s holder.
    }
    // It still gets the permit when nobody barges.
    let Poll::Ready(Ok(_)) = poll_once(waiter.as_mut(), Waker::noop()) else {
        panic!("a free permit and a woken waiter");
    };
}

#[test]
fn acquire_many_is_handed_its_permits_even_with_an_unbounded_bound() {
    let sem = Semaphore::new(2).starvation_bound(Duration::MAX);
    let held = sem.try_acquire_many(2).unwrap();
    let mut many = pin!(sem.acquire_many(2));
    assert!(poll_once(many.as_mut(), Waker::noop()).is_pending());
    drop(held);
    let barger = sem.try_acquire().unwrap();
    assert!(poll_once(many.as_mut(), Waker::noop()).is_pending());
    // An `acquire_many(n > 1)` at the head claims the permits as they come,
    // whatever the bound: otherwise single permits could keep it waiting
    // forever.
    drop(barger);
    assert_eq!(sem.try_acquire().err(), Some(TryAcquireError::NoPermits));
    assert!(matches!(
        poll_once(many.as_mut(), Waker::noop()),
        Poll::Ready(Ok(_))
    ));
}

#[test]
fn strict_fifo_ignores_the_bound() {
    let sem = Semaphore::new(1)
        .starvation_bound(Duration::MAX)
        .strict_fifo();
    let held = sem.try_acquire().unwrap();
    let mut waiter = pin!(sem.acquire());
    assert!(poll_once(waiter.as_mut(), Waker::noop()).is_pending());
    drop(held);
    assert!(sem.try_acquire().is_err(), "handed over, as in tokio");
    assert!(poll_once(waiter.as_mut(), Waker::noop()).is_ready());
}

#[test]
fn mutex_zero_bound_hands_the_lock_to_a_passed_over_waiter() {
    let mutex = Mutex::new(0).starvation_bound(Duration::ZERO);
    let held = mutex.try_lock().unwrap();
    let mut waiter = pin!(mutex.lock());
    assert!(poll_once(waiter.as_mut(), Waker::noop()).is_pending());
    drop(held);
    let barger = mutex.try_lock().expect("default policy barges");
    assert!(poll_once(waiter.as_mut(), Waker::noop()).is_pending());
    drop(barger);
    assert!(mutex.try_lock().is_err(), "handed to the starving waiter");
    let Poll::Ready(mut guard) = poll_once(waiter.as_mut(), Waker::noop()) else {
        panic!("the lock was not handed over");
    };
    *guard += 1;
}

#[test]
fn local_semaphore_has_the_same_bound() {
    let sem = compio_sync::local::Semaphore::new(1).starvation_bound(Duration::ZERO);
    let mut waiter = pin!(sem.acquire());
    let barger = pass_over!(sem, waiter);
    drop(barger);
    assert!(sem.try_acquire().is_err());
    assert!(poll_once(waiter.as_mut(), Waker::noop()).is_ready());
}

#[test]
fn default_bound_is_starvation_bound_and_debug_shows_it() {
    let sem = Semaphore::new(1);
    assert!(format!("{sem:?}").contains(&format!("starvation_bound: {STARVATION_BOUND:?}")));
    let custom = Semaphore::new(1).starvation_bound(Duration::from_micros(100));
    assert!(format!("{custom:?}").contains("starvation_bound: 100µs"));
}

#[test]
fn const_builder_in_a_static() {
    static LIMIT: Semaphore = Semaphore::const_new(2).starvation_bound(Duration::from_millis(1));
    assert_eq!(LIMIT.available_permits(), 2);
}

/// A waiter passed over much faster than its bound runs out reads the clock
/// only every few of those wake-ups (at most 8 apart), not on each: once the
/// bound is past, it claims the permits within 8 more passes, and the next
/// release is handed to it. The sleep only makes sure the bound is past; a
/// machine slow enough to pass it earlier ends the test earlier, with the
/// same hand-over.
macro_rules! starving_waiter_claims_within_a_few_passes {
    ($sem:expr, $bound:expr) => {{
        let sem = $sem;
        let mut waiter = pin!(sem.acquire());
        let mut handed = false;
        for _ in 0..32 {
            drop(pass_over!(sem, waiter));
            if sem.available_permits() == 0 {
                handed = true;
                break;
            }
        }
        if !handed {
            std::thread::sleep($bound * 2);
            for _ in 0..8 {
                drop(pass_over!(sem, waiter));
                if sem.available_permits() == 0 {
                    handed = true;
                    break;
                }
            }
        }
        assert!(handed, "not handed over within 8 passes past its bound");
        assert!(sem.try_acquire().is_err(), "barging is closed");
        assert!(matches!(
            poll_once(waiter.as_mut(), Waker::noop()),
            Poll::Ready(Ok(_))
        ));
        assert_eq!(sem.available_permits(), 1);
    }};
}

#[test]
fn starving_waiter_claims_within_a_few_passes_after_its_bound() {
    let bound = Duration::from_millis(2);
    starving_waiter_claims_within_a_few_passes!(Semaphore::new(1).starvation_bound(bound), bound);
}

#[test]
fn local_starving_waiter_claims_within_a_few_passes_after_its_bound() {
    let bound = Duration::from_millis(2);
    starving_waiter_claims_within_a_few_passes!(
        compio_sync::local::Semaphore::new(1).starvation_bound(bound),
        bound
    );
}
