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

/// Panics if the current thread is running a compio runtime.
#[track_caller]
pub(crate) fn assert_not_in_runtime(what: &str) {
    if compio_runtime::Runtime::try_with_current(|_| ()).is_ok() {
        panic!(
            "{what} called on a thread that is running a compio runtime: it would block \
             every task of that runtime. Use the async method (`.await`) instead."
        );
    }
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
