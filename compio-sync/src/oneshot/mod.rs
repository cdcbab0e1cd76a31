//! A one-shot channel: one value, sent once, from one task to another, with
//! [`tokio::sync::oneshot`]'s API, semantics and error types.
//!
//! [`channel`] makes a [`Sender`] and a [`Receiver`]. [`Sender::send`]
//! delivers the value (or gives it back if the receiver is gone), and the
//! receiver is a future that resolves to it, or to [`RecvError`] if the
//! sender was dropped without sending.
//!
//! [`tokio::sync::oneshot`]: https://docs.rs/tokio/latest/tokio/sync/oneshot/index.html
//!
//! # How it works
//!
//! One state word, one value cell and two waker slots, one per half, as in
//! tokio's oneshot: no wait queue is needed, since each half has exactly one
//! waiter (itself). The state word holds four bits:
//!
//! * `VALUE_SENT`: the sender is done (a value, or `None` if it was dropped).
//!   From then on only the receiver touches the value cell.
//! * `CLOSED`: the receiver is done ([`Receiver::close`] or drop). A send
//!   after it fails and takes its value back; `VALUE_SENT` is never set after
//!   `CLOSED`, so the value cell stays the sender's.
//! * `RX_TASK_SET` / `TX_TASK_SET`: the receiver's (sender's) waker slot
//!   holds a waker that the *other* half may read. A half writes its own
//!   slot only while its bit is clear, and the other half reads the slot only
//!   if the bit was set in the read-modify-write that finished it
//!   (`VALUE_SENT` for the receiver's slot, `CLOSED` for the sender's). A
//!   half that wants to replace its waker clears its bit first; if that
//!   clear finds the other half already finished, it leaves the slot alone
//!   (the other half may be waking it) and completes.
//!
//! Every read-modify-write of the word is `AcqRel`: the value and the wakers
//! are published by the Release half and read after the Acquire half. A
//! waker's `clone` runs before any state changes, and a replaced waker is
//! dropped after the state is consistent again, so a panicking waker leaves
//! the channel usable.
//!
//! The two halves share the allocation through a count of their own
//! (`Handle`), not an `Arc`: with no weak handles to count, the last half
//! to go frees it after one read-modify-write instead of two.
//!
//! # Examples
//!
//! ```
//! use compio_sync::oneshot;
//!
//! # compio::runtime::Runtime::new().unwrap().block_on(async {
//! let (tx, rx) = oneshot::channel();
//! compio::runtime::spawn(async move {
//!     if tx.send(3).is_err() {
//!         println!("the receiver dropped");
//!     }
//! })
//! .detach();
//! match rx.await {
//!     Ok(v) => assert_eq!(v, 3),
//!     Err(_) => println!("the sender dropped"),
//! }
//! # });
//! ```

use std::{
    fmt,
    future::{Future, poll_fn},
    pin::Pin,
    ptr::NonNull,
    task::{Context, Poll, Waker},
};

// The flavor (see `crate::flavor`): this file is compiled once under the
// crate root and once under `crate::local`.
use super::flavor::{AtomicUsize, Ordering::*, UnsafeCell, fence};

/// `oneshot` error types (shared by both flavors).
pub mod error {
    pub use crate::oneshot_error::{RecvError, TryRecvError};
}

use self::error::{RecvError, TryRecvError};

/// The receiver's waker is in `rx_waker`, readable by the sender.
const RX_TASK_SET: usize = 0b0001;
/// The sender is done: `value` belongs to the receiver.
const VALUE_SENT: usize = 0b0010;
/// The receiver is done: no value will be accepted.
const CLOSED: usize = 0b0100;
/// The sender's waker is in `tx_waker`, readable by the receiver.
const TX_TASK_SET: usize = 0b1000;

/// Creates a one-shot channel: a [`Sender`] for one value and the
/// [`Receiver`] that gets it.
///
/// # Examples
///
/// ```
/// use compio_sync::oneshot;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = oneshot::channel();
/// tx.send("hello").unwrap();
/// assert_eq!(rx.await, Ok("hello"));
/// # });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = Handle::pair(Inner {
        handles: AtomicUsize::new(2),
        state: AtomicUsize::new(0),
        value: ShareCell(UnsafeCell::new(None)),
        rx_waker: ShareCell(UnsafeCell::new(None)),
        tx_waker: ShareCell(UnsafeCell::new(None)),
    });
    (Sender { inner: Some(tx) }, Receiver { inner: Some(rx) })
}

/// One half's share of the heap-allocated [`Inner`]: an `Arc` without the
/// weak count, which a oneshot never needs (two handles, made together).
/// The last handle dropped frees `Inner` after one read-modify-write,
/// where `Arc` takes two (the strong count, then the weak one).
struct Handle<T> {
    inner: NonNull<Inner<T>>,
}

// SAFETY: as for `Arc<Inner<T>>`: a handle gives shared access to `Inner`
// from its thread (hence `Sync`) and may drop it there (hence `Send`). The
// local flavor's `Inner` is not `Sync` (its counters are `Cell`s), so its
// handles stay on their thread.
unsafe impl<T> Send for Handle<T> where Inner<T>: Send + Sync {}
// SAFETY: as above; `&Handle` gives only `&Inner`.
unsafe impl<T> Sync for Handle<T> where Inner<T>: Send + Sync {}

impl<T> Handle<T> {
    /// The two handles of a new `inner`, whose `handles` must be 2.
    fn pair(inner: Inner<T>) -> (Self, Self) {
        let inner = NonNull::from(Box::leak(Box::new(inner)));
        (Self { inner }, Self { inner })
    }
}

impl<T> std::ops::Deref for Handle<T> {
    type Target = Inner<T>;

    fn deref(&self) -> &Inner<T> {
        // SAFETY: `Inner` is freed only when the last handle is dropped,
        // and this one is not.
        unsafe { self.inner.as_ref() }
    }
}

impl<T> Drop for Handle<T> {
    fn drop(&mut self) {
        // Release: our accesses to `Inner` happen before the other handle's
        // free (its Acquire fence below reads this decrement).
        if self.handles.fetch_sub(1, Release) != 1 {
            return;
        }
        // Acquire: pairs with the other handle's Release decrement, so all
        // its accesses happen before the free.
        fence(Acquire);
        // SAFETY: both handles are gone (the count reached zero), so nobody
        // else can reach `Inner`; it came from `Box::leak` in `pair`.
        drop(unsafe { Box::from_raw(self.inner.as_ptr()) });
    }
}

/// The state shared by the two halves.
struct Inner<T> {
    /// The live [`Handle`]s: 2, then 1, then `Inner` is freed.
    handles: AtomicUsize,
    /// `RX_TASK_SET | VALUE_SENT | CLOSED | TX_TASK_SET`.
    state: AtomicUsize,
    /// The sender's until `VALUE_SENT` is set (if ever), the receiver's after.
    value: ShareCell<Option<T>>,
    /// Written by the receiver while `RX_TASK_SET` is clear; read by the
    /// sender if its `VALUE_SENT` store saw `RX_TASK_SET`.
    rx_waker: ShareCell<Option<Waker>>,
    /// Written by the sender while `TX_TASK_SET` is clear; read by the
    /// receiver if its `CLOSED` store saw `TX_TASK_SET`.
    tx_waker: ShareCell<Option<Waker>>,
}

impl<T> Drop for Inner<T> {
    fn drop(&mut self) {
        // Empties the cells through their accessors, so that loom sees the
        // free as a write to each, which must come after both halves' last
        // reads and writes (the sender's read of `rx_waker` as it wakes the
        // receiver, say): `Handle::drop` orders them.
        // SAFETY: `&mut self`: the last handle is gone, nobody else can
        // reach the cells.
        drop(self.value.with_mut(|value| unsafe { (*value).take() }));
        // SAFETY: as above.
        drop(self.rx_waker.with_mut(|waker| unsafe { (*waker).take() }));
        // SAFETY: as above.
        drop(self.tx_waker.with_mut(|waker| unsafe { (*waker).take() }));
    }
}

/// An `UnsafeCell` that may be shared between threads when `T: Send`: the
/// cells of [`Inner`], whose access rules `Inner::state` enforces (see the
/// fields). `Inner` is `Sync` only if its counter is too, so the local
/// flavor's stays `!Sync`.
struct ShareCell<T>(UnsafeCell<T>);

// SAFETY: a `ShareCell` is only a field of `Inner`, accessed by one half at a
// time for writing under the rules of `Inner::state`; a `T` moves to the
// receiver's thread, hence `T: Send`.
unsafe impl<T: Send> Sync for ShareCell<T> {}

impl<T> std::ops::Deref for ShareCell<T> {
    type Target = UnsafeCell<T>;

    fn deref(&self) -> &UnsafeCell<T> {
        &self.0
    }
}

impl<T> Inner<T> {
    /// Polls one half's wait: returns `Ready(state)` once `state` has a bit
    /// of `done`, otherwise leaves `cx`'s waker in `slot` (guarded by
    /// `task_bit`) for the other half.
    fn poll_slot(
        &self,
        slot: &UnsafeCell<Option<Waker>>,
        task_bit: usize,
        done: usize,
        cx: &mut Context<'_>,
    ) -> Poll<usize> {
        let mut state = self.state.load(Acquire);
        if state & done != 0 {
            return Poll::Ready(state);
        }
        if state & task_bit != 0 {
            let same = slot.with(|waker| {
                // SAFETY: a read; the other half only reads the slot too,
                // and we (its only writer) write it only with `task_bit`
                // clear.
                let waker = unsafe { &*waker };
                waker.as_ref().is_some_and(|w| w.will_wake(cx.waker()))
            });
            if same {
                return Poll::Pending;
            }
            // Take the slot back before writing it. AcqRel: pairs with the
            // other half's finishing read-modify-write.
            state = self.state.fetch_and(!task_bit, AcqRel);
            if state & done != 0 {
                // The other half finished first and saw our bit: it may be
                // reading the slot right now. Leave it.
                return Poll::Ready(state);
            }
        }
        // User code before any state changes: a panicking `clone` leaves the
        // slot and the word as they were.
        let waker = cx.waker().clone();
        // SAFETY: `task_bit` is clear, so the other half will not read the
        // slot until our `fetch_or` below publishes it.
        let old = slot.with_mut(|slot| unsafe { (*slot).replace(waker) });
        // Release: publishes the waker to the other half's finishing
        // read-modify-write (its Acquire). Acquire: if it finished first, we
        // see what it published (the value).
        state = self.state.fetch_or(task_bit, AcqRel);
        // User code again, with the state consistent.
        drop(old);
        if state & done != 0 {
            Poll::Ready(state)
        } else {
            Poll::Pending
        }
    }

    /// The sender's last act: sets `VALUE_SENT` unless the receiver closed
    /// first, and wakes the receiver. Returns whether it was set.
    fn complete(&self) -> bool {
        let mut state = self.state.load(Relaxed);
        loop {
            if state & CLOSED != 0 {
                return false;
            }
            // AcqRel: Release publishes `value`; Acquire reads the receiver's
            // waker if `RX_TASK_SET` is set (pairs with its `fetch_or`).
            match self
                .state
                .compare_exchange_weak(state, state | VALUE_SENT, AcqRel, Relaxed)
            {
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        if state & RX_TASK_SET != 0 {
            self.rx_waker.with(|waker| {
                // The receiver wrote the slot before setting `RX_TASK_SET`
                // and, now finding a `done` bit, will not write it again
                // (`poll_slot`).
                // SAFETY: `RX_TASK_SET` was set when we set `VALUE_SENT`, so
                // the slot is written and stays unwritten from now on.
                let waker = unsafe { &*waker };
                if let Some(waker) = waker {
                    waker.wake_by_ref();
                }
            });
        }
        true
    }

    /// The receiver's last act: sets `CLOSED` and wakes the sender if it
    /// waits in [`Sender::closed`]. Returns the previous state.
    fn close(&self) -> usize {
        // AcqRel: Acquire reads the sender's waker (pairs with its
        // `fetch_or`), and the value if `VALUE_SENT` is set.
        let prev = self.state.fetch_or(CLOSED, AcqRel);
        if prev & (TX_TASK_SET | VALUE_SENT) == TX_TASK_SET {
            self.tx_waker.with(|waker| {
                // SAFETY: `TX_TASK_SET` was set when we set `CLOSED`: the
                // sender wrote the slot before setting it and will not write
                // it again (`poll_slot`).
                let waker = unsafe { &*waker };
                if let Some(waker) = waker {
                    waker.wake_by_ref();
                }
            });
        }
        prev
    }

    /// Takes the value.
    ///
    /// # Safety
    ///
    /// `VALUE_SENT` is set (the receiver owns the cell) and the caller is the
    /// receiver.
    unsafe fn take_value(&self) -> Option<T> {
        // SAFETY: forwarded from the caller.
        self.value.with_mut(|value| unsafe { (*value).take() })
    }

    /// Whether a value is in the cell.
    ///
    /// # Safety
    ///
    /// As for [`take_value`](Self::take_value).
    unsafe fn has_value(&self) -> bool {
        // SAFETY: forwarded from the caller.
        self.value.with(|value| unsafe { (*value).is_some() })
    }
}

/// Sends a value to the associated [`Receiver`].
///
/// Made by [`channel`]. Dropping it without sending completes the receiver
/// with [`RecvError`].
///
/// # Examples
///
/// ```
/// use compio_sync::oneshot;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, rx) = oneshot::channel::<u32>();
/// drop(tx);
/// assert!(rx.await.is_err());
/// # });
/// ```
pub struct Sender<T> {
    /// `None` once the value is sent.
    inner: Option<Handle<T>>,
}

/// Receives the value from the associated [`Sender`]: `.await` it, or call
/// [`try_recv`](Receiver::try_recv).
///
/// Made by [`channel`]. Resolves to [`RecvError`] if the sender is dropped
/// without sending. Dropping it closes the channel: a later
/// [`Sender::send`] fails, and a value already sent is dropped.
///
/// # Cancel safety
///
/// `&mut Receiver` is cancel safe as a future: if it is not polled to
/// completion, the value stays in the channel.
///
/// # Examples
///
/// ```
/// use compio_sync::oneshot;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = oneshot::channel();
/// let waiter = compio::runtime::spawn(async move { (&mut rx).await });
/// tx.send(7).unwrap();
/// assert_eq!(waiter.await.unwrap(), Ok(7));
/// # });
/// ```
pub struct Receiver<T> {
    /// `None` once it completed (a value or an error).
    inner: Option<Handle<T>>,
}

impl<T> Sender<T> {
    /// Sends `value` to the receiver, or gives it back as `Err(value)` if the
    /// receiver is dropped or [closed](Receiver::close).
    ///
    /// `Ok` does not mean the value will be received: the receiver can still
    /// be dropped before it looks. Everything the caller did before `send`
    /// happens-before the receiver gets the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("sender used after send");
        // SAFETY: `VALUE_SENT` is not set (we set it, below): the cell is
        // ours.
        inner.value.with_mut(|cell| unsafe { *cell = Some(value) });
        if inner.complete() {
            Ok(())
        } else {
            // SAFETY: `complete` found `CLOSED` and did not set `VALUE_SENT`:
            // the cell is still ours (only `VALUE_SENT` hands it over).
            let value = inner.value.with_mut(|cell| unsafe { (*cell).take() });
            Err(value.expect("the value was just stored"))
        }
    }

    /// Returns `true` if the receiver is dropped or
    /// [closed](Receiver::close): a `send` would fail.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel::<()>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        let inner = self.inner.as_ref().expect("sender used after send");
        inner.state.load(Acquire) & CLOSED != 0
    }

    /// Waits until the receiver is dropped or [closed](Receiver::close).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is lost if the future is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::oneshot;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (mut tx, rx) = oneshot::channel::<()>();
    /// let task = compio::runtime::spawn(async move {
    ///     tx.closed().await;
    ///     "the receiver went away"
    /// });
    /// drop(rx);
    /// assert_eq!(task.await.unwrap(), "the receiver went away");
    /// # });
    /// ```
    pub async fn closed(&mut self) {
        poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Polls for the receiver to be dropped or [closed](Receiver::close):
    /// `Ready(())` once it is, otherwise `Pending` with the task registered
    /// to be woken then. Only the waker of the most recent call is woken.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::oneshot;
    /// use std::future::poll_fn;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (mut tx, rx) = oneshot::channel::<()>();
    /// drop(rx);
    /// poll_fn(|cx| tx.poll_closed(cx)).await;
    /// # });
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.inner.as_ref().expect("sender used after send");
        crate::coop::budgeted(cx, |cx| {
            inner
                .poll_slot(&inner.tx_waker, TX_TASK_SET, CLOSED, cx)
                .map(|_| ())
        })
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            // No value: the receiver completes with `RecvError`.
            inner.complete();
        }
    }
}

impl<T> Receiver<T> {
    /// Closes the channel without dropping the receiver: a later
    /// [`Sender::send`] fails, and [`Sender::closed`] completes. A value
    /// sent before the close can still be received (with
    /// [`try_recv`](Self::try_recv) or `.await`).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::oneshot::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.send(1), Err(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn close(&mut self) {
        if let Some(inner) = &self.inner {
            inner.close();
        }
    }

    /// Returns `true` once this receiver has completed: it returned a value
    /// or an error, from `.await` or from [`try_recv`](Self::try_recv)
    /// (except [`TryRecvError::Empty`]). Polling it again then panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::oneshot;
    ///
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = oneshot::channel();
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_terminated());
    /// assert_eq!((&mut rx).await, Ok(1));
    /// assert!(rx.is_terminated());
    /// # });
    /// ```
    pub fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }

    /// Returns `true` if there is no value to receive now: none was sent
    /// yet, the sender was dropped without one, the channel is closed with
    /// none, or the receiver has terminated.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// assert!(rx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        let Some(inner) = &self.inner else {
            return true;
        };
        if inner.state.load(Acquire) & VALUE_SENT != 0 {
            // SAFETY: `VALUE_SENT` is set and we are the receiver.
            !unsafe { inner.has_value() }
        } else {
            true
        }
    }

    /// Takes the value if it has been sent, without waiting.
    ///
    /// Fails with [`TryRecvError::Empty`] if no value was sent yet (the
    /// receiver keeps waiting), and with [`TryRecvError::Closed`] if the
    /// sender was dropped without sending, if the receiver was
    /// [closed](Self::close) with no value, or if it already completed.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::oneshot::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send("hi").unwrap();
    /// assert_eq!(rx.try_recv(), Ok("hi"));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let result = match &self.inner {
            Some(inner) => {
                let state = inner.state.load(Acquire);
                if state & VALUE_SENT != 0 {
                    // SAFETY: `VALUE_SENT` is set and we are the receiver.
                    unsafe { inner.take_value() }.ok_or(TryRecvError::Closed)
                } else if state & CLOSED != 0 {
                    Err(TryRecvError::Closed)
                } else {
                    return Err(TryRecvError::Empty);
                }
            }
            None => Err(TryRecvError::Closed),
        };
        self.inner = None;
        result
    }
}

/// The blocking entry point, for a plain thread waiting for a value from a
/// task: only where the receiver can cross threads (the thread-safe flavor,
/// with `T: Send`). A [`local`](crate::local) receiver never can: its sender
/// is on the same thread, so blocking would never end.
#[cfg(not(loom))]
impl<T> Receiver<T>
where
    Self: Send,
{
    /// Blocks the current thread until the value arrives (or the sender is
    /// dropped).
    ///
    /// # Panics
    ///
    /// Panics if called on a thread that is running a compio runtime: it
    /// would block every task of that runtime. `.await` the receiver there.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// let thread = std::thread::spawn(move || rx.blocking_recv());
    /// tx.send(10).unwrap();
    /// assert_eq!(thread.join().unwrap(), Ok(10));
    /// ```
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        crate::blocking::block_on("oneshot::Receiver::blocking_recv", self)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(inner) = &self.inner
            && inner.close() & VALUE_SENT != 0
        {
            // SAFETY: `VALUE_SENT` was set, and we are the receiver. The value
            // is dropped now, not when the sender's handle goes.
            drop(unsafe { inner.take_value() });
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// # Panics
    ///
    /// Panics if polled after it completed.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let inner = this.inner.as_ref().expect("called after complete");
        let state = std::task::ready!(crate::coop::budgeted(cx, |cx| {
            inner.poll_slot(&inner.rx_waker, RX_TASK_SET, VALUE_SENT | CLOSED, cx)
        }));
        let result = if state & VALUE_SENT != 0 {
            // SAFETY: `VALUE_SENT` is set and we are the receiver.
            unsafe { inner.take_value() }.ok_or(RecvError(()))
        } else {
            Err(RecvError(()))
        };
        this.inner = None;
        Poll::Ready(result)
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.as_ref().map(|inner| inner.state.load(Relaxed));
        f.debug_struct("Sender").field("state", &state).finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.as_ref().map(|inner| inner.state.load(Relaxed));
        f.debug_struct("Receiver").field("state", &state).finish()
    }
}
