//! No heap allocation per message in a bounded channel once it is warm (its
//! queue has grown to its working size), on both flavors: a global
//! allocator that counts the current thread's allocations, around sends
//! that wait for capacity, receives that wait for a message, and permits.
#![cfg(not(loom))]

mod common;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
    pin::pin,
};

use common::*;

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

#[test]
fn the_counter_counts() {
    assert_eq!(allocations(|| drop(std::hint::black_box(Box::new(1)))), 1);
}

/// One round of traffic through a bounded channel of `$bound` slots: fill
/// it, a sender waits for a slot, a receiver drains it and then waits for a
/// message, a reservation and a permit go through.
macro_rules! round {
    ($mpsc:path, $tx:expr, $rx:expr, $bound:expr, $waker:expr) => {{
        use $mpsc as mpsc;
        let (tx, rx): (&mpsc::Sender<usize>, &mut mpsc::Receiver<usize>) = ($tx, $rx);
        for i in 0..$bound {
            tx.try_send(i).unwrap();
        }
        {
            let mut send = pin!(tx.send($bound));
            assert!(poll_once(send.as_mut(), $waker).is_pending());
            assert_eq!(rx.try_recv(), Ok(0));
            assert!(poll_once(send.as_mut(), $waker).is_ready());
        }
        for i in 1..=$bound {
            assert_eq!(rx.try_recv(), Ok(i));
        }
        {
            let mut recv = pin!(rx.recv());
            assert!(poll_once(recv.as_mut(), $waker).is_pending());
            tx.try_reserve().unwrap().send(7);
            assert_eq!(
                poll_once(recv.as_mut(), $waker),
                std::task::Poll::Ready(Some(7))
            );
        }
        let mut permits = tx.try_reserve_many($bound).unwrap();
        permits.next().unwrap().send(8);
        drop(permits);
        assert_eq!(rx.try_recv(), Ok(8));
    }};
}

#[test]
fn warm_bounded_channel_allocates_nothing_per_message() {
    let (_counter, waker) = counting_waker();
    for bound in [1, 64, 1024] {
        let (tx, mut rx) = compio_sync::mpsc::channel::<usize>(bound);
        round!(compio_sync::mpsc, &tx, &mut rx, bound, &waker); // warm-up
        let n = allocations(|| {
            for _ in 0..ROUNDS {
                round!(compio_sync::mpsc, &tx, &mut rx, bound, &waker);
            }
        });
        assert_eq!(n, 0, "bound {bound}: {n} allocations in {ROUNDS} rounds");
    }
}

#[test]
fn warm_local_bounded_channel_allocates_nothing_per_message() {
    let (_counter, waker) = counting_waker();
    for bound in [1, 64, 1024] {
        let (tx, mut rx) = compio_sync::local::mpsc::channel::<usize>(bound);
        round!(compio_sync::local::mpsc, &tx, &mut rx, bound, &waker);
        let n = allocations(|| {
            for _ in 0..ROUNDS {
                round!(compio_sync::local::mpsc, &tx, &mut rx, bound, &waker);
            }
        });
        assert_eq!(n, 0, "bound {bound}: {n} allocations in {ROUNDS} rounds");
    }
}
