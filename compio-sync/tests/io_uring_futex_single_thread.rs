//! The single-threaded-process trap of PRIVATE futexes (a test without the
//! libtest harness, because it needs a process that starts with one thread).
//!
//! Linux 6.16+ gives a process its own private futex hash when it creates its
//! second thread, and does not move waits already queued in the global hash.
//! An io_uring `FUTEX_WAIT` armed with `FUTEX2_PRIVATE` while the process was
//! single-threaded is therefore missed by every later PRIVATE wake. Shared
//! keys always live in the global hash.
//!
//! Each scenario runs in a fresh child process (this binary re-executed with
//! `SINGLE_THREAD_SCENARIO` set), so that each starts single-threaded:
//! - `raw-private` / `raw-shared`: a raw io_uring FUTEX_WAIT armed while
//!   single-threaded, a thread created, then a matching futex(2) wake.
//!   `raw-shared` must wake; `raw-private` is reported (it is the kernel bug).
//! - `backend`: an `IoUringFutex` waiter parked through io_uring on a compio
//!   runtime while the process is single-threaded, then notified from a
//!   newly created thread. It must wake.

#[cfg(all(target_os = "linux", feature = "io-uring-futex", not(loom)))]
fn main() {
    match std::env::var("SINGLE_THREAD_SCENARIO").ok().as_deref() {
        Some("raw-private") => scenarios::raw(true),
        Some("raw-shared") => scenarios::raw(false),
        Some("backend") => scenarios::backend(),
        Some(other) => panic!("unknown scenario {other}"),
        None => scenarios::parent(),
    }
}

#[cfg(not(all(target_os = "linux", feature = "io-uring-futex", not(loom))))]
fn main() {}

#[cfg(all(target_os = "linux", feature = "io-uring-futex", not(loom)))]
mod scenarios {
    use std::{
        future::poll_fn,
        process::{Command, exit},
        ptr,
        sync::{
            Arc,
            atomic::{AtomicBool, AtomicU32, Ordering::SeqCst, fence},
        },
        task::Poll,
        thread,
        time::Duration,
    };

    use compio_sync::backend::{IoUringFutex, WaitPath, WaitQueue};
    use io_uring::{IoUring, opcode};

    const FUTEX2_SIZE_U32: u32 = 0x02;
    const FUTEX2_PRIVATE: u32 = 128;
    /// Exit code of a child whose waiter was not woken.
    const LOST: i32 = 3;

    fn threads() -> usize {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap()
    }

    fn run_child(scenario: &str) -> Option<i32> {
        let out = Command::new(std::env::current_exe().unwrap())
            .env("SINGLE_THREAD_SCENARIO", scenario)
            .output()
            .unwrap();
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        out.status.code()
    }

    pub fn parent() {
        let private = run_child("raw-private");
        let shared = run_child("raw-shared");
        let backend = run_child("backend");
        println!(
            "PRIVATE io_uring wait armed single-threaded: {}",
            match private {
                Some(0) => "woken (trap not present on this kernel)",
                Some(LOST) => "LOST (the trap: the PRIVATE wake missed it)",
                _ => "child failed",
            }
        );
        assert!(
            matches!(private, Some(0 | LOST)),
            "raw-private child failed"
        );
        assert_eq!(
            shared,
            Some(0),
            "a SHARED wait armed single-threaded must wake"
        );
        assert_eq!(backend, Some(0), "the backend's waiter must wake");
        println!("io_uring_futex_single_thread: ok");
    }

    /// A raw io_uring FUTEX_WAIT armed while single-threaded, a thread
    /// created, then a futex(2) wake with the same private/shared flag.
    pub fn raw(private: bool) {
        assert_eq!(threads(), 1, "the child must start single-threaded");
        let mut ring = IoUring::new(4).unwrap();
        let word = Box::new(AtomicU32::new(0));
        let flags = FUTEX2_SIZE_U32 | if private { FUTEX2_PRIVATE } else { 0 };
        let wait = opcode::FutexWait::new(word.as_ptr(), 0, u64::from(u32::MAX), flags)
            .build()
            .user_data(1);
        // SAFETY: `word` outlives the ring (the process exits first).
        unsafe { ring.submission().push(&wait).unwrap() };
        ring.submit().unwrap();
        assert_eq!(threads(), 1);
        thread::spawn(|| ()).join().unwrap();
        let op = libc::FUTEX_WAKE_BITSET | if private { libc::FUTEX_PRIVATE_FLAG } else { 0 };
        // SAFETY: `word` is live and aligned.
        let woken = unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                op,
                1,
                ptr::null::<libc::timespec>(),
                ptr::null::<u32>(),
                u32::MAX,
            )
        };
        println!(
            "raw {} wait: futex wake woke {woken}",
            if private { "PRIVATE" } else { "SHARED" }
        );
        if woken != 1 {
            exit(LOST);
        }
        ring.submit_and_wait(1).unwrap();
        let cqe = ring.completion().next().unwrap();
        assert_eq!(cqe.result(), 0);
    }

    /// The backend in the same situation: parked through io_uring while the
    /// process is single-threaded, notified from a thread created afterwards.
    pub fn backend() {
        assert_eq!(threads(), 1, "the child must start single-threaded");
        let rt = compio::runtime::Runtime::new().unwrap();
        let q = Arc::new(IoUringFutex::new());
        rt.block_on(async {
            let w = Box::pin(IoUringFutex::new_waiter());
            poll_fn(|cx| {
                // SAFETY: `w` is idle, pinned, used with `q` only, and
                // observed Ready before it is dropped.
                unsafe { q.register(w.as_ref(), cx.waker(), 0) };
                Poll::Ready(())
            })
            .await;
            fence(SeqCst);
            assert_eq!(w.path(), Some(WaitPath::IoUring));
            // SAFETY: registered, not yet observed Ready.
            let first = poll_fn(|cx| Poll::Ready(unsafe { q.poll_wait(w.as_ref(), cx) })).await;
            assert!(first.is_pending());
            // Let the driver submit the wait to the kernel.
            for _ in 0..4 {
                let mut yielded = false;
                poll_fn(|cx| {
                    if yielded {
                        return Poll::Ready(());
                    }
                    yielded = true;
                    cx.waker().wake_by_ref();
                    Poll::Pending
                })
                .await;
            }
            assert_eq!(threads(), 1, "armed while single-threaded");
            let done = Arc::new(AtomicBool::new(false));
            let notifier = thread::spawn({
                let (q, done) = (Arc::clone(&q), Arc::clone(&done));
                move || {
                    assert!(q.notify_one(1));
                    // Hang guard: a lost wake would otherwise hang the test.
                    for _ in 0..300 {
                        if done.load(SeqCst) {
                            return;
                        }
                        thread::sleep(Duration::from_millis(100));
                    }
                    eprintln!("backend: the io_uring waiter was never woken");
                    exit(LOST);
                }
            });
            // SAFETY: registered, not yet observed Ready.
            let woken = poll_fn(|cx| unsafe { q.poll_wait(w.as_ref(), cx) }).await;
            assert_eq!((woken.wakeup, woken.tag), (1, 0));
            done.store(true, SeqCst);
            notifier.join().unwrap();
        });
        println!("backend: woken");
    }
}
