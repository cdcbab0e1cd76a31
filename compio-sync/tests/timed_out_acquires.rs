//! A loop of `timeout(acquire)` that always expires must not grow the wait
//! queue or the heap without bound, on any backend. (The lock-free `SegQueue`
//! is the one at risk: cancelled handles stay in the queue until purged.)
//!
//! A counting global allocator tracks the bytes alive; after a warm-up, 100k
//! more timed-out acquires must leave that number where it was, give or take
//! a fixed slack.
#![cfg(not(loom))]

use std::{
    alloc::{GlobalAlloc, Layout, System},
    pin::pin,
    sync::atomic::{AtomicIsize, Ordering::Relaxed},
    time::Duration,
};

use compio_sync::{
    Semaphore,
    backend::{Intrusive, MutexVecDeque, ParkingLotHybrid, SegQueue, WaitQueue},
};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator and only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        // SAFETY: forwarded from our caller.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: forwarded from our caller.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `n` acquires that each time out, while a permit is held throughout:
/// every 100th through compio's real timer, the rest polled once (so they
/// queue) and dropped, which is what an expiring `timeout` does to them.
async fn time_out_acquires<B: WaitQueue>(s: &Semaphore<B>, n: usize) {
    for i in 0..n {
        if i % 100 == 0 {
            let r = compio::time::timeout(Duration::from_micros(20), s.acquire()).await;
            assert!(
                r.is_err(),
                "the only permit is held: every acquire times out"
            );
        } else {
            let mut acquire = pin!(s.acquire());
            assert!(futures::poll!(acquire.as_mut()).is_pending(), "it queued");
        }
    }
}

fn bounded_under_timeouts<B: WaitQueue>() {
    compio::runtime::Runtime::new().unwrap().block_on(async {
        let s = Semaphore::<B>::with_backend(1);
        let held = s.try_acquire().unwrap();
        time_out_acquires(&s, 2_000).await;
        let before = LIVE.load(Relaxed);
        time_out_acquires(&s, 100_000).await;
        let after = LIVE.load(Relaxed);
        // 64 KiB of slack covers the runtime's own buffers and timer wheel;
        // a leak of even one small handle per acquire would be megabytes.
        assert!(
            after - before < 64 * 1024,
            "heap grew by {} bytes over 100k timed-out acquires",
            after - before
        );
        drop(held);
        // The queue is clean: the permit is immediately usable.
        drop(s.acquire().await.unwrap());
        assert_eq!(s.available_permits(), 1);
    });
}

// One test at a time: the allocator counts the whole process. The tests run
// in one function so parallel tests cannot disturb each other's figures.
#[test]
fn timed_out_acquires_leave_heap_and_queue_bounded() {
    bounded_under_timeouts::<SegQueue>();
    bounded_under_timeouts::<Intrusive>();
    bounded_under_timeouts::<MutexVecDeque>();
    bounded_under_timeouts::<ParkingLotHybrid>();
    #[cfg(all(target_os = "linux", feature = "io-uring-futex"))]
    bounded_under_timeouts::<compio_sync::backend::IoUringFutex>();
}
