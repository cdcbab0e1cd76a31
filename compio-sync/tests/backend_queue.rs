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

#[path = "backend_queue/cases/mod.rs"]
mod cases;

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
            case!(cancel_retires_the_waker_until_the_next_register_or_drop);
            case!(release_drops_the_retired_waker_and_leaves_the_waiter_idle);
            case!(stale_cancelled_waiters_never_eat_notify_one);
            case!(notify_one_is_fifo);

            #[test]
            fn notify_one_near_notifies_one_and_reaches_the_head() {
                cases::notify_one_near_notifies_one_and_reaches_the_head::<B>();
            }

            /// Whatever the patience, one waiter per call, every one once.
            #[test]
            fn notify_one_near_within_notifies_one_and_reaches_everyone() {
                use std::time::Duration;
                for patience in [Duration::ZERO, Duration::from_secs(3600)] {
                    cases::notify_one_near_within_head_at::<B>(patience, None);
                }
            }
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
            case!(poll_notified_keeps_the_last_polled_waker_and_reports_the_wakeup);
            case!(poll_notified_reports_every_kind_of_selection);
            case!(waiter_made_idle_by_poll_notified_registers_again);
            case!(poll_notified_sees_a_notify_from_another_thread);

            #[test]
            fn notify_last_follows_documented_order() {
                cases::notify_last_follows_documented_order::<B>($lifo);
            }
        }
    };
}

for_each_backend!(contract_suite, once);

/// How many calls of `notify_one_near` reach a head registered on another
/// thread, ahead of this thread's waiters (see the case).
fn near_head_at<B: ThreadSafe>() -> usize {
    cases::notify_one_near_notifies_one_and_reaches_the_head::<B>()
}

/// The intrusive-list backends wake this thread's waiters first: the head,
/// of another thread, is passed over 4 times in a row, then notified. The
/// other backends notify it first.
#[test]
fn intrusive_list_backends_pass_the_head_four_times_at_most() {
    use compio_sync::backend::{Intrusive, MutexVecDeque};
    assert_eq!(near_head_at::<Intrusive>(), 5);
    #[cfg(all(target_os = "linux", feature = "io-uring-futex"))]
    assert_eq!(near_head_at::<compio_sync::backend::IoUringFutex>(), 5);
    #[cfg(all(windows, feature = "iocp"))]
    assert_eq!(near_head_at::<compio_sync::backend::Iocp>(), 5);
    assert_eq!(near_head_at::<MutexVecDeque>(), 1);
}

/// `notify_one_near_within` on the intrusive-list backends: this thread's
/// waiters go first for as long as the head (of another thread) has been
/// passed over for less than the patience, however many wake-ups that
/// takes; a patience of zero never passes it over; once the patience has
/// run out since the first call passed it over, the head is next. The
/// other backends notify the head first (their `notify_one_near`).
#[test]
fn intrusive_list_backends_pass_the_head_while_patient() {
    use std::time::Duration;

    use compio_sync::backend::{Intrusive, MutexVecDeque};
    fn head_at<B: compio_sync::backend::ThreadSafe>(
        patience: Duration,
        pause: Option<Duration>,
    ) -> usize {
        cases::notify_one_near_within_head_at::<B>(patience, pause)
    }
    fn list_backend<B: compio_sync::backend::ThreadSafe>() {
        let hour = Duration::from_secs(3600);
        assert_eq!(head_at::<B>(hour, None), 7, "six passes, not four");
        assert_eq!(head_at::<B>(Duration::ZERO, None), 1);
        let patience = Duration::from_millis(20);
        assert_eq!(head_at::<B>(patience, Some(2 * patience)), 2);
    }
    list_backend::<Intrusive>();
    #[cfg(all(target_os = "linux", feature = "io-uring-futex"))]
    list_backend::<compio_sync::backend::IoUringFutex>();
    #[cfg(all(windows, feature = "iocp"))]
    list_backend::<compio_sync::backend::Iocp>();
    assert_eq!(head_at::<MutexVecDeque>(Duration::from_secs(3600), None), 1);
}

/// The single-thread queue is not `ThreadSafe`, so the suite above does not
/// instantiate it; these cases are generic over any `WaitQueue`.
mod local {
    use super::cases;
    type B = compio_sync::backend::Local;

    #[test]
    fn poll_notified_keeps_the_last_polled_waker_and_reports_the_wakeup() {
        cases::poll_notified_keeps_the_last_polled_waker_and_reports_the_wakeup::<B>();
    }

    #[test]
    fn poll_notified_reports_every_kind_of_selection() {
        cases::poll_notified_reports_every_kind_of_selection::<B>();
    }

    #[test]
    fn waiter_made_idle_by_poll_notified_registers_again() {
        cases::waiter_made_idle_by_poll_notified_registers_again::<B>();
    }

    #[test]
    fn release_drops_the_retired_waker_and_leaves_the_waiter_idle() {
        cases::release_drops_the_retired_waker_and_leaves_the_waiter_idle::<B>();
    }
}
