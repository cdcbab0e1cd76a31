//! The bounded mpsc soak: producer tasks on several runtimes send numbered
//! messages (`send`, `reserve` + `Permit::send`, `reserve_many`, `try_send`),
//! each raced at random against a few polls or a timer; one receiver on its
//! own runtime takes them (`recv`, `recv_many`, `try_recv`), also raced.
//! Checked: every message whose send succeeded arrives exactly once, in its
//! producer's order (a cancelled `send` sends nothing, a cancelled `recv`
//! loses nothing), and all capacity is back at the end.

use compio_sync::mpsc;

use super::*;

/// A producer's message: who sent it, and its attempt number (attempts that
/// were cancelled leave gaps, never repeats).
type Message = (usize, u64);

/// Sent last by the driver, once every producer has finished: the receiver
/// has then seen everything before it (one queue, FIFO).
const SENTINEL: Message = (usize::MAX, 0);

async fn producer<B: ThreadSafe>(
    tx: mpsc::Sender<Message, B>,
    round: Arc<Round>,
    me: usize,
    sent: Arc<AtomicU64>,
    mut rng: Rng,
) {
    let mut attempt = 0u64;
    while !round.stopped() {
        attempt += 1;
        let message = (me, attempt);
        let race = Race::pick(&mut rng);
        round.set(
            me,
            match race {
                Race::Plain => ACQ_PLAIN,
                Race::Polls(_) => ACQ_POLLS,
                Race::Timer(_) => ACQ_TIMER,
            },
        );
        let delivered = match rng.below(8) {
            0..=3 => race.run(tx.send(message)).await.map(|r| r.is_ok()),
            4 | 5 => race
                .run(async {
                    let permit = tx.reserve().await.expect("receiver alive");
                    // Hold the permit across a scheduling point sometimes.
                    if rng.one_in(4) {
                        yield_now().await;
                    }
                    permit.send(message);
                })
                .await
                .map(|()| true),
            6 => {
                let n = 1 + rng.below(2) as usize;
                let n = n.min(tx.max_capacity());
                race.run(async {
                    let mut permits = tx.reserve_many(n).await.expect("receiver alive");
                    // Use one of them; the rest go back unused on drop.
                    permits.next().expect("n >= 1").send(message);
                })
                .await
                .map(|()| true)
            }
            _ => Some(tx.try_send(message).is_ok()),
        };
        match delivered {
            Some(true) => {
                sent.fetch_add(1, SeqCst);
                round.done(me);
            }
            Some(false) => {}
            None => {
                round.cancelled.fetch_add(1, SeqCst);
            }
        }
        round.set(me, IDLE);
        if rng.one_in(8) {
            yield_now().await;
        }
    }
    round.set(me, IDLE);
}

/// Receives until the sentinel; returns how many messages came from each
/// producer, having checked that each producer's arrive in order.
async fn receiver<B: ThreadSafe>(
    mut rx: mpsc::Receiver<Message, B>,
    round: Arc<Round>,
    me: usize,
    producers: usize,
    mut rng: Rng,
) -> Vec<u64> {
    let mut last = vec![0u64; producers];
    let mut count = vec![0u64; producers];
    let mut batch = Vec::new();
    loop {
        let race = Race::pick(&mut rng);
        round.set(
            me,
            match race {
                Race::Plain => WAIT_PLAIN,
                Race::Polls(_) => WAIT_POLLS,
                Race::Timer(_) => WAIT_TIMER,
            },
        );
        batch.clear();
        let got = match rng.below(4) {
            0 => race
                .run(rx.recv_many(&mut batch, 1 + rng.below(4) as usize))
                .await
                .map(|_| ()),
            1 => {
                if let Ok(m) = rx.try_recv() {
                    batch.push(m);
                }
                Some(())
            }
            _ => race.run(rx.recv()).await.map(|m| batch.extend(m)),
        };
        if got.is_none() {
            round.cancelled.fetch_add(1, SeqCst);
        }
        for &(from, attempt) in &batch {
            if (from, attempt) == SENTINEL {
                round.set(me, IDLE);
                return count;
            }
            assert!(
                attempt > last[from],
                "producer {from}: message {attempt} after {} (duplicate or out of order)",
                last[from]
            );
            last[from] = attempt;
            count[from] += 1;
            round.done(me);
        }
    }
}

pub(crate) fn soak_mpsc<B: ThreadSafe>(settings: &Settings, cfg: u64, name: &str, _strict: bool) {
    let started = Instant::now();
    let (mut ops, mut cancelled, mut rounds) = (0u64, 0u64, 0u64);
    while let Some(round_budget) = next_round(settings.budget, started, ops, rounds) {
        let mut shape_rng = Rng::new(derive(settings.seed, &[cfg, rounds, u64::MAX]));
        let threads = 1 + shape_rng.below(3) as usize;
        let tasks = 1 + shape_rng.below(4) as usize;
        let capacity = 1 + shape_rng.below(8) as usize;
        let producers = threads * tasks;
        let (tx, rx) = mpsc::channel_with_backend::<Message, B>(capacity);
        // Slot `producers` is the receiver's, for the stall dump.
        let round = Arc::new(Round::new(producers + 1));
        let sent: Vec<_> = (0..producers)
            .map(|_| Arc::new(AtomicU64::new(0)))
            .collect();
        let finished = Arc::new(AtomicBool::new(false));
        let context = format!(
            "{name} round {rounds} ({threads} threads x {tasks} producers, capacity {capacity})"
        );
        let dog = watchdog(
            round.clone(),
            finished.clone(),
            settings.stall,
            context.clone(),
            Box::new({
                let tx = tx.clone();
                move || {
                    format!(
                        "{tx:?}, capacity {} of {}",
                        tx.capacity(),
                        tx.max_capacity()
                    )
                }
            }),
        );
        let consumer = thread::spawn({
            let round = round.clone();
            let rng = Rng::new(derive(settings.seed, &[cfg, rounds, u64::MAX - 1]));
            move || runtime().block_on(receiver(rx, round, producers, producers, rng))
        });
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (tx, round, seed) = (tx.clone(), round.clone(), settings.seed);
                let sent: Vec<_> = sent[t * tasks..(t + 1) * tasks].to_vec();
                thread::spawn(move || {
                    runtime().block_on(join_all(sent.into_iter().enumerate().map(|(k, sent)| {
                        let me = t * tasks + k;
                        let rng = Rng::new(derive(seed, &[cfg, rounds, me as u64]));
                        producer(tx.clone(), round.clone(), me, sent, rng)
                    })));
                })
            })
            .collect();
        stop_when_spent(&round, round_budget);
        let mut end = RoundEnd::default();
        for w in workers {
            end.join(&round, w);
        }
        // Every producer is done: the sentinel goes in after all of their
        // messages.
        let sentinel = runtime().block_on(tx.send(SENTINEL));
        let received = end.join(&round, consumer);
        end.finish(&finished, dog, &context, settings.seed);
        sentinel.expect("the receiver was alive for the sentinel");
        let received = received.expect("joined");
        for (from, (got, sent)) in received.iter().zip(&sent).enumerate() {
            assert_eq!(
                *got,
                sent.load(SeqCst),
                "{context}: producer {from}'s messages lost or invented"
            );
        }
        // The receiver is gone: the channel is closed, and every permit came
        // back (none is stuck in a cancelled `reserve`).
        assert!(tx.is_closed(), "{context}: receiver dropped");
        assert_eq!(tx.capacity(), tx.max_capacity(), "{context}: capacity lost");
        ops += round.progress.load(SeqCst);
        cancelled += round.cancelled.load(SeqCst);
        rounds += 1;
    }
    assert!(ops > 0, "{name}: no work done");
    eprintln!(
        "soak: {name:<36} {ops:>10} send/recv {cancelled:>9} cancellations {rounds:>4} rounds in {:.1?}",
        started.elapsed()
    );
}
