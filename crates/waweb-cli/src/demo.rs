//! `waweb demo`: the whole flow against the embedded simulator, explained step by step.

use std::io::Write as _;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use waweb_client::{Ack, AddKind, Client, ClientConfig, ClientEvent, Event, EventStream, Jid};
use waweb_proto::proto::{Message as ProtoMessage, MessageKey, WebMessageInfo};
use waweb_sim::{SimConfig, SimHandle};

use crate::{live, qr};

/// Arguments of `waweb demo`.
#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// Do not draw the QR code (print its text only).
    #[arg(long)]
    no_qr: bool,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    timeout: u64,
}

const ALICE: &str = "491701111111@c.us";

struct Out(std::io::Stdout);

impl Out {
    fn step(&mut self, n: u32, title: &str, explain: &str) -> anyhow::Result<()> {
        writeln!(self.0, "\n== Step {n}: {title}\n   {explain}")?;
        self.0.flush()?;
        Ok(())
    }
    fn line(&mut self, s: &str) -> anyhow::Result<()> {
        writeln!(self.0, "   {s}")?;
        self.0.flush()?;
        Ok(())
    }
}

/// Runs the demo.
pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let sim = waweb_sim::start(SimConfig {
        auto_scan: Some(Duration::from_millis(300)),
        ..SimConfig::default()
    })
    .await
    .context("cannot start the embedded simulator")?;
    let result = tokio::time::timeout(Duration::from_secs(args.timeout), demo(&sim, &args)).await;
    sim.shutdown().await;
    match result {
        Ok(r) => r,
        Err(_) => bail!("the demo did not finish within {} s", args.timeout),
    }
}

async fn next(events: &mut EventStream) -> anyhow::Result<ClientEvent> {
    match events.recv().await {
        Some(ClientEvent::Stopped(r)) => bail!("the client stopped unexpectedly: {r:?}"),
        Some(ev) => Ok(ev),
        None => bail!("the client stopped unexpectedly"),
    }
}

async fn demo(sim: &SimHandle, args: &DemoArgs) -> anyhow::Result<()> {
    let mut out = Out(std::io::stdout());
    writeln!(
        out.0,
        "waweb demo: a WhatsApp Web client talking to a simulated server and phone on this machine.\n\
         Nothing leaves 127.0.0.1; no account or phone is needed."
    )?;

    out.step(
        1,
        "start the simulator",
        "The simulator plays WhatsApp's web server and your phone, over a real websocket.",
    )?;
    out.line(&format!("listening at {}", sim.ws_url()))?;

    out.step(
        2,
        "connect the client",
        "The client opens the websocket, generates a key pair and asks the server for a login reference.",
    )?;
    let mut config = ClientConfig::with_url(sim.ws_url());
    config.transport.logout_url = sim.logout_url();
    let (client, mut events) = Client::connect(config);

    // QR, login, chat list.
    let mut logged_in = false;
    let mut chats = None;
    while !(logged_in && chats.is_some()) {
        match next(&mut events).await? {
            ClientEvent::Qr { code, ttl, .. } => {
                out.step(
                    3,
                    "show the QR code",
                    "The code holds the server's reference, the client's public key and its id. On a real\n   \
                     phone you would scan it under Settings > Linked devices; here the simulated phone scans it.",
                )?;
                if !args.no_qr {
                    writeln!(out.0, "{}", qr::render_text(&code)?)?;
                }
                out.line(&format!("QR: {code}  (valid {} s)", ttl.as_secs()))?;
                sim.show_qr(&code)
                    .await
                    .context("the phone could not scan")?;
            }
            ClientEvent::LoggedIn { wid, pushname, .. } => {
                out.step(
                    4,
                    "logged in",
                    "The phone sent a secret encrypted for our key; both sides now share the keys that\n   \
                     encrypt and authenticate every binary message.",
                )?;
                out.line(&format!(
                    "logged in as {} ({})",
                    wid.map(|w| w.to_string()).unwrap_or_default(),
                    pushname.unwrap_or_default()
                ))?;
                logged_in = true;
            }
            ClientEvent::CredentialsUpdated(_) => {
                out.line("credentials received (a real program stores them to log in again without a QR)")?;
            }
            ClientEvent::Event(Event::Chats(list)) => chats = Some(list),
            _ => {}
        }
    }
    out.step(
        5,
        "the chat list",
        "Right after login the phone sends the contacts, the chats and the last messages.",
    )?;
    let list = chats.unwrap_or_default();
    write!(out.0, "{}", indent(&live::format_chats(&list.chats)))?;

    out.step(
        6,
        "receive a message",
        "Alice writes to us: the simulator pushes an encrypted message, the client decodes it.",
    )?;
    let incoming = WebMessageInfo {
        key: MessageKey {
            remote_jid: Some("491701111111@s.whatsapp.net".into()),
            from_me: Some(false),
            id: Some("3EB0DE40DE40DE40DE40".into()),
            participant: None,
        },
        message: Some(ProtoMessage::from_text("Hello from the demo!")),
        message_timestamp: Some(now()),
        push_name: Some("Alice".into()),
        ..WebMessageInfo::default()
    };
    sim.push_message(incoming)
        .await
        .context("cannot push a message")?;
    loop {
        if let ClientEvent::Event(Event::Messages(b)) = next(&mut events).await?
            && let Some(m) = b
                .messages
                .iter()
                .find(|m| b.add == AddKind::Relay && m.id == "3EB0DE40DE40DE40DE40")
        {
            let name = client
                .with_store(|s| s.contact_name(&m.chat).map(str::to_owned))
                .flatten()
                .unwrap_or_else(|| m.chat.to_string());
            out.line(&format!("{name}: {}", m.text().unwrap_or("(no text)")))?;
            break;
        }
    }

    out.step(
        7,
        "send a reply",
        "The client wraps the text in a protobuf message, encrypts it and waits for the server's ack.",
    )?;
    let alice: Jid = ALICE.parse().context("bad JID")?;
    let sent = client
        .send_text(&alice, "Hi Alice, this is waweb!")
        .await
        .context("sending failed")?;
    out.line(&format!("sent message {} to {alice}", sent.id))?;
    out.line("the server acknowledged it (status: server)")?;
    loop {
        if let ClientEvent::Event(Event::Receipt(r)) = next(&mut events).await?
            && r.ids.contains(&sent.id)
        {
            out.line(&format!(
                "receipt from the server: {}",
                match r.ack {
                    Ack::Server => "reached the server (one tick)",
                    Ack::Delivered => "delivered (two ticks)",
                    Ack::Read => "read (two blue ticks)",
                    _ => "other",
                }
            ))?;
            break;
        }
    }

    out.step(
        8,
        "download a picture",
        "Alice sends a photo: the phone encrypted it with a fresh media key and uploaded it to the\n   \
         media host; the message carries the key, the URL and the hashes. The client downloads it,\n   \
         checks the MAC and the hashes, and only then decrypts it.",
    )?;
    let picture = demo_picture();
    let pushed = sim
        .push_image(
            "491701111111@s.whatsapp.net",
            &picture,
            "Sunset at the lake",
        )
        .await
        .context("cannot push a picture")?;
    let pushed_id = pushed.key.id.clone().unwrap_or_default();
    let image = loop {
        if let ClientEvent::Event(Event::Messages(b)) = next(&mut events).await?
            && let Some(m) = b.messages.into_iter().find(|m| m.id == pushed_id)
        {
            break m;
        }
    };
    let media = image.info.media().context("the message has no picture")?;
    out.line(&format!(
        "Alice Example sent a picture: \"{}\", {} bytes, from {}",
        media.caption.unwrap_or_default(),
        media.file_length.unwrap_or_default(),
        media.url.unwrap_or_default()
    ))?;
    let mut bytes = Vec::new();
    let got = client
        .download_media(&image.info, &mut bytes, &mut |_, _| {})
        .await
        .context("download failed")?;
    if bytes != picture {
        bail!("the downloaded picture differs from the one sent");
    }
    out.line(&format!(
        "downloaded and decrypted {} bytes; MAC, fileSha256 and fileEncSha256 checked",
        got.file_length
    ))?;

    out.step(
        9,
        "log out",
        "The client tells the server to forget this session; the phone unlinks it.",
    )?;
    client.logout().await.context("logout failed")?;
    out.line("logged out")?;
    writeln!(
        out.0,
        "\nDone. Next: run `waweb sim` in one terminal, `waweb login --url ws://127.0.0.1:8080/ws` in another,\n\
         and paste the QR line into the simulator's terminal."
    )?;
    Ok(())
}

/// A small picture for step 8: a 64x64 gradient as a binary PPM image.
fn demo_picture() -> Vec<u8> {
    let mut p = b"P6\n64 64\n255\n".to_vec();
    for y in 0..64u8 {
        for x in 0..64u8 {
            p.extend_from_slice(&[x * 4, y * 4, 128]);
        }
    }
    p
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("   {l}\n")).collect()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
