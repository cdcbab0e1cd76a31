//! An async condition variable, paired with this crate's [`Mutex`].
//!
//! # How it works
//!
//! A `Condvar` is one [`WaitQueue`] and nothing else. `wait(guard)` first
//! registers the task in the queue, and only *then* drops the guard. A
//! `notify_one` that comes after the unlock therefore finds the waiter. It
//! cannot fall into a gap between "unlocked" and "queued", because there is
//! none. The waiter then waits to be notified, and locks the mutex again
//! through the ordinary `lock` path (and its fairness policy).
//!
//! The condition itself is protected by the mutex, and the mutex provides
//! the ordering. A notifier changes the condition under the lock, then
//! notifies. If it took the lock after the waiter released it, the waiter's
//! registration happens-before the notify. If it took the lock before, the
//! waiter sees the new condition before it waits. No fence is needed.
//!
//! Tokio has no condition variable. The API follows `std::sync::Condvar`,
//! made async.

use std::{
    fmt,
    future::Future,
    marker::PhantomPinned,
    pin::Pin,
    task::{Context, Poll},
};

// The flavor (see `crate::flavor`): compiled once under the crate root and
// once under `crate::local`, where the mutex is the local one and `Arc` is
// `Rc`.
use super::{
    flavor::{Arc, DefaultBackend},
    mutex::{Mutex, MutexGuard, OwnedMutexGuard},
};
use crate::backend::{Cancelled, WaitQueue, Woken};

/// Wake-up value: picked by `notify_one`.
const ONE: usize = 0;
/// Wake-up value: reached by `notify_all`.
const ALL: usize = 1;

/// An async condition variable: tasks wait until another task changes some
/// state protected by a [`Mutex`] and notifies them.
///
/// [`wait`](Self::wait) takes a locked [`MutexGuard`], unlocks the mutex
/// while waiting, and returns the guard locked again. The mutex may use any
/// backend. [`notify_one`](Self::notify_one) wakes one waiting task and
/// [`notify_all`](Self::notify_all) wakes every waiting task. A notification
/// that finds no waiter is not stored (unlike [`Notify`](crate::Notify)'s
/// permit).
///
/// # Spurious wakeups
///
/// A `wait` may return when the condition it waits for does not hold:
/// `notify_all` wakes every waiter but only one may get what it wanted,
/// another task may take the mutex first and change the state, and a
/// cancelled waiter passes its notification on to a waiter that may not
/// need it. Always re-check the condition after `wait`, in a loop, or use
/// [`wait_while`](Self::wait_while), which does that for you.
///
/// `B` is the condvar's wait-queue backend (see [`crate::backend`]).
///
/// # Examples
///
/// A producer and a consumer share a queue:
///
/// ```
/// use std::{collections::VecDeque, sync::Arc};
/// use compio_sync::{Condvar, Mutex};
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let shared = Arc::new((Mutex::new(VecDeque::new()), Condvar::new()));
///
/// let consumer = compio::runtime::spawn({
///     let shared = shared.clone();
///     async move {
///         let (queue, items) = &*shared;
///         let mut sum = 0;
///         for _ in 0..10 {
///             let guard = queue.lock().await;
///             // Sleep until there is an item; the mutex is free meanwhile.
///             let mut guard = items.wait_while(guard, |q| q.is_empty()).await;
///             sum += guard.pop_front().unwrap();
///         }
///         sum
///     }
/// });
///
/// let (queue, items) = &*shared;
/// for i in 1..=10 {
///     queue.lock().await.push_back(i);
///     items.notify_one();
/// }
/// assert_eq!(consumer.await.unwrap(), 55);
/// # });
/// ```
pub struct Condvar<B: WaitQueue = DefaultBackend> {
    /// Where waiting tasks are queued.
    queue: B,
}

#[cfg(not(loom))]
impl Condvar {
    /// Creates a condition variable on the default backend.
    ///
    /// # Examples
    ///
    /// ```
    /// let condvar = compio_sync::Condvar::new();
    /// condvar.notify_all(); // nobody waits: nothing happens
    /// ```
    pub fn new() -> Self {
        Self::with_backend()
    }

    /// Creates a condition variable in a `const` context, e.g. a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Condvar, Mutex};
    ///
    /// static READY: (Mutex<bool>, Condvar) = (Mutex::const_new(false), Condvar::const_new());
    /// *READY.0.try_lock().unwrap() = true;
    /// READY.1.notify_all();
    /// ```
    pub const fn const_new() -> Self {
        Self::const_with_backend()
    }
}

#[cfg(loom)]
impl Condvar {
    /// Creates a condition variable on the default backend.
    pub fn new() -> Self {
        Self::with_backend()
    }
}

impl<B: WaitQueue> Condvar<B> {
    /// Creates a condition variable on the backend `B`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Condvar, backend::MutexVecDeque};
    ///
    /// let condvar = Condvar::<MutexVecDeque>::with_backend();
    /// condvar.notify_one();
    /// ```
    pub fn with_backend() -> Self {
        Self { queue: B::new() }
    }

    /// `const` form of [`with_backend`](Self::with_backend).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{Condvar, backend::MutexVecDeque};
    ///
    /// static CHANGED: Condvar<MutexVecDeque> = Condvar::const_with_backend();
    /// CHANGED.notify_one();
    /// ```
    #[cfg(not(loom))]
    pub const fn const_with_backend() -> Self {
        Self { queue: B::NEW }
    }

    /// Unlocks the mutex, waits to be notified, and locks the mutex again.
    ///
    /// The task is queued *before* the mutex is unlocked, so a notification
    /// sent by a task that takes the mutex after that point is not lost.
    /// The wait may end spuriously (see [the type docs](Self#spurious-wakeups)):
    /// re-check the condition, or use [`wait_while`](Self::wait_while).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the condvar in order. The task leaves the
    /// queue, and a notification it had already received is passed on to
    /// another waiter. That includes a notification received just before
    /// the future was dropped while locking the mutex again. The guard is
    /// consumed either way: after a cancellation the mutex is unlocked,
    /// since it was unlocked while waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{Condvar, Mutex};
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let pair = Arc::new((Mutex::new(false), Condvar::new()));
    /// let setter = compio::runtime::spawn({
    ///     let pair = pair.clone();
    ///     async move {
    ///         *pair.0.lock().await = true;
    ///         pair.1.notify_one();
    ///     }
    /// });
    /// let mut ready = pair.0.lock().await;
    /// while !*ready {
    ///     ready = pair.1.wait(ready).await;
    /// }
    /// setter.await.unwrap();
    /// # });
    /// ```
    pub async fn wait<'a, T: ?Sized, M: WaitQueue>(
        &self,
        guard: MutexGuard<'a, T, M>,
    ) -> MutexGuard<'a, T, M> {
        let mutex = MutexGuard::mutex(&guard);
        let woken = self.park(guard).await;
        // A `notify_one` consumed here but not yet acted on is passed on if
        // this wait is cancelled while it re-locks.
        let pass_on = (woken == Some(ONE)).then_some(PassOn(self));
        let guard = mutex.lock().await;
        std::mem::forget(pass_on);
        guard
    }

    /// Waits while `condition` returns `true`, then returns the guard, locked,
    /// with the condition false.
    ///
    /// `condition` is called with the mutex locked: first right away (if it
    /// is already false, this returns without waiting), then after each
    /// wake-up. Spurious wakeups are handled here.
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{Condvar, Mutex};
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let pair = Arc::new((Mutex::new(0), Condvar::new()));
    /// let counter = compio::runtime::spawn({
    ///     let pair = pair.clone();
    ///     async move {
    ///         for _ in 0..3 {
    ///             *pair.0.lock().await += 1;
    ///             pair.1.notify_all();
    ///         }
    ///     }
    /// });
    /// let count = pair.1.wait_while(pair.0.lock().await, |n| *n < 3).await;
    /// assert_eq!(*count, 3);
    /// # drop(count);
    /// # counter.await.unwrap();
    /// # });
    /// ```
    pub async fn wait_while<'a, T: ?Sized, M: WaitQueue, F>(
        &self,
        mut guard: MutexGuard<'a, T, M>,
        mut condition: F,
    ) -> MutexGuard<'a, T, M>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// [`wait`](Self::wait) for an [`OwnedMutexGuard`].
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{Condvar, Mutex};
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let mutex = Arc::new(Mutex::new(None));
    /// let condvar = Arc::new(Condvar::new());
    /// let sender = compio::runtime::spawn({
    ///     let (mutex, condvar) = (mutex.clone(), condvar.clone());
    ///     async move {
    ///         *mutex.lock().await = Some("hello");
    ///         condvar.notify_one();
    ///     }
    /// });
    /// let mut slot = mutex.clone().lock_owned().await;
    /// while slot.is_none() {
    ///     slot = condvar.wait_owned(slot).await;
    /// }
    /// assert_eq!(*slot, Some("hello"));
    /// # sender.await.unwrap();
    /// # });
    /// ```
    pub async fn wait_owned<T: ?Sized, M: WaitQueue>(
        &self,
        guard: OwnedMutexGuard<T, M>,
    ) -> OwnedMutexGuard<T, M> {
        let mutex: Arc<Mutex<T, M>> = OwnedMutexGuard::mutex(&guard).clone();
        let woken = self.park(guard).await;
        // As in `wait`.
        let pass_on = (woken == Some(ONE)).then_some(PassOn(self));
        let guard = mutex.lock_owned().await;
        std::mem::forget(pass_on);
        guard
    }

    /// [`wait_while`](Self::wait_while) for an [`OwnedMutexGuard`].
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{Condvar, Mutex};
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let mutex = Arc::new(Mutex::new(Vec::new()));
    /// let condvar = Arc::new(Condvar::new());
    /// let filler = compio::runtime::spawn({
    ///     let (mutex, condvar) = (mutex.clone(), condvar.clone());
    ///     async move {
    ///         for i in 0..4 {
    ///             mutex.lock().await.push(i);
    ///             condvar.notify_one();
    ///         }
    ///     }
    /// });
    /// let full = condvar
    ///     .wait_while_owned(mutex.clone().lock_owned().await, |v| v.len() < 4)
    ///     .await;
    /// assert_eq!(*full, vec![0, 1, 2, 3]);
    /// # drop(full);
    /// # filler.await.unwrap();
    /// # });
    /// ```
    pub async fn wait_while_owned<T: ?Sized, M: WaitQueue, F>(
        &self,
        mut guard: OwnedMutexGuard<T, M>,
        mut condition: F,
    ) -> OwnedMutexGuard<T, M>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut guard) {
            guard = self.wait_owned(guard).await;
        }
        guard
    }

    /// Wakes one waiting task (the longest-waiting one, on a FIFO backend).
    /// Does nothing if no task waits: the notification is not stored.
    ///
    /// May be called with or without the mutex held; change the condition
    /// under the mutex first.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{Condvar, Mutex};
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
    /// let waiter = compio::runtime::spawn({
    ///     let pair = pair.clone();
    ///     async move { *pair.1.wait_while(pair.0.lock().await, |n| *n == 0).await }
    /// });
    /// *pair.0.lock().await = 42;
    /// pair.1.notify_one();
    /// assert_eq!(waiter.await.unwrap(), 42);
    /// # });
    /// ```
    pub fn notify_one(&self) {
        self.queue.notify_one(ONE);
    }

    /// Wakes every task waiting now. Tasks that start waiting later are not
    /// affected, and nothing is stored.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use compio_sync::{Condvar, Mutex};
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let pair = Arc::new((Mutex::new(false), Condvar::new()));
    /// let waiters: Vec<_> = (0..3)
    ///     .map(|_| {
    ///         let pair = pair.clone();
    ///         compio::runtime::spawn(async move {
    ///             drop(pair.1.wait_while(pair.0.lock().await, |go| !*go).await);
    ///         })
    ///     })
    ///     .collect();
    /// *pair.0.lock().await = true;
    /// pair.1.notify_all();
    /// for waiter in waiters {
    ///     waiter.await.unwrap();
    /// }
    /// # });
    /// ```
    pub fn notify_all(&self) {
        self.queue.notify_all(ALL);
    }

    /// A future that queues the task, then drops `guard` (unlocking), then
    /// waits to be notified.
    fn park<G>(&self, guard: G) -> Park<'_, B, G> {
        Park {
            condvar: self,
            guard: Some(guard),
            queued: false,
            waiter: B::new_waiter(),
            _pin: PhantomPinned,
        }
    }
}

impl<B: WaitQueue> fmt::Debug for Condvar<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}

/// On the default backend only, so that `Condvar::default()` needs no type
/// annotation (other backends: `with_backend()`).
impl Default for Condvar {
    fn default() -> Self {
        Self::new()
    }
}

/// Passes a consumed notification on if dropped: armed between the wake-up
/// and re-locking the mutex, so a `wait` cancelled there loses nothing.
struct PassOn<'c, B: WaitQueue>(&'c Condvar<B>);

impl<B: WaitQueue> Drop for PassOn<'_, B> {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

/// The waiting half of [`Condvar::wait`]: queue, unlock, wait.
///
/// `!Unpin`: its node lives inside it.
struct Park<'c, B: WaitQueue, G> {
    condvar: &'c Condvar<B>,
    /// The guard to drop once queued; `None` from the first poll on.
    guard: Option<G>,
    /// `waiter` is registered in `condvar.queue` and not yet observed `Ready`.
    queued: bool,
    waiter: B::Waiter,
    _pin: PhantomPinned,
}

impl<B: WaitQueue, G> Future for Park<'_, B, G> {
    /// The wake-up received (`ONE` or `ALL`), or `None` for a spurious
    /// return.
    type Output = Option<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        // SAFETY: `waiter` is never moved out of `self`, which is pinned, so
        // pinning a shared reference to it is sound; the other fields are
        // not structurally pinned.
        let (condvar, guard, queued, waiter) = unsafe {
            let this = self.get_unchecked_mut();
            (
                this.condvar,
                &mut this.guard,
                &mut this.queued,
                Pin::new_unchecked(&this.waiter),
            )
        };
        if let Some(guard) = guard.take() {
            // SAFETY: the waiter is idle (first poll); it is only used with
            // `condvar.queue`; it stays pinned in this future, whose `Drop`
            // cancels it while `queued`.
            unsafe { condvar.queue.register(waiter, cx.waker(), 0) };
            // Recorded after `register`: if its clone of the waker (user
            // code) panics, the waiter is left idle (contract point 7), so
            // there is nothing to cancel; the guard unlocks as it unwinds,
            // and a later poll returns at once (a spurious wakeup).
            *queued = true;
            // Unlock only now that we are queued: whoever takes the mutex
            // next and notifies finds us.
            drop(guard);
        }
        if !*queued {
            return Poll::Ready(None);
        }
        // SAFETY: registered with `condvar.queue` and not yet observed `Ready`.
        let woken = std::task::ready!(unsafe { condvar.queue.poll_wait(waiter, cx) });
        *queued = false;
        Poll::Ready(Some(woken.wakeup))
    }
}

impl<B: WaitQueue, G> Drop for Park<'_, B, G> {
    fn drop(&mut self) {
        if self.queued {
            // SAFETY: `queued` means the waiter was registered (so pinned
            // since, by the first poll) with `condvar.queue` and is not idle.
            let waiter = unsafe { Pin::new_unchecked(&self.waiter) };
            // SAFETY: only ever used with `condvar.queue`.
            let cancelled = unsafe { self.condvar.queue.cancel(waiter) };
            if let Cancelled::Notified(Woken { wakeup: ONE, .. }) = cancelled {
                // Picked by `notify_one` but never completed: pass it on. (A
                // `notify_all` reached everyone; nothing to pass on.)
                self.condvar.queue.notify_one(ONE);
            }
        }
        // A guard still here (never polled) is dropped after this, unlocking.
    }
}
