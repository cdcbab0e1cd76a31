//! Loom model of the semaphore's retry protocol as the fast paths left it: a
//! waiter woken with `RETRY` that finds the permit taken queues again still
//! counted and still holding `PENDING` (the wake-up in flight), and clears
//! `PENDING` only when it registers again, right before its re-check.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" cargo test --release -p compio-sync --test loom_fastpath`
//!
//! `loom::future::block_on` parks on loom's scheduler, so a lost wake-up shows
//! up as a deadlock that loom reports.
#![cfg(loom)]

mod common;
#[path = "common/loom.rs"]
mod loom_model;

use compio_sync::Semaphore;
use loom::{sync::Arc, thread};
use loom_model::{Backend, Class, check_on};

/// A release wakes the waiter with `RETRY`; the releasing thread barges
/// back in and takes the permit before the waiter looks, then releases it
/// again. That second release may see `PENDING` still held by the waiter
/// and leave its wake-up to it: the waiter, queueing again, must find the
/// permit on its re-check (or be woken for it). Then the barging thread
/// waits too, and must be woken by the waiter's release. Both complete, and
/// the permit is back at the end.
fn retrying_waiter_requeues_holding_pending<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let s = Arc::new(Semaphore::<B>::with_backend(0));
        let barger = {
            let s = s.clone();
            thread::spawn(move || {
                s.add_permits(1);
                if let Ok(p) = s.try_acquire() {
                    drop(p);
                }
                // Then waits itself: a `PENDING` the waiter failed to give
                // up would keep every later release from waking it.
                drop(loom::future::block_on(s.acquire()).unwrap());
            })
        };
        let p = loom::future::block_on(s.acquire()).unwrap();
        drop(p);
        barger.join().unwrap();
        assert_eq!(s.available_permits(), 1);
    });
}

#[test]
fn retrying_waiter_requeues_holding_pending_intrusive() {
    retrying_waiter_requeues_holding_pending::<compio_sync::backend::Intrusive>();
}

#[test]
fn retrying_waiter_requeues_holding_pending_mutex_vecdeque() {
    retrying_waiter_requeues_holding_pending::<compio_sync::backend::MutexVecDeque>();
}
