//! The media host on the simulator's port, over raw HTTP: the `mediaConn` upload with its
//! Origin, auth and token checks, the `encr_upload` multipart upload with its hash check, GET of
//! stored blobs, the expire fault and refusals.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE as B64_URL};
use common::{Client, connect, sim};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use waweb_sim::{SimConfig, SimHandle};

async fn logged_in(sim: &SimHandle) -> Client {
    let mut c = connect(sim).await;
    c.login(sim).await;
    c.skip_burst().await;
    c
}

/// One request, `Connection: close`; returns status and body.
async fn request(sim: &SimHandle, head: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(sim.local_addr()).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = String::from_utf8_lossy(&out[9..12]).parse().unwrap();
    (status, out[end + 4..].to_vec())
}

fn post(path: &str, origin: bool, ctype: &str, len: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n{}Content-Type: {ctype}\r\nContent-Length: {len}\r\n\r\n",
        if origin {
            "Origin: https://web.whatsapp.com\r\n"
        } else {
            ""
        }
    )
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n")
}

fn path_of(url: &str) -> &str {
    let rest = url.strip_prefix("http://").unwrap();
    &rest[rest.find('/').unwrap()..]
}

#[tokio::test]
async fn media_conn_upload_checks_origin_auth_and_token_then_serves_the_blob() {
    let sim = sim(SimConfig::default()).await;
    let mut c = logged_in(&sim).await;
    c.send_json("m1", &json!(["query", "mediaConn"])).await;
    let r = c.recv_tag("m1").await;
    let mc = &r["media_conn"];
    assert_eq!(mc["hosts"][0]["hostname"], sim.local_addr().to_string());
    assert!(mc["ttl"].is_u64());
    let auth = mc["auth"].as_str().unwrap();
    let auth_q = auth
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");

    let blob: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let token = B64_URL.encode(waweb_crypto::primitives::sha256(&blob));
    let path = format!("/mms/image/{token}?auth={auth_q}&token={token}");
    let ct = "application/octet-stream";

    let (s, _) = request(&sim, &post(&path, false, ct, blob.len()), &blob).await;
    assert_eq!(s, 403, "Origin is required");
    let bad_auth = format!("/mms/image/{token}?auth=nope&token={token}");
    let (s, _) = request(&sim, &post(&bad_auth, true, ct, blob.len()), &blob).await;
    assert_eq!(s, 401, "unknown auth");
    let mut other = blob.clone();
    other[0] ^= 1;
    let (s, _) = request(&sim, &post(&path, true, ct, other.len()), &other).await;
    assert_eq!(s, 400, "token is not the body's hash");
    let (s, _) = request(&sim, &post("/mms/pdf/x?auth=a&token=x", true, ct, 1), b"x").await;
    assert!(s == 401 || s == 404);

    let (s, body) = request(&sim, &post(&path, true, ct, blob.len()), &blob).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).unwrap();
    let url = v["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("http://{}/d/f/", sim.local_addr())));
    assert_eq!(v["direct_path"], path_of(url));

    let (s, got) = request(&sim, &get(path_of(url)), b"").await;
    assert_eq!(s, 200);
    assert!(got == blob);
    // The expire fault: 404 from now on for that URL.
    sim.faults().expire_next_download();
    assert_eq!(request(&sim, &get(path_of(url)), b"").await.0, 404);
    assert_eq!(request(&sim, &get(path_of(url)), b"").await.0, 404);
    assert_eq!(request(&sim, &get("/d/f/unknown.enc"), b"").await.0, 404);
    let put = format!("PUT {} HTTP/1.1\r\nContent-Length: 0\r\n\r\n", path_of(url));
    assert_eq!(request(&sim, &put, b"").await.0, 405);
    sim.shutdown().await;
}

#[tokio::test]
async fn encr_upload_takes_a_multipart_form_with_the_hash() {
    let sim = sim(SimConfig::default()).await;
    let mut c = logged_in(&sim).await;
    let blob: Vec<u8> = (0..100_000u32).map(|i| (i * 31 % 256) as u8).collect();
    let hash = B64.encode(waweb_crypto::primitives::sha256(&blob));
    let form = |hash: &str| {
        let mut b = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"hash\"\r\n\r\n{hash}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"blob\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        b.extend_from_slice(&blob);
        b.extend_from_slice(b"\r\n--XyZ--\r\n");
        b
    };
    let ct = "multipart/form-data; boundary=XyZ";

    // A hash that is not the file's: refused.
    c.send_json("u1", &json!(["action", "encr_upload", "document", hash]))
        .await;
    let url = c.recv_tag("u1").await["url"].as_str().unwrap().to_owned();
    let body = form("AAAA");
    let p = format!("{}?f=j", path_of(&url));
    assert_eq!(
        request(&sim, &post(&p, true, ct, body.len()), &body)
            .await
            .0,
        400
    );

    c.send_json("u2", &json!(["action", "encr_upload", "document", hash]))
        .await;
    let r = c.recv_tag("u2").await;
    assert_eq!(r["status"], 200);
    let url = r["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("http://{}/upload/document/", sim.local_addr())));
    let body = form(&hash);
    let p = format!("{}?f=j", path_of(url));
    let (s, reply) = request(&sim, &post(&p, false, ct, body.len()), &body).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&reply));
    let v: Value = serde_json::from_slice(&reply).unwrap();
    let (s, got) = request(&sim, &get(path_of(v["url"].as_str().unwrap())), b"").await;
    assert_eq!(s, 200);
    assert!(got == blob);
    // An upload URL works once.
    assert_eq!(
        request(&sim, &post(&p, false, ct, body.len()), &body)
            .await
            .0,
        404
    );
    sim.shutdown().await;
}
