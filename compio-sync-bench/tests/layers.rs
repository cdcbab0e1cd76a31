//! The bench crate is layered: `cli` <- `harness` <- `scenarios` <-
//! `registry` <- `goals` <- `summary` <- `main`. A layer may use the layers
//! before it, never one after it, and one scenario family never uses
//! another. `cli` comes first because it uses nothing of the crate
//! (`tests/cli.rs` includes it on its own). This test reads the
//! sources (comments left out) and fails on an upward or sideways import,
//! so no import cycle can come back.

use std::{fs, path::Path};

/// Every `.rs` file under `dir`, as (path relative to `src/`, source).
fn sources(dir: &Path, src: &Path, out: &mut Vec<(String, String)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, src, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).unwrap();
            let code = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            let rel = path
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push((rel, code));
        }
    }
}

const LAYERS: &[&str] = &[
    "cli",
    "harness",
    "scenarios",
    "registry",
    "goals",
    "summary",
    "main",
];

fn layer(file: &str) -> usize {
    let top = file.split('/').next().unwrap().trim_end_matches(".rs");
    LAYERS
        .iter()
        .position(|l| *l == top)
        .unwrap_or_else(|| panic!("{file} is in no layer; add it to LAYERS"))
}

#[test]
fn no_layer_uses_a_later_one_and_families_do_not_use_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &src, &mut files);
    assert!(files.len() > 10, "sources not found");
    let families = ["semaphore", "notify", "mutex", "condvar"];
    for (file, code) in &files {
        let own = layer(file);
        for (later, name) in LAYERS.iter().enumerate().skip(own + 1) {
            for pattern in [format!("crate::{name}"), format!("use {name}::")] {
                assert!(
                    !code.contains(&pattern),
                    "{file} (layer {}) uses layer {later} `{name}`",
                    LAYERS[own]
                );
            }
        }
        // S10 (`scenarios/local.rs`) repeats the one-runtime scenarios of
        // the other families on the single-thread flavors: it is built on
        // them by design.
        if let Some(family) = file.strip_prefix("scenarios/").filter(|f| *f != "local.rs") {
            for other in families {
                if family != format!("{other}.rs") && family != "mod.rs" {
                    for pattern in [format!("super::{other}"), format!("scenarios::{other}")] {
                        assert!(!code.contains(&pattern), "{file} uses family `{other}`");
                    }
                }
            }
        }
    }
}
