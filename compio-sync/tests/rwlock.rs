//! The RwLock contract suite: every test is written once, generic over the
//! backend `B` and the executor `E`, and instantiated for every backend on
//! compio and on `futures::executor`, under both fairness policies, by the
//! `contract_suite!` lines below. Then: tests of one policy, panics, auto
//! traits, hostile wakers, and the single-thread flavor (`mod local`).
//! (tokio's own tests: `tests/tokio_rwlock.rs`; loom: `tests/loom_rwlock.rs`.)
#![cfg(not(loom))]

mod common;

use std::{
    pin::pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::SeqCst},
    },
    task::Poll,
    thread,
};

use common::*;
use compio_sync::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
    TryLockError, backend::ThreadSafe,
};
use futures::future::join_all;

fn rwlock<B: ThreadSafe, T>(value: T, max_readers: u32, strict: bool) -> RwLock<T, B> {
    let l = RwLock::<T, B>::with_backend_and_max_readers(value, max_readers);
    if strict { l.strict_fifo() } else { l }
}

fn lock<B: ThreadSafe, T>(value: T, strict: bool) -> RwLock<T, B> {
    let l = RwLock::<T, B>::with_backend(value);
    if strict { l.strict_fifo() } else { l }
}

/// Readers share, a writer excludes everyone, `try_*` fail with tokio's
/// error while the lock is held the other way.
pub fn readers_share_writer_excludes<B: ThreadSafe>(strict: bool) {
    let l = lock::<B, _>(1, strict);
    let (r1, r2) = (l.try_read().unwrap(), l.try_read().unwrap());
    assert_eq!(*r1 + *r2, 2);
    let err = l.try_write().unwrap_err();
    assert_eq!(err, TryLockError::clone(&err));
    assert_eq!(err.to_string(), "operation would block");
    drop((r1, r2));
    let mut w = l.try_write().unwrap();
    *w = 5;
    assert!(l.try_read().is_err());
    assert!(l.try_write().is_err());
    assert!(l.try_upgradable_read().is_err());
    drop(w);
    assert_eq!(*l.try_read().unwrap(), 5);
}

/// Writers do not starve: once a writer waits behind a reader, new readers
/// (and `try_read`) wait behind it, under both policies; when the reader
/// leaves the writer gets the lock, then the readers that queued.
pub fn waiting_writer_blocks_new_readers<B: ThreadSafe>(strict: bool) {
    let l = lock::<B, _>(0, strict);
    let r1 = l.try_read().unwrap();
    let (w_woken, w_waker) = counting_waker();
    let (r_woken, r_waker) = counting_waker();
    let mut write = pin!(l.write());
    assert!(poll_once(write.as_mut(), &w_waker).is_pending());
    assert!(l.try_read().is_err(), "try_read queues behind the writer");
    let mut read = pin!(l.read());
    assert!(poll_once(read.as_mut(), &r_waker).is_pending());
    drop(r1);
    assert_eq!(w_woken.wakes.load(SeqCst), 1);
    let Poll::Ready(mut w) = poll_once(write.as_mut(), &w_waker) else {
        panic!("the writer gets the lock once the reader leaves");
    };
    assert!(poll_once(read.as_mut(), &r_waker).is_pending());
    *w = 1;
    drop(w);
    assert_eq!(r_woken.wakes.load(SeqCst), 1);
    let Poll::Ready(r) = poll_once(read.as_mut(), &r_waker) else {
        panic!("the queued reader follows the writer");
    };
    assert_eq!(*r, 1);
}

/// Cancel at `read`'s await point: a queued read dropped leaves nothing.
pub fn cancelled_read_leaves_no_trace<B: ThreadSafe>(strict: bool) {
    let l = rwlock::<B, _>((), 2, strict);
    let w = l.try_write().unwrap();
    let (_c, waker) = counting_waker();
    {
        let mut read = pin!(l.read());
        assert!(poll_once(read.as_mut(), &waker).is_pending());
    }
    drop(w);
    let (a, b) = (l.try_read().unwrap(), l.try_read().unwrap());
    assert!(l.try_read().is_err(), "exactly max_readers permits");
    drop((a, b));
    assert!(l.try_write().is_ok());
}

/// A read that was handed the lock (woken) and is dropped before it runs
/// passes its permit on: the other reader and then a writer get in.
pub fn granted_then_cancelled_read_passes_permit_on<B: ThreadSafe>(strict: bool) {
    let l = rwlock::<B, _>(0, 1, strict);
    let w = l.try_write().unwrap();
    let (a_woken, a_waker) = counting_waker();
    let (b_woken, b_waker) = counting_waker();
    let mut a = Box::pin(l.read());
    let mut b = pin!(l.read());
    assert!(poll_once(a.as_mut(), &a_waker).is_pending());
    assert!(poll_once(b.as_mut(), &b_waker).is_pending());
    drop(w);
    assert_eq!(a_woken.wakes.load(SeqCst), 1);
    drop(a);
    assert_eq!(b_woken.wakes.load(SeqCst), 1, "the permit moved on");
    let Poll::Ready(r) = poll_once(b.as_mut(), &b_waker) else {
        panic!("the second reader gets the lock");
    };
    drop(r);
    assert!(l.try_write().is_ok());
}

/// Cancel at `write`'s first await point (waiting behind an upgradable
/// reader) and at its second (waiting for the readers' permits): readers
/// that queued behind it proceed, and no permit is lost.
pub fn cancelled_write_releases_queued_readers<B: ThreadSafe>(strict: bool) {
    let l = lock::<B, _>(0, strict);
    let (_c, waker) = counting_waker();
    // First await point.
    let upgradable = l.try_upgradable_read().unwrap();
    {
        let mut write = pin!(l.write());
        assert!(poll_once(write.as_mut(), &waker).is_pending());
        assert!(
            l.try_read().is_ok(),
            "a writer behind an upgradable reader blocks no reader"
        );
    }
    drop(upgradable);
    assert!(
        l.try_upgradable_read().is_ok(),
        "the upgrade permit came back"
    );
    // Second await point.
    let r = l.try_read().unwrap();
    let (r_woken, r_waker) = counting_waker();
    let mut read = pin!(l.read());
    {
        let mut write = pin!(l.write());
        assert!(poll_once(write.as_mut(), &waker).is_pending());
        assert!(poll_once(read.as_mut(), &r_waker).is_pending());
    }
    assert_eq!(
        r_woken.wakes.load(SeqCst),
        1,
        "the queued reader is released"
    );
    assert!(poll_once(read.as_mut(), &r_waker).is_ready());
    drop(r);
    assert!(l.try_write().is_ok(), "no permit lost");
    assert!(l.try_upgradable_read().is_ok());
}

/// Waiting writers of one thread (one cohort, under the default policy):
/// the writer that gets the lock passes the writers' turn to the next one
/// waiting; the turn reaches a writer behind a cancelled one, and comes
/// back to every thread when the writers it was passed to are all
/// cancelled. Checked through an upgradable reader, which needs the turn.
pub fn cohort_turn_survives_cancelled_writers<B: ThreadSafe>(strict: bool) {
    let l = lock::<B, _>(0, strict);
    let (_w, waker) = counting_waker();
    for all_cancelled in [false, true] {
        let r = l.try_read().unwrap();
        let mut writers: Vec<_> = (0..3).map(|_| Box::pin(l.write())).collect();
        for w in &mut writers {
            assert!(poll_once(w.as_mut(), &waker).is_pending());
        }
        drop(r);
        let mut third = writers.pop().unwrap();
        let second = writers.pop().unwrap();
        let Poll::Ready(mut guard) = poll_once(writers[0].as_mut(), &waker) else {
            panic!("the reader left: the first writer has the lock")
        };
        *guard += 1;
        if !strict {
            assert!(
                l.try_upgradable_read().is_err(),
                "the turn is passed to the writers waiting"
            );
        }
        drop(second);
        if all_cancelled {
            drop(third);
            drop(guard);
        } else {
            // Passed on past the cancelled writer.
            assert!(poll_once(third.as_mut(), &waker).is_pending());
            drop(guard);
            let Poll::Ready(mut guard) = poll_once(third.as_mut(), &waker) else {
                panic!("the first writer left: the third has the lock")
            };
            *guard += 1;
        }
        assert!(l.try_upgradable_read().is_ok(), "the turn came back");
    }
    assert_eq!(*l.try_write().expect("free at the end"), 3);
}

/// A writer woken with the lock and dropped before it runs passes it on.
pub fn granted_then_cancelled_write_passes_lock_on<B: ThreadSafe>(strict: bool) {
    let l = lock::<B, _>(0, strict);
    let r = l.try_read().unwrap();
    let (w_woken, w_waker) = counting_waker();
    let (r_woken, r_waker) = counting_waker();
    let mut write = Box::pin(l.write());
    assert!(poll_once(write.as_mut(), &w_waker).is_pending());
    let mut read = pin!(l.read());
    assert!(poll_once(read.as_mut(), &r_waker).is_pending());
    drop(r);
    assert_eq!(w_woken.wakes.load(SeqCst), 1);
    drop(write);
    assert_eq!(r_woken.wakes.load(SeqCst), 1);
    assert!(poll_once(read.as_mut(), &r_waker).is_ready());
    assert!(l.try_write().is_ok());
}

/// Strict FIFO: writers queued behind a reader are served in arrival
/// order, before a reader that queued after them (tokio's order). (The
/// default policy's order: `default_policy_writers_take_turns`.)
pub fn strict_fifo_queued_writers_served_before_later_readers<B: ThreadSafe>() {
    let l = lock::<B, _>(Vec::new(), true);
    let r = l.try_read().unwrap();
    let (_c, waker) = counting_waker();
    let mut w1 = pin!(async { l.write().await.push("w1") });
    let mut w2 = pin!(async { l.write().await.push("w2") });
    let mut r2 = pin!(async { l.read().await.len() });
    assert!(poll_once(w1.as_mut(), &waker).is_pending());
    assert!(poll_once(w2.as_mut(), &waker).is_pending());
    assert!(poll_once(r2.as_mut(), &waker).is_pending());
    drop(r);
    assert!(
        poll_once(r2.as_mut(), &waker).is_pending(),
        "behind both writers"
    );
    assert!(
        poll_once(w2.as_mut(), &waker).is_pending(),
        "behind the first writer"
    );
    assert!(poll_once(w1.as_mut(), &waker).is_ready());
    assert!(
        poll_once(r2.as_mut(), &waker).is_pending(),
        "behind the second writer"
    );
    assert!(poll_once(w2.as_mut(), &waker).is_ready());
    assert_eq!(poll_once(r2.as_mut(), &waker), Poll::Ready(2));
}

/// `downgrade` lets queued readers in at once, and keeps writers out.
pub fn downgrade_admits_queued_readers<B: ThreadSafe>(strict: bool) {
    let l = lock::<B, _>(0, strict);
    let mut w = l.try_write().unwrap();
    let (r_woken, r_waker) = counting_waker();
    let mut read = pin!(l.read());
    assert!(poll_once(read.as_mut(), &r_waker).is_pending());
    *w = 3;
    let r = w.downgrade();
    assert_eq!(r_woken.wakes.load(SeqCst), 1);
    let Poll::Ready(r2) = poll_once(read.as_mut(), &r_waker) else {
        panic!("a queued reader gets in after the downgrade");
    };
    assert_eq!((*r, *r2), (3, 3));
    assert!(l.try_write().is_err());
    drop((r, r2));
    let w = l.try_write().unwrap();
    let r = RwLockWriteGuard::downgrade_map(w, |v| v);
    assert!(l.try_read().is_ok() && l.try_write().is_err());
    drop(r);
    let w = l.try_write().unwrap();
    let w = RwLockWriteGuard::try_downgrade_map(w, |_| None::<&u8>).unwrap_err();
    assert!(
        l.try_read().is_err(),
        "a failed try_downgrade_map keeps the write lock"
    );
    drop(w);
}

/// Mapped guards hold the lock until dropped; a failed `try_map` gives the
/// guard back, still locked.
pub fn mapped_guards_hold_the_lock<B: ThreadSafe>(strict: bool) {
    let l = lock::<B, _>((1, vec![10, 20]), strict);
    let mut v = RwLockWriteGuard::map(l.try_write().unwrap(), |t| &mut t.1);
    v.push(30);
    assert!(l.try_read().is_err());
    let mut last = RwLockMappedWriteGuard::try_map(v, |v| v.last_mut())
        .ok()
        .unwrap();
    *last = 31;
    drop(last);
    let w = RwLockWriteGuard::into_mapped(l.try_write().unwrap());
    let w = RwLockMappedWriteGuard::try_map(w, |t| t.1.get_mut(9)).unwrap_err();
    assert!(l.try_read().is_err());
    drop(w);
    let r = RwLockReadGuard::map(l.try_read().unwrap(), |t| &t.1);
    assert_eq!(*r, [10, 20, 31]);
    let r = RwLockReadGuard::try_map(r, |v| v.get(9)).unwrap_err();
    assert!(l.try_write().is_err());
    drop(r);
    assert!(l.try_write().is_ok());
}

/// Owned guards move into tasks and map; each releases exactly its permits.
pub fn owned_guards_move_and_map<B: ThreadSafe, E: Exec>(strict: bool) {
    let l = Arc::new(lock::<B, _>((0, 0), strict));
    E::block_on(async {
        let mut w = l.clone().write_owned().await;
        w.0 = 1;
        let r = w.downgrade();
        assert!(Arc::ptr_eq(OwnedRwLockReadGuard::rwlock(&r), &l));
        let first = OwnedRwLockReadGuard::map(r, |p| &p.0);
        assert_eq!(*first, 1);
        let first = OwnedRwLockReadGuard::try_map(first, |_| None::<&u8>).unwrap_err();
        drop(first);
        let w = l.clone().try_write_owned().unwrap();
        let mut second = OwnedRwLockWriteGuard::map(w, |p| &mut p.1);
        *second = 2;
        assert!(Arc::ptr_eq(
            OwnedRwLockMappedWriteGuard::rwlock(&second),
            &l
        ));
        let second = OwnedRwLockMappedWriteGuard::try_map(second, |_| None::<&mut u8>).unwrap_err();
        drop(second);
        let r = l.clone().read_owned().await;
        let r2 = l.clone().try_read_owned().unwrap();
        assert_eq!((*r, *r2), ((1, 2), (1, 2)));
        drop((r, r2));
        let w =
            OwnedRwLockWriteGuard::downgrade_map(l.clone().try_write_owned().unwrap(), |p| &p.1);
        assert_eq!(*w, 2);
    });
    assert!(l.try_write().is_ok());
}

/// Strict FIFO: readers and writers are served in arrival order, and
/// `try_read` fails while anyone waits.
pub fn strict_fifo_serves_in_arrival_order<B: ThreadSafe>() {
    let l = rwlock::<B, _>(Vec::new(), 2, true);
    let w = l.try_write().unwrap();
    let (_c, waker) = counting_waker();
    let mut futures: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>> = vec![
        Box::pin(async { drop(l.read().await) }),
        Box::pin(async { l.write().await.push("w1") }),
        Box::pin(async { drop(l.read().await) }),
    ];
    for f in &mut futures {
        assert!(poll_once(f.as_mut(), &waker).is_pending());
    }
    drop(w);
    assert!(
        l.try_read().is_err(),
        "strict: try_read fails while anyone waits"
    );
    assert!(poll_once(futures[0].as_mut(), &waker).is_ready());
    assert!(
        poll_once(futures[2].as_mut(), &waker).is_pending(),
        "behind the writer"
    );
    assert!(poll_once(futures[1].as_mut(), &waker).is_ready());
    assert!(poll_once(futures[2].as_mut(), &waker).is_ready());
}

/// The default policy: waiting writers take turns. The first closes the
/// fast path and queues ahead of readers; the second waits for its turn,
/// which comes once the first holds the lock. If the second has not run
/// before the first unlocks, a reader queued meanwhile gets in between (as
/// in async-lock); once the second has its turn, readers that arrive queue
/// behind it, and it is served as soon as the readers inside leave.
pub fn default_policy_writers_take_turns<B: ThreadSafe>() {
    let l = lock::<B, _>(0, false);
    let r = l.try_read().unwrap();
    let (w2_woken, w2_waker) = counting_waker();
    let (_c, waker) = counting_waker();
    let mut w1 = pin!(l.write());
    let mut w2 = pin!(l.write());
    assert!(poll_once(w1.as_mut(), &waker).is_pending());
    assert!(poll_once(w2.as_mut(), &w2_waker).is_pending());
    assert!(
        l.try_read().is_err(),
        "the first writer closes the fast path"
    );
    let mut r2 = pin!(l.read());
    assert!(poll_once(r2.as_mut(), &waker).is_pending());
    drop(r);
    assert_eq!(w2_woken.wakes.load(SeqCst), 0, "not its turn yet");
    let Poll::Ready(mut g1) = poll_once(w1.as_mut(), &waker) else {
        panic!("the first writer gets the lock once the reader leaves");
    };
    assert_eq!(w2_woken.wakes.load(SeqCst), 1, "its turn begins");
    *g1 += 1;
    drop(g1);
    let Poll::Ready(g2) = poll_once(r2.as_mut(), &waker) else {
        panic!("the queued reader gets in between the writers");
    };
    assert_eq!(*g2, 1);
    assert!(poll_once(w2.as_mut(), &w2_waker).is_pending());
    assert!(
        l.try_read().is_err(),
        "the second writer closes the fast path"
    );
    let mut r3 = pin!(l.read());
    assert!(poll_once(r3.as_mut(), &waker).is_pending());
    drop(g2);
    let Poll::Ready(mut g3) = poll_once(w2.as_mut(), &w2_waker) else {
        panic!("the second writer gets the lock once the reader leaves");
    };
    assert!(
        poll_once(r3.as_mut(), &waker).is_pending(),
        "behind the writer"
    );
    *g3 += 1;
    drop(g3);
    assert_eq!(poll_once(r3.as_mut(), &waker).map(|g| *g), Poll::Ready(2));
}

/// The default policy: a writer whose turn begins while the lock is still
/// write-held queues ahead of the readers already waiting, so it follows
/// the first writer directly.
pub fn default_policy_next_writer_follows_directly<B: ThreadSafe>() {
    let l = lock::<B, _>(0, false);
    let r = l.try_read().unwrap();
    let (_c, waker) = counting_waker();
    let mut w1 = pin!(l.write());
    let mut w2 = pin!(l.write());
    assert!(poll_once(w1.as_mut(), &waker).is_pending());
    assert!(poll_once(w2.as_mut(), &waker).is_pending());
    let mut r2 = pin!(l.read());
    assert!(poll_once(r2.as_mut(), &waker).is_pending());
    drop(r);
    let Poll::Ready(mut g1) = poll_once(w1.as_mut(), &waker) else {
        panic!("the first writer gets the lock once the reader leaves");
    };
    assert!(poll_once(w2.as_mut(), &waker).is_pending());
    *g1 += 1;
    drop(g1);
    assert!(
        poll_once(r2.as_mut(), &waker).is_pending(),
        "behind both writers"
    );
    let Poll::Ready(mut g2) = poll_once(w2.as_mut(), &waker) else {
        panic!("the lock goes to the second writer");
    };
    *g2 += 1;
    drop(g2);
    assert_eq!(poll_once(r2.as_mut(), &waker).map(|g| *g), Poll::Ready(2));
}

/// The default policy barges among readers: with one reader slot, a reader
/// that finds the slot free takes it even while another reader waits (the
/// semaphore's barging; the waiter's starvation bound is the semaphore's).
pub fn default_policy_lets_readers_barge<B: ThreadSafe>() {
    let l = rwlock::<B, _>((), 1, false);
    let r = l.try_read().unwrap();
    let (_c, waker) = counting_waker();
    let mut queued = pin!(l.read());
    assert!(poll_once(queued.as_mut(), &waker).is_pending());
    drop(r);
    let barger = l.try_read().expect("a free slot is taken, waiter or not");
    drop(barger);
    assert!(poll_once(queued.as_mut(), &waker).is_ready());
}

/// T threads x 16 tasks: writers keep `a == b` while bumping both (with a
/// yield in between), readers check it, upgraders check then bump. The
/// totals are exact and nobody ever sees a torn pair.
pub fn cross_thread_invariants_hold<B: ThreadSafe, E: Exec>(threads: usize, strict: bool) {
    const TASKS: usize = 16;
    const ITERS: usize = 100;
    with_watchdog(HANG, move || {
        let l = Arc::new(lock::<B, _>((0usize, 0usize), strict));
        let writers_inside = Arc::new(Occupancy::default());
        let reads = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (l, occ, reads) = (l.clone(), writers_inside.clone(), reads.clone());
                thread::spawn(move || {
                    E::block_on(join_all((0..TASKS).map(|task| {
                        let (l, occ, reads) = (&l, &occ, &reads);
                        async move {
                            for i in 0..ITERS {
                                match (task + i) % 4 {
                                    0 => {
                                        let mut w = l.write().await;
                                        occ.enter();
                                        w.0 += 1;
                                        if i % 8 == 0 {
                                            yield_now().await;
                                        }
                                        w.1 += 1;
                                        occ.exit();
                                    }
                                    1 => {
                                        let u = l.upgradable_read().await;
                                        assert_eq!(u.0, u.1, "torn pair");
                                        let mut w = RwLockUpgradableReadGuard::upgrade(u).await;
                                        occ.enter();
                                        w.0 += 1;
                                        w.1 += 1;
                                        occ.exit();
                                    }
                                    _ => {
                                        let r = l.read().await;
                                        assert_eq!(r.0, r.1, "torn pair");
                                        if i % 8 == 1 {
                                            yield_now().await;
                                        }
                                        assert_eq!(r.0, r.1, "torn pair");
                                        reads.fetch_add(1, SeqCst);
                                    }
                                }
                            }
                        }
                    })));
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let writes = threads * TASKS * ITERS / 2;
        assert_eq!(*l.try_read().unwrap(), (writes, writes));
        assert_eq!(reads.load(SeqCst), threads * TASKS * ITERS / 2);
        assert_eq!(writers_inside.max.load(SeqCst), 1, "one writer at a time");
        assert!(l.try_write().is_ok(), "no permit lost");
    });
}

/// A writer is not starved by a stream of overlapping readers on other
/// threads: the readers keep going until every write is done (a writer that
/// readers could overtake forever would hang here until the watchdog).
pub fn writer_not_starved_by_reader_stream<B: ThreadSafe, E: Exec>(strict: bool) {
    const WRITES: usize = 50;
    with_watchdog(HANG, move || {
        let l = Arc::new(lock::<B, _>(0usize, strict));
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (l, done) = (l.clone(), done.clone());
                thread::spawn(move || {
                    E::block_on(join_all((0..8).map(|_| async {
                        while !done.load(SeqCst) {
                            let r = l.read().await;
                            yield_now().await;
                            drop(r);
                        }
                    })));
                })
            })
            .collect();
        E::block_on(async {
            for _ in 0..WRITES {
                *l.write().await += 1;
            }
        });
        done.store(true, SeqCst);
        for r in readers {
            r.join().unwrap();
        }
        assert_eq!(*l.try_read().unwrap(), WRITES);
    });
}

/// `blocking_read`/`blocking_write` on plain threads interleave with tasks.
pub fn blocking_from_plain_threads<B: ThreadSafe, E: Exec>(strict: bool) {
    with_watchdog(HANG, move || {
        let l = Arc::new(lock::<B, _>(0usize, strict));
        let blockers: Vec<_> = (0..2)
            .map(|_| {
                let l = l.clone();
                thread::spawn(move || {
                    for _ in 0..300 {
                        *l.blocking_write() += 1;
                        let r = l.blocking_read();
                        assert!(*r > 0);
                    }
                })
            })
            .collect();
        E::block_on(join_all((0..4).map(|_| async {
            for _ in 0..150 {
                *l.write().await += 1;
                drop(l.read().await);
                yield_now().await;
            }
        })));
        for b in blockers {
            b.join().unwrap();
        }
        assert_eq!(*l.try_read().unwrap(), 1200);
    });
}

/// Reads, writes, upgradable reads and upgrades dropped at random points
/// under cross-thread contention leave the lock whole and strand no waiter.
pub fn cancellation_storm_leaves_lock_whole<B: ThreadSafe, E: Exec>(strict: bool) {
    with_watchdog(HANG, move || {
        let l = Arc::new(lock::<B, _>(0usize, strict));
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let l = l.clone();
                thread::spawn(move || {
                    E::block_on(join_all((0..16).map(|task| {
                        let l = l.clone();
                        async move {
                            let mut done = 0;
                            for i in 0..200usize {
                                let k = (i + task + t) % 5;
                                if k < 3 {
                                    // Poll once or twice, then drop.
                                    let mut f: std::pin::Pin<
                                        Box<dyn std::future::Future<Output = ()>>,
                                    > = match k {
                                        0 => Box::pin(async { drop(l.read().await) }),
                                        1 => Box::pin(async { *l.write().await += 0 }),
                                        _ => Box::pin(async {
                                            let u = l.upgradable_read().await;
                                            let mut up =
                                                pin!(RwLockUpgradableReadGuard::upgrade(u));
                                            if futures::poll!(up.as_mut()).is_pending() {
                                                yield_now().await;
                                            }
                                        }),
                                    };
                                    if futures::poll!(f.as_mut()).is_pending() {
                                        yield_now().await;
                                        let _ = futures::poll!(f.as_mut());
                                    }
                                } else {
                                    *l.write().await += 1;
                                    done += 1;
                                    yield_now().await;
                                }
                            }
                            done
                        }
                    })))
                    .into_iter()
                    .sum::<usize>()
                })
            })
            .collect();
        let done: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(
            *l.try_read().unwrap(),
            done,
            "every completed write counted once"
        );
        let u = l.try_upgradable_read().expect("upgrade permit back");
        assert!(
            RwLockUpgradableReadGuard::try_upgrade(u).is_ok(),
            "read permits back"
        );
    });
}

/// `get_mut`, `into_inner`, an unsized `T`, and `Debug` (never waits).
pub fn get_mut_into_inner_unsized_debug<B: ThreadSafe>(strict: bool) {
    let mut l = lock::<B, _>(vec![1], strict);
    l.get_mut().push(2);
    assert!(format!("{l:?}").contains("[1, 2]"));
    let w = l.try_write().unwrap();
    assert!(format!("{l:?}").contains("<locked>"));
    assert_eq!(format!("{w:?}"), "[1, 2]");
    drop(w);
    assert_eq!(l.into_inner(), vec![1, 2]);
    let l: Arc<RwLock<[u8], B>> = Arc::new(lock::<B, _>([1u8, 2], strict));
    l.try_write().unwrap()[0] = 9;
    assert_eq!(&*l.try_read().unwrap(), &[9, 2]);
}

macro_rules! policy_tests {
    ($backend:ty, $exec:ty, $strict:expr) => {
        type B = $backend;
        type E = $exec;
        const STRICT: bool = $strict;
        use super::super as t;

        #[test]
        fn readers_share_writer_excludes() {
            t::readers_share_writer_excludes::<B>(STRICT)
        }
        #[test]
        fn waiting_writer_blocks_new_readers() {
            t::waiting_writer_blocks_new_readers::<B>(STRICT)
        }
        #[test]
        fn cancelled_read_leaves_no_trace() {
            t::cancelled_read_leaves_no_trace::<B>(STRICT)
        }
        #[test]
        fn granted_then_cancelled_read_passes_permit_on() {
            t::granted_then_cancelled_read_passes_permit_on::<B>(STRICT)
        }
        #[test]
        fn cancelled_write_releases_queued_readers() {
            t::cancelled_write_releases_queued_readers::<B>(STRICT)
        }
        #[test]
        fn cohort_turn_survives_cancelled_writers() {
            t::cohort_turn_survives_cancelled_writers::<B>(STRICT)
        }
        #[test]
        fn granted_then_cancelled_write_passes_lock_on() {
            t::granted_then_cancelled_write_passes_lock_on::<B>(STRICT)
        }
        #[test]
        fn cancelled_upgradable_read_leaves_no_trace() {
            t::cancelled_upgradable_read_leaves_no_trace::<B>(STRICT)
        }
        #[test]
        fn cancelled_upgrade_releases_everything() {
            t::cancelled_upgrade_releases_everything::<B>(STRICT)
        }
        #[test]
        fn upgrade_beats_queued_writer() {
            t::upgrade_beats_queued_writer::<B>(STRICT)
        }
        #[test]
        fn one_upgradable_reader_at_a_time() {
            t::one_upgradable_reader_at_a_time::<B>(STRICT)
        }
        #[test]
        fn downgrade_admits_queued_readers() {
            t::downgrade_admits_queued_readers::<B>(STRICT)
        }
        #[test]
        fn mapped_guards_hold_the_lock() {
            t::mapped_guards_hold_the_lock::<B>(STRICT)
        }
        #[test]
        fn owned_guards_move_and_map() {
            t::owned_guards_move_and_map::<B, E>(STRICT)
        }
        #[test]
        fn upgradable_read_waits_for_queued_writer() {
            t::upgradable_read_waits_for_queued_writer::<B>(STRICT)
        }
        #[test]
        fn cancelled_upgradable_read_behind_writer_leaves_no_trace() {
            t::cancelled_upgradable_read_behind_writer_leaves_no_trace::<B>(STRICT)
        }
        #[test]
        fn owned_upgradable_read_moves_and_upgrades() {
            t::owned_upgradable_read_moves_and_upgrades::<B, E>(STRICT)
        }
        #[test]
        fn cross_thread_invariants_2_threads() {
            t::cross_thread_invariants_hold::<B, E>(2, STRICT)
        }
        #[test]
        fn cross_thread_invariants_4_threads() {
            t::cross_thread_invariants_hold::<B, E>(4, STRICT)
        }
        #[test]
        fn writer_not_starved_by_reader_stream() {
            t::writer_not_starved_by_reader_stream::<B, E>(STRICT)
        }
        #[test]
        fn blocking_from_plain_threads() {
            t::blocking_from_plain_threads::<B, E>(STRICT)
        }
        #[test]
        fn cancellation_storm_leaves_lock_whole() {
            t::cancellation_storm_leaves_lock_whole::<B, E>(STRICT)
        }
        #[test]
        fn get_mut_into_inner_unsized_debug() {
            t::get_mut_into_inner_unsized_debug::<B>(STRICT)
        }
    };
}

/// Instantiates the suite for one backend on one executor, under both
/// policies, plus each policy's own order test.
macro_rules! contract_suite {
    ($name:ident, $backend:ty, $exec:ty, $($order:tt)*) => {
        mod $name {
            mod barging {
                policy_tests!($backend, $exec, false);

                #[test]
                fn default_policy_lets_readers_barge() {
                    t::default_policy_lets_readers_barge::<B>();
                }
                #[test]
                fn default_policy_writers_take_turns() {
                    t::default_policy_writers_take_turns::<B>();
                }
                #[test]
                fn default_policy_next_writer_follows_directly() {
                    t::default_policy_next_writer_follows_directly::<B>();
                }
            }
            mod strict {
                policy_tests!($backend, $exec, true);

                #[test]
                fn strict_fifo_serves_in_arrival_order() {
                    t::strict_fifo_serves_in_arrival_order::<B>();
                }
                #[test]
                fn strict_fifo_queued_writers_served_before_later_readers() {
                    t::strict_fifo_queued_writers_served_before_later_readers::<B>();
                }
            }
        }
    };
}

for_each_backend!(contract_suite);

// The upgradable-read cases of the suite (instantiated by `policy_tests!`
// below like the others).
#[path = "rwlock/upgradable.rs"]
mod upgradable;
use upgradable::*;

#[path = "rwlock/single.rs"]
mod single;

#[path = "rwlock/local.rs"]
mod local;
