//! With the `tokio` feature, ported tokio code behaves as it did on tokio:
//! blocking calls panic where tokio's do, and futures spend tokio's
//! cooperative budget.
//!
//! `cargo test -p compio-sync --features tokio --test tokio_compat`
#![cfg(all(feature = "tokio", not(loom)))]

mod common;

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::SeqCst},
    },
};

use common::{HANG, with_watchdog};
use compio_sync::{Mutex, Semaphore};

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `blocking_acquire` inside a tokio task panics with tokio's message, and
/// the semaphore is left untouched.
#[test]
fn blocking_acquire_in_tokio_runtime_panics_like_tokio() {
    let s = Semaphore::new(1);
    let r = catch_unwind(AssertUnwindSafe(|| {
        current_thread().block_on(async { s.blocking_acquire().map(drop) })
    }));
    let msg = panic_message(r.expect_err("must panic"));
    assert!(
        msg.contains("Cannot block the current thread from within a runtime"),
        "tokio's message: {msg}"
    );
    assert_eq!(s.available_permits(), 1);
}

/// `blocking_lock` inside a tokio task panics too.
#[test]
fn blocking_lock_in_tokio_runtime_panics_like_tokio() {
    let m = Mutex::new(0);
    let r = catch_unwind(AssertUnwindSafe(|| {
        current_thread().block_on(async { *m.blocking_lock() += 1 })
    }));
    let msg = panic_message(r.expect_err("must panic"));
    assert!(msg.contains("Cannot block the current thread"), "{msg}");
    assert_eq!(*m.try_lock().unwrap(), 0);
}

/// Where tokio allows blocking (`spawn_blocking`), so do we.
#[test]
fn blocking_calls_work_in_spawn_blocking() {
    let s = Arc::new(Semaphore::new(1));
    let m = Arc::new(Mutex::new(0));
    let (s2, m2) = (s.clone(), m.clone());
    current_thread().block_on(async move {
        tokio::task::spawn_blocking(move || {
            drop(s2.blocking_acquire().unwrap());
            *m2.blocking_lock() += 1;
        })
        .await
        .unwrap();
    });
    assert_eq!(s.available_permits(), 1);
    assert_eq!(*m.try_lock().unwrap(), 1);
}

/// tokio's `Mutex` doc example that re-locks in a loop on a `current_thread`
/// runtime until another task sets a flag: without taking part in tokio's
/// budget the loop would never yield and spin forever.
#[test]
fn relock_loop_yields_to_other_tasks_on_current_thread() {
    with_watchdog(HANG, || {
        current_thread().block_on(async {
            let m = Arc::new(Mutex::new(0u64));
            let stop = Arc::new(AtomicBool::new(false));
            let setter = tokio::spawn({
                let stop = stop.clone();
                async move { stop.store(true, SeqCst) }
            });
            let mut rounds = 0u64;
            while !stop.load(SeqCst) {
                *m.lock().await += 1;
                rounds += 1;
            }
            setter.await.unwrap();
            assert_eq!(*m.lock().await, rounds);
            assert!(rounds > 0);
        });
    });
}
