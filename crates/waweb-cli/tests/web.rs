//! `waweb web` as a program: against a separate simulator (`--url`), with a session file that is
//! written on login (mode 0600), restores the next run without a QR, and is deleted on logout.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const T: Duration = Duration::from_secs(15);

/// Starts `waweb web` and reads the address it prints.
async fn start(url: &str, session: &std::path::Path) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_waweb"))
        .args(["web", "--listen", "127.0.0.1:0", "--url", url, "--session"])
        .arg(session)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(T, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let addr = first
        .strip_prefix("waweb web: open http://")
        .and_then(|r| r.strip_suffix('/'))
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .parse()
        .unwrap();
    (child, addr)
}

async fn send(addr: SocketAddr, req: Request<Full<Bytes>>) -> hyper::Response<Incoming> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender.send_request(req).await.unwrap()
}

/// The `auth` states the page is told, in order, until `stop` says enough.
async fn watch_auth(addr: SocketAddr, mut stop: impl AsyncFnMut(&Value) -> bool) -> Vec<String> {
    let req = Request::get("/api/events")
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
        .unwrap();
    let mut body = send(addr, req).await.into_body();
    let mut buf = Vec::new();
    let mut states = Vec::new();
    tokio::time::timeout(T, async {
        loop {
            while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = buf.drain(..end + 2).collect();
                let text = String::from_utf8(block).unwrap();
                let Some(data) = text.lines().find_map(|l| l.strip_prefix("data: ")) else {
                    continue;
                };
                let v: Value = serde_json::from_str(data).unwrap();
                let auth = match v["type"].as_str() {
                    Some("snapshot") => v["auth"].clone(),
                    Some("auth") => v,
                    _ => continue,
                };
                states.push(auth["state"].as_str().unwrap().to_owned());
                if stop(&auth).await {
                    return;
                }
            }
            let frame = body.frame().await.expect("stream ended").unwrap();
            if let Ok(d) = frame.into_data() {
                buf.extend_from_slice(&d);
            }
        }
    })
    .await
    .expect("timed out on the event stream");
    states
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_saves_restores_and_deletes_the_session() {
    let sim = waweb_sim::start(waweb_sim::SimConfig::default())
        .await
        .unwrap();
    let dir = common::temp_dir("web-session");
    let session = dir.join("session.json");

    // First run: QR login through the simulator's phone.
    let (mut child, addr) = start(&sim.ws_url(), &session).await;
    watch_auth(addr, async |auth| {
        if auth["state"] == "qr" {
            sim.scan(auth["qr"]["code"].as_str().unwrap())
                .await
                .unwrap();
        }
        auth["state"] == "logged_in"
    })
    .await;
    // The session file follows the login's credentials.
    tokio::time::timeout(T, async {
        while !session.exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&session).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    child.kill().await.unwrap();

    // Second run: restored, no QR.
    let (mut child, addr) = start(&sim.ws_url(), &session).await;
    let states = watch_auth(addr, async |auth| auth["state"] == "logged_in").await;
    assert!(
        !states.iter().any(|s| s == "qr"),
        "restored without a QR: {states:?}"
    );

    // Logout deletes the file.
    let req = Request::post("/api/cmd")
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(json!({"cmd": "logout"}).to_string())))
        .unwrap();
    let resp = send(addr, req).await;
    assert_eq!(resp.status(), 200);
    tokio::time::timeout(T, async {
        while session.exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the session file is deleted on logout");
    child.kill().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn web_refuses_a_public_address_without_the_flag() {
    let mut cmd = common::waweb();
    cmd.args(["web", "--listen", "0.0.0.0:0"]);
    let out = common::run(cmd).await;
    common::assert_one_line_error(&out, "--allow-remote");
}
