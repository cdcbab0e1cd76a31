//! Aggregation over repeats, and the three outputs: text table, JSON, SVG.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::scenarios::{Sample, Scenario, Waits};

/// One line of the results: one implementation in one scenario, aggregated
/// over the repeats.
#[derive(Clone, Debug)]
pub struct Row {
    /// The scenario.
    pub scenario: Scenario,
    /// Implementation name.
    pub name: &'static str,
    /// Whether it is one of compio-sync's primitives.
    pub ours: bool,
    /// Number of repeats aggregated.
    pub reps: usize,
    /// Median ns per operation.
    pub ns_per_op: f64,
    /// `ns_per_op` divided by the baseline's, in the same scenario.
    pub ratio: Option<f64>,
    /// The implementation `ratio` is taken against.
    pub baseline: &'static str,
    /// S4 acquire waits: median p50, p99 and p99.9 over repeats, and the max
    /// over all repeats.
    pub waits: Option<Waits>,
    /// S5, S5b round trips, aggregated as `waits`.
    pub round_trips: Option<Waits>,
    /// Median allocations per acquire.
    pub allocs_per_acquire: Option<f64>,
    /// Median fraction of acquires (S8: consumer rounds) that had to wait.
    pub waited_fraction: Option<f64>,
    /// S8: median items the consumer took per round.
    pub items_per_round: Option<f64>,
    /// The implementation hung in this scenario: what it had done by then.
    /// Its numbers are then not reported.
    pub hung: Option<String>,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn median_of<T: Copy>(samples: &[Sample], get: impl Fn(&Sample) -> Option<T>) -> Option<f64>
where
    f64: From<T>,
{
    let values: Vec<f64> = samples
        .iter()
        .filter_map(|s| get(s).map(f64::from))
        .collect();
    (!values.is_empty()).then(|| median(values))
}

impl Row {
    /// Aggregates the repeats of one implementation in one scenario.
    pub fn aggregate(
        scenario: Scenario,
        name: &'static str,
        ours: bool,
        samples: &[Sample],
    ) -> Self {
        Self {
            scenario,
            name,
            ours,
            reps: samples.len(),
            ns_per_op: median(samples.iter().map(|s| s.ns_per_op).collect()),
            ratio: None,
            baseline: "",
            waits: aggregate_waits(samples, |s| s.waits),
            round_trips: aggregate_waits(samples, |s| s.round_trips),
            allocs_per_acquire: median_of(samples, |s| s.allocs_per_acquire),
            waited_fraction: median_of(samples, |s| s.waited_fraction),
            items_per_round: median_of(samples, |s| s.items_per_round),
            hung: None,
        }
    }

    /// An implementation that hung in `scenario` after `completed` repeats.
    pub fn hung(
        scenario: Scenario,
        name: &'static str,
        ours: bool,
        completed: usize,
        progress: String,
    ) -> Self {
        Self {
            scenario,
            name,
            ours,
            reps: completed,
            ns_per_op: f64::NAN,
            ratio: None,
            baseline: "",
            waits: None,
            round_trips: None,
            allocs_per_acquire: None,
            waited_fraction: None,
            items_per_round: None,
            hung: Some(progress),
        }
    }
}

/// Median p50, p99 and p99.9 over repeats, and the max over all repeats.
fn aggregate_waits(samples: &[Sample], get: impl Fn(&Sample) -> Option<Waits>) -> Option<Waits> {
    get(&samples[0])?;
    Some(Waits {
        p50: median_of(samples, |s| get(s).map(|w| w.p50 as f64)).unwrap_or(0.0) as u64,
        p99: median_of(samples, |s| get(s).map(|w| w.p99 as f64)).unwrap_or(0.0) as u64,
        p999: median_of(samples, |s| get(s).map(|w| w.p999 as f64)).unwrap_or(0.0) as u64,
        max: samples
            .iter()
            .filter_map(|s| get(s).map(|w| w.max))
            .max()
            .unwrap_or(0),
    })
}

/// Fills in `ratio` for every row of `rows` (one scenario) against `baseline`.
pub fn set_ratios(rows: &mut [Row], baseline: &'static str) {
    let base = rows
        .iter()
        .find(|r| r.name == baseline && r.hung.is_none())
        .map(|r| r.ns_per_op);
    for row in rows {
        row.ratio = base
            .filter(|_| row.hung.is_none())
            .map(|b| row.ns_per_op / b);
        row.baseline = baseline;
    }
}

/// Nanoseconds, human-scaled.
pub fn human_ns(ns: f64) -> String {
    if ns < 1e3 {
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

/// The header line of the text table for `scenario`. In S5/S5b the time
/// column is the mean round trip and the distribution columns are single
/// round trips; in S8 the time is per item and "waited" is the share of the
/// consumer's rounds (wait while empty, then drain) that returned `Pending`
/// at least once.
pub fn table_header(scenario: Scenario) -> String {
    let (time, p50, p99, max) = match scenario {
        s if s.is_ping_pong() => ("mean rt", "rt p50", "rt p99", "rt max"),
        Scenario::S8 => ("ns/item", "wait p50", "wait p99", "wait max"),
        _ => ("ns/op", "wait p50", "wait p99", "wait max"),
    };
    format!(
        "  {:<NAME_WIDTH$} {:>10} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10} {:>7}",
        "implementation", time, "x tokio", p50, p99, "p99.9", max, "allocs/acq", "waited"
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
    let (p50, p99, p999, max) = row.waits.or(row.round_trips).map_or_else(
        || (dash(), dash(), dash(), dash()),
        |w| {
            let h = |ns: u64| human_ns(ns as f64);
            (h(w.p50), h(w.p99), h(w.p999), h(w.max))
        },
    );
    let allocs = row
        .allocs_per_acquire
        .map_or_else(dash, |a| format!("{a:.3}"));
    let waited = row
        .waited_fraction
        .map_or_else(dash, |f| format!("{:.1}%", f * 100.0));
    format!(
        "  {:<NAME_WIDTH$} {:>10.1} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10} {:>7}",
        row.name, row.ns_per_op, ratio, p50, p99, p999, max, allocs, waited
    )
}

/// The whole run as JSON.
pub fn json(meta: Value, rows: &[Row]) -> Value {
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "scenario": r.scenario.id(),
                "scenario_description": r.scenario.describe(),
                "implementation": r.name,
                "ours": r.ours,
                "repeats": r.reps,
                "hung": r.hung,
                "ns_per_op": r.hung.is_none().then_some(r.ns_per_op),
                "ratio_to_tokio": r.ratio,
                "ratio_baseline": r.baseline,
                "round_trip_p50_ns": r.round_trips.map(|w| w.p50),
                "round_trip_p99_ns": r.round_trips.map(|w| w.p99),
                "round_trip_p999_ns": r.round_trips.map(|w| w.p999),
                "round_trip_max_ns": r.round_trips.map(|w| w.max),
                "wait_p50_ns": r.waits.map(|w| w.p50),
                "wait_p99_ns": r.waits.map(|w| w.p99),
                "wait_p999_ns": r.waits.map(|w| w.p999),
                "wait_max_ns": r.waits.map(|w| w.max),
                "allocs_per_acquire": r.allocs_per_acquire,
                "waited_fraction": r.waited_fraction,
                "items_per_round": r.items_per_round,
            })
        })
        .collect();
    json!({ "meta": meta, "rows": rows })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal bar chart, one panel per scenario: ns/op (S7: allocations
/// per acquire). Bars longer than 8x the panel's baseline are cut and marked.
pub fn svg(title: &str, scenarios: &[Scenario], rows: &[Row]) -> String {
    const WIDTH: f64 = 1180.0;
    const LABEL: f64 = 230.0;
    const BAR_AREA: f64 = 560.0;
    const BAR: f64 = 14.0;
    const GAP: f64 = 4.0;
    const PANEL_HEAD: f64 = 34.0;
    let mut body = String::new();
    let mut y = 40.0;
    for &scenario in scenarios {
        let panel: Vec<&Row> = rows.iter().filter(|r| r.scenario == scenario).collect();
        if panel.is_empty() {
            continue;
        }
        let allocs = scenario == Scenario::S7;
        let value = |r: &Row| {
            if allocs {
                r.allocs_per_acquire.unwrap_or(0.0)
            } else {
                r.ns_per_op
            }
        };
        let unit = if allocs {
            "allocations per acquire"
        } else if scenario.is_ping_pong() {
            "mean ns per round trip"
        } else if scenario == Scenario::S8 {
            "ns per item"
        } else {
            "ns per operation"
        };
        let base = panel
            .iter()
            .find(|r| r.ratio == Some(1.0))
            .map(|r| value(r))
            .filter(|v| *v > 0.0);
        let max = panel
            .iter()
            .filter(|r| r.hung.is_none())
            .map(|r| value(r))
            .fold(0.0, f64::max);
        let cap = base.map_or(max, |b| max.min(8.0 * b)).max(1e-9);
        let _ = writeln!(
            body,
            r##"<text x="10" y="{:.0}" font-size="14" font-weight="bold">{} <tspan font-weight="normal" fill="#555">({unit})</tspan></text>"##,
            y + 18.0,
            escape(&scenario.describe())
        );
        y += PANEL_HEAD;
        for row in panel {
            if let Some(progress) = &row.hung {
                let _ = writeln!(
                    body,
                    r#"<text x="{:.0}" y="{:.0}" font-size="12" text-anchor="end">{}</text>"#,
                    LABEL - 6.0,
                    y + BAR - 3.0,
                    escape(row.name)
                );
                let _ = writeln!(
                    body,
                    r##"<text x="{LABEL:.0}" y="{:.0}" font-size="11" font-weight="bold" fill="#c53030">HANG (lost wakeup or deadlock): {}</text>"##,
                    y + BAR - 3.0,
                    escape(progress)
                );
                y += BAR + GAP;
                continue;
            }
            let v = value(row);
            let cut = v > cap * 1.0001;
            let len = (v.min(cap) / cap * BAR_AREA).max(1.0);
            let color = match (row.ours, row.name.ends_with(" fifo")) {
                (true, false) => "#2b6cb0",
                (true, true) => "#7fa7d9",
                (false, _) => "#a0a0a0",
            };
            let label = if allocs {
                format!("{v:.3}")
            } else {
                let ratio = row
                    .ratio
                    .map_or(String::new(), |r| format!("  ({r:.2}x {})", row.baseline));
                let waits = row.waits.map_or(String::new(), |w| {
                    format!(
                        "  wait p99 {} / p99.9 {} / max {}",
                        human_ns(w.p99 as f64),
                        human_ns(w.p999 as f64),
                        human_ns(w.max as f64)
                    )
                });
                let round_trips = row.round_trips.map_or(String::new(), |w| {
                    format!(
                        "  round trip p50 {} / p99 {}",
                        human_ns(w.p50 as f64),
                        human_ns(w.p99 as f64)
                    )
                });
                format!("{}{ratio}{waits}{round_trips}", human_ns(v))
            };
            let _ = writeln!(
                body,
                r#"<text x="{:.0}" y="{:.0}" font-size="12" text-anchor="end">{}</text>"#,
                LABEL - 6.0,
                y + BAR - 3.0,
                escape(row.name)
            );
            let _ = writeln!(
                body,
                r#"<rect x="{LABEL:.0}" y="{y:.0}" width="{len:.1}" height="{BAR:.0}" fill="{color}"/>"#
            );
            if cut {
                let _ = writeln!(
                    body,
                    r#"<path d="M{:.1} {:.0} l6 {:.0} l-6 {:.0}" stroke="white" stroke-width="3" fill="none"/>"#,
                    LABEL + len - 14.0,
                    y - 1.0,
                    BAR / 2.0 + 1.0,
                    BAR / 2.0 + 1.0
                );
            }
            let _ = writeln!(
                body,
                r#"<text x="{:.1}" y="{:.0}" font-size="11">{}</text>"#,
                LABEL + len + 5.0,
                y + BAR - 3.0,
                escape(&label)
            );
            y += BAR + GAP;
        }
        y += 12.0;
    }
    let height = y + 30.0;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0}" height="{height:.0}" viewBox="0 0 {WIDTH:.0} {height:.0}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="24" font-size="16" font-weight="bold">{}</text>
{body}<text x="10" y="{:.0}" font-size="11" fill="#555">dark blue: compio-sync, default policy; light blue: compio-sync strict_fifo; grey: peers. Bars cut (white chevron) at 8x the baseline (tokio; in S8 tokio Mutex+Notify). Medians over repeats; lower is better.</text>
</svg>
"##,
        escape(title),
        height - 12.0
    )
}
