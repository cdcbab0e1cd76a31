//! A multi-producer, single-consumer queue for sending values between
//! tasks, with [`tokio::sync::mpsc`]'s API, semantics and error types.
//!
//! [`channel`] makes a bounded channel: senders wait (or get
//! [`TrySendError::Full`](error::TrySendError::Full)) once `buffer` messages
//! are queued, which gives backpressure. [`unbounded_channel`] never makes
//! senders wait. Either way, the receiver gets `None` once every sender is
//! dropped (or the receiver is [closed](Receiver::close)) and the queued
//! messages are received. Porting from tokio is a change of import:
//! `compio_sync::mpsc::error::TrySendError` and so on.
//!
//! Waiting senders are served in the order they started waiting, as in
//! tokio: the channel's semaphore is strict FIFO
//! ([`Semaphore::strict_fifo`](crate::Semaphore::strict_fifo)), and a
//! `try_send` does not overtake a waiting sender.
//!
//! Differences from tokio:
//!
//! * [`Sender::send_timeout`] runs on the polling runtime's timer (compio's,
//!   or tokio's with the `tokio` feature), and its future is not `Send`.
//! * Every type takes a wait-queue backend, `B` (see [`crate::backend`]):
//!   [`channel_with_backend`] and [`unbounded_channel_with_backend`] pick
//!   one.
//!
//! [`tokio::sync::mpsc`]: https://docs.rs/tokio/latest/tokio/sync/mpsc/index.html
//!
//! # How it works
//!
//! Messages go through a `VecDeque` behind a short-held lock, which the
//! receiver empties a batch at a time (one lock per batch, not per message);
//! a bounded channel's capacity is this crate's
//! [semaphore](crate::Semaphore), one permit per slot, given back as each
//! message is received, as tokio's is its own semaphore; an unbounded send
//! checks for a closed receiver under the queue's lock, so it touches no
//! other shared word; the receiver waits on the wait-queue engine. A bounded channel allocates nothing per message
//! once its queue has grown to its working size. `src/mpsc/chan.rs` has the
//! protocol.
//!
//! # Examples
//!
//! ```
//! use compio_sync::mpsc;
//!
//! # compio::runtime::Runtime::new().unwrap().block_on(async {
//! let (tx, mut rx) = mpsc::channel(16);
//! for id in 0..4 {
//!     let tx = tx.clone();
//!     compio::runtime::spawn(async move {
//!         tx.send(id).await.unwrap();
//!     })
//!     .detach();
//! }
//! drop(tx);
//! let mut got = Vec::new();
//! while let Some(id) = rx.recv().await {
//!     got.push(id);
//! }
//! got.sort();
//! assert_eq!(got, [0, 1, 2, 3]);
//! # });
//! ```

// The flavor (see `crate::flavor`): this module is compiled once under the
// crate root and once under `crate::local`; its files take these names
// from here.
use super::{flavor, notify, semaphore::Semaphore};

mod bounded;
mod chan;
mod permit;
mod pool;
mod receiver;
#[cfg(not(loom))]
mod send_timeout;
mod unbounded;

/// `mpsc` error types (shared by both flavors).
pub mod error {
    #[allow(deprecated)]
    pub use crate::mpsc_error::RecvError;
    pub use crate::mpsc_error::{SendError, SendTimeoutError, TryRecvError, TrySendError};
}

pub use self::{
    bounded::{Sender, WeakSender, channel, channel_with_backend},
    permit::{OwnedPermit, Permit, PermitIterator},
    receiver::Receiver,
    unbounded::{
        UnboundedReceiver, UnboundedSender, WeakUnboundedSender, unbounded_channel,
        unbounded_channel_with_backend,
    },
};
