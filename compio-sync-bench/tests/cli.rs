//! The command line: representative argv parse to the options they mean,
//! and bad input is an error (which `main` turns into exit status 2). The
//! parser is included on its own, as it uses nothing else of the crate;
//! the binary itself is run for `--help` and the exit statuses.

#[path = "../src/cli.rs"]
#[allow(dead_code)]
mod cli;

use std::{path::PathBuf, process::Command as Process};

use cli::{Command, Options, parse};

fn run(args: &[&str]) -> Options {
    match parse(args.iter().copied()) {
        Ok(Command::Run(options)) => options,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn error(args: &[&str]) -> String {
    match parse(args.iter().copied()) {
        Err(error) => error.to_string(),
        Ok(other) => panic!("{args:?} parsed: {other:?}"),
    }
}

#[test]
fn no_arguments_is_a_full_run_with_every_default() {
    assert_eq!(run(&[]), Options::default());
    assert!(!run(&[]).narrowed());
}

#[test]
fn the_readme_command_is_a_quick_full_run() {
    let options = run(&["--quick"]);
    assert!(options.quick);
    assert_eq!(options.pin, None, "pinned where the OS allows it");
    assert!(!options.narrowed());
}

#[test]
fn pin_and_no_pin_are_flags_that_do_not_narrow_the_run() {
    let options = run(&["--pin", "--quick"]);
    assert!(options.pin == Some(true) && options.quick);
    assert!(!options.narrowed());
    let options = run(&["--no-pin", "--quick"]);
    assert!(options.pin == Some(false) && options.quick);
    assert!(!options.narrowed());
    // The last one given wins.
    assert_eq!(run(&["--no-pin", "--pin"]).pin, Some(true));
    assert!(error(&["--pin=yes"]).contains("--pin"));
    assert!(error(&["--no-pin=yes"]).contains("--no-pin"));
}

#[test]
fn the_ci_command_names_every_output() {
    let options = run(&[
        "--quick",
        "--json",
        "target/ci-bench.json",
        "--svg",
        "target/ci-bench.svg",
        "--md",
        "target/ci-bench.md",
    ]);
    assert_eq!(
        options,
        Options {
            quick: true,
            json: Some(PathBuf::from("target/ci-bench.json")),
            svg: Some(PathBuf::from("target/ci-bench.svg")),
            md: Some(PathBuf::from("target/ci-bench.md")),
            ..Options::default()
        }
    );
}

#[test]
fn filters_repeat_keep_their_order_and_narrow_the_run() {
    let options = run(&[
        "--scenario",
        "S1",
        "--only",
        "Intrusive",
        "--scenario=S5b",
        "--only=tokio",
        "--bench",
    ]);
    assert_eq!(options.scenarios, ["S1", "S5b"]);
    assert_eq!(options.only, ["Intrusive", "tokio"]);
    assert!(!options.quick);
    assert!(options.narrowed());
    assert!(run(&["--only", "x"]).narrowed());
}

#[test]
fn help_wins_wherever_it_stands() {
    for args in [&["--help"][..], &["-h"], &["--quick", "--help", "--bogus"]] {
        assert_eq!(
            parse(args.iter().copied()).unwrap(),
            Command::Help,
            "{args:?}"
        );
    }
}

#[test]
fn unknown_options_stray_arguments_and_missing_values_are_errors() {
    assert!(error(&["--bogus"]).contains("--bogus"));
    assert!(error(&["-q"]).contains("-q"));
    assert!(error(&["S1"]).contains("S1"));
    assert!(error(&["--quick=yes"]).contains("--quick"));
    for option in ["--json", "--svg", "--md", "--only", "--scenario"] {
        let message = error(&["--quick", option]);
        assert!(message.contains("missing"), "{option}: {message}");
        assert!(message.contains(option), "{option}: {message}");
    }
}

#[test]
fn the_help_names_every_option_and_the_readme_and_ci_commands() {
    for option in [
        "--quick",
        "--pin",
        "--no-pin",
        "--md PATH",
        "--svg PATH",
        "--json PATH",
        "--only NAME",
        "--scenario ID",
        "--bench",
        "--help",
    ] {
        assert!(cli::HELP.contains(option), "{option}");
    }
    assert!(cli::HELP.contains("cargo run --release -p compio-sync-bench -- --quick\n"));
    assert!(cli::HELP.contains("--quick --json target/ci-bench.json"));
}

#[test]
fn the_binary_prints_help_with_status_0_and_fails_bad_input_with_status_2() {
    let binary = env!("CARGO_BIN_EXE_compio-sync-bench");
    let help = Process::new(binary).arg("--help").output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert_eq!(String::from_utf8(help.stdout).unwrap(), cli::HELP);
    for args in [&["--bogus"][..], &["--json"], &["--quick", "stray"]] {
        let bad = Process::new(binary).args(args).output().unwrap();
        assert_eq!(bad.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(bad.stderr).unwrap();
        assert!(stderr.contains(cli::USAGE), "{args:?}: {stderr}");
    }
}
