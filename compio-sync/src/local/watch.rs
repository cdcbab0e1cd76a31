//! [`crate::watch`] for the tasks of one thread: the same channel, API and
//! errors, compiled from the same source with plain cells (a `RefCell`
//! around the value, `Cell` counters, `Rc`) and the
//! [`Local`](crate::backend::Local) queue.
//!
//! Holding a [`Ref`] across a send on the same channel panics (the thread
//! could never release it), where the thread-safe channel would deadlock.
//!
//! # Examples
//!
//! ```
//! use compio_sync::local::watch;
//!
//! # compio::runtime::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx) = watch::channel(0);
//! let task = compio::runtime::spawn(async move {
//!     rx.changed().await.unwrap();
//!     *rx.borrow_and_update()
//! });
//! tx.send(1).unwrap();
//! assert_eq!(task.await.unwrap(), 1);
//! # });
//! ```
//!
//! Its handles stay on their thread:
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! assert_send(compio_sync::local::watch::channel(0).0);
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! assert_send(compio_sync::local::watch::channel(0).1);
//! ```
//!
//! ```compile_fail
//! fn assert_sync<T: Sync>(_: &T) {}
//! assert_sync(&compio_sync::local::watch::channel(0).1);
//! ```

// The thread-safe channel's own file, compiled again: `super::super` is
// `crate::local` there, whose `flavor` and `notify` it uses.
#[allow(clippy::duplicate_mod)]
#[path = "../watch/channel.rs"]
mod channel;

pub use self::channel::{Receiver, Ref, Sender, channel, channel_with_backend};
pub use crate::watch::error;
