//! [`Pick::Near`](super::Pick::Near): which waiter a near wake-up takes,
//! and the thread id it goes by.

use std::ptr::NonNull;

use super::{Linked, List};

/// Waiters from the head among which `Pick::Near` looks for one of the
/// calling thread.
const NEAR_WINDOW: usize = 4;

/// Wake-ups in a row that `Pick::Near` may give past the head: the next one
/// goes to the head, whatever thread it waits on.
const NEAR_SKIPS: u32 = 4;

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
    /// thread if one is among the first [`NEAR_WINDOW`], else the head. A
    /// wake-up that stays on this thread (this runtime) costs no
    /// cross-thread wake-up. At most [`NEAR_SKIPS`] wake-ups in a row go
    /// past the head; the next goes to it.
    pub(super) fn pick_near(&mut self) -> Option<NonNull<T>> {
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
}
