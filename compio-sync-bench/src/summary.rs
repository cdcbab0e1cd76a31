//! The one-screen summary printed at the end of a run: one line per
//! scenario, grouped by family, with the fastest compio-sync row under its
//! default policy, the fastest peer, the ratio of the two, and the verdicts
//! of the goals on that scenario (the ones the report's Goals table shows);
//! then the count of verdicts. The figures are the report's own (its
//! summary's [`headline`](crate::harness::report::BenchResult::headline)
//! and [`goals::verdicts`]), only shorter.

use std::fmt::Write as _;

use crate::{
    goals::{self, Verdict},
    harness::report::{BenchResult, Headline, Row, human_ns},
    registry,
};

/// A row as "name time", the name without the crate's prefix.
fn row(row: Option<&Row>, width: usize) -> String {
    match row.and_then(|r| Some((r.name, r.time()?))) {
        Some((name, t)) => format!("{:<width$} {:>7}", goals::short(name), human_ns(t)),
        None => format!("{:<width$} {:>7}", "-", ""),
    }
}

/// The width of a column of `rows`' short names under `title`.
fn width<'a>(rows: impl Iterator<Item = &'a Row>, title: &str) -> usize {
    rows.map(|r| goals::short(r.name).chars().count())
        .chain([title.len()])
        .max()
        .unwrap_or(0)
}

/// The summary of `results`, with the `verdicts` of the goals on them.
pub fn render(results: &[BenchResult], verdicts: &[Verdict]) -> String {
    let heads: Vec<Headline<'_>> = results.iter().map(BenchResult::headline).collect();
    let ours_width = width(heads.iter().filter_map(|h| h.best_ours), "compio-sync");
    let peer_width = width(heads.iter().filter_map(|h| h.best_peer), "best peer");
    let id_width = results
        .iter()
        .map(|r| r.case.id.len())
        .chain(["scenario".len()])
        .max()
        .unwrap_or(0);
    let mut out = String::from(
        "\nsummary: the fastest compio-sync row (default policy) and the fastest peer per scenario, \
         the ratio of their times, and the goals\n",
    );
    let _ = writeln!(
        out,
        "  {:<id_width$} {:<ours_width$} {:>7}  {:<peer_width$} {:>7}  {:>6}  goals",
        "scenario", "compio-sync", "time", "best peer", "time", "ratio"
    );
    let mut family = "";
    let (mut pass, mut fail, mut missing) = (0, 0, 0);
    for (result, head) in results.iter().zip(&heads) {
        let id = result.case.id.as_str();
        if registry::family_name(id) != family {
            family = registry::family_name(id);
            let _ = writeln!(out, "{family}");
        }
        let mut goals: Vec<String> = Vec::new();
        for v in verdicts.iter().filter(|v| v.scenario == id) {
            match v.pass {
                Some(true) => pass += 1,
                Some(false) => fail += 1,
                None => missing += 1,
            }
            goals.push(format!("{} {}", v.brief, v.word()));
        }
        let hung = result.rows.iter().filter(|r| r.hung.is_some()).count();
        if hung > 0 {
            goals.push(format!("HANG: {hung} row(s)"));
        }
        let ratio = head
            .x_best_peer
            .map_or_else(|| "-".into(), |r| format!("{r:.2}x"));
        let _ = writeln!(
            out,
            "  {id:<id_width$} {}  {}  {ratio:>6}  {}",
            row(head.best_ours, ours_width),
            row(head.best_peer, peer_width),
            goals.join("; ")
        );
    }
    let _ = writeln!(
        out,
        "goals: {pass} pass, {fail} FAIL, {missing} n/a (a row missing or hung)"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{goals::tests::result, harness::Role};

    #[test]
    fn one_line_per_scenario_under_its_family_with_its_goals_and_a_count() {
        let ours: &'static str = registry::default_backend().leak();
        let rows = [
            (ours, Role::Ours, 50.0),
            (registry::TOKIO, Role::Peer, 100.0),
            (registry::FLOOR, Role::Floor, 10.0),
        ];
        let results = [
            result("S1", &rows),
            result("S3", &rows),
            result("S5b", &rows),
        ];
        let verdicts = goals::verdicts(&results);
        let text = render(&results, &verdicts);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 9, "{text}");
        assert!(lines[3].starts_with("Semaphore"), "{text}");
        assert!(lines[4].trim_start().starts_with("S1 "), "{text}");
        assert!(lines[4].contains("0.50x"), "{text}");
        assert!(lines[4].contains("≤0.6x tokio: 0.50x pass"), "{text}");
        assert!(lines[6].starts_with("Notify"), "{text}");
        // S3's and S5b's goals against `Intrusive` and `IoUringFutex` rows
        // that did not run are n/a; every verdict on these scenarios counts.
        let on_these = verdicts
            .iter()
            .filter(|v| ["S1", "S3", "S5b"].contains(&v.scenario.as_str()))
            .count();
        let counted: usize = lines[8]
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse::<usize>().ok())
            .sum();
        assert_eq!(counted, on_these, "{text}");
    }
}
