//! The semaphore's fast paths and its retry protocol at their edges: a waiter
//! woken with `RETRY` that finds the permit taken queues again still counted
//! and still holding `PENDING` (the wake-up in flight), and gives both up when
//! it registers again, is served, or is dropped. These tests pin the cases
//! where that registration unwinds (a waker whose `clone` panics), on the
//! thread-safe and the local flavor. The protocol's races are in
//! `loom_fastpath.rs`.
#![cfg(not(loom))]

mod common;

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    pin::pin,
    sync::atomic::Ordering::SeqCst,
    task::Poll,
};

use common::{Hostile, counting_waker, poll_once};

/// Runs the scenario on one semaphore type (both flavors have the same API).
macro_rules! retry_requeue_suite {
    ($flavor:ident, $Semaphore:ty) => {
        mod $flavor {
            use super::*;

            /// Two waiters queue; a release wakes the first with `RETRY`, and a
            /// barging `try_acquire` takes the permit before it runs. Queueing
            /// again, the first waiter's waker clone panics. Still counted
            /// and holding `PENDING`, it is polled again after the barging
            /// permit is back: it is served (it must not take the permit
            /// through the uncontended fast path and keep `PENDING`), and its
            /// release then wakes the second waiter.
            #[test]
            fn requeue_clone_panic_then_served_still_wakes_the_next_waiter() {
                let sem = <$Semaphore>::new(0);
                let (hostile, hostile_waker) = Hostile::new();
                let (_, good) = counting_waker();
                let mut first = pin!(sem.acquire());
                assert!(poll_once(first.as_mut(), &hostile_waker).is_pending());
                let (second_woken, second_waker) = counting_waker();
                let mut second = pin!(sem.acquire());
                assert!(poll_once(second.as_mut(), &second_waker).is_pending());

                sem.add_permits(1);
                assert_eq!(hostile.wakes(), 1, "the release woke the first waiter");
                let barged = sem.try_acquire().expect("the permit is free to barge");
                hostile.panic_on_clone(1);
                let unwound = catch_unwind(AssertUnwindSafe(|| {
                    let _ = poll_once(first.as_mut(), &hostile_waker);
                }));
                assert!(unwound.is_err(), "the re-registration's clone panicked");

                drop(barged);
                let Poll::Ready(Ok(permit)) = poll_once(first.as_mut(), &good) else {
                    panic!("the first waiter is served once the permit is back");
                };
                assert_eq!(second_woken.wakes.load(SeqCst), 0);
                drop(permit);
                assert_eq!(
                    second_woken.wakes.load(SeqCst),
                    1,
                    "the first waiter's release woke the second"
                );
                assert!(matches!(
                    poll_once(second.as_mut(), &second_waker),
                    Poll::Ready(Ok(_))
                ));
                assert_eq!(sem.available_permits(), 1);
            }

            /// As above, but the first waiter is dropped after its
            /// registration unwound: it passes the wake-up on, so the second
            /// waiter is woken for the permit the barging task releases.
            #[test]
            fn requeue_clone_panic_then_dropped_passes_the_wake_up_on() {
                let sem = <$Semaphore>::new(0);
                let (hostile, hostile_waker) = Hostile::new();
                let mut first = Box::pin(sem.acquire());
                assert!(poll_once(first.as_mut(), &hostile_waker).is_pending());
                let (second_woken, second_waker) = counting_waker();
                let mut second = pin!(sem.acquire());
                assert!(poll_once(second.as_mut(), &second_waker).is_pending());

                sem.add_permits(1);
                let barged = sem.try_acquire().expect("the permit is free to barge");
                hostile.panic_on_clone(1);
                let unwound = catch_unwind(AssertUnwindSafe(|| {
                    let _ = poll_once(first.as_mut(), &hostile_waker);
                }));
                assert!(unwound.is_err(), "the re-registration's clone panicked");
                drop(first);
                drop(barged);
                assert_eq!(
                    second_woken.wakes.load(SeqCst),
                    1,
                    "the barging release woke the second waiter"
                );
                assert!(matches!(
                    poll_once(second.as_mut(), &second_waker),
                    Poll::Ready(Ok(_))
                ));
                assert_eq!(sem.available_permits(), 1);
            }
        }
    };
}

retry_requeue_suite!(thread_safe, compio_sync::Semaphore);
retry_requeue_suite!(local, compio_sync::local::Semaphore);
