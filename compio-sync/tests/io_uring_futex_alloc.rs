//! Heap allocations per kernel wait on `IoUringFutex`'s io_uring path: a
//! global allocator that counts the allocations of the current thread (a
//! thread-local counter, so the notifying thread and the test harness do not
//! count), around waits that each arm one io_uring `FUTEX_WAIT` on a compio
//! runtime and are notified from another thread.
//!
//! The budget is one allocation per kernel wait: compio's op, which its
//! driver owns until the kernel has finished with it. The backend adds none
//! (no per-wait node, no re-arm after the notification, no cancel op).
#![cfg(all(target_os = "linux", feature = "io-uring-futex", not(loom)))]

use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
    future::poll_fn,
    pin::pin,
    sync::atomic::{AtomicUsize, Ordering::*, fence},
    task::Poll,
    thread,
};

use compio_sync::backend::{IoUringFutex, WaitPath, WaitQueue, Woken};

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

fn allocated() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Waits counted after the warm-up.
const ROUNDS: usize = 500;
/// Waits before counting: the runtime's and the ring's own buffers grow.
const WARM_UP: usize = 50;

/// Every wait registers after a notify from the other thread, so it takes the
/// io_uring path (the path heuristic keeps the waker path for waits after a
/// notify from their own thread) and arms one `FUTEX_WAIT`; the other thread
/// notifies it once it is registered. This thread allocates at most once per
/// wait: compio's op.
#[test]
fn io_uring_wait_notified_from_another_thread_allocates_once() {
    if !IoUringFutex::io_uring_supported() {
        eprintln!("io_uring FUTEX_WAIT unsupported here: nothing to count");
        return;
    }
    let q = IoUringFutex::new();
    // The round the waiter has registered for; the notifier answers it.
    let registered = AtomicUsize::new(0);
    let rounds = WARM_UP + ROUNDS;
    thread::scope(|s| {
        s.spawn(|| {
            for round in 1..=rounds {
                while registered.load(SeqCst) < round {
                    thread::yield_now();
                }
                fence(SeqCst);
                assert!(q.notify_one(round), "round {round}: nobody waits");
            }
        });
        let runtime = compio::runtime::Runtime::new().expect("compio runtime");
        let counted = runtime.block_on(async {
            let mut w = pin!(IoUringFutex::new_waiter());
            let mut counted = 0;
            for round in 1..=rounds {
                let before = allocated();
                poll_fn(|cx| {
                    // SAFETY: `w` is idle (Ready below), pinned, used with
                    // `q` only, and idle when dropped.
                    unsafe { q.register(w.as_ref(), cx.waker(), 0) };
                    Poll::Ready(())
                })
                .await;
                assert_eq!(w.path(), Some(WaitPath::IoUring), "round {round}");
                fence(SeqCst);
                registered.store(round, SeqCst);
                // SAFETY: registered with `q`, not yet observed Ready.
                let woken = poll_fn(|cx| unsafe { q.poll_wait(w.as_mut().as_ref(), cx) }).await;
                assert_eq!(
                    woken,
                    Woken {
                        wakeup: round,
                        tag: 0
                    }
                );
                if round > WARM_UP {
                    counted += allocated() - before;
                }
            }
            counted
        });
        // Exactly compio's op per wait: fewer would mean a wait that armed
        // nothing (or a counter that counts nothing).
        assert_eq!(counted, ROUNDS, "allocations for {ROUNDS} kernel waits");
    });
}
