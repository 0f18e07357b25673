//! Codec throughput on a deterministic, realistic corpus: chat and contact lists of hundreds of
//! entries, message batches, small presence/receipt frames, a few large byte runs, and the real
//! 2020 captures. Run: `cargo bench -p waweb-binary --bench codec`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use waweb_binary::{Node, Tree, decode_owned, encode};

/// A small deterministic generator (xorshift64*), so every run benches the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next() % 10) as u8))
            .collect()
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789ABCDEF"[(self.next() % 16) as usize]))
            .collect()
    }
    fn word(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'a' + (self.next() % 26) as u8))
            .collect()
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn chat_list(r: &mut Rng, n: usize) -> Node {
    let chats = (0..n)
        .map(|i| {
            let jid = if i % 7 == 0 {
                format!("{}-{}@g.us", r.digits(12), r.digits(10))
            } else {
                format!("{}@c.us", r.digits(12))
            };
            Node::new("chat")
                .attr("jid", jid)
                .attr("count", (r.next() % 20).to_string())
                .attr("t", r.digits(10))
                .attr("spam", "false")
                .attr("mute", if i % 5 == 0 { r.digits(10) } else { "0".into() })
                .attr("modify_tag", r.digits(6))
                .attr("name", format!("{} {}", r.word(6), r.word(8)))
        })
        .collect();
    Node::new("response")
        .attr("type", "chat")
        .attr("duplicate", "false")
        .children(chats)
}

fn contact_list(r: &mut Rng, n: usize) -> Node {
    let users = (0..n)
        .map(|_| {
            Node::new("user")
                .attr("jid", format!("{}@c.us", r.digits(12)))
                .attr("name", format!("{} {}", r.word(5), r.word(7)))
                .attr("short", r.word(5))
                .attr("notify", r.word(9))
                .attr("index", r.hex(1))
        })
        .collect();
    Node::new("response")
        .attr("type", "contacts")
        .attr("checksum", r.hex(32))
        .children(users)
}

fn message_batch(r: &mut Rng, n: usize) -> Node {
    let msgs = (0..n).map(|_| {
        let len = 80 + (r.next() % 400) as usize;
        Node::new("message").bytes(r.bytes(len))
    });
    Node::new("action")
        .attr("add", "last")
        .children(msgs.collect())
}

fn small_frames(r: &mut Rng, n: usize) -> Vec<Node> {
    (0..n)
        .map(|i| match i % 3 {
            0 => Node::new("action")
                .attr("type", "set")
                .attr("epoch", r.digits(3))
                .children(vec![
                    Node::new("presence")
                        .attr("type", "composing")
                        .attr("to", format!("{}@c.us", r.digits(12))),
                ]),
            1 => Node::new("action").attr("add", "relay").children(vec![
                Node::new("received")
                    .attr("index", format!("3EB0{}", r.hex(16)))
                    .attr("from", format!("{}@c.us", r.digits(12)))
                    .attr("t", r.digits(10))
                    .attr("type", "read"),
            ]),
            _ => Node::new("action")
                .attr("type", "set")
                .attr("epoch", r.digits(2))
                .children(vec![
                    Node::new("read")
                        .attr("jid", format!("{}@c.us", r.digits(12)))
                        .attr("index", format!("3EB0{}", r.hex(16)))
                        .attr("owner", "false")
                        .attr("count", "1"),
                ]),
        })
        .collect()
}

fn large_binaries(r: &mut Rng) -> Node {
    let msgs = [64 * 1024, 256 * 1024, 1024 * 1024 + 17]
        .iter()
        .map(|&len| {
            Node::new("message")
                .attr("id", format!("3EB0{}", r.hex(16)))
                .bytes(r.bytes(len))
        })
        .collect();
    Node::new("action").attr("add", "before").children(msgs)
}

fn captures() -> Vec<Vec<u8>> {
    include_str!("../tests/vectors/captured-2020.hex")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| hex::decode(l.trim()).unwrap())
        .collect()
}

fn corpus() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let mut r = Rng(0x0005_eed0_fa11_c0de);
    let enc = |n: &Node| encode(n).unwrap();
    vec![
        ("chat_list_500", vec![enc(&chat_list(&mut r, 500))]),
        ("contact_list_800", vec![enc(&contact_list(&mut r, 800))]),
        ("message_batch_100", vec![enc(&message_batch(&mut r, 100))]),
        (
            "presence_receipts_1000",
            small_frames(&mut r, 1000).iter().map(enc).collect(),
        ),
        ("large_binaries", vec![enc(&large_binaries(&mut r))]),
        ("captures_2020", captures()),
    ]
}

fn bench(c: &mut Criterion) {
    for (name, frames) in corpus() {
        let bytes: u64 = frames.iter().map(|f| f.len() as u64).sum();
        let owned: Vec<Node> = frames.iter().map(|f| decode_owned(f).unwrap()).collect();
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(bytes));
        g.bench_function("decode_borrowed", |b| {
            b.iter(|| {
                for f in &frames {
                    let t = Tree::decode(black_box(f)).unwrap();
                    black_box(t.node_count());
                }
            })
        });
        g.bench_function("decode_owned", |b| {
            b.iter(|| {
                for f in &frames {
                    black_box(decode_owned(black_box(f)).unwrap());
                }
            })
        });
        let mut out = Vec::with_capacity(bytes as usize + 64);
        g.bench_function("encode", |b| {
            b.iter(|| {
                for n in &owned {
                    out.clear();
                    waweb_binary::Encoder::new()
                        .encode(black_box(n), &mut out)
                        .unwrap();
                    black_box(&out);
                }
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
