//! The bounded channel's slot pool: slots the receiver freed and has not yet
//! given back to the capacity semaphore (see "The slot pool" in the module
//! docs of `chan.rs` for the protocol and why it is correct).
//!
//! One word on a cache line of its own: the receiver adds to it once per
//! message, and senders touch it only when the semaphore has no slot for
//! them, so while no sender waits, it stays in the receiver's cache.

use crossbeam_utils::CachePadded;

use super::flavor::{AtomicUsize, Ordering::*};

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
        // SeqCst: the clear comes before the receiver's fence and its next
        // look at the semaphore's waiters (see `Bounded::settle`).
        self.word
            .compare_exchange(marks | FLUSHING, marks, SeqCst, Relaxed)
            .is_ok()
    }

    /// The receiver stays in the flushing mode after all (a waiter came as
    /// it left).
    pub(super) fn set_flushing(&self) {
        self.word.fetch_or(FLUSHING, SeqCst);
    }

    /// Whether the receiver is in the flushing mode (a sender's look after
    /// it registered; see `Bounded::settle` for the order).
    pub(super) fn is_flushing(&self) -> bool {
        self.word.load(SeqCst) & FLUSHING != 0
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
