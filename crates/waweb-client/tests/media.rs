//! Media against the simulator's media host over real loopback sockets: every media type through
//! both upload flows and back, an expired URL refreshed with the `media` query, a tampered blob
//! refused by the MAC, a picture the phone pushes, and 100 MiB streamed through each flow with
//! bounded memory (peak RSS of client and simulator together, from `/proc/self/status`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::SeekFrom;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::time::timeout;
use waweb_client::{
    AddKind, Client, ClientConfig, ClientEvent, Event, EventStream, Jid, MediaError, MediaOptions,
    MediaType, UploadFlow,
};
use waweb_crypto::MediaKey;
use waweb_proto::proto::{self, WebMessageInfo};
use waweb_sim::{SimConfig, SimEvent, SimHandle};

const T: Duration = Duration::from_secs(30);
const ALICE: &str = "491701111111@c.us";
const MIB: u64 = 1024 * 1024;

fn jid(s: &str) -> Jid {
    s.parse().unwrap()
}

async fn logged_in() -> (SimHandle, Client, EventStream) {
    let sim = waweb_sim::start(SimConfig::default()).await.unwrap();
    let (client, mut events) = Client::connect(ClientConfig::with_url(sim.ws_url()));
    let (mut logged, mut chats) = (false, false);
    timeout(T, async {
        while let Some(ev) = events.recv().await {
            match ev {
                ClientEvent::Qr { code, .. } => sim.scan(&code).await.unwrap(),
                ClientEvent::LoggedIn { .. } => logged = true,
                ClientEvent::Event(Event::Chats(_)) => chats = true,
                _ => {}
            }
            if logged && chats {
                break;
            }
        }
    })
    .await
    .expect("login in time");
    (sim, client, events)
}

/// Deterministic content of `len` bytes.
fn content(len: usize, seed: u8) -> Vec<u8> {
    let mut x = u32::from(seed).wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect()
}

/// The next message the simulator received from the client.
async fn received(rx: &mut tokio::sync::broadcast::Receiver<SimEvent>) -> WebMessageInfo {
    timeout(T, async {
        loop {
            if let SimEvent::MessageReceived { message, .. } = rx.recv().await.unwrap() {
                return *message;
            }
        }
    })
    .await
    .expect("message at the simulator")
}

async fn download(client: &Client, msg: &WebMessageInfo) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    let mut last = (0, None);
    let r = client
        .download_media(msg, &mut out, &mut |n, total| last = (n, total))
        .await;
    if r.is_ok() {
        assert_eq!(Some(last.0), last.1, "progress ends at the total");
    }
    r.map(|_| out)
}

#[tokio::test]
async fn every_media_type_round_trips_through_both_flows() {
    let (sim, client, _events) = logged_in().await;
    let mut rx = sim.events();
    for (i, t) in MediaType::ALL.into_iter().enumerate() {
        for flow in [UploadFlow::MediaConn, UploadFlow::EncrUpload] {
            let data = content(1000 + i * 70_001, i as u8);
            let options = MediaOptions::default()
                .caption(format!("{t:?}"))
                .file_name("report.pdf")
                .flow(flow);
            let sent = client
                .send_media(&jid(ALICE), t, data.as_slice(), options)
                .await
                .unwrap_or_else(|e| panic!("{t:?} {flow:?}: {e}"));
            // The message as the simulator decoded it off the wire.
            let got = received(&mut rx).await;
            assert_eq!(got.key.id.as_deref(), Some(sent.id.as_str()));
            let media = got.media().expect("media content");
            let expect_kind = match t {
                MediaType::Image => waweb_proto::MediaKind::Image,
                MediaType::Sticker => waweb_proto::MediaKind::Sticker,
                MediaType::Video | MediaType::Gif => waweb_proto::MediaKind::Video,
                MediaType::Audio | MediaType::Ptt => waweb_proto::MediaKind::Audio,
                _ => waweb_proto::MediaKind::Document,
            };
            assert_eq!(media.kind, expect_kind);
            assert!(media.url.unwrap().starts_with("http://127.0.0.1:"));
            assert!(media.direct_path.unwrap().starts_with("/d/f/"));
            assert_eq!(media.media_key.unwrap().len(), 32);
            assert_eq!(media.file_length, Some(data.len() as u64));
            assert_eq!(
                media.file_sha256.unwrap(),
                waweb_crypto::primitives::sha256(&data)
            );
            assert_eq!(media.file_enc_sha256.unwrap().len(), 32);
            assert!(media.mimetype.is_some());
            let m = got.message.as_ref().unwrap();
            match t {
                MediaType::Gif => {
                    let v = m.video_message.as_ref().unwrap();
                    assert_eq!(v.gif_playback, Some(true));
                    assert!(v.streaming_sidecar.is_some());
                }
                MediaType::Ptt => assert_eq!(m.audio_message.as_ref().unwrap().ptt, Some(true)),
                MediaType::Document => {
                    let d = m.document_message.as_ref().unwrap();
                    assert_eq!(d.file_name.as_deref(), Some("report.pdf"));
                }
                MediaType::Image => assert_eq!(media.caption, Some("Image")),
                _ => {}
            }
            // Byte-identical back, from both the received and the sent form.
            assert_eq!(
                download(&client, &got).await.unwrap(),
                data,
                "{t:?} {flow:?}"
            );
            assert_eq!(download(&client, &sent.info).await.unwrap(), data);
        }
    }
    client.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn an_expired_url_is_refreshed_with_the_media_query() {
    let (sim, client, _events) = logged_in().await;
    let data = content(200_000, 9);
    let sent = client
        .send_media(
            &jid(ALICE),
            MediaType::Image,
            data.as_slice(),
            MediaOptions::default(),
        )
        .await
        .unwrap();
    let mut rx = sim.events();
    sim.faults().expire_next_download();
    assert_eq!(download(&client, &sent.info).await.unwrap(), data);
    // The refresh query as the simulator received it.
    let query = timeout(T, async {
        loop {
            if let SimEvent::FrameIn { frame, .. } = rx.recv().await.unwrap()
                && let waweb_sim::FrameBody::Binary {
                    node: Some(node), ..
                } = frame.body
                && node.tag == "query"
                && node.get_attr("type") == Some("media")
            {
                return node;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(query.get_attr("index"), Some(sent.id.as_str()));
    assert_eq!(query.get_attr("owner"), Some("true"));
    // (the decoder shows the wire's s.whatsapp.net as c.us)
    assert!(query.get_attr("jid").unwrap().starts_with("491701111111@"));
    assert!(query.get_attr("epoch").is_some());
    // The old URL stays expired: every later download goes through a fresh URL.
    let url = sent.info.media().unwrap().url.unwrap().to_owned();
    assert_eq!(download(&client, &sent.info).await.unwrap(), data);
    let fresh = client.refresh_media_url(&sent.info).await.unwrap();
    assert_ne!(fresh, url);
    // An unknown message cannot be refreshed.
    let mut unknown = sent.info.clone();
    unknown.key.id = Some("3EB0000000000000DEAD".into());
    match client.refresh_media_url(&unknown).await {
        Err(MediaError::Http { status: 404, .. }) => {}
        other => panic!("{other:?}"),
    }
    client.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_tampered_blob_fails_the_mac_and_writes_nothing() {
    let (sim, client, _events) = logged_in().await;
    let data = content(100_000, 3);
    let key = MediaKey::generate().unwrap();
    let (mut enc, info) = key.expand(MediaType::Document).encrypt_to_vec(&data, false);
    enc[5000] ^= 1;
    let url = sim.store_media(&enc).unwrap();
    let msg = WebMessageInfo::outgoing(
        "491701111111@s.whatsapp.net",
        "3EB0000000000000BEEF",
        1,
        proto::Message {
            document_message: Some(Box::new(proto::DocumentMessage {
                url: Some(url),
                media_key: Some(key.as_bytes().to_vec()),
                file_enc_sha256: Some(info.file_enc_sha256.to_vec()),
                file_sha256: Some(info.file_sha256.to_vec()),
                file_length: Some(info.file_length),
                ..Default::default()
            })),
            ..Default::default()
        },
    );
    let mut out = Vec::new();
    let err = client
        .download_media(&msg, &mut out, &mut |_, _| {})
        .await
        .unwrap_err();
    assert!(
        matches!(err, MediaError::Crypto(waweb_crypto::Error::MediaMac)),
        "{err:?}"
    );
    assert!(
        out.is_empty(),
        "no unverified plaintext reaches the destination"
    );
    // No media at all.
    let text =
        WebMessageInfo::outgoing("x@s.whatsapp.net", "1", 1, proto::Message::from_text("hi"));
    assert!(matches!(
        client.download_media(&text, &mut out, &mut |_, _| {}).await,
        Err(MediaError::NoMedia(_))
    ));
    client.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn a_picture_the_phone_pushes_downloads() {
    let (sim, client, mut events) = logged_in().await;
    let jpeg = content(300_000, 42);
    let pushed = sim.push_image(ALICE, &jpeg, "sunset").await.unwrap();
    let msg = timeout(T, async {
        loop {
            if let Some(ClientEvent::Event(Event::Messages(b))) = events.recv().await
                && b.add == AddKind::Relay
                && let Some(m) = b
                    .messages
                    .into_iter()
                    .find(|m| m.id == pushed.key.id.clone().unwrap())
            {
                return m;
            }
        }
    })
    .await
    .unwrap();
    assert!(!msg.from_me);
    assert_eq!(msg.info.media().unwrap().caption, Some("sunset"));
    assert_eq!(download(&client, &msg.info).await.unwrap(), jpeg);
    client.shutdown().await;
    sim.shutdown().await;
}

/// A deterministic async source of `remaining` bytes (a 65521-byte pattern served cyclically).
struct Gen {
    remaining: u64,
    pattern: Vec<u8>,
    at: usize,
}

impl Gen {
    fn new(len: u64) -> Self {
        Self {
            remaining: len,
            pattern: content(65_521, 77),
            at: 0,
        }
    }
    fn fill(&mut self, buf: &mut [u8]) -> usize {
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let mut done = 0;
        while done < want {
            let n = (want - done).min(self.pattern.len() - self.at);
            buf[done..done + n].copy_from_slice(&self.pattern[self.at..self.at + n]);
            self.at = (self.at + n) % self.pattern.len();
            done += n;
        }
        self.remaining -= want as u64;
        want
    }
}

impl tokio::io::AsyncRead for Gen {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let n = this.fill(buf.initialize_unfilled());
        buf.advance(n);
        std::task::Poll::Ready(Ok(()))
    }
}

fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Sends `len` bytes as a video through `flow`, downloads them to a file and compares the file
/// with the source, asserting that peak RSS (client and simulator together) grew by less than
/// 32 MiB.
async fn streamed_round_trip(len: u64, flow: UploadFlow) {
    let (sim, client, _events) = logged_in().await;
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let start = status_kib("VmRSS:").map(|k| k * 1024);
    let t = Instant::now();
    let mut up_last = 0;
    let sent = client
        .send_media_with_progress(
            &jid(ALICE),
            MediaType::Video,
            Gen::new(len),
            MediaOptions::default().flow(flow),
            &mut |n, _| up_last = n,
        )
        .await
        .unwrap();
    let t_up = t.elapsed();
    assert!(up_last >= len);
    let out = tempfile::tempfile().unwrap();
    let mut out = tokio::fs::File::from_std(out);
    let got = client
        .download_media(&sent.info, &mut out, &mut |_, _| {})
        .await
        .unwrap();
    let t_down = t.elapsed() - t_up;
    let growth = status_kib("VmHWM:").and_then(|p| Some((p * 1024).saturating_sub(start?)));
    assert_eq!(got.file_length, len);
    // Byte-identical: compare the output file with the regenerated source.
    out.seek(SeekFrom::Start(0)).await.unwrap();
    let mut src = Gen::new(len);
    let (mut a, mut b) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    let mut total = 0u64;
    loop {
        let n = out.read(&mut a).await.unwrap();
        if n == 0 {
            break;
        }
        assert_eq!(src.fill(&mut b[..n]), n);
        assert!(a[..n] == b[..n], "differs near byte {total}");
        total += n as u64;
    }
    assert_eq!(total, len);
    eprintln!(
        "{} MiB via {flow:?}: upload {t_up:?}, download {t_down:?}, peak RSS growth {:?} KiB",
        len / MIB,
        growth.map(|g| g / 1024)
    );
    if let Some(g) = growth {
        assert!(g < 32 * MIB, "peak RSS grew by {g} bytes");
    }
    client.shutdown().await;
    sim.shutdown().await;
}

/// Issue 6, point 5: 100 MiB up and down through each flow, byte-identical, bounded memory
/// (about 1 s each way in the default debug test run).
#[tokio::test]
async fn hundred_mib_stream_through_media_conn_with_bounded_memory() {
    streamed_round_trip(100 * MIB, UploadFlow::MediaConn).await;
}

#[tokio::test]
async fn hundred_mib_stream_through_encr_upload_with_bounded_memory() {
    streamed_round_trip(100 * MIB, UploadFlow::EncrUpload).await;
}

/// A media message can reply to another: its `contextInfo` quotes the original.
#[tokio::test]
async fn a_media_reply_quotes_its_original() {
    let (sim, client, _events) = logged_in().await;
    let mut rx = sim.events();
    let original = client.send_text(&jid(ALICE), "the original").await.unwrap();
    let _ = received(&mut rx).await;
    let bytes = content(5000, 9);
    let sent = client
        .send_media(
            &jid(ALICE),
            MediaType::Document,
            bytes.as_slice(),
            MediaOptions::default()
                .file_name("reply.bin")
                .quoting(original.info.clone()),
        )
        .await
        .unwrap();
    let msg = received(&mut rx).await;
    assert_eq!(msg.key.id.as_deref(), Some(sent.id.as_str()));
    let doc = msg.message.unwrap().document_message.unwrap();
    let ctx = doc.context_info.unwrap();
    assert_eq!(ctx.stanza_id.as_deref(), Some(original.id.as_str()));
    assert_eq!(
        ctx.participant.as_deref(),
        Some("491234567890@s.whatsapp.net")
    );
    assert_eq!(ctx.quoted_message.unwrap().text(), Some("the original"));
    client.shutdown().await;
    sim.shutdown().await;
}
