//! `poll_notified`: a look at a registered waiter that gives it no waker
//! (see `mod.rs`). Generic over any [`WaitQueue`], so the single-thread
//! [`Local`](compio_sync::backend::Local) queue runs them too (at the bottom
//! of `backend_queue.rs`).

use super::super::*;

fn register_any<B: WaitQueue>(queue: &B, waiter: Pin<&B::Waiter>, waker: &Waker, tag: usize) {
    // SAFETY: each case uses a waiter with one queue and makes it idle
    // (Ready or cancelled) before it goes out of scope.
    unsafe { queue.register(waiter, waker, tag) }
}

fn poll_any<B: WaitQueue>(queue: &B, waiter: Pin<&B::Waiter>, waker: &Waker) -> Poll<Woken> {
    // SAFETY: as in `register_any`; the cases only poll registered waiters.
    unsafe { queue.poll_wait(waiter, &mut Context::from_waker(waker)) }
}

fn peek<B: WaitQueue>(queue: &B, waiter: Pin<&B::Waiter>) -> Poll<Woken> {
    // SAFETY: as in `poll_any`.
    unsafe { queue.poll_notified(waiter) }
}

fn cancel_any<B: WaitQueue>(queue: &B, waiter: Pin<&B::Waiter>) -> Cancelled {
    // SAFETY: as in `register_any`.
    unsafe { queue.cancel(waiter) }
}

/// While waiting, `poll_notified` is `Pending` and leaves the waker of the
/// last `poll_wait` in place: the notify wakes that one, not the one given
/// to `register`, and once notified `poll_notified` hands over the wake-up
/// and tag and makes the waiter idle.
pub fn poll_notified_keeps_the_last_polled_waker_and_reports_the_wakeup<B: WaitQueue>() {
    let queue = B::new();
    let waiter = pin!(B::new_waiter());
    let (registered, first) = counting_waker();
    let (polled, second) = counting_waker();
    register_any(&queue, waiter.as_ref(), &first, TAG);
    assert_eq!(poll_any(&queue, waiter.as_ref(), &second), Poll::Pending);
    for _ in 0..3 {
        assert_eq!(peek(&queue, waiter.as_ref()), Poll::Pending);
    }
    assert!(queue.notify_one(WAKEUP));
    assert_eq!((registered.count(), polled.count()), (0, 1));
    assert_eq!(peek(&queue, waiter.as_ref()), ready(WAKEUP, TAG));
    // Idle now: nothing left to select, cancel or observe twice.
    assert!(!queue.notify_one(WAKEUP));
    assert_eq!(cancel_any(&queue, waiter.as_ref()), Cancelled::Idle);
    assert_eq!((registered.count(), polled.count()), (0, 1));
}

/// Every way of being selected reaches `poll_notified` as it reaches
/// `poll_wait`: `notify_one`, `notify_last`, `notify_all`, and a
/// `notify_while` that lowered the tag; for a lone waiter (a backend's
/// slot, if it has one) and for one queued behind another.
pub fn poll_notified_reports_every_kind_of_selection<B: WaitQueue>() {
    let queue = B::new();
    let head = pin!(B::new_waiter());
    let waiter = pin!(B::new_waiter());
    let (counter, waker) = counting_waker();
    type Notify<B> = fn(&B, usize);
    let notifies: [(&str, Notify<B>, usize); 4] = [
        ("notify_one", |q, w| assert!(q.notify_one(w)), 0),
        ("notify_last", |q, w| assert!(q.notify_last(w)), 0),
        ("notify_all", |q, w| assert!(q.notify_all(w) >= 1), 0),
        (
            "notify_while",
            |q, w| {
                let notified = q.notify_while(|tag| {
                    *tag -= 1;
                    Select::Notify(w)
                });
                assert!(notified >= 1);
            },
            1,
        ),
    ];
    let mut wakes = 0;
    for (round, (name, notify, lowered)) in notifies.into_iter().enumerate() {
        for behind in [false, true] {
            let (wakeup, tag) = (100 + round, 200 + round);
            if behind {
                // Another waiter queued ahead of it (in a backend's slot,
                // if it has one, so that `waiter` is in its list).
                register_any(&queue, head.as_ref(), &waker, tag);
            }
            register_any(&queue, waiter.as_ref(), &waker, tag);
            assert_eq!(peek(&queue, waiter.as_ref()), Poll::Pending, "{name}");
            notify(&queue, wakeup);
            if behind && name != "notify_all" && name != "notify_while" {
                // One of the two was selected (which one is the order's
                // business, checked elsewhere): select the other too.
                notify(&queue, wakeup);
            }
            assert_eq!(
                peek(&queue, waiter.as_ref()),
                ready(wakeup, tag - lowered),
                "{name}, behind another waiter: {behind}"
            );
            wakes += 1;
            if behind {
                assert_eq!(
                    peek(&queue, head.as_ref()),
                    ready(wakeup, tag - lowered),
                    "{name}"
                );
                wakes += 1;
            }
            assert_eq!(counter.count(), wakes, "{name}: one wake per selection");
        }
    }
}

/// A waiter that `poll_notified` made idle registers again as a new one.
pub fn waiter_made_idle_by_poll_notified_registers_again<B: WaitQueue>() {
    let queue = B::new();
    let waiter = pin!(B::new_waiter());
    let (counter, waker) = counting_waker();
    for round in 0..3 {
        register_any(&queue, waiter.as_ref(), &waker, TAG + round);
        assert!(queue.notify_one(WAKEUP + round));
        assert_eq!(
            peek(&queue, waiter.as_ref()),
            ready(WAKEUP + round, TAG + round)
        );
    }
    register_any(&queue, waiter.as_ref(), &waker, TAG);
    assert_eq!(
        cancel_any(&queue, waiter.as_ref()),
        Cancelled::Removed { tag: TAG }
    );
    assert_eq!(counter.count(), 3);
}

/// A notify on another thread reaches an owner that only looks with
/// `poll_notified`: it sees `Ready` exactly once, with the notifier's value,
/// and the waker it polled with is woken at most once (a backend may skip
/// the wake of an owner that has already taken the notification, as after
/// `poll_wait`).
pub fn poll_notified_sees_a_notify_from_another_thread<B: ThreadSafe>() {
    for round in 0..200 {
        let queue = Arc::new(B::new());
        let waiter = pin!(B::new_waiter());
        let (counter, waker) = counting_waker();
        register_any(&*queue, waiter.as_ref(), &waker, TAG);
        assert_eq!(poll_any(&*queue, waiter.as_ref(), &waker), Poll::Pending);
        let notifier = thread::spawn({
            let queue = queue.clone();
            move || assert!(queue.notify_one(WAKEUP + round))
        });
        let woken = loop {
            match peek(&*queue, waiter.as_ref()) {
                Poll::Ready(woken) => break woken,
                Poll::Pending => thread::yield_now(),
            }
        };
        notifier.join().unwrap();
        assert_eq!(
            woken,
            Woken {
                wakeup: WAKEUP + round,
                tag: TAG
            }
        );
        assert_eq!(cancel_any(&*queue, waiter.as_ref()), Cancelled::Idle);
        assert!(counter.count() <= 1, "woken {} times", counter.count());
    }
}
