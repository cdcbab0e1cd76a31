//! Loom models of the races the watch and broadcast channels must win, each
//! run on every backend that builds under loom.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" \
//!     cargo test --release -p compio-sync --test loom_watch_broadcast
//! ```
//!
//! A lost wake-up shows up as a deadlock (loom's `block_on` parks with
//! nobody left to wake it); a value seen twice, out of order, or dropped the
//! wrong number of times, as a failed assertion.
#![cfg(loom)]

mod common;
#[path = "common/loom.rs"]
mod loom_model;

use std::{future::Future, sync::Arc as StdArc};

use compio_sync::{
    broadcast::{self, error::RecvError},
    watch,
};
use loom::{future::block_on, sync::Arc, thread};
use loom_model::{Backend, Class, check_on};

/// watch: a send and the last sender's drop on one thread race a receiver
/// that subscribes on another and then waits. The receiver either saw the
/// new value when it subscribed (then `changed` reports the close) or it is
/// told of the change; never a lost wake-up, never a value without its
/// version.
fn watch_send_vs_subscribe_vs_drop<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let (tx, rx) = watch::channel_with_backend::<u32, B>(0);
        let tx = Arc::new(tx);
        let subscriber = {
            let tx = tx.clone();
            thread::spawn(move || {
                let mut rx = tx.subscribe();
                drop(tx);
                let first = {
                    let value = rx.borrow_and_update();
                    // A change since `subscribe` can only be the send, and
                    // then the value is the sent one (never a version
                    // without its value).
                    assert!(!value.has_changed() || *value == 1);
                    *value
                };
                match block_on(rx.changed()) {
                    Ok(()) => {
                        assert_eq!(first, 0);
                        assert_eq!(*rx.borrow_and_update(), 1);
                    }
                    Err(_) => assert_eq!(first, 1),
                }
            })
        };
        // A receiver dropped concurrently changes nothing for the others.
        let dropper = thread::spawn(move || drop(rx));
        tx.send_replace(1);
        drop(tx);
        subscriber.join().unwrap();
        dropper.join().unwrap();
    });
}

/// watch: a receiver waiting in `changed` while the sender sends and is
/// dropped: it ends with the last value and then the close.
fn watch_changed_vs_send_and_close<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let (tx, mut rx) = watch::channel_with_backend::<u32, B>(0);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            drop(tx);
        });
        let mut last = 0;
        while block_on(rx.changed()).is_ok() {
            last = *rx.borrow_and_update();
        }
        assert_eq!(last, 1);
        assert_eq!(*rx.borrow(), 1);
        sender.join().unwrap();
    });
}

/// broadcast: two sends (then the last sender's drop) race a subscribe and
/// a receiver's drop on two other threads. The new receiver gets a suffix of
/// the values, in order, then `Closed`; every value is dropped exactly once
/// (its `Arc` count returns to one) whoever reads or abandons it.
fn broadcast_send_vs_subscribe_vs_drop<B: Backend>() {
    check_on::<B>(Class::Large, || {
        let (tx, rx) = broadcast::channel_with_backend::<StdArc<u32>, B>(4);
        let values = [StdArc::new(1), StdArc::new(2)];
        let tx = Arc::new(tx);
        let subscriber = {
            let tx = tx.clone();
            thread::spawn(move || {
                let mut rx = tx.subscribe();
                drop(tx);
                let mut got = vec![];
                loop {
                    match block_on(rx.recv()) {
                        Ok(v) => got.push(*v),
                        Err(RecvError::Closed) => break,
                        Err(RecvError::Lagged(_)) => panic!("capacity 4 never lags here"),
                    }
                }
                assert!(matches!(got.as_slice(), [] | [2] | [1, 2]), "{got:?}");
            })
        };
        let dropper = thread::spawn(move || drop(rx));
        for v in &values {
            let _ = tx.send(v.clone());
        }
        drop(tx);
        subscriber.join().unwrap();
        dropper.join().unwrap();
        for v in &values {
            assert_eq!(StdArc::strong_count(v), 1, "value {v} not dropped once");
        }
    });
}

/// broadcast lag wrap-around: a capacity-2 ring gets five sends while its
/// receiver reads on another thread. Whatever the interleaving, the values
/// it receives plus the counts it is told it missed add up to five, in
/// order, and it then sees `Closed`.
///
/// `Large`: five sends and as many waits are many hand-offs for two threads
/// (at bound 2 it took 166 s on `ParkingLotHybrid` once the wait set's
/// help passes came in, most of the loom step).
fn broadcast_lag_wraps_around_small_ring<B: Backend>() {
    check_on::<B>(Class::Large, || {
        let (tx, mut rx) = broadcast::channel_with_backend::<u64, B>(2);
        let sender = thread::spawn(move || {
            for i in 0..5 {
                tx.send(i).unwrap();
            }
        });
        let mut next = 0;
        loop {
            match block_on(rx.recv()) {
                Ok(v) => {
                    assert_eq!(v, next);
                    next += 1;
                }
                Err(RecvError::Lagged(n)) => {
                    assert!(n > 0);
                    next += n;
                }
                Err(RecvError::Closed) => break,
            }
        }
        assert_eq!(next, 5);
        sender.join().unwrap();
    });
}

/// The receivers' wait set: two senders on two threads race a receiver that
/// waits twice. The first send's wake may take the receiver's wait count
/// before the second send looks at it (the second then skips the shard);
/// the receiver must still get both values, in either order. `Large`:
/// three threads, the receiver waiting twice.
fn broadcast_two_senders_vs_a_receiver_waiting_twice<B: Backend>() {
    check_on::<B>(Class::Large, || {
        let (tx, mut rx) = broadcast::channel_with_backend::<u32, B>(4);
        let senders: Vec<_> = [1, 2]
            .into_iter()
            .map(|v| {
                let tx = tx.clone();
                thread::spawn(move || {
                    tx.send(v).unwrap();
                })
            })
            .collect();
        drop(tx);
        let first = block_on(rx.recv()).unwrap();
        let second = block_on(rx.recv()).unwrap();
        assert_eq!(first + second, 3, "{first}, {second}");
        assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
        for sender in senders {
            sender.join().unwrap();
        }
    });
}

/// The receivers' wait set: a `changed()` registered once and dropped
/// without a wake leaves its count behind; the next wait, racing a send on
/// another thread, still gets the change.
fn watch_cancelled_wait_then_wait_vs_send<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let (tx, mut rx) = watch::channel_with_backend::<u32, B>(0);
        {
            let mut changed = std::pin::pin!(rx.changed());
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            assert!(changed.as_mut().poll(&mut cx).is_pending());
        }
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        block_on(rx.changed()).unwrap();
        assert_eq!(*rx.borrow_and_update(), 1);
        drop(sender.join().unwrap());
    });
}

macro_rules! models {
    ($module:ident, $backend:ty, $($order:tt)+) => {
        mod $module {
            type B = $backend;

            #[test]
            fn watch_send_vs_subscribe_vs_drop() {
                super::watch_send_vs_subscribe_vs_drop::<B>();
            }
            #[test]
            fn watch_changed_vs_send_and_close() {
                super::watch_changed_vs_send_and_close::<B>();
            }
            #[test]
            fn broadcast_send_vs_subscribe_vs_drop() {
                super::broadcast_send_vs_subscribe_vs_drop::<B>();
            }
            #[test]
            fn broadcast_lag_wraps_around_small_ring() {
                super::broadcast_lag_wraps_around_small_ring::<B>();
            }
            #[test]
            fn broadcast_two_senders_vs_a_receiver_waiting_twice() {
                super::broadcast_two_senders_vs_a_receiver_waiting_twice::<B>();
            }
            #[test]
            fn watch_cancelled_wait_then_wait_vs_send() {
                super::watch_cancelled_wait_then_wait_vs_send::<B>();
            }
        }
    };
}

for_each_backend!(models, once);
