//! Thread-per-core TCP server: one compio runtime per core, coordinated by
//! `compio_sync`, driven and checked by a client in the same process.
//!
//! ```text
//! cargo run --release -p compio-sync --example tcp_server
//! ```
//!
//! The server speaks a line protocol on loopback: each request line gets one
//! reply line, `"<tag> <body>"`, where the current configuration picks the tag
//! and whether the body is the request or the request in upper case. What it
//! shows:
//!
//! - **One runtime per core**, each on its own OS thread with its own
//!   listener on the same port (`SO_REUSEPORT`: the kernel spreads connections
//!   over the listeners). Where `SO_REUSEPORT` does not exist (Windows), only
//!   the first runtime listens.
//! - **A connection limit**: an `Arc<Semaphore>` shared by every runtime; a
//!   connection holds an `acquire_owned` permit while it is served. An accept
//!   loop waits for a permit before it accepts again, so excess connections
//!   wait in the kernel's backlog.
//! - **A shared configuration**, read through an `RwLock` for every reply (a
//!   reply never mixes two configurations) and reloaded through a `watch`: a
//!   reloader task writes each new version into the lock and acknowledges it
//!   on a second `watch`.
//! - **Per-connection and per-runtime state in `compio_sync::local`**: a
//!   connection is two tasks on its runtime, a reader that parses requests
//!   and a writer that answers them, joined by a bounded `local::mpsc` (at
//!   most a few requests queued per connection); each runtime tracks its open
//!   connections and its stop flag in `local::watch` channels. These are
//!   `!Send` and use no atomic read-modify-write: state that never leaves its
//!   thread need not pay for sharing.
//! - **Graceful shutdown**: one `broadcast` message reaches every runtime's
//!   accept loop; each stops accepting, tells its connections to stop reading
//!   (they answer what they already read, then close), waits until its last
//!   connection is closed, and reports on an `mpsc` channel; the threads are
//!   joined.
//!
//! The client: a burst of short connections, more at once than the limit
//! (bounded on the client side by a `Semaphore` too); then a few long
//! connections that send requests, see the configuration reloaded, and send
//! more; one of them stays open across the shutdown and must see the server
//! close it. It checks every reply byte for byte, and the whole run is bounded
//! by `compio::time::timeout`. A wrong reply panics (exit code 101); a timeout
//! exits with code 1. The port is chosen by the OS, so runs at the same time
//! do not collide, and replies carry the process id.

use std::cell::Cell;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use compio::BufResult;
use compio::io::{AsyncRead, AsyncWriteExt};
use compio::net::{TcpListener, TcpStream};
use compio_sync::{
    Barrier, OwnedSemaphorePermit, RwLock, Semaphore, broadcast, local, mpsc, oneshot, watch,
};
use futures::future::{self, Either};

/// Connections served at once, across all runtimes.
const CONNECTION_LIMIT: usize = 4;
/// Requests a connection may have read but not yet answered.
const PIPELINE_DEPTH: usize = 4;
/// The client's burst: short connections, this many at once (more than
/// `CONNECTION_LIMIT`), each sending `BURST_REQUESTS` requests.
const BURST_CONNECTIONS: usize = 24;
const BURST_PARALLEL: usize = 12;
const BURST_REQUESTS: usize = 3;
/// The client's long connections (at most `CONNECTION_LIMIT`, as they are all
/// open at once), each sending `REQUESTS_PER_PHASE` before and after the
/// reload.
const LONG_CONNECTIONS: usize = 4;
const REQUESTS_PER_PHASE: usize = 10;
/// The whole client run, shutdown included.
const TIME_LIMIT: Duration = Duration::from_secs(20);

/// The server's configuration: what a reply looks like.
#[derive(Clone, Debug)]
struct Config {
    version: u64,
    /// Starts every reply.
    tag: String,
    /// Reply with the request in upper case.
    shout: bool,
}

impl Config {
    fn version(version: u64, shout: bool) -> Self {
        let tag = format!("v{version}/pid{}", std::process::id());
        Config {
            version,
            tag,
            shout,
        }
    }

    fn reply(&self, request: &str) -> String {
        let body = if self.shout {
            request.to_uppercase()
        } else {
            request.to_owned()
        };
        format!("{} {body}\n", self.tag)
    }
}

/// State every runtime shares.
struct Server {
    connection_limit: Arc<Semaphore>,
    config: RwLock<Config>,
    /// Connections served right now, and the most ever: the limit's proof.
    /// `Relaxed` suffices: a connection counts itself in after taking its
    /// permit and out before releasing it, and the semaphore orders a
    /// release before the acquire that takes the same permit.
    served_now: AtomicUsize,
    served_high_water: AtomicUsize,
    /// I/O errors on connections (the run expects none).
    errors: AtomicU64,
}

/// What a runtime reports after its shutdown.
#[derive(Debug)]
struct RuntimeReport {
    runtime: usize,
    connections: u64,
    requests: u64,
}

/// The channels one server runtime is started with.
struct RuntimeChannels {
    shutdown: broadcast::Receiver<()>,
    reports: mpsc::Sender<RuntimeReport>,
    /// Every runtime and the client meet here once all listeners are bound.
    ready: Arc<Barrier>,
    /// Runtime 0 only: the configuration updates, and their acknowledgement.
    reload: Option<(watch::Receiver<Config>, watch::Sender<u64>)>,
}

fn main() {
    let runtimes = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(2);
    let server = Arc::new(Server {
        connection_limit: Arc::new(Semaphore::new(CONNECTION_LIMIT)),
        config: RwLock::new(Config::version(1, false)),
        served_now: AtomicUsize::new(0),
        served_high_water: AtomicUsize::new(0),
        errors: AtomicU64::new(0),
    });
    let (config_tx, config_rx) = watch::channel(Config::version(1, false));
    let (applied_tx, applied_rx) = watch::channel(1u64);
    let (shutdown_tx, _) = broadcast::channel::<()>(1);
    let (report_tx, report_rx) = mpsc::channel(runtimes);
    let ready = Arc::new(Barrier::new(runtimes + 1));

    // One thread per runtime. Runtime 0 binds first (port 0: the OS picks a
    // free port) and sends back the address; the others bind the same port.
    let spawn_runtime = |runtime: usize, addr, addr_tx, reload| {
        let channels = RuntimeChannels {
            // Subscribed before any message is sent: no runtime can miss it.
            shutdown: shutdown_tx.subscribe(),
            reports: report_tx.clone(),
            ready: Arc::clone(&ready),
            reload,
        };
        let server = Arc::clone(&server);
        std::thread::Builder::new()
            .name(format!("server-runtime-{runtime}"))
            .spawn(move || {
                let rt = compio::runtime::Runtime::new().expect("create a compio runtime");
                rt.block_on(run_runtime(runtime, addr, addr_tx, server, channels));
            })
            .expect("spawn a runtime thread")
    };
    let (addr_tx, addr_rx) = oneshot::channel();
    let mut threads = vec![spawn_runtime(
        0,
        None,
        Some(addr_tx),
        Some((config_rx, applied_tx)),
    )];
    // A plain thread waiting for a task: the blocking entry point.
    let addr = addr_rx.blocking_recv().expect("runtime 0 failed to bind");
    threads.extend((1..runtimes).map(|runtime| spawn_runtime(runtime, Some(addr), None, None)));
    drop(report_tx); // the runtimes hold the rest: `recv` ends when all are done

    // The client, on its own runtime, with the time limit.
    let control = ClientControl {
        config: config_tx,
        applied: applied_rx,
        shutdown: shutdown_tx,
        reports: report_rx,
        ready,
    };
    let client_rt = compio::runtime::Runtime::new().expect("create the client runtime");
    let reports = match client_rt.block_on(compio::time::timeout(
        TIME_LIMIT,
        client(addr, runtimes, control),
    )) {
        Ok(reports) => reports,
        Err(_) => {
            eprintln!("FAILED: the run did not finish within {TIME_LIMIT:?}");
            std::process::exit(1);
        }
    };
    for thread in threads {
        thread.join().expect("a server runtime panicked");
    }

    // The server side's own checks.
    let connections: u64 = reports.iter().map(|r| r.connections).sum();
    let requests: u64 = reports.iter().map(|r| r.requests).sum();
    let high_water = server.served_high_water.load(Ordering::Relaxed);
    assert_eq!(reports.len(), runtimes, "every runtime reported");
    assert_eq!(
        connections,
        (BURST_CONNECTIONS + LONG_CONNECTIONS) as u64,
        "connections served"
    );
    assert_eq!(
        requests,
        (BURST_CONNECTIONS * BURST_REQUESTS + LONG_CONNECTIONS * 2 * REQUESTS_PER_PHASE) as u64,
        "requests answered"
    );
    assert_eq!(
        server.errors.load(Ordering::Relaxed),
        0,
        "connection errors"
    );
    assert!(
        (1..=CONNECTION_LIMIT).contains(&high_water),
        "{high_water} connections were served at once, the limit is {CONNECTION_LIMIT}"
    );
    assert_eq!(
        server.served_now.load(Ordering::Relaxed),
        0,
        "connections left open"
    );
    let spread: Vec<_> = reports.iter().map(|r| (r.runtime, r.connections)).collect();
    println!(
        "{runtimes} runtimes served {connections} connections, {requests} requests \
         (connections per runtime {spread:?}, at most {high_water} at once, limit \
         {CONNECTION_LIMIT}); config reloaded mid-run; every reply checked; clean shutdown"
    );
}

/// One server runtime: bind, accept until shutdown, drain, report.
async fn run_runtime(
    runtime: usize,
    addr: Option<SocketAddr>,
    addr_tx: Option<oneshot::Sender<SocketAddr>>,
    server: Arc<Server>,
    mut channels: RuntimeChannels,
) {
    let listener = bind(runtime, addr).await.expect("bind the listener");
    if let (Some(tx), Some(listener)) = (addr_tx, &listener) {
        let local_addr = listener.local_addr().expect("listener address");
        tx.send(local_addr).expect("main waits for the address");
    }
    channels.ready.wait().await;

    // The configuration reloader (runtime 0 only): applies each update from
    // the watch to the RwLock, then acknowledges its version.
    let reloader = channels.reload.take().map(|(mut updates, applied)| {
        let server = Arc::clone(&server);
        compio::runtime::spawn(async move {
            // Ends when the client drops the configuration sender.
            while updates.changed().await.is_ok() {
                let config = updates.borrow_and_update().clone();
                let version = config.version;
                // Waits for the replies being formatted with the old one.
                *server.config.write().await = config;
                applied
                    .send(version)
                    .expect("the client waits for the acknowledgement");
            }
        })
    });

    // This runtime's own state: plain cells, never shared with another thread.
    let (stop_tx, stop_rx) = local::watch::channel(false);
    let (open_tx, mut open_rx) = local::watch::channel(0usize);
    let open_tx = Rc::new(open_tx);
    let mut connections = 0u64;
    let requests = Rc::new(Cell::new(0u64));

    let mut shutdown = pin!(channels.shutdown.recv());
    loop {
        let accepted = pin!(accept_when_allowed(listener.as_ref(), &server));
        let (stream, permit) = match future::select(accepted, shutdown.as_mut()).await {
            Either::Left((Ok(accepted), _)) => accepted,
            Either::Left((Err(e), _)) => {
                eprintln!("runtime {runtime}: accept failed: {e}");
                server.errors.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            Either::Right((message, _)) => {
                message.expect("a shutdown message, not a closed channel");
                break;
            }
        };
        connections += 1;
        let connection = Connection::new(&server, &open_tx, &requests, permit);
        // Detached: a dropped compio JoinHandle would cancel the task. The
        // runtime waits for it through the open-connections count instead.
        compio::runtime::spawn(connection.serve(stream, stop_rx.clone())).detach();
    }

    // Graceful shutdown: no more accepts (the listener closes), connections
    // stop reading, and the runtime waits until the last one has closed.
    drop(listener);
    stop_tx.send_replace(true);
    open_rx
        .wait_for(|&open| open == 0)
        .await
        .expect("open_tx is alive");
    if let Some(reloader) = reloader {
        reloader.await.expect("the reloader panicked");
    }
    let report = RuntimeReport {
        runtime,
        connections,
        requests: requests.get(),
    };
    channels
        .reports
        .send(report)
        .await
        .expect("the client collects the reports");
}

/// Binds this runtime's listener on loopback: with `SO_REUSEPORT` where it
/// exists, so every runtime listens on the same port.
#[cfg(unix)]
async fn bind(_runtime: usize, addr: Option<SocketAddr>) -> io::Result<Option<TcpListener>> {
    let socket = compio::net::TcpSocket::new_v4().await?;
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket
        .bind(addr.unwrap_or((Ipv4Addr::LOCALHOST, 0).into()))
        .await?;
    Ok(Some(socket.listen(1024).await?))
}

/// Without `SO_REUSEPORT` (Windows), only runtime 0 listens; the others
/// take part in shutdown but serve nothing.
#[cfg(not(unix))]
async fn bind(runtime: usize, _addr: Option<SocketAddr>) -> io::Result<Option<TcpListener>> {
    if runtime == 0 {
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.map(Some)
    } else {
        Ok(None)
    }
}

/// Accepts the next connection, then waits for a connection permit before
/// returning it, so the accept loop stops accepting while the server is full.
/// Without a listener it never completes.
async fn accept_when_allowed(
    listener: Option<&TcpListener>,
    server: &Server,
) -> io::Result<(TcpStream, OwnedSemaphorePermit)> {
    let Some(listener) = listener else {
        return future::pending().await;
    };
    let (stream, _peer) = listener.accept().await?;
    let permit = Arc::clone(&server.connection_limit)
        .acquire_owned()
        .await
        .expect("the connection limit is never closed");
    Ok((stream, permit))
}

/// One connection being served; dropping it releases its permit and counts
/// it closed.
struct Connection {
    server: Arc<Server>,
    open: Rc<local::watch::Sender<usize>>,
    requests: Rc<Cell<u64>>,
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    /// Counts the connection open (undone by `Drop`).
    fn new(
        server: &Arc<Server>,
        open: &Rc<local::watch::Sender<usize>>,
        requests: &Rc<Cell<u64>>,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        let now = server.served_now.fetch_add(1, Ordering::Relaxed) + 1;
        server.served_high_water.fetch_max(now, Ordering::Relaxed);
        open.send_modify(|open| *open += 1);
        Connection {
            server: Arc::clone(server),
            open: Rc::clone(open),
            requests: Rc::clone(requests),
            _permit: permit,
        }
    }

    async fn serve(self, stream: TcpStream, stop: local::watch::Receiver<bool>) {
        // The reader parses requests and queues them; this task answers
        // them in order. The queue is bounded: a client that sends faster
        // than it reads replies stalls the reader, not the server's memory.
        let (reader_half, mut writer) = stream.into_split();
        let (requests_tx, mut requests_rx) = local::mpsc::channel::<String>(PIPELINE_DEPTH);
        let reader = compio::runtime::spawn(read_requests(
            LineReader::new(reader_half),
            requests_tx,
            stop,
        ));

        while let Some(request) = requests_rx.recv().await {
            // Read the configuration once per reply, and let go of it before
            // the write: a reload waits only for replies being formatted.
            let reply = self.server.config.read().await.reply(&request);
            let BufResult(written, _) = writer.write_all(reply.into_bytes()).await;
            if let Err(e) = written {
                eprintln!("write failed: {e}");
                self.server.errors.fetch_add(1, Ordering::Relaxed);
                break;
            }
            self.requests.set(self.requests.get() + 1);
        }
        drop(requests_rx); // a reader stalled on a full queue now sees it closed
        if let Err(e) = reader.await.expect("the reader panicked") {
            eprintln!("read failed: {e}");
            self.server.errors.fetch_add(1, Ordering::Relaxed);
        }
        // The reader's half ended with its task; closing the last one closes
        // the socket (through the runtime), and the client reads end-of-file.
        if let Err(e) = writer.close().await {
            eprintln!("close failed: {e}");
            self.server.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.server.served_now.fetch_sub(1, Ordering::Relaxed);
        self.open.send_modify(|open| *open -= 1);
    }
}

/// Reads request lines until end-of-file or until the runtime stops, and
/// queues them for the writer.
async fn read_requests(
    mut lines: LineReader<TcpStream>,
    requests: local::mpsc::Sender<String>,
    mut stop: local::watch::Receiver<bool>,
) -> io::Result<()> {
    loop {
        // `wait_for` looks at the current value first: a stop set before
        // this connection started is seen too.
        let stopping = pin!(stop.wait_for(|&stop| stop));
        let line = match future::select(pin!(lines.next_line()), stopping).await {
            Either::Left((line, _)) => line?,
            Either::Right(_) => return Ok(()), // shutdown: stop reading
        };
        let Some(line) = line else {
            return Ok(()); // the client closed its side
        };
        if requests.send(line).await.is_err() {
            return Ok(()); // the writer stopped (a write failed)
        }
    }
}

/// Splits a byte stream into `\n`-terminated UTF-8 lines.
struct LineReader<R> {
    io: R,
    /// Bytes read but not yet returned as a line.
    pending: Vec<u8>,
    /// The read buffer (compio's reads take it by value and hand it back).
    chunk: Vec<u8>,
}

impl<R: AsyncRead> LineReader<R> {
    fn new(io: R) -> Self {
        LineReader {
            io,
            pending: Vec::new(),
            chunk: Vec::with_capacity(4096),
        }
    }

    /// The next line without its `\n`; `None` at end-of-file.
    async fn next_line(&mut self) -> io::Result<Option<String>> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=end).collect();
                line.pop();
                return String::from_utf8(line)
                    .map(Some)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e));
            }
            // If an earlier read was cancelled, the buffer went with it.
            let mut chunk = std::mem::take(&mut self.chunk);
            chunk.clear();
            chunk.reserve(4096);
            let BufResult(read, chunk) = self.io.read(chunk).await;
            self.chunk = chunk;
            match read? {
                0 if self.pending.is_empty() => return Ok(None),
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => self.pending.extend_from_slice(&self.chunk[..n]),
            }
        }
    }
}

/// What the client drives the server with.
struct ClientControl {
    config: watch::Sender<Config>,
    applied: watch::Receiver<u64>,
    shutdown: broadcast::Sender<()>,
    reports: mpsc::Receiver<RuntimeReport>,
    ready: Arc<Barrier>,
}

/// The client: runs every phase, checks every reply, shuts the server down
/// and collects the runtimes' reports.
async fn client(
    addr: SocketAddr,
    runtimes: usize,
    mut control: ClientControl,
) -> Vec<RuntimeReport> {
    control.ready.wait().await; // every runtime is listening

    // 1. A burst of short connections, more at once than the server serves:
    //    the rest wait in the backlog. The client bounds itself too.
    let parallel = Arc::new(Semaphore::new(BURST_PARALLEL));
    let mut burst = Vec::new();
    for c in 0..BURST_CONNECTIONS {
        let permit = Arc::clone(&parallel)
            .acquire_owned()
            .await
            .expect("never closed");
        burst.push(compio::runtime::spawn(async move {
            let mut conn = ClientConnection::connect(addr, c).await;
            conn.exchange(0..BURST_REQUESTS, 1).await;
            drop(permit);
        }));
    }
    for task in burst {
        task.await.expect("a burst connection failed");
    }

    // 2. Long connections, before the reload: version 1 replies.
    let mut long = Vec::new();
    for c in 0..LONG_CONNECTIONS {
        let mut conn = ClientConnection::connect(addr, BURST_CONNECTIONS + c).await;
        conn.exchange(0..REQUESTS_PER_PHASE, 1).await;
        long.push(conn);
    }

    // 3. Reload the configuration, wait until the server has applied it.
    control
        .config
        .send(Config::version(2, true))
        .expect("the reloader is running");
    control
        .applied
        .wait_for(|&v| v == 2)
        .await
        .expect("the reloader acknowledges");
    drop(control.config); // no more updates: the reloader task ends

    // 4. The same connections: every reply now follows version 2.
    let tasks: Vec<_> = long
        .into_iter()
        .map(|mut conn| {
            compio::runtime::spawn(async move {
                conn.exchange(REQUESTS_PER_PHASE..2 * REQUESTS_PER_PHASE, 2)
                    .await;
                conn
            })
        })
        .collect();
    let mut long = Vec::new();
    for task in tasks {
        long.push(task.await.expect("a long connection failed"));
    }

    // 5. Close all but one, then shut down: the server must close that one.
    let idle = long.pop().expect("at least one long connection");
    drop(long);
    control
        .shutdown
        .send(())
        .expect("every runtime is subscribed");
    idle.expect_closed_by_server().await;

    let mut reports = Vec::new();
    while let Some(report) = control.reports.recv().await {
        reports.push(report);
    }
    assert_eq!(
        reports.len(),
        runtimes,
        "every runtime drained and reported"
    );
    reports
}

/// One client connection and its checks.
struct ClientConnection {
    id: usize,
    lines: LineReader<TcpStream>,
}

impl ClientConnection {
    async fn connect(addr: SocketAddr, id: usize) -> Self {
        let stream = TcpStream::connect(addr)
            .await
            .expect("connect to the server");
        ClientConnection {
            id,
            lines: LineReader::new(stream),
        }
    }

    /// Sends requests `seqs` in one write (pipelined), then reads and checks
    /// one reply each, as configuration `version` must make them.
    async fn exchange(&mut self, seqs: std::ops::Range<usize>, version: u64) {
        let requests: Vec<String> = seqs
            .map(|seq| format!("conn {} request {seq}: hello compio", self.id))
            .collect();
        let batch: String = requests.iter().map(|r| format!("{r}\n")).collect();
        let BufResult(written, _) = self.lines.io.write_all(batch.into_bytes()).await;
        written.expect("send requests");
        let pid = std::process::id();
        for request in requests {
            // Written out here, not through `Config::reply`: the check does
            // not trust the server's code.
            let expected = match version {
                1 => format!("v1/pid{pid} {request}"),
                _ => format!("v2/pid{pid} {}", request.to_uppercase()),
            };
            let reply = self.lines.next_line().await.expect("read a reply");
            assert_eq!(
                reply.as_deref(),
                Some(expected.as_str()),
                "reply to {request:?}"
            );
        }
    }

    /// Waits for the server to close this (idle) connection.
    async fn expect_closed_by_server(mut self) {
        let line = self
            .lines
            .next_line()
            .await
            .expect("a clean close, not an error");
        assert_eq!(
            line, None,
            "connection {}: expected end-of-file at shutdown",
            self.id
        );
    }
}
