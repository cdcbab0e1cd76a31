//! The oneshot soak: pairs of tasks on two runtimes. One task of a pair
//! makes channels and hands one half of each (the sender or the receiver,
//! at random) to its partner on the other runtime; each side then plays its
//! half at random: the sender sends (at once or after a yield), drops
//! itself, or first waits for `closed` (raced against a timer); the
//! receiver awaits (raced at random: a cancelled wait loses nothing, so it
//! waits again or looks with `try_recv`), polls `try_recv` until it
//! completes, closes first and then looks, or drops itself unlooked.
//! Checked, per channel, once both halves are done: the two outcomes agree
//! (a value is received only if its send succeeded; a send that succeeded
//! was received unless the receiver gave up; a send after the close fails),
//! and, per round, every value is dropped exactly once (with the receiver,
//! with the last half, or given back by a failed send).

use compio_sync::{mpsc, oneshot};

use super::*;

/// A value that counts the live ones (and panics on a double drop).
struct Value(Arc<AtomicU64>);

impl Drop for Value {
    fn drop(&mut self) {
        let before = self.0.fetch_sub(1, SeqCst);
        assert!(before > 0, "a oneshot value dropped twice");
    }
}

/// One half of a channel, handed to the partner task.
enum Half {
    Tx(oneshot::Sender<Value>, Arc<Outcome>),
    Rx(oneshot::Receiver<Value>, Arc<Outcome>),
}

// The sender's outcomes.
const SENT: u8 = 1;
const SEND_FAILED: u8 = 2;
const TX_DROPPED: u8 = 3;
// The receiver's outcomes.
const GOT: u8 = 1;
/// It closed the channel, then found no value.
const CLOSED_EMPTY: u8 = 2;
/// The sender went without sending.
const SENDER_GONE: u8 = 3;
/// Dropped before it completed (the value, if any, went with it).
const RX_DROPPED: u8 = 4;

/// What each half of one channel did; the second to finish checks the pair.
#[derive(Default)]
struct Outcome {
    tx: AtomicU8,
    rx: AtomicU8,
    finished: AtomicU8,
}

impl Outcome {
    fn finish(&self, context: &str) -> bool {
        if self.finished.fetch_add(1, SeqCst) == 0 {
            return false;
        }
        let (tx, rx) = (self.tx.load(SeqCst), self.rx.load(SeqCst));
        let agree = match tx {
            SENT => rx == GOT || rx == RX_DROPPED,
            SEND_FAILED => rx == CLOSED_EMPTY || rx == RX_DROPPED,
            TX_DROPPED => rx == SENDER_GONE || rx == CLOSED_EMPTY || rx == RX_DROPPED,
            _ => false,
        };
        assert!(
            agree,
            "{context}: sender outcome {tx} vs receiver outcome {rx}"
        );
        true
    }
}

async fn play_sender(
    tx: oneshot::Sender<Value>,
    outcome: &Outcome,
    live: &Arc<AtomicU64>,
    rng: &mut Rng,
) {
    let mut tx = tx;
    if rng.one_in(4) {
        // Waits a little for the receiver to go (it often does not).
        let _ = compio::time::timeout(Duration::from_micros(1 + rng.below(100)), tx.closed()).await;
    }
    if rng.one_in(4) {
        yield_now().await;
    }
    if rng.one_in(5) {
        drop(tx);
        outcome.tx.store(TX_DROPPED, SeqCst);
        return;
    }
    live.fetch_add(1, SeqCst);
    let result = tx.send(Value(live.clone()));
    outcome
        .tx
        .store(if result.is_ok() { SENT } else { SEND_FAILED }, SeqCst);
    // A failed send gives the value back; it is dropped here.
    drop(result);
}

async fn play_receiver(mut rx: oneshot::Receiver<Value>, outcome: &Outcome, rng: &mut Rng) {
    let done = |result: Result<Value, oneshot::error::RecvError>| match result {
        Ok(_) => GOT,
        Err(_) => SENDER_GONE,
    };
    let rx_outcome = match rng.below(8) {
        0 => {
            if rng.one_in(2) {
                yield_now().await;
            }
            drop(rx);
            RX_DROPPED
        }
        1 => {
            rx.close();
            if rng.one_in(2) {
                yield_now().await;
            }
            match rx.try_recv() {
                Ok(_) => GOT,
                Err(oneshot::error::TryRecvError::Closed) => CLOSED_EMPTY,
                Err(oneshot::error::TryRecvError::Empty) => {
                    panic!("try_recv after close returned Empty")
                }
            }
        }
        2 => loop {
            match rx.try_recv() {
                Ok(_) => break GOT,
                Err(oneshot::error::TryRecvError::Closed) => break SENDER_GONE,
                Err(oneshot::error::TryRecvError::Empty) => yield_now().await,
            }
        },
        _ => loop {
            match Race::pick(rng).run(&mut rx).await {
                Some(result) => break done(result),
                None if rng.one_in(4) => {
                    drop(rx);
                    break RX_DROPPED;
                }
                None => {}
            }
        },
    };
    outcome.rx.store(rx_outcome, SeqCst);
}

/// One task of a pair: makes channels (if `maker`), hands one half of each
/// to the partner, plays the other; the partner plays what it is handed.
#[allow(clippy::too_many_arguments)]
async fn pair_task(
    maker: bool,
    to_partner: mpsc::UnboundedSender<Half>,
    mut from_partner: mpsc::UnboundedReceiver<Half>,
    round: Arc<Round>,
    me: usize,
    live: Arc<AtomicU64>,
    context: Arc<str>,
    mut rng: Rng,
) {
    let play = |half: Half, rng: &mut Rng| {
        let (round, live, context) = (round.clone(), live.clone(), context.clone());
        let mut rng = Rng::new(rng.next());
        async move {
            let outcome = match half {
                Half::Tx(tx, outcome) => {
                    play_sender(tx, &outcome, &live, &mut rng).await;
                    outcome
                }
                Half::Rx(rx, outcome) => {
                    play_receiver(rx, &outcome, &mut rng).await;
                    outcome
                }
            };
            if outcome.finish(&context) {
                round.done(me);
            }
        }
    };
    if maker {
        drop(from_partner);
        while !round.stopped() {
            round.set(me, ACQ_PLAIN);
            let (tx, rx) = oneshot::channel();
            let outcome = Arc::new(Outcome::default());
            let (mine, theirs) = if rng.one_in(2) {
                (Half::Tx(tx, outcome.clone()), Half::Rx(rx, outcome))
            } else {
                (Half::Rx(rx, outcome.clone()), Half::Tx(tx, outcome))
            };
            if to_partner.send(theirs).is_err() {
                break;
            }
            round.set(me, WAIT_PLAIN);
            play(mine, &mut rng).await;
        }
        round.set(me, IDLE);
    } else {
        drop(to_partner);
        round.set(me, WAIT_PLAIN);
        // Until the maker is gone: every half it handed over is played.
        while let Some(half) = from_partner.recv().await {
            play(half, &mut rng).await;
        }
        round.set(me, IDLE);
    }
}

pub(crate) fn soak_oneshot(settings: &Settings, cfg: u64, name: &str, _strict: bool) {
    let started = Instant::now();
    let (mut ops, mut rounds) = (0u64, 0u64);
    while let Some(round_budget) = next_round(settings.budget, started, ops, rounds) {
        let mut shape_rng = Rng::new(derive(settings.seed, &[cfg, rounds, u64::MAX]));
        let pairs = 1 + shape_rng.below(4) as usize;
        let context: Arc<str> =
            format!("{name} round {rounds} ({pairs} pairs on 2 runtimes)").into();
        // Tasks `0..pairs` run on the first runtime, `pairs..` on the other.
        let round = Arc::new(Round::new(2 * pairs));
        let live = Arc::new(AtomicU64::new(0));
        let finished = Arc::new(AtomicBool::new(false));
        let dog = watchdog(
            round.clone(),
            finished.clone(),
            settings.stall,
            context.to_string(),
            Box::new({
                let live = live.clone();
                move || format!("{} values alive", live.load(SeqCst))
            }),
        );
        let mut sides: [Vec<_>; 2] = [Vec::new(), Vec::new()];
        for p in 0..pairs {
            let (a_tx, a_rx) = mpsc::unbounded_channel();
            let (b_tx, b_rx) = mpsc::unbounded_channel();
            // Which side of the pair makes the channels.
            let maker_first = shape_rng.one_in(2);
            sides[0].push((p, maker_first, a_tx, b_rx));
            sides[1].push((pairs + p, !maker_first, b_tx, a_rx));
        }
        let workers: Vec<_> = sides
            .into_iter()
            .map(|side| {
                let (round, live, context, seed) =
                    (round.clone(), live.clone(), context.clone(), settings.seed);
                thread::spawn(move || {
                    runtime().block_on(join_all(side.into_iter().map(|(me, maker, tx, rx)| {
                        let rng = Rng::new(derive(seed, &[cfg, rounds, me as u64]));
                        pair_task(
                            maker,
                            tx,
                            rx,
                            round.clone(),
                            me,
                            live.clone(),
                            context.clone(),
                            rng,
                        )
                    })));
                })
            })
            .collect();
        stop_when_spent(&round, round_budget);
        let mut end = RoundEnd::default();
        for w in workers {
            end.join(&round, w);
        }
        end.finish(&finished, dog, &context, settings.seed);
        assert_eq!(live.load(SeqCst), 0, "{context}: a value was never dropped");
        ops += round.progress.load(SeqCst);
        rounds += 1;
    }
    assert!(ops > 0, "{name}: no work done");
    eprintln!(
        "soak: {name:<36} {ops:>10} channels {rounds:>4} rounds in {:.1?}",
        started.elapsed()
    );
}
