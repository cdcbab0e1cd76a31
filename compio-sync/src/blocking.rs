//! Blocking entry points: drive one future to completion on a plain thread.

use std::{
    future::Future,
    pin::pin,
    sync::Arc,
    task::{Context, Poll, Wake, Waker},
    thread::{self, Thread},
};

/// Wakes a parked thread.
pub(crate) struct ThreadWaker(pub(crate) Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A waker that unparks the current thread.
pub(crate) fn thread_waker() -> Waker {
    Waker::from(Arc::new(ThreadWaker(thread::current())))
}

/// Panics if the current thread is running a compio runtime or, with the
/// `tokio` feature, drives tokio tasks.
#[track_caller]
pub(crate) fn assert_not_in_runtime(what: &str) {
    if compio_runtime::Runtime::try_with_current(|_| ()).is_ok() {
        panic!(
            "{what} called on a thread that is running a compio runtime: it would block \
             every task of that runtime. Use the async method (`.await`) instead."
        );
    }
    #[cfg(feature = "tokio")]
    assert_tokio_allows_blocking();
}

/// Panics exactly where tokio's own blocking calls panic: on a thread that
/// drives tokio tasks, but not in `spawn_blocking` or `block_in_place`.
///
/// tokio has no public "may I block here?" query, so we ask one of its
/// blocking calls: `blocking_lock` on a fresh, uncontended tokio mutex runs
/// tokio's check ("Cannot block the current thread from within a runtime")
/// and otherwise returns at once, without allocating.
#[cfg(feature = "tokio")]
#[track_caller]
fn assert_tokio_allows_blocking() {
    drop(tokio::sync::Mutex::const_new(()).blocking_lock());
}

/// Polls `future` on this thread, parking between polls.
#[track_caller]
pub(crate) fn block_on<F: Future>(what: &str, future: F) -> F::Output {
    assert_not_in_runtime(what);
    let mut future = pin!(future);
    let waker = thread_waker();
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // A wake between the poll and here leaves the unpark token set, so
        // this returns at once; spurious returns just poll again.
        thread::park();
    }
}
