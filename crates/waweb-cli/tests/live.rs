//! The live commands as a user runs them, against a simulator started in the test: `demo`,
//! `login`, `send`, `chats`, `listen`, `logout`, `--help`, and one-line errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use waweb_sim::{SimConfig, SimEvent};

mod common;
use common::{assert_one_line_error, run, temp_dir, text, waweb};

#[test]
fn demo_runs_to_completion() {
    let start = Instant::now();
    let out = waweb().arg("demo").output().unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(start.elapsed() < Duration::from_secs(20));
    for needle in [
        "== Step 1: start the simulator",
        "listening at ws://127.0.0.1:",
        "== Step 3: show the QR code",
        "QR: ",
        "▀",
        "logged in as 491234567890@c.us (Sim User)",
        "== Step 5: the chat list",
        "491701111111@c.us",
        "Alice Example",
        "Sim Group",
        "Alice Example: Hello from the demo!",
        "sent message 3EB0",
        "receipt from the server: reached the server",
        "== Step 8: download a picture",
        "Alice Example sent a picture: \"Sunset at the lake\", 12301 bytes, from http://127.0.0.1:",
        "downloaded and decrypted 12301 bytes; MAC, fileSha256 and fileEncSha256 checked",
        "== Step 9: log out",
        "logged out",
        "Done.",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in\n{stdout}");
    }
    // The steps come in order.
    let positions: Vec<_> = (1..=9)
        .map(|n| stdout.find(&format!("== Step {n}:")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_send_chats_listen_logout() {
    let sim = waweb_sim::start(SimConfig::default()).await.unwrap();
    let mut sim_events = sim.events();
    let dir = temp_dir("flow");
    let session = dir.join("nested").join("session.json");
    let png = dir.join("qr.png");
    let url = sim.ws_url();
    let common = |cmd: &str| {
        let mut c = waweb();
        c.args([cmd, "--url", &url, "--session"]).arg(&session);
        c
    };

    // login: read the QR line from its output and let the phone scan it.
    let mut login = common("login");
    login
        .arg("--qr-png")
        .arg(&png)
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
    let mut lines = Vec::new();
    while let Some(line) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .unwrap()
    {
        if let Some(code) = line.strip_prefix("QR: ") {
            sim.scan(code).await.unwrap();
        }
        lines.push(line);
    }
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let all = lines.join("\n");
    assert!(status.success(), "{all}");
    assert!(all.contains("Scan this code"), "{all}");
    assert!(all.contains('▀') || all.contains('▄'));
    assert!(all.contains("logged in as 491234567890@c.us (Sim User); session saved to"));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&session).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "owner-only session file");
    }
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&session).unwrap()).unwrap();
    assert_eq!(saved["wid"], "491234567890@c.us");

    // send
    let mut send = common("send");
    send.args(["491701111111", "hello from the CLI"]);
    let out = run(send).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("sent 3EB0") && stdout.contains("to 491701111111@c.us: acknowledged"),
        "{stdout}"
    );
    let id = stdout.split_whitespace().nth(1).unwrap().to_owned();
    let received = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let SimEvent::MessageReceived { message, .. } = sim_events.recv().await.unwrap() {
                return message;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(received.key.id.as_deref(), Some(id.as_str()));
    assert_eq!(received.text(), Some("hello from the CLI"));
    assert_eq!(
        received.key.remote_jid.as_deref(),
        Some("491701111111@s.whatsapp.net")
    );

    // chats
    let out = run(common("chats")).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(stdout.contains("491701111111@c.us") && stdout.contains("Alice Example"));
    assert!(stdout.contains("Bob Example") && stdout.contains("[pinned]"));
    assert!(stdout.contains("491701111111-1600000000@g.us") && stdout.contains("Sim Group"));

    // listen: the login burst as JSON lines (stream, props, contacts, chats)
    let mut listen = common("listen");
    listen.args(["--count", "4"]);
    let out = run(listen).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let kinds: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["event"].as_str().unwrap().to_owned()
        })
        .collect();
    for k in ["connected", "logged_in", "contacts", "chats"] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }

    // logout (keep a copy of the session to try it afterwards)
    let stale = dir.join("stale.json");
    std::fs::copy(&session, &stale).unwrap();
    let out = run(common("logout")).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("logged out; removed"));
    assert!(!session.exists());
    let mut seen = Vec::new();
    let logged_out = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match sim_events.recv().await {
                Ok(SimEvent::LoggedOut { via, .. }) => return via,
                Ok(SimEvent::FrameIn { .. } | SimEvent::FrameOut { .. }) => {}
                Ok(other) => seen.push(format!("{other:?}")),
                Err(e) => seen.push(format!("recv: {e}")),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no LoggedOut; saw {seen:#?}"));
    assert_eq!(logged_out, "connection");

    // After logout: one-line errors for the missing session and for the stale copy.
    let out = run(common("chats")).await;
    assert_one_line_error(&out, "no session at");
    let mut send = waweb();
    send.args(["send", "--url", &url, "--session"])
        .arg(&stale)
        .args(["491701111111", "too late"]);
    let out = run(send).await;
    assert_one_line_error(
        &out,
        "the server refused the stored session (logged out or unpaired)",
    );
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_jid_missing_session_and_unreachable_server_fail_in_one_line() {
    let dir = temp_dir("errors");
    let session = dir.join("none.json");
    let out = waweb()
        .args(["send", "not a jid@nowhere", "hi", "--session"])
        .arg(&session)
        .output()
        .unwrap();
    assert_one_line_error(&out, "bad JID");

    let out = waweb()
        .args(["chats", "--session"])
        .arg(&session)
        .output()
        .unwrap();
    assert_one_line_error(&out, "no session at");

    // Nobody listens on port 1.
    let out = waweb()
        .args(["login", "--url", "ws://127.0.0.1:1/ws", "--session"])
        .arg(&session)
        .output()
        .unwrap();
    assert_one_line_error(&out, "cannot reach ws://127.0.0.1:1/ws");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_command_has_help() {
    for cmd in [
        "demo", "login", "listen", "send", "chats", "logout", "sim", "decode",
    ] {
        let out = waweb().args([cmd, "--help"]).output().unwrap();
        assert!(out.status.success(), "{cmd} --help");
        let help = text(&out.stdout);
        assert!(help.contains("Usage: waweb"), "{cmd}: {help}");
        if !matches!(cmd, "demo" | "sim" | "decode") {
            assert!(help.contains("--url"), "{cmd} has --url");
            assert!(help.contains("--session"), "{cmd} has --session");
        }
    }
}
