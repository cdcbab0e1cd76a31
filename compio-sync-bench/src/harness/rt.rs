//! Running work on compio runtimes: one runtime per benchmark thread, joining
//! tasks and threads (resuming their panics, so a failed check inside a task
//! fails the run), a yield through the executor, and the wall time of work
//! spread over several threads.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    thread,
    time::{Duration, Instant},
};

use compio::runtime::{ResumeUnwind, Runtime};

/// A compio runtime for one benchmark thread. The cross-thread wake queue is
/// made larger than the default 64 so that it can never fill up (a full queue
/// makes `wake()` spin, compio#1044): at most one entry per task is queued.
pub fn runtime() -> Runtime {
    Runtime::builder()
        .sync_queue_size(1024)
        .build()
        .expect("cannot build a compio runtime")
}

/// Joins compio tasks, resuming any panic of theirs.
pub async fn join_all<T>(handles: Vec<compio::runtime::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.resume_unwind().expect("task was cancelled"));
    }
    out
}

/// Joins a thread, resuming its panic.
pub fn join_thread<T>(handle: thread::JoinHandle<T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Runs `body` as the one task of a fresh runtime on a new thread; the
/// thread's result is what `body` returned.
pub fn spawn_runtime_thread<T, F>(
    body: impl FnOnce() -> F + Send + 'static,
) -> thread::JoinHandle<T>
where
    T: Send + 'static,
    F: Future<Output = T> + 'static,
{
    thread::spawn(move || {
        let rt = runtime();
        let out = rt.block_on(async move {
            let task = compio::runtime::spawn(async move { body().await });
            join_all(vec![task]).await.pop().expect("one task")
        });
        drop(rt);
        out
    })
}

/// Returns `Pending` once (waking itself first), so the task goes back through
/// the executor's run queue.
pub struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A [`YieldNow`].
pub fn yield_now() -> YieldNow {
    YieldNow(false)
}

/// The wall time of work spread over several threads: from the earliest
/// start to the latest end. Each thread reads its own start right after the
/// start barrier, so a thread that is descheduled (the main thread, or a
/// slow starter) cannot shorten the span to nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span(Option<(Instant, Instant)>);

impl Span {
    /// Adds one thread's `start..end`.
    pub fn add(&mut self, start: Instant, end: Instant) {
        self.0 = Some(match self.0 {
            None => (start, end),
            Some((s, e)) => (s.min(start), e.max(end)),
        });
    }

    /// Earliest start to latest end.
    pub fn elapsed(self) -> Duration {
        self.0.map_or(Duration::ZERO, |(start, end)| end - start)
    }
}
