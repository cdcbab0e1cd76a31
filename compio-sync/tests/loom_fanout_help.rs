//! Loom models of the fan-out channels' wake protocol (`src/wait_set.rs`):
//! a send wakes one waiter of a shard first, which helps by waking the other
//! waiters of its shard that have not seen the event, while the sender
//! wakes them too; a wake stops at the first waiter that has already seen
//! its event. Run on every backend that builds under loom.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" \
//!     cargo test --release -p compio-sync --test loom_fanout_help
//! ```
//!
//! A lost wake-up shows up as a deadlock (loom's `block_on` parks with
//! nobody left to wake it); a value delivered twice or skipped, as a failed
//! assertion.
#![cfg(loom)]

mod common;
#[path = "common/loom.rs"]
mod loom_model;

use std::future::Future;

use compio_sync::{broadcast, watch};
use loom::{future::block_on, thread};
use loom_model::{Backend, Class, check_on};

/// watch: two receivers wait on two threads while the sender sends twice.
/// The first woken one helps the other, racing the sender's own wake of it
/// and the second send; both end at the last value, and neither waits
/// forever.
fn watch_helper_vs_sender_vs_next_send<B: Backend>() {
    check_on::<B>(Class::Large, || {
        let (tx, rx) = watch::channel_with_backend::<u32, B>(0);
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let mut rx = rx.clone();
                thread::spawn(move || {
                    while *rx.borrow_and_update() != 2 {
                        block_on(rx.changed()).unwrap();
                    }
                })
            })
            .collect();
        drop(rx);
        tx.send_modify(|v| *v += 1);
        tx.send_modify(|v| *v += 1);
        for receiver in receivers {
            receiver.join().unwrap();
        }
    });
}

/// broadcast: two receivers wait on two threads for two values sent back
/// to back. The first woken one helps the other; a receiver that already
/// took the first value and waits again (its tag is the first send's
/// event) must not stop the second send's wake of the other. Each gets
/// both values, in order.
fn broadcast_helper_vs_sender_vs_next_send<B: Backend>() {
    check_on::<B>(Class::Large, || {
        let (tx, rx) = broadcast::channel_with_backend::<u32, B>(4);
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let mut rx = rx.resubscribe();
                thread::spawn(move || {
                    assert_eq!(block_on(rx.recv()), Ok(1));
                    assert_eq!(block_on(rx.recv()), Ok(2));
                })
            })
            .collect();
        drop(rx);
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        for receiver in receivers {
            receiver.join().unwrap();
        }
    });
}

/// watch: two threads each send once and then wait for both sends, while
/// the main thread waits too. A wake stops at the first waiter that has
/// seen its send's version; a waiter behind it that has not must then see
/// the version itself, or be reached by the other send's wake. Every
/// receiver ends at the last value.
fn watch_two_senders_wake_stops_at_a_waiter_that_saw_it<B: Backend>() {
    // Three threads that each make several calls, all through loom's
    // `RwLock`: bound 1, as the four-thread models (bound 2 takes minutes).
    check_on::<B>(Class::FourThreads, || {
        let (tx, mut rx) = watch::channel_with_backend::<u32, B>(0);
        let senders: Vec<_> = (0..2)
            .map(|_| {
                let tx = tx.clone();
                let mut rx = rx.clone();
                thread::spawn(move || {
                    tx.send_modify(|v| *v += 1);
                    while *rx.borrow_and_update() != 2 {
                        block_on(rx.changed()).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        while *rx.borrow_and_update() != 2 {
            block_on(rx.changed()).unwrap();
        }
        for sender in senders {
            sender.join().unwrap();
        }
    });
}

/// watch: the waiter a send wakes first (the one asked to help) is dropped
/// without being polled again. The send itself still wakes the other
/// waiter, on another thread: nothing relies on the help.
fn watch_first_woken_dropped_unpolled_still_wakes_the_others<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let (tx, mut rx) = watch::channel_with_backend::<u32, B>(0);
        let mut other = rx.clone();
        let other = thread::spawn(move || block_on(other.changed()).unwrap());
        {
            let mut changed = std::pin::pin!(rx.changed());
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(changed.as_mut().poll(&mut cx).is_pending());
            tx.send(1).unwrap();
        }
        other.join().unwrap();
    });
}

macro_rules! models {
    ($module:ident, $backend:ty, $($order:tt)+) => {
        mod $module {
            type B = $backend;

            #[test]
            fn watch_helper_vs_sender_vs_next_send() {
                super::watch_helper_vs_sender_vs_next_send::<B>();
            }
            #[test]
            fn broadcast_helper_vs_sender_vs_next_send() {
                super::broadcast_helper_vs_sender_vs_next_send::<B>();
            }
            #[test]
            fn watch_first_woken_dropped_unpolled_still_wakes_the_others() {
                super::watch_first_woken_dropped_unpolled_still_wakes_the_others::<B>();
            }
            #[test]
            fn watch_two_senders_wake_stops_at_a_waiter_that_saw_it() {
                super::watch_two_senders_wake_stops_at_a_waiter_that_saw_it::<B>();
            }
        }
    };
}

for_each_backend!(models, once);
