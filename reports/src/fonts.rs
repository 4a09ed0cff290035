//! The embedded fonts (DejaVu Sans, see `fonts/LICENSE-DejaVu.txt`) and text measurement, used
//! to lay out the PDF and the charts.

use std::sync::OnceLock;

use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

pub(crate) static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
pub(crate) static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");
pub(crate) static ITALIC: &[u8] = include_bytes!("../fonts/DejaVuSans-Oblique.ttf");

/// The family name charts and the HTML ask for, with fall-backs.
pub(crate) const FAMILY: &str = "DejaVu Sans, Verdana, Segoe UI, Helvetica, Arial, sans-serif";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    Regular,
    Bold,
    Italic,
}

/// Advance widths of one face, in ems.
struct Widths {
    font: Option<FontRef<'static>>,
    ascii: [f32; 128],
}

impl Widths {
    fn new(data: &'static [u8]) -> Widths {
        let font = FontRef::new(data).ok();
        let mut ascii = [0.6f32; 128];
        if let Some(f) = &font {
            let upem = f
                .metrics(Size::unscaled(), LocationRef::default())
                .units_per_em as f32;
            let gm = f.glyph_metrics(Size::unscaled(), LocationRef::default());
            let cmap = f.charmap();
            for (c, w) in ascii.iter_mut().enumerate() {
                if let Some(g) = char::from_u32(c as u32).and_then(|ch| cmap.map(ch))
                    && let Some(adv) = gm.advance_width(g)
                {
                    *w = adv / upem.max(1.0);
                }
            }
        }
        Widths { font, ascii }
    }

    fn em(&self, text: &str) -> f32 {
        let mut total = 0.0;
        let mut other: Option<(skrifa::charmap::Charmap, skrifa::metrics::GlyphMetrics, f32)> =
            None;
        for ch in text.chars() {
            let c = ch as u32;
            if c < 128 {
                total += self.ascii[c as usize];
                continue;
            }
            if other.is_none()
                && let Some(f) = &self.font
            {
                let upem = f
                    .metrics(Size::unscaled(), LocationRef::default())
                    .units_per_em as f32;
                other = Some((
                    f.charmap(),
                    f.glyph_metrics(Size::unscaled(), LocationRef::default()),
                    upem.max(1.0),
                ));
            }
            total += other
                .as_ref()
                .and_then(|(cmap, gm, upem)| {
                    cmap.map(ch)
                        .and_then(|g| gm.advance_width(g))
                        .map(|w| w / upem)
                })
                .unwrap_or(0.6);
        }
        total
    }
}

fn widths(face: Face) -> &'static Widths {
    static W: OnceLock<[Widths; 3]> = OnceLock::new();
    let all = W.get_or_init(|| [Widths::new(REGULAR), Widths::new(BOLD), Widths::new(ITALIC)]);
    match face {
        Face::Regular => &all[0],
        Face::Bold => &all[1],
        Face::Italic => &all[2],
    }
}

/// The width of `text` set in `face` at `size`.
pub(crate) fn width(text: &str, face: Face, size: f32) -> f32 {
    widths(face).em(text) * size
}

/// Breaks `text` into lines no wider than `max` (words longer than a line are cut).
pub(crate) fn wrap(text: &str, face: Face, size: f32, max: f32) -> Vec<String> {
    let space = width(" ", face, size);
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0.0;
        for word in para.split_whitespace() {
            let word_w = width(word, face, size);
            let candidate_w = if line.is_empty() {
                word_w
            } else {
                line_w + space + word_w
            };
            if candidate_w <= max {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_w = candidate_w;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if word_w <= max {
                line.push_str(word);
                line_w = word_w;
                continue;
            }
            // A word wider than the line: cut it.
            let mut piece = String::new();
            let mut piece_w = 0.0;
            for ch in word.chars() {
                let mut buf = [0u8; 4];
                let ch_w = width(ch.encode_utf8(&mut buf), face, size);
                if piece_w + ch_w > max && !piece.is_empty() {
                    lines.push(std::mem::take(&mut piece));
                    piece_w = 0.0;
                }
                piece.push(ch);
                piece_w += ch_w;
            }
            line = piece;
            line_w = piece_w;
        }
        lines.push(line);
    }
    lines
}

/// Shortens `text` with an ellipsis so it fits in `max`.
pub(crate) fn fit(text: &str, face: Face, size: f32, max: f32) -> String {
    if width(text, face, size) <= max {
        return text.to_owned();
    }
    let mut out: String = String::new();
    for ch in text.chars() {
        out.push(ch);
        if width(&out, face, size) + width("…", face, size) > max {
            out.pop();
            break;
        }
    }
    format!("{}…", out.trim_end())
}
