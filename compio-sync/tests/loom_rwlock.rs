//! Loom models of the races RwLock must win, each run on every backend
//! under both policies.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" \
//!     cargo test --release -p compio-sync --test loom_rwlock
//! ```
//!
//! The data is a loom cell, so loom checks that a writer never overlaps a
//! reader or another writer; a lost wake-up shows up as a deadlock (loom's
//! `block_on` parks with nobody left to wake it).
#![cfg(loom)]

mod common;
#[path = "common/loom.rs"]
mod loom_model;

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Waker},
};

use compio_sync::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockUpgradableReadGuard,
    backend::MutexVecDeque,
};
use loom::{cell::UnsafeCell, future::block_on, thread};
use loom_model::{Backend, Class, check_on};

/// A loom cell that the lock shares between threads.
struct Data(UnsafeCell<usize>);

// SAFETY: the cell is only touched through the lock's guards (shared reads
// under a read guard, writes under a write guard); loom checks that those
// accesses never race, which is what these models test.
unsafe impl Sync for Data {}

impl Data {
    fn get(&self) -> usize {
        // SAFETY: called under a guard (see the `Sync` impl).
        self.0.with(|p| unsafe { *p })
    }

    fn bump(&self) {
        // SAFETY: called under a write guard (see the `Sync` impl).
        self.0.with_mut(|p| unsafe { *p += 1 });
    }
}

fn lock<B: Backend>(strict: bool) -> Arc<RwLock<Data, B>> {
    let l = RwLock::<_, B>::with_backend(Data(UnsafeCell::new(0)));
    Arc::new(if strict { l.strict_fifo() } else { l })
}

/// A reader holds the lock; a writer waits for it while a second reader
/// arrives, and the first reader leaves. Everyone completes, the writer
/// never overlaps a reader, and the second reader sees 0 or 1, never a
/// torn state.
fn writer_waiting_vs_reader_arriving<B: Backend>(strict: bool) {
    check_on::<B>(Class::Large, move || {
        let l = lock::<B>(strict);
        let held = l.clone().try_read_owned().unwrap();
        let writer = {
            let l = l.clone();
            thread::spawn(move || block_on(l.write()).bump())
        };
        let reader = {
            let l = l.clone();
            thread::spawn(move || block_on(l.read()).get())
        };
        drop(held);
        writer.join().unwrap();
        assert!(reader.join().unwrap() <= 1);
        assert_eq!(l.try_write().expect("free at the end").get(), 1);
    });
}

/// An upgradable reader lets a plain reader go and upgrades, while a writer
/// on another thread tries to get in. Both write, one after the other (the
/// upgrade first: no writer gets in between), and the lock ends free.
fn upgrade_vs_write<B: Backend>(strict: bool) {
    check_on::<B>(Class::Large, move || {
        let l = lock::<B>(strict);
        let held = l.clone().try_read_owned().unwrap();
        let u = l.try_upgradable_read().unwrap();
        let writer = {
            let l = l.clone();
            thread::spawn(move || block_on(l.write()).bump())
        };
        drop(held);
        let w = block_on(RwLockUpgradableReadGuard::upgrade(u));
        assert_eq!(w.get(), 0, "no writer between the read and the upgrade");
        w.bump();
        drop(w);
        writer.join().unwrap();
        assert_eq!(l.try_write().expect("free at the end").get(), 2);
    });
}

/// A writer that finds a reader queues for the lock on one thread, the
/// reader leaves on another, and an upgradable read starts and upgrades on
/// a third: whichever
/// way the writer's look for an upgradable reader and the upgradable
/// reader's look for queued writers race, nobody deadlocks, no writer gets
/// in between the upgradable read and its upgrade, and both writes land.
fn upgradable_read_vs_direct_writer<B: Backend>(strict: bool) {
    check_on::<B>(Class::Large, move || {
        let l = lock::<B>(strict);
        let held = l.clone().try_read_owned().unwrap();
        let writer = {
            let l = l.clone();
            thread::spawn(move || block_on(l.write()).bump())
        };
        let reader = thread::spawn(move || drop(held));
        let u = block_on(l.upgradable_read());
        let seen = u.get();
        let w = block_on(RwLockUpgradableReadGuard::upgrade(u));
        assert_eq!(w.get(), seen, "no writer between the read and the upgrade");
        w.bump();
        drop(w);
        writer.join().unwrap();
        reader.join().unwrap();
        assert_eq!(l.try_write().expect("free at the end").get(), 2);
    });
}

/// A writer holding the writers' turn waits for a reader (default policy;
/// under strict FIFO it queues for the read permits directly). The reader
/// leaves on one thread and an upgradable read, which needs the turn,
/// starts on another: the writer gives the turn back when it gets the lock,
/// racing the upgradable reader's registration for it. The turn is not
/// lost: the upgradable reader gets it, and after it the turn is free.
fn turn_given_back_vs_upgradable_reader<B: Backend>(strict: bool) {
    check_on::<B>(Class::Primitive, move || {
        let l = lock::<B>(strict);
        let held = l.clone().try_read_owned().unwrap();
        let mut writer = Box::pin(l.clone().write_owned());
        let cx = &mut Context::from_waker(Waker::noop());
        assert!(writer.as_mut().poll(cx).is_pending());
        let reader = thread::spawn(move || drop(held));
        let upgradable = {
            let l = l.clone();
            thread::spawn(move || block_on(l.upgradable_read()).get())
        };
        block_on(writer).bump();
        reader.join().unwrap();
        assert!(upgradable.join().unwrap() <= 1);
        drop(l.try_upgradable_read().expect("the turn is free"));
        assert_eq!(l.try_write().expect("free at the end").get(), 1);
    });
}

/// A writer queued behind a reader is cancelled on one thread while a
/// second reader, queued behind the writer, waits on another: the cancel
/// releases the second reader although the first still holds the lock.
fn cancelled_writer_releases_readers<B: Backend>(strict: bool) {
    check_on::<B>(Class::Primitive, move || {
        let l = lock::<B>(strict);
        let held = l.try_read().unwrap();
        let mut write = Box::pin(l.clone().write_owned());
        assert!(
            write
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
        let canceller = thread::spawn(move || drop(write));
        let reader = {
            let l = l.clone();
            thread::spawn(move || {
                block_on(async {
                    let r = l.read().await;
                    r.get()
                })
            })
        };
        assert_eq!(reader.join().unwrap(), 0);
        canceller.join().unwrap();
        drop(held);
        assert!(l.try_write().is_ok(), "no permit lost");
    });
}

/// A writer holds the lock while two readers on two threads queue, and
/// unlocks as they register: under the default policy its unlock wakes the
/// head reader only, which wakes the next once it has its read (the wake
/// chain); under strict FIFO it hands both their reads. Either way both
/// readers get in and see the write: a chain that stopped early, or a
/// wake-up lost against a registering reader, deadlocks here.
fn write_unlock_reaches_every_queued_reader<B: Backend>(strict: bool) {
    check_on::<B>(Class::Large, move || {
        let l = lock::<B>(strict);
        let w = l.try_write().unwrap();
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let l = l.clone();
                thread::spawn(move || block_on(l.read()).get())
            })
            .collect();
        w.bump();
        drop(w);
        for r in readers {
            assert_eq!(r.join().unwrap(), 1);
        }
        assert!(l.try_write().is_ok(), "no permit lost");
    });
}

/// A reader holds the lock; two writers on two threads wait for it (under
/// the default policy one holds the writers' turn and queues, the other
/// waits for the turn), and the reader leaves. Both writes land, one at a
/// time, and the lock ends free: a turn that is not passed on, or a writer
/// that queues without the priority and is never woken, deadlocks here.
fn writers_take_turns<B: Backend>(strict: bool) {
    check_on::<B>(Class::Large, move || {
        let l = lock::<B>(strict);
        let held = l.clone().try_read_owned().unwrap();
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let l = l.clone();
                thread::spawn(move || block_on(l.write()).bump())
            })
            .collect();
        drop(held);
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(l.try_write().expect("free at the end").get(), 2);
    });
}

/// A reader holds the lock and two writers wait behind it (polled once
/// with a no-op waker): under the default policy the first holds the
/// writers' turn and waits for the reader, and the second waits at the
/// cohort's gate (every loom thread is in the one cohort); under strict
/// FIFO both queue for the read permits.
struct TwoWriters<B: Backend, W> {
    held: OwnedRwLockReadGuard<Data, Data, B>,
    first: Pin<Box<W>>,
    second: Pin<Box<W>>,
}

fn two_writers_behind_a_reader<B: Backend>(
    l: &Arc<RwLock<Data, B>>,
) -> TwoWriters<B, impl Future<Output = OwnedRwLockWriteGuard<Data, B>> + use<B>> {
    let held = l.clone().try_read_owned().unwrap();
    let cx = &mut Context::from_waker(Waker::noop());
    let mut first = Box::pin(l.clone().write_owned());
    assert!(first.as_mut().poll(cx).is_pending());
    let mut second = Box::pin(l.clone().write_owned());
    assert!(second.as_mut().poll(cx).is_pending());
    TwoWriters {
        held,
        first,
        second,
    }
}

/// The second of two writers waiting behind a reader is cancelled on one
/// thread while the reader leaves on another. The lock reaches the first
/// writer, and under the default policy its hand-over of the writers' turn
/// races the cancellation of the writer it would pass it to (writer
/// cohorts): whichever comes first, the turn must not stay parked. A later
/// writer gets the lock, and so does an upgradable reader, which needs the
/// turn (a writer's fast path alone would not notice a lost turn).
fn cancelled_writer_waiting_for_its_turn<B: Backend>(strict: bool) {
    check_on::<B>(Class::Large, move || {
        let l = lock::<B>(strict);
        let TwoWriters {
            held,
            first,
            second,
        } = two_writers_behind_a_reader(&l);
        let canceller = thread::spawn(move || drop(second));
        let reader = thread::spawn(move || drop(held));
        block_on(first).bump();
        canceller.join().unwrap();
        reader.join().unwrap();
        block_on(l.write()).bump();
        assert_eq!(l.try_write().expect("free at the end").get(), 2);
        drop(l.try_upgradable_read().expect("the turn is free"));
    });
}

/// Writer cohorts: the second writer takes the turn the first passed it
/// and waits for the first's write lock; it is cancelled on one thread
/// while the first unlocks on another. The turn goes back to every thread
/// and the readers' priority is given up: a reader and a writer both get
/// the lock afterwards.
fn cohort_recipient_cancelled_holding_the_turn<B: Backend>(strict: bool) {
    check_on::<B>(Class::Large, move || {
        let l = lock::<B>(strict);
        let TwoWriters {
            held,
            first,
            mut second,
        } = two_writers_behind_a_reader(&l);
        let cx = &mut Context::from_waker(Waker::noop());
        drop(held);
        let guard = block_on(first);
        guard.bump();
        // The first writer holds the lock: the second takes the gate (and,
        // by default, the turn passed to it) and queues for the lock.
        assert!(second.as_mut().poll(cx).is_pending());
        let canceller = thread::spawn(move || drop(second));
        let unlocker = thread::spawn(move || drop(guard));
        canceller.join().unwrap();
        unlocker.join().unwrap();
        assert_eq!(block_on(l.read()).get(), 1);
        block_on(l.write()).bump();
        assert_eq!(l.try_write().expect("free at the end").get(), 2);
        drop(l.try_upgradable_read().expect("the turn is free"));
    });
}

macro_rules! loom_suite {
    ($name:ident, $backend:ty, $($order:tt)+) => {
        mod $name {
            type B = $backend;

            #[test]
            fn writer_waiting_vs_reader_arriving() {
                super::writer_waiting_vs_reader_arriving::<B>(false);
            }
            #[test]
            fn writer_waiting_vs_reader_arriving_strict_fifo() {
                super::writer_waiting_vs_reader_arriving::<B>(true);
            }
            #[test]
            fn upgrade_vs_write() {
                super::upgrade_vs_write::<B>(false);
            }
            #[test]
            fn upgrade_vs_write_strict_fifo() {
                super::upgrade_vs_write::<B>(true);
            }
            #[test]
            fn cancelled_writer_releases_readers() {
                super::cancelled_writer_releases_readers::<B>(false);
            }
            #[test]
            fn cancelled_writer_releases_readers_strict_fifo() {
                super::cancelled_writer_releases_readers::<B>(true);
            }
            #[test]
            fn write_unlock_reaches_every_queued_reader() {
                super::write_unlock_reaches_every_queued_reader::<B>(false);
            }
            #[test]
            fn write_unlock_reaches_every_queued_reader_strict_fifo() {
                super::write_unlock_reaches_every_queued_reader::<B>(true);
            }
            #[test]
            fn writers_take_turns() {
                super::writers_take_turns::<B>(false);
            }
            #[test]
            fn writers_take_turns_strict_fifo() {
                super::writers_take_turns::<B>(true);
            }
            #[test]
            fn cancelled_writer_waiting_for_its_turn() {
                super::cancelled_writer_waiting_for_its_turn::<B>(false);
            }
            #[test]
            fn cancelled_writer_waiting_for_its_turn_strict_fifo() {
                super::cancelled_writer_waiting_for_its_turn::<B>(true);
            }
            #[test]
            fn turn_given_back_vs_upgradable_reader() {
                super::turn_given_back_vs_upgradable_reader::<B>(false);
            }
            #[test]
            fn turn_given_back_vs_upgradable_reader_strict_fifo() {
                super::turn_given_back_vs_upgradable_reader::<B>(true);
            }
            #[test]
            fn cohort_recipient_cancelled_holding_the_turn() {
                super::cohort_recipient_cancelled_holding_the_turn::<B>(false);
            }
        }
    };
}

for_each_backend!(loom_suite, once);

/// The three-thread model, on one backend: the race it checks is the
/// RwLock's own (a writer's look for an upgradable reader against the
/// upgradable reader's look for writers), which every backend reaches the
/// same way; on all four it would take about a minute. It fails (deadlock)
/// if the upgradable reader does not wait for the writers it saw.
mod upgradable {
    use super::*;

    #[test]
    fn upgradable_read_vs_direct_writer() {
        super::upgradable_read_vs_direct_writer::<MutexVecDeque>(false);
    }
    #[test]
    fn upgradable_read_vs_direct_writer_strict_fifo() {
        super::upgradable_read_vs_direct_writer::<MutexVecDeque>(true);
    }
}
