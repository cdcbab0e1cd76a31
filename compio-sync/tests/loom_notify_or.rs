//! loom models of `WaitQueue::notify_or` on the backends that register under
//! their selection lock (`REGISTERS_UNDER_SELECTION_LOCK`): `Intrusive` and
//! `MutexVecDeque`.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" \
//!     cargo test --release -p compio-sync --test loom_notify_or
//! ```
//!
//! `Notify` stores its permit in `notify_or`'s `otherwise` and re-checks it
//! after `register`, with no fence and no registration count on these
//! backends: the lock alone must order the two. So the models use `Relaxed`
//! accesses to the condition and no fence anywhere. A lost wake-up (neither
//! side saw the other) fails an assertion; so does a notify that both
//! selected a waiter and ran `otherwise`.
#![cfg(loom)]

mod common;
#[path = "common/loom.rs"]
mod loom_model;

use std::{
    pin::Pin,
    sync::atomic::{AtomicUsize, Ordering::SeqCst},
    task::{Context, Poll, Wake, Waker},
};

use compio_sync::backend::{Cancelled, Intrusive, MutexVecDeque, WaitQueue, Woken};
use loom::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::Relaxed},
    },
    thread,
};
use loom_model::{Backend, Class, check_on};

/// The wake-up value the notifier hands over.
const WAKEUP: usize = 7;

/// Counts wakes; only counts (a plain `std` atomic, invisible to loom).
#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A queue, two boxed (so pinned) waiters and the primitive's condition.
struct Shared<B: WaitQueue> {
    queue: B,
    a: Pin<Box<B::Waiter>>,
    b: Pin<Box<B::Waiter>>,
    condition: AtomicBool,
}

impl<B: WaitQueue> Shared<B> {
    fn new() -> Arc<Self> {
        assert!(
            B::REGISTERS_UNDER_SELECTION_LOCK,
            "these models check the promise of a queue that registers under its selection lock"
        );
        Arc::new(Self {
            queue: B::new(),
            a: Box::pin(B::new_waiter()),
            b: Box::pin(B::new_waiter()),
            condition: AtomicBool::new(false),
        })
    }

    /// `notify_or` whose `otherwise` sets the condition, as `Notify` stores
    /// its permit.
    fn notify_or_set(&self, last: bool) -> bool {
        self.queue
            .notify_or(last, WAKEUP, || self.condition.store(true, Relaxed))
    }

    // SAFETY (for the three wrappers): `a` and `b` are only used with
    // `queue`, are boxed (pinned for their whole life), and every model makes
    // them idle before dropping `Shared`.

    fn register(&self, waiter: &Pin<Box<B::Waiter>>, waker: &Waker) {
        // SAFETY: see above.
        unsafe { self.queue.register(waiter.as_ref(), waker, 1) }
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

    /// The waiter's side of `Notify`: register, then re-check the condition
    /// with no fence. If it saw the condition it leaves (idle again) and
    /// returns `Some(notified too)`; otherwise it stays registered and
    /// returns `None`: a notify must select it.
    fn register_and_check(&self, waiter: &Pin<Box<B::Waiter>>, waker: &Waker) -> Option<bool> {
        self.register(waiter, waker);
        if !self.condition.load(Relaxed) {
            return None;
        }
        Some(match self.cancel(waiter) {
            Cancelled::Removed { tag } => {
                assert_eq!(tag, 1);
                false
            }
            Cancelled::Notified(woken) => {
                assert_eq!(
                    woken,
                    Woken {
                        wakeup: WAKEUP,
                        tag: 1
                    }
                );
                true
            }
            Cancelled::Idle => panic!("a registered waiter reported idle"),
        })
    }

    /// Ends the wait of a waiter that `register_and_check` left registered,
    /// once every notifier is done: `true` if it was selected (then its
    /// waker was woken), else it is cancelled.
    fn finish(&self, waiter: &Pin<Box<B::Waiter>>, waker: &Waker, counter: &Counter) -> bool {
        match self.poll(waiter, waker) {
            Poll::Ready(woken) => {
                assert_eq!(
                    woken,
                    Woken {
                        wakeup: WAKEUP,
                        tag: 1
                    }
                );
                assert!(counter.0.load(SeqCst) >= 1, "selected but not woken");
                true
            }
            Poll::Pending => {
                assert_eq!(self.cancel(waiter), Cancelled::Removed { tag: 1 });
                false
            }
        }
    }
}

fn counting_waker() -> (std::sync::Arc<Counter>, Waker) {
    let counter = std::sync::Arc::new(Counter::default());
    (counter.clone(), Waker::from(counter))
}

/// One waiter registers and re-checks the condition while a notifier calls
/// `notify_or(set the condition)`: the waiter either sees the condition or is
/// selected, never neither (a lost wake-up), and `otherwise` runs exactly
/// when nobody was selected.
fn notify_or_racing_register_sees_the_condition_or_selects<B: Backend>(last: bool) {
    check_on::<B>(Class::Queue, move || {
        let shared = Shared::<B>::new();
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || shared.notify_or_set(last))
        };
        let (counter, waker) = counting_waker();
        let checked = shared.register_and_check(&shared.a, &waker);
        let selected = notifier.join().unwrap();
        assert_eq!(
            shared.condition.load(Relaxed),
            !selected,
            "`otherwise` ran although a waiter was selected, or not at all"
        );
        let notified = match checked {
            Some(notified) => notified,
            None => {
                let notified = shared.finish(&shared.a, &waker, &counter);
                assert!(notified, "lost wake-up: neither side saw the other");
                notified
            }
        };
        assert_eq!(selected, notified, "a selection the waiter never observed");
        assert!(!shared.notify_or_set(last), "nobody is left to select");
    });
}

/// Two waiters register and re-check while one `notify_or` runs. If it
/// selected nobody, both registered after it and both see the condition;
/// if it selected one, that one observes it and the other was not selected.
fn notify_or_racing_two_registrations<B: Backend>() {
    check_on::<B>(Class::Queue, || {
        let shared = Shared::<B>::new();
        let notifier = {
            let shared = shared.clone();
            thread::spawn(move || shared.notify_or_set(false))
        };
        let other = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (counter, waker) = counting_waker();
                let checked = shared.register_and_check(&shared.b, &waker);
                (checked, counter, waker)
            })
        };
        let (counter_a, waker_a) = counting_waker();
        let checked_a = shared.register_and_check(&shared.a, &waker_a);
        let (checked_b, counter_b, waker_b) = other.join().unwrap();
        let selected = notifier.join().unwrap();
        if !selected {
            assert!(
                checked_a.is_some() && checked_b.is_some(),
                "lost wake-up: a waiter registered after `otherwise` missed the condition"
            );
        }
        let notified_a = match checked_a {
            Some(notified) => notified,
            None => shared.finish(&shared.a, &waker_a, &counter_a),
        };
        let notified_b = match checked_b {
            Some(notified) => notified,
            None => shared.finish(&shared.b, &waker_b, &counter_b),
        };
        assert_eq!(
            usize::from(notified_a) + usize::from(notified_b),
            usize::from(selected),
            "one selection, observed once"
        );
    });
}

macro_rules! models {
    ($module:ident, $backend:ty) => {
        mod $module {
            #[test]
            fn notify_or_racing_register_sees_the_condition_or_selects() {
                super::notify_or_racing_register_sees_the_condition_or_selects::<$backend>(false);
            }

            #[test]
            fn notify_or_last_racing_register_sees_the_condition_or_selects() {
                super::notify_or_racing_register_sees_the_condition_or_selects::<$backend>(true);
            }

            #[test]
            fn notify_or_racing_two_registrations() {
                super::notify_or_racing_two_registrations::<$backend>();
            }
        }
    };
}

models!(intrusive, super::Intrusive);
models!(mutex_vecdeque, super::MutexVecDeque);
