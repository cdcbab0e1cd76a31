//! The receiving side of the broadcast channel: [`Receiver`] and its
//! [`Recv`] future. Part of `channel.rs` (see there for how it works),
//! compiled with it once per flavor.

use std::{
    fmt,
    future::Future,
    marker::PhantomPinned,
    pin::Pin,
    task::{Context, Poll},
};

// The flavor's names, through the parent's imports (`super::super` differs
// between the flavors; the parent knows which it is).
use super::{
    Acquire, Arc, DefaultBackend, MutexGuard, PUBLISHED_CLOSED, RecvError, SetWaiter, Shared, Slot,
    TryRecvError, WaitQueue, new_receiver,
};

/// Receives every value sent on a broadcast channel after it subscribed
/// (unless it lags by more than the capacity).
pub struct Receiver<T, B: WaitQueue = DefaultBackend> {
    pub(super) shared: Arc<Shared<T, B>>,
    /// The position this receiver reads next.
    pub(super) next: u64,
}

/// A receiver's hold on the slot it reads: dropping it counts the read, and
/// the last reader takes the value out, to drop it after the lock.
struct RecvGuard<'a, T> {
    slot: Option<MutexGuard<'a, Slot<T>>>,
}

impl<T> RecvGuard<'_, T> {
    fn clone_value(&self) -> Option<T>
    where
        T: Clone,
    {
        self.slot.as_ref().and_then(|slot| slot.val.clone())
    }
}

impl<T> Drop for RecvGuard<'_, T> {
    fn drop(&mut self) {
        let Some(mut slot) = self.slot.take() else {
            return;
        };
        slot.rem -= 1;
        let last = if slot.rem == 0 { slot.val.take() } else { None };
        drop(slot);
        // Every receiver has the value now: drop it, with no lock held.
        drop(last);
    }
}

impl<T, B: WaitQueue> Receiver<T, B> {
    /// How many values this receiver has yet to receive (including ones it
    /// will find overwritten).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = compio_sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// rx.try_recv().unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let pos = self.shared.tail.lock().pos;
        pos.wrapping_sub(self.next) as usize
    }

    /// Whether this receiver has received every value sent.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = compio_sync::broadcast::channel(4);
    /// assert!(rx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether both receivers belong to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::broadcast::channel::<u8>(4);
    /// let (_, other) = compio_sync::broadcast::channel::<u8>(4);
    /// assert!(rx.same_channel(&tx.subscribe()));
    /// assert!(!rx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// How many [`Sender`](super::Sender)s there are.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::broadcast::channel::<u8>(4);
    /// assert_eq!(rx.sender_strong_count(), 1);
    /// drop(tx);
    /// assert_eq!(rx.sender_strong_count(), 0);
    /// ```
    pub fn sender_strong_count(&self) -> usize {
        self.shared.num_tx.load(Acquire)
    }

    /// How many [`WeakSender`](super::WeakSender)s there are.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::broadcast::channel::<u8>(4);
    /// let _weak = tx.downgrade();
    /// assert_eq!(rx.sender_weak_count(), 1);
    /// ```
    pub fn sender_weak_count(&self) -> usize {
        self.shared.num_weak_tx.load(Acquire)
    }

    /// Whether every [`Sender`](super::Sender) is gone (values may still wait to be
    /// received).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::broadcast::channel::<u8>(4);
    /// assert!(!rx.is_closed());
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.num_tx.load(Acquire) == 0
    }

    /// Whether the channel is open and nothing has been sent since this
    /// receiver's last value: one atomic load, no lock. `false` says
    /// nothing (take the verdict with `recv_ref`). The position is compared
    /// in the bits `published` keeps (a `usize` less its top bit): a
    /// receiver exactly a multiple of `2^(usize::BITS - 1)` values behind
    /// would read as "empty" and wait for the next send, which then reports
    /// its lag.
    fn surely_empty(&self) -> bool {
        // Acquire: pairs with `Shared::publish`.
        let published = self.shared.published.load(Acquire);
        published & PUBLISHED_CLOSED == 0 && published == super::event(self.next)
    }

    /// The value at `self.next`, or why there is none (tokio's `recv_ref`).
    fn recv_ref(&mut self) -> Result<RecvGuard<'_, T>, TryRecvError> {
        let mut slot = self.shared.slot(self.next);
        if slot.pos != self.next {
            // Tail before slot (the send's order): release the slot first.
            drop(slot);
            let tail = self.shared.tail.lock();
            slot = self.shared.slot(self.next);
            // The ring may have wrapped between the two locks: look again.
            if slot.pos != self.next {
                let capacity = self.shared.buffer.len() as u64;
                if slot.pos.wrapping_add(capacity) == self.next {
                    // Not yet written: empty for us, or closed. Decided under
                    // the tail lock, which orders it against a send (see the
                    // module docs).
                    return Err(if tail.closed {
                        TryRecvError::Closed
                    } else {
                        TryRecvError::Empty
                    });
                }
                // Overwritten: skip to the oldest value still retained.
                let oldest = tail.pos.wrapping_sub(capacity);
                let missed = oldest.wrapping_sub(self.next);
                drop(tail);
                if missed == 0 {
                    self.next = self.next.wrapping_add(1);
                    return Ok(RecvGuard { slot: Some(slot) });
                }
                self.next = oldest;
                return Err(TryRecvError::Lagged(missed));
            }
        }
        self.next = self.next.wrapping_add(1);
        Ok(RecvGuard { slot: Some(slot) })
    }
}

impl<T: Clone, B: WaitQueue> Receiver<T, B> {
    /// Creates a receiver of the same channel that receives every value
    /// sent from now on (not the ones this one has yet to receive).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = compio_sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut rx2 = rx.resubscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx2.try_recv(), Ok(2));
    /// ```
    pub fn resubscribe(&self) -> Self {
        new_receiver(self.shared.clone())
    }

    /// Receives the next value, waiting for a send if there is none.
    ///
    /// # Errors
    ///
    /// * [`RecvError::Lagged`] if the receiver fell more than the capacity
    ///   behind: it now sits at the oldest value the channel retains, and
    ///   the next call returns that value.
    /// * [`RecvError::Closed`] once every sender is gone and every value has
    ///   been received.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the receiver moves on only when `recv` returns a value
    /// (or `Lagged`), so dropping the future midway (in a `select!`) loses
    /// no value.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, mut rx) = compio_sync::broadcast::channel(4);
    /// let task = compio::runtime::spawn(async move {
    ///     let mut got = vec![];
    ///     while let Ok(v) = rx.recv().await {
    ///         got.push(v);
    ///     }
    ///     got
    /// });
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// drop(tx);
    /// assert_eq!(task.await.unwrap(), [1, 2]);
    /// # });
    /// ```
    pub fn recv(&mut self) -> Recv<'_, T, B> {
        Recv {
            receiver: self,
            waiter: SetWaiter::new(),
            _pin: PhantomPinned,
        }
    }

    /// Receives the next value if there is one.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if no value waits, otherwise as
    /// [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::broadcast::{self, error::TryRecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let guard = self.recv_ref()?;
        guard.clone_value().ok_or(TryRecvError::Closed)
    }
}

/// Blocking entry points, for plain threads: where the receiver is `Sync`
/// (every thread-safe backend; never a [`local`](crate::local) receiver,
/// whose senders only its own thread can reach, so blocking would never
/// end).
#[cfg(not(loom))]
impl<T: Clone, B: WaitQueue> Receiver<T, B>
where
    Self: Sync,
{
    /// Blocks the current thread until a value is received, as
    /// [`recv`](Self::recv).
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    ///
    /// # Panics
    ///
    /// If called on a thread that runs a compio runtime (it would block
    /// every task of that runtime).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = compio_sync::broadcast::channel(4);
    /// let thread = std::thread::spawn(move || rx.blocking_recv());
    /// tx.send(7).unwrap();
    /// assert_eq!(thread.join().unwrap(), Ok(7));
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        crate::blocking::block_on("Receiver::blocking_recv", self.recv())
    }
}

impl<T, B: WaitQueue> Drop for Receiver<T, B> {
    fn drop(&mut self) {
        let mut tail = self.shared.tail.lock();
        tail.rx_cnt -= 1;
        let until = tail.pos;
        let last = tail.rx_cnt == 0;
        if last {
            tail.closed = true;
            self.shared.publish(&tail);
        }
        drop(tail);
        // Count our reads of the values we still owe one, so they are
        // dropped once everyone else has read them (or now).
        while self.next != until {
            match self.recv_ref() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(TryRecvError::Closed) => break,
                Err(TryRecvError::Empty) => unreachable!("a position below the tail is written"),
            }
        }
        if last {
            self.shared.notify_last_rx_drop.notify_waiters();
        }
    }
}

/// Future returned by [`Receiver::recv`].
///
/// `!Unpin`: its wait-queue node lives inside it.
///
/// ```compile_fail
/// fn assert_unpin<T: Unpin>(_: T) {}
/// let (_tx, mut rx) = compio_sync::broadcast::channel::<u8>(4);
/// assert_unpin(rx.recv());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Recv<'a, T, B: WaitQueue = DefaultBackend> {
    receiver: &'a mut Receiver<T, B>,
    /// Waits in `receiver.shared.receivers`.
    waiter: SetWaiter<B>,
    _pin: PhantomPinned,
}

impl<T: Clone, B: WaitQueue> Recv<'_, T, B> {
    /// The receiver and the pinned waiter.
    fn project(self: Pin<&mut Self>) -> (&mut Receiver<T, B>, Pin<&mut SetWaiter<B>>) {
        // SAFETY: the waiter is never moved out of `self`, which is pinned,
        // so pinning a mutable reference to it is sound; the receiver is not
        // structurally pinned. The references are to disjoint fields.
        unsafe {
            let this = self.get_unchecked_mut();
            (&mut *this.receiver, Pin::new_unchecked(&mut this.waiter))
        }
    }
}

/// A `recv_ref` verdict as `recv` returns it (`None`: empty, wait).
fn settle<T: Clone>(
    result: Result<RecvGuard<'_, T>, TryRecvError>,
) -> Option<Result<T, RecvError>> {
    match result {
        Ok(guard) => Some(guard.clone_value().ok_or(RecvError::Closed)),
        Err(TryRecvError::Empty) => None,
        Err(TryRecvError::Lagged(n)) => Some(Err(RecvError::Lagged(n))),
        Err(TryRecvError::Closed) => Some(Err(RecvError::Closed)),
    }
}

impl<T: Clone, B: WaitQueue> Future for Recv<'_, T, B> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (receiver, mut waiter) = self.project();
        // With the `tokio` feature, a completed receive spends a unit of
        // tokio's task budget, as tokio's own `recv` does.
        crate::coop::budgeted(cx, |cx| {
            // Every send (and the close) wakes every waiter: nothing to learn
            // from the wake-up itself; look once woken.
            // SAFETY: this waiter only ever uses this channel's set.
            // A waiter woken first on its thread helps the others there
            // (see `WaitSet`), to the tail as published now.
            std::task::ready!(unsafe {
                waiter
                    .as_mut()
                    .poll_woken(&receiver.shared.receivers, cx, || {
                        receiver.shared.published_tail()
                    })
            });
            // Something to take (a value, a lag, the close): take it (one
            // slot lock for a value).
            if !receiver.surely_empty()
                && let Some(output) = settle(receiver.recv_ref())
            {
                return Poll::Ready(output);
            }
            // Empty: register (which fences), look again.
            // SAFETY: the same set every time; our `Drop` cancels the waiter.
            unsafe {
                waiter.as_mut().register(
                    &receiver.shared.receivers,
                    cx.waker(),
                    super::event(receiver.next),
                )
            };
            if receiver.surely_empty() {
                return Poll::Pending;
            }
            match settle(receiver.recv_ref()) {
                None => Poll::Pending,
                Some(output) => {
                    // SAFETY: this waiter only ever uses this set.
                    unsafe { waiter.cancel(&receiver.shared.receivers) };
                    Poll::Ready(output)
                }
            }
        })
    }
}

impl<T, B: WaitQueue> Drop for Recv<'_, T, B> {
    fn drop(&mut self) {
        // SAFETY: the waiter is pinned in this future (since its first poll;
        // never registered if never polled) and only ever uses this
        // channel's set; `drop` is its last use.
        unsafe { Pin::new_unchecked(&mut self.waiter).cancel(&self.receiver.shared.receivers) };
    }
}

impl<T, B: WaitQueue> fmt::Debug for Receiver<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl<T, B: WaitQueue> fmt::Debug for Recv<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv")
            .field("queued", &self.waiter.is_queued())
            .finish_non_exhaustive()
    }
}
