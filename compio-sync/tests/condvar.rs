//! The Condvar contract suite, written once generic over the backend `B`
//! (used for both the condvar and its mutex) and the executor `E`, and
//! instantiated for every backend on compio and on `futures::executor` by the
//! `contract_suite!` lines at the end. Adding a backend is one line there.
#![cfg(not(loom))]

mod common;

use std::{
    collections::VecDeque,
    pin::pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::SeqCst},
    },
    task::{Context, Poll, Wake, Waker},
    thread,
};

use common::*;
use compio_sync::{Condvar, Mutex, backend::ThreadSafe};
use futures::future::join_all;

fn mutex<B: ThreadSafe, T>(value: T, strict: bool) -> Mutex<T, B> {
    let m = Mutex::<T, B>::with_backend(value);
    if strict { m.strict_fifo() } else { m }
}

/// `wait` unlocks the mutex while waiting; `notify_one` wakes the waiter,
/// which returns with the mutex locked again and sees the change.
pub fn wait_unlocks_then_notify_one_wakes<B: ThreadSafe>() {
    let m = Mutex::<_, B>::with_backend(0);
    let cv = Condvar::<B>::with_backend();
    let (woken, waker) = counting_waker();
    let mut wait = pin!(cv.wait(m.try_lock().unwrap()));
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    *m.try_lock().expect("unlocked while waiting") = 7;
    assert_eq!(woken.wakes.load(SeqCst), 0);
    cv.notify_one();
    assert_eq!(woken.wakes.load(SeqCst), 1);
    let Poll::Ready(guard) = poll_once(wait.as_mut(), &waker) else {
        panic!("woken wait re-locks");
    };
    assert_eq!(*guard, 7);
    assert!(m.try_lock().is_err(), "locked again");
}

/// A notification that finds no waiter is not stored.
pub fn notify_without_waiter_is_not_stored<B: ThreadSafe>() {
    let m = Mutex::<_, B>::with_backend(());
    let cv = Condvar::<B>::with_backend();
    cv.notify_one();
    cv.notify_all();
    let (_w, waker) = counting_waker();
    let mut wait = pin!(cv.wait(m.try_lock().unwrap()));
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
    assert!(poll_once(wait.as_mut(), &waker).is_pending());
}

/// `notify_one` wakes the longest waiter only; `notify_all` wakes every
/// waiter present at the call and no later one.
pub fn notify_one_wakes_oldest_and_notify_all_only_current<B: ThreadSafe>() {
    let m = Mutex::<_, B>::with_backend(());
    let cv = Condvar::<B>::with_backend();
    let counters: Vec<_> = (0..4).map(|_| counting_waker()).collect();
    let mut waits: Vec<_> = (0..3).map(|_| None).collect();
    for (slot, (_, waker)) in waits.iter_mut().zip(&counters) {
        let mut w = Box::pin(cv.wait(m.try_lock().unwrap()));
        assert!(poll_once(w.as_mut(), waker).is_pending());
        *slot = Some(w);
    }
    let woken = || -> Vec<usize> { counters.iter().map(|(c, _)| c.wakes.load(SeqCst)).collect() };
    cv.notify_one();
    assert_eq!(woken(), [1, 0, 0, 0]);
    cv.notify_all();
    assert_eq!(woken(), [1, 1, 1, 0]);
    let mut late = pin!(cv.wait(m.try_lock().unwrap()));
    assert!(poll_once(late.as_mut(), &counters[3].1).is_pending());
    assert_eq!(woken(), [1, 1, 1, 0], "the later waiter is not woken");
    for (slot, (_, waker)) in waits.iter_mut().zip(&counters) {
        let Poll::Ready(guard) = poll_once(slot.as_mut().unwrap().as_mut(), waker) else {
            panic!("woken waiter re-locks");
        };
        drop(guard);
    }
}

/// A wait that was notified and is dropped before it completes passes the
/// notification to another waiter.
pub fn notified_wait_dropped_passes_notification_on<B: ThreadSafe>() {
    let m = Mutex::<_, B>::with_backend(());
    let cv = Condvar::<B>::with_backend();
    let (w1, waker1) = counting_waker();
    let (w2, waker2) = counting_waker();
    let mut a = Box::pin(cv.wait(m.try_lock().unwrap()));
    assert!(poll_once(a.as_mut(), &waker1).is_pending());
    let mut b = pin!(cv.wait(m.try_lock().unwrap()));
    assert!(poll_once(b.as_mut(), &waker2).is_pending());
    cv.notify_one();
    assert_eq!((w1.wakes.load(SeqCst), w2.wakes.load(SeqCst)), (1, 0));
    drop(a);
    assert_eq!(w2.wakes.load(SeqCst), 1, "passed on");
    assert!(poll_once(b.as_mut(), &waker2).is_ready());
}

/// A wait dropped after its wake-up, while it waits to re-lock the mutex,
/// passes the notification on too.
pub fn wait_dropped_while_relocking_passes_notification_on<B: ThreadSafe>() {
    let m = Mutex::<_, B>::with_backend(());
    let cv = Condvar::<B>::with_backend();
    let (w1, waker1) = counting_waker();
    let (w2, waker2) = counting_waker();
    let mut a = Box::pin(cv.wait(m.try_lock().unwrap()));
    assert!(poll_once(a.as_mut(), &waker1).is_pending());
    let mut b = pin!(cv.wait(m.try_lock().unwrap()));
    assert!(poll_once(b.as_mut(), &waker2).is_pending());
    cv.notify_one();
    assert_eq!(w1.wakes.load(SeqCst), 1);
    let held = m.try_lock().unwrap();
    assert!(
        poll_once(a.as_mut(), &waker1).is_pending(),
        "woken, now waiting for the mutex"
    );
    drop(a);
    assert_eq!(w2.wakes.load(SeqCst), 1, "passed on");
    drop(held);
    let Poll::Ready(guard) = poll_once(b.as_mut(), &waker2) else {
        panic!("the second waiter re-locks");
    };
    drop(guard);
    assert!(
        m.try_lock().is_ok(),
        "the cancelled wait left no lock behind"
    );
}

/// A wait dropped before its first poll drops (unlocks) the guard and
/// leaves nothing queued.
pub fn unpolled_wait_dropped_unlocks<B: ThreadSafe>() {
    let m = Mutex::<_, B>::with_backend(());
    let cv = Condvar::<B>::with_backend();
    drop(cv.wait(m.try_lock().unwrap()));
    assert!(m.try_lock().is_ok());
    let (_w, waker) = counting_waker();
    let mut w = pin!(cv.wait(m.try_lock().unwrap()));
    assert!(poll_once(w.as_mut(), &waker).is_pending());
    cv.notify_one();
    assert!(
        poll_once(w.as_mut(), &waker).is_ready(),
        "the only waiter got it"
    );
}

/// `wait_while` returns at once, without unlocking, when the condition is
/// already false.
pub fn wait_while_checks_condition_first<B: ThreadSafe>() {
    let m = Mutex::<_, B>::with_backend(3);
    let cv = Condvar::<B>::with_backend();
    let (_w, waker) = counting_waker();
    let mut w = pin!(cv.wait_while(m.try_lock().unwrap(), |n| *n < 3));
    let Poll::Ready(guard) = poll_once(w.as_mut(), &waker) else {
        panic!("no wait needed");
    };
    assert_eq!(*guard, 3);
}

/// A waker whose `Drop` and `wake` call back into the condvar does not
/// deadlock.
pub fn reentrant_waker_does_not_deadlock<B: ThreadSafe>() {
    struct Reenter<B: ThreadSafe>(Arc<Condvar<B>>);
    impl<B: ThreadSafe> Wake for Reenter<B> {
        fn wake(self: Arc<Self>) {
            self.0.notify_all();
        }
    }
    impl<B: ThreadSafe> Drop for Reenter<B> {
        fn drop(&mut self) {
            self.0.notify_one();
            self.0.notify_all();
        }
    }
    with_watchdog(HANG, || {
        let m = Mutex::<_, B>::with_backend(());
        let cv = Arc::new(Condvar::<B>::with_backend());
        let mk = || Waker::from(Arc::new(Reenter(cv.clone())));
        {
            let mut w = pin!(cv.wait(m.try_lock().unwrap()));
            assert!(
                w.as_mut()
                    .poll(&mut Context::from_waker(&mk()))
                    .is_pending()
            );
            // Replacing the stored waker drops the old one, whose `Drop`
            // notifies: depending on the backend, that drop happens before
            // or after this poll looks at the notification, so the wait may
            // complete right here.
            if w.as_mut()
                .poll(&mut Context::from_waker(&mk()))
                .is_pending()
            {
                cv.notify_one();
                assert!(w.as_mut().poll(&mut Context::from_waker(&mk())).is_ready());
            }
        }
        let mut w = pin!(cv.wait(m.try_lock().unwrap()));
        assert!(
            w.as_mut()
                .poll(&mut Context::from_waker(&mk()))
                .is_pending()
        );
        // Dropping the wait drops the queued waker.
    });
}

/// A notifier on another thread that takes the mutex right after the waiter
/// releases it (racing the waiter's first poll) is never lost.
pub fn notify_racing_wait_is_not_lost<B: ThreadSafe>() {
    with_watchdog(HANG, || {
        for round in 0..2000 {
            let pair = Arc::new((
                Mutex::<_, B>::with_backend(false),
                Condvar::<B>::with_backend(),
            ));
            let guard = pair.0.try_lock().unwrap();
            let notifier = {
                let pair = pair.clone();
                thread::spawn(move || {
                    if round % 2 == 0 {
                        thread::yield_now();
                    }
                    *pair.0.blocking_lock() = true;
                    pair.1.notify_one();
                })
            };
            let guard = futures::executor::block_on(pair.1.wait_while(guard, |set| !*set));
            assert!(*guard);
            drop(guard);
            notifier.join().unwrap();
        }
    });
}

/// A bounded queue between a producer thread and a consumer thread (each its
/// own executor, two tasks each), with one condvar per condition: every item
/// arrives exactly once, in order per producer.
pub fn producer_consumer_two_threads_exact<B: ThreadSafe, E: Exec>(strict_mutex: bool) {
    const PER_PRODUCER: usize = 5000;
    const CAPACITY: usize = 8;
    struct Shared<B: ThreadSafe> {
        queue: Mutex<VecDeque<(usize, usize)>, B>,
        not_empty: Condvar<B>,
        not_full: Condvar<B>,
    }
    with_watchdog(HANG, move || {
        let shared = Arc::new(Shared {
            queue: mutex::<B, _>(VecDeque::new(), strict_mutex),
            not_empty: Condvar::<B>::with_backend(),
            not_full: Condvar::<B>::with_backend(),
        });
        let producer = {
            let shared = shared.clone();
            thread::spawn(move || {
                E::block_on(join_all((0..2).map(|p| {
                    let shared = shared.clone();
                    async move {
                        for i in 0..PER_PRODUCER {
                            let guard = shared.queue.lock().await;
                            let mut guard = shared
                                .not_full
                                .wait_while(guard, |q| q.len() == CAPACITY)
                                .await;
                            guard.push_back((p, i));
                            drop(guard);
                            shared.not_empty.notify_one();
                        }
                    }
                })));
            })
        };
        let consumer = {
            let shared = shared.clone();
            thread::spawn(move || {
                let received: Vec<Vec<(usize, usize)>> = E::block_on(join_all((0..2).map(|_| {
                    let shared = shared.clone();
                    async move {
                        let mut got = Vec::new();
                        for _ in 0..PER_PRODUCER {
                            let guard = shared.queue.lock().await;
                            let mut guard =
                                shared.not_empty.wait_while(guard, |q| q.is_empty()).await;
                            got.push(guard.pop_front().unwrap());
                            drop(guard);
                            shared.not_full.notify_one();
                        }
                        got
                    }
                })));
                received
            })
        };
        producer.join().unwrap();
        let received = consumer.join().unwrap();
        let mut next = [0usize; 2];
        let mut all: Vec<_> = received.into_iter().flatten().collect();
        assert_eq!(all.len(), 2 * PER_PRODUCER, "exact item count");
        all.sort_unstable();
        for (p, i) in all {
            assert_eq!(i, next[p], "every item exactly once");
            next[p] += 1;
        }
        assert!(shared.queue.try_lock().unwrap().is_empty());
    });
}

/// 1000 tasks on two runtimes (500 each) wait on one condvar; one
/// `notify_all` from a third thread wakes them all.
pub fn notify_all_wakes_1000_waiters_on_two_runtimes<B: ThreadSafe, E: Exec>() {
    const PER_THREAD: usize = 500;
    with_watchdog(HANG, || {
        // (go, how many are waiting)
        let pair = Arc::new((
            Mutex::<_, B>::with_backend((false, 0usize)),
            Condvar::<B>::with_backend(),
        ));
        let woken = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (pair, woken) = (pair.clone(), woken.clone());
                thread::spawn(move || {
                    E::block_on(join_all((0..PER_THREAD).map(|_| async {
                        let mut guard = pair.0.lock().await;
                        guard.1 += 1;
                        let guard = pair.1.wait_while(guard, |(go, _)| !*go).await;
                        drop(guard);
                        woken.fetch_add(1, SeqCst);
                    })));
                })
            })
            .collect();
        loop {
            let mut guard = pair.0.blocking_lock();
            // Each waiter counted itself and queued before unlocking, so all
            // of them are queued once the count is complete.
            if guard.1 == 2 * PER_THREAD {
                guard.0 = true;
                drop(guard);
                break;
            }
            drop(guard);
            thread::yield_now();
        }
        pair.1.notify_all();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(woken.load(SeqCst), 2 * PER_THREAD);
    });
}

/// `wait_owned` / `wait_while_owned` work across threads with owned guards.
pub fn owned_waits_across_threads<B: ThreadSafe, E: Exec>() {
    with_watchdog(HANG, || {
        let m = Arc::new(Mutex::<_, B>::with_backend(0usize));
        let cv = Arc::new(Condvar::<B>::with_backend());
        let bumper = {
            let (m, cv) = (m.clone(), cv.clone());
            thread::spawn(move || {
                for _ in 0..100 {
                    *m.blocking_lock() += 1;
                    cv.notify_all();
                }
            })
        };
        E::block_on(async {
            let mut guard = m.clone().lock_owned().await;
            while *guard < 50 {
                guard = cv.wait_owned(guard).await;
            }
            drop(guard);
            let guard = cv
                .wait_while_owned(m.clone().lock_owned().await, |n| *n < 100)
                .await;
            assert_eq!(*guard, 100);
        });
        bumper.join().unwrap();
    });
}

macro_rules! contract_suite {
    ($name:ident, $backend:ty, $exec:ty, $($order:tt)*) => {
        mod $name {
            type B = $backend;
            type E = $exec;

            #[test]
            fn wait_unlocks_then_notify_one_wakes() {
                super::wait_unlocks_then_notify_one_wakes::<B>();
            }
            #[test]
            fn notify_without_waiter_is_not_stored() {
                super::notify_without_waiter_is_not_stored::<B>();
            }
            #[test]
            fn notify_one_wakes_oldest_and_notify_all_only_current() {
                super::notify_one_wakes_oldest_and_notify_all_only_current::<B>();
            }
            #[test]
            fn notified_wait_dropped_passes_notification_on() {
                super::notified_wait_dropped_passes_notification_on::<B>();
            }
            #[test]
            fn wait_dropped_while_relocking_passes_notification_on() {
                super::wait_dropped_while_relocking_passes_notification_on::<B>();
            }
            #[test]
            fn unpolled_wait_dropped_unlocks() {
                super::unpolled_wait_dropped_unlocks::<B>();
            }
            #[test]
            fn wait_while_checks_condition_first() {
                super::wait_while_checks_condition_first::<B>();
            }
            #[test]
            fn reentrant_waker_does_not_deadlock() {
                super::reentrant_waker_does_not_deadlock::<B>();
            }
            #[test]
            fn notify_racing_wait_is_not_lost() {
                super::notify_racing_wait_is_not_lost::<B>();
            }
            #[test]
            fn producer_consumer_two_threads_exact() {
                super::producer_consumer_two_threads_exact::<B, E>(false);
            }
            #[test]
            fn producer_consumer_two_threads_exact_strict_mutex() {
                super::producer_consumer_two_threads_exact::<B, E>(true);
            }
            #[test]
            fn notify_all_wakes_1000_waiters_on_two_runtimes() {
                super::notify_all_wakes_1000_waiters_on_two_runtimes::<B, E>();
            }
            #[test]
            fn owned_waits_across_threads() {
                super::owned_waits_across_threads::<B, E>();
            }
        }
    };
}

for_each_backend!(contract_suite);

use compio_sync::backend::{Intrusive, MutexVecDeque};

#[test]
fn condvar_and_mutex_on_different_backends() {
    let m = Mutex::<_, MutexVecDeque>::with_backend(false);
    let cv = Condvar::<Intrusive>::with_backend();
    let (_w, waker) = counting_waker();
    let mut w = pin!(cv.wait_while(m.try_lock().unwrap(), |set| !*set));
    assert!(poll_once(w.as_mut(), &waker).is_pending());
    *m.try_lock().unwrap() = true;
    cv.notify_one();
    assert!(poll_once(w.as_mut(), &waker).is_ready());
}

/// A `static` condvar built with `const_new`.
#[test]
fn const_new_in_static() {
    static PAIR: (Mutex<u8>, Condvar) = (Mutex::const_new(0), Condvar::const_new());
    *PAIR.0.try_lock().unwrap() = 1;
    PAIR.1.notify_all();
    assert_eq!(format!("{:?}", PAIR.1), "Condvar { .. }");
}

/// The wait futures are `Send` when the data is, so they can run in spawned
/// tasks on multi-threaded executors.
#[test]
fn wait_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let m = Arc::new(Mutex::new(0));
    let cv = Condvar::new();
    let w = cv.wait(m.try_lock().unwrap());
    send(&w);
    drop(w);
    let w = cv.wait_owned(m.clone().try_lock_owned().unwrap());
    send(&w);
}
