//! A cell initialized at most once, by an async initializer: tokio's
//! `OnceCell`, layered on a one-permit [`Semaphore`] as tokio's is.
//!
//! # How it works
//!
//! The permit is the right to initialize. `get_or_init` acquires it, runs
//! the initializer, writes the value, sets `value_set` (Release) and closes
//! the semaphore, which wakes every other waiter with "closed": they read
//! the value. Nobody returns the permit once the value is set (it is
//! forgotten). If the initializer is cancelled, panics or (in
//! `get_or_try_init`) fails, its future drops the permit, and the
//! semaphore hands it to the next waiter, which runs its own initializer.
//! So exactly one initializer runs at a time, and one that does not finish
//! leaves the cell as it found it.

use std::{fmt, future::Future, mem::MaybeUninit, ptr};

// The flavor (see `crate::flavor`): this file is compiled once under the
// crate root and once under `crate::local`.
use super::{
    flavor::{AtomicUsize, DefaultBackend, Ordering::*, UnsafeCell, fence},
    semaphore::{Semaphore, SemaphorePermit},
};
use crate::{
    backend::WaitQueue,
    error::{SetError, TryAcquireError},
};

/// A cell that is written at most once, by [`set`](Self::set) or by the
/// first async initializer to finish ([`get_or_init`](Self::get_or_init)).
///
/// The API and semantics are [`tokio::sync::OnceCell`]'s. Exactly one
/// initializer runs at a time. One that is cancelled (its future dropped),
/// panics, or returns an error from
/// [`get_or_try_init`](Self::get_or_try_init) leaves the cell empty, and
/// the next task waiting in `get_or_init` runs its own.
///
/// `B` is the wait-queue backend (see [`crate::backend`]).
///
/// [`tokio::sync::OnceCell`]: https://docs.rs/tokio/latest/tokio/sync/struct.OnceCell.html
///
/// # Examples
///
/// ```
/// use compio_sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::const_new();
///
/// async fn config() -> &'static str {
///     CONFIG.get_or_init(|| async { "loaded once".to_owned() }).await
/// }
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (a, b) = futures::join!(config(), config());
/// assert_eq!((a, b), ("loaded once", "loaded once"));
/// # });
/// ```
pub struct OnceCell<T, B: WaitQueue = DefaultBackend> {
    /// 1 once `value` is initialized (set with Release, after the write).
    value_set: AtomicUsize,
    /// Written once, by the holder of `semaphore`'s permit; read only after
    /// `value_set` reads 1 (Acquire).
    value: UnsafeCell<MaybeUninit<T>>,
    /// One permit, the right to initialize; closed once the value is set.
    semaphore: Semaphore<B>,
}

// SAFETY: `&OnceCell` hands out `&T` (so `T: Sync`) and lets any thread
// `set` a `T` that another drops (so `T: Send`); the value is written once,
// by the permit holder, before the Release store of `value_set` that every
// reader acquires. `Semaphore<B>: Sync` is false in the local flavor, whose
// cells are `!Sync`, so the local `OnceCell` stays `!Sync`.
unsafe impl<T: Send + Sync, B: WaitQueue> Sync for OnceCell<T, B> where Semaphore<B>: Sync {}

#[cfg(not(loom))]
impl<T> OnceCell<T> {
    /// Creates an empty cell, on the default backend.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = compio_sync::OnceCell::<u32>::new();
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
    /// use compio_sync::OnceCell;
    ///
    /// static ONCE: OnceCell<u32> = OnceCell::const_new();
    /// ONCE.set(1).unwrap();
    /// assert_eq!(ONCE.get(), Some(&1));
    /// ```
    pub const fn const_new() -> Self {
        Self::const_with_backend()
    }

    /// Creates a cell holding `value`, in a `const` context.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::OnceCell;
    ///
    /// static ONCE: OnceCell<u32> = OnceCell::const_new_with(1);
    /// assert_eq!(ONCE.get(), Some(&1));
    /// assert!(ONCE.set(2).unwrap_err().is_already_init_err());
    /// ```
    pub const fn const_new_with(value: T) -> Self {
        Self {
            value_set: AtomicUsize::new(1),
            value: UnsafeCell::new(MaybeUninit::new(value)),
            // Never used: every path checks `value_set` first.
            semaphore: Semaphore::const_with_backend(0),
        }
    }

    /// Creates a cell holding `value` if it is `Some`, else an empty one.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::OnceCell;
    ///
    /// assert_eq!(OnceCell::new_with(Some(1)).get(), Some(&1));
    /// assert_eq!(OnceCell::<u32>::new_with(None).get(), None);
    /// ```
    pub fn new_with(value: Option<T>) -> Self {
        match value {
            Some(value) => Self::from(value),
            None => Self::new(),
        }
    }
}

#[cfg(loom)]
impl<T> OnceCell<T> {
    /// Creates an empty cell, on the default backend.
    pub fn new() -> Self {
        Self::with_backend()
    }
}

impl<T, B: WaitQueue> OnceCell<T, B> {
    /// Creates an empty cell on the backend `B`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{OnceCell, backend::MutexVecDeque};
    ///
    /// let cell = OnceCell::<u32, MutexVecDeque>::with_backend();
    /// assert!(!cell.initialized());
    /// ```
    pub fn with_backend() -> Self {
        Self {
            value_set: AtomicUsize::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            semaphore: Semaphore::with_backend(1),
        }
    }

    /// `const` form of [`with_backend`](Self::with_backend).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{OnceCell, backend::MutexVecDeque};
    ///
    /// static ONCE: OnceCell<u32, MutexVecDeque> = OnceCell::const_with_backend();
    /// assert!(ONCE.get().is_none());
    /// ```
    #[cfg(not(loom))]
    pub const fn const_with_backend() -> Self {
        Self {
            value_set: AtomicUsize::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            semaphore: Semaphore::const_with_backend(1),
        }
    }

    /// A cell holding `value`, on the backend `B`.
    fn with_value(value: T) -> Self {
        Self {
            value_set: AtomicUsize::new(1),
            value: UnsafeCell::new(MaybeUninit::new(value)),
            // Never used: every path checks `value_set` first.
            semaphore: Semaphore::with_backend(0),
        }
    }

    /// Returns `true` if the cell holds a value.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = compio_sync::OnceCell::new();
    /// assert!(!cell.initialized());
    /// cell.set(1).unwrap();
    /// assert!(cell.initialized());
    /// ```
    pub fn initialized(&self) -> bool {
        // Acquire: the write of the value happens-before (pairs with the
        // Release store in `set_value`).
        self.value_set.load(Acquire) == 1
    }

    /// # Safety
    ///
    /// The cell is initialized (`initialized()` returned `true`).
    unsafe fn get_unchecked(&self) -> &T {
        // SAFETY: initialized (the caller's promise), and never written again
        // while `&self` lives.
        self.value.with(|ptr| unsafe { (*ptr).assume_init_ref() })
    }

    /// Writes the value with the permit held, and publishes it.
    fn set_value(&self, value: T, permit: SemaphorePermit<'_, B>) -> &T {
        // We hold the only permit, and the cell is empty (a holder that set it
        // would have closed the semaphore and forgotten the permit).
        self.value.with_mut(|ptr| {
            // SAFETY: permit held and cell empty (above): nobody else writes
            // or reads the value.
            unsafe { (*ptr).as_mut_ptr().write(value) }
        });
        // Release: publishes the write to every `initialized()`.
        self.value_set.store(1, Release);
        // Wakes the waiters (their acquire fails with "closed", and they read
        // the value); the permit is never returned.
        self.semaphore.close();
        permit.forget();
        // SAFETY: initialized just above.
        unsafe { self.get_unchecked() }
    }

    /// The value, for a caller whose `acquire` failed: the semaphore is
    /// closed only once the value is set.
    fn get_after_close(&self) -> &T {
        // Acquire: the semaphore may have seen `CLOSED` with a Relaxed load;
        // this fence makes that load synchronize with `close`'s release
        // (its AcqRel `fetch_or`), which the value's write precedes. Found by
        // `loom_once::once_cell_init_cancel_racing_waiter`.
        fence(Acquire);
        debug_assert!(self.initialized());
        // SAFETY: closed, so initialized, and the write happens-before (the
        // fence above).
        unsafe { self.get_unchecked() }
    }

    /// Returns the value, or `None` if the cell is empty (or still being
    /// initialized).
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = compio_sync::OnceCell::new();
    /// assert_eq!(cell.get(), None);
    /// cell.set(1).unwrap();
    /// assert_eq!(cell.get(), Some(&1));
    /// ```
    pub fn get(&self) -> Option<&T> {
        if self.initialized() {
            // SAFETY: initialized.
            Some(unsafe { self.get_unchecked() })
        } else {
            None
        }
    }

    /// Returns the value mutably, or `None` if the cell is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cell = compio_sync::OnceCell::from(1);
    /// *cell.get_mut().unwrap() += 1;
    /// assert_eq!(cell.get(), Some(&2));
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if self.value_set.load(Relaxed) == 1 {
            Some(self.value.with_mut(|ptr| {
                // SAFETY: initialized, and `&mut self` excludes every other
                // access.
                unsafe { (*ptr).assume_init_mut() }
            }))
        } else {
            None
        }
    }

    /// Sets the value if the cell is empty and no initializer is running.
    ///
    /// # Errors
    ///
    /// [`SetError::AlreadyInitializedError`] if the cell holds a value,
    /// [`SetError::InitializingError`] if a `get_or_init` is running its
    /// initializer. Both give `value` back.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = compio_sync::OnceCell::new();
    /// cell.set(1).unwrap();
    /// let err = cell.set(2).unwrap_err();
    /// assert!(err.is_already_init_err());
    /// ```
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        match self.semaphore.try_acquire() {
            Ok(permit) => {
                self.set_value(value, permit);
                Ok(())
            }
            // Another task holds the permit and runs its initializer.
            Err(TryAcquireError::NoPermits) => Err(SetError::InitializingError(value)),
            // Closed only once the value is set.
            Err(TryAcquireError::Closed) => Err(SetError::AlreadyInitializedError(value)),
        }
    }

    /// Returns the value, running `f` to produce it if the cell is empty.
    ///
    /// If several tasks call this on an empty cell, one runs its
    /// initializer while the others wait; they all return the value it
    /// produces. If that initializer is cancelled or panics, the next
    /// waiter runs its own.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. Dropping the future while it waits leaves nothing
    /// behind; dropping it while its `f` runs abandons that initialization
    /// (the cell stays empty) and lets the next waiter initialize.
    ///
    /// # Panics
    ///
    /// If `f` or its future panics, the panic propagates, and the cell stays
    /// empty for the next initializer.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cell = compio_sync::OnceCell::new();
    /// assert_eq!(*cell.get_or_init(|| async { 1 }).await, 1);
    /// assert_eq!(*cell.get_or_init(|| async { 2 }).await, 1, "set once");
    /// # });
    /// ```
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        if let Some(value) = self.get() {
            return value;
        }
        match self.semaphore.acquire().await {
            // If `f()` panics or this future is dropped, the permit goes to
            // the next waiter.
            Ok(permit) => self.set_value(f().await, permit),
            Err(_) => self.get_after_close(),
        }
    }

    /// Returns the value, running `f` to produce it if the cell is empty.
    /// If `f` fails, the cell stays empty, the error is returned, and the
    /// next waiter runs its own initializer.
    ///
    /// # Errors
    ///
    /// The error `f`'s future returned.
    ///
    /// # Cancel safety
    ///
    /// As [`get_or_init`](Self::get_or_init).
    ///
    /// # Panics
    ///
    /// As [`get_or_init`](Self::get_or_init).
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cell = compio_sync::OnceCell::new();
    /// assert_eq!(cell.get_or_try_init(|| async { Err("no") }).await, Err("no"));
    /// assert!(cell.get().is_none());
    /// assert_eq!(cell.get_or_try_init(|| async { Ok::<_, ()>(1) }).await, Ok(&1));
    /// # });
    /// ```
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get() {
            return Ok(value);
        }
        match self.semaphore.acquire().await {
            // An error drops the permit: the next waiter tries.
            Ok(permit) => Ok(self.set_value(f().await?, permit)),
            Err(_) => Ok(self.get_after_close()),
        }
    }

    /// Takes the value out of the cell, consuming it.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = compio_sync::OnceCell::from("value");
    /// assert_eq!(cell.into_inner(), Some("value"));
    /// ```
    pub fn into_inner(self) -> Option<T> {
        if self.value_set.load(Relaxed) == 1 {
            // Empty for `Drop`, which then leaves the value alone.
            self.value_set.store(0, Relaxed);
            // SAFETY: initialized, and owned (`self`): moved out once.
            Some(
                self.value
                    .with(|ptr| unsafe { ptr::read(ptr).assume_init() }),
            )
        } else {
            None
        }
    }

    /// Takes the value out, leaving the cell empty (and ready to be
    /// initialized again).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cell = compio_sync::OnceCell::from(1);
    /// assert_eq!(cell.take(), Some(1));
    /// assert!(!cell.initialized());
    /// cell.set(2).unwrap();
    /// ```
    pub fn take(&mut self) -> Option<T> {
        std::mem::replace(self, Self::with_backend()).into_inner()
    }
}

impl<T, B: WaitQueue> Drop for OnceCell<T, B> {
    fn drop(&mut self) {
        if self.value_set.load(Relaxed) == 1 {
            // SAFETY: initialized, and dropped once (`&mut self`, in `drop`).
            self.value
                .with_mut(|ptr| unsafe { ptr::drop_in_place((*ptr).as_mut_ptr()) });
        }
    }
}

/// An empty cell on the default backend (other backends: `with_backend()`).
impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A cell holding `value`, on the default backend.
#[cfg(not(loom))]
impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        Self::with_value(value)
    }
}

/// A new cell (on the same backend) holding a clone of the value, if any.
impl<T: Clone, B: WaitQueue> Clone for OnceCell<T, B> {
    fn clone(&self) -> Self {
        match self.get() {
            Some(value) => Self::with_value(value.clone()),
            None => Self::with_backend(),
        }
    }
}

impl<T: fmt::Debug, B: WaitQueue> fmt::Debug for OnceCell<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}

/// Equal if both hold equal values, or both are empty.
impl<T: PartialEq, B: WaitQueue> PartialEq for OnceCell<T, B> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq, B: WaitQueue> Eq for OnceCell<T, B> {}
