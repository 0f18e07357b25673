//! A bare test client: tokio-tungstenite plus waweb-crypto, no session crate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    dead_code,
    unreachable_pub
)]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use waweb_binary::Node;
use waweb_crypto::{KeyPair, LoginSecret, SessionKeys};
use waweb_sim::{SimConfig, SimHandle};

pub const WAIT: Duration = Duration::from_secs(5);

pub enum Frame {
    Text(String, Value),
    Pong(u64),
    Binary(String, Vec<u8>),
    Closed(Option<Message>),
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Frame::Text(t, v) => write!(f, "Text({t},{v})"),
            Frame::Pong(ms) => write!(f, "Pong({ms})"),
            Frame::Binary(t, b) => write!(f, "Binary({t}, {} bytes)", b.len()),
            Frame::Closed(m) => write!(f, "Closed({m:?})"),
        }
    }
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub client_id: String,
    pub keys: Option<SessionKeys>,
    pub key_pair: KeyPair,
    pub counter: u32,
}

pub async fn sim(cfg: SimConfig) -> SimHandle {
    waweb_sim::start(cfg).await.unwrap()
}

pub async fn connect(sim: &SimHandle) -> Client {
    let mut req = sim.ws_url().into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", "https://web.whatsapp.com".parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut id = [0u8; 16];
    waweb_crypto::primitives::random_bytes(&mut id).unwrap();
    Client {
        ws,
        client_id: B64.encode(id),
        keys: None,
        key_pair: KeyPair::generate().unwrap(),
        counter: 0,
    }
}

impl Client {
    pub async fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text.to_owned())).await.unwrap();
    }

    pub async fn send_json(&mut self, tag: &str, v: &Value) {
        self.send(&format!("{tag},{v}")).await;
    }

    pub fn next_tag(&mut self) -> String {
        self.counter += 1;
        format!("1637000000.--{}", self.counter)
    }

    /// Sends a binary node with the metric and flags bytes.
    pub async fn send_node(&mut self, tag: &str, node: &Node, metric: u8, flags: u8) {
        let plain = waweb_binary::encode(node).unwrap();
        let frame = self.keys.as_ref().unwrap().seal_frame(&plain).unwrap();
        let mut bytes = format!("{tag},").into_bytes();
        bytes.push(metric);
        bytes.push(flags);
        bytes.extend_from_slice(&frame);
        self.ws.send(Message::binary(bytes)).await.unwrap();
    }

    pub async fn recv(&mut self) -> Frame {
        loop {
            let m = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("no frame within the timeout");
            match m {
                Some(Ok(Message::Text(t))) => {
                    let t = t.as_str();
                    if let Some(ms) = t.strip_prefix('!') {
                        return Frame::Pong(ms.parse().unwrap());
                    }
                    let (tag, rest) = t.split_once(',').unwrap();
                    let rest = rest.strip_prefix(',').unwrap_or(rest);
                    return Frame::Text(tag.to_owned(), serde_json::from_str(rest).unwrap());
                }
                Some(Ok(Message::Binary(b))) => {
                    let comma = b.iter().position(|c| *c == b',').unwrap();
                    let tag = String::from_utf8(b[..comma].to_vec()).unwrap();
                    return Frame::Binary(tag, b[comma + 1..].to_vec());
                }
                Some(Ok(m @ Message::Close(_))) => return Frame::Closed(Some(m)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Frame::Closed(None),
            }
        }
    }

    /// The next text frame with this tag (other frames are skipped).
    pub async fn recv_tag(&mut self, tag: &str) -> Value {
        loop {
            match self.recv().await {
                Frame::Text(t, v) if t == tag => return v,
                Frame::Closed(m) => panic!("closed while waiting for {tag}: {m:?}"),
                _ => {}
            }
        }
    }

    /// The next binary frame, opened and decoded.
    pub async fn recv_node(&mut self) -> (String, Node) {
        loop {
            match self.recv().await {
                Frame::Binary(tag, data) => {
                    let plain = self.keys.as_ref().unwrap().open_frame(&data).unwrap();
                    return (tag, waweb_binary::decode_owned(&plain).unwrap());
                }
                Frame::Closed(m) => panic!("closed while waiting for a node: {m:?}"),
                _ => {}
            }
        }
    }

    /// The next binary frame, raw.
    pub async fn recv_binary(&mut self) -> (String, Vec<u8>) {
        loop {
            match self.recv().await {
                Frame::Binary(tag, data) => return (tag, data),
                Frame::Closed(m) => panic!("closed while waiting for a frame: {m:?}"),
                _ => {}
            }
        }
    }

    /// Sends init and returns the reply.
    pub async fn init(&mut self) -> Value {
        let tag = self.next_tag();
        let init = json!([
            "admin",
            "init",
            [2, 2142, 12],
            ["Test Browser", "Test", "1.0"],
            self.client_id,
            true
        ]);
        self.send_json(&tag, &init).await;
        self.recv_tag(&tag).await
    }

    pub fn qr(&self, server_ref: &str) -> String {
        self.key_pair.qr_string(server_ref, &self.client_id)
    }

    /// Init, scan, Conn: returns the `Conn` object; the keys are set.
    pub async fn login(&mut self, sim: &SimHandle) -> Value {
        let reply = self.init().await;
        let r = reply["ref"].as_str().unwrap().to_owned();
        sim.scan(&self.qr(&r)).await.unwrap();
        let conn = self.recv_tag("s1").await;
        assert_eq!(conn[0], "Conn");
        let secret = LoginSecret::from_base64(conn[1]["secret"].as_str().unwrap()).unwrap();
        self.keys = Some(self.key_pair.session_keys(&secret).unwrap());
        conn[1].clone()
    }

    /// Skips Stream, Props and the three `preempt-` nodes of the burst (sample account).
    pub async fn skip_burst(&mut self) {
        let mut nodes = 0;
        while nodes < 3 {
            match self.recv().await {
                Frame::Binary(tag, _) => {
                    assert!(tag.starts_with("preempt-"), "{tag}");
                    nodes += 1;
                }
                Frame::Closed(m) => panic!("closed in the burst: {m:?}"),
                _ => {}
            }
        }
    }

    /// Init and login back to back with these tokens; returns (init tag, login tag).
    pub async fn restore(&mut self, client_token: &str, server_token: &str) -> (String, String) {
        let t1 = self.next_tag();
        let init = json!([
            "admin",
            "init",
            [2, 2142, 12],
            ["Test Browser", "Test", "1.0"],
            self.client_id,
            true
        ]);
        self.send_json(&t1, &init).await;
        let t2 = self.next_tag();
        let login = json!([
            "admin",
            "login",
            client_token,
            server_token,
            self.client_id,
            "takeover"
        ]);
        self.send_json(&t2, &login).await;
        (t1, t2)
    }

    /// A new connection for the same client (id, key pair and keys).
    pub async fn reconnect(self, sim: &SimHandle) -> Client {
        let mut c = connect(sim).await;
        c.client_id = self.client_id;
        c.keys = self.keys;
        c.key_pair = self.key_pair;
        c
    }
}

pub fn text_message(jid: &str, id: &str, text: &str) -> waweb_proto::proto::WebMessageInfo {
    waweb_proto::proto::WebMessageInfo::outgoing(
        jid,
        id,
        1_637_000_000,
        waweb_proto::proto::Message::from_text(text),
    )
}
