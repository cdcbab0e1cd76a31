//! [`Pick::Near`](super::Pick::Near): which waiter a near wake-up takes,
//! and the thread id it goes by.

use std::ptr::NonNull;

use super::{Linked, List};

/// How long a near wake-up may keep passing over the head.
#[derive(Clone, Copy, Debug)]
pub(in crate::backend) enum Patience {
    /// At most [`NEAR_SKIPS`] wake-ups in a row, among the first
    /// [`NEAR_WINDOW`] waiters (`WaitQueue::notify_one_near`).
    Skips,
    /// While the head has waited less than this since a near wake-up first
    /// passed it over, among the first [`WITHIN_WINDOW`] waiters
    /// (`WaitQueue::notify_one_near_within`). Under loom, which has no
    /// clock, as `Skips` (but for a patience of zero).
    Within(std::time::Duration),
}

/// Waiters from the head among which `Pick::Near` looks for one of the
/// calling thread.
const NEAR_WINDOW: usize = 4;

/// Wake-ups in a row that `Pick::Near` may give past the head: the next one
/// goes to the head, whatever thread it waits on.
const NEAR_SKIPS: u32 = 4;

/// Waiters from the head among which `Patience::Within` looks for one of
/// the calling thread: as many as 2 runtimes x 16 tasks queue in the S9
/// benchmark (16 looked too few there: 248-297 against 203-217 ns per
/// operation with 32).
#[cfg(not(loom))]
const WITHIN_WINDOW: usize = 32;

/// An id of the calling thread, unique among live threads: the address of a
/// thread-local (0 while the thread's locals are torn down, where any value
/// will do: it only steers `Pick::Near`).
#[cfg(not(loom))]
pub(super) fn home() -> usize {
    std::thread_local! {
        static HOME: u8 = const { 0 };
    }
    HOME.try_with(|home| std::ptr::from_ref(home) as usize)
        .unwrap_or(0)
}

/// [`home`] under loom: the model's threads are not OS threads, so their
/// ids come from loom (a hash of its `ThreadId`; the same in every
/// execution of a model).
#[cfg(loom)]
pub(super) fn home() -> usize {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    loom::thread::current().id().hash(&mut hasher);
    hasher.finish() as usize
}

impl<T: Linked, X> List<T, X> {
    /// [`Pick::Near`](super::Pick::Near)'s choice (under the lock): a waiter of the calling
    /// thread if one is near the head, else the head. A wake-up that stays
    /// on this thread (this runtime) costs no cross-thread wake-up.
    /// `patience` says how long the head may be passed over.
    pub(super) fn pick_near(&mut self, patience: Patience) -> Option<NonNull<T>> {
        match patience {
            #[cfg(not(loom))]
            Patience::Within(patience) => self.pick_within(patience),
            // Loom has no clock: a patience of zero still never passes the
            // head over; any other keeps `Skips`'s bound.
            #[cfg(loom)]
            Patience::Within(patience) if patience.is_zero() => self.head,
            _ => self.pick_skipping(),
        }
    }

    /// [`Patience::Skips`]: a waiter of this thread among the first
    /// [`NEAR_WINDOW`], else the head. At most [`NEAR_SKIPS`] wake-ups in a
    /// row go past the head; the next goes to it.
    fn pick_skipping(&mut self) -> Option<NonNull<T>> {
        let head = self.head?;
        if self.near_skips >= NEAR_SKIPS {
            self.near_skips = 0;
            return Some(head);
        }
        let me = home();
        let mut node = Some(head);
        for at in 0..NEAR_WINDOW {
            let Some(waiter) = node else { break };
            // A linked node's `wakeup` is its `home`.
            // SAFETY: `waiter` is linked (the head, or the `next` of a linked
            // node), hence alive; we hold the lock (`&mut self`) that guards
            // its links.
            let (its_home, next) = unsafe { waiter.as_ref().node().links(|l| (l.wakeup, l.next)) };
            if its_home == me {
                self.near_skips = if at == 0 { 0 } else { self.near_skips + 1 };
                return Some(waiter);
            }
            node = next;
        }
        self.near_skips = 0;
        Some(head)
    }

    /// [`Patience::Within`]: the head if it is this thread's or has been
    /// passed over for `patience`, else a waiter of this thread among the
    /// first [`WITHIN_WINDOW`], else the head.
    ///
    /// A waiter's patience runs from the first near wake-up that looks at
    /// it (that stamps it), not from its registration: its registration
    /// reads no clock, and a waiter is looked at as soon as it is among
    /// the first [`WITHIN_WINDOW`]. One clock read per call that may pass
    /// the head over; none when the head is this thread's.
    #[cfg(not(loom))]
    fn pick_within(&mut self, patience: std::time::Duration) -> Option<NonNull<T>> {
        let head = self.head?;
        let me = home();
        // A linked node's `wakeup` is its `home`.
        // SAFETY: every node touched here and below is linked (the head,
        // or the `next` of a linked node), hence alive, and we hold the
        // lock (`&mut self`) that guards its links.
        let (head_home, mut node) = unsafe { head.as_ref().node().links(|l| (l.wakeup, l.next)) };
        if head_home == me {
            return Some(head);
        }
        let now = clock();
        // SAFETY: as above.
        let seen = unsafe { head.as_ref().node().stamp(now) };
        if u128::from(now.saturating_sub(seen)) >= patience.as_nanos() {
            return Some(head);
        }
        for _ in 1..WITHIN_WINDOW {
            let Some(waiter) = node else { break };
            // A linked node's `wakeup` is its `home`.
            // SAFETY: as above.
            let (its_home, next) = unsafe { waiter.as_ref().node().links(|l| (l.wakeup, l.next)) };
            if its_home == me {
                return Some(waiter);
            }
            // Passed over too: its patience starts now (if not yet).
            // SAFETY: as above.
            unsafe { waiter.as_ref().node().stamp(now) };
            node = next;
        }
        Some(head)
    }
}

/// Nanoseconds since the first call in this process, plus one (so that 0
/// can mean "not stamped"): [`Patience::Within`]'s clock.
#[cfg(not(loom))]
fn clock() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let nanos = START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos();
    // 2^64 ns is 584 years.
    u64::try_from(nanos).unwrap_or(u64::MAX - 1) + 1
}
