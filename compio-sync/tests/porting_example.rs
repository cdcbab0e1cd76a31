//! Pins the claim of `examples/porting_tokio.rs` and
//! `examples/porting_compio.rs`: porting that program from tokio::sync to
//! compio_sync changes only the imports and the runtime entry.
//!
//! The lines allowed to differ are exactly:
//! - lines that start with `use ` (at column 0; each must be a whole `use`
//!   statement on one line, ending in `;`, so no part of an import hides on
//!   a continuation line), and
//! - the runtime-entry attribute: a line that starts with `#[` and ends with
//!   `::main]` (`#[tokio::main]`, `#[compio::main]`).
//!
//! With those lines removed, the two files must be identical, line for line.

use std::path::Path;

/// Reads an example and returns its lines without the allowed differences.
fn without_imports_and_entry(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut kept = Vec::new();
    let mut entries = 0;
    for line in text.lines() {
        if line.starts_with("use ") {
            assert!(
                line.ends_with(';'),
                "{name}: a `use` statement spans several lines, keep it on one: {line}"
            );
        } else if line.starts_with("#[") && line.ends_with("::main]") {
            entries += 1;
        } else {
            kept.push(line.to_owned());
        }
    }
    assert_eq!(entries, 1, "{name}: expected one `#[..::main]` line");
    kept
}

#[test]
fn porting_examples_differ_only_in_imports_and_runtime_entry() {
    let tokio = without_imports_and_entry("porting_tokio.rs");
    let compio = without_imports_and_entry("porting_compio.rs");
    // A readable failure: the first line that differs, not two whole files.
    for (i, (t, c)) in tokio.iter().zip(&compio).enumerate() {
        assert_eq!(
            t,
            c,
            "line {} of the stripped files differs (porting_tokio.rs vs porting_compio.rs)",
            i + 1
        );
    }
    assert_eq!(
        tokio.len(),
        compio.len(),
        "the stripped files differ in length"
    );
    // The program itself is there, not just imports.
    assert!(tokio.iter().any(|l| l.starts_with("async fn main()")));
}

#[test]
fn porting_examples_import_different_libraries() {
    // The pair proves nothing if both files import the same crate.
    let uses = |name: &str| -> Vec<String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name);
        let text = std::fs::read_to_string(&path).expect("example readable");
        text.lines()
            .filter(|l| l.starts_with("use "))
            .map(str::to_owned)
            .collect()
    };
    let tokio = uses("porting_tokio.rs");
    let compio = uses("porting_compio.rs");
    assert!(tokio.iter().any(|l| l.starts_with("use tokio::sync::")));
    assert!(!tokio.iter().any(|l| l.contains("compio")));
    assert!(compio.iter().any(|l| l.starts_with("use compio_sync::")));
    assert!(!compio.iter().any(|l| l.contains("tokio")));
}
