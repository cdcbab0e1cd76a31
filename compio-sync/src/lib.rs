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
//! | many readers or one writer across `.await` points; a read that may become a write with no writer in between | [`RwLock`], [`RwLock::upgradable_read`] |
//! | to wake one task, or every task waiting now, with no data attached | [`Notify`] |
//! | to wait until a condition on mutex-protected data holds (queues, state machines) | [`Condvar`] with [`Mutex`], via [`Condvar::wait_while`] |
//! | to hand one value from one task to another (a reply) | [`oneshot`] |
//! | a queue of values from many tasks to one, with backpressure or without | [`mpsc::channel`], [`mpsc::unbounded_channel`] |
//! | to publish the latest state (a config, a shutdown flag) to many tasks, each told when it changes | [`watch`] |
//! | to deliver every value to every subscriber, with a bounded backlog (slow ones are told what they missed) | [`broadcast`] |
//! | to wait from a plain (non-async) thread | [`Semaphore::blocking_acquire`], [`Mutex::blocking_lock`] |
//! | N tasks to meet before any goes on, round after round | [`Barrier`] (cancel safe, unlike tokio's) |
//! | a value computed once, by whichever task needs it first (lazy statics, shared clients) | [`OnceCell`] |
//! | to publish a value once and let tasks wait for it (an event with a payload) | [`SetOnce`] |
//!
//! Every one of them is tokio's type of the same name (the channels in
//! tokio's module paths, `compio_sync::mpsc::error::TrySendError` and so on),
//! except [`Condvar`], the upgradable reads of [`RwLock`] and the cancel-safe
//! [`Barrier`], which tokio lacks.
//!
//! # Two flavors
//!
//! Every type at the crate root is thread-safe (`Send + Sync`, shared through
//! `Arc` across compio runtimes). [`local`] has the same types for tasks that
//! all run on one thread (one compio runtime): `!Send`, `!Sync`, plain cells
//! instead of atomic read-modify-writes, `Rc` instead of `Arc`, and no
//! allocation per wait. Both are compiled from the same source; only the
//! cells differ.
//!
//! ```
//! use std::rc::Rc;
//! use compio_sync::local::Semaphore;
//!
//! # compio::runtime::Runtime::new().unwrap().block_on(async {
//! let limit = Rc::new(Semaphore::new(2));
//! let permit = limit.clone().acquire_owned().await.unwrap();
//! assert_eq!(limit.available_permits(), 1);
//! # drop(permit);
//! # });
//! ```
//!
//! A `std::sync::Mutex` (or `parking_lot`'s) is the better choice for data
//! that is never held across an `.await`: it is cheaper, and the async mutex
//! only pays off when the critical section itself waits.
//!
//! # Porting from `tokio::sync`
//!
//! Change the import. Method names, return and error types, panics, cancel
//! safety and `MAX_PERMITS` match tokio's. With `.strict_fifo()` the order
//! in which waiters are served is tokio's exactly: a released permit is
//! handed to the oldest waiter at once, `available_permits()` never counts a
//! permit a waiter is owed, and an `acquire_many(n)` at the head is woken
//! once, when it can be served.
//!
//! ## Differences from tokio
//!
//! The one deliberate difference is **fairness**, and what follows from it.
//! tokio hands every released permit to the oldest waiter (strict FIFO),
//! which under cross-thread contention costs a task switch, usually a
//! cross-thread wake-up, per operation. By default this crate lets a task
//! that finds free permits take them, even while others wait (*barging*),
//! which keeps a hot permit on the thread that uses it and is many times
//! faster under contention ([BENCHMARKS.md] has the figures). Starvation is
//! bounded instead: a waiter passed over for longer than
//! [`STARVATION_BOUND`] or [`STARVATION_PASSES`] times, or an
//! `acquire_many(n > 1)` at the head of the queue, closes the fast path and
//! has the permits handed to it.
//!
//! What follows from barging, on the default policy only:
//!
//! * `try_acquire` (and `try_lock`) can succeed while tasks wait, as long as
//!   nobody is starving:
//!
//!   ```
//!   # compio::runtime::Runtime::new().unwrap().block_on(async {
//!   use compio_sync::Semaphore;
//!
//!   let sem = Semaphore::new(0);
//!   let mut waiter = std::pin::pin!(sem.acquire());
//!   assert!(futures::poll!(waiter.as_mut()).is_pending());
//!   sem.add_permits(1);
//!   // tokio would have handed the permit to `waiter`; here it is free until
//!   // `waiter` runs, and a barging task may take it.
//!   assert_eq!(sem.available_permits(), 1);
//!   assert!(sem.try_acquire().is_ok());
//!   # });
//!   ```
//!
//! * The order in which waiters are served is roughly, not strictly, FIFO: a
//!   woken waiter that finds the permits taken queues again at the head.
//! * Permits that a starving `acquire_many` waits for stay in
//!   `available_permits()` (tokio counts them as given to it), but no barging
//!   task can take them.
//! * An [`RwLock`] writer that has to wait blocks new readers at once, as in
//!   tokio, under both policies; readers barge among themselves only.
//!
//! For tokio's exact behaviour, build the primitive with `.strict_fifo()`:
//!
//! ```
//! # compio::runtime::Runtime::new().unwrap().block_on(async {
//! use compio_sync::Semaphore;
//!
//! let sem = Semaphore::new(0).strict_fifo();
//! let mut waiter = std::pin::pin!(sem.acquire());
//! assert!(futures::poll!(waiter.as_mut()).is_pending());
//! sem.add_permits(1);
//! assert_eq!(sem.available_permits(), 0, "handed to the waiter, as in tokio");
//! assert!(sem.try_acquire().is_err());
//! # });
//! ```
//!
//! Three behaviours need the `tokio` feature when the ported code still runs
//! on a tokio runtime: tokio's cooperative budget (a loop that re-locks a
//! mutex on a `current_thread` runtime yields to other tasks), tokio's
//! panic for a blocking call (`blocking_lock`, `blocking_acquire`) inside
//! the runtime, and tokio's timer for
//! [`mpsc::Sender::send_timeout`] (which otherwise needs a compio runtime;
//! its future is not `Send` either way). Without the feature, add a
//! `tokio::task::yield_now().await` to such loops.
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
//! [BENCHMARKS.md]: https://github.com/compio-rs/compio-sync/blob/main/BENCHMARKS.md
//! [`tokio::sync`]: https://docs.rs/tokio/latest/tokio/sync/index.html
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backend;
mod barrier;
#[cfg(not(loom))]
mod blocking;
pub mod broadcast;
mod condvar;
mod coop;
mod error;
mod flavor;
#[cfg(not(loom))]
pub mod local;
pub(crate) mod loom;
pub mod mpsc;
mod mutex;
// The channels' error types, compiled once for both flavors (the channels
// themselves are compiled per flavor, see `flavor`).
mod lazy_box;
#[path = "mpsc/error.rs"]
mod mpsc_error;
mod notify;
mod once_cell;
pub mod oneshot;
#[path = "oneshot/error.rs"]
mod oneshot_error;
mod rwlock;
mod semaphore;
mod set_once;
mod spin_lock;
#[cfg(not(loom))]
mod timer;
mod wait_set;
pub mod watch;

pub use barrier::{Barrier, BarrierWait, BarrierWaitResult};
pub use condvar::Condvar;
pub use error::{SetError, SetOnceError};
pub use mutex::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, TryLockError,
};
pub use notify::{Notified, Notify, OwnedNotified};
pub use once_cell::OnceCell;
pub use rwlock::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockUpgradableReadGuard,
    OwnedRwLockWriteGuard, RwLock, RwLockMappedWriteGuard, RwLockReadGuard,
    RwLockUpgradableReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    Acquire, AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
#[cfg(not(loom))]
pub use semaphore::{STARVATION_BOUND, STARVATION_PASSES};
pub use set_once::SetOnce;

/// Named future types, at tokio's path (`tokio::sync::futures`), for code
/// that stores or names a [`Notify`]'s future. They are the crate root's
/// [`Notified`] and [`OwnedNotified`].
///
/// # Examples
///
/// ```
/// use std::pin::Pin;
///
/// use compio_sync::{Notify, futures::Notified};
///
/// // A waiter kept in a struct, enabled before the notification is sent.
/// struct Waiter<'a> {
///     notified: Pin<Box<Notified<'a>>>,
/// }
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let notify = Notify::new();
/// let mut waiter = Waiter {
///     notified: Box::pin(notify.notified()),
/// };
/// waiter.notified.as_mut().enable();
/// notify.notify_waiters(); // reaches the enabled waiter
/// waiter.notified.await;
/// # });
/// ```
pub mod futures {
    pub use crate::notify::{Notified, OwnedNotified};
}
