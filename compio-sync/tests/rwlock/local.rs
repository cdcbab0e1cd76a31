//! The single-thread flavor, `compio_sync::local::RwLock`: the behaviours of
//! the contract suite that apply on one thread, on compio and on
//! `futures::executor`, under both policies. (Its `!Send`/`!Sync` and its
//! missing blocking entry points are `compile_fail` doctests in
//! `src/local/mod.rs`.)

use std::{
    cell::Cell,
    future::Future,
    pin::{Pin, pin},
    rc::Rc,
    task::{Poll, Waker},
};

use super::common::*;
use compio_sync::local::{
    OwnedRwLockUpgradableReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockUpgradableReadGuard,
};
use futures::future::join_all;

fn lock<T>(value: T, strict: bool) -> RwLock<T> {
    let l = RwLock::new(value);
    if strict { l.strict_fifo() } else { l }
}

fn poll<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    poll_once(f, Waker::noop())
}

/// A waiting writer blocks new readers; it is served when the reader
/// leaves, then the reader behind it.
fn waiting_writer_blocks_new_readers(strict: bool) {
    let l = lock(0, strict);
    let r = l.try_read().unwrap();
    let mut write = pin!(l.write());
    assert!(poll(write.as_mut()).is_pending());
    assert!(l.try_read().is_err());
    let mut read = pin!(l.read());
    assert!(poll(read.as_mut()).is_pending());
    drop(r);
    let Poll::Ready(mut w) = poll(write.as_mut()) else {
        panic!("the writer is served first");
    };
    assert!(poll(read.as_mut()).is_pending());
    *w = 1;
    drop(w);
    let Poll::Ready(r) = poll(read.as_mut()) else {
        panic!("then the reader");
    };
    assert_eq!(*r, 1);
}

/// Cancel at each await point (read, write at both of its points,
/// upgradable read, upgrade): no permit is lost.
fn cancel_at_every_await_point(strict: bool) {
    let l = lock(0, strict);
    let w = l.try_write().unwrap();
    drop({
        let mut read = pin!(l.read());
        poll(read.as_mut())
    });
    drop({
        let mut u = pin!(l.upgradable_read());
        poll(u.as_mut())
    });
    drop(w);
    let u = l.try_upgradable_read().unwrap();
    drop({
        let mut write = pin!(l.write());
        poll(write.as_mut())
    });
    let r = l.try_read().unwrap();
    drop({
        let mut up = pin!(RwLockUpgradableReadGuard::upgrade(u));
        poll(up.as_mut())
    });
    drop({
        let mut write = pin!(l.write());
        poll(write.as_mut())
    });
    drop(r);
    let u = l.try_upgradable_read().expect("upgrade permit back");
    let w = RwLockUpgradableReadGuard::try_upgrade(u).expect("read permits back");
    drop(w);
}

/// 500 tasks on one executor: writers bump a pair, readers check it,
/// upgraders check then bump; totals exact, one writer at a time.
fn many_tasks_exact_counts<E: Exec>(strict: bool) {
    let l = lock((0usize, 0usize), strict);
    let inside = Cell::new(0usize);
    E::block_on(join_all((0..500).map(|i| {
        let (l, inside) = (&l, &inside);
        async move {
            match i % 4 {
                0 => {
                    let mut w = l.write().await;
                    inside.set(inside.get() + 1);
                    w.0 += 1;
                    yield_now().await;
                    w.1 += 1;
                    assert_eq!(inside.get(), 1);
                    inside.set(0);
                }
                1 => {
                    let u = l.upgradable_read().await;
                    assert_eq!(u.0, u.1);
                    yield_now().await;
                    let mut w = RwLockUpgradableReadGuard::upgrade(u).await;
                    w.0 += 1;
                    w.1 += 1;
                }
                _ => {
                    let r = l.read().await;
                    yield_now().await;
                    assert_eq!(r.0, r.1);
                }
            }
        }
    })));
    assert_eq!(*l.try_read().unwrap(), (250, 250));
}

/// Owned guards hold an `Rc` and release it and their permits.
fn owned_guards_on_spawned_tasks(strict: bool) {
    Compio::block_on(async {
        let l = Rc::new(lock(0, strict));
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let l = l.clone();
                compio::runtime::spawn(async move {
                    if i % 10 == 1 {
                        let u = l.upgradable_read_owned().await;
                        yield_now().await;
                        let w = OwnedRwLockUpgradableReadGuard::upgrade(u).await;
                        drop(w);
                    } else if i % 3 == 0 {
                        let mut w = l.write_owned().await;
                        *w += 1;
                        yield_now().await;
                        let w = OwnedRwLockWriteGuard::downgrade(w);
                        assert!(*w > 0);
                    } else {
                        let r = l.read_owned().await;
                        yield_now().await;
                        drop(r);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // Multiples of 3 in 0..100, less 21, 51 and 81 (upgraders).
        assert_eq!(*l.try_read().unwrap(), 31);
        assert_eq!(Rc::strong_count(&l), 1);
    });
}

macro_rules! local_policy {
    ($name:ident, $strict:expr) => {
        mod $name {
            #[test]
            fn waiting_writer_blocks_new_readers() {
                super::waiting_writer_blocks_new_readers($strict);
            }
            #[test]
            fn cancel_at_every_await_point() {
                super::cancel_at_every_await_point($strict);
            }
            #[test]
            fn many_tasks_exact_counts_compio() {
                super::many_tasks_exact_counts::<super::Compio>($strict);
            }
            #[test]
            fn many_tasks_exact_counts_futures() {
                super::many_tasks_exact_counts::<super::Futures>($strict);
            }
            #[test]
            fn owned_guards_on_spawned_tasks() {
                super::owned_guards_on_spawned_tasks($strict);
            }
        }
    };
}

local_policy!(barging, false);
local_policy!(strict, true);
