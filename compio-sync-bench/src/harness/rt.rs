//! Running work on compio runtimes: one runtime per benchmark thread, joining
//! tasks and threads (resuming their panics, so a failed check inside a task
//! fails the run), a yield through the executor, and the wall time of work
//! spread over several threads.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        OnceLock,
        atomic::{AtomicUsize, Ordering::Relaxed},
    },
    task::{Context, Poll},
    thread,
    time::{Duration, Instant},
};

use compio::runtime::{ResumeUnwind, Runtime};

/// The CPUs that `--pin` hands out round robin (see [`pin_runtimes`]); unset
/// without `--pin`.
static PIN_CPUS: OnceLock<Vec<usize>> = OnceLock::new();

/// Runtimes pinned so far: the next one goes to `PIN_CPUS[PINNED % len]`.
static PINNED: AtomicUsize = AtomicUsize::new(0);

/// `--pin`: from now on, [`runtime`] pins the thread it is called on (but
/// the main thread) to one of the CPUs this process may run on, round
/// robin. So the threads of one scenario take distinct CPUs while there are
/// enough (and T threads on C CPUs share them T/C apiece), as the runtimes
/// of a thread-per-core server do. Returns how many CPUs are handed out.
///
/// # Errors
///
/// Where affinity cannot be read or set (not Linux).
pub fn pin_runtimes() -> Result<usize, String> {
    let cpus = affinity::allowed()?;
    if cpus.is_empty() {
        return Err("no CPU in this process's affinity mask".into());
    }
    let n = cpus.len();
    PIN_CPUS
        .set(cpus)
        .map_err(|_| "pin_runtimes called twice".to_owned())?;
    Ok(n)
}

/// Pins the calling thread per [`pin_runtimes`], if it was called.
fn pin_this_runtime_thread() {
    let Some(cpus) = PIN_CPUS.get() else { return };
    if thread::current().name() == Some("main") {
        // The main thread runs the one-runtime scenarios and spawns the
        // others' threads, which would inherit its mask.
        return;
    }
    let cpu = cpus[PINNED.fetch_add(1, Relaxed) % cpus.len()];
    if let Err(error) = affinity::pin(cpu) {
        panic!("--pin: cannot pin a runtime thread to CPU {cpu}: {error}");
    }
}

#[cfg(target_os = "linux")]
mod affinity {
    use std::mem::{size_of, zeroed};

    /// The CPUs the calling thread may run on.
    pub fn allowed() -> Result<Vec<usize>, String> {
        // SAFETY: a zeroed `cpu_set_t` is an empty set, and the kernel
        // writes at most `size_of::<cpu_set_t>()` bytes into it.
        unsafe {
            let mut set: libc::cpu_set_t = zeroed();
            if libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) != 0 {
                return Err(std::io::Error::last_os_error().to_string());
            }
            let max = 8 * size_of::<libc::cpu_set_t>();
            Ok((0..max).filter(|&cpu| libc::CPU_ISSET(cpu, &set)).collect())
        }
    }

    /// Pins the calling thread to `cpu`.
    pub fn pin(cpu: usize) -> Result<(), String> {
        // SAFETY: `set` is a valid `cpu_set_t` that `CPU_SET` writes within
        // (`cpu` came from `allowed`, so it is below its capacity), and the
        // kernel only reads `size_of::<cpu_set_t>()` bytes of it.
        unsafe {
            let mut set: libc::cpu_set_t = zeroed();
            libc::CPU_SET(cpu, &mut set);
            if libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error().to_string());
            }
        }
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod affinity {
    pub fn allowed() -> Result<Vec<usize>, String> {
        Err("pinning runtime threads is supported on Linux only".into())
    }

    pub fn pin(_cpu: usize) -> Result<(), String> {
        Err("pinning runtime threads is supported on Linux only".into())
    }
}

/// A compio runtime for one benchmark thread, pinned under `--pin` (see
/// [`pin_runtimes`]). The cross-thread wake queue is
/// made larger than the default 64 so that it can never fill up (a full queue
/// makes `wake()` spin, compio#1044): at most one entry per task is queued.
pub fn runtime() -> Runtime {
    pin_this_runtime_thread();
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
