//! The command line, pinned with snapshots of status, stdout and stderr, including bad inputs:
//! how the tests run the binary, its usage errors; `sgguard check` and `sgguard policy` below.

mod check;
mod policy;

use assert_cmd::Command;

fn sgguard() -> Command {
    let mut command = Command::cargo_bin("sgguard").unwrap();
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command.env_remove("SGGUARD_POLICY");
    command
}

/// Status, stdout and stderr in one snapshot.
fn run(args: &[&str]) -> String {
    let output = sgguard().args(args).output().unwrap();
    format!(
        "status: {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn status(args: &[&str]) -> Option<i32> {
    sgguard().args(args).output().unwrap().status.code()
}

#[test]
fn usage_errors_exit_two_and_help_exits_zero() {
    assert_eq!(status(&["check"]), Some(2));
    assert_eq!(status(&["frobnicate"]), Some(2));
    assert_eq!(status(&["check", "--format", "xml", "x.json"]), Some(2));
    assert_eq!(status(&["--help"]), Some(0));
    assert_eq!(status(&["--version"]), Some(0));
}
