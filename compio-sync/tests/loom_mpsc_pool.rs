//! Loom models of the bounded channel's slot pool (see "The slot pool" in
//! the module docs of `src/mpsc/chan.rs`): the receiver keeps freed slots
//! in a word of its own while no sender is known to wait; a waiting sender
//! marks that word after it registered in the semaphore and takes the
//! pooled slots; the receiver flushes to the semaphore while marks it has
//! not cleared are there, and clears them once a look at the semaphore's
//! waiters, made after reading them, finds none.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" \
//!     cargo test --release -p compio-sync --test loom_mpsc_pool
//! ```
//!
//! A lost wake-up shows up as a deadlock (loom's `block_on` parks with
//! nobody left to wake it); a lost slot or message as a failed assertion.
#![cfg(loom)]

#[path = "common/loom.rs"]
mod loom_model;

use std::{
    future::Future,
    pin::{Pin, pin},
    task::{Context, Poll},
};

use compio_sync::mpsc;
use loom::{
    future::block_on,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::*},
    },
    thread,
};
use loom_model::{Class, check};

/// A channel of one slot, full: it holds the message `0`.
fn full_channel() -> (mpsc::Sender<usize>, mpsc::Receiver<usize>) {
    let (tx, rx) = mpsc::channel::<usize>(1);
    tx.try_send(0).unwrap();
    (tx, rx)
}

/// A clone of `tx`, on another thread, sends `v`, waiting for a slot as
/// long as it takes (with `block_on`: a lost wake-up deadlocks the model).
/// The clone is made here, before the thread starts.
fn send_on_thread(tx: &mpsc::Sender<usize>, v: usize) -> thread::JoinHandle<()> {
    let tx = tx.clone();
    thread::spawn(move || block_on(tx.send(v)).unwrap())
}

/// Polls `fut` once by hand, with a waker that does nothing: a send that
/// must wait is left registered (and, in the pool's terms, marked) without
/// anyone to wake.
fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    fut.poll(&mut Context::from_waker(&waker))
}

/// A sender on another thread finds the channel full and waits (or takes
/// the slot the receiver just pooled), while the receiver receives: the
/// sender is served by that one receive, with nothing more from the
/// receiver (joined before the next `recv`: no lost wake-up, and the slot
/// does not sit in the pool while the sender waits), and every slot is back
/// at the end.
#[test]
fn full_channel_waiting_sender_vs_recv() {
    check(Class::Primitive, || {
        let (tx, mut rx) = full_channel();
        let sender = send_on_thread(&tx, 1);
        assert_eq!(block_on(rx.recv()), Some(0));
        sender.join().unwrap();
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(tx.capacity(), 1);
        tx.try_send(2).unwrap();
        assert_eq!(rx.try_recv(), Ok(2));
    });
}

/// A first waiter's mark makes the receiver flush and serve it; the
/// receiver then looks at the semaphore's waiters to clear the marks while
/// a second sender, on another thread, registers and marks. The second
/// sender must still be served by the next message's slot, with nothing
/// more from the receiver: a mark the receiver read is cleared only if its
/// look saw no waiter, and a mark made after the read is seen by the next
/// message.
#[test]
fn mark_vs_receiver_clearing_marks() {
    check(Class::Primitive, || {
        let (tx, mut rx) = full_channel();
        // The first waiter, polled by hand: registered and marked.
        let mut first = pin!(tx.send(1));
        assert!(poll_once(first.as_mut()).is_pending());
        let sender = send_on_thread(&tx, 2);
        // Flushes to the first waiter (or the second sender's `try_send`
        // fast path, failing, takes the slot out of the pool first and
        // hands it to the first waiter itself), then clears the marks or
        // not.
        assert_eq!(rx.try_recv(), Ok(0));
        block_on(first.as_mut()).unwrap();
        // This receive must serve the second sender if it waits by now (or
        // leave it the slot if it comes later): it is joined before the
        // receiver does anything more.
        assert_eq!(rx.try_recv(), Ok(1));
        sender.join().unwrap();
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(tx.capacity(), 1);
    });
}

/// `try_send` right after a `recv` (on another thread) on a full channel
/// takes the slot the receiver pooled: if the receive happened before, the
/// send succeeds; either way no slot is lost.
#[test]
fn try_send_after_recv_on_full_channel() {
    check(Class::Primitive, || {
        let (tx, mut rx) = full_channel();
        let received = Arc::new(AtomicUsize::new(0));
        let flag = received.clone();
        let receiver = thread::spawn(move || {
            assert_eq!(block_on(rx.recv()), Some(0));
            // Release: the receive happens-before a load that sees 1.
            flag.store(1, Release);
            rx
        });
        let seen = received.load(Acquire);
        let sent = tx.try_send(1).is_ok();
        if seen == 1 {
            assert!(sent, "try_send after recv failed");
        }
        let mut rx = receiver.join().unwrap();
        if !sent {
            tx.try_send(1).unwrap();
        }
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(tx.capacity(), 1);
    });
}

/// The receiver closes (flushing its pool) while a sender on another
/// thread moves the pooled slot to the semaphore and tries to send: the
/// message is received if the send succeeded, and the receiver of the
/// closed channel ends (a strong sender is still alive, so only the last
/// slot coming back can end it: no lost wake-up).
#[test]
fn close_vs_sender_reclaiming_pool() {
    check(Class::Primitive, || {
        let (tx, mut rx) = mpsc::channel::<usize>(2);
        tx.try_send(0).unwrap();
        tx.try_send(1).unwrap();
        assert_eq!(rx.try_recv(), Ok(0)); // its slot is pooled
        let tx2 = tx.clone();
        let sender = thread::spawn(move || tx2.try_send(2).is_ok());
        rx.close();
        let got = block_on(async {
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            got
        });
        let sent = sender.join().unwrap();
        if sent {
            assert_eq!(got, [1, 2]);
        } else {
            assert_eq!(got, [1]);
        }
        assert_eq!(tx.capacity(), 2);
    });
}

/// A sender that starts waiting while the receiver flushes does not mark
/// (the pool's word says the receiver is flushing); the receiver, leaving
/// the flushing mode as it releases a slot that no sender took, clears the
/// flag, fences and looks at the semaphore's waiters again: either it sees
/// the sender and goes on flushing, or the sender sees the flag cleared and
/// marks. Either way a slot the receiver frees while the sender waits
/// reaches it: here the main thread's `try_send` may take the slot first,
/// the receiver receives that message, and then joins the sender with
/// nothing more (a slot stuck in the pool would deadlock).
#[test]
fn waiter_skipping_the_mark_vs_receiver_leaving_flushing() {
    check(Class::Primitive, || {
        let (tx, mut rx) = full_channel();
        // A first waiter marks; the receiver's release flushes to it and
        // goes into the flushing mode.
        let mut first = pin!(tx.send(1));
        assert!(poll_once(first.as_mut()).is_pending());
        assert_eq!(rx.try_recv(), Ok(0));
        assert!(poll_once(first.as_mut()).is_ready());
        // Full again. A sender on another thread waits, while the next
        // release (which may find nobody waiting yet) may leave the mode.
        let sender = send_on_thread(&tx, 2);
        assert_eq!(rx.try_recv(), Ok(1));
        let third = tx.try_send(3).is_ok();
        let got = block_on(rx.recv()).unwrap();
        assert_eq!(got, if third { 3 } else { 2 });
        sender.join().unwrap();
        if third {
            assert_eq!(rx.try_recv(), Ok(2));
        }
        assert_eq!(tx.capacity(), 1);
    });
}
