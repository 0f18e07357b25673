//! The real captured nodes in `tests/vectors/` (copied from the project's shared vectors; each
//! file's first line says where the bytes come from) must all decode, re-encode to bytes that
//! decode to the same tree, and — the aim — re-encode byte for byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use waweb_binary::{Tree, encode};

fn vectors() -> Vec<(String, usize, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, text) in [
        (
            "baileys-tests.hex",
            include_str!("vectors/baileys-tests.hex"),
        ),
        (
            "captured-2020.hex",
            include_str!("vectors/captured-2020.hex"),
        ),
    ] {
        for (line_no, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            out.push((
                name.to_owned(),
                line_no + 1,
                hex::decode(line).expect("vector is hex"),
            ));
        }
    }
    out
}

#[test]
fn every_capture_decodes_and_round_trips() {
    let vectors = vectors();
    assert_eq!(
        vectors.len(),
        12,
        "two Baileys vectors and ten 2020 captures"
    );
    let mut identical = 0;
    let mut differing = Vec::new();
    for (file, line, bytes) in &vectors {
        let tree = Tree::decode(bytes).unwrap_or_else(|e| panic!("{file}:{line}: {e}"));
        let owned = tree.root().to_owned();
        let again = encode(&owned).unwrap_or_else(|e| panic!("{file}:{line}: {e}"));
        let tree2 =
            Tree::decode(&again).unwrap_or_else(|e| panic!("{file}:{line} re-encoded: {e}"));
        assert_eq!(
            tree2.root().to_owned(),
            owned,
            "{file}:{line}: re-encoded tree differs"
        );
        if &again == bytes {
            identical += 1;
        } else {
            let at = again
                .iter()
                .zip(bytes.iter())
                .position(|(a, b)| a != b)
                .unwrap_or(again.len().min(bytes.len()));
            differing.push(format!("{file}:{line} first differs at byte {at}"));
        }
    }
    println!(
        "captures: {} decoded, {identical} re-encoded byte for byte",
        vectors.len()
    );
    for d in &differing {
        println!("  not identical: {d}");
    }
    // The one known difference: the second Baileys vector was produced by Baileys' own JS
    // encoder, which writes the JID user `12345678` and the value `1234` as BINARY_8 text where
    // the real server (and this writer) pack them as NIBBLE_8. Every capture from the real
    // server re-encodes byte for byte.
    assert_eq!(
        differing.len(),
        1,
        "non-identical re-encodings: {differing:?}"
    );
    assert!(
        differing[0].starts_with("baileys-tests.hex:3 "),
        "{differing:?}"
    );
    assert_eq!(identical, vectors.len() - 1);
}
