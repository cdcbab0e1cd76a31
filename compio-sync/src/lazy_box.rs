//! [`LazyBox`]: a value on the heap, allocated by the first thread that
//! needs it. `RwLock` keeps its writer cohorts here (`rwlock/cohort.rs`):
//! most locks never have a writer wait, and they should not carry the
//! cohorts' few hundred bytes. Loom's atomics under `cfg(loom)`, so the
//! models see the race between two first users.

use std::{marker::PhantomData, ptr};

use crate::loom::atomic::{
    AtomicPtr,
    Ordering::{AcqRel, Acquire},
};

/// A `T` allocated on first use, freed with the `LazyBox`. The same
/// contract as `std::sync::OnceLock<Box<T>>`, whose first users block each
/// other while one initializes; here each racer builds its own value and
/// the loser frees its copy, which needs no lock (and no waiting under
/// loom).
pub(crate) struct LazyBox<T> {
    ptr: AtomicPtr<T>,
    /// Owns a `T` (for drop check and the auto traits, overridden below).
    _owns: PhantomData<Box<T>>,
}

// SAFETY: a `LazyBox<T>` owns at most one `T` (a `Box<T>` behind `ptr`):
// sending it sends the `T`.
unsafe impl<T: Send> Send for LazyBox<T> {}
// SAFETY: through `&LazyBox<T>` a thread may create the `T` (which another
// thread then drops: `T: Send`) or use it shared (`T: Sync`), as with
// `OnceLock<T>`.
unsafe impl<T: Send + Sync> Sync for LazyBox<T> {}

impl<T> LazyBox<T> {
    /// Empty: nothing allocated.
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
            _owns: PhantomData,
        }
    }

    /// Empty: nothing allocated (loom's atomics have no `const fn new`).
    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
            _owns: PhantomData,
        }
    }

    /// The value, allocated with `init` by the first caller. Callers that
    /// race may each run `init`; all but one value are dropped unused.
    pub(crate) fn get_or_init(&self, init: impl FnOnce() -> T) -> &T {
        // Acquire: the value's initialization by the thread that published
        // it happens-before our use (pairs with the AcqRel CAS below).
        let mut current = self.ptr.load(Acquire);
        if current.is_null() {
            let fresh = Box::into_raw(Box::new(init()));
            // AcqRel: Release publishes our initialized value; Acquire (also
            // on failure) makes the winner's initialization visible to us.
            match self
                .ptr
                .compare_exchange(ptr::null_mut(), fresh, AcqRel, Acquire)
            {
                Ok(_) => current = fresh,
                Err(winner) => {
                    // SAFETY: `fresh` came from `Box::into_raw` just above
                    // and the failed CAS published it to nobody.
                    drop(unsafe { Box::from_raw(fresh) });
                    current = winner;
                }
            }
        }
        // SAFETY: `current` is non-null, so it came from `Box::into_raw` and
        // was published by the CAS; it is freed only by `drop`, which needs
        // `&mut self`, so it lives as long as the `&self` we return it for.
        unsafe { &*current }
    }
}

impl<T> Drop for LazyBox<T> {
    fn drop(&mut self) {
        // (`&mut self`: no other user, so the ordering is moot.)
        let current = self.ptr.load(Acquire);
        if !current.is_null() {
            // SAFETY: non-null, so from `Box::into_raw` in `get_or_init`,
            // and freed only here, once.
            drop(unsafe { Box::from_raw(current) });
        }
    }
}

impl<T> Default for LazyBox<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::{
        Arc, Barrier,
        atomic::{AtomicUsize, Ordering::SeqCst},
    };

    use super::LazyBox;

    /// Counts live values, to check that every value built is dropped once.
    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_sub(1, SeqCst);
        }
    }

    #[test]
    fn racing_first_users_share_one_value_and_leak_none() {
        let live = Arc::new(AtomicUsize::new(0));
        for _ in 0..200 {
            let lazy = Arc::new(LazyBox::new());
            let start = Arc::new(Barrier::new(4));
            let seen: Vec<usize> = (0..4)
                .map(|_| {
                    let (lazy, start, live) = (lazy.clone(), start.clone(), live.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        let value = lazy.get_or_init(|| {
                            live.fetch_add(1, SeqCst);
                            Counted(live.clone())
                        });
                        std::ptr::from_ref(value) as usize
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect();
            assert!(seen.iter().all(|&p| p == seen[0]), "one value for all");
            assert_eq!(live.load(SeqCst), 1, "the losers' values are dropped");
            drop(lazy);
            assert_eq!(live.load(SeqCst), 0, "the value is dropped with the box");
        }
    }

    #[test]
    fn unused_allocates_nothing_and_init_runs_once() {
        let lazy: LazyBox<u32> = LazyBox::new();
        drop(lazy);
        let lazy = LazyBox::new();
        assert_eq!(*lazy.get_or_init(|| 7), 7);
        assert_eq!(*lazy.get_or_init(|| unreachable!("already initialized")), 7);
    }
}
