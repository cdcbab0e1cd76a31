//! The `WaitQueue` contract, checked against every backend.
//!
//! Each case in `cases` drives the trait directly (pinned waiters, counting
//! wakers, no primitive on top) and is instantiated once per backend by
//! `contract_suite!` at the bottom, through the shared backend list
//! (`for_each_backend!`, in `common`).
//!
//! Wake-up values and tags are distinct in every case (`WAKEUP`, `TAG`, or a
//! per-waiter value), so a case that checks them also checks that the queue
//! hands each waiter its own.
#![cfg(not(loom))] // The loom models of the backends are in `loom_backends.rs`.

mod common;

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    pin::{Pin, pin},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering::*, fence},
    },
    task::{Context, Poll, Wake, Waker},
    thread,
};

use compio_sync::backend::{Cancelled, Select, ThreadSafe, WaitQueue, Woken};

/// The wake-up value the cases hand over unless they say otherwise.
const WAKEUP: usize = 0xA5;
/// The tag the cases register with unless they say otherwise.
const TAG: usize = 0x5A;

/// What `poll_wait` returns for a waiter notified with `wakeup` and `tag`.
fn ready(wakeup: usize, tag: usize) -> Poll<Woken> {
    Poll::Ready(Woken { wakeup, tag })
}

/// What `cancel` returns for a waiter notified with `wakeup` and `tag`.
fn notified(wakeup: usize, tag: usize) -> Cancelled {
    Cancelled::Notified(Woken { wakeup, tag })
}

/// A waker that counts its wakes.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Counter {
    fn count(&self) -> usize {
        self.0.load(SeqCst)
    }
}

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (Arc<Counter>, Waker) {
    let counter = Arc::new(Counter::default());
    (counter.clone(), Waker::from(counter))
}

fn register<B: ThreadSafe>(queue: &B, waiter: Pin<&B::Waiter>, waker: &Waker, tag: usize) {
    // SAFETY: each test uses a waiter with one queue and makes it idle
    // (Ready or cancelled) before it goes out of scope.
    unsafe { queue.register(waiter, waker, tag) }
}

fn poll<B: ThreadSafe>(queue: &B, waiter: Pin<&B::Waiter>, waker: &Waker) -> Poll<Woken> {
    // SAFETY: as in `register`; tests only poll registered waiters.
    unsafe { queue.poll_wait(waiter, &mut Context::from_waker(waker)) }
}

fn cancel<B: ThreadSafe>(queue: &B, waiter: Pin<&B::Waiter>) -> Cancelled {
    // SAFETY: as in `register`.
    unsafe { queue.cancel(waiter) }
}

/// `count` boxed waiters with a counting waker each.
#[allow(clippy::type_complexity)]
fn waiters<B: ThreadSafe>(count: usize) -> Vec<(Pin<Box<B::Waiter>>, Arc<Counter>, Waker)> {
    (0..count)
        .map(|_| {
            let (counter, waker) = counting_waker();
            (Box::pin(B::new_waiter()), counter, waker)
        })
        .collect()
}

/// Calls every queue entry point from inside a waker's `wake` or `Drop`: if
/// the queue ran wakers under its lock, this would deadlock.
fn reenter<B: ThreadSafe>(queue: &B) {
    queue.notify_one(WAKEUP);
    queue.notify_all(WAKEUP);
    queue.notify_while(|_| Select::Notify(WAKEUP));
    let waiter = pin!(B::new_waiter());
    let (_, waker) = counting_waker();
    register(queue, waiter.as_ref(), &waker, TAG);
    // Nothing else can select it: this thread holds the only reference
    // in use, and the notifies above ran before the register.
    assert_eq!(
        cancel(queue, waiter.as_ref()),
        Cancelled::Removed { tag: TAG }
    );
}

/// A waker that re-enters its queue when woken and when dropped.
struct Reentrant<B: ThreadSafe> {
    queue: Arc<B>,
    wakes: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

impl<B: ThreadSafe> Wake for Reentrant<B> {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
        reenter(&*self.queue);
    }
}

impl<B: ThreadSafe> Drop for Reentrant<B> {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
        reenter(&*self.queue);
    }
}

/// A waker whose `wake` panics (after counting the wake).
struct PanicOnWake(AtomicUsize);

impl Wake for PanicOnWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
        panic!("PanicOnWake");
    }
}

/// A waker that unparks a thread.
struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

mod cases {
    use super::*;

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

    /// A one-permit semaphore on the event-count protocol, hammered by two
    /// threads that each acquire and release it `ROUNDS` times.
    pub fn two_thread_semaphore_stress_keeps_exact_counts<B: ThreadSafe>() {
        const ROUNDS: usize = 5_000;

        struct Shared<B> {
            queue: B,
            permits: AtomicUsize,
            holders: AtomicUsize,
            entered: AtomicUsize,
            notifies_selected: AtomicUsize,
            notifications_seen: AtomicUsize,
        }

        fn try_take(permits: &AtomicUsize) -> bool {
            permits
                .fetch_update(AcqRel, Acquire, |n| n.checked_sub(1))
                .is_ok()
        }

        fn release<B: ThreadSafe>(s: &Shared<B>) {
            s.permits.fetch_add(1, Release);
            // Orders the permit before the look at the queue (protocol).
            fence(SeqCst);
            if s.queue.notify_one(WAKEUP) {
                s.notifies_selected.fetch_add(1, SeqCst);
            }
        }

        fn acquire<B: ThreadSafe>(s: &Shared<B>) {
            let waker = Waker::from(Arc::new(Unpark(thread::current())));
            loop {
                if try_take(&s.permits) {
                    return;
                }
                let waiter = pin!(B::new_waiter());
                register(&s.queue, waiter.as_ref(), &waker, TAG);
                // Orders the registration before the re-check (protocol).
                fence(SeqCst);
                if try_take(&s.permits) {
                    match cancel(&s.queue, waiter.as_ref()) {
                        Cancelled::Notified(woken) => {
                            assert_eq!(
                                woken,
                                Woken {
                                    wakeup: WAKEUP,
                                    tag: TAG
                                }
                            );
                            // Notified after all: pass the notification on.
                            s.notifications_seen.fetch_add(1, SeqCst);
                            if s.queue.notify_one(WAKEUP) {
                                s.notifies_selected.fetch_add(1, SeqCst);
                            }
                        }
                        cancelled => assert_eq!(cancelled, Cancelled::Removed { tag: TAG }),
                    }
                    return;
                }
                loop {
                    match poll(&s.queue, waiter.as_ref(), &waker) {
                        Poll::Pending => thread::park(),
                        Poll::Ready(woken) => {
                            assert_eq!(
                                woken,
                                Woken {
                                    wakeup: WAKEUP,
                                    tag: TAG
                                }
                            );
                            break;
                        }
                    }
                }
                s.notifications_seen.fetch_add(1, SeqCst);
            }
        }

        let shared = Arc::new(Shared {
            queue: B::new(),
            permits: AtomicUsize::new(1),
            holders: AtomicUsize::new(0),
            entered: AtomicUsize::new(0),
            notifies_selected: AtomicUsize::new(0),
            notifications_seen: AtomicUsize::new(0),
        });
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let s = shared.clone();
                thread::spawn(move || {
                    for _ in 0..ROUNDS {
                        acquire(&s);
                        assert_eq!(s.holders.fetch_add(1, SeqCst), 0, "two holders");
                        s.entered.fetch_add(1, SeqCst);
                        s.holders.fetch_sub(1, SeqCst);
                        release(&s);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(shared.entered.load(SeqCst), 2 * ROUNDS);
        assert_eq!(shared.permits.load(SeqCst), 1);
        assert_eq!(
            shared.notifies_selected.load(SeqCst),
            shared.notifications_seen.load(SeqCst),
            "every selection is seen exactly once, by Ready or by cancel"
        );
        assert!(!shared.queue.notify_one(WAKEUP), "no waiter left behind");
    }

    /// A semaphore that hands permits over through `notify_while` (the
    /// selector takes a released permit for the waiter it is offered), so a
    /// woken waiter never re-checks: three threads, two permits, acquires of
    /// one or two permits. The tag is the number of permits a waiter still
    /// needs; the selector lowers it as it assigns them, and a waiter that
    /// leaves returns what it was assigned (`needed - tag`).
    pub fn semaphore_handing_permits_over_by_notify_while_keeps_exact_counts<B: ThreadSafe>() {
        const ROUNDS: usize = 3_000;
        const PERMITS: usize = 2;

        struct Shared<B> {
            queue: B,
            permits: AtomicUsize,
            held: AtomicUsize,
        }

        /// Takes up to `want` permits from the pool; returns how many.
        fn take(permits: &AtomicUsize, want: usize) -> usize {
            match permits.fetch_update(AcqRel, Acquire, |n| Some(n - n.min(want))) {
                Ok(before) => before.min(want),
                Err(_) => unreachable!("the update always succeeds"),
            }
        }

        fn release<B: ThreadSafe>(s: &Shared<B>, count: usize) {
            s.permits.fetch_add(count, Release);
            // Orders the permits before the look at the queue (protocol).
            fence(SeqCst);
            s.queue.notify_while(|needed| {
                // Runs under the selection lock, so the pool is only raced
                // by `try_acquire`s, never by another hand-over.
                *needed -= take(&s.permits, *needed);
                if *needed == 0 {
                    Select::Notify(WAKEUP)
                } else {
                    Select::Keep
                }
            });
        }

        fn acquire<B: ThreadSafe>(s: &Shared<B>, want: usize, cancel_early: bool) -> bool {
            // A barging fast path: all or nothing.
            if s.permits
                .fetch_update(AcqRel, Acquire, |n| n.checked_sub(want))
                .is_ok()
            {
                return true;
            }
            let waker = Waker::from(Arc::new(Unpark(thread::current())));
            let waiter = pin!(B::new_waiter());
            register(&s.queue, waiter.as_ref(), &waker, want);
            // Orders the registration before the re-check (protocol).
            fence(SeqCst);
            // The re-check hands permits to the queue head (maybe us).
            release(s, 0);
            if cancel_early {
                let assigned = match cancel(&s.queue, waiter.as_ref()) {
                    Cancelled::Idle => unreachable!("registered"),
                    Cancelled::Removed { tag } => want - tag,
                    Cancelled::Notified(woken) => {
                        assert_eq!(
                            woken,
                            Woken {
                                wakeup: WAKEUP,
                                tag: 0
                            }
                        );
                        want
                    }
                };
                if assigned > 0 {
                    release(s, assigned);
                }
                return false;
            }
            loop {
                match poll(&s.queue, waiter.as_ref(), &waker) {
                    Poll::Pending => thread::park(),
                    Poll::Ready(woken) => {
                        assert_eq!(
                            woken,
                            Woken {
                                wakeup: WAKEUP,
                                tag: 0
                            }
                        );
                        return true;
                    }
                }
            }
        }

        let shared = Arc::new(Shared {
            queue: B::new(),
            permits: AtomicUsize::new(PERMITS),
            held: AtomicUsize::new(0),
        });
        let threads: Vec<_> = (0..3)
            .map(|id| {
                let s = shared.clone();
                thread::spawn(move || {
                    for round in 0..ROUNDS {
                        let want = 1 + (round + id) % PERMITS;
                        if acquire(&s, want, (round + id) % 5 == 0) {
                            let held = s.held.fetch_add(want, SeqCst) + want;
                            assert!(held <= PERMITS, "{held} permits held");
                            s.held.fetch_sub(want, SeqCst);
                            release(&s, want);
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(shared.permits.load(SeqCst), PERMITS, "no permit lost");
        assert_eq!(shared.queue.notify_while(|_| Select::Notify(0)), 0);
    }

    /// One thread registers and cancels as fast as it can, the other notifies
    /// as fast as it can: every `notify_one` that returned `true` is seen by
    /// exactly one `cancel` that reported `Notified`.
    pub fn cancel_racing_notify_accounts_for_every_notification<B: ThreadSafe>() {
        const ROUNDS: usize = 20_000;
        let queue = Arc::new(B::new());
        let done = Arc::new(AtomicBool::new(false));
        let notifier = {
            let (queue, done) = (queue.clone(), done.clone());
            thread::spawn(move || {
                let mut selected = 0;
                while !done.load(SeqCst) {
                    selected += usize::from(queue.notify_one(WAKEUP));
                }
                selected
            })
        };
        let (_, waker) = counting_waker();
        let mut seen = 0;
        for round in 0..ROUNDS {
            let waiter = pin!(B::new_waiter());
            register(&*queue, waiter.as_ref(), &waker, round);
            if round % 2 == 0 {
                thread::yield_now();
            }
            match cancel(&*queue, waiter.as_ref()) {
                Cancelled::Notified(woken) => {
                    assert_eq!(
                        woken,
                        Woken {
                            wakeup: WAKEUP,
                            tag: round
                        }
                    );
                    seen += 1;
                }
                cancelled => assert_eq!(cancelled, Cancelled::Removed { tag: round }),
            }
        }
        done.store(true, SeqCst);
        let selected = notifier.join().unwrap();
        assert_eq!(selected, seen);
        assert!(!queue.notify_one(WAKEUP));
    }

    /// A selector lowers a waiter's tag one unit per offer (a permit at a
    /// time) while the waiter's owner cancels: the tag `cancel` reports is
    /// exactly what the selectors left, so no unit is lost or counted twice.
    /// This is the race of a lock-free slot (`ParkingLotHybrid`) against the
    /// list lock the selectors hold.
    pub fn cancel_racing_tag_lowering_reports_exactly_what_was_assigned<B: ThreadSafe>() {
        const ROUNDS: usize = 20_000;
        const NEEDED: usize = 3;
        let queue = Arc::new(B::new());
        let done = Arc::new(AtomicBool::new(false));
        let selector = {
            let (queue, done) = (queue.clone(), done.clone());
            thread::spawn(move || {
                let mut assigned = 0;
                while !done.load(SeqCst) {
                    queue.notify_while(|tag| {
                        assert!(*tag > 0, "offered a waiter that needs nothing");
                        *tag -= 1;
                        assigned += 1;
                        if *tag == 0 {
                            Select::Notify(WAKEUP)
                        } else {
                            Select::Keep
                        }
                    });
                }
                assigned
            })
        };
        let (_, waker) = counting_waker();
        let mut returned = 0;
        for round in 0..ROUNDS {
            let waiter = pin!(B::new_waiter());
            register(&*queue, waiter.as_ref(), &waker, NEEDED);
            if round % 2 == 0 {
                thread::yield_now();
            }
            returned += match cancel(&*queue, waiter.as_ref()) {
                Cancelled::Idle => unreachable!("registered"),
                Cancelled::Removed { tag } => NEEDED - tag,
                Cancelled::Notified(woken) => {
                    assert_eq!(
                        woken,
                        Woken {
                            wakeup: WAKEUP,
                            tag: 0
                        }
                    );
                    NEEDED
                }
            };
        }
        done.store(true, SeqCst);
        let assigned = selector.join().unwrap();
        assert_eq!(assigned, returned);
        assert_eq!(queue.notify_while(|_| Select::Notify(0)), 0);
    }
}

/// Instantiates every case for one backend, as `for_each_backend!(contract_suite,
/// once)` asks: `order` says whether the backend documents `notify_last` as
/// LIFO.
macro_rules! contract_suite {
    ($module:ident, $backend:ty, lifo) => {
        contract_suite!(@suite $module, $backend, true);
    };
    ($module:ident, $backend:ty, no_lifo = $reason:literal) => {
        contract_suite!(@suite $module, $backend, false);
    };
    (@suite $module:ident, $backend:ty, $lifo:expr) => {
        mod $module {
            use super::cases;
            type B = $backend;

            macro_rules! case {
                ($name:ident) => {
                    #[test]
                    fn $name() {
                        cases::$name::<B>();
                    }
                };
            }

            case!(notify_on_empty_queue_selects_nobody);
            case!(notify_one_wakes_registered_waiter_then_poll_is_ready);
            case!(wakeup_and_tag_reach_the_waiter_by_ready_and_by_cancel);
            case!(notify_wakes_the_waker_given_to_the_latest_poll);
            case!(cancel_after_notify_reports_it_and_can_pass_it_on);
            case!(cancel_while_waiting_reports_the_tag_and_leaves_nothing);
            case!(cancel_of_idle_waiter_reports_idle);
            case!(stale_cancelled_waiters_never_eat_notify_one);
            case!(notify_one_is_fifo);
            case!(fifo_holds_when_first_waiter_leaves_while_others_queue);
            case!(notify_all_wakes_only_earlier_registrations);
            case!(notify_while_offers_oldest_first_and_stops_at_keep);
            case!(notify_while_lowered_tags_persist_and_are_reported);
            case!(notify_while_never_offers_a_cancelled_waiter);
            case!(notify_while_selects_across_wake_batches);
            case!(notify_while_survives_panicking_wakers);
            case!(waker_reentering_queue_from_wake_or_drop_does_not_deadlock);
            case!(const_new_queue_works);
            case!(two_thread_semaphore_stress_keeps_exact_counts);
            case!(semaphore_handing_permits_over_by_notify_while_keeps_exact_counts);
            case!(cancel_racing_notify_accounts_for_every_notification);
            case!(cancel_racing_tag_lowering_reports_exactly_what_was_assigned);

            #[test]
            fn notify_last_follows_documented_order() {
                cases::notify_last_follows_documented_order::<B>($lifo);
            }
        }
    };
}

for_each_backend!(contract_suite, once);
