//! The fan-out soaks: one sender on a plain thread sends numbered values
//! (random bursts and pauses) while receiver tasks on several runtimes wait
//! for them, every wait raced at random against a few polls or a timer; the
//! sender's drop ends the round.
//!
//! * **broadcast** (`recv`, `try_recv`): every receiver accounts for every
//!   value exactly: received in order, or reported missed by `Lagged(n)`
//!   (then the next value is exactly `n` further on), and then `Closed`. A
//!   cancelled `recv` loses nothing.
//! * **watch** (`changed`, `wait_for`): every receiver sees the values grow,
//!   never a value twice after a `changed()`, and ends on the last value
//!   sent, told of the close.
//!
//! Each round, every receiver must get to the last value sent on the
//! wake-ups already given before the sender's drop closes the channel
//! (which would wake them all and hide a lost wake-up).

use compio_sync::{
    broadcast::{self, error::RecvError},
    watch,
};

use super::*;

/// Sends `1, 2, ...` through `send` until the round stops, in random bursts
/// with random pauses; returns the last value sent.
fn sender(round: &Round, mut rng: Rng, burst: u64, mut send: impl FnMut(u64)) -> u64 {
    let mut last = 0;
    while !round.stopped() {
        for _ in 0..=rng.below(burst) {
            last += 1;
            send(last);
        }
        match rng.below(8) {
            0..=3 => thread::yield_now(),
            4..=6 => {}
            _ => thread::sleep(Duration::from_micros(rng.below(50))),
        }
    }
    last
}

/// A broadcast receiver's round: returns how many values it accounted for
/// (received or missed) before `Closed`.
async fn broadcast_receiver<B: ThreadSafe>(
    mut rx: broadcast::Receiver<u64, B>,
    round: Arc<Round>,
    me: usize,
    at: Arc<[AtomicU64]>,
    mut rng: Rng,
) -> u64 {
    // The value expected next (values start at 1).
    let mut next = 1;
    loop {
        let race = Race::pick(&mut rng);
        round.set(me, race.wait_phase());
        let got = if rng.one_in(4) {
            match rx.try_recv() {
                Ok(v) => Some(Ok(v)),
                Err(broadcast::error::TryRecvError::Empty) => Some(Err(None)),
                Err(broadcast::error::TryRecvError::Lagged(n)) => Some(Err(Some(n))),
                Err(broadcast::error::TryRecvError::Closed) => break,
            }
        } else {
            match race.run(rx.recv()).await {
                None => None,
                Some(Ok(v)) => Some(Ok(v)),
                Some(Err(RecvError::Lagged(n))) => Some(Err(Some(n))),
                Some(Err(RecvError::Closed)) => break,
            }
        };
        match got {
            None => {
                round.cancelled.fetch_add(1, SeqCst);
            }
            Some(Ok(v)) => {
                assert_eq!(v, next, "receiver {me}: got {v}, expected {next}");
                next += 1;
                at[me].store(next - 1, SeqCst);
                round.done(me);
            }
            Some(Err(Some(n))) => {
                assert!(n > 0, "receiver {me}: lagged by 0");
                next += n;
                at[me].store(next - 1, SeqCst);
            }
            Some(Err(None)) => yield_now().await,
        }
        round.set(me, IDLE);
    }
    round.set(me, IDLE);
    next - 1
}

/// A watch receiver's round: returns the value it ended on.
async fn watch_receiver<B: ThreadSafe>(
    mut rx: watch::Receiver<u64, B>,
    round: Arc<Round>,
    me: usize,
    at: Arc<[AtomicU64]>,
    mut rng: Rng,
) -> u64 {
    // Where it starts counts as where it has got to: a runtime that starts
    // late (a loaded machine) may find the sender done, and its receivers
    // then see the last value here with no wake-up to wait for (the round
    // would otherwise wait for them to reach it, and the watchdog call it a
    // stall).
    let mut seen = *rx.borrow_and_update();
    at[me].store(seen, SeqCst);
    loop {
        let race = Race::pick(&mut rng);
        round.set(me, race.wait_phase());
        let closed = if rng.one_in(4) {
            let target = seen + 1 + rng.below(3);
            // The target may never come (the sender may stop first): what
            // the predicate sees counts as where this receiver has got to.
            let wait = rx.wait_for(|v| {
                at[me].fetch_max(*v, SeqCst);
                *v >= target
            });
            match race.run(wait).await {
                None => None,
                Some(Ok(v)) => {
                    assert!(*v >= target, "receiver {me}: wait_for returned {}", *v);
                    Some(false)
                }
                Some(Err(_)) => Some(true),
            }
        } else {
            race.run(rx.changed()).await.map(|r| r.is_err())
        };
        match closed {
            None => {
                round.cancelled.fetch_add(1, SeqCst);
            }
            Some(true) => break,
            Some(false) => {
                // `wait_for` marked the value seen already; `changed` did
                // not: the value is the latest either way.
                let v = *rx.borrow_and_update();
                assert!(v > seen, "receiver {me}: {v} after {seen}");
                seen = v;
                at[me].store(seen, SeqCst);
                round.done(me);
            }
        }
        round.set(me, IDLE);
    }
    round.set(me, IDLE);
    *rx.borrow_and_update()
}

/// The shape of one round: receiving runtimes, tasks on each, and the
/// channel's capacity (broadcast) or the sender's largest burst.
fn shape(settings: &Settings, cfg: u64, rounds: u64) -> (usize, usize, usize) {
    let mut rng = Rng::new(derive(settings.seed, &[cfg, rounds, u64::MAX]));
    (
        1 + rng.below(3) as usize,
        1 + rng.below(6) as usize,
        1 + rng.below(16) as usize,
    )
}

/// Runs the rounds of one fan-out configuration: per round, `open` makes the
/// channel, `receive` runs each receiver task, and `check` judges each
/// receiver's result against the last value sent.
#[allow(clippy::too_many_arguments)]
fn soak_fanout<Tx, Rx, Fut>(
    settings: &Settings,
    cfg: u64,
    name: &str,
    open: impl Fn(usize) -> (Tx, Box<dyn Fn() -> String + Send>),
    subscribe: impl Fn(&Tx) -> Rx,
    send: impl Fn(&Tx, u64) + Send + Sync + 'static,
    receive: impl Fn(Rx, Arc<Round>, usize, Arc<[AtomicU64]>, Rng) -> Fut + Clone + Send + 'static,
    check: impl Fn(&str, usize, u64, u64),
) where
    Tx: Send + 'static,
    Rx: Send + 'static,
    Fut: Future<Output = u64>,
{
    let started = Instant::now();
    let send = Arc::new(send);
    let (mut ops, mut cancelled, mut rounds) = (0u64, 0u64, 0u64);
    while let Some(round_budget) = next_round(settings.budget, started, ops, rounds) {
        let (threads, tasks, size) = shape(settings, cfg, rounds);
        let receivers = threads * tasks;
        let (tx, dump) = open(size);
        // Every receiver subscribes before the first send.
        let mut rxs: Vec<Vec<Rx>> = (0..threads)
            .map(|_| (0..tasks).map(|_| subscribe(&tx)).collect())
            .collect();
        // Slot `receivers` is the sender's, for the stall dump.
        let round = Arc::new(Round::new(receivers + 1));
        let finished = Arc::new(AtomicBool::new(false));
        let context =
            format!("{name} round {rounds} ({threads} threads x {tasks} receivers, size {size})");
        let dog = watchdog(
            round.clone(),
            finished.clone(),
            settings.stall,
            context.clone(),
            dump,
        );
        // Where each receiver has got to: the last value it received, or
        // was told it missed (broadcast), or saw (watch).
        let at: Arc<[AtomicU64]> = (0..receivers).map(|_| AtomicU64::new(0)).collect();
        let workers: Vec<_> = (0..threads)
            .rev()
            .map(|t| {
                let (round, receive, seed) = (round.clone(), receive.clone(), settings.seed);
                let at = at.clone();
                let mine = rxs.pop().expect("one set per thread");
                // Now and then a runtime other than the first starts late,
                // at times after the sender is done: its receivers subscribed
                // long before, and must catch up on what they find (as on a
                // loaded machine). The first always starts at once, so that
                // every round does some work.
                let mut start_rng = Rng::new(derive(seed, &[cfg, rounds, u64::MAX - 2, t as u64]));
                let late = (t > 0 && start_rng.one_in(4)).then(|| {
                    let most = match round_budget {
                        Budget::Time(t) => t + t / 4,
                        Budget::Ops(_) => Duration::from_millis(50),
                    };
                    most.mul_f64(start_rng.below(1001) as f64 / 1000.0)
                });
                thread::spawn(move || {
                    if let Some(late) = late {
                        thread::sleep(late);
                    }
                    runtime().block_on(join_all(mine.into_iter().enumerate().map(|(k, rx)| {
                        let me = t * tasks + k;
                        let rng = Rng::new(derive(seed, &[cfg, rounds, me as u64]));
                        receive(rx, round.clone(), me, at.clone(), rng)
                    })))
                })
            })
            .collect();
        let producer = thread::spawn({
            let (round, send) = (round.clone(), send.clone());
            let rng = Rng::new(derive(settings.seed, &[cfg, rounds, u64::MAX - 1]));
            move || {
                let last = sender(&round, rng, 2 * size as u64, |v| send(&tx, v));
                (last, tx)
            }
        });
        stop_when_spent(&round, round_budget);
        let mut end = RoundEnd::default();
        let last = match end.join(&round, producer) {
            Some((last, tx)) => {
                // Every receiver gets to the last value on the wake-ups
                // already given, before the close (which wakes them all)
                // could hide a lost one; if one never does, the watchdog
                // ends the run. A receiver that ended early (it panicked)
                // stops the wait.
                while at.iter().any(|a| a.load(SeqCst) < last)
                    && !workers.iter().any(thread::JoinHandle::is_finished)
                {
                    thread::sleep(Duration::from_millis(1));
                }
                // The drop closes the channel: every receiver ends.
                drop(tx);
                last
            }
            None => 0,
        };
        let mut results = Vec::new();
        // Joined in the order they were spawned (threads `threads - 1` down
        // to 0), so results are put back in receiver order.
        for w in workers.into_iter().rev() {
            results.extend(end.join(&round, w));
        }
        end.finish(&finished, dog, &context, settings.seed);
        for (me, got) in results.into_iter().flatten().enumerate() {
            check(&context, me, got, last);
        }
        ops += round.progress.load(SeqCst);
        cancelled += round.cancelled.load(SeqCst);
        rounds += 1;
    }
    assert!(ops > 0, "{name}: no work done");
    eprintln!(
        "soak: {name:<36} {ops:>10} received {cancelled:>9} cancellations {rounds:>4} rounds in {:.1?}",
        started.elapsed()
    );
}

pub(crate) fn soak_broadcast<B: ThreadSafe>(
    settings: &Settings,
    cfg: u64,
    name: &str,
    _strict: bool,
) {
    soak_fanout(
        settings,
        cfg,
        name,
        |capacity| {
            let (tx, _) = broadcast::channel_with_backend::<u64, B>(capacity);
            // A weak sender for the dump: a strong one would keep the
            // channel open past the sender's drop.
            let weak = tx.downgrade();
            let dump = Box::new(move || match weak.upgrade() {
                Some(tx) => format!("len {}, {} receivers", tx.len(), tx.receiver_count()),
                None => "every sender gone".to_owned(),
            });
            (tx, dump as Box<dyn Fn() -> String + Send>)
        },
        broadcast::Sender::subscribe,
        |tx, v| {
            tx.send(v).expect("the receivers outlive the sender");
        },
        broadcast_receiver::<B>,
        |context, me, accounted, last| {
            assert_eq!(
                accounted, last,
                "{context}: receiver {me} accounted for {accounted} of {last} values"
            );
        },
    );
}

pub(crate) fn soak_watch<B: ThreadSafe>(settings: &Settings, cfg: u64, name: &str, _strict: bool) {
    soak_fanout(
        settings,
        cfg,
        name,
        |_| {
            let (tx, _) = watch::channel_with_backend::<u64, B>(0);
            // A receiver of its own for the dump (receivers do not keep
            // the channel open).
            let probe = tx.subscribe();
            let dump = Box::new(move || {
                format!(
                    "value {}, has_changed {:?}",
                    *probe.borrow(),
                    probe.has_changed()
                )
            });
            (tx, dump as Box<dyn Fn() -> String + Send>)
        },
        watch::Sender::subscribe,
        |tx, v| {
            tx.send(v).expect("the receivers outlive the sender");
        },
        watch_receiver::<B>,
        |context, me, ended_on, last| {
            assert_eq!(
                ended_on, last,
                "{context}: receiver {me} ended on {ended_on}, the last value was {last}"
            );
        },
    );
}
