//! The contract of the single-thread flavors, `compio_sync::local::{Semaphore,
//! Notify}`: the Semaphore and Notify behaviours of `tests/semaphore.rs` and
//! `tests/notify.rs` that apply on one thread, on compio and on
//! `futures::executor`, under both fairness policies; their auto traits; and
//! that the shared source reaches its atomics only through the flavor.
//! (No heap allocation per wait: `tests/local_alloc.rs`.)
#![cfg(not(loom))]

mod common;

use std::{
    cell::Cell,
    future::Future,
    pin::{Pin, pin},
    rc::Rc,
    sync::atomic::Ordering::SeqCst,
    task::{Poll, Waker},
};

use common::*;
use compio_sync::{
    TryAcquireError,
    local::{Notify, Semaphore},
};
use futures::future::join_all;

fn sem(permits: usize, strict: bool) -> Semaphore {
    let s = Semaphore::new(permits);
    if strict { s.strict_fifo() } else { s }
}

fn poll<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    poll_once(f, Waker::noop())
}

fn ready<F: Future<Output = ()> + ?Sized>(f: Pin<&mut F>) -> bool {
    poll(f).is_ready()
}

/// Holders inside a critical section at once, on one thread.
#[derive(Default)]
struct LocalOccupancy {
    inside: Cell<usize>,
    max: Cell<usize>,
    total: Cell<usize>,
}

impl LocalOccupancy {
    fn enter(&self) {
        self.inside.set(self.inside.get() + 1);
        self.max.set(self.max.get().max(self.inside.get()));
        self.total.set(self.total.get() + 1);
    }
    fn exit(&self) {
        self.inside.set(self.inside.get() - 1);
    }
}

// ---------------------------------------------------------------- Semaphore

/// 1000 tasks contend for 5 permits on one executor; afterwards exactly 5
/// `try_acquire` succeed, and at most 5 were ever held.
fn thousand_tasks_then_exactly_five_permits<E: Exec>(strict: bool) {
    let s = sem(5, strict);
    let occ = LocalOccupancy::default();
    E::block_on(join_all((0..1000).map(|_| async {
        let _p = s.acquire().await.unwrap();
        occ.enter();
        yield_now().await;
        occ.exit();
    })));
    assert_eq!(occ.total.get(), 1000);
    assert!(occ.max.get() <= 5, "max holders {}", occ.max.get());
    let held: Vec<_> = (0..10).filter_map(|_| s.try_acquire().ok()).collect();
    assert_eq!(held.len(), 5);
    drop(held);
    assert_eq!(s.available_permits(), 5);
}

/// 1000 tasks spawned on one compio runtime, sharing an `Rc<Semaphore>` and
/// owned permits; every permit comes back.
fn thousand_spawned_tasks_with_owned_permits(strict: bool) {
    Compio::block_on(async {
        let s = Rc::new(sem(3, strict));
        let occ = Rc::new(LocalOccupancy::default());
        let tasks: Vec<_> = (0..1000)
            .map(|i| {
                let (s, occ) = (s.clone(), occ.clone());
                compio::runtime::spawn(async move {
                    let _p = if i % 2 == 0 {
                        s.acquire_owned().await.unwrap()
                    } else {
                        s.acquire_many_owned(1).await.unwrap()
                    };
                    occ.enter();
                    yield_now().await;
                    occ.exit();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(occ.total.get(), 1000);
        assert!(occ.max.get() <= 3);
        assert_eq!(s.available_permits(), 3);
        assert_eq!(Rc::strong_count(&s), 1, "every owned permit dropped its Rc");
    });
}

/// Waiters served in arrival order under strict FIFO, and `try_acquire`
/// does not barge past them.
fn strict_fifo_serves_in_arrival_order() {
    let s = sem(1, true);
    let held = s.try_acquire().unwrap();
    let mut waiters: Vec<_> = (0..5).map(|_| Box::pin(s.acquire())).collect();
    for w in &mut waiters {
        assert!(poll(w.as_mut()).is_pending());
    }
    drop(held);
    for i in 0..waiters.len() {
        assert!(s.try_acquire().is_err(), "the permit went to the head");
        // Everyone behind waiter `i` is still waiting, polled from the back.
        for later in (i + 1..waiters.len()).rev() {
            assert!(
                poll(waiters[later].as_mut()).is_pending(),
                "{later} overtook {i}"
            );
        }
        let Poll::Ready(Ok(permit)) = poll(waiters[i].as_mut()) else {
            panic!("waiter {i} not served in order");
        };
        drop(permit);
    }
    assert_eq!(s.available_permits(), 1);
}

/// A queued waiter dropped (at its one await point) leaves nothing behind:
/// the next waiter gets the permit.
fn cancel_while_queued_lets_next_waiter_run(strict: bool) {
    let s = sem(1, strict);
    let held = s.try_acquire().unwrap();
    let mut first = Box::pin(s.acquire());
    let mut second = Box::pin(s.acquire());
    assert!(poll(first.as_mut()).is_pending());
    assert!(poll(second.as_mut()).is_pending());
    drop(first);
    drop(held);
    assert!(matches!(poll(second.as_mut()), Poll::Ready(Ok(_))));
    assert_eq!(s.available_permits(), 1);
}

/// A waiter that was woken (or handed its permit) and dropped before it ran
/// passes the wake-up, or the permit, on.
fn notified_waiter_dropped_passes_wakeup_on(strict: bool) {
    let s = sem(1, strict);
    let held = s.try_acquire().unwrap();
    let (counter, waker) = counting_waker();
    let mut first = Box::pin(s.acquire());
    let mut second = Box::pin(s.acquire());
    assert!(poll_once(first.as_mut(), &waker).is_pending());
    assert!(poll_once(second.as_mut(), &waker).is_pending());
    drop(held);
    assert_eq!(counter.wakes.load(SeqCst), 1, "one waiter woken");
    drop(first);
    assert_eq!(counter.wakes.load(SeqCst), 2, "its wake-up passed on");
    assert!(matches!(poll(second.as_mut()), Poll::Ready(Ok(_))));
    assert_eq!(s.available_permits(), 1);
}

/// `acquire_many` collects released permits (strict: in part, at the head)
/// and gives them all back if dropped before it completes.
fn acquire_many_and_its_cancellation(strict: bool) {
    let s = sem(3, strict);
    let held = s.try_acquire_many(3).unwrap();
    let mut many = Box::pin(s.acquire_many(3));
    assert!(poll(many.as_mut()).is_pending());
    let mut held = held;
    let one = held.split(1).unwrap();
    drop(one);
    assert!(poll(many.as_mut()).is_pending());
    drop(many);
    drop(held);
    assert_eq!(s.available_permits(), 3, "a partial assignment came back");

    let held = s.try_acquire_many(3).unwrap();
    let mut many = Box::pin(s.acquire_many(3));
    assert!(poll(many.as_mut()).is_pending());
    drop(held);
    let Poll::Ready(Ok(permit)) = poll(many.as_mut()) else {
        panic!("acquire_many not served");
    };
    assert_eq!(permit.num_permits(), 3);
    assert_eq!(s.available_permits(), 0);
    drop(permit);
    assert_eq!(s.available_permits(), 3);
}

/// Strict FIFO: an `acquire_many` at the head blocks single acquires behind
/// it until it is served, as in tokio.
fn strict_head_acquire_many_blocks_later_waiters() {
    let s = sem(2, true);
    let held = s.try_acquire_many(2).unwrap();
    let mut many = Box::pin(s.acquire_many(2));
    let mut one = Box::pin(s.acquire());
    assert!(poll(many.as_mut()).is_pending());
    assert!(poll(one.as_mut()).is_pending());
    let mut held = held;
    drop(held.split(1).unwrap());
    assert!(poll(one.as_mut()).is_pending(), "no overtaking of the head");
    assert_eq!(s.available_permits(), 0, "the part is the head's");
    drop(held);
    assert!(matches!(poll(many.as_mut()), Poll::Ready(Ok(_))));
}

/// `close` fails every waiter and every later acquire; held permits still
/// come back.
fn close_fails_waiters_and_keeps_held_permits<E: Exec>(strict: bool) {
    let s = sem(1, strict);
    let held = s.try_acquire().unwrap();
    E::block_on(async {
        let waiters = join_all((0..10).map(|_| s.acquire_many(1)));
        let closer = async {
            yield_now().await;
            s.close();
        };
        let (results, ()) = futures::join!(waiters, closer);
        assert!(results.iter().all(Result::is_err));
    });
    assert_eq!(s.try_acquire().err(), Some(TryAcquireError::Closed));
    assert!(E::block_on(s.acquire()).is_err());
    drop(held);
    assert_eq!(s.available_permits(), 1);
    assert!(s.is_closed());
}

/// add/forget, split/merge, `MAX_PERMITS` overflow as the thread-safe type.
fn permit_bookkeeping(strict: bool) {
    let s = sem(0, strict);
    s.add_permits(3);
    assert_eq!(s.forget_permits(1), 1);
    let mut a = s.try_acquire().unwrap();
    a.merge(s.try_acquire().unwrap());
    assert_eq!(a.num_permits(), 2);
    let b = a.split(1).unwrap();
    b.forget();
    drop(a);
    assert_eq!(s.available_permits(), 1);
    let overflow = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.add_permits(Semaphore::MAX_PERMITS)
    }));
    assert!(overflow.is_err());
    assert_eq!(s.available_permits(), 1, "unchanged after the panic");
}

/// A waker that re-enters the semaphore from `wake` and `drop` does not
/// deadlock (or trip the queue's re-entrancy check).
fn reentrant_waker_does_not_deadlock(strict: bool) {
    use std::task::{RawWaker, RawWakerVTable};
    thread_local!(static SEM: Cell<*const Semaphore> = const { Cell::new(std::ptr::null()) });
    fn reenter() {
        SEM.with(|s| {
            // SAFETY: set to a semaphore that outlives every waker below.
            let s = unsafe { &*s.get() };
            drop(s.try_acquire());
            s.add_permits(0);
        });
    }
    const VTABLE: RawWakerVTable = RawWakerVTable::new(
        |p| {
            reenter();
            RawWaker::new(p, &VTABLE)
        },
        |_| reenter(),
        |_| reenter(),
        |_| reenter(),
    );
    let s = sem(1, strict);
    SEM.with(|c| c.set(&s));
    // SAFETY: the vtable ignores the data pointer.
    let waker = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
    let held = s.try_acquire().unwrap();
    let mut w = Box::pin(s.acquire());
    assert!(poll_once(w.as_mut(), &waker).is_pending());
    drop(held);
    assert!(matches!(poll_once(w.as_mut(), &waker), Poll::Ready(Ok(_))));
    drop(waker);
    SEM.with(|c| c.set(std::ptr::null()));
}

// ------------------------------------------------------------------- Notify

fn notify_one_stores_one_permit_for_the_next_notified() {
    let n = Notify::new();
    n.notify_one();
    n.notify_one();
    assert!(ready(pin!(n.notified())));
    assert!(!ready(pin!(n.notified())), "at most one permit");
}

fn notify_one_wakes_oldest_and_notify_last_newest() {
    let n = Notify::new();
    let mut a = Box::pin(n.notified());
    let mut b = Box::pin(n.notified());
    let mut c = Box::pin(n.notified());
    for f in [&mut a, &mut b, &mut c] {
        assert!(!f.as_mut().enable());
    }
    n.notify_last();
    assert!(ready(c.as_mut()), "notify_last: newest");
    n.notify_one();
    assert!(ready(a.as_mut()), "notify_one: oldest");
    assert!(!ready(b.as_mut()));
    n.notify_one();
    assert!(ready(b.as_mut()));
}

fn notify_waiters_wakes_only_earlier_notified_and_stores_nothing() {
    let n = Notify::new();
    let mut before = Box::pin(n.notified());
    let mut unpolled = Box::pin(n.notified());
    assert!(!ready(before.as_mut()));
    n.notify_waiters();
    let mut after = Box::pin(n.notified());
    assert!(ready(before.as_mut()));
    assert!(
        ready(unpolled.as_mut()),
        "created before: completes unpolled"
    );
    assert!(!ready(after.as_mut()), "created after: waits");
    assert!(!ready(pin!(n.notified())), "no permit stored");
}

/// A `Notified` picked by `notify_one` (or `notify_last`) and dropped passes
/// the notification on in the same order, or stores it as the permit.
fn dropped_notified_passes_notify_one_on(lifo: bool) {
    let n = Notify::new();
    let (counter, waker) = counting_waker();
    let mut a = Box::pin(n.notified());
    let mut b = Box::pin(n.notified());
    assert!(poll_once(a.as_mut(), &waker).is_pending());
    assert!(poll_once(b.as_mut(), &waker).is_pending());
    if lifo {
        n.notify_last();
        drop(b);
        assert_eq!(counter.wakes.load(SeqCst), 2);
        assert!(ready(a.as_mut()));
    } else {
        n.notify_one();
        drop(a);
        assert_eq!(counter.wakes.load(SeqCst), 2);
        assert!(ready(b.as_mut()));
    }
    // With nobody behind, a dropped pick becomes the permit.
    let mut c = Box::pin(n.notified());
    assert!(!ready(c.as_mut()));
    n.notify_one();
    drop(c);
    assert!(ready(pin!(n.notified())), "stored as the permit");
}

/// A dropped waiter (never notified) leaves nothing behind: the next
/// `notify_one` reaches the next waiter.
fn dropped_waiter_leaves_nothing_behind() {
    let n = Notify::new();
    let mut a = Box::pin(n.notified());
    let mut b = Box::pin(n.notified());
    assert!(!ready(a.as_mut()));
    assert!(!ready(b.as_mut()));
    drop(a);
    n.notify_one();
    assert!(ready(b.as_mut()));
}

/// 1000 tasks on one executor wait; `notify_waiters` wakes them all; then
/// `notify_one`s are delivered exactly once each.
fn thousand_waiters<E: Exec>() {
    let n = Notify::new();
    let woken = Cell::new(0);
    E::block_on(async {
        let waiters = join_all((0..1000).map(|_| async {
            n.notified().await;
            woken.set(woken.get() + 1);
        }));
        let notifier = async {
            yield_now().await;
            n.notify_waiters();
        };
        futures::join!(waiters, notifier);
    });
    assert_eq!(woken.get(), 1000);
    woken.set(0);
    E::block_on(async {
        let waiters = join_all((0..1000).map(|_| async {
            n.notified().await;
            woken.set(woken.get() + 1);
        }));
        let notifier = async {
            for _ in 0..1000 {
                yield_now().await;
                n.notify_one();
            }
        };
        futures::join!(waiters, notifier);
    });
    assert_eq!(woken.get(), 1000);
    assert!(!ready(pin!(n.notified())), "no notification left over");
}

/// Ping-pong between two tasks spawned on one compio runtime.
fn ping_pong_on_one_runtime() {
    Compio::block_on(async {
        let (ping, pong) = (Rc::new(Notify::new()), Rc::new(Notify::new()));
        let rounds = 1000;
        let task = compio::runtime::spawn({
            let (ping, pong) = (ping.clone(), pong.clone());
            async move {
                for _ in 0..rounds {
                    ping.notified().await;
                    pong.notify_one();
                }
            }
        });
        for _ in 0..rounds {
            ping.notify_one();
            pong.notified().await;
        }
        task.await.unwrap();
    });
}

// -------------------------------------------------------------- auto traits

/// `is_send!(T)` and `is_sync!(T)`: an inherent constant exists only when
/// the bound holds and shadows the trait's `false` (autoref-free
/// specialization by method resolution order).
trait False {
    const SEND: bool = false;
    const SYNC: bool = false;
}
impl<T: ?Sized> False for T {}
struct Probe<T: ?Sized>(std::marker::PhantomData<T>);
impl<T: ?Sized + Send> Probe<T> {
    const SEND: bool = true;
}
struct SyncProbe<T: ?Sized>(std::marker::PhantomData<T>);
impl<T: ?Sized + Sync> SyncProbe<T> {
    const SYNC: bool = true;
}
macro_rules! is_send {
    ($t:ty) => {
        <Probe<$t>>::SEND
    };
}
macro_rules! is_sync {
    ($t:ty) => {
        <SyncProbe<$t>>::SYNC
    };
}

#[test]
fn local_types_are_neither_send_nor_sync() {
    use compio_sync::local::{Acquire, Notified, OwnedSemaphorePermit, SemaphorePermit};
    const { assert!(!is_send!(Semaphore) && !is_sync!(Semaphore)) };
    const { assert!(!is_send!(Notify) && !is_sync!(Notify)) };
    const { assert!(!is_send!(Acquire<'static>) && !is_sync!(Acquire<'static>)) };
    const { assert!(!is_send!(Notified<'static>) && !is_sync!(Notified<'static>)) };
    const { assert!(!is_send!(SemaphorePermit<'static>) && !is_sync!(SemaphorePermit<'static>)) };
    const { assert!(!is_send!(OwnedSemaphorePermit) && !is_sync!(OwnedSemaphorePermit)) };
    const { assert!(!is_send!(compio_sync::backend::Local) && !is_sync!(compio_sync::backend::Local)) };
    // The probe itself tells the two apart.
    const { assert!(is_send!(u8) && is_sync!(u8)) };
}

#[test]
fn thread_safe_types_stay_send_and_sync() {
    use compio_sync::{
        Acquire, Mutex, MutexGuard, Notified, Notify, OwnedSemaphorePermit, Semaphore,
        SemaphorePermit,
        backend::{Intrusive, MutexVecDeque, ParkingLotHybrid, SegQueue},
    };
    fn both<T: Send + Sync>() {}
    both::<Semaphore>();
    both::<Semaphore<MutexVecDeque>>();
    both::<Semaphore<ParkingLotHybrid>>();
    both::<Semaphore<SegQueue>>();
    both::<Notify>();
    both::<Notify<SegQueue>>();
    both::<Acquire<'static>>();
    both::<Notified<'static, Intrusive>>();
    both::<SemaphorePermit<'static>>();
    both::<OwnedSemaphorePermit>();
    both::<Mutex<u8>>();
    both::<MutexGuard<'static, u8>>();
    // A thread-safe primitive over the local queue is as thread-safe as the
    // queue: not at all (and so is a Mutex over it).
    const { assert!(!is_sync!(Semaphore<compio_sync::backend::Local>)) };
    const { assert!(!is_sync!(Mutex<u8, compio_sync::backend::Local>)) };
    const { assert!(!is_send!(Mutex<u8, compio_sync::backend::Local>)) };
}

/// The shared primitive files take every atomic, fence, `Arc` and default
/// backend from `super::flavor`: none of them names `std`'s or the loom
/// shim's, or the local flavor would silently use real atomics.
#[test]
fn shared_source_reaches_atomics_only_through_the_flavor() {
    let src = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    // Every primitive file, including ones added later: all of `src/` but
    // the engine (`backend/`), the flavors themselves and the crate-wide
    // plumbing that is compiled once.
    let shared_once = [
        "lib.rs",
        "flavor.rs",
        "spin_lock.rs",
        "lazy_box.rs",
        "loom.rs",
        "blocking.rs",
        "coop.rs",
        "error.rs",
        "local/mod.rs",
        "local/flavor.rs",
    ];
    let mut files = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if path.is_dir() {
                // `local/` is the flavor's side: its files compile the
                // shared ones again, they add no code of their own.
                if rel != "backend" && rel != "local" {
                    dirs.push(path);
                }
            } else if rel.ends_with(".rs") && !shared_once.contains(&rel.as_str()) {
                files.push(rel);
            }
        }
    }
    for must in [
        "semaphore/mod.rs",
        "notify/mod.rs",
        "mutex/mod.rs",
        "condvar.rs",
    ] {
        assert!(files.iter().any(|f| f == must), "{must} is scanned");
    }
    for file in &files {
        let text = std::fs::read_to_string(src.join(file)).unwrap();
        for forbidden in [
            "std::sync::atomic",
            "sync::Arc",
            "crate::loom",
            "loom::atomic",
            "std::rc",
            "backend::DefaultBackend",
            "backend::{DefaultBackend",
        ] {
            // Doc examples (`/// use std::sync::Arc;`) show the thread-safe
            // API; only code lines count.
            let offending: Vec<_> = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .filter(|l| l.contains(forbidden))
                .collect();
            assert!(
                offending.is_empty(),
                "{file} names `{forbidden}` outside the flavor: {offending:?}"
            );
        }
        // A file that uses a counter, a fence or a shared pointer takes it
        // from the flavor: its own import (`flavor::`), or its parent's
        // (`use super::`) for the files of a primitive's folder.
        let uses_flavored = ["AtomicUsize", "fence(", "Arc<", "Arc::"]
            .iter()
            .any(|name| text.contains(name));
        let sub_file = file.contains('/') && !file.ends_with("/mod.rs");
        assert!(
            !uses_flavored || text.contains("flavor") || (sub_file && text.contains("use super::")),
            "{file} imports from the flavor"
        );
    }
}

// ---------------------------------------------------------------- instances

macro_rules! semaphore_suite {
    ($name:ident, $strict:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn thousand_tasks_then_exactly_five_permits_compio() {
                super::thousand_tasks_then_exactly_five_permits::<Compio>($strict);
            }
            #[test]
            fn thousand_tasks_then_exactly_five_permits_futures() {
                super::thousand_tasks_then_exactly_five_permits::<Futures>($strict);
            }
            #[test]
            fn thousand_spawned_tasks_with_owned_permits() {
                super::thousand_spawned_tasks_with_owned_permits($strict);
            }
            #[test]
            fn cancel_while_queued_lets_next_waiter_run() {
                super::cancel_while_queued_lets_next_waiter_run($strict);
            }
            #[test]
            fn notified_waiter_dropped_passes_wakeup_on() {
                super::notified_waiter_dropped_passes_wakeup_on($strict);
            }
            #[test]
            fn acquire_many_and_its_cancellation() {
                super::acquire_many_and_its_cancellation($strict);
            }
            #[test]
            fn close_fails_waiters_and_keeps_held_permits_compio() {
                super::close_fails_waiters_and_keeps_held_permits::<Compio>($strict);
            }
            #[test]
            fn close_fails_waiters_and_keeps_held_permits_futures() {
                super::close_fails_waiters_and_keeps_held_permits::<Futures>($strict);
            }
            #[test]
            fn permit_bookkeeping() {
                super::permit_bookkeeping($strict);
            }
            #[test]
            fn reentrant_waker_does_not_deadlock() {
                super::reentrant_waker_does_not_deadlock($strict);
            }
        }
    };
}

semaphore_suite!(semaphore_default_policy, false);
semaphore_suite!(semaphore_strict_fifo, true);

#[test]
fn semaphore_strict_fifo_serves_in_arrival_order() {
    strict_fifo_serves_in_arrival_order();
}

#[test]
fn semaphore_strict_head_acquire_many_blocks_later_waiters() {
    strict_head_acquire_many_blocks_later_waiters();
}

mod notify {
    use super::*;

    #[test]
    fn notify_one_stores_one_permit_for_the_next_notified() {
        super::notify_one_stores_one_permit_for_the_next_notified();
    }
    #[test]
    fn notify_one_wakes_oldest_and_notify_last_newest() {
        super::notify_one_wakes_oldest_and_notify_last_newest();
    }
    #[test]
    fn notify_waiters_wakes_only_earlier_notified_and_stores_nothing() {
        super::notify_waiters_wakes_only_earlier_notified_and_stores_nothing();
    }
    #[test]
    fn dropped_notified_passes_notify_one_on_fifo() {
        super::dropped_notified_passes_notify_one_on(false);
    }
    #[test]
    fn dropped_notified_passes_notify_last_on_lifo() {
        super::dropped_notified_passes_notify_one_on(true);
    }
    #[test]
    fn dropped_waiter_leaves_nothing_behind() {
        super::dropped_waiter_leaves_nothing_behind();
    }
    #[test]
    fn thousand_waiters_compio() {
        super::thousand_waiters::<Compio>();
    }
    #[test]
    fn thousand_waiters_futures() {
        super::thousand_waiters::<Futures>();
    }
    #[test]
    fn ping_pong_on_one_runtime() {
        super::ping_pong_on_one_runtime();
    }
}
