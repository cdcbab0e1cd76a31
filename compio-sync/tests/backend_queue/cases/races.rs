//! The contract under concurrency: threads registering, cancelling and
//! notifying at once, with exact counts (see `mod.rs`).

use super::super::*;

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
