//! The contract of `compio_sync::local::{Mutex, Condvar}` (the thread-safe
//! files compiled against the single-thread flavor): mutual exclusion under
//! both fairness policies on compio and on `futures::executor`, every guard
//! type with `Rc`, cancellation at each await point, and a bounded buffer on
//! a `Condvar` paired with `local::Mutex` guards. The shared-source check and
//! the auto-trait checks are in `tests/local.rs`.
#![cfg(not(loom))]

mod common;

use std::{
    cell::Cell,
    collections::VecDeque,
    future::Future,
    pin::{Pin, pin},
    rc::Rc,
    task::{Poll, Waker},
};

use common::*;
use compio_sync::local::{
    Condvar, MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard,
};
use futures::future::join_all;

fn mutex<T>(value: T, strict: bool) -> Mutex<T> {
    let m = Mutex::new(value);
    if strict { m.strict_fifo() } else { m }
}

fn poll<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    poll_once(f, Waker::noop())
}

async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

// ------------------------------------------------------------------ Mutex

/// 500 tasks each add 1 to a counter read and written across a yield: the
/// total is exact only if no two were inside at once.
fn five_hundred_tasks_count_exactly<E: Exec>(strict: bool) {
    let m = mutex(0u64, strict);
    let inside = Cell::new(false);
    E::block_on(join_all((0..500).map(|_| async {
        let mut guard = m.lock().await;
        assert!(!inside.replace(true), "two tasks inside the lock");
        let seen = *guard;
        yield_now().await;
        *guard = seen + 1;
        inside.set(false);
    })));
    assert_eq!(m.into_inner(), 500);
}

/// `Rc<Mutex>` with owned guards on spawned compio tasks; every `Rc` comes
/// back.
fn spawned_tasks_with_owned_guards(strict: bool) {
    Compio::block_on(async {
        let m = Rc::new(mutex(Vec::new(), strict));
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let m = m.clone();
                compio::runtime::spawn(async move {
                    let mut guard = m.lock_owned().await;
                    yield_now().await;
                    guard.push(i);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(Rc::strong_count(&m), 1, "every owned guard dropped its Rc");
        let mut all = m.try_lock().unwrap().clone();
        all.sort_unstable();
        assert_eq!(all, (0..200).collect::<Vec<_>>());
    });
}

/// A queued `lock()` dropped before it is served leaves the lock to the
/// next waiter; one dropped after it was handed the lock passes it on.
fn cancelled_lock_passes_the_lock_on(strict: bool) {
    let m = mutex(0, strict);
    let held = m.try_lock().unwrap();
    let mut first = Box::pin(m.lock());
    let mut second = pin!(m.lock());
    assert!(poll(first.as_mut()).is_pending());
    assert!(poll(second.as_mut()).is_pending());
    // Cancelled while queued.
    {
        let mut third = pin!(m.lock());
        assert!(poll(third.as_mut()).is_pending());
    }
    drop(held);
    // `first` was woken (or handed the lock) but never polled: dropping it
    // must pass the lock to `second`.
    drop(first);
    let Poll::Ready(mut guard) = poll(second.as_mut()) else {
        panic!("the lock was lost with the cancelled waiter");
    };
    *guard += 1;
    drop(guard);
    assert_eq!(*m.try_lock().unwrap(), 1);
}

/// Strict FIFO: the lock goes to waiters in arrival order, and `try_lock`
/// does not barge past them.
#[test]
fn strict_fifo_serves_in_arrival_order() {
    let m = mutex(Vec::new(), true);
    Futures::block_on(async {
        let held = m.try_lock().unwrap();
        let order = Rc::new(Cell::new(0));
        let waiters = join_all((0..5).map(|i| {
            let (m, order) = (&m, order.clone());
            async move {
                let mut guard = m.lock().await;
                assert_eq!(order.replace(order.get() + 1), i, "served out of order");
                guard.push(i);
            }
        }));
        let mut waiters = pin!(waiters);
        assert!(poll(waiters.as_mut()).is_pending());
        drop(held);
        assert!(m.try_lock().is_err(), "try_lock barged past queued waiters");
        waiters.await;
    });
    assert_eq!(m.into_inner(), vec![0, 1, 2, 3, 4]);
}

/// `MutexGuard::map`/`try_map` and the owned versions narrow the guard and
/// keep the lock held until the narrowed guard drops.
#[test]
fn mapped_guards_hold_the_lock() {
    let m = Rc::new(Mutex::new((1, String::from("a"))));
    let mapped: MappedMutexGuard<'_, String> = MutexGuard::map(m.try_lock().unwrap(), |v| &mut v.1);
    assert!(m.try_lock().is_err());
    drop(mapped);
    let refused = MutexGuard::try_map(m.try_lock().unwrap(), |_| None::<&mut u8>);
    let guard = refused.expect_err("closure said no");
    drop(guard);
    let owned: OwnedMutexGuard<(i32, String)> = m.clone().try_lock_owned().unwrap();
    assert!(Rc::ptr_eq(OwnedMutexGuard::mutex(&owned), &m));
    let mut first: OwnedMappedMutexGuard<(i32, String), i32> =
        OwnedMutexGuard::map(owned, |v| &mut v.0);
    *first += 41;
    assert!(m.try_lock().is_err());
    drop(first);
    assert_eq!(m.try_lock().unwrap().0, 42);
    assert_eq!(Rc::strong_count(&m), 1);
}

/// `Default`, `From`, `Debug` (never waits), `get_mut`, `const_new`.
#[test]
fn constructors_and_debug() {
    let mut m: Mutex<u8> = Mutex::default();
    *m.get_mut() = 3;
    assert_eq!(format!("{m:?}"), "Mutex { data: 3 }");
    let guard = m.try_lock().unwrap();
    assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
    drop(guard);
    let from = Mutex::from(5);
    assert_eq!(from.into_inner(), 5);
    let constant = const { Mutex::const_new(7) };
    assert!(!constant.is_strict_fifo());
    assert!(constant.strict_fifo().is_strict_fifo());
}

// ---------------------------------------------------------------- Condvar

/// A bounded buffer: 4 producers and 4 consumers move 2,000 items through
/// a 3-slot queue with `wait_while`; every item arrives exactly once.
fn bounded_buffer<E: Exec>(strict: bool) {
    const ITEMS: usize = 2_000;
    let queue = mutex(VecDeque::new(), strict);
    let (not_full, not_empty) = (Condvar::new(), Condvar::new());
    let received = Cell::new(0usize);
    let sum = Cell::new(0usize);
    let producers = (0..4).map(|p| {
        let (queue, not_full, not_empty) = (&queue, &not_full, &not_empty);
        async move {
            for i in (p..ITEMS).step_by(4) {
                let mut q = not_full
                    .wait_while(queue.lock().await, |q| q.len() >= 3)
                    .await;
                q.push_back(i);
                drop(q);
                not_empty.notify_one();
                if i % 7 == 0 {
                    yield_now().await;
                }
            }
        }
    });
    let consumers = (0..4).map(|_| {
        let (queue, not_full, not_empty, received, sum) =
            (&queue, &not_full, &not_empty, &received, &sum);
        async move {
            loop {
                let mut q = not_empty
                    .wait_while(queue.lock().await, |q| {
                        q.is_empty() && received.get() < ITEMS
                    })
                    .await;
                let Some(item) = q.pop_front() else {
                    // Everything has been received: let the other consumers
                    // see it too.
                    not_empty.notify_all();
                    return;
                };
                received.set(received.get() + 1);
                sum.set(sum.get() + item);
                drop(q);
                not_full.notify_one();
                if received.get() == ITEMS {
                    not_empty.notify_all();
                }
            }
        }
    });
    E::block_on(async {
        futures::join!(join_all(producers), join_all(consumers));
    });
    assert_eq!(received.get(), ITEMS);
    assert_eq!(sum.get(), ITEMS * (ITEMS - 1) / 2);
    assert!(queue.try_lock().unwrap().is_empty());
}

/// `wait` unlocks the mutex while waiting and returns with it locked; a
/// `wait` future dropped while queued leaves the mutex unlocked and the
/// condvar with no stale waiter (a later `notify_one` reaches a live one).
#[test]
fn wait_unlocks_and_cancelled_wait_leaves_nothing_behind() {
    let m = Mutex::new(0);
    let cv = Condvar::new();
    {
        let mut cancelled = pin!(cv.wait(m.try_lock().unwrap()));
        assert!(poll(cancelled.as_mut()).is_pending());
        assert!(m.try_lock().is_ok(), "the mutex is unlocked while waiting");
    }
    assert!(
        m.try_lock().is_ok(),
        "a dropped wait does not keep the mutex"
    );
    let mut live = pin!(cv.wait(m.try_lock().unwrap()));
    assert!(poll(live.as_mut()).is_pending());
    cv.notify_one();
    let Poll::Ready(mut guard) = poll(live.as_mut()) else {
        panic!("notify_one was eaten by the cancelled waiter");
    };
    *guard += 1;
    drop(guard);
    assert_eq!(*m.try_lock().unwrap(), 1);
}

/// A waiter woken by `notify_one` and dropped before it runs passes the
/// notification on to the next waiter.
#[test]
fn notified_wait_dropped_passes_notification_on() {
    let m = Mutex::new(());
    let cv = Condvar::new();
    let mut first = Box::pin(cv.wait(m.try_lock().unwrap()));
    assert!(poll(first.as_mut()).is_pending());
    let mut second = pin!(cv.wait(m.try_lock().unwrap()));
    assert!(poll(second.as_mut()).is_pending());
    cv.notify_one();
    drop(first);
    assert!(
        poll(second.as_mut()).is_ready(),
        "the notification was lost"
    );
}

/// `wait_owned` with an `Rc<Mutex>` guard on spawned tasks.
#[test]
fn wait_owned_with_rc_guards() {
    Compio::block_on(async {
        let m = Rc::new(Mutex::new(false));
        let cv = Rc::new(Condvar::new());
        let waiter = compio::runtime::spawn({
            let (m, cv) = (m.clone(), cv.clone());
            async move {
                let guard = cv
                    .wait_while_owned(m.lock_owned().await, |ready| !*ready)
                    .await;
                assert!(*guard);
            }
        });
        yield_now().await;
        *m.lock().await = true;
        cv.notify_all();
        waiter.await.unwrap();
        assert_eq!(Rc::strong_count(&m), 1);
    });
}

/// The local mutex, its guards and the condvar may not leave their thread.
#[test]
fn local_types_are_neither_send_nor_sync() {
    trait NotSend<A> {
        fn check() {}
    }
    impl<T: ?Sized> NotSend<()> for T {}
    struct Invalid;
    impl<T: ?Sized + Send> NotSend<Invalid> for T {}
    trait NotSync<A> {
        fn check() {}
    }
    impl<T: ?Sized> NotSync<()> for T {}
    impl<T: ?Sized + Sync> NotSync<Invalid> for T {}
    // Each call is ambiguous (and fails to compile) if the type implements
    // the trait: the classic negative-impl probe.
    <Mutex<u8> as NotSend<_>>::check();
    <Mutex<u8> as NotSync<_>>::check();
    <MutexGuard<'static, u8> as NotSend<_>>::check();
    <MutexGuard<'static, u8> as NotSync<_>>::check();
    <OwnedMutexGuard<u8> as NotSend<_>>::check();
    <OwnedMutexGuard<u8> as NotSync<_>>::check();
    <MappedMutexGuard<'static, u8> as NotSend<_>>::check();
    <OwnedMappedMutexGuard<u8> as NotSend<_>>::check();
    <Condvar as NotSend<_>>::check();
    <Condvar as NotSync<_>>::check();
}

// -------------------------------------------------------------- instances

#[test]
fn five_hundred_tasks_count_exactly_compio() {
    five_hundred_tasks_count_exactly::<Compio>(false);
    five_hundred_tasks_count_exactly::<Compio>(true);
}
#[test]
fn five_hundred_tasks_count_exactly_futures() {
    five_hundred_tasks_count_exactly::<Futures>(false);
    five_hundred_tasks_count_exactly::<Futures>(true);
}
#[test]
fn spawned_tasks_with_owned_guards_both_policies() {
    spawned_tasks_with_owned_guards(false);
    spawned_tasks_with_owned_guards(true);
}
#[test]
fn cancelled_lock_passes_the_lock_on_both_policies() {
    cancelled_lock_passes_the_lock_on(false);
    cancelled_lock_passes_the_lock_on(true);
}
#[test]
fn bounded_buffer_compio() {
    bounded_buffer::<Compio>(false);
    bounded_buffer::<Compio>(true);
}
#[test]
fn bounded_buffer_futures() {
    bounded_buffer::<Futures>(false);
    bounded_buffer::<Futures>(true);
}
