//! The `WaitQueue` contract, checked against every backend.
//!
//! Each case in `cases` drives the trait directly (pinned waiters, counting
//! wakers, no primitive on top) and is instantiated once per backend by
//! `contract_suite!` at the bottom. A backend-specific section follows it.
#![cfg(not(loom))] // The loom models of the backends are in `loom_backends.rs`.

use std::{
    pin::{Pin, pin},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering::*, fence},
    },
    task::{Context, Poll, Wake, Waker},
    thread,
};

use compio_sync::backend::WaitQueue;

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

fn register<B: WaitQueue>(queue: &B, waiter: Pin<&B::Waiter>, waker: &Waker) {
    // SAFETY: each test uses a waiter with one queue and makes it idle
    // (Ready or cancelled) before it goes out of scope.
    unsafe { queue.register(waiter, waker) }
}

fn poll<B: WaitQueue>(queue: &B, waiter: Pin<&B::Waiter>, waker: &Waker) -> Poll<()> {
    // SAFETY: as in `register`; tests only poll registered waiters.
    unsafe { queue.poll_wait(waiter, &mut Context::from_waker(waker)) }
}

fn cancel<B: WaitQueue>(queue: &B, waiter: Pin<&B::Waiter>) -> bool {
    // SAFETY: as in `register`.
    unsafe { queue.cancel(waiter) }
}

/// Calls every queue entry point from inside a waker's `wake` or `Drop`: if
/// the queue ran wakers under its lock, this would deadlock.
fn reenter<B: WaitQueue>(queue: &B) {
    queue.notify_one();
    queue.notify_all();
    let waiter = pin!(B::new_waiter());
    let (_, waker) = counting_waker();
    register(queue, waiter.as_ref(), &waker);
    // Nothing else can select it: this thread holds the only reference
    // in use, and the notifies above ran before the register.
    assert!(!cancel(queue, waiter.as_ref()));
}

/// A waker that re-enters its queue when woken and when dropped.
struct Reentrant<B: WaitQueue> {
    queue: Arc<B>,
    wakes: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

impl<B: WaitQueue> Wake for Reentrant<B> {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
        reenter(&*self.queue);
    }
}

impl<B: WaitQueue> Drop for Reentrant<B> {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
        reenter(&*self.queue);
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

    pub fn notify_on_empty_queue_selects_nobody<B: WaitQueue>() {
        let queue = B::new();
        assert!(!queue.notify_one());
        assert!(!queue.notify_last());
        assert_eq!(queue.notify_all(), 0);
    }

    pub fn notify_one_wakes_registered_waiter_then_poll_is_ready<B: WaitQueue>() {
        let queue = B::new();
        let waiter = pin!(B::new_waiter());
        let (counter, waker) = counting_waker();
        register(&queue, waiter.as_ref(), &waker);
        assert_eq!(poll(&queue, waiter.as_ref(), &waker), Poll::Pending);
        assert_eq!(counter.count(), 0);
        assert!(queue.notify_one());
        assert_eq!(counter.count(), 1);
        assert_eq!(poll(&queue, waiter.as_ref(), &waker), Poll::Ready(()));
        // Ready made it idle: nothing is left to select or cancel.
        assert!(!queue.notify_one());
        assert!(!cancel(&queue, waiter.as_ref()));
    }

    pub fn notify_wakes_the_waker_given_to_the_latest_poll<B: WaitQueue>() {
        let queue = B::new();
        let waiter = pin!(B::new_waiter());
        let (first, first_waker) = counting_waker();
        let (second, second_waker) = counting_waker();
        register(&queue, waiter.as_ref(), &first_waker);
        assert_eq!(poll(&queue, waiter.as_ref(), &second_waker), Poll::Pending);
        assert!(queue.notify_one());
        assert_eq!((first.count(), second.count()), (0, 1));
        assert_eq!(
            poll(&queue, waiter.as_ref(), &second_waker),
            Poll::Ready(())
        );
    }

    pub fn cancel_after_notify_returns_true_and_can_pass_it_on<B: WaitQueue>() {
        let queue = B::new();
        let first = pin!(B::new_waiter());
        let second = pin!(B::new_waiter());
        let (first_counter, first_waker) = counting_waker();
        let (second_counter, second_waker) = counting_waker();
        register(&queue, first.as_ref(), &first_waker);
        register(&queue, second.as_ref(), &second_waker);
        assert!(queue.notify_one());
        assert_eq!(first_counter.count(), 1);
        // The owner drops its notified future: cancel reports the notification
        // and the primitive passes it to the next waiter.
        assert!(cancel(&queue, first.as_ref()));
        assert!(
            !cancel(&queue, first.as_ref()),
            "cancel made the waiter idle"
        );
        assert!(queue.notify_one());
        assert_eq!(second_counter.count(), 1);
        assert_eq!(
            poll(&queue, second.as_ref(), &second_waker),
            Poll::Ready(())
        );
    }

    pub fn cancel_while_waiting_returns_false_and_leaves_nothing<B: WaitQueue>() {
        let queue = B::new();
        let waiter = pin!(B::new_waiter());
        let (counter, waker) = counting_waker();
        register(&queue, waiter.as_ref(), &waker);
        assert!(!cancel(&queue, waiter.as_ref()));
        assert!(!queue.notify_one());
        assert_eq!(queue.notify_all(), 0);
        assert_eq!(counter.count(), 0);
        // The same waiter can wait again.
        register(&queue, waiter.as_ref(), &waker);
        assert!(queue.notify_one());
        assert_eq!(poll(&queue, waiter.as_ref(), &waker), Poll::Ready(()));
    }

    pub fn cancel_of_idle_waiter_returns_false<B: WaitQueue>() {
        let queue = B::new();
        let waiter = pin!(B::new_waiter());
        assert!(!cancel(&queue, waiter.as_ref()));
    }

    pub fn stale_cancelled_waiters_never_eat_notify_one<B: WaitQueue>() {
        let queue = B::new();
        let live = pin!(B::new_waiter());
        let (live_counter, live_waker) = counting_waker();
        let (stale_counter, stale_waker) = counting_waker();
        // Stale registrations both before and after the live one.
        for _ in 0..50 {
            let stale = pin!(B::new_waiter());
            register(&queue, stale.as_ref(), &stale_waker);
            assert!(!cancel(&queue, stale.as_ref()));
        }
        register(&queue, live.as_ref(), &live_waker);
        for _ in 0..50 {
            let stale = pin!(B::new_waiter());
            register(&queue, stale.as_ref(), &stale_waker);
            assert!(!cancel(&queue, stale.as_ref()));
        }
        assert!(queue.notify_one());
        assert_eq!(live_counter.count(), 1);
        assert_eq!(stale_counter.count(), 0);
        assert_eq!(poll(&queue, live.as_ref(), &live_waker), Poll::Ready(()));
        assert!(!queue.notify_one());
    }

    pub fn notify_one_is_fifo<B: WaitQueue>() {
        let queue = B::new();
        let waiters: [_; 6] = std::array::from_fn(|_| Box::pin(B::new_waiter()));
        let wakers: Vec<_> = (0..6).map(|_| counting_waker()).collect();
        for (waiter, (_, waker)) in waiters.iter().zip(&wakers) {
            register(&queue, waiter.as_ref(), waker);
        }
        // A cancelled waiter in the middle does not disturb the order.
        assert!(!cancel(&queue, waiters[2].as_ref()));
        for expected in [0, 1, 3, 4, 5] {
            assert!(queue.notify_one());
            let woken: Vec<_> = wakers.iter().map(|(c, _)| c.count()).collect();
            for (index, count) in woken.iter().enumerate() {
                let should = usize::from(index <= expected && index != 2);
                assert_eq!(*count, should, "after notifying #{expected}: {woken:?}");
            }
            assert_eq!(
                poll(&queue, waiters[expected].as_ref(), &wakers[expected].1),
                Poll::Ready(())
            );
        }
        assert!(!queue.notify_one());
    }

    /// The first waiter leaves (notified or cancelled) while others queue
    /// behind it; a later arrival still goes behind them. This is the
    /// hybrid's slot-to-list switch.
    pub fn fifo_holds_when_first_waiter_leaves_while_others_queue<B: WaitQueue>() {
        for first_is_cancelled in [false, true] {
            let queue = B::new();
            let [a, b, c, d] = std::array::from_fn(|_| Box::pin(B::new_waiter()));
            let [ka, kb, kc, kd] = std::array::from_fn(|_| counting_waker());
            register(&queue, a.as_ref(), &ka.1);
            register(&queue, b.as_ref(), &kb.1);
            register(&queue, c.as_ref(), &kc.1);
            if first_is_cancelled {
                assert!(!cancel(&queue, a.as_ref()));
            } else {
                assert!(queue.notify_one());
                assert_eq!(ka.0.count(), 1);
                assert_eq!(poll(&queue, a.as_ref(), &ka.1), Poll::Ready(()));
            }
            register(&queue, d.as_ref(), &kd.1);
            for (waiter, (counter, waker)) in [(&b, &kb), (&c, &kc), (&d, &kd)] {
                assert!(queue.notify_one());
                assert_eq!(counter.count(), 1);
                assert_eq!(poll(&queue, waiter.as_ref(), waker), Poll::Ready(()));
            }
            assert!(!queue.notify_one());
        }
    }

    /// `lifo`: whether the backend documents `notify_last` as LIFO (else it
    /// documents FIFO).
    pub fn notify_last_follows_documented_order<B: WaitQueue>(lifo: bool) {
        let queue = B::new();
        let waiters: [_; 4] = std::array::from_fn(|_| Box::pin(B::new_waiter()));
        let wakers: Vec<_> = (0..4).map(|_| counting_waker()).collect();
        for (waiter, (_, waker)) in waiters.iter().zip(&wakers) {
            register(&queue, waiter.as_ref(), waker);
        }
        let order: Vec<usize> = if lifo {
            vec![3, 2, 1, 0]
        } else {
            vec![0, 1, 2, 3]
        };
        for index in order {
            assert!(queue.notify_last());
            assert_eq!(wakers[index].0.count(), 1, "expected #{index} next");
            assert_eq!(
                poll(&queue, waiters[index].as_ref(), &wakers[index].1),
                Poll::Ready(())
            );
        }
        assert!(!queue.notify_last());
    }

    /// Each original waiter's waker registers a new waiter on the same queue
    /// while `notify_all` is running; those must stay waiting. 40 waiters
    /// span two wake batches.
    pub fn notify_all_wakes_only_earlier_registrations<B: WaitQueue + 'static>() {
        const N: usize = 40;
        type Late<B> = Mutex<Vec<(Pin<Box<<B as WaitQueue>::Waiter>>, Arc<Counter>, Waker)>>;

        struct RegisterOnWake<B: WaitQueue> {
            queue: Arc<B>,
            late: Arc<Late<B>>,
        }
        impl<B: WaitQueue> Wake for RegisterOnWake<B> {
            fn wake(self: Arc<Self>) {
                let waiter = Box::pin(B::new_waiter());
                let (counter, waker) = counting_waker();
                register(&*self.queue, waiter.as_ref(), &waker);
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
            register(&*queue, waiter.as_ref(), &waker);
        }
        assert_eq!(queue.notify_all(), N);
        let late = std::mem::take(&mut *late.lock().unwrap());
        assert_eq!(late.len(), N, "every early waiter was woken once");
        for (waiter, counter, waker) in &late {
            assert_eq!(counter.count(), 0);
            assert_eq!(poll(&*queue, waiter.as_ref(), waker), Poll::Pending);
        }
        for waiter in &early {
            assert_eq!(poll(&*queue, waiter.as_ref(), &waker), Poll::Ready(()));
        }
        assert_eq!(queue.notify_all(), N);
        for (waiter, counter, waker) in &late {
            assert_eq!(counter.count(), 1);
            assert_eq!(poll(&*queue, waiter.as_ref(), waker), Poll::Ready(()));
        }
        assert_eq!(queue.notify_all(), 0);
    }

    pub fn waker_reentering_queue_from_wake_or_drop_does_not_deadlock<B: WaitQueue + 'static>() {
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
        register(&*queue, waiter.as_ref(), &reentrant());
        if poll(&*queue, waiter.as_ref(), &plain).is_pending() {
            assert_eq!(
                counter.count(),
                1,
                "the re-entrant notify woke the new waker"
            );
            assert_eq!(poll(&*queue, waiter.as_ref(), &plain), Poll::Ready(()));
        }
        assert_eq!(drops.load(SeqCst), 1);

        // 2. The queue wakes (and then drops) the waker.
        register(&*queue, waiter.as_ref(), &reentrant());
        assert!(queue.notify_one());
        assert_eq!(wakes.load(SeqCst), 1);
        assert_eq!(poll(&*queue, waiter.as_ref(), &plain), Poll::Ready(()));
        assert_eq!(drops.load(SeqCst), 2);

        // 3. `cancel` drops the waker.
        register(&*queue, waiter.as_ref(), &reentrant());
        assert!(!cancel(&*queue, waiter.as_ref()));
        assert_eq!(drops.load(SeqCst), 3);

        // 4. `notify_all` wakes it.
        register(&*queue, waiter.as_ref(), &reentrant());
        assert_eq!(queue.notify_all(), 1);
        assert_eq!(poll(&*queue, waiter.as_ref(), &plain), Poll::Ready(()));
        assert_eq!((wakes.load(SeqCst), drops.load(SeqCst)), (2, 4));
    }

    pub fn const_new_queue_works<B: WaitQueue>() {
        let queue = B::NEW;
        let waiter = pin!(B::new_waiter());
        let (counter, waker) = counting_waker();
        register(&queue, waiter.as_ref(), &waker);
        assert!(queue.notify_one());
        assert_eq!(counter.count(), 1);
        assert_eq!(poll(&queue, waiter.as_ref(), &waker), Poll::Ready(()));
    }

    /// A one-permit semaphore on the event-count protocol, hammered by two
    /// threads that each acquire and release it `ROUNDS` times.
    pub fn two_thread_semaphore_stress_keeps_exact_counts<B: WaitQueue>() {
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

        fn release<B: WaitQueue>(s: &Shared<B>) {
            s.permits.fetch_add(1, Release);
            // Orders the permit before the look at the queue (protocol).
            fence(SeqCst);
            if s.queue.notify_one() {
                s.notifies_selected.fetch_add(1, SeqCst);
            }
        }

        fn acquire<B: WaitQueue>(s: &Shared<B>) {
            let waker = Waker::from(Arc::new(Unpark(thread::current())));
            loop {
                if try_take(&s.permits) {
                    return;
                }
                let waiter = pin!(B::new_waiter());
                register(&s.queue, waiter.as_ref(), &waker);
                // Orders the registration before the re-check (protocol).
                fence(SeqCst);
                if try_take(&s.permits) {
                    if cancel(&s.queue, waiter.as_ref()) {
                        // Notified after all: pass the notification on.
                        s.notifications_seen.fetch_add(1, SeqCst);
                        if s.queue.notify_one() {
                            s.notifies_selected.fetch_add(1, SeqCst);
                        }
                    }
                    return;
                }
                while poll(&s.queue, waiter.as_ref(), &waker).is_pending() {
                    thread::park();
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
        assert!(!shared.queue.notify_one(), "no waiter left behind");
    }

    /// One thread registers and cancels as fast as it can, the other notifies
    /// as fast as it can: every `notify_one` that returned `true` is seen by
    /// exactly one `cancel` that returned `true`.
    pub fn cancel_racing_notify_accounts_for_every_notification<B: WaitQueue>() {
        const ROUNDS: usize = 20_000;
        let queue = Arc::new(B::new());
        let done = Arc::new(AtomicBool::new(false));
        let notifier = {
            let (queue, done) = (queue.clone(), done.clone());
            thread::spawn(move || {
                let mut selected = 0;
                while !done.load(SeqCst) {
                    selected += usize::from(queue.notify_one());
                }
                selected
            })
        };
        let (_, waker) = counting_waker();
        let mut seen = 0;
        for round in 0..ROUNDS {
            let waiter = pin!(B::new_waiter());
            register(&*queue, waiter.as_ref(), &waker);
            if round % 2 == 0 {
                thread::yield_now();
            }
            seen += usize::from(cancel(&*queue, waiter.as_ref()));
        }
        done.store(true, SeqCst);
        let selected = notifier.join().unwrap();
        assert_eq!(selected, seen);
        assert!(!queue.notify_one());
    }
}

/// Instantiates every case for one backend. `lifo` says whether the backend
/// documents `notify_last` as LIFO.
macro_rules! contract_suite {
    ($module:ident, $backend:ty, lifo: $lifo:expr) => {
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
            case!(notify_wakes_the_waker_given_to_the_latest_poll);
            case!(cancel_after_notify_returns_true_and_can_pass_it_on);
            case!(cancel_while_waiting_returns_false_and_leaves_nothing);
            case!(cancel_of_idle_waiter_returns_false);
            case!(stale_cancelled_waiters_never_eat_notify_one);
            case!(notify_one_is_fifo);
            case!(fifo_holds_when_first_waiter_leaves_while_others_queue);
            case!(notify_all_wakes_only_earlier_registrations);
            case!(waker_reentering_queue_from_wake_or_drop_does_not_deadlock);
            case!(const_new_queue_works);
            case!(two_thread_semaphore_stress_keeps_exact_counts);
            case!(cancel_racing_notify_accounts_for_every_notification);

            #[test]
            fn notify_last_follows_documented_order() {
                cases::notify_last_follows_documented_order::<B>($lifo);
            }
        }
    };
}

contract_suite!(mutex_vecdeque, compio_sync::backend::MutexVecDeque, lifo: true);
contract_suite!(intrusive, compio_sync::backend::Intrusive, lifo: true);
contract_suite!(parking_lot_hybrid, compio_sync::backend::ParkingLotHybrid, lifo: true);
contract_suite!(seg_queue, compio_sync::backend::SegQueue, lifo: false);

/// Backend-specific behaviour.
mod seg_queue_growth {
    use compio_sync::backend::SegQueue;

    use super::*;

    /// A loop of `timeout(acquire)` that always expires: register, then
    /// cancel, forever, with nobody notifying. Stale handles must be purged.
    #[test]
    fn cancel_storm_keeps_queue_length_bounded() {
        const CYCLES: usize = 100_000;
        // The documented bound without concurrent cancellations, one live
        // waiter, plus the registration in flight.
        const BOUND: usize = SegQueue::PURGE_MIN + 1 + 1;
        let queue = SegQueue::new();
        let (live_counter, live_waker) = counting_waker();
        let live = pin!(SegQueue::new_waiter());
        register(&queue, live.as_ref(), &live_waker);
        let (stale_counter, stale_waker) = counting_waker();
        let mut longest = 0;
        for _ in 0..CYCLES {
            let waiter = pin!(SegQueue::new_waiter());
            register(&queue, waiter.as_ref(), &stale_waker);
            assert!(!cancel(&queue, waiter.as_ref()));
            longest = longest.max(queue.len_hint());
        }
        assert!(longest <= BOUND, "queue grew to {longest} handles");
        // The purges kept the live waiter, and at the head.
        let next = pin!(SegQueue::new_waiter());
        register(&queue, next.as_ref(), &stale_waker);
        assert!(queue.notify_one());
        assert_eq!((live_counter.count(), stale_counter.count()), (1, 0));
        assert_eq!(poll(&queue, live.as_ref(), &live_waker), Poll::Ready(()));
        assert!(!cancel(&queue, next.as_ref()));
        assert!(!queue.notify_one());
        assert_eq!(queue.len_hint(), 0);
    }

    /// The same storm from two threads at once, while a third waiter waits.
    #[test]
    fn concurrent_cancel_storms_keep_queue_length_bounded() {
        const CYCLES: usize = 50_000;
        let queue = Arc::new(SegQueue::new());
        let (live_counter, live_waker) = counting_waker();
        let live = pin!(SegQueue::new_waiter());
        register(&*queue, live.as_ref(), &live_waker);
        let storms: Vec<_> = (0..2)
            .map(|_| {
                let queue = queue.clone();
                thread::spawn(move || {
                    let (_, waker) = counting_waker();
                    let mut longest = 0;
                    for _ in 0..CYCLES {
                        let waiter = pin!(SegQueue::new_waiter());
                        register(&*queue, waiter.as_ref(), &waker);
                        assert!(!cancel(&*queue, waiter.as_ref()));
                        longest = longest.max(queue.len_hint());
                    }
                    longest
                })
            })
            .collect();
        let longest = storms.into_iter().map(|t| t.join().unwrap()).max().unwrap();
        // The documented bound with concurrent cancellations (one live waiter,
        // two cancelling threads), plus the two registrations in flight.
        let bound = 4 * SegQueue::PURGE_MIN + 1 + 2 + 2;
        assert!(longest <= bound, "queue grew to {longest} handles");
        assert!(queue.notify_one());
        assert_eq!(live_counter.count(), 1);
        assert_eq!(poll(&*queue, live.as_ref(), &live_waker), Poll::Ready(()));
        assert!(!queue.notify_one());
    }
}
#[cfg(all(target_os = "linux", feature = "io-uring-futex"))]
contract_suite!(io_uring_futex, compio_sync::backend::IoUringFutex, lifo: true);
#[cfg(all(windows, feature = "iocp"))]
contract_suite!(iocp, compio_sync::backend::Iocp, lifo: true);
