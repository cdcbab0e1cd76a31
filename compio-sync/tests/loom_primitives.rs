//! Loom models of the races Mutex, Notify and Condvar must win, each run on
//! every backend.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" \
//!     cargo test --release -p compio-sync --test loom_primitives
//! ```
//!
//! The preemption bound is set in `common/loom.rs` (per model class);
//! `LOOM_MAX_PREEMPTIONS` overrides it.
//!
//! A lost wake-up shows up as a deadlock (loom's `block_on` parks with
//! nobody left to wake it). A duplicated or invented notification shows up
//! as a failed assertion.
#![cfg(loom)]

mod common;
#[path = "common/loom.rs"]
mod loom_model;

use std::{
    future::Future,
    pin::pin,
    sync::Arc,
    task::{Context, Poll, Waker},
};

use compio_sync::{Condvar, Mutex, Notify, Semaphore};
use loom::{cell::UnsafeCell, future::block_on, thread};
use loom_model::{Backend, Class, check_on};

/// Notify: a `notify_one` on another thread races the waiter's first poll
/// (fast path, registration, re-check). The waiter always completes, and
/// exactly one notification was delivered (no permit is left over).
fn notify_one_racing_registration<B: Backend>(lifo: bool) {
    check_on::<B>(Class::Primitive, move || {
        let notify = Arc::new(Notify::<B>::with_backend());
        let notifier = {
            let notify = notify.clone();
            thread::spawn(move || {
                if lifo {
                    notify.notify_last();
                } else {
                    notify.notify_one();
                }
            })
        };
        block_on(notify.notified());
        notifier.join().unwrap();
        let mut again = pin!(notify.notified());
        assert!(!again.as_mut().enable(), "delivered once; nothing stored");
    });
}

/// Notify: two `notify_one`s on two threads race the waiter's first poll.
/// The waiter may take the permit one stored *and* be picked by the other
/// (it then passes the second on). Whatever the order, the waiter completes
/// and at most one permit is left. (How many are left depends on the order:
/// two `notify_one`s that both find nobody waiting store one permit, as in
/// tokio.)
fn two_notify_ones_racing_registration<B: Backend>() {
    check_on::<B>(Class::Large, || {
        let notify = Arc::new(Notify::<B>::with_backend());
        let notifiers: Vec<_> = (0..2)
            .map(|_| {
                let notify = notify.clone();
                thread::spawn(move || notify.notify_one())
            })
            .collect();
        block_on(notify.notified());
        for notifier in notifiers {
            notifier.join().unwrap();
        }
        let mut second = pin!(notify.notified());
        if second.as_mut().enable() {
            let mut third = pin!(notify.notified());
            assert!(!third.as_mut().enable(), "at most one permit");
        }
    });
}

/// Notify: of two queued waiters, the first is dropped while a `notify_one`
/// races it. Whether the drop comes first or the waiter was picked and then
/// dropped, the second waiter gets the notification, and only it.
fn drop_after_notify<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let notify = Arc::new(Notify::<B>::with_backend());
        let mut first = Box::pin(notify.notified());
        let mut second = Box::pin(notify.notified());
        assert!(!first.as_mut().enable());
        assert!(!second.as_mut().enable());
        let notifier = {
            let notify = notify.clone();
            thread::spawn(move || notify.notify_one())
        };
        drop(first);
        block_on(second);
        notifier.join().unwrap();
        let mut again = pin!(notify.notified());
        assert!(!again.as_mut().enable(), "exactly one notification");
    });
}

/// Notify: a queued waiter is dropped while a `notify_one` and a
/// `notify_waiters` race it. The `notify_one` must survive as the permit
/// (the waiter, if picked, passes it on; a broadcast must not be mistaken
/// for it), and exactly once.
fn drop_racing_notify_one_and_broadcast<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let notify = Arc::new(Notify::<B>::with_backend());
        let mut waiter = Box::pin(notify.notified());
        assert!(!waiter.as_mut().enable());
        let one = {
            let notify = notify.clone();
            thread::spawn(move || notify.notify_one())
        };
        let all = {
            let notify = notify.clone();
            thread::spawn(move || notify.notify_waiters())
        };
        drop(waiter);
        one.join().unwrap();
        all.join().unwrap();
        let mut first = pin!(notify.notified());
        assert!(first.as_mut().enable(), "the notify_one was not lost");
        let mut second = pin!(notify.notified());
        assert!(!second.as_mut().enable(), "nor duplicated");
    });
}

/// Condvar: the waiter checks the condition, queues and unlocks, while a
/// notifier on another thread sets the condition under the mutex and calls
/// `notify_one`. The waiter always wakes and sees the condition set.
fn wait_racing_notify_one<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let pair = Arc::new((
            Mutex::<bool, B>::with_backend(false),
            Condvar::<B>::with_backend(),
        ));
        let notifier = {
            let pair = pair.clone();
            thread::spawn(move || {
                *block_on(pair.0.lock()) = true;
                pair.1.notify_one();
            })
        };
        block_on(async {
            let guard = pair.0.lock().await;
            let guard = pair.1.wait_while(guard, |set| !*set).await;
            assert!(*guard);
        });
        notifier.join().unwrap();
    });
}

/// Condvar: a queued wait is dropped on one thread while a notifier sets
/// the condition and calls `notify_one`, and a second task waits for the
/// condition. If the notification picked the dropped wait, it is passed on:
/// the second task always wakes.
fn dropped_wait_racing_notify_one<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let pair = Arc::new((
            Mutex::<bool, B>::with_backend(false),
            Condvar::<B>::with_backend(),
        ));
        let mut dropped = Box::pin(pair.1.wait(pair.0.try_lock().unwrap()));
        assert!(
            dropped
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
        let waiter = {
            let pair = pair.clone();
            thread::spawn(move || {
                block_on(async {
                    let guard = pair.0.lock().await;
                    assert!(*pair.1.wait_while(guard, |set| !*set).await);
                })
            })
        };
        let notifier = {
            let pair = pair.clone();
            thread::spawn(move || {
                *block_on(pair.0.lock()) = true;
                pair.1.notify_one();
            })
        };
        drop(dropped);
        waiter.join().unwrap();
        notifier.join().unwrap();
    });
}

/// Mutex: a holder on one thread unlocks while a second thread polls a lock
/// future once and drops it (cancelled, possibly after being handed the
/// lock) and the main thread waits for the lock. The main thread always gets
/// it; the critical sections never overlap (loom checks the cell); the
/// mutex ends unlocked with every increment counted.
fn lock_racing_unlock_and_cancel<B: Backend>(strict: bool) {
    check_on::<B>(Class::Large, move || {
        let mutex = Mutex::<_, B>::with_backend(UnsafeCell::new(0usize));
        let mutex = Arc::new(if strict { mutex.strict_fifo() } else { mutex });
        let held = mutex.clone().try_lock_owned().unwrap();
        let unlocker = thread::spawn(move || {
            // SAFETY: the guard gives exclusive access; loom checks it.
            held.with_mut(|p| unsafe { *p += 1 });
            drop(held);
        });
        let canceller = {
            let mutex = mutex.clone();
            thread::spawn(move || {
                block_on(async {
                    let mut lock = pin!(mutex.lock());
                    match futures::poll!(lock.as_mut()) {
                        Poll::Ready(guard) => {
                            // SAFETY: as above.
                            guard.with_mut(|p| unsafe { *p += 1 });
                            1
                        }
                        // Dropped here: cancelled.
                        Poll::Pending => 0,
                    }
                })
            })
        };
        let guard = block_on(mutex.lock());
        // SAFETY: as above.
        guard.with_mut(|p| unsafe { *p += 1 });
        drop(guard);
        unlocker.join().unwrap();
        let extra = canceller.join().unwrap();
        let guard = mutex.try_lock().expect("unlocked at the end");
        // SAFETY: as above.
        assert_eq!(guard.with(|p| unsafe { *p }), 2 + extra);
    });
}

/// Semaphore regression (strict FIFO): a release races the cancellation of
/// the only queued waiter and a new `acquire`. The releaser's wake-up finds
/// nobody to notify, while the new waiter, counted just after that, saw the
/// releaser's wake-up in flight (`PENDING`) and left its wake-up to it. The
/// releaser must look again before it gives up, or the new waiter sleeps
/// forever with the permit free.
fn strict_release_racing_cancel_and_acquire<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let sem = Arc::new(Semaphore::<B>::with_backend(1).strict_fifo());
        let held = sem.clone().try_acquire_owned().unwrap();
        // Queue a waiter (one poll), to be cancelled on another thread.
        let mut queued = Box::pin(sem.clone().acquire_owned());
        assert!(
            queued
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
        let releaser = thread::spawn(move || drop(held));
        let canceller = thread::spawn(move || drop(queued));
        // Acquire once the cancellation is done (joining costs loom no
        // preemption, so the bad order fits in the default bound).
        canceller.join().unwrap();
        drop(block_on(sem.acquire()).unwrap());
        releaser.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

macro_rules! loom_suite {
    ($name:ident, $backend:ty, $($order:tt)+) => {
        mod $name {
            type B = $backend;

            #[test]
            fn notify_one_racing_registration() {
                super::notify_one_racing_registration::<B>(false);
            }
            #[test]
            fn notify_last_racing_registration() {
                super::notify_one_racing_registration::<B>(true);
            }
            #[test]
            fn notify_two_notify_ones_racing_registration() {
                super::two_notify_ones_racing_registration::<B>();
            }
            #[test]
            fn notify_drop_after_notify() {
                super::drop_after_notify::<B>();
            }
            #[test]
            fn notify_drop_racing_notify_one_and_broadcast() {
                super::drop_racing_notify_one_and_broadcast::<B>();
            }
            #[test]
            fn condvar_wait_racing_notify_one() {
                super::wait_racing_notify_one::<B>();
            }
            #[test]
            fn semaphore_strict_release_racing_cancel_and_acquire() {
                super::strict_release_racing_cancel_and_acquire::<B>();
            }
            #[test]
            fn condvar_dropped_wait_racing_notify_one() {
                super::dropped_wait_racing_notify_one::<B>();
            }
            #[test]
            fn mutex_lock_racing_unlock_and_cancel() {
                super::lock_racing_unlock_and_cancel::<B>(false);
            }
            #[test]
            fn mutex_lock_racing_unlock_and_cancel_strict_fifo() {
                super::lock_racing_unlock_and_cancel::<B>(true);
            }
        }
    };
}

for_each_backend!(loom_suite, once);
