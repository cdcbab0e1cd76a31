//! [`Sender::send_timeout`]: tokio's, on the running runtime's timer.

use std::time::Duration;

use super::{Sender, error::SendTimeoutError};
use crate::backend::WaitQueue;

impl<T, B: WaitQueue> Sender<T, B> {
    /// Sends `value`, waiting at most `timeout` for a free slot.
    ///
    /// The deadline runs on the runtime that polls the future: compio's
    /// timer on a compio runtime; with the `tokio` feature, elsewhere,
    /// tokio's (its paused test clock included), so code ported from
    /// tokio behaves the same.
    ///
    /// Unlike tokio's, the future is not `Send` (compio's timer lives on its
    /// runtime's thread), which compio tasks don't need. On a multi-threaded
    /// tokio runtime, wrap [`send`](Self::send) in `tokio::time::timeout`
    /// for a `Send` future.
    ///
    /// # Errors
    ///
    /// [`SendTimeoutError::Timeout`] if no slot came free within `timeout`,
    /// [`SendTimeoutError::Closed`] if the receiver is dropped or closed;
    /// both give the value back.
    ///
    /// # Panics
    ///
    /// At its first poll, on a thread with no timer: no compio runtime
    /// there, and without the `tokio` feature or outside a tokio runtime
    /// (then with tokio's own panic, as tokio's `send_timeout`).
    ///
    /// # Cancel safety
    ///
    /// As [`send`](Self::send): if the future is dropped before it
    /// completes, the value was not sent and no capacity is lost. At the
    /// deadline, the wait for a slot is dropped the same way.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use compio_sync::mpsc::{self, error::SendTimeoutError};
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = mpsc::channel(1);
    /// tx.send_timeout(1, Duration::from_millis(10)).await.unwrap();
    /// // Full: nobody receives within the timeout.
    /// let err = tx.send_timeout(2, Duration::from_millis(10)).await;
    /// assert_eq!(err, Err(SendTimeoutError::Timeout(2)));
    /// assert_eq!(rx.recv().await, Some(1));
    /// drop(rx);
    /// let err = tx.send_timeout(3, Duration::from_millis(10)).await;
    /// assert_eq!(err, Err(SendTimeoutError::Closed(3)));
    /// # });
    /// ```
    pub async fn send_timeout(
        &self,
        value: T,
        timeout: Duration,
    ) -> Result<(), SendTimeoutError<T>> {
        match crate::timer::timeout(timeout, self.reserve()).await {
            Some(Ok(permit)) => {
                permit.send(value);
                Ok(())
            }
            Some(Err(_)) => Err(SendTimeoutError::Closed(value)),
            None => Err(SendTimeoutError::Timeout(value)),
        }
    }
}
