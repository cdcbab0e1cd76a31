//! Watch error types, as tokio's `sync::watch::error`.
//!
//! Compiled once and shared by both flavors: a
//! `compio_sync::local::watch::Sender` fails with the same [`SendError`] as a
//! `compio_sync::watch::Sender`.

use std::{error::Error, fmt};

/// Error returned by [`Sender::send`](crate::watch::Sender::send) when every
/// receiver is gone; it gives the value back.
///
/// # Examples
///
/// ```
/// let (tx, rx) = compio_sync::watch::channel(0);
/// drop(rx);
/// let err = tx.send(7).unwrap_err();
/// assert_eq!(err.0, 7);
/// assert_eq!(err.to_string(), "channel closed");
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl<T> Error for SendError<T> {}

/// Error returned by [`Receiver::changed`](crate::watch::Receiver::changed)
/// and its relatives once every sender is gone.
///
/// # Examples
///
/// ```
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = compio_sync::watch::channel(0);
/// drop(tx);
/// let err = rx.changed().await.unwrap_err();
/// assert_eq!(err.to_string(), "channel closed");
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct RecvError(pub(crate) ());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl Error for RecvError {}
