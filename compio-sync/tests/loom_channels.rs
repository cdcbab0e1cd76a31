//! Loom models of the channels' races: oneshot's send / receiver drop /
//! close / recv / `Sender::closed`, and mpsc's send / recv / close and
//! permit-drop races.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" \
//!     cargo test --release -p compio-sync --test loom_channels
//! ```
//!
//! A lost wake-up shows up as a deadlock (loom's `block_on` parks with
//! nobody left to wake it); a value delivered twice, lost, or dropped twice
//! as a failed assertion or a loom cell-access error.
#![cfg(loom)]

#[path = "common/loom.rs"]
mod loom_model;

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::SeqCst},
    },
    task::{Context, Poll},
};

use compio_sync::oneshot::{self, error::TryRecvError};
use loom::{future::block_on, thread};
use loom_model::{Class, check};

/// A value that counts its drops: every value is dropped exactly once.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// oneshot: a send on another thread races the receiver's first poll (fast
/// path, waker registration, re-check). The receiver always gets the value.
#[test]
fn oneshot_send_vs_recv() {
    check(Class::Primitive, || {
        let (tx, rx) = oneshot::channel::<usize>();
        let sender = thread::spawn(move || tx.send(7).unwrap());
        assert_eq!(block_on(rx), Ok(7));
        sender.join().unwrap();
    });
}

/// oneshot: a sender dropped without sending wakes the receiver with
/// `RecvError`.
#[test]
fn oneshot_drop_sender_vs_recv() {
    check(Class::Primitive, || {
        let (tx, rx) = oneshot::channel::<usize>();
        let sender = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        sender.join().unwrap();
    });
}

/// oneshot: a send races the receiver's drop. The value is dropped exactly
/// once, by whichever side ends up owning it (the sender gets it back if the
/// drop came first).
#[test]
fn oneshot_send_vs_drop_receiver() {
    check(Class::Primitive, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = oneshot::channel();
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || tx.send(Counted(drops)).is_ok())
        };
        drop(rx);
        let _sent = sender.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// oneshot: a send races `Receiver::close` then `try_recv`: either the send
/// came first and the value is received, or it fails and gives the value
/// back; never both, never neither.
#[test]
fn oneshot_send_vs_close() {
    check(Class::Primitive, || {
        let (tx, mut rx) = oneshot::channel::<usize>();
        let sender = thread::spawn(move || tx.send(1));
        rx.close();
        let received = rx.try_recv();
        let sent = sender.join().unwrap();
        match (sent, received) {
            (Ok(()), Ok(1)) => {}
            (Err(1), Err(TryRecvError::Closed)) => {}
            other => panic!("inconsistent outcome: {other:?}"),
        }
    });
}

/// oneshot: `Sender::closed` waits (registering its waker, possibly twice
/// with different wakers) while the receiver is dropped on another thread:
/// it always completes.
#[test]
fn oneshot_closed_vs_drop_receiver() {
    check(Class::Primitive, || {
        let (mut tx, rx) = oneshot::channel::<usize>();
        let receiver = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert!(tx.is_closed());
        receiver.join().unwrap();
    });
}

/// oneshot: the receiver changes its waker (a poll with one waker, then a
/// wait with another) while the send happens: the value is not lost.
#[test]
fn oneshot_receiver_changes_waker_vs_send() {
    check(Class::Primitive, || {
        let (tx, mut rx) = oneshot::channel::<usize>();
        let sender = thread::spawn(move || tx.send(3).unwrap());
        let waker = futures::task::noop_waker();
        let first = Pin::new(&mut rx).poll(&mut Context::from_waker(&waker));
        let value = match first {
            Poll::Ready(value) => value,
            Poll::Pending => block_on(&mut rx),
        };
        assert_eq!(value, Ok(3));
        sender.join().unwrap();
    });
}

mod mpsc_models {
    use super::*;
    use compio_sync::mpsc;

    /// A sender on another thread fills a one-slot channel (so it waits for
    /// the receiver) and drops; the receiver gets both values in order, then
    /// `None`.
    #[test]
    fn bounded_send_vs_recv() {
        check(Class::Primitive, || {
            let (tx, mut rx) = mpsc::channel::<usize>(1);
            let sender = thread::spawn(move || {
                block_on(async move {
                    tx.send(1).await.unwrap();
                    tx.send(2).await.unwrap();
                })
            });
            block_on(async {
                assert_eq!(rx.recv().await, Some(1));
                assert_eq!(rx.recv().await, Some(2));
                assert_eq!(rx.recv().await, None);
            });
            sender.join().unwrap();
        });
    }

    /// The last sender's drop races the receiver's wait: the receiver gets
    /// the value, then `None` (never a hang).
    #[test]
    fn last_sender_drop_vs_recv() {
        check(Class::Primitive, || {
            let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
            let sender = thread::spawn(move || {
                tx.send(1).unwrap();
                drop(tx);
            });
            block_on(async {
                assert_eq!(rx.recv().await, Some(1));
                assert_eq!(rx.recv().await, None);
            });
            sender.join().unwrap();
        });
    }

    /// A permit dropped unused on another thread races the receiver's close
    /// and wait: the receiver of the closed channel is woken when the last
    /// slot comes back, and gets `None` (a sender is still alive, so only
    /// the idle check can end it).
    #[test]
    fn permit_drop_vs_close() {
        check(Class::Primitive, || {
            let (tx, mut rx) = mpsc::channel::<usize>(1);
            let permit = tx.clone().try_reserve_owned().unwrap();
            let holder = thread::spawn(move || drop(permit));
            rx.close();
            assert_eq!(block_on(rx.recv()), None);
            holder.join().unwrap();
            drop(tx);
        });
    }

    /// A permit's send on another thread races the receiver's close: the
    /// value is received (a permit can send after a close), then `None`.
    #[test]
    fn permit_send_vs_close() {
        check(Class::Primitive, || {
            let (tx, mut rx) = mpsc::channel::<usize>(1);
            let permit = tx.clone().try_reserve_owned().unwrap();
            let holder = thread::spawn(move || drop(permit.send(5)));
            rx.close();
            block_on(async {
                assert_eq!(rx.recv().await, Some(5));
                assert_eq!(rx.recv().await, None);
            });
            holder.join().unwrap();
            drop(tx);
        });
    }

    /// A send races the receiver's drop: the value is dropped exactly once,
    /// by the receiver's drain, by the channel, or back in the sender's
    /// error.
    #[test]
    fn send_vs_drop_receiver() {
        check(Class::Primitive, || {
            let drops = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = mpsc::unbounded_channel();
            let sender = {
                let drops = drops.clone();
                thread::spawn(move || {
                    let _ = tx.send(Counted(drops));
                })
            };
            drop(rx);
            sender.join().unwrap();
            assert_eq!(drops.load(SeqCst), 1);
        });
    }

    /// A sender waiting for capacity races the receiver's close: it fails
    /// (and gets its value back); the queued message is still received.
    #[test]
    fn waiting_send_vs_close() {
        check(Class::Primitive, || {
            let (tx, mut rx) = mpsc::channel::<usize>(1);
            tx.try_send(1).unwrap();
            let sender = thread::spawn(move || block_on(tx.send(2)));
            rx.close();
            assert_eq!(rx.try_recv(), Ok(1));
            let sent = sender.join().unwrap();
            assert_eq!(sent.unwrap_err().0, 2);
            assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected));
        });
    }
}
