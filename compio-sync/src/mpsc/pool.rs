//! The bounded channel's slot pool: slots the receiver freed and has not yet
//! given back to the capacity semaphore (see "The slot pool" in the module
//! docs of `chan.rs` for the protocol and why it is correct).
//!
//! One word on a cache line of its own: the receiver adds to it once per
//! message, and senders touch it only when the semaphore has no slot for
//! them, so while no sender waits, it stays in the receiver's cache.

use crossbeam_utils::CachePadded;

use super::{
    Semaphore,
    chan::Capacity,
    flavor::{AtomicUsize, Ordering::*, fence},
};
use crate::backend::WaitQueue;

/// Bits of the word that hold the slot count; the bits above count the
/// marks ("a sender waits"), wrapping.
const COUNT_BITS: u32 = usize::BITS / 2;
/// The low half: the count, and `FLUSHING` at its top.
const LOW: usize = (1 << COUNT_BITS) - 1;
/// The count's bits (it never reaches `FLUSHING`: the pool holds at most
/// the bound, at most `MAX_POOLED`).
const COUNT: usize = LOW >> 1;
/// The receiver releases straight to the semaphore (its flushing mode): a
/// sender that starts waiting need not mark (see `Bounded::settle`).
const FLUSHING: usize = COUNT + 1;
/// One mark.
const MARK: usize = 1 << COUNT_BITS;

/// The largest bound whose slots all fit in the pool's count. A channel
/// with a larger bound keeps no pool (its receiver releases each slot to
/// the semaphore, as without one).
pub(super) const MAX_POOLED: usize = COUNT;

/// `count | FLUSHING? | marks << COUNT_BITS` (see the module docs).
pub(super) struct Pool {
    word: CachePadded<AtomicUsize>,
}

/// The marks of a pool word (compared for equality only).
pub(super) fn marks(word: usize) -> usize {
    word & !LOW
}

/// The slot count of a pool word.
pub(super) fn count(word: usize) -> usize {
    word & COUNT
}

impl Pool {
    pub(super) fn new() -> Self {
        Self {
            word: CachePadded::new(AtomicUsize::new(0)),
        }
    }

    /// Slots in the pool now (a snapshot, for `capacity`).
    pub(super) fn count(&self) -> usize {
        count(self.word.load(Relaxed))
    }

    /// The receiver puts `n` freed slots in the pool; returns the word
    /// before (its marks say whether a sender marked since the receiver
    /// last cleared).
    #[inline]
    pub(super) fn add(&self, n: usize) -> usize {
        // Release: the receiver's hand-out happens-before the sender that
        // takes the slot (as the semaphore's release, which this defers).
        // Acquire: a mark read here makes the marking sender's registration
        // in the semaphore (sequenced before its Release mark) happen-before
        // the receiver's next look at the semaphore's waiters.
        self.word.fetch_add(n, AcqRel)
    }

    /// The receiver's look at the marks alone (leaving the flushing mode).
    pub(super) fn load_marks(&self) -> usize {
        marks(self.load())
    }

    /// The word (the receiver's look before its `add`).
    #[inline]
    pub(super) fn load(&self) -> usize {
        // Acquire: as in `add`, for the marks read here.
        self.word.load(Acquire)
    }

    /// Takes every slot out of the pool, keeping the marks: by the receiver
    /// to flush them to the semaphore, by a sender that found the semaphore
    /// empty to give them to it. Returns how many.
    pub(super) fn take(&self) -> usize {
        let mut cur = self.word.load(Relaxed);
        loop {
            if count(cur) == 0 {
                return 0;
            }
            // Acquire: the receiver's adds of these slots happen-before
            // the semaphore release that passes them on.
            match self
                .word
                .compare_exchange_weak(cur, cur & !COUNT, Acquire, Relaxed)
            {
                Ok(_) => return count(cur),
                Err(actual) => cur = actual,
            }
        }
    }

    /// The receiver's flush: takes every slot out of the pool, keeping the
    /// marks, and sets `FLUSHING`. Returns how many.
    pub(super) fn take_flushing(&self) -> usize {
        let mut cur = self.word.load(Relaxed);
        loop {
            if cur & FLUSHING != 0 && count(cur) == 0 {
                return 0;
            }
            // Acquire: as `take`.
            match self
                .word
                .compare_exchange_weak(cur, (cur & !COUNT) | FLUSHING, Acquire, Relaxed)
            {
                Ok(_) => return count(cur),
                Err(actual) => cur = actual,
            }
        }
    }

    /// The receiver leaves the flushing mode: clears `FLUSHING` if the word
    /// is still `marks` with no slot in it (no mark came since it read
    /// them). Returns whether it did.
    pub(super) fn clear_flushing(&self, marks: usize) -> bool {
        // Relaxed: the receiver's `fence(SeqCst)` right after orders the
        // clear before its next look at the semaphore's waiters (see
        // `Bounded::settle`); the marks it compares were read with Acquire.
        self.word
            .compare_exchange(marks | FLUSHING, marks, Relaxed, Relaxed)
            .is_ok()
    }

    /// The receiver stays in the flushing mode after all (a waiter came as
    /// it left).
    pub(super) fn set_flushing(&self) {
        // Relaxed: the flag only spares senders a mark; a sender that misses
        // it marks, which is always correct.
        self.word.fetch_or(FLUSHING, Relaxed);
    }

    /// Whether the receiver is in the flushing mode (a sender's look after
    /// it registered; see `Bounded::settle` for the order).
    pub(super) fn is_flushing(&self) -> bool {
        // Relaxed: the sender's `fence(SeqCst)` just before orders its count
        // in the semaphore's `waiters` before this look.
        self.word.load(Relaxed) & FLUSHING != 0
    }

    /// A sender that waits in the semaphore (registered and counted there,
    /// or served meanwhile) adds a mark and takes every slot in the pool,
    /// in one read-modify-write. Returns the slots taken.
    pub(super) fn mark_and_take(&self) -> usize {
        let mut cur = self.word.load(Relaxed);
        loop {
            // Wrapping: the marks only ever compare for equality, and a
            // carry out of the top bit leaves the count alone.
            let new = marks(cur).wrapping_add(MARK) | (cur & FLUSHING);
            // Release: publishes the registration (sequenced before) to the
            // receiver that reads this mark (see `add`). Acquire: as `take`.
            match self.word.compare_exchange_weak(cur, new, AcqRel, Relaxed) {
                Ok(_) => return count(cur),
                Err(actual) => cur = actual,
            }
        }
    }
}

/// The bounded channel's capacity: a semaphore with one permit per free
/// slot, as in tokio, and the receiver's slot pool in front of it (see "The
/// slot pool" in the module docs of `chan.rs`).
pub(super) struct Bounded<B: WaitQueue> {
    pub(super) sem: Semaphore<B>,
    pub(super) bound: usize,
    /// Slots the receiver freed and has not given to `sem` yet.
    pub(super) pool: Pool,
}

/// The receiver's side of the slot pool (its [`Capacity::RxState`]).
pub(super) struct PoolRx {
    mode: PoolMode,
    /// The pool's marks as of the receiver's last look at the semaphore's
    /// waiters that found none: other marks mean a sender waits.
    cleared: usize,
    /// The slots the pool should hold by the receiver's own count: what it
    /// added since it last emptied the pool itself. Fewer means a sender
    /// found the semaphore empty and took them (`try_acquire_reclaiming`):
    /// the channel runs near full.
    pooled: usize,
    /// Releases left to make straight to the semaphore before settling
    /// (see `release_straight`): set when senders are seen taking slots out
    /// of the pool.
    direct: u32,
}

/// How many releases go straight to the semaphore after senders were seen
/// taking slots out of the pool. On a channel that runs near full, senders
/// find the semaphore empty again and again; each time they would take the
/// pool's few slots through its cache line (a read-modify-write on the
/// receiver's line, then a release and an acquire on the semaphore) where a
/// slot released straight there costs them one acquire: for a while, the
/// receiver releases as it did without a pool.
const DIRECT_AFTER_RECLAIM: u32 = 64;

/// Where the receiver puts the slots it frees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PoolMode {
    /// Into the pool, while no sender is known to wait.
    Pool,
    /// Straight to the semaphore, while a sender marked the pool and the
    /// semaphore may still have waiters: each slot goes to them as its
    /// message is received, as in tokio.
    Flushing,
    /// Straight to the semaphore, for good: the receiver closed (so that
    /// `is_idle` sees every slot), or the bound is too large for the pool.
    Direct,
}

impl<B: WaitQueue> Bounded<B> {
    /// Free slots: the semaphore's and the pool's. May count low for an
    /// instant while slots move from the pool to the semaphore, never high.
    pub(super) fn available(&self) -> usize {
        self.sem.available_permits() + self.pool.count()
    }

    /// Flushes the pool and `n` more slots to the semaphore (a sender
    /// marked the pool, or waits), and from now on releases there, until no
    /// sender waits.
    #[inline(never)]
    fn flush(&self, n: usize, rx: &mut PoolRx) -> bool {
        let woken = self.sem.release_taken(n + self.pool.take_flushing());
        rx.pooled = 0;
        rx.mode = PoolMode::Flushing;
        // As in `release_straight`: settle once a release finds nobody.
        if !woken && rx.direct == 0 {
            self.settle(rx);
        }
        woken
    }

    /// A release in `Flushing` or `Direct` mode.
    ///
    /// While the releases keep finding a sender to hand the slot to, the
    /// receiver stays in the flushing mode without looking at the pool or
    /// at the semaphore's waiters (on a channel that stays full, senders
    /// mark the pool's line as they start waiting: a look per message would
    /// pull it across cores each time). It settles only after a release that
    /// no sender took. Staying longer in this mode is always safe: it is
    /// the release without a pool.
    #[inline(never)]
    fn release_straight(&self, n: usize, rx: &mut PoolRx) -> bool {
        let woken = self.sem.release_taken(n);
        if rx.mode == PoolMode::Flushing {
            if rx.direct > 0 {
                rx.direct -= 1;
            } else if !woken {
                self.settle(rx);
            }
        }
        woken
    }

    /// Leaves the flushing mode if no sender waits in the semaphore.
    ///
    /// Why no sender is then left waiting with its slots in the pool: the
    /// marks are read first (Acquire), then the semaphore's `waiters`. A
    /// sender marks only after its registration in the semaphore (counted
    /// in `waiters`) or after being served, so a mark read here makes that
    /// registration happen-before the `has_waiters` load, which sees it (or
    /// its end: served, cancelled). A mark made after our read changes the
    /// marks, so the next `add` sees it and flushes again; and that sender's
    /// own mark took whatever was in the pool (`mark_and_take`) to the
    /// semaphore. The one count that can read low (a waiter served by a
    /// hand-over between its link and its count, see the semaphore's
    /// `waiters`) is covered by that waiter: it marks after its first poll
    /// even when served, which is after it counted itself. Marks wrap (half
    /// a word): a wrap back to `cleared` between two of the receiver's adds
    /// would hide a mark; `rx_empty` still flushes to any waiter before the
    /// receiver sleeps, so that costs no wake-up, only the per-message
    /// hand-out until then.
    ///
    /// A sender that starts waiting while the receiver flushes (`FLUSHING`
    /// set in the pool's word) does not mark: the receiver clears
    /// `FLUSHING` (only if no mark came), fences and looks at the waiters
    /// again, and goes back to flushing if it finds any; the sender counts
    /// itself in `waiters`, fences, and then looks at `FLUSHING`. By the two
    /// fences, either the receiver's second look sees the sender counted,
    /// or the sender sees `FLUSHING` cleared and marks. (The count that can
    /// read low for an instant is a served waiter's, between its link and
    /// its count; that waiter looks at `FLUSHING` after it counted itself,
    /// and marks if it is cleared, as above.)
    fn settle(&self, rx: &mut PoolRx) {
        let marks = self.pool.load_marks();
        if self.sem.has_waiters() || !self.pool.clear_flushing(marks) {
            return;
        }
        // SeqCst: orders the clear of `FLUSHING` above before the look at
        // the waiters below, against a waiting sender's (count itself in
        // `waiters`; fence; look at `FLUSHING`).
        fence(SeqCst);
        if self.sem.has_waiters() {
            self.pool.set_flushing();
            return;
        }
        rx.cleared = marks;
        rx.mode = PoolMode::Pool;
    }
}

impl<B: WaitQueue> Capacity for Bounded<B> {
    #[inline]
    fn release(&self, n: usize) -> bool {
        // Only slots the channel took come back (a message's, a permit's).
        self.sem.release_taken(n)
    }

    fn close(&self) {
        self.sem.close();
    }

    fn is_closed(&self) -> bool {
        self.sem.is_closed()
    }

    fn is_idle(&self) -> bool {
        // The pool is empty once the receiver closed (`rx_close`), and only
        // the receiver adds to it; a sender moving slots out of it gives
        // them to the semaphore with `release_unused`, which wakes the
        // receiver if they were the last.
        self.sem.available_permits() == self.bound
    }

    const RELEASE_ON_TRANSFER: bool = false;

    type RxState = PoolRx;

    fn rx_state(&self) -> PoolRx {
        PoolRx {
            mode: if self.bound <= MAX_POOLED {
                PoolMode::Pool
            } else {
                PoolMode::Direct
            },
            cleared: 0,
            pooled: 0,
            direct: 0,
        }
    }

    /// Once per message: into the pool (one uncontended RMW on the
    /// receiver's cache line), unless a sender marked it.
    #[inline]
    fn release_received(&self, n: usize, rx: &mut PoolRx) -> bool {
        if rx.mode == PoolMode::Pool {
            // A mark already there (a sender waits for this very slot, the
            // usual case of a channel that stays full): straight to the
            // semaphore, without the add and the take back.
            if marks(self.pool.load()) != rx.cleared {
                return self.flush(n, rx);
            }
            let old = self.pool.add(n);
            if marks(old) != rx.cleared {
                return self.flush(0, rx);
            }
            if count(old) < rx.pooled {
                // Senders took slots out of the pool: release straight to
                // the semaphore for a while (`DIRECT_AFTER_RECLAIM`).
                rx.direct = DIRECT_AFTER_RECLAIM;
                return self.flush(0, rx);
            }
            rx.pooled = count(old) + n;
            return false;
        }
        self.release_straight(n, rx)
    }

    fn rx_empty(&self, rx: &mut PoolRx) -> bool {
        // A sender that waits while the pool holds slots (its mark hidden:
        // see `settle`) gets them before the receiver sleeps.
        if rx.mode == PoolMode::Pool && self.pool.count() > 0 && self.sem.has_waiters() {
            return self.flush(0, rx);
        }
        false
    }

    fn rx_close(&self, rx: &mut PoolRx) {
        if rx.mode != PoolMode::Direct {
            rx.mode = PoolMode::Direct;
            self.sem.release_taken(self.pool.take());
        }
    }
}
