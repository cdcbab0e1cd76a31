//! The upgradable-read cases of the RwLock contract suite (`tests/rwlock.rs`
//! instantiates them for every backend, executor and policy).

use std::{
    pin::pin,
    sync::{Arc, atomic::Ordering::SeqCst},
    task::Poll,
};

use super::{common::*, lock};
use compio_sync::{OwnedRwLockUpgradableReadGuard, RwLockUpgradableReadGuard, backend::ThreadSafe};

/// Cancel at both of `upgradable_read`'s await points: behind another
/// upgradable reader, and behind a writer (holding the upgrade permit
/// already). Neither leaves a permit behind.
pub fn cancelled_upgradable_read_leaves_no_trace<B: ThreadSafe>(strict: bool) {
    let l = lock::<B, _>(0, strict);
    let (_c, waker) = counting_waker();
    let first = l.try_upgradable_read().unwrap();
    {
        let mut second = pin!(l.upgradable_read());
        assert!(poll_once(second.as_mut(), &waker).is_pending());
    }
    drop(first);
    let w = l.try_write().unwrap();
    {
        let mut second = pin!(l.upgradable_read());
        assert!(poll_once(second.as_mut(), &waker).is_pending());
    }
    drop(w);
    let u = l.try_upgradable_read().expect("upgrade permit back");
    let w = RwLockUpgradableReadGuard::try_upgrade(u).expect("read permits back");
    drop(w);
}

/// Cancel at `upgrade`'s await point: the upgradable read is released with
/// the future, readers that queued behind the upgrade proceed, and the lock
/// is whole again.
pub fn cancelled_upgrade_releases_everything<B: ThreadSafe>(strict: bool) {
    let l = lock::<B, _>(0, strict);
    let reader = l.try_read().unwrap();
    let u = l.try_upgradable_read().unwrap();
    let (_c, waker) = counting_waker();
    let (r_woken, r_waker) = counting_waker();
    let mut read = pin!(l.read());
    {
        let mut upgrade = pin!(RwLockUpgradableReadGuard::upgrade(u));
        assert!(poll_once(upgrade.as_mut(), &waker).is_pending());
        assert!(l.try_read().is_err(), "readers queue behind an upgrade");
        assert!(poll_once(read.as_mut(), &r_waker).is_pending());
    }
    assert_eq!(r_woken.wakes.load(SeqCst), 1);
    assert!(poll_once(read.as_mut(), &r_waker).is_ready());
    assert!(
        l.try_upgradable_read().is_ok(),
        "the upgradable read was released"
    );
    drop(reader);
    assert!(l.try_write().is_ok(), "no permit lost");
}

/// `upgrade` waits for the other readers, and a writer that queued meanwhile
/// cannot get in between: the upgrader writes first, then the writer.
pub fn upgrade_beats_queued_writer<B: ThreadSafe>(strict: bool) {
    let l = lock::<B, _>(Vec::new(), strict);
    let reader = l.try_read().unwrap();
    let u = l.try_upgradable_read().unwrap();
    let (_cw, w_waker) = counting_waker();
    let (up_woken, up_waker) = counting_waker();
    let mut write = pin!(async {
        l.write().await.push("writer");
    });
    assert!(poll_once(write.as_mut(), &w_waker).is_pending());
    let mut upgrade = pin!(RwLockUpgradableReadGuard::upgrade(u));
    assert!(poll_once(upgrade.as_mut(), &up_waker).is_pending());
    drop(reader);
    assert_eq!(up_woken.wakes.load(SeqCst), 1);
    let Poll::Ready(mut w) = poll_once(upgrade.as_mut(), &up_waker) else {
        panic!("the upgrade completes once the reader leaves");
    };
    assert!(poll_once(write.as_mut(), &w_waker).is_pending());
    w.push("upgrader");
    drop(w);
    let mut turns = 0;
    while poll_once(write.as_mut(), &w_waker).is_pending() {
        turns += 1;
        assert!(turns < 10, "the writer never got the lock");
    }
    assert_eq!(*l.try_read().unwrap(), ["upgrader", "writer"]);
}

/// An upgradable reader does not take a read permit while a writer is
/// queued for the lock (it would deadlock that writer once it upgrades): it
/// waits for the writer, then reads what it wrote, then upgrades.
pub fn upgradable_read_waits_for_queued_writer<B: ThreadSafe>(strict: bool) {
    let l = lock::<B, _>(0, strict);
    let r = l.try_read().unwrap();
    let (_c, waker) = counting_waker();
    let (u_woken, u_waker) = counting_waker();
    let mut w = pin!(async { *l.write().await += 1 });
    assert!(poll_once(w.as_mut(), &waker).is_pending());
    assert!(l.try_upgradable_read().is_err(), "a writer is queued");
    let mut u = pin!(l.upgradable_read());
    assert!(poll_once(u.as_mut(), &u_waker).is_pending());
    drop(r);
    assert!(poll_once(w.as_mut(), &waker).is_ready());
    assert!(
        u_woken.wakes.load(SeqCst) >= 1,
        "the writer's exit wakes it"
    );
    let Poll::Ready(u) = poll_once(u.as_mut(), &u_waker) else {
        panic!("the upgradable read follows the writer");
    };
    assert_eq!(*u, 1);
    let mut w = RwLockUpgradableReadGuard::try_upgrade(u).expect("nobody else holds it");
    *w += 1;
    drop(w);
    assert_eq!(*l.try_read().unwrap(), 2);
}

/// Cancel at `upgradable_read`'s wait for queued writers: the writer still
/// goes first, and the next upgradable reader is not held up.
pub fn cancelled_upgradable_read_behind_writer_leaves_no_trace<B: ThreadSafe>(strict: bool) {
    let l = lock::<B, _>(0, strict);
    let r = l.try_read().unwrap();
    let (_c, waker) = counting_waker();
    let mut w = pin!(async { *l.write().await += 1 });
    assert!(poll_once(w.as_mut(), &waker).is_pending());
    {
        let mut u = pin!(l.upgradable_read());
        assert!(poll_once(u.as_mut(), &waker).is_pending());
    }
    drop(r);
    assert!(poll_once(w.as_mut(), &waker).is_ready());
    let u = l
        .try_upgradable_read()
        .expect("upgrade permit and count back");
    drop(u);
    // A writer after the cancelled upgradable reader queues directly again
    // (it does not wait behind a phantom upgradable reader).
    let r = l.try_read().unwrap();
    let mut w = pin!(async { *l.write().await += 1 });
    assert!(poll_once(w.as_mut(), &waker).is_pending());
    assert!(
        l.try_upgradable_read().is_err(),
        "the writer is queued directly"
    );
    drop(r);
    assert!(poll_once(w.as_mut(), &waker).is_ready());
    assert_eq!(*l.try_read().unwrap(), 2);
}

/// One upgradable reader at a time; `downgrade` and `try_upgrade` as
/// async-lock's.
pub fn one_upgradable_reader_at_a_time<B: ThreadSafe>(strict: bool) {
    let l = lock::<B, _>(1, strict);
    let u = l.try_upgradable_read().unwrap();
    assert!(l.try_upgradable_read().is_err());
    let r = l.try_read().unwrap();
    let u = RwLockUpgradableReadGuard::try_upgrade(u).unwrap_err();
    drop(r);
    let r = RwLockUpgradableReadGuard::downgrade(u);
    let u2 = l
        .try_upgradable_read()
        .expect("downgrade frees the upgrade slot");
    drop(r);
    let mut w = RwLockUpgradableReadGuard::try_upgrade(u2).ok().unwrap();
    *w = 2;
    assert!(l.try_read().is_err());
    drop(w);
    assert_eq!(*l.try_read().unwrap(), 2);
}

/// The owned upgradable guard: one at a time, moves into a task, upgrades
/// there (waiting for a reader), downgrades; a cancelled owned upgrade
/// releases everything.
pub fn owned_upgradable_read_moves_and_upgrades<B: ThreadSafe, E: Exec>(strict: bool) {
    let l = Arc::new(lock::<B, _>(0, strict));
    E::block_on(async {
        let u = l.clone().upgradable_read_owned().await;
        assert!(l.clone().try_upgradable_read_owned().is_err());
        assert!(Arc::ptr_eq(OwnedRwLockUpgradableReadGuard::rwlock(&u), &l));
        let r = l.clone().try_read_owned().unwrap();
        let u = OwnedRwLockUpgradableReadGuard::try_upgrade(u).unwrap_err();
        let mut upgrade = Box::pin(OwnedRwLockUpgradableReadGuard::upgrade(u));
        assert!(futures::poll!(upgrade.as_mut()).is_pending());
        drop(r);
        let mut w = upgrade.await;
        *w += 1;
        let r = w.downgrade();
        assert!(
            l.try_upgradable_read().is_ok(),
            "the write guard holds no upgrade permit"
        );
        drop(r);
        let u = l.clone().try_upgradable_read_owned().unwrap();
        let r = OwnedRwLockUpgradableReadGuard::downgrade(u);
        assert!(l.try_upgradable_read().is_ok());
        // Cancelled owned upgrade (the reader `r` keeps it waiting).
        let u = l.clone().try_upgradable_read_owned().unwrap();
        {
            let mut upgrade = pin!(OwnedRwLockUpgradableReadGuard::upgrade(u));
            assert!(futures::poll!(upgrade.as_mut()).is_pending());
        }
        drop(r);
        let u = l
            .clone()
            .try_upgradable_read_owned()
            .expect("released by the cancel");
        assert_eq!(
            *OwnedRwLockUpgradableReadGuard::try_upgrade(u).expect("every permit back"),
            1
        );
    });
}
