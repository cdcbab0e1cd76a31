//! Loom models of the races Barrier, OnceCell and SetOnce must win, each run
//! on every backend.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" \
//!     cargo test --release -p compio-sync --test loom_once
//! ```
//!
//! The preemption bound is set in `common/loom.rs` (per model class);
//! `LOOM_MAX_PREEMPTIONS` overrides it. A lost wake-up shows up as a
//! deadlock (loom's `block_on` parks with nobody left to wake it); a
//! miscounted arrival or a second initializer as a failed assertion.
#![cfg(loom)]

mod common;
#[path = "common/loom.rs"]
mod loom_model;

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, Waker},
};

use compio_sync::{Barrier, BarrierWaitResult, OnceCell, SetOnce};
use loom::{
    future::block_on,
    sync::atomic::{AtomicUsize, Ordering::SeqCst},
    thread,
};
use loom_model::{Backend, Class, check_on};

fn poll<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

/// A field of a `Debug` output (`arrived`, `generation`).
fn field<T: std::fmt::Debug>(value: &T, name: &str) -> usize {
    let debug = format!("{value:?}");
    let at = debug.find(&format!("{name}: ")).expect("field in Debug") + name.len() + 2;
    debug[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Barrier, cancel vs release: of a barrier for 2, `a` has arrived and is
/// dropped while `b`'s arrival on another thread races the drop; then `c`
/// arrives. Either the drop came first (then `b` and `c` make the
/// generation), or `b`'s arrival completed it with `a` (then `a`'s drop
/// undoes nothing, and `c` waits alone in the next one). Whatever the
/// order: one generation, one leader, and once `c` is dropped too, no
/// arrival is left.
fn barrier_drop_racing_last_arrival<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let barrier = Arc::new(Barrier::<B>::with_backend(2));
        let mut a = Box::pin(barrier.wait());
        assert!(poll(a.as_mut()).is_pending());
        let other = {
            let barrier = barrier.clone();
            thread::spawn(move || block_on(barrier.wait()).is_leader())
        };
        drop(a);
        let mut c = Box::pin(barrier.wait());
        let c_first = poll(c.as_mut());
        let b_led = other.join().unwrap();
        let c_led = match c_first {
            Poll::Ready(r) => Some(r.is_leader()),
            Poll::Pending => match poll(c.as_mut()) {
                Poll::Ready(r) => Some(r.is_leader()),
                Poll::Pending => None,
            },
        };
        match c_led {
            // The drop came first: `b` and `c` made the generation.
            Some(c_led) => assert!(b_led != c_led, "exactly one leader"),
            // `b` completed it with `a`; `c` waits in the next one.
            None => assert!(b_led, "b's arrival completed a's generation"),
        }
        drop(c);
        assert_eq!(field(&*barrier, "generation"), 1, "one generation");
        assert_eq!(field(&*barrier, "arrived"), 0, "no arrival left");
    });
}

/// Barrier: two threads pass a barrier for 2 twice. A waiter of the second
/// generation may register between the first leader's bump and its sweep,
/// and be woken by it: it must queue again, not leave early. Two
/// generations, one leader each.
fn barrier_two_generations_two_threads<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let barrier = Arc::new(Barrier::<B>::with_backend(2));
        let rounds = |barrier: &Barrier<B>| -> usize {
            (0..2)
                .map(|_| block_on(barrier.wait()))
                .filter(BarrierWaitResult::is_leader)
                .count()
        };
        let other = {
            let barrier = barrier.clone();
            thread::spawn(move || rounds(&barrier))
        };
        let mine = rounds(&barrier);
        assert_eq!(mine + other.join().unwrap(), 2, "one leader per generation");
        assert_eq!(field(&*barrier, "generation"), 2);
    });
}

/// OnceCell, init cancel vs waiters: an initializer holding the permit is
/// dropped while a `get_or_init` on another thread waits (or is just
/// queueing), and the main thread then initializes too. The waiter is
/// woken, exactly one of the two later initializers runs, and both see its
/// value.
fn once_cell_init_cancel_racing_waiter<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let cell = Arc::new(OnceCell::<usize, B>::with_backend());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut abandoned = Box::pin(cell.get_or_init(std::future::pending));
        assert!(poll(abandoned.as_mut()).is_pending(), "holds the permit");
        let waiter = {
            let (cell, runs) = (cell.clone(), runs.clone());
            thread::spawn(move || {
                *block_on(cell.get_or_init(|| async {
                    runs.fetch_add(1, SeqCst);
                    2
                }))
            })
        };
        drop(abandoned);
        let mine = *block_on(cell.get_or_init(|| async {
            runs.fetch_add(1, SeqCst);
            3
        }));
        assert_eq!(waiter.join().unwrap(), mine);
        assert_eq!(runs.load(SeqCst), 1, "one initializer ran");
    });
}

/// OnceCell: `set` on one thread races `get_or_init` on another. Exactly
/// one value wins; `set` fails only if the initializer's value is (or is
/// about to be) there.
fn once_cell_set_racing_get_or_init<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let cell = Arc::new(OnceCell::<usize, B>::with_backend());
        let setter = {
            let cell = cell.clone();
            thread::spawn(move || cell.set(1).is_ok())
        };
        let got = *block_on(cell.get_or_init(|| async { 2 }));
        let set = setter.join().unwrap();
        assert_eq!(got, if set { 1 } else { 2 });
        assert_eq!(cell.get(), Some(&got));
    });
}

/// SetOnce: `set` on one thread races `wait` on another (its fast path,
/// its `Notified`, its re-check). The waiter always wakes with the value.
fn set_once_set_racing_wait<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let cell = Arc::new(SetOnce::<usize, B>::with_backend());
        let setter = {
            let cell = cell.clone();
            thread::spawn(move || cell.set(7).unwrap())
        };
        assert_eq!(*block_on(cell.wait()), 7);
        setter.join().unwrap();
    });
}

/// SetOnce: two `set`s race; exactly one wins, and the loser returns only
/// once the winner's value is visible.
fn set_once_two_sets_racing<B: Backend>() {
    check_on::<B>(Class::Primitive, || {
        let cell = Arc::new(SetOnce::<usize, B>::with_backend());
        let other = {
            let cell = cell.clone();
            thread::spawn(move || match cell.set(1) {
                Ok(()) => true,
                Err(_) => {
                    assert!(cell.get().is_some(), "a failed set sees the value");
                    false
                }
            })
        };
        let mine = match cell.set(2) {
            Ok(()) => true,
            Err(_) => {
                assert!(cell.get().is_some(), "a failed set sees the value");
                false
            }
        };
        assert!(mine != other.join().unwrap(), "exactly one set wins");
    });
}

macro_rules! loom_suite {
    ($name:ident, $backend:ty, $($order:tt)+) => {
        mod $name {
            type B = $backend;

            #[test]
            fn barrier_drop_racing_last_arrival() {
                super::barrier_drop_racing_last_arrival::<B>();
            }
            #[test]
            fn barrier_two_generations_two_threads() {
                super::barrier_two_generations_two_threads::<B>();
            }
            #[test]
            fn once_cell_init_cancel_racing_waiter() {
                super::once_cell_init_cancel_racing_waiter::<B>();
            }
            #[test]
            fn once_cell_set_racing_get_or_init() {
                super::once_cell_set_racing_get_or_init::<B>();
            }
            #[test]
            fn set_once_set_racing_wait() {
                super::set_once_set_racing_wait::<B>();
            }
            #[test]
            fn set_once_two_sets_racing() {
                super::set_once_two_sets_racing::<B>();
            }
        }
    };
}

for_each_backend!(loom_suite, once);
