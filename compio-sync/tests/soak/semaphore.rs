//! The Semaphore soak: random `acquire_many` sizes, owned/try acquires,
//! random cancellation, split releases; permits conserved.

use super::*;

#[derive(Clone, Copy, Debug)]
struct SemShape {
    permits: u32,
    max_n: u32,
    threads: usize,
    tasks: usize,
}

impl SemShape {
    /// Issue 8 defect 1's setup: 3 permits, `acquire_many(1 + rand % 3)`,
    /// 6 runtimes x 4 tasks.
    const CANONICAL: Self = Self {
        permits: 3,
        max_n: 3,
        threads: 6,
        tasks: 4,
    };
    fn random(rng: &mut Rng) -> Self {
        let permits = 1 + rng.below(6) as u32;
        Self {
            permits,
            max_n: 1 + rng.below(u64::from(permits)) as u32,
            threads: 2 + rng.below(5) as usize,
            tasks: 1 + rng.below(6) as usize,
        }
    }
}

struct SemTotals {
    ops: u64,
    cancelled: u64,
    rounds: u64,
}

/// One task's loop. `held` is the sum of the permits held right now.
async fn sem_task<B: ThreadSafe>(
    sem: Arc<Semaphore<B>>,
    shape: SemShape,
    round: Arc<Round>,
    held: Arc<AtomicUsize>,
    me: usize,
    mut rng: Rng,
) {
    let limit = shape.permits as usize;
    let enter = |n: usize| {
        let now = held.fetch_add(n, SeqCst) + n;
        assert!(
            now <= limit,
            "occupancy {now} exceeds the semaphore's {limit} permits ({:?})",
            *sem
        );
    };
    while !round.stopped() {
        let n = 1 + rng.below(u64::from(shape.max_n)) as u32;
        let kind = rng.below(10);
        // Take permits one way or another (or fail to, when cancelled).
        let (permit, owned) = match kind {
            0 => {
                // Non-blocking path.
                round.set(me, ACQ_PLAIN);
                match sem.try_acquire_many(n) {
                    Ok(p) => (Some(p), None),
                    Err(_) => {
                        round.set(me, IDLE);
                        yield_now().await;
                        continue;
                    }
                }
            }
            1 => {
                round.set(me, ACQ_OWNED);
                let p = sem.clone().acquire_many_owned(n).await.expect("not closed");
                (None, Some(p))
            }
            _ => {
                let race = Race::pick(&mut rng);
                round.set(me, race.acquire_phase());
                match race.run(sem.acquire_many(n)).await {
                    Some(p) => (Some(p.expect("not closed")), None),
                    None => {
                        round.cancelled.fetch_add(1, SeqCst);
                        round.set(me, IDLE);
                        continue;
                    }
                }
            }
        };
        let got = match (&permit, &owned) {
            (Some(p), _) => p.num_permits(),
            (_, Some(p)) => p.num_permits(),
            (None, None) => unreachable!(),
        };
        assert_eq!(got, n as usize, "asked for {n} permits, got {got}");
        enter(got);
        round.set(me, HOLDING);
        round.done(me);
        hold(&mut rng).await;
        match (permit, owned) {
            (Some(mut p), None) if n >= 2 && rng.one_in(4) => {
                // Release in two pieces.
                let k = 1 + rng.below(u64::from(n) - 1) as usize;
                let piece = p.split(k).expect("split within the permit");
                held.fetch_sub(k, SeqCst);
                drop(piece);
                hold(&mut rng).await;
                held.fetch_sub(n as usize - k, SeqCst);
                drop(p);
            }
            (p, o) => {
                held.fetch_sub(got, SeqCst);
                drop((p, o));
            }
        }
        round.set(me, IDLE);
        if rng.one_in(4) {
            yield_now().await;
        }
    }
    round.set(me, IDLE);
}

pub(crate) fn soak_semaphore<B: ThreadSafe>(
    settings: &Settings,
    cfg: u64,
    name: &str,
    strict: bool,
) {
    let started = Instant::now();
    let mut totals = SemTotals {
        ops: 0,
        cancelled: 0,
        rounds: 0,
    };
    while let Some(round_budget) = next_round(settings.budget, started, totals.ops, totals.rounds) {
        let round_no = totals.rounds;
        let mut shape_rng = Rng::new(derive(settings.seed, &[cfg, round_no, u64::MAX]));
        // Even rounds use defect 1's setup, odd rounds a random shape.
        let shape = if round_no.is_multiple_of(2) {
            SemShape::CANONICAL
        } else {
            SemShape::random(&mut shape_rng)
        };
        let sem = Semaphore::<B>::with_backend(shape.permits as usize);
        let sem = Arc::new(if strict { sem.strict_fifo() } else { sem });
        let round = Arc::new(Round::new(shape.threads * shape.tasks));
        let held = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicBool::new(false));
        let dog = watchdog(
            round.clone(),
            finished.clone(),
            settings.stall,
            format!("{name} round {round_no} {shape:?}"),
            Box::new({
                let sem = sem.clone();
                let held = held.clone();
                move || format!("{:?}, permits held by tasks: {}", *sem, held.load(SeqCst))
            }),
        );
        run_task_round(
            shape.threads,
            shape.tasks,
            settings.seed,
            [cfg, round_no],
            &round,
            round_budget,
            &finished,
            dog,
            &format!("{name} round {round_no} {shape:?}"),
            {
                let (sem, round, held) = (sem.clone(), round.clone(), held.clone());
                move |me, rng| sem_task(sem.clone(), shape, round.clone(), held.clone(), me, rng)
            },
        );
        // Conservation: every permit is back, none invented.
        assert_eq!(held.load(SeqCst), 0);
        assert_eq!(
            sem.available_permits(),
            shape.permits as usize,
            "{name} round {round_no} {shape:?}: permits lost or invented: {:?}",
            *sem
        );
        let all = sem
            .try_acquire_many(shape.permits)
            .expect("all permits free after the round");
        assert!(
            sem.try_acquire().is_err(),
            "a permit beyond the size: {:?}",
            *sem
        );
        drop(all);
        totals.ops += round.progress.load(SeqCst);
        totals.cancelled += round.cancelled.load(SeqCst);
        totals.rounds += 1;
    }
    assert!(totals.ops > 0, "{name}: no work done");
    eprintln!(
        "soak: {name:<36} {:>10} acquisitions {:>9} cancellations {:>4} rounds in {:.1?}",
        totals.ops,
        totals.cancelled,
        totals.rounds,
        started.elapsed()
    );
}
