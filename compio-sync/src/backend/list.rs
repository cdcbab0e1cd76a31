//! The intrusive waiter list of [`Intrusive`](super::Intrusive) and
//! `IoUringFutex`: a doubly-linked FIFO whose nodes live inside the waiting
//! futures.
//!
//! A waiter type embeds a [`Node`] and says where through [`Linked`]. The node
//! holds everything a notifier touches: the links, the registration epoch that
//! lets `notify_all` skip later arrivals, the waker, the waiter's tag, the
//! wake-up value a notifier hands over, and the `state` the notifier marks.
//!
//! A [`List`] is only ever reached through its backend's lock, a
//! [`ListLock`]: the crate's spin lock for [`Intrusive`](super::Intrusive),
//! a `Mutex` for the kernel-path backends, a `RefCell` for the single-thread
//! [`Local`](super::Local) queue. So a method that takes
//! `&mut List` runs under the list lock; the `unsafe` ones add that the node
//! is linked into *this* list, whose lock guards it. `notify`, `notify_all`
//! and `notify_while` take the lock themselves, because they wake with it
//! released (contract point 5).
//!
//! The node's `state` stays an `AtomicU8` in both flavors, touched only by
//! `load` and `store` (never a read-modify-write): on the local queue these
//! are plain moves on x86-64 (and `ldar`/`stlr` on AArch64), and one node
//! type serves every queue built on the list.

use std::{
    marker::PhantomPinned,
    pin::Pin,
    ptr::NonNull,
    task::{Context, Poll, Waker},
};

pub(super) use self::near::Patience;
use self::near::home;
use super::list_lock::ListLock;
use super::{Cancelled, Select, WakeBatch, Woken, retired::reuse_or_clone};
use crate::loom::{
    UnsafeCell,
    atomic::{AtomicU8, Ordering::*},
};

mod near;

/// Not linked; no list holds a pointer to the node.
pub(super) const IDLE: u8 = 0;
/// Linked into the list.
pub(super) const WAITING: u8 = 1;
/// Unlinked and marked by a notifier; the owner has not yet observed it.
pub(super) const NOTIFIED: u8 = 2;

/// The part of a waiter that the list links. `!Unpin`, and so is every waiter
/// that embeds it.
pub(super) struct Node<T> {
    /// `IDLE`, `WAITING` or `NOTIFIED`. Moves to `WAITING` and `NOTIFIED` only
    /// under the list lock; the owner moves `NOTIFIED` back to `IDLE` (nobody
    /// else touches a notified node).
    pub(super) state: AtomicU8,
    /// Guarded by the lock of the list the node is linked into; the links are
    /// meaningful only while `WAITING` (the node is linked exactly then).
    links: UnsafeCell<Links<T>>,
    _pin: PhantomPinned,
}

struct Links<T> {
    prev: Option<NonNull<T>>,
    next: Option<NonNull<T>>,
    /// `List::epoch` at registration; lets `notify_all` skip later arrivals.
    epoch: u64,
    /// The waker to wake when notified; `None` for a waiter that a backend
    /// wakes some other way (a futex).
    waker: Option<Waker>,
    /// The waiter's tag: set by `push_back`, lowered by `notify_while`
    /// selectors, read by the owner once the node is idle or notified.
    tag: usize,
    /// Once notified, the value the notifier handed over: written by `mark`
    /// before the Release store of `NOTIFIED`, read by the owner after its
    /// Acquire load. While linked, the registering thread ([`home`]), for
    /// `Pick::Near` (a field of its own would grow every wait future).
    wakeup: usize,
    /// When a `Patience::Within` pick first passed the waiter over (its
    /// clock, 0 until then): reset by every registration.
    #[cfg(not(loom))]
    seen: u64,
}

/// A waiter type that embeds a [`Node`].
///
/// # Safety
///
/// `node` returns the same `Node`, a field of `self`, on every call: the list
/// follows a pointer to the waiter to reach the node it linked.
pub(super) unsafe trait Linked: Sized {
    fn node(&self) -> &Node<Self>;
}

/// Which end of the list a register links a waiter at.
pub(super) enum End {
    /// Ahead of every other (`register_front`).
    Head,
    /// Behind every other (`register`).
    Tail,
}

/// Which waiter a notify takes.
#[derive(Clone, Copy)]
pub(super) enum Pick {
    /// The longest-waiting one (FIFO): `notify_one`.
    Head,
    /// The most recently linked one (LIFO): `notify_last`.
    Tail,
    /// One of the calling thread near the head, else the head, as long as
    /// the head may still be passed over: `notify_one_near` and
    /// `notify_one_near_within` (see [`List::pick_near`]).
    Near(Patience),
}

/// The list. `X` is the backend's own bookkeeping, guarded by the same lock
/// (`IoUringFutex`'s futex bit table; `()` for `Intrusive`).
pub(super) struct List<T, X = ()> {
    head: Option<NonNull<T>>,
    tail: Option<NonNull<T>>,
    /// Bumped by every `notify_all`.
    epoch: u64,
    /// `Pick::Near`'s wake-ups in a row that went past the head.
    near_skips: u32,
    pub(super) extra: X,
}

// SAFETY: `List` holds pointers to linked waiters, which are `Sync`, and only
// follows them under the list lock; `X` is moved along with it.
unsafe impl<T: Sync, X: Send> Send for List<T, X> {}

impl<T> Node<T> {
    pub(super) fn new() -> Self {
        Self {
            state: AtomicU8::new(IDLE),
            links: UnsafeCell::new(Links {
                prev: None,
                next: None,
                epoch: 0,
                waker: None,
                tag: 0,
                wakeup: 0,
                #[cfg(not(loom))]
                seen: 0,
            }),
            _pin: PhantomPinned,
        }
    }

    /// Reads the links.
    ///
    /// # Safety
    ///
    /// The caller holds the lock of the list the node is linked into, which
    /// guards the links.
    unsafe fn links<R>(&self, f: impl FnOnce(&Links<T>) -> R) -> R {
        // SAFETY: the lock the caller holds excludes every write.
        self.links.with(|links| f(unsafe { &*links }))
    }

    /// Updates the links.
    ///
    /// # Safety
    ///
    /// The caller holds the lock of the list the node is linked into (or is
    /// being linked into), which guards the links.
    unsafe fn links_mut<R>(&self, f: impl FnOnce(&mut Links<T>) -> R) -> R {
        // SAFETY: the lock the caller holds excludes every other access.
        self.links.with_mut(|links| f(unsafe { &mut *links }))
    }

    /// Takes the waker the node retired (see `super::retired`): a `cancel`
    /// that unlinked it leaves its waker in the node, for the next
    /// registration to reuse or drop, or for the node's drop.
    ///
    /// # Safety
    ///
    /// The node is idle and the caller is its owner: no list links an idle
    /// node, so nobody else touches its links.
    pub(super) unsafe fn take_retired(&self) -> Option<Waker> {
        debug_assert_eq!(self.state.load(Relaxed), IDLE, "take_retired: not idle");
        // SAFETY: guaranteed by the caller; the lock that guarded the links
        // while linked was released by (or ordered before, through the
        // Acquire of `NOTIFIED`) the call that made the node idle.
        unsafe { self.links_mut(|l| l.waker.take()) }
    }

    /// What the notifier handed over, and the tag as it left it.
    ///
    /// # Safety
    ///
    /// The caller is the node's owner and has observed `NOTIFIED` with an
    /// Acquire load (or holds the list lock): nobody else touches a notified
    /// node, and `mark`'s writes happen-before that load.
    pub(super) unsafe fn woken(&self) -> Woken {
        // SAFETY: guaranteed by the caller.
        unsafe {
            self.links(|l| Woken {
                wakeup: l.wakeup,
                tag: l.tag,
            })
        }
    }

    /// When a `Patience::Within` pick first passed this waiter over: that
    /// stamp, or `now`, which becomes its stamp.
    ///
    /// # Safety
    ///
    /// The node is linked into a list whose lock the caller holds.
    #[cfg(not(loom))]
    unsafe fn stamp(&self, now: u64) -> u64 {
        // SAFETY: guaranteed by the caller: the lock guards the links.
        unsafe {
            self.links_mut(|l| {
                if l.seen == 0 {
                    l.seen = now;
                }
                l.seen
            })
        }
    }
}

impl<T> Drop for Node<T> {
    fn drop(&mut self) {
        // A linked node is about to be freed while the list still points at
        // it: a use-after-free waiting to happen. Not checked while
        // unwinding: a second panic would abort and hide the first. Debug
        // builds only, as the assertion: release builds would otherwise pay
        // `panicking()` (a load and a branch) on every wait future's drop.
        if !cfg!(debug_assertions) || std::thread::panicking() {
            return;
        }
        debug_assert_ne!(
            self.state.load(Relaxed),
            WAITING,
            "{} dropped while linked",
            std::any::type_name::<T>()
        );
    }
}

/// The whole [`WaitQueue`](super::WaitQueue) side of a queue that is just a
/// list behind a lock, with no bookkeeping of its own: [`Intrusive`] (behind a
/// `Mutex`) and [`Local`] (behind a `RefCell`) are each these calls.
///
/// [`Intrusive`]: super::Intrusive
/// [`Local`]: super::Local
impl<T: Linked> List<T> {
    /// `register` (at the tail) or `register_front` (at the head).
    ///
    /// # Safety
    ///
    /// As for [`push_back`](Self::push_back).
    pub(super) unsafe fn register(
        list: &impl ListLock<Self>,
        waiter: Pin<&T>,
        waker: &Waker,
        tag: usize,
        end: End,
    ) {
        // Cloned (or the retired waker reused) before locking, and before the
        // waiter is linked: dropping the retired waker and cloning are user
        // code, and if either panics the waiter is still idle (contract point
        // 7). Nothing below runs user code.
        // SAFETY: the caller guarantees the waiter is idle, and is its owner.
        let retired = unsafe { waiter.node().take_retired() };
        let waker = Some(reuse_or_clone(retired, waker));
        let mut list = list.lock();
        // SAFETY: forwarded from the caller; we hold the lock.
        unsafe {
            match end {
                End::Tail => list.push_back(waiter, waker, tag),
                End::Head => list.push_front(waiter, waker, tag),
            }
        }
    }

    /// `poll_wait`.
    ///
    /// # Safety
    ///
    /// `waiter` was linked into this list and has not since been observed
    /// `Ready` or cancelled.
    #[inline]
    pub(super) unsafe fn poll_wait(
        list: &impl ListLock<Self>,
        waiter: &T,
        cx: &mut Context<'_>,
    ) -> Poll<Woken> {
        // The common poll after a wake-up, inlined: a load, no lock.
        // SAFETY: forwarded from the caller.
        if let Poll::Ready(woken) = unsafe { Self::poll_notified(waiter) } {
            return Poll::Ready(woken);
        }
        // SAFETY: forwarded from the caller.
        unsafe { Self::poll_wait_locked(list, waiter, cx) }
    }

    /// The rest of `poll_wait`, under the lock: store the waker, or find the
    /// notification that arrived since `poll_notified` looked. Kept out of
    /// line, so that the lock-free look inlines into the caller.
    ///
    /// # Safety
    ///
    /// As for [`poll_wait`](Self::poll_wait).
    #[inline(never)]
    unsafe fn poll_wait_locked(
        list: &impl ListLock<Self>,
        waiter: &T,
        cx: &mut Context<'_>,
    ) -> Poll<Woken> {
        let node = waiter.node();
        // SAFETY: forwarded from the caller.
        let polled = unsafe { Self::poll_waker(list, waiter, cx.waker(), |(), _| {}) };
        if polled.is_ready() {
            node.state.store(IDLE, Relaxed);
        }
        polled
    }

    /// `poll_notified`: `Ready` once notified (the waiter is then idle),
    /// without the lock and without touching the waker; otherwise `Pending`.
    ///
    /// # Safety
    ///
    /// As for [`poll_wait`](Self::poll_wait): the caller owns the waiter.
    #[inline]
    pub(super) unsafe fn poll_notified(waiter: &T) -> Poll<Woken> {
        let node = waiter.node();
        // Acquire: pairs with the Release store in `mark`.
        if node.state.load(Acquire) != NOTIFIED {
            return Poll::Pending;
        }
        // SAFETY: we own the waiter (the caller's promise) and observed
        // NOTIFIED with Acquire.
        let woken = unsafe { node.woken() };
        node.state.store(IDLE, Relaxed);
        Poll::Ready(woken)
    }

    /// `cancel`.
    ///
    /// # Safety
    ///
    /// `waiter` is only ever linked into this list.
    pub(super) unsafe fn cancel(list: &impl ListLock<Self>, waiter: &T) -> Cancelled {
        let node = waiter.node();
        let notified = || {
            // SAFETY: we own the waiter and observed NOTIFIED (Acquire).
            let woken = unsafe { node.woken() };
            node.state.store(IDLE, Relaxed);
            Cancelled::Notified(woken)
        };
        // Acquire: pairs with the Release store in `mark`.
        match node.state.load(Acquire) {
            IDLE => return Cancelled::Idle,
            NOTIFIED => return notified(),
            _ => {}
        }
        let mut list = list.lock();
        if node.state.load(Acquire) == NOTIFIED {
            return notified();
        }
        // Its waker stays in the node, retired: no user code runs before the
        // caller has acted on the result (contract point 7).
        // SAFETY: still WAITING under the lock, so the waiter is linked into
        // this list (the caller uses it with no other).
        let tag = unsafe { list.remove(waiter) };
        Cancelled::Removed { tag }
    }
}

impl<T: Linked, X> List<T, X> {
    pub(super) const fn new(extra: X) -> Self {
        Self {
            head: None,
            tail: None,
            epoch: 0,
            near_skips: 0,
            extra,
        }
    }

    /// Links `waiter` at the tail, to be woken through `waker`, with `tag`,
    /// and marks it `WAITING`.
    ///
    /// # Safety
    ///
    /// `waiter` is idle, is only ever linked into this list, and stays pinned
    /// until it is unlinked.
    pub(super) unsafe fn push_back(&mut self, waiter: Pin<&T>, waker: Option<Waker>, tag: usize) {
        let node = waiter.node();
        debug_assert_eq!(node.state.load(Relaxed), IDLE, "register: waiter not idle");
        let (prev, epoch) = (self.tail, self.epoch);
        // We hold the lock (`&mut self`): it guards the links of `waiter`
        // and of the tail. Idle, `waiter` has no waker to drop here: its
        // registration took the retired one first.
        // SAFETY: `waiter` is idle (nothing else refers to its links) and only
        // ever used with this list; the tail is linked, therefore alive.
        unsafe {
            node.links_mut(|l| {
                debug_assert!(l.waker.is_none(), "register: retired waker not taken");
                *l = Links {
                    prev,
                    next: None,
                    epoch,
                    waker,
                    tag,
                    // Until `mark` writes the wake-up value.
                    wakeup: home(),
                    #[cfg(not(loom))]
                    seen: 0,
                }
            });
            let waiter = NonNull::from(waiter.get_ref());
            match prev {
                Some(tail) => tail.as_ref().node().links_mut(|l| l.next = Some(waiter)),
                None => self.head = Some(waiter),
            }
            self.tail = Some(waiter);
        }
        node.state.store(WAITING, Relaxed);
    }

    /// Links `waiter` at the head, as [`push_back`](Self::push_back) does at
    /// the tail. It takes the head's epoch, so the list stays sorted by
    /// epoch (`notify_all` stops at the first later one).
    ///
    /// # Safety
    ///
    /// As for [`push_back`](Self::push_back).
    pub(super) unsafe fn push_front(&mut self, waiter: Pin<&T>, waker: Option<Waker>, tag: usize) {
        let node = waiter.node();
        debug_assert_eq!(node.state.load(Relaxed), IDLE, "register: waiter not idle");
        let next = self.head;
        // SAFETY: we hold the lock (`&mut self`); `waiter` is idle (nothing
        // else refers to its links) and only ever used with this list; the
        // head is linked, therefore alive, and guarded by our lock.
        unsafe {
            let epoch = match next {
                Some(head) => head.as_ref().node().links(|l| l.epoch),
                None => self.epoch,
            };
            node.links_mut(|l| {
                debug_assert!(l.waker.is_none(), "register: retired waker not taken");
                *l = Links {
                    prev: None,
                    next,
                    epoch,
                    waker,
                    tag,
                    // Until `mark` writes the wake-up value.
                    wakeup: home(),
                    #[cfg(not(loom))]
                    seen: 0,
                }
            });
            let waiter = NonNull::from(waiter.get_ref());
            match next {
                Some(head) => head.as_ref().node().links_mut(|l| l.prev = Some(waiter)),
                None => self.tail = Some(waiter),
            }
            self.head = Some(waiter);
        }
        node.state.store(WAITING, Relaxed);
    }

    /// Unlinks a waiting `waiter` (a cancel), makes it `IDLE` and returns its
    /// tag. Its waker stays in the node, retired (see `super::retired`): the
    /// owner's next registration or the node's drop disposes of it, after
    /// the caller has acted on the cancel.
    ///
    /// # Safety
    ///
    /// `waiter` is linked into this list.
    pub(super) unsafe fn remove(&mut self, waiter: &T) -> usize {
        let node = waiter.node();
        // SAFETY: guaranteed by the caller; we hold the lock (`&mut self`).
        let tag = unsafe {
            self.unlink(node);
            node.links(|l| l.tag)
        };
        node.state.store(IDLE, Relaxed);
        tag
    }

    /// Runs `f` on the waker slot of `waiter`.
    ///
    /// # Safety
    ///
    /// `waiter` is linked into this list.
    pub(super) unsafe fn with_waker<R>(
        &mut self,
        waiter: &T,
        f: impl FnOnce(&mut Option<Waker>) -> R,
    ) -> R {
        // SAFETY: we hold the lock (`&mut self`) of the list `waiter` is
        // linked into (guaranteed by the caller).
        unsafe { waiter.node().links_mut(|l| f(&mut l.waker)) }
    }

    /// The waker half of `poll_wait` on a registered `waiter`: `Ready` if it
    /// has been notified (the caller then makes it idle), otherwise stores
    /// `waker` unless the stored one would wake the same task, and `Pending`.
    ///
    /// Cloning a waker is user code and may re-enter this list (contract
    /// points 5 and 7), so it never runs under the lock: under the lock we
    /// only compare (`Waker::will_wake`); if a new waker is needed, we unlock,
    /// clone, lock again and re-check the state before storing it. The
    /// replaced waker is dropped with the lock released. If the clone or that
    /// drop panics, the waiter is still linked (or notified), with a waker
    /// that wakes its task. `prepare` runs under the lock on the
    /// still-waiting waiter, each time the lock is taken.
    ///
    /// # Safety
    ///
    /// `waiter` was linked into this list and has not since been observed
    /// `Ready` or cancelled (it is `WAITING` or `NOTIFIED`).
    pub(super) unsafe fn poll_waker(
        list: &impl ListLock<Self>,
        waiter: &T,
        waker: &Waker,
        mut prepare: impl FnMut(&mut X, &T),
    ) -> Poll<Woken> {
        let node = waiter.node();
        // Our clone of `waker`, made with the lock released.
        let mut fresh: Option<Waker> = None;
        loop {
            let mut guard = list.lock();
            // Acquire: pairs with the Release store in `mark`.
            if node.state.load(Acquire) == NOTIFIED {
                // SAFETY: we own the node and observed NOTIFIED (Acquire).
                let woken = unsafe { node.woken() };
                drop(guard);
                // User code, with the lock released; the waiter stays
                // NOTIFIED (the caller's next step) if it panics.
                drop(fresh);
                return Poll::Ready(woken);
            }
            debug_assert_eq!(
                node.state.load(Relaxed),
                WAITING,
                "poll_wait: waiter not registered"
            );
            prepare(&mut guard.extra, waiter);
            // SAFETY: WAITING under the lock, so the waiter is linked into
            // this list (the caller uses it with no other).
            let stored = unsafe {
                guard.with_waker(waiter, |slot| {
                    if slot.as_ref().is_some_and(|old| old.will_wake(waker)) {
                        Some(None)
                    } else {
                        // Only the owner stores wakers, so the slot is the
                        // one we compared on our previous turn, if any.
                        fresh.take().map(|new| slot.replace(new))
                    }
                })
            };
            drop(guard);
            match stored {
                Some(stale) => {
                    // At most one of the two is `Some`; each is user code.
                    drop(stale);
                    drop(fresh);
                    return Poll::Pending;
                }
                // Clone with the lock released, then store it next turn.
                None => fresh = Some(waker.clone()),
            }
        }
    }

    /// Unlinks `node`.
    ///
    /// # Safety
    ///
    /// `node` is linked into this list.
    unsafe fn unlink(&mut self, node: &Node<T>) {
        // SAFETY: we hold the lock (`&mut self`); `node` and its neighbours
        // are linked into this list, hence alive and guarded by its lock.
        unsafe {
            let (prev, next) = node.links(|l| (l.prev, l.next));
            match prev {
                Some(prev) => prev.as_ref().node().links_mut(|l| l.next = next),
                None => self.head = next,
            }
            match next {
                Some(next) => next.as_ref().node().links_mut(|l| l.prev = prev),
                None => self.tail = prev,
            }
        }
    }

    /// Unlinks `waiter`, hands it `wakeup`, marks it `NOTIFIED` and returns
    /// its waker. `select` runs first, on the still-linked waiter.
    ///
    /// # Safety
    ///
    /// `waiter` is linked into this list. The caller does not touch it
    /// afterwards: its owner may free it as soon as it sees `NOTIFIED`.
    unsafe fn mark(
        &mut self,
        waiter: NonNull<T>,
        wakeup: usize,
        select: impl FnOnce(&mut X, &T),
    ) -> Option<Waker> {
        // SAFETY: guaranteed by the caller; we hold the lock (`&mut self`).
        unsafe {
            let waiter = waiter.as_ref();
            select(&mut self.extra, waiter);
            let node = waiter.node();
            self.unlink(node);
            let waker = node.links_mut(|l| {
                l.wakeup = wakeup;
                l.waker.take()
            });
            // Release: pairs with the owner's Acquire load of `state`, so the
            // notifier's prior writes (the primitive's condition included)
            // happen-before the owner's `Ready` (contract point 4). It also
            // precedes, in this thread, the `unlocked` hook of `notify` and
            // `notify_all`, where `IoUringFutex` bumps its futex word with
            // Release; a kernel-path waiter reads the word with Acquire before
            // re-checking `state`.
            node.state.store(NOTIFIED, Release);
            waker
        }
    }

    /// Notifies the waiter `pick` names, if any; returns whether there was one.
    ///
    /// Under the lock, `select` runs on the chosen waiter before it is
    /// marked, with the backend's bookkeeping. With the lock released,
    /// `unlocked` runs, then the waiter's waker is woken (contract point 5).
    pub(super) fn notify(
        list: &impl ListLock<Self>,
        pick: Pick,
        wakeup: usize,
        select: impl FnOnce(&mut X, &T),
        unlocked: impl FnOnce(),
    ) -> bool {
        Self::notify_or(list, pick, wakeup, select, unlocked, || {})
    }

    /// [`notify`](Self::notify), running `otherwise` under the lock if the
    /// list is empty (`WaitQueue::notify_or`): a registration takes the same
    /// lock, so it either comes first and is notified, or happens-after
    /// `otherwise`.
    pub(super) fn notify_or(
        list: &impl ListLock<Self>,
        pick: Pick,
        wakeup: usize,
        select: impl FnOnce(&mut X, &T),
        unlocked: impl FnOnce(),
        otherwise: impl FnOnce(),
    ) -> bool {
        let waker = {
            let mut list = list.lock();
            let picked = match pick {
                Pick::Head => list.head,
                Pick::Tail => list.tail,
                Pick::Near(patience) => list.pick_near(patience),
            };
            let Some(waiter) = picked else {
                otherwise();
                return false;
            };
            // SAFETY: the head, the tail, or a waiter reached from the head:
            // linked; we hold the lock and do not touch the waiter
            // afterwards.
            unsafe { list.mark(waiter, wakeup, select) }
        };
        // Woken with the lock released (contract point 5).
        unlocked();
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }

    /// Notifies every waiter linked before the call, and none linked after it
    /// started; returns how many.
    ///
    /// Wakers are collected in a [`WakeBatch`] and woken with the lock
    /// released whenever it fills, so the lock is taken again for the rest;
    /// `select` and `unlocked` run as in [`notify`](Self::notify), `unlocked`
    /// once per batch.
    pub(super) fn notify_all(
        list: &impl ListLock<Self>,
        wakeup: usize,
        mut select: impl FnMut(&mut X, &T),
        mut unlocked: impl FnMut(),
    ) -> usize {
        let mut batch = WakeBatch::new();
        let mut count = 0;
        let mut guard = list.lock();
        // Nodes registered from here on carry a later epoch and are skipped.
        let target = guard.epoch;
        guard.epoch += 1;
        loop {
            let mut drained = true;
            while let Some(waiter) = guard.head {
                // SAFETY: the head is linked, hence alive; we hold the lock.
                if unsafe { waiter.as_ref().node().links(|l| l.epoch) } > target {
                    break;
                }
                if batch.is_full() {
                    drained = false;
                    break;
                }
                // SAFETY: the head is linked; we hold the lock and do not
                // touch it again.
                if let Some(waker) = unsafe { guard.mark(waiter, wakeup, &mut select) } {
                    batch.push(Some(waker));
                }
                count += 1;
            }
            drop(guard);
            unlocked();
            batch.wake_all();
            if drained {
                // Resumes the first panic a waker raised, once every batch is done.
                batch.finish();
                return count;
            }
            guard = list.lock();
        }
    }

    /// Offers waiters to `choose`, head first, under the lock, and notifies
    /// each one it picks with the value it gives, until it returns
    /// [`Select::Keep`] or the list is empty; returns how many it notified.
    ///
    /// `choose` may lower the offered node's tag. Wakers are batched and
    /// woken with the lock released, as in [`notify_all`](Self::notify_all);
    /// `select` and `unlocked` are the backend's hooks, as there.
    pub(super) fn notify_while(
        list: &impl ListLock<Self>,
        mut choose: impl FnMut(&mut usize) -> Select,
        mut select: impl FnMut(&mut X, &T),
        mut unlocked: impl FnMut(),
    ) -> usize {
        let mut batch = WakeBatch::new();
        let mut count = 0;
        let mut guard = list.lock();
        loop {
            let mut done = true;
            while let Some(waiter) = guard.head {
                if batch.is_full() {
                    done = false;
                    break;
                }
                // SAFETY: the head is linked, hence alive, and we hold the
                // lock that guards its links.
                let verdict = unsafe { waiter.as_ref().node().links_mut(|l| choose(&mut l.tag)) };
                let Select::Notify(wakeup) = verdict else {
                    break;
                };
                // SAFETY: the head is linked; we hold the lock and do not
                // touch it again.
                if let Some(waker) = unsafe { guard.mark(waiter, wakeup, &mut select) } {
                    batch.push(Some(waker));
                }
                count += 1;
            }
            drop(guard);
            if count > 0 {
                unlocked();
            }
            batch.wake_all();
            if done {
                batch.finish();
                return count;
            }
            guard = list.lock();
        }
    }
}
