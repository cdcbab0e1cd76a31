//! S5 and S5b: Notify ping-pong. Side A notifies `ping` and waits on `pong`;
//! side B waits on `ping` and notifies `pong`. One round trip is one
//! notification each way. S5 runs A and B on two threads, each with its own
//! runtime and one task; S5b runs them as two tasks on one runtime.

use std::{
    sync::{
        Arc, Barrier,
        atomic::{AtomicU64, Ordering::*},
    },
    thread,
    time::Instant,
};

use crate::{
    impls::BenchNotify,
    scenarios::{Sample, Scenario, Sizes, Waits, join_all, runtime, set_progress},
};

/// Runs S5 or S5b once on `N`.
pub fn run<N: BenchNotify>(scenario: Scenario, sizes: &Sizes) -> Sample {
    match scenario {
        Scenario::S5 => cross_thread::<N>(sizes.s5_round_trips),
        Scenario::S5b => one_runtime::<N>(sizes.s5b_round_trips),
        _ => unreachable!("{scenario:?} is not a Notify scenario"),
    }
}

/// The two notifiers and the round counters that check every wake-up was
/// caused by the other side's notification of this round: a spurious or
/// stale completion (a wait that returns without, or on an earlier,
/// notification) reads the wrong round and panics, and a lost one hangs
/// (the watchdog names it).
struct Pair<N> {
    ping: N,
    pong: N,
    /// The round A has started (stored before A notifies `ping`).
    sent: AtomicU64,
    /// The round B has answered (stored before B notifies `pong`).
    echoed: AtomicU64,
}

impl<N: BenchNotify> Pair<N> {
    fn new() -> Self {
        Self {
            ping: N::create(),
            pong: N::create(),
            sent: AtomicU64::new(0),
            echoed: AtomicU64::new(0),
        }
    }

    /// Side A: `rounds` round trips. Returns the wall time of the whole loop
    /// and the duration of each round trip, in nanoseconds.
    async fn serve(&self, rounds: u64) -> (u64, Vec<u64>) {
        let mut times = Vec::with_capacity(rounds as usize);
        let start = Instant::now();
        let mut last = start;
        for round in 1..=rounds {
            self.sent.store(round, Release);
            self.ping.notify();
            self.pong.wait().await;
            let echoed = self.echoed.load(Acquire);
            assert_eq!(
                echoed, round,
                "ping-pong: A's wait returned without B's answer to round {round}"
            );
            let now = Instant::now();
            times.push((now - last).as_nanos() as u64);
            last = now;
        }
        ((last - start).as_nanos() as u64, times)
    }

    /// Side B: answers `rounds` pings.
    async fn echo(&self, rounds: u64) {
        for round in 1..=rounds {
            self.ping.wait().await;
            let sent = self.sent.load(Acquire);
            assert_eq!(
                sent, round,
                "ping-pong: B's wait returned without A's ping of round {round}"
            );
            self.echoed.store(round, Release);
            self.pong.notify();
        }
    }

    /// Reports the round counters to the watchdog until the next
    /// `set_progress`.
    fn report_progress(self: &Arc<Self>, rounds: usize) {
        let pair = self.clone();
        set_progress(Some(Box::new(move || {
            let (sent, echoed) = (pair.sent.load(Acquire), pair.echoed.load(Acquire));
            let stuck = if sent == echoed {
                "A waits on pong: B answered, A was not woken"
            } else {
                "B waits on ping: A pinged, B has not answered"
            };
            format!("of {rounds} rounds, A sent {sent}, B echoed {echoed} ({stuck})")
        })));
    }

    /// Panics unless both sides completed `rounds` rounds.
    fn verify(&self, rounds: u64, times: &[u64], what: &str) {
        assert_eq!(self.sent.load(Acquire), rounds, "{what}: A did not finish");
        assert_eq!(
            self.echoed.load(Acquire),
            rounds,
            "{what}: B did not finish"
        );
        assert_eq!(times.len() as u64, rounds, "{what}: missing round trips");
    }
}

fn sample(rounds: usize, total_ns: u64, mut times: Vec<u64>) -> Sample {
    Sample {
        ns_per_op: total_ns as f64 / rounds as f64,
        round_trips: Some(Waits::of(&mut times)),
        ..Sample::default()
    }
}

/// S5: A and B on two threads, each with its own runtime running one task.
fn cross_thread<N: BenchNotify>(rounds: usize) -> Sample {
    let pair = Arc::new(Pair::<N>::new());
    pair.report_progress(rounds);
    let barrier = Arc::new(Barrier::new(2));
    let spawn_side = |serve: bool| {
        let pair = pair.clone();
        let barrier = barrier.clone();
        thread::spawn(move || {
            let rt = runtime();
            let result = rt.block_on(async move {
                let task = compio::runtime::spawn(async move {
                    barrier.wait();
                    if serve {
                        Some(pair.serve(rounds as u64).await)
                    } else {
                        pair.echo(rounds as u64).await;
                        None
                    }
                });
                join_all(vec![task]).await.pop().unwrap()
            });
            drop(rt);
            result
        })
    };
    let b = spawn_side(false);
    let a = spawn_side(true);
    let (total, times) = a
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        .expect("side A returns its times");
    b.join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    set_progress(None);
    pair.verify(rounds as u64, &times, "S5");
    sample(rounds, total, times)
}

/// S5b: A and B as two tasks on one runtime.
fn one_runtime<N: BenchNotify>(rounds: usize) -> Sample {
    let pair = Arc::new(Pair::<N>::new());
    pair.report_progress(rounds);
    let rt = runtime();
    let (total, times) = rt.block_on(async {
        let b = compio::runtime::spawn({
            let pair = pair.clone();
            async move { pair.echo(rounds as u64).await }
        });
        let a = compio::runtime::spawn({
            let pair = pair.clone();
            async move { pair.serve(rounds as u64).await }
        });
        let result = join_all(vec![a]).await.pop().unwrap();
        join_all(vec![b]).await;
        result
    });
    drop(rt);
    set_progress(None);
    pair.verify(rounds as u64, &times, "S5b");
    sample(rounds, total, times)
}
