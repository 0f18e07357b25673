//! `waweb send-file` and `waweb download` as a user runs them, against a simulator started in
//! the test: both upload flows, the progress line, a byte-identical download, one-line errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use waweb_sim::{SimConfig, SimEvent, SimHandle};

mod common;
use common::{assert_one_line_error, run, temp_dir, text, waweb};

/// `waweb login` against `sim`, the phone scanning the QR line it prints.
async fn login(sim: &SimHandle, session: &Path) {
    let mut login = waweb();
    login
        .args(["login", "--url", &sim.ws_url(), "--session"])
        .arg(session)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = login.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .unwrap()
    {
        if let Some(code) = line.strip_prefix("QR: ") {
            sim.scan(code).await.unwrap();
        }
    }
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn send_file_then_download_it_byte_identical() {
    let sim = waweb_sim::start(SimConfig::default()).await.unwrap();
    let mut sim_events = sim.events();
    let dir = temp_dir("flow");
    let session = dir.join("session.json");
    login(&sim, &session).await;
    let url = sim.ws_url();
    let common = |cmd: &str| {
        let mut c = waweb();
        c.args([cmd, "--url", &url, "--session"]).arg(&session);
        c
    };

    for (name, legacy, kind) in [
        ("report.pdf", false, "Document"),
        ("photo.jpg", true, "Image"),
    ] {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let path = dir.join(name);
        std::fs::write(&path, &data).unwrap();
        let mut send = common("send-file");
        send.arg("491701111111")
            .arg(&path)
            .args(["--caption", "see this"]);
        if legacy {
            send.arg("--legacy-upload");
        }
        let out = run(send).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(
            stdout.starts_with("sent 3EB0")
                && stdout.contains("to 491701111111@c.us")
                && stdout.contains(&format!("(3000000 bytes, {kind}) acknowledged")),
            "{stdout}"
        );
        // The progress line (not a terminal: one line per 10 %).
        let stderr = text(&out.stderr);
        assert!(stderr.contains("uploading 100% "), "{stderr}");
        let id = stdout.split_whitespace().nth(1).unwrap().to_owned();
        let received = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let SimEvent::MessageReceived { message, .. } = sim_events.recv().await.unwrap()
                {
                    return message;
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(received.key.id.as_deref(), Some(id.as_str()));
        let media = received.media().unwrap();
        assert_eq!(media.file_length, Some(3_000_000));

        let target = dir.join(format!("back-{name}"));
        let mut download = common("download");
        download
            .args(["--chat", "491701111111", "--id", &id, "-o"])
            .arg(&target);
        let out = run(download).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).starts_with("downloaded 3000000 bytes to"),
            "{}",
            text(&out.stdout)
        );
        assert!(text(&out.stderr).contains("downloading"));
        assert!(std::fs::read(&target).unwrap() == data, "byte-identical");
    }

    // A message id that is not there.
    let mut download = common("download");
    download
        .args(["--chat", "491701111111", "--id", "3EB0NOTTHERE", "-o"])
        .arg(dir.join("x"));
    assert_one_line_error(&run(download).await, "no message 3EB0NOTTHERE");
    assert!(!dir.join("x").exists());

    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_missing_file_fails_in_one_line() {
    let dir = temp_dir("missing");
    let out = waweb()
        .args(["send-file", "491701111111"])
        .arg(dir.join("nope.jpg"))
        .args(["--session"])
        .arg(dir.join("none.json"))
        .output()
        .unwrap();
    assert_one_line_error(&out, "cannot open");
    let out = waweb()
        .args(["send-file", "not a jid@x", "whatever"])
        .output()
        .unwrap();
    assert_one_line_error(&out, "bad JID");
    for cmd in ["send-file", "download"] {
        let out = waweb().args([cmd, "--help"]).output().unwrap();
        assert!(out.status.success());
        let help = text(&out.stdout);
        assert!(
            help.contains("--url") && help.contains("--session"),
            "{help}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}
