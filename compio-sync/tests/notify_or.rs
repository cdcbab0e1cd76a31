//! `WaitQueue::notify_or` on every backend (and on the single-thread
//! `Local` queue): it notifies exactly as `notify_one` / `notify_last` do,
//! and runs `otherwise` exactly when it selected nobody. The race it exists
//! for (a registration against the `otherwise` of a queue that registers
//! under its selection lock) is modelled in `loom_notify_or.rs`.
#![cfg(not(loom))]

mod common;

use std::{
    cell::Cell,
    pin::pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::SeqCst},
    },
    task::{Context, Poll, Wake, Waker},
};

use compio_sync::backend::{Cancelled, WaitQueue, Woken};

const WAKEUP: usize = 0x1F;

/// A waker that counts its wakes.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (Arc<Counter>, Waker) {
    let counter = Arc::new(Counter::default());
    (counter.clone(), Waker::from(counter))
}

/// On an empty queue, `notify_or` runs `otherwise` once and reports that it
/// notified nobody, at either end.
fn notify_or_on_an_empty_queue_runs_otherwise<B: WaitQueue>() {
    let queue = B::new();
    for last in [false, true] {
        let ran = Cell::new(0);
        assert!(!queue.notify_or(last, WAKEUP, || ran.set(ran.get() + 1)));
        assert_eq!(ran.get(), 1, "otherwise runs once when nobody waits");
    }
}

/// With two waiters, `notify_or` notifies the one `notify_one` (or, with
/// `last`, `notify_last`) would, hands it the wake-up value, wakes its waker,
/// and does not run `otherwise`; the other stays waiting.
fn notify_or_selects_like_notify_one_and_skips_otherwise<B: WaitQueue>(last: bool, lifo: bool) {
    let queue = B::new();
    let first = pin!(B::new_waiter());
    let second = pin!(B::new_waiter());
    let (first_wakes, first_waker) = counting_waker();
    let (second_wakes, second_waker) = counting_waker();
    // SAFETY: both waiters are pinned on this stack frame, used with `queue`
    // only, and made idle (by `Ready` or `cancel`) before it ends.
    unsafe {
        queue.register(first.as_ref(), &first_waker, 1);
        queue.register(second.as_ref(), &second_waker, 2);
    }
    let ran = Cell::new(false);
    assert!(queue.notify_or(last, WAKEUP, || ran.set(true)));
    assert!(!ran.get(), "otherwise ran although a waiter was notified");
    let newest = last && lifo;
    let (picked, picked_waker, picked_wakes, picked_tag, other) = if newest {
        (&second, &second_waker, &second_wakes, 2, &first)
    } else {
        (&first, &first_waker, &first_wakes, 1, &second)
    };
    assert_eq!(
        picked_wakes.0.load(SeqCst),
        1,
        "the notified waiter is woken"
    );
    // SAFETY: as above; `picked` is registered and not yet observed `Ready`.
    let polled =
        unsafe { queue.poll_wait(picked.as_ref(), &mut Context::from_waker(picked_waker)) };
    assert_eq!(
        polled,
        Poll::Ready(Woken {
            wakeup: WAKEUP,
            tag: picked_tag
        })
    );
    // SAFETY: as above; `other` is still registered.
    let cancelled = unsafe { queue.cancel(other.as_ref()) };
    assert!(
        matches!(cancelled, Cancelled::Removed { .. }),
        "the other waiter was left waiting, got {cancelled:?}"
    );
    let ran = Cell::new(false);
    assert!(!queue.notify_or(last, WAKEUP, || ran.set(true)));
    assert!(ran.get(), "nobody is left: otherwise runs");
}

macro_rules! notify_or_suite {
    ($module:ident, $backend:ty, lifo) => {
        notify_or_suite!(@suite $module, $backend, true);
    };
    ($module:ident, $backend:ty, no_lifo = $reason:literal) => {
        notify_or_suite!(@suite $module, $backend, false);
    };
    (@suite $module:ident, $backend:ty, $lifo:expr) => {
        mod $module {
            type B = $backend;

            #[test]
            fn notify_or_on_an_empty_queue_runs_otherwise() {
                super::notify_or_on_an_empty_queue_runs_otherwise::<B>();
            }

            #[test]
            fn notify_or_selects_the_oldest_and_skips_otherwise() {
                super::notify_or_selects_like_notify_one_and_skips_otherwise::<B>(false, $lifo);
            }

            #[test]
            fn notify_or_last_selects_like_notify_last_and_skips_otherwise() {
                super::notify_or_selects_like_notify_one_and_skips_otherwise::<B>(true, $lifo);
            }
        }
    };
}

for_each_backend!(notify_or_suite, once);

notify_or_suite!(local, compio_sync::backend::Local, lifo);
