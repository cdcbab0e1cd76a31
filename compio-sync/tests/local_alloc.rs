//! No heap allocation per wait on the local flavors: a global allocator that
//! counts the allocations of the current thread (a thread-local counter, so
//! the test harness's own threads do not count), around contended waits on
//! `local::Semaphore` and `local::Notify`.
#![cfg(not(loom))]

mod common;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
    pin::pin,
    rc::Rc,
    task::Poll,
};

use common::*;
use compio_sync::local::{Condvar, Mutex, Notify, Semaphore};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to `System`; the counter is a const-initialised
// thread-local `Cell` without a destructor, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded from the caller.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded from the caller.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made by this thread while `f` runs.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

const ROUNDS: usize = 1000;

/// The counter sees this thread's allocations (else a zero below proves
/// nothing).
#[test]
fn the_counter_counts() {
    assert_eq!(allocations(|| drop(std::hint::black_box(Box::new(1)))), 1);
}

/// Each round: a waiter queues behind a held permit (registration, a waker
/// stored), the permit is released to it (hand-over or wake-up), it
/// completes; and a second waiter is cancelled while queued. Both policies.
#[test]
fn contended_semaphore_waits_allocate_nothing() {
    let (_counter, waker) = counting_waker();
    for strict in [false, true] {
        let s = Semaphore::new(1);
        let s = if strict { s.strict_fifo() } else { s };
        let n = allocations(|| {
            for _ in 0..ROUNDS {
                let held = s.try_acquire().unwrap();
                let mut waiter = pin!(s.acquire());
                let mut cancelled = pin!(s.acquire_many(1));
                assert!(poll_once(waiter.as_mut(), &waker).is_pending());
                assert!(poll_once(cancelled.as_mut(), &waker).is_pending());
                drop(held);
                let Poll::Ready(Ok(permit)) = poll_once(waiter.as_mut(), &waker) else {
                    panic!("not served");
                };
                drop(permit);
            }
        });
        assert_eq!(
            n, 0,
            "{n} allocations in {ROUNDS} contended acquires (strict: {strict})"
        );
        assert_eq!(s.available_permits(), 1);
    }
}

/// Each round: two `Notified` queue, `notify_one` and `notify_last` reach
/// them, and a broadcast reaches a third.
#[test]
fn notify_waits_allocate_nothing() {
    let (_counter, waker) = counting_waker();
    let notify = Notify::new();
    let n = allocations(|| {
        for _ in 0..ROUNDS {
            let mut a = pin!(notify.notified());
            let mut b = pin!(notify.notified());
            let mut c = pin!(notify.notified());
            for f in [a.as_mut(), b.as_mut(), c.as_mut()] {
                assert!(poll_once(f, &waker).is_pending());
            }
            notify.notify_one();
            notify.notify_last();
            assert!(poll_once(a.as_mut(), &waker).is_ready());
            assert!(poll_once(c.as_mut(), &waker).is_ready());
            notify.notify_waiters();
            assert!(poll_once(b.as_mut(), &waker).is_ready());
        }
    });
    assert_eq!(n, 0, "{n} allocations in {ROUNDS} rounds of notify");
}

/// Each round: a `lock()` queues behind a held guard and is served, and a
/// `Condvar::wait` unlocks, queues, is notified and locks again. Both
/// policies.
#[test]
fn mutex_and_condvar_waits_allocate_nothing() {
    let (_counter, waker) = counting_waker();
    for strict in [false, true] {
        let m = Mutex::new(0u32);
        let m = if strict { m.strict_fifo() } else { m };
        let cv = Condvar::new();
        let n = allocations(|| {
            for _ in 0..ROUNDS {
                let held = m.try_lock().unwrap();
                let mut waiter = pin!(m.lock());
                assert!(poll_once(waiter.as_mut(), &waker).is_pending());
                drop(held);
                let Poll::Ready(guard) = poll_once(waiter.as_mut(), &waker) else {
                    panic!("lock not served");
                };
                let mut wait = pin!(cv.wait(guard));
                assert!(poll_once(wait.as_mut(), &waker).is_pending());
                cv.notify_one();
                let Poll::Ready(mut guard) = poll_once(wait.as_mut(), &waker) else {
                    panic!("wait not served");
                };
                *guard += 1;
            }
        });
        assert_eq!(
            n, 0,
            "{n} allocations in {ROUNDS} rounds (strict: {strict})"
        );
        assert_eq!(*m.try_lock().unwrap(), ROUNDS as u32);
    }
}

/// On a compio runtime: 16 tasks loop on 1 permit; once the runtime is warm,
/// the waits allocate nothing (the runtime's own wake-ups included).
#[test]
fn compio_tasks_contending_allocate_nothing_per_wait() {
    Compio::block_on(async {
        let s = Rc::new(Semaphore::new(1));
        let rounds = |s: Rc<Semaphore>| async move {
            for _ in 0..ROUNDS {
                let _p = s.acquire().await.unwrap();
                yield_now().await;
            }
        };
        // Warm-up: the runtime's queues grow to their working size.
        let tasks: Vec<_> = (0..16)
            .map(|_| compio::runtime::spawn(rounds(s.clone())))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let tasks: Vec<_> = (0..16)
            .map(|_| compio::runtime::spawn(rounds(s.clone())))
            .collect();
        let before = ALLOCATIONS.with(Cell::get);
        for t in tasks {
            t.await.unwrap();
        }
        let n = ALLOCATIONS.with(Cell::get) - before;
        // 16 × ROUNDS acquires, most of them contended; the spawns happened
        // before `before`.
        assert_eq!(
            n,
            0,
            "{n} allocations in {} contended acquires",
            16 * ROUNDS
        );
    });
}
