//! tokio spellings and behaviours that ported code relies on (issue: "Drop-in
//! for tokio::sync"). Each test pins one item that once differed from tokio.
#![cfg(not(loom))]

mod common;

use std::{
    cell::Cell,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, Once},
};

use common::{Compio, Exec};
use compio_sync::Semaphore;

thread_local! {
    /// Where the last panic on this thread was raised (file, line).
    static PANIC_AT: Cell<Option<(&'static str, u32)>> = const { Cell::new(None) };
}

/// Runs `f`, expecting a panic, and returns the location it was raised at.
fn panic_location(f: impl FnOnce()) -> (&'static str, u32) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(at) = info.location() {
                // `Location<'static>` in practice: panics record `'static`
                // locations; keep the file name only when it is static.
                let file: &'static str = Box::leak(at.file().to_owned().into_boxed_str());
                PANIC_AT.with(|p| p.set(Some((file, at.line()))));
            }
            previous(info);
        }));
    });
    PANIC_AT.with(|p| p.set(None));
    assert!(
        catch_unwind(AssertUnwindSafe(f)).is_err(),
        "expected a panic"
    );
    PANIC_AT.with(|p| p.get()).expect("panic location recorded")
}

/// `Semaphore::MAX_PERMITS` needs no type annotation, as in tokio.
#[test]
fn max_permits_by_path_infers_the_default_backend() {
    let s = Semaphore::new(Semaphore::MAX_PERMITS);
    assert_eq!(s.available_permits(), Semaphore::MAX_PERMITS);
    assert_eq!(Semaphore::MAX_PERMITS, usize::MAX >> 3);
    // Trait constructors and fn items by path infer the backend too.
    assert_eq!(Semaphore::default().available_permits(), 0);
    let acquire = Semaphore::acquire;
    drop(acquire(&s));
}

/// Borrowed permits know their semaphore, as owned ones do.
#[test]
fn borrowed_permit_returns_its_semaphore() {
    let s = Semaphore::new(2);
    let p = s.try_acquire().unwrap();
    assert!(std::ptr::eq(p.semaphore(), &s));
}

/// Permit counts are `usize`: two 3,000,000,000-permit permits merge.
#[test]
fn merging_permits_past_u32_works() {
    let s = Semaphore::new(Semaphore::MAX_PERMITS);
    let mut a = s.try_acquire_many(3_000_000_000).unwrap();
    let b = s.try_acquire_many(3_000_000_000).unwrap();
    a.merge(b);
    assert_eq!(a.num_permits(), 6_000_000_000);
    let c = a.split(5_000_000_000).unwrap();
    assert_eq!(
        (a.num_permits(), c.num_permits()),
        (1_000_000_000, 5_000_000_000)
    );
    drop((a, c));
    assert_eq!(s.available_permits(), Semaphore::MAX_PERMITS);
}

/// The owned blocking entry points exist and work from a plain thread.
#[test]
fn blocking_acquire_owned_from_a_plain_thread() {
    let s = Arc::new(Semaphore::new(3));
    let p = s.clone().blocking_acquire_owned().unwrap();
    let q = s.clone().blocking_acquire_many_owned(2).unwrap();
    assert_eq!((p.num_permits(), q.num_permits()), (1, 2));
    assert_eq!(s.available_permits(), 0);
    let s2 = s.clone();
    let waiter = std::thread::spawn(move || s2.blocking_acquire_owned().unwrap().num_permits());
    drop(p);
    assert_eq!(waiter.join().unwrap(), 1);
    drop(q);
    assert_eq!(s.available_permits(), 3);
}

/// Panics point at the caller, not into the crate (`#[track_caller]`).
#[test]
fn misuse_panics_point_at_the_caller() {
    let here = file!();
    let (file, _) = panic_location(|| {
        let _ = Semaphore::new(Semaphore::MAX_PERMITS + 1);
    });
    assert!(file.ends_with(here), "new: {file}");
    let s1 = Semaphore::new(1);
    let s2 = Semaphore::new(1);
    let (file, _) = panic_location(|| {
        let mut a = s1.try_acquire().unwrap();
        a.merge(s2.try_acquire().unwrap());
    });
    assert!(file.ends_with(here), "merge: {file}");
    let (file, line) = panic_location(|| {
        let s = Semaphore::new(Semaphore::MAX_PERMITS);
        s.add_permits(1);
    });
    assert!(file.ends_with(here), "add_permits: {file}:{line}");
    let (file, _) = panic_location(|| {
        Compio::block_on(async {
            drop(s1.blocking_acquire());
        })
    });
    assert!(file.ends_with(here), "blocking_acquire: {file}");
}

/// `Mutex`'s `Debug` is tokio's: the data, or `<locked>`, nothing else.
#[test]
fn mutex_debug_matches_tokio() {
    let m = compio_sync::Mutex::new(7);
    assert_eq!(format!("{m:?}"), "Mutex { data: 7 }");
    let g = m.try_lock().unwrap();
    assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
    drop(g);
    let strict = compio_sync::Mutex::new(7).strict_fifo();
    assert_eq!(format!("{strict:?}"), "Mutex { data: 7 }");
}

/// `m.lock_owned().await;` compiles without a warning, as in tokio: an
/// `OwnedMutexGuard` is not `#[must_use]` (a `deny` turns the warning into
/// an error, so this test fails to build if it comes back).
#[test]
#[deny(unused_must_use)]
fn owned_guard_is_not_must_use() {
    let m = Arc::new(compio_sync::Mutex::new(()));
    Compio::block_on(async move {
        m.clone().lock_owned().await;
        m.clone().try_lock_owned().unwrap();
    });
}

/// Trait constructors infer the default backend, as tokio code writes them.
#[test]
fn default_constructors_infer_the_backend() {
    let m = compio_sync::Mutex::<u8>::default();
    assert_eq!(*m.try_lock().unwrap(), 0);
    let m: compio_sync::Mutex<Vec<u8>> = Default::default();
    assert!(m.try_lock().unwrap().is_empty());
    let cv = compio_sync::Condvar::default();
    cv.notify_all();
    let n = compio_sync::Notify::default();
    n.notify_one();
    let m = compio_sync::Mutex::from(3u8);
    assert_eq!(*m.try_lock().unwrap(), 3);
}

/// `blocking_lock` misuse points at the caller.
#[test]
fn blocking_lock_panic_points_at_the_caller() {
    let here = file!();
    let m = compio_sync::Mutex::new(0);
    let (file, _) = panic_location(|| {
        Compio::block_on(async {
            drop(m.blocking_lock());
        })
    });
    assert!(file.ends_with(here), "blocking_lock: {file}");
}

/// `Notify::notified_owned` and `OwnedNotified`, as in tokio: a `'static`,
/// `Send` future that a `notify_one` or a later `notify_waiters` completes,
/// and that passes a `notify_one` on when dropped.
#[test]
fn notified_owned_is_a_static_send_future() {
    fn send_static<T: Send + 'static>(_: &T) {}
    let notify = Arc::new(compio_sync::Notify::new());
    let owned = notify.clone().notified_owned();
    send_static(&owned);
    notify.notify_waiters();
    Compio::block_on(owned);

    let first = notify.clone().notified_owned();
    let second = notify.clone().notified_owned();
    let (mut first, mut second) = (Box::pin(first), Box::pin(second));
    assert!(!first.as_mut().enable());
    assert!(!second.as_mut().enable());
    notify.notify_one();
    drop(first); // picked, dropped before completing: passes it on
    assert!(second.as_mut().enable());
    let waiter = std::thread::spawn({
        let notify = notify.clone();
        move || Compio::block_on(notify.notified_owned())
    });
    while Arc::strong_count(&notify) < 3 {
        std::thread::yield_now();
    }
    notify.notify_one();
    waiter.join().unwrap();
}

/// As tokio: an acquire that has been handed its permits but runs only after
/// `close` fails, and the permits go back (tokio's `poll_acquire` checks
/// `CLOSED` before anything else). Checked on both policies, with tokio's own
/// semaphore alongside.
#[test]
fn acquire_handed_permits_then_closed_fails_as_in_tokio() {
    use std::{pin::pin, task::Poll};

    fn poll<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    }

    let tokio_sem = tokio::sync::Semaphore::new(0);
    let mut tokio_acquire = pin!(tokio_sem.acquire());
    assert!(poll(tokio_acquire.as_mut()).is_pending());
    tokio_sem.add_permits(1);
    tokio_sem.close();
    assert!(matches!(poll(tokio_acquire.as_mut()), Poll::Ready(Err(_))));

    for strict in [true, false] {
        let sem = Semaphore::new(0);
        let sem = if strict { sem.strict_fifo() } else { sem };
        // `acquire_many(2)` at the head is handed permits under both
        // policies (strict FIFO always; the default one once it claims
        // the priority, which a multi-permit waiter does at once).
        let mut acquire = pin!(sem.acquire_many(2));
        assert!(poll(acquire.as_mut()).is_pending());
        sem.add_permits(1);
        if !strict {
            let barger = sem.try_acquire().unwrap();
            assert!(poll(acquire.as_mut()).is_pending(), "passed over once");
            drop(barger);
        }
        sem.add_permits(1);
        sem.close();
        assert!(
            matches!(poll(acquire.as_mut()), Poll::Ready(Err(_))),
            "strict: {strict}"
        );
        assert_eq!(sem.available_permits(), 2, "the permits went back");
    }
}
