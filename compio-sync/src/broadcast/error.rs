//! Broadcast error types, as tokio's `sync::broadcast::error`.
//!
//! Compiled once and shared by both flavors, as the watch errors.

use std::fmt;

/// Error returned by [`Sender::send`](crate::broadcast::Sender::send) when
/// there is no receiver; it gives the value back.
///
/// # Examples
///
/// ```
/// let (tx, rx) = compio_sync::broadcast::channel(4);
/// drop(rx);
/// let err = tx.send("lost").unwrap_err();
/// assert_eq!(err.0, "lost");
/// assert_eq!(err.to_string(), "channel closed");
/// ```
#[derive(Debug)]
pub struct SendError<T>(pub T);

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl<T: fmt::Debug> std::error::Error for SendError<T> {}

/// Error returned by [`Receiver::recv`](crate::broadcast::Receiver::recv).
///
/// # Examples
///
/// ```
/// use compio_sync::broadcast::{self, error::RecvError};
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = broadcast::channel(2);
/// for i in 0..3 {
///     tx.send(i).unwrap();
/// }
/// // Capacity 2: the oldest value was overwritten.
/// assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
/// assert_eq!(rx.recv().await, Ok(1));
/// # });
/// ```
#[derive(Debug, PartialEq, Eq, Clone)]
pub enum RecvError {
    /// Every sender is gone and every value has been received: no value will
    /// ever come.
    Closed,
    /// The receiver fell behind by more than the capacity: this many values
    /// were overwritten before it read them. It is still subscribed, now at
    /// the oldest value the channel retains, which the next `recv` returns
    /// (unless more sends overwrite it first).
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("channel closed"),
            RecvError::Lagged(amt) => write!(f, "channel lagged by {amt}"),
        }
    }
}

impl std::error::Error for RecvError {}

/// Error returned by [`Receiver::try_recv`](crate::broadcast::Receiver::try_recv).
///
/// # Examples
///
/// ```
/// use compio_sync::broadcast::{self, error::TryRecvError};
///
/// let (tx, mut rx) = broadcast::channel::<u8>(2);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, PartialEq, Eq, Clone)]
pub enum TryRecvError {
    /// No value is waiting, and senders remain: one may yet come.
    Empty,
    /// Every sender is gone and every value has been received.
    Closed,
    /// As [`RecvError::Lagged`]: this many values were overwritten before
    /// the receiver read them; it now sits at the oldest retained value.
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Closed => f.write_str("channel closed"),
            TryRecvError::Lagged(amt) => write!(f, "channel lagged by {amt}"),
        }
    }
}

impl std::error::Error for TryRecvError {}
