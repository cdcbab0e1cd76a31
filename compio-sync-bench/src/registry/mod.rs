//! Every implementation under test, per family: compio-sync's backends
//! under both fairness policies, and the peers (tokio, async-lock,
//! event-listener, futures-intrusive fair and unfair, maitake-sync, and the
//! channel and local peers). The families' traits are implemented for them
//! in `adapters.rs` (S1-S9b), `local.rs` (S10), `channels.rs` (S11) and
//! `fanout.rs` (S12); here the ratio baselines are named, the quick and full
//! sizes are set, and [`benches`] turns it all into the list of [`Bench`]es
//! the harness runs.
//!
//! To add a backend of compio-sync, add its type to the `ours!` lists in
//! [`benches`]: that registers its Semaphore and Mutex under both policies,
//! and its Notify and Condvar. To add a peer, implement the family's trait
//! for it and add one entry line.

mod adapters;
mod channels;
mod fanout;
mod local;

use std::sync::Arc;

#[cfg(target_os = "linux")]
use compio_sync::backend::IoUringFutex;
#[cfg(windows)]
use compio_sync::backend::Iocp;
use compio_sync::backend::{Intrusive, MutexVecDeque, ParkingLotHybrid, SegQueue};

use crate::{
    harness::{Bench, Candidate, Role},
    scenarios::{
        Entry, Scenario, barrier, condvar, mutex, notify,
        rwlock::{self, Pair},
        semaphore,
    },
};

pub use self::adapters::*;

/// The quick and full sizes of every family.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// S1-S4, S7.
    pub semaphore: semaphore::Sizes,
    /// S5, S5b.
    pub notify: notify::Sizes,
    /// S6.
    pub mutex: mutex::Sizes,
    /// S8.
    pub condvar: condvar::Sizes,
    /// S11.
    pub channels: crate::scenarios::channels::Sizes,
    /// S12.
    pub fanout: crate::scenarios::fanout::Sizes,
    /// S9b.
    pub barrier: barrier::Sizes,
    /// S9.
    pub rwlock: rwlock::Sizes,
}

impl Sizes {
    /// S10's sizes: those of the scenarios it repeats.
    pub fn local(&self) -> crate::scenarios::local::Sizes {
        crate::scenarios::local::Sizes {
            semaphore: self.semaphore,
            notify: self.notify,
            mutex: self.mutex,
        }
    }

    /// `--quick`: about a minute for the whole run on two cores.
    pub const QUICK: Self = Self {
        semaphore: semaphore::Sizes {
            uncontended_iters: 1_000_000,
            s3_iters_per_task: 1_000,
            s4_ops: 32_000,
            s7_iters_per_task: 100,
        },
        notify: notify::Sizes {
            s5_round_trips: 2_000,
            s5b_round_trips: 20_000,
        },
        mutex: mutex::Sizes { s6_ops: 16_000 },
        condvar: condvar::Sizes { s8_items: 30_000 },
        channels: crate::scenarios::channels::Sizes {
            cross_messages: 4_000,
            local_messages: 20_000,
            oneshots: 4_000,
        },
        fanout: crate::scenarios::fanout::Sizes {
            lockstep_rounds: 300,
            burst_rounds: 40,
            burst: 64,
            one_runtime_rounds: 2_000,
        },
        barrier: barrier::Sizes {
            s9b_generations: 1_000,
        },
        rwlock: rwlock::Sizes { s9_ops: 16_000 },
    };

    /// The full run.
    pub const FULL: Self = Self {
        semaphore: semaphore::Sizes {
            uncontended_iters: 3_000_000,
            s3_iters_per_task: 4_000,
            s4_ops: 96_000,
            s7_iters_per_task: 300,
        },
        notify: notify::Sizes {
            s5_round_trips: 3_000,
            s5b_round_trips: 100_000,
        },
        mutex: mutex::Sizes { s6_ops: 64_000 },
        condvar: condvar::Sizes { s8_items: 150_000 },
        channels: crate::scenarios::channels::Sizes {
            cross_messages: 40_000,
            local_messages: 200_000,
            oneshots: 20_000,
        },
        fanout: crate::scenarios::fanout::Sizes {
            lockstep_rounds: 1_000,
            burst_rounds: 200,
            burst: 64,
            one_runtime_rounds: 10_000,
        },
        barrier: barrier::Sizes {
            s9b_generations: 4_000,
        },
        rwlock: rwlock::Sizes { s9_ops: 64_000 },
    };
}

/// The baseline of the Semaphore, Notify and Mutex scenarios.
pub const TOKIO: &str = "tokio";
/// The baseline of S8 (tokio has no condition variable).
pub const TOKIO_MUTEX_NOTIFY: &str = "tokio Mutex+Notify";
/// The baseline of S10's ratios (see [`local`]).
pub const LOCAL_BASELINE: &str = local::THREAD_SAFE;
/// The name of the floor rows.
pub const FLOOR: &str = "floor: no synchronization";
pub use crate::scenarios::{ATOMIC_FLOOR, WAKE_FLOOR, fanout::FANOUT_FLOOR};

/// The display name of compio-sync's rows on the default backend
/// (`compio_sync::backend::DefaultBackend`) under the default policy.
pub fn default_backend() -> String {
    let path = std::any::type_name::<compio_sync::backend::DefaultBackend>();
    format!("compio-sync {}", path.rsplit("::").next().unwrap_or(path))
}

pub(crate) fn entry<S: Scenario>(
    name: &'static str,
    role: Role,
    run: crate::scenarios::Run<S>,
) -> Entry<S> {
    Entry { name, role, run }
}

/// Registers each listed backend of compio-sync in the family module
/// `$family` through `$adapter`, the family's adapter type; with `both`,
/// under both fairness policies (`$adapter<B, STRICT_FIFO>`).
macro_rules! ours {
    (both, $family:ident, $adapter:ident, [$($backend:ident),* $(,)?]) => {
        vec![$(
            entry(
                concat!("compio-sync ", stringify!($backend)),
                Role::Ours,
                $family::run::<$adapter<$backend, false>>,
            ),
            entry(
                concat!("compio-sync ", stringify!($backend), " fifo"),
                Role::OursStrictFifo,
                $family::run::<$adapter<$backend, true>>,
            ),
        )*]
    };
    (one, $family:ident, $adapter:ident, [$($backend:ident),* $(,)?]) => {
        vec![$(entry(
            concat!("compio-sync ", stringify!($backend)),
            Role::Ours,
            $family::run::<$adapter<$backend>>,
        ),)*]
    };
}

/// Every Semaphore implementation, compio-sync's first.
fn semaphores() -> Vec<Entry<semaphore::Scenario>> {
    let mut all = ours!(
        both,
        semaphore,
        Ours,
        [MutexVecDeque, ParkingLotHybrid, SegQueue, Intrusive]
    );
    #[cfg(target_os = "linux")]
    all.extend(ours!(both, semaphore, Ours, [IoUringFutex]));
    #[cfg(windows)]
    all.extend(ours!(both, semaphore, Ours, [Iocp]));
    all.extend([
        entry(TOKIO, Role::Peer, semaphore::run::<tokio::sync::Semaphore>),
        entry(
            "async-lock",
            Role::Peer,
            semaphore::run::<async_lock::Semaphore>,
        ),
        entry(
            "futures-intrusive fair",
            Role::Peer,
            semaphore::run::<FuturesIntrusive<true>>,
        ),
        entry(
            "futures-intrusive unfair",
            Role::Peer,
            semaphore::run::<FuturesIntrusive<false>>,
        ),
        entry(
            "maitake-sync",
            Role::Peer,
            semaphore::run::<maitake_sync::Semaphore>,
        ),
    ]);
    all
}

/// Every Notify implementation, compio-sync's first.
fn notifies() -> Vec<Entry<notify::Scenario>> {
    let mut all = ours!(
        one,
        notify,
        OursNotify,
        [MutexVecDeque, ParkingLotHybrid, SegQueue, Intrusive]
    );
    #[cfg(target_os = "linux")]
    all.extend(ours!(one, notify, OursNotify, [IoUringFutex]));
    #[cfg(windows)]
    all.extend(ours!(one, notify, OursNotify, [Iocp]));
    all.extend([
        entry(TOKIO, Role::Peer, notify::run::<tokio::sync::Notify>),
        entry(
            "event-listener Event+flag",
            Role::Peer,
            notify::run::<EventListenerFlag>,
        ),
        entry(
            "maitake-sync WaitQueue",
            Role::Peer,
            notify::run::<maitake_sync::WaitQueue>,
        ),
    ]);
    all
}

/// Every Mutex implementation, compio-sync's first.
fn mutexes() -> Vec<Entry<mutex::Scenario>> {
    let mut all = ours!(
        both,
        mutex,
        OursMutex,
        [MutexVecDeque, ParkingLotHybrid, SegQueue, Intrusive]
    );
    #[cfg(target_os = "linux")]
    all.extend(ours!(both, mutex, OursMutex, [IoUringFutex]));
    #[cfg(windows)]
    all.extend(ours!(both, mutex, OursMutex, [Iocp]));
    all.extend([
        entry(TOKIO, Role::Peer, mutex::run::<tokio::sync::Mutex<u64>>),
        entry(
            "async-lock",
            Role::Peer,
            mutex::run::<async_lock::Mutex<u64>>,
        ),
        entry(
            "futures-intrusive fair",
            Role::Peer,
            mutex::run::<FuturesIntrusiveMutex<true>>,
        ),
        entry(
            "futures-intrusive unfair",
            Role::Peer,
            mutex::run::<FuturesIntrusiveMutex<false>>,
        ),
        entry(
            "maitake-sync",
            Role::Peer,
            mutex::run::<maitake_sync::Mutex<u64>>,
        ),
    ]);
    all
}

/// Every Condvar implementation, compio-sync's first.
fn condvars() -> Vec<Entry<condvar::Scenario>> {
    let mut all = ours!(
        one,
        condvar,
        OursCondvar,
        [MutexVecDeque, ParkingLotHybrid, SegQueue, Intrusive]
    );
    #[cfg(target_os = "linux")]
    all.extend(ours!(one, condvar, OursCondvar, [IoUringFutex]));
    #[cfg(windows)]
    all.extend(ours!(one, condvar, OursCondvar, [Iocp]));
    all.push(entry(
        TOKIO_MUTEX_NOTIFY,
        Role::Peer,
        condvar::run::<TokioMutexNotify>,
    ));
    all
}

/// Every Barrier implementation, compio-sync's first.
fn barriers() -> Vec<Entry<barrier::Scenario>> {
    let mut all = ours!(
        one,
        barrier,
        OursBarrier,
        [MutexVecDeque, ParkingLotHybrid, SegQueue, Intrusive]
    );
    #[cfg(target_os = "linux")]
    all.extend(ours!(one, barrier, OursBarrier, [IoUringFutex]));
    #[cfg(windows)]
    all.extend(ours!(one, barrier, OursBarrier, [Iocp]));
    all.extend([
        entry(TOKIO, Role::Peer, barrier::run::<tokio::sync::Barrier>),
        entry(
            "async-lock",
            Role::Peer,
            barrier::run::<async_lock::Barrier>,
        ),
    ]);
    all
}

/// Every RwLock implementation, compio-sync's first.
fn rwlocks() -> Vec<Entry<rwlock::Scenario>> {
    let mut all = ours!(
        both,
        rwlock,
        OursRwLock,
        [MutexVecDeque, ParkingLotHybrid, SegQueue, Intrusive]
    );
    #[cfg(target_os = "linux")]
    all.extend(ours!(both, rwlock, OursRwLock, [IoUringFutex]));
    #[cfg(windows)]
    all.extend(ours!(both, rwlock, OursRwLock, [Iocp]));
    all.extend([
        entry(TOKIO, Role::Peer, rwlock::run::<tokio::sync::RwLock<Pair>>),
        entry(
            "async-lock",
            Role::Peer,
            rwlock::run::<async_lock::RwLock<Pair>>,
        ),
        entry(
            "maitake-sync",
            Role::Peer,
            rwlock::run::<maitake_sync::RwLock<Pair>>,
        ),
    ]);
    all
}

/// The benches of one family: one per scenario, with every entry and, where
/// the scenario has one, its floor (last).
pub(crate) fn family<S: Scenario>(
    scenarios: Vec<S>,
    sizes: S::Sizes,
    entries: &[Entry<S>],
    baseline: &'static str,
    ratio_label: &'static str,
) -> Vec<Bench> {
    scenarios
        .into_iter()
        .map(|scenario| {
            let candidate = |name, role, run: crate::scenarios::Run<S>| Candidate {
                name,
                role,
                run: Arc::new(move || run(scenario, &sizes)),
            };
            let mut candidates: Vec<Candidate> = entries
                .iter()
                .map(|e| candidate(e.name, e.role, e.run))
                .collect();
            if let Some(floor) = scenario.floor() {
                candidates.push(candidate(FLOOR, Role::Floor, floor));
            }
            if let Some((name, floor)) = scenario.cost_floor() {
                candidates.push(candidate(name, Role::Floor, floor));
            }
            Bench {
                case: scenario.case(&sizes),
                baseline,
                ratio_label,
                candidates,
            }
        })
        .collect()
}

/// The families, by the id prefix of their scenarios, in the order
/// [`benches`] runs them; the first prefix that matches wins.
const FAMILIES: &[(&str, &str)] = &[
    ("S10_", "local flavors (S10)"),
    ("S11_", "channels (S11)"),
    ("S12", "watch and broadcast fan-out (S12)"),
    ("S9b", "Barrier (S9b)"),
    ("S9", "RwLock (S9)"),
    ("S8", "Condvar (S8)"),
    ("S6", "Mutex (S6)"),
    ("S5", "Notify (S5, S5b)"),
    ("S", "Semaphore (S1-S4, S7)"),
];

/// The family of the scenario `id`, in words (for grouping a summary).
pub fn family_name(id: &str) -> &'static str {
    FAMILIES
        .iter()
        .find(|(prefix, _)| id.starts_with(prefix))
        .map_or("other", |&(_, name)| name)
}

/// Every scenario with every implementation, in report order.
pub fn benches(sizes: &Sizes) -> Vec<Bench> {
    let mut all = family(
        semaphore::Scenario::all(),
        sizes.semaphore,
        &semaphores(),
        TOKIO,
        "x tokio",
    );
    all.extend(family(
        notify::Scenario::all(),
        sizes.notify,
        &notifies(),
        TOKIO,
        "x tokio",
    ));
    all.extend(family(
        mutex::Scenario::all(),
        sizes.mutex,
        &mutexes(),
        TOKIO,
        "x tokio",
    ));
    all.extend(family(
        condvar::Scenario::all(),
        sizes.condvar,
        &condvars(),
        TOKIO_MUTEX_NOTIFY,
        "x tokio M+N",
    ));
    all.extend(family(
        barrier::Scenario::all(),
        sizes.barrier,
        &barriers(),
        TOKIO,
        "x tokio",
    ));
    all.extend(family(
        rwlock::Scenario::all(),
        sizes.rwlock,
        &rwlocks(),
        TOKIO,
        "x tokio",
    ));
    all.extend(local::benches(sizes.local()));
    {
        use crate::scenarios::channels::Scenario;
        all.extend(family(
            Scenario::mpsc_all(),
            sizes.channels,
            &channels::mpscs(),
            TOKIO,
            "x tokio",
        ));
        all.extend(family(
            Scenario::local_all(),
            sizes.channels,
            &channels::local_mpscs(),
            channels::LOCAL_SYNC,
            "x local-sync",
        ));
        all.extend(family(
            Scenario::oneshot_all(),
            sizes.channels,
            &channels::oneshots(),
            TOKIO,
            "x tokio",
        ));
    }
    {
        use crate::scenarios::fanout::{Family, OneRuntime, Scenario};
        let scenarios = Scenario::all(&sizes.fanout);
        all.extend(family(
            scenarios.iter().map(|&s| Family::<false>(s)).collect(),
            sizes.fanout,
            &fanout::watches(),
            TOKIO,
            "x tokio",
        ));
        all.extend(family(
            scenarios.into_iter().map(Family::<true>).collect(),
            sizes.fanout,
            &fanout::broadcasts(),
            TOKIO,
            "x tokio",
        ));
        all.extend(family(
            vec![OneRuntime::<false>],
            sizes.fanout,
            &fanout::one_runtime_watches(),
            TOKIO,
            "x tokio",
        ));
        all.extend(family(
            vec![OneRuntime::<true>],
            sizes.fanout,
            &fanout::one_runtime_broadcasts(),
            TOKIO,
            "x tokio",
        ));
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::{barrier, condvar, mutex, notify, rwlock, semaphore};

    const TINY: Sizes = Sizes {
        semaphore: semaphore::tests::TINY,
        notify: notify::tests::TINY,
        mutex: mutex::tests::TINY,
        condvar: condvar::tests::TINY,
        barrier: barrier::tests::TINY,
        rwlock: rwlock::tests::TINY,
        channels: crate::scenarios::channels::tests::TINY,
        fanout: crate::scenarios::fanout::tests::TINY,
    };

    /// Every registered implementation passes every scenario of its family,
    /// and every bench has its baseline.
    #[test]
    fn every_implementation_passes_every_scenario() {
        for bench in benches(&TINY) {
            assert!(
                bench.candidates.iter().any(|c| c.name == bench.baseline),
                "{}: no baseline",
                bench.case.id
            );
            for candidate in &bench.candidates {
                let sample = (candidate.run)();
                assert!(
                    sample.ns_per_op.is_finite(),
                    "{} {}",
                    candidate.name,
                    bench.case.id
                );
            }
        }
    }

    #[test]
    fn every_scenario_has_a_family_and_a_family_runs_in_one_stretch() {
        let mut groups: Vec<&str> = benches(&TINY)
            .iter()
            .map(|b| family_name(&b.case.id))
            .collect();
        groups.dedup();
        assert!(!groups.contains(&"other"), "{groups:?}");
        let mut unique = groups.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            groups.len(),
            "a family comes back: {groups:?}"
        );
        assert_eq!(family_name("S1"), "Semaphore (S1-S4, S7)");
        assert_eq!(family_name("S7"), "Semaphore (S1-S4, S7)");
        assert_eq!(family_name("S10_S1"), "local flavors (S10)");
        assert_eq!(family_name("S9b_t2_k1"), "Barrier (S9b)");
        assert_eq!(family_name("S9_t2_r90"), "RwLock (S9)");
    }

    #[test]
    fn floors_are_in_the_one_runtime_scenarios_only_and_the_default_backend_is_registered() {
        let benches = benches(&TINY);
        for bench in &benches {
            let floors: Vec<_> = bench
                .candidates
                .iter()
                .filter(|c| c.role == Role::Floor)
                .map(|c| c.name)
                .collect();
            let id = bench.case.id.as_str();
            let one_slot_on_one_runtime = id.starts_with("S11_")
                && (id.ends_with("_b1_x1") || id.starts_with("S11_local_") && id.ends_with("_b1"));
            let expected: &[&str] = match id {
                // S1 and S2 also have the atomic floor (two read-modify-writes).
                "S1" | "S2" => &[FLOOR, ATOMIC_FLOOR],
                "S5b" | "S10_S1" | "S10_S2" | "S10_S5b" => &[FLOOR],
                // The one-runtime contended loops also have the wake floor,
                // after the no-synchronization one (the summaries' floor).
                "S3" | "S10_S3" | "S10_S6" => &[FLOOR, WAKE_FLOOR],
                // The one-slot channel on one runtime: its bare-slot floor.
                _ if one_slot_on_one_runtime => &[FLOOR],
                // The lock-step fan-out across runtimes: a bare wake-up per
                // receiver.
                "S12w_t2" | "S12w_t4" | "S12b_t2" | "S12b_t4" => &[FANOUT_FLOOR],
                _ => &[],
            };
            assert_eq!(floors, expected, "{}", bench.case.id);
        }
        assert!(
            benches[0]
                .candidates
                .iter()
                .any(|c| c.name == default_backend())
        );
    }
}
