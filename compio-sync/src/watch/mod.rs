//! A single-value channel that keeps only the latest value, with tokio's
//! `sync::watch` API: many senders and many receivers, each receiver told
//! when the value changes.
//!
//! [`channel`] creates a [`Sender`] and a [`Receiver`]. A send replaces the
//! value; a receiver [borrows](Receiver::borrow) the latest one and waits
//! for the next with [`changed`](Receiver::changed). Values in between may be
//! skipped: a watch channel is for state (a configuration, a shutdown flag),
//! not for a stream of events (see [`crate::broadcast`] for that). The
//! channel closes when the last sender is dropped; `send` fails when no
//! receiver is left.
//!
//! The API, the semantics and the errors are tokio's (`tokio::sync::watch`);
//! code ports by changing the import. What differs inside: a receiver's wait
//! does not queue behind one lock shared by every receiver (they are spread
//! over a few wait queues), and the types take a wait-queue backend parameter
//! `B` (see [`crate::backend`]), defaulted.
//!
//! [`crate::local::watch`] is the same channel for the tasks of one thread:
//! `!Send`, with plain cells instead of atomics and locks.
//!
//! # Examples
//!
//! ```
//! use compio_sync::watch;
//!
//! # compio::runtime::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx) = watch::channel("starting");
//! let task = compio::runtime::spawn(async move {
//!     while rx.changed().await.is_ok() {
//!         if *rx.borrow_and_update() == "stopping" {
//!             return true;
//!         }
//!     }
//!     false
//! });
//! tx.send("running").unwrap();
//! tx.send("stopping").unwrap();
//! assert!(task.await.unwrap());
//! # });
//! ```

mod channel;
pub mod error;

pub use self::channel::{Receiver, Ref, Sender, channel, channel_with_backend};
