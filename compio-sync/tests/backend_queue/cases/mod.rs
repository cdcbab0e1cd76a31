//! The cases of the `WaitQueue` contract suite, each generic over the
//! backend and instantiated per backend by `contract_suite!` in
//! `backend_queue.rs`.
//!
//! | file | what its cases check |
//! |---|---|
//! | `contract.rs` | the contract point by point, on one thread: selection, order, hand-over values and tags, cancel, wake batches, waker panics and re-entrancy |
//! | `races.rs` | the same under concurrency: two or three threads registering, cancelling and notifying, with exact counts |
//! | `poll_notified.rs` | `poll_notified`, the look that gives no waker, on every backend and on the single-thread `Local` |

mod contract;
mod poll_notified;
mod races;

pub use self::{contract::*, poll_notified::*, races::*};
