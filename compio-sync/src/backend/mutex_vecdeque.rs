//! [`MutexVecDeque`]: the baseline wait queue, `Mutex<VecDeque<Waker>>`.
//!
//! This is the design the crate started from and that the other backends are
//! measured against: every register, notify and cancel takes one
//! `std::sync::Mutex`, and wakers sit in a `VecDeque`. Each entry also points
//! back at its waiter's state word, so a notification is delivered to exactly
//! one waiter and a cancelled waiter leaves nothing behind (cancel removes its
//! entry by a linear scan: this backend is the simple baseline, not the fast
//! one).

use std::{
    collections::VecDeque,
    marker::PhantomPinned,
    pin::Pin,
    ptr::NonNull,
    task::{Context, Poll, Waker},
};

use super::{
    Cancelled, Select, WaitQueue, WakeBatch, Woken,
    retired::{Retired, reuse_or_clone},
};
use crate::loom::{
    Mutex,
    atomic::{AtomicU8, AtomicUsize, Ordering::*},
    lock,
};

/// The baseline backend: a `std::sync::Mutex` around a `VecDeque` of wakers.
///
/// FIFO; supports both fairness policies and `notify_last`. Allocates only
/// when the deque grows.
pub struct MutexVecDeque {
    inner: Mutex<Inner>,
}

/// The per-wait state of a [`MutexVecDeque`] waiter.
pub struct VecDequeWaiter {
    /// `IDLE`, `WAITING` (an entry in the deque points here) or `NOTIFIED`.
    /// Moves to `WAITING`/`NOTIFIED` only under the queue lock.
    state: AtomicU8,
    /// What the notifier handed over, and the tag as it left it: written
    /// under the queue lock before the Release store of `NOTIFIED`, read by
    /// the owner after its Acquire load (so Relaxed suffices).
    wakeup: AtomicUsize,
    tag: AtomicUsize,
    /// The waker `cancel` took back from the queue, dropped by the next
    /// registration or with the waiter (see `super::retired`).
    retired: Retired,
    _pin: PhantomPinned,
}

const IDLE: u8 = 0;
const WAITING: u8 = 1;
const NOTIFIED: u8 = 2;

struct Entry {
    waiter: NonNull<VecDequeWaiter>,
    waker: Waker,
    epoch: u64,
    /// The waiter's tag while it is queued (lowered by `notify_while`).
    tag: usize,
}

struct Inner {
    queue: VecDeque<Entry>,
    /// Bumped by every `notify_all`; entries remember it at registration.
    epoch: u64,
}

// SAFETY: the pointers in `queue` are only followed under the lock, and point
// at `Sync` waiters that stay alive while their entry exists (the waiter is
// cancelled, which removes the entry, before it is dropped).
unsafe impl Send for Inner {}

impl Inner {
    fn position(&self, waiter: &VecDequeWaiter) -> Option<usize> {
        let target = NonNull::from(waiter);
        self.queue.iter().position(|e| e.waiter == target)
    }

    /// Hands the entry's waiter `wakeup`, marks it notified and returns its
    /// waker.
    fn notify(entry: Entry, wakeup: usize) -> Waker {
        // SAFETY: the entry existed under the lock, so its waiter is alive.
        // The waiter is not touched after the `NOTIFIED` store.
        let waiter = unsafe { entry.waiter.as_ref() };
        waiter.wakeup.store(wakeup, Relaxed);
        waiter.tag.store(entry.tag, Relaxed);
        // Release: pairs with the Acquire load in `poll_wait`/`cancel`, and
        // publishes the two stores above (contract point 4).
        waiter.state.store(NOTIFIED, Release);
        entry.waker
    }
}

impl VecDequeWaiter {
    /// Observes a notification: the waiter becomes idle.
    fn take_woken(&self) -> Woken {
        let woken = Woken {
            wakeup: self.wakeup.load(Relaxed),
            tag: self.tag.load(Relaxed),
        };
        self.state.store(IDLE, Relaxed);
        woken
    }
}

impl MutexVecDeque {
    /// Notifies the entry `pop` takes, or runs `otherwise` under the lock if
    /// there is none (see `WaitQueue::notify_or`).
    fn notify_with(
        &self,
        wakeup: usize,
        pop: impl FnOnce(&mut VecDeque<Entry>) -> Option<Entry>,
        otherwise: impl FnOnce(),
    ) -> bool {
        let waker = {
            let mut inner = lock(&self.inner);
            match pop(&mut inner.queue) {
                Some(entry) => Inner::notify(entry, wakeup),
                None => {
                    otherwise();
                    return false;
                }
            }
        };
        waker.wake();
        true
    }
}

// SAFETY: an entry exists exactly while its waiter is `WAITING`; notify removes
// the entry and marks the waiter under one lock, so selection is exact and a
// notified waiter is never selected twice. Wakers are woken and dropped after
// the lock is released. Waiters are not touched once their entry is gone.
unsafe impl WaitQueue for MutexVecDeque {
    type Waiter = VecDequeWaiter;

    // `register` pushes under `inner`'s lock, which every notify takes.
    const REGISTERS_UNDER_SELECTION_LOCK: bool = true;

    #[cfg(not(loom))]
    const NEW: Self = Self {
        inner: Mutex::new(Inner {
            queue: VecDeque::new(),
            epoch: 0,
        }),
    };

    fn new() -> Self {
        Self {
            inner: Mutex::new(Inner {
                queue: VecDeque::new(),
                epoch: 0,
            }),
        }
    }

    fn new_waiter() -> VecDequeWaiter {
        VecDequeWaiter {
            state: AtomicU8::new(IDLE),
            wakeup: AtomicUsize::new(0),
            tag: AtomicUsize::new(0),
            retired: Retired::new(),
            _pin: PhantomPinned,
        }
    }

    unsafe fn register(&self, waiter: Pin<&VecDequeWaiter>, waker: &Waker, tag: usize) {
        // Cloned (or the retired waker reused) before locking, and before the
        // waiter is queued: user code, and if it panics the waiter is still
        // idle (point 7).
        // SAFETY: the caller guarantees the waiter is idle, and is its owner.
        let waker = reuse_or_clone(unsafe { waiter.retired.take() }, waker);
        let mut inner = lock(&self.inner);
        debug_assert_eq!(
            waiter.state.load(Relaxed),
            IDLE,
            "register: waiter not idle"
        );
        let epoch = inner.epoch;
        inner.queue.push_back(Entry {
            waiter: NonNull::from(waiter.get_ref()),
            waker,
            epoch,
            tag,
        });
        waiter.state.store(WAITING, Relaxed);
    }

    unsafe fn register_front(&self, waiter: Pin<&VecDequeWaiter>, waker: &Waker, tag: usize) {
        // Cloned (or the retired waker reused) before locking, and before the
        // waiter is queued: user code, and if it panics the waiter is still
        // idle (point 7).
        // SAFETY: the caller guarantees the waiter is idle, and is its owner.
        let waker = reuse_or_clone(unsafe { waiter.retired.take() }, waker);
        let mut inner = lock(&self.inner);
        debug_assert_eq!(
            waiter.state.load(Relaxed),
            IDLE,
            "register: waiter not idle"
        );
        // The head's epoch keeps the deque sorted by epoch (`notify_all`
        // stops at the first later one).
        let epoch = inner.queue.front().map_or(inner.epoch, |e| e.epoch);
        inner.queue.push_front(Entry {
            waiter: NonNull::from(waiter.get_ref()),
            waker,
            epoch,
            tag,
        });
        waiter.state.store(WAITING, Relaxed);
    }

    unsafe fn poll_wait(&self, waiter: Pin<&VecDequeWaiter>, cx: &mut Context<'_>) -> Poll<Woken> {
        // Acquire: pairs with the Release store in `Inner::notify`.
        if waiter.state.load(Acquire) == NOTIFIED {
            return Poll::Ready(waiter.take_woken());
        }
        // Cloning a waker is user code (it may panic, or re-enter this queue),
        // so it never runs under the lock (contract points 5 and 7): under the
        // lock we only compare; if a new waker is needed, we unlock, clone,
        // and lock again to store it.
        let mut fresh: Option<Waker> = None;
        loop {
            let stored = {
                let mut inner = lock(&self.inner);
                if waiter.state.load(Acquire) == NOTIFIED {
                    drop(inner);
                    // User code; if it panics the waiter stays NOTIFIED, which
                    // the next `poll_wait` or `cancel` handles.
                    drop(fresh);
                    return Poll::Ready(waiter.take_woken());
                }
                let index = inner
                    .position(&waiter)
                    .expect("poll_wait: waiter not registered");
                let entry = &mut inner.queue[index];
                if entry.waker.will_wake(cx.waker()) {
                    Some(None)
                } else {
                    // Only the owner stores wakers: the entry still holds the
                    // one we compared on our previous turn, if any.
                    fresh
                        .take()
                        .map(|new| Some(std::mem::replace(&mut entry.waker, new)))
                }
            };
            match stored {
                Some(stale) => {
                    // Dropped with the lock released (point 5); at most one
                    // of the two is `Some`.
                    drop(stale);
                    drop(fresh);
                    return Poll::Pending;
                }
                None => fresh = Some(cx.waker().clone()),
            }
        }
    }

    unsafe fn poll_notified(&self, waiter: Pin<&VecDequeWaiter>) -> Poll<Woken> {
        // Acquire: pairs with the Release store in `Inner::notify`. Only the
        // notifier moves a waiter to NOTIFIED, and only its owner out of it.
        if waiter.state.load(Acquire) == NOTIFIED {
            Poll::Ready(waiter.take_woken())
        } else {
            Poll::Pending
        }
    }

    unsafe fn cancel(&self, waiter: Pin<&VecDequeWaiter>) -> Cancelled {
        // Acquire: pairs with the Release store in `Inner::notify`.
        match waiter.state.load(Acquire) {
            IDLE => return Cancelled::Idle,
            NOTIFIED => return Cancelled::Notified(waiter.take_woken()),
            _ => {}
        }
        let entry = {
            let mut inner = lock(&self.inner);
            if waiter.state.load(Acquire) == NOTIFIED {
                return Cancelled::Notified(waiter.take_woken());
            }
            let index = inner
                .position(&waiter)
                .expect("cancel: waiter not registered");
            waiter.state.store(IDLE, Relaxed);
            inner.queue.remove(index).expect("index found above")
        };
        // The waker is user code: retired, and dropped after the caller has
        // acted on the result (contract point 7).
        // SAFETY: we are the waiter's owner, in its `cancel`.
        unsafe { waiter.retired.keep(Some(entry.waker)) };
        Cancelled::Removed { tag: entry.tag }
    }

    fn notify_one(&self, wakeup: usize) -> bool {
        self.notify_with(wakeup, VecDeque::pop_front, || {})
    }

    fn notify_last(&self, wakeup: usize) -> bool {
        self.notify_with(wakeup, VecDeque::pop_back, || {})
    }

    // `otherwise` runs under the lock `register` takes.
    fn notify_or(&self, last: bool, wakeup: usize, otherwise: impl FnOnce()) -> bool {
        let pop = if last {
            VecDeque::pop_back
        } else {
            VecDeque::pop_front
        };
        self.notify_with(wakeup, pop, otherwise)
    }

    fn notify_while(&self, mut select: impl FnMut(&mut usize) -> Select) -> usize {
        let mut batch = WakeBatch::new();
        let mut count = 0;
        let mut inner = lock(&self.inner);
        loop {
            let mut done = true;
            while let Some(front) = inner.queue.front_mut() {
                if batch.is_full() {
                    done = false;
                    break;
                }
                let Select::Notify(wakeup) = select(&mut front.tag) else {
                    break;
                };
                let entry = inner.queue.pop_front().expect("front checked above");
                batch.push(Some(Inner::notify(entry, wakeup)));
                count += 1;
            }
            drop(inner);
            batch.wake_all();
            if done {
                batch.finish();
                return count;
            }
            inner = lock(&self.inner);
        }
    }

    fn notify_all(&self, wakeup: usize) -> usize {
        let mut batch = WakeBatch::new();
        let mut count = 0;
        let mut inner = lock(&self.inner);
        let target = inner.epoch;
        inner.epoch += 1;
        loop {
            let mut drained = true;
            while inner.queue.front().is_some_and(|e| e.epoch <= target) {
                if batch.is_full() {
                    drained = false;
                    break;
                }
                let entry = inner.queue.pop_front().expect("front checked above");
                batch.push(Some(Inner::notify(entry, wakeup)));
                count += 1;
            }
            drop(inner);
            batch.wake_all();
            if drained {
                // Resumes the first panic a waker raised, once every batch is done.
                batch.finish();
                return count;
            }
            inner = lock(&self.inner);
        }
    }
}

impl Default for MutexVecDeque {
    fn default() -> Self {
        <Self as WaitQueue>::new()
    }
}

impl std::fmt::Debug for MutexVecDeque {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MutexVecDeque").finish_non_exhaustive()
    }
}

impl Drop for VecDequeWaiter {
    fn drop(&mut self) {
        // An entry still points here: freeing the waiter now would leave the
        // queue with a dangling pointer. Not checked while unwinding: a
        // second panic would abort and hide the first.
        // (Debug builds only: `panicking()` is a load and a branch per
        // wait that release builds need not pay.)
        if cfg!(debug_assertions) && !std::thread::panicking() {
            debug_assert_ne!(
                self.state.load(Relaxed),
                WAITING,
                "VecDequeWaiter dropped while queued"
            );
        }
    }
}

impl std::fmt::Debug for VecDequeWaiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VecDequeWaiter")
            .field("state", &self.state.load(Relaxed))
            .finish_non_exhaustive()
    }
}
