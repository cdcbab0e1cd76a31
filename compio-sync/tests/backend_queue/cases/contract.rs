//! The contract point by point, on one thread (see `mod.rs`).

use super::super::*;

pub fn notify_on_empty_queue_selects_nobody<B: ThreadSafe>() {
    let queue = B::new();
    assert!(!queue.notify_one(WAKEUP));
    assert!(!queue.notify_last(WAKEUP));
    assert_eq!(queue.notify_all(WAKEUP), 0);
    assert_eq!(
        queue.notify_while(|_| panic!("offered a waiter of an empty queue")),
        0
    );
}

pub fn notify_one_wakes_registered_waiter_then_poll_is_ready<B: ThreadSafe>() {
    let queue = B::new();
    let waiter = pin!(B::new_waiter());
    let (counter, waker) = counting_waker();
    register(&queue, waiter.as_ref(), &waker, TAG);
    assert_eq!(poll(&queue, waiter.as_ref(), &waker), Poll::Pending);
    assert_eq!(counter.count(), 0);
    assert!(queue.notify_one(WAKEUP));
    assert_eq!(counter.count(), 1);
    assert_eq!(poll(&queue, waiter.as_ref(), &waker), ready(WAKEUP, TAG));
    // Ready made it idle: nothing is left to select or cancel.
    assert!(!queue.notify_one(WAKEUP));
    assert_eq!(cancel(&queue, waiter.as_ref()), Cancelled::Idle);
}

/// Each of `notify_one`, `notify_last` and `notify_all` hands its value
/// to the waiter, and the waiter's registered tag comes back with it,
/// whether the owner observes it by `poll_wait` or by `cancel`.
pub fn wakeup_and_tag_reach_the_waiter_by_ready_and_by_cancel<B: ThreadSafe>() {
    let queue = B::new();
    let waiter = pin!(B::new_waiter());
    let (counter, waker) = counting_waker();
    type Notify<B> = fn(&B, usize);
    let notifies: [(&str, Notify<B>); 3] = [
        ("notify_one", |q, w| assert!(q.notify_one(w))),
        ("notify_last", |q, w| assert!(q.notify_last(w))),
        ("notify_all", |q, w| assert_eq!(q.notify_all(w), 1)),
    ];
    for (round, (name, notify)) in notifies.into_iter().enumerate() {
        let (wakeup, tag) = (100 + round, 200 + round);
        register(&queue, waiter.as_ref(), &waker, tag);
        notify(&queue, wakeup);
        assert_eq!(
            poll(&queue, waiter.as_ref(), &waker),
            ready(wakeup, tag),
            "{name}, observed by poll_wait"
        );
        let (wakeup, tag) = (300 + round, 400 + round);
        register(&queue, waiter.as_ref(), &waker, tag);
        notify(&queue, wakeup);
        assert_eq!(
            cancel(&queue, waiter.as_ref()),
            notified(wakeup, tag),
            "{name}, observed by cancel"
        );
    }
    assert_eq!(counter.count(), 6);
    // Extreme values survive the trip unchanged.
    for (wakeup, tag) in [(0, 0), (usize::MAX, usize::MAX)] {
        register(&queue, waiter.as_ref(), &waker, tag);
        assert!(queue.notify_one(wakeup));
        assert_eq!(poll(&queue, waiter.as_ref(), &waker), ready(wakeup, tag));
    }
}

pub fn notify_wakes_the_waker_given_to_the_latest_poll<B: ThreadSafe>() {
    let queue = B::new();
    let waiter = pin!(B::new_waiter());
    let (first, first_waker) = counting_waker();
    let (second, second_waker) = counting_waker();
    register(&queue, waiter.as_ref(), &first_waker, TAG);
    assert_eq!(poll(&queue, waiter.as_ref(), &second_waker), Poll::Pending);
    assert!(queue.notify_one(WAKEUP));
    assert_eq!((first.count(), second.count()), (0, 1));
    assert_eq!(
        poll(&queue, waiter.as_ref(), &second_waker),
        ready(WAKEUP, TAG)
    );
}

pub fn cancel_after_notify_reports_it_and_can_pass_it_on<B: ThreadSafe>() {
    let queue = B::new();
    let first = pin!(B::new_waiter());
    let second = pin!(B::new_waiter());
    let (first_counter, first_waker) = counting_waker();
    let (second_counter, second_waker) = counting_waker();
    register(&queue, first.as_ref(), &first_waker, 1);
    register(&queue, second.as_ref(), &second_waker, 2);
    assert!(queue.notify_one(WAKEUP));
    assert_eq!(first_counter.count(), 1);
    // The owner drops its notified future: cancel reports the notification
    // and the primitive passes it to the next waiter.
    assert_eq!(cancel(&queue, first.as_ref()), notified(WAKEUP, 1));
    assert_eq!(
        cancel(&queue, first.as_ref()),
        Cancelled::Idle,
        "cancel made the waiter idle"
    );
    assert!(queue.notify_one(WAKEUP + 1));
    assert_eq!(second_counter.count(), 1);
    assert_eq!(
        poll(&queue, second.as_ref(), &second_waker),
        ready(WAKEUP + 1, 2)
    );
}

pub fn cancel_while_waiting_reports_the_tag_and_leaves_nothing<B: ThreadSafe>() {
    let queue = B::new();
    let waiter = pin!(B::new_waiter());
    let (counter, waker) = counting_waker();
    register(&queue, waiter.as_ref(), &waker, TAG);
    assert_eq!(
        cancel(&queue, waiter.as_ref()),
        Cancelled::Removed { tag: TAG }
    );
    assert!(!queue.notify_one(WAKEUP));
    assert_eq!(queue.notify_all(WAKEUP), 0);
    assert_eq!(queue.notify_while(|_| Select::Notify(WAKEUP)), 0);
    assert_eq!(counter.count(), 0);
    // The same waiter can wait again, with another tag.
    register(&queue, waiter.as_ref(), &waker, TAG + 1);
    assert!(queue.notify_one(WAKEUP));
    assert_eq!(
        poll(&queue, waiter.as_ref(), &waker),
        ready(WAKEUP, TAG + 1)
    );
}

pub fn cancel_of_idle_waiter_reports_idle<B: ThreadSafe>() {
    let queue = B::new();
    let waiter = pin!(B::new_waiter());
    assert_eq!(cancel(&queue, waiter.as_ref()), Cancelled::Idle);
}

/// `cancel` runs no user code (contract point 7): the waker it takes back
/// stays alive in the waiter, retired, until the waiter registers again
/// (which reuses it, with no clone, when it wakes the same task) or is
/// dropped. Counted through the waker's strong references: the test holds
/// two (the state and its own waker), each live clone one more.
pub fn cancel_retires_the_waker_until_the_next_register_or_drop<B: ThreadSafe>() {
    let queue = B::new();
    let (state, waker) = crate::common::Hostile::new();
    let live_clones = || Arc::strong_count(&state) - 2;
    let waiter = Box::pin(B::new_waiter());
    register(&queue, waiter.as_ref(), &waker, TAG);
    let clones = state.clones.load(SeqCst);
    assert_eq!(live_clones(), 1);
    assert_eq!(
        cancel(&queue, waiter.as_ref()),
        Cancelled::Removed { tag: TAG }
    );
    assert_eq!(live_clones(), 1, "cancel dropped the waker");
    // The same task registers again: the retired waker is reused.
    register(&queue, waiter.as_ref(), &waker, TAG);
    assert_eq!(state.clones.load(SeqCst), clones, "register cloned again");
    assert_eq!(live_clones(), 1);
    // A notify wakes (and so consumes) it; `Ready` retires nothing.
    assert!(queue.notify_one(WAKEUP));
    assert_eq!(state.wakes(), 1);
    assert_eq!(poll(&queue, waiter.as_ref(), &waker), ready(WAKEUP, TAG));
    assert_eq!(live_clones(), 0);
    // A waker of another task replaces the retired one.
    register(&queue, waiter.as_ref(), &waker, TAG);
    assert_eq!(
        cancel(&queue, waiter.as_ref()),
        Cancelled::Removed { tag: TAG }
    );
    let (other_state, other) = crate::common::Hostile::new();
    register(&queue, waiter.as_ref(), &other, TAG);
    assert_eq!(live_clones(), 0, "the retired waker outlived a register");
    assert_eq!(Arc::strong_count(&other_state), 3);
    // And a waiter dropped after its cancel takes the retired waker along.
    assert_eq!(
        cancel(&queue, waiter.as_ref()),
        Cancelled::Removed { tag: TAG }
    );
    assert_eq!(Arc::strong_count(&other_state), 3);
    drop(waiter);
    assert_eq!(Arc::strong_count(&other_state), 2);
}

/// `release` drops what an idle waiter kept from its last wait (the retired
/// waker) now, and leaves it idle and reusable: for a waiter that outlives
/// its owner (the mpsc receiver's node, which lives in the channel). Generic
/// over any [`WaitQueue`]: the single-thread `Local` runs it too.
pub fn release_drops_the_retired_waker_and_leaves_the_waiter_idle<B: WaitQueue>() {
    let queue = B::new();
    let (state, waker) = crate::common::Hostile::new();
    let live_clones = || Arc::strong_count(&state) - 2;
    let waiter = Box::pin(B::new_waiter());
    // SAFETY: `waiter` is used with `queue` only, is heap-pinned, and is
    // idle when it is dropped (as in the block below).
    unsafe {
        // A fresh waiter holds nothing: releasing it is a no-op.
        queue.release(waiter.as_ref());
        queue.register(waiter.as_ref(), &waker, TAG);
        assert_eq!(live_clones(), 1);
        assert_eq!(
            queue.cancel(waiter.as_ref()),
            Cancelled::Removed { tag: TAG }
        );
        assert_eq!(live_clones(), 1, "retired by the cancel");
        queue.release(waiter.as_ref());
    }
    assert_eq!(live_clones(), 0, "release kept the retired waker");
    assert_eq!(state.wakes(), 0, "release woke the waker");
    // SAFETY: as above.
    unsafe {
        assert_eq!(queue.cancel(waiter.as_ref()), Cancelled::Idle);
        assert!(!queue.notify_one(WAKEUP), "release left the waiter linked");
        // Still usable: registered again, it is notified as usual.
        queue.register(waiter.as_ref(), &waker, TAG);
        assert!(queue.notify_one(WAKEUP));
        assert_eq!(
            queue.poll_wait(waiter.as_ref(), &mut Context::from_waker(&waker)),
            ready(WAKEUP, TAG)
        );
        queue.release(waiter.as_ref());
    }
    assert_eq!(state.wakes(), 1);
    assert_eq!(live_clones(), 0);
}

pub fn stale_cancelled_waiters_never_eat_notify_one<B: ThreadSafe>() {
    let queue = B::new();
    let live = pin!(B::new_waiter());
    let (live_counter, live_waker) = counting_waker();
    let (stale_counter, stale_waker) = counting_waker();
    // Stale registrations both before and after the live one.
    for round in 0..50 {
        let stale = pin!(B::new_waiter());
        register(&queue, stale.as_ref(), &stale_waker, round);
        assert_eq!(
            cancel(&queue, stale.as_ref()),
            Cancelled::Removed { tag: round }
        );
    }
    register(&queue, live.as_ref(), &live_waker, TAG);
    for round in 0..50 {
        let stale = pin!(B::new_waiter());
        register(&queue, stale.as_ref(), &stale_waker, round);
        assert_eq!(
            cancel(&queue, stale.as_ref()),
            Cancelled::Removed { tag: round }
        );
    }
    assert!(queue.notify_one(WAKEUP));
    assert_eq!(live_counter.count(), 1);
    assert_eq!(stale_counter.count(), 0);
    assert_eq!(poll(&queue, live.as_ref(), &live_waker), ready(WAKEUP, TAG));
    assert!(!queue.notify_one(WAKEUP));
}

pub fn notify_one_is_fifo<B: ThreadSafe>() {
    let queue = B::new();
    let waiters = waiters::<B>(6);
    for (index, (waiter, _, waker)) in waiters.iter().enumerate() {
        register(&queue, waiter.as_ref(), waker, index);
    }
    // A cancelled waiter in the middle does not disturb the order.
    assert_eq!(
        cancel(&queue, waiters[2].0.as_ref()),
        Cancelled::Removed { tag: 2 }
    );
    for expected in [0, 1, 3, 4, 5] {
        assert!(queue.notify_one(10 + expected));
        let woken: Vec<_> = waiters.iter().map(|(_, c, _)| c.count()).collect();
        for (index, count) in woken.iter().enumerate() {
            let should = usize::from(index <= expected && index != 2);
            assert_eq!(*count, should, "after notifying #{expected}: {woken:?}");
        }
        let (waiter, _, waker) = &waiters[expected];
        assert_eq!(
            poll(&queue, waiter.as_ref(), waker),
            ready(10 + expected, expected)
        );
    }
    assert!(!queue.notify_one(WAKEUP));
}

/// A waiter registered on another thread at the head of a queue, six of
/// this thread behind it; `notify(queue, call)` is called until every one
/// was notified, each call notifying exactly one. Returns at which call the
/// head was notified (1-based).
fn head_of_another_thread_notified_at<B: ThreadSafe>(
    mut notify: impl FnMut(&B, usize) -> bool,
) -> usize {
    let queue = B::new();
    let waiters = waiters::<B>(7);
    std::thread::scope(|s| {
        let (head, _, waker) = &waiters[0];
        s.spawn(|| register(&queue, head.as_ref(), waker, 0));
    });
    for (index, (waiter, _, waker)) in waiters.iter().enumerate().skip(1) {
        register(&queue, waiter.as_ref(), waker, index);
    }
    let mut head_at = None;
    for call in 1..=waiters.len() {
        assert!(notify(&queue, call), "call {call}: nobody notified");
        let woken: usize = waiters.iter().map(|(_, c, _)| c.count()).sum();
        assert_eq!(woken, call, "call {call}: exactly one waiter per call");
        if head_at.is_none() && waiters[0].1.count() == 1 {
            head_at = Some(call);
        }
    }
    assert!(
        !notify(&queue, waiters.len() + 1),
        "every waiter was notified"
    );
    for (index, (waiter, _, waker)) in waiters.iter().enumerate() {
        assert_eq!(poll(&queue, waiter.as_ref(), waker), ready(WAKEUP, index));
    }
    head_at.expect("the head was never notified")
}

/// `notify_one_near`: the head is registered on another thread, six
/// waiters behind it on this one. Every call notifies exactly one waiter,
/// and the head within the first 5 calls (`Intrusive` prefers this
/// thread's waiters, 4 wake-ups in a row at most; the others notify the
/// head). Returns at which call the head was notified (1-based).
pub fn notify_one_near_notifies_one_and_reaches_the_head<B: ThreadSafe>() -> usize {
    let head_at = head_of_another_thread_notified_at::<B>(|queue, _| queue.notify_one_near(WAKEUP));
    assert!(
        head_at <= 5,
        "the head was passed over {} times",
        head_at - 1
    );
    head_at
}

/// `notify_one_near_within`: as in
/// [`notify_one_near_notifies_one_and_reaches_the_head`], with this
/// `patience`; `pause`, if any, is slept after the first call (which passes
/// the head over, or not). Returns at which call the head was notified.
pub fn notify_one_near_within_head_at<B: ThreadSafe>(
    patience: std::time::Duration,
    pause: Option<std::time::Duration>,
) -> usize {
    head_of_another_thread_notified_at::<B>(|queue, call| {
        let notified = queue.notify_one_near_within(WAKEUP, patience);
        if call == 1
            && let Some(pause) = pause
        {
            std::thread::sleep(pause);
        }
        notified
    })
}

/// The first waiter leaves (notified or cancelled) while others queue
/// behind it; a later arrival still goes behind them. This is the
/// hybrid's slot-to-list switch.
pub fn fifo_holds_when_first_waiter_leaves_while_others_queue<B: ThreadSafe>() {
    for first_is_cancelled in [false, true] {
        let queue = B::new();
        let w = waiters::<B>(4);
        for (index, (waiter, _, waker)) in w.iter().take(3).enumerate() {
            register(&queue, waiter.as_ref(), waker, index);
        }
        if first_is_cancelled {
            assert_eq!(
                cancel(&queue, w[0].0.as_ref()),
                Cancelled::Removed { tag: 0 }
            );
        } else {
            assert!(queue.notify_one(WAKEUP));
            assert_eq!(w[0].1.count(), 1);
            assert_eq!(poll(&queue, w[0].0.as_ref(), &w[0].2), ready(WAKEUP, 0));
        }
        register(&queue, w[3].0.as_ref(), &w[3].2, 3);
        for (index, (waiter, counter, waker)) in w.iter().enumerate().skip(1) {
            assert!(queue.notify_one(WAKEUP));
            assert_eq!(counter.count(), 1, "expected #{index} next");
            assert_eq!(poll(&queue, waiter.as_ref(), waker), ready(WAKEUP, index));
        }
        assert!(!queue.notify_one(WAKEUP));
    }
}

/// `lifo`: whether the backend documents `notify_last` as LIFO (else it
/// documents FIFO).
pub fn notify_last_follows_documented_order<B: ThreadSafe>(lifo: bool) {
    let queue = B::new();
    let waiters = waiters::<B>(4);
    for (index, (waiter, _, waker)) in waiters.iter().enumerate() {
        register(&queue, waiter.as_ref(), waker, index);
    }
    let order: Vec<usize> = if lifo {
        vec![3, 2, 1, 0]
    } else {
        vec![0, 1, 2, 3]
    };
    for index in order {
        assert!(queue.notify_last(WAKEUP));
        let (waiter, counter, waker) = &waiters[index];
        assert_eq!(counter.count(), 1, "expected #{index} next");
        assert_eq!(poll(&queue, waiter.as_ref(), waker), ready(WAKEUP, index));
    }
    assert!(!queue.notify_last(WAKEUP));
}

/// Each original waiter's waker registers a new waiter on the same queue
/// while `notify_all` is running; those must stay waiting. 40 waiters
/// span two wake batches.
pub fn notify_all_wakes_only_earlier_registrations<B: ThreadSafe + 'static>() {
    const N: usize = 40;
    type Late<B> = Mutex<Vec<(Pin<Box<<B as WaitQueue>::Waiter>>, Arc<Counter>, Waker)>>;

    struct RegisterOnWake<B: ThreadSafe> {
        queue: Arc<B>,
        late: Arc<Late<B>>,
    }
    impl<B: ThreadSafe> Wake for RegisterOnWake<B> {
        fn wake(self: Arc<Self>) {
            let waiter = Box::pin(B::new_waiter());
            let (counter, waker) = counting_waker();
            register(&*self.queue, waiter.as_ref(), &waker, TAG + 1);
            self.late.lock().unwrap().push((waiter, counter, waker));
        }
    }

    let queue = Arc::new(B::new());
    let late: Arc<Late<B>> = Arc::default();
    let early: Vec<_> = (0..N).map(|_| Box::pin(B::new_waiter())).collect();
    let waker = Waker::from(Arc::new(RegisterOnWake {
        queue: queue.clone(),
        late: late.clone(),
    }));
    for waiter in &early {
        register(&*queue, waiter.as_ref(), &waker, TAG);
    }
    assert_eq!(queue.notify_all(WAKEUP), N);
    let late = std::mem::take(&mut *late.lock().unwrap());
    assert_eq!(late.len(), N, "every early waiter was woken once");
    for (waiter, counter, waker) in &late {
        assert_eq!(counter.count(), 0);
        assert_eq!(poll(&*queue, waiter.as_ref(), waker), Poll::Pending);
    }
    for waiter in &early {
        assert_eq!(poll(&*queue, waiter.as_ref(), &waker), ready(WAKEUP, TAG));
    }
    assert_eq!(queue.notify_all(WAKEUP + 1), N);
    for (waiter, counter, waker) in &late {
        assert_eq!(counter.count(), 1);
        assert_eq!(
            poll(&*queue, waiter.as_ref(), waker),
            ready(WAKEUP + 1, TAG + 1)
        );
    }
    assert_eq!(queue.notify_all(WAKEUP), 0);
}

/// `notify_while` offers the waiting waiters oldest first, notifies
/// exactly the ones selected (with the value the selector gave each),
/// and offers nothing after `Keep`.
pub fn notify_while_offers_oldest_first_and_stops_at_keep<B: ThreadSafe>() {
    let queue = B::new();
    let waiters = waiters::<B>(5);
    for (index, (waiter, _, waker)) in waiters.iter().enumerate() {
        register(&queue, waiter.as_ref(), waker, 10 * index);
    }
    let mut offered = Vec::new();
    let count = queue.notify_while(|tag| {
        offered.push(*tag);
        if offered.len() <= 2 {
            Select::Notify(1000 + *tag)
        } else {
            Select::Keep
        }
    });
    assert_eq!(count, 2);
    assert_eq!(offered, [0, 10, 20], "oldest first, nothing after Keep");
    for (index, (waiter, counter, waker)) in waiters.iter().enumerate() {
        if index < 2 {
            assert_eq!(counter.count(), 1, "#{index} was selected");
            assert_eq!(
                poll(&queue, waiter.as_ref(), waker),
                ready(1000 + 10 * index, 10 * index)
            );
        } else {
            assert_eq!(counter.count(), 0, "#{index} was not selected");
            assert_eq!(poll(&queue, waiter.as_ref(), waker), Poll::Pending);
        }
    }
    // The kept waiters are still queued, in order.
    let mut offered = Vec::new();
    let count = queue.notify_while(|tag| {
        offered.push(*tag);
        Select::Notify(*tag)
    });
    assert_eq!((count, offered.as_slice()), (3, &[20, 30, 40][..]));
    for (index, (waiter, _, waker)) in waiters.iter().enumerate().skip(2) {
        assert_eq!(
            poll(&queue, waiter.as_ref(), waker),
            ready(10 * index, 10 * index)
        );
    }
    assert_eq!(
        queue.notify_while(|_| panic!("offered a notified waiter")),
        0
    );
}

/// A selector's lowering of a tag persists: later offers see it, and
/// the owner gets it back from `poll_wait`, from `cancel` of a waiting
/// waiter, and from `cancel` of a notified one. The same holds for a
/// waiter later selected by `notify_one` and `notify_all`.
pub fn notify_while_lowered_tags_persist_and_are_reported<B: ThreadSafe>() {
    let queue = B::new();
    let waiters = waiters::<B>(3);
    for (waiter, _, waker) in &waiters {
        register(&queue, waiter.as_ref(), waker, 10);
    }
    // Lower the head twice over two calls, keeping it.
    for expected in [10, 7] {
        let mut offered = Vec::new();
        let count = queue.notify_while(|tag| {
            offered.push(*tag);
            *tag -= 3;
            Select::Keep
        });
        assert_eq!((count, offered.as_slice()), (0, &[expected][..]));
    }
    // Lower the head to 2 and notify it; lower the next to 5 and keep it.
    let mut offered = Vec::new();
    let count = queue.notify_while(|tag| {
        offered.push(*tag);
        if offered.len() == 1 {
            *tag = 2;
            Select::Notify(WAKEUP)
        } else {
            *tag = 5;
            Select::Keep
        }
    });
    assert_eq!((count, offered.as_slice()), (1, &[4, 10][..]));
    assert_eq!(
        poll(&queue, waiters[0].0.as_ref(), &waiters[0].2),
        ready(WAKEUP, 2)
    );
    // Cancel of a waiting waiter reports its lowered tag.
    assert_eq!(
        cancel(&queue, waiters[1].0.as_ref()),
        Cancelled::Removed { tag: 5 }
    );
    // Lower the last one, keep it, then notify it by `notify_one`:
    // `Ready` and `cancel` report the lowered tag.
    assert_eq!(
        queue.notify_while(|tag| {
            *tag = 1;
            Select::Keep
        }),
        0
    );
    assert!(queue.notify_one(WAKEUP + 1));
    assert_eq!(
        cancel(&queue, waiters[2].0.as_ref()),
        notified(WAKEUP + 1, 1)
    );
    // And by `notify_all`.
    register(&queue, waiters[2].0.as_ref(), &waiters[2].2, 10);
    queue.notify_while(|tag| {
        *tag = 0;
        Select::Keep
    });
    assert_eq!(queue.notify_all(WAKEUP + 2), 1);
    assert_eq!(
        poll(&queue, waiters[2].0.as_ref(), &waiters[2].2),
        ready(WAKEUP + 2, 0)
    );
    let counts: Vec<_> = waiters.iter().map(|(_, c, _)| c.count()).collect();
    assert_eq!(counts, [1, 0, 2]);
}

/// A cancelled waiter is never offered to a selector, wherever it was
/// in the queue (head, middle, tail).
pub fn notify_while_never_offers_a_cancelled_waiter<B: ThreadSafe>() {
    for cancelled in 0..4 {
        let queue = B::new();
        let waiters = waiters::<B>(4);
        for (index, (waiter, _, waker)) in waiters.iter().enumerate() {
            register(&queue, waiter.as_ref(), waker, index);
        }
        assert_eq!(
            cancel(&queue, waiters[cancelled].0.as_ref()),
            Cancelled::Removed { tag: cancelled }
        );
        let mut offered = Vec::new();
        let count = queue.notify_while(|tag| {
            offered.push(*tag);
            Select::Notify(WAKEUP)
        });
        let expected: Vec<_> = (0..4).filter(|&i| i != cancelled).collect();
        assert_eq!((count, offered), (3, expected));
        for (index, (waiter, counter, waker)) in waiters.iter().enumerate() {
            if index == cancelled {
                assert_eq!(counter.count(), 0);
            } else {
                assert_eq!(poll(&queue, waiter.as_ref(), waker), ready(WAKEUP, index));
            }
        }
    }
}

/// More selected waiters than one wake batch (32) holds: the queue wakes
/// a batch with its lock released and goes on; the selector still sees
/// every waiter once, in order, and `Keep` in a later batch still stops.
pub fn notify_while_selects_across_wake_batches<B: ThreadSafe>() {
    const N: usize = 100;
    const SELECTED: usize = 70;
    let queue = B::new();
    let waiters = waiters::<B>(N);
    for (index, (waiter, _, waker)) in waiters.iter().enumerate() {
        register(&queue, waiter.as_ref(), waker, index);
    }
    let mut offered = Vec::new();
    let count = queue.notify_while(|tag| {
        offered.push(*tag);
        if *tag < SELECTED {
            Select::Notify(2 * *tag)
        } else {
            Select::Keep
        }
    });
    assert_eq!(count, SELECTED);
    assert_eq!(offered, (0..=SELECTED).collect::<Vec<_>>());
    for (index, (waiter, counter, waker)) in waiters.iter().enumerate() {
        if index < SELECTED {
            assert_eq!(counter.count(), 1, "#{index}");
            assert_eq!(
                poll(&queue, waiter.as_ref(), waker),
                ready(2 * index, index)
            );
        } else {
            assert_eq!(counter.count(), 0, "#{index}");
        }
    }
    // Select all the rest in one call.
    assert_eq!(queue.notify_while(|_| Select::Notify(WAKEUP)), N - SELECTED);
    for (index, (waiter, counter, waker)) in waiters.iter().enumerate().skip(SELECTED) {
        assert_eq!(counter.count(), 1, "#{index}");
        assert_eq!(poll(&queue, waiter.as_ref(), waker), ready(WAKEUP, index));
    }
    assert_eq!(queue.notify_all(WAKEUP), 0);
}

/// A waker that panics in `wake` does not stop `notify_while`: every
/// selected waiter is marked and woken, and the panic is resumed once,
/// at the end (contract point 7). Two panicking waiters, one in each of
/// two wake batches.
pub fn notify_while_survives_panicking_wakers<B: ThreadSafe>() {
    const N: usize = 40;
    let queue = B::new();
    let waiters = waiters::<B>(N);
    let panicker = Arc::new(PanicOnWake(AtomicUsize::new(0)));
    let panicking = Waker::from(panicker.clone());
    let is_hostile = |index: usize| index == 3 || index == 35;
    for (index, (waiter, _, waker)) in waiters.iter().enumerate() {
        let waker = if is_hostile(index) { &panicking } else { waker };
        register(&queue, waiter.as_ref(), waker, index);
    }
    let unwound = catch_unwind(AssertUnwindSafe(|| {
        queue.notify_while(|tag| Select::Notify(*tag + 1))
    }));
    assert!(unwound.is_err(), "the wake's panic is resumed");
    assert_eq!(panicker.0.load(SeqCst), 2, "both hostile wakers were woken");
    for (index, (waiter, counter, waker)) in waiters.iter().enumerate() {
        if !is_hostile(index) {
            assert_eq!(counter.count(), 1, "#{index}");
        }
        assert_eq!(
            poll(&queue, waiter.as_ref(), waker),
            ready(index + 1, index)
        );
    }
    assert_eq!(queue.notify_while(|_| Select::Notify(WAKEUP)), 0);
}

pub fn waker_reentering_queue_from_wake_or_drop_does_not_deadlock<B: ThreadSafe + 'static>() {
    let queue = Arc::new(B::new());
    let wakes = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let reentrant = || {
        Waker::from(Arc::new(Reentrant {
            queue: queue.clone(),
            wakes: wakes.clone(),
            drops: drops.clone(),
        }))
    };
    let waiter = pin!(B::new_waiter());
    let (counter, plain) = counting_waker();

    // 1. The queue drops a replaced waker (and that drop notifies our
    //    waiter from inside `poll_wait`).
    register(&*queue, waiter.as_ref(), &reentrant(), TAG);
    if poll(&*queue, waiter.as_ref(), &plain).is_pending() {
        assert_eq!(
            counter.count(),
            1,
            "the re-entrant notify woke the new waker"
        );
        assert_eq!(poll(&*queue, waiter.as_ref(), &plain), ready(WAKEUP, TAG));
    }
    assert_eq!(drops.load(SeqCst), 1);

    // 2. The queue wakes (and then drops) the waker.
    register(&*queue, waiter.as_ref(), &reentrant(), TAG);
    assert!(queue.notify_one(WAKEUP + 1));
    assert_eq!(wakes.load(SeqCst), 1);
    assert_eq!(
        poll(&*queue, waiter.as_ref(), &plain),
        ready(WAKEUP + 1, TAG)
    );
    assert_eq!(drops.load(SeqCst), 2);

    // 3. `cancel` runs no user code: it retires the waker into the
    //    waiter, and the next `register` drops it, first thing, while
    //    the waiter is still idle (contract point 7).
    register(&*queue, waiter.as_ref(), &reentrant(), TAG);
    assert_eq!(
        cancel(&*queue, waiter.as_ref()),
        Cancelled::Removed { tag: TAG }
    );
    assert_eq!(drops.load(SeqCst), 2, "cancel dropped the waker");

    // 4. `notify_all` wakes it.
    register(&*queue, waiter.as_ref(), &reentrant(), TAG);
    assert_eq!(drops.load(SeqCst), 3, "register dropped the retired waker");
    assert_eq!(queue.notify_all(WAKEUP + 2), 1);
    assert_eq!(
        poll(&*queue, waiter.as_ref(), &plain),
        ready(WAKEUP + 2, TAG)
    );
    assert_eq!((wakes.load(SeqCst), drops.load(SeqCst)), (2, 4));

    // 5. `notify_while` wakes it.
    register(&*queue, waiter.as_ref(), &reentrant(), TAG);
    assert_eq!(queue.notify_while(|_| Select::Notify(WAKEUP + 3)), 1);
    assert_eq!(
        poll(&*queue, waiter.as_ref(), &plain),
        ready(WAKEUP + 3, TAG)
    );
    assert_eq!((wakes.load(SeqCst), drops.load(SeqCst)), (3, 5));
}

pub fn const_new_queue_works<B: ThreadSafe>() {
    let queue = B::NEW;
    let waiter = pin!(B::new_waiter());
    let (counter, waker) = counting_waker();
    register(&queue, waiter.as_ref(), &waker, TAG);
    assert!(queue.notify_one(WAKEUP));
    assert_eq!(counter.count(), 1);
    assert_eq!(poll(&queue, waiter.as_ref(), &waker), ready(WAKEUP, TAG));
}
