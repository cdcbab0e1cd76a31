//! Wakers that misbehave: panics in `clone`, `wake` and `drop`, and a `clone`
//! that re-enters the primitive it is being registered with. Each test is
//! named after the symptom it pins (issue 8, defects 2-5) and is instantiated
//! for every backend by `hostile_suite!` at the end, through the shared
//! backend list (`for_each_backend!`).
//!
//! A waker is user code. Whatever it does may cost its own task, but never
//! memory safety, another task's wake-up, a permit, or the process (an abort
//! from a panic during unwinding fails the whole test binary). After every
//! injected panic the tests check that a live waiter still gets the next
//! wake-up and that no permit is lost. Every test runs under a watchdog, so a
//! deadlock or a lost wake-up fails instead of hanging.
//!
//! The clone-panic and re-entrancy tests run on compio (where `IoUringFutex`
//! waits through io_uring) and on `futures::executor` (every backend on its
//! waker path). The wake-panic tests run on `futures::executor` only: on
//! compio an io_uring waiter's waker is woken by compio's driver, not by the
//! queue, so a panicking `wake` would surface from the runtime instead.
#![cfg(not(loom))]

mod common;

use std::{
    any::Any,
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::{Pin, pin},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::SeqCst},
    },
    task::{Poll, Waker},
};

use common::*;
use compio_sync::{Condvar, Mutex, Notify, OwnedMutexGuard, Semaphore, backend::ThreadSafe};

#[path = "hostile_wakers/wake_panics.rs"]
mod wake_panics;
use wake_panics::*;

/// Runs `f`, catching a panic.
fn catch<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    catch_unwind(AssertUnwindSafe(f))
}

fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("<non-string panic>")
}

/// Asserts that `result` is the panic of a hostile waker's `what`.
fn assert_hostile_panic<R>(result: std::thread::Result<R>, what: &str) {
    match result {
        Ok(_) => panic!("expected the hostile waker's {what} panic to propagate"),
        Err(payload) => assert!(
            message(&*payload).contains(what),
            "unexpected panic: {}",
            message(&*payload)
        ),
    }
}

/// Yields to the executor until `waker` has been woken: a lost wake-up makes
/// this spin until the watchdog fails the test.
async fn until_woken(waker: &Hostile) {
    while waker.wakes() == 0 {
        yield_to_driver().await;
    }
}

/// Yields so that the executor's driver runs. On compio, yielding lets the
/// driver reap io_uring completions (how an `IoUringFutex` waiter is woken).
/// compio's IOCP driver (Windows) does not read its port while its own waker
/// (block_on's, which `yield_now` wakes here) is set, so there a short sleep
/// lets it dequeue the packets that complete `Iocp` waiters.
async fn yield_to_driver() {
    yield_now().await;
    #[cfg(windows)]
    if compio::runtime::Runtime::try_with_current(|_| ()).is_ok() {
        compio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// Runs an async test body on `E` under the watchdog.
fn run<E: Exec, F: Future<Output = ()> + 'static>(body: impl FnOnce() -> F + Send + 'static) {
    with_watchdog(SHORT_HANG, move || E::block_on(body()));
}

/// Polls a boxed future once with `waker`.
fn poll_boxed<F: Future + ?Sized>(f: &mut Pin<Box<F>>, waker: &Waker) -> Poll<F::Output> {
    poll_once(f.as_mut(), waker)
}

// ---------------------------------------------------------------------------
// Defects 2 and 3: a panicking `clone` leaves nothing linked and no ghost.
// ---------------------------------------------------------------------------

/// The queue itself: a `register` whose clone panics leaves the waiter idle
/// (the new contract point), so no notify selects it and the next waiter
/// gets the wake-up.
pub async fn register_clone_panic_leaves_waiter_idle<B: ThreadSafe>() {
    let queue = B::new();
    let ghost = Box::pin(B::new_waiter());
    let (hostile, bad) = Hostile::new();
    hostile.panic_on_clone(1);
    // SAFETY: a fresh idle waiter, used with `queue` only, pinned in its box
    // until it is dropped below (after the queue has been checked).
    let result = catch(|| unsafe { queue.register(ghost.as_ref(), &bad, 1) });
    assert_hostile_panic(result, "clone");
    assert!(
        !queue.notify_one(0),
        "notify_one selected a waiter whose register panicked"
    );
    assert_eq!(
        queue.notify_all(0),
        0,
        "a waiter whose register panicked was still queued"
    );
    // SAFETY: as above; cancel on an idle waiter is a no-op.
    let cancelled = unsafe { queue.cancel(ghost.as_ref()) };
    assert_eq!(cancelled, compio_sync::backend::Cancelled::Idle);
    drop(ghost);

    let live = Box::pin(B::new_waiter());
    let (woken, waker) = Hostile::new();
    // SAFETY: a fresh idle waiter, used with `queue` only, pinned in its box.
    unsafe { queue.register(live.as_ref(), &waker, 1) };
    assert!(queue.notify_one(7));
    until_woken(&woken).await;
    let mut cx = std::task::Context::from_waker(&waker);
    // SAFETY: registered with `queue`, not yet observed `Ready`.
    let polled = unsafe { queue.poll_wait(live.as_ref(), &mut cx) };
    assert_eq!(
        polled,
        std::task::Poll::Ready(compio_sync::backend::Woken { wakeup: 7, tag: 1 })
    );
}

/// Notify: `notified()` registers two nodes. Whichever registration's clone
/// panics, the future's drop leaves neither linked (before the fix, the
/// `all` node stayed linked in freed memory: a debug assertion, or a
/// use-after-free under AddressSanitizer), and live waiters still get
/// `notify_one` and `notify_waiters`.
pub async fn notified_clone_panic_leaves_no_linked_node<B: ThreadSafe>() {
    for nth in 1..=4 {
        let notify = Notify::<B>::with_backend();
        let (hostile, bad) = Hostile::new();
        let mut doomed = Box::pin(notify.notified());
        hostile.panic_on_clone(nth);
        let result = catch(|| poll_boxed(&mut doomed, &bad));
        // Dropped outside the unwind, as a task that catches the panic would.
        drop(doomed);
        if result.is_ok() {
            // Fewer than `nth` clones on this backend: nothing left to inject.
            break;
        }

        let (woken, waker) = Hostile::new();
        let mut live = Box::pin(notify.notified());
        assert!(poll_boxed(&mut live, &waker).is_pending());
        notify.notify_one();
        until_woken(&woken).await;
        assert!(poll_boxed(&mut live, &waker).is_ready());

        let (woken, waker) = Hostile::new();
        let mut live = Box::pin(notify.notified());
        assert!(poll_boxed(&mut live, &waker).is_pending());
        notify.notify_waiters();
        until_woken(&woken).await;
        assert!(poll_boxed(&mut live, &waker).is_ready());
    }
}

/// Semaphore: an `acquire` whose registration clone panics leaves no ghost
/// waiter behind (before the fix: `ParkingLotHybrid`'s slot stayed marked
/// waiting and ate the next wake-up; `IoUringFutex` left its node linked).
pub async fn acquire_clone_panic_leaves_no_ghost_waiter<B: ThreadSafe>() {
    let sem = Semaphore::<B>::with_backend(0);
    let (hostile, bad) = Hostile::new();
    let mut doomed = Box::pin(sem.acquire());
    hostile.panic_on_clone(1);
    assert_hostile_panic(catch(|| poll_boxed(&mut doomed, &bad)), "clone");
    drop(doomed);

    let (woken, waker) = Hostile::new();
    let mut live = Box::pin(sem.acquire());
    assert!(poll_boxed(&mut live, &waker).is_pending());
    sem.add_permits(1);
    until_woken(&woken).await;
    let Poll::Ready(Ok(permit)) = poll_boxed(&mut live, &waker) else {
        panic!("the live waiter did not get the permit");
    };
    drop(permit);
    drop(live);
    assert_eq!(sem.available_permits(), 1, "a permit was lost");
}

/// Semaphore: a queued `acquire` re-polled with a waker whose clone panics
/// stays a proper waiter: its later drop leaves no ghost (before the fix,
/// `SegQueue` lost track of its handle, which then ate the next wake-up).
pub async fn repoll_clone_panic_leaves_no_ghost_waiter<B: ThreadSafe>() {
    let sem = Semaphore::<B>::with_backend(0);
    let (_first, first) = Hostile::new();
    let (hostile, bad) = Hostile::new();
    let mut doomed = Box::pin(sem.acquire());
    assert!(poll_boxed(&mut doomed, &first).is_pending());
    hostile.panic_on_clone(1);
    let result = catch(|| poll_boxed(&mut doomed, &bad));
    assert_hostile_panic(result, "clone");

    let (woken, waker) = Hostile::new();
    let mut live = Box::pin(sem.acquire());
    assert!(poll_boxed(&mut live, &waker).is_pending());
    drop(doomed);
    sem.add_permits(1);
    until_woken(&woken).await;
    let Poll::Ready(Ok(permit)) = poll_boxed(&mut live, &waker) else {
        panic!("the live waiter did not get the permit");
    };
    drop(permit);
    drop(live);
    assert_eq!(sem.available_permits(), 1, "a permit was lost");
}

/// Mutex: a `lock` whose registration clone panics leaves no ghost; the
/// unlock goes to the live waiter.
pub async fn lock_clone_panic_leaves_no_ghost_waiter<B: ThreadSafe>() {
    let mutex = Mutex::<u32, B>::with_backend(0);
    let held = mutex.try_lock().unwrap();
    let (hostile, bad) = Hostile::new();
    let mut doomed = Box::pin(mutex.lock());
    hostile.panic_on_clone(1);
    assert_hostile_panic(catch(|| poll_boxed(&mut doomed, &bad)), "clone");
    drop(doomed);

    let (woken, waker) = Hostile::new();
    let mut live = Box::pin(mutex.lock());
    assert!(poll_boxed(&mut live, &waker).is_pending());
    drop(held);
    until_woken(&woken).await;
    let Poll::Ready(mut guard) = poll_boxed(&mut live, &waker) else {
        panic!("the live waiter did not get the lock");
    };
    *guard += 1;
    drop(guard);
    drop(live);
    assert_eq!(*mutex.try_lock().unwrap(), 1);
}

/// Condvar: a `wait` whose registration clone panics leaves no ghost (before
/// the fix, `ParkingLotHybrid`'s slot ate the next `notify_one`); the mutex
/// is unlocked by the unwind.
pub async fn slot_clone_panic_leaves_no_ghost_waiter<B: ThreadSafe>() {
    let mutex = Mutex::<(), B>::with_backend(());
    let condvar = Condvar::<B>::with_backend();
    let (hostile, bad) = Hostile::new();
    let mut doomed = Box::pin(condvar.wait(mutex.try_lock().unwrap()));
    hostile.panic_on_clone(1);
    assert_hostile_panic(catch(|| poll_boxed(&mut doomed, &bad)), "clone");
    drop(doomed);

    let (woken, waker) = Hostile::new();
    let guard = mutex.try_lock().expect("the unwind unlocked the mutex");
    let mut live = Box::pin(condvar.wait(guard));
    assert!(poll_boxed(&mut live, &waker).is_pending());
    condvar.notify_one();
    until_woken(&woken).await;
    assert!(poll_boxed(&mut live, &waker).is_ready());
}

// ---------------------------------------------------------------------------
// A panicking `drop` of a replaced waker.
// ---------------------------------------------------------------------------

/// A re-poll whose replaced waker panics in `drop` propagates that panic but
/// leaves the waiter wakeable (before the fix, `ParkingLotHybrid`'s slot and
/// `SegQueue`'s handle dropped it inside `AtomicWaker::register`, which then
/// stayed locked and swallowed every later wake).
pub async fn repoll_drop_panic_leaves_the_waiter_wakeable<B: ThreadSafe>() {
    let sem = Semaphore::<B>::with_backend(0);
    let (hostile, bad) = Hostile::new();
    let mut waiter = Box::pin(sem.acquire());
    assert!(poll_boxed(&mut waiter, &bad).is_pending());
    let (woken, waker) = Hostile::new();
    hostile.panic_on_drop(true);
    let result = catch(|| poll_boxed(&mut waiter, &waker));
    hostile.panic_on_drop(false);
    if let Err(payload) = result {
        assert!(
            message(&*payload).contains("drop"),
            "{}",
            message(&*payload)
        );
    }
    sem.add_permits(1);
    while woken.wakes() + hostile.wakes() == 0 {
        yield_to_driver().await;
    }
    let Poll::Ready(Ok(permit)) = poll_boxed(&mut waiter, &waker) else {
        panic!("the waiter did not get the permit");
    };
    drop(permit);
    drop(waiter);
    assert_eq!(sem.available_permits(), 1, "a permit was lost");
}

// ---------------------------------------------------------------------------
// A task's own waker that panics in `drop` where a wait ends: `cancel`, and
// the `Ready` of `poll_wait`. What the queue reports there (a notification,
// an assignment) must reach the primitive, which passes it on; the waker is
// dropped after that, with the waiter (contract point 7).
// ---------------------------------------------------------------------------

/// A strict-FIFO `acquire_many(2)` that was assigned one permit, then
/// dropped while its waker panics in `drop`: the permit is given back and
/// goes to the next waiter (before the fix, `cancel` dropped the waker
/// before returning what it found, and the assigned permit was lost).
pub async fn cancel_drop_panic_gives_back_assigned_permits<B: ThreadSafe>() {
    let sem = Semaphore::<B>::with_backend(0).strict_fifo();
    let (hostile, bad) = Hostile::new();
    let mut doomed = Box::pin(sem.acquire_many(2));
    assert!(poll_boxed(&mut doomed, &bad).is_pending());
    let (woken, waker) = Hostile::new();
    let mut live = Box::pin(sem.acquire());
    assert!(poll_boxed(&mut live, &waker).is_pending());
    // Assigned to the head, which still needs one more.
    sem.add_permits(1);
    assert_eq!(woken.wakes(), 0);
    hostile.panic_on_drop(true);
    // The panic, if the waker's drop runs here, comes after the hand-back.
    let _ = catch(|| drop(doomed));
    hostile.panic_on_drop(false);
    until_woken(&woken).await;
    let Poll::Ready(Ok(permit)) = poll_boxed(&mut live, &waker) else {
        panic!("the assigned permit did not reach the next waiter");
    };
    drop(permit);
    drop(live);
    assert_eq!(sem.available_permits(), 1, "a permit was lost");
}

/// A notified `Notified` dropped while its waker panics in `drop`: the
/// notification is passed on to the next waiter (before the fix,
/// `IoUringFutex`'s cancel dropped its io_uring wait, and with it compio's
/// clone of the waker, before returning the notification).
pub async fn cancel_drop_panic_after_notify_passes_the_notification_on<B: ThreadSafe>() {
    let notify = Notify::<B>::with_backend();
    let (hostile, bad) = Hostile::new();
    let mut doomed = Box::pin(notify.notified());
    assert!(poll_boxed(&mut doomed, &bad).is_pending());
    let (woken, waker) = Hostile::new();
    let mut live = Box::pin(notify.notified());
    assert!(poll_boxed(&mut live, &waker).is_pending());
    notify.notify_one();
    hostile.panic_on_drop(true);
    let _ = catch(|| drop(doomed));
    hostile.panic_on_drop(false);
    until_woken(&woken).await;
    assert!(
        poll_boxed(&mut live, &waker).is_ready(),
        "the notification was not passed on"
    );
}

/// A queued `acquire` re-polled with a new waker, notified while that waker
/// is being cloned (its `clone` releases the permit), and whose clone then
/// panics in `drop`: the permit is not lost. Either the poll returns it, or
/// the poll panics with the waiter still notified and dropping the future
/// gives it back (before the fix, `SegQueue` and `ParkingLotHybrid`'s slot
/// dropped the clone after the waiter was idle, and the `Ready` was lost).
pub async fn repoll_drop_panic_after_notify_keeps_the_permit<B: ThreadSafe>() {
    // Strict FIFO: the release hands the permit to the waiter (under the
    // default policy it would stay in the semaphore for a retry).
    let sem = Arc::new(Semaphore::<B>::with_backend(0).strict_fifo());
    let (_first, first) = Hostile::new();
    let mut waiter = Box::pin(sem.acquire());
    assert!(poll_boxed(&mut waiter, &first).is_pending());
    let (hostile, waker) = Hostile::new();
    let once = Arc::new(AtomicBool::new(false));
    hostile.on_clone({
        let (sem, once) = (sem.clone(), once.clone());
        move || {
            if !once.swap(true, SeqCst) {
                sem.add_permits(1);
            }
        }
    });
    hostile.panic_on_drop(true);
    let polled = catch(|| poll_boxed(&mut waiter, &waker));
    assert!(once.load(SeqCst), "the clone did not run");
    let permit = match polled {
        Ok(Poll::Ready(Ok(permit))) => Some(permit),
        // Still waiting for the wake-up (an io_uring wait reports the
        // notification on a later poll): dropping the future gives it back.
        Ok(Poll::Pending) => None,
        Ok(Poll::Ready(Err(e))) => panic!("acquire failed: {e}"),
        Err(payload) => {
            assert!(
                message(&*payload).contains("drop"),
                "{}",
                message(&*payload)
            );
            None
        }
    };
    let _ = catch(|| drop(waiter));
    hostile.panic_on_drop(false);
    drop(permit);
    assert_eq!(sem.available_permits(), 1, "a permit was lost");
}

// ---------------------------------------------------------------------------
// Defect 5: a `clone` that re-enters the queue it is being stored in.
// ---------------------------------------------------------------------------

/// A `Notified` re-polled with a waker whose clone calls `notify_one` on the
/// same `Notify` does not deadlock (before the fix, the clone ran under the
/// list lock that `notify_one` takes), and the notification is delivered.
pub async fn repoll_clone_reentering_notify_one_does_not_deadlock<B: ThreadSafe>() {
    let notify = Arc::new(Notify::<B>::with_backend());
    // `first` takes `ParkingLotHybrid`'s slot, so `second` is on its list.
    let (first_woken, first_waker) = Hostile::new();
    let mut first = Box::pin(notify.notified());
    assert!(poll_boxed(&mut first, &first_waker).is_pending());
    let (_, plain) = Hostile::new();
    let mut second = Box::pin(notify.notified());
    assert!(poll_boxed(&mut second, &plain).is_pending());

    let (reentrant, waker) = Hostile::new();
    let once = Arc::new(AtomicBool::new(false));
    reentrant.on_clone({
        let (notify, once) = (notify.clone(), once.clone());
        move || {
            if !once.swap(true, SeqCst) {
                notify.notify_one();
            }
        }
    });
    // Stores `waker` in both of `second`'s queues.
    let _ = poll_boxed(&mut second, &waker);
    assert!(once.load(SeqCst), "the clone did not run");
    // The notify_one went to the oldest waiter.
    until_woken(&first_woken).await;
    assert!(poll_boxed(&mut first, &first_waker).is_ready());
    notify.notify_one();
    until_woken(&reentrant).await;
    assert!(poll_boxed(&mut second, &waker).is_ready());
}

/// An `acquire` re-polled with a waker whose clone releases a permit on the
/// same semaphore does not deadlock, and the permit is not lost.
pub async fn repoll_clone_reentering_add_permits_does_not_deadlock<B: ThreadSafe>() {
    let sem = Arc::new(Semaphore::<B>::with_backend(0));
    let (first_woken, first_waker) = Hostile::new();
    let mut first = Box::pin(sem.acquire());
    assert!(poll_boxed(&mut first, &first_waker).is_pending());
    let (_, plain) = Hostile::new();
    let mut second = Box::pin(sem.acquire());
    assert!(poll_boxed(&mut second, &plain).is_pending());

    let (reentrant, waker) = Hostile::new();
    let once = Arc::new(AtomicBool::new(false));
    reentrant.on_clone({
        let (sem, once) = (sem.clone(), once.clone());
        move || {
            if !once.swap(true, SeqCst) {
                sem.add_permits(1);
            }
        }
    });
    assert!(poll_boxed(&mut second, &waker).is_pending());
    assert!(once.load(SeqCst), "the clone did not run");
    until_woken(&first_woken).await;
    let Poll::Ready(Ok(permit)) = poll_boxed(&mut first, &first_waker) else {
        panic!("the oldest waiter did not get the permit");
    };
    drop(permit);
    until_woken(&reentrant).await;
    let Poll::Ready(Ok(permit)) = poll_boxed(&mut second, &waker) else {
        panic!("the second waiter did not get the permit");
    };
    drop(permit);
    drop((first, second));
    assert_eq!(sem.available_permits(), 1, "a permit was lost");
}

/// A `lock` re-polled with a waker whose clone unlocks the mutex (dropping
/// an owned guard) does not deadlock, and the lock is handed on.
pub async fn repoll_clone_reentering_unlock_does_not_deadlock<B: ThreadSafe>() {
    let mutex = Arc::new(Mutex::<u32, B>::with_backend(0));
    let held: Arc<std::sync::Mutex<Option<OwnedMutexGuard<u32, B>>>> = Arc::new(
        std::sync::Mutex::new(Some(mutex.clone().try_lock_owned().unwrap())),
    );
    let (first_woken, first_waker) = Hostile::new();
    let mut first = Box::pin(mutex.lock());
    assert!(poll_boxed(&mut first, &first_waker).is_pending());
    let (_, plain) = Hostile::new();
    let mut second = Box::pin(mutex.lock());
    assert!(poll_boxed(&mut second, &plain).is_pending());

    let (reentrant, waker) = Hostile::new();
    reentrant.on_clone({
        let held = held.clone();
        move || drop(held.lock().unwrap().take())
    });
    assert!(poll_boxed(&mut second, &waker).is_pending());
    assert!(held.lock().unwrap().is_none(), "the clone did not run");
    until_woken(&first_woken).await;
    let Poll::Ready(mut guard) = poll_boxed(&mut first, &first_waker) else {
        panic!("the oldest waiter did not get the lock");
    };
    *guard += 1;
    drop(guard);
    until_woken(&reentrant).await;
    let Poll::Ready(guard) = poll_boxed(&mut second, &waker) else {
        panic!("the second waiter did not get the lock");
    };
    assert_eq!(*guard, 1);
}

/// A Condvar waiter re-polled with a waker whose clone calls `notify_one`
/// on the same condvar does not deadlock.
pub async fn condvar_repoll_clone_reentering_notify_one_does_not_deadlock<B: ThreadSafe>() {
    let mutex = Mutex::<(), B>::with_backend(());
    let condvar = Arc::new(Condvar::<B>::with_backend());
    let (first_woken, first_waker) = Hostile::new();
    let mut first = Box::pin(condvar.wait(mutex.try_lock().unwrap()));
    assert!(poll_boxed(&mut first, &first_waker).is_pending());
    let (_, plain) = Hostile::new();
    let mut second = Box::pin(condvar.wait(mutex.try_lock().unwrap()));
    assert!(poll_boxed(&mut second, &plain).is_pending());

    let (reentrant, waker) = Hostile::new();
    let once = Arc::new(AtomicBool::new(false));
    reentrant.on_clone({
        let (condvar, once) = (condvar.clone(), once.clone());
        move || {
            if !once.swap(true, SeqCst) {
                condvar.notify_one();
            }
        }
    });
    assert!(poll_boxed(&mut second, &waker).is_pending());
    assert!(once.load(SeqCst), "the clone did not run");
    until_woken(&first_woken).await;
    let Poll::Ready(guard) = poll_boxed(&mut first, &first_waker) else {
        panic!("the oldest waiter was not notified");
    };
    drop(guard);
    condvar.notify_one();
    until_woken(&reentrant).await;
    assert!(poll_boxed(&mut second, &waker).is_ready());
}

/// A plain check that the stack-pinned path works with hostile-free wakers
/// too (guards the helpers themselves).
pub async fn helpers_work_with_a_plain_waiter<B: ThreadSafe>() {
    let sem = Semaphore::<B>::with_backend(0);
    let (woken, waker) = Hostile::new();
    let mut f = pin!(sem.acquire());
    assert!(poll_once(f.as_mut(), &waker).is_pending());
    sem.add_permits(1);
    until_woken(&woken).await;
    assert!(matches!(poll_once(f.as_mut(), &waker), Poll::Ready(Ok(_))));
}

/// `hostile_suite!(name, Backend, order)` instantiates every test for
/// `Backend` (as `for_each_backend!(hostile_suite, once)` asks; `order` does
/// not matter here): the first list on compio and on `futures::executor`,
/// the second on `futures::executor` only (see the module docs).
macro_rules! hostile_suite {
    ($name:ident, $backend:ty, $($order:tt)+) => {
        hostile_suite!(@mods $name, $backend, [
            helpers_work_with_a_plain_waiter,
            register_clone_panic_leaves_waiter_idle,
            notified_clone_panic_leaves_no_linked_node,
            acquire_clone_panic_leaves_no_ghost_waiter,
            repoll_clone_panic_leaves_no_ghost_waiter,
            lock_clone_panic_leaves_no_ghost_waiter,
            slot_clone_panic_leaves_no_ghost_waiter,
            repoll_drop_panic_leaves_the_waiter_wakeable,
            cancel_drop_panic_gives_back_assigned_permits,
            cancel_drop_panic_after_notify_passes_the_notification_on,
            repoll_drop_panic_after_notify_keeps_the_permit,
            repoll_clone_reentering_notify_one_does_not_deadlock,
            repoll_clone_reentering_add_permits_does_not_deadlock,
            repoll_clone_reentering_unlock_does_not_deadlock,
            condvar_repoll_clone_reentering_notify_one_does_not_deadlock,
        ], [
            wake_panics_leak_no_waker_clone,
            notify_waiters_wake_panics_propagate_once_and_wake_everyone,
            notify_waiters_wake_panic_still_notifies_later_batches,
            condvar_notify_all_wake_panics_propagate_once_and_wake_everyone,
            close_wake_panics_propagate_once_and_fail_every_acquire,
        ]);
    };
    (@mods $name:ident, $backend:ty, [$($both:ident),* $(,)?], [$($futures:ident),* $(,)?]) => {
        mod $name {
            use super::*;
            type B = $backend;

            mod on_compio {
                use super::*;
                $(
                    #[test]
                    fn $both() {
                        run::<Compio, _>(super::super::$both::<B>);
                    }
                )*
            }

            mod on_futures {
                use super::*;
                $(
                    #[test]
                    fn $both() {
                        run::<Futures, _>(super::super::$both::<B>);
                    }
                )*
                $(
                    #[test]
                    fn $futures() {
                        run::<Futures, _>(super::super::$futures::<B>);
                    }
                )*
            }
        }
    };
}

for_each_backend!(hostile_suite, once);
