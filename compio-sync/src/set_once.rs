//! A cell set at most once, that tasks can wait on: tokio 1.54's `SetOnce`,
//! on a [`Notify`].
//!
//! # How it works
//!
//! `state` goes `EMPTY -> SETTING -> SET`, once. A `set` claims the cell
//! with a CAS (`EMPTY -> SETTING`), writes the value, stores `SET`
//! (Release) and calls `notify_waiters`. A `wait` creates its `Notified`
//! *before* checking `state`: a `Notified` records the broadcast count when
//! it is created and completes on any later broadcast, so a `set` that
//! finishes after the check completes it (the broadcast's AcqRel bump is
//! ordered after the `SET` store, and a `Notified` created after the bump
//! sees `SET`). tokio takes a lock on both sides for the same guarantee;
//! here no lock is needed, which keeps the local flavor lock-free.

use std::{fmt, mem::MaybeUninit, ptr};

// The flavor (see `crate::flavor`): this file is compiled once under the
// crate root and once under `crate::local`.
use super::{
    flavor::{self, AtomicUsize, DefaultBackend, Ordering::*, UnsafeCell},
    notify::Notify,
};
use crate::{backend::WaitQueue, error::SetOnceError};

/// `state`: no value.
const EMPTY: usize = 0;
/// `state`: a `set` claimed the cell and is writing the value.
const SETTING: usize = 1;
/// `state`: the value is written and published.
const SET: usize = 2;

/// A cell that is set at most once, and that tasks can
/// [`wait`](Self::wait) on until it is, like Python's `asyncio.Event` with a
/// value.
///
/// The API and semantics are tokio 1.54's [`tokio::sync::SetOnce`]'s.
///
/// `B` is the wait-queue backend (see [`crate::backend`]).
///
/// [`tokio::sync::SetOnce`]: https://docs.rs/tokio/latest/tokio/sync/struct.SetOnce.html
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use compio_sync::SetOnce;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let ready = Arc::new(SetOnce::new());
/// let waiter = compio::runtime::spawn({
///     let ready = ready.clone();
///     async move { *ready.wait().await }
/// });
/// ready.set(20).unwrap();
/// assert_eq!(waiter.await.unwrap(), 20);
/// assert!(ready.set(30).is_err(), "set once");
/// # });
/// ```
pub struct SetOnce<T, B: WaitQueue = DefaultBackend> {
    /// `EMPTY`, `SETTING` or `SET`; `SET` is stored with Release after the
    /// value is written.
    state: AtomicUsize,
    /// Written once, by the `set` that moved `state` to `SETTING`; read only
    /// after `state` reads `SET` (Acquire).
    value: UnsafeCell<MaybeUninit<T>>,
    /// Broadcast once the value is set.
    notify: Notify<B>,
}

// SAFETY: `&SetOnce` hands out `&T` (so `T: Sync`) and lets any thread
// `set` a `T` that another drops (so `T: Send`); the value is written once,
// by the `set` that claimed the cell, before the Release store of `SET`
// that every reader acquires. `Notify<B>: Sync` is false in the local
// flavor, whose cells are `!Sync`, so the local `SetOnce` stays `!Sync`.
unsafe impl<T: Send + Sync, B: WaitQueue> Sync for SetOnce<T, B> where Notify<B>: Sync {}

#[cfg(not(loom))]
impl<T> SetOnce<T> {
    /// Creates an empty cell, on the default backend.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = compio_sync::SetOnce::<u32>::new();
    /// assert!(cell.get().is_none());
    /// ```
    pub fn new() -> Self {
        Self::with_backend()
    }

    /// Creates an empty cell in a `const` context, e.g. a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::SetOnce;
    ///
    /// static ONCE: SetOnce<u32> = SetOnce::const_new();
    /// ONCE.set(2).unwrap();
    /// assert_eq!(ONCE.get(), Some(&2));
    /// ```
    pub const fn const_new() -> Self {
        Self::const_with_backend()
    }

    /// Creates a cell holding `value`, in a `const` context.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::SetOnce;
    ///
    /// static ONCE: SetOnce<u32> = SetOnce::const_new_with(1);
    /// assert_eq!(ONCE.get(), Some(&1));
    /// ```
    pub const fn const_new_with(value: T) -> Self {
        Self {
            state: AtomicUsize::new(SET),
            value: UnsafeCell::new(MaybeUninit::new(value)),
            notify: Notify::const_with_backend(),
        }
    }

    /// Creates a cell holding `value` if it is `Some`, else an empty one.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::SetOnce;
    ///
    /// assert!(SetOnce::new_with(Some(1)).initialized());
    /// assert!(!SetOnce::<u32>::new_with(None).initialized());
    /// ```
    pub fn new_with(value: Option<T>) -> Self {
        match value {
            Some(value) => Self::from(value),
            None => Self::new(),
        }
    }
}

#[cfg(loom)]
impl<T> SetOnce<T> {
    /// Creates an empty cell, on the default backend.
    pub fn new() -> Self {
        Self::with_backend()
    }
}

impl<T, B: WaitQueue> SetOnce<T, B> {
    /// Creates an empty cell on the backend `B`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{SetOnce, backend::MutexVecDeque};
    ///
    /// let cell = SetOnce::<u32, MutexVecDeque>::with_backend();
    /// assert!(!cell.initialized());
    /// ```
    pub fn with_backend() -> Self {
        Self {
            state: AtomicUsize::new(EMPTY),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            notify: Notify::with_backend(),
        }
    }

    /// `const` form of [`with_backend`](Self::with_backend).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{SetOnce, backend::MutexVecDeque};
    ///
    /// static ONCE: SetOnce<u32, MutexVecDeque> = SetOnce::const_with_backend();
    /// assert!(ONCE.get().is_none());
    /// ```
    #[cfg(not(loom))]
    pub const fn const_with_backend() -> Self {
        Self {
            state: AtomicUsize::new(EMPTY),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            notify: Notify::const_with_backend(),
        }
    }

    /// A cell holding `value`, on the backend `B`.
    fn with_value(value: T) -> Self {
        Self {
            state: AtomicUsize::new(SET),
            value: UnsafeCell::new(MaybeUninit::new(value)),
            notify: Notify::with_backend(),
        }
    }

    /// Returns `true` if the cell holds a value.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = compio_sync::SetOnce::new();
    /// assert!(!cell.initialized());
    /// cell.set(1).unwrap();
    /// assert!(cell.initialized());
    /// ```
    pub fn initialized(&self) -> bool {
        // Acquire: the write of the value happens-before (pairs with the
        // Release store of `SET` in `set`).
        self.state.load(Acquire) == SET
    }

    /// Returns the value, or `None` if the cell is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = compio_sync::SetOnce::new();
    /// assert_eq!(cell.get(), None);
    /// cell.set(1).unwrap();
    /// assert_eq!(cell.get(), Some(&1));
    /// ```
    pub fn get(&self) -> Option<&T> {
        if self.initialized() {
            // SAFETY: `SET` (acquired above): written, and never written
            // again.
            Some(self.value.with(|ptr| unsafe { (*ptr).assume_init_ref() }))
        } else {
            None
        }
    }

    /// Sets the value if the cell is empty, and wakes every task in
    /// [`wait`](Self::wait).
    ///
    /// # Errors
    ///
    /// [`SetOnceError`], with `value`, if the cell already holds a value.
    /// When two `set` calls race, exactly one succeeds, and the other
    /// returns once the winner's value is visible: after a failed `set`,
    /// [`get`](Self::get) returns `Some`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{SetOnce, SetOnceError};
    ///
    /// let cell = SetOnce::new();
    /// assert_eq!(cell.set(1), Ok(()));
    /// assert_eq!(cell.set(2), Err(SetOnceError(2)));
    /// ```
    pub fn set(&self, value: T) -> Result<(), SetOnceError<T>> {
        // Acquire on failure: a `SET` seen here publishes the value to the
        // caller's later `get` (pairs with the Release store below).
        if let Err(mut state) = self
            .state
            .compare_exchange(EMPTY, SETTING, Acquire, Acquire)
        {
            // The winner writes the value with no user code in between (a
            // move of `T`); wait for it, as tokio's `set` waits on its lock.
            // Never taken in the local flavor (one thread, and `set` does
            // not yield).
            while state == SETTING {
                flavor::spin_loop();
                state = self.state.load(Acquire);
            }
            return Err(SetOnceError(value));
        }
        // SAFETY: the CAS above made us the only writer, and nobody reads
        // the value before `SET`.
        self.value
            .with_mut(|ptr| unsafe { (*ptr).as_mut_ptr().write(value) });
        // Release: publishes the write to every Acquire load that sees `SET`.
        self.state.store(SET, Release);
        // Its AcqRel bump orders the `SET` store before every `Notified`
        // created after it (see the module docs).
        self.notify.notify_waiters();
        Ok(())
    }

    /// Waits until the cell holds a value, and returns it; at once if it
    /// already does.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the value is not consumed, and a dropped `wait` leaves
    /// nothing behind.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cell = compio_sync::SetOnce::new();
    /// let (value, set) = futures::join!(cell.wait(), async { cell.set(5) });
    /// assert_eq!((*value, set), (5, Ok(())));
    /// # });
    /// ```
    pub async fn wait(&self) -> &T {
        loop {
            if let Some(value) = self.get() {
                return value;
            }
            // Created before the re-check: a `set` after it completes it.
            let notified = self.notify.notified();
            if let Some(value) = self.get() {
                return value;
            }
            notified.await;
        }
    }

    /// Takes the value out of the cell, consuming it.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = compio_sync::SetOnce::new();
    /// cell.set("value").unwrap();
    /// assert_eq!(cell.into_inner(), Some("value"));
    /// ```
    pub fn into_inner(self) -> Option<T> {
        if self.state.load(Relaxed) == SET {
            // Empty for `Drop`, which then leaves the value alone.
            self.state.store(EMPTY, Relaxed);
            // SAFETY: `SET`, and owned (`self`): moved out once.
            Some(
                self.value
                    .with(|ptr| unsafe { ptr::read(ptr).assume_init() }),
            )
        } else {
            None
        }
    }
}

impl<T, B: WaitQueue> Drop for SetOnce<T, B> {
    fn drop(&mut self) {
        if self.state.load(Relaxed) == SET {
            // SAFETY: `SET`, and dropped once (`&mut self`, in `drop`).
            self.value
                .with_mut(|ptr| unsafe { ptr::drop_in_place((*ptr).as_mut_ptr()) });
        }
    }
}

/// An empty cell on the default backend (other backends: `with_backend()`).
impl<T> Default for SetOnce<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A cell holding `value`, on the default backend.
#[cfg(not(loom))]
impl<T> From<T> for SetOnce<T> {
    fn from(value: T) -> Self {
        Self::with_value(value)
    }
}

/// A new cell (on the same backend) holding a clone of the value, if any.
impl<T: Clone, B: WaitQueue> Clone for SetOnce<T, B> {
    fn clone(&self) -> Self {
        match self.get() {
            Some(value) => Self::with_value(value.clone()),
            None => Self::with_backend(),
        }
    }
}

impl<T: fmt::Debug, B: WaitQueue> fmt::Debug for SetOnce<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetOnce")
            .field("value", &self.get())
            .finish()
    }
}

/// Equal if both hold equal values, or both are empty.
impl<T: PartialEq, B: WaitQueue> PartialEq for SetOnce<T, B> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq, B: WaitQueue> Eq for SetOnce<T, B> {}
