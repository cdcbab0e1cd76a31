//! loom models of the `SegQueue` backend's own protocols: the `SELECTING`
//! claim a `notify_while` selector holds while it lowers a tag, stale
//! (cancelled) handles, and the consumer-side `front` slot that holds a head
//! a selector kept.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test --release -p compio-sync --test loom_seg_queue`
//! (the preemption bound is set in `common/loom.rs`; `LOOM_MAX_PREEMPTIONS` overrides it).
//!
//! Every model checks exact accounting: what a selector assigned (a tag it
//! lowered, a waiter it notified) is observed by exactly one owner, through
//! `Ready`, `Cancelled::Notified` or the tag of `Cancelled::Removed`. Waker
//! counters are plain `std` atomics: they only count, the models never
//! synchronize through them.
#![cfg(loom)]

#[path = "common/loom.rs"]
mod loom_model;

use std::{
    pin::Pin,
    sync::atomic::{AtomicUsize, Ordering::SeqCst},
    task::{Context, Poll, Wake, Waker},
};

use compio_sync::backend::{Cancelled, SegQueue, Select, WaitQueue, Woken};
use loom::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::Relaxed, fence},
    },
    thread,
};

use loom_model::{Class, check};

#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (std::sync::Arc<Counter>, Waker) {
    let counter = std::sync::Arc::new(Counter::default());
    (counter.clone(), Waker::from(counter))
}

/// A queue and two waiters, shared by the threads of a model. Each model makes
/// both waiters idle before the last reference goes.
struct Shared {
    queue: SegQueue,
    a: Pin<Box<<SegQueue as WaitQueue>::Waiter>>,
    b: Pin<Box<<SegQueue as WaitQueue>::Waiter>>,
    /// The primitive's condition in the register-vs-notify model.
    condition: AtomicBool,
}

type Waiter = Pin<Box<<SegQueue as WaitQueue>::Waiter>>;

impl Shared {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            queue: SegQueue::new(),
            a: Box::pin(SegQueue::new_waiter()),
            b: Box::pin(SegQueue::new_waiter()),
            condition: AtomicBool::new(false),
        })
    }

    // SAFETY (for the three wrappers): `a` and `b` are only used with
    // `queue`, are boxed (pinned for their whole life), and every model makes
    // them idle before dropping `Shared`.

    fn register(&self, waiter: &Waiter, waker: &Waker, tag: usize) {
        // SAFETY: see above.
        unsafe { self.queue.register(waiter.as_ref(), waker, tag) }
    }

    fn poll(&self, waiter: &Waiter, waker: &Waker) -> Poll<Woken> {
        // SAFETY: see above; models only poll registered waiters.
        unsafe {
            self.queue
                .poll_wait(waiter.as_ref(), &mut Context::from_waker(waker))
        }
    }

    fn cancel(&self, waiter: &Waiter) -> Cancelled {
        // SAFETY: see above.
        unsafe { self.queue.cancel(waiter.as_ref()) }
    }
}

/// The `SELECTING` protocol, kept head: a selector assigns one unit to `a`
/// (tag 2: needs two) and keeps it, while `a`'s owner cancels. The tag the
/// owner reads is exactly what the selector left: 1 if it was offered, 2 if
/// not, never a lowered tag without the assignment or the reverse.
#[test]
fn notify_while_keep_racing_cancel_reads_the_tag_the_selector_left() {
    check(Class::Queue, || {
        let shared = Shared::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker, 2);
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || {
                let mut assigned = 0;
                let notified = shared.queue.notify_while(|tag| {
                    *tag -= 1;
                    assigned += 1;
                    Select::Keep
                });
                assert_eq!(notified, 0);
                assigned
            })
        };
        let cancelled = shared.cancel(&shared.a);
        let assigned = notifier.join().unwrap();
        assert_eq!(cancelled, Cancelled::Removed { tag: 2 - assigned });
        assert!(!shared.queue.notify_one(0), "a cancelled head was selected");
    });
}

/// The `SELECTING` protocol, selection: one unit for two waiters that need
/// one each (`a` oldest), while `a`'s owner cancels. Exactly one waiter gets
/// the unit and the wake-up: `a` (its cancel returns it) unless it was
/// removed before being offered, and then `b`; a stale `a` is never offered.
#[test]
fn notify_while_select_racing_cancel_hands_over_exactly_once() {
    check(Class::Queue, || {
        let shared = Shared::new();
        let (_, waker) = counting_waker();
        let (b_counter, b_waker) = counting_waker();
        shared.register(&shared.a, &waker, 1);
        shared.register(&shared.b, &b_waker, 1);
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || {
                let mut budget = 1;
                let mut offered = 0;
                let notified = shared.queue.notify_while(|tag| {
                    offered += 1;
                    if budget == 0 {
                        return Select::Keep;
                    }
                    budget -= 1;
                    *tag = 0;
                    Select::Notify(5)
                });
                (notified, offered)
            })
        };
        let a = shared.cancel(&shared.a);
        let (notified, offered) = notifier.join().unwrap();
        assert_eq!(notified, 1, "the unit was not handed over");
        let granted = Woken { wakeup: 5, tag: 0 };
        match a {
            Cancelled::Notified(woken) => {
                assert_eq!(woken, granted);
                // `b` was offered next and kept.
                assert_eq!(offered, 2);
                assert_eq!(shared.cancel(&shared.b), Cancelled::Removed { tag: 1 });
            }
            Cancelled::Removed { tag } => {
                assert_eq!(tag, 1, "a lost its unit");
                assert_eq!(offered, 1, "a stale handle was offered");
                assert_eq!(b_counter.0.load(SeqCst), 1, "b selected but not woken");
                assert_eq!(shared.poll(&shared.b, &b_waker), Poll::Ready(granted));
            }
            Cancelled::Idle => unreachable!("a was registered"),
        }
        assert!(!shared.queue.notify_one(0));
    });
}

/// A stale handle racing `notify_one`: `a` is cancelled while a notify runs
/// with `b` waiting behind it. The notify always selects someone (never
/// consumed by the stale `a`), and `b` is selected exactly when `a` was
/// removed first.
#[test]
fn stale_handle_never_eats_notify_one() {
    check(Class::Queue, || {
        let shared = Shared::new();
        let (_, waker) = counting_waker();
        let (b_counter, b_waker) = counting_waker();
        shared.register(&shared.a, &waker, 1);
        shared.register(&shared.b, &b_waker, 1);
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || shared.queue.notify_one(3))
        };
        let a = shared.cancel(&shared.a);
        assert!(notifier.join().unwrap(), "the notify found nobody");
        match a {
            Cancelled::Notified(woken) => {
                assert_eq!(woken, Woken { wakeup: 3, tag: 1 });
                assert_eq!(shared.cancel(&shared.b), Cancelled::Removed { tag: 1 });
            }
            Cancelled::Removed { tag: 1 } => {
                assert_eq!(b_counter.0.load(SeqCst), 1, "b selected but not woken");
                assert_eq!(
                    shared.poll(&shared.b, &b_waker),
                    Poll::Ready(Woken { wakeup: 3, tag: 1 })
                );
            }
            other => panic!("a: {other:?}"),
        }
        assert!(!shared.queue.notify_one(0));
    });
}

/// The `front` slot: a selector kept `a` (lowered to 1) at the head, in
/// `front`. `a` is cancelled while a `notify_one` runs. The kept head is
/// served first if still waiting, with its lowered tag; if cancelled, it is
/// skipped and `b` gets the notify.
#[test]
fn kept_head_in_front_racing_cancel() {
    check(Class::Queue, || {
        let shared = Shared::new();
        let (_, waker) = counting_waker();
        let (b_counter, b_waker) = counting_waker();
        shared.register(&shared.a, &waker, 2);
        shared.register(&shared.b, &b_waker, 1);
        let kept = shared.queue.notify_while(|tag| {
            *tag = 1;
            Select::Keep
        });
        assert_eq!(kept, 0);
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || shared.queue.notify_one(7))
        };
        let a = shared.cancel(&shared.a);
        assert!(notifier.join().unwrap(), "the notify found nobody");
        match a {
            Cancelled::Notified(woken) => {
                assert_eq!(woken, Woken { wakeup: 7, tag: 1 });
                assert_eq!(shared.cancel(&shared.b), Cancelled::Removed { tag: 1 });
            }
            Cancelled::Removed { tag } => {
                assert_eq!(tag, 1, "the kept head lost its lowered tag");
                assert_eq!(b_counter.0.load(SeqCst), 1, "b selected but not woken");
                assert_eq!(
                    shared.poll(&shared.b, &b_waker),
                    Poll::Ready(Woken { wakeup: 7, tag: 1 })
                );
            }
            Cancelled::Idle => unreachable!("a was registered"),
        }
        assert!(!shared.queue.notify_one(0));
    });
}

/// The event-count handshake through `notify_while` (whose empty-queue
/// shortcut reads `len`): either the waiter's re-check sees the condition or
/// the selector is offered the waiter.
#[test]
fn register_racing_notify_while_never_loses_wakeup() {
    check(Class::Queue, || {
        let shared = Shared::new();
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || {
                shared.condition.store(true, Relaxed);
                // Orders the condition before the look at the queue.
                fence(SeqCst);
                shared.queue.notify_while(|_| Select::Notify(1))
            })
        };
        let (counter, waker) = counting_waker();
        shared.register(&shared.a, &waker, 1);
        // Orders the registration before the re-check.
        fence(SeqCst);
        let saw_condition = shared.condition.load(Relaxed);
        let notified = notifier.join().unwrap();
        let granted = Woken { wakeup: 1, tag: 1 };
        if saw_condition {
            let expected = if notified == 1 {
                Cancelled::Notified(granted)
            } else {
                Cancelled::Removed { tag: 1 }
            };
            assert_eq!(shared.cancel(&shared.a), expected);
        } else {
            assert_eq!(notified, 1, "lost wakeup: neither side saw the other");
            assert_eq!(counter.0.load(SeqCst), 1, "selected but not woken");
            assert_eq!(shared.poll(&shared.a, &waker), Poll::Ready(granted));
        }
        assert!(!shared.queue.notify_one(0));
    });
}

/// A selector racing a concurrent cancel of the *second* waiter while the
/// first is kept: the kept head stops the selection, so `b` is never offered,
/// and its cancel finds it waiting with its tag untouched.
#[test]
fn keep_stops_before_later_waiters_racing_their_cancel() {
    check(Class::Queue, || {
        let shared = Shared::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker, 2);
        shared.register(&shared.b, &waker, 1);
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || {
                let mut offered = Vec::new();
                shared.queue.notify_while(|tag| {
                    offered.push(*tag);
                    *tag -= 1;
                    if *tag == 0 {
                        Select::Notify(2)
                    } else {
                        Select::Keep
                    }
                });
                offered
            })
        };
        assert_eq!(shared.cancel(&shared.b), Cancelled::Removed { tag: 1 });
        assert_eq!(notifier.join().unwrap(), vec![2]);
        assert_eq!(shared.cancel(&shared.a), Cancelled::Removed { tag: 1 });
        assert!(!shared.queue.notify_one(0));
    });
}
