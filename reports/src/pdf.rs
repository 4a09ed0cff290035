//! `report.pdf`: the report's blocks laid out on A4 pages and written with krilla, with the
//! DejaVu Sans fonts embedded (subset) and the charts as vector graphics.
//!
//! The PDF is tagged for accessibility: a structure tree in reading order (sections, headings,
//! paragraphs, quotes, tables with header cells, figures with a text alternative that gives
//! every value the chart draws), the document's language and title; rules, shading, repeated
//! table headers and page footers are marked as artifacts.

use krilla::Document;
use krilla::color::rgb;
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point, Transform};
use krilla::metadata::Metadata;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::tagging::{
    Artifact, ArtifactType, ContentTag, Node, SpanTag, TableHeaderScope, Tag, TagGroup, TagKind,
    TagTree,
};
use krilla::text::{Font, TextDirection};

use crate::ReportError;
use crate::charts::{self, Shape};
use crate::doc::{self, Block, Table, Tile};
use crate::fonts::{self, Face};
use crate::summary::{CardItem, Summary};

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 54.0;
const RIGHT: f32 = PAGE_W - 54.0;
const TOP: f32 = 58.0;
const BOTTOM: f32 = PAGE_H - 62.0;
const WIDTH: f32 = RIGHT - LEFT;

type Rgb = (u8, u8, u8);
const INK: Rgb = (33, 37, 41);
const MUTED: Rgb = (90, 98, 106);
const RULE: Rgb = (222, 226, 230);
const ACCENT: Rgb = (0, 94, 184);
const DARK: Rgb = (0, 48, 135);
const SOFT: Rgb = (242, 246, 251);
const WARN: Rgb = (213, 94, 0);
const WARN_BG: Rgb = (255, 244, 236);
const GOOD: Rgb = (0, 158, 115);
const GOOD_BG: Rgb = (238, 248, 244);

/// One thing drawn on a page; y grows downwards, text at its baseline. `tag` is the
/// structure element text belongs to (`None`: an artifact); rules and fills are artifacts.
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        face: Face,
        colour: Rgb,
        text: String,
        tag: Option<usize>,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        colour: Rgb,
    },
    Line {
        x0: f32,
        y0: f32,
        x1: f32,
        y1: f32,
        width: f32,
        colour: Rgb,
    },
    Chart {
        x: f32,
        y: f32,
        scale: f32,
        shapes: Vec<Shape>,
        /// The figure element it draws.
        tag: usize,
    },
}

/// A structure element of the tagged PDF.
#[derive(Debug, Clone)]
enum Elem {
    Div,
    Sect,
    Heading(u16, String),
    P,
    Quote,
    Figure(String),
    Table,
    Row,
    Th,
    Td,
    Toc,
    TocItem,
}

struct Layout {
    pages: Vec<Vec<Op>>,
    y: f32,
    /// Section titles: (title, page, y).
    outline: Vec<(String, usize, f32)>,
    /// The structure tree, in reading order: each element and its parent (`None`: the root).
    elems: Vec<(Elem, Option<usize>)>,
    /// The element text drawn now belongs to; `None` marks it an artifact.
    tag: Option<usize>,
    /// The element new blocks go in (the cover, then each section).
    parent: Option<usize>,
}

impl Layout {
    fn page(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// A new structure element in `parent`.
    fn elem_in(&mut self, elem: Elem, parent: Option<usize>) -> usize {
        self.elems.push((elem, parent));
        self.elems.len() - 1
    }

    /// A new block element in the current container; text drawn next belongs to it.
    fn block(&mut self, elem: Elem) -> usize {
        let id = self.elem_in(elem, self.parent);
        self.tag = Some(id);
        id
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    fn at_top(&self) -> bool {
        self.y <= TOP + 0.5
    }

    /// Starts a new page unless `h` more fits on this one.
    fn ensure(&mut self, h: f32) {
        if self.y + h > BOTTOM && !self.at_top() {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, face: Face, colour: Rgb, text: &str) {
        if !text.is_empty() {
            let tag = self.tag;
            self.page().push(Op::Text {
                x,
                y,
                size,
                face,
                colour,
                text: text.to_owned(),
                tag,
            });
        }
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: Rgb) {
        self.page().push(Op::Rect { x, y, w, h, colour });
    }

    fn line(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, width: f32, colour: Rgb) {
        self.page().push(Op::Line {
            x0,
            y0,
            x1,
            y1,
            width,
            colour,
        });
    }

    /// Wrapped text across pages, from the cursor.
    fn flow(&mut self, text: &str, face: Face, size: f32, colour: Rgb, indent: f32, after: f32) {
        let leading = size * 1.45;
        for line in fonts::wrap(text, face, size, WIDTH - indent) {
            self.ensure(leading);
            self.y += leading;
            let y = self.y - leading * 0.28;
            self.text(LEFT + indent, y, size, face, colour, &line);
        }
        self.y += after;
    }

    /// A box with a coloured bar at its left and wrapped text.
    fn boxed(&mut self, text: &str, face: Face, bar: Rgb, bg: Rgb) {
        let size = 10.0;
        let leading = size * 1.45;
        let lines = fonts::wrap(text, face, size, WIDTH - 28.0);
        let h = lines.len() as f32 * leading + 16.0;
        self.ensure(h + 8.0);
        let top = self.y + 4.0;
        self.rect(LEFT, top, WIDTH, h, bg);
        self.rect(LEFT, top, 4.0, h, bar);
        let mut y = top + 8.0;
        for l in &lines {
            y += leading;
            self.text(LEFT + 16.0, y - leading * 0.28, size, face, INK, l);
        }
        self.y = top + h + 10.0;
    }
}

struct Cols {
    widths: Vec<f32>,
}

const T_SIZE: f32 = 8.5;
/// The width of a chart beside its table.
const CHART_W: f32 = 290.0;
const T_LEAD: f32 = 11.5;
const T_PAD: f32 = 4.0;

/// Column widths for `table` in `width`. Each column wants its widest cell (capped) and
/// needs its widest word; when the wants do not fit, every column gets its need plus a share
/// of the rest in proportion to what it wants beyond that.
fn columns(table: &Table, width: f32) -> Cols {
    let n = table.headers.len().max(1);
    let pad = 2.0 * T_PAD;
    let word = |t: &str, face: Face| {
        t.split_whitespace()
            .map(|w| fonts::width(w, face, T_SIZE))
            .fold(0.0f32, f32::max)
    };
    let mut need = vec![0.0f32; n];
    let mut want = vec![0.0f32; n];
    for (i, h) in table.headers.iter().enumerate().take(n) {
        need[i] = word(h, Face::Bold);
        want[i] = need[i];
    }
    for row in &table.rows {
        for (i, c) in row.iter().enumerate().take(n) {
            need[i] = need[i].max(word(c, Face::Regular).min(120.0));
            want[i] = want[i].max(fonts::width(c, Face::Regular, T_SIZE).min(260.0));
        }
    }
    let need: Vec<f32> = need.iter().map(|w| w + pad).collect();
    let want: Vec<f32> = want
        .iter()
        .zip(&need)
        .map(|(w, m)| (w + pad).max(*m))
        .collect();
    let (sum_need, sum_want) = (need.iter().sum::<f32>(), want.iter().sum::<f32>());
    let widths = if sum_want <= width {
        let mut w = want.clone();
        let numeric = |i: usize| table.numeric.get(i).copied().unwrap_or(false);
        let target = (0..n).find(|&i| !numeric(i)).unwrap_or(n - 1);
        w[target] += width - sum_want;
        w
    } else if sum_need <= width {
        let extra = width - sum_need;
        need.iter()
            .zip(&want)
            .map(|(m, w)| m + (w - m) / (sum_want - sum_need).max(1e-3) * extra)
            .collect()
    } else {
        need.iter().map(|m| m / sum_need * width).collect()
    };
    Cols { widths }
}

fn cell_lines(text: &str, face: Face, width: f32) -> Vec<String> {
    fonts::wrap(text, face, T_SIZE, (width - 2.0 * T_PAD).max(10.0))
}

/// The height `table` takes at `width`.
fn table_height(table: &Table, width: f32) -> f32 {
    let cols = columns(table, width);
    let row_h = |cells: &[String], face: Face| {
        cells
            .iter()
            .zip(&cols.widths)
            .map(|(c, w)| cell_lines(c, face, *w).len())
            .max()
            .unwrap_or(1) as f32
            * T_LEAD
            + 2.0 * T_PAD
    };
    row_h(&table.headers, Face::Bold)
        + table
            .rows
            .iter()
            .map(|r| row_h(r, Face::Regular))
            .sum::<f32>()
        + 6.0
}

/// Draws `table` at `x`, `width` from the cursor, across pages (the header repeats).
fn draw_table(l: &mut Layout, table: &Table, x: f32, width: f32) {
    let cols = columns(table, width);
    let numeric = |i: usize| table.numeric.get(i).copied().unwrap_or(false);
    let outer = l.tag;
    let table_elem = l.elem_in(Elem::Table, l.parent);
    // `row`: the row element its cells belong to; `None` for a header repeated on a new
    // page (an artifact: a reader hears the header once).
    let draw_row = |l: &mut Layout,
                    cells: &[String],
                    face: Face,
                    shade: Option<&Vec<Option<f64>>>,
                    row: Option<usize>| {
        let header = shade.is_none();
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .zip(&cols.widths)
            .map(|(c, w)| cell_lines(c, face, *w))
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let h = lines as f32 * T_LEAD + 2.0 * T_PAD;
        let top = l.y;
        let mut cx = x;
        for (i, w) in cols.widths.iter().enumerate() {
            if let Some(v) = shade.and_then(|s| s.get(i)).copied().flatten() {
                l.rect(cx, top, *w, h, doc::heat(v));
            }
            cx += w;
        }
        let mut cx = x;
        for (i, (cell, w)) in wrapped.iter().zip(&cols.widths).enumerate() {
            // Header text sits at the bottom of its cell.
            let offset = if header {
                (lines - cell.len()) as f32 * T_LEAD
            } else {
                0.0
            };
            let cell_tag =
                row.map(|r| l.elem_in(if header { Elem::Th } else { Elem::Td }, Some(r)));
            l.tag = cell_tag;
            for (j, line) in cell.iter().enumerate() {
                let y = top + T_PAD + offset + (j as f32 + 1.0) * T_LEAD - 3.0;
                let tx = if numeric(i) {
                    cx + w - T_PAD - fonts::width(line, face, T_SIZE)
                } else {
                    cx + T_PAD
                };
                l.text(tx, y, T_SIZE, face, INK, line);
            }
            cx += w;
        }
        let (colour, weight) = if header { (INK, 1.2) } else { (RULE, 0.5) };
        l.line(x, top + h, x + width, top + h, weight, colour);
        l.y = top + h;
        h
    };
    let header_h = table_height(
        &Table {
            headers: table.headers.clone(),
            rows: Vec::new(),
            numeric: table.numeric.clone(),
            shade: Vec::new(),
        },
        width,
    ) - 6.0;
    let first_row_h = table
        .rows
        .first()
        .map(|r| {
            r.iter()
                .zip(&cols.widths)
                .map(|(c, w)| cell_lines(c, Face::Regular, *w).len())
                .max()
                .unwrap_or(1) as f32
                * T_LEAD
                + 2.0 * T_PAD
        })
        .unwrap_or(0.0);
    l.ensure(header_h + first_row_h);
    let header_row = l.elem_in(Elem::Row, Some(table_elem));
    draw_row(l, &table.headers, Face::Bold, None, Some(header_row));
    let none = Vec::new();
    for (r, row) in table.rows.iter().enumerate() {
        let h = row
            .iter()
            .zip(&cols.widths)
            .map(|(c, w)| cell_lines(c, Face::Regular, *w).len())
            .max()
            .unwrap_or(1) as f32
            * T_LEAD
            + 2.0 * T_PAD;
        if l.y + h > BOTTOM {
            l.new_page();
            draw_row(l, &table.headers, Face::Bold, None, None);
        }
        let tr = l.elem_in(Elem::Row, Some(table_elem));
        draw_row(
            l,
            row,
            Face::Regular,
            Some(table.shade.get(r).unwrap_or(&none)),
            Some(tr),
        );
    }
    l.tag = outer;
    l.y += 6.0;
}

fn tiles(l: &mut Layout, tiles: &[Tile]) {
    let per_row = 3;
    let gap = 10.0;
    let w = (WIDTH - gap * (per_row as f32 - 1.0)) / per_row as f32;
    for chunk in tiles.chunks(per_row) {
        let label_lines: Vec<Vec<String>> = chunk
            .iter()
            .map(|t| fonts::wrap(&t.label, Face::Regular, 9.0, w - 20.0))
            .collect();
        let h = 40.0 + label_lines.iter().map(Vec::len).max().unwrap_or(1) as f32 * 12.0 + 10.0;
        l.ensure(h + gap);
        let top = l.y;
        for (i, (t, lines)) in chunk.iter().zip(&label_lines).enumerate() {
            let x = LEFT + i as f32 * (w + gap);
            l.block(Elem::P);
            l.rect(x, top, w, h, SOFT);
            l.text(x + 10.0, top + 32.0, 24.0, Face::Bold, DARK, &t.value);
            for (j, line) in lines.iter().enumerate() {
                l.text(
                    x + 10.0,
                    top + 50.0 + j as f32 * 12.0,
                    9.0,
                    Face::Regular,
                    MUTED,
                    line,
                );
            }
        }
        l.y = top + h + gap;
    }
}

fn quotes(l: &mut Layout, qs: &[String]) {
    let size = 9.5;
    let leading = size * 1.45;
    for q in qs {
        l.block(Elem::Quote);
        let lines = fonts::wrap(q, Face::Regular, size, WIDTH - 20.0);
        let mut remaining = &lines[..];
        while !remaining.is_empty() {
            let fit = (((BOTTOM - l.y - 10.0) / leading).floor() as usize).min(remaining.len());
            let fit = if fit == 0 || (fit < remaining.len() && fit < 3 && !l.at_top()) {
                l.new_page();
                (((BOTTOM - l.y - 10.0) / leading).floor() as usize).clamp(1, remaining.len())
            } else {
                fit
            };
            let top = l.y + 3.0;
            let h = fit as f32 * leading + 8.0;
            l.rect(LEFT, top, WIDTH, h, (250, 250, 250));
            l.rect(LEFT, top, 3.0, h, RULE);
            let mut y = top + 4.0;
            for line in &remaining[..fit] {
                y += leading;
                l.text(
                    LEFT + 12.0,
                    y - leading * 0.28,
                    size,
                    Face::Regular,
                    INK,
                    line,
                );
            }
            l.y = top + h + 4.0;
            remaining = &remaining[fit..];
        }
    }
    l.y += 4.0;
}

fn cards(l: &mut Layout, cards: &[CardItem]) {
    let gap = 10.0;
    let w = (WIDTH - gap) / 2.0;
    let size = 8.5;
    let lead = 11.5;
    let layout = |c: &CardItem| -> Vec<(Face, Rgb, String)> {
        let mut out = Vec::new();
        for line in fonts::wrap(&c.organisation, Face::Bold, 9.5, w - 16.0) {
            out.push((Face::Bold, DARK, line));
        }
        let who = [c.name.as_deref(), c.role.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        for line in fonts::wrap(&who, Face::Regular, size, w - 16.0) {
            if !line.is_empty() {
                out.push((Face::Regular, INK, line));
            }
        }
        for (k, v) in [
            ("Service", &c.service),
            ("Offer", &c.offer),
            ("Referral", &c.referral),
            ("Contact", &c.contact),
        ] {
            for line in fonts::wrap(&format!("{k}: {v}"), Face::Regular, size, w - 16.0) {
                out.push((Face::Regular, INK, line));
            }
        }
        out
    };
    for pair in cards.chunks(2) {
        let laid: Vec<Vec<(Face, Rgb, String)>> = pair.iter().map(layout).collect();
        let h = laid.iter().map(Vec::len).max().unwrap_or(1) as f32 * lead + 14.0;
        l.ensure(h + gap);
        let top = l.y;
        for (i, lines) in laid.iter().enumerate() {
            let x = LEFT + i as f32 * (w + gap);
            l.block(Elem::Div);
            l.line(x, top, x + w, top, 0.8, RULE);
            l.line(x, top + h, x + w, top + h, 0.8, RULE);
            l.line(x, top, x, top + h, 0.8, RULE);
            l.line(x + w, top, x + w, top + h, 0.8, RULE);
            for (j, (face, colour, line)) in lines.iter().enumerate() {
                let s = if j == 0 { 9.5 } else { size };
                l.text(
                    x + 8.0,
                    top + 7.0 + (j as f32 + 1.0) * lead - 3.0,
                    s,
                    *face,
                    *colour,
                    line,
                );
            }
        }
        l.y = top + h + gap;
    }
}

fn figure(l: &mut Layout, chart: &charts::Chart, table: &Table) {
    let (cw, ch) = chart.size();
    let chart_w = CHART_W;
    let scale = chart_w / cw as f32;
    let chart_h = ch as f32 * scale;
    let table_x = LEFT + chart_w + 14.0;
    let table_w = RIGHT - table_x;
    let th = table_height(table, table_w);
    let left = BOTTOM - l.y;
    // A table longer than what is left of the page flows on (its header repeated) when the
    // chart fits here and the page is not nearly full, rather than leaving the page blank.
    let flows = chart_h + 6.0 <= left && left >= (BOTTOM - TOP) * 0.35;
    if chart_h.max(th) <= BOTTOM - TOP {
        if !flows {
            l.ensure(chart_h.max(th) + 6.0);
        }
        let top = l.y + 4.0;
        let tag = l.block(Elem::Figure(chart.alt()));
        l.page().push(Op::Chart {
            x: LEFT,
            y: top,
            scale,
            shapes: charts::record(chart),
            tag,
        });
        l.y = top;
        draw_table(l, table, table_x, table_w);
        l.y = (top + chart_h).max(l.y) + 10.0;
    } else {
        // A long table: the chart across the page, the table below it.
        let scale = WIDTH.min(420.0) / cw as f32;
        let chart_h = ch as f32 * scale;
        l.ensure(chart_h + 6.0);
        let top = l.y + 4.0;
        let tag = l.block(Elem::Figure(chart.alt()));
        l.page().push(Op::Chart {
            x: LEFT,
            y: top,
            scale,
            shapes: charts::record(chart),
            tag,
        });
        l.y = top + chart_h + 8.0;
        draw_table(l, table, LEFT, WIDTH);
    }
}

/// How much of what follows a heading must share its page: the notes and paragraphs right
/// after it and the figure they lead to, or, where no figure follows, the first lines of
/// the text (a heading is never left alone at the foot of a page, and a run of paragraphs,
/// such as the key findings, flows on instead of starting a page at every heading).
fn next_height(rest: &[Block]) -> f32 {
    /// What of a text that leads to no figure must share the heading's page: about three
    /// lines.
    const FIRST_LINES: f32 = 45.0;
    let mut h = 0.0;
    for block in rest {
        match block {
            Block::Note(t) => {
                h += fonts::wrap(t, Face::Regular, 8.5, WIDTH).len() as f32 * 8.5 * 1.45 + 4.0
            }
            Block::Para(t) => {
                h += fonts::wrap(t, Face::Regular, 10.0, WIDTH).len() as f32 * 14.5 + 5.0
            }
            // A heading right under a heading (a session's, then its first activity's): both
            // stay with what the second leads to. A heading after text starts what follows.
            Block::Heading(t) => {
                if h > 0.0 {
                    return h.min(FIRST_LINES);
                }
                h += fonts::wrap(t, Face::Bold, 11.5, WIDTH).len() as f32 * 11.5 * 1.45 + 11.0
            }
            Block::Figure { chart, .. } => {
                let (cw, ch) = chart.size();
                let fh = ch as f32 * CHART_W / cw as f32;
                // The chart must share the heading's page; a long table may flow on.
                return h + fh.min(BOTTOM - TOP) + 16.0;
            }
            _ => return h.min(FIRST_LINES) + 60.0,
        }
    }
    h.min(FIRST_LINES)
}

fn layout(summary: &Summary) -> Layout {
    let blocks = doc::build(summary);
    let mut l = Layout {
        pages: vec![Vec::new()],
        y: TOP,
        outline: Vec::new(),
        elems: Vec::new(),
        tag: None,
        parent: None,
    };
    let mut toc = None;
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Block::Cover {
                title,
                lines,
                tiles: t,
                notices,
            } => {
                let cover = l.elem_in(Elem::Div, None);
                // The contents come right after the cover in reading order.
                toc = Some(l.elem_in(Elem::Toc, None));
                l.parent = Some(cover);
                l.rect(0.0, 0.0, PAGE_W, 14.0, ACCENT);
                l.y = 150.0;
                l.text(LEFT, l.y, 10.0, Face::Bold, ACCENT, "JOINUP REPORT");
                l.y += 14.0;
                l.block(Elem::Heading(1, title.clone()));
                for line in fonts::wrap(title, Face::Bold, 26.0, WIDTH) {
                    l.y += 33.0;
                    l.text(LEFT, l.y, 26.0, Face::Bold, DARK, &line);
                }
                l.y += 12.0;
                for line in lines {
                    l.block(Elem::P);
                    l.flow(line, Face::Regular, 11.0, MUTED, 0.0, 0.0);
                }
                l.y += 24.0;
                tiles(&mut l, t);
                for n in notices {
                    l.block(Elem::P);
                    l.boxed(n, Face::Bold, WARN, WARN_BG);
                }
            }
            Block::Section { title, .. } => {
                if !l.at_top() {
                    l.new_page();
                }
                let sect = l.elem_in(Elem::Sect, None);
                l.parent = Some(sect);
                let page = l.pages.len() - 1;
                l.outline.push((title.clone(), page, l.y));
                l.y += 20.0;
                l.block(Elem::Heading(2, title.clone()));
                l.text(LEFT, l.y, 18.0, Face::Bold, DARK, title);
                l.y += 8.0;
                l.line(LEFT, l.y, RIGHT, l.y, 2.0, ACCENT);
                l.y += 8.0;
            }
            Block::Heading(t) => {
                let next = next_height(blocks.get(i + 1..).unwrap_or(&[]));
                l.ensure((40.0 + next).min(BOTTOM - TOP));
                l.y += 10.0;
                l.block(Elem::Heading(3, t.clone()));
                l.flow(t, Face::Bold, 11.5, INK, 0.0, 1.0);
            }
            Block::Para(t) => {
                l.block(Elem::P);
                l.flow(t, Face::Regular, 10.0, INK, 0.0, 5.0)
            }
            Block::Note(t) => {
                l.block(Elem::P);
                l.flow(t, Face::Regular, 8.5, MUTED, 0.0, 4.0)
            }
            Block::Notice(t) => {
                l.block(Elem::P);
                l.boxed(t, Face::Bold, WARN, WARN_BG)
            }
            Block::Callout(t) => {
                l.block(Elem::Quote);
                l.boxed(t, Face::Italic, GOOD, GOOD_BG)
            }
            Block::Figure { chart, table } => figure(&mut l, chart, table),
            Block::Table(t) => {
                l.y += 2.0;
                draw_table(&mut l, t, LEFT, WIDTH);
            }
            Block::Quotes(qs) => quotes(&mut l, qs),
            Block::Cards(cs) => cards(&mut l, cs),
        }
        l.tag = None;
    }
    // The contents, on the cover, now that the pages are known.
    let entries: Vec<(String, usize)> = l.outline.iter().map(|(t, p, _)| (t.clone(), *p)).collect();
    let mut y = BOTTOM - entries.len() as f32 * 15.0 - 10.0;
    let heading = toc.map(|t| l.elem_in(Elem::Heading(2, "Contents".to_owned()), Some(t)));
    let items: Vec<Option<usize>> = entries
        .iter()
        .map(|_| toc.map(|t| l.elem_in(Elem::TocItem, Some(t))))
        .collect();
    let cover = &mut l.pages[0];
    cover.push(Op::Text {
        x: LEFT,
        y: y - 8.0,
        size: 10.0,
        face: Face::Bold,
        colour: INK,
        text: "Contents".to_owned(),
        tag: heading,
    });
    y += 8.0;
    for ((t, p), item) in entries.into_iter().zip(items) {
        let page = format!("{}", p + 1);
        cover.push(Op::Text {
            x: LEFT,
            y,
            size: 9.5,
            face: Face::Regular,
            colour: INK,
            text: t,
            tag: item,
        });
        cover.push(Op::Text {
            x: LEFT + 260.0 - fonts::width(&page, Face::Regular, 9.5),
            y,
            size: 9.5,
            face: Face::Regular,
            colour: MUTED,
            text: page,
            tag: item,
        });
        y += 15.0;
    }
    l
}

struct Fonts {
    regular: Font,
    bold: Font,
    italic: Font,
}

fn fill(colour: Rgb) -> Fill {
    Fill {
        paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
        ..Fill::default()
    }
}

fn stroke(colour: Rgb, width: f32) -> Stroke {
    Stroke {
        paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
        width,
        ..Stroke::default()
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_text(
    s: &mut Surface<'_>,
    f: &Fonts,
    x: f32,
    y: f32,
    size: f32,
    face: Face,
    colour: Rgb,
    text: &str,
) {
    let font = match face {
        Face::Regular => &f.regular,
        Face::Bold => &f.bold,
        Face::Italic => &f.italic,
    };
    s.set_stroke(None);
    s.set_fill(Some(fill(colour)));
    s.draw_text(
        Point::from_xy(x, y),
        font.clone(),
        size,
        text,
        false,
        TextDirection::Auto,
    );
}

fn polyline(points: &[(f32, f32)], close: bool) -> Option<krilla::geom::Path> {
    let mut pb = PathBuilder::new();
    let (first, rest) = points.split_first()?;
    pb.move_to(first.0, first.1);
    for p in rest {
        pb.line_to(p.0, p.1);
    }
    if close {
        pb.close();
    }
    pb.finish()
}

fn draw_op(s: &mut Surface<'_>, f: &Fonts, op: &Op) {
    match op {
        Op::Text {
            x,
            y,
            size,
            face,
            colour,
            text,
            ..
        } => draw_text(s, f, *x, *y, *size, *face, *colour, text),
        Op::Rect { x, y, w, h, colour } => {
            if let Some(p) = polyline(&[(*x, *y), (x + w, *y), (x + w, y + h), (*x, y + h)], true) {
                s.set_stroke(None);
                s.set_fill(Some(fill(*colour)));
                s.draw_path(&p);
            }
        }
        Op::Line {
            x0,
            y0,
            x1,
            y1,
            width,
            colour,
        } => {
            if let Some(p) = polyline(&[(*x0, *y0), (*x1, *y1)], false) {
                s.set_fill(None);
                s.set_stroke(Some(stroke(*colour, *width)));
                s.draw_path(&p);
            }
        }
        Op::Chart {
            x,
            y,
            scale,
            shapes,
            ..
        } => {
            s.push_transform(&Transform::from_row(*scale, 0.0, 0.0, *scale, *x, *y));
            for shape in shapes {
                match shape {
                    Shape::Line {
                        points,
                        colour,
                        width,
                    } => {
                        if let Some(p) = polyline(points, false) {
                            s.set_fill(None);
                            s.set_stroke(Some(stroke(*colour, *width)));
                            s.draw_path(&p);
                        }
                    }
                    Shape::Rect {
                        x0,
                        y0,
                        x1,
                        y1,
                        colour,
                        fill: filled,
                    } => {
                        if let Some(p) =
                            polyline(&[(*x0, *y0), (*x1, *y0), (*x1, *y1), (*x0, *y1)], true)
                        {
                            if *filled {
                                s.set_stroke(None);
                                s.set_fill(Some(fill(*colour)));
                            } else {
                                s.set_fill(None);
                                s.set_stroke(Some(stroke(*colour, 1.0)));
                            }
                            s.draw_path(&p);
                        }
                    }
                    Shape::Polygon { points, colour } => {
                        if let Some(p) = polyline(points, true) {
                            s.set_stroke(None);
                            s.set_fill(Some(fill(*colour)));
                            s.draw_path(&p);
                        }
                    }
                    Shape::Text {
                        text,
                        x,
                        y,
                        size,
                        face,
                        colour,
                    } => draw_text(s, f, *x, *y, *size, *face, *colour, text),
                }
            }
            s.pop();
        }
    }
}

/// Draws `op` inside its marked content: a leaf of its structure element (pushed onto
/// `leaves`), or an artifact.
fn draw_marked(s: &mut Surface<'_>, f: &Fonts, op: &Op, leaves: &mut [Vec<Node>]) {
    let tag = match op {
        Op::Text { tag, .. } => *tag,
        Op::Chart { tag, .. } => Some(*tag),
        Op::Rect { .. } | Op::Line { .. } => None,
    };
    match tag.filter(|&t| t < leaves.len()) {
        Some(t) => {
            let content = match op {
                Op::Text { .. } => ContentTag::Span(SpanTag::empty()),
                _ => ContentTag::Other,
            };
            let id = s.start_tagged(content);
            draw_op(s, f, op);
            s.end_tagged();
            leaves[t].push(Node::Leaf(id));
        }
        None => {
            s.start_tagged(ContentTag::Artifact(Artifact::new(
                ArtifactType::Layout,
                None,
            )));
            draw_op(s, f, op);
            s.end_tagged();
        }
    }
}

/// The structure tree: each element with its child elements, then its own content.
fn tag_tree(elems: &[(Elem, Option<usize>)], mut leaves: Vec<Vec<Node>>) -> TagTree {
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); elems.len()];
    let mut roots = Vec::new();
    for (i, (_, parent)) in elems.iter().enumerate() {
        match parent {
            Some(p) if *p < elems.len() => children[*p].push(i),
            _ => roots.push(i),
        }
    }
    fn kind(elem: &Elem) -> TagKind {
        let level = |n: u16| std::num::NonZeroU16::new(n).unwrap_or(std::num::NonZeroU16::MIN);
        match elem {
            Elem::Div => Tag::Div.into(),
            Elem::Sect => Tag::Section.into(),
            Elem::Heading(n, title) => Tag::Hn(level(*n), Some(title.clone())).into(),
            Elem::P => Tag::P.into(),
            Elem::Quote => Tag::BlockQuote.into(),
            Elem::Figure(alt) => Tag::Figure(Some(alt.clone())).into(),
            Elem::Table => Tag::Table.into(),
            Elem::Row => Tag::TR.into(),
            Elem::Th => Tag::TH(TableHeaderScope::Column).into(),
            Elem::Td => Tag::TD.into(),
            Elem::Toc => Tag::TOC.into(),
            Elem::TocItem => Tag::TOCI.into(),
        }
    }
    // Children always come after their parent: build from the last element back.
    let mut built: Vec<Option<TagGroup>> = vec![None; elems.len()];
    for i in (0..elems.len()).rev() {
        let mut group = TagGroup::new(kind(&elems[i].0));
        for &c in &children[i] {
            if let Some(g) = built[c].take()
                && !g.children.is_empty()
            {
                group.push(Node::Group(g));
            }
        }
        for leaf in std::mem::take(&mut leaves[i]) {
            group.push(leaf);
        }
        built[i] = Some(group);
    }
    let mut tree = TagTree::new().with_lang(Some("en-GB".to_owned()));
    for r in roots {
        if let Some(g) = built[r].take()
            && !g.children.is_empty()
        {
            tree.push(Node::Group(g));
        }
    }
    tree
}

/// `report.pdf`: the same content as the HTML report, as a PDF document.
pub fn report_pdf(summary: &Summary) -> Result<Vec<u8>, ReportError> {
    let l = layout(summary);
    let font = |data: &'static [u8]| Font::new(data.into(), 0).ok_or(ReportError::Font);
    let fonts = Fonts {
        regular: font(fonts::REGULAR)?,
        bold: font(fonts::BOLD)?,
        italic: font(fonts::ITALIC)?,
    };
    let mut document = Document::new_with(krilla::SerializeSettings {
        enable_tagging: true,
        ..krilla::SerializeSettings::default()
    });
    let mut leaves: Vec<Vec<Node>> = vec![Vec::new(); l.elems.len()];
    let total = l.pages.len();
    let footer_title = fonts::fit(&summary.event.title, Face::Regular, 8.0, WIDTH - 90.0);
    for (n, ops) in l.pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(ReportError::Layout)?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for op in ops {
            draw_marked(&mut surface, &fonts, op, &mut leaves);
        }
        if n > 0 {
            surface.start_tagged(ContentTag::Artifact(Artifact::new(
                ArtifactType::PaginationOther,
                None,
            )));
            let y = PAGE_H - 34.0;
            draw_op(
                &mut surface,
                &fonts,
                &Op::Line {
                    x0: LEFT,
                    y0: y - 12.0,
                    x1: RIGHT,
                    y1: y - 12.0,
                    width: 0.5,
                    colour: RULE,
                },
            );
            draw_text(
                &mut surface,
                &fonts,
                LEFT,
                y,
                8.0,
                Face::Regular,
                MUTED,
                &footer_title,
            );
            let label = format!("Page {} of {}", n + 1, total);
            let w = fonts::width(&label, Face::Regular, 8.0);
            draw_text(
                &mut surface,
                &fonts,
                RIGHT - w,
                y,
                8.0,
                Face::Regular,
                MUTED,
                &label,
            );
            surface.end_tagged();
        }
        surface.finish();
        page.finish();
    }
    let mut outline = Outline::new();
    for (title, page, y) in &l.outline {
        outline.push_child(OutlineNode::new(
            title.clone(),
            XyzDestination::new(*page, Point::from_xy(0.0, *y)),
        ));
    }
    document.set_outline(outline);
    document.set_tag_tree(tag_tree(&l.elems, leaves));
    let mut meta = Metadata::new()
        .title(summary.event.title.clone())
        .description(format!(
            "Post-event report, {}",
            doc::long_date(&summary.event.date)
        ))
        .creator("Joinup".to_owned())
        .language("en-GB".to_owned());
    if summary.purged {
        meta = meta.keywords(vec!["built from kept aggregates".to_owned()]);
    }
    document.set_metadata(meta);
    document
        .finish()
        .map_err(|e| ReportError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Key findings are headings over runs of paragraphs: each heading used to ask for the
    /// whole run below it, more than a page, and so started a page of its own (the 2026
    /// demo's key findings took six mostly blank pages; now two).
    #[test]
    fn a_heading_over_a_run_of_text_keeps_only_its_first_lines() {
        let long = "commissioners need to hear this ".repeat(40);
        let mut rest: Vec<Block> = (0..12).map(|_| Block::Para(long.clone())).collect();
        rest.push(Block::Heading("The next finding".to_owned()));
        let h = next_height(&rest);
        assert!(h < 60.0, "a heading asks for {h} pt below it");
        // A heading right under a heading stays with it and with the first lines after both.
        let mut under = vec![Block::Heading("Session: Welcome".to_owned())];
        under.extend(rest);
        let h2 = next_height(&under);
        assert!(h2 > 0.0 && h2 < 60.0, "{h2}");
        // Short text then a table: the text and the table's start.
        let short = vec![
            Block::Para("One line.".to_owned()),
            Block::Table(doc::Table::new(&["A"], &[false])),
        ];
        assert!(next_height(&short) > 60.0);
    }
}
