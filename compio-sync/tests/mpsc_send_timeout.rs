//! `Sender::send_timeout`: tokio's results (`Timeout`/`Closed`, the value
//! given back), a slot freed before the deadline wins, a ready send wins over
//! any deadline (a zero one included), and neither a timeout nor a dropped
//! future loses capacity. Both flavors, on compio's timer; tokio's timer is
//! covered by the ported tokio tests (`tokio_mpsc.rs`, `tokio` feature).
#![cfg(not(loom))]

mod common;

use std::{
    pin::pin,
    task::{Poll, Waker},
    time::Duration,
};

use common::*;

/// A deadline that the tests never reach unless they mean to.
const LONG: Duration = Duration::from_secs(60);
/// A deadline that the tests mean to reach.
const SHORT: Duration = Duration::from_millis(5);

macro_rules! send_timeout_suite {
    ($name:ident, $mpsc:path) => {
        mod $name {
            use super::*;
            use mpsc::error::SendTimeoutError;
            use $mpsc as mpsc;

            fn block_on<F: std::future::Future>(future: F) -> F::Output {
                compio::runtime::Runtime::new().unwrap().block_on(future)
            }

            #[test]
            fn sends_when_there_is_room() {
                block_on(async {
                    let (tx, mut rx) = mpsc::channel(2);
                    assert_eq!(tx.send_timeout(1, LONG).await, Ok(()));
                    assert_eq!(tx.send_timeout(2, LONG).await, Ok(()));
                    assert_eq!(rx.recv().await, Some(1));
                    assert_eq!(rx.recv().await, Some(2));
                });
            }

            #[test]
            fn a_ready_send_wins_over_a_zero_deadline() {
                block_on(async {
                    let (tx, mut rx) = mpsc::channel(1);
                    for i in 0..100 {
                        assert_eq!(tx.send_timeout(i, Duration::ZERO).await, Ok(()));
                        assert_eq!(rx.recv().await, Some(i));
                    }
                });
            }

            #[test]
            fn times_out_when_full_and_gives_the_value_back() {
                block_on(async {
                    let (tx, mut rx) = mpsc::channel(1);
                    tx.send(1).await.unwrap();
                    assert_eq!(
                        tx.send_timeout(2, SHORT).await,
                        Err(SendTimeoutError::Timeout(2))
                    );
                    assert_eq!(
                        tx.send_timeout(3, Duration::ZERO).await,
                        Err(SendTimeoutError::Timeout(3))
                    );
                    // Nothing of the timed-out sends arrived, and no slot was
                    // lost: the one slot is usable again once received.
                    assert_eq!(rx.recv().await, Some(1));
                    assert_eq!(tx.capacity(), 1);
                    tx.try_send(4).unwrap();
                    assert_eq!(rx.recv().await, Some(4));
                    assert!(rx.try_recv().is_err());
                });
            }

            #[test]
            fn a_slot_freed_before_the_deadline_sends() {
                block_on(async {
                    let (tx, mut rx) = mpsc::channel(1);
                    tx.send(1).await.unwrap();
                    let receiver = compio::runtime::spawn(async move {
                        compio::time::sleep(SHORT).await;
                        let first = rx.recv().await;
                        (first, rx.recv().await)
                    });
                    assert_eq!(tx.send_timeout(2, LONG).await, Ok(()));
                    drop(tx);
                    assert_eq!(receiver.await.unwrap(), (Some(1), Some(2)));
                });
            }

            #[test]
            fn a_closed_channel_gives_the_value_back() {
                block_on(async {
                    let (tx, rx) = mpsc::channel::<u32>(1);
                    drop(rx);
                    assert_eq!(
                        tx.send_timeout(1, LONG).await,
                        Err(SendTimeoutError::Closed(1))
                    );
                });
            }

            #[test]
            fn a_close_while_waiting_gives_the_value_back() {
                block_on(async {
                    let (tx, mut rx) = mpsc::channel(1);
                    tx.send(1).await.unwrap();
                    let closer = compio::runtime::spawn(async move {
                        compio::time::sleep(SHORT).await;
                        rx.close();
                        rx
                    });
                    assert_eq!(
                        tx.send_timeout(2, LONG).await,
                        Err(SendTimeoutError::Closed(2))
                    );
                    let mut rx = closer.await.unwrap();
                    // The message sent before the close still arrives.
                    assert_eq!(rx.recv().await, Some(1));
                    drop(tx);
                    assert_eq!(rx.recv().await, None);
                });
            }

            #[test]
            fn a_dropped_send_timeout_loses_no_capacity_and_no_place() {
                block_on(async {
                    let (tx, mut rx) = mpsc::channel(1);
                    tx.send(1).await.unwrap();
                    {
                        let mut waiting = pin!(tx.send_timeout(2, LONG));
                        assert!(poll_once(waiting.as_mut(), Waker::noop()).is_pending());
                        // Dropped while queued for the slot.
                    }
                    assert_eq!(rx.recv().await, Some(1));
                    assert_eq!(tx.capacity(), 1);
                    tx.try_send(3).unwrap();
                    assert_eq!(rx.recv().await, Some(3));
                });
            }

            #[test]
            fn waiting_senders_are_served_in_order() {
                block_on(async {
                    let (tx, mut rx) = mpsc::channel(1);
                    tx.send(0).await.unwrap();
                    let mut first = pin!(tx.send_timeout(1, LONG));
                    let mut second = pin!(tx.send_timeout(2, LONG));
                    let waker = Waker::noop();
                    assert!(poll_once(first.as_mut(), waker).is_pending());
                    assert!(poll_once(second.as_mut(), waker).is_pending());
                    assert_eq!(rx.recv().await, Some(0));
                    assert_eq!(poll_once(second.as_mut(), waker), Poll::Pending);
                    assert_eq!(first.await, Ok(()));
                    assert_eq!(rx.recv().await, Some(1));
                    assert_eq!(second.await, Ok(()));
                    assert_eq!(rx.recv().await, Some(2));
                });
            }
        }
    };
}

send_timeout_suite!(thread_safe, compio_sync::mpsc);
send_timeout_suite!(local, compio_sync::local::mpsc);

/// With no runtime to time it, the call panics at its first poll, saying
/// what it needs (with the `tokio` feature, tokio's own panic instead: see
/// `tokio_mpsc.rs`).
#[test]
#[cfg(not(feature = "tokio"))]
#[should_panic = "needs a timer"]
fn without_a_runtime_it_panics_saying_what_it_needs() {
    let (tx, _rx) = compio_sync::mpsc::channel(1);
    let mut send = pin!(tx.send_timeout(1, LONG));
    let _ = poll_once(send.as_mut(), Waker::noop());
}
