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
