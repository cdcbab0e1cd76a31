//! Aggregation over repeats (medians), ratios, and the text table and JSON
//! outputs.

use serde_json::{Value, json};

use super::{
    bench::{Bench, Case, Role},
    sample::{Dist, Sample},
};

/// One line of the results: one candidate in one scenario, aggregated over
/// the repeats.
#[derive(Clone, Debug)]
pub struct Row {
    /// Candidate name.
    pub name: &'static str,
    /// What the row stands for.
    pub role: Role,
    /// Number of repeats aggregated.
    pub reps: usize,
    /// Median ns per operation (NaN if hung).
    pub ns_per_op: f64,
    /// Ns per operation of each repeat, in the order they ran. Every repeat
    /// runs each candidate once, in one round, so the k-th values of two
    /// rows of a scenario were measured close together: their ratio is a
    /// paired one (see `goals`).
    pub ns_by_repeat: Vec<f64>,
    /// `ns_per_op` divided by the baseline's, in the same scenario.
    pub ratio: Option<f64>,
    /// The distribution: median p50, p99 and p99.9 over repeats, and the max
    /// over all repeats.
    pub dist: Option<Dist>,
    /// Median allocations per operation.
    pub allocs_per_op: Option<f64>,
    /// Median share of operations that had to wait.
    pub waited_fraction: Option<f64>,
    /// Medians of the runs' extra figures.
    pub extras: Vec<(&'static str, f64)>,
    /// The candidate hung in this scenario: what it had done by then. Its
    /// numbers are then not reported.
    pub hung: Option<String>,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn median_of(samples: &[Sample], get: impl Fn(&Sample) -> Option<f64>) -> Option<f64> {
    let values: Vec<f64> = samples.iter().filter_map(get).collect();
    (!values.is_empty()).then(|| median(values))
}

/// Median p50, p99 and p99.9 over repeats, and the max over all repeats.
fn aggregate_dist(samples: &[Sample]) -> Option<Dist> {
    let dists: Vec<Dist> = samples.iter().filter_map(|s| s.dist).collect();
    if dists.is_empty() {
        return None;
    }
    let med = |get: fn(&Dist) -> u64| median(dists.iter().map(|d| get(d) as f64).collect()) as u64;
    Some(Dist {
        p50: med(|d| d.p50),
        p99: med(|d| d.p99),
        p999: med(|d| d.p999),
        max: dists.iter().map(|d| d.max).max().unwrap_or(0),
    })
}

impl Row {
    /// Aggregates the repeats of one candidate.
    pub fn aggregate(name: &'static str, role: Role, samples: &[Sample]) -> Self {
        let mut keys: Vec<&'static str> = Vec::new();
        for (key, _) in samples.iter().flat_map(|s| &s.extras) {
            if !keys.contains(key) {
                keys.push(key);
            }
        }
        let extras = keys
            .into_iter()
            .filter_map(|key| {
                let value = median_of(samples, |s| {
                    s.extras.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
                })?;
                Some((key, value))
            })
            .collect();
        Self {
            name,
            role,
            reps: samples.len(),
            ns_per_op: median(samples.iter().map(|s| s.ns_per_op).collect()),
            ns_by_repeat: samples.iter().map(|s| s.ns_per_op).collect(),
            ratio: None,
            dist: aggregate_dist(samples),
            allocs_per_op: median_of(samples, |s| s.allocs_per_op),
            waited_fraction: median_of(samples, |s| s.waited_fraction),
            extras,
            hung: None,
        }
    }

    /// A candidate that hung after `completed` repeats.
    pub fn hung(name: &'static str, role: Role, completed: usize, progress: String) -> Self {
        Self {
            hung: Some(progress),
            reps: completed,
            ..Self::aggregate(name, role, &[])
        }
    }

    /// The median time, unless the row hung.
    pub fn time(&self) -> Option<f64> {
        self.hung.is_none().then_some(self.ns_per_op)
    }
}

/// The results of one scenario.
#[derive(Clone, Debug)]
pub struct BenchResult {
    /// The scenario.
    pub case: Case,
    /// The candidate every ratio is taken against.
    pub baseline: &'static str,
    /// Label of the ratio column.
    pub ratio_label: &'static str,
    /// One row per candidate, in registry order.
    pub rows: Vec<Row>,
    /// Wall time of the whole scenario, in seconds.
    pub seconds: f64,
}

impl BenchResult {
    /// Collects `rows` of `bench` and fills in their ratios.
    pub fn new(bench: &Bench, mut rows: Vec<Row>, seconds: f64) -> Self {
        let base = rows
            .iter()
            .find(|r| r.name == bench.baseline)
            .and_then(Row::time);
        for row in &mut rows {
            row.ratio = base.zip(row.time()).map(|(b, t)| t / b);
        }
        Self {
            case: bench.case.clone(),
            baseline: bench.baseline,
            ratio_label: bench.ratio_label,
            rows,
            seconds,
        }
    }

    /// The baseline's row, if it did not hang.
    pub fn baseline_row(&self) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.name == self.baseline && r.hung.is_none())
    }

    /// The fastest row with role `role` that did not hang.
    pub fn fastest(&self, role: Role) -> Option<&Row> {
        self.rows
            .iter()
            .filter(|r| r.role == role && r.hung.is_none())
            .min_by(|a, b| a.ns_per_op.total_cmp(&b.ns_per_op))
    }

    /// The fastest peer (never the floor, never compio-sync).
    pub fn best_peer(&self) -> Option<&Row> {
        self.fastest(Role::Peer)
    }

    /// The floor row, if the scenario has one.
    pub fn floor(&self) -> Option<&Row> {
        self.rows.iter().find(|r| r.role == Role::Floor)
    }

    /// The highest floor row that did not hang (a scenario with a wake
    /// floor has two floors; the higher one is the tighter bound on what any
    /// implementation can cost).
    pub fn highest_floor(&self) -> Option<&Row> {
        self.rows
            .iter()
            .filter(|r| r.role == Role::Floor && r.hung.is_none())
            .max_by(|a, b| a.ns_per_op.total_cmp(&b.ns_per_op))
    }

    /// What the summaries show of this scenario: the Markdown report's and
    /// the one at the end of the run.
    pub fn headline(&self) -> Headline<'_> {
        let best_ours = self.fastest(Role::Ours);
        let best_peer = self.best_peer();
        Headline {
            baseline: self.baseline_row(),
            best_peer,
            best_ours,
            x_baseline: best_ours.and_then(|o| o.ratio),
            x_best_peer: best_ours
                .zip(best_peer)
                .map(|(o, p)| o.ns_per_op / p.ns_per_op),
            floor: self.floor().filter(|f| f.hung.is_none()),
        }
    }

    /// The row named `name`, unless it hung.
    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.name == name && r.hung.is_none())
    }
}

/// One scenario in a summary line: the rows that did not hang among its
/// baseline, fastest peer, fastest compio-sync row under the default policy
/// and floor, and that compio-sync row's ratios.
#[derive(Clone, Copy, Debug)]
pub struct Headline<'a> {
    /// The baseline's row.
    pub baseline: Option<&'a Row>,
    /// The fastest peer (never the floor, never compio-sync).
    pub best_peer: Option<&'a Row>,
    /// The fastest compio-sync row under its default policy.
    pub best_ours: Option<&'a Row>,
    /// `best_ours`'s time over the baseline's.
    pub x_baseline: Option<f64>,
    /// `best_ours`'s time over `best_peer`'s.
    pub x_best_peer: Option<f64>,
    /// The floor (the loop with no synchronization), if the scenario has one.
    pub floor: Option<&'a Row>,
}

/// Nanoseconds, human-scaled.
pub fn human_ns(ns: f64) -> String {
    if ns < 10.0 {
        format!("{ns:.1}ns")
    } else if ns < 1e3 {
        format!("{ns:.0}ns")
    } else if ns < 1e6 {
        format!("{:.1}µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2}ms", ns / 1e6)
    } else {
        format!("{:.2}s", ns / 1e9)
    }
}

const NAME_WIDTH: usize = 37;

/// The header line of the text table of `bench`.
pub fn table_header(bench: &Bench) -> String {
    let columns = bench.case.columns;
    let prefix = columns.dist.map_or("wait", |d| d.short());
    format!(
        "  {:<NAME_WIDTH$} {:>10} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10} {:>7}",
        "implementation",
        columns.time,
        bench.ratio_label,
        format!("{prefix} p50"),
        format!("{prefix} p99"),
        "p99.9",
        format!("{prefix} max"),
        "allocs/op",
        "waited"
    )
}

/// One line of the text table.
pub fn table_line(row: &Row) -> String {
    if let Some(progress) = &row.hung {
        return format!(
            "  {:<NAME_WIDTH$} {:>10} after {} complete repeat(s): {progress}",
            row.name, "HANG", row.reps
        );
    }
    let dash = || "-".to_string();
    let ratio = row.ratio.map_or_else(dash, |r| format!("{r:.2}"));
    let (p50, p99, p999, max) = row.dist.map_or_else(
        || (dash(), dash(), dash(), dash()),
        |w| {
            let h = |ns: u64| human_ns(ns as f64);
            (h(w.p50), h(w.p99), h(w.p999), h(w.max))
        },
    );
    let allocs = row.allocs_per_op.map_or_else(dash, |a| format!("{a:.3}"));
    let waited = row
        .waited_fraction
        .map_or_else(dash, |f| format!("{:.1}%", f * 100.0));
    format!(
        "  {:<NAME_WIDTH$} {:>10.1} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10} {:>7}",
        row.name, row.ns_per_op, ratio, p50, p99, p999, max, allocs, waited
    )
}

/// The whole run as JSON: `meta` as given, then one object per row.
pub fn json(meta: Value, results: &[BenchResult]) -> Value {
    let mut rows = Vec::new();
    for result in results {
        let best_peer = result.best_peer().map(|r| r.ns_per_op);
        for r in &result.rows {
            let mut row = json!({
                "scenario": result.case.id,
                "scenario_description": result.case.title,
                "implementation": r.name,
                "role": r.role.as_str(),
                "ours": r.role.is_ours(),
                "repeats": r.reps,
                "hung": r.hung,
                "ns_per_op": r.time(),
                "ns_per_op_by_repeat": r.ns_by_repeat,
                "ratio_to_tokio": r.ratio,
                "ratio_baseline": result.baseline,
                "ratio_to_best_peer": best_peer.zip(r.time()).map(|(b, t)| t / b),
                "allocs_per_op": r.allocs_per_op,
                "waited_fraction": r.waited_fraction,
            });
            let object = row.as_object_mut().expect("an object");
            if let (Some(kind), Some(d)) = (result.case.columns.dist, r.dist) {
                let key = kind.key();
                for (q, v) in [
                    ("p50", d.p50),
                    ("p99", d.p99),
                    ("p999", d.p999),
                    ("max", d.max),
                ] {
                    object.insert(format!("{key}_{q}_ns"), v.into());
                }
            }
            for &(key, value) in &r.extras {
                object.insert(key.into(), value.into());
            }
            rows.push(row);
        }
    }
    json!({ "meta": meta, "rows": rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ns: f64, p99: u64) -> Sample {
        Sample {
            ns_per_op: ns,
            dist: Some(Dist {
                p50: 1,
                p99,
                p999: p99,
                max: p99,
            }),
            extras: vec![("items_per_round", ns)],
            ..Sample::default()
        }
    }

    #[test]
    fn rows_take_medians_and_the_max_of_maxima() {
        let row = Row::aggregate(
            "x",
            Role::Peer,
            &[sample(3.0, 30), sample(1.0, 10), sample(2.0, 20)],
        );
        assert_eq!(row.ns_per_op, 2.0);
        let dist = row.dist.unwrap();
        assert_eq!((dist.p99, dist.max), (20, 30));
        assert_eq!(row.extras, vec![("items_per_round", 2.0)]);
    }

    #[test]
    fn the_floor_is_never_the_best_peer() {
        let bench = Bench {
            case: Case {
                id: "T".into(),
                title: "test".into(),
                columns: super::super::bench::Columns::NS_PER_OP,
                warmup: false,
                max_repeats: None,
            },
            baseline: "base",
            ratio_label: "x base",
            candidates: Vec::new(),
        };
        let rows = vec![
            Row::aggregate("base", Role::Peer, &[sample(10.0, 1)]),
            Row::aggregate("other", Role::Peer, &[sample(8.0, 1)]),
            Row::aggregate("floor", Role::Floor, &[sample(1.0, 1)]),
            Row::aggregate("ours", Role::Ours, &[sample(5.0, 1)]),
        ];
        let result = BenchResult::new(&bench, rows, 0.0);
        assert_eq!(result.best_peer().unwrap().name, "other");
        assert_eq!(result.floor().unwrap().name, "floor");
        assert_eq!(result.row("ours").unwrap().ratio, Some(0.5));
    }
}
