//! [`ThreadBound`]: a value that may only be used or dropped on the thread
//! that created it, inside a type that must be `Send`.
//!
//! Shared by the two kernel-transport backends. compio's `Submit` future
//! (an op in flight on a runtime: `IoUringFutex`'s io_uring `FUTEX_WAIT`,
//! `Iocp`'s parked completion) holds an `Rc` to its runtime's driver, while
//! the waiters (`FutexWaiter`, `IocpWaiter`) must be `Send`. A waiter keeps
//! its op in a `ThreadBound`: on the op's thread it is polled and dropped as
//! usual. Dropped on another thread, it is not touched there: it is handed
//! back to its own thread (its *home*), which drops it the next time it arms
//! a kernel wait ([`reap_orphans`]) or when it exits, whichever comes first.
//!
//! That happens when a waiter outlives the thread it waited on: a pinned
//! future moved to another thread before its wait ended, or a waiter freed on
//! another thread without a `WaitQueue::release` first (an mpsc receiver
//! moved to another thread after it waited). Left on the foreign thread, the
//! op would be leaked, and with it the `Rc` it holds: the whole driver of its
//! runtime (its ring, its memory) would never be freed. A value dropped on a
//! foreign thread after its home thread has exited is leaked (no thread may
//! drop it any more).

use std::{
    any::Any,
    mem::ManuallyDrop,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::*},
    },
    thread::{self, ThreadId},
};

use parking_lot::Mutex;

/// A `T` that is only ever accessed or dropped on its `owner` thread.
pub(super) struct ThreadBound<T: 'static> {
    owner: ThreadId,
    /// Where a drop on another thread sends the value (`None` if it was
    /// created while its thread's thread-locals were being torn down).
    home: Option<Arc<Home>>,
    value: ManuallyDrop<T>,
}

// SAFETY: `value` is only accessed (`get_mut`) or dropped (`Drop`, or
// `Home::reap` for a value handed back to its home) on the `owner` thread;
// any other thread only moves it, boxed and untouched, into the owner's
// `Home`, or leaks it.
unsafe impl<T> Send for ThreadBound<T> {}

/// A thread's values that were dropped on other threads, waiting to be
/// dropped on it.
struct Home {
    /// `None` once the thread's thread-locals are torn down: values handed
    /// back later are leaked.
    orphans: Mutex<Option<Vec<Orphan>>>,
    /// Whether `orphans` holds any. Set (Release) after a push under the
    /// lock; read (Acquire) by the home thread before it takes the lock, so
    /// that [`reap_orphans`] costs one load when there are none.
    has_orphans: AtomicBool,
}

/// A value handed back to its home thread, type-erased.
struct Orphan(#[allow(dead_code, reason = "held only to be dropped")] Box<dyn Any>);

// SAFETY: an `Orphan` is created on a foreign thread from a value it never
// touches, and only ever dropped by its home thread (`Home::reap`); moving
// the box between threads does not touch the value.
unsafe impl Send for Orphan {}

impl Home {
    /// Drops this thread's orphans, if any; `closing` also marks the home
    /// gone (the thread is exiting). Called on the home thread only, with no
    /// lock held while the values drop (dropping compio's op may drop a
    /// waker: user code).
    fn reap(&self, closing: bool) {
        let orphans = {
            let mut orphans = self.orphans.lock();
            self.has_orphans.store(false, Relaxed);
            if closing {
                orphans.take()
            } else {
                orphans.as_mut().map(std::mem::take)
            }
        };
        drop(orphans);
    }
}

/// The calling thread's id and home, torn down with its thread-locals.
struct Local {
    id: ThreadId,
    home: Arc<Home>,
}

impl Drop for Local {
    fn drop(&mut self) {
        // The thread is exiting: drop what other threads handed back, and
        // leak what they hand back from now on.
        self.home.reap(true);
    }
}

thread_local! {
    static LOCAL: Local = Local {
        id: thread::current().id(),
        home: Arc::new(Home {
            orphans: Mutex::new(Some(Vec::new())),
            has_orphans: AtomicBool::new(false),
        }),
    };
}

/// The calling thread's id; `None` while its thread-locals are being torn
/// down (a value is then leaked, never touched).
fn current_thread_id() -> Option<ThreadId> {
    LOCAL.try_with(|local| local.id).ok()
}

/// Drops the values of this thread that other threads dropped (see the
/// module docs). Runs user code (a waker's drop inside compio's op), so call
/// it only where that may unwind: before a waiter becomes visible.
pub(super) fn reap_orphans() {
    let _ = LOCAL.try_with(|local| {
        // Acquire: pairs with the Release store after the push in `drop`,
        // so the lock we then take finds the orphan.
        if local.home.has_orphans.load(Acquire) {
            local.home.reap(false);
        }
    });
}

impl<T: 'static> ThreadBound<T> {
    /// Binds `value` to the calling thread.
    pub(super) fn new(value: T) -> Self {
        let (owner, home) = LOCAL
            .try_with(|local| (local.id, Some(Arc::clone(&local.home))))
            .unwrap_or_else(|_| (thread::current().id(), None));
        Self {
            owner,
            home,
            value: ManuallyDrop::new(value),
        }
    }

    /// The value, if called on its owner thread.
    pub(super) fn get_mut(&mut self) -> Option<&mut T> {
        (current_thread_id() == Some(self.owner)).then_some(&mut *self.value)
    }
}

impl<T: 'static> Drop for ThreadBound<T> {
    fn drop(&mut self) {
        if current_thread_id() == Some(self.owner) {
            // SAFETY: `value` is dropped once, here, and on the owner thread
            // (the invariant `Send` relies on); never touched afterwards.
            unsafe { ManuallyDrop::drop(&mut self.value) }
            return;
        }
        let Some(home) = &self.home else { return };
        // SAFETY: `value` is taken once, here, and never touched again by
        // `self`; it is moved (not touched) into a box that only its owner
        // thread drops (`Orphan`).
        let value = unsafe { ManuallyDrop::take(&mut self.value) };
        let orphan = Orphan(Box::new(value));
        let mut orphans = home.orphans.lock();
        match orphans.as_mut() {
            Some(orphans) => {
                orphans.push(orphan);
                // Release: pairs with the Acquire in `reap_orphans`.
                home.has_orphans.store(true, Release);
            }
            // The owner thread has exited: nobody may drop the value.
            None => std::mem::forget(orphan),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{rc::Rc, sync::mpsc};

    use super::*;

    /// A `!Send` value whose drop is observed through an atomic.
    struct Tracked {
        _not_send: Rc<()>,
        dropped_on: Arc<Mutex<Option<ThreadId>>>,
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            *self.dropped_on.lock() = Some(thread::current().id());
        }
    }

    fn tracked() -> (Tracked, Arc<Mutex<Option<ThreadId>>>) {
        let dropped_on = Arc::new(Mutex::new(None));
        let value = Tracked {
            _not_send: Rc::new(()),
            dropped_on: Arc::clone(&dropped_on),
        };
        (value, dropped_on)
    }

    /// Dropped on its own thread, a value drops there at once.
    #[test]
    fn dropped_at_home_drops_at_once() {
        let (value, dropped_on) = tracked();
        let mut bound = ThreadBound::new(value);
        assert!(bound.get_mut().is_some());
        drop(bound);
        assert_eq!(*dropped_on.lock(), Some(thread::current().id()));
    }

    /// Dropped on another thread, a value is not touched there: its home
    /// thread drops it at its next `reap_orphans`, or when it exits.
    #[test]
    fn dropped_elsewhere_is_dropped_by_its_home_thread() {
        let (to_home, from_test) = mpsc::channel::<()>();
        let (to_test, bound_rx) = mpsc::channel();
        let home = thread::spawn(move || {
            let (value, dropped_on) = tracked();
            to_test
                .send((ThreadBound::new(value), Arc::clone(&dropped_on)))
                .unwrap();
            // Reaped at the next call, once the test dropped it.
            from_test.recv().unwrap();
            reap_orphans();
            assert_eq!(*dropped_on.lock(), Some(thread::current().id()));
            // Another one, reaped when this thread exits.
            let (value, dropped_on) = tracked();
            to_test
                .send((ThreadBound::new(value), Arc::clone(&dropped_on)))
                .unwrap();
            from_test.recv().unwrap();
            (thread::current().id(), dropped_on)
        });
        let (mut bound, dropped_on) = bound_rx.recv().unwrap();
        assert!(bound.get_mut().is_none(), "touched on a foreign thread");
        drop(bound);
        assert_eq!(*dropped_on.lock(), None, "dropped on a foreign thread");
        to_home.send(()).unwrap();
        let (bound, dropped_on) = bound_rx.recv().unwrap();
        drop(bound);
        assert_eq!(*dropped_on.lock(), None);
        to_home.send(()).unwrap();
        let (home_id, dropped_on) = home.join().unwrap();
        assert_eq!(*dropped_on.lock(), Some(home_id), "not dropped at exit");
    }

    /// Dropped on another thread after its home thread exited, a value is
    /// leaked: nobody may drop it.
    #[test]
    fn dropped_after_its_home_exited_is_leaked() {
        let (bound, dropped_on) = thread::spawn(|| {
            let (value, dropped_on) = tracked();
            (ThreadBound::new(value), dropped_on)
        })
        .join()
        .unwrap();
        drop(bound);
        assert_eq!(*dropped_on.lock(), None);
    }
}
