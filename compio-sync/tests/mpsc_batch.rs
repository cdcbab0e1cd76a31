//! The receiver takes messages off the shared queue in batches (into a
//! buffer of its own) and hands them out one by one: what users see must not
//! change. `len`/`is_empty` count the buffered messages, a bounded slot
//! frees per message received (not per batch), order holds across the
//! buffer and the queue, buffered messages are dropped with the receiver,
//! and an unbounded send fails once the receiver closed while the messages
//! before the close still arrive. Both flavors, on compio and on
//! `futures`' `block_on`.
#![cfg(not(loom))]

mod common;

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering::SeqCst},
};

use common::*;

/// A value that counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// The checks, written once against an `mpsc` module path (the thread-safe
/// or the local flavor) and an executor.
macro_rules! batch_suite {
    ($name:ident, $mpsc:path, $exec:ty) => {
        mod $name {
            use super::*;
            use mpsc::error::{TryRecvError, TrySendError};
            use $mpsc as mpsc;

            fn block_on<F: std::future::Future>(future: F) -> F::Output {
                <$exec as Exec>::block_on(future)
            }

            #[test]
            fn len_and_is_empty_count_the_batch_the_receiver_holds() {
                block_on(async {
                    let (tx, mut rx) = mpsc::channel::<u32>(8);
                    for i in 0..3 {
                        tx.send(i).await.unwrap();
                    }
                    // The first receive moves all three into the batch.
                    assert_eq!(rx.recv().await, Some(0));
                    assert_eq!(rx.len(), 2);
                    assert!(!rx.is_empty());
                    tx.send(3).await.unwrap();
                    assert_eq!(rx.len(), 3);
                    let mut got = Vec::new();
                    // More than the batch holds: the queue's follow, in order.
                    assert_eq!(rx.recv_many(&mut got, 10).await, 3);
                    assert_eq!(got, [1, 2, 3]);
                    assert_eq!(rx.len(), 0);
                    assert!(rx.is_empty());
                });
            }

            #[test]
            fn recv_many_takes_no_more_than_its_limit_from_the_batch() {
                block_on(async {
                    let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
                    for i in 0..5 {
                        tx.send(i).unwrap();
                    }
                    let mut got = Vec::new();
                    assert_eq!(rx.recv_many(&mut got, 2).await, 2);
                    assert_eq!(rx.len(), 3);
                    tx.send(5).unwrap();
                    assert_eq!(rx.recv_many(&mut got, 2).await, 2);
                    assert_eq!(rx.recv_many(&mut got, 10).await, 2);
                    assert_eq!(got, [0, 1, 2, 3, 4, 5]);
                    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
                });
            }

            #[test]
            fn a_slot_frees_per_message_received_not_per_batch() {
                block_on(async {
                    let (tx, mut rx) = mpsc::channel::<u32>(4);
                    for i in 0..4 {
                        tx.try_send(i).unwrap();
                    }
                    assert_eq!(tx.capacity(), 0);
                    assert_eq!(rx.recv().await, Some(0));
                    // Three are still in the receiver's batch: one slot.
                    assert_eq!(tx.capacity(), 1);
                    assert_eq!(rx.capacity(), 1);
                    tx.try_send(4).unwrap();
                    assert!(matches!(tx.try_send(5), Err(TrySendError::Full(5))));
                    for i in 1..5 {
                        assert_eq!(rx.recv().await, Some(i));
                        assert_eq!(tx.capacity(), usize::try_from(i).unwrap());
                    }
                    assert_eq!(tx.capacity(), 4);
                });
            }

            #[test]
            fn a_buffered_message_received_hands_its_slot_to_the_waiting_send() {
                let (tx, mut rx) = mpsc::channel::<u32>(2);
                let (_, waker) = counting_waker();
                tx.try_send(0).unwrap();
                tx.try_send(1).unwrap();
                // Takes both into the receiver's batch and frees one slot.
                assert_eq!(rx.try_recv(), Ok(0));
                tx.try_send(2).unwrap();
                let (woken, send_waker) = counting_waker();
                let mut send = std::pin::pin!(tx.send(3));
                assert!(poll_once(send.as_mut(), &send_waker).is_pending());
                // Handed out of the batch, no lock taken: its slot still goes
                // to the waiting send first (strict FIFO), not to the word.
                {
                    let mut recv = std::pin::pin!(rx.recv());
                    assert_eq!(
                        poll_once(recv.as_mut(), &waker),
                        std::task::Poll::Ready(Some(1))
                    );
                }
                assert_eq!(woken.wakes.load(SeqCst), 1);
                assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
                assert!(poll_once(send.as_mut(), &send_waker).is_ready());
                assert_eq!(rx.try_recv(), Ok(2));
                assert_eq!(rx.try_recv(), Ok(3));
                assert_eq!(tx.capacity(), 2);
            }

            #[test]
            fn after_waking_a_sender_an_empty_recv_yields_once_then_waits() {
                let (tx, mut rx) = mpsc::channel::<u32>(1);
                tx.try_send(0).unwrap();
                let (sender, send_waker) = counting_waker();
                let mut send = std::pin::pin!(tx.send(1));
                assert!(poll_once(send.as_mut(), &send_waker).is_pending());
                let (receiver, recv_waker) = counting_waker();
                {
                    let mut recv = std::pin::pin!(rx.recv());
                    // Its slot goes to the waiting send, which is woken.
                    assert_eq!(
                        poll_once(recv.as_mut(), &recv_waker),
                        std::task::Poll::Ready(Some(0))
                    );
                }
                assert_eq!(sender.wakes.load(SeqCst), 1);
                let mut recv = std::pin::pin!(rx.recv());
                // The woken send has not run yet: yield, once.
                assert!(poll_once(recv.as_mut(), &recv_waker).is_pending());
                assert_eq!(receiver.wakes.load(SeqCst), 1);
                // Then a real wait: no wake until the send lands.
                assert!(poll_once(recv.as_mut(), &recv_waker).is_pending());
                assert_eq!(receiver.wakes.load(SeqCst), 1);
                assert!(poll_once(send.as_mut(), &send_waker).is_ready());
                assert_eq!(receiver.wakes.load(SeqCst), 2);
                assert_eq!(
                    poll_once(recv.as_mut(), &recv_waker),
                    std::task::Poll::Ready(Some(1))
                );
            }

            #[test]
            fn a_waiting_receiver_polled_with_a_new_waker_is_woken_through_it() {
                let (tx, mut rx) = mpsc::channel::<u32>(4);
                let (old, old_waker) = counting_waker();
                let (new, new_waker) = counting_waker();
                let mut recv = std::pin::pin!(rx.recv());
                assert!(poll_once(recv.as_mut(), &old_waker).is_pending());
                // The node stays registered between polls: this poll must
                // give it the new waker.
                assert!(poll_once(recv.as_mut(), &new_waker).is_pending());
                tx.try_send(1).unwrap();
                assert_eq!(old.wakes.load(SeqCst), 0);
                assert_eq!(new.wakes.load(SeqCst), 1);
                assert_eq!(
                    poll_once(recv.as_mut(), &new_waker),
                    std::task::Poll::Ready(Some(1))
                );
            }

            #[test]
            fn a_notification_for_a_message_taken_by_try_recv_does_not_stop_the_next_wait() {
                let (tx, mut rx) = mpsc::channel::<u32>(4);
                let (first, first_waker) = counting_waker();
                {
                    let mut recv = std::pin::pin!(rx.recv());
                    assert!(poll_once(recv.as_mut(), &first_waker).is_pending());
                }
                tx.try_send(1).unwrap();
                assert_eq!(first.wakes.load(SeqCst), 1);
                // Taken without a poll: the node still holds the notification.
                assert_eq!(rx.try_recv(), Ok(1));
                let (second, second_waker) = counting_waker();
                let mut recv = std::pin::pin!(rx.recv());
                // Takes the stale notification, finds nothing, waits again.
                assert!(poll_once(recv.as_mut(), &second_waker).is_pending());
                tx.try_send(2).unwrap();
                assert_eq!(second.wakes.load(SeqCst), 1);
                assert_eq!(
                    poll_once(recv.as_mut(), &second_waker),
                    std::task::Poll::Ready(Some(2))
                );
            }

            #[test]
            fn batched_messages_are_dropped_with_the_receiver() {
                block_on(async {
                    let drops = Arc::new(AtomicUsize::new(0));
                    let (tx, mut rx) = mpsc::channel(4);
                    let (utx, mut urx) = mpsc::unbounded_channel();
                    for _ in 0..3 {
                        tx.send(Counted(drops.clone())).await.unwrap();
                        utx.send(Counted(drops.clone())).unwrap();
                    }
                    drop(rx.recv().await.unwrap());
                    drop(urx.recv().await.unwrap());
                    assert_eq!(drops.load(SeqCst), 2);
                    // One more behind each batch, in the shared queue.
                    tx.send(Counted(drops.clone())).await.unwrap();
                    utx.send(Counted(drops.clone())).unwrap();
                    drop(rx);
                    drop(urx);
                    assert_eq!(drops.load(SeqCst), 8);
                    assert!(tx.is_closed());
                    assert!(utx.is_closed());
                });
            }

            #[test]
            fn unbounded_send_fails_after_close_and_earlier_messages_arrive() {
                block_on(async {
                    let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
                    tx.send(1).unwrap();
                    tx.send(2).unwrap();
                    assert_eq!(rx.recv().await, Some(1));
                    tx.send(3).unwrap();
                    rx.close();
                    assert!(tx.is_closed());
                    assert_eq!(tx.send(4).unwrap_err().0, 4);
                    assert_eq!(rx.recv().await, Some(2));
                    assert_eq!(rx.recv().await, Some(3));
                    assert_eq!(rx.recv().await, None);
                    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
                });
            }

            #[test]
            fn closed_bounded_channel_ends_after_its_batch_and_permits() {
                block_on(async {
                    let (tx, mut rx) = mpsc::channel::<u32>(4);
                    tx.send(1).await.unwrap();
                    tx.send(2).await.unwrap();
                    let permit = tx.reserve().await.unwrap();
                    assert_eq!(rx.recv().await, Some(1));
                    rx.close();
                    assert!(tx.send(9).await.is_err());
                    permit.send(3);
                    assert_eq!(rx.recv().await, Some(2));
                    assert_eq!(rx.recv().await, Some(3));
                    assert_eq!(rx.recv().await, None);
                });
            }
        }
    };
}

batch_suite!(thread_safe_compio, compio_sync::mpsc, Compio);
batch_suite!(thread_safe_futures, compio_sync::mpsc, Futures);
batch_suite!(local_compio, compio_sync::local::mpsc, Compio);
batch_suite!(local_futures, compio_sync::local::mpsc, Futures);
