//! The dated Markdown report: where and how it ran, a summary (baseline,
//! best peer, best compio-sync row and floor per scenario), the chart, and
//! one table per scenario.

use std::fmt::Write as _;

use super::{
    bench::Role,
    report::{BenchResult, Row, human_ns},
};

/// What the report says besides the results.
pub struct Page<'a> {
    /// The first heading.
    pub title: &'a str,
    /// A paragraph under it.
    pub intro: &'a str,
    /// "Run" table lines: what, value.
    pub run: &'a [(&'a str, String)],
    /// Where the chart is, relative to the report.
    pub chart: Option<&'a str>,
    /// Sections after the summary, already in Markdown.
    pub sections: &'a [String],
}

/// Escapes `|` for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "-".into(), |r| format!("{r:.2}"))
}

fn time(row: Option<&Row>) -> String {
    row.and_then(Row::time).map_or_else(
        || "-".into(),
        |t| format!("{} {}", human_ns(t), cell(row.map_or("", |r| r.name))),
    )
}

/// The whole report.
pub fn render(page: &Page<'_>, results: &[BenchResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n\n{}\n", page.title, page.intro);
    let _ = writeln!(out, "## Run\n\n| | |\n|---|---|");
    for (what, value) in page.run {
        let _ = writeln!(out, "| {} | {} |", cell(what), cell(value));
    }
    let _ = writeln!(
        out,
        "\n## Summary\n\n\
         Per scenario: the baseline, the fastest peer, the fastest compio-sync row under its default \
         policy, and the floor (the same loop with no synchronization; not a peer). Ratios are taken \
         within this run. A HANG anywhere is listed under the scenario's table.\n\n\
         | scenario | baseline | best peer | best compio-sync (default policy) | x baseline | x best peer | floor |\n\
         |---|---|---|---|---|---|---|"
    );
    for result in results {
        let head = result.headline();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            result.case.id,
            time(head.baseline),
            time(head.best_peer),
            time(head.best_ours),
            ratio(head.x_baseline),
            ratio(head.x_best_peer),
            head.floor
                .and_then(Row::time)
                .map_or_else(|| "-".into(), human_ns),
        );
    }
    for section in page.sections {
        let _ = writeln!(out, "\n{}", section.trim_end());
    }
    if let Some(chart) = page.chart {
        let _ = writeln!(out, "\n## Chart\n\n![benchmark chart]({chart})");
    }
    let _ = writeln!(out, "\n## Tables");
    for result in results {
        table(&mut out, result);
    }
    out
}

/// One scenario's table, with only the columns that have figures.
fn table(out: &mut String, result: &BenchResult) {
    let columns = result.case.columns;
    let rows = &result.rows;
    let has_dist = rows.iter().any(|r| r.dist.is_some());
    let has_allocs = rows.iter().any(|r| r.allocs_per_op.is_some());
    let has_waited = rows.iter().any(|r| r.waited_fraction.is_some());
    let mut extra_keys: Vec<&str> = Vec::new();
    for (key, _) in rows.iter().flat_map(|r| &r.extras) {
        if !extra_keys.contains(key) {
            extra_keys.push(key);
        }
    }
    let best_peer = result.best_peer().map(|r| r.ns_per_op);
    let mut head = vec![
        "implementation".to_string(),
        columns.time.to_string(),
        result.ratio_label.to_string(),
        "x best peer".to_string(),
    ];
    if has_dist {
        let words = columns.dist.map_or("wait", |d| d.words());
        for q in ["p50", "p99", "p99.9", "max"] {
            head.push(format!("{words} {q}"));
        }
    }
    if has_allocs {
        head.push("allocs/op".into());
    }
    if has_waited {
        head.push("waited".into());
    }
    head.extend(extra_keys.iter().map(|k| k.replace('_', " ")));
    let _ = writeln!(
        out,
        "\n### {}\n\n{} ({} repeats, {:.1} s)\n\n| {} |\n|{}",
        result.case.id,
        cell(&result.case.title),
        rows.iter().map(|r| r.reps).max().unwrap_or(0),
        result.seconds,
        head.join(" | "),
        "---|".repeat(head.len())
    );
    for row in rows {
        let name = match row.role {
            Role::Floor => format!("*{}* (not a peer)", cell(row.name)),
            Role::Ours | Role::OursStrictFifo => format!("**{}**", cell(row.name)),
            Role::Peer => cell(row.name),
        };
        if let Some(progress) = &row.hung {
            let _ = writeln!(
                out,
                "| {name} | HANG after {} repeat(s): {} |{}",
                row.reps,
                cell(progress),
                " |".repeat(head.len() - 2)
            );
            continue;
        }
        let mut cells = vec![
            name,
            format!("{:.1}", row.ns_per_op),
            ratio(row.ratio),
            ratio(best_peer.map(|b| row.ns_per_op / b)),
        ];
        if has_dist {
            match row.dist {
                Some(d) => {
                    cells.extend([d.p50, d.p99, d.p999, d.max].map(|ns| human_ns(ns as f64)))
                }
                None => cells.extend(["-".to_string(), "-".into(), "-".into(), "-".into()]),
            }
        }
        if has_allocs {
            cells.push(
                row.allocs_per_op
                    .map_or_else(|| "-".into(), |a| format!("{a:.3}")),
            );
        }
        if has_waited {
            cells.push(
                row.waited_fraction
                    .map_or_else(|| "-".into(), |f| format!("{:.1}%", f * 100.0)),
            );
        }
        for key in &extra_keys {
            cells.push(
                row.extras
                    .iter()
                    .find(|(k, _)| k == key)
                    .map_or_else(|| "-".into(), |(_, v)| format!("{v:.1}")),
            );
        }
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
}
