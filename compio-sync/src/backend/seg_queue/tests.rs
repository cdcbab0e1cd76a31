//! Unit tests of [`SegQueue`]: bounded growth under cancel storms,
//! hand-over order, and selections racing cancels.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    pin::pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst},
    },
    task::{RawWaker, RawWakerVTable, Wake},
    thread,
};

use super::*;

#[derive(Default)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count::default());
    (count.clone(), Waker::from(count))
}

// SAFETY (for the three wrappers): every test uses its waiters with one
// queue, pins them for their whole life, and makes them idle before they
// are dropped.

fn register(queue: &SegQueue, waiter: Pin<&SegQueueWaiter>, waker: &Waker, tag: usize) {
    // SAFETY: see above.
    unsafe { queue.register(waiter, waker, tag) }
}

fn poll(queue: &SegQueue, waiter: Pin<&SegQueueWaiter>, waker: &Waker) -> Poll<Woken> {
    // SAFETY: see above; tests only poll registered waiters.
    unsafe { queue.poll_wait(waiter, &mut Context::from_waker(waker)) }
}

fn cancel(queue: &SegQueue, waiter: Pin<&SegQueueWaiter>) -> Cancelled {
    // SAFETY: see above.
    unsafe { queue.cancel(waiter) }
}

const TAG: usize = 3;
const WAKEUP: usize = 7;

/// A loop of `timeout(acquire)` that always expires: register,
/// then cancel, forever, with nobody notifying. Stale handles
/// must be purged.
#[test]
fn cancel_storm_keeps_queue_length_bounded() {
    const CYCLES: usize = 100_000;
    // The documented bound without concurrent cancellations, one
    // live waiter, plus the registration in flight.
    const BOUND: usize = SegQueue::PURGE_MIN + 1 + 1;
    let queue = SegQueue::new();
    let (live_counter, live_waker) = counting_waker();
    let live = pin!(SegQueue::new_waiter());
    register(&queue, live.as_ref(), &live_waker, TAG);
    let (stale_counter, stale_waker) = counting_waker();
    let mut longest = 0;
    for _ in 0..CYCLES {
        let waiter = pin!(SegQueue::new_waiter());
        register(&queue, waiter.as_ref(), &stale_waker, TAG);
        assert_eq!(
            cancel(&queue, waiter.as_ref()),
            Cancelled::Removed { tag: TAG }
        );
        longest = longest.max(queue.len_hint());
    }
    assert!(longest <= BOUND, "queue grew to {longest} handles");
    // The purges kept the live waiter, and at the head.
    let next = pin!(SegQueue::new_waiter());
    register(&queue, next.as_ref(), &stale_waker, TAG);
    assert!(queue.notify_one(WAKEUP));
    assert_eq!(
        (live_counter.0.load(SeqCst), stale_counter.0.load(SeqCst)),
        (1, 0)
    );
    assert_eq!(
        poll(&queue, live.as_ref(), &live_waker),
        Poll::Ready(Woken {
            wakeup: WAKEUP,
            tag: TAG
        })
    );
    assert_eq!(
        cancel(&queue, next.as_ref()),
        Cancelled::Removed { tag: TAG }
    );
    assert!(!queue.notify_one(WAKEUP));
    assert_eq!(queue.len_hint(), 0);
}

/// The same storm from two threads at once, while a third waiter
/// waits.
#[test]
fn concurrent_cancel_storms_keep_queue_length_bounded() {
    const CYCLES: usize = 50_000;
    let queue = Arc::new(SegQueue::new());
    let (live_counter, live_waker) = counting_waker();
    let live = pin!(SegQueue::new_waiter());
    register(&queue, live.as_ref(), &live_waker, TAG);
    let storms: Vec<_> = (0..2)
        .map(|_| {
            let queue = queue.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                let mut longest = 0;
                for _ in 0..CYCLES {
                    let waiter = pin!(SegQueue::new_waiter());
                    register(&queue, waiter.as_ref(), &waker, TAG);
                    assert_eq!(
                        cancel(&queue, waiter.as_ref()),
                        Cancelled::Removed { tag: TAG }
                    );
                    longest = longest.max(queue.len_hint());
                }
                longest
            })
        })
        .collect();
    let longest = storms.into_iter().map(|t| t.join().unwrap()).max().unwrap();
    // The documented bound with concurrent cancellations (one
    // live waiter, two cancelling threads), plus the two
    // registrations in flight.
    let bound = 4 * SegQueue::PURGE_MIN + 1 + 2 + 2;
    assert!(longest <= bound, "queue grew to {longest} handles");
    assert!(queue.notify_one(WAKEUP));
    assert_eq!(live_counter.0.load(SeqCst), 1);
    assert_eq!(
        poll(&queue, live.as_ref(), &live_waker),
        Poll::Ready(Woken {
            wakeup: WAKEUP,
            tag: TAG
        })
    );
    assert!(!queue.notify_one(WAKEUP));
}

/// A semaphore-style hand-over: assigns permits from `budget` to each
/// offered waiter's tag (permits still needed), notifies the waiters it
/// completes and keeps the first it cannot.
fn hand_over(budget: &mut usize) -> impl FnMut(&mut usize) -> Select + '_ {
    move |needed| {
        let given = (*needed).min(*budget);
        *needed -= given;
        *budget -= given;
        if *needed == 0 {
            Select::Notify(1)
        } else {
            Select::Keep
        }
    }
}

#[test]
fn notify_while_serves_in_order_and_keeps_the_head_it_cannot_complete() {
    let queue = SegQueue::new();
    let (_, waker) = counting_waker();
    let (a, b, c) = (
        pin!(SegQueue::new_waiter()),
        pin!(SegQueue::new_waiter()),
        pin!(SegQueue::new_waiter()),
    );
    register(&queue, a.as_ref(), &waker, 1);
    register(&queue, b.as_ref(), &waker, 2);
    register(&queue, c.as_ref(), &waker, 4);
    let mut budget = 5;
    assert_eq!(queue.notify_while(hand_over(&mut budget)), 2);
    assert_eq!(budget, 0);
    let done = Woken { wakeup: 1, tag: 0 };
    assert_eq!(poll(&queue, a.as_ref(), &waker), Poll::Ready(done));
    assert_eq!(poll(&queue, b.as_ref(), &waker), Poll::Ready(done));
    // `c` got 2 of its 4 and stays at the head: served before anyone
    // registered later, with its lowered tag.
    assert_eq!(poll(&queue, c.as_ref(), &waker), Poll::Pending);
    let d = pin!(SegQueue::new_waiter());
    register(&queue, d.as_ref(), &waker, 1);
    let mut budget = 2;
    assert_eq!(queue.notify_while(hand_over(&mut budget)), 1);
    assert_eq!(poll(&queue, c.as_ref(), &waker), Poll::Ready(done));
    assert_eq!(poll(&queue, d.as_ref(), &waker), Poll::Pending);
    assert!(queue.notify_one(9));
    assert_eq!(
        poll(&queue, d.as_ref(), &waker),
        Poll::Ready(Woken { wakeup: 9, tag: 1 })
    );
    assert_eq!(queue.len_hint(), 0);
}

#[test]
fn kept_head_is_the_next_notify_one_and_cancel_reads_its_lowered_tag() {
    let queue = SegQueue::new();
    let (count, waker) = counting_waker();
    let (a, b) = (pin!(SegQueue::new_waiter()), pin!(SegQueue::new_waiter()));
    register(&queue, a.as_ref(), &waker, 5);
    register(&queue, b.as_ref(), &waker, 5);
    let mut budget = 3;
    assert_eq!(queue.notify_while(hand_over(&mut budget)), 0);
    assert_eq!(count.0.load(SeqCst), 0);
    // The kept head is in `front`, still the oldest.
    assert!(queue.notify_one(7));
    assert_eq!(
        cancel(&queue, a.as_ref()),
        Cancelled::Notified(Woken { wakeup: 7, tag: 2 })
    );
    // And a kept head that is cancelled reports what it was assigned.
    let mut budget = 1;
    assert_eq!(queue.notify_while(hand_over(&mut budget)), 0);
    assert_eq!(cancel(&queue, b.as_ref()), Cancelled::Removed { tag: 4 });
    assert_eq!(cancel(&queue, b.as_ref()), Cancelled::Idle);
    assert!(!queue.notify_one(0));
    assert_eq!(queue.len_hint(), 0);
}

#[test]
fn register_front_goes_ahead_of_every_waiter_and_of_a_kept_head() {
    let queue = SegQueue::new();
    let (_, waker) = counting_waker();
    let (a, b, c) = (
        pin!(SegQueue::new_waiter()),
        pin!(SegQueue::new_waiter()),
        pin!(SegQueue::new_waiter()),
    );
    register(&queue, a.as_ref(), &waker, 2);
    let mut budget = 1;
    assert_eq!(queue.notify_while(hand_over(&mut budget)), 0);
    // `a` is kept in `front`; `b` requeues ahead of it, `c` behind.
    // SAFETY: as for the wrappers above.
    unsafe { queue.register_front(b.as_ref(), &waker, 1) };
    register(&queue, c.as_ref(), &waker, 1);
    let mut offered = Vec::new();
    assert_eq!(
        queue.notify_while(|tag| {
            offered.push(*tag);
            Select::Keep
        }),
        0
    );
    assert_eq!(offered, vec![1]);
    assert!(queue.notify_one(4));
    assert_eq!(
        poll(&queue, b.as_ref(), &waker),
        Poll::Ready(Woken { wakeup: 4, tag: 1 })
    );
    // `notify_all` takes the front-registered and the queued alike.
    // SAFETY: as for the wrappers above.
    unsafe { queue.register_front(b.as_ref(), &waker, 3) };
    assert_eq!(queue.notify_all(6), 3);
    assert_eq!(
        poll(&queue, b.as_ref(), &waker),
        Poll::Ready(Woken { wakeup: 6, tag: 3 })
    );
    assert_eq!(
        poll(&queue, a.as_ref(), &waker),
        Poll::Ready(Woken { wakeup: 6, tag: 1 })
    );
    assert_eq!(
        poll(&queue, c.as_ref(), &waker),
        Poll::Ready(Woken { wakeup: 6, tag: 1 })
    );
    assert_eq!(queue.len_hint(), 0);
}

#[test]
fn stale_handles_are_never_offered_and_never_eat_a_notify() {
    let queue = SegQueue::new();
    let (count, waker) = counting_waker();
    let (a, b, c) = (
        pin!(SegQueue::new_waiter()),
        pin!(SegQueue::new_waiter()),
        pin!(SegQueue::new_waiter()),
    );
    register(&queue, a.as_ref(), &waker, 1);
    register(&queue, b.as_ref(), &waker, 2);
    register(&queue, c.as_ref(), &waker, 3);
    assert_eq!(cancel(&queue, a.as_ref()), Cancelled::Removed { tag: 1 });
    let mut offered = Vec::new();
    let picked = queue.notify_while(|tag| {
        offered.push(*tag);
        Select::Keep
    });
    assert_eq!((picked, offered), (0, vec![2]));
    // The kept head `b` is cancelled in `front`: the notify skips it.
    assert_eq!(cancel(&queue, b.as_ref()), Cancelled::Removed { tag: 2 });
    assert!(queue.notify_one(0));
    assert_eq!(count.0.load(SeqCst), 1);
    assert_eq!(
        poll(&queue, c.as_ref(), &waker),
        Poll::Ready(Woken { wakeup: 0, tag: 3 })
    );
    assert!(!queue.notify_one(0));
    assert_eq!(queue.len_hint(), 0);
}

#[test]
fn notify_all_takes_a_kept_head_and_not_later_registrations() {
    let queue = SegQueue::new();
    let (_, waker) = counting_waker();
    let (a, b, c) = (
        pin!(SegQueue::new_waiter()),
        pin!(SegQueue::new_waiter()),
        pin!(SegQueue::new_waiter()),
    );
    register(&queue, a.as_ref(), &waker, 2);
    register(&queue, b.as_ref(), &waker, 2);
    let mut budget = 1;
    assert_eq!(queue.notify_while(hand_over(&mut budget)), 0);
    assert_eq!(queue.notify_all(3), 2);
    register(&queue, c.as_ref(), &waker, 2);
    assert_eq!(
        poll(&queue, a.as_ref(), &waker),
        Poll::Ready(Woken { wakeup: 3, tag: 1 })
    );
    assert_eq!(
        poll(&queue, b.as_ref(), &waker),
        Poll::Ready(Woken { wakeup: 3, tag: 2 })
    );
    assert_eq!(cancel(&queue, c.as_ref()), Cancelled::Removed { tag: 2 });
}

#[test]
fn panicking_selector_releases_its_claim() {
    let queue = SegQueue::new();
    let (_, waker) = counting_waker();
    let a = pin!(SegQueue::new_waiter());
    register(&queue, a.as_ref(), &waker, 4);
    let unwound = catch_unwind(AssertUnwindSafe(|| {
        queue.notify_while(|tag| {
            *tag = 1;
            panic!("selector");
        })
    }));
    assert!(unwound.is_err());
    // Neither stuck in `SELECTING` (this would spin) nor half-selected.
    assert_eq!(cancel(&queue, a.as_ref()), Cancelled::Removed { tag: 4 });
    assert!(!queue.notify_one(0));
}

#[test]
fn register_with_a_panicking_clone_leaves_the_waiter_idle() {
    const VTABLE: RawWakerVTable = RawWakerVTable::new(|_| panic!("clone"), |_| {}, |_| {}, |_| {});
    // SAFETY: the vtable ignores the data pointer and its functions
    // uphold `RawWaker`'s contract trivially (clone panics, the rest do
    // nothing).
    let hostile = unsafe { Waker::from_raw(RawWaker::new(ptr::null(), &VTABLE)) };
    let queue = SegQueue::new();
    let a = pin!(SegQueue::new_waiter());
    let unwound = catch_unwind(AssertUnwindSafe(|| {
        register(&queue, a.as_ref(), &hostile, 1);
    }));
    assert!(unwound.is_err());
    assert_eq!(cancel(&queue, a.as_ref()), Cancelled::Idle);
    assert!(!queue.notify_one(0));
    assert_eq!(queue.notify_while(|_| Select::Notify(0)), 0);
}

/// Threads register and cancel while a notifier hands out one unit at a
/// time with `notify_while`. Every unit the selector assigns is seen by
/// exactly one owner: as the drop of its tag in `Removed`, or in the
/// `Woken` of a completed wait. A canceller that read a tag in the
/// middle of a selection would break the sum.
#[test]
fn selections_racing_cancels_conserve_assigned_units() {
    const NEED: usize = 3;
    const WAITS: usize = if cfg!(miri) { 50 } else { 20_000 };
    let queue = Arc::new(SegQueue::new());
    let assigned = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let notifier = {
        let (queue, assigned, stop) = (queue.clone(), assigned.clone(), stop.clone());
        thread::spawn(move || {
            while !stop.load(SeqCst) {
                queue.notify_while(|needed| {
                    // One unit per call: a kept head is offered again.
                    *needed -= 1;
                    assigned.fetch_add(1, SeqCst);
                    if *needed == 0 {
                        Select::Notify(0)
                    } else {
                        Select::Keep
                    }
                });
            }
        })
    };
    let owners: Vec<_> = (0..2)
        .map(|_| {
            let queue = queue.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                let mut received = 0;
                for i in 0..WAITS {
                    let waiter = pin!(SegQueue::new_waiter());
                    register(&queue, waiter.as_ref(), &waker, NEED);
                    for _ in 0..i % 4 {
                        if let Poll::Ready(woken) = poll(&queue, waiter.as_ref(), &waker) {
                            assert_eq!(woken.tag, 0);
                            received += NEED;
                            break;
                        }
                        std::hint::spin_loop();
                    }
                    match cancel(&queue, waiter.as_ref()) {
                        Cancelled::Idle => {}
                        Cancelled::Removed { tag } => received += NEED - tag,
                        Cancelled::Notified(woken) => {
                            assert_eq!(woken.tag, 0);
                            received += NEED;
                        }
                    }
                }
                received
            })
        })
        .collect();
    let received: usize = owners.into_iter().map(|t| t.join().unwrap()).sum();
    stop.store(true, SeqCst);
    notifier.join().unwrap();
    assert_eq!(received, assigned.load(SeqCst));
    // Only stale handles are left: a notify drops them all and finds
    // nobody.
    assert!(!queue.notify_one(0));
    assert_eq!(queue.len_hint(), 0);
}
