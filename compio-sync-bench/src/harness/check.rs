//! Checks that a run did its work: a broken implementation must panic, not
//! look fast.

use std::sync::{
    Arc,
    atomic::{AtomicU64, AtomicUsize, Ordering::*},
};

use super::watchdog::set_progress;

/// Counts critical sections and checks that no more than `limit` holders
/// were ever inside at once.
pub struct Check {
    limit: usize,
    inside: AtomicUsize,
    max_inside: AtomicUsize,
    done: AtomicU64,
}

impl Check {
    /// No critical section yet, `limit` holders allowed at once.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            inside: AtomicUsize::new(0),
            max_inside: AtomicUsize::new(0),
            done: AtomicU64::new(0),
        }
    }

    /// A holder enters.
    pub fn enter(&self) {
        let now = self.inside.fetch_add(1, AcqRel) + 1;
        if now > self.limit {
            self.max_inside.fetch_max(now, Relaxed);
        }
    }

    /// A holder leaves, having completed its critical section.
    pub fn exit(&self) {
        self.done.fetch_add(1, Relaxed);
        self.inside.fetch_sub(1, AcqRel);
    }

    /// Reports `done` of `expected` critical sections to the watchdog until
    /// the next [`set_progress`].
    pub fn report_progress(self: &Arc<Self>, expected: usize) {
        let check = self.clone();
        set_progress(Some(Box::new(move || {
            format!(
                "{} of {expected} critical sections done, {} holder(s) inside",
                check.done.load(Relaxed),
                check.inside.load(Relaxed)
            )
        })));
    }

    /// Panics unless exactly `expected` critical sections completed, none
    /// remains open, and at most `limit` were ever open at once.
    pub fn verify(&self, expected: usize, what: &str) {
        let max = self.max_inside.load(Relaxed);
        assert!(
            max <= self.limit,
            "{what}: {max} holders were inside at once with {} permit(s)",
            self.limit
        );
        assert_eq!(self.inside.load(Relaxed), 0, "{what}: a holder never left");
        assert_eq!(
            self.done.load(Relaxed),
            expected as u64,
            "{what}: wrong number of completed critical sections"
        );
    }
}
