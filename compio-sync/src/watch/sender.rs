//! The [`Sender`]'s methods: sending, modifying in place, subscribing, and
//! waiting for every receiver to go.

use super::*;

impl<T> Sender<T> {
    /// Creates a sender of a channel holding `init` with no receiver yet
    /// ([`subscribe`](Self::subscribe) makes them), on the default backend.
    ///
    /// # Examples
    ///
    /// ```
    /// let tx = compio_sync::watch::Sender::new(1);
    /// assert_eq!(tx.receiver_count(), 0);
    /// let rx = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// ```
    pub fn new(init: T) -> Self {
        Self::with_backend(init)
    }
}

impl<T, B: WaitQueue> Sender<T, B> {
    /// [`new`](Sender::new) on the backend `B`.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{backend::MutexVecDeque, watch::Sender};
    ///
    /// let tx = Sender::<_, MutexVecDeque>::with_backend(1);
    /// assert_eq!(*tx.borrow(), 1);
    /// ```
    pub fn with_backend(init: T) -> Self {
        channel_with_backend(init).0
    }

    /// Sends `value` to the receivers, if there is at least one. Every
    /// receiver then sees it as changed.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if there is no receiver; the channel's
    /// value is then unchanged (use [`send_replace`](Self::send_replace) to
    /// store it anyway).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::watch::channel(1);
    /// tx.send(2).unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send(3).unwrap_err().0, 3);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        // A hint only (a receiver may come or go meanwhile), as in tokio.
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Modifies the value in place and notifies the receivers, whether or
    /// not there are any.
    ///
    /// # Panics
    ///
    /// If `modify` panics, the panic is resumed after the lock is released;
    /// the value keeps whatever `modify` did to it, and nobody is notified.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Modifies the value in place, and notifies the receivers only if
    /// `modify` returns `true` (it must then have modified it). Returns what
    /// `modify` returned.
    ///
    /// # Panics
    ///
    /// As [`send_modify`](Self::send_modify).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::watch::channel(1);
    /// assert!(!tx.send_if_modified(|v| std::mem::replace(v, 1) != 1));
    /// assert!(!rx.has_changed().unwrap());
    /// assert!(tx.send_if_modified(|v| std::mem::replace(v, 2) != 2));
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        let version = {
            let mut value = self.shared.value.write();
            match panic::catch_unwind(AssertUnwindSafe(|| modify(&mut value))) {
                Ok(true) => {}
                Ok(false) => return false,
                Err(payload) => {
                    drop(value);
                    panic::resume_unwind(payload);
                }
            }
            // Release, under the write lock: a reader that sees this version
            // (Acquire) sees the value it stands for, and a reader holding
            // the read lock sees the version of the value it holds.
            self.shared
                .state
                .fetch_add(STEP, Release)
                .wrapping_add(STEP)
                & !CLOSED
        };
        // The lock is released: wake the waiting receivers (see
        // `wake_receivers` for the ordering).
        self.shared.wake_receivers(version);
        true
    }

    /// Stores `value` and notifies the receivers, whether or not there are
    /// any, returning the previous value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::watch::channel(1);
    /// drop(rx);
    /// assert_eq!(tx.send_replace(2), 1);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send_replace(&self, mut value: T) -> T {
        self.send_modify(|old| mem::swap(old, &mut value));
        value
    }

    /// Borrows the current value. [`Ref::has_changed`] is always `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = compio_sync::watch::channel("a");
    /// assert_eq!(*tx.borrow(), "a");
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            inner: self.shared.value.read(),
            has_changed: false,
        }
    }

    /// Whether there is no receiver.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::watch::channel(());
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until there is no receiver.
    ///
    /// A [`subscribe`](Self::subscribe) while it waits re-opens the
    /// channel, and it waits on.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it consumes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, rx) = compio_sync::watch::channel(());
    /// compio::runtime::spawn(async move { drop(rx) }).detach();
    /// tx.closed().await;
    /// assert_eq!(tx.receiver_count(), 0);
    /// # });
    /// ```
    pub async fn closed(&self) {
        cooperative(self.closed_inner()).await;
    }

    async fn closed_inner(&self) {
        while self.receiver_count() > 0 {
            // The `Notified` before the re-check: the last receiver's drop
            // notifies after its decrement.
            let notified = self.shared.notify_tx.notified();
            if self.receiver_count() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Creates a receiver that has seen the current value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = compio_sync::watch::channel(1);
    /// let rx = tx.subscribe();
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(2).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn subscribe(&self) -> Receiver<T, B> {
        Receiver::from_shared(self.shared.clone(), self.shared.version())
    }

    /// How many receivers there are.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::watch::channel(());
    /// let rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// drop((rx, rx2));
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.rx_count.load(Relaxed)
    }

    /// How many senders there are.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = compio_sync::watch::channel(());
    /// let tx2 = tx.clone();
    /// assert_eq!(tx.sender_count(), 2);
    /// drop(tx2);
    /// assert_eq!(tx.sender_count(), 1);
    /// ```
    pub fn sender_count(&self) -> usize {
        self.shared.tx_count.load(Relaxed)
    }

    /// Whether both senders belong to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = compio_sync::watch::channel(());
    /// let (other, _) = compio_sync::watch::channel(());
    /// assert!(tx.same_channel(&tx.clone()));
    /// assert!(!tx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T, B: WaitQueue> Clone for Sender<T, B> {
    fn clone(&self) -> Self {
        // Relaxed: a count; the clone's drop orders what matters (AcqRel).
        self.shared.tx_count.fetch_add(1, Relaxed);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T, B: WaitQueue> Drop for Sender<T, B> {
    fn drop(&mut self) {
        // AcqRel: the last sender sees every other sender's sends before it
        // closes.
        if self.shared.tx_count.fetch_sub(1, AcqRel) == 1 {
            // Release: a receiver that sees `CLOSED` (Acquire) sees every
            // send. Then wake them all, as after a send.
            self.shared.state.fetch_or(CLOSED, Release);
            self.shared.receivers.notify_all();
        }
    }
}

/// A sender of a channel holding `T::default()`, with no receiver yet.
impl<T: Default> Default for Sender<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T, B: WaitQueue> fmt::Debug for Sender<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("version", &(self.shared.version() / STEP))
            .field("receivers", &self.receiver_count())
            .finish_non_exhaustive()
    }
}
