//! The chart: a horizontal bar chart, one panel per scenario.

use std::fmt::Write as _;

use super::{
    bench::Role,
    report::{BenchResult, Row, human_ns},
};

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal bar chart, one panel per scenario: ns per operation (or
/// allocations per operation, where the scenario says so). Bars longer than
/// 8x the panel's baseline are cut and marked.
pub fn svg(title: &str, results: &[BenchResult]) -> String {
    const WIDTH: f64 = 1180.0;
    const LABEL: f64 = 230.0;
    const BAR_AREA: f64 = 560.0;
    const BAR: f64 = 14.0;
    const GAP: f64 = 4.0;
    const PANEL_HEAD: f64 = 34.0;
    let mut body = String::new();
    let mut y = 40.0;
    for result in results {
        let panel: Vec<&Row> = result.rows.iter().collect();
        if panel.is_empty() {
            continue;
        }
        let columns = result.case.columns;
        let allocs = columns.chart_allocs;
        let value = |r: &Row| {
            if allocs {
                r.allocs_per_op.unwrap_or(0.0)
            } else {
                r.ns_per_op
            }
        };
        let unit = if allocs {
            "allocations per operation"
        } else {
            columns.time_words
        };
        let base = result.baseline_row().map(value).filter(|v| *v > 0.0);
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
            escape(&result.case.title)
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
            let color = match row.role {
                Role::Ours => "#2b6cb0",
                Role::OursStrictFifo => "#7fa7d9",
                Role::Peer => "#a0a0a0",
                Role::Floor => "#68a063",
            };
            let label = if allocs {
                format!("{v:.3}")
            } else {
                let ratio = row
                    .ratio
                    .filter(|_| row.role != Role::Floor)
                    .map_or(String::new(), |r| {
                        format!("  ({r:.2}x {})", result.baseline)
                    });
                let dist = columns
                    .dist
                    .zip(row.dist)
                    .map_or(String::new(), |(kind, d)| {
                        format!(
                            "  {} p50 {} / p99 {} / p99.9 {} / max {}",
                            kind.words(),
                            human_ns(d.p50 as f64),
                            human_ns(d.p99 as f64),
                            human_ns(d.p999 as f64),
                            human_ns(d.max as f64)
                        )
                    });
                format!("{}{ratio}{dist}", human_ns(v))
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
{body}<text x="10" y="{:.0}" font-size="11" fill="#555">dark blue: compio-sync, default policy; light blue: compio-sync strict_fifo; grey: peers; green: floor (the loop with no synchronization). Bars cut (white chevron) at 8x the panel's baseline (the row its ratios are taken against). Medians over repeats; lower is better.</text>
</svg>
"##,
        escape(title),
        height - 12.0
    )
}
