//! The unbounded channel: [`unbounded_channel`], [`UnboundedSender`],
//! [`WeakUnboundedSender`], [`UnboundedReceiver`].

use std::{
    fmt,
    future::poll_fn,
    task::{Context, Poll},
};

use super::{
    chan::{Capacity, Chan, Rx},
    error::{SendError, TryRecvError},
    flavor::{Arc, AtomicUsize, DefaultBackend, Ordering::*},
};
use crate::backend::WaitQueue;

/// The unbounded channel's capacity: only whether the receiver closed.
///
/// Nothing needs counting: a send checks the close under the queue's lock,
/// in the same critical section as its push (see `Chan::try_push`), so once
/// the receiver has closed, no message can land after it and an empty queue
/// is the end of the stream.
pub(super) struct Unbounded {
    /// `1` once the receiver closed, for `UnboundedSender::is_closed` and
    /// `closed` (the sends themselves read the flag under the lock).
    closed: AtomicUsize,
}

impl Capacity for Unbounded {
    fn release(&self, _: usize) -> bool {
        false
    }

    fn close(&self) {
        // Release: pairs with the Acquire in `is_closed`, so whoever sees the
        // flag sees what the receiver did before closing.
        self.closed.store(1, Release);
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Acquire) != 0
    }

    fn is_idle(&self) -> bool {
        // No send is ever in flight past a close (see the type's docs).
        true
    }

    const RELEASE_ON_TRANSFER: bool = true;

    type RxState = ();

    fn rx_state(&self) {}

    fn release_received(&self, _: usize, (): &mut ()) -> bool {
        false
    }

    fn rx_empty(&self, (): &mut ()) -> bool {
        false
    }

    fn rx_close(&self, (): &mut ()) {}
}

/// The unbounded channel's core.
type UnboundedChan<T, B> = Chan<T, Unbounded, B>;

/// Creates an unbounded channel on the default backend: an
/// [`UnboundedSender`] (clone it for more producers) and the
/// [`UnboundedReceiver`]. Sending never waits; the queue grows as needed
/// (and keeps its largest size).
///
/// # Examples
///
/// ```
/// use compio_sync::mpsc;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// for i in 0..1000 {
///     tx.send(i).unwrap();
/// }
/// drop(tx);
/// let mut sum = 0;
/// while let Some(i) = rx.recv().await {
///     sum += i;
/// }
/// assert_eq!(sum, 499_500);
/// # });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    unbounded_channel_with_backend()
}

/// [`unbounded_channel`] on the wait-queue backend `B` (see
/// [`crate::backend`]).
///
/// # Examples
///
/// ```
/// use compio_sync::{backend::MutexVecDeque, mpsc};
///
/// let (tx, mut rx) = mpsc::unbounded_channel_with_backend::<u32, MutexVecDeque>();
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub fn unbounded_channel_with_backend<T, B: WaitQueue>()
-> (UnboundedSender<T, B>, UnboundedReceiver<T, B>) {
    let chan = Chan::new(
        Unbounded {
            closed: AtomicUsize::new(0),
        },
        0,
    );
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver {
            inner: Rx::new(chan),
        },
    )
}

/// Sends values to the associated [`UnboundedReceiver`]; made by
/// [`unbounded_channel`]. Clone it for more producers.
///
/// # Examples
///
/// ```
/// use compio_sync::mpsc;
///
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// tx.clone().send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub struct UnboundedSender<T, B: WaitQueue = DefaultBackend> {
    chan: Arc<UnboundedChan<T, B>>,
}

/// An unbounded sender that does not keep the channel open; made by
/// [`UnboundedSender::downgrade`].
///
/// # Examples
///
/// ```
/// use compio_sync::mpsc;
///
/// let (tx, _rx) = mpsc::unbounded_channel::<()>();
/// let weak = tx.downgrade();
/// drop(tx);
/// assert!(weak.upgrade().is_none());
/// ```
pub struct WeakUnboundedSender<T, B: WaitQueue = DefaultBackend> {
    chan: Arc<UnboundedChan<T, B>>,
}

/// Receives values from the associated [`UnboundedSender`]s; made by
/// [`unbounded_channel`].
///
/// # Examples
///
/// ```
/// use compio_sync::mpsc;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// tx.send(1).unwrap();
/// drop(tx);
/// assert_eq!(rx.recv().await, Some(1));
/// assert_eq!(rx.recv().await, None);
/// # });
/// ```
pub struct UnboundedReceiver<T, B: WaitQueue = DefaultBackend> {
    inner: Rx<T, Unbounded, B>,
}

impl<T, B: WaitQueue> UnboundedSender<T, B> {
    /// Sends `value` without waiting. Fails, giving it back, if the receiver
    /// is dropped or [closed](UnboundedReceiver::close).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.try_push(value).map_err(SendError)
    }

    /// Waits until the receiver is dropped or
    /// [closed](UnboundedReceiver::close).
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
    /// let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    /// rx.close();
    /// tx.closed().await;
    /// # });
    /// ```
    pub async fn closed(&self) {
        self.chan.closed().await
    }

    /// Returns `true` if the receiver is dropped or
    /// [closed](UnboundedReceiver::close).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel::<()>();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// Returns `true` if both senders send to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<()>();
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Chan::same(&self.chan, &other.chan)
    }

    /// A [`WeakUnboundedSender`] for this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<()>();
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().unwrap().same_channel(&tx));
    /// ```
    pub fn downgrade(&self) -> WeakUnboundedSender<T, B> {
        self.chan.add_weak();
        WeakUnboundedSender {
            chan: self.chan.clone(),
        }
    }

    /// The number of strong senders of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<()>();
    /// assert_eq!(tx.clone().strong_count(), 2);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// The number of weak senders of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<()>();
    /// let _weak = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T, B: WaitQueue> Clone for UnboundedSender<T, B> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Self {
            chan: self.chan.clone(),
        }
    }
}

impl<T, B: WaitQueue> Drop for UnboundedSender<T, B> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T, B: WaitQueue> WeakUnboundedSender<T, B> {
    /// An [`UnboundedSender`], if any strong one is still alive.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<()>();
    /// assert!(tx.downgrade().upgrade().is_some());
    /// ```
    pub fn upgrade(&self) -> Option<UnboundedSender<T, B>> {
        self.chan.upgrade().then(|| UnboundedSender {
            chan: self.chan.clone(),
        })
    }

    /// The number of strong senders of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<()>();
    /// assert_eq!(tx.downgrade().strong_count(), 1);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// The number of weak senders of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<()>();
    /// assert_eq!(tx.downgrade().weak_count(), 1);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T, B: WaitQueue> Clone for WeakUnboundedSender<T, B> {
    fn clone(&self) -> Self {
        self.chan.add_weak();
        Self {
            chan: self.chan.clone(),
        }
    }
}

impl<T, B: WaitQueue> Drop for WeakUnboundedSender<T, B> {
    fn drop(&mut self) {
        self.chan.drop_weak();
    }
}

impl<T, B: WaitQueue> UnboundedReceiver<T, B> {
    /// Receives the next message, waiting for one; `None` once the channel
    /// is done (as [`Receiver::recv`](super::Receiver::recv)).
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
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// compio::runtime::spawn(async move { tx.send(1).unwrap() }).detach();
    /// assert_eq!(rx.recv().await, Some(1));
    /// # });
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Receives up to `limit` messages into `buffer`, waiting for at least
    /// one (as [`Receiver::recv_many`](super::Receiver::recv_many)).
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
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// let mut buffer = Vec::new();
    /// assert_eq!(rx.recv_many(&mut buffer, 10).await, 2);
    /// # });
    /// ```
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.poll_recv_many(cx, buffer, limit)).await
    }

    /// Takes the next message if there is one now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] or [`TryRecvError::Disconnected`], as
    /// [`Receiver::try_recv`](super::Receiver::try_recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.inner.try_take()
    }

    /// Closes the receiving half without dropping it (as
    /// [`Receiver::close`](super::Receiver::close)).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// rx.close();
    /// assert!(tx.send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&mut self) {
        self.inner.close();
    }

    /// Returns `true` if the channel is closed or every sender is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel::<()>();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner.chan.is_closed()
    }

    /// Returns `true` if no message is queued now.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel();
    /// assert!(rx.is_empty());
    /// tx.send(()).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The number of messages queued now.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel();
    /// tx.send(()).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Polls for the next message (as
    /// [`Receiver::poll_recv`](super::Receiver::poll_recv)).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    /// use std::future::poll_fn;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// assert_eq!(poll_fn(|cx| rx.poll_recv(cx)).await, Some(1));
    /// # });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.inner.poll_recv(cx)
    }

    /// Polls for up to `limit` messages (as
    /// [`Receiver::poll_recv_many`](super::Receiver::poll_recv_many)).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    /// use std::future::poll_fn;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// let mut buffer = Vec::new();
    /// assert_eq!(poll_fn(|cx| rx.poll_recv_many(cx, &mut buffer, 4)).await, 1);
    /// # });
    /// ```
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.inner.poll_recv_many(cx, buffer, limit)
    }

    /// The number of strong senders of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (_tx, rx) = mpsc::unbounded_channel::<()>();
    /// assert_eq!(rx.sender_strong_count(), 1);
    /// ```
    pub fn sender_strong_count(&self) -> usize {
        self.inner.chan.strong_count()
    }

    /// The number of weak senders of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::unbounded_channel::<()>();
    /// let _weak = tx.downgrade();
    /// assert_eq!(rx.sender_weak_count(), 1);
    /// ```
    pub fn sender_weak_count(&self) -> usize {
        self.inner.chan.weak_count()
    }
}

/// The blocking entry points: only where the receiver can cross threads
/// (see [`Sender::blocking_send`](super::Sender::blocking_send)).
#[cfg(not(loom))]
impl<T, B: WaitQueue> UnboundedReceiver<T, B>
where
    Self: Send,
{
    /// Receives the next message, blocking the current thread.
    ///
    /// # Panics
    ///
    /// Panics if called on a thread that is running a compio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// std::thread::spawn(move || tx.send(1).unwrap());
    /// assert_eq!(rx.blocking_recv(), Some(1));
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::blocking::block_on("mpsc::UnboundedReceiver::blocking_recv", self.recv())
    }

    /// [`recv_many`](Self::recv_many), blocking the current thread.
    ///
    /// # Panics
    ///
    /// As [`blocking_recv`](Self::blocking_recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// let mut buffer = Vec::new();
    /// assert_eq!(rx.blocking_recv_many(&mut buffer, 4), 1);
    /// ```
    #[track_caller]
    pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        crate::blocking::block_on(
            "mpsc::UnboundedReceiver::blocking_recv_many",
            self.recv_many(buffer, limit),
        )
    }
}

impl<T, B: WaitQueue> fmt::Debug for UnboundedSender<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender")
            .field("chan", &self.chan)
            .finish()
    }
}

impl<T, B: WaitQueue> fmt::Debug for WeakUnboundedSender<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakUnboundedSender")
            .field("chan", &self.chan)
            .finish()
    }
}

impl<T, B: WaitQueue> fmt::Debug for UnboundedReceiver<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver")
            .field("chan", &self.inner.chan)
            .finish()
    }
}
