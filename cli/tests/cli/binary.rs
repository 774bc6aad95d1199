//! The built binary: help, and exit codes decided before any AWS call.

use std::process::Command;

fn courier_bridge(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_courier-bridge"))
        .args(args)
        .env_remove("COURIER_BRIDGE_STACK")
        .output()
        .expect("the binary runs")
}

#[test]
fn help_lists_the_commands_and_exit_codes() {
    let out = courier_bridge(&["--help"]);
    assert!(out.status.success(), "{out:?}");
    let help = String::from_utf8_lossy(&out.stdout);
    for expected in ["review", "dlq", "store", "--stack", "Exit codes"] {
        assert!(help.contains(expected), "{expected:?} missing in:\n{help}");
    }
    let out = courier_bridge(&["review", "release", "--help"]);
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["review", "list"][..],
        &["--stack", "demo", "review", "fix", "x", "--set", "phone"],
        &[
            "--stack",
            "demo",
            "dlq",
            "redrive",
            "--queue",
            "ReviewQueue",
        ],
    ] {
        let out = courier_bridge(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(!out.stderr.is_empty());
    }
}
