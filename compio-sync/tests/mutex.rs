//! The Mutex contract suite: every test is written once, generic over the
//! backend `B` and the executor `E`, and instantiated for every backend on
//! compio and on `futures::executor`, under both fairness policies, by the
//! `contract_suite!` lines at the end. Adding a backend is one line there.
#![cfg(not(loom))]

mod common;

use std::{
    cell::Cell,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::pin,
    sync::{Arc, atomic::Ordering::SeqCst},
    task::Poll,
    thread,
};

use common::*;
use compio_sync::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, TryLockError,
    backend::ThreadSafe,
};
use futures::future::join_all;

fn mutex<B: ThreadSafe, T>(value: T, strict: bool) -> Mutex<T, B> {
    let m = Mutex::<T, B>::with_backend(value);
    if strict { m.strict_fifo() } else { m }
}

/// tokio `readiness`: a task waiting for the lock is woken when the guard is
/// dropped, and then gets the lock.
pub fn ready_after_guard_drop<B: ThreadSafe>(strict: bool) {
    let m = mutex::<B, _>(0, strict);
    let guard = m.try_lock().unwrap();
    let (woken, waker) = counting_waker();
    let mut lock = pin!(m.lock());
    assert!(poll_once(lock.as_mut(), &waker).is_pending());
    assert_eq!(woken.wakes.load(SeqCst), 0);
    drop(guard);
    assert_eq!(woken.wakes.load(SeqCst), 1, "the waiter is woken");
    let Poll::Ready(mut guard) = poll_once(lock.as_mut(), &waker) else {
        panic!("the woken waiter gets the lock");
    };
    *guard += 1;
    drop(guard);
    assert_eq!(*m.try_lock().unwrap(), 1);
}

/// tokio `aborted_future_1`: a lock future dropped while queued leaves the
/// mutex lockable, and leaves nothing in the queue to wake.
pub fn aborted_queued_lock_leaves_mutex_lockable<B: ThreadSafe>(strict: bool) {
    let m = mutex::<B, _>((), strict);
    let guard = m.try_lock().unwrap();
    let (_w, waker) = counting_waker();
    {
        let mut lock = pin!(m.lock());
        assert!(poll_once(lock.as_mut(), &waker).is_pending());
    }
    drop(guard);
    assert!(m.try_lock().is_ok(), "lockable after the aborted lock");
}

/// tokio `aborted_future_2`: a lock future that was handed the lock (woken)
/// and is dropped before it ran passes the lock on to the next waiter.
pub fn lock_granted_then_aborted_passes_lock_on<B: ThreadSafe>(strict: bool) {
    let m = mutex::<B, _>(0, strict);
    let guard = m.try_lock().unwrap();
    let (first, waker_a) = counting_waker();
    let (second, waker_b) = counting_waker();
    let mut a = Box::pin(m.lock());
    let mut b = pin!(m.lock());
    assert!(poll_once(a.as_mut(), &waker_a).is_pending());
    assert!(poll_once(b.as_mut(), &waker_b).is_pending());
    drop(guard);
    assert_eq!(
        first.wakes.load(SeqCst),
        1,
        "the first waiter is handed the lock"
    );
    assert_eq!(second.wakes.load(SeqCst), 0);
    drop(a);
    assert_eq!(
        second.wakes.load(SeqCst),
        1,
        "the aborted waiter passed it on"
    );
    let Poll::Ready(mut guard) = poll_once(b.as_mut(), &waker_b) else {
        panic!("the second waiter gets the lock");
    };
    *guard = 2;
    drop(guard);
    assert_eq!(*m.try_lock().unwrap(), 2);
}

/// `try_lock` fails while locked (with tokio's error text) and succeeds after.
pub fn try_lock_fails_only_while_locked<B: ThreadSafe>(strict: bool) {
    let m = mutex::<B, _>(5, strict);
    let guard = m.try_lock().unwrap();
    let err = m.try_lock().unwrap_err();
    assert_eq!(err, TryLockError::clone(&err));
    assert_eq!(err.to_string(), "operation would block");
    drop(guard);
    assert_eq!(*m.try_lock().unwrap(), 5);
}

/// `Debug` shows the data when free and `<locked>` when held; never waits.
pub fn debug_never_blocks<B: ThreadSafe>(strict: bool) {
    let m = mutex::<B, _>(vec![1, 2], strict);
    assert!(format!("{m:?}").contains("[1, 2]"));
    let guard = m.try_lock().unwrap();
    let shown = format!("{m:?}");
    assert!(shown.contains("<locked>"), "{shown}");
    assert_eq!(format!("{guard:?}"), "[1, 2]");
    drop(guard);
    assert!(format!("{m:?}").contains("[1, 2]"));
}

/// A mapped guard keeps the mutex locked until it is dropped; `try_map`
/// that fails gives back the original, still-locked guard.
pub fn mapped_guards_hold_the_lock<B: ThreadSafe>(strict: bool) {
    let m = mutex::<B, _>((1, vec![10, 20]), strict);
    let mut second = MutexGuard::map(m.try_lock().unwrap(), |t| &mut t.1);
    assert!(m.try_lock().is_err(), "still locked while mapped");
    second.push(30);
    let mut last = MappedMutexGuard::try_map(second, |v| v.last_mut()).unwrap();
    *last = 31;
    drop(last);
    assert_eq!(*m.try_lock().unwrap(), (1, vec![10, 20, 31]));

    let guard = m.try_lock().unwrap();
    let guard = MutexGuard::try_map(guard, |t| t.1.get_mut(99)).unwrap_err();
    assert!(
        m.try_lock().is_err(),
        "the returned guard still holds the lock"
    );
    assert!(std::ptr::eq(MutexGuard::mutex(&guard), &m));
    drop(guard);
    assert!(m.try_lock().is_ok());
}

/// Owned guards keep the `Arc` alive, move between threads, and map.
pub fn owned_guards_move_and_map<B: ThreadSafe, E: Exec>(strict: bool) {
    let m = Arc::new(mutex::<B, _>((0u32, 0u32), strict));
    let mut guard = E::block_on(m.clone().lock_owned());
    assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&guard), &m));
    guard.0 = 1;
    thread::spawn(move || drop(guard)).join().unwrap();
    let guard = m.clone().try_lock_owned().unwrap();
    assert!(m.clone().try_lock_owned().is_err());
    let mut second = OwnedMutexGuard::map(guard, |p| &mut p.1);
    *second = 2;
    assert!(Arc::ptr_eq(OwnedMappedMutexGuard::mutex(&second), &m));
    let second = thread::spawn(move || {
        let r: &mut u32 = &mut OwnedMappedMutexGuard::map(second, |x| x);
        *r += 1;
    });
    second.join().unwrap();
    assert_eq!(*m.try_lock().unwrap(), (1, 3));
    let guard = m.clone().try_lock_owned().unwrap();
    let guard = OwnedMutexGuard::try_map(guard, |_| None::<&mut u8>).unwrap_err();
    assert!(m.try_lock().is_err());
    drop(guard);
    assert!(m.try_lock().is_ok());
}

/// Strict FIFO: the lock goes to waiters in arrival order, whatever order
/// they are polled in.
pub fn strict_fifo_locks_in_arrival_order<B: ThreadSafe>() {
    let m = mutex::<B, _>(Vec::new(), true);
    let held = m.try_lock().unwrap();
    let (_w, waker) = counting_waker();
    let mut futs: Vec<_> = (0..5).map(|_| Box::pin(m.lock())).collect();
    for f in &mut futs {
        assert!(poll_once(f.as_mut(), &waker).is_pending());
    }
    drop(held);
    let mut done = vec![false; futs.len()];
    for _ in 0..futs.len() {
        // Poll newest first: a barging newcomer would win here.
        for i in (0..futs.len()).rev() {
            if !done[i]
                && let Poll::Ready(mut guard) = poll_once(futs[i].as_mut(), &waker)
            {
                guard.push(i);
                done[i] = true;
            }
        }
    }
    assert_eq!(*m.try_lock().unwrap(), vec![0, 1, 2, 3, 4]);
}

/// T threads, each with its own executor and 16 tasks, increment a plain
/// (non-atomic) counter under the lock, sometimes yielding inside the
/// critical section: the total is exact, and at most one holder is ever
/// inside.
pub fn cross_thread_counter_is_exact<B: ThreadSafe, E: Exec>(threads: usize, strict: bool) {
    const TASKS: usize = 16;
    const ITERS: usize = 200;
    with_watchdog(HANG, move || {
        let m = Arc::new(mutex::<B, _>(0usize, strict));
        let occ = Arc::new(Occupancy::default());
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (m, occ) = (m.clone(), occ.clone());
                thread::spawn(move || {
                    E::block_on(join_all((0..TASKS).map(|_| async {
                        for i in 0..ITERS {
                            let mut guard = m.lock().await;
                            occ.enter();
                            let seen = *guard;
                            if i % 8 == 0 {
                                yield_now().await;
                            }
                            *guard = seen + 1;
                            occ.exit();
                        }
                    })));
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*m.try_lock().unwrap(), threads * TASKS * ITERS);
        assert_eq!(occ.max.load(SeqCst), 1, "mutual exclusion");
    });
}

/// `blocking_lock` on plain threads interleaves correctly with async tasks.
pub fn blocking_lock_from_plain_threads<B: ThreadSafe, E: Exec>(strict: bool) {
    with_watchdog(HANG, move || {
        let m = Arc::new(mutex::<B, _>(0usize, strict));
        let blockers: Vec<_> = (0..2)
            .map(|i| {
                let m = m.clone();
                thread::spawn(move || {
                    for _ in 0..500 {
                        if i == 0 {
                            *m.blocking_lock() += 1;
                        } else {
                            *m.clone().blocking_lock_owned() += 1;
                        }
                    }
                })
            })
            .collect();
        E::block_on(join_all((0..4).map(|_| async {
            for _ in 0..250 {
                *m.lock().await += 1;
                yield_now().await;
            }
        })));
        for b in blockers {
            b.join().unwrap();
        }
        assert_eq!(*m.try_lock().unwrap(), 2000);
    });
}

/// Lock futures dropped at random points under cross-thread contention leave
/// the mutex lockable and strand no waiter.
pub fn cancellation_storm_leaves_mutex_lockable<B: ThreadSafe, E: Exec>(strict: bool) {
    with_watchdog(HANG, move || {
        let m = Arc::new(mutex::<B, _>(0usize, strict));
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let m = m.clone();
                thread::spawn(move || {
                    E::block_on(join_all((0..16).map(|task| {
                        let m = m.clone();
                        async move {
                            let mut done = 0;
                            for i in 0..300usize {
                                if (i + task + t) % 3 == 0 {
                                    let mut lock = pin!(m.lock());
                                    if futures::poll!(lock.as_mut()).is_pending() {
                                        yield_now().await;
                                        let _ = futures::poll!(lock.as_mut());
                                    }
                                } else {
                                    *m.lock().await += 1;
                                    done += 1;
                                    yield_now().await;
                                }
                            }
                            done
                        }
                    })))
                    .into_iter()
                    .sum::<usize>()
                })
            })
            .collect();
        let done: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(
            *m.try_lock().unwrap(),
            done,
            "every completed lock counted once"
        );
    });
}

/// `get_mut` and `into_inner` need no locking; a locked mutex of an unsized
/// type works through the guard.
pub fn get_mut_into_inner_and_unsized<B: ThreadSafe>(strict: bool) {
    let mut m = mutex::<B, _>(vec![1], strict);
    m.get_mut().push(2);
    assert_eq!(m.into_inner(), vec![1, 2]);

    let m: Arc<Mutex<[u8], B>> = Arc::new(mutex::<B, _>([1u8, 2, 3], strict));
    let mut guard = m.try_lock().unwrap();
    guard[0] = 9;
    assert_eq!(&*guard, &[9, 2, 3]);
}

macro_rules! policy_tests {
    ($backend:ty, $exec:ty, $strict:expr) => {
        type B = $backend;
        type E = $exec;
        const STRICT: bool = $strict;

        #[test]
        fn ready_after_guard_drop() {
            super::super::ready_after_guard_drop::<B>(STRICT);
        }
        #[test]
        fn aborted_queued_lock_leaves_mutex_lockable() {
            super::super::aborted_queued_lock_leaves_mutex_lockable::<B>(STRICT);
        }
        #[test]
        fn lock_granted_then_aborted_passes_lock_on() {
            super::super::lock_granted_then_aborted_passes_lock_on::<B>(STRICT);
        }
        #[test]
        fn try_lock_fails_only_while_locked() {
            super::super::try_lock_fails_only_while_locked::<B>(STRICT);
        }
        #[test]
        fn debug_never_blocks() {
            super::super::debug_never_blocks::<B>(STRICT);
        }
        #[test]
        fn mapped_guards_hold_the_lock() {
            super::super::mapped_guards_hold_the_lock::<B>(STRICT);
        }
        #[test]
        fn owned_guards_move_and_map() {
            super::super::owned_guards_move_and_map::<B, E>(STRICT);
        }
        #[test]
        fn cross_thread_counter_2_threads() {
            super::super::cross_thread_counter_is_exact::<B, E>(2, STRICT);
        }
        #[test]
        fn cross_thread_counter_4_threads() {
            super::super::cross_thread_counter_is_exact::<B, E>(4, STRICT);
        }
        #[test]
        fn blocking_lock_from_plain_threads() {
            super::super::blocking_lock_from_plain_threads::<B, E>(STRICT);
        }
        #[test]
        fn cancellation_storm_leaves_mutex_lockable() {
            super::super::cancellation_storm_leaves_mutex_lockable::<B, E>(STRICT);
        }
        #[test]
        fn get_mut_into_inner_and_unsized() {
            super::super::get_mut_into_inner_and_unsized::<B>(STRICT);
        }
    };
}

/// Instantiates the suite for one backend on one executor, under both
/// policies (every backend's `notify_one` is FIFO, so the strict-order test
/// runs on all of them).
macro_rules! contract_suite {
    ($name:ident, $backend:ty, $exec:ty, $($order:tt)*) => {
        mod $name {
            mod barging {
                policy_tests!($backend, $exec, false);
            }
            mod strict {
                policy_tests!($backend, $exec, true);

                #[test]
                fn strict_fifo_locks_in_arrival_order() {
                    super::super::strict_fifo_locks_in_arrival_order::<B>();
                }
            }
        }
    };
}

for_each_backend!(contract_suite);

/// `blocking_lock` refuses to run on a compio runtime's thread, with a clear
/// message, and leaves the mutex unlocked.
#[test]
fn blocking_lock_panics_inside_compio_runtime() {
    let m = Mutex::new(0);
    let r = catch_unwind(AssertUnwindSafe(|| {
        Compio::block_on(async { drop(m.blocking_lock()) })
    }));
    let msg = r.expect_err("must panic");
    let msg = msg
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| msg.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(msg.contains("compio runtime"), "clear message: {msg}");
    assert!(m.try_lock().is_ok());
}

/// A `static` mutex built with `const_new`, in strict FIFO order.
#[test]
fn const_new_in_static() {
    static M: Mutex<Vec<u8>> = Mutex::const_new(Vec::new()).strict_fifo();
    assert!(M.is_strict_fifo());
    M.try_lock().unwrap().push(1);
    assert_eq!(*M.try_lock().unwrap(), [1]);
}

/// tokio's auto-trait bounds: `Mutex<T>: Send + Sync` iff `T: Send`; guards
/// are `Send` iff `T: Send` and `Sync` iff `T: Send + Sync`; the lock futures
/// are `Send` when `T: Send`. A `Send + !Sync` `T` (`Cell`) is accepted
/// wherever only `T: Send` is needed; the negative cases are `compile_fail`
/// doctests on `MutexGuard`.
#[test]
fn send_sync_bounds_match_tokio() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    fn send_val<T: Send>(_: &T) {}
    send::<Mutex<Cell<u8>>>();
    sync::<Mutex<Cell<u8>>>();
    send::<MutexGuard<'static, Cell<u8>>>();
    send::<OwnedMutexGuard<Cell<u8>>>();
    sync::<MutexGuard<'static, u8>>();
    sync::<OwnedMutexGuard<u8>>();
    send::<MappedMutexGuard<'static, Cell<u8>>>();
    sync::<MappedMutexGuard<'static, u8>>();
    send::<OwnedMappedMutexGuard<Cell<u8>, Cell<u8>>>();
    sync::<OwnedMappedMutexGuard<u8, u8>>();
    let m = Mutex::new(Cell::new(0));
    send_val(&m.lock());
    send_val(&Arc::new(Mutex::new(Cell::new(0))).lock_owned());
}
