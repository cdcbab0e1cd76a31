//! The semaphore's waiter count is one low for an instant when a hand-over
//! serves a waiter between its linking and its count (the count comes after
//! the link, and the hand-over uncounts whom it serves). A release that
//! looks at the count in that instant may miss a waiter; the served
//! waiter's own re-check must then pass the permits on.
//!
//! Found by the soak (a debug assertion in `leave_retrying` saw the word
//! `0x1`: the wake-up in flight, and no waiter counted). Here the instant is
//! made deterministic on one thread: a queue wrapper runs a hook right after
//! a registration links its waiter, before the semaphore counts it, and the
//! hook plays the other threads' part.
#![cfg(not(loom))]

mod common;

use std::{
    cell::RefCell,
    pin::Pin,
    sync::{Arc, atomic::Ordering::SeqCst},
    task::{Context, Poll, Waker},
};

use common::{counting_waker, poll_once};
use compio_sync::{
    OwnedSemaphorePermit, Semaphore,
    backend::{
        Cancelled, Intrusive, MutexVecDeque, ParkingLotHybrid, SegQueue, Select, WaitQueue, Woken,
    },
};

std::thread_local! {
    /// Run once, by the next `register` on this thread, after it linked.
    static AFTER_LINK: RefCell<Option<Box<dyn FnOnce()>>> = const { RefCell::new(None) };
}

/// A queue that forwards everything to `Q`, and runs [`AFTER_LINK`] after a
/// registration.
struct Hooked<Q>(Q);

// SAFETY: every call is forwarded to `Q`, which keeps the contract; the hook
// runs after `register` returned, as another thread could.
unsafe impl<Q: WaitQueue> WaitQueue for Hooked<Q> {
    type Waiter = Q::Waiter;
    const REGISTERS_UNDER_SELECTION_LOCK: bool = Q::REGISTERS_UNDER_SELECTION_LOCK;
    const NEW: Self = Self(Q::NEW);

    fn new() -> Self {
        Self(Q::new())
    }
    fn new_waiter() -> Self::Waiter {
        Q::new_waiter()
    }
    unsafe fn register(&self, waiter: Pin<&Self::Waiter>, waker: &Waker, tag: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.0.register(waiter, waker, tag) };
        if let Some(hook) = AFTER_LINK.with(|hook| hook.borrow_mut().take()) {
            hook();
        }
    }
    unsafe fn register_front(&self, waiter: Pin<&Self::Waiter>, waker: &Waker, tag: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.0.register_front(waiter, waker, tag) }
    }
    unsafe fn poll_wait(&self, waiter: Pin<&Self::Waiter>, cx: &mut Context<'_>) -> Poll<Woken> {
        // SAFETY: forwarded from the caller.
        unsafe { self.0.poll_wait(waiter, cx) }
    }
    unsafe fn poll_notified(&self, waiter: Pin<&Self::Waiter>) -> Poll<Woken> {
        // SAFETY: forwarded from the caller.
        unsafe { self.0.poll_notified(waiter) }
    }
    unsafe fn wait_blocking(&self, waiter: Pin<&Self::Waiter>) -> Woken {
        // SAFETY: forwarded from the caller.
        unsafe { self.0.wait_blocking(waiter) }
    }
    unsafe fn cancel(&self, waiter: Pin<&Self::Waiter>) -> Cancelled {
        // SAFETY: forwarded from the caller.
        unsafe { self.0.cancel(waiter) }
    }
    fn notify_one(&self, wakeup: usize) -> bool {
        self.0.notify_one(wakeup)
    }
    fn notify_last(&self, wakeup: usize) -> bool {
        self.0.notify_last(wakeup)
    }
    fn notify_or(&self, last: bool, wakeup: usize, otherwise: impl FnOnce()) -> bool {
        self.0.notify_or(last, wakeup, otherwise)
    }
    fn notify_all(&self, wakeup: usize) -> usize {
        self.0.notify_all(wakeup)
    }
    fn notify_while(&self, select: impl FnMut(&mut usize) -> Select) -> usize {
        self.0.notify_while(select)
    }
}

type Permit<Q> = OwnedSemaphorePermit<Hooked<Q>>;
type Wait<Q> = Pin<Box<dyn Future<Output = Result<Permit<Q>, compio_sync::AcquireError>>>>;

/// P (wants 2) holds `PRIORITY` at the head; X (wants 3) registers. In the
/// instant between X's link and its count: a release of 5 hands P 2 and X
/// 3 (uncounting X before X counted itself), P leaves (barging resumes),
/// the permit left in the word is taken, Y (wants 1) queues and counts
/// itself (the count reads zero: X's uncount came first), and P's 2 permits
/// come back: that release sees no waiter and wakes nobody. X then counts
/// itself and re-checks: 2 permits it cannot use (it wants 3). It must wake
/// Y for them.
fn served_before_counted_passes_on_what_it_cannot_use<Q: WaitQueue + 'static>() {
    let sem = Arc::new(Semaphore::<Hooked<Q>>::with_backend(0));

    let (p_wakes, p_waker) = counting_waker();
    let mut p: Wait<Q> = Box::pin(sem.clone().acquire_many_owned(2));
    assert!(poll_once(p.as_mut(), &p_waker).is_pending());
    // One permit: P is woken, finds too few, claims `PRIORITY` (it wants
    // several) and queues again at the head. The permit stays in the word,
    // closed to barging.
    sem.add_permits(1);
    assert_eq!(p_wakes.wakes.load(SeqCst), 1);
    assert!(poll_once(p.as_mut(), &p_waker).is_pending());
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.try_acquire().is_err(), "P holds PRIORITY");

    // What the hook hands back: Y, its wake count, and the permit it took.
    type Stash<Q> = (Wait<Q>, Arc<common::CountingWaker>, Waker, Permit<Q>);
    let stash: std::rc::Rc<RefCell<Option<Stash<Q>>>> = Default::default();
    {
        let (sem, stash) = (sem.clone(), stash.clone());
        AFTER_LINK.with(|hook| {
            *hook.borrow_mut() = Some(Box::new(move || {
                sem.add_permits(5);
                assert_eq!(p_wakes.wakes.load(SeqCst), 2);
                let p_permit = match poll_once(p.as_mut(), &p_waker) {
                    Poll::Ready(Ok(permit)) => permit,
                    other => panic!("P not served: {:?}", other.map(|r| r.map(|_| ()))),
                };
                assert_eq!(p_permit.num_permits(), 2);
                let extra = sem.clone().try_acquire_owned().expect("barging again");
                let (y_wakes, y_waker) = counting_waker();
                let mut y: Wait<Q> = Box::pin(sem.clone().acquire_owned());
                assert!(poll_once(y.as_mut(), &y_waker).is_pending());
                drop(p_permit);
                *stash.borrow_mut() = Some((y, y_wakes, y_waker, extra));
            }));
        });
    }
    let (x_wakes, x_waker) = counting_waker();
    let mut x: Wait<Q> = Box::pin(sem.clone().acquire_many_owned(3));
    assert!(poll_once(x.as_mut(), &x_waker).is_pending());
    assert!(
        AFTER_LINK.with(|hook| hook.borrow().is_none()),
        "the hook ran"
    );
    let (mut y, y_wakes, y_waker, extra) = stash.borrow_mut().take().unwrap();

    assert_eq!(
        y_wakes.wakes.load(SeqCst),
        1,
        "Y was not woken for the permits in the word: {sem:?}"
    );
    let y_permit = match poll_once(y.as_mut(), &y_waker) {
        Poll::Ready(Ok(permit)) => permit,
        _ => panic!("Y not served: {sem:?}"),
    };
    assert_eq!(x_wakes.wakes.load(SeqCst), 1);
    let x_permit = match poll_once(x.as_mut(), &x_waker) {
        Poll::Ready(Ok(permit)) => permit,
        _ => panic!("X not served: {sem:?}"),
    };
    assert_eq!(x_permit.num_permits(), 3);
    assert_eq!(sem.available_permits(), 1);
    drop((x_permit, y_permit, extra));
    assert_eq!(sem.available_permits(), 6, "every permit back");
}

#[test]
fn intrusive() {
    served_before_counted_passes_on_what_it_cannot_use::<Intrusive>();
}

#[test]
fn mutex_vecdeque() {
    served_before_counted_passes_on_what_it_cannot_use::<MutexVecDeque>();
}

#[test]
fn parking_lot_hybrid() {
    served_before_counted_passes_on_what_it_cannot_use::<ParkingLotHybrid>();
}

#[test]
fn seg_queue() {
    served_before_counted_passes_on_what_it_cannot_use::<SegQueue>();
}
