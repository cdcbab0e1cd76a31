//! Reserved slots of a bounded channel: [`Permit`], [`PermitIterator`] and
//! [`OwnedPermit`].
//!
//! A permit holds one slot of the channel's semaphore (taken and forgotten
//! by the reservation). Sending through it queues the value in that slot,
//! which the receiver gives back when it takes the value off the queue;
//! dropping it unused gives the slot back at once.

use std::fmt;

use super::{
    bounded::{BoundedChan, Sender},
    flavor::DefaultBackend,
};
use crate::backend::WaitQueue;

/// One reserved slot: sends one value without waiting. Made by
/// [`Sender::reserve`] and [`Sender::try_reserve`].
///
/// # Examples
///
/// ```
/// use compio_sync::mpsc;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = mpsc::channel(1);
/// let permit = tx.reserve().await.unwrap();
/// drop(permit); // unused: the slot is free again
/// assert_eq!(tx.capacity(), 1);
/// tx.reserve().await.unwrap().send(1);
/// assert_eq!(rx.recv().await, Some(1));
/// # });
/// ```
pub struct Permit<'a, T, B: WaitQueue = DefaultBackend> {
    chan: &'a BoundedChan<T, B>,
}

/// `n` reserved slots, yielded one [`Permit`] at a time. Made by
/// [`Sender::reserve_many`] and [`Sender::try_reserve_many`]; the slots of
/// permits not yet yielded go back when it is dropped.
///
/// # Examples
///
/// ```
/// use compio_sync::mpsc;
///
/// let (tx, mut rx) = mpsc::channel(3);
/// let mut permits = tx.try_reserve_many(3).unwrap();
/// permits.next().unwrap().send(1);
/// drop(permits); // two unused slots go back
/// assert_eq!(tx.capacity(), 2);
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub struct PermitIterator<'a, T, B: WaitQueue = DefaultBackend> {
    chan: &'a BoundedChan<T, B>,
    /// Slots not yet yielded as permits.
    n: usize,
}

/// One reserved slot that owns its [`Sender`], so it can move into another
/// task. Made by [`Sender::reserve_owned`] and
/// [`Sender::try_reserve_owned`].
///
/// # Examples
///
/// ```
/// use compio_sync::mpsc;
///
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx) = mpsc::channel(1);
/// let permit = tx.reserve_owned().await.unwrap();
/// compio::runtime::spawn(async move {
///     permit.send("from a task");
/// })
/// .detach();
/// assert_eq!(rx.recv().await, Some("from a task"));
/// # });
/// ```
pub struct OwnedPermit<T, B: WaitQueue = DefaultBackend> {
    /// `None` once sent or released.
    tx: Option<Sender<T, B>>,
}

impl<'a, T, B: WaitQueue> Permit<'a, T, B> {
    pub(super) fn new(chan: &'a BoundedChan<T, B>) -> Self {
        Self { chan }
    }

    /// Sends `value` in the reserved slot. It cannot fail: if the receiver
    /// is gone, the value is dropped with the channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// tx.try_reserve().unwrap().send(4);
    /// assert_eq!(rx.try_recv(), Ok(4));
    /// ```
    pub fn send(self, value: T) {
        let chan = self.chan;
        // The slot is the message's now: the receiver gives it back. Forget
        // the permit first: if waking the receiver panics, the message is
        // queued and unwinding must not give its slot back too.
        std::mem::forget(self);
        chan.push(value);
    }
}

impl<T, B: WaitQueue> Drop for Permit<'_, T, B> {
    fn drop(&mut self) {
        self.chan.release_unused(1);
    }
}

impl<'a, T, B: WaitQueue> PermitIterator<'a, T, B> {
    pub(super) fn new(chan: &'a BoundedChan<T, B>, n: usize) -> Self {
        Self { chan, n }
    }
}

impl<'a, T, B: WaitQueue> Iterator for PermitIterator<'a, T, B> {
    type Item = Permit<'a, T, B>;

    fn next(&mut self) -> Option<Permit<'a, T, B>> {
        if self.n == 0 {
            return None;
        }
        self.n -= 1;
        Some(Permit::new(self.chan))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.n, Some(self.n))
    }
}

impl<T, B: WaitQueue> ExactSizeIterator for PermitIterator<'_, T, B> {}

impl<T, B: WaitQueue> std::iter::FusedIterator for PermitIterator<'_, T, B> {}

impl<T, B: WaitQueue> Drop for PermitIterator<'_, T, B> {
    fn drop(&mut self) {
        if self.n > 0 {
            self.chan.release_unused(self.n);
        }
    }
}

impl<T, B: WaitQueue> OwnedPermit<T, B> {
    pub(super) fn new(tx: Sender<T, B>) -> Self {
        Self { tx: Some(tx) }
    }

    /// Sends `value` in the reserved slot and gives the sender back. It
    /// cannot fail: if the receiver is gone, the value is dropped with the
    /// channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let tx = tx.try_reserve_owned().unwrap().send(1);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// # drop(tx);
    /// ```
    pub fn send(mut self, value: T) -> Sender<T, B> {
        let tx = self.tx.take().expect("permit used once");
        tx.chan.push(value);
        tx
    }

    /// Gives the slot back unused, and the sender.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(1);
    /// let tx = tx.try_reserve_owned().unwrap().release();
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn release(mut self) -> Sender<T, B> {
        let tx = self.tx.take().expect("permit used once");
        tx.chan.release_unused(1);
        tx
    }

    /// Returns `true` if both permits are for the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(2);
    /// let a = tx.clone().try_reserve_owned().unwrap();
    /// let b = tx.try_reserve_owned().unwrap();
    /// assert!(a.same_channel(&b));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        match (&self.tx, &other.tx) {
            (Some(a), Some(b)) => a.same_channel(b),
            _ => false,
        }
    }

    /// Returns `true` if this permit is for `sender`'s channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<()>(2);
    /// let permit = tx.clone().try_reserve_owned().unwrap();
    /// assert!(permit.same_channel_as_sender(&tx));
    /// ```
    pub fn same_channel_as_sender(&self, sender: &Sender<T, B>) -> bool {
        self.tx.as_ref().is_some_and(|tx| tx.same_channel(sender))
    }
}

impl<T, B: WaitQueue> Drop for OwnedPermit<T, B> {
    fn drop(&mut self) {
        if let Some(tx) = &self.tx {
            tx.chan.release_unused(1);
        }
    }
}

impl<T, B: WaitQueue> fmt::Debug for Permit<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("chan", &self.chan).finish()
    }
}

impl<T, B: WaitQueue> fmt::Debug for PermitIterator<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermitIterator")
            .field("chan", &self.chan)
            .field("capacity", &self.n)
            .finish()
    }
}

impl<T, B: WaitQueue> fmt::Debug for OwnedPermit<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit")
            .field("chan", &self.tx.as_ref().map(|tx| &tx.chan))
            .finish()
    }
}
