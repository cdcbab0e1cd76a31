//! Hang detection: every run goes on a thread of its own and is waited for
//! at most a deadline. A run that misses it (a lost wakeup, a deadlock) is
//! reported with how far it got, which the running scenario tells the
//! watchdog through [`set_progress`].

use std::{panic, sync::mpsc, thread, time::Duration};

use super::{bench::RunFn, sample::Sample};

/// How far the running scenario has got, for the hang report.
pub type ProgressFn = Box<dyn Fn() -> String + Send>;

static PROGRESS: std::sync::Mutex<Option<ProgressFn>> = std::sync::Mutex::new(None);

/// Sets (or, with `None`, clears) what the watchdog prints about the running
/// scenario if it hangs.
pub fn set_progress(progress: Option<ProgressFn>) {
    *PROGRESS.lock().unwrap_or_else(|e| e.into_inner()) = progress;
}

/// The running scenario's progress, if it reports one.
fn progress() -> Option<String> {
    PROGRESS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|f| f())
}

/// How one run ended (a failed check panics instead).
#[derive(Debug)]
pub enum Outcome {
    /// Finished in time, with its measurement.
    Done(Sample),
    /// Missed its deadline; what it reported about its progress.
    Hung(String),
}

/// Runs `run` on a thread of its own and waits at most `limit` for it. A run
/// that does not finish in time is reported as hung, with its progress, and
/// its threads are left behind, asleep, so that the rest of the benchmark
/// goes on. A panic (a failed check) is resumed here.
pub fn run_guarded(run: &RunFn, limit: Duration) -> Outcome {
    let (tx, rx) = mpsc::channel();
    let run = run.clone();
    thread::Builder::new()
        .name("bench-run".into())
        .spawn(move || {
            let _ = tx.send(panic::catch_unwind(panic::AssertUnwindSafe(|| run())));
        })
        .expect("cannot spawn a benchmark thread");
    match rx.recv_timeout(limit) {
        Ok(Ok(sample)) => Outcome::Done(sample),
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(mpsc::RecvTimeoutError::Timeout) => Outcome::Hung(progress().unwrap_or_default()),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            unreachable!("the benchmark thread always sends its result")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn a_run_past_its_deadline_is_reported_as_hung() {
        let sleeps: RunFn = Arc::new(|| {
            thread::sleep(Duration::from_secs(3));
            Sample::default()
        });
        let outcome = run_guarded(&sleeps, Duration::from_millis(100));
        assert!(matches!(outcome, Outcome::Hung(_)));
    }

    #[test]
    #[should_panic(expected = "a check failed")]
    fn a_failed_check_still_panics() {
        let fails: RunFn = Arc::new(|| panic!("a check failed"));
        run_guarded(&fails, Duration::from_secs(5));
    }
}
