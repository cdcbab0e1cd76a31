//! loom models of the `ParkingLotHybrid` and `SegQueue` backends.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p compio-sync --test loom_backends`.
//!
//! Every model checks exact accounting: the number of `notify_*` selections
//! equals the number of notifications observed, by `Ready` or by a `cancel`
//! that returned `true`. Waker counters are plain `std` atomics: they only
//! count, the models never synchronize through them.
#![cfg(loom)]

use std::{
    pin::Pin,
    sync::atomic::{AtomicUsize, Ordering::SeqCst},
    task::{Context, Poll, Wake, Waker},
};

use compio_sync::backend::{ParkingLotHybrid, SegQueue, WaitQueue};
use loom::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::Relaxed, fence},
    },
    thread,
};

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

    // SAFETY (for the three wrappers): `a` and `b` are only used with
    // `queue`, are boxed (pinned for their whole life), and every model makes
    // them idle before dropping `Shared`.

    fn register(&self, waiter: &Pin<Box<B::Waiter>>, waker: &Waker) {
        // SAFETY: see above.
        unsafe { self.queue.register(waiter.as_ref(), waker) }
    }

    fn poll(&self, waiter: &Pin<Box<B::Waiter>>, waker: &Waker) -> Poll<()> {
        // SAFETY: see above; models only poll registered waiters.
        unsafe {
            self.queue
                .poll_wait(waiter.as_ref(), &mut Context::from_waker(waker))
        }
    }

    fn cancel(&self, waiter: &Pin<Box<B::Waiter>>) -> bool {
        // SAFETY: see above.
        unsafe { self.queue.cancel(waiter.as_ref()) }
    }
}

/// The event-count protocol: the notifier sets the condition, fences, and
/// notifies; the waiter registers, fences and re-checks. Either the re-check
/// sees the condition or the notify selects the waiter.
fn register_racing_notify_never_loses_wakeup<B: WaitQueue>() {
    loom::model(|| {
        let shared = Shared::<B>::new();
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || {
                shared.condition.store(true, Relaxed);
                // Orders the condition before the look at the queue.
                fence(SeqCst);
                shared.queue.notify_one()
            })
        };
        let (counter, waker) = counting_waker();
        shared.register(&shared.a, &waker);
        // Orders the registration before the re-check.
        fence(SeqCst);
        let saw_condition = shared.condition.load(Relaxed);
        let selected = notifier.join().unwrap();
        if saw_condition {
            // The waiter leaves; a notification it got is reported.
            assert_eq!(shared.cancel(&shared.a), selected);
        } else {
            assert!(selected, "lost wakeup: neither side saw the other");
            assert!(counter.0.load(SeqCst) >= 1, "selected but not woken");
            assert_eq!(shared.poll(&shared.a, &waker), Poll::Ready(()));
        }
        assert!(!shared.queue.notify_one());
    });
}

/// A waiting waiter is cancelled while a notifier runs: `cancel` returns
/// `true` exactly when the notify selected it.
fn cancel_racing_notify_reports_selection_exactly<B: WaitQueue>() {
    loom::model(|| {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker);
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || shared.queue.notify_one())
        };
        let cancelled_notified = shared.cancel(&shared.a);
        let selected = notifier.join().unwrap();
        assert_eq!(cancelled_notified, selected);
        assert!(
            !shared.queue.notify_one(),
            "a cancelled waiter left an entry"
        );
    });
}

/// Two waiters; one notify races the first waiter's drop, which passes a
/// notification it received on to the second. Every selection is observed
/// exactly once.
fn notified_waiter_dropped_passes_notification_on<B: WaitQueue>() {
    loom::model(|| {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker);
        shared.register(&shared.b, &waker);
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || shared.queue.notify_one())
        };
        let a_notified = shared.cancel(&shared.a);
        let passed_on = a_notified && shared.queue.notify_one();
        let selected = notifier.join().unwrap();
        assert!(selected, "two waiters were waiting");
        assert_eq!(passed_on, a_notified, "b was still waiting to take it");
        let b_notified = shared.cancel(&shared.b);
        assert_eq!(
            usize::from(selected) + usize::from(passed_on),
            usize::from(a_notified) + usize::from(b_notified)
        );
    });
}

/// `notify_all` races a second registration: the first waiter is always
/// selected, the second exactly when the count says so.
fn notify_all_racing_register_counts_exactly<B: WaitQueue>() {
    loom::model(|| {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker);
        let registrar = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                shared.register(&shared.b, &waker);
            })
        };
        let count = shared.queue.notify_all();
        registrar.join().unwrap();
        assert!(count >= 1);
        assert_eq!(shared.poll(&shared.a, &waker), Poll::Ready(()));
        let b_notified = shared.cancel(&shared.b);
        assert_eq!(count, 1 + usize::from(b_notified));
    });
}

/// The hybrid's slot-to-list switch: `a` holds the slot; `b` registers (to the
/// list, or to the slot if `a` left it) while `a` is cancelled and a notify
/// runs. Nothing is lost and nothing is selected twice.
fn slot_to_list_switch_racing_notify<B: WaitQueue>() {
    loom::model(|| {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker);
        let registrar = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                shared.register(&shared.b, &waker);
            })
        };
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || shared.queue.notify_one())
        };
        let a_notified = shared.cancel(&shared.a);
        registrar.join().unwrap();
        let selected = notifier.join().unwrap();
        assert!(selected || !a_notified);
        let passed_on = a_notified && shared.queue.notify_one();
        assert_eq!(passed_on, a_notified, "b was waiting to take it");
        let b_notified = shared.cancel(&shared.b);
        assert_eq!(
            usize::from(selected) + usize::from(passed_on),
            usize::from(a_notified) + usize::from(b_notified)
        );
        assert!(!shared.queue.notify_one());
    });
}

/// `a` holds the slot and is being polled to `Ready` (releasing the slot)
/// while `b` registers and a notify runs: `b` must never be stranded.
fn slot_release_racing_register_and_notify<B: WaitQueue>() {
    loom::model(|| {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker);
        assert!(shared.queue.notify_one());
        let registrar = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                shared.register(&shared.b, &waker);
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
                shared.queue.notify_one()
            })
        };
        assert_eq!(shared.poll(&shared.a, &waker), Poll::Ready(()));
        let saw_condition = registrar.join().unwrap();
        let selected = notifier.join().unwrap();
        assert!(saw_condition || selected, "lost wakeup");
        assert_eq!(shared.cancel(&shared.b), selected);
        assert!(!shared.queue.notify_one());
    });
}

/// Waiters keep cancelling (timed-out waits) behind a live one while another
/// waiter registers and a notify runs; for `SegQueue` the second
/// cancellation purges (its `PURGE_MIN` is 2 under loom), racing both. The
/// oldest live waiter, `a`, is the one selected, so the purge neither lost
/// it nor moved it behind `b`.
fn cancel_storm_racing_notify_selects_the_oldest_live_waiter<B: WaitQueue>() {
    loom::model(|| {
        let shared = Shared::<B>::new();
        let (_, waker) = counting_waker();
        shared.register(&shared.a, &waker);
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || shared.queue.notify_one())
        };
        let registrar = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                shared.register(&shared.b, &waker);
            })
        };
        for _ in 0..2 {
            let stale = Box::pin(B::new_waiter());
            shared.register(&stale, &waker);
            assert!(!shared.cancel(&stale), "a younger waiter was selected");
        }
        registrar.join().unwrap();
        assert!(notifier.join().unwrap(), "a was waiting");
        assert!(
            shared.cancel(&shared.a),
            "the notify missed the oldest waiter"
        );
        assert!(!shared.cancel(&shared.b), "the notify chose b over a");
        assert!(!shared.queue.notify_one());
    });
}

macro_rules! models {
    ($module:ident, $backend:ty) => {
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
        }
    };
}

models!(parking_lot_hybrid, super::ParkingLotHybrid);
models!(seg_queue, super::SegQueue);
