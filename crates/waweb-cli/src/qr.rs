//! QR codes: drawn in the terminal with half blocks, or written as an 8-bit greyscale PNG (with
//! the `png` crate).

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
    let png = encode_png(&rows, SCALE)?;
    std::fs::write(path, png).with_context(|| format!("cannot write {}", path.display()))
}

fn encode_png(rows: &[Vec<bool>], scale: usize) -> anyhow::Result<Vec<u8>> {
    let size = rows.len() * scale;
    let mut pixels = Vec::with_capacity(size * size);
    for row in rows {
        let line: Vec<u8> = row
            .iter()
            .flat_map(|&dark| std::iter::repeat_n(if dark { 0u8 } else { 255 }, scale))
            .collect();
        for _ in 0..scale {
            pixels.extend_from_slice(&line);
        }
    }
    let side = u32::try_from(size).context("QR code too large for a PNG")?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .context("cannot write the PNG header")?;
    writer
        .write_image_data(&pixels)
        .context("cannot write the PNG image")?;
    writer.finish().context("cannot finish the PNG")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn png_decodes_to_the_code() {
        let rows = modules("1@abc,def,ghi", 4).unwrap();
        let bytes = encode_png(&rows, 2).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let side = rows.len() * 2;
        assert_eq!((info.width as usize, info.height as usize), (side, side));
        // Every module comes out as a 2x2 block of black or white pixels.
        for (y, row) in rows.iter().enumerate() {
            for (x, &dark) in row.iter().enumerate() {
                let px = buf[(2 * y) * side + 2 * x];
                assert_eq!(px, if dark { 0 } else { 255 }, "module {x},{y}");
            }
        }
    }

    #[test]
    fn text_has_half_blocks() {
        let t = render_text("1@abc,def,ghi").unwrap();
        assert!(t.lines().count() > 10);
        assert!(t.contains('▀') || t.contains('▄'));
    }
}
