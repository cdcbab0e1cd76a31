//! The per-instance starvation bound (`.starvation_bound(Duration)`) of the
//! default policy: a waiter that was woken and found the permits taken by a
//! barging task gets them handed to it once it has waited that long, or
//! been passed over `STARVATION_PASSES` times, and not before. The extremes
//! make the behaviour exact without timing: `Duration::ZERO` (every
//! passed-over waiter has starved), `Duration::MAX` (none ever has), and an
//! hour (only the count can run out).
#![cfg(not(loom))]

mod common;

use std::{
    pin::pin,
    task::{Poll, Waker},
    time::Duration,
};

use common::*;
use compio_sync::{Mutex, STARVATION_BOUND, STARVATION_PASSES, Semaphore, TryAcquireError};

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

/// A waiter woken after its bound ran out, and passed over once, claims the
/// permits: the next release is handed to it. (The clock is read at the
/// first pass; later ones read it only every few passes, and
/// `STARVATION_PASSES` ends the wait by count before many are skipped.)
macro_rules! waiter_past_its_bound_claims_at_its_first_pass {
    ($sem:expr, $bound:expr) => {{
        let sem = $sem;
        let mut waiter = pin!(sem.acquire());
        let held = sem.try_acquire().unwrap();
        assert!(poll_once(waiter.as_mut(), Waker::noop()).is_pending());
        std::thread::sleep($bound * 2);
        drop(held);
        let barger = sem
            .try_acquire()
            .expect("nobody has claimed the permits yet");
        assert!(poll_once(waiter.as_mut(), Waker::noop()).is_pending());
        drop(barger);
        assert_eq!(sem.available_permits(), 0, "handed to the starving waiter");
        assert!(sem.try_acquire().is_err(), "barging is closed");
        assert!(matches!(
            poll_once(waiter.as_mut(), Waker::noop()),
            Poll::Ready(Ok(_))
        ));
        assert_eq!(sem.available_permits(), 1);
    }};
}

#[test]
fn waiter_past_its_bound_claims_at_its_first_pass() {
    let bound = Duration::from_millis(2);
    waiter_past_its_bound_claims_at_its_first_pass!(
        Semaphore::new(1).starvation_bound(bound),
        bound
    );
}

#[test]
fn local_waiter_past_its_bound_claims_at_its_first_pass() {
    let bound = Duration::from_millis(2);
    waiter_past_its_bound_claims_at_its_first_pass!(
        compio_sync::local::Semaphore::new(1).starvation_bound(bound),
        bound
    );
}

/// Passed over `STARVATION_PASSES - 1` times, a waiter whose bound is far
/// off still leaves the released permit to bargers; the next pass makes it
/// the priority waiter, and the release after it is handed to it.
macro_rules! starving_after_the_passes {
    ($sem:expr) => {{
        let sem = $sem;
        let mut waiter = pin!(sem.acquire());
        let mut held = sem.try_acquire().unwrap();
        assert!(poll_once(waiter.as_mut(), Waker::noop()).is_pending());
        for pass in 1..=STARVATION_PASSES {
            // The release wakes the waiter; a barger takes the permit first.
            drop(held);
            held = sem
                .try_acquire()
                .unwrap_or_else(|_| panic!("pass {pass}: the release is not handed over yet"));
            assert!(poll_once(waiter.as_mut(), Waker::noop()).is_pending());
        }
        drop(held);
        assert_eq!(
            sem.available_permits(),
            0,
            "after {STARVATION_PASSES} passes the release is handed to the waiter"
        );
        assert!(sem.try_acquire().is_err(), "barging is closed");
        assert!(matches!(
            poll_once(waiter.as_mut(), Waker::noop()),
            Poll::Ready(Ok(_))
        ));
        assert_eq!(sem.available_permits(), 1);
        assert!(
            sem.try_acquire().is_ok(),
            "barging reopens once it is served"
        );
    }};
}

#[test]
fn waiter_passed_over_starvation_passes_times_is_handed_the_permit() {
    starving_after_the_passes!(Semaphore::new(1).starvation_bound(Duration::from_secs(3600)));
}

#[test]
fn local_waiter_passed_over_starvation_passes_times_is_handed_the_permit() {
    starving_after_the_passes!(
        compio_sync::local::Semaphore::new(1).starvation_bound(Duration::from_secs(3600))
    );
}

/// The default bound counts passes too: a `Mutex` whose holder takes the
/// lock back at every release, before the woken waiter runs (one runtime's
/// pattern), hands it over after `STARVATION_PASSES` passes.
#[test]
fn mutex_with_the_default_bound_hands_over_after_the_passes() {
    let mutex = Mutex::new(0u32);
    let mut waiter = pin!(mutex.lock());
    let mut held = mutex.try_lock().unwrap();
    assert!(poll_once(waiter.as_mut(), Waker::noop()).is_pending());
    for pass in 1..=STARVATION_PASSES {
        drop(held);
        held = mutex
            .try_lock()
            .unwrap_or_else(|_| panic!("pass {pass}: the release is not handed over yet"));
        *held += 1;
        assert!(poll_once(waiter.as_mut(), Waker::noop()).is_pending());
    }
    drop(held);
    assert!(mutex.try_lock().is_err(), "handed to the starving waiter");
    let Poll::Ready(guard) = poll_once(waiter.as_mut(), Waker::noop()) else {
        panic!("the lock was handed to the waiter");
    };
    assert_eq!(*guard, STARVATION_PASSES);
}
