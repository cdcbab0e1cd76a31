//! [`crate::broadcast`] for the tasks of one thread: the same channel, API,
//! lag semantics and errors, compiled from the same source with plain cells
//! (`RefCell` slots, `Cell` counters, `Rc`) and the
//! [`Local`](crate::backend::Local) queue. There is no `blocking_recv`: only
//! this thread could send the value it would wait for.
//!
//! # Examples
//!
//! ```
//! use compio_sync::local::broadcast;
//!
//! # compio::runtime::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx) = broadcast::channel(4);
//! let task = compio::runtime::spawn(async move { rx.recv().await });
//! tx.send("hi").unwrap();
//! assert_eq!(task.await.unwrap(), Ok("hi"));
//! # });
//! ```
//!
//! Its handles stay on their thread:
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! assert_send(compio_sync::local::broadcast::channel::<u8>(4).0);
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! assert_send(compio_sync::local::broadcast::channel::<u8>(4).1);
//! ```
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let (_tx, mut rx) = compio_sync::local::broadcast::channel::<u8>(4);
//! assert_send(rx.recv());
//! ```
//!
//! ```compile_fail
//! let (_tx, mut rx) = compio_sync::local::broadcast::channel::<u8>(4);
//! let _ = rx.blocking_recv();
//! ```

// The thread-safe channel's own file, compiled again: `super::super` is
// `crate::local` there, whose `flavor` and `notify` it uses.
#[allow(clippy::duplicate_mod)]
#[path = "../broadcast/channel.rs"]
mod channel;

pub use self::channel::{Receiver, Recv, Sender, WeakSender, channel, channel_with_backend};
pub use crate::broadcast::error;
