//! The page in real headless Chromium, driven by Playwright (`tests/browser/e2e.mjs`) against a
//! `waweb-web` server started here with its embedded simulator.
//!
//! Needs Node.js, Chromium (`/usr/bin/chromium`, or `$CHROMIUM`) and `npm ci` in
//! `tests/browser/`; `.ci/run` installs them and sets `WAWEB_BROWSER_TESTS=require`, which turns
//! a missing piece into a failure. Elsewhere the tests say what is missing and pass without
//! running. Screenshots go to `$WAWEB_SCREENSHOTS`, else to the target directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use waweb_sim::SimConfig;
use waweb_web::{Target, WebConfig};

/// The whole Playwright run may take this long.
const RUN_LIMIT: Duration = Duration::from_secs(180);

/// One browser at a time: the tests of this file run in parallel, and several Chromiums on a
/// small machine would only make each other's steps slow.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn script_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// What is missing for the browser tests, if anything.
fn missing() -> Option<String> {
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node {
        return Some("node is not installed".into());
    }
    if !script_dir().join("node_modules/playwright-core").is_dir() {
        return Some(format!(
            "playwright-core is not installed: run `npm ci` in {}",
            script_dir().display()
        ));
    }
    if !chromium().is_file() {
        return Some(format!(
            "{} is missing: install Debian's chromium package or set CHROMIUM",
            chromium().display()
        ));
    }
    None
}

/// `true` when the tests can run; panics when they must and cannot.
fn ready(test: &str) -> bool {
    match missing() {
        None => true,
        Some(why) if std::env::var("WAWEB_BROWSER_TESTS").as_deref() == Ok("require") => {
            panic!("{test}: browser tests required (WAWEB_BROWSER_TESTS=require) but {why}")
        }
        Some(why) => {
            eprintln!(
                "{test}: SKIPPED, {why} (`.ci/run` installs everything; WAWEB_BROWSER_TESTS=require makes this a failure)"
            );
            false
        }
    }
}

fn shots_dir(scenario: &str) -> PathBuf {
    let dir = std::env::var_os("WAWEB_SCREENSHOTS").map_or_else(
        || Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots"),
        PathBuf::from,
    );
    if scenario == "main" {
        dir
    } else {
        dir.join(scenario)
    }
}

/// Runs `e2e.mjs` for `scenario`; panics with its output when it fails.
async fn run_playwright(url: &str, token: Option<&str>, scenario: &str) -> PathBuf {
    let shots = shots_dir(scenario);
    std::fs::create_dir_all(&shots).unwrap();
    let mut cmd = tokio::process::Command::new("node");
    cmd.current_dir(script_dir())
        .arg("e2e.mjs")
        .args(["--url", url, "--scenario", scenario])
        .arg("--shots")
        .arg(&shots)
        .env("CHROMIUM", chromium())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(t) = token {
        cmd.args(["--token", t]);
    }
    let out = tokio::time::timeout(RUN_LIMIT, cmd.output())
        .await
        .expect("the browser run took too long")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "e2e.mjs --scenario {scenario} failed ({}); screenshots in {}\n{stdout}\n{stderr}",
        out.status,
        shots.display()
    );
    shots
}

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 2000,
        "{} is not a screenshot",
        path.display()
    );
}

/// Issue 7, point 1 and 2: log in by QR, chats, a conversation, a received message, a sent one
/// read, a received picture, both frames in the inspector, the capture, logout; screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_in_chromium() {
    if !ready("the_page_in_chromium") {
        return;
    }
    // Taken before the server starts: its QR refs must not expire while another test runs.
    let _one = ONE_BROWSER.lock().await;
    let mut cfg = WebConfig::default();
    cfg.listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let web = waweb_web::serve(cfg).await.unwrap();
    let shots = run_playwright(&web.url(), None, "main").await;
    for name in ["login.png", "conversation.png", "inspector.png"] {
        assert_png(&shots.join(name));
    }
    web.shutdown().await;
}

/// Issue 7, point 3: bound beyond loopback, a tab with the start token works and a tab without
/// it cannot connect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_without_the_token_cannot_connect() {
    if !ready("a_tab_without_the_token_cannot_connect") {
        return;
    }
    // Taken before the server starts: its QR refs must not expire while another test runs.
    let _one = ONE_BROWSER.lock().await;
    let mut cfg = WebConfig::default();
    cfg.listen = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
    cfg.allow_remote = true;
    let web = waweb_web::serve(cfg).await.unwrap();
    let token = web.token().unwrap().to_owned();
    let base = format!("http://127.0.0.1:{}/", web.local_addr().port());
    run_playwright(&base, Some(&token), "token").await;
    web.shutdown().await;
}

/// The QR refreshes with each new ref; at the ref limit the page offers a reload, which starts a
/// fresh login that works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_qr_refreshes_and_the_ref_limit_offers_a_reload() {
    if !ready("the_qr_refreshes_and_the_ref_limit_offers_a_reload") {
        return;
    }
    // Taken before the server starts: its QR refs must not expire while another test runs.
    let _one = ONE_BROWSER.lock().await;
    let mut cfg = WebConfig::default();
    cfg.listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    cfg.target = Target::Simulator(Box::new(SimConfig {
        ref_ttl: Duration::from_millis(1500),
        max_refs: 2,
        ..SimConfig::default()
    }));
    let web = waweb_web::serve(cfg).await.unwrap();
    let shots = run_playwright(&web.url(), None, "qr").await;
    assert_png(&shots.join("qr-expired.png"));
    web.shutdown().await;
}

/// At phone width the list and the conversation are separate screens, and nothing scrolls
/// sideways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_at_phone_width() {
    if !ready("the_page_at_phone_width") {
        return;
    }
    // Taken before the server starts: its QR refs must not expire while another test runs.
    let _one = ONE_BROWSER.lock().await;
    let mut cfg = WebConfig::default();
    cfg.listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let web = waweb_web::serve(cfg).await.unwrap();
    let shots = run_playwright(&web.url(), None, "phone").await;
    assert_png(&shots.join("phone.png"));
    web.shutdown().await;
}
