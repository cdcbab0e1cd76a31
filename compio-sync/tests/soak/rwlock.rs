//! The RwLock soak: random reads, writes, upgradable reads (upgraded,
//! downgraded or dropped), write downgrades and `try_` variants, each wait
//! raced at random against polls or a timer (an `upgrade()` that is
//! cancelled drops the upgradable guard it owns). Checked all along: a writer is
//! alone, at most one upgradable reader exists, and no reader sees a torn
//! pair. Checked after every round: the lock is free, and the pair equals
//! the number of completed writes.

use compio_sync::{RwLock, RwLockUpgradableReadGuard, RwLockWriteGuard};

use super::*;

#[derive(Clone, Copy, Debug)]
struct RwShape {
    threads: usize,
    tasks: usize,
    /// Writes (plain or upgraded) per ten operations.
    write_tenths: u64,
}

impl RwShape {
    fn random(rng: &mut Rng) -> Self {
        Self {
            threads: 2 + rng.below(4) as usize,
            tasks: 1 + rng.below(6) as usize,
            write_tenths: 1 + rng.below(6),
        }
    }
}

/// Who is inside the lock right now.
#[derive(Default)]
struct Inside {
    readers: AtomicUsize,
    writers: AtomicUsize,
    upgradable: AtomicUsize,
    /// Writes that completed (the pair must equal it at the end).
    writes: AtomicU64,
}

/// A task's presence in [`Inside`], taken back when dropped: also when the
/// task unwinds from a failed check (or is dropped mid-hold), so one failure
/// does not leave stale counts behind that make every later check fail too.
#[must_use]
struct Presence<'a> {
    inside: &'a Inside,
    reader: bool,
    upgradable: bool,
    writer: bool,
}

impl Drop for Presence<'_> {
    fn drop(&mut self) {
        if self.reader {
            self.inside.readers.fetch_sub(1, SeqCst);
        }
        if self.upgradable {
            self.inside.upgradable.fetch_sub(1, SeqCst);
        }
        if self.writer {
            self.inside.writers.fetch_sub(1, SeqCst);
        }
    }
}

impl Presence<'_> {
    /// An upgradable read downgraded to a plain one: the upgradable slot is
    /// free (uncounted first: the next upgradable reader may come as soon as
    /// it is), the read goes on.
    fn downgrade(&mut self) {
        assert!(
            self.upgradable,
            "downgrading a presence that is not upgradable"
        );
        self.upgradable = false;
        self.inside.upgradable.fetch_sub(1, SeqCst);
    }
}

impl Inside {
    /// Counts a reader in, then checks (counted first, so that the check
    /// sees a writer that came in at the same time).
    fn enter_read(&self) -> Presence<'_> {
        self.readers.fetch_add(1, SeqCst);
        let presence = Presence {
            inside: self,
            reader: true,
            upgradable: false,
            writer: false,
        };
        assert_eq!(self.writers.load(SeqCst), 0, "a reader beside a writer");
        presence
    }
    fn enter_upgradable(&self) -> Presence<'_> {
        let before = self.upgradable.fetch_add(1, SeqCst);
        let mut presence = Presence {
            inside: self,
            reader: false,
            upgradable: true,
            writer: false,
        };
        assert_eq!(before, 0, "two upgradable readers at once");
        self.readers.fetch_add(1, SeqCst);
        presence.reader = true;
        assert_eq!(self.writers.load(SeqCst), 0, "a reader beside a writer");
        presence
    }
    fn enter_write(&self) -> Presence<'_> {
        let before = self.writers.fetch_add(1, SeqCst);
        let presence = Presence {
            inside: self,
            reader: false,
            upgradable: false,
            writer: true,
        };
        assert_eq!(before, 0, "two writers at once");
        assert_eq!(self.readers.load(SeqCst), 0, "a writer beside a reader");
        presence
    }
}

type Lock<B> = RwLock<(u64, u64), B>;

/// Writes under `guard` (bumping both halves, with a pause between them at
/// times), then gives it back as the caller decides.
async fn bump<B: ThreadSafe>(guard: &mut RwLockWriteGuard<'_, (u64, u64), B>, rng: &mut Rng) {
    guard.0 += 1;
    hold(rng).await;
    guard.1 += 1;
}

fn check_pair(pair: &(u64, u64)) {
    assert_eq!(pair.0, pair.1, "a reader saw a torn pair");
}

/// One task's loop.
async fn rw_task<B: ThreadSafe>(
    lock: Arc<Lock<B>>,
    shape: RwShape,
    round: Arc<Round>,
    inside: Arc<Inside>,
    me: usize,
    mut rng: Rng,
) {
    while !round.stopped() {
        let writes = rng.below(10) < shape.write_tenths;
        let race = Race::pick(&mut rng);
        round.set(me, race.acquire_phase());
        let kind = rng.below(8);
        let done = if !writes {
            match kind {
                0 => match lock.try_read() {
                    Ok(guard) => {
                        read_under(&guard, &inside, &round, me, &mut rng).await;
                        true
                    }
                    Err(_) => false,
                },
                1 => {
                    round.set(me, ACQ_OWNED);
                    let guard = lock.clone().read_owned().await;
                    read_under(&guard, &inside, &round, me, &mut rng).await;
                    true
                }
                _ => match race.run(lock.read()).await {
                    Some(guard) => {
                        read_under(&guard, &inside, &round, me, &mut rng).await;
                        true
                    }
                    None => false,
                },
            }
        } else {
            match kind {
                0 => match lock.try_write() {
                    Ok(mut guard) => {
                        write_under(&mut guard, &inside, &round, me, &mut rng).await;
                        true
                    }
                    Err(_) => false,
                },
                1 | 2 => upgradable(&lock, race, &inside, &round, me, &mut rng).await,
                3 => match race.run(lock.write()).await {
                    Some(mut guard) => {
                        // Write, then downgrade and read on.
                        write_under(&mut guard, &inside, &round, me, &mut rng).await;
                        let guard = guard.downgrade();
                        read_under(&guard, &inside, &round, me, &mut rng).await;
                        true
                    }
                    None => false,
                },
                _ => match race.run(lock.write()).await {
                    Some(mut guard) => {
                        write_under(&mut guard, &inside, &round, me, &mut rng).await;
                        true
                    }
                    None => false,
                },
            }
        };
        if !done {
            round.cancelled.fetch_add(1, SeqCst);
            yield_now().await;
        }
        round.set(me, IDLE);
        if rng.one_in(4) {
            yield_now().await;
        }
    }
    round.set(me, IDLE);
}

async fn read_under(guard: &(u64, u64), inside: &Inside, round: &Round, me: usize, rng: &mut Rng) {
    let _presence = inside.enter_read();
    round.set(me, HOLDING);
    round.done(me);
    check_pair(guard);
    hold(rng).await;
    check_pair(guard);
}

async fn write_under<B: ThreadSafe>(
    guard: &mut RwLockWriteGuard<'_, (u64, u64), B>,
    inside: &Inside,
    round: &Round,
    me: usize,
    rng: &mut Rng,
) {
    let _presence = inside.enter_write();
    round.set(me, HOLDING);
    round.done(me);
    bump(guard, rng).await;
    inside.writes.fetch_add(1, SeqCst);
}

/// An upgradable read, then (at random) an upgrade raced against
/// cancellation (the guard survives a cancelled upgrade), a `try_upgrade`,
/// a downgrade, or a plain unlock. Whether it got the upgradable guard.
async fn upgradable<B: ThreadSafe>(
    lock: &Lock<B>,
    race: Race,
    inside: &Inside,
    round: &Round,
    me: usize,
    rng: &mut Rng,
) -> bool {
    let Some(mut guard) = race.run(lock.upgradable_read()).await else {
        return false;
    };
    let mut presence = inside.enter_upgradable();
    round.set(me, HOLDING);
    round.done(me);
    check_pair(&guard);
    hold(rng).await;
    match rng.below(4) {
        0 => {
            drop(presence);
            drop(guard);
        }
        1 => {
            // Downgrade to a plain read: another upgradable reader may come.
            presence.downgrade();
            let read = RwLockUpgradableReadGuard::downgrade(guard);
            check_pair(&read);
            hold(rng).await;
            drop(presence);
        }
        _ => {
            // Upgrade, retrying after cancellations or a failed `try_`.
            loop {
                let race = Race::pick(rng);
                round.set(me, race.acquire_phase());
                if rng.one_in(4) {
                    match RwLockUpgradableReadGuard::try_upgrade(guard) {
                        Ok(mut write) => {
                            drop(presence);
                            write_under(&mut write, inside, round, me, rng).await;
                            break;
                        }
                        Err(back) => guard = back,
                    }
                } else {
                    // The future owns the guard: cancelled, it drops it
                    // (the upgradable read ends, as if the guard had been
                    // dropped). It is dropped at the end of this block,
                    // after the presence.
                    let mut upgrade = pin!(RwLockUpgradableReadGuard::upgrade(guard));
                    let write = match race {
                        Race::Plain => Some(upgrade.as_mut().await),
                        Race::Polls(n) => match select(upgrade.as_mut(), pin!(polls(n))).await {
                            Either::Left((w, _)) => Some(w),
                            Either::Right(_) => None,
                        },
                        Race::Timer(d) => compio::time::timeout(d, upgrade.as_mut()).await.ok(),
                    };
                    match write {
                        Some(mut write) => {
                            drop(presence);
                            write_under(&mut write, inside, round, me, rng).await;
                            break;
                        }
                        None => {
                            round.cancelled.fetch_add(1, SeqCst);
                            drop(presence);
                            break;
                        }
                    }
                }
            }
        }
    }
    true
}

pub(crate) fn soak_rwlock<B: ThreadSafe>(settings: &Settings, cfg: u64, name: &str, strict: bool) {
    let started = Instant::now();
    let (mut ops, mut cancelled, mut rounds) = (0u64, 0u64, 0u64);
    while let Some(round_budget) = next_round(settings.budget, started, ops, rounds) {
        let round_no = rounds;
        let mut shape_rng = Rng::new(derive(settings.seed, &[cfg, round_no, u64::MAX]));
        let shape = RwShape::random(&mut shape_rng);
        let lock = Lock::<B>::with_backend((0, 0));
        let lock = Arc::new(if strict { lock.strict_fifo() } else { lock });
        let round = Arc::new(Round::new(shape.threads * shape.tasks));
        let inside = Arc::new(Inside::default());
        let finished = Arc::new(AtomicBool::new(false));
        let dog = watchdog(
            round.clone(),
            finished.clone(),
            settings.stall,
            format!("{name} round {round_no} {shape:?}"),
            Box::new({
                let (lock, inside) = (lock.clone(), inside.clone());
                move || {
                    format!(
                        "{:?}; inside: {} readers, {} writers, {} upgradable",
                        *lock,
                        inside.readers.load(SeqCst),
                        inside.writers.load(SeqCst),
                        inside.upgradable.load(SeqCst)
                    )
                }
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
                let (lock, round, inside) = (lock.clone(), round.clone(), inside.clone());
                move |me, rng| rw_task(lock.clone(), shape, round.clone(), inside.clone(), me, rng)
            },
        );
        // The lock is free, and every completed write is in the pair.
        let writes = inside.writes.load(SeqCst);
        let guard = lock
            .try_write()
            .unwrap_or_else(|_| panic!("{name} round {round_no}: lock left held: {:?}", *lock));
        assert_eq!(
            *guard,
            (writes, writes),
            "{name} round {round_no}: writes lost"
        );
        drop(guard);
        assert!(
            lock.try_upgradable_read().is_ok(),
            "{name} round {round_no}: the upgradable slot was left taken"
        );
        ops += round.progress.load(SeqCst);
        cancelled += round.cancelled.load(SeqCst);
        rounds += 1;
    }
    assert!(ops > 0, "{name}: no work done");
    eprintln!(
        "soak: {name:<36} {ops:>10} acquisitions {cancelled:>9} cancellations {rounds:>4} rounds in {:.1?}",
        started.elapsed()
    );
}
