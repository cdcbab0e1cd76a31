//! The watch channel itself, compiled once per flavor (see `super`).
//!
//! # How it works
//!
//! The value sits behind the flavor's reader-writer lock, and one word,
//! `state = version << 1 | CLOSED`, counts the sends. A send writes the
//! value and bumps the version *while it holds the write lock*, so a reader
//! that holds the read lock sees the version of exactly the value it reads
//! (never a torn value, never a version ahead of its value). A receiver
//! remembers the version it has seen; `changed()` completes once the word
//! holds another one.
//!
//! Waiting receivers park in a [`WaitSet`] (the event-count handshake of
//! [`WaitQueue`]: register, fence, re-check the version; a send bumps the
//! version, fences, and wakes the set). The set spreads its waiters over a
//! queue per thread shard, so receivers waiting on many threads do not all
//! register behind one lock, a send wakes each thread's waiters back to
//! back, and skips the shards where nobody waits. A waiter registers with
//! the version it has seen, so a send wakes only the receivers that have
//! not seen its version, and the first one it wakes on a thread wakes the
//! others there (see [`WaitSet`] for why).
//! `changed()` updates the receiver's version only when it returns, so
//! dropping it midway loses nothing.

use std::{
    fmt,
    future::{Future, poll_fn},
    mem, ops,
    panic::{self, AssertUnwindSafe},
    pin::pin,
};

// The receivers' wait, in its own file. `#[path]` keeps it next to this
// one whichever way this file was reached (it is compiled once per flavor);
// it takes the flavor's names through this module's imports.
#[path = "changed.rs"]
mod changed;
// The sending side's methods, likewise.
#[path = "sender.rs"]
mod sender;

use self::changed::Changed;
use super::{
    super::{
        flavor::{Arc, AtomicUsize, DefaultBackend, Ordering::*, RwLock, RwLockReadGuard},
        notify::Notify,
        wait_set::{SetWaiter, WaitSet},
    },
    error::{RecvError, SendError},
};
use crate::backend::WaitQueue;

/// `state`: every sender is gone.
const CLOSED: usize = 1;
/// `state`: one send (the version sits above `CLOSED`).
const STEP: usize = 2;

/// The state every handle of one channel shares.
struct Shared<T, B: WaitQueue> {
    /// The current value. Written only under the write lock, which a send
    /// holds while it bumps `state`'s version.
    value: RwLock<T>,
    /// `version * STEP | CLOSED`. The version moves only under the write
    /// lock of `value` (Release, so a reader's Acquire load that sees it
    /// also sees the value it stands for).
    state: AtomicUsize,
    /// Live `Receiver`s; `Sender::closed` waits for zero.
    rx_count: AtomicUsize,
    /// Live `Sender`s; the last one sets `CLOSED`.
    tx_count: AtomicUsize,
    /// Where `changed()` waits: every send wakes every waiter.
    receivers: WaitSet<B>,
    /// Where `Sender::closed` waits: the last receiver's drop wakes it.
    notify_tx: Notify<B>,
}

impl<T, B: WaitQueue> Shared<T, B> {
    fn version(&self) -> usize {
        // Acquire: pairs with the Release bump in `send_if_modified`, so the
        // value of that version is visible to whoever reads it next.
        self.state.load(Acquire) & !CLOSED
    }

    /// Wakes every waiting receiver that has not seen `version`, after a
    /// send moved `state` to it; see [`WaitSet::notify_changed`] for the
    /// ordering and for wakers that panic.
    fn wake_receivers(&self, version: usize) {
        self.receivers.notify_changed(version);
    }
}

/// Receives the values sent on a watch channel: the latest one, and a
/// notification each time it changes.
///
/// Created by [`channel`], [`Sender::subscribe`] or [`Clone`]. Each handle
/// remembers the last version it has *seen* (marked by
/// [`borrow_and_update`](Self::borrow_and_update), [`changed`](Self::changed)
/// and [`wait_for`](Self::wait_for)); a clone starts with its original's.
pub struct Receiver<T, B: WaitQueue = DefaultBackend> {
    shared: Arc<Shared<T, B>>,
    /// The version this receiver has seen (`state` without `CLOSED`).
    version: usize,
}

/// Sends values into a watch channel. Cloneable: the channel closes when the
/// last sender is dropped.
pub struct Sender<T, B: WaitQueue = DefaultBackend> {
    shared: Arc<Shared<T, B>>,
}

/// A reference to the value in a watch channel, as tokio's `watch::Ref`.
///
/// It holds the channel's read lock: while it lives, a send waits for it (a
/// [`local`](crate::local) channel panics instead, since the only thread
/// that could drop it is the one that is sending). Keep it short, and never
/// across an `.await`.
pub struct Ref<'a, T> {
    inner: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether the borrowed value had not yet been seen by the receiver that
    /// borrowed it, when it borrowed it. Always `false` for a
    /// [`Sender::borrow`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = compio_sync::watch::channel("a");
    /// tx.send("b").unwrap();
    /// assert!(rx.borrow_and_update().has_changed());
    /// assert!(!rx.borrow_and_update().has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> ops::Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ref")
            .field("value", &**self)
            .field("has_changed", &self.has_changed)
            .finish()
    }
}

/// Creates a watch channel holding `init`, on the default backend: a
/// [`Sender`] and a first [`Receiver`], which has seen `init`.
///
/// # Examples
///
/// ```
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = compio_sync::watch::channel("hello");
/// let task = compio::runtime::spawn(async move {
///     rx.changed().await.unwrap();
///     *rx.borrow_and_update()
/// });
/// tx.send("world").unwrap();
/// assert_eq!(task.await.unwrap(), "world");
/// # });
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    channel_with_backend(init)
}

/// [`channel`] on the wait-queue backend `B` (see [`crate::backend`]).
///
/// # Examples
///
/// ```
/// use compio_sync::{backend::MutexVecDeque, watch};
///
/// let (tx, rx) = watch::channel_with_backend::<_, MutexVecDeque>(1);
/// tx.send(2).unwrap();
/// assert_eq!(*rx.borrow(), 2);
/// ```
pub fn channel_with_backend<T, B: WaitQueue>(init: T) -> (Sender<T, B>, Receiver<T, B>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: AtomicUsize::new(0),
        rx_count: AtomicUsize::new(1),
        tx_count: AtomicUsize::new(1),
        receivers: WaitSet::new(),
        notify_tx: Notify::with_backend(),
    });
    let rx = Receiver {
        shared: shared.clone(),
        version: 0,
    };
    (Sender { shared }, rx)
}

impl<T, B: WaitQueue> Receiver<T, B> {
    /// A new handle on `shared`, counted, having seen `version`.
    fn from_shared(shared: Arc<Shared<T, B>>, version: usize) -> Self {
        // Relaxed: a count, not a publication of memory (tokio's reasoning).
        shared.rx_count.fetch_add(1, Relaxed);
        Self { shared, version }
    }

    /// Borrows the latest value, without marking it seen.
    ///
    /// The returned [`Ref`] holds the channel's read lock (see there).
    /// [`Ref::has_changed`] says whether this receiver had seen the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// assert!(rx.borrow().has_changed()); // still unseen
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        let inner = self.shared.value.read();
        // Under the read lock no send can move the version: this is the
        // version of `inner`.
        let has_changed = self.version != self.shared.version();
        Ref { inner, has_changed }
    }

    /// Borrows the latest value and marks it seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = compio_sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 2);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let inner = self.shared.value.read();
        // As in `borrow`: the version of `inner`.
        let version = self.shared.version();
        let has_changed = self.version != version;
        self.version = version;
        Ref { inner, has_changed }
    }

    /// Whether a value this receiver has not seen is in the channel.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone (whether or not the last value
    /// was seen), as tokio.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = compio_sync::watch::channel(1);
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(2).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// drop(tx);
    /// assert!(rx.has_changed().is_err());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        // Acquire: as `Shared::version`.
        let state = self.shared.state.load(Acquire);
        if state & CLOSED != 0 {
            return Err(RecvError(()));
        }
        Ok(self.version != state & !CLOSED)
    }

    /// Whether every sender is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::watch::channel(());
    /// assert!(!rx.is_closed());
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.state.load(Acquire) & CLOSED != 0
    }

    /// Marks the current value unseen: the next [`changed`](Self::changed)
    /// completes at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (_tx, mut rx) = compio_sync::watch::channel(1);
    /// rx.mark_changed();
    /// rx.changed().await.unwrap(); // completes at once
    /// # });
    /// ```
    pub fn mark_changed(&mut self) {
        // A version that cannot be current (it is behind by one send).
        self.version = self.version.wrapping_sub(STEP);
    }

    /// Marks the current value seen, without borrowing it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = compio_sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// rx.mark_unchanged();
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.version = self.shared.version();
    }

    /// Waits for a value this receiver has not seen, and marks it seen.
    ///
    /// Completes at once if there is one already. Borrow the new value with
    /// [`borrow_and_update`](Self::borrow_and_update) (or
    /// [`borrow`](Self::borrow)).
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender is gone and the last value has been
    /// seen.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the receiver marks a value seen only when `changed`
    /// returns, so dropping the future midway (in a `select!`) loses no
    /// change; the next `changed` reports it.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = compio_sync::watch::channel(0);
    /// let task = compio::runtime::spawn(async move {
    ///     let mut seen = vec![];
    ///     while rx.changed().await.is_ok() {
    ///         seen.push(*rx.borrow_and_update());
    ///     }
    ///     seen
    /// });
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(task.await.unwrap(), [1]);
    /// # });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        Changed::new(&self.shared, &mut self.version).await
    }

    /// Waits for a value that satisfies `f`, checking the current one first,
    /// and returns it borrowed and marked seen.
    ///
    /// `f` runs under the channel's read lock, on each value this receiver
    /// has not seen (and on the current one first, seen or not).
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone and no value (checked after the
    /// close) satisfied `f`.
    ///
    /// # Panics
    ///
    /// If `f` panics, the panic is resumed after the lock is released.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in the sense that no value is lost for later calls: the
    /// values `f` rejected are marked seen, the others are not.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = compio_sync::watch::channel(0);
    /// compio::runtime::spawn(async move {
    ///     for i in 1..=5 {
    ///         tx.send(i).unwrap();
    ///         compio::runtime::time::sleep(std::time::Duration::from_millis(1)).await;
    ///     }
    /// })
    /// .detach();
    /// assert_eq!(*rx.wait_for(|v| *v >= 3).await.unwrap(), 3);
    /// # });
    /// ```
    pub async fn wait_for(&mut self, f: impl FnMut(&T) -> bool) -> Result<Ref<'_, T>, RecvError> {
        cooperative(self.wait_for_inner(f)).await
    }

    async fn wait_for_inner(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let mut closed = false;
        loop {
            {
                let inner = self.shared.value.read();
                // The version of `inner`, as in `borrow`.
                let version = self.shared.version();
                let has_changed = self.version != version;
                self.version = version;
                if !closed || has_changed {
                    match panic::catch_unwind(AssertUnwindSafe(|| f(&inner))) {
                        Ok(true) => return Ok(Ref { inner, has_changed }),
                        Ok(false) => {}
                        Err(payload) => {
                            // Release the lock before the panic goes on.
                            drop(inner);
                            panic::resume_unwind(payload);
                        }
                    }
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            closed = Changed::new(&self.shared, &mut self.version).await.is_err();
        }
    }

    /// Whether both receivers belong to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::watch::channel(());
    /// let (_, other) = compio_sync::watch::channel(());
    /// assert!(rx.same_channel(&tx.subscribe()));
    /// assert!(!rx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// Runs `future` under tokio's task budget when the `tokio` feature is on
/// (a completion spends a unit, as tokio's own watch does); otherwise just
/// `future`.
async fn cooperative<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    poll_fn(|cx| crate::coop::budgeted(cx, |cx| future.as_mut().poll(cx))).await
}

/// A change since `version`, or the close, if either happened.
fn maybe_changed<T, B: WaitQueue>(
    shared: &Shared<T, B>,
    version: &mut usize,
) -> Option<Result<(), RecvError>> {
    // Acquire: as `Shared::version`.
    let state = shared.state.load(Acquire);
    if *version != state & !CLOSED {
        *version = state & !CLOSED;
        return Some(Ok(()));
    }
    if state & CLOSED != 0 {
        return Some(Err(RecvError(())));
    }
    None
}

impl<T, B: WaitQueue> Clone for Receiver<T, B> {
    /// A receiver that has seen what this one has.
    fn clone(&self) -> Self {
        Self::from_shared(self.shared.clone(), self.version)
    }
}

impl<T, B: WaitQueue> Drop for Receiver<T, B> {
    fn drop(&mut self) {
        // Relaxed: a count (tokio's reasoning); `closed()` re-reads it after
        // creating its `Notified`, and the notify orders the rest.
        if self.shared.rx_count.fetch_sub(1, Relaxed) == 1 {
            self.shared.notify_tx.notify_waiters();
        }
    }
}

impl<T, B: WaitQueue> fmt::Debug for Receiver<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("version", &(self.version / STEP))
            .finish_non_exhaustive()
    }
}
