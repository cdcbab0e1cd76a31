//! The watch channel's contract, beyond tokio's own tests (`tokio_watch.rs`):
//! cancellation, torn values, exact counts across runtimes, drop counts and
//! misbehaving wakers, generic over the backend and the executor and
//! instantiated for every one by `for_each_backend!` at the end; then the
//! single-thread flavor (`mod local`).
#![cfg(not(loom))]

mod common;

use std::{
    future::Future,
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
    watch::{self, Receiver, Sender},
};
use futures::FutureExt;

fn channel<T, B: ThreadSafe>(init: T) -> (Sender<T, B>, Receiver<T, B>) {
    watch::channel_with_backend(init)
}

/// Counts the drops of the values it stands for.
#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A `changed()` polled (and so registered) and then dropped leaves the
/// change for the next call: nothing is marked seen by a future that did
/// not complete.
pub fn dropped_changed_loses_nothing<B: ThreadSafe>() {
    let (tx, mut rx) = channel::<_, B>(0);
    let (woken, waker) = counting_waker();
    {
        let mut changed = pin!(rx.changed());
        assert!(poll_once(changed.as_mut(), &waker).is_pending());
        tx.send(1).unwrap();
        assert_eq!(woken.wakes.load(SeqCst), 1);
        // Dropped after the wake, before it was polled to completion.
    }
    assert!(rx.has_changed().unwrap());
    {
        let mut changed = pin!(rx.changed());
        assert!(matches!(
            poll_once(changed.as_mut(), &waker),
            Poll::Ready(Ok(()))
        ));
    }
    assert_eq!(*rx.borrow_and_update(), 1);
}

/// A `wait_for` dropped while waiting marks nothing it did not check.
pub fn dropped_wait_for_loses_nothing<B: ThreadSafe>() {
    let (tx, mut rx) = channel::<_, B>(0);
    let (_, waker) = counting_waker();
    {
        let mut wait = pin!(rx.wait_for(|v| *v == 2));
        assert!(poll_once(wait.as_mut(), &waker).is_pending());
    }
    tx.send(2).unwrap();
    let mut wait = pin!(rx.wait_for(|v| *v == 2));
    match poll_once(wait.as_mut(), &waker) {
        Poll::Ready(Ok(value)) => assert!(value.has_changed() && *value == 2),
        other => panic!("expected the value, got {:?}", other.map(|r| r.map(|v| *v))),
    }
}

/// `send_if_modified` returning `false` wakes nobody and marks nothing
/// changed; `true` wakes every waiting receiver once.
pub fn send_if_modified_wakes_only_on_true<B: ThreadSafe>() {
    let (tx, mut rx1) = channel::<_, B>(0);
    let mut rx2 = rx1.clone();
    let (w1, waker1) = counting_waker();
    let (w2, waker2) = counting_waker();
    let mut c1 = pin!(rx1.changed());
    let mut c2 = pin!(rx2.changed());
    assert!(poll_once(c1.as_mut(), &waker1).is_pending());
    assert!(poll_once(c2.as_mut(), &waker2).is_pending());
    assert!(!tx.send_if_modified(|_| false));
    assert_eq!((w1.wakes.load(SeqCst), w2.wakes.load(SeqCst)), (0, 0));
    assert!(poll_once(c1.as_mut(), &waker1).is_pending());
    assert!(tx.send_if_modified(|v| {
        *v = 1;
        true
    }));
    assert_eq!((w1.wakes.load(SeqCst), w2.wakes.load(SeqCst)), (1, 1));
    assert!(poll_once(c1.as_mut(), &waker1).is_ready());
    assert!(poll_once(c2.as_mut(), &waker2).is_ready());
}

/// Each value is dropped exactly once: on replacement (returned by
/// `send_replace`, or dropped by `send`), and the last one with the channel.
/// A failed `send` hands its value back.
pub fn every_value_dropped_exactly_once<B: ThreadSafe>() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel::<_, B>(Counted(drops.clone()));
    tx.send(Counted(drops.clone())).unwrap();
    assert_eq!(drops.load(SeqCst), 1);
    let old = tx.send_replace(Counted(drops.clone()));
    assert_eq!(drops.load(SeqCst), 1);
    drop(old);
    assert_eq!(drops.load(SeqCst), 2);
    drop(rx);
    let err = tx.send(Counted(drops.clone())).unwrap_err();
    assert_eq!(drops.load(SeqCst), 2);
    drop(err);
    assert_eq!(drops.load(SeqCst), 3);
    drop(tx);
    assert_eq!(drops.load(SeqCst), 4);
}

/// Receivers on two runtimes read a value that a plain thread keeps
/// replacing, and never see one half-written: every field of each value
/// they borrow agrees.
pub fn receivers_never_see_a_torn_value<B: ThreadSafe, E: Exec>() {
    const SENDS: u64 = 20_000;
    with_watchdog(HANG, || {
        let (tx, rx) = channel::<[u64; 16], B>([0; 16]);
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let mut rx = rx.clone();
                thread::spawn(move || {
                    E::block_on(async move {
                        let mut reads = 0u64;
                        loop {
                            let value = *rx.borrow_and_update();
                            assert!(value.iter().all(|&x| x == value[0]), "torn: {value:?}");
                            reads += 1;
                            if rx.changed().await.is_err() {
                                let last = *rx.borrow();
                                assert_eq!(last, [SENDS; 16]);
                                return reads;
                            }
                        }
                    })
                })
            })
            .collect();
        drop(rx);
        for i in 1..=SENDS {
            tx.send_replace([i; 16]);
        }
        drop(tx);
        for reader in readers {
            assert!(reader.join().unwrap() >= 1);
        }
    });
}

/// One sender, sixteen receivers on two runtimes: each sees the values it
/// sees in increasing order, ends at the last one, and then `changed`
/// reports the close. The sender waits after each send until every receiver
/// has seen it, so every receiver sees every value: exact counts.
pub fn fan_out_across_runtimes_exact_counts<B: ThreadSafe, E: Exec>() {
    const RECEIVERS: usize = 16;
    const SENDS: usize = 500;
    with_watchdog(HANG, || {
        let (tx, rx) = channel::<usize, B>(0);
        // Acks: the receivers count each value they see; the sender waits
        // on its own watch channel for the count to reach all of them.
        let seen = Arc::new(AtomicUsize::new(0));
        let (ack_tx, ack_rx) = channel::<(), B>(());
        let ack_tx = Arc::new(ack_tx);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let rxs: Vec<_> = (0..RECEIVERS / 2).map(|_| rx.clone()).collect();
                let (seen, ack_tx) = (seen.clone(), ack_tx.clone());
                thread::spawn(move || {
                    E::block_on(async move {
                        let tasks = rxs.into_iter().map(|mut rx| {
                            let (seen, ack_tx) = (seen.clone(), ack_tx.clone());
                            async move {
                                let mut values = 0;
                                let mut last = 0;
                                while rx.changed().await.is_ok() {
                                    let v = *rx.borrow_and_update();
                                    assert!(v > last, "{v} after {last}");
                                    last = v;
                                    values += 1;
                                    seen.fetch_add(1, SeqCst);
                                    ack_tx.send_replace(());
                                }
                                (values, last)
                            }
                        });
                        futures::future::join_all(tasks).await
                    })
                })
            })
            .collect();
        drop(rx);
        E::block_on(async {
            let mut ack_rx = ack_rx;
            for i in 1..=SENDS {
                tx.send(i).unwrap();
                while seen.load(SeqCst) < i * RECEIVERS {
                    ack_rx.changed().await.unwrap();
                }
            }
        });
        drop(tx);
        for t in threads {
            for (values, last) in t.join().unwrap() {
                assert_eq!((values, last), (SENDS, SENDS));
            }
        }
        assert_eq!(seen.load(SeqCst), SENDS * RECEIVERS);
    });
}

/// `Sender::closed` completes when the last receiver, on another thread,
/// is dropped, and not before.
pub fn closed_completes_when_last_receiver_drops<B: ThreadSafe, E: Exec>() {
    with_watchdog(HANG, || {
        let (tx, rx) = channel::<u8, B>(0);
        let rx2 = rx.clone();
        let (_, waker) = counting_waker();
        let mut closed = pin!(tx.closed());
        assert!(poll_once(closed.as_mut(), &waker).is_pending());
        drop(rx);
        assert!(poll_once(closed.as_mut(), &waker).is_pending());
        let dropper = thread::spawn(move || drop(rx2));
        E::block_on(closed);
        dropper.join().unwrap();
        assert!(tx.is_closed());
    });
}

/// A waker whose `clone` panics fails that `changed()` only: the panic
/// reaches the poller, and the receiver and the channel keep working.
pub fn waker_clone_panic_costs_only_its_own_wait<B: ThreadSafe>() {
    let (tx, mut rx) = channel::<u8, B>(0);
    let (hostile, waker) = Hostile::new();
    hostile.panic_on_clone(1);
    let r = catch_unwind(AssertUnwindSafe(|| {
        let mut changed = pin!(rx.changed());
        let _ = poll_once(changed.as_mut(), &waker);
    }));
    assert!(r.is_err());
    tx.send(1).unwrap();
    let (_, good) = counting_waker();
    let mut changed = pin!(rx.changed());
    assert!(poll_once(changed.as_mut(), &good).is_ready());
}

/// A waker whose `wake` panics: the send that wakes it still stores the
/// value and wakes every other receiver before the panic reaches it.
pub fn waker_wake_panic_still_wakes_the_others<B: ThreadSafe>() {
    let (tx, mut rx1) = channel::<u8, B>(0);
    let mut rx2 = rx1.clone();
    let (hostile, bad) = Hostile::new();
    let (woken, good) = counting_waker();
    let mut c1 = pin!(rx1.changed());
    let mut c2 = pin!(rx2.changed());
    assert!(poll_once(c1.as_mut(), &bad).is_pending());
    assert!(poll_once(c2.as_mut(), &good).is_pending());
    hostile.panic_on_wake(true);
    let r = catch_unwind(AssertUnwindSafe(|| tx.send(1)));
    assert!(r.is_err(), "the waker's panic reaches the sender");
    assert_eq!(*tx.borrow(), 1);
    assert_eq!(woken.wakes.load(SeqCst), 1);
    assert!(poll_once(c2.as_mut(), &good).is_ready());
    hostile.panic_on_wake(false);
    assert!(poll_once(c1.as_mut(), &good).is_ready());
}

/// A `changed()` waits in the queue of the thread that first polled it,
/// and keeps it wherever it goes next: one polled here, then re-polled and
/// completed on another thread (which has its own waiters, in its own
/// queue), and one dropped there while waiting, are each found in the right
/// queue by the send and by the cancellation; every waiter is woken once.
pub fn changed_moved_to_another_thread_keeps_its_queue<B: ThreadSafe>() {
    let (tx, mut rx1) = channel::<u8, B>(0);
    let mut rx2 = rx1.clone();
    let mut rx3 = rx1.clone();
    let (woken, waker) = counting_waker();
    let mut moved = Box::pin(rx1.changed());
    let mut dropped = Box::pin(rx2.changed());
    assert!(poll_once(moved.as_mut(), &waker).is_pending());
    assert!(poll_once(dropped.as_mut(), &waker).is_pending());
    thread::scope(|s| {
        s.spawn(|| {
            let (there, there_waker) = counting_waker();
            let mut local = pin!(rx3.changed());
            assert!(poll_once(local.as_mut(), &there_waker).is_pending());
            assert!(poll_once(moved.as_mut(), &waker).is_pending());
            drop(dropped);
            tx.send(7).unwrap();
            assert_eq!(there.wakes.load(SeqCst), 1);
            assert_eq!(woken.wakes.load(SeqCst), 1, "the moved waiter, once");
            assert!(poll_once(local.as_mut(), &there_waker).is_ready());
            assert!(poll_once(moved.as_mut(), &waker).is_ready());
        });
    });
    drop(moved);
    assert!(
        rx2.has_changed().unwrap(),
        "the dropped changed lost nothing"
    );
    assert!(!rx1.has_changed().unwrap());
}

/// The first waiter a send wakes on another thread wakes the others
/// waiting there that have not seen the send, before the send itself gets
/// to them, and each is woken once; a waiter that registered having seen the send
/// (here: during it) is left asleep until the next send.
pub fn first_woken_helps_and_a_waiter_that_saw_the_send_sleeps<B: ThreadSafe>() {
    let (tx, rx) = channel::<u8, B>(0);
    let (mut behind, mut late) = (rx.clone(), rx.clone());
    let first = PollsOnWake::new(async move {
        let mut rx = rx;
        rx.changed().await.unwrap();
    });
    let (behind_woken, behind_waker) = counting_waker();
    let mut behind_changed = Box::pin(async move { behind.changed().await.unwrap() });
    // Both wait on another thread than the sender's (a sender wakes the
    // waiters of its own thread in one go); the first waiter registers
    // first: it is the one the send wakes first.
    first.wait_first_beside(behind_changed.as_mut(), &behind_waker);
    // When the first one has run: `behind` is already woken, and `late`
    // sees the new version and waits for the next one.
    type Late = std::pin::Pin<Box<dyn Future<Output = u8> + Send>>;
    let (late_woken, late_waker) = counting_waker();
    let late_changed: Arc<std::sync::Mutex<Option<Late>>> = Arc::default();
    let helped = Arc::new(AtomicUsize::new(usize::MAX));
    {
        let (helped, behind_woken) = (helped.clone(), behind_woken.clone());
        let (late_changed, late_waker) = (late_changed.clone(), late_waker.clone());
        *first.after.lock().unwrap() = Some(Box::new(move || {
            helped.store(behind_woken.wakes.load(SeqCst), SeqCst);
            let mut changed: Late = Box::pin(async move {
                assert_eq!(*late.borrow_and_update(), 1);
                late.changed().await.unwrap();
                *late.borrow_and_update()
            });
            // On a third thread: a sender wakes its own thread's waiters
            // without asking what they have seen.
            thread::scope(|s| {
                s.spawn(|| assert!(poll_once(changed.as_mut(), &late_waker).is_pending()));
            });
            *late_changed.lock().unwrap() = Some(changed);
        }));
    }
    tx.send(1).unwrap();
    assert!(first.is_done(), "the first waiter ran");
    assert_eq!(
        helped.load(SeqCst),
        1,
        "it woke the other one before the send did"
    );
    assert_eq!(behind_woken.wakes.load(SeqCst), 1, "woken once");
    assert!(poll_once(behind_changed.as_mut(), &behind_waker).is_ready());
    assert_eq!(late_woken.wakes.load(SeqCst), 0, "it had seen the send");
    tx.send(2).unwrap();
    assert_eq!(late_woken.wakes.load(SeqCst), 1);
    let mut late_changed = late_changed.lock().unwrap().take().unwrap();
    assert_eq!(
        poll_once(late_changed.as_mut(), &late_waker),
        Poll::Ready(2)
    );
}

/// The first waiter a send wakes helps, and the waker of the other one
/// panics: the panic reaches the helper's `changed()` (it is out of the set
/// already, the change still unseen, so its next wait returns at once); the
/// other one was taken out of the set before its waker ran and sees the
/// change when polled; the send goes on and wakes nobody twice.
pub fn helper_meets_a_panicking_waker_and_nothing_is_lost<B: ThreadSafe>() {
    let (tx, rx) = channel::<u8, B>(0);
    let mut behind = rx.clone();
    let first = PollsOnWake::new(async move {
        let mut rx = rx;
        let helped = AssertUnwindSafe(rx.changed()).catch_unwind().await;
        assert!(
            helped.is_err(),
            "the helped waker's panic reaches the helper"
        );
        assert!(rx.has_changed().unwrap(), "the change is still unseen");
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow_and_update(), 1);
    });
    let (hostile, hostile_waker) = Hostile::new();
    let mut behind_changed = Box::pin(async move { behind.changed().await.unwrap() });
    // Both wait on another thread than the sender's, the helper first.
    first.wait_first_beside(behind_changed.as_mut(), &hostile_waker);
    hostile.panic_on_wake(true);
    tx.send(1).unwrap();
    assert!(first.is_done(), "the helper ran to the end");
    hostile.panic_on_wake(false);
    let (woken, waker) = counting_waker();
    assert!(poll_once(behind_changed.as_mut(), &waker).is_ready());
    assert_eq!(woken.wakes.load(SeqCst), 0);
}

macro_rules! contract_suite {
    ($name:ident, $backend:ty, $exec:ty, $($order:tt)*) => {
        mod $name {
            type B = $backend;
            type E = $exec;

            #[test]
            fn changed_moved_to_another_thread_keeps_its_queue() {
                super::changed_moved_to_another_thread_keeps_its_queue::<B>();
            }
            #[test]
            fn dropped_changed_loses_nothing() {
                super::dropped_changed_loses_nothing::<B>();
            }
            #[test]
            fn dropped_wait_for_loses_nothing() {
                super::dropped_wait_for_loses_nothing::<B>();
            }
            #[test]
            fn send_if_modified_wakes_only_on_true() {
                super::send_if_modified_wakes_only_on_true::<B>();
            }
            #[test]
            fn every_value_dropped_exactly_once() {
                super::every_value_dropped_exactly_once::<B>();
            }
            #[test]
            fn receivers_never_see_a_torn_value() {
                super::receivers_never_see_a_torn_value::<B, E>();
            }
            #[test]
            fn fan_out_across_runtimes_exact_counts() {
                super::fan_out_across_runtimes_exact_counts::<B, E>();
            }
            #[test]
            fn closed_completes_when_last_receiver_drops() {
                super::closed_completes_when_last_receiver_drops::<B, E>();
            }
            #[test]
            fn waker_clone_panic_costs_only_its_own_wait() {
                super::waker_clone_panic_costs_only_its_own_wait::<B>();
            }
            #[test]
            fn first_woken_helps_and_a_waiter_that_saw_the_send_sleeps() {
                super::first_woken_helps_and_a_waiter_that_saw_the_send_sleeps::<B>();
            }
            #[test]
            fn helper_meets_a_panicking_waker_and_nothing_is_lost() {
                super::helper_meets_a_panicking_waker_and_nothing_is_lost::<B>();
            }
            #[test]
            fn waker_wake_panic_still_wakes_the_others() {
                super::waker_wake_panic_still_wakes_the_others::<B>();
            }
        }
    };
}

for_each_backend!(contract_suite);

/// `compio_sync::local::watch`: the same behaviours on one thread, on
/// compio and on `futures::executor::LocalPool`.
mod local {
    use std::{cell::Cell, pin::pin, rc::Rc, task::Poll};

    use compio_sync::local::watch;
    use futures::{executor::LocalPool, task::LocalSpawnExt};

    use super::common::{counting_waker, poll_once};

    /// Sixteen tasks wait on one local channel; each sees every value when
    /// the sender yields between sends, and then the close.
    async fn fan_out(spawn: impl Fn(std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>)) {
        let (tx, rx) = watch::channel(0usize);
        let total = Rc::new(Cell::new(0));
        for _ in 0..16 {
            let (mut rx, total) = (rx.clone(), total.clone());
            spawn(Box::pin(async move {
                let mut last = 0;
                while rx.changed().await.is_ok() {
                    let v = *rx.borrow_and_update();
                    assert_eq!(v, last + 1);
                    last = v;
                    total.set(total.get() + 1);
                }
                assert_eq!(last, 100);
            }));
        }
        drop(rx);
        for i in 1..=100 {
            tx.send(i).unwrap();
            while total.get() < i * 16 {
                super::yield_now().await;
            }
        }
        drop(tx);
    }

    #[test]
    fn fan_out_on_compio_sees_every_value() {
        compio::runtime::Runtime::new()
            .unwrap()
            .block_on(fan_out(|f| {
                compio::runtime::spawn(f).detach();
            }));
    }

    #[test]
    fn fan_out_on_local_pool_sees_every_value() {
        let mut pool = LocalPool::new();
        let spawner = pool.spawner();
        pool.run_until(fan_out(move |f| spawner.spawn_local(f).unwrap()));
        pool.run();
    }

    #[test]
    fn dropped_changed_loses_nothing() {
        let (tx, mut rx) = watch::channel(0);
        let (_, waker) = counting_waker();
        {
            let mut changed = pin!(rx.changed());
            assert!(poll_once(changed.as_mut(), &waker).is_pending());
            tx.send(1).unwrap();
        }
        let mut changed = pin!(rx.changed());
        assert!(matches!(
            poll_once(changed.as_mut(), &waker),
            Poll::Ready(Ok(()))
        ));
    }

    /// A `Ref` alive across a send on the same thread is a bug the thread
    /// could never resolve: it panics instead of deadlocking, and the value
    /// is untouched.
    #[test]
    fn send_while_borrowed_panics_instead_of_deadlocking() {
        let (tx, rx) = watch::channel(1);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _value = rx.borrow();
            tx.send_replace(2);
        }));
        assert!(r.is_err());
        assert_eq!(*rx.borrow(), 1);
        assert!(!rx.has_changed().unwrap());
    }

    #[test]
    fn closed_and_counts() {
        compio::runtime::Runtime::new().unwrap().block_on(async {
            let (tx, rx) = watch::channel(());
            let tx2 = tx.clone();
            assert_eq!((tx.sender_count(), tx.receiver_count()), (2, 1));
            compio::runtime::spawn(async move { drop(rx) }).detach();
            tx2.closed().await;
            assert!(tx.is_closed());
        });
    }
}

/// The handles and futures are `Send` (and the handles `Sync`) for a
/// `Send + Sync` value, as tokio's, so `changed()` can be awaited in a task
/// spawned on a work-stealing runtime.
#[test]
fn handles_and_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let (tx, mut rx) = watch::channel(0u32);
    send_sync(&tx);
    send_sync(&rx);
    send(tx.closed());
    send(rx.changed());
    send(rx.wait_for(|v| *v == 1));
}
