//! The Notify contract suite: tokio's `sync_notify` behaviours plus
//! cross-thread stress, written once generic over the backend `B` and the
//! executor `E`, and instantiated for every backend on compio and on
//! `futures::executor` by the `contract_suite!` lines at the end. Adding a
//! backend is one line there.
#![cfg(not(loom))]

mod common;

use std::{
    pin::{Pin, pin},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
    },
    task::{Context, Poll, Wake, Waker},
    thread,
};

use common::*;
use compio_sync::{Notified, Notify, backend::ThreadSafe};
use futures::future::join_all;

fn ready<F: std::future::Future<Output = ()> + ?Sized>(f: Pin<&mut F>) -> bool {
    let (_w, waker) = counting_waker();
    poll_once(f, &waker).is_ready()
}

/// tokio `notify_notified_one`: a `notify_one` with nobody waiting is stored
/// and completes the next `Notified`.
pub fn stored_permit_completes_next_notified<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    n.notify_one();
    assert!(ready(pin!(n.notified())));
}

/// tokio `notified_one_notify`: a waiting `Notified` is woken by
/// `notify_one` and then completes.
pub fn notify_one_wakes_a_waiting_notified<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let (woken, waker) = counting_waker();
    let mut f = pin!(n.notified());
    assert!(poll_once(f.as_mut(), &waker).is_pending());
    n.notify_one();
    assert_eq!(woken.wakes.load(SeqCst), 1);
    assert!(poll_once(f.as_mut(), &waker).is_ready());
}

/// tokio `notified_multi_notify`: `notify_one` wakes the longest waiter only.
pub fn notify_one_wakes_only_the_oldest_waiter<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let (w1, waker1) = counting_waker();
    let (w2, waker2) = counting_waker();
    let mut f1 = pin!(n.notified());
    let mut f2 = pin!(n.notified());
    assert!(poll_once(f1.as_mut(), &waker1).is_pending());
    assert!(poll_once(f2.as_mut(), &waker2).is_pending());
    n.notify_one();
    assert_eq!((w1.wakes.load(SeqCst), w2.wakes.load(SeqCst)), (1, 0));
    assert!(poll_once(f1.as_mut(), &waker1).is_ready());
    assert!(poll_once(f2.as_mut(), &waker2).is_pending());
}

/// tokio `notify_notified_multi`: the permit completes one `Notified`; the
/// next waits for the next `notify_one`.
pub fn permit_completes_only_one_notified<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    n.notify_one();
    let (w2, waker2) = counting_waker();
    assert!(ready(pin!(n.notified())));
    let mut f2 = pin!(n.notified());
    assert!(poll_once(f2.as_mut(), &waker2).is_pending());
    n.notify_one();
    assert_eq!(w2.wakes.load(SeqCst), 1);
    assert!(poll_once(f2.as_mut(), &waker2).is_ready());
}

/// tokio `notified_drop_notified_notify`: a waiter dropped before any
/// notification leaves nothing behind; the next waiter gets the next one.
pub fn dropped_waiter_leaves_nothing_behind<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let (w2, waker2) = counting_waker();
    {
        let mut f1 = pin!(n.notified());
        assert!(!ready(f1.as_mut()));
    }
    let mut f2 = pin!(n.notified());
    assert!(poll_once(f2.as_mut(), &waker2).is_pending());
    n.notify_one();
    assert_eq!(w2.wakes.load(SeqCst), 1);
    assert!(poll_once(f2.as_mut(), &waker2).is_ready());
}

/// tokio `notified_multi_notify_drop_one`: a waiter picked by `notify_one`
/// and dropped before it completed passes the notification to the next.
pub fn notified_multi_notify_drop_one<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let (w1, waker1) = counting_waker();
    let (w2, waker2) = counting_waker();
    let mut f1 = Box::pin(n.notified());
    let mut f2 = pin!(n.notified());
    assert!(poll_once(f1.as_mut(), &waker1).is_pending());
    assert!(poll_once(f2.as_mut(), &waker2).is_pending());
    n.notify_one();
    assert_eq!((w1.wakes.load(SeqCst), w2.wakes.load(SeqCst)), (1, 0));
    drop(f1);
    assert_eq!(w2.wakes.load(SeqCst), 1, "passed on");
    assert!(poll_once(f2.as_mut(), &waker2).is_ready());
}

/// A picked-and-dropped waiter with nobody behind it turns the notification
/// into the permit.
pub fn notified_dropped_with_no_one_behind_stores_permit<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    {
        let mut f = pin!(n.notified());
        assert!(!ready(f.as_mut()));
        n.notify_one();
    }
    assert!(
        ready(pin!(n.notified())),
        "the notification became the permit"
    );
    assert!(!ready(pin!(n.notified())), "only one");
}

/// However many `notify_one` calls find nobody waiting, at most one permit
/// is stored.
pub fn at_most_one_permit_is_stored<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    for _ in 0..5 {
        n.notify_one();
        n.notify_last();
    }
    assert!(ready(pin!(n.notified())));
    assert!(!ready(pin!(n.notified())));
}

/// `notify_last` wakes the newest waiter first (LIFO); `notify_one` the
/// oldest.
pub fn notify_last_wakes_newest_first<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let counters: Vec<_> = (0..4).map(|_| counting_waker()).collect();
    let mut futs: Vec<_> = (0..4).map(|_| Box::pin(n.notified())).collect();
    for (f, (_, waker)) in futs.iter_mut().zip(&counters) {
        assert!(poll_once(f.as_mut(), waker).is_pending());
    }
    let woken = || -> Vec<usize> { counters.iter().map(|(c, _)| c.wakes.load(SeqCst)).collect() };
    n.notify_last();
    assert_eq!(woken(), [0, 0, 0, 1]);
    n.notify_last();
    assert_eq!(woken(), [0, 0, 1, 1]);
    n.notify_one();
    assert_eq!(woken(), [1, 0, 1, 1]);
    for i in [3, 2, 0] {
        assert!(poll_once(futs[i].as_mut(), &counters[i].1).is_ready());
    }
    assert!(poll_once(futs[1].as_mut(), &counters[1].1).is_pending());
}

/// A `Notified` picked by `notify_last` and dropped before it completes
/// passes the notification on in the same LIFO order, as tokio does: to the
/// newest remaining waiter, not the oldest.
pub fn dropped_notify_last_passes_on_lifo<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let counters: Vec<_> = (0..3).map(|_| counting_waker()).collect();
    let mut futs: Vec<_> = (0..3).map(|_| Box::pin(n.notified())).collect();
    for (f, (_, waker)) in futs.iter_mut().zip(&counters) {
        assert!(poll_once(f.as_mut(), waker).is_pending());
    }
    let woken = || -> Vec<usize> { counters.iter().map(|(c, _)| c.wakes.load(SeqCst)).collect() };
    n.notify_last();
    assert_eq!(woken(), [0, 0, 1]);
    drop(futs.pop());
    assert_eq!(
        woken(),
        [0, 1, 1],
        "passed on to the newest remaining waiter"
    );
    assert!(poll_once(futs[1].as_mut(), &counters[1].1).is_ready());
    assert!(poll_once(futs[0].as_mut(), &counters[0].1).is_pending());
}

/// A `Notified` created after a `notify_waiters` call is not completed by
/// it, even if it registers while that broadcast is still waking waiters.
pub fn notified_created_after_broadcast_waits_for_the_next<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let mut before = pin!(n.notified());
    assert!(!ready(before.as_mut()));
    n.notify_waiters();
    let mut after = pin!(n.notified());
    assert!(!ready(after.as_mut()), "created after the broadcast");
    assert!(ready(before.as_mut()));
    n.notify_waiters();
    assert!(ready(after.as_mut()));
}

/// tokio `notify_in_drop_after_wake`: a waker whose `Drop` calls back into
/// the `Notify` (every notify method) does not deadlock, whichever call drops
/// it.
pub fn notify_in_drop_after_wake<B: ThreadSafe>() {
    struct NotifyOnDrop<B: ThreadSafe>(Arc<Notify<B>>);
    impl<B: ThreadSafe> Wake for NotifyOnDrop<B> {
        fn wake(self: Arc<Self>) {}
    }
    impl<B: ThreadSafe> Drop for NotifyOnDrop<B> {
        fn drop(&mut self) {
            self.0.notify_waiters();
            self.0.notify_one();
            self.0.notify_last();
        }
    }
    with_watchdog(HANG, || {
        let n = Arc::new(Notify::<B>::with_backend());
        let mut f = Box::pin({
            let n = n.clone();
            async move { n.notified().await }
        });
        {
            let waker = Waker::from(Arc::new(NotifyOnDrop(n.clone())));
            assert!(
                f.as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
            );
        }
        // Wakes (and drops) the queued clones of the re-entrant waker.
        n.notify_waiters();
        n.notify_one();
        drop(f);

        // The same, with the waker dropped by a replacing poll and by drop.
        let mut g = Box::pin(n.notified());
        let waker = Waker::from(Arc::new(NotifyOnDrop(n.clone())));
        let _ = g.as_mut().poll(&mut Context::from_waker(&waker));
        drop(waker);
        let (_w, other) = counting_waker();
        let _ = poll_once(g.as_mut(), &other);
        drop(g);
    });
}

/// tokio `test_enable_consumes_permit`: the first `enable` takes the stored
/// permit; a second `Notified` finds none.
pub fn enable_consumes_permit<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    n.notify_one();
    let mut f1 = pin!(n.notified());
    assert!(f1.as_mut().enable());
    let mut f2 = pin!(n.notified());
    assert!(!f2.as_mut().enable());
    assert!(ready(f1.as_mut()), "enabled-and-ready stays ready");
    assert!(!ready(f2.as_mut()));
}

/// tokio `test_notify_one_after_enable`: an enabled `Notified` is queued for
/// `notify_one` before its first poll, and `enable` then reports the
/// notification without consuming anything else.
pub fn enabled_notified_receives_notify_one<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let mut f = pin!(n.notified());
    assert!(!f.as_mut().enable());
    n.notify_one();
    assert!(f.as_mut().enable(), "enable reports the notification");
    assert!(ready(f.as_mut()));
    assert!(!ready(pin!(n.notified())), "no permit was stored");
}

/// `enable` after a poll does not replace the task's waker: the task is
/// still woken.
pub fn enable_after_poll_keeps_the_tasks_waker<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let (woken, waker) = counting_waker();
    let mut f = pin!(n.notified());
    assert!(poll_once(f.as_mut(), &waker).is_pending());
    assert!(!f.as_mut().enable());
    n.notify_one();
    assert_eq!(woken.wakes.load(SeqCst), 1, "the polled waker was kept");
    assert!(f.as_mut().enable());
}

/// A re-poll with a new waker moves the wake-up to it (tokio
/// `test_waker_update`).
pub fn repoll_updates_waker<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let (old, old_waker) = counting_waker();
    let (new, new_waker) = counting_waker();
    let mut f = pin!(n.notified());
    assert!(poll_once(f.as_mut(), &old_waker).is_pending());
    assert!(poll_once(f.as_mut(), &new_waker).is_pending());
    n.notify_one();
    assert_eq!((old.wakes.load(SeqCst), new.wakes.load(SeqCst)), (0, 1));
}

/// `notify_waiters` completes every `Notified` created before it (polled or
/// not), none created after, and stores no permit.
pub fn notify_waiters_wakes_only_earlier_notified<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let (woken, waker) = counting_waker();
    let mut polled = pin!(n.notified());
    assert!(poll_once(polled.as_mut(), &waker).is_pending());
    let mut unpolled = pin!(n.notified());
    n.notify_waiters();
    assert_eq!(woken.wakes.load(SeqCst), 1);
    let mut later = pin!(n.notified());
    assert!(ready(polled.as_mut()));
    assert!(ready(unpolled.as_mut()));
    assert!(!ready(later.as_mut()), "created after the call");
    assert!(!ready(pin!(n.notified())), "no permit stored");
}

/// `notify_waiters` neither stores nor consumes the permit, and a
/// `Notified` it covers leaves a stored permit to others.
pub fn notify_waiters_leaves_the_permit_alone<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let mut covered = pin!(n.notified());
    n.notify_one();
    n.notify_waiters();
    assert!(ready(covered.as_mut()));
    assert!(ready(pin!(n.notified())), "the permit is still there");
    assert!(!ready(pin!(n.notified())));
}

/// A `Notified` completed by `notify_waiters` but never polled does not eat a
/// later `notify_one`, and passes nothing on when dropped.
pub fn broadcast_completed_unpolled_does_not_eat_notify_one<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let (_w1, waker1) = counting_waker();
    let (w2, waker2) = counting_waker();
    let mut covered = Box::pin(n.notified());
    assert!(poll_once(covered.as_mut(), &waker1).is_pending());
    n.notify_waiters();
    let mut next = pin!(n.notified());
    assert!(poll_once(next.as_mut(), &waker2).is_pending());
    n.notify_one();
    assert_eq!(w2.wakes.load(SeqCst), 1, "the later waiter got it");
    assert!(poll_once(next.as_mut(), &waker2).is_ready());
    drop(covered);
    assert!(!ready(pin!(n.notified())), "dropping it passed nothing on");
}

/// The same with two broadcasts in a row (the covered waiter's `notify_one`
/// node is in the queue `notify_one` uses again): the later `notify_one`
/// still reaches a live waiter, possibly by way of the covered one.
pub fn two_broadcasts_then_notify_one_is_not_lost<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let (_w1, waker1) = counting_waker();
    let (w2, waker2) = counting_waker();
    let mut covered = Box::pin(n.notified());
    assert!(poll_once(covered.as_mut(), &waker1).is_pending());
    n.notify_waiters();
    n.notify_waiters();
    let mut next = pin!(n.notified());
    assert!(poll_once(next.as_mut(), &waker2).is_pending());
    n.notify_one();
    // If the stale node took it, running the covered future passes it on.
    assert!(poll_once(covered.as_mut(), &waker1).is_ready());
    assert_eq!(w2.wakes.load(SeqCst), 1);
    assert!(poll_once(next.as_mut(), &waker2).is_ready());
    assert!(!ready(pin!(n.notified())), "exactly one notification");
}

/// `notify_one` then `notify_waiters` on the same waiter, then the waiter is
/// dropped: the `notify_one` is passed on, not lost.
pub fn notify_one_then_broadcast_then_drop_passes_one_on<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let mut f1 = Box::pin(n.notified());
    assert!(!ready(f1.as_mut()));
    n.notify_one();
    n.notify_waiters();
    drop(f1);
    assert!(
        ready(pin!(n.notified())),
        "the notify_one became the permit"
    );
}

/// `notify_one` then `notify_waiters` on the same waiter, then it is polled:
/// it consumes the `notify_one` (tokio order), storing nothing.
pub fn notify_one_then_broadcast_then_poll_consumes_one<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let mut f1 = pin!(n.notified());
    assert!(!ready(f1.as_mut()));
    n.notify_one();
    n.notify_waiters();
    assert!(ready(f1.as_mut()));
    assert!(!ready(pin!(n.notified())), "nothing stored");
}

/// `notify_waiters` then `notify_one` with the covered waiter not yet run:
/// the `notify_one` is not absorbed by the covered waiter.
pub fn broadcast_then_notify_one_goes_to_the_permit<B: ThreadSafe>() {
    let n = Notify::<B>::with_backend();
    let mut f1 = pin!(n.notified());
    assert!(!ready(f1.as_mut()));
    n.notify_waiters();
    n.notify_one();
    assert!(ready(f1.as_mut()));
    assert!(ready(pin!(n.notified())), "the notify_one was stored");
}

/// A `notify_one` racing a `Notified`'s first poll from another thread is
/// never lost (either the permit or the queue delivers it).
pub fn notify_one_racing_first_poll_is_not_lost<B: ThreadSafe>() {
    with_watchdog(HANG, || {
        for round in 0..2000 {
            let n = Arc::new(Notify::<B>::with_backend());
            let notifier = {
                let n = n.clone();
                thread::spawn(move || {
                    if round % 2 == 0 {
                        thread::yield_now();
                    }
                    if round % 3 == 0 {
                        n.notify_last();
                    } else {
                        n.notify_one();
                    }
                })
            };
            futures::executor::block_on(n.notified());
            notifier.join().unwrap();
            assert!(!ready(pin!(n.notified())), "delivered exactly once");
        }
    });
}

/// Two threads, each with its own executor, ping-pong through two `Notify`s
/// for an exact number of rounds.
pub fn cross_thread_ping_pong_exact<B: ThreadSafe, E: Exec>() {
    const ROUNDS: usize = 2000;
    with_watchdog(HANG, || {
        let ping = Arc::new(Notify::<B>::with_backend());
        let pong = Arc::new(Notify::<B>::with_backend());
        let count = Arc::new(AtomicUsize::new(0));
        let other = {
            let (ping, pong, count) = (ping.clone(), pong.clone(), count.clone());
            thread::spawn(move || {
                E::block_on(async {
                    for _ in 0..ROUNDS {
                        ping.notified().await;
                        count.fetch_add(1, SeqCst);
                        pong.notify_one();
                    }
                })
            })
        };
        E::block_on(async {
            for i in 0..ROUNDS {
                ping.notify_one();
                pong.notified().await;
                assert_eq!(count.load(SeqCst), i + 1);
            }
        });
        other.join().unwrap();
    });
}

/// Consumers on two threads drop their `Notified` at random points (some
/// after being picked); a producer sends each next `notify_one` only after
/// the previous one was consumed. A notification lost by a dropped waiter
/// would hang the producer.
pub fn cancelled_waiters_lose_no_notification<B: ThreadSafe, E: Exec>() {
    const ITEMS: usize = 1000;
    with_watchdog(HANG, || {
        let n = Arc::new(Notify::<B>::with_backend());
        let consumed = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let consumers: Vec<_> = (0..2)
            .map(|t| {
                let (n, consumed, stop) = (n.clone(), consumed.clone(), stop.clone());
                thread::spawn(move || {
                    E::block_on(join_all((0..8).map(|task| {
                        let (n, consumed, stop) = (n.clone(), consumed.clone(), stop.clone());
                        async move {
                            let mut i = task + t;
                            while !stop.load(SeqCst) {
                                i += 1;
                                let mut f = pin!(n.notified());
                                if i % 3 == 0 {
                                    // Poll, yield (a notification may pick
                                    // us meanwhile), poll, then drop.
                                    if futures::poll!(f.as_mut()).is_ready() {
                                        consumed.fetch_add(1, SeqCst);
                                        continue;
                                    }
                                    yield_now().await;
                                    if futures::poll!(f.as_mut()).is_ready() {
                                        consumed.fetch_add(1, SeqCst);
                                    }
                                } else {
                                    let mut stopped = false;
                                    futures::future::poll_fn(|cx| {
                                        if f.as_mut().poll(cx).is_ready() {
                                            return Poll::Ready(());
                                        }
                                        if stop.load(SeqCst) {
                                            stopped = true;
                                            return Poll::Ready(());
                                        }
                                        Poll::Pending
                                    })
                                    .await;
                                    if !stopped {
                                        consumed.fetch_add(1, SeqCst);
                                    }
                                }
                            }
                        }
                    })));
                })
            })
            .collect();
        for i in 0..ITEMS {
            n.notify_one();
            while consumed.load(SeqCst) < i + 1 {
                thread::yield_now();
            }
            assert_eq!(
                consumed.load(SeqCst),
                i + 1,
                "one notify_one, one completion"
            );
        }
        stop.store(true, SeqCst);
        // Wake every waiter so the consumers see `stop`.
        while consumers.iter().any(|c| !c.is_finished()) {
            n.notify_waiters();
            thread::yield_now();
        }
        for c in consumers {
            c.join().unwrap();
        }
    });
}

/// `notify_waiters` from another thread wakes 1000 tasks waiting on two
/// runtimes; none is missed.
pub fn notify_waiters_wakes_1000_tasks_on_two_runtimes<B: ThreadSafe, E: Exec>() {
    const PER_THREAD: usize = 500;
    with_watchdog(HANG, || {
        let n = Arc::new(Notify::<B>::with_backend());
        let queued = Arc::new(AtomicUsize::new(0));
        let woken = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (n, queued, woken) = (n.clone(), queued.clone(), woken.clone());
                thread::spawn(move || {
                    E::block_on(join_all((0..PER_THREAD).map(|_| async {
                        let mut f = pin!(n.notified());
                        f.as_mut().enable();
                        queued.fetch_add(1, SeqCst);
                        f.await;
                        woken.fetch_add(1, SeqCst);
                    })));
                })
            })
            .collect();
        while queued.load(SeqCst) < 2 * PER_THREAD {
            thread::yield_now();
        }
        n.notify_waiters();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(woken.load(SeqCst), 2 * PER_THREAD);
        assert!(!ready(pin!(n.notified())), "no permit stored");
    });
}

/// `Notified` is `!Unpin`, `Send` and `Sync`; `Notify` is `Send + Sync`.
pub fn auto_traits<B: ThreadSafe>() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Notify<B>>();
    send_sync::<Notified<'static, B>>();
}

/// `contract_suite!(name, Backend, Executor)` instantiates every test;
/// `no_lifo = "reason"` skips the `notify_last` order test for a backend whose
/// `notify_last` cannot pick the newest waiter (documented on the backend).
macro_rules! contract_suite {
    ($name:ident, $backend:ty, $exec:ty, lifo) => {
        contract_suite!(@suite $name, $backend, $exec, []);
    };
    ($name:ident, $backend:ty, $exec:ty, no_lifo = $reason:literal) => {
        contract_suite!(@suite $name, $backend, $exec, [#[ignore = $reason]]);
    };
    (@suite $name:ident, $backend:ty, $exec:ty, [$(#[$lifo:meta])*]) => {
        mod $name {
            type B = $backend;
            type E = $exec;

            #[test]
            fn stored_permit_completes_next_notified() {
                super::stored_permit_completes_next_notified::<B>();
            }
            #[test]
            fn notify_one_wakes_a_waiting_notified() {
                super::notify_one_wakes_a_waiting_notified::<B>();
            }
            #[test]
            fn notify_one_wakes_only_the_oldest_waiter() {
                super::notify_one_wakes_only_the_oldest_waiter::<B>();
            }
            #[test]
            fn permit_completes_only_one_notified() {
                super::permit_completes_only_one_notified::<B>();
            }
            #[test]
            fn dropped_waiter_leaves_nothing_behind() {
                super::dropped_waiter_leaves_nothing_behind::<B>();
            }
            #[test]
            fn notified_multi_notify_drop_one() {
                super::notified_multi_notify_drop_one::<B>();
            }
            #[test]
            fn notified_dropped_with_no_one_behind_stores_permit() {
                super::notified_dropped_with_no_one_behind_stores_permit::<B>();
            }
            #[test]
            fn at_most_one_permit_is_stored() {
                super::at_most_one_permit_is_stored::<B>();
            }
            $(#[$lifo])*
            #[test]
            fn dropped_notify_last_passes_on_lifo() {
                super::dropped_notify_last_passes_on_lifo::<B>();
            }
            #[test]
            fn notified_created_after_broadcast_waits_for_the_next() {
                super::notified_created_after_broadcast_waits_for_the_next::<B>();
            }
            $(#[$lifo])*
            #[test]
            fn notify_last_wakes_newest_first() {
                super::notify_last_wakes_newest_first::<B>();
            }
            #[test]
            fn notify_in_drop_after_wake() {
                super::notify_in_drop_after_wake::<B>();
            }
            #[test]
            fn enable_consumes_permit() {
                super::enable_consumes_permit::<B>();
            }
            #[test]
            fn enabled_notified_receives_notify_one() {
                super::enabled_notified_receives_notify_one::<B>();
            }
            #[test]
            fn enable_after_poll_keeps_the_tasks_waker() {
                super::enable_after_poll_keeps_the_tasks_waker::<B>();
            }
            #[test]
            fn repoll_updates_waker() {
                super::repoll_updates_waker::<B>();
            }
            #[test]
            fn notify_waiters_wakes_only_earlier_notified() {
                super::notify_waiters_wakes_only_earlier_notified::<B>();
            }
            #[test]
            fn notify_waiters_leaves_the_permit_alone() {
                super::notify_waiters_leaves_the_permit_alone::<B>();
            }
            #[test]
            fn broadcast_completed_unpolled_does_not_eat_notify_one() {
                super::broadcast_completed_unpolled_does_not_eat_notify_one::<B>();
            }
            #[test]
            fn two_broadcasts_then_notify_one_is_not_lost() {
                super::two_broadcasts_then_notify_one_is_not_lost::<B>();
            }
            #[test]
            fn notify_one_then_broadcast_then_drop_passes_one_on() {
                super::notify_one_then_broadcast_then_drop_passes_one_on::<B>();
            }
            #[test]
            fn notify_one_then_broadcast_then_poll_consumes_one() {
                super::notify_one_then_broadcast_then_poll_consumes_one::<B>();
            }
            #[test]
            fn broadcast_then_notify_one_goes_to_the_permit() {
                super::broadcast_then_notify_one_goes_to_the_permit::<B>();
            }
            #[test]
            fn notify_one_racing_first_poll_is_not_lost() {
                super::notify_one_racing_first_poll_is_not_lost::<B>();
            }
            #[test]
            fn cross_thread_ping_pong_exact() {
                super::cross_thread_ping_pong_exact::<B, E>();
            }
            #[test]
            fn cancelled_waiters_lose_no_notification() {
                super::cancelled_waiters_lose_no_notification::<B, E>();
            }
            #[test]
            fn notify_waiters_wakes_1000_tasks_on_two_runtimes() {
                super::notify_waiters_wakes_1000_tasks_on_two_runtimes::<B, E>();
            }
            #[test]
            fn auto_traits() {
                super::auto_traits::<B>();
            }
        }
    };
}

for_each_backend!(contract_suite);

#[test]
fn const_new_in_static() {
    static N: Notify = Notify::const_new();
    N.notify_one();
    assert!(ready(pin!(N.notified())));
    assert!(format!("{N:?}").contains("permit: false"));
}
