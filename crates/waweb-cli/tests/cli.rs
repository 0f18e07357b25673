//! `waweb decode` as a user runs it: arguments, standard input, files, exit codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::Write;
use std::process::Stdio;

mod common;
use common::waweb;

#[test]
fn decodes_an_argument() {
    let out = waweb().args(["decode", "f8035b4b"]).output().unwrap();
    assert!(
        !out.status.success(),
        "the attribute value is missing: must fail"
    );
    let out = waweb().args(["decode", "f803095b4b"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "[\"action\",{\"type\":\"relay\"},null]\n"
    );
}

#[test]
fn decodes_standard_input_as_base64() {
    let mut child = waweb()
        .arg("decode")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"+AMJW0s=\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "[\"action\",{\"type\":\"relay\"},null]\n"
    );
}

#[test]
fn decodes_the_capture_file() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../waweb-binary/tests/vectors/baileys-tests.hex"
    );
    let out = waweb().args(["decode", "--file", path]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.contains(
        r#"["picture",{"jid":"12345678@c.us","id":"1234"},[["image",{},{"hex":"01020304050607"}]]]"#
    ));
}

#[test]
fn bad_input_prints_the_typed_error_and_fails() {
    let out = waweb().args(["decode", "f8037b"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("invalid node:"), "{err}");
    assert!(err.contains("at byte"), "{err}");
}

#[test]
fn opens_a_captured_frame_with_keys() {
    let keys = waweb_crypto::SessionKeys::new([1; 32], [2; 32]);
    let node =
        waweb_binary::encode(&waweb_binary::Node::new("action").attr("type", "relay")).unwrap();
    let mut frame = b"1600000000.--1,".to_vec();
    frame.extend_from_slice(&[16, 0x80]);
    frame.extend_from_slice(&keys.seal_frame(&node).unwrap());
    let key_hex = format!("{}{}", hex::encode([1u8; 32]), hex::encode([2u8; 32]));
    let out = waweb()
        .args(["decode", "--keys", &key_hex, &hex::encode(&frame)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "[\"action\",{\"type\":\"relay\"},null]\n"
    );
    // Wrong keys: the MAC check fails, a one-line typed error, exit 1.
    let wrong = format!("{}{}", hex::encode([1u8; 32]), hex::encode([3u8; 32]));
    let out = waweb()
        .args(["decode", "--keys", &wrong, &hex::encode(&frame)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("MAC check"));
}
