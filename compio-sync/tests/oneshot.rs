//! oneshot semantics this crate pins beyond tokio's own tests
//! (`tests/tokio_oneshot.rs`): the value dropped exactly once whoever ends
//! up with it, hostile wakers, exact counts across runtimes; then the local
//! flavor.
#![cfg(not(loom))]

mod common;

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    pin::pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::SeqCst},
    },
    task::Context,
    thread,
};

use common::*;
use compio_sync::oneshot::{self, error::TryRecvError};

/// A value that counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn value_sent_but_never_received_is_dropped_with_the_receiver() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = oneshot::channel();
    assert!(tx.send(Counted(drops.clone())).is_ok());
    assert_eq!(drops.load(SeqCst), 0);
    drop(rx);
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn value_refused_by_a_closed_receiver_comes_back_undropped() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = oneshot::channel();
    rx.close();
    let back = tx.send(Counted(drops.clone())).unwrap_err();
    assert_eq!(drops.load(SeqCst), 0);
    drop(back);
    drop(rx);
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn value_sent_before_close_is_still_received() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(3).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(3));
    assert!(rx.is_terminated());
}

/// A receiver future dropped (cancelled) while waiting: the `&mut Receiver`
/// keeps the channel, and the value still arrives.
#[test]
fn cancelled_wait_loses_no_value() {
    let (tx, mut rx) = oneshot::channel();
    let (_counter, waker) = counting_waker();
    {
        let mut wait = pin!(&mut rx);
        assert!(poll_once(wait.as_mut(), &waker).is_pending());
    }
    tx.send(5).unwrap();
    assert_eq!(futures::executor::block_on(rx), Ok(5));
}

/// The receiver's waker panics on `wake`: `send` panics with it, but the
/// value was delivered and is received.
#[test]
fn panicking_receiver_waker_loses_no_value() {
    let (tx, mut rx) = oneshot::channel();
    let (hostile, waker) = Hostile::new();
    assert!(
        pin!(&mut rx)
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    hostile.panic_on_wake(true);
    assert!(catch_unwind(AssertUnwindSafe(|| tx.send(9))).is_err());
    hostile.panic_on_wake(false);
    assert_eq!(rx.try_recv(), Ok(9));
}

/// The receiver's waker panics on `clone` while registering: the poll panics,
/// nothing is registered, and the next poll works.
#[test]
fn panicking_receiver_clone_leaves_channel_usable() {
    let (tx, mut rx) = oneshot::channel();
    let (hostile, waker) = Hostile::new();
    hostile.panic_on_clone(1);
    let polled = catch_unwind(AssertUnwindSafe(|| {
        pin!(&mut rx).poll(&mut Context::from_waker(&waker))
    }));
    assert!(polled.is_err());
    let (counter, good) = counting_waker();
    assert!(
        pin!(&mut rx)
            .poll(&mut Context::from_waker(&good))
            .is_pending()
    );
    tx.send(1).unwrap();
    assert_eq!(counter.wakes.load(SeqCst), 1);
    assert_eq!(rx.try_recv(), Ok(1));
}

/// The replaced waker panics on `drop` (the receiver moves to another task):
/// the poll panics after the new waker is in place, and it is woken.
#[test]
fn panicking_drop_of_a_replaced_waker_keeps_the_new_one() {
    let (tx, mut rx) = oneshot::channel();
    let (hostile, waker) = Hostile::new();
    assert!(
        pin!(&mut rx)
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    drop(waker);
    hostile.panic_on_drop(true);
    let (counter, good) = counting_waker();
    let polled = catch_unwind(AssertUnwindSafe(|| {
        pin!(&mut rx).poll(&mut Context::from_waker(&good))
    }));
    assert!(polled.is_err(), "the old waker's drop panicked");
    hostile.panic_on_drop(false);
    tx.send(2).unwrap();
    assert_eq!(counter.wakes.load(SeqCst), 1);
    assert_eq!(rx.try_recv(), Ok(2));
}

/// `Sender::closed` on one runtime completes when the receiver is dropped on
/// another.
#[test]
fn sender_closed_completes_across_runtimes() {
    with_watchdog(HANG, || {
        let (mut tx, rx) = oneshot::channel::<()>();
        let waiter = thread::spawn(move || Compio::block_on(async move { tx.closed().await }));
        thread::spawn(move || drop(rx)).join().unwrap();
        waiter.join().unwrap();
    });
}

/// Many round trips, each a fresh pair of channels between two runtimes:
/// every value arrives, exactly once.
fn round_trips_across_runtimes<E: Exec>() {
    const ROUNDS: usize = 2_000;
    with_watchdog(HANG, || {
        let (requests, mut incoming) =
            compio_sync::mpsc::unbounded_channel::<(usize, oneshot::Sender<usize>)>();
        let server = thread::spawn(move || {
            E::block_on(async move {
                let mut served = 0;
                while let Some((n, reply)) = incoming.recv().await {
                    reply.send(n * 2).unwrap();
                    served += 1;
                }
                served
            })
        });
        let sum = E::block_on(async move {
            let mut sum = 0;
            for n in 0..ROUNDS {
                let (tx, rx) = oneshot::channel();
                requests.send((n, tx)).unwrap();
                sum += rx.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..ROUNDS).map(|n| n * 2).sum::<usize>());
        assert_eq!(server.join().unwrap(), ROUNDS);
    });
}

#[test]
fn round_trips_across_compio_runtimes() {
    round_trips_across_runtimes::<Compio>();
}

#[test]
fn round_trips_across_futures_executors() {
    round_trips_across_runtimes::<Futures>();
}

#[test]
fn blocking_recv_on_a_plain_thread() {
    with_watchdog(HANG, || {
        let (tx, rx) = oneshot::channel();
        let thread = thread::spawn(move || rx.blocking_recv());
        Compio::block_on(async move { tx.send("value").unwrap() });
        assert_eq!(thread.join().unwrap(), Ok("value"));
    });
}

/// A blocking receive inside a compio runtime would block every task of it:
/// it panics instead.
#[test]
#[should_panic = "running a compio runtime"]
fn blocking_recv_in_a_compio_runtime_panics() {
    let (_tx, rx) = oneshot::channel::<()>();
    Compio::block_on(async move {
        let _ = rx.blocking_recv();
    });
}

/// Same source, local flavor.
mod local {
    use compio_sync::local::oneshot;
    use futures::{executor::LocalPool, task::LocalSpawnExt};

    use super::*;

    #[test]
    fn send_and_receive_between_tasks_on_compio() {
        let got = compio::runtime::Runtime::new().unwrap().block_on(async {
            let (tx, rx) = oneshot::channel();
            compio::runtime::spawn(async move { tx.send(std::rc::Rc::new(4)).unwrap() }).detach();
            rx.await.unwrap()
        });
        assert_eq!(*got, 4);
    }

    #[test]
    fn sender_closed_and_receiver_drop_on_a_local_pool() {
        let mut pool = LocalPool::new();
        let (mut tx, rx) = oneshot::channel::<()>();
        let done = std::rc::Rc::new(std::cell::Cell::new(false));
        let flag = done.clone();
        pool.spawner()
            .spawn_local(async move {
                tx.closed().await;
                flag.set(true);
            })
            .unwrap();
        pool.run_until_stalled();
        assert!(!done.get());
        drop(rx);
        pool.run_until_stalled();
        assert!(done.get());
    }

    #[test]
    fn value_dropped_exactly_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = oneshot::channel();
        tx.send(Counted(drops.clone())).ok().unwrap();
        assert!(!rx.is_empty());
        drop(rx.try_recv().unwrap());
        assert_eq!(rx.try_recv().err(), Some(TryRecvError::Closed));
        drop(rx);
        assert_eq!(drops.load(SeqCst), 1);
    }
}
