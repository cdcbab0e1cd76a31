//! The broadcast channel itself, compiled once per flavor (see `super`).
//!
//! # How it works
//!
//! tokio's algorithm, on this crate's wait-queue engine. The values sit in a
//! ring of `capacity` slots (a power of two), each behind its own lock, and
//! a `tail` lock holds the next position to write, the receiver count and
//! the closed flag. Positions are `u64`s that only grow (wrapping), so a
//! slot knows which position it holds and a receiver knows which one it
//! wants next.
//!
//! * A **send** takes the tail lock, writes the slot at `tail.pos` (its
//!   `rem` set to the number of receivers: how many must still read it),
//!   advances the tail, releases both, and wakes every waiting receiver.
//!   The value it overwrote (unread by some lagging receiver, or already
//!   dropped) is dropped after the locks are released.
//! * A **receive** locks the slot of its next position. If the slot holds
//!   that position, the receiver clones the value and decrements `rem`; the
//!   last receiver to read a value drops it (after releasing the lock). If
//!   the slot holds an older position the receiver is *empty*; if a newer
//!   one, it has *lagged*: it skips to the oldest value the ring retains
//!   (`tail.pos - capacity`) and learns how many it missed. Both verdicts
//!   are taken under the tail lock (tokio's order: tail, then slot).
//! * A receiver that finds nothing **waits**: it registers its node with
//!   the receivers' [`WaitSet`] (which fences), and re-checks. A send also
//!   publishes the new tail position (and a close the closed flag) in one
//!   atomic word, `published`, under the tail lock, before it wakes the set
//!   (which fences first): the event-count handshake of the engine, so the
//!   re-check is one atomic load and no lock. Either it sees the send, or
//!   the send's wake finds the node. The set keeps a queue per thread
//!   shard, so a send wakes one runtime's receivers back to back and skips
//!   the shards where nobody waits. A waiter registers with the position
//!   it wants, so a send wakes only the receivers that want one below its
//!   new tail, and the first one it wakes on a thread wakes the others
//!   there (see [`WaitSet`] for why). The future keeps no value of its
//!   own, so dropping it loses nothing.

use std::fmt;

// The receiving side, in its own file. `#[path]` keeps it next to this one
// whichever way this file was reached (it is compiled once per flavor); it
// takes the flavor's names through this module's imports.
#[path = "receiver.rs"]
mod receiver;

pub use self::receiver::{Receiver, Recv};
use super::{
    super::{
        flavor::{Arc, AtomicUsize, DefaultBackend, Mutex, MutexGuard, Ordering::*},
        notify::Notify,
        wait_set::{SetWaiter, WaitSet},
    },
    error::{RecvError, SendError, TryRecvError},
};
use crate::backend::WaitQueue;

/// The most receivers a channel can have (tokio's bound).
const MAX_RECEIVERS: usize = usize::MAX >> 2;

/// `Shared::published`: the channel is closed.
const PUBLISHED_CLOSED: usize = 1;

/// A position as `published` holds it (above `PUBLISHED_CLOSED`), and as a
/// waiting receiver's tag in the wait set holds the position it wants: the
/// wait set's event is the published tail.
fn event(pos: u64) -> usize {
    (pos as usize) << 1
}

/// The state every handle of one channel shares.
struct Shared<T, B: WaitQueue> {
    /// The ring: slot `pos & mask` holds position `pos`.
    buffer: Box<[Mutex<Slot<T>>]>,
    /// `buffer.len() - 1` (the length is a power of two).
    mask: usize,
    /// The write position, the receiver count and the closed flag. Taken
    /// before a slot's lock whenever both are held.
    tail: Mutex<Tail>,
    /// `tail.pos << 1 | PUBLISHED_CLOSED` (the position's low bits), stored
    /// under the tail lock whenever either changes: a waiting receiver
    /// re-checks this word, with no lock, to find its channel still empty
    /// (see `Receiver::surely_empty`).
    published: AtomicUsize,
    /// Live `Sender`s; the last one closes the channel.
    num_tx: AtomicUsize,
    /// Live `WeakSender`s.
    num_weak_tx: AtomicUsize,
    /// Where `recv` waits for a send or the close (each wakes them all).
    receivers: WaitSet<B>,
    /// Where `Sender::closed` waits: the last receiver's drop wakes it.
    notify_last_rx_drop: Notify<B>,
}

/// Guarded by `Shared::tail`.
pub(super) struct Tail {
    /// The position the next send writes.
    pos: u64,
    /// Live `Receiver`s.
    rx_cnt: usize,
    /// Every sender is gone, or (until a receiver subscribes) every receiver.
    closed: bool,
}

/// One ring entry, guarded by its lock.
struct Slot<T> {
    /// Receivers that must still read this value; the last drops it.
    rem: usize,
    /// The position this slot holds (`index - capacity` before its first
    /// write, so that it reads as "not yet written" to a receiver at
    /// `index`).
    pos: u64,
    /// The value, `None` once every receiver has read it.
    val: Option<T>,
}

/// Sends values to every receiver of a broadcast channel. Cloneable: the
/// channel closes when the last sender is dropped (a [`WeakSender`] does not
/// keep it open).
pub struct Sender<T, B: WaitQueue = DefaultBackend> {
    shared: Arc<Shared<T, B>>,
}

/// A sender that does not keep the channel open: [`upgrade`](Self::upgrade)
/// it to send.
pub struct WeakSender<T, B: WaitQueue = DefaultBackend> {
    shared: Arc<Shared<T, B>>,
}

/// Creates a broadcast channel of `capacity` values (rounded up to a power
/// of two), on the default backend: a [`Sender`] and a first [`Receiver`].
///
/// A value stays in the channel until every receiver that existed when it
/// was sent has received it, or until it is overwritten by a send
/// `capacity` values later (its laggards then get
/// [`RecvError::Lagged`]).
///
/// # Panics
///
/// If `capacity` is zero or above `usize::MAX / 2`, as tokio.
///
/// # Examples
///
/// ```
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let (tx, mut rx1) = compio_sync::broadcast::channel(16);
/// let mut rx2 = tx.subscribe();
/// tx.send(10).unwrap();
/// tx.send(20).unwrap();
/// assert_eq!(rx1.recv().await.unwrap(), 10);
/// assert_eq!(rx2.recv().await.unwrap(), 10);
/// assert_eq!(rx2.recv().await.unwrap(), 20);
/// # });
/// ```
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    channel_with_backend(capacity)
}

/// [`channel`] on the wait-queue backend `B` (see [`crate::backend`]).
///
/// # Panics
///
/// As [`channel`].
///
/// # Examples
///
/// ```
/// use compio_sync::{backend::MutexVecDeque, broadcast};
///
/// let (tx, mut rx) = broadcast::channel_with_backend::<_, MutexVecDeque>(4);
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
#[track_caller]
pub fn channel_with_backend<T: Clone, B: WaitQueue>(
    capacity: usize,
) -> (Sender<T, B>, Receiver<T, B>) {
    let tx = Sender::with_receivers(1, capacity);
    let rx = Receiver {
        shared: tx.shared.clone(),
        next: 0,
    };
    (tx, rx)
}

impl<T> Sender<T> {
    /// Creates a sender of a channel of `capacity` values with no receiver
    /// yet ([`subscribe`](Self::subscribe) makes them), on the default
    /// backend.
    ///
    /// # Panics
    ///
    /// As [`channel`].
    ///
    /// # Examples
    ///
    /// ```
    /// let tx = compio_sync::broadcast::Sender::new(4);
    /// assert!(tx.send(1).is_err()); // nobody listens yet
    /// let mut rx = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// ```
    #[track_caller]
    pub fn new(capacity: usize) -> Self {
        Self::with_backend(capacity)
    }
}

impl<T, B: WaitQueue> Sender<T, B> {
    /// [`new`](Sender::new) on the backend `B`.
    ///
    /// # Panics
    ///
    /// As [`channel`].
    ///
    /// # Examples
    ///
    /// ```
    /// use compio_sync::{backend::MutexVecDeque, broadcast::Sender};
    ///
    /// let tx = Sender::<u8, MutexVecDeque>::with_backend(4);
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    #[track_caller]
    pub fn with_backend(capacity: usize) -> Self {
        Self::with_receivers(0, capacity)
    }

    #[track_caller]
    fn with_receivers(rx_cnt: usize, capacity: usize) -> Self {
        assert!(capacity > 0, "broadcast channel capacity cannot be zero");
        assert!(
            capacity <= usize::MAX >> 1,
            "broadcast channel capacity exceeded `usize::MAX / 2`"
        );
        let capacity = capacity.next_power_of_two();
        let buffer = (0..capacity)
            .map(|i| {
                Mutex::new(Slot {
                    rem: 0,
                    pos: (i as u64).wrapping_sub(capacity as u64),
                    val: None,
                })
            })
            .collect();
        Self {
            shared: Arc::new(Shared {
                buffer,
                mask: capacity - 1,
                tail: Mutex::new(Tail {
                    pos: 0,
                    rx_cnt,
                    closed: rx_cnt == 0,
                }),
                published: AtomicUsize::new(if rx_cnt == 0 { PUBLISHED_CLOSED } else { 0 }),
                num_tx: AtomicUsize::new(1),
                num_weak_tx: AtomicUsize::new(0),
                receivers: WaitSet::new(),
                notify_last_rx_drop: Notify::with_backend(),
            }),
        }
    }

    /// Sends `value` to every current receiver, returning how many there
    /// are. It overwrites the oldest value if the ring is full (receivers
    /// that had not read that one lag).
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if there is no receiver. A later
    /// subscriber would not see it anyway: a receiver sees only what is sent
    /// after it subscribed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::broadcast::channel(4);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.send("hi").unwrap(), 2);
    /// drop((rx, _rx2));
    /// assert_eq!(tx.send("anyone?").unwrap_err().0, "anyone?");
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut tail = self.shared.tail.lock();
        if tail.rx_cnt == 0 {
            return Err(SendError(value));
        }
        let pos = tail.pos;
        let rem = tail.rx_cnt;
        tail.pos = pos.wrapping_add(1);
        let overwritten = {
            let mut slot = self.shared.slot(pos);
            slot.pos = pos;
            slot.rem = rem;
            slot.val.replace(value)
        };
        self.shared.publish(&tail);
        drop(tail);
        // A value's `Drop` is user code: run it with no lock held.
        drop(overwritten);
        self.shared.wake_receivers(pos.wrapping_add(1));
        Ok(rem)
    }

    /// Creates a receiver that receives every value sent from now on.
    ///
    /// # Panics
    ///
    /// If the channel already has `usize::MAX >> 2` receivers.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = compio_sync::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(late.try_recv(), Ok(2)); // not 1
    /// ```
    pub fn subscribe(&self) -> Receiver<T, B> {
        new_receiver(self.shared.clone())
    }

    /// Creates a [`WeakSender`] of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = compio_sync::broadcast::channel::<u8>(4);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    #[must_use = "Downgrade creates a WeakSender without destroying the original non-weak sender."]
    pub fn downgrade(&self) -> WeakSender<T, B> {
        // Relaxed: a count, as tokio's.
        self.shared.num_weak_tx.fetch_add(1, Relaxed);
        WeakSender {
            shared: self.shared.clone(),
        }
    }

    /// How many values are still held for some receiver (sent and not yet
    /// received by every receiver that should receive them).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx1) = compio_sync::broadcast::channel(4);
    /// let mut rx2 = tx.subscribe();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(tx.len(), 2);
    /// rx1.try_recv().unwrap();
    /// assert_eq!(tx.len(), 2); // rx2 has not read the first yet
    /// rx2.try_recv().unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let tail = self.shared.tail.lock();
        // The held values are the newest `len` positions: binary search for
        // the oldest one that some receiver still owes a read.
        let base = (tail.pos & self.shared.mask as u64) as usize;
        let (mut low, mut high) = (0, self.shared.buffer.len());
        while low < high {
            let mid = low + (high - low) / 2;
            let idx = base.wrapping_add(mid) & self.shared.mask;
            if self.shared.buffer[idx].lock().rem == 0 {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        self.shared.buffer.len() - low
    }

    /// Whether no value is held for any receiver.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = compio_sync::broadcast::channel(4);
    /// assert!(tx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!tx.is_empty());
    /// rx.try_recv().unwrap();
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        let tail = self.shared.tail.lock();
        let idx = (tail.pos.wrapping_sub(1) & self.shared.mask as u64) as usize;
        self.shared.buffer[idx].lock().rem == 0
    }

    /// How many receivers there are.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = compio_sync::broadcast::channel::<u8>(4);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// drop(rx);
    /// assert_eq!(tx.receiver_count(), 1);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.tail.lock().rx_cnt
    }

    /// Whether both senders belong to the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = compio_sync::broadcast::channel::<u8>(4);
    /// let (other, _) = compio_sync::broadcast::channel::<u8>(4);
    /// assert!(tx.same_channel(&tx.clone()));
    /// assert!(!tx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Waits until there is no receiver.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it consumes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (tx, rx) = compio_sync::broadcast::channel::<u8>(4);
    /// compio::runtime::spawn(async move { drop(rx) }).detach();
    /// tx.closed().await;
    /// assert_eq!(tx.receiver_count(), 0);
    /// # });
    /// ```
    pub async fn closed(&self) {
        let mut closed = std::pin::pin!(self.closed_inner());
        std::future::poll_fn(|cx| crate::coop::budgeted(cx, |cx| closed.as_mut().poll(cx))).await
    }

    async fn closed_inner(&self) {
        loop {
            // The `Notified` before the check: the last receiver's drop
            // notifies after it set `closed` under the tail lock.
            let notified = self.shared.notify_last_rx_drop.notified();
            if self.shared.tail.lock().closed {
                return;
            }
            notified.await;
        }
    }

    /// How many [`Sender`]s there are.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = compio_sync::broadcast::channel::<u8>(4);
    /// let tx2 = tx.clone();
    /// assert_eq!(tx.strong_count(), 2);
    /// drop(tx2);
    /// assert_eq!(tx.strong_count(), 1);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.shared.num_tx.load(Acquire)
    }

    /// How many [`WeakSender`]s there are.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = compio_sync::broadcast::channel::<u8>(4);
    /// let weak = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// drop(weak);
    /// assert_eq!(tx.weak_count(), 0);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.shared.num_weak_tx.load(Acquire)
    }
}

impl<T, B: WaitQueue> Shared<T, B> {
    /// Locks the slot that holds (or will hold) position `pos`.
    fn slot(&self, pos: u64) -> MutexGuard<'_, Slot<T>> {
        self.buffer[(pos & self.mask as u64) as usize].lock()
    }

    /// Mirrors `tail`'s position and closed flag into `published`. Called
    /// under the tail lock after either changes.
    pub(super) fn publish(&self, tail: &Tail) {
        let closed = if tail.closed { PUBLISHED_CLOSED } else { 0 };
        // Release: a receiver that reads this word (Acquire) and then locks
        // a slot sees the slot written; the lock orders it anyway.
        self.published.store(event(tail.pos) | closed, Release);
    }

    /// The published tail, as [`event`] gives it.
    pub(super) fn published_tail(&self) -> usize {
        // Acquire: as in `Receiver::surely_empty`.
        self.published.load(Acquire) & !PUBLISHED_CLOSED
    }

    /// Wakes the waiting receivers that want another position than `tail`
    /// (the tail a send published: they want one below it). Called with no
    /// lock held.
    fn wake_receivers(&self, tail: u64) {
        // The change is published under the tail lock; the wake fences it
        // against a waiting receiver's (register; fence; re-check
        // `published`): either it sees the change, or the wake finds it. A
        // receiver's tag is the position it wants next (see `Recv`).
        self.receivers.notify_changed(event(tail));
    }

    fn close(&self) {
        let mut tail = self.tail.lock();
        tail.closed = true;
        self.publish(&tail);
        drop(tail);
        // Every waiter, whatever it wants: the close is for all.
        self.receivers.notify_all();
    }
}

fn new_receiver<T, B: WaitQueue>(shared: Arc<Shared<T, B>>) -> Receiver<T, B> {
    let mut tail = shared.tail.lock();
    assert!(tail.rx_cnt != MAX_RECEIVERS, "max receivers");
    if tail.rx_cnt == 0 {
        // Re-open a channel closed by its last receiver's drop (the flag
        // also means "senders gone", which a receiver sees in `num_tx`).
        tail.closed = false;
        shared.publish(&tail);
    }
    tail.rx_cnt += 1;
    let next = tail.pos;
    drop(tail);
    Receiver { shared, next }
}

impl<T, B: WaitQueue> Clone for Sender<T, B> {
    fn clone(&self) -> Self {
        // Relaxed: a count; closing is ordered by the AcqRel decrement.
        self.shared.num_tx.fetch_add(1, Relaxed);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T, B: WaitQueue> Drop for Sender<T, B> {
    fn drop(&mut self) {
        // AcqRel: the last sender's close comes after every other sender's
        // sends.
        if self.shared.num_tx.fetch_sub(1, AcqRel) == 1 {
            self.shared.close();
        }
    }
}

impl<T, B: WaitQueue> WeakSender<T, B> {
    /// A [`Sender`] of the channel, if one is still alive (the channel is
    /// not closed).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = compio_sync::broadcast::channel(4);
    /// let weak = tx.downgrade();
    /// weak.upgrade().unwrap().send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    #[must_use]
    pub fn upgrade(&self) -> Option<Sender<T, B>> {
        // Acquire/Relaxed: a count that must not rise from zero (tokio's).
        let mut count = self.shared.num_tx.load(Acquire);
        loop {
            if count == 0 {
                return None;
            }
            match self
                .shared
                .num_tx
                .compare_exchange_weak(count, count + 1, Relaxed, Acquire)
            {
                Ok(_) => {
                    return Some(Sender {
                        shared: self.shared.clone(),
                    });
                }
                Err(now) => count = now,
            }
        }
    }

    /// How many [`Sender`]s there are.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = compio_sync::broadcast::channel::<u8>(4);
    /// let weak = tx.downgrade();
    /// assert_eq!(weak.strong_count(), 1);
    /// drop(tx);
    /// assert_eq!(weak.strong_count(), 0);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.shared.num_tx.load(Acquire)
    }

    /// How many [`WeakSender`]s there are.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = compio_sync::broadcast::channel::<u8>(4);
    /// let weak = tx.downgrade();
    /// assert_eq!(weak.clone().weak_count(), 2);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.shared.num_weak_tx.load(Acquire)
    }
}

impl<T, B: WaitQueue> Clone for WeakSender<T, B> {
    fn clone(&self) -> Self {
        self.shared.num_weak_tx.fetch_add(1, Relaxed);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T, B: WaitQueue> Drop for WeakSender<T, B> {
    fn drop(&mut self) {
        self.shared.num_weak_tx.fetch_sub(1, AcqRel);
    }
}

impl<T, B: WaitQueue> fmt::Debug for Sender<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T, B: WaitQueue> fmt::Debug for WeakSender<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender").finish_non_exhaustive()
    }
}
