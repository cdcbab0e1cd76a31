//! The locking protocol, without the data: [`RawRwLock`], two semaphores,
//! two counters and a [`Notify`] (see the module docs of `rwlock` for how
//! they fit together). Kept apart from `T`, as async-lock's `raw.rs`, so
//! that the locking code is compiled once per backend, not once per `T`.

use super::super::{
    flavor::{
        AtomicUsize,
        Ordering::{Acquire, Relaxed, Release, SeqCst},
        fence,
    },
    notify::Notify,
    semaphore::Semaphore,
};
use super::cohort::Cohorts;
use crate::{TryAcquireError, backend::WaitQueue, error::TryLockError};

/// The most readers a lock can admit at once: `u32::MAX >> 3`, as in tokio.
pub(super) const MAX_READS: u32 = u32::MAX >> 3;

/// The locking state without the data. Kept apart from `T` so that the
/// guards (and the locking code) need only this and a pointer to the data.
pub(crate) struct RawRwLock<B: WaitQueue> {
    /// `max_readers` permits: a reader holds one, a writer all of them.
    readers: Semaphore<B>,
    /// One permit, the writers' turn: held by the upgradable reader for as
    /// long as it exists (until it upgrades or leaves), and by a writer that
    /// has to wait, while it waits for `readers` (under strict FIFO only by
    /// one that found an upgradable reader). Same policy as `readers`.
    upgrade: Semaphore<B>,
    /// Upgradable readers holding (or leaving) `upgrade`: 0 or 1, briefly 2
    /// while one hands over to the next. A writer that sees 0 queues for
    /// `readers` directly, as in tokio.
    upgraders: AtomicUsize,
    /// Writers counted from before they look at `upgraders` until they hold
    /// `readers` or give up: the writers that may queue for `readers`
    /// without `upgrade`. An upgradable reader waits until there are none
    /// before it takes its read permit, so it never holds a read permit
    /// while such a writer waits (which, once it upgrades, would deadlock).
    direct_writers: AtomicUsize,
    /// The waiting writers of each thread, among which the turn (`upgrade`)
    /// passes first under the default policy (see `cohort.rs`).
    cohorts: Cohorts<B>,
    /// Woken when `direct_writers` drops to zero while `upgraders` is not.
    direct_writers_gone: Notify<B>,
    /// The permits of `readers` (a writer's share).
    max_readers: u32,
}

/// Uncounts a writer from `direct_writers` when it is dropped (it holds the
/// lock, or it was cancelled).
struct DirectWriter<'a, B: WaitQueue>(&'a RawRwLock<B>);

impl<B: WaitQueue> Drop for DirectWriter<'_, B> {
    fn drop(&mut self) {
        self.0.leave_direct();
    }
}

/// Uncounts an upgradable reader from `upgraders` if it is dropped before
/// it holds its read permit (cancelled); forgotten once it does.
struct Upgrader<'a, B: WaitQueue>(&'a RawRwLock<B>);

impl<B: WaitQueue> Drop for Upgrader<'_, B> {
    fn drop(&mut self) {
        self.0.upgraders.fetch_sub(1, Release);
    }
}

impl<B: WaitQueue> RawRwLock<B> {
    #[track_caller]
    pub(super) fn new(max_readers: u32) -> Self {
        assert_ne!(max_readers, 0, "a RwLock may not be created with 0 readers");
        assert!(
            max_readers <= MAX_READS,
            "a RwLock may not be created with more than {MAX_READS} readers"
        );
        let mut readers = Semaphore::with_backend(max_readers as usize);
        readers.set_local_phases();
        Self {
            readers,
            upgrade: Semaphore::with_backend(1),
            upgraders: AtomicUsize::new(0),
            direct_writers: AtomicUsize::new(0),
            cohorts: Cohorts::new(),
            direct_writers_gone: Notify::with_backend(),
            max_readers,
        }
    }

    #[cfg(not(loom))]
    pub(super) const fn const_new(max_readers: u32) -> Self {
        assert!(
            max_readers != 0,
            "a RwLock may not be created with 0 readers"
        );
        assert!(
            max_readers <= MAX_READS,
            "a RwLock may not be created with more than u32::MAX >> 3 readers"
        );
        let mut readers = Semaphore::const_with_backend(max_readers as usize);
        readers.set_local_phases();
        Self {
            readers,
            upgrade: Semaphore::const_with_backend(1),
            upgraders: AtomicUsize::new(0),
            direct_writers: AtomicUsize::new(0),
            cohorts: Cohorts::new(),
            direct_writers_gone: Notify::const_with_backend(),
            max_readers,
        }
    }

    pub(super) const fn set_strict_fifo(&mut self) {
        self.readers.set_strict_fifo();
        self.upgrade.set_strict_fifo();
    }

    pub(super) const fn set_starvation_bound(&mut self, bound: std::time::Duration) {
        self.readers.set_starvation_bound(bound);
        self.upgrade.set_starvation_bound(bound);
    }

    pub(super) async fn read(&self) {
        match self.readers.acquire().await {
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("a RwLock's semaphore is never closed"),
        }
    }

    pub(super) fn try_read(&self) -> Result<(), TryLockError> {
        take(self.readers.try_acquire())
    }

    pub(super) async fn write(&self) {
        // Fast path: the lock is free (and, under strict FIFO, nobody
        // waits): take every read permit, as tokio does.
        if self.try_write().is_ok() {
            return;
        }
        if !self.is_strict_fifo() {
            // Default policy: writers that have to wait take turns at
            // `upgrade`, so that the one waiting for the read permits always
            // claims their priority and queues ahead of the readers (see the
            // module docs). No upgradable reader can hold a read permit
            // meanwhile: it holds `upgrade` from before it takes one.
            return self.gated_write().await;
        }
        self.direct_writers.fetch_add(1, Relaxed);
        // SeqCst: orders our count before our look at `upgraders`, against
        // `announce_upgrader`'s (count; fence; look at `direct_writers`):
        // either it waits for us, or we see it.
        fence(SeqCst);
        if self.upgraders.load(Relaxed) == 0 {
            // No upgradable reader: queue for the read permits directly, in
            // arrival order with the readers, as in tokio.
            let _direct = DirectWriter(self);
            self.acquire_write_permits().await;
            return;
        }
        self.leave_direct();
        // An upgradable reader holds `upgrade`: wait for it to leave (or
        // upgrade and finish) first, then for the read permits.
        self.gated_write().await;
    }

    /// Waits for `upgrade` (the writers' turn), then for every read permit.
    /// Cancelled at either await, `upgrade` goes back on drop.
    async fn gated_write(&self) {
        // Default policy: the turn passes within the writer's thread first
        // (see `cohort.rs`). Strict FIFO keeps arrival order.
        if !self.is_strict_fifo()
            && let Some(mut place) = self.cohorts.arrive(&self.upgrade, &self.readers)
        {
            let gate = place.take_turn().await;
            self.acquire_write_permits().await;
            // Holding every read permit: the turn goes to the cohort's next
            // writer, or to every thread.
            place.hand_on();
            drop(gate);
            return;
        }
        let upgrade = self.upgrade.acquire().await;
        self.acquire_write_permits().await;
        // Holding every read permit (and no longer the readers' priority):
        // the next writer or upgradable reader may come.
        drop(upgrade);
    }

    /// Waits for every read permit, closing the read fast path meanwhile.
    async fn acquire_write_permits(&self) {
        let mut readers = self.readers.acquire_many(self.max_readers);
        readers.set_eager_priority();
        match readers.await {
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("a RwLock's semaphore is never closed"),
        }
    }

    /// Uncounts a direct writer; the last one wakes a waiting upgradable
    /// reader.
    fn leave_direct(&self) {
        let last = self.direct_writers.fetch_sub(1, Release) == 1;
        // SeqCst: orders the uncount before the look at `upgraders`, against
        // `announce_upgrader`'s (count; fence; look): either it sees no
        // direct writer, or we see it and wake it.
        fence(SeqCst);
        if last && self.upgraders.load(Relaxed) != 0 {
            self.direct_writers_gone.notify_one();
        }
    }

    pub(super) fn try_write(&self) -> Result<(), TryLockError> {
        take(self.readers.try_acquire_many(self.max_readers))
    }

    /// Counts an upgradable reader (which holds `upgrade`); the returned
    /// guard uncounts it unless forgotten (once it holds its read permit).
    fn announce_upgrader(&self) -> Upgrader<'_, B> {
        self.upgraders.fetch_add(1, Relaxed);
        // SeqCst: see `write` and `leave_direct`.
        fence(SeqCst);
        Upgrader(self)
    }

    /// Whether a direct writer may still be queued for `readers` (after
    /// `announce_upgrader`). Acquire: the writer's hold of the lock, or its
    /// cancellation, happens before our read permit.
    fn direct_writers_queued(&self) -> bool {
        self.direct_writers.load(Acquire) != 0
    }

    pub(super) async fn upgradable_read(&self) {
        let upgrade = self.upgrade.acquire().await;
        let upgrader = self.announce_upgrader();
        while self.direct_writers_queued() {
            // A writer that leaves after our look stores a wake-up that
            // this `notified` takes, so none is lost (at worst we look once
            // more).
            self.direct_writers_gone.notified().await;
        }
        self.read().await;
        std::mem::forget(upgrader);
        match upgrade {
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("a RwLock's semaphore is never closed"),
        }
    }

    pub(super) fn try_upgradable_read(&self) -> Result<(), TryLockError> {
        let upgrade = self.upgrade.try_acquire();
        take(upgrade)?;
        let upgrader = self.announce_upgrader();
        let read = if self.direct_writers_queued() {
            Err(TryLockError(()))
        } else {
            self.try_read()
        };
        if let Err(e) = read {
            drop(upgrader);
            self.upgrade.release(1);
            return Err(e);
        }
        std::mem::forget(upgrader);
        Ok(())
    }

    /// The upgradable reader stops being one (it upgraded, downgraded or
    /// left): uncounted, then `upgrade` goes to the next.
    fn upgrader_leaves(&self) {
        self.upgraders.fetch_sub(1, Release);
        self.upgrade.release(1);
    }

    /// Upgradable read to write: waits for the other read permits. The
    /// caller holds `upgrade` and one read permit throughout; if this is
    /// cancelled, it still holds exactly those.
    pub(super) async fn upgrade(&self) {
        let mut rest = self.readers.acquire_many(self.max_readers - 1);
        rest.set_eager_priority();
        match rest.await {
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("a RwLock's semaphore is never closed"),
        }
        self.upgrader_leaves();
    }

    pub(super) fn try_upgrade(&self) -> Result<(), TryLockError> {
        take(self.readers.try_acquire_many(self.max_readers - 1))?;
        self.upgrader_leaves();
        Ok(())
    }

    pub(super) fn read_unlock(&self) {
        self.readers.release(1);
    }

    /// Gives back every read permit: under the default policy the head of
    /// the queue is woken and wakes the next in turn (the wake chain; see
    /// the module docs for why not all at once); under strict FIFO they are
    /// handed to the queue in order.
    pub(super) fn write_unlock(&self) {
        self.readers.release(self.max_readers as usize);
    }

    /// Write to read: gives back all read permits but one, to the waiters
    /// first, under either policy: the readers queued behind the writer are
    /// woken in one batch (the lock stays read-held by the downgraded guard
    /// anyway, so the next writer waits for it whoever else joins).
    pub(super) fn downgrade_write(&self) {
        self.readers
            .release_to_waiters(self.max_readers as usize - 1);
    }

    pub(super) fn upgradable_unlock(&self) {
        // The read permit first: a writer that takes `upgrade` next then
        // finds it already back.
        self.readers.release(1);
        self.upgrader_leaves();
    }

    /// Upgradable read to plain read.
    pub(super) fn downgrade_upgradable(&self) {
        self.upgrader_leaves();
    }
}

/// Keeps the permits of a successful `try_acquire*` (the guard releases
/// them) or maps the failure to tokio's error.
fn take<P>(result: Result<P, TryAcquireError>) -> Result<(), TryLockError> {
    match result {
        Ok(permit) => {
            std::mem::forget(permit);
            Ok(())
        }
        Err(TryAcquireError::NoPermits) => Err(TryLockError(())),
        Err(TryAcquireError::Closed) => unreachable!("a RwLock's semaphore is never closed"),
    }
}

impl<B: WaitQueue> RawRwLock<B> {
    /// Whether the readers' semaphore is strict FIFO.
    pub(super) fn is_strict_fifo(&self) -> bool {
        self.readers.is_strict_fifo()
    }
}
