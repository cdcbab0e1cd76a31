//! Async synchronization primitives for the [compio] runtime, with the names
//! and semantics of [`tokio::sync`], on a pluggable wait-queue engine.
//!
//! compio runs one runtime per OS thread (thread-per-core, completion-based
//! I/O: io_uring on Linux). Tasks on different runtimes share state through
//! `Arc`, and this crate's primitives are what they coordinate with.
//! Everything here also works on any other executor (tokio, smol,
//! `futures::executor`): a waiting task is woken through its `Waker`, nothing
//! more.
//!
//! # Which primitive when
//!
//! | you need | use |
//! |---|---|
//! | at most N tasks doing something at once (connection limits, rate limiting, resource pools) | [`Semaphore`] |
//! | exclusive access to data across `.await` points | [`Mutex`] (a 1-permit [`Semaphore`] plus the data) |
//! | to wake one task, or every task waiting now, with no data attached | [`Notify`] |
//! | to wait until a condition on mutex-protected data holds (queues, state machines) | [`Condvar`] with [`Mutex`], via [`Condvar::wait_while`] |
//! | to wait from a plain (non-async) thread | [`Semaphore::blocking_acquire`], [`Mutex::blocking_lock`] |
//!
//! Not here yet (planned on the same engine): `RwLock`, `Barrier`,
//! `OnceCell`, and single-thread `local` variants.
//!
//! A `std::sync::Mutex` (or `parking_lot`'s) is the better choice for data
//! that is never held across an `.await`: it is cheaper, and the async mutex
//! only pays off when the critical section itself waits.
//!
//! # Porting from `tokio::sync`
//!
//! Change the import. Method names, return and error types, panics and cancel
//! safety match tokio, with one deliberate difference: **fairness**. tokio's
//! semaphore hands every released permit to the oldest waiter (strict FIFO),
//! which under cross-thread contention costs a task switch, often a
//! cross-thread wake, per operation (1.2-5.4 µs on the 2-vCPU machines we
//! measure on). By default this crate lets a task that finds free permits
//! take them (*barging*, 40-250 ns there), and bounds starvation instead: a
//! waiter that has waited longer than [`STARVATION_BOUND`], or an
//! `acquire_many(n)` at the head of the queue, gets released permits handed
//! to it directly. For tokio's exact order, build the primitive with
//! `.strict_fifo()`:
//!
//! ```
//! use compio_sync::Semaphore;
//!
//! let fair = Semaphore::new(4).strict_fifo();
//! assert!(fair.is_strict_fifo());
//! ```
//!
//! # Backends
//!
//! Every primitive is generic over its wait queue, `Type<B = DefaultBackend>`;
//! `Type::new(..)` uses [`DefaultBackend`](backend::DefaultBackend) and
//! `Type::<B>::with_backend(..)` another. See [`backend`] for the table of
//! backends, what each costs and which fairness policies each supports.
//!
//! ```
//! use compio_sync::{Semaphore, backend::MutexVecDeque};
//!
//! let baseline = Semaphore::<MutexVecDeque>::with_backend(1);
//! # drop(baseline);
//! ```
//!
//! # Memory ordering
//!
//! Releasing permits happens-before the acquire that takes them (Release /
//! Acquire on the permit word), as with a lock.
//!
//! # When not to use this crate
//!
//! Inside a single task, or for data that is only touched by plain threads,
//! use `std::sync` or `parking_lot`: an async primitive only pays off when the
//! wait itself must not block the thread. If you need tokio's exact fairness
//! everywhere, remember `.strict_fifo()` on each primitive.
//!
//! [compio]: https://docs.rs/compio
//! [`tokio::sync`]: https://docs.rs/tokio/latest/tokio/sync/index.html
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backend;
#[cfg(not(loom))]
mod blocking;
mod condvar;
mod coop;
pub(crate) mod loom;
mod mutex;
mod notify;
mod semaphore;

pub use condvar::Condvar;
pub use mutex::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, TryLockError,
};
pub use notify::{Notified, Notify};
#[cfg(not(loom))]
pub use semaphore::STARVATION_BOUND;
pub use semaphore::{
    Acquire, AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
