//! The bounded channel: [`channel`], [`Sender`], [`WeakSender`]. Its
//! [`Receiver`] is in `receiver.rs`, its permits in `permit.rs`.

use std::{fmt, future::Future, pin::pin, task::Poll};

use super::{
    Semaphore,
    chan::{Chan, Rx},
    error::{SendError, TrySendError},
    flavor::{Arc, DefaultBackend, Ordering::SeqCst, fence},
    permit::{OwnedPermit, Permit, PermitIterator},
    pool::{Bounded, Pool},
    receiver::Receiver,
};
use crate::{backend::WaitQueue, error::TryAcquireError};

/// The bounded channel's core.
pub(super) type BoundedChan<T, B> = Chan<T, Bounded<B>, B>;

/// How many slots a new bounded channel allocates up front (at most its
/// bound); the queue grows to its working size once, then stays.
const PREALLOCATE: usize = 32;

/// Creates a bounded channel with room for `buffer` messages, on the
/// default backend: a [`Sender`] (clone it for more producers) and the
/// [`Receiver`].
///
/// Senders wait for a free slot (or a [`Permit`]) once `buffer` messages
/// are queued or reserved. Waiting senders are served in the order they
/// started waiting (the channel's [semaphore](crate::Semaphore) is strict
/// FIFO, as tokio's is).
///
/// # Panics
///
/// Panics if `buffer` is zero, or larger than
/// [`Semaphore::MAX_PERMITS`](crate::Semaphore::MAX_PERMITS).
///
/// # Examples
///
/// ```
/// use compio_sync::mpsc;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = mpsc::channel(100);
/// compio::runtime::spawn(async move {
///     for i in 0..10 {
///         tx.send(i).await.unwrap();
///     }
/// })
/// .detach();
/// for i in 0..10 {
///     assert_eq!(rx.recv().await, Some(i));
/// }
/// assert_eq!(rx.recv().await, None); // every sender is gone
/// # });
/// ```
#[track_caller]
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    channel_with_backend(buffer)
}

/// [`channel`] on the wait-queue backend `B` (see [`crate::backend`]).
///
/// # Panics
///
/// As [`channel`].
///
/// # Examples
///
/// ```
/// use compio_sync::{backend::MutexVecDeque, mpsc};
///
/// let (tx, mut rx) = mpsc::channel_with_backend::<u32, MutexVecDeque>(4);
/// tx.try_send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
#[track_caller]
pub fn channel_with_backend<T, B: WaitQueue>(buffer: usize) -> (Sender<T, B>, Receiver<T, B>) {
    assert!(buffer > 0, "mpsc bounded channel requires buffer > 0");
    let sem = Semaphore::<B>::with_backend(buffer).strict_fifo();
    let chan = Chan::new(
        Bounded {
            sem,
            bound: buffer,
            pool: Pool::new(),
        },
        buffer.min(PREALLOCATE),
    );
    (
        Sender { chan: chan.clone() },
        Receiver {
            inner: Rx::new(chan),
        },
    )
}

/// Sends values to the associated [`Receiver`]; made by [`channel`].
///
/// Clone it to send from several tasks. The channel ends (the receiver gets
/// `None` after the queued messages) when every `Sender` is dropped.
///
/// # Examples
///
/// ```
/// use compio_sync::mpsc;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = mpsc::channel(8);
/// let tx2 = tx.clone();
/// tx.send("a").await.unwrap();
/// tx2.send("b").await.unwrap();
/// assert_eq!(rx.recv().await, Some("a"));
/// assert_eq!(rx.recv().await, Some("b"));
/// # });
/// ```
pub struct Sender<T, B: WaitQueue = DefaultBackend> {
    pub(super) chan: Arc<BoundedChan<T, B>>,
}

/// A sender that does not keep the channel open; [`upgrade`](Self::upgrade)
/// it to send. Made by [`Sender::downgrade`].
///
/// # Examples
///
/// ```
/// use compio_sync::mpsc;
///
/// let (tx, _rx) = mpsc::channel::<u32>(1);
/// let weak = tx.downgrade();
/// assert!(weak.upgrade().is_some());
/// drop(tx);
/// assert!(weak.upgrade().is_none());
/// ```
pub struct WeakSender<T, B: WaitQueue = DefaultBackend> {
    chan: Arc<BoundedChan<T, B>>,
}

impl<T, B: WaitQueue> Sender<T, B> {
    /// Sends `value`, waiting for a free slot if the channel is full.
    ///
    /// Fails, giving the value back, if the receiver is dropped or
    /// [closed](Receiver::close). Everything the caller did before `send`
    /// happens-before the receiver gets the value.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped before it completes, the value was not sent
    /// (it is dropped with the future) and no capacity is lost, as in tokio:
    /// even when a `recv` has already freed a slot for it, the value stays
    /// in the future until it runs. (flume's and kanal's receivers take the
    /// value out of a waiting send, so there a send dropped after that point
    /// was delivered.) The future waits in the semaphore's queue: dropping
    /// it gives up its place.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, rx) = mpsc::channel(1);
    /// drop(rx);
    /// assert_eq!(tx.send(1).await.unwrap_err().0, 1);
    /// # });
    /// ```
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        // Fast path: a free slot and nobody queued ahead (`try_acquire`
        // keeps the strict FIFO order): take it and queue the value, with
        // no permit and no waiting future in between.
        match self.chan.try_acquire(1) {
            Ok(()) => {
                self.chan.push(value);
                return Ok(());
            }
            Err(TrySendError::Closed(())) => return Err(SendError(value)),
            Err(TrySendError::Full(())) => {}
        }
        match self.chan.acquire_slow(1).await {
            Ok(()) => {
                self.chan.push(value);
                Ok(())
            }
            Err(_) => Err(SendError(value)),
        }
    }

    /// Sends `value` if there is a free slot now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if the channel is full, [`TrySendError::Closed`]
    /// if the receiver is dropped or closed; both give the value back.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc::{self, error::TrySendError};
    ///
    /// let (tx, _rx) = mpsc::channel(1);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.try_reserve() {
            Ok(permit) => {
                permit.send(value);
                Ok(())
            }
            Err(TrySendError::Full(())) => Err(TrySendError::Full(value)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(value)),
        }
    }

    /// Waits for a free slot and reserves it: the returned [`Permit`] sends
    /// one value without waiting. Dropping it unused gives the slot back.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped before it completes, no slot is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.reserve().await.unwrap();
    /// assert!(tx.try_send(1).is_err()); // the slot is reserved
    /// permit.send(2);
    /// assert_eq!(rx.recv().await, Some(2));
    /// # });
    /// ```
    pub async fn reserve(&self) -> Result<Permit<'_, T, B>, SendError<()>> {
        self.chan.acquire(1).await?;
        Ok(Permit::new(&self.chan))
    }

    /// Waits for `n` free slots and reserves them all at once: the returned
    /// iterator yields `n` [`Permit`]s.
    ///
    /// Fails if the receiver is dropped or closed, or if `n` exceeds
    /// [`max_capacity`](Self::max_capacity).
    ///
    /// # Panics
    ///
    /// Panics if `n` exceeds `u32::MAX` (this crate's semaphore takes at most
    /// that many permits at once).
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped before it completes, no slot is lost: slots
    /// already set aside for it go back.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = mpsc::channel(2);
    /// for (i, permit) in tx.reserve_many(2).await.unwrap().enumerate() {
    ///     permit.send(i);
    /// }
    /// assert_eq!(rx.recv().await, Some(0));
    /// assert_eq!(rx.recv().await, Some(1));
    /// # });
    /// ```
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T, B>, SendError<()>> {
        self.chan.acquire(n).await?;
        Ok(PermitIterator::new(&self.chan, n))
    }

    /// [`reserve`](Self::reserve), for a permit that owns the sender and so
    /// can move into another task; [`OwnedPermit::send`] gives the sender
    /// back.
    ///
    /// # Cancel safety
    ///
    /// As [`reserve`](Self::reserve) (the sender is dropped with the future).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.reserve_owned().await.unwrap();
    /// let tx = permit.send(3);
    /// assert_eq!(rx.recv().await, Some(3));
    /// # drop(tx);
    /// # });
    /// ```
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T, B>, SendError<()>> {
        self.chan.acquire(1).await?;
        Ok(OwnedPermit::new(self))
    }

    /// Reserves a free slot if there is one now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], as
    /// [`try_send`](Self::try_send).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.try_reserve().unwrap();
    /// assert!(tx.try_reserve().is_err());
    /// permit.send(1);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T, B>, TrySendError<()>> {
        self.chan.try_acquire(1)?;
        Ok(Permit::new(&self.chan))
    }

    /// Reserves `n` free slots if there are that many now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if fewer are free (or `n` exceeds
    /// [`max_capacity`](Self::max_capacity)), [`TrySendError::Closed`] if
    /// the receiver is dropped or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u32>(2);
    /// let permits = tx.try_reserve_many(2).unwrap();
    /// assert_eq!(permits.len(), 2);
    /// assert!(tx.try_reserve_many(1).is_err());
    /// ```
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T, B>, TrySendError<()>> {
        self.chan.try_acquire(n)?;
        Ok(PermitIterator::new(&self.chan, n))
    }

    /// [`try_reserve`](Self::try_reserve), for a permit that owns the
    /// sender. The error gives the sender back.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.try_reserve_owned().unwrap();
    /// let tx = permit.send(1);
    /// assert!(tx.try_reserve_owned().is_err()); // full
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T, B>, TrySendError<Self>> {
        match self.chan.try_acquire(1) {
            Ok(()) => Ok(OwnedPermit::new(self)),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
    }

    /// Waits until the receiver is dropped or [closed](Receiver::close).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, rx) = mpsc::channel::<()>(1);
    /// let task = compio::runtime::spawn(async move { tx.closed().await });
    /// drop(rx);
    /// task.await.unwrap();
    /// # });
    /// ```
    pub async fn closed(&self) {
        self.chan.closed().await
    }

    /// Returns `true` if the receiver is dropped or [closed](Receiver::close).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel::<()>(1);
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// The number of free slots now: `max_capacity` less the queued and
    /// reserved messages.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel(5);
    /// tx.try_send(1).unwrap();
    /// let _permit = tx.try_reserve().unwrap();
    /// assert_eq!(tx.capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.cap.available()
    }

    /// The channel's bound, as given to [`channel`].
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(5);
    /// assert_eq!(tx.max_capacity(), 5);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.chan.cap.bound
    }

    /// A [`WeakSender`] for this channel, which does not keep it open.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(1);
    /// let weak = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// # drop(weak);
    /// ```
    pub fn downgrade(&self) -> WeakSender<T, B> {
        self.chan.add_weak();
        WeakSender {
            chan: self.chan.clone(),
        }
    }

    /// Returns `true` if both senders send to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(1);
    /// let (other, _) = mpsc::channel::<()>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// assert!(!tx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Chan::same(&self.chan, &other.chan)
    }

    /// The number of [`Sender`]s (and [`OwnedPermit`]s) of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(1);
    /// let tx2 = tx.clone();
    /// assert_eq!(tx.strong_count(), 2);
    /// # drop(tx2);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// The number of [`WeakSender`]s of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(1);
    /// assert_eq!(tx.weak_count(), 0);
    /// let _weak = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

/// The blocking entry point, for plain threads feeding tasks: only where the
/// sender can cross threads (the thread-safe flavor, with `T: Send`). A
/// [`local`](crate::local) sender never can: blocking would never end.
#[cfg(not(loom))]
impl<T, B: WaitQueue> Sender<T, B>
where
    Self: Send,
{
    /// Sends `value`, blocking the current thread while the channel is full.
    ///
    /// # Panics
    ///
    /// Panics if called on a thread that is running a compio runtime: it
    /// would block every task of that runtime. Use [`send`](Self::send).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let thread = std::thread::spawn(move || {
    ///     tx.blocking_send(1).unwrap();
    ///     tx.blocking_send(2).unwrap();
    /// });
    /// assert_eq!(rx.blocking_recv(), Some(1));
    /// assert_eq!(rx.blocking_recv(), Some(2));
    /// thread.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::blocking::block_on("mpsc::Sender::blocking_send", self.send(value))
    }
}

impl<T, B: WaitQueue> BoundedChan<T, B> {
    /// Takes `n` slots, waiting for them.
    pub(super) async fn acquire(&self, n: usize) -> Result<(), SendError<()>> {
        // Fast path: free slots and nobody queued ahead (the semaphore's
        // `try_acquire` keeps the strict FIFO order), without building the
        // waiting future.
        match self.try_acquire(n) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Closed(())) => return Err(SendError(())),
            Err(TrySendError::Full(())) if n > self.cap.bound => return Err(SendError(())),
            Err(TrySendError::Full(())) => {}
        }
        self.acquire_slow(n).await
    }

    /// [`acquire`](Self::acquire) once its fast path failed: waits in the
    /// semaphore's queue for `n` (at most the bound) slots.
    pub(super) async fn acquire_slow(&self, n: usize) -> Result<(), SendError<()>> {
        let n = u32::try_from(n).expect("reserve_many: at most u32::MAX permits at once");
        // A cancelled (or failed) acquire that held part of its permits
        // gives them back without waking the receiver, which may be waiting
        // for the channel to be idle after a close: wake it.
        struct WakeRxOnDrop<'a, T, B: WaitQueue>(&'a BoundedChan<T, B>);
        impl<T, B: WaitQueue> Drop for WakeRxOnDrop<'_, T, B> {
            fn drop(&mut self) {
                self.0.release_unused(0);
            }
        }
        let guard = WakeRxOnDrop(self);
        // Polled by hand: after its first poll (it is now registered and
        // counted in the semaphore's queue, or served), this sender marks
        // the slot pool, so that the receiver releases each slot it frees
        // to the semaphore while senders wait, and takes the slots already
        // pooled to the semaphore itself (which hands them to the queue in
        // order, perhaps to this sender: poll again). Marked once, even if
        // served at once (see `Bounded::settle`); not on a close. (The
        // semaphore is strict FIFO: a waiter registers once, in its first
        // poll, and never queues again.)
        let mut acquire = pin!(self.cap.sem.acquire_many(n));
        let mut marked = false;
        let permit = std::future::poll_fn(|cx| {
            if !marked {
                // A poll that tokio's budget (feature `tokio`) turns away
                // returns `Pending` unregistered: it must not count as the
                // first one (a mark before the registration could be
                // cleared before the receiver can see the waiter). The unit
                // taken here goes back at once (the guard drops unused), so
                // the acquire's own check below finds the same budget.
                let _ = std::task::ready!(crate::coop::poll_proceed(cx));
            }
            let poll = acquire.as_mut().poll(cx);
            if marked || matches!(poll, Poll::Ready(Err(_))) {
                return poll;
            }
            marked = true;
            // SeqCst: orders our count in the semaphore's `waiters` (made
            // in the poll above) before the look at `FLUSHING`, against the
            // receiver's (clear `FLUSHING`; fence; look at `waiters`): see
            // `Bounded::settle`. While the receiver flushes, it releases
            // each slot to the semaphore, which serves us: no mark needed.
            fence(SeqCst);
            if self.cap.pool.is_flushing() {
                return poll;
            }
            let taken = self.cap.pool.mark_and_take();
            if taken == 0 || poll.is_ready() {
                if taken > 0 {
                    self.release_unused(taken);
                }
                return poll;
            }
            self.release_unused(taken);
            acquire.as_mut().poll(cx)
        })
        .await;
        match permit {
            Ok(permit) if self.cap.sem.is_closed() => {
                // Granted, but the receiver closed before we looked: fail,
                // as tokio's reservation does, and give the slots back (the
                // guard then wakes the receiver if they were the last).
                drop(permit);
                Err(SendError(()))
            }
            Ok(permit) => {
                // The slots now belong to the permits made from them.
                permit.forget();
                std::mem::forget(guard);
                Ok(())
            }
            Err(_) => Err(SendError(())),
        }
    }

    /// Takes `n` slots if they are free now.
    pub(super) fn try_acquire(&self, n: usize) -> Result<(), TrySendError<()>> {
        if n > self.cap.bound {
            return Err(TrySendError::Full(()));
        }
        if u32::try_from(n).is_err() {
            panic!("try_reserve_many: at most u32::MAX permits at once");
        }
        // Taken and forgotten: the slots belong to the caller's permits (or
        // message) now, and the receiver gives them back.
        match self.cap.sem.try_acquire_forget(n) {
            Ok(()) => Ok(()),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(())),
            Err(TryAcquireError::NoPermits) => self.try_acquire_reclaiming(n),
        }
    }

    /// [`try_acquire`](Self::try_acquire) once the semaphore had no slot:
    /// slots the receiver freed may sit in its pool. They go to the
    /// semaphore (which hands them to waiting senders first, in order, so
    /// this never overtakes one) and the semaphore is tried once more: a
    /// `try_send` right after a `recv` on a full channel succeeds, as in
    /// tokio. Given back with `release_unused`: after a close, the receiver
    /// may be waiting for them.
    #[inline(never)]
    fn try_acquire_reclaiming(&self, n: usize) -> Result<(), TrySendError<()>> {
        let taken = self.cap.pool.take();
        if taken == 0 {
            return Err(TrySendError::Full(()));
        }
        self.release_unused(taken);
        match self.cap.sem.try_acquire_forget(n) {
            Ok(()) => Ok(()),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(())),
            Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(())),
        }
    }
}

impl<T, B: WaitQueue> Clone for Sender<T, B> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Self {
            chan: self.chan.clone(),
        }
    }
}

impl<T, B: WaitQueue> Drop for Sender<T, B> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T, B: WaitQueue> WeakSender<T, B> {
    /// A [`Sender`], if any strong one is still alive (so the channel is
    /// still open on the sending side).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(1);
    /// let weak = tx.downgrade();
    /// let strong = weak.upgrade().unwrap();
    /// assert!(strong.same_channel(&tx));
    /// ```
    pub fn upgrade(&self) -> Option<Sender<T, B>> {
        self.chan.upgrade().then(|| Sender {
            chan: self.chan.clone(),
        })
    }

    /// The number of strong [`Sender`]s of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(1);
    /// let weak = tx.downgrade();
    /// assert_eq!(weak.strong_count(), 1);
    /// drop(tx);
    /// assert_eq!(weak.strong_count(), 0);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// The number of [`WeakSender`]s of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(1);
    /// let weak = tx.downgrade();
    /// assert_eq!(weak.clone().weak_count(), 2);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T, B: WaitQueue> Clone for WeakSender<T, B> {
    fn clone(&self) -> Self {
        self.chan.add_weak();
        Self {
            chan: self.chan.clone(),
        }
    }
}

impl<T, B: WaitQueue> Drop for WeakSender<T, B> {
    fn drop(&mut self) {
        self.chan.drop_weak();
    }
}

impl<T, B: WaitQueue> fmt::Debug for Sender<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("chan", &self.chan).finish()
    }
}

impl<T, B: WaitQueue> fmt::Debug for WeakSender<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender")
            .field("chan", &self.chan)
            .finish()
    }
}
