//! Loom models of the `Intrusive` backend and the `Semaphore` protocol.
//!
//! Run with:
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p compio-sync --test loom_semaphore`
//!
//! `loom::future::block_on` parks on loom's scheduler, so a lost wake-up shows
//! up as a deadlock that loom reports.
#![cfg(loom)]

use std::{
    future::Future,
    pin::pin,
    task::{Context, Poll},
};

use compio_sync::{
    Semaphore,
    backend::{Intrusive, WaitQueue},
};
use futures::task::noop_waker;
use loom::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::*},
    },
    thread,
};

fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(&noop_waker()))
}

/// Intrusive: a notify racing a registration and a cancel is delivered
/// exactly once: `notify_one` returns true iff the cancel reports it.
#[test]
fn intrusive_notify_races_register_and_cancel() {
    loom::model(|| {
        let q = Arc::new(Intrusive::new());
        let q2 = q.clone();
        let notifier = thread::spawn(move || q2.notify_one());
        let w = pin!(Intrusive::new_waiter());
        // SAFETY: `w` is pinned on this stack frame, used with `q` only, and
        // cancelled before it goes out of scope.
        unsafe { q.register(w.as_ref(), &noop_waker()) };
        // SAFETY: as above.
        let got = unsafe { q.cancel(w.as_ref()) };
        let sent = notifier.join().unwrap();
        assert_eq!(sent, got, "a notification is delivered exactly once");
        assert!(!q.notify_one(), "nothing left behind");
    });
}

/// Intrusive: two waiters on two threads, one notify: at most one is
/// notified, and it is the one `notify_one` reported.
#[test]
fn intrusive_two_waiters_one_notify() {
    loom::model(|| {
        let q = Arc::new(Intrusive::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                thread::spawn(move || {
                    let w = pin!(Intrusive::new_waiter());
                    // SAFETY: pinned here, one queue, cancelled below.
                    unsafe { q.register(w.as_ref(), &noop_waker()) };
                    // SAFETY: as above.
                    unsafe { q.cancel(w.as_ref()) }
                })
            })
            .collect();
        let sent = q.notify_one();
        let got: usize = waiters
            .into_iter()
            .map(|h| h.join().unwrap() as usize)
            .sum();
        assert_eq!(got, sent as usize);
    });
}

/// Intrusive: `poll_wait` racing `notify_all` sees the notification or stays
/// registered (and is then cancelled without loss).
#[test]
fn intrusive_poll_wait_races_notify_all() {
    loom::model(|| {
        let q = Arc::new(Intrusive::new());
        let w = Box::pin(Intrusive::new_waiter());
        // SAFETY: `w` is boxed and pinned, used with `q` only, and cancelled
        // or observed ready before it is dropped.
        unsafe { q.register(w.as_ref(), &noop_waker()) };
        let q2 = q.clone();
        let notifier = thread::spawn(move || q2.notify_all());
        let waker = noop_waker();
        // SAFETY: registered above.
        let ready = unsafe { q.poll_wait(w.as_ref(), &mut Context::from_waker(&waker)) }.is_ready();
        let woken = notifier.join().unwrap();
        // SAFETY: registered above; cancel on an idle waiter is allowed.
        let late = unsafe { q.cancel(w.as_ref()) };
        assert_eq!(woken, 1, "registered before notify_all: always woken");
        assert!(ready ^ late, "observed exactly once");
    });
}

fn acquire_release(strict: bool) {
    loom::model(move || {
        let s = Arc::new(if strict {
            Semaphore::new(1).strict_fifo()
        } else {
            Semaphore::new(1)
        });
        let inside = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (s, inside) = (s.clone(), inside.clone());
                thread::spawn(move || {
                    loom::future::block_on(async {
                        let p = s.acquire().await.unwrap();
                        assert!(!inside.swap(true, SeqCst), "mutual exclusion");
                        inside.store(false, SeqCst);
                        drop(p);
                    })
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(s.available_permits(), 1);
    });
}

/// Semaphore: two threads contend for one permit; both finish (no lost
/// wake-up) and the permit is back.
#[test]
fn semaphore_acquire_release_barging() {
    acquire_release(false);
}

/// As above, strict FIFO.
#[test]
fn semaphore_acquire_release_strict() {
    acquire_release(true);
}

fn release_races_cancel(strict: bool) {
    loom::model(move || {
        let s = Arc::new(if strict {
            Semaphore::new(0).strict_fifo()
        } else {
            Semaphore::new(0)
        });
        let s2 = s.clone();
        // A waiter that registers and then gives up.
        let canceller = thread::spawn(move || {
            let mut f = pin!(s2.acquire());
            if let Poll::Ready(p) = poll_once(f.as_mut()) {
                drop(p.unwrap());
            }
        });
        let s3 = s.clone();
        let releaser = thread::spawn(move || s3.add_permits(1));
        // This waiter must get the permit whatever the canceller did with its
        // wake-up.
        let p = loom::future::block_on(s.acquire()).unwrap();
        drop(p);
        canceller.join().unwrap();
        releaser.join().unwrap();
        assert_eq!(s.available_permits(), 1);
    });
}

/// Semaphore: a release racing a cancelled waiter: the permit is never lost
/// and the remaining waiter is woken.
#[test]
fn semaphore_release_races_cancel_barging() {
    release_races_cancel(false);
}

/// As above, strict FIFO.
#[test]
fn semaphore_release_races_cancel_strict() {
    release_races_cancel(true);
}

/// Semaphore: `close` racing an `acquire` on an empty semaphore: the acquire
/// always fails, and never hangs.
#[test]
fn semaphore_close_races_acquire() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let s2 = s.clone();
        let closer = thread::spawn(move || s2.close());
        let r = loom::future::block_on(s.acquire());
        assert!(r.is_err());
        closer.join().unwrap();
    });
}

/// Semaphore: an `acquire_many` collecting permits as the priority waiter,
/// cancelled while a release races it: every permit comes back.
#[test]
fn semaphore_priority_cancel_races_release() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(1));
        let s2 = s.clone();
        let releaser = thread::spawn(move || s2.add_permits(1));
        {
            let mut f = pin!(s.acquire_many(3));
            let _ = poll_once(f.as_mut());
            let _ = poll_once(f.as_mut());
        }
        releaser.join().unwrap();
        assert_eq!(s.available_permits(), 2);
    });
}

/// Semaphore: an `acquire_many(2)` is served when a release arrives from
/// another thread (priority hand-off).
#[test]
fn semaphore_acquire_many_served_by_release() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(1));
        let s2 = s.clone();
        let releaser = thread::spawn(move || s2.add_permits(1));
        let p = loom::future::block_on(s.acquire_many(2)).unwrap();
        assert_eq!(p.num_permits(), 2);
        drop(p);
        releaser.join().unwrap();
        assert_eq!(s.available_permits(), 2);
    });
}

/// Semaphore (strict FIFO): a woken waiter that finds everything it wants
/// must not step through the priority role. Regression model for a hang
/// found by the soak: waiter A is woken and takes its permit; before A
/// finishes, a second release wakes B, an `acquire_many(2)` that takes one
/// permit and becomes the priority waiter. A then "finished collecting" by
/// clearing PRIORITY, which was B's, and no release woke B again: B sat on
/// one permit forever.
#[test]
fn semaphore_served_waiter_keeps_others_priority() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0).strict_fifo());
        let waiters: Vec<_> = [1, 2]
            .into_iter()
            .map(|n| {
                let s = s.clone();
                thread::spawn(move || {
                    let p = loom::future::block_on(s.acquire_many(n)).unwrap();
                    assert_eq!(p.num_permits(), n as usize);
                })
            })
            .collect();
        s.add_permits(1);
        s.add_permits(1);
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(s.available_permits(), 2);
    });
}

/// As above, default policy: `acquire_many(2)` at the head takes priority at
/// once, and a concurrently served single-permit waiter must leave it alone.
#[test]
fn semaphore_served_waiter_keeps_others_priority_barging() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let waiters: Vec<_> = [1, 2]
            .into_iter()
            .map(|n| {
                let s = s.clone();
                thread::spawn(move || {
                    let p = loom::future::block_on(s.acquire_many(n)).unwrap();
                    assert_eq!(p.num_permits(), n as usize);
                })
            })
            .collect();
        s.add_permits(1);
        s.add_permits(1);
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(s.available_permits(), 2);
    });
}
