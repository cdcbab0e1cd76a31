//! The performance goals of the fairness/fast-path issue, each checked
//! against its reference row of the same run: compio-sync on its default
//! backend and default policy against tokio, the best peer, or its own
//! `Intrusive` rows. A goal whose rows are missing (a narrowed run, a hang)
//! is "n/a".

use std::fmt::Write as _;

use crate::{
    harness::report::{BenchResult, Row},
    registry,
};

/// Which reference a goal compares with.
#[derive(Clone, Copy)]
enum Against {
    /// The row of this name.
    Row(&'static str),
    /// The fastest peer (never the floor).
    BestPeer,
}

const TOKIO: Against = Against::Row(registry::TOKIO);

/// What a goal bounds.
#[derive(Clone, Copy)]
enum Measure {
    /// Time per operation, as a ratio to the reference.
    Time(f64),
    /// Time ratio, and the p99 and p99.9 waits no worse than the reference's.
    TimeAndTail(f64),
    /// Heap allocations per operation that waited.
    AllocsPerWait(f64),
    /// The p99 and p99.9 waits no worse than the reference's.
    Tail,
}

struct Goal {
    /// The scenario's id; with `every`, a prefix: the goal applies to each
    /// scenario of the run whose id starts with it.
    scenario: &'static str,
    every: bool,
    /// The row under test: compio-sync on this backend (default policy), or
    /// on the default backend.
    subject: Option<&'static str>,
    against: Against,
    measure: Measure,
}

const fn goal(scenario: &'static str, against: Against, measure: Measure) -> Goal {
    Goal {
        scenario,
        every: false,
        subject: None,
        against,
        measure,
    }
}

/// A goal for every scenario whose id starts with `prefix`.
const fn every(prefix: &'static str, against: Against, measure: Measure) -> Goal {
    Goal {
        every: true,
        ..goal(prefix, against, measure)
    }
}

const FUTEX: Option<&str> = Some("IoUringFutex");

const GOALS: &[Goal] = &[
    goal("S1", TOKIO, Measure::Time(0.6)),
    goal("S2", TOKIO, Measure::Time(0.6)),
    goal("S3", Against::BestPeer, Measure::Time(0.7)),
    goal("S4_t2_p1", TOKIO, Measure::TimeAndTail(0.5)),
    goal("S4_t4_p1", TOKIO, Measure::TimeAndTail(0.5)),
    goal("S4_t2_p2", Against::BestPeer, Measure::Time(0.8)),
    goal("S4_t4_p4", Against::BestPeer, Measure::Time(0.8)),
    goal("S5b", TOKIO, Measure::Time(0.9)),
    // S9 (RwLock): time against the best peer, the writers' tail against
    // tokio's.
    every("S9_", Against::BestPeer, Measure::Time(0.8)),
    every("S9_", TOKIO, Measure::Tail),
    // S11 (channels): at least the best peer's throughput everywhere.
    every("S11_spsc", Against::BestPeer, Measure::Time(1.0)),
    every("S11_mpsc", Against::BestPeer, Measure::Time(1.0)),
    every("S11_oneshot", Against::BestPeer, Measure::Time(1.0)),
    Goal {
        subject: Some("local"),
        ..every("S11_local_", Against::BestPeer, Measure::Time(1.0))
    },
    goal("S12w_t2", TOKIO, Measure::TimeAndTail(0.8)),
    goal("S12w_t4", TOKIO, Measure::TimeAndTail(0.8)),
    goal("S12b_t2", TOKIO, Measure::TimeAndTail(0.8)),
    goal("S12b_t4", TOKIO, Measure::TimeAndTail(0.8)),
    goal(
        "S8",
        Against::Row(registry::TOKIO_MUTEX_NOTIFY),
        Measure::Time(0.7),
    ),
    Goal {
        subject: FUTEX,
        ..goal(
            "S5b",
            Against::Row("compio-sync Intrusive"),
            Measure::Time(2.5),
        )
    },
    Goal {
        subject: FUTEX,
        ..goal(
            "S3",
            Against::Row("compio-sync Intrusive"),
            Measure::Time(3.0),
        )
    },
    Goal {
        subject: FUTEX,
        ..goal("S7", TOKIO, Measure::AllocsPerWait(1.0))
    },
    // S10 (the single-thread flavors): at most half the thread-safe
    // default's time, and ahead of every peer (the local peers and tokio).
    local_goal("S10_S1", LOCAL_VS_THREAD_SAFE),
    local_goal("S10_S1", LOCAL_VS_PEERS),
    local_goal("S10_S2", LOCAL_VS_THREAD_SAFE),
    local_goal("S10_S2", LOCAL_VS_PEERS),
    local_goal("S10_S3", LOCAL_VS_THREAD_SAFE),
    local_goal("S10_S3", LOCAL_VS_PEERS),
    local_goal("S10_S5b", LOCAL_VS_THREAD_SAFE),
    local_goal("S10_S5b", LOCAL_VS_PEERS),
    local_goal("S10_S6", LOCAL_VS_THREAD_SAFE),
    local_goal("S10_S6", LOCAL_VS_PEERS),
];

const LOCAL_VS_THREAD_SAFE: (Against, Measure) =
    (Against::Row(registry::LOCAL_BASELINE), Measure::Time(0.5));
const LOCAL_VS_PEERS: (Against, Measure) = (Against::BestPeer, Measure::Time(1.0));

/// A goal of S10, whose row under test is `compio-sync local`.
const fn local_goal(scenario: &'static str, (against, measure): (Against, Measure)) -> Goal {
    Goal {
        subject: Some("local"),
        ..goal(scenario, against, measure)
    }
}

fn ours(backend: &str) -> String {
    format!("compio-sync {backend}")
}

/// The verdict on one goal: the row under test, what it is held to, what was
/// measured, and whether it passed (`None`: rows missing).
fn judge(goal: &Goal, id: &str, results: &[BenchResult]) -> (String, String, String, Option<bool>) {
    let subject = goal.subject.map_or_else(registry::default_backend, ours);
    let result = results.iter().find(|r| r.case.id == id);
    let row = result.and_then(|r| r.row(&subject));
    let reference: Option<&Row> = result.and_then(|r| match goal.against {
        Against::Row(name) => r.row(name),
        Against::BestPeer => r.best_peer(),
    });
    let reference_name = match (goal.against, reference) {
        (Against::Row(name), _) => name.to_owned(),
        (Against::BestPeer, Some(peer)) => format!("best peer ({})", peer.name),
        (Against::BestPeer, None) => "best peer".to_owned(),
    };
    let (target, measured, pass) = match goal.measure {
        Measure::Time(max) => {
            let ratio = row.zip(reference).map(|(a, b)| a.ns_per_op / b.ns_per_op);
            (
                format!("≤ {max}x {reference_name}"),
                ratio.map_or_else(|| "-".into(), |r| format!("{r:.2}x")),
                ratio.map(|r| r <= max),
            )
        }
        Measure::Tail => {
            let figures = row
                .zip(reference)
                .and_then(|(a, b)| Some((a.dist?, b.dist?)));
            (
                format!("wait p99 and p99.9 ≤ {reference_name}'s"),
                figures.map_or_else(
                    || "-".into(),
                    |(a, b)| {
                        format!(
                            "p99 {} vs {}, p99.9 {} vs {}",
                            human(a.p99),
                            human(b.p99),
                            human(a.p999),
                            human(b.p999)
                        )
                    },
                ),
                figures.map(|(a, b)| a.p99 <= b.p99 && a.p999 <= b.p999),
            )
        }
        Measure::TimeAndTail(max) => {
            let figures = row
                .zip(reference)
                .and_then(|(a, b)| Some((a.ns_per_op / b.ns_per_op, a.dist?, b.dist?)));
            (
                format!("≤ {max}x {reference_name}, wait p99 and p99.9 ≤ {reference_name}'s"),
                figures.map_or_else(
                    || "-".into(),
                    |(r, a, b)| {
                        format!(
                            "{r:.2}x; p99 {} vs {}, p99.9 {} vs {}",
                            human(a.p99),
                            human(b.p99),
                            human(a.p999),
                            human(b.p999)
                        )
                    },
                ),
                figures.map(|(r, a, b)| r <= max && a.p99 <= b.p99 && a.p999 <= b.p999),
            )
        }
        Measure::AllocsPerWait(max) => {
            let per_wait = row.and_then(|a| {
                let waited = a.waited_fraction?;
                Some(if waited > 0.0 {
                    a.allocs_per_op? / waited
                } else {
                    0.0
                })
            });
            (
                format!("≤ {max} allocation per acquire that waited"),
                per_wait.map_or_else(|| "-".into(), |v| format!("{v:.2}")),
                per_wait.map(|v| v <= max),
            )
        }
    };
    (subject, target, measured, pass)
}

fn human(ns: u64) -> String {
    crate::harness::report::human_ns(ns as f64)
}

/// The goals as a Markdown section, also printed to stdout.
pub fn section(results: &[BenchResult]) -> String {
    let mut out = String::from(
        "## Goals\n\n\
         The performance goals of the issues, each against its reference from this same run.\n\n\
         | scenario | row | goal | measured | result |\n|---|---|---|---|---|\n",
    );
    println!("\ngoals:");
    for goal in GOALS {
        let ids: Vec<&str> = if goal.every {
            results
                .iter()
                .map(|r| r.case.id.as_str())
                .filter(|id| id.starts_with(goal.scenario))
                .collect()
        } else {
            vec![goal.scenario]
        };
        for id in ids {
            let (subject, target, measured, pass) = judge(goal, id, results);
            let verdict = match pass {
                Some(true) => "pass",
                Some(false) => "FAIL",
                None => "n/a",
            };
            println!("  {id:<9} {subject:<26} {target:<60} {measured:<40} {verdict}");
            let _ = writeln!(
                out,
                "| {id} | {subject} | {target} | {measured} | {verdict} |"
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{
        Bench, Case, Columns, Role, Sample,
        report::{BenchResult, Row},
    };

    fn result(id: &str, rows: &[(&'static str, Role, f64)]) -> BenchResult {
        let bench = Bench {
            case: Case {
                id: id.into(),
                title: id.into(),
                columns: Columns::NS_PER_OP,
                warmup: false,
                max_repeats: None,
            },
            baseline: registry::TOKIO,
            ratio_label: "x tokio",
            candidates: Vec::new(),
        };
        let rows = rows
            .iter()
            .map(|&(name, role, ns)| {
                let sample = Sample {
                    ns_per_op: ns,
                    ..Sample::default()
                };
                Row::aggregate(name, role, &[sample])
            })
            .collect();
        BenchResult::new(&bench, rows, 0.0)
    }

    #[test]
    fn goals_compare_the_default_backend_with_the_best_peer_never_the_floor() {
        let ours: &'static str = registry::default_backend().leak();
        let results = [result(
            "S3",
            &[
                (ours, Role::Ours, 60.0),
                (registry::TOKIO, Role::Peer, 200.0),
                ("fast peer", Role::Peer, 100.0),
                (registry::FLOOR, Role::Floor, 20.0),
            ],
        )];
        let s3 = GOALS
            .iter()
            .find(|g| g.scenario == "S3" && g.subject.is_none());
        let (subject, target, measured, pass) = judge(s3.unwrap(), "S3", &results);
        assert_eq!(subject, ours);
        assert!(target.contains("fast peer"), "{target}");
        assert_eq!((measured.as_str(), pass), ("0.60x", Some(true)));
        let s1 = GOALS.iter().find(|g| g.scenario == "S1").unwrap();
        assert_eq!(judge(s1, "S1", &results).3, None, "S1 did not run");
    }
}
