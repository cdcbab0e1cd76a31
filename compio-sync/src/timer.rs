//! The timer behind the `*_timeout` methods: the running runtime's own.
//!
//! This crate's primitives work on any executor, but a deadline needs a
//! timer, and the timer belongs to the runtime: on a compio runtime,
//! compio's (an io_uring or IOCP timeout on the runtime's own driver); with
//! the `tokio` feature, on a thread without a compio runtime, tokio's (so
//! that code ported from tokio and still run on tokio keeps working,
//! paused clock included). Elsewhere there is no timer to use, and the
//! methods panic, as tokio's do outside a tokio runtime.

use std::{
    future::{Future, poll_fn},
    pin::pin,
    task::Poll,
    time::Duration,
};

/// Runs `future` until it completes (`Some`) or `duration` has passed
/// (`None`); the future is dropped at the deadline.
///
/// The timer is chosen at the first poll, by the thread that polls: see the
/// module docs. `future` is polled before the timer, every time (as tokio's
/// `timeout` does), so a future that is ready at once wins over any
/// deadline, a zero one included.
///
/// # Panics
///
/// At its first poll, on a thread with no runtime that has a timer: with no
/// compio runtime, and without the `tokio` feature or outside a tokio
/// runtime (tokio's own panic then).
pub(crate) async fn timeout<F: Future>(duration: Duration, future: F) -> Option<F::Output> {
    if compio_runtime::Runtime::try_with_current(|_| ()).is_ok() {
        // Not `compio_runtime::time::timeout`: it picks the branch to poll
        // first at random.
        let mut future = pin!(future);
        let mut deadline = pin!(compio_runtime::time::sleep(duration));
        return poll_fn(|cx| match future.as_mut().poll(cx) {
            Poll::Ready(output) => Poll::Ready(Some(output)),
            Poll::Pending => deadline.as_mut().poll(cx).map(|()| None),
        })
        .await;
    }
    #[cfg(feature = "tokio")]
    {
        tokio::time::timeout(duration, future).await.ok()
    }
    #[cfg(not(feature = "tokio"))]
    {
        drop(future);
        panic!(
            "a `*_timeout` method of compio-sync needs a timer: call it on a thread that runs a \
             compio runtime (or, with the `tokio` feature, a tokio runtime with its time driver)"
        )
    }
}
