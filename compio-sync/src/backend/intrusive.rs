//! [`Intrusive`]: a zero-allocation FIFO wait queue.
//!
//! The queue is a doubly-linked list whose nodes live inside the waiting
//! futures. A future that waits is `!Unpin`, so its node cannot move while it
//! is linked; dropping the future unlinks the node (the primitives call
//! [`WaitQueue::cancel`] from `Drop`). The list is guarded by a short critical
//! section on a `std::sync::Mutex`; wakers are woken after it is released.
//! This is the layout of tokio's and maitake-sync's wait lists.

use std::{
    marker::PhantomPinned,
    pin::Pin,
    ptr::NonNull,
    task::{Context, Poll, Waker},
};

use super::{WaitQueue, WakeBatch};
use crate::loom::{
    Mutex, UnsafeCell,
    atomic::{AtomicU8, Ordering::*},
    lock,
};

/// A FIFO wait queue whose nodes are stored in the waiting futures: no heap
/// allocation per wait.
///
/// Supports both fairness policies (its `notify_one` is strict FIFO), and
/// `notify_last` (LIFO).
pub struct Intrusive {
    list: Mutex<List>,
}

/// The node an [`Intrusive`] queue links; one lives in each waiting future.
pub struct IntrusiveWaiter {
    /// `IDLE`, `WAITING` or `NOTIFIED`. Moves to `WAITING` and `NOTIFIED` only
    /// under the list lock; the owner moves `NOTIFIED` back to `IDLE` (nobody
    /// else touches a notified node).
    state: AtomicU8,
    /// List links and registration epoch. Guarded by the list lock; only
    /// meaningful while `WAITING` (the node is linked exactly then).
    links: UnsafeCell<Links>,
    /// The waker to wake when notified. Guarded by the list lock.
    waker: UnsafeCell<Option<Waker>>,
    _pin: PhantomPinned,
}

/// Not linked; the queue holds no pointer to it.
const IDLE: u8 = 0;
/// Linked into the list.
const WAITING: u8 = 1;
/// Unlinked by a notifier; the owner has not yet observed it.
const NOTIFIED: u8 = 2;

type Link = Option<NonNull<IntrusiveWaiter>>;

#[derive(Clone, Copy)]
struct Links {
    prev: Link,
    next: Link,
    /// `List::epoch` at registration; lets `notify_all` skip later arrivals.
    epoch: u64,
}

struct List {
    head: Link,
    tail: Link,
    /// Bumped by every `notify_all`.
    epoch: u64,
}

// SAFETY: `List` holds pointers to `IntrusiveWaiter`s, which are `Sync`; the
// pointers are only followed under the list lock.
unsafe impl Send for List {}

// SAFETY: the cells of a waiter are only accessed under the lock of the one
// queue it is registered with (the `WaitQueue` caller contract); `state` is
// atomic.
unsafe impl Send for IntrusiveWaiter {}
// SAFETY: as for `Send`.
unsafe impl Sync for IntrusiveWaiter {}

impl List {
    const fn new() -> Self {
        Self {
            head: None,
            tail: None,
            epoch: 0,
        }
    }

    /// Links `node` at the tail.
    ///
    /// # Safety
    ///
    /// Called under the list lock; `node` is idle, pinned, and stays alive
    /// until it is unlinked.
    unsafe fn push_back(&mut self, node: NonNull<IntrusiveWaiter>) {
        let links = Links {
            prev: self.tail,
            next: None,
            epoch: self.epoch,
        };
        // SAFETY: the list lock is held, so we own the links of every node.
        unsafe {
            (*node.as_ptr()).links.with_mut(|l| *l = links);
            match self.tail {
                Some(tail) => (*tail.as_ptr()).links.with_mut(|l| (*l).next = Some(node)),
                None => self.head = Some(node),
            }
        }
        self.tail = Some(node);
    }

    /// Unlinks `node`.
    ///
    /// # Safety
    ///
    /// Called under the list lock; `node` is linked in this list.
    unsafe fn unlink(&mut self, node: NonNull<IntrusiveWaiter>) {
        // SAFETY: the lock is held and `node` and its neighbours are linked,
        // hence alive.
        unsafe {
            let Links { prev, next, .. } = (*node.as_ptr()).links.with(|l| *l);
            match prev {
                Some(prev) => (*prev.as_ptr()).links.with_mut(|l| (*l).next = next),
                None => self.head = next,
            }
            match next {
                Some(next) => (*next.as_ptr()).links.with_mut(|l| (*l).prev = prev),
                None => self.tail = prev,
            }
        }
    }

    /// Unlinks `node`, marks it notified and returns its waker.
    ///
    /// # Safety
    ///
    /// Called under the list lock; `node` is linked in this list. The caller
    /// must not touch `node` afterwards: its owner may free it as soon as it
    /// sees `NOTIFIED`.
    unsafe fn notify(&mut self, node: NonNull<IntrusiveWaiter>) -> Option<Waker> {
        // SAFETY: guaranteed by the caller.
        unsafe {
            self.unlink(node);
            let waker = (*node.as_ptr()).waker.with_mut(|w| (*w).take());
            // Release: pairs with the owner's Acquire load of `state`, so the
            // notifier's prior writes (the primitive's condition included)
            // happen-before the owner's `Ready` (contract point 4).
            (*node.as_ptr()).state.store(NOTIFIED, Release);
            waker
        }
    }

    fn epoch_of(node: NonNull<IntrusiveWaiter>) -> u64 {
        // SAFETY: only called under the list lock on a linked node.
        unsafe { (*node.as_ptr()).links.with(|l| (*l).epoch) }
    }
}

impl Intrusive {
    fn notify_with(&self, pick: impl FnOnce(&List) -> Link) -> bool {
        let waker = {
            let mut list = lock(&self.list);
            let Some(node) = pick(&list) else {
                return false;
            };
            // SAFETY: `pick` returned the head or tail, a linked node; we hold
            // the lock and do not touch the node afterwards.
            unsafe { list.notify(node) }
        };
        // Woken with the lock released (contract point 5).
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }
}

// SAFETY: every contract point is argued at the code it concerns: selection is
// exact because a node is unlinked and marked `NOTIFIED` under the lock that
// guards linking; wakers are taken under the lock and woken after it; a node's
// memory is not touched after it is unlinked; ordering comes from the lock
// plus the Release/Acquire pair on `state`.
unsafe impl WaitQueue for Intrusive {
    type Waiter = IntrusiveWaiter;

    #[cfg(not(loom))]
    const NEW: Self = Self {
        list: Mutex::new(List::new()),
    };

    fn new() -> Self {
        Self {
            list: Mutex::new(List::new()),
        }
    }

    fn new_waiter() -> IntrusiveWaiter {
        IntrusiveWaiter {
            state: AtomicU8::new(IDLE),
            links: UnsafeCell::new(Links {
                prev: None,
                next: None,
                epoch: 0,
            }),
            waker: UnsafeCell::new(None),
            _pin: PhantomPinned,
        }
    }

    unsafe fn register(&self, waiter: Pin<&IntrusiveWaiter>, waker: &Waker) {
        // Cloned before locking: a waker's clone is user code.
        let waker = waker.clone();
        let node = NonNull::from(waiter.get_ref());
        let mut list = lock(&self.list);
        debug_assert_eq!(
            waiter.state.load(Relaxed),
            IDLE,
            "register: waiter not idle"
        );
        // SAFETY: the lock is held; the caller guarantees the waiter is idle
        // (so its waker slot is empty and nobody else references it) and
        // pinned until it is idle again, which requires unlinking it.
        unsafe {
            waiter.waker.with_mut(|w| *w = Some(waker));
            list.push_back(node);
        }
        waiter.state.store(WAITING, Relaxed);
    }

    unsafe fn poll_wait(&self, waiter: Pin<&IntrusiveWaiter>, cx: &mut Context<'_>) -> Poll<()> {
        // Acquire: pairs with the Release store in `List::notify`.
        if waiter.state.load(Acquire) == NOTIFIED {
            waiter.state.store(IDLE, Relaxed);
            return Poll::Ready(());
        }
        let stale = {
            let _list = lock(&self.list);
            match waiter.state.load(Acquire) {
                NOTIFIED => {
                    waiter.state.store(IDLE, Relaxed);
                    return Poll::Ready(());
                }
                state => {
                    debug_assert_eq!(state, WAITING, "poll_wait: waiter not registered");
                    // SAFETY: the lock is held and the waiter is linked, so
                    // its waker slot is ours to update.
                    waiter.waker.with_mut(|w| unsafe {
                        match &*w {
                            Some(old) if old.will_wake(cx.waker()) => None,
                            _ => (*w).replace(cx.waker().clone()),
                        }
                    })
                }
            }
        };
        // The replaced waker is dropped with the lock released (point 5).
        drop(stale);
        Poll::Pending
    }

    unsafe fn cancel(&self, waiter: Pin<&IntrusiveWaiter>) -> bool {
        match waiter.state.load(Acquire) {
            IDLE => return false,
            NOTIFIED => {
                waiter.state.store(IDLE, Relaxed);
                return true;
            }
            _ => {}
        }
        let waker = {
            let mut list = lock(&self.list);
            if waiter.state.load(Acquire) == NOTIFIED {
                waiter.state.store(IDLE, Relaxed);
                return true;
            }
            // SAFETY: still WAITING under the lock, so the node is linked in
            // this list (the caller uses it with no other queue).
            unsafe { list.unlink(NonNull::from(waiter.get_ref())) };
            waiter.state.store(IDLE, Relaxed);
            // SAFETY: the lock is held; the node is no longer linked.
            waiter.waker.with_mut(|w| unsafe { (*w).take() })
        };
        drop(waker);
        false
    }

    fn notify_one(&self) -> bool {
        self.notify_with(|list| list.head)
    }

    fn notify_last(&self) -> bool {
        self.notify_with(|list| list.tail)
    }

    fn notify_all(&self) -> usize {
        let mut batch = WakeBatch::new();
        let mut count = 0;
        let mut list = lock(&self.list);
        // Nodes registered from here on carry a later epoch and are skipped.
        let target = list.epoch;
        list.epoch += 1;
        loop {
            let mut drained = true;
            while let Some(node) = list.head {
                if List::epoch_of(node) > target {
                    break;
                }
                if batch.is_full() {
                    drained = false;
                    break;
                }
                // SAFETY: `node` is the head, linked; the lock is held and we
                // do not touch it again.
                batch.push(unsafe { list.notify(node) });
                count += 1;
            }
            drop(list);
            batch.wake_all();
            if drained {
                return count;
            }
            list = lock(&self.list);
        }
    }
}

impl Default for Intrusive {
    fn default() -> Self {
        <Self as WaitQueue>::new()
    }
}

impl std::fmt::Debug for Intrusive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intrusive").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for IntrusiveWaiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrusiveWaiter")
            .field("state", &self.state.load(Relaxed))
            .finish_non_exhaustive()
    }
}

impl Drop for IntrusiveWaiter {
    fn drop(&mut self) {
        debug_assert_ne!(
            self.state.load(Relaxed),
            WAITING,
            "IntrusiveWaiter dropped while linked"
        );
    }
}
