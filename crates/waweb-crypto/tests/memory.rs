//! Bounded memory while streaming media: 64 MiB in the default run (std and tokio), 1 GiB as an
//! ignored test (`cargo test -p waweb-crypto --release --test memory -- --ignored`).
//!
//! Peak resident memory is read from `/proc/self/status` (`VmHWM`), after resetting it through
//! `/proc/self/clear_refs` where the kernel allows; the assertion is on the growth over the
//! resident size before the run. Only Linux has these files; elsewhere the tests only check the
//! round trip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::io::{Read, Seek, SeekFrom};
use std::time::Instant;

use waweb_crypto::{MediaKey, MediaType};

const MIB: u64 = 1024 * 1024;
/// Allowed growth of peak RSS over the starting RSS.
const BUDGET: u64 = 16 * MIB;

/// A deterministic pseudo-random source of `remaining` bytes: a 65521-byte xorshift pattern
/// (a prime length, so it never lines up with the 64 KiB I/O chunks) served cyclically.
struct Gen {
    remaining: u64,
    pattern: Vec<u8>,
    at: usize,
}

impl Gen {
    fn new(len: u64) -> Self {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let pattern = (0..65_521)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 32) as u8
            })
            .collect();
        Self {
            remaining: len,
            pattern,
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

impl Read for Gen {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Ok(self.fill(buf))
    }
}

#[cfg(feature = "tokio")]
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

/// Resets the peak (`VmHWM`) to the current RSS; returns the current RSS in bytes.
fn start_measuring() -> Option<u64> {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    Some(status_kib("VmRSS:")? * 1024)
}

fn peak_growth(start: Option<u64>) -> Option<u64> {
    let peak = status_kib("VmHWM:")? * 1024;
    Some(peak.saturating_sub(start?))
}

fn std_round_trip(len: u64) {
    let keys = MediaKey::new([0x42; 32]).expand(MediaType::Video);
    let path =
        std::env::temp_dir().join(format!("waweb-crypto-mem-{}-{len}.enc", std::process::id()));
    let start = start_measuring();
    let t = Instant::now();

    let mut file = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    let info = keys.encrypt_stream(Gen::new(len), &mut file, true).unwrap();
    let t_enc = t.elapsed();
    file.seek(SeekFrom::Start(0)).unwrap();
    let got = keys.decrypt_stream(&mut file, std::io::sink()).unwrap();
    let total = t.elapsed();
    drop(file);
    let _ = std::fs::remove_file(&path);

    assert_eq!(info.file_length, len);
    assert_eq!(got.file_length, len);
    assert_eq!(got.file_sha256, info.file_sha256);
    assert_eq!(got.file_enc_sha256, info.file_enc_sha256);
    assert_eq!(
        info.sidecar.as_ref().map(Vec::len),
        Some(((len + 16) / 16 * 16 + 16).div_ceil(65_536) as usize * 10)
    );
    let growth = peak_growth(start);
    eprintln!(
        "std {} MiB: encrypt {:?}, verify+decrypt {:?}, peak RSS growth {:?} KiB",
        len / MIB,
        t_enc,
        total - t_enc,
        growth.map(|g| g / 1024)
    );
    if let Some(g) = growth {
        assert!(g < BUDGET, "peak RSS grew by {g} bytes, budget {BUDGET}");
    }
}

#[cfg(feature = "tokio")]
fn tokio_round_trip(len: u64) {
    let keys = MediaKey::new([0x24; 32]).expand(MediaType::Audio);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let start = start_measuring();
    let t = Instant::now();
    let (enc_info, dec_info) = rt.block_on(async {
        // Encrypt into one end of a 64 KiB pipe, decrypt (single pass) from the other.
        let (w, r) = tokio::io::duplex(64 * 1024);
        let enc = async {
            let mut w = w;
            let info = keys
                .encrypt_async(Gen::new(len), &mut w, false)
                .await
                .unwrap();
            drop(w);
            info
        };
        let dec = keys.decrypt_async_unverified(r, tokio::io::sink());
        let (e, d) = tokio::join!(enc, dec);
        (e, d.unwrap())
    });
    assert_eq!(dec_info.file_length, len);
    assert_eq!(dec_info.file_sha256, enc_info.file_sha256);
    assert_eq!(dec_info.file_enc_sha256, enc_info.file_enc_sha256);
    let growth = peak_growth(start);
    eprintln!(
        "tokio {} MiB: encrypt+decrypt {:?}, peak RSS growth {:?} KiB",
        len / MIB,
        t.elapsed(),
        growth.map(|g| g / 1024)
    );
    if let Some(g) = growth {
        assert!(g < BUDGET, "peak RSS grew by {g} bytes, budget {BUDGET}");
    }
}

// One test function per size so that no two runs overlap in this process (the harness runs
// tests of one binary on parallel threads).
#[test]
fn media_64_mib_streams_in_bounded_memory() {
    std_round_trip(64 * MIB + 5);
    #[cfg(feature = "tokio")]
    tokio_round_trip(64 * MIB + 5);
}

#[test]
#[ignore = "1 GiB: run with --release --ignored (about 10 s optimised)"]
fn media_1_gib_streams_in_bounded_memory() {
    std_round_trip(1024 * MIB + 3);
    #[cfg(feature = "tokio")]
    tokio_round_trip(1024 * MIB + 3);
}
