//! A multi-producer, multi-consumer channel where every receiver receives
//! every value, with tokio's `sync::broadcast` API.
//!
//! [`channel`] creates a [`Sender`] and a [`Receiver`]; more receivers come
//! from [`Sender::subscribe`] (or [`Receiver::resubscribe`]) and receive
//! every value sent after they subscribed. The channel holds at most
//! `capacity` values: a send never waits, and overwrites the oldest value
//! once the ring is full. A receiver that falls that far behind gets
//! [`RecvError::Lagged`](error::RecvError::Lagged) with the number of values
//! it missed, then continues from the oldest value still held. A value is
//! dropped as soon as every receiver has received it (or when it is
//! overwritten). The channel closes when the last sender is dropped;
//! receivers still receive what was sent before.
//!
//! The API, the semantics (lag arithmetic included) and the errors are
//! tokio's (`tokio::sync::broadcast`), and so is the algorithm (a ring of
//! locked slots, each counting the receivers that must still read it). What
//! differs: waiting receivers park in this crate's wait-queue engine (the
//! types take a backend parameter `B`, defaulted; see [`crate::backend`]),
//! in a queue per thread, so that a send wakes one runtime's receivers back
//! to back and skips the threads where nobody waits; and a value's `Drop`
//! never runs under a lock of the channel.
//!
//! [`crate::local::broadcast`] is the same channel for the tasks of one
//! thread: `!Send`, with plain cells instead of atomics and locks.
//!
//! # Examples
//!
//! ```
//! use compio_sync::broadcast;
//!
//! # compio::runtime::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx1) = broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//! let a = compio::runtime::spawn(async move { rx1.recv().await.unwrap() + rx1.recv().await.unwrap() });
//! let b = compio::runtime::spawn(async move { rx2.recv().await.unwrap() * rx2.recv().await.unwrap() });
//! tx.send(3).unwrap();
//! tx.send(4).unwrap();
//! assert_eq!((a.await.unwrap(), b.await.unwrap()), (7, 12));
//! # });
//! ```

mod channel;
pub mod error;

pub use self::channel::{Receiver, Recv, Sender, WeakSender, channel, channel_with_backend};
