//! The channel core under both the bounded and the unbounded channel: the
//! message queue, the sender counts, and the receiver's side of the wait.
//!
//! # How it works
//!
//! * **Messages** sit in a `VecDeque` behind the flavor's `SpinLock` (a
//!   test-and-test-and-set lock whose unlock is a plain store, see
//!   `crate::spin_lock`; a `RefCell` in the local flavor), held for a push
//!   or a batch move only: no waker and no user `Drop` runs under it.
//!   The receiver takes the messages in batches: when its own buffer
//!   (`Rx::buffer`) is empty, it swaps that deque with the shared one under
//!   one lock, and then hands the messages out of its buffer with no lock at
//!   all; senders keep pushing into the deque it swapped in. A bounded
//!   channel's two deques never hold more than its bound, so once they have
//!   grown to their working size, sending allocates nothing.
//! * **Capacity** is a [`Capacity`]: the bounded channel's
//!   [`Semaphore`](super::Semaphore) (one permit per message, taken by the
//!   sender and given back by the receiver when it hands the message out,
//!   as in tokio, through the slot pool below), or, unbounded, nothing but a closed flag. Closing the
//!   receiver closes the capacity: no new permit, no new send; the permits
//!   already out can still send. An unbounded send checks the close under
//!   the queue's lock, with its push, so none lands after it.
//! * **The slot pool** (bounded channel, `pool.rs` and `bounded.rs`): as in
//!   tokio, a slot frees when its message is received, but giving it back
//!   to the semaphore at once would move the semaphore's `permits` line
//!   between the receiver's and the senders' cores twice per message (the
//!   sender's CAS, the receiver's add). So while no sender waits, the
//!   receiver adds the slots it frees to a word of its own, on its own cache
//!   line (low half: the count; high half: a wrapping count of *marks*, one
//!   per sender that started waiting), with one uncontended RMW per message
//!   (per batch for `recv_many`). A sender that finds the semaphore empty
//!   takes the pool's count and gives it to the semaphore (with
//!   `release_unused`, which wakes a closed receiver waiting for the last
//!   slot), then tries again: the semaphore hands released slots to queued
//!   senders first, so `try_send` right after a `recv` succeeds and never
//!   overtakes a waiting sender. A sender that has to wait marks the pool
//!   after its first poll of the semaphore's acquire (registered and counted
//!   by then) and takes the count in the same RMW. The receiver's add
//!   returns the word before it: marks other than the ones it last cleared
//!   mean a sender waits, and it flushes the pool to the semaphore and
//!   releases each later slot straight there (every received message wakes a
//!   waiting sender, in order, as in tokio) until a look at the semaphore's
//!   waiters, made *after* reading the marks, finds none; then it takes the
//!   marks it read as cleared (`Bounded::settle` argues why no waiter is
//!   missed). `capacity()` is the semaphore's permits plus the pool's count.
//!   While it flushes, the pool's word carries a flag that says so, and a
//!   sender that starts waiting then does not mark (the receiver, before it
//!   leaves the mode, clears the flag, fences and looks at the waiters
//!   again); it stays in the mode while its releases find a sender to take
//!   them, and for a while after it sees senders take slots out of the
//!   pool (a channel running near full). Before it sleeps on an empty
//!   queue, the receiver gives the pool to any waiting sender; once it closes, it flushes the pool and releases
//!   straight to the semaphore, so `is_idle` only reads the semaphore.
//!   The single-thread flavor runs the same code on cells.
//! * **The receiver waits** on the engine: the channel holds one wait-queue
//!   node (`rx_waiter`) in its own queue (`rx_queue`), used by the receiver
//!   alone. A receiver that finds the queue empty sets `rx_waiting` *under
//!   the lock*, and every push (or last sender's drop) takes the flag under
//!   the same lock and, if it was set, notifies `rx_queue` after unlocking.
//!   The receiver has its node waiting (registered, or still registered
//!   from an earlier poll with any notification it held taken) *before* the
//!   look that sets the flag, so the lock orders the two sides: either the
//!   receiver's look sees the message, or the sender's push sees the flag,
//!   and its notify (which comes after it released the lock, after the
//!   node was made to wait) finds the node. So one look per poll: an empty
//!   one returns `Pending` at once. Senders pay one uncontended lock per
//!   message and touch the wait queue only when the receiver may sleep.
//! * **Handing out** a message already in the receiver's buffer takes no
//!   lock and no look at the node: `poll_recv` pops it and gives its slot
//!   back, with no wait machinery on that path.
//! * **Yield once after waking a sender.** When a slot the receiver gave
//!   back went to a waiting sender (the semaphore hands it over and wakes
//!   that sender, which will now push), the next poll that finds the queue
//!   empty wakes its own task and returns `Pending` once, instead of
//!   waiting on the node. A sender on the same runtime was scheduled first,
//!   so it pushes before the receiver looks again, and neither side goes
//!   through the node (no registration, no armed look, no notify): a full
//!   channel on one runtime costs two task switches per message and nothing
//!   more. Only one yield per hand-over, so it cannot spin; on another
//!   runtime's sender it costs one extra poll, then the usual wait.
//! * **Done.** The receiver returns `None` once the queue is empty and
//!   either every strong sender is gone (`tx_closed`, set under the lock by
//!   the last one) or the receiver closed and every unit of capacity is
//!   back (no permit can still send). Whatever can make that true wakes the
//!   receiver the same way as a push: the last sender's drop, and a permit
//!   dropped unused after the close.

use std::{
    collections::VecDeque,
    fmt,
    pin::{Pin, pin},
    task::{Context, Poll},
};

use super::{
    flavor::{Arc, AtomicUsize, Ordering::*, SpinLock},
    notify::Notify,
};
use crate::backend::WaitQueue;

/// How a channel counts its capacity (see the module docs).
pub(super) trait Capacity {
    /// Gives back `n` units: messages taken off the queue, or permits
    /// dropped unused. Returns whether a waiting sender was there to take
    /// them (so it is likely about to send).
    fn release(&self, n: usize) -> bool;
    /// Fails every later (and every waiting) acquisition.
    fn close(&self);
    /// Whether [`close`](Self::close) was called.
    fn is_closed(&self) -> bool;
    /// Every unit is back: no message is queued or can still be sent
    /// through a permit or an in-flight send.
    fn is_idle(&self) -> bool;
    /// When a message's unit comes back: `true` when the receiver moves it
    /// from the shared queue into its own buffer (once per batch: for a
    /// capacity that nobody observes per message; the unbounded channel's
    /// `release` does nothing at all), `false` when the receiver hands it
    /// out (the bounded channel's slots, which `capacity` shows: as in
    /// tokio, a slot frees when its message is received).
    const RELEASE_ON_TRANSFER: bool;
    /// The receiver's own state for [`release_received`](Self::release_received).
    type RxState;
    /// The receiver's state for a new channel.
    fn rx_state(&self) -> Self::RxState;
    /// Gives back the units of `n` messages the receiver handed out (with
    /// `RELEASE_ON_TRANSFER`, moved into its buffer), with the receiver's
    /// state. Returns whether a waiting sender took them, as
    /// [`release`](Self::release).
    fn release_received(&self, n: usize, rx: &mut Self::RxState) -> bool;
    /// The receiver found the queue empty (and will wait): units it holds
    /// back go where a waiting sender can take them. Returns whether one did.
    fn rx_empty(&self, rx: &mut Self::RxState) -> bool;
    /// The receiver closed: from now on its units go straight back (so
    /// that [`is_idle`](Self::is_idle) sees them), and those it held back
    /// go back now.
    fn rx_close(&self, rx: &mut Self::RxState);
}

/// The state shared by the senders and the receiver.
pub(super) struct Chan<T, S, B: WaitQueue> {
    /// The messages, and the receiver's flags that go with them.
    queue: SpinLock<Queue<T>>,
    /// The capacity (see [`Capacity`]).
    pub(super) cap: S,
    /// Strong senders (and owned permits, which hold one). A `WeakSender`
    /// upgrades only while it is not zero.
    tx_count: AtomicUsize,
    /// Weak senders.
    tx_weak_count: AtomicUsize,
    /// `Sender::closed` waits here; the receiver's close wakes them all.
    notify_rx_closed: Notify<B>,
    /// The receiver's queue: it only ever holds `rx_waiter`.
    rx_queue: B,
    /// The receiver's node, registered in `rx_queue` by the receiver only;
    /// [`Rx::registered`] says whether it is. Pinned: the channel lives in
    /// an `Arc` and never moves.
    rx_waiter: B::Waiter,
}

// A panic (a waker's, a user `Drop`) never leaves the channel half-updated:
// the lock is held across no user code, and the counts and the queue change
// in single steps. So the handles may cross `catch_unwind`, as tokio's do.
impl<T, S, B: WaitQueue> std::panic::RefUnwindSafe for Chan<T, S, B> {}
impl<T, S, B: WaitQueue> std::panic::UnwindSafe for Chan<T, S, B> {}

/// What the lock guards.
struct Queue<T> {
    messages: VecDeque<T>,
    /// The receiver found the queue empty after registering its node: the
    /// next push (or last sender's drop) notifies `rx_queue`.
    rx_waiting: bool,
    /// Every strong sender is gone: nothing more will be pushed.
    tx_closed: bool,
    /// The receiver closed: [`Chan::try_push`] (the unbounded send) checks
    /// it under this lock, in the same critical section as its push, so no
    /// message lands after the close. (Bounded sends are decided earlier, by
    /// the semaphore: a permit taken before the close can still send.)
    rx_closed: bool,
}

impl<T, S: Capacity, B: WaitQueue> Chan<T, S, B> {
    /// A channel with one sender and room for `preallocate` messages.
    pub(super) fn new(cap: S, preallocate: usize) -> Arc<Self> {
        Arc::new(Self {
            queue: SpinLock::new(Queue {
                messages: VecDeque::with_capacity(preallocate),
                rx_waiting: false,
                tx_closed: false,
                rx_closed: false,
            }),
            cap,
            tx_count: AtomicUsize::new(1),
            tx_weak_count: AtomicUsize::new(0),
            notify_rx_closed: Notify::with_backend(),
            rx_queue: B::new(),
            rx_waiter: B::new_waiter(),
        })
    }

    /// Queues `value` (its capacity already taken) and wakes the receiver
    /// if it may sleep. Inlined: once per message.
    #[inline]
    pub(super) fn push(&self, value: T) {
        let wake = {
            let mut queue = self.queue.lock();
            queue.messages.push_back(value);
            std::mem::take(&mut queue.rx_waiting)
        };
        if wake {
            self.rx_queue.notify_one(0);
        }
    }

    /// Queues `value` unless the receiver closed (then gives it back), and
    /// wakes the receiver if it may sleep: the unbounded send, which takes no
    /// capacity first.
    pub(super) fn try_push(&self, value: T) -> Result<(), T> {
        let wake = {
            let mut queue = self.queue.lock();
            if queue.rx_closed {
                // Given back outside the lock: the caller may drop it.
                drop(queue);
                return Err(value);
            }
            queue.messages.push_back(value);
            std::mem::take(&mut queue.rx_waiting)
        };
        if wake {
            self.rx_queue.notify_one(0);
        }
        Ok(())
    }

    /// Wakes the receiver if it may sleep: something other than a push may
    /// have made it done.
    fn wake_rx(&self) {
        let wake = std::mem::take(&mut self.queue.lock().rx_waiting);
        if wake {
            self.rx_queue.notify_one(0);
        }
    }

    /// Gives back `n` units that were never used for a message (a permit
    /// dropped, a reservation cancelled); the receiver may now be done.
    pub(super) fn release_unused(&self, n: usize) {
        self.cap.release(n);
        // The receiver of a closed channel waits for the last unit to come
        // back: wake it if this release was that one. A close before the
        // release shows here (the same word as the units, read after our own
        // read-modify-write), and of two racing releases, the later one sees
        // both.
        if self.cap.is_closed() && self.cap.is_idle() {
            self.wake_rx();
        }
    }

    /// A sender handle was cloned.
    pub(super) fn add_sender(&self) {
        // Relaxed: the caller holds a strong handle, so the count cannot
        // reach zero meanwhile (as `Arc::clone`).
        self.tx_count.fetch_add(1, Relaxed);
    }

    /// A sender handle was dropped; the last one ends the stream.
    pub(super) fn drop_sender(&self) {
        // AcqRel: the last sender's drop sees every other sender's pushes
        // (they are under the lock anyway); a `WeakSender::upgrade` that sees
        // zero sees the channel closed.
        if self.tx_count.fetch_sub(1, AcqRel) != 1 {
            return;
        }
        let wake = {
            let mut queue = self.queue.lock();
            queue.tx_closed = true;
            std::mem::take(&mut queue.rx_waiting)
        };
        if wake {
            self.rx_queue.notify_one(0);
        }
    }

    /// A strong sender from a weak one, if any strong one is left.
    pub(super) fn upgrade(&self) -> bool {
        let mut count = self.tx_count.load(Relaxed);
        loop {
            if count == 0 {
                return false;
            }
            // Acquire on success: pairs with the Release half of the drops,
            // as `Weak::upgrade`.
            match self
                .tx_count
                .compare_exchange_weak(count, count + 1, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => count = actual,
            }
        }
    }

    pub(super) fn add_weak(&self) {
        self.tx_weak_count.fetch_add(1, Relaxed);
    }

    pub(super) fn drop_weak(&self) {
        self.tx_weak_count.fetch_sub(1, Relaxed);
    }

    pub(super) fn strong_count(&self) -> usize {
        self.tx_count.load(Acquire)
    }

    pub(super) fn weak_count(&self) -> usize {
        self.tx_weak_count.load(Relaxed)
    }

    /// Closes the receiving side: no new send, waiting senders fail, and
    /// `Sender::closed` completes.
    pub(super) fn close(&self) {
        // Under the lock first: an unbounded send that takes the lock after
        // this fails (see `try_push`); one before it has landed, and the
        // receiver sees it.
        self.queue.lock().rx_closed = true;
        self.cap.close();
        self.notify_rx_closed.notify_waiters();
    }

    /// `Sender::is_closed`: the receiver closed or dropped.
    pub(super) fn is_rx_closed(&self) -> bool {
        self.cap.is_closed()
    }

    /// `Receiver::is_closed`: closed, or no strong sender is left.
    pub(super) fn is_closed(&self) -> bool {
        self.cap.is_closed() || self.tx_count.load(Acquire) == 0
    }

    /// Waits until the receiver closes or drops.
    pub(super) async fn closed(&self) {
        let mut notified = pin!(self.notify_rx_closed.notified());
        // Queue for the broadcast before the check: `enable` registers and
        // fences, the close fences after setting its flag, so either we see
        // the flag or its `notify_waiters` finds us.
        notified.as_mut().enable();
        if self.cap.is_closed() {
            return;
        }
        notified.await;
    }

    /// `Sender::same_channel`.
    pub(super) fn same(this: &Arc<Self>, other: &Arc<Self>) -> bool {
        Arc::ptr_eq(this, other)
    }
}

/// The receiving half of the core: the channel and the receiver's node
/// state.
pub(super) struct Rx<T, S: Capacity, B: WaitQueue> {
    pub(super) chan: Arc<Chan<T, S, B>>,
    /// Messages moved out of the shared queue in one go and not yet handed
    /// out, oldest first (all of them older than the shared queue's): the
    /// receiver takes the lock once per batch rather than once per message.
    /// Still "in the channel" for `len`, the bounded capacity and the drop.
    buffer: VecDeque<T>,
    /// `chan.rx_waiter` is registered in `chan.rx_queue` (waiting or
    /// notified); only this receiver registers it.
    registered: bool,
    /// Slots this receiver gave back went to a waiting sender, which is
    /// woken and about to send: the next poll that finds the queue empty
    /// yields once (wakes its task and returns `Pending`) instead of
    /// waiting on the node, so that a sender on the same runtime, queued
    /// ahead of it, pushes before it looks again, with no wake-up through
    /// the node on either side.
    sender_woken: bool,
    /// The receiver's side of the capacity (the bounded channel's slot pool:
    /// see the module docs).
    cap_rx: S::RxState,
}

// As the channel's (above): the buffer changes in single steps (a swap, an
// append, a drain whose values only move), with no user code in between.
impl<T, S: Capacity, B: WaitQueue> std::panic::RefUnwindSafe for Rx<T, S, B> {}
impl<T, S: Capacity, B: WaitQueue> std::panic::UnwindSafe for Rx<T, S, B> {}

/// What a look at the queue found.
enum Look {
    /// Took this many messages (at least one).
    Took(usize),
    /// Empty, and nothing more will come.
    Done,
    /// Empty for now; `rx_waiting` is set if the look was armed.
    Empty,
}

impl<T, S: Capacity, B: WaitQueue> Rx<T, S, B> {
    pub(super) fn new(chan: Arc<Chan<T, S, B>>) -> Self {
        // As large as the shared queue: the two swap allocations (see
        // `look`), so both start at the working size the channel planned.
        let buffer = VecDeque::with_capacity(chan.queue.lock().messages.capacity());
        let cap_rx = chan.cap.rx_state();
        Self {
            chan,
            buffer,
            registered: false,
            sender_woken: false,
            cap_rx,
        }
    }

    /// Takes up to `limit` (at least one) messages into `sink`, or, if
    /// there are none and more may come, sets `rx_waiting` when `arm` is
    /// true (a look that an armed one follows leaves it alone).
    fn look(&mut self, limit: usize, sink: &mut impl FnMut(T), arm: bool) -> Look {
        if self.buffer.len() < limit {
            // Refill from the shared queue: everything in it, under one
            // lock. Into an empty buffer by swapping the two deques (no
            // copy, and the shared queue keeps an allocation of the same
            // working size), otherwise by moving them behind the buffered
            // ones (`recv_many` asking for more than the buffer holds).
            let moved = {
                let mut queue = self.chan.queue.lock();
                let moved = queue.messages.len();
                if moved == 0 {
                    if self.buffer.is_empty() {
                        let cap = &self.chan.cap;
                        if queue.tx_closed || (cap.is_closed() && cap.is_idle()) {
                            return Look::Done;
                        }
                        queue.rx_waiting |= arm;
                        drop(queue);
                        // Outside the lock, as the release below.
                        self.sender_woken |= cap.rx_empty(&mut self.cap_rx);
                        return Look::Empty;
                    }
                } else if self.buffer.is_empty() {
                    std::mem::swap(&mut queue.messages, &mut self.buffer);
                } else {
                    self.buffer.append(&mut queue.messages);
                }
                moved
            };
            if S::RELEASE_ON_TRANSFER {
                self.chan.cap.release_received(moved, &mut self.cap_rx);
            }
        }
        let took = limit.min(self.buffer.len());
        // `sink` only moves the value (into an `Option` or a `Vec`).
        for value in self.buffer.drain(..took) {
            sink(value);
        }
        if !S::RELEASE_ON_TRANSFER {
            // Outside the lock: a bounded release may hand the slots to a
            // waiting sender and wake it.
            self.sender_woken |= self.chan.cap.release_received(took, &mut self.cap_rx);
        }
        Look::Took(took)
    }

    /// `Receiver::len`: the buffered messages and the queued ones.
    pub(super) fn len(&self) -> usize {
        self.buffer.len() + self.chan.queue.lock().messages.len()
    }

    /// `Receiver::is_empty`.
    pub(super) fn is_empty(&self) -> bool {
        self.buffer.is_empty() && self.chan.queue.lock().messages.is_empty()
    }

    /// Polls for up to `limit` (at least one) messages: `Ready(n)` with
    /// `n > 0` messages given to `sink`, `Ready(0)` once the channel is done,
    /// or `Pending` with the receiver's node registered.
    pub(super) fn poll_take(
        &mut self,
        cx: &mut Context<'_>,
        limit: usize,
        sink: &mut impl FnMut(T),
    ) -> Poll<usize> {
        crate::coop::budgeted(cx, |cx| self.poll_take_unbudgeted(cx, limit, sink))
    }

    /// [`poll_take`](Self::poll_take) without taking a unit of the task's
    /// budget (the caller took it). Out of line: `poll_recv`'s fast path is
    /// inlined without it.
    #[inline(never)]
    fn poll_take_unbudgeted(
        &mut self,
        cx: &mut Context<'_>,
        limit: usize,
        sink: &mut impl FnMut(T),
    ) -> Poll<usize> {
        if std::mem::take(&mut self.sender_woken) {
            // A sender was just handed a slot (see `sender_woken`): look,
            // and if nothing is there yet, yield once rather than wait. The
            // node is left as it is; the next poll waits on it as usual.
            match self.look(limit, sink, false) {
                Look::Took(n) => return Poll::Ready(n),
                Look::Done => return Poll::Ready(0),
                Look::Empty => {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
            }
        }
        if self.registered {
            // Still registered from an earlier poll: take the notification
            // it may hold, or, if none, leave it waiting with `cx`'s waker.
            // SAFETY: the node is registered with `rx_queue` (only ever that
            // queue), pinned in the channel's `Arc`, and not yet observed
            // `Ready` or cancelled.
            if unsafe { self.chan.rx_queue.poll_wait(self.node(), cx) }.is_ready() {
                self.registered = false;
                // Notified: a message (or the end) is most likely there.
                // Look before registering again, so that the usual wake-up
                // costs no registration; an empty look leaves the flag
                // alone, and the waiting look below follows it.
                match self.look(limit, sink, false) {
                    Look::Took(n) => return Poll::Ready(n),
                    Look::Done => return Poll::Ready(0),
                    Look::Empty => {}
                }
            }
        }
        if !self.registered {
            // If `register` unwinds (a waker's `clone`), the node is idle.
            // SAFETY: the node is idle (`registered` is false), only used
            // with `rx_queue`, pinned in the channel.
            unsafe { self.chan.rx_queue.register(self.node(), cx.waker(), 0) };
            self.registered = true;
        }
        // The node waits, un-notified as of the `poll_wait` or `register`
        // above, with `cx`'s waker, *before* this look: if it finds the
        // queue empty, it sets `rx_waiting` under the lock, and the next
        // push (or last sender's drop, or last unit back after a close)
        // notifies the node. A push that notified it in between came before
        // the look in the lock's order, so the look sees its message (the
        // stale notification is taken by the next poll).
        match self.look(limit, sink, true) {
            Look::Took(n) => Poll::Ready(n),
            Look::Done => Poll::Ready(0),
            Look::Empty => Poll::Pending,
        }
    }

    /// `try_recv`.
    pub(super) fn try_take(&mut self) -> Result<T, super::error::TryRecvError> {
        let mut value = None;
        match self.look(1, &mut |v| value = Some(v), true) {
            Look::Took(_) => Ok(value.expect("one message taken")),
            Look::Done => Err(super::error::TryRecvError::Disconnected),
            Look::Empty => Err(super::error::TryRecvError::Empty),
        }
    }

    /// `poll_recv`.
    #[inline]
    pub(super) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        crate::coop::budgeted(cx, |cx| {
            // Fast path: the next message of the batch taken last time,
            // with no lock and none of the wait's machinery.
            if let Some(value) = self.buffer.pop_front() {
                if !S::RELEASE_ON_TRANSFER {
                    // Its slot frees now that it is received (as `look`).
                    self.sender_woken |= self.chan.cap.release_received(1, &mut self.cap_rx);
                }
                return Poll::Ready(Some(value));
            }
            let mut value = None;
            self.poll_take_unbudgeted(cx, 1, &mut |v| value = Some(v))
                .map(|_| value)
        })
    }

    /// `poll_recv_many`.
    pub(super) fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        self.poll_take(cx, limit, &mut |v| buffer.push(v))
    }

    /// Closes the receiving side (see [`Chan::close`]); from now on the
    /// receiver's units go straight back to the capacity.
    pub(super) fn close(&mut self) {
        self.chan.close();
        self.chan.cap.rx_close(&mut self.cap_rx);
    }

    fn node(&self) -> Pin<&B::Waiter> {
        // SAFETY: the node lives in the channel, inside an `Arc` that is
        // never moved out of, so it stays put until the channel is freed.
        unsafe { Pin::new_unchecked(&self.chan.rx_waiter) }
    }
}

impl<T, S: Capacity, B: WaitQueue> Drop for Rx<T, S, B> {
    fn drop(&mut self) {
        if self.registered {
            // Whatever it held (a notify) concerns this receiver only.
            // SAFETY: registered with `rx_queue` and pinned in the channel.
            unsafe { self.chan.rx_queue.cancel(self.node()) };
        }
        self.close();
        // Drop what is queued now (values sent later through permits are
        // dropped with the channel), outside the lock: a `Drop` is user code.
        let messages = std::mem::take(&mut self.chan.queue.lock().messages);
        let buffered = std::mem::take(&mut self.buffer);
        let held = if S::RELEASE_ON_TRANSFER {
            messages.len()
        } else {
            messages.len() + buffered.len()
        };
        self.chan.cap.release(held);
        drop(buffered);
        drop(messages);
        // The node outlives this receiver (it lives in the channel, which
        // the senders keep, maybe on other threads), and keeps what its last
        // wait left (a retired waker: contract point 7; a kernel wait being
        // cancelled, which holds this thread's runtime). Release it now, as
        // tokio drops the receiver's waker with the receiver. Last, because
        // dropping a waker is user code and may panic.
        // SAFETY: the node is idle (cancelled above, or observed `Ready`),
        // only used with `rx_queue`, and pinned in the channel.
        unsafe { self.chan.rx_queue.release(self.node()) };
    }
}

impl<T, S: Capacity, B: WaitQueue> fmt::Debug for Chan<T, S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chan")
            .field("tx_count", &self.tx_count.load(Relaxed))
            .field("tx_weak_count", &self.tx_weak_count.load(Relaxed))
            .field("rx_closed", &self.cap.is_closed())
            .finish_non_exhaustive()
    }
}
