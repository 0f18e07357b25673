//! QR codes: drawn in the terminal with half blocks, or written as a PNG (a small encoder of our
//! own: 8-bit grey, stored deflate blocks; no image library).

use std::path::Path;

use anyhow::Context as _;
use qrcode::{Color, QrCode};

/// Modules of light border around the code.
const QUIET: usize = 2;
/// Pixels per module in the PNG.
const SCALE: usize = 8;

/// The code as a square of booleans (`true` = dark), with the quiet zone.
fn modules(data: &str, quiet: usize) -> anyhow::Result<Vec<Vec<bool>>> {
    let code = QrCode::new(data.as_bytes()).context("cannot make a QR code")?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * quiet;
    let mut rows = vec![vec![false; size]; size];
    for (i, color) in colors.iter().enumerate() {
        let (y, x) = (i / width + quiet, i % width + quiet);
        if let Some(cell) = rows.get_mut(y).and_then(|r| r.get_mut(x)) {
            *cell = *color == Color::Dark;
        }
    }
    Ok(rows)
}

/// The code drawn with Unicode half blocks, two modules per character cell; light modules are
/// drawn as full blocks so that it scans on dark and light terminals alike.
pub(crate) fn render_text(data: &str) -> anyhow::Result<String> {
    let rows = modules(data, QUIET)?;
    let mut out = String::new();
    for pair in rows.chunks(2) {
        let top = pair.first();
        let bottom = pair.get(1);
        let width = top.map_or(0, Vec::len);
        for x in 0..width {
            let light_top = top.and_then(|r| r.get(x)).is_some_and(|d| !d);
            // Past the last row counts as light (the quiet zone continues).
            let light_bottom = bottom.and_then(|r| r.get(x)).is_none_or(|d| !d);
            out.push(match (light_top, light_bottom) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
    }
    Ok(out)
}

/// Writes the code as a PNG file.
pub(crate) fn write_png(data: &str, path: &Path) -> anyhow::Result<()> {
    let rows = modules(data, 4)?;
    let png = encode_png(&rows, SCALE);
    std::fs::write(path, png).with_context(|| format!("cannot write {}", path.display()))
}

fn encode_png(rows: &[Vec<bool>], scale: usize) -> Vec<u8> {
    let size = rows.len() * scale;
    let mut raw = Vec::with_capacity((size + 1) * size);
    for row in rows {
        let mut line = Vec::with_capacity(size + 1);
        line.push(0u8); // filter: none
        for &dark in row {
            line.extend(std::iter::repeat_n(if dark { 0u8 } else { 255 }, scale));
        }
        for _ in 0..scale {
            raw.extend_from_slice(&line);
        }
    }
    let side = u32::try_from(size).unwrap_or(u32::MAX);
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale, deflate, no filter, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(out.get(start..).unwrap_or_default());
    out.extend_from_slice(&crc.to_be_bytes());
}

/// zlib with stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn crc_and_png_shape() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        let rows = modules("1@abc,def,ghi", 4).unwrap();
        let png = encode_png(&rows, 2);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert!(png.ends_with(&[0xAE, 0x42, 0x60, 0x82]));
    }

    #[test]
    fn text_has_half_blocks() {
        let t = render_text("1@abc,def,ghi").unwrap();
        assert!(t.lines().count() > 10);
        assert!(t.contains('▀') || t.contains('▄'));
    }
}
