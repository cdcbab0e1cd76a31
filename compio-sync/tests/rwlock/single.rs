//! RwLock tests that run once (default backend): tokio's panics, `const`
//! construction, `Default`/`From`, auto traits, the blocking entry points'
//! runtime check, and hostile wakers.

use std::{
    cell::Cell,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::pin,
    sync::Arc,
    task::Poll,
};

use super::common::*;
use compio_sync::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
};

fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("must panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// tokio's panics: zero readers, and more than `u32::MAX >> 3`.
#[test]
fn max_readers_bounds_panic_as_tokio() {
    assert_eq!(
        panic_message(|| {
            let _ = RwLock::with_max_readers((), 0);
        }),
        "assertion `left != right` failed: a RwLock may not be created with 0 readers\n  left: 0\n right: 0"
    );
    assert_eq!(
        panic_message(|| {
            let _ = RwLock::with_max_readers((), (u32::MAX >> 3) + 1);
        }),
        format!(
            "a RwLock may not be created with more than {} readers",
            u32::MAX >> 3
        )
    );
    assert!(
        panic_message(|| {
            let _ = RwLock::const_with_max_readers((), 0);
        })
        .contains("0 readers")
    );
    let most = RwLock::with_max_readers(0, u32::MAX >> 3);
    assert!(most.try_write().is_ok());
}

/// `const_new` and `const_with_max_readers` in statics, with `strict_fifo`.
#[test]
fn const_constructors_in_statics() {
    static CONFIG: RwLock<Vec<u8>> = RwLock::const_new(Vec::new()).strict_fifo();
    static TWO: RwLock<u8> = RwLock::const_with_max_readers(7, 2);
    assert!(CONFIG.is_strict_fifo());
    CONFIG.try_write().unwrap().push(1);
    assert_eq!(*CONFIG.try_read().unwrap(), [1]);
    let (a, b) = (TWO.try_read().unwrap(), TWO.try_read().unwrap());
    assert!(TWO.try_read().is_err());
    assert_eq!(*a + *b, 14);
}

/// `Default`, `From` and `Debug` as tokio's (no type annotation needed).
#[test]
fn default_from_debug_as_tokio() {
    let l = RwLock::<u8>::default();
    assert_eq!(format!("{l:?}"), "RwLock { data: 0 }");
    let l = RwLock::from(5);
    let w = l.try_write().unwrap();
    assert_eq!(format!("{l:?}"), "RwLock { data: <locked> }");
    assert_eq!(format!("{w} {w:?}"), "5 5");
}

/// `blocking_*` refuse to run on a compio runtime's thread, and leave the
/// lock free.
#[test]
fn blocking_panics_inside_compio_runtime() {
    let l = RwLock::new(0);
    let msg = panic_message(|| Compio::block_on(async { drop(l.blocking_write()) }));
    assert!(msg.contains("compio runtime"), "{msg}");
    let msg = panic_message(|| Compio::block_on(async { drop(l.blocking_read()) }));
    assert!(msg.contains("compio runtime"), "{msg}");
    assert!(l.try_write().is_ok());
}

/// tokio's auto-trait bounds (`Send + !Sync` data in a lock is `Sync` only
/// if it is `Sync`, unlike a mutex), and `Send` lock futures.
#[test]
fn send_sync_bounds_match_tokio() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    fn send_val<T: Send>(_: &T) {}
    send::<RwLock<Cell<u8>>>();
    sync::<RwLock<u8>>();
    send::<RwLockReadGuard<'static, u8>>();
    sync::<RwLockReadGuard<'static, u8>>();
    send::<RwLockWriteGuard<'static, u8>>();
    sync::<RwLockWriteGuard<'static, u8>>();
    send::<RwLockMappedWriteGuard<'static, u8>>();
    send::<RwLockUpgradableReadGuard<'static, u8>>();
    sync::<RwLockUpgradableReadGuard<'static, u8>>();
    send::<OwnedRwLockReadGuard<u8, u8>>();
    send::<OwnedRwLockWriteGuard<u8>>();
    send::<OwnedRwLockMappedWriteGuard<u8, u8>>();
    send::<compio_sync::OwnedRwLockUpgradableReadGuard<u8>>();
    sync::<compio_sync::OwnedRwLockUpgradableReadGuard<u8>>();
    sync::<OwnedRwLockMappedWriteGuard<u8, u8>>();
    let l = Arc::new(RwLock::new(0u8));
    send_val(&l.read());
    send_val(&l.write());
    send_val(&l.upgradable_read());
    send_val(&l.clone().read_owned());
    send_val(&l.clone().write_owned());
    let u = l.try_upgradable_read().unwrap();
    send_val(&RwLockUpgradableReadGuard::upgrade(u));
}

/// A `write` whose registration clone panics leaves no ghost: the panic
/// propagates, and the next writer and reader are served.
#[test]
fn write_clone_panic_leaves_no_ghost_waiter() {
    let l = RwLock::new(0);
    let r = l.try_read().unwrap();
    let (hostile, bad) = Hostile::new();
    let mut doomed = Box::pin(l.write());
    hostile.panic_on_clone(1);
    assert!(catch_unwind(AssertUnwindSafe(|| poll_once(doomed.as_mut(), &bad))).is_err());
    drop(doomed);
    assert!(l.try_upgradable_read().is_ok(), "no upgrade permit kept");
    let (woken, waker) = counting_waker();
    let mut live = pin!(l.write());
    assert!(poll_once(live.as_mut(), &waker).is_pending());
    drop(r);
    assert_eq!(woken.wakes.load(std::sync::atomic::Ordering::SeqCst), 1);
    let Poll::Ready(mut w) = poll_once(live.as_mut(), &waker) else {
        panic!("the live writer gets the lock");
    };
    *w = 1;
    drop(w);
    assert_eq!(*l.try_read().unwrap(), 1);
}

/// A wake that panics while a write guard is dropped propagates from the
/// drop, and the lock stays whole: the woken reader still gets in, and so
/// does a writer after it.
#[test]
fn wake_panic_on_unlock_keeps_lock_whole() {
    wake_panic_on_unlock(RwLock::new(0));
}

/// As `wake_panic_on_unlock_keeps_lock_whole`, under strict FIFO (where the
/// unlock hands the permits straight to the queue).
#[test]
fn wake_panic_on_unlock_keeps_lock_whole_strict_fifo() {
    wake_panic_on_unlock(RwLock::new(0).strict_fifo());
}

fn wake_panic_on_unlock(l: RwLock<i32>) {
    let w = l.try_write().unwrap();
    let (hostile, bad) = Hostile::new();
    let mut read = pin!(l.read());
    assert!(poll_once(read.as_mut(), &bad).is_pending());
    hostile.panic_on_wake(true);
    assert!(catch_unwind(AssertUnwindSafe(|| drop(w))).is_err());
    hostile.panic_on_wake(false);
    assert!(hostile.wakes() >= 1);
    let Poll::Ready(r) = poll_once(read.as_mut(), &bad) else {
        panic!("the reader was handed the lock");
    };
    drop(r);
    assert!(l.try_write().is_ok());
}

/// A waiting upgrade whose waker panics on clone, re-polled: the panic
/// propagates, the upgrade still completes when the reader leaves.
#[test]
fn upgrade_repoll_clone_panic_keeps_waiter() {
    let l = RwLock::new(0);
    let r = l.try_read().unwrap();
    let u = l.try_upgradable_read().unwrap();
    let (hostile, bad) = Hostile::new();
    let mut up = Box::pin(RwLockUpgradableReadGuard::upgrade(u));
    assert!(poll_once(up.as_mut(), &bad).is_pending());
    let (woken, waker) = counting_waker();
    hostile.panic_on_clone(1);
    let _ = catch_unwind(AssertUnwindSafe(|| poll_once(up.as_mut(), &waker)));
    drop(r);
    let Poll::Ready(mut w) = poll_once(up.as_mut(), &waker) else {
        panic!(
            "the upgrade completes (woken: {})",
            woken.wakes.load(std::sync::atomic::Ordering::SeqCst)
        );
    };
    *w = 1;
    drop(w);
    assert_eq!(*l.try_read().unwrap(), 1);
}

/// Semaphore regression found by the strict-FIFO case above: a release
/// whose hand-over wakes a waiter with a panicking waker used to lose the
/// permits no waiter needed (they were held in a local of the hand-over
/// when the panic unwound). Now they stay available.
#[test]
fn strict_release_with_panicking_waker_keeps_surplus() {
    let sem = compio_sync::Semaphore::new(0).strict_fifo();
    let (hostile, bad) = Hostile::new();
    let mut acquire = pin!(sem.acquire());
    assert!(poll_once(acquire.as_mut(), &bad).is_pending());
    hostile.panic_on_wake(true);
    assert!(catch_unwind(AssertUnwindSafe(|| sem.add_permits(3))).is_err());
    hostile.panic_on_wake(false);
    let Poll::Ready(Ok(permit)) = poll_once(acquire.as_mut(), &bad) else {
        panic!("the waiter was handed its permit");
    };
    assert_eq!(permit.num_permits(), 1);
    assert_eq!(sem.available_permits(), 2, "the surplus was kept");
}

/// `starvation_bound` is a builder as on Semaphore and Mutex: with
/// `Duration::ZERO`, a reader passed over once has the next release handed
/// to it, so a barging `try_read` then fails (one reader slot).
#[test]
fn starvation_bound_zero_hands_over_to_a_passed_over_reader() {
    let l = RwLock::with_max_readers((), 1).starvation_bound(std::time::Duration::ZERO);
    let r = l.try_read().unwrap();
    let (_c, waker) = counting_waker();
    let mut queued = pin!(l.read());
    assert!(poll_once(queued.as_mut(), &waker).is_pending());
    drop(r);
    let barger = l.try_read().unwrap();
    // Woken, finds the slot taken, has waited at least ZERO: claims priority.
    assert!(poll_once(queued.as_mut(), &waker).is_pending());
    drop(barger);
    assert!(
        l.try_read().is_err(),
        "the slot is handed to the passed-over reader"
    );
    assert!(poll_once(queued.as_mut(), &waker).is_ready());
}

/// Default policy: a writer's unlock wakes the head of the queued readers
/// only, and each reader, once it runs and takes its read, wakes the next
/// (the wake chain), so the readers come back one per task switch.
#[test]
fn write_unlock_wakes_queued_readers_along_the_chain() {
    let l = RwLock::new(0);
    let w = l.try_write().unwrap();
    let wakers: Vec<_> = (0..3).map(|_| counting_waker()).collect();
    let mut r0 = pin!(l.read());
    let mut r1 = pin!(l.read());
    let mut r2 = pin!(l.read());
    assert!(poll_once(r0.as_mut(), &wakers[0].1).is_pending());
    assert!(poll_once(r1.as_mut(), &wakers[1].1).is_pending());
    assert!(poll_once(r2.as_mut(), &wakers[2].1).is_pending());
    drop(w);
    let woken = || {
        wakers
            .iter()
            .map(|(c, _)| c.wakes.load(std::sync::atomic::Ordering::SeqCst))
            .collect::<Vec<_>>()
    };
    assert_eq!(woken(), [1, 0, 0], "only the head is woken");
    let Poll::Ready(g0) = poll_once(r0.as_mut(), &wakers[0].1) else {
        panic!("the head takes its read");
    };
    assert_eq!(woken(), [1, 1, 0], "the head woke the next");
    let Poll::Ready(g1) = poll_once(r1.as_mut(), &wakers[1].1) else {
        panic!("the second takes its read");
    };
    assert_eq!(woken(), [1, 1, 1]);
    let Poll::Ready(g2) = poll_once(r2.as_mut(), &wakers[2].1) else {
        panic!("the third takes its read");
    };
    assert_eq!((*g0, *g1, *g2), (0, 0, 0));
}

/// Default policy: a writer that has to wait queues ahead of the readers
/// already waiting (writer preference, as async-lock's), so it waits only for
/// the lock's current holder, and those readers get the lock after it.
#[test]
fn waiting_writer_goes_ahead_of_readers_already_queued() {
    let l = RwLock::new(0);
    let w1 = l.try_write().unwrap();
    let (_, reader_waker) = counting_waker();
    let (_, writer_waker) = counting_waker();
    let mut r = pin!(l.read());
    assert!(poll_once(r.as_mut(), &reader_waker).is_pending());
    let mut w2 = pin!(l.write());
    assert!(poll_once(w2.as_mut(), &writer_waker).is_pending());
    drop(w1);
    assert!(
        poll_once(r.as_mut(), &reader_waker).is_pending(),
        "the queued reader waits for the writer that queued after it"
    );
    let Poll::Ready(mut g) = poll_once(w2.as_mut(), &writer_waker) else {
        panic!("the waiting writer takes the lock first");
    };
    *g += 1;
    drop(g);
    let Poll::Ready(g) = poll_once(r.as_mut(), &reader_waker) else {
        panic!("the reader reads after the writer");
    };
    assert_eq!(*g, 1);
}

/// Strict FIFO: tokio's order. A writer that queues after a reader gets the
/// lock after it.
#[test]
fn waiting_writer_keeps_its_place_behind_queued_readers_strict_fifo() {
    let l = RwLock::new(0).strict_fifo();
    let w1 = l.try_write().unwrap();
    let (_, reader_waker) = counting_waker();
    let (_, writer_waker) = counting_waker();
    let mut r = pin!(l.read());
    assert!(poll_once(r.as_mut(), &reader_waker).is_pending());
    let mut w2 = pin!(l.write());
    assert!(poll_once(w2.as_mut(), &writer_waker).is_pending());
    drop(w1);
    let Poll::Ready(g) = poll_once(r.as_mut(), &reader_waker) else {
        panic!("the reader queued first reads first");
    };
    assert!(poll_once(w2.as_mut(), &writer_waker).is_pending());
    assert_eq!(*g, 0);
    drop(g);
    assert!(poll_once(w2.as_mut(), &writer_waker).is_ready());
}

/// Strict FIFO: a writer's unlock hands every queued reader its read and
/// wakes them all, as tokio's does.
#[test]
fn write_unlock_wakes_queued_readers_at_once_strict_fifo() {
    let l = RwLock::new(0).strict_fifo();
    let w = l.try_write().unwrap();
    let wakers: Vec<_> = (0..3).map(|_| counting_waker()).collect();
    let mut r0 = pin!(l.read());
    let mut r1 = pin!(l.read());
    let mut r2 = pin!(l.read());
    assert!(poll_once(r0.as_mut(), &wakers[0].1).is_pending());
    assert!(poll_once(r1.as_mut(), &wakers[1].1).is_pending());
    assert!(poll_once(r2.as_mut(), &wakers[2].1).is_pending());
    drop(w);
    let woken = wakers
        .iter()
        .map(|(c, _)| c.wakes.load(std::sync::atomic::Ordering::SeqCst))
        .collect::<Vec<_>>();
    assert_eq!(woken, [1, 1, 1]);
    assert!(poll_once(r0.as_mut(), &wakers[0].1).is_ready());
    assert!(poll_once(r1.as_mut(), &wakers[1].1).is_ready());
    assert!(poll_once(r2.as_mut(), &wakers[2].1).is_ready());
}
