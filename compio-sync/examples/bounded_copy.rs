//! Bounded parallel copy: copy a directory tree with `compio::fs` on several
//! runtimes (one OS thread each), with `compio_sync` coordinating them.
//!
//! ```text
//! cargo run --release -p compio-sync --example bounded_copy
//! cargo run --release -p compio-sync --example bounded_copy -- --files 2000 --runtimes 4
//! ```
//!
//! What it shows:
//! - a [`compio_sync::mpsc`] channel carries the work: a walker on a plain
//!   thread sends one path per file with `blocking_send` (the bounded buffer
//!   holds it back when the copiers fall behind), and copy tasks on every
//!   runtime pull from one shared receiver, an
//!   `Arc<compio_sync::Mutex<Receiver>>`, so an idle runtime takes the next
//!   file whichever runtime it would otherwise have gone to;
//! - a [`compio_sync::Semaphore`] shared by all runtimes caps the files open at
//!   once: a copy holds two permits (source and destination), taken together
//!   with `acquire_many(2)` so that two copies can never each hold one and wait
//!   for the other's;
//! - an [indicatif](https://docs.rs/indicatif) progress bar on stderr counts
//!   bytes and files (hidden when stderr is not a terminal);
//! - the run prints its throughput.
//!
//! The example makes its own input, a tree of a few hundred files of random
//! sizes from a fixed seed (some empty, some over 1 MiB), in a fresh directory
//! under [`std::env::temp_dir`], and checks its own output: every file
//! copied, each copy's FNV-1a checksum equal to its source's, file and byte
//! totals equal, and the number of files open never above the cap. On any
//! mismatch it panics (exit code 101). Both directories are removed at the end,
//! also after a failed check.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use compio::fs::File;
use compio::io::{AsyncReadAt, AsyncWriteAtExt};
use compio_sync::{Mutex, Semaphore, mpsc};
use indicatif::{ProgressBar, ProgressStyle};

/// Size of each read/write: one buffer per copy task, reused for every chunk.
const CHUNK: usize = 256 * 1024;

/// Settings, from the command line (`--name value`) or the defaults.
struct Config {
    /// Files in the generated tree.
    files: usize,
    /// Runtimes, one OS thread each.
    runtimes: usize,
    /// Copy tasks on each runtime.
    tasks_per_runtime: usize,
    /// Files open at once, across all runtimes (a copy opens two).
    max_open: usize,
    /// Seed of the generated tree.
    seed: u64,
}

impl Config {
    fn from_args() -> Self {
        let mut config = Config {
            files: 300,
            runtimes: 3,
            tasks_per_runtime: 4,
            max_open: 8,
            seed: 0x5eed_c0de,
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let mut value = || -> usize {
                let v = args
                    .next()
                    .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
                v.parse()
                    .unwrap_or_else(|_| usage(&format!("{flag}: not a number: {v}")))
            };
            match flag.as_str() {
                "--files" => config.files = value(),
                "--runtimes" => config.runtimes = value().max(1),
                "--tasks" => config.tasks_per_runtime = value().max(1),
                "--max-open" => config.max_open = value().max(2),
                "--seed" => config.seed = value() as u64,
                _ => usage(&format!("unknown argument {flag}")),
            }
        }
        config
    }
}

fn usage(error: &str) -> ! {
    eprintln!(
        "{error}\nusage: bounded_copy [--files N] [--runtimes N] [--tasks N] [--max-open N] [--seed N]"
    );
    std::process::exit(2)
}

/// One file to copy, sent from the walker to the copy tasks.
struct CopyJob {
    from: PathBuf,
    to: PathBuf,
}

/// What every copy task shares, across runtimes.
struct Shared {
    /// The work queue. One receiver, many consumers: a task holds the lock
    /// only while it waits for the next job.
    jobs: Mutex<mpsc::Receiver<CopyJob>>,
    /// Caps the files open at once.
    open_limit: Semaphore,
    /// Files open right now, and the most ever open: the cap's proof.
    /// `Relaxed` suffices: a file is counted in after its permits are taken
    /// and out before they are released, and the semaphore orders a release
    /// before the acquire that takes the same permits.
    open_now: AtomicUsize,
    open_high_water: AtomicUsize,
    files_copied: AtomicU64,
    bytes_copied: AtomicU64,
    progress: ProgressBar,
    total_files: usize,
}

impl Shared {
    /// Counts a file opened (called with its permit held).
    fn opened(&self) {
        let now = self.open_now.fetch_add(1, Ordering::Relaxed) + 1;
        self.open_high_water.fetch_max(now, Ordering::Relaxed);
    }

    fn closed(&self) {
        self.open_now.fetch_sub(1, Ordering::Relaxed);
    }
}

fn main() {
    let config = Config::from_args();
    let scratch = ScratchDir::new();
    let source = scratch.path().join("source");
    let target = scratch.path().join("target");

    // The input, and what the copy must reproduce: relative path -> (length, FNV-1a).
    let expected = generate_tree(&source, config.files, config.seed);
    let total_bytes: u64 = expected.values().map(|&(len, _)| len).sum();
    let progress = progress_bar(total_bytes);

    let (job_tx, job_rx) = mpsc::channel::<CopyJob>(64);
    let shared = Arc::new(Shared {
        jobs: Mutex::new(job_rx),
        open_limit: Semaphore::new(config.max_open),
        open_now: AtomicUsize::new(0),
        open_high_water: AtomicUsize::new(0),
        files_copied: AtomicU64::new(0),
        bytes_copied: AtomicU64::new(0),
        progress: progress.clone(),
        total_files: expected.len(),
    });

    let started = Instant::now();
    // The walker: a plain thread, so it uses the blocking entry point.
    let walker = {
        let (source, target) = (source.clone(), target.clone());
        std::thread::spawn(move || walk(&source, &target, &job_tx))
        // `job_tx` is dropped when the walk ends: the copy tasks' `recv` then
        // returns `None` once the queue is drained, and they finish.
    };
    // The copiers: one compio runtime per thread, several tasks on each.
    let copiers: Vec<_> = (0..config.runtimes)
        .map(|i| {
            let shared = Arc::clone(&shared);
            let tasks = config.tasks_per_runtime;
            std::thread::Builder::new()
                .name(format!("copy-runtime-{i}"))
                .spawn(move || {
                    let runtime = compio::runtime::Runtime::new().expect("create a compio runtime");
                    runtime.block_on(copy_on_this_runtime(shared, tasks))
                })
                .expect("spawn a runtime thread")
        })
        .collect();

    let walked = walker.join().expect("walker thread panicked");
    let per_runtime: Vec<u64> = copiers
        .into_iter()
        .map(|t| t.join().expect("copy runtime panicked"))
        .collect();
    let elapsed = started.elapsed();
    progress.finish_and_clear();

    // Check the output.
    let files = shared.files_copied.load(Ordering::Relaxed);
    let bytes = shared.bytes_copied.load(Ordering::Relaxed);
    let high_water = shared.open_high_water.load(Ordering::Relaxed);
    assert_eq!(walked, expected.len(), "files found by the walker");
    assert_eq!(files, expected.len() as u64, "files copied");
    assert_eq!(
        per_runtime.iter().sum::<u64>(),
        files,
        "per-runtime file counts"
    );
    assert_eq!(bytes, total_bytes, "bytes copied");
    assert!(
        (1..=config.max_open).contains(&high_water),
        "{high_water} files were open at once, the cap is {}",
        config.max_open
    );
    let copied = checksum_tree(&target);
    assert_eq!(copied.len(), expected.len(), "files in the target tree");
    for (path, want) in &expected {
        let got = copied
            .get(path)
            .unwrap_or_else(|| panic!("{} was not copied", path.display()));
        assert_eq!(
            got,
            want,
            "{}: (length, FNV-1a) of the copy",
            path.display()
        );
    }

    let mib = bytes as f64 / (1024.0 * 1024.0);
    println!(
        "copied {files} files, {mib:.1} MiB in {:.0} ms: {:.0} MiB/s \
         ({} runtimes x {} tasks, files per runtime {per_runtime:?}, at most {high_water} of \
         {} files open at once); every checksum matches",
        elapsed.as_secs_f64() * 1e3,
        mib / elapsed.as_secs_f64().max(1e-9),
        config.runtimes,
        config.tasks_per_runtime,
        config.max_open,
    );
}

/// Runs `tasks` copy tasks on the current runtime until the queue is closed
/// and drained; returns the files this runtime copied.
async fn copy_on_this_runtime(shared: Arc<Shared>, tasks: usize) -> u64 {
    let handles: Vec<_> = (0..tasks)
        .map(|_| compio::runtime::spawn(copy_task(Arc::clone(&shared))))
        .collect();
    let mut files = 0;
    // Await every handle: dropping a compio JoinHandle cancels its task.
    for handle in handles {
        files += handle.await.expect("copy task panicked");
    }
    files
}

/// One copy task: takes jobs until the queue is closed and empty.
async fn copy_task(shared: Arc<Shared>) -> u64 {
    let mut buffer = Vec::with_capacity(CHUNK);
    let mut files = 0;
    loop {
        // The guard is a temporary of this statement: the lock is held while
        // waiting for a job and released before the copy starts.
        let Some(job) = shared.jobs.lock().await.recv().await else {
            return files;
        };
        // Two permits, taken at once: one per file this copy opens.
        let permits = shared
            .open_limit
            .acquire_many(2)
            .await
            .expect("the semaphore is never closed");
        let (copied, returned) = copy_file(&shared, &job, buffer).await;
        buffer = returned;
        drop(permits); // both files are closed: let the next copy open its own
        let copied = copied.unwrap_or_else(|e| panic!("copy {}: {e}", job.from.display()));

        files += 1;
        shared.bytes_copied.fetch_add(copied, Ordering::Relaxed);
        let done = shared.files_copied.fetch_add(1, Ordering::Relaxed) + 1;
        shared.progress.inc(copied);
        shared
            .progress
            .set_message(format!("{done}/{} files", shared.total_files));
    }
}

/// Copies one file in `CHUNK`-sized reads and writes through `buffer`, which
/// it hands back (compio's I/O takes buffers by value). Returns the bytes
/// copied. Its caller holds two permits of `open_limit`.
async fn copy_file(
    shared: &Shared,
    job: &CopyJob,
    mut buffer: Vec<u8>,
) -> (std::io::Result<u64>, Vec<u8>) {
    let from = match File::open(&job.from).await {
        Ok(file) => file,
        Err(e) => return (Err(e), buffer),
    };
    shared.opened();
    let mut to = match File::create(&job.to).await {
        Ok(file) => file,
        Err(e) => {
            shared.closed();
            return (Err(e), buffer);
        }
    };
    shared.opened();

    let mut position = 0u64;
    let result = loop {
        buffer.clear(); // a read fills the buffer's capacity from the start
        let compio::BufResult(read, filled) = from.read_at(buffer, position).await;
        buffer = filled;
        match read {
            Ok(0) => break Ok(position),
            Ok(n) => {
                let compio::BufResult(written, drained) = to.write_all_at(buffer, position).await;
                buffer = drained;
                if let Err(e) = written {
                    break Err(e);
                }
                position += n as u64;
            }
            Err(e) => break Err(e),
        }
    };
    // Close through the runtime (an io_uring/IOCP op); a dropped `File`
    // would close synchronously.
    let closed_from = from.close().await;
    shared.closed();
    let closed_to = to.close().await;
    shared.closed();
    let result = result.and_then(|n| closed_from.and(closed_to).map(|()| n));
    (result, buffer)
}

/// Walks `source` (depth first), creates each directory under `target` and
/// sends one job per file. Returns the number of files sent.
fn walk(source: &Path, target: &Path, jobs: &mpsc::Sender<CopyJob>) -> usize {
    std::fs::create_dir_all(target).expect("create the target directory");
    let mut sent = 0;
    let mut entries = std::fs::read_dir(source)
        .expect("read a source directory")
        .collect::<Vec<_>>();
    // A stable order, so a run is reproducible (read_dir's is unspecified).
    entries.sort_by_key(|e| e.as_ref().map(|e| e.file_name()).ok());
    for entry in entries {
        let entry = entry.expect("read a directory entry");
        let (from, to) = (entry.path(), target.join(entry.file_name()));
        if entry.file_type().expect("file type").is_dir() {
            sent += walk(&from, &to, jobs);
        } else {
            jobs.blocking_send(CopyJob { from, to })
                .expect("the copy tasks stopped early");
            sent += 1;
        }
    }
    sent
}

/// Writes `files` files of random sizes and contents (from `seed`) under
/// `root`, spread over nested directories; returns relative path -> (length,
/// FNV-1a of the contents).
fn generate_tree(root: &Path, files: usize, seed: u64) -> BTreeMap<PathBuf, (u64, u64)> {
    let mut rng = SplitMix64(seed);
    let mut expected = BTreeMap::new();
    for i in 0..files {
        // Every tenth file is empty and every twentieth over 1 MiB; the rest
        // are up to 64 KiB.
        let len = match i % 20 {
            0 | 10 => 0,
            5 => (1 << 20) + rng.below(2 << 20),
            _ => rng.below(64 << 10),
        };
        // Up to three levels: a few files at the top, most deeper.
        let relative = match i % 4 {
            0 => PathBuf::from(format!("file-{i}.bin")),
            1 => PathBuf::from(format!("a{}/file-{i}.bin", i % 5)),
            _ => PathBuf::from(format!("a{}/b{}/file-{i}.bin", i % 5, i % 3)),
        };
        let mut contents = vec![0u8; len as usize];
        rng.fill(&mut contents);
        let path = root.join(&relative);
        std::fs::create_dir_all(path.parent().expect("a file has a parent"))
            .expect("create a source dir");
        std::fs::write(&path, &contents).expect("write a source file");
        expected.insert(relative, (len, fnv1a(&contents)));
    }
    expected
}

/// Reads back every file under `root` (plain `std::fs`: the checker shares
/// no code with the copy); returns relative path -> (length, FNV-1a).
fn checksum_tree(root: &Path) -> BTreeMap<PathBuf, (u64, u64)> {
    let mut found = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a target directory") {
            let path = entry.expect("read a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let contents = std::fs::read(&path).expect("read a copied file");
                let relative = path
                    .strip_prefix(root)
                    .expect("under the root")
                    .to_path_buf();
                found.insert(relative, (contents.len() as u64, fnv1a(&contents)));
            }
        }
    }
    found
}

/// FNV-1a, 64-bit: a simple non-cryptographic checksum, enough to catch a
/// lost, reordered or truncated chunk.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64 (Steele, Lea and Flood): a tiny deterministic generator, so the
/// example needs no `rand` and a seed always gives the same tree.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..bound` (slightly biased; fine for file sizes).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn fill(&mut self, bytes: &mut [u8]) {
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes()[..chunk.len()]);
        }
    }
}

fn progress_bar(total_bytes: u64) -> ProgressBar {
    // `ProgressBar::new` draws to stderr, and not at all when stderr is not a
    // terminal (CI logs stay clean).
    let bar = ProgressBar::new(total_bytes);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] [{bar:30}] {binary_bytes}/{binary_total_bytes} \
             ({binary_bytes_per_sec}) {msg}",
        )
        .expect("a valid progress template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// A fresh directory under the system's temporary directory, removed on drop
/// (also when a check panics). The name holds the process id and the time,
/// so runs at the same time never share one.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "compio-sync-bounded-copy-{}-{nanos}",
            std::process::id()
        ));
        // `create_dir`, not `create_dir_all`: fails rather than reuse a directory.
        std::fs::create_dir(&path).expect("create a scratch directory");
        ScratchDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            eprintln!("warning: could not remove {}: {e}", self.0.display());
        }
    }
}
