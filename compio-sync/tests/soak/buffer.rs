//! The Mutex + Condvar soak: a bounded buffer with producers and consumers
//! cancelled at random; mutual exclusion, capacity, produced = consumed.

use super::*;

#[derive(Debug, Default)]
struct Buffer {
    items: u64,
    produced: u64,
    consumed: u64,
    /// Set while a task holds the lock (mutual exclusion check).
    inside: bool,
    stop: bool,
}

struct Shared<B: ThreadSafe> {
    buf: Mutex<Buffer, B>,
    not_empty: Condvar<B>,
    not_full: Condvar<B>,
    capacity: u64,
}

async fn buffer_task<B: ThreadSafe>(
    s: Arc<Shared<B>>,
    round: Arc<Round>,
    me: usize,
    producer: bool,
    mut rng: Rng,
) {
    while !round.stopped() {
        let race = Race::pick(&mut rng);
        round.set(me, race.wait_phase());
        let cap = s.capacity;
        let waited = race
            .run(async {
                let guard = s.buf.lock().await;
                if producer {
                    s.not_full
                        .wait_while(guard, |b| b.items >= cap && !b.stop)
                        .await
                } else {
                    s.not_empty
                        .wait_while(guard, |b| b.items == 0 && !b.stop)
                        .await
                }
            })
            .await;
        let Some(mut guard) = waited else {
            round.cancelled.fetch_add(1, SeqCst);
            round.set(me, IDLE);
            continue;
        };
        if guard.stop {
            break;
        }
        assert!(!guard.inside, "two holders of the mutex");
        guard.inside = true;
        round.set(me, HOLDING);
        if producer {
            assert!(guard.items < cap, "buffer over capacity: {:?}", *guard);
            guard.items += 1;
            guard.produced += 1;
        } else {
            assert!(guard.items > 0, "consumed from an empty buffer");
            guard.items -= 1;
            guard.consumed += 1;
        }
        round.done(me);
        if rng.one_in(4) {
            // Yield while holding the lock.
            yield_now().await;
        }
        guard.inside = false;
        drop(guard);
        if producer {
            s.not_empty.notify_one();
        } else {
            s.not_full.notify_one();
        }
        round.set(me, IDLE);
        if rng.one_in(4) {
            yield_now().await;
        }
    }
    round.set(me, IDLE);
}

pub(crate) fn soak_buffer<B: ThreadSafe>(settings: &Settings, cfg: u64, name: &str, strict: bool) {
    let started = Instant::now();
    let (mut ops, mut cancelled, mut rounds) = (0u64, 0u64, 0u64);
    while let Some(round_budget) = next_round(settings.budget, started, ops, rounds) {
        let mut shape_rng = Rng::new(derive(settings.seed, &[cfg, rounds, u64::MAX]));
        let threads = 2 + shape_rng.below(4) as usize;
        let tasks = 2 + shape_rng.below(4) as usize;
        let mutex = Mutex::<Buffer, B>::with_backend(Buffer::default());
        let shared = Arc::new(Shared {
            buf: if strict { mutex.strict_fifo() } else { mutex },
            not_empty: Condvar::<B>::with_backend(),
            not_full: Condvar::<B>::with_backend(),
            capacity: 1 + shape_rng.below(4),
        });
        let round = Arc::new(Round::new(threads * tasks));
        let finished = Arc::new(AtomicBool::new(false));
        let context = format!(
            "{name} round {rounds} ({threads} threads x {tasks} tasks, capacity {})",
            shared.capacity
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
                        "{:?} {:?} {:?}",
                        shared.buf, shared.not_empty, shared.not_full
                    )
                }
            }),
        );
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (shared, round) = (shared.clone(), round.clone());
                let seed = settings.seed;
                thread::spawn(move || {
                    runtime().block_on(join_all((0..tasks).map(|k| {
                        let me = t * tasks + k;
                        // Alternate producers and consumers.
                        let producer = me.is_multiple_of(2);
                        let rng = Rng::new(derive(seed, &[cfg, rounds, me as u64]));
                        buffer_task(shared.clone(), round.clone(), me, producer, rng)
                    })));
                })
            })
            .collect();
        stop_when_spent(&round, round_budget);
        // Release the tasks parked in `wait_while` (their condition sees
        // `stop`); spurious wake-ups are harmless.
        let poked = shared.clone();
        let mut end = RoundEnd::default();
        poking_while(
            move || {
                poked.buf.blocking_lock().stop = true;
                poked.not_empty.notify_all();
                poked.not_full.notify_all();
            },
            || {
                for w in workers {
                    end.join(&round, w);
                }
            },
        );
        end.finish(&finished, dog, &context, settings.seed);
        let b = shared.buf.try_lock().expect("mutex free after the round");
        assert!(!b.inside);
        assert_eq!(b.produced, b.consumed + b.items, "{context}: {:?}", *b);
        drop(b);
        ops += round.progress.load(SeqCst);
        cancelled += round.cancelled.load(SeqCst);
        rounds += 1;
    }
    assert!(ops > 0, "{name}: no work done");
    eprintln!(
        "soak: {name:<36} {ops:>10} produce/consume {cancelled:>9} cancellations {rounds:>4} rounds in {:.1?}",
        started.elapsed()
    );
}
