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

/// The verdict on one goal in one scenario of the run.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// The scenario's id.
    pub scenario: String,
    /// The row under test.
    pub subject: String,
    /// What it is held to, in words.
    pub target: String,
    /// What was measured, in words ("-" if rows are missing).
    pub measured: String,
    /// Both, compact, for the summary screen ("≤0.6x tokio: 0.55x").
    pub brief: String,
    /// Whether it passed (`None`: rows missing).
    pub pass: Option<bool>,
}

impl Verdict {
    /// "pass", "FAIL" or "n/a".
    pub fn word(&self) -> &'static str {
        match self.pass {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "n/a",
        }
    }
}

/// A row's name without the crate's own prefix, for the compact forms.
pub fn short(name: &str) -> &str {
    name.strip_prefix("compio-sync ").unwrap_or(name)
}

/// What a floor row times, in words, for the below-the-floor note.
fn floor_loop(name: &str) -> &'static str {
    match name {
        registry::WAKE_FLOOR => "the loop with one task-to-task wake per yield",
        registry::FANOUT_FLOOR => "the round with one bare wake-up per receiver and no channel",
        registry::ATOMIC_FLOOR => "the loop with one atomic compare-and-swap and one atomic add",
        _ => "the loop with no synchronization",
    }
}

/// A time ratio repeat by repeat: the k-th repeat of the row under test
/// against the k-th of the reference (they ran in the same round). Shows how
/// much of a verdict is noise.
struct PerRepeat {
    low: f64,
    high: f64,
    /// Repeats whose ratio met the goal.
    within: usize,
    repeats: usize,
}

impl PerRepeat {
    /// `None` with fewer than two paired repeats.
    fn of(row: &Row, reference: &Row, max: f64) -> Option<Self> {
        let ratios: Vec<f64> = row
            .ns_by_repeat
            .iter()
            .zip(&reference.ns_by_repeat)
            .map(|(a, b)| a / b)
            .collect();
        (ratios.len() >= 2).then(|| Self {
            low: ratios.iter().copied().fold(f64::INFINITY, f64::min),
            high: ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            within: ratios.iter().filter(|&&r| r <= max).count(),
            repeats: ratios.len(),
        })
    }

    /// " (per repeat 0.55-0.71x, within the goal in 5 of 7)".
    fn long(&self) -> String {
        format!(
            " (per repeat {:.2}-{:.2}x, within the goal in {} of {})",
            self.low, self.high, self.within, self.repeats
        )
    }

    /// ", 5/7 repeats" (the summary screen's form).
    fn brief(&self) -> String {
        format!(", {}/{} repeats", self.within, self.repeats)
    }
}

/// The verdict on `goal` in scenario `id`.
fn judge(goal: &Goal, id: &str, results: &[BenchResult]) -> Verdict {
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
    let brief_reference = match goal.against {
        Against::Row(name) => short(name),
        Against::BestPeer => "best peer",
    };
    let ratio = |r: Option<f64>| r.map_or_else(|| "-".into(), |r| format!("{r:.2}x"));
    // A time goal that asks for less time than the same loop with no
    // synchronization at all (or, where the scenario has one, with the
    // wake-ups that any waking primitive pays) cannot be met: say so beside
    // the figure (the verdict stays what it is).
    let below_floor = |max: f64| {
        let floor = result.and_then(BenchResult::highest_floor);
        reference.zip(floor).and_then(|(b, f)| {
            let goal_ns = max * b.ns_per_op;
            (goal_ns < f.ns_per_op).then(|| {
                format!(
                    " (goal below the floor: {max}x is {}, {} takes {})",
                    crate::harness::report::human_ns(goal_ns),
                    floor_loop(f.name),
                    crate::harness::report::human_ns(f.ns_per_op)
                )
            })
        })
    };
    let tag = |below_floor: &Option<String>| {
        if below_floor.is_some() {
            " (below floor)"
        } else {
            ""
        }
    };
    // The per-repeat note of a time goal, long and brief ("" with one repeat).
    let per_repeat = |max: f64| {
        row.zip(reference)
            .and_then(|(a, b)| PerRepeat::of(a, b, max))
            .map(|p| (p.long(), p.brief()))
            .unwrap_or_default()
    };
    let (target, measured, brief, pass) = match goal.measure {
        Measure::Time(max) => {
            let r = row.zip(reference).map(|(a, b)| a.ns_per_op / b.ns_per_op);
            let below_floor = below_floor(max);
            let (spread, spread_brief) = per_repeat(max);
            (
                format!("≤ {max}x {reference_name}"),
                format!(
                    "{}{spread}{}",
                    ratio(r),
                    below_floor.clone().unwrap_or_default()
                ),
                format!(
                    "≤{max}x {brief_reference}: {}{spread_brief}{}",
                    ratio(r),
                    tag(&below_floor)
                ),
                r.map(|r| r <= max),
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
                format!("tail ≤ {brief_reference}'s"),
                figures.map(|(a, b)| a.p99 <= b.p99 && a.p999 <= b.p999),
            )
        }
        Measure::TimeAndTail(max) => {
            let figures = row
                .zip(reference)
                .and_then(|(a, b)| Some((a.ns_per_op / b.ns_per_op, a.dist?, b.dist?)));
            let below_floor = below_floor(max);
            let (spread, spread_brief) = per_repeat(max);
            (
                format!("≤ {max}x {reference_name}, wait p99 and p99.9 ≤ {reference_name}'s"),
                figures.map_or_else(
                    || "-".into(),
                    |(r, a, b)| {
                        format!(
                            "{r:.2}x{spread}{}; p99 {} vs {}, p99.9 {} vs {}",
                            below_floor.clone().unwrap_or_default(),
                            human(a.p99),
                            human(b.p99),
                            human(a.p999),
                            human(b.p999)
                        )
                    },
                ),
                format!(
                    "≤{max}x {brief_reference} and tail: {}{spread_brief}{}",
                    ratio(figures.map(|(r, ..)| r)),
                    tag(&below_floor)
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
            let measured = per_wait.map_or_else(|| "-".into(), |v| format!("{v:.2}"));
            (
                format!("≤ {max} allocation per acquire that waited"),
                measured.clone(),
                format!("≤{max} alloc/wait: {measured}"),
                per_wait.map(|v| v <= max),
            )
        }
    };
    // The row under test is named when it is not the default backend.
    let brief = match goal.subject {
        Some(backend) => format!("{backend} {brief}"),
        None => brief,
    };
    Verdict {
        scenario: id.to_owned(),
        subject,
        target,
        measured,
        brief,
        pass,
    }
}

fn human(ns: u64) -> String {
    crate::harness::report::human_ns(ns as f64)
}

/// Every goal's verdict on `results`, in the order of the goals: a goal for
/// every scenario of a prefix gets one verdict per scenario of the run.
pub fn verdicts(results: &[BenchResult]) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
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
        verdicts.extend(ids.into_iter().map(|id| judge(goal, id, results)));
    }
    verdicts
}

/// The verdicts as the report's Markdown section.
pub fn section(verdicts: &[Verdict]) -> String {
    let mut out = String::from(
        "## Goals\n\n\
         The performance goals of the issues, each against its reference from this same run. \
         A time ratio is of medians over repeats; \"per repeat\" pairs each repeat with the \
         reference's repeat of the same round (every round runs each implementation once): the \
         range of those ratios, and in how many the goal was met.\n\n\
         | scenario | row | goal | measured | result |\n|---|---|---|---|---|\n",
    );
    for v in verdicts {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            v.scenario,
            v.subject,
            v.target,
            v.measured,
            v.word()
        );
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::harness::{
        Bench, Case, Columns, Role, Sample,
        report::{BenchResult, Row},
    };

    /// A result of scenario `id` with one sample per row: (name, role, ns/op).
    pub(crate) fn result(id: &str, rows: &[(&'static str, Role, f64)]) -> BenchResult {
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

    /// The verdict on S3's goal for the default backend (its row, at
    /// `ours_ns`, added to `rows`).
    fn judge_s3(ours_ns: f64, rows: &[(&'static str, Role, f64)]) -> Verdict {
        let ours: &'static str = registry::default_backend().leak();
        let mut all = vec![(ours, Role::Ours, ours_ns)];
        all.extend_from_slice(rows);
        let results = [result("S3", &all)];
        let s3 = GOALS
            .iter()
            .find(|g| g.scenario == "S3" && g.subject.is_none());
        judge(s3.unwrap(), "S3", &results)
    }

    /// With several repeats, a time goal's figure comes with the paired
    /// ratio of each repeat: the k-th repeat of the row under test against
    /// the k-th of the reference (the median ratio alone hides whether the
    /// verdict is noise).
    #[test]
    fn a_time_goal_shows_its_ratio_repeat_by_repeat() {
        let ours: &'static str = registry::default_backend().leak();
        let samples = |ns: &[f64]| -> Vec<Sample> {
            ns.iter()
                .map(|&ns_per_op| Sample {
                    ns_per_op,
                    ..Sample::default()
                })
                .collect()
        };
        let mut results = [result("S1", &[])];
        results[0].rows = vec![
            Row::aggregate(ours, Role::Ours, &samples(&[50.0, 70.0, 65.0])),
            Row::aggregate(
                registry::TOKIO,
                Role::Peer,
                &samples(&[100.0, 100.0, 130.0]),
            ),
        ];
        let s1 = GOALS.iter().find(|g| g.scenario == "S1").unwrap();
        let verdict = judge(s1, "S1", &results);
        // Medians 65 / 100; per repeat 0.5, 0.7 and 0.5, two within 0.6x.
        assert_eq!(
            verdict.measured,
            "0.65x (per repeat 0.50-0.70x, within the goal in 2 of 3)"
        );
        assert_eq!(verdict.pass, Some(false));
        assert_eq!(verdict.brief, "≤0.6x tokio: 0.65x, 2/3 repeats");
        // One repeat each: no spread to show.
        let results = [result(
            "S1",
            &[
                (ours, Role::Ours, 50.0),
                (registry::TOKIO, Role::Peer, 100.0),
            ],
        )];
        assert_eq!(judge(s1, "S1", &results).measured, "0.50x");
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
        let verdict = judge(s3.unwrap(), "S3", &results);
        assert_eq!(verdict.subject, ours);
        assert!(verdict.target.contains("fast peer"), "{}", verdict.target);
        assert_eq!(
            (verdict.measured.as_str(), verdict.pass),
            ("0.60x", Some(true))
        );
        assert_eq!(verdict.brief, "≤0.7x best peer: 0.60x");
        let s1 = GOALS.iter().find(|g| g.scenario == "S1").unwrap();
        assert_eq!(judge(s1, "S1", &results).pass, None, "S1 did not run");
    }

    #[test]
    fn a_time_goal_below_the_floor_says_so_and_keeps_its_verdict() {
        // 0.7x the best peer's 100 ns is 70 ns, under the floor's 80 ns.
        let verdict = judge_s3(
            90.0,
            &[
                ("fast peer", Role::Peer, 100.0),
                (registry::FLOOR, Role::Floor, 80.0),
            ],
        );
        assert_eq!(verdict.pass, Some(false));
        assert!(
            verdict
                .measured
                .starts_with("0.90x (goal below the floor: 0.7x is 70"),
            "{}",
            verdict.measured
        );
        assert!(
            verdict.measured.contains("takes 80"),
            "{}",
            verdict.measured
        );
        assert_eq!(verdict.brief, "≤0.7x best peer: 0.90x (below floor)");
    }

    #[test]
    fn the_wake_floor_bounds_a_time_goal_where_the_scenario_has_one() {
        let floors = [
            (registry::FLOOR, Role::Floor, 20.0),
            (registry::WAKE_FLOOR, Role::Floor, 75.0),
        ];
        // 0.7x the best peer's 100 ns is 70 ns: above the no-sync floor's
        // 20 ns, under the wake floor's 75 ns.
        let verdict = judge_s3(
            90.0,
            &[&[("fast peer", Role::Peer, 100.0)], &floors[..]].concat(),
        );
        assert_eq!(verdict.pass, Some(false));
        assert!(
            verdict
                .measured
                .contains("0.7x is 70ns, the loop with one task-to-task wake per yield takes 75ns"),
            "{}",
            verdict.measured
        );
        // Each floor row says what it times.
        assert_eq!(
            floor_loop(registry::ATOMIC_FLOOR),
            "the loop with one atomic compare-and-swap and one atomic add"
        );
        // Above both floors: no note.
        let verdict = judge_s3(
            90.0,
            &[&[("fast peer", Role::Peer, 200.0)], &floors[..]].concat(),
        );
        assert_eq!(
            (verdict.measured.as_str(), verdict.pass),
            ("0.45x", Some(true))
        );
    }

    /// The fan-out's goal has a tail half too; its floor note shows all the
    /// same (here 0.8x tokio's 100 ns is 80 ns, under the bare round's 90).
    #[test]
    fn the_fanout_floor_bounds_the_time_half_of_a_time_and_tail_goal() {
        let ours: &'static str = registry::default_backend().leak();
        let with_tail = |name, role, ns: f64, tail: u64| {
            let sample = Sample {
                ns_per_op: ns,
                ..Sample::default()
            }
            .with_dist(&[tail; 10]);
            Row::aggregate(name, role, &[sample])
        };
        let mut results = [result(
            "S12b_t2",
            &[(registry::FANOUT_FLOOR, Role::Floor, 90.0)],
        )];
        results[0].rows.extend([
            with_tail(ours, Role::Ours, 95.0, 1_000),
            with_tail(registry::TOKIO, Role::Peer, 100.0, 2_000),
        ]);
        let goal = GOALS.iter().find(|g| g.scenario == "S12b_t2").unwrap();
        let verdict = judge(goal, "S12b_t2", &results);
        assert_eq!(verdict.pass, Some(false));
        assert!(
            verdict.measured.starts_with(
                "0.95x (goal below the floor: 0.8x is 80ns, the round with one bare wake-up per \
                 receiver and no channel takes 90ns); p99 "
            ),
            "{}",
            verdict.measured
        );
        assert_eq!(verdict.brief, "≤0.8x tokio and tail: 0.95x (below floor)");
    }
}
