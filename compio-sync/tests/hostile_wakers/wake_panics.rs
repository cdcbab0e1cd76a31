//! Defect 4: wakers that panic in `wake` during a `notify_all` batch
//! (`notify_waiters`, `Condvar::notify_all`, `Semaphore::close`, and the
//! queue's own `notify_all`/`notify_one`): the panic propagates once,
//! every waiter is woken, and no clone of any waker outlives the test.

use super::*;

/// How many waiters the batch tests queue: more than one `WakeBatch` (32).
const MANY: usize = 40;
/// The waiters whose `wake` panics in the batch tests: two in the first batch,
/// one in the second.
const PANICKY: [usize; 3] = [1, 2, 35];

/// `MANY` wakers; those at `PANICKY` panic in `wake`.
fn batch_wakers() -> Vec<(Arc<Hostile>, Waker)> {
    (0..MANY)
        .map(|i| {
            let (state, waker) = Hostile::new();
            state.panic_on_wake(PANICKY.contains(&i));
            (state, waker)
        })
        .collect()
}

/// Asserts that every waker was woken (the panicking ones included: their
/// `wake` was called).
fn assert_all_woken(wakers: &[(Arc<Hostile>, Waker)]) {
    for (i, (state, _)) in wakers.iter().enumerate() {
        assert_eq!(state.wakes(), 1, "waiter {i} was not woken exactly once");
    }
}

/// Asserts that no clone of any of `wakers` is still alive: the test holds
/// the state and one waker of each, nothing else may. A waker whose `wake`
/// panicked must still release the reference it consumed (before the fix,
/// the test waker's own `wake` forgot it, which LeakSanitizer reported as a
/// leak of the waiters' wakers), and the queue must not keep a clone.
fn assert_no_clone_outlives(wakers: &[(Arc<Hostile>, Waker)]) {
    for (i, (state, _)) in wakers.iter().enumerate() {
        assert_eq!(
            Arc::strong_count(state),
            2,
            "waiter {i}: a clone of its waker outlived the test"
        );
    }
}

/// The queue itself: `notify_all` and `notify_one` whose wakes panic, then
/// every waiter observed `Ready` and dropped, leave no clone of any waker
/// alive (regression: LeakSanitizer's report of leaked waiter wakers).
pub async fn wake_panics_leak_no_waker_clone<B: ThreadSafe>() {
    use compio_sync::backend::Woken;
    let queue = B::new();
    let wakers = batch_wakers();
    let waiters: Vec<_> = wakers
        .iter()
        .map(|(_, waker)| {
            let waiter = Box::pin(B::new_waiter());
            // SAFETY: a fresh idle waiter, used with `queue` only, pinned in
            // its box until it is observed `Ready` below.
            unsafe { queue.register(waiter.as_ref(), waker, 1) };
            waiter
        })
        .collect();
    assert_hostile_panic(catch(|| queue.notify_all(5)), "wake");
    assert_all_woken(&wakers);
    let (_, good) = Hostile::new();
    let mut cx = std::task::Context::from_waker(&good);
    for waiter in &waiters {
        // SAFETY: registered with `queue`, not yet observed `Ready`.
        let polled = unsafe { queue.poll_wait(waiter.as_ref(), &mut cx) };
        assert_eq!(polled, Poll::Ready(Woken { wakeup: 5, tag: 1 }));
    }
    drop(waiters);
    assert_no_clone_outlives(&wakers);

    let (state, panicky) = Hostile::new();
    state.panic_on_wake(true);
    let waiter = Box::pin(B::new_waiter());
    // SAFETY: as above.
    unsafe { queue.register(waiter.as_ref(), &panicky, 1) };
    assert_hostile_panic(catch(|| queue.notify_one(6)), "wake");
    // SAFETY: as above.
    let polled = unsafe { queue.poll_wait(waiter.as_ref(), &mut cx) };
    assert_eq!(polled, Poll::Ready(Woken { wakeup: 6, tag: 1 }));
    drop(waiter);
    assert_no_clone_outlives(&[(state, panicky)]);
}

/// `notify_waiters` with panicking wakers in two batches (two of them in
/// one): the panic propagates once, every waiter is woken and completes, and
/// the process does not abort (before the fix, the second panic in one batch
/// aborted it).
pub async fn notify_waiters_wake_panics_propagate_once_and_wake_everyone<B: ThreadSafe>() {
    let notify = Notify::<B>::with_backend();
    let wakers = batch_wakers();
    let mut waiters: Vec<_> = wakers
        .iter()
        .map(|(_, waker)| {
            let mut f = Box::pin(notify.notified());
            assert!(poll_boxed(&mut f, waker).is_pending());
            f
        })
        .collect();
    assert_hostile_panic(catch(|| notify.notify_waiters()), "wake");
    assert_all_woken(&wakers);
    let (_, good) = Hostile::new();
    for f in &mut waiters {
        assert!(poll_boxed(f, &good).is_ready());
    }
    drop(waiters);
    assert_no_clone_outlives(&wakers);
    // The Notify still works.
    let (woken, waker) = Hostile::new();
    let mut live = Box::pin(notify.notified());
    assert!(poll_boxed(&mut live, &waker).is_pending());
    notify.notify_one();
    until_woken(&woken).await;
    assert!(poll_boxed(&mut live, &waker).is_ready());
}

/// One panicking wake in the first batch: the later batches are still
/// notified (before the fix, the unwind left them queued).
pub async fn notify_waiters_wake_panic_still_notifies_later_batches<B: ThreadSafe>() {
    let notify = Notify::<B>::with_backend();
    let wakers: Vec<_> = (0..MANY)
        .map(|i| {
            let (state, waker) = Hostile::new();
            state.panic_on_wake(i == 0);
            (state, waker)
        })
        .collect();
    let mut waiters: Vec<_> = wakers
        .iter()
        .map(|(_, waker)| {
            let mut f = Box::pin(notify.notified());
            assert!(poll_boxed(&mut f, waker).is_pending());
            f
        })
        .collect();
    assert_hostile_panic(catch(|| notify.notify_waiters()), "wake");
    assert_all_woken(&wakers);
    let (_, good) = Hostile::new();
    for f in &mut waiters {
        assert!(poll_boxed(f, &good).is_ready());
    }
    drop(waiters);
    assert_no_clone_outlives(&wakers);
}

/// `Condvar::notify_all` with panicking wakers: as for `notify_waiters`.
pub async fn condvar_notify_all_wake_panics_propagate_once_and_wake_everyone<B: ThreadSafe>() {
    let mutex = Mutex::<(), B>::with_backend(());
    let condvar = Condvar::<B>::with_backend();
    let wakers = batch_wakers();
    let waiters: Vec<_> = wakers
        .iter()
        .map(|(_, waker)| {
            let mut f = Box::pin(condvar.wait(mutex.try_lock().unwrap()));
            assert!(poll_boxed(&mut f, waker).is_pending());
            f
        })
        .collect();
    assert_hostile_panic(catch(|| condvar.notify_all()), "wake");
    assert_all_woken(&wakers);
    // Every waiter re-locks in turn.
    let (_, good) = Hostile::new();
    let mut waiters: Vec<_> = waiters.into_iter().map(Some).collect();
    while waiters.iter().any(Option::is_some) {
        for slot in &mut waiters {
            if let Some(f) = slot
                && poll_boxed(f, &good).is_ready()
            {
                *slot = None;
            }
        }
    }
    drop(waiters);
    assert_no_clone_outlives(&wakers);
    // Nobody waits now: a notify finds no one, and the next waiter waits.
    condvar.notify_all();
    let (woken, waker) = Hostile::new();
    let mut live = Box::pin(condvar.wait(mutex.try_lock().unwrap()));
    assert!(poll_boxed(&mut live, &waker).is_pending());
    condvar.notify_one();
    until_woken(&woken).await;
    assert!(poll_boxed(&mut live, &waker).is_ready());
}

/// `Semaphore::close` with panicking wakers: the panic propagates once and
/// every pending acquire fails with `AcquireError`.
pub async fn close_wake_panics_propagate_once_and_fail_every_acquire<B: ThreadSafe>() {
    let sem = Semaphore::<B>::with_backend(0);
    let wakers = batch_wakers();
    let mut waiters: Vec<_> = wakers
        .iter()
        .map(|(_, waker)| {
            let mut f = Box::pin(sem.acquire());
            assert!(poll_boxed(&mut f, waker).is_pending());
            f
        })
        .collect();
    assert_hostile_panic(catch(|| sem.close()), "wake");
    assert_all_woken(&wakers);
    let (_, good) = Hostile::new();
    for f in &mut waiters {
        assert!(matches!(poll_boxed(f, &good), Poll::Ready(Err(_))));
    }
    drop(waiters);
    assert_no_clone_outlives(&wakers);
}
