//! The broadcast channel's contract, beyond tokio's own tests
//! (`tokio_broadcast.rs`): lag arithmetic over many ring wraps, when values
//! are dropped, cancellation, exact counts across runtimes and misbehaving
//! wakers, generic over the backend and the executor and instantiated for
//! every one by `for_each_backend!`; then the single-thread flavor
//! (`mod local`).
#![cfg(not(loom))]

mod common;

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    pin::pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::SeqCst},
    },
    task::Poll,
    thread,
};

use common::*;
use compio_sync::{
    backend::ThreadSafe,
    broadcast::{
        self, Receiver, Sender,
        error::{RecvError, TryRecvError},
    },
};
use futures::FutureExt;

fn channel<T: Clone, B: ThreadSafe>(capacity: usize) -> (Sender<T, B>, Receiver<T, B>) {
    broadcast::channel_with_backend(capacity)
}

/// A receiver that reads every `k`-th step falls behind a capacity-`cap`
/// ring many times over; what it receives plus what it is told it missed
/// accounts for every value sent, in order, and each `Lagged(n)` is exactly
/// the distance to the oldest retained value (tokio's arithmetic).
pub fn lag_accounts_for_every_value_over_many_wraps<B: ThreadSafe>() {
    for cap in [1usize, 2, 4, 8] {
        for k in 1..=(2 * cap + 1) {
            let (tx, mut rx) = channel::<u64, B>(cap);
            let mut fast = tx.subscribe();
            let (mut next, mut received, mut missed) = (0u64, 0u64, 0u64);
            let mut check = |rx: &mut Receiver<u64, B>, sent: u64| loop {
                match rx.try_recv() {
                    Ok(v) => {
                        assert_eq!(v, next, "cap {cap}, k {k}");
                        next += 1;
                        received += 1;
                    }
                    Err(TryRecvError::Lagged(n)) => {
                        // Skipped to the oldest retained: `sent - cap`.
                        assert_eq!(next + n, sent - cap as u64, "cap {cap}, k {k}");
                        next += n;
                        missed += n;
                    }
                    Err(TryRecvError::Empty) => return,
                    Err(TryRecvError::Closed) => panic!("closed early"),
                }
            };
            const SENT: u64 = 1000;
            for i in 0..SENT {
                tx.send(i).unwrap();
                assert_eq!(fast.try_recv(), Ok(i));
                if (i as usize).is_multiple_of(k) {
                    check(&mut rx, i + 1);
                }
            }
            check(&mut rx, SENT);
            assert_eq!(received + missed, SENT, "cap {cap}, k {k}");
            drop(tx);
            assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        }
    }
}

/// A value lives until every receiver that should receive it has (the last
/// reader drops it), or until it is overwritten; a receiver's drop counts
/// its unread values as read.
pub fn values_dropped_once_every_receiver_has_them<B: ThreadSafe>() {
    let (tx, mut rx1) = channel::<Arc<()>, B>(4);
    let mut rx2 = tx.subscribe();
    let mut rx3 = tx.subscribe();
    let value = Arc::new(());
    tx.send(value.clone()).unwrap();
    assert_eq!(Arc::strong_count(&value), 2);
    drop(rx1.try_recv().unwrap());
    drop(rx2.try_recv().unwrap());
    assert_eq!(Arc::strong_count(&value), 2, "rx3 has not read it");
    drop(rx3.try_recv().unwrap());
    assert_eq!(Arc::strong_count(&value), 1, "dropped by the last reader");
    assert!(tx.is_empty());

    // A receiver that leaves counts its unread values as read.
    let second = Arc::new(());
    tx.send(second.clone()).unwrap();
    drop(rx1.try_recv().unwrap());
    drop(rx2.try_recv().unwrap());
    assert_eq!(Arc::strong_count(&second), 2);
    drop(rx3);
    assert_eq!(Arc::strong_count(&second), 1);

    // An unread value overwritten by the ring is dropped then.
    let third = Arc::new(());
    tx.send(third.clone()).unwrap();
    for _ in 0..4 {
        tx.send(Arc::new(())).unwrap();
    }
    assert_eq!(Arc::strong_count(&third), 1);
    assert!(matches!(rx1.try_recv(), Err(TryRecvError::Lagged(1))));
}

/// A `recv()` polled (and so registered) and then dropped moves nothing: the
/// value sent meanwhile is the next one received.
pub fn dropped_recv_loses_nothing<B: ThreadSafe>() {
    let (tx, mut rx) = channel::<u32, B>(4);
    let (woken, waker) = counting_waker();
    {
        let mut recv = pin!(rx.recv());
        assert!(poll_once(recv.as_mut(), &waker).is_pending());
        tx.send(1).unwrap();
        assert_eq!(woken.wakes.load(SeqCst), 1);
    }
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(tx.len(), 0);
}

/// Every send wakes every waiting receiver exactly once, and a re-poll
/// while queued does not register twice.
pub fn send_wakes_each_waiting_receiver_once<B: ThreadSafe>() {
    let (tx, mut rx1) = channel::<u32, B>(4);
    let mut rx2 = tx.subscribe();
    let (w1, waker1) = counting_waker();
    let (w2, waker2) = counting_waker();
    let mut r1 = pin!(rx1.recv());
    let mut r2 = pin!(rx2.recv());
    assert!(poll_once(r1.as_mut(), &waker1).is_pending());
    assert!(poll_once(r1.as_mut(), &waker1).is_pending());
    assert!(poll_once(r2.as_mut(), &waker2).is_pending());
    tx.send(5).unwrap();
    assert_eq!((w1.wakes.load(SeqCst), w2.wakes.load(SeqCst)), (1, 1));
    assert_eq!(poll_once(r1.as_mut(), &waker1), Poll::Ready(Ok(5)));
    assert_eq!(poll_once(r2.as_mut(), &waker2), Poll::Ready(Ok(5)));
}

/// The close wakes waiting receivers, which see `Closed` only after the
/// values sent before it.
pub fn close_wakes_receivers_after_pending_values<B: ThreadSafe>() {
    let (tx, mut rx) = channel::<u32, B>(4);
    let (woken, waker) = counting_waker();
    let mut other = tx.subscribe();
    {
        let mut recv = pin!(other.recv());
        assert!(poll_once(recv.as_mut(), &waker).is_pending());
        tx.send(1).unwrap();
        assert_eq!(woken.wakes.load(SeqCst), 1);
        assert_eq!(poll_once(recv.as_mut(), &waker), Poll::Ready(Ok(1)));
    }
    let mut recv = pin!(other.recv());
    assert!(poll_once(recv.as_mut(), &waker).is_pending());
    drop(tx);
    assert_eq!(woken.wakes.load(SeqCst), 2);
    assert_eq!(
        poll_once(recv.as_mut(), &waker),
        Poll::Ready(Err(RecvError::Closed))
    );
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

/// One sender thread, sixteen receivers on two runtimes. With a capacity
/// that holds every value, each receiver receives all of them, in order;
/// with a small one, each receiver's values plus its `Lagged` counts add up
/// to the number sent, in order. Then every receiver sees `Closed`.
pub fn fan_out_across_runtimes_exact_counts<B: ThreadSafe, E: Exec>(capacity: usize) {
    const RECEIVERS: usize = 16;
    const SENDS: u64 = 2_000;
    with_watchdog(HANG, move || {
        let tx = Sender::<u64, B>::with_backend(capacity);
        let received = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let rxs: Vec<_> = (0..RECEIVERS / 2).map(|_| tx.subscribe()).collect();
                let received = received.clone();
                thread::spawn(move || {
                    E::block_on(async move {
                        let tasks = rxs.into_iter().map(|mut rx| {
                            let received = received.clone();
                            async move {
                                let (mut next, mut missed) = (0u64, 0u64);
                                loop {
                                    match rx.recv().await {
                                        Ok(v) => {
                                            assert_eq!(v, next);
                                            next += 1;
                                            received.fetch_add(1, SeqCst);
                                        }
                                        Err(RecvError::Lagged(n)) => {
                                            next += n;
                                            missed += n;
                                        }
                                        Err(RecvError::Closed) => return (next, missed),
                                    }
                                }
                            }
                        });
                        futures::future::join_all(tasks).await
                    })
                })
            })
            .collect();
        for i in 0..SENDS {
            assert_eq!(tx.send(i).unwrap(), RECEIVERS);
            if i.is_multiple_of(64) {
                // Let the receivers run now and then (the ring is small).
                thread::yield_now();
            }
        }
        drop(tx);
        let mut total_missed = 0;
        for t in threads {
            for (next, missed) in t.join().unwrap() {
                assert_eq!(next, SENDS);
                total_missed += missed;
            }
        }
        let expected = RECEIVERS as u64 * SENDS - total_missed;
        assert_eq!(received.load(SeqCst) as u64, expected);
        if capacity as u64 >= SENDS {
            assert_eq!(total_missed, 0);
        }
    });
}

/// `blocking_recv` on plain threads, fed from a compio runtime.
pub fn blocking_recv_from_plain_threads<B: ThreadSafe, E: Exec>() {
    with_watchdog(HANG, || {
        let (tx, rx) = channel::<u32, B>(128);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let mut rx = rx.resubscribe();
                thread::spawn(move || {
                    let mut sum = 0;
                    while let Ok(v) = rx.blocking_recv() {
                        sum += v;
                    }
                    sum
                })
            })
            .collect();
        drop(rx);
        E::block_on(async {
            for i in 1..=100 {
                tx.send(i).unwrap();
            }
        });
        drop(tx);
        for t in threads {
            assert_eq!(t.join().unwrap(), 5050);
        }
    });
}

/// A waker whose `clone` panics fails that `recv()` only; the receiver
/// keeps its place.
pub fn waker_clone_panic_costs_only_its_own_wait<B: ThreadSafe>() {
    let (tx, mut rx) = channel::<u32, B>(4);
    let (hostile, waker) = Hostile::new();
    hostile.panic_on_clone(1);
    let r = catch_unwind(AssertUnwindSafe(|| {
        let mut recv = pin!(rx.recv());
        let _ = poll_once(recv.as_mut(), &waker);
    }));
    assert!(r.is_err());
    tx.send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
}

/// A waker whose `wake` panics: the send still delivers, wakes every other
/// waiting receiver, and then the panic reaches the sender.
pub fn waker_wake_panic_still_wakes_the_others<B: ThreadSafe>() {
    let (tx, mut rx1) = channel::<u32, B>(4);
    let mut rx2 = tx.subscribe();
    let (hostile, bad) = Hostile::new();
    let (woken, good) = counting_waker();
    let mut r1 = pin!(rx1.recv());
    let mut r2 = pin!(rx2.recv());
    assert!(poll_once(r1.as_mut(), &bad).is_pending());
    assert!(poll_once(r2.as_mut(), &good).is_pending());
    hostile.panic_on_wake(true);
    let r = catch_unwind(AssertUnwindSafe(|| tx.send(9)));
    assert!(r.is_err());
    assert_eq!(woken.wakes.load(SeqCst), 1);
    assert_eq!(poll_once(r2.as_mut(), &good), Poll::Ready(Ok(9)));
    hostile.panic_on_wake(false);
    assert_eq!(poll_once(r1.as_mut(), &good), Poll::Ready(Ok(9)));
}

/// A waiting `recv()` moved to another thread: one polled here, then
/// re-polled and completed on another thread (which has a waiter of its
/// own), and one dropped there while waiting, are each found by the send and
/// by the cancellation; every waiter is woken once.
pub fn recv_moved_to_another_thread_keeps_its_queue<B: ThreadSafe>() {
    let (tx, mut rx1) = channel::<u32, B>(4);
    let mut rx2 = tx.subscribe();
    let mut rx3 = tx.subscribe();
    let (woken, waker) = counting_waker();
    let mut moved = Box::pin(rx1.recv());
    let mut dropped = Box::pin(rx2.recv());
    assert!(poll_once(moved.as_mut(), &waker).is_pending());
    assert!(poll_once(dropped.as_mut(), &waker).is_pending());
    thread::scope(|s| {
        s.spawn(|| {
            let (there, there_waker) = counting_waker();
            let mut local = pin!(rx3.recv());
            assert!(poll_once(local.as_mut(), &there_waker).is_pending());
            assert!(poll_once(moved.as_mut(), &waker).is_pending());
            drop(dropped);
            tx.send(7).unwrap();
            assert_eq!(there.wakes.load(SeqCst), 1);
            assert_eq!(woken.wakes.load(SeqCst), 1, "the moved waiter, once");
            assert_eq!(poll_once(local.as_mut(), &there_waker), Poll::Ready(Ok(7)));
            assert_eq!(poll_once(moved.as_mut(), &waker), Poll::Ready(Ok(7)));
        });
    });
    drop(moved);
    assert_eq!(rx2.try_recv(), Ok(7), "the dropped recv lost nothing");
}

/// The first receiver a send wakes on another thread wakes the others
/// waiting there that have not seen the value, before the send itself gets
/// to them, and each is woken once; a receiver that registered having seen
/// the value (here: during the send) is left asleep until the next send.
/// (The watch twin is in `watch.rs`.)
pub fn first_woken_helps_and_a_receiver_that_saw_the_send_sleeps<B: ThreadSafe>() {
    let (tx, rx) = channel::<u8, B>(4);
    let (mut behind, mut late) = (tx.subscribe(), tx.subscribe());
    let first = PollsOnWake::new(async move {
        let mut rx = rx;
        assert_eq!(rx.recv().await, Ok(1));
    });
    let (behind_woken, behind_waker) = counting_waker();
    let mut behind_recv = Box::pin(async move { behind.recv().await });
    // Both wait on another thread than the sender's (a sender wakes the
    // waiters of its own thread in one go); the first registers first: it
    // is the one the send wakes first.
    first.wait_first_beside(behind_recv.as_mut(), &behind_waker);
    // When the first one has run: `behind` is already woken, and `late`
    // takes the value and waits for the next one.
    type Late = std::pin::Pin<Box<dyn Future<Output = Result<u8, RecvError>> + Send>>;
    let (late_woken, late_waker) = counting_waker();
    let late_recv: Arc<std::sync::Mutex<Option<Late>>> = Arc::default();
    let helped = Arc::new(AtomicUsize::new(usize::MAX));
    {
        let (helped, behind_woken) = (helped.clone(), behind_woken.clone());
        let (late_recv, late_waker) = (late_recv.clone(), late_waker.clone());
        *first.after.lock().unwrap() = Some(Box::new(move || {
            helped.store(behind_woken.wakes.load(SeqCst), SeqCst);
            let mut recv: Late = Box::pin(async move {
                assert_eq!(late.recv().await, Ok(1));
                late.recv().await
            });
            // On a third thread: a sender wakes its own thread's waiters
            // without asking what they have seen.
            thread::scope(|s| {
                s.spawn(|| assert!(poll_once(recv.as_mut(), &late_waker).is_pending()));
            });
            *late_recv.lock().unwrap() = Some(recv);
        }));
    }
    tx.send(1).unwrap();
    assert!(first.is_done(), "the first receiver ran");
    assert_eq!(
        helped.load(SeqCst),
        1,
        "it woke the other one before the send did"
    );
    assert_eq!(behind_woken.wakes.load(SeqCst), 1, "woken once");
    assert_eq!(
        poll_once(behind_recv.as_mut(), &behind_waker),
        Poll::Ready(Ok(1))
    );
    assert_eq!(late_woken.wakes.load(SeqCst), 0, "it had seen the send");
    tx.send(2).unwrap();
    assert_eq!(late_woken.wakes.load(SeqCst), 1);
    let mut late_recv = late_recv.lock().unwrap().take().unwrap();
    assert_eq!(
        poll_once(late_recv.as_mut(), &late_waker),
        Poll::Ready(Ok(2))
    );
}

/// The first receiver a send wakes helps, and the waker of the other one
/// panics: the panic reaches the helper's `recv()` (it is out of the set
/// already, the value still unread, so its next `recv` returns it at once);
/// the other one was taken out of the set before its waker ran and gets
/// the value when polled; the send goes on and wakes nobody twice.
pub fn helper_meets_a_panicking_waker_and_nothing_is_lost<B: ThreadSafe>() {
    let (tx, rx) = channel::<u8, B>(4);
    let mut behind = tx.subscribe();
    let first = PollsOnWake::new(async move {
        let mut rx = rx;
        let helped = AssertUnwindSafe(rx.recv()).catch_unwind().await;
        assert!(
            helped.is_err(),
            "the helped waker's panic reaches the helper"
        );
        assert_eq!(rx.recv().await, Ok(1), "the value is still there");
    });
    let (hostile, hostile_waker) = Hostile::new();
    let mut behind_recv = Box::pin(async move { behind.recv().await });
    // Both wait on another thread than the sender's, the helper first.
    first.wait_first_beside(behind_recv.as_mut(), &hostile_waker);
    hostile.panic_on_wake(true);
    tx.send(1).unwrap();
    assert!(first.is_done(), "the helper ran to the end");
    hostile.panic_on_wake(false);
    let (woken, waker) = counting_waker();
    assert_eq!(poll_once(behind_recv.as_mut(), &waker), Poll::Ready(Ok(1)));
    assert_eq!(woken.wakes.load(SeqCst), 0);
}

macro_rules! contract_suite {
    ($name:ident, $backend:ty, $exec:ty, $($order:tt)*) => {
        mod $name {
            type B = $backend;
            type E = $exec;

            #[test]
            fn recv_moved_to_another_thread_keeps_its_queue() {
                super::recv_moved_to_another_thread_keeps_its_queue::<B>();
            }
            #[test]
            fn lag_accounts_for_every_value_over_many_wraps() {
                super::lag_accounts_for_every_value_over_many_wraps::<B>();
            }
            #[test]
            fn values_dropped_once_every_receiver_has_them() {
                super::values_dropped_once_every_receiver_has_them::<B>();
            }
            #[test]
            fn dropped_recv_loses_nothing() {
                super::dropped_recv_loses_nothing::<B>();
            }
            #[test]
            fn send_wakes_each_waiting_receiver_once() {
                super::send_wakes_each_waiting_receiver_once::<B>();
            }
            #[test]
            fn close_wakes_receivers_after_pending_values() {
                super::close_wakes_receivers_after_pending_values::<B>();
            }
            #[test]
            fn fan_out_across_runtimes_no_lag_exact_counts() {
                super::fan_out_across_runtimes_exact_counts::<B, E>(2048);
            }
            #[test]
            fn fan_out_across_runtimes_small_ring_lag_counts_add_up() {
                super::fan_out_across_runtimes_exact_counts::<B, E>(8);
            }
            #[test]
            fn blocking_recv_from_plain_threads() {
                super::blocking_recv_from_plain_threads::<B, E>();
            }
            #[test]
            fn waker_clone_panic_costs_only_its_own_wait() {
                super::waker_clone_panic_costs_only_its_own_wait::<B>();
            }
            #[test]
            fn waker_wake_panic_still_wakes_the_others() {
                super::waker_wake_panic_still_wakes_the_others::<B>();
            }
            #[test]
            fn first_woken_helps_and_a_receiver_that_saw_the_send_sleeps() {
                super::first_woken_helps_and_a_receiver_that_saw_the_send_sleeps::<B>();
            }
            #[test]
            fn helper_meets_a_panicking_waker_and_nothing_is_lost() {
                super::helper_meets_a_panicking_waker_and_nothing_is_lost::<B>();
            }
        }
    };
}

for_each_backend!(contract_suite);

/// `blocking_recv` refuses to run on a compio runtime's thread.
#[test]
fn blocking_recv_panics_inside_compio_runtime() {
    let (tx, mut rx) = broadcast::channel::<u8>(4);
    tx.send(1).unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| {
        Compio::block_on(async { rx.blocking_recv() })
    }));
    assert!(r.is_err());
    assert_eq!(rx.try_recv(), Ok(1), "nothing was consumed");
}

/// A value whose `Drop` uses the channel again (sends) does not deadlock:
/// values are dropped with no lock held.
#[test]
fn value_drop_may_reenter_the_channel() {
    #[derive(Clone, Debug)]
    struct Reenter(Option<Sender<Reenter>>);
    impl Drop for Reenter {
        fn drop(&mut self) {
            if let Some(tx) = self.0.take() {
                let _ = tx.send(Reenter(None));
            }
        }
    }
    with_watchdog(SHORT_HANG, || {
        let (tx, mut rx) = broadcast::channel::<Reenter>(1);
        tx.send(Reenter(Some(tx.clone()))).unwrap();
        // Overwriting it drops it (it re-sends), then reading drops the rest.
        tx.send(Reenter(None)).unwrap();
        while let Ok(_) | Err(TryRecvError::Lagged(_)) = rx.try_recv() {}
    });
}

/// `compio_sync::local::broadcast`: the same behaviours on one thread.
mod local {
    use std::{cell::Cell, rc::Rc};

    use compio_sync::local::broadcast::{
        self,
        error::{RecvError, TryRecvError},
    };
    use futures::{executor::LocalPool, task::LocalSpawnExt};

    /// Sixteen tasks on one thread receive every value of a channel that
    /// holds them all, then `Closed`.
    async fn fan_out(spawn: impl Fn(std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>)) {
        let tx = broadcast::Sender::new(256);
        let total = Rc::new(Cell::new(0));
        for _ in 0..16 {
            let (mut rx, total) = (tx.subscribe(), total.clone());
            spawn(Box::pin(async move {
                let mut next = 0;
                loop {
                    match rx.recv().await {
                        Ok(v) => {
                            assert_eq!(v, next);
                            next += 1;
                            total.set(total.get() + 1);
                        }
                        Err(RecvError::Closed) => break,
                        Err(e) => panic!("{e}"),
                    }
                }
                assert_eq!(next, 200);
            }));
        }
        for i in 0..200u32 {
            assert_eq!(tx.send(i).unwrap(), 16);
            if i.is_multiple_of(50) {
                super::yield_now().await;
            }
        }
        drop(tx);
        while total.get() < 200 * 16 {
            super::yield_now().await;
        }
    }

    #[test]
    fn fan_out_on_compio_receives_every_value() {
        compio::runtime::Runtime::new()
            .unwrap()
            .block_on(fan_out(|f| {
                compio::runtime::spawn(f).detach();
            }));
    }

    #[test]
    fn fan_out_on_local_pool_receives_every_value() {
        let mut pool = LocalPool::new();
        let spawner = pool.spawner();
        pool.run_until(fan_out(move |f| spawner.spawn_local(f).unwrap()));
        pool.run();
    }

    #[test]
    fn lag_arithmetic_matches_the_thread_safe_channel() {
        let (tx, mut rx) = broadcast::channel(2);
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
        assert_eq!(rx.try_recv(), Ok(3));
        assert_eq!(rx.try_recv(), Ok(4));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn values_dropped_once_every_receiver_has_them() {
        let (tx, mut rx1) = broadcast::channel(4);
        let mut rx2 = tx.subscribe();
        let value = Rc::new(());
        tx.send(value.clone()).unwrap();
        drop(rx1.try_recv().unwrap());
        assert_eq!(Rc::strong_count(&value), 2);
        drop(rx2.try_recv().unwrap());
        assert_eq!(Rc::strong_count(&value), 1);
    }
}

/// The handles and `recv()` are `Send` (and the handles `Sync`) for a
/// `Send` value, as tokio's.
#[test]
fn handles_and_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let (tx, mut rx) = broadcast::channel::<u32>(4);
    send_sync(&tx);
    send_sync(&tx.downgrade());
    send_sync(&rx);
    send(tx.closed());
    send(rx.recv());
}
