//! Loom models of the mpsc receiver's batches and of the unbounded send's
//! close check: the receiver moves the shared queue into its own buffer under
//! the lock, and an unbounded send checks the receiver's close under that
//! same lock, with its push, instead of counting messages in flight.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" \
//!     cargo test --release -p compio-sync --test loom_mpsc_batch
//! ```
//!
//! A lost wake-up shows up as a deadlock (loom's `block_on` parks with
//! nobody left to wake it); a message lost, duplicated or reordered as a
//! failed assertion.
#![cfg(loom)]

#[path = "common/loom.rs"]
mod loom_model;

use std::{
    future::Future,
    pin::pin,
    task::{Context, Poll},
};

use compio_sync::mpsc;
use loom::{future::block_on, thread};
use loom_model::{Class, check};

/// An unbounded send on another thread races the receiver's close and its
/// wait: the value either lands before the close and is received, or the
/// send fails and gets it back; then the receiver sees the end (a sender is
/// still alive, so only the close can end the stream).
#[test]
fn unbounded_send_vs_close() {
    check(Class::Primitive, || {
        let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
        let keep = tx.clone();
        let sender = thread::spawn(move || tx.send(1).is_ok());
        rx.close();
        let received = block_on(async {
            let first = rx.recv().await;
            assert_eq!(rx.recv().await, None);
            first
        });
        let sent = sender.join().unwrap();
        assert_eq!(received == Some(1), sent);
        drop(keep);
    });
}

/// Two messages from another thread, the second pushed while the receiver
/// may hold the first in its batch: both arrive in order, then the end.
#[test]
fn unbounded_sends_vs_batched_recv() {
    check(Class::Primitive, || {
        let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
        });
        block_on(async {
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.recv().await, Some(2));
            assert_eq!(rx.recv().await, None);
        });
        sender.join().unwrap();
    });
}

/// A bounded sender on another thread fills two slots and waits for a
/// third while the receiver hands them out of its batch: each slot frees as
/// its message is received, so the waiting send completes, and everything
/// arrives in order.
#[test]
fn bounded_waiting_send_vs_batched_recv() {
    check(Class::Primitive, || {
        let (tx, mut rx) = mpsc::channel::<usize>(2);
        let sender = thread::spawn(move || {
            block_on(async move {
                for i in 0..3 {
                    tx.send(i).await.unwrap();
                }
            })
        });
        block_on(async {
            for i in 0..3 {
                assert_eq!(rx.recv().await, Some(i));
            }
            assert_eq!(rx.recv().await, None);
        });
        sender.join().unwrap();
    });
}

/// The receiver's node stays registered between polls: a first poll with
/// one waker leaves it waiting (or takes the first message), then a wait
/// with another waker races two sends. The second poll must take the node's
/// notification, if any, and leave it waiting with the *new* waker before it
/// looks: a stale notification or a stale waker would lose the wake-up of
/// the send that lands after the look (a deadlock here).
#[test]
fn rx_node_kept_between_polls_vs_sends() {
    check(Class::Primitive, || {
        let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
        });
        let waker = futures::task::noop_waker();
        let first = {
            let recv = pin!(rx.recv());
            recv.poll(&mut Context::from_waker(&waker))
        };
        let mut expected = 1;
        if let Poll::Ready(value) = first {
            assert_eq!(value, Some(1));
            expected = 2;
        }
        block_on(async {
            for i in expected..=2 {
                assert_eq!(rx.recv().await, Some(i));
            }
            assert_eq!(rx.recv().await, None);
        });
        sender.join().unwrap();
    });
}

/// The bounded send's fast path (a slot taken straight from the semaphore's
/// word, then the push) from two senders on two threads, against a
/// receiver handing messages out of its batch and giving each slot back
/// with `release_taken`: a waiting send is handed its slot, no slot is lost
/// (a last `try_send` finds the channel's whole capacity), and every message
/// arrives once, in each sender's order.
#[test]
fn bounded_fast_sends_vs_slot_release() {
    check(Class::Primitive, || {
        let (tx, mut rx) = mpsc::channel::<usize>(1);
        let tx2 = tx.clone();
        let sender = thread::spawn(move || {
            block_on(async move {
                tx2.send(10).await.unwrap();
                tx2.send(11).await.unwrap();
            })
        });
        // A second sender that never waits: the fast path or `Full`.
        let sent = tx.try_send(20).is_ok();
        let mut got = Vec::new();
        block_on(async {
            for _ in 0..2 + usize::from(sent) {
                got.push(rx.recv().await.unwrap());
            }
        });
        sender.join().unwrap();
        let mine: Vec<_> = got.iter().copied().filter(|&v| v < 20).collect();
        assert_eq!(mine, [10, 11]);
        assert_eq!(got.contains(&20), sent);
        assert_eq!(tx.capacity(), 1);
        tx.try_send(30).unwrap();
        assert_eq!(rx.try_recv(), Ok(30));
    });
}
