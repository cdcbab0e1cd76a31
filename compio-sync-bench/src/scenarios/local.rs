//! S10: the single-thread flavors (`compio_sync::local`) on one runtime,
//! against the thread-safe default, tokio (which has no local flavor) and
//! the local peers.
//!
//! - **S10_S1**, **S10_S2**, **S10_S3**: S1-S3 of [`semaphore`] (uncontended
//!   `try_acquire`, uncontended `acquire().await`, 64 tasks on 1 permit);
//! - **S10_S5b**: S5b of [`notify`] (ping-pong between two tasks);
//! - **S10_S6**: the S6 counter of [`mutex`] on one runtime with
//!   [`TASKS_PER_THREAD`](super::TASKS_PER_THREAD) tasks.
//!
//! Each runs the same loop, with the same checks, as the thread-safe
//! scenario it is named after: only the implementations differ, and they
//! need not be `Send` or `Sync`. Each has that scenario's floor (S10_S6: the
//! counter with no lock), and S10_S3 and S10_S6 the wake floor as well (see
//! [`semaphore`]). A scenario's implementations are one kind
//! (semaphores, notifiers or mutexes), so the registry gives each kind its
//! own list and runs it through [`run_semaphore`], [`run_notify`] or
//! [`run_mutex`].

use super::{
    Run,
    mutex::{self, BenchMutex},
    notify::{self, BenchNotify},
    semaphore::{self, BenchSemaphore},
};
use crate::harness::{Case, Sample};

/// One S10 scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// S1 on a local semaphore.
    S1,
    /// S2 on a local semaphore.
    S2,
    /// S3 on a local semaphore.
    S3,
    /// S5b on a local notifier.
    S5b,
    /// The S6 counter on one runtime, on a local mutex.
    S6,
}

/// How much work the S10 scenarios do: the sizes of the scenarios they
/// repeat.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// For S10_S1 to S10_S3.
    pub semaphore: semaphore::Sizes,
    /// For S10_S5b.
    pub notify: notify::Sizes,
    /// For S10_S6 (all of `s6_ops` on the one runtime).
    pub mutex: mutex::Sizes,
}

impl Scenario {
    /// The semaphore scenarios, in report order.
    pub const SEMAPHORE: [Self; 3] = [Self::S1, Self::S2, Self::S3];

    /// The scenario it repeats, for the semaphore ones.
    fn semaphore(self) -> Option<semaphore::Scenario> {
        match self {
            Self::S1 => Some(semaphore::Scenario::S1),
            Self::S2 => Some(semaphore::Scenario::S2),
            Self::S3 => Some(semaphore::Scenario::S3),
            Self::S5b | Self::S6 => None,
        }
    }
}

impl super::Scenario for Scenario {
    type Sizes = Sizes;

    fn case(self, sizes: &Sizes) -> Case {
        let inner = match self {
            Self::S1 | Self::S2 | Self::S3 => {
                let scenario = self.semaphore().expect("a semaphore scenario");
                scenario.case(&sizes.semaphore)
            }
            Self::S5b => notify::Scenario::S5b.case(&sizes.notify),
            Self::S6 => {
                let mut case = mutex::Scenario::S6 { threads: 1 }.case(&sizes.mutex);
                case.id = "S6".into();
                case.title = case.title.replacen("1 threads", "1 runtime", 1);
                case
            }
        };
        Case {
            id: format!("S10_{}", inner.id),
            title: format!("S10 local flavors: {}", inner.title),
            // The single-runtime scenarios are cheap: warm up as S1-S3 do.
            warmup: true,
            ..inner
        }
    }

    fn floor(self) -> Option<Run<Self>> {
        Some(floor as Run<Self>)
    }

    fn cost_floor(self) -> Option<(&'static str, Run<Self>)> {
        matches!(self, Self::S3 | Self::S6).then_some((super::WAKE_FLOOR, wake_floor as Run<Self>))
    }
}

/// Runs S10_S1, S10_S2 or S10_S3 once on `S`.
///
/// # Panics
///
/// On the other scenarios.
pub fn run_semaphore<S: BenchSemaphore>(scenario: Scenario, sizes: &Sizes) -> Sample {
    let inner = scenario
        .semaphore()
        .unwrap_or_else(|| panic!("{scenario:?} is not a semaphore scenario"));
    semaphore::run_one_runtime::<S>(inner, &sizes.semaphore)
}

/// Runs S10_S5b once on `N`.
///
/// # Panics
///
/// On the other scenarios.
pub fn run_notify<N: BenchNotify>(scenario: Scenario, sizes: &Sizes) -> Sample {
    assert_eq!(scenario, Scenario::S5b, "not a notify scenario");
    notify::run_one_runtime::<N>(notify::Scenario::S5b, &sizes.notify)
}

/// Runs S10_S6 once on `M`.
///
/// # Panics
///
/// On the other scenarios.
pub fn run_mutex<M: BenchMutex>(scenario: Scenario, sizes: &Sizes) -> Sample {
    assert_eq!(scenario, Scenario::S6, "not a mutex scenario");
    mutex::run_one_runtime::<M>(&sizes.mutex)
}

/// The floor of an S10 scenario: the floor of the scenario it repeats.
fn floor(scenario: Scenario, sizes: &Sizes) -> Sample {
    match scenario {
        Scenario::S5b => notify::floor(notify::Scenario::S5b, &sizes.notify),
        Scenario::S6 => mutex::floor_one_runtime(&sizes.mutex),
        _ => {
            let inner = scenario.semaphore().expect("a semaphore scenario");
            semaphore::floor(inner, &sizes.semaphore)
        }
    }
}

/// The wake floor of S10_S3 and S10_S6: that of the scenario it repeats.
fn wake_floor(scenario: Scenario, sizes: &Sizes) -> Sample {
    match scenario {
        Scenario::S3 => semaphore::wake_floor(semaphore::Scenario::S3, &sizes.semaphore),
        Scenario::S6 => mutex::wake_floor_one_runtime(&sizes.mutex),
        _ => panic!("{scenario:?} has no wake floor"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::scenarios::Scenario as _;

    pub(crate) const TINY: Sizes = Sizes {
        semaphore: semaphore::tests::TINY,
        notify: notify::tests::TINY,
        mutex: mutex::tests::TINY,
    };

    #[test]
    fn ids_and_titles_name_the_scenario_they_repeat() {
        let ids: Vec<_> = [
            Scenario::S1,
            Scenario::S2,
            Scenario::S3,
            Scenario::S5b,
            Scenario::S6,
        ]
        .map(|s| s.case(&TINY).id)
        .into();
        assert_eq!(ids, ["S10_S1", "S10_S2", "S10_S3", "S10_S5b", "S10_S6"]);
        let s6 = Scenario::S6.case(&TINY).title;
        assert!(s6.starts_with("S10 local flavors: S6"), "{s6}");
        assert!(s6.contains("1 runtime"), "{s6}");
    }

    #[test]
    #[should_panic(expected = "is not a semaphore scenario")]
    fn a_semaphore_cannot_run_the_notify_scenario() {
        run_semaphore::<tokio::sync::Semaphore>(Scenario::S5b, &TINY);
    }
}
