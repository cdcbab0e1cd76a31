//! The bounded channel's slot pool (see the module docs of
//! `src/mpsc/chan.rs`): the receiver keeps the slots it frees in a pool of
//! its own while no sender waits, and what users see must not change: a
//! slot frees when its message is received (`capacity`, `try_send` right
//! after a `recv`), a waiting sender is served as each message is received
//! even while the pool holds slots, `reserve_many` gets its slots as they
//! trickle back, and a cancelled waiter that marked the pool leaves the
//! channel as it was. Both flavors, driven by hand (a counting waker), then
//! exact counts across runtimes on both executors.
#![cfg(not(loom))]

mod common;

use std::{pin::pin, task::Poll, thread};

use common::*;

/// The checks, written once against an `mpsc` module path (the thread-safe
/// or the local flavor).
macro_rules! pool_suite {
    ($name:ident, $mpsc:path) => {
        mod $name {
            use super::*;
            use $mpsc as mpsc;

            /// A channel of `bound` slots, full: it holds `0..bound`.
            fn full(bound: u32) -> (mpsc::Sender<u32>, mpsc::Receiver<u32>) {
                let (tx, rx) = mpsc::channel::<u32>(bound as usize);
                for i in 0..bound {
                    tx.try_send(i).unwrap();
                }
                (tx, rx)
            }

            /// After a `recv` on a full channel with no sender waiting (the
            /// slot goes to the pool), `capacity` counts the freed slot, on
            /// both handles, one per message received.
            #[test]
            fn capacity_counts_pooled_slots() {
                let (tx, mut rx) = full(3);
                assert_eq!(tx.capacity(), 0);
                for (i, free) in [(0, 1), (1, 2), (2, 3)] {
                    assert_eq!(rx.try_recv(), Ok(i));
                    assert_eq!(tx.capacity(), free);
                    assert_eq!(rx.capacity(), free);
                }
            }

            /// `try_send` (and `try_reserve_many`) right after a `recv` on a
            /// full channel succeed: they take the pooled slots.
            #[test]
            fn try_send_after_recv_takes_pooled_slot() {
                let (tx, mut rx) = mpsc::channel::<u32>(2);
                tx.try_send(0).unwrap();
                tx.try_send(1).unwrap();
                assert!(tx.try_send(9).is_err());
                assert_eq!(rx.try_recv(), Ok(0));
                tx.try_send(2).unwrap();
                assert!(tx.try_send(9).is_err());
                assert_eq!(rx.try_recv(), Ok(1));
                assert_eq!(rx.try_recv(), Ok(2));
                let permits = tx.try_reserve_many(2).unwrap();
                assert_eq!(permits.len(), 2);
                assert_eq!(tx.capacity(), 0);
                drop(permits);
                assert_eq!(tx.capacity(), 2);
            }

            /// A sender that starts waiting while the pool holds slots: it
            /// takes them (as far as it can use them) when it marks, and the
            /// next message received serves it (the receiver sees its mark).
            #[test]
            fn waiting_sender_takes_pooled_slots_then_is_served_per_message() {
                let (tx, mut rx) = full(4);
                assert_eq!(rx.try_recv(), Ok(0));
                assert_eq!(rx.try_recv(), Ok(1));
                assert_eq!(tx.capacity(), 2); // pooled
                let (counter, waker) = counting_waker();
                let mut reserve = pin!(tx.reserve_many(3));
                assert!(poll_once(reserve.as_mut(), &waker).is_pending());
                // The two pooled slots went to the waiter (strict FIFO
                // hands part of its need over): none is free.
                assert_eq!(tx.capacity(), 0);
                assert!(tx.try_send(9).is_err(), "never overtakes a waiter");
                assert_eq!(counter.wakes.load(std::sync::atomic::Ordering::SeqCst), 0);
                assert_eq!(rx.try_recv(), Ok(2));
                assert_eq!(
                    counter.wakes.load(std::sync::atomic::Ordering::SeqCst),
                    1,
                    "served as the message is received"
                );
                let Poll::Ready(Ok(permits)) = poll_once(reserve.as_mut(), &waker) else {
                    panic!("reserve_many(3) not served");
                };
                assert_eq!(permits.len(), 3);
                drop(permits);
                assert_eq!(tx.capacity(), 3);
                assert_eq!(rx.try_recv(), Ok(3));
                assert_eq!(tx.capacity(), 4);
            }

            /// `reserve_many(n)` on a full channel waits while the slots
            /// come back one message at a time, and is woken once, with
            /// the last one.
            #[test]
            fn reserve_many_waits_for_slots_trickling_back() {
                let (tx, mut rx) = full(4);
                let (counter, waker) = counting_waker();
                let mut reserve = pin!(tx.reserve_many(4));
                assert!(poll_once(reserve.as_mut(), &waker).is_pending());
                for i in 0..3 {
                    assert_eq!(rx.try_recv(), Ok(i));
                    assert_eq!(counter.wakes.load(std::sync::atomic::Ordering::SeqCst), 0);
                    assert_eq!(tx.capacity(), 0, "the slot went to the waiter");
                    assert!(poll_once(reserve.as_mut(), &waker).is_pending());
                }
                assert_eq!(rx.try_recv(), Ok(3));
                assert_eq!(counter.wakes.load(std::sync::atomic::Ordering::SeqCst), 1);
                let Poll::Ready(Ok(permits)) = poll_once(reserve.as_mut(), &waker) else {
                    panic!("reserve_many(4) not served");
                };
                for (i, permit) in permits.enumerate() {
                    permit.send(10 + i as u32);
                }
                for i in 0..4 {
                    assert_eq!(rx.try_recv(), Ok(10 + i));
                }
                assert_eq!(tx.capacity(), 4);
            }

            /// A waiter that marked the pool and is cancelled: the slots
            /// freed after it go to the pool again (capacity, `try_send`),
            /// and a later waiter is served as before.
            #[test]
            fn cancelled_marked_waiter_leaves_the_channel_usable() {
                let (tx, mut rx) = full(1);
                let (_counter, waker) = counting_waker();
                {
                    let mut send = pin!(tx.send(1));
                    assert!(poll_once(send.as_mut(), &waker).is_pending());
                }
                assert_eq!(rx.try_recv(), Ok(0));
                assert_eq!(tx.capacity(), 1);
                for round in 0..3 {
                    tx.try_send(round).unwrap();
                    assert!(tx.try_send(9).is_err());
                    assert_eq!(rx.try_recv(), Ok(round));
                    assert_eq!(tx.capacity(), 1);
                }
                tx.try_send(5).unwrap();
                let (counter, waker) = counting_waker();
                let mut send = pin!(tx.send(6));
                assert!(poll_once(send.as_mut(), &waker).is_pending());
                assert_eq!(rx.try_recv(), Ok(5));
                assert_eq!(counter.wakes.load(std::sync::atomic::Ordering::SeqCst), 1);
                assert!(matches!(
                    poll_once(send.as_mut(), &waker),
                    Poll::Ready(Ok(()))
                ));
                assert_eq!(rx.try_recv(), Ok(6));
                assert_eq!(tx.capacity(), 1);
            }

            /// A receiver that closes with slots in its pool: the channel is
            /// done once the permits out come back, and `recv` ends.
            #[test]
            fn close_with_pooled_slots_ends_the_receiver() {
                let (tx, mut rx) = mpsc::channel::<u32>(3);
                tx.try_send(0).unwrap();
                tx.try_send(1).unwrap();
                let permit = tx.try_reserve().unwrap();
                assert_eq!(rx.try_recv(), Ok(0)); // pooled
                rx.close();
                assert!(tx.try_send(9).is_err());
                assert_eq!(rx.try_recv(), Ok(1));
                assert_eq!(
                    rx.try_recv(),
                    Err(mpsc::error::TryRecvError::Empty),
                    "a permit is still out"
                );
                permit.send(2);
                assert_eq!(rx.try_recv(), Ok(2));
                assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected));
            }
        }
    };
}

pool_suite!(sync, compio_sync::mpsc);
pool_suite!(local, compio_sync::local::mpsc);

/// One producer per runtime of executor `E` and the receiver on another,
/// through a bound that lets most slots sit in the pool: every message,
/// exactly once, in each producer's order.
fn exact_count_across_runtimes<E: Exec>(producers: usize, bound: usize) {
    const PER_PRODUCER: usize = 5_000;
    with_watchdog(HANG, move || {
        let (tx, mut rx) = compio_sync::mpsc::channel::<(usize, usize)>(bound);
        let receiver = thread::spawn(move || {
            E::block_on(async move {
                let mut next = vec![0; producers];
                while let Some((id, seq)) = rx.recv().await {
                    assert_eq!(seq, next[id], "producer {id}'s order");
                    next[id] += 1;
                }
                next
            })
        });
        let senders: Vec<_> = (0..producers)
            .map(|id| {
                let tx = tx.clone();
                thread::spawn(move || {
                    E::block_on(async move {
                        for seq in 0..PER_PRODUCER {
                            if seq % 3 == 0 {
                                // Mix in the non-waiting path, which takes
                                // pooled slots.
                                if let Err(e) = tx.try_send((id, seq)) {
                                    tx.send(e.into_inner()).await.unwrap();
                                }
                            } else {
                                tx.send((id, seq)).await.unwrap();
                            }
                        }
                    })
                })
            })
            .collect();
        drop(tx);
        for sender in senders {
            sender.join().unwrap();
        }
        assert_eq!(receiver.join().unwrap(), vec![PER_PRODUCER; producers]);
    });
}

#[test]
fn spsc_bounded_1024_exact_count_across_compio_runtimes() {
    exact_count_across_runtimes::<Compio>(1, 1024);
}

#[test]
fn mpsc_4_bounded_3_exact_count_across_compio_runtimes() {
    exact_count_across_runtimes::<Compio>(4, 3);
}

#[test]
fn spsc_bounded_64_exact_count_across_futures_threads() {
    exact_count_across_runtimes::<Futures>(1, 64);
}

#[test]
fn mpsc_4_bounded_2_exact_count_across_futures_threads() {
    exact_count_across_runtimes::<Futures>(4, 2);
}
