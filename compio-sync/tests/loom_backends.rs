//! loom models of every backend's queue protocol (`IoUringFutex` aside: it
//! does not build under loom; its list is `Intrusive`'s).
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" cargo test --release -p compio-sync --test loom_backends`
//! (the preemption bound is set in `common/loom.rs`; `LOOM_MAX_PREEMPTIONS` overrides it).
//!
//! Every model checks exact accounting: the number of `notify_*` selections
//! equals the number of notifications observed, by `Ready` or by a `cancel`
//! that reported `Notified`, and what a selector assigned through a tag is
//! what the owner gets back (`Removed { tag }`, `Woken::tag`). Waker counters
//! are plain `std` atomics: they only count, the models never synchronize
//! through them.
#![cfg(loom)]

mod common;
#[path = "common/loom.rs"]
mod loom_model;

use std::{
    pin::Pin,
    sync::atomic::{AtomicUsize, Ordering::SeqCst},
    task::{Context, Poll, Wake, Waker},
};

use compio_sync::backend::{Cancelled, Select, WaitQueue, Woken};
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
struct Shared<B: WaitQueue> {
    queue: B,
    a: Pin<Box<B::Waiter>>,
    b: Pin<Box<B::Waiter>>,
    /// The primitive's condition in the register-vs-notify models.
    condition: AtomicBool,
}

impl<B: WaitQueue> Shared<B> {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            queue: B::new(),
            a: Box::pin(B::new_waiter()),
            b: Box::pin(B::new_waiter()),
            condition: AtomicBool::new(false),
        })
    }

    // SAFETY (for the four wrappers): `a` and `b` are only used with
    // `queue`, are boxed (pinned for their whole life), and every model makes
    // them idle before dropping `Shared`.

    fn register(&self, waiter: &Pin<Box<B::Waiter>>, waker: &Waker, tag: usize) {
        // SAFETY: see above.
        unsafe { self.queue.register(waiter.as_ref(), waker, tag) }
    }

    fn poll(&self, waiter: &Pin<Box<B::Waiter>>, waker: &Waker) -> Poll<Woken> {
        // SAFETY: see above; models only poll registered waiters.
        unsafe {
            self.queue
                .poll_wait(waiter.as_ref(), &mut Context::from_waker(waker))
        }
    }

    fn cancel(&self, waiter: &Pin<Box<B::Waiter>>) -> Cancelled {
        // SAFETY: see above.
        unsafe { self.queue.cancel(waiter.as_ref()) }
    }

    fn peek(&self, waiter: &Pin<Box<B::Waiter>>) -> Poll<Woken> {
        // SAFETY: see above; models only look at registered waiters.
        unsafe { self.queue.poll_notified(waiter.as_ref()) }
    }

    /// `cancel`, reduced to "was it notified?", checking what it reports
    /// against the `wakeup` the model's notifiers hand over and the `tag`
    /// the waiter registered with.
    fn cancel_notified(&self, waiter: &Pin<Box<B::Waiter>>, tag: usize) -> bool {
        match self.cancel(waiter) {
            Cancelled::Notified(woken) => {
                assert_eq!(
                    woken,
                    Woken {
                        wakeup: WAKEUP,
                        tag
                    }
                );
                true
            }
            cancelled => {
                assert_eq!(cancelled, Cancelled::Removed { tag });
                false
            }
        }
    }
}

/// The wake-up value the models hand over unless they say otherwise.
const WAKEUP: usize = 7;

/// A selector that assigns one unit (a permit) to the waiter it is offered,
/// lowering its tag, and notifies it once it needs nothing more. Counts the
/// units it assigned in `assigned`.
fn assign_one(assigned: &mut usize) -> impl FnMut(&mut usize) -> Select + '_ {
    move |needed| {
        assert!(*needed > 0, "offered a waiter that needs nothing");
        *needed -= 1;
        *assigned += 1;
        if *needed == 0 {
            Select::Notify(WAKEUP)
        } else {
            Select::Keep
        }
    }
}

/// The event-count protocol: the notifier sets the condition, fences, and
/// notifies; the waiter registers, fences and re-checks. Either the re-check
/// sees the condition or the notify selects the waiter.
fn register_racing_notify_never_loses_wakeup<B: WaitQueue>() {
    check(Class::Queue, || {
        let shared = Shared::<B>::new();
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || {
                shared.condition.store(true, Relaxed);
                // Orders the condition before the look at the queue.
                fence(SeqCst);
                shared.queue.notify_one(WAKEUP)
            })
        };
        let (counter, waker) = counting_waker();
        shared.register(&shared.a, &waker, 1);
        // Orders the registration before the re-check.
        fence(SeqCst);
        let saw_condition = shared.condition.load(Relaxed);
        let selected = notifier.join().unwrap();
        if saw_condition {
            // The waiter leaves; a notification it got is reported.
            assert_eq!(shared.cancel_notified(&shared.a, 1), selected);
        } else {
            assert!(selected, "lost wakeup: neither side saw the other");
            assert!(counter.0.load(SeqCst) >= 1, "selected but not woken");
            assert_eq!(
                shared.poll(&shared.a, &waker),
                Poll::Ready(Woken {
                    wakeup: WAKEUP,
                    tag: 1
                })
            );
        }
        assert!(!shared.queue.notify_one(WAKEUP));
    });
}

/// A waiting waiter is cancelled while a notifier runs: `cancel` returns
/// `true` exactly when the notify selected it.
fn cancel_racing_notify_reports_selection_exactly<B: WaitQueue>() {
    check(Class::Queue, || {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker, 1);
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || shared.queue.notify_one(WAKEUP))
        };
        let cancelled_notified = shared.cancel_notified(&shared.a, 1);
        let selected = notifier.join().unwrap();
        assert_eq!(cancelled_notified, selected);
        assert!(
            !shared.queue.notify_one(WAKEUP),
            "a cancelled waiter left an entry"
        );
    });
}

/// Two waiters; one notify races the first waiter's drop, which passes a
/// notification it received on to the second. Every selection is observed
/// exactly once.
fn notified_waiter_dropped_passes_notification_on<B: WaitQueue>() {
    check(Class::Queue, || {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker, 1);
        shared.register(&shared.b, &waker, 2);
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || shared.queue.notify_one(WAKEUP))
        };
        let a_notified = shared.cancel_notified(&shared.a, 1);
        let passed_on = a_notified && shared.queue.notify_one(WAKEUP);
        let selected = notifier.join().unwrap();
        assert!(selected, "two waiters were waiting");
        assert_eq!(passed_on, a_notified, "b was still waiting to take it");
        let b_notified = shared.cancel_notified(&shared.b, 2);
        assert_eq!(
            usize::from(selected) + usize::from(passed_on),
            usize::from(a_notified) + usize::from(b_notified)
        );
    });
}

/// `notify_all` races a second registration: the first waiter is always
/// selected, the second exactly when the count says so.
fn notify_all_racing_register_counts_exactly<B: WaitQueue>() {
    check(Class::Queue, || {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker, 1);
        let registrar = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                shared.register(&shared.b, &waker, 2);
            })
        };
        let count = shared.queue.notify_all(WAKEUP);
        registrar.join().unwrap();
        assert!(count >= 1);
        assert_eq!(
            shared.poll(&shared.a, &waker),
            Poll::Ready(Woken {
                wakeup: WAKEUP,
                tag: 1
            })
        );
        let b_notified = shared.cancel_notified(&shared.b, 2);
        assert_eq!(count, 1 + usize::from(b_notified));
    });
}

/// The hybrid's slot-to-list switch: `a` holds the slot; `b` registers (to the
/// list, or to the slot if `a` left it) while `a` is cancelled and a notify
/// runs. Nothing is lost and nothing is selected twice.
fn slot_to_list_switch_racing_notify<B: WaitQueue>() {
    check(Class::Queue, || {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker, 1);
        let registrar = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                shared.register(&shared.b, &waker, 2);
            })
        };
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || shared.queue.notify_one(WAKEUP))
        };
        let a_notified = shared.cancel_notified(&shared.a, 1);
        registrar.join().unwrap();
        let selected = notifier.join().unwrap();
        assert!(selected || !a_notified);
        let passed_on = a_notified && shared.queue.notify_one(WAKEUP);
        assert_eq!(passed_on, a_notified, "b was waiting to take it");
        let b_notified = shared.cancel_notified(&shared.b, 2);
        assert_eq!(
            usize::from(selected) + usize::from(passed_on),
            usize::from(a_notified) + usize::from(b_notified)
        );
        assert!(!shared.queue.notify_one(WAKEUP));
    });
}

/// `a` holds the slot and is being polled to `Ready` (releasing the slot)
/// while `b` registers and a notify runs: `b` must never be stranded.
fn slot_release_racing_register_and_notify<B: WaitQueue>() {
    check(Class::Queue, || {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker, 1);
        assert!(shared.queue.notify_one(WAKEUP));
        let registrar = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                shared.register(&shared.b, &waker, 2);
                // Orders the registration before the re-check.
                fence(SeqCst);
                shared.condition.load(Relaxed)
            })
        };
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || {
                shared.condition.store(true, Relaxed);
                // Orders the condition before the look at the queue.
                fence(SeqCst);
                shared.queue.notify_one(WAKEUP)
            })
        };
        assert_eq!(
            shared.poll(&shared.a, &waker),
            Poll::Ready(Woken {
                wakeup: WAKEUP,
                tag: 1
            })
        );
        let saw_condition = registrar.join().unwrap();
        let selected = notifier.join().unwrap();
        assert!(saw_condition || selected, "lost wakeup");
        assert_eq!(shared.cancel_notified(&shared.b, 2), selected);
        assert!(!shared.queue.notify_one(WAKEUP));
    });
}

/// Waiters keep cancelling (timed-out waits) behind a live one while another
/// waiter registers and a notify runs; for `SegQueue` the second
/// cancellation purges (its `PURGE_MIN` is 2 under loom), racing both. The
/// oldest live waiter, `a`, is the one selected, so the purge neither lost
/// it nor moved it behind `b`.
fn cancel_storm_racing_notify_selects_the_oldest_live_waiter<B: WaitQueue>() {
    check(Class::Queue, || {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker, 1);
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || shared.queue.notify_one(WAKEUP))
        };
        let registrar = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                shared.register(&shared.b, &waker, 2);
            })
        };
        for _ in 0..2 {
            let stale = Box::pin(B::new_waiter());
            shared.register(&stale, &waker, 3);
            assert!(
                !shared.cancel_notified(&stale, 3),
                "a younger waiter was selected"
            );
        }
        registrar.join().unwrap();
        assert!(notifier.join().unwrap(), "a was waiting");
        assert!(
            shared.cancel_notified(&shared.a, 1),
            "the notify missed the oldest waiter"
        );
        assert!(
            !shared.cancel_notified(&shared.b, 2),
            "the notify chose b over a"
        );
        assert!(!shared.queue.notify_one(WAKEUP));
    });
}

/// The race a lock-free slot must get right: a selector lowers the tag of a
/// waiter (one unit per `notify_while`, notifying it at zero) while its owner
/// cancels. The tag `cancel` reports is exactly what the selector left, so
/// the units assigned equal the units the owner gives back, and no selection
/// is half done (a lowered tag with the waiter gone, or a notification the
/// owner never sees).
fn notify_while_lowering_tag_racing_cancel_reports_what_the_selector_left<B: WaitQueue>() {
    check(Class::Queue, || {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker, 2);
        let selector = {
            let shared = shared.clone();
            thread::spawn(move || {
                let mut assigned = 0;
                for _ in 0..2 {
                    shared.queue.notify_while(assign_one(&mut assigned));
                }
                assigned
            })
        };
        let returned = match shared.cancel(&shared.a) {
            Cancelled::Idle => panic!("a was registered"),
            Cancelled::Removed { tag } => 2 - tag,
            Cancelled::Notified(woken) => {
                assert_eq!(
                    woken,
                    Woken {
                        wakeup: WAKEUP,
                        tag: 0
                    }
                );
                2
            }
        };
        let assigned = selector.join().unwrap();
        assert_eq!(assigned, returned, "a unit was lost or counted twice");
        assert!(!shared.queue.notify_one(WAKEUP));
    });
}

/// Strict FIFO's partial hand-over: `notify_while` offers units to the head
/// only, and the head must stay the same waiter from one call to the next,
/// or two waiters end up each holding a part of what both need. Here two
/// waiters register on two threads (each needing 3) while a selector hands
/// out one unit; a second `notify_while` after both registrations hands out
/// another. Both units must go to one waiter. `ParkingLotHybrid` split them
/// when the first call skipped a slot waiter still registering
/// (`SLOT_CLAIMED`) and gave the list head a unit, and the second tried the
/// slot first (the strict `RwLock` soak's stall).
fn partial_units_go_to_one_head_across_registrations<B: WaitQueue>() {
    check(Class::Queue, || {
        let shared = Shared::<B>::new();
        let registrar = |use_a: bool| {
            let shared = shared.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                let waiter = if use_a { &shared.a } else { &shared.b };
                shared.register(waiter, &waker, 3);
            })
        };
        let (ta, tb) = (registrar(true), registrar(false));
        let mut assigned = 0;
        shared.queue.notify_while(assign_one(&mut assigned));
        ta.join().unwrap();
        tb.join().unwrap();
        shared.queue.notify_while(assign_one(&mut assigned));
        assert!(assigned >= 1, "the second call finds both registered");
        let got = |waiter| match shared.cancel(waiter) {
            Cancelled::Removed { tag } => 3 - tag,
            other => panic!("nobody needed less than 3 units yet: {other:?}"),
        };
        let (got_a, got_b) = (got(&shared.a), got(&shared.b));
        assert_eq!(got_a + got_b, assigned, "a unit was lost or counted twice");
        assert!(
            got_a == 0 || got_b == 0,
            "the units were split between two waiters: a {got_a}, b {got_b}"
        );
    });
}

/// Two `notify_while` calls race on one waiter, each lowering its tag by one:
/// selection is serialized, so neither update is lost; the first keeps the
/// waiter, the second notifies it.
fn concurrent_selectors_never_lose_a_tag_update<B: WaitQueue>() {
    check(Class::Queue, || {
        let shared = Shared::<B>::new();
        let (counter, waker) = counting_waker();
        shared.register(&shared.a, &waker, 2);
        let other = {
            let shared = shared.clone();
            thread::spawn(move || {
                let mut assigned = 0;
                let count = shared.queue.notify_while(assign_one(&mut assigned));
                (assigned, count)
            })
        };
        let mut assigned = 0;
        let count = shared.queue.notify_while(assign_one(&mut assigned));
        let (other_assigned, other_count) = other.join().unwrap();
        assert_eq!(
            (assigned, other_assigned),
            (1, 1),
            "each was offered a once"
        );
        assert_eq!(count + other_count, 1, "a was notified once");
        assert_eq!(counter.0.load(SeqCst), 1, "selected but not woken");
        assert_eq!(
            shared.poll(&shared.a, &waker),
            Poll::Ready(Woken {
                wakeup: WAKEUP,
                tag: 0
            })
        );
    });
}

/// `notify_one` and a `notify_while` that selects one waiter race over two
/// waiters: each waiter is selected once, and each gets the value of the
/// notify that selected it.
fn notify_one_racing_notify_while_selects_each_waiter_once<B: WaitQueue>() {
    check(Class::Queue, || {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker, 1);
        shared.register(&shared.b, &waker, 2);
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || shared.queue.notify_one(10))
        };
        let mut offered = 0;
        let count = shared.queue.notify_while(|_| {
            offered += 1;
            if offered == 1 {
                Select::Notify(20)
            } else {
                Select::Keep
            }
        });
        assert!(notifier.join().unwrap());
        assert_eq!(count, 1);
        let Poll::Ready(a) = shared.poll(&shared.a, &waker) else {
            panic!("a was not selected");
        };
        let Poll::Ready(b) = shared.poll(&shared.b, &waker) else {
            panic!("b was not selected");
        };
        assert_eq!((a.tag, b.tag), (1, 2));
        let mut wakeups = [a.wakeup, b.wakeup];
        wakeups.sort_unstable();
        assert_eq!(wakeups, [10, 20], "one waiter was selected twice");
    });
}

/// `notify_while` races a second registration: the first waiter is always
/// offered and selected, the second exactly when the count says so.
fn notify_while_racing_register_counts_exactly<B: WaitQueue>() {
    check(Class::Queue, || {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker, 1);
        let registrar = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                shared.register(&shared.b, &waker, 2);
            })
        };
        let mut offered = Vec::new();
        let count = shared.queue.notify_while(|tag| {
            offered.push(*tag);
            Select::Notify(WAKEUP)
        });
        registrar.join().unwrap();
        assert_eq!(offered.len(), count);
        assert_eq!(offered[0], 1, "a is older than b");
        assert_eq!(
            shared.poll(&shared.a, &waker),
            Poll::Ready(Woken {
                wakeup: WAKEUP,
                tag: 1
            })
        );
        let b_notified = shared.cancel_notified(&shared.b, 2);
        assert_eq!(count, 1 + usize::from(b_notified));
    });
}

/// A selector notifies a waiter whose owner is polling it with a new waker:
/// either the poll is `Ready`, or the notify wakes the new waker.
fn notify_while_racing_poll_wakes_the_latest_waker<B: WaitQueue>() {
    check(Class::Queue, || {
        let shared = Shared::<B>::new();
        let (_, first) = counting_waker();
        shared.register(&shared.a, &first, 1);
        let selector = {
            let shared = shared.clone();
            thread::spawn(move || shared.queue.notify_while(|_| Select::Notify(WAKEUP)))
        };
        let (counter, latest) = counting_waker();
        let polled = shared.poll(&shared.a, &latest);
        assert_eq!(selector.join().unwrap(), 1);
        if polled.is_pending() {
            assert_eq!(counter.0.load(SeqCst), 1, "the latest waker was not woken");
            assert_eq!(
                shared.poll(&shared.a, &latest),
                Poll::Ready(Woken {
                    wakeup: WAKEUP,
                    tag: 1
                })
            );
        } else {
            assert_eq!(
                polled,
                Poll::Ready(Woken {
                    wakeup: WAKEUP,
                    tag: 1
                })
            );
        }
    });
}

/// An owner that only looks (`poll_notified`, as `Notify::enable` does)
/// races a notify: it sees the notification, or the notify wakes the waker
/// of the owner's last `poll_wait` (never the one it registered with, which
/// that poll replaced), and the next look sees it. Either way the
/// notification is observed exactly once.
fn poll_notified_racing_notify_wakes_the_last_polled_waker<B: WaitQueue>() {
    check(Class::Queue, || {
        let shared = Shared::<B>::new();
        let (registered, first) = counting_waker();
        let (polled, latest) = counting_waker();
        shared.register(&shared.a, &first, 1);
        assert_eq!(shared.poll(&shared.a, &latest), Poll::Pending);
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || shared.queue.notify_one(WAKEUP))
        };
        let looked = shared.peek(&shared.a);
        assert!(notifier.join().unwrap());
        let expected = Poll::Ready(Woken {
            wakeup: WAKEUP,
            tag: 1,
        });
        if looked.is_pending() {
            assert_eq!(polled.0.load(SeqCst), 1, "the polled waker was not woken");
            assert_eq!(shared.peek(&shared.a), expected);
        } else {
            assert_eq!(looked, expected);
            assert!(polled.0.load(SeqCst) <= 1);
        }
        assert_eq!(registered.0.load(SeqCst), 0, "woke a replaced waker");
        assert_eq!(shared.cancel(&shared.a), Cancelled::Idle);
        assert!(!shared.queue.notify_one(WAKEUP));
    });
}

/// `REGISTERS_UNDER_SELECTION_LOCK`: on a queue that says so, the waiter
/// needs no fence between registering and re-checking to be ordered
/// against a notifier's (change; fence; notify): the selection lock orders
/// the two. (Skipped on the queues that do not say so.)
fn locked_registration_needs_no_waiter_fence<B: WaitQueue>() {
    if !B::REGISTERS_UNDER_SELECTION_LOCK {
        return;
    }
    for all in [false, true] {
        check(Class::Queue, move || {
            let shared = Shared::<B>::new();
            let notifier = {
                let shared = shared.clone();
                thread::spawn(move || {
                    shared.condition.store(true, Relaxed);
                    // Orders the condition before the look at the queue.
                    fence(SeqCst);
                    if all {
                        shared.queue.notify_all(WAKEUP) == 1
                    } else {
                        shared.queue.notify_one(WAKEUP)
                    }
                })
            };
            let (counter, waker) = counting_waker();
            shared.register(&shared.a, &waker, 1);
            // No fence: the queue's lock is all that orders the two sides.
            let saw_condition = shared.condition.load(Relaxed);
            let selected = notifier.join().unwrap();
            if saw_condition {
                assert_eq!(shared.cancel_notified(&shared.a, 1), selected);
            } else {
                assert!(selected, "lost wakeup: neither side saw the other");
                assert_eq!(counter.0.load(SeqCst), 1, "selected but not woken");
                assert_eq!(
                    shared.peek(&shared.a),
                    Poll::Ready(Woken {
                        wakeup: WAKEUP,
                        tag: 1
                    })
                );
            }
        });
    }
}

/// Every model for one backend, as `for_each_backend!(models, once)` asks
/// (`order` does not matter to the models).
macro_rules! models {
    ($module:ident, $backend:ty, $($order:tt)+) => {
        mod $module {
            type B = $backend;

            #[test]
            fn register_racing_notify_never_loses_wakeup() {
                super::register_racing_notify_never_loses_wakeup::<B>();
            }

            #[test]
            fn cancel_racing_notify_reports_selection_exactly() {
                super::cancel_racing_notify_reports_selection_exactly::<B>();
            }

            #[test]
            fn notified_waiter_dropped_passes_notification_on() {
                super::notified_waiter_dropped_passes_notification_on::<B>();
            }

            #[test]
            fn notify_all_racing_register_counts_exactly() {
                super::notify_all_racing_register_counts_exactly::<B>();
            }

            #[test]
            fn slot_to_list_switch_racing_notify() {
                super::slot_to_list_switch_racing_notify::<B>();
            }

            #[test]
            fn cancel_storm_racing_notify_selects_the_oldest_live_waiter() {
                super::cancel_storm_racing_notify_selects_the_oldest_live_waiter::<B>();
            }

            #[test]
            fn slot_release_racing_register_and_notify() {
                super::slot_release_racing_register_and_notify::<B>();
            }

            #[test]
            fn notify_while_lowering_tag_racing_cancel_reports_what_the_selector_left() {
                super::notify_while_lowering_tag_racing_cancel_reports_what_the_selector_left::<B>(
                );
            }

            #[test]
            fn partial_units_go_to_one_head_across_registrations() {
                super::partial_units_go_to_one_head_across_registrations::<B>();
            }

            #[test]
            fn concurrent_selectors_never_lose_a_tag_update() {
                super::concurrent_selectors_never_lose_a_tag_update::<B>();
            }

            #[test]
            fn notify_one_racing_notify_while_selects_each_waiter_once() {
                super::notify_one_racing_notify_while_selects_each_waiter_once::<B>();
            }

            #[test]
            fn notify_while_racing_register_counts_exactly() {
                super::notify_while_racing_register_counts_exactly::<B>();
            }

            #[test]
            fn notify_while_racing_poll_wakes_the_latest_waker() {
                super::notify_while_racing_poll_wakes_the_latest_waker::<B>();
            }

            #[test]
            fn poll_notified_racing_notify_wakes_the_last_polled_waker() {
                super::poll_notified_racing_notify_wakes_the_last_polled_waker::<B>();
            }

            #[test]
            fn locked_registration_needs_no_waiter_fence() {
                super::locked_registration_needs_no_waiter_fence::<B>();
            }
        }
    };
}

for_each_backend!(models, once);
