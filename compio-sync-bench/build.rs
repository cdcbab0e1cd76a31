//! Records, for the report, the rustc that builds the benchmark and the
//! versions that the workspace `Cargo.lock` resolved for compio-sync, compio
//! and every peer crate.

use std::{env, fs, path::PathBuf, process::Command};

/// The crates whose resolved versions the report names.
const CRATES: &[&str] = &[
    "compio-sync",
    "compio",
    "compio-runtime",
    "compio-driver",
    "tokio",
    "async-lock",
    "event-listener",
    "futures-intrusive",
    "maitake-sync",
];

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let lock = manifest.join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    println!("cargo:rerun-if-changed=build.rs");
    let text = fs::read_to_string(&lock).unwrap_or_default();
    let versions: Vec<String> = CRATES
        .iter()
        .map(|krate| {
            let version = locked_versions(&text, krate);
            let version = if version.is_empty() {
                "unknown".to_owned()
            } else {
                version.join(" and ")
            };
            format!("{krate} {version}")
        })
        .collect();
    println!(
        "cargo:rustc-env=BENCH_LOCKED_VERSIONS={}",
        versions.join(", ")
    );
    for (krate, var) in [
        ("compio", "BENCH_COMPIO_VERSION"),
        ("compio-runtime", "BENCH_COMPIO_RUNTIME_VERSION"),
    ] {
        let version = locked_versions(&text, krate)
            .into_iter()
            .next()
            .unwrap_or_else(|| "unknown".into());
        println!("cargo:rustc-env={var}={version}");
    }
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=BENCH_RUSTC_VERSION={rustc_version}");
}

/// The `version` of every `[[package]]` named `krate` in a Cargo.lock.
fn locked_versions(lock: &str, krate: &str) -> Vec<String> {
    let needle = format!("name = \"{krate}\"");
    let mut versions = Vec::new();
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == needle
            && let Some(version) = lines
                .next()
                .and_then(|next| next.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
        {
            versions.push(version.to_owned());
        }
    }
    versions
}
