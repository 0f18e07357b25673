//! The page's API (docs/web.md) over real sockets, without a browser: the event stream, the
//! simulated phone, commands, media, uploads, the capture, the token and the host checks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use waweb_sim::SimConfig;
use waweb_web::{Target, WebConfig, WebError, WebServer};

const T: Duration = Duration::from_secs(15);
const ALICE: &str = "491701111111@c.us";

async fn server(f: impl FnOnce(&mut WebConfig)) -> WebServer {
    let mut cfg = WebConfig::default();
    cfg.listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    f(&mut cfg);
    waweb_web::serve(cfg).await.unwrap()
}

/// One HTTP/1.1 request on a fresh connection to `addr`.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Response<Incoming> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", format!("127.0.0.1:{}", addr.port()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    sender
        .send_request(req.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap()
}

async fn body_bytes(resp: Response<Incoming>) -> Vec<u8> {
    resp.into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}

async fn get_json(addr: SocketAddr, path: &str) -> (u16, Value) {
    let resp = request(addr, "GET", path, &[], Vec::new()).await;
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_slice(&body_bytes(resp).await).unwrap(),
    )
}

async fn post_json(addr: SocketAddr, path: &str, body: Value) -> (u16, Value) {
    let resp = request(
        addr,
        "POST",
        path,
        &[("content-type", "application/json")],
        body.to_string().into_bytes(),
    )
    .await;
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_slice(&body_bytes(resp).await).unwrap(),
    )
}

/// The server-sent event stream, one JSON message at a time.
struct Events {
    body: Incoming,
    buf: Vec<u8>,
}

impl Events {
    async fn open(addr: SocketAddr) -> Self {
        let resp = request(addr, "GET", "/api/events", &[], Vec::new()).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        Events {
            body: resp.into_body(),
            buf: Vec::new(),
        }
    }

    async fn next(&mut self) -> Value {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buf.drain(..end + 2).collect();
                let text = String::from_utf8(block).unwrap();
                let data: String = text
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return serde_json::from_str(&data).unwrap();
            }
            let frame = self.body.frame().await.expect("stream ended").unwrap();
            if let Ok(d) = frame.into_data() {
                self.buf.extend_from_slice(&d);
            }
        }
    }

    /// The next message for which `f` gives `Some`, within [`T`].
    async fn until<R>(&mut self, mut f: impl FnMut(&Value) -> Option<R>) -> R {
        tokio::time::timeout(T, async {
            loop {
                let v = self.next().await;
                if let Some(r) = f(&v) {
                    return r;
                }
            }
        })
        .await
        .expect("timed out waiting on the event stream")
    }
}

/// Scans the QR shown in the event stream with the simulated phone; waits for the chat list.
async fn log_in(addr: SocketAddr, events: &mut Events) -> Value {
    let qr = events
        .until(|v| {
            let auth = if v["type"] == "snapshot" {
                &v["auth"]
            } else {
                v
            };
            (auth["state"] == "qr" && (v["type"] == "auth" || v["type"] == "snapshot"))
                .then(|| auth["qr"].clone())
        })
        .await;
    assert!(qr["svg"].as_str().unwrap().contains("<svg"));
    assert_eq!(qr["attempt"], 0);
    assert_eq!(qr["max_refs"], 6);
    let (status, _) = post_json(addr, "/api/sim/scan", json!({"qr": qr["code"]})).await;
    assert_eq!(status, 200);
    let me = events
        .until(|v| (v["type"] == "auth" && v["state"] == "logged_in").then(|| v["me"].clone()))
        .await;
    events
        .until(|v| (v["type"] == "chat" && v["chat"]["jid"] == ALICE).then_some(()))
        .await;
    me
}

#[tokio::test]
async fn the_whole_flow_over_the_api() {
    let web = server(|_| {}).await;
    let addr = web.local_addr();
    let mut events = Events::open(addr).await;
    let first = events.next().await;
    assert_eq!(first["type"], "snapshot");
    assert_eq!(first["mode"], "sim");
    let me = log_in(addr, &mut events).await;
    assert_eq!(me["wid"], "491234567890@c.us");
    assert_eq!(me["pushname"], "Sim User");

    // The chat list, as a new page would get it.
    let mut late = Events::open(addr).await;
    let snap = late.next().await;
    let chats = snap["chats"].as_array().unwrap();
    let alice = chats.iter().find(|c| c["jid"] == ALICE).unwrap();
    assert_eq!(alice["name"], "Alice Example");
    let bob = chats
        .iter()
        .find(|c| c["jid"] == "491702222222@c.us")
        .unwrap();
    assert_eq!(bob["pinned"], true);
    let group = chats
        .iter()
        .find(|c| c["jid"] == "491701111111-1600000000@g.us")
        .unwrap();
    assert_eq!(group["is_group"], true);
    let carol = chats
        .iter()
        .find(|c| c["jid"] == "491703333333@c.us")
        .unwrap();
    assert_eq!(carol["archived"], true);
    assert_eq!(snap["contacts"][ALICE], "Alice Example");
    drop(late);

    // The phone receives a message from Alice.
    let (status, pushed) = post_json(
        addr,
        "/api/sim/message",
        json!({"from": ALICE, "text": "hi from Alice"}),
    )
    .await;
    assert_eq!(status, 200);
    let pushed_id = pushed["id"].as_str().unwrap().to_owned();
    let incoming = events
        .until(|v| {
            (v["type"] == "message" && v["message"]["id"] == pushed_id)
                .then(|| v["message"].clone())
        })
        .await;
    assert_eq!(incoming["text"], "hi from Alice");
    assert_eq!(incoming["from_me"], false);
    assert_eq!(incoming["chat"], ALICE);
    assert_eq!(incoming["sender_name"], "Alice Example");
    assert_eq!(incoming["kind"], "text");
    let unread = events
        .until(|v| (v["type"] == "chat" && v["chat"]["jid"] == ALICE).then(|| v["chat"].clone()))
        .await;
    assert!(unread["unread"].as_i64().unwrap() >= 1);
    assert_eq!(unread["last"]["text"], "hi from Alice");

    // Opening the chat marks it read.
    let (status, _) = post_json(addr, "/api/cmd", json!({"cmd": "read", "chat": ALICE})).await;
    assert_eq!(status, 200);
    events
        .until(|v| {
            (v["type"] == "chat" && v["chat"]["jid"] == ALICE && v["chat"]["unread"] == 0)
                .then_some(())
        })
        .await;

    // A quoted reply goes out and its ticks go server → delivered → read.
    let (status, sent) = post_json(
        addr,
        "/api/cmd",
        json!({"cmd": "send_text", "chat": ALICE, "text": "hello Alice", "quote": pushed_id}),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    let sent_id = sent["id"].as_str().unwrap().to_owned();
    let mut statuses = Vec::new();
    events
        .until(|v| {
            if v["type"] == "message" && v["message"]["id"] == sent_id {
                statuses.push(v["message"]["status"].as_str().unwrap().to_owned());
                assert_eq!(v["message"]["quoted"]["id"], pushed_id.as_str());
                assert_eq!(v["message"]["quoted"]["text"], "hi from Alice");
            }
            (statuses.last().map(String::as_str) == Some("read")).then_some(())
        })
        .await;
    assert!(statuses.contains(&"delivered".to_owned()), "{statuses:?}");

    // The conversation as the page loads it.
    let (status, conv) = get_json(addr, &format!("/api/messages?chat={ALICE}")).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = conv["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    let (a, b) = (
        ids.iter().position(|i| *i == pushed_id).unwrap(),
        ids.iter().position(|i| *i == sent_id).unwrap(),
    );
    assert!(a < b, "oldest first");

    // A picture from Alice, downloaded and decrypted by the server.
    let (status, img) = post_json(
        addr,
        "/api/sim/image",
        json!({"from": ALICE, "caption": "sunset"}),
    )
    .await;
    assert_eq!(status, 200);
    let img_id = img["id"].as_str().unwrap().to_owned();
    let view = events
        .until(|v| {
            (v["type"] == "message" && v["message"]["id"] == img_id).then(|| v["message"].clone())
        })
        .await;
    assert_eq!(view["kind"], "image");
    assert_eq!(view["text"], "sunset");
    assert_eq!(view["media"]["mimetype"], "image/png");
    let url = view["media"]["url"].as_str().unwrap();
    let resp = request(addr, "GET", url, &[], Vec::new()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    let png = body_bytes(resp).await;
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(view["media"]["size"], png.len());

    // A file from the page: uploaded, sent as a document, acked.
    let doc = vec![b'x'; 300_000];
    let resp = request(
        addr,
        "POST",
        &format!("/api/upload?chat={ALICE}&name=notes.txt&quote={pushed_id}"),
        &[("content-type", "text/plain")],
        doc.clone(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let up: Value = serde_json::from_slice(&body_bytes(resp).await).unwrap();
    let doc_id = up["id"].as_str().unwrap().to_owned();
    let mut progress = Vec::new();
    let doc_view = events
        .until(|v| {
            if v["type"] == "upload" {
                progress.push(v["sent"].as_u64().unwrap());
            }
            (v["type"] == "message" && v["message"]["id"] == doc_id).then(|| v["message"].clone())
        })
        .await;
    assert_eq!(doc_view["kind"], "document");
    assert_eq!(doc_view["media"]["file_name"], "notes.txt");
    assert_eq!(
        doc_view["quoted"]["id"],
        pushed_id.as_str(),
        "a reply with a file"
    );
    assert!(!progress.is_empty(), "upload progress was reported");
    let resp = request(
        addr,
        "GET",
        &format!("{}&download=1", doc_view["media"]["url"].as_str().unwrap()),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"notes.txt\""
    );
    assert_eq!(body_bytes(resp).await, doc);

    // The inspector: the received message in, our reply out, decoded, secrets redacted.
    let (_, frames) = get_json(addr, "/api/frames").await;
    let frames = frames["frames"].as_array().unwrap();
    let has = |dir: &str, needle: &str| {
        frames.iter().any(|f| {
            f["dir"] == dir && f["kind"] == "node" && f["node"].to_string().contains(needle)
        })
    };
    assert!(has("in", "hi from Alice"));
    assert!(has("out", &sent_id));
    assert!(has("in", "WebMessageInfo"));
    let conn = frames
        .iter()
        .find(|f| f["kind"] == "json" && f["json"][0] == "Conn")
        .unwrap();
    assert_eq!(conn["json"][1]["secret"], "<redacted>");
    assert_eq!(conn["redacted"], true);
    let resp = request(addr, "GET", "/api/capture", &[], Vec::new()).await;
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let cap: Value = serde_json::from_slice(&body_bytes(resp).await).unwrap();
    assert_eq!(cap["format"], "waweb-capture/1");
    assert_eq!(cap["secrets"], false);
    assert!(!cap.to_string().contains(conn_secret(addr).await.as_str()));

    // Typing, then logout: a fresh QR follows.
    let (status, _) = post_json(
        addr,
        "/api/cmd",
        json!({"cmd": "typing", "chat": ALICE, "state": "composing"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post_json(addr, "/api/cmd", json!({"cmd": "logout"})).await;
    assert_eq!(status, 200);
    events
        .until(|v| {
            (v["type"] == "auth" && v["state"] == "stopped" && v["detail"] == "logged_out")
                .then_some(())
        })
        .await;
    events
        .until(|v| (v["type"] == "auth" && v["state"] == "qr").then_some(()))
        .await;
    web.shutdown().await;
}

/// The login secret, read from a capture that asks for secrets.
async fn conn_secret(addr: SocketAddr) -> String {
    let (_, cap) = get_json(addr, "/api/capture?secrets=1").await;
    assert_eq!(cap["secrets"], true);
    let conn = cap["frames"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "json" && f["json"][0] == "Conn")
        .unwrap()
        .clone();
    let secret = conn["json"][1]["secret"].as_str().unwrap().to_owned();
    assert!(secret.len() > 100, "the real secret: {secret}");
    secret
}

#[tokio::test]
async fn bad_requests_get_typed_answers() {
    let web = server(|_| {}).await;
    let addr = web.local_addr();
    let (status, v) = post_json(addr, "/api/cmd", json!({"cmd": "fly"})).await;
    assert!(status == 400 || status == 503, "{status}");
    assert_eq!(v["ok"], false);
    let resp = request(addr, "POST", "/api/cmd", &[], b"{not json".to_vec()).await;
    assert_eq!(resp.status(), 400);
    let (status, v) = get_json(addr, "/api/messages?chat=not-a-jid").await;
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("not-a-jid"));
    let (status, _) = post_json(addr, "/api/sim/scan", json!({"qr": "1@x,y,z"})).await;
    assert_eq!(status, 502, "an unknown ref is the phone's error");
    let (status, _) = post_json(addr, "/api/sim/message", json!({"text": "no sender"})).await;
    assert_eq!(status, 400);
    let (status, _) = get_json(addr, "/nope.js").await;
    assert_eq!(status, 404);
    // A file over the limit is refused from its length alone, before any byte is read.
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let huge = http_body_util::StreamBody::new(futures_util::stream::pending::<
        Result<hyper::body::Frame<Bytes>, std::io::Error>,
    >());
    let resp = sender
        .send_request(
            Request::post(format!("/api/upload?chat={ALICE}&name=big.bin"))
                .header("host", format!("127.0.0.1:{}", addr.port()))
                .header("content-length", (3u64 << 30).to_string())
                .body(huge)
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    web.shutdown().await;
}

#[tokio::test]
async fn loopback_refuses_other_hosts_and_origins() {
    let web = server(|_| {}).await;
    let addr = web.local_addr();
    let resp = request(addr, "GET", "/", &[], Vec::new()).await;
    assert_eq!(resp.status(), 200);
    assert!(
        String::from_utf8(body_bytes(resp).await)
            .unwrap()
            .contains("<html")
    );
    // A DNS-rebinding page names its own host.
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let resp = sender
        .send_request(
            Request::get("/api/frames")
                .header("host", "attacker.example:8090")
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // A cross-site form post names its origin.
    let resp = request(
        addr,
        "POST",
        "/api/cmd",
        &[("origin", "http://attacker.example")],
        br#"{"cmd":"logout"}"#.to_vec(),
    )
    .await;
    assert_eq!(resp.status(), 403);
    web.shutdown().await;
}

#[tokio::test]
async fn beyond_loopback_needs_the_flag_and_then_the_token() {
    let mut cfg = WebConfig::default();
    cfg.listen = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
    assert!(matches!(
        waweb_web::serve(cfg).await,
        Err(WebError::RemoteNotAllowed(_))
    ));

    let web = server(|c| {
        c.listen = SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0));
        c.allow_remote = true;
    })
    .await;
    let token = web.token().expect("a token beyond loopback").to_owned();
    assert_eq!(token.len(), 32);
    assert!(web.url().ends_with(&format!("?token={token}")));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, web.local_addr().port()));
    // The page itself holds no data and loads without the token.
    let resp = request(addr, "GET", "/", &[], Vec::new()).await;
    assert_eq!(resp.status(), 200);
    for path in ["/api/events", "/api/frames", "/api/capture?secrets=1"] {
        let resp = request(addr, "GET", path, &[], Vec::new()).await;
        assert_eq!(resp.status(), 401, "{path} without the token");
        let wrong = "0".repeat(32);
        let resp = request(
            addr,
            "GET",
            &format!("{path}?token={wrong}"),
            &[],
            Vec::new(),
        )
        .await;
        assert_eq!(resp.status(), 401, "{path} with a wrong token");
    }
    let (status, _) = post_json(addr, "/api/cmd", json!({"cmd": "logout"})).await;
    assert_eq!(status, 401);
    let (status, _) = get_json(addr, &format!("/api/frames?token={token}")).await;
    assert_eq!(status, 200);
    let resp = request(
        addr,
        "GET",
        "/api/frames",
        &[("x-waweb-token", token.as_str())],
        Vec::new(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    web.shutdown().await;
}

#[tokio::test]
async fn the_qr_refreshes_then_the_ref_limit_stops_and_restart_starts_over() {
    let web = server(|c| {
        c.target = Target::Simulator(Box::new(SimConfig {
            ref_ttl: Duration::from_millis(300),
            max_refs: 2,
            ..SimConfig::default()
        }));
    })
    .await;
    let addr = web.local_addr();
    let mut events = Events::open(addr).await;
    let mut codes: Vec<(u64, String)> = Vec::new();
    events
        .until(|v| {
            let auth = if v["type"] == "snapshot" {
                &v["auth"]
            } else {
                v
            };
            if auth["state"] == "qr" {
                assert_eq!(auth["qr"]["max_refs"], 2, "the simulator's limit");
                let code = auth["qr"]["code"].as_str().unwrap().to_owned();
                if codes.last().map(|(_, c)| c) != Some(&code) {
                    codes.push((auth["qr"]["attempt"].as_u64().unwrap(), code));
                }
            }
            (auth["state"] == "stopped").then(|| assert_eq!(auth["detail"], "ref_limit"))
        })
        .await;
    assert_eq!(codes.len(), 2, "the first ref and one new one: {codes:?}");
    assert_eq!((codes[0].0, codes[1].0), (0, 1));
    let (status, _) = post_json(addr, "/api/cmd", json!({"cmd": "logout"})).await;
    assert_eq!(status, 503, "no client after the limit");
    let (status, _) = post_json(addr, "/api/cmd", json!({"cmd": "restart"})).await;
    assert_eq!(status, 200);
    let code = events
        .until(|v| (v["type"] == "auth" && v["state"] == "qr").then(|| v["qr"]["code"].clone()))
        .await;
    assert_ne!(code.as_str().unwrap(), codes[1].1, "a new login, a new ref");
    let (status, _) = post_json(addr, "/api/cmd", json!({"cmd": "restart"})).await;
    assert_eq!(status, 409, "restart while a client runs");
    web.shutdown().await;
}

/// An upload the browser abandons half-way sends nothing: a cut body must not become a
/// truncated file in the chat.
#[tokio::test]
async fn an_abandoned_upload_sends_nothing() {
    let web = server(|_| {}).await;
    let addr = web.local_addr();
    let mut events = Events::open(addr).await;
    log_in(addr, &mut events).await;

    // A body that promises 300,000 bytes, gives 100,000, then fails.
    let chunks: Vec<Result<hyper::body::Frame<Bytes>, std::io::Error>> = vec![
        Ok(hyper::body::Frame::data(Bytes::from(vec![7u8; 100_000]))),
        Err(std::io::Error::other("the browser went away")),
    ];
    let body = http_body_util::StreamBody::new(futures_util::stream::iter(chunks));
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    let req = Request::post(format!("/api/upload?chat={ALICE}&name=cut.bin"))
        .header("host", format!("127.0.0.1:{}", addr.port()))
        .header("content-type", "application/octet-stream")
        .header("content-length", "300000")
        .body(body)
        .unwrap();
    // The request fails on our side; the server sees a cut body.
    let _ = sender.send_request(req).await;
    let _ = conn.await;

    // Whatever the server did, no document reached the chat: a text sent afterwards is the
    // next message after the ones already there.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, conv) = get_json(addr, &format!("/api/messages?chat={ALICE}")).await;
    let kinds: Vec<&str> = conv["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert!(
        !kinds.contains(&"document"),
        "a truncated file was sent: {kinds:?}"
    );
    let (_, frames) = get_json(addr, "/api/frames").await;
    assert!(
        !frames.to_string().contains("documentMessage"),
        "no document message went out"
    );
    web.shutdown().await;
}
