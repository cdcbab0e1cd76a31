//! The Notify soak: a producer thread hands out tokens (a counter), each
//! followed by `notify_one` or `notify_waiters`, and consumer tasks on
//! several runtimes take them with tokio's pattern (look; `enable` a
//! `Notified`; look again; wait), every wait raced at random against a few
//! polls or a timer. Half the time the producer then waits until every
//! token is taken, with no further notification: a lost wake-up leaves a
//! token behind and every consumer asleep, and the watchdog stops the run.
//! In rounds of `notify_one`s only, a consumer whose wait was cancelled
//! waits next without looking, relying on the dropped future to pass on a
//! notification it had received.
//! At the end of each round every token left must be taken, woken by the
//! notifications already given, before the consumers are released.
//! Checked after each round: tokens given = taken + left.

use compio_sync::Notify;

use super::*;

struct Shared<B: ThreadSafe> {
    notify: Notify<B>,
    /// Tokens given and not yet taken.
    tokens: AtomicU64,
    given: AtomicU64,
    taken: AtomicU64,
    /// Set once every token given has been taken after the round's budget:
    /// the consumers leave.
    done: AtomicBool,
}

impl<B: ThreadSafe> Shared<B> {
    /// Takes a token if there is one.
    fn take(&self) -> bool {
        let taken = self
            .tokens
            .fetch_update(SeqCst, SeqCst, |t| t.checked_sub(1))
            .is_ok();
        if taken {
            self.taken.fetch_add(1, SeqCst);
        }
        taken
    }
}

async fn consumer<B: ThreadSafe>(
    s: Arc<Shared<B>>,
    round: Arc<Round>,
    me: usize,
    broadcasts: bool,
    mut rng: Rng,
) {
    // Set after a cancelled wait in a round of `notify_one`s only: the next
    // wait skips both looks and is not raced, so it relies on the dropped
    // future having passed on a notification it received (to another
    // waiter, or back as the permit). If one is lost, a token stays behind.
    let mut rely_on_pass_on = false;
    while !s.done.load(SeqCst) {
        if !rely_on_pass_on && s.take() {
            round.done(me);
            if rng.one_in(4) {
                yield_now().await;
            }
            continue;
        }
        if !rely_on_pass_on && rng.one_in(8) {
            // Abandon a queued future after a few scheduling points, without
            // polling it: a notification it received meanwhile must be passed
            // on by its drop. (One that `enable` completed took a stored
            // notification for itself: the next round looks.)
            let took_one = {
                let mut notified = pin!(s.notify.notified());
                let took_one = notified.as_mut().enable();
                for _ in 0..rng.below(4) {
                    yield_now().await;
                }
                took_one
            };
            round.cancelled.fetch_add(1, SeqCst);
            rely_on_pass_on = !broadcasts && !took_one;
            continue;
        }
        let race = if rely_on_pass_on {
            Race::Plain
        } else {
            Race::pick(&mut rng)
        };
        round.set(me, race.wait_phase());
        let mut notified = pin!(s.notify.notified());
        // Registered before the second look, so that a token given after it
        // comes with a notification this future receives.
        notified.as_mut().enable();
        if !rely_on_pass_on && s.take() {
            round.done(me);
        } else if !s.done.load(SeqCst) {
            rely_on_pass_on = false;
            if race.run(notified).await.is_none() {
                round.cancelled.fetch_add(1, SeqCst);
                rely_on_pass_on = !broadcasts;
            }
        }
        round.set(me, IDLE);
    }
    round.set(me, IDLE);
}

/// Gives tokens until the round stops (with `notify_waiters` for a quarter
/// of them in a round of `broadcasts`); half the time waits for them all to
/// be taken before giving more.
fn producer<B: ThreadSafe>(s: &Shared<B>, round: &Round, broadcasts: bool, mut rng: Rng) {
    while !round.stopped() {
        for _ in 0..=rng.below(4) {
            s.given.fetch_add(1, SeqCst);
            s.tokens.fetch_add(1, SeqCst);
            if broadcasts && rng.one_in(4) {
                s.notify.notify_waiters();
            } else {
                s.notify.notify_one();
            }
        }
        if rng.one_in(2) {
            while s.tokens.load(SeqCst) != 0 && !round.stopped() {
                thread::yield_now();
            }
        } else if rng.one_in(4) {
            thread::sleep(Duration::from_micros(rng.below(50)));
        }
    }
}

pub(crate) fn soak_notify<B: ThreadSafe>(settings: &Settings, cfg: u64, name: &str, _strict: bool) {
    let started = Instant::now();
    let (mut ops, mut cancelled, mut rounds) = (0u64, 0u64, 0u64);
    while let Some(round_budget) = next_round(settings.budget, started, ops, rounds) {
        let mut shape_rng = Rng::new(derive(settings.seed, &[cfg, rounds, u64::MAX]));
        // A third of the rounds have one consumer: nobody else's look then
        // hides a lost wake-up.
        let (threads, tasks) = if shape_rng.one_in(3) {
            (1, 1)
        } else {
            (
                1 + shape_rng.below(3) as usize,
                1 + shape_rng.below(4) as usize,
            )
        };
        let broadcasts = shape_rng.one_in(2);
        let shared = Arc::new(Shared {
            notify: Notify::<B>::with_backend(),
            tokens: AtomicU64::new(0),
            given: AtomicU64::new(0),
            taken: AtomicU64::new(0),
            done: AtomicBool::new(false),
        });
        let round = Arc::new(Round::new(threads * tasks));
        let finished = Arc::new(AtomicBool::new(false));
        let context = format!(
            "{name} round {rounds} ({threads} threads x {tasks} consumers, broadcasts {broadcasts})"
        );
        let dog = watchdog(
            round.clone(),
            finished.clone(),
            settings.stall,
            context.clone(),
            Box::new({
                let shared = shared.clone();
                move || {
                    format!(
                        "{:?}, {} tokens left",
                        shared.notify,
                        shared.tokens.load(SeqCst)
                    )
                }
            }),
        );
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (shared, round, seed) = (shared.clone(), round.clone(), settings.seed);
                thread::spawn(move || {
                    runtime().block_on(join_all((0..tasks).map(|k| {
                        let me = t * tasks + k;
                        let rng = Rng::new(derive(seed, &[cfg, rounds, me as u64]));
                        consumer(shared.clone(), round.clone(), me, broadcasts, rng)
                    })));
                })
            })
            .collect();
        let giver = thread::spawn({
            let (shared, round) = (shared.clone(), round.clone());
            let rng = Rng::new(derive(settings.seed, &[cfg, rounds, u64::MAX - 1]));
            move || producer(&shared, &round, broadcasts, rng)
        });
        stop_when_spent(&round, round_budget);
        let mut end = RoundEnd::default();
        end.join(&round, giver);
        // The consumers take every token left, woken by the notifications
        // already given, or the round stalls here (the watchdog ends it).
        while shared.tokens.load(SeqCst) != 0 && !end.failed() {
            thread::sleep(Duration::from_millis(1));
        }
        shared.done.store(true, SeqCst);
        // Release the consumers still waiting (they see `done` and leave).
        let poked = shared.clone();
        poking_while(
            move || poked.notify.notify_waiters(),
            || {
                for w in workers {
                    end.join(&round, w);
                }
            },
        );
        end.finish(&finished, dog, &context, settings.seed);
        assert_eq!(
            shared.given.load(SeqCst),
            shared.taken.load(SeqCst) + shared.tokens.load(SeqCst),
            "{context}: tokens lost or invented"
        );
        ops += round.progress.load(SeqCst);
        cancelled += round.cancelled.load(SeqCst);
        rounds += 1;
    }
    assert!(ops > 0, "{name}: no work done");
    eprintln!(
        "soak: {name:<36} {ops:>10} tokens taken {cancelled:>9} cancellations {rounds:>4} rounds in {:.1?}",
        started.elapsed()
    );
}
