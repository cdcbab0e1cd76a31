//! `oneshot` error types, as tokio's `tokio::sync::oneshot::error`.
//!
//! Compiled once (under the crate root) and shared by both flavors: a
//! `compio_sync::local::oneshot::Receiver` fails with the same
//! [`RecvError`] as a `compio_sync::oneshot::Receiver`.

use std::fmt;

/// Error returned by the `Future` implementation of `Receiver` (and by
/// `blocking_recv`): the sender was dropped without sending a value.
#[derive(Debug, Eq, PartialEq, Clone)]
pub struct RecvError(pub(crate) ());

/// Error returned by `Receiver::try_recv`.
#[derive(Debug, Eq, PartialEq, Clone)]
pub enum TryRecvError {
    /// The send half of the channel has not yet sent a value.
    Empty,
    /// The send half of the channel was dropped without sending a value, or
    /// the value was already received.
    Closed,
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("channel closed")
    }
}

impl std::error::Error for RecvError {}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("channel empty"),
            TryRecvError::Closed => f.write_str("channel closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}
