//! The bounded channel's [`Receiver`].

use std::{
    fmt,
    future::poll_fn,
    task::{Context, Poll},
};

use super::{chan::Rx, error::TryRecvError, flavor::DefaultBackend, pool::Bounded};
use crate::backend::WaitQueue;

/// Receives values from the associated [`Sender`](super::Sender)s; made by
/// [`channel`](super::channel).
///
/// # Examples
///
/// ```
/// use compio_sync::mpsc;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = mpsc::channel(1);
/// tx.send(5).await.unwrap();
/// drop(tx);
/// assert_eq!(rx.recv().await, Some(5));
/// assert_eq!(rx.recv().await, None);
/// # });
/// ```
pub struct Receiver<T, B: WaitQueue = DefaultBackend> {
    pub(super) inner: Rx<T, Bounded<B>, B>,
}

impl<T, B: WaitQueue> Receiver<T, B> {
    /// Receives the next message, waiting for one. Returns `None` once the
    /// channel is [closed](Self::close) (or every sender is dropped) and
    /// every message sent before has been received.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a message is only taken off the queue by the poll that
    /// returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = mpsc::channel(1);
    /// compio::runtime::spawn(async move { tx.send("x").await.unwrap() }).detach();
    /// assert_eq!(rx.recv().await, Some("x"));
    /// assert_eq!(rx.recv().await, None);
    /// # });
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Receives up to `limit` messages into `buffer` (appended), waiting
    /// for at least one. Returns how many; `0` means the channel is done
    /// (as `recv` returning `None`), or `limit` is zero.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = mpsc::channel(4);
    /// for i in 0..3 {
    ///     tx.send(i).await.unwrap();
    /// }
    /// let mut buffer = Vec::new();
    /// assert_eq!(rx.recv_many(&mut buffer, 2).await, 2);
    /// assert_eq!(buffer, [0, 1]);
    /// # });
    /// ```
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.poll_recv_many(cx, buffer, limit)).await
    }

    /// Takes the next message if there is one now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if there is none now,
    /// [`TryRecvError::Disconnected`] if none will come.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.inner.try_take()
    }

    /// Closes the receiving half without dropping it: sends and
    /// reservations fail from now on (waiting ones too), and
    /// [`Sender::closed`](super::Sender::closed) completes. Messages
    /// already queued, and those sent through permits already reserved, can
    /// still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = mpsc::channel(2);
    /// tx.send(1).await.unwrap();
    /// rx.close();
    /// assert!(tx.send(2).await.is_err());
    /// assert_eq!(rx.recv().await, Some(1));
    /// assert_eq!(rx.recv().await, None);
    /// # });
    /// ```
    pub fn close(&mut self) {
        self.inner.close();
    }

    /// Returns `true` if the channel is [closed](Self::close) or every
    /// [`Sender`](super::Sender) is dropped. Messages may still be queued.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel::<()>(1);
    /// assert!(!rx.is_closed());
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
    /// let (tx, rx) = mpsc::channel(1);
    /// assert!(rx.is_empty());
    /// tx.try_send(()).unwrap();
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
    /// let (tx, rx) = mpsc::channel(4);
    /// tx.try_send(1).unwrap();
    /// tx.try_send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// The number of free slots now, as
    /// [`Sender::capacity`](super::Sender::capacity).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel(4);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.inner.chan.cap.available()
    }

    /// The channel's bound, as given to [`channel`](super::channel).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (_tx, rx) = mpsc::channel::<()>(4);
    /// assert_eq!(rx.max_capacity(), 4);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.inner.chan.cap.bound
    }

    /// Polls for the next message: `Ready(Some(message))`, `Ready(None)`
    /// once the channel is done, or `Pending` with the task registered to
    /// be woken (only the waker of the most recent poll is).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    /// use std::future::poll_fn;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = mpsc::channel(1);
    /// tx.send(1).await.unwrap();
    /// assert_eq!(poll_fn(|cx| rx.poll_recv(cx)).await, Some(1));
    /// # });
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.inner.poll_recv(cx)
    }

    /// Polls for up to `limit` messages, appended to `buffer`:
    /// `Ready(n)` with `n > 0`, `Ready(0)` once the channel is done (or if
    /// `limit` is zero), or `Pending`, as [`poll_recv`](Self::poll_recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    /// use std::future::poll_fn;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = mpsc::channel(4);
    /// tx.send(1).await.unwrap();
    /// tx.send(2).await.unwrap();
    /// let mut buffer = Vec::new();
    /// assert_eq!(poll_fn(|cx| rx.poll_recv_many(cx, &mut buffer, 8)).await, 2);
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

    /// The number of strong [`Sender`](super::Sender)s of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel::<()>(1);
    /// assert_eq!(rx.sender_strong_count(), 1);
    /// drop(tx);
    /// assert_eq!(rx.sender_strong_count(), 0);
    /// ```
    pub fn sender_strong_count(&self) -> usize {
        self.inner.chan.strong_count()
    }

    /// The number of [`WeakSender`](super::WeakSender)s of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel::<()>(1);
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
impl<T, B: WaitQueue> Receiver<T, B>
where
    Self: Send,
{
    /// Receives the next message, blocking the current thread until there is
    /// one (or the channel is done: `None`).
    ///
    /// # Panics
    ///
    /// Panics if called on a thread that is running a compio runtime. Use
    /// [`recv`](Self::recv) there.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// std::thread::spawn(move || tx.blocking_send(9).unwrap());
    /// assert_eq!(rx.blocking_recv(), Some(9));
    /// assert_eq!(rx.blocking_recv(), None);
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::blocking::block_on("mpsc::Receiver::blocking_recv", self.recv())
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
    /// let (tx, mut rx) = mpsc::channel(4);
    /// tx.blocking_send(1).unwrap();
    /// tx.blocking_send(2).unwrap();
    /// let mut buffer = Vec::new();
    /// assert_eq!(rx.blocking_recv_many(&mut buffer, 4), 2);
    /// ```
    #[track_caller]
    pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        crate::blocking::block_on(
            "mpsc::Receiver::blocking_recv_many",
            self.recv_many(buffer, limit),
        )
    }
}

impl<T, B: WaitQueue> fmt::Debug for Receiver<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("chan", &self.inner.chan)
            .finish()
    }
}
