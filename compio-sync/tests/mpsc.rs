//! mpsc semantics this crate pins beyond tokio's own tests
//! (`tests/tokio_mpsc*.rs`): cancellation at every await point, values
//! dropped exactly once, sender order, hostile wakers, and exact-count
//! stress across runtimes; on every backend and both executors, then the
//! local flavor.
#![cfg(not(loom))]

mod common;

use std::{
    pin::pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::SeqCst},
    },
    task::Context,
    thread,
};

use common::*;
use compio_sync::{
    backend::ThreadSafe,
    mpsc::{self, error::TrySendError},
};

/// A value that counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// The receiver's wait node lives in the channel, so the last sender frees
/// it, maybe on another thread after the receiver's runtime is gone. A
/// dropped receiver keeps nothing of its last wait there: no waker clone and
/// no kernel wait (an io_uring `FUTEX_WAIT` that held its runtime's driver
/// was once leaked that way, with the runtime). Counted through the waker's
/// clones once every handle is gone; a leaked kernel wait holds a no-op
/// waker instead, and AddressSanitizer's leak check (CI) catches it here.
fn dropped_receiver_keeps_nothing_for_a_sender_on_another_thread<B: ThreadSafe, E: Exec>() {
    let (counter, waker) = counting_waker();
    let tx = E::block_on(async {
        let (tx, mut rx) = mpsc::channel_with_backend::<u32, B>(1);
        {
            let mut recv = pin!(rx.recv());
            assert!(poll_once(recv.as_mut(), &waker).is_pending());
        }
        drop(rx);
        // On compio, let the driver dequeue the kernel wait the receiver's
        // drop cancelled: IOCP's driver leaks the ops still in flight when
        // the runtime goes (io_uring's frees them), and it only looks at its
        // port in a poll that no wake-up of the runtime cut short, as a
        // timer's is.
        if compio::runtime::Runtime::try_with_current(|_| ()).is_ok() {
            for _ in 0..2 {
                compio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        }
        tx
    });
    thread::spawn(move || drop(tx)).join().unwrap();
    drop(waker);
    assert_eq!(
        Arc::strong_count(&counter),
        1,
        "a waker clone outlived the channel"
    );
}

/// A receiver that waited on one runtime's thread (an io_uring
/// `FUTEX_WAIT` in flight, which holds that runtime's driver) and is then
/// moved to another thread and dropped there: the wait cannot be dropped on
/// the foreign thread, so it goes back to its own thread, which drops it when
/// it exits (or arms its next wait). Nothing is leaked: not the op, not the
/// driver, not the waker the op keeps a clone of. (On Windows, compio's IOCP
/// driver leaks an op still in flight when its runtime goes, so the same
/// flow there is compio's leak, not ours: this test is Linux-only.)
#[cfg(all(target_os = "linux", feature = "io-uring-futex"))]
#[test]
fn receiver_moved_to_another_thread_after_waiting_leaks_nothing() {
    use compio_sync::backend::IoUringFutex;
    let (counter, waker) = counting_waker();
    let (to_test, handles) = std::sync::mpsc::channel();
    let (to_home, exit) = std::sync::mpsc::channel::<()>();
    let home = thread::spawn(move || {
        let channel = Compio::block_on(async move {
            let (tx, mut rx) = mpsc::channel_with_backend::<u32, IoUringFutex>(1);
            {
                let mut recv = pin!(rx.recv());
                assert!(poll_once(recv.as_mut(), &waker).is_pending());
            }
            (tx, rx)
        });
        to_test.send(channel).unwrap();
        // Alive until the test has dropped the receiver.
        exit.recv().unwrap();
    });
    let (tx, rx) = handles.recv().unwrap();
    drop(rx);
    drop(tx);
    to_home.send(()).unwrap();
    home.join().unwrap();
    assert_eq!(
        Arc::strong_count(&counter),
        1,
        "the wait (and its runtime's driver) was leaked"
    );
}

/// A `send().await` dropped while it waits for a slot sends nothing and
/// takes no slot: the value goes with the future, the capacity stays.
fn dropped_send_loses_no_capacity<B: ThreadSafe, E: Exec>() {
    E::block_on(async {
        let (tx, mut rx) = mpsc::channel_with_backend::<u32, B>(1);
        tx.send(1).await.unwrap();
        let (_counter, waker) = counting_waker();
        {
            let mut send = pin!(tx.send(2));
            assert!(poll_once(send.as_mut(), &waker).is_pending());
        }
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(tx.capacity(), 1);
        assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Empty));
        tx.try_send(3).unwrap();
        assert_eq!(rx.recv().await, Some(3));
    });
}

/// tokio's cancel safety for `send`: a `send().await` cancelled before it
/// returned `Ready` sent nothing, even when a `recv` had already freed a
/// slot for it (the semaphore handed the slot to the waiting send, which
/// had not run yet). The value goes with the future and the slot comes
/// back. (kanal's and flume's receivers instead take the value out of a
/// waiting send future, which their capacity-1 throughput rests on: there,
/// the cancelled send below is delivered.)
fn send_cancelled_after_its_slot_freed_sends_nothing<B: ThreadSafe, E: Exec>() {
    E::block_on(async {
        let (tx, mut rx) = mpsc::channel_with_backend::<Counted, B>(1);
        let drops = Arc::new(AtomicUsize::new(0));
        tx.send(Counted(drops.clone())).await.ok().unwrap();
        let (_woken, waker) = counting_waker();
        {
            let mut send = pin!(tx.send(Counted(drops.clone())));
            assert!(poll_once(send.as_mut(), &waker).is_pending());
            drop(rx.recv().await.expect("the first message"));
            assert_eq!(drops.load(SeqCst), 1, "the first message, received");
        }
        assert_eq!(drops.load(SeqCst), 2, "the cancelled send's value");
        assert!(matches!(
            rx.try_recv(),
            Err(mpsc::error::TryRecvError::Empty)
        ));
        assert_eq!(tx.capacity(), 1, "its slot came back");
        tx.try_send(Counted(drops.clone())).ok().unwrap();
        assert!(rx.recv().await.is_some());
    });
}

/// A `reserve_many` dropped after the strict-FIFO queue handed it part of
/// its slots gives them back.
fn dropped_reserve_many_returns_partial_slots<B: ThreadSafe, E: Exec>() {
    E::block_on(async {
        let (tx, _rx) = mpsc::channel_with_backend::<u32, B>(3);
        let (first, second) = (tx.try_reserve().unwrap(), tx.try_reserve().unwrap());
        let (_counter, waker) = counting_waker();
        {
            let mut reserve = pin!(tx.reserve_many(3));
            assert!(poll_once(reserve.as_mut(), &waker).is_pending());
            // A slot comes free: the queued reservation now holds two of
            // its three.
            drop(first);
            assert_eq!(tx.capacity(), 0);
            assert!(poll_once(reserve.as_mut(), &waker).is_pending());
        }
        assert_eq!(tx.capacity(), 2);
        drop(second);
        assert_eq!(tx.try_reserve_many(3).unwrap().len(), 3);
    });
}

// The tests below watch the wakers they hand in, so they run on a plain
// thread (`Futures`), where every backend wakes the waker it was given. (On
// a compio runtime, `IoUringFutex` parks the task as an io_uring op and
// wakes it through the runtime instead.)

/// A `recv().await` dropped while waiting takes no message with it.
fn dropped_recv_loses_no_message<B: ThreadSafe, E: Exec>() {
    Futures::block_on(async {
        let (tx, mut rx) = mpsc::channel_with_backend::<u32, B>(4);
        let (counter, waker) = counting_waker();
        {
            let mut recv = pin!(rx.recv());
            assert!(poll_once(recv.as_mut(), &waker).is_pending());
            tx.send(7).await.unwrap();
            assert_eq!(
                counter.wakes.load(SeqCst),
                1,
                "the waiting receiver is woken"
            );
        }
        assert_eq!(rx.recv().await, Some(7));
        // And a receiver polled, dropped and polled again by another task
        // still waits correctly.
        {
            let mut recv = pin!(rx.recv());
            assert!(poll_once(recv.as_mut(), &waker).is_pending());
        }
        let (second, waker2) = counting_waker();
        let mut recv = pin!(rx.recv());
        assert!(poll_once(recv.as_mut(), &waker2).is_pending());
        tx.send(8).await.unwrap();
        assert_eq!(second.wakes.load(SeqCst), 1, "the latest waker is woken");
        assert_eq!(recv.await, Some(8));
    });
}

/// Messages still queued are dropped when the receiver goes; a value sent
/// through a permit after that is dropped with the last handle; nothing is
/// dropped twice.
fn messages_dropped_once_with_the_last_handle<B: ThreadSafe, E: Exec>() {
    E::block_on(async {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel_with_backend::<Counted, B>(8);
        for _ in 0..5 {
            tx.send(Counted(drops.clone())).await.unwrap();
        }
        let permit = tx.reserve().await.unwrap();
        drop(rx);
        assert_eq!(
            drops.load(SeqCst),
            5,
            "queued messages dropped with the receiver"
        );
        permit.send(Counted(drops.clone()));
        assert_eq!(drops.load(SeqCst), 5);
        let err = tx.send(Counted(drops.clone())).await.unwrap_err();
        drop(err);
        assert_eq!(drops.load(SeqCst), 6);
        drop(tx);
        assert_eq!(
            drops.load(SeqCst),
            7,
            "the permit's value dropped with the channel"
        );

        let (tx, rx) = mpsc::unbounded_channel_with_backend::<Counted, B>();
        let weak = tx.downgrade();
        tx.send(Counted(drops.clone())).unwrap();
        drop(tx);
        assert_eq!(drops.load(SeqCst), 7, "the receiver still holds it");
        drop(rx);
        assert_eq!(drops.load(SeqCst), 8);
        drop(weak);
    });
}

/// Waiting senders get slots in the order they asked (the channel's
/// semaphore is strict FIFO, as tokio's).
fn waiting_senders_served_in_order<B: ThreadSafe, E: Exec>() {
    E::block_on(async {
        let (tx, mut rx) = mpsc::channel_with_backend::<u32, B>(1);
        tx.send(0).await.unwrap();
        let (_counter, waker) = counting_waker();
        let mut sends: Vec<_> = (1..=3).map(|i| Box::pin(tx.send(i))).collect();
        for send in &mut sends {
            assert!(poll_once(send.as_mut(), &waker).is_pending());
        }
        // A late `try_send` does not barge ahead of the queue.
        assert!(matches!(tx.try_send(99), Err(TrySendError::Full(99))));
        for expected in 0..3 {
            assert_eq!(rx.recv().await, Some(expected));
            let next = &mut sends[expected as usize];
            assert!(poll_once(next.as_mut(), &waker).is_ready());
            for later in &mut sends[expected as usize + 1..] {
                assert!(poll_once(later.as_mut(), &waker).is_pending());
            }
        }
        assert_eq!(rx.recv().await, Some(3));
    });
}

/// A receiver whose waker panics on `wake`: the sender's call panics (the
/// waker's own), but the message is queued and received, and the channel
/// keeps working.
fn panicking_receiver_waker_loses_no_message<B: ThreadSafe, E: Exec>() {
    Futures::block_on(async {
        let (tx, mut rx) = mpsc::channel_with_backend::<u32, B>(2);
        let (hostile, waker) = Hostile::new();
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_recv(&mut cx).is_pending());
        hostile.panic_on_wake(true);
        let sent = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tx.try_send(1)));
        assert!(sent.is_err(), "the waker's panic reaches the sender");
        hostile.panic_on_wake(false);
        assert_eq!(rx.recv().await, Some(1));
        tx.send(2).await.unwrap();
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(tx.capacity(), 2);
    });
}

/// A receiver whose waker's `clone` panics while it registers: the poll
/// panics, and the next poll (with a good waker) works.
fn panicking_receiver_clone_leaves_channel_usable<B: ThreadSafe, E: Exec>() {
    Futures::block_on(async {
        let (tx, mut rx) = mpsc::channel_with_backend::<u32, B>(2);
        let (hostile, waker) = Hostile::new();
        hostile.panic_on_clone(1);
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rx.poll_recv(&mut Context::from_waker(&waker))
        }));
        assert!(polled.is_err());
        let (counter, good) = counting_waker();
        assert!(rx.poll_recv(&mut Context::from_waker(&good)).is_pending());
        tx.send(5).await.unwrap();
        assert_eq!(counter.wakes.load(SeqCst), 1);
        assert_eq!(rx.recv().await, Some(5));
    });
}

/// `producers` threads, each on its own runtime of executor `E`, send
/// numbered messages; the receiver, on another runtime, gets every one
/// exactly once, in each producer's order, then `None`.
fn exact_count_across_runtimes<B: ThreadSafe, E: Exec>(producers: usize, bound: Option<usize>) {
    const PER_PRODUCER: usize = 2_000;
    enum Tx<B: ThreadSafe> {
        Bounded(mpsc::Sender<(usize, usize), B>),
        Unbounded(mpsc::UnboundedSender<(usize, usize), B>),
    }
    enum Rx<B: ThreadSafe> {
        Bounded(mpsc::Receiver<(usize, usize), B>),
        Unbounded(mpsc::UnboundedReceiver<(usize, usize), B>),
    }
    with_watchdog(HANG, move || {
        let (tx, mut rx) = match bound {
            Some(bound) => {
                let (tx, rx) = mpsc::channel_with_backend::<_, B>(bound);
                (Tx::Bounded(tx), Rx::Bounded(rx))
            }
            None => {
                let (tx, rx) = mpsc::unbounded_channel_with_backend::<_, B>();
                (Tx::Unbounded(tx), Rx::Unbounded(rx))
            }
        };
        let receiver = thread::spawn(move || {
            E::block_on(async move {
                let mut next = vec![0; producers];
                loop {
                    let message = match &mut rx {
                        Rx::Bounded(rx) => rx.recv().await,
                        Rx::Unbounded(rx) => rx.recv().await,
                    };
                    let Some((id, seq)) = message else { break };
                    assert_eq!(seq, next[id], "producer {id}'s order");
                    next[id] += 1;
                }
                next
            })
        });
        let producers: Vec<_> = (0..producers)
            .map(|id| {
                let tx = match &tx {
                    Tx::Bounded(tx) => Tx::Bounded(tx.clone()),
                    Tx::Unbounded(tx) => Tx::Unbounded(tx.clone()),
                };
                thread::spawn(move || {
                    E::block_on(async move {
                        for seq in 0..PER_PRODUCER {
                            match &tx {
                                Tx::Bounded(tx) => tx.send((id, seq)).await.unwrap(),
                                Tx::Unbounded(tx) => tx.send((id, seq)).unwrap(),
                            }
                        }
                    })
                })
            })
            .collect();
        drop(tx);
        for producer in producers {
            producer.join().unwrap();
        }
        let counts = receiver.join().unwrap();
        assert_eq!(counts, vec![PER_PRODUCER; counts.len()]);
    });
}

/// Randomized cancellation soak across runtimes: producers cancel their
/// pending `send`s (polled once, then dropped) and resend, the consumer
/// cancels pending `recv`s between real waits; every message still arrives
/// exactly once, in each producer's order, and no capacity is lost.
fn cancellation_soak_across_runtimes<B: ThreadSafe, E: Exec>() {
    const PRODUCERS: usize = 3;
    const PER_PRODUCER: usize = 3_000;
    with_watchdog(HANG, || {
        let (tx, mut rx) = mpsc::channel_with_backend::<(usize, usize), B>(2);
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|id| {
                let tx = tx.clone();
                thread::spawn(move || {
                    E::block_on(async move {
                        // A small xorshift: reproducible, no dependency.
                        let mut rng = 0x9e37_79b9_u32 ^ (id as u32 + 1);
                        for seq in 0..PER_PRODUCER {
                            loop {
                                rng ^= rng << 13;
                                rng ^= rng >> 17;
                                rng ^= rng << 5;
                                if rng.is_multiple_of(3) {
                                    // Cancelled if it has to wait: the value
                                    // goes with the future; send it again.
                                    if futures::FutureExt::now_or_never(tx.send((id, seq)))
                                        .is_some()
                                    {
                                        break;
                                    }
                                    yield_now().await;
                                } else {
                                    tx.send((id, seq)).await.unwrap();
                                    break;
                                }
                            }
                        }
                    })
                })
            })
            .collect();
        drop(tx);
        let next = E::block_on(async move {
            let mut next = [0; PRODUCERS];
            let mut rng = 0x1234_5678_u32;
            loop {
                rng ^= rng << 13;
                rng ^= rng >> 17;
                rng ^= rng << 5;
                let message = if rng.is_multiple_of(3) {
                    match futures::FutureExt::now_or_never(rx.recv()) {
                        Some(message) => message,
                        None => {
                            yield_now().await;
                            continue;
                        }
                    }
                } else {
                    rx.recv().await
                };
                let Some((id, seq)) = message else { break };
                assert_eq!(seq, next[id], "producer {id}'s order");
                next[id] += 1;
            }
            assert_eq!(rx.capacity(), 2, "no slot lost");
            next
        });
        for producer in producers {
            producer.join().unwrap();
        }
        assert_eq!(next, [PER_PRODUCER; PRODUCERS]);
    });
}

macro_rules! contract_suite {
    ($name:ident, $backend:ty, $exec:ty, $($order:tt)*) => {
        mod $name {
            type B = $backend;
            type E = $exec;

            #[test]
            fn dropped_receiver_keeps_nothing_for_a_sender_on_another_thread() {
                super::dropped_receiver_keeps_nothing_for_a_sender_on_another_thread::<B, E>();
            }
            #[test]
            fn dropped_send_loses_no_capacity() {
                super::dropped_send_loses_no_capacity::<B, E>();
            }
            #[test]
            fn send_cancelled_after_its_slot_freed_sends_nothing() {
                super::send_cancelled_after_its_slot_freed_sends_nothing::<B, E>();
            }
            #[test]
            fn dropped_reserve_many_returns_partial_slots() {
                super::dropped_reserve_many_returns_partial_slots::<B, E>();
            }
            #[test]
            fn dropped_recv_loses_no_message() {
                super::dropped_recv_loses_no_message::<B, E>();
            }
            #[test]
            fn messages_dropped_once_with_the_last_handle() {
                super::messages_dropped_once_with_the_last_handle::<B, E>();
            }
            #[test]
            fn waiting_senders_served_in_order() {
                super::waiting_senders_served_in_order::<B, E>();
            }
            #[test]
            fn panicking_receiver_waker_loses_no_message() {
                super::panicking_receiver_waker_loses_no_message::<B, E>();
            }
            #[test]
            fn panicking_receiver_clone_leaves_channel_usable() {
                super::panicking_receiver_clone_leaves_channel_usable::<B, E>();
            }
            #[test]
            fn spsc_bounded_1_exact_count_across_runtimes() {
                super::exact_count_across_runtimes::<B, E>(1, Some(1));
            }
            #[test]
            fn mpsc_4_producers_bounded_16_exact_count_across_runtimes() {
                super::exact_count_across_runtimes::<B, E>(4, Some(16));
            }
            #[test]
            fn cancellation_soak_across_runtimes() {
                super::cancellation_soak_across_runtimes::<B, E>();
            }
            #[test]
            fn mpsc_4_producers_unbounded_exact_count_across_runtimes() {
                super::exact_count_across_runtimes::<B, E>(4, None);
            }
        }
    };
}

for_each_backend!(contract_suite);

/// Plain threads: `blocking_send` into a full channel and `blocking_recv`,
/// exact counts.
#[test]
fn blocking_send_and_recv_between_threads() {
    with_watchdog(HANG, || {
        let (tx, mut rx) = mpsc::channel::<usize>(1);
        let producer = thread::spawn(move || {
            for i in 0..1_000 {
                tx.blocking_send(i).unwrap();
            }
        });
        for i in 0..1_000 {
            assert_eq!(rx.blocking_recv(), Some(i));
        }
        assert_eq!(rx.blocking_recv(), None);
        producer.join().unwrap();
    });
}

/// The local flavor: the same source, on one thread.
mod local {
    use std::{
        cell::Cell,
        rc::Rc,
        sync::{
            Arc,
            atomic::{AtomicUsize, Ordering::SeqCst},
        },
    };

    use compio_sync::local::mpsc;
    use futures::{executor::LocalPool, task::LocalSpawnExt};

    use super::Counted;

    /// A producer task and a consumer task through a small bounded channel
    /// (so both wait in turn), then an unbounded one: every message, in
    /// order.
    async fn ping_through(
        spawn: impl Fn(std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>),
    ) -> usize {
        let (tx, mut rx) = mpsc::channel::<usize>(2);
        let (utx, mut urx) = mpsc::unbounded_channel::<usize>();
        spawn(Box::pin(async move {
            for i in 0..1_000 {
                tx.send(i).await.unwrap();
                utx.send(i).unwrap();
            }
        }));
        let mut n = 0;
        while let Some(i) = rx.recv().await {
            assert_eq!(i, n);
            assert_eq!(urx.recv().await, Some(i));
            n += 1;
        }
        assert_eq!(urx.recv().await, None);
        n
    }

    #[test]
    fn tasks_exchange_every_message_on_compio() {
        let n = compio::runtime::Runtime::new()
            .unwrap()
            .block_on(ping_through(|f| {
                compio::runtime::spawn(f).detach();
            }));
        assert_eq!(n, 1_000);
    }

    #[test]
    fn tasks_exchange_every_message_on_a_local_pool() {
        let mut pool = LocalPool::new();
        let spawner = pool.spawner();
        let result = Rc::new(Cell::new(0));
        let out = result.clone();
        let inner = spawner.clone();
        spawner
            .spawn_local(async move {
                out.set(ping_through(move |f| inner.spawn_local(f).unwrap()).await);
            })
            .unwrap();
        pool.run();
        assert_eq!(result.get(), 1_000);
    }

    /// Queued messages and a permit's value are dropped exactly once.
    #[test]
    fn messages_dropped_once_with_the_last_handle() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel(4);
        tx.try_send(Counted(drops.clone())).unwrap();
        let permit = tx.try_reserve().unwrap();
        drop(rx);
        assert_eq!(drops.load(SeqCst), 1);
        permit.send(Counted(drops.clone()));
        drop(tx);
        assert_eq!(drops.load(SeqCst), 2);
    }

    /// Waiting senders are served in order on the local flavor too.
    #[test]
    fn waiting_senders_served_in_order() {
        let mut pool = LocalPool::new();
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let order = Rc::new(std::cell::RefCell::new(Vec::new()));
        tx.try_send(0).unwrap();
        for i in 1..=3 {
            let (tx, order) = (tx.clone(), order.clone());
            pool.spawner()
                .spawn_local(async move {
                    tx.send(i).await.unwrap();
                    order.borrow_mut().push(i);
                })
                .unwrap();
        }
        drop(tx);
        pool.run_until_stalled();
        let mut got = Vec::new();
        pool.run_until(async {
            while let Some(i) = rx.recv().await {
                got.push(i);
            }
        });
        assert_eq!(got, [0, 1, 2, 3]);
        assert_eq!(*order.borrow(), [1, 2, 3]);
    }
}
