//! Helpers shared by the command-line tests: run the binary, read its output, check errors.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The `waweb` binary under test.
pub(crate) fn waweb() -> Command {
    Command::new(env!("CARGO_BIN_EXE_waweb"))
}

/// A fresh directory for one test, named after the test file, the process and `name`.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "waweb-cli-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Output bytes as text.
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs a command without blocking the async test's runtime.
pub(crate) async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// A failure: non-zero exit and exactly one line on standard error.
pub(crate) fn assert_one_line_error(out: &Output, needle: &str) {
    assert!(!out.status.success(), "must fail: {out:?}");
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("waweb: "), "{err}");
    assert!(err.contains(needle), "{err:?} should contain {needle:?}");
}
