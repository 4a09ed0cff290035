//! Charts, drawn once with plotters onto any backend: its SVG backend for the HTML report, and
//! a recording backend whose shapes the PDF replays as vector graphics.
//!
//! Colours are the Okabe-Ito palette, safe for colour-blind readers.

use std::cell::RefCell;
use std::convert::Infallible;
use std::rc::Rc;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

use crate::fonts::{self, Face};

/// Okabe-Ito.
pub(crate) const BLUE: (u8, u8, u8) = (0, 114, 178);
pub(crate) const ORANGE: (u8, u8, u8) = (230, 159, 0);
pub(crate) const GREEN: (u8, u8, u8) = (0, 158, 115);
pub(crate) const VERMILLION: (u8, u8, u8) = (213, 94, 0);
pub(crate) const GREY: (u8, u8, u8) = (153, 153, 153);
const INK: (u8, u8, u8) = (33, 37, 41);
const MUTED: (u8, u8, u8) = (90, 98, 106);
const RULE: (u8, u8, u8) = (222, 226, 230);

/// The width every chart is drawn at, in chart units (CSS pixels in the HTML).
pub(crate) const WIDTH: u32 = 480;

#[derive(Debug, Clone)]
pub(crate) struct Bar {
    pub label: String,
    pub value: f64,
    /// Printed at the end of the bar.
    pub text: String,
    pub colour: (u8, u8, u8),
}

/// A named, coloured series of values (`None`: not asked).
pub(crate) type Series = (String, (u8, u8, u8), Vec<Option<f64>>);

#[derive(Debug, Clone)]
pub(crate) enum Chart {
    /// Horizontal bars, one per row.
    Bars {
        title: String,
        axis: String,
        bars: Vec<Bar>,
        /// Values are shares (0 to 1): the axis reads in percent.
        percent: bool,
    },
    /// Two series side by side per category (last year, this year).
    Paired {
        title: String,
        axis: String,
        categories: Vec<String>,
        series: [Series; 2],
        percent: bool,
    },
    /// A line over time: (label, value).
    Line {
        title: String,
        axis: String,
        points: Vec<(String, f64)>,
    },
}

const TITLE_H: i32 = 34;
const AXIS_H: i32 = 44;
const ROW: i32 = 30;
const PAIR_ROW: i32 = 40;

impl Chart {
    pub(crate) fn title(&self) -> &str {
        match self {
            Chart::Bars { title, .. } | Chart::Paired { title, .. } | Chart::Line { title, .. } => {
                title
            }
        }
    }

    /// A text alternative for the chart: what it shows and every value it draws, for the
    /// PDF's structure tree and the SVG's label.
    pub(crate) fn alt(&self) -> String {
        match self {
            Chart::Bars { title, bars, .. } => {
                let items: Vec<String> = bars
                    .iter()
                    .map(|b| format!("{}: {}", b.label, b.text))
                    .collect();
                if items.is_empty() {
                    format!("Bar chart, {title}: no answers.")
                } else {
                    format!("Bar chart, {title}. {}.", items.join("; "))
                }
            }
            Chart::Paired {
                title,
                categories,
                series,
                percent,
                ..
            } => {
                let items: Vec<String> = categories
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let v = |s: &Series| {
                            s.2.get(i)
                                .copied()
                                .flatten()
                                .map_or("not asked".to_owned(), |v| tick_label_value(v, *percent))
                        };
                        format!(
                            "{c}: {} {}, {} {}",
                            series[0].0,
                            v(&series[0]),
                            series[1].0,
                            v(&series[1])
                        )
                    })
                    .collect();
                format!("Paired bar chart, {title}. {}.", items.join("; "))
            }
            Chart::Line { title, points, .. } => match (points.first(), points.last()) {
                (Some(first), Some(last)) => {
                    let peak = points
                        .iter()
                        .rev()
                        .max_by(|a, b| a.1.total_cmp(&b.1))
                        .unwrap_or(first);
                    format!(
                        "Line chart, {title}, one point a minute from {} to {}; the most was {} at {}.",
                        first.0, last.0, peak.1, peak.0
                    )
                }
                _ => format!("Line chart, {title}: no samples."),
            },
        }
    }

    pub(crate) fn size(&self) -> (u32, u32) {
        let h = match self {
            Chart::Bars { bars, .. } => {
                let rows = label_rows(bars.iter().map(|b| b.label.as_str()), ROW);
                TITLE_H + rows.iter().map(|r| r.1).sum::<i32>().max(ROW) + AXIS_H + 24
            }
            Chart::Paired { categories, .. } => {
                let rows = label_rows(categories.iter().map(String::as_str), PAIR_ROW);
                TITLE_H + 24 + rows.iter().map(|r| r.1).sum::<i32>().max(PAIR_ROW) + AXIS_H
            }
            Chart::Line { .. } => 300,
        };
        (WIDTH, h as u32)
    }
}

fn rgb(c: (u8, u8, u8)) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// Plotters sizes text so that SVG shows `size / 1.24`: this gives a real pixel size.
fn font(px: f64, face: Face, colour: (u8, u8, u8), h: HPos, v: VPos) -> TextStyle<'static> {
    let style = match face {
        Face::Regular => FontStyle::Normal,
        Face::Bold => FontStyle::Bold,
        Face::Italic => FontStyle::Italic,
    };
    FontDesc::new(FontFamily::Name(fonts::FAMILY), px * 1.24, style)
        .color(&rgb(colour))
        .pos(Pos::new(h, v))
}

/// A tick step that gives about five ticks up to `max`.
fn step_for(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 2.5 {
        2.5
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    (nice * mag).max(if max >= 1.0 { 1.0 } else { 0.0 })
}

fn tick_label(v: f64, percent: bool) -> String {
    if percent {
        format!("{:.0}%", v * 100.0)
    } else if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Draws `chart` onto `root`, which must be `chart.size()`.
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (w, h) = chart.size();
    let (w, h) = (w as i32, h as i32);
    root.draw(&Text::new(
        fonts::fit(chart.title(), Face::Bold, 15.0, w as f32 - 8.0),
        (4, 8),
        font(15.0, Face::Bold, INK, HPos::Left, VPos::Top),
    ))?;
    match chart {
        Chart::Bars {
            axis,
            bars,
            percent,
            ..
        } => draw_bars(root, w, h, axis, bars, *percent),
        Chart::Paired {
            axis,
            categories,
            series,
            percent,
            ..
        } => draw_paired(root, w, h, axis, categories, series, *percent),
        Chart::Line { axis, points, .. } => draw_line(root, w, h, axis, points),
    }
}

/// The height of one wrapped label line.
const LABEL_LINE: i32 = 14;

/// Each label wrapped (never cut) to the label column, with its row's height: at least
/// `row`, more when the label needs more lines.
fn label_rows<'a>(
    labels: impl Iterator<Item = &'a str> + Clone,
    row: i32,
) -> Vec<(Vec<String>, i32)> {
    let lw = label_width(labels.clone().map(str::to_owned), WIDTH as i32);
    labels
        .map(|l| {
            let lines = fonts::wrap(l, Face::Regular, 12.0, (lw - 10) as f32);
            let h = (lines.len() as i32 * LABEL_LINE + 6).max(row);
            (lines, h)
        })
        .collect()
}

/// Draws a wrapped label right-aligned at `x`, centred on `cy`.
fn draw_label<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lines: &[String],
    x: i32,
    cy: i32,
) -> DrawResult<DB> {
    let first = cy - (lines.len() as i32 - 1) * LABEL_LINE / 2;
    for (i, line) in lines.iter().enumerate() {
        root.draw(&Text::new(
            line.clone(),
            (x, first + i as i32 * LABEL_LINE),
            font(12.0, Face::Regular, INK, HPos::Right, VPos::Center),
        ))?;
    }
    Ok(())
}

fn label_width(labels: impl Iterator<Item = String>, w: i32) -> i32 {
    let widest = labels
        .map(|l| fonts::width(&l, Face::Regular, 12.0))
        .fold(0.0f32, f32::max);
    (widest.ceil() as i32 + 12).clamp(60, w * 2 / 5)
}

/// The value axis: grid lines, tick labels and the axis title, from `x0` to `x1`.
#[allow(clippy::too_many_arguments)]
fn value_axis<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x0: i32,
    x1: i32,
    top: i32,
    bottom: i32,
    max: f64,
    percent: bool,
    axis: &str,
) -> DrawResult<DB> {
    let step = step_for(max);
    let scale = (x1 - x0) as f64 / max;
    let mut v = 0.0;
    while v <= max + 1e-9 {
        let x = x0 + (v * scale).round() as i32;
        root.draw(&PathElement::new(vec![(x, top), (x, bottom)], rgb(RULE)))?;
        root.draw(&Text::new(
            tick_label(v, percent),
            (x, bottom + 4),
            font(11.0, Face::Regular, MUTED, HPos::Center, VPos::Top),
        ))?;
        v += step;
    }
    root.draw(&PathElement::new(vec![(x0, top), (x0, bottom)], rgb(MUTED)))?;
    root.draw(&Text::new(
        axis.to_owned(),
        ((x0 + x1) / 2, bottom + 22),
        font(12.0, Face::Regular, MUTED, HPos::Center, VPos::Top),
    ))?;
    Ok(())
}

fn axis_max(values: impl Iterator<Item = f64>, percent: bool) -> f64 {
    let m = values.fold(0.0f64, f64::max);
    if percent {
        let step = step_for(m.max(0.05));
        ((m / step).ceil() * step).clamp(0.05, 1.0)
    } else {
        let m = m.max(1.0);
        let step = step_for(m);
        (m / step).ceil() * step
    }
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    w: i32,
    h: i32,
    axis: &str,
    bars: &[Bar],
    percent: bool,
) -> DrawResult<DB> {
    let lw = label_width(bars.iter().map(|b| b.label.clone()), w);
    let value_w = bars
        .iter()
        .map(|b| fonts::width(&b.text, Face::Regular, 12.0))
        .fold(0.0f32, f32::max)
        .ceil() as i32
        + 10;
    let x0 = lw;
    let x1 = w - value_w.max(40) - 4;
    let top = TITLE_H + 4;
    let bottom = h - AXIS_H - 4;
    let max = axis_max(bars.iter().map(|b| b.value), percent);
    value_axis(root, x0, x1, top, bottom, max, percent, axis)?;
    if bars.is_empty() {
        root.draw(&Text::new(
            "No answers".to_owned(),
            ((x0 + x1) / 2, (top + bottom) / 2),
            font(13.0, Face::Italic, MUTED, HPos::Center, VPos::Center),
        ))?;
    }
    let scale = (x1 - x0) as f64 / max;
    let rows = label_rows(bars.iter().map(|b| b.label.as_str()), ROW);
    let mut y = top + 4;
    for (b, (lines, row)) in bars.iter().zip(&rows) {
        let cy = y + row / 2 - 1;
        let bw = (b.value.max(0.0) * scale).round() as i32;
        if bw > 0 {
            root.draw(&Rectangle::new(
                [(x0, cy - ROW / 2 + 4), (x0 + bw, cy + ROW / 2 - 4)],
                rgb(b.colour).filled(),
            ))?;
        }
        draw_label(root, lines, x0 - 6, cy)?;
        root.draw(&Text::new(
            b.text.clone(),
            (x0 + bw + 5, cy),
            font(12.0, Face::Regular, INK, HPos::Left, VPos::Center),
        ))?;
        y += row;
    }
    Ok(())
}

fn draw_paired<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    w: i32,
    h: i32,
    axis: &str,
    categories: &[String],
    series: &[Series; 2],
    percent: bool,
) -> DrawResult<DB> {
    let lw = label_width(categories.iter().cloned(), w);
    let x0 = lw;
    let x1 = w - 56;
    // Legend.
    let mut lx = x0;
    for (name, colour, _) in series {
        root.draw(&Rectangle::new(
            [(lx, TITLE_H + 2), (lx + 12, TITLE_H + 14)],
            rgb(*colour).filled(),
        ))?;
        root.draw(&Text::new(
            name.clone(),
            (lx + 17, TITLE_H + 8),
            font(12.0, Face::Regular, INK, HPos::Left, VPos::Center),
        ))?;
        lx += 30 + fonts::width(name, Face::Regular, 12.0) as i32;
    }
    let top = TITLE_H + 24;
    let bottom = h - AXIS_H - 4;
    let max = axis_max(
        series.iter().flat_map(|s| s.2.iter().flatten().copied()),
        percent,
    );
    value_axis(root, x0, x1, top, bottom, max, percent, axis)?;
    let scale = (x1 - x0) as f64 / max;
    let rows = label_rows(categories.iter().map(String::as_str), PAIR_ROW);
    let mut row_top = top + 2;
    for (i, (lines, row)) in rows.iter().enumerate() {
        let y = row_top + (row - PAIR_ROW) / 2;
        row_top += row;
        draw_label(root, lines, x0 - 6, y + PAIR_ROW / 2 - 2)?;
        for (s, (_, colour, values)) in series.iter().enumerate() {
            let by = y + 3 + s as i32 * 16;
            match values.get(i).copied().flatten() {
                Some(v) => {
                    let bw = (v.max(0.0) * scale).round() as i32;
                    if bw > 0 {
                        root.draw(&Rectangle::new(
                            [(x0, by), (x0 + bw, by + 13)],
                            rgb(*colour).filled(),
                        ))?;
                    }
                    root.draw(&Text::new(
                        tick_label_value(v, percent),
                        (x0 + bw + 4, by + 7),
                        font(11.0, Face::Regular, INK, HPos::Left, VPos::Center),
                    ))?;
                }
                None => {
                    root.draw(&Text::new(
                        "not asked".to_owned(),
                        (x0 + 4, by + 7),
                        font(11.0, Face::Italic, MUTED, HPos::Left, VPos::Center),
                    ))?;
                }
            }
        }
    }
    Ok(())
}

fn tick_label_value(v: f64, percent: bool) -> String {
    if percent {
        format!("{:.0}%", v * 100.0)
    } else if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn draw_line<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    w: i32,
    h: i32,
    axis: &str,
    points: &[(String, f64)],
) -> DrawResult<DB> {
    let x0 = 52;
    let x1 = w - 16;
    let top = TITLE_H + 8;
    let bottom = h - 40;
    let max = axis_max(points.iter().map(|p| p.1), false);
    let step = step_for(max);
    let yscale = (bottom - top) as f64 / max;
    let mut v = 0.0;
    while v <= max + 1e-9 {
        let y = bottom - (v * yscale).round() as i32;
        root.draw(&PathElement::new(vec![(x0, y), (x1, y)], rgb(RULE)))?;
        root.draw(&Text::new(
            tick_label(v, false),
            (x0 - 6, y),
            font(11.0, Face::Regular, MUTED, HPos::Right, VPos::Center),
        ))?;
        v += step;
    }
    root.draw(&Text::new(
        axis.to_owned(),
        (x0, top - 2),
        font(11.0, Face::Regular, MUTED, HPos::Left, VPos::Bottom),
    ))?;
    if points.is_empty() {
        root.draw(&Text::new(
            "No attendance samples".to_owned(),
            ((x0 + x1) / 2, (top + bottom) / 2),
            font(13.0, Face::Italic, MUTED, HPos::Center, VPos::Center),
        ))?;
        return Ok(());
    }
    let n = points.len();
    let xs = |i: usize| {
        if n <= 1 {
            (x0 + x1) / 2
        } else {
            x0 + ((x1 - x0) as f64 * i as f64 / (n - 1) as f64).round() as i32
        }
    };
    let coords: Vec<(i32, i32)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (xs(i), bottom - (p.1 * yscale).round() as i32))
        .collect();
    let mut area = coords.clone();
    area.push((xs(n - 1), bottom));
    area.push((xs(0), bottom));
    root.draw(&Polygon::new(area, rgb((214, 234, 248)).filled()))?;
    if let [(x, y)] = coords.as_slice() {
        // One sample is still drawn: a marked point and a column down to the axis (a line
        // through one point draws nothing).
        root.draw(&Rectangle::new(
            [(x - 3, *y), (x + 3, bottom)],
            rgb((214, 234, 248)).filled(),
        ))?;
        root.draw(&Rectangle::new(
            [(x - 4, y - 4), (x + 4, y + 4)],
            rgb(BLUE).filled(),
        ))?;
    }
    root.draw(&PathElement::new(
        coords,
        Color::stroke_width(&rgb(BLUE), 2),
    ))?;
    // About seven time labels.
    let every = n.div_ceil(7).max(1);
    for i in (0..n).step_by(every) {
        let x = xs(i);
        root.draw(&PathElement::new(
            vec![(x, bottom), (x, bottom + 4)],
            rgb(MUTED),
        ))?;
        root.draw(&Text::new(
            points[i].0.clone(),
            (x, bottom + 8),
            font(11.0, Face::Regular, MUTED, HPos::Center, VPos::Top),
        ))?;
    }
    root.draw(&PathElement::new(
        vec![(x0, bottom), (x1, bottom)],
        rgb(MUTED),
    ))?;
    Ok(())
}

/// The chart as an SVG element that scales to its container.
pub(crate) fn svg(chart: &Chart) -> String {
    let size = chart.size();
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        if draw(&root, chart).is_err() {
            return String::new();
        }
        if root.present().is_err() {
            return String::new();
        }
    }
    let title = html_escape(chart.title());
    buf.replacen(
        &format!("<svg width=\"{}\" height=\"{}\"", size.0, size.1),
        &format!(
            "<svg role=\"img\" aria-label=\"{title}\" class=\"chart\" preserveAspectRatio=\"xMinYMin meet\""
        ),
        1,
    )
}

pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A shape recorded for the PDF, in chart units.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    Line {
        points: Vec<(f32, f32)>,
        colour: (u8, u8, u8),
        width: f32,
    },
    Rect {
        x0: f32,
        y0: f32,
        x1: f32,
        y1: f32,
        colour: (u8, u8, u8),
        fill: bool,
    },
    Polygon {
        points: Vec<(f32, f32)>,
        colour: (u8, u8, u8),
    },
    Text {
        text: String,
        /// Left end of the baseline.
        x: f32,
        y: f32,
        size: f32,
        face: Face,
        colour: (u8, u8, u8),
    },
}

/// A plotters backend that records shapes.
struct Recorder {
    size: (u32, u32),
    shapes: Rc<RefCell<Vec<Shape>>>,
}

impl Recorder {
    fn push(&self, shape: Shape) {
        self.shapes.borrow_mut().push(shape);
    }
}

fn colour_of(c: BackendColor) -> (u8, u8, u8) {
    c.rgb
}

impl DrawingBackend for Recorder {
    type ErrorType = Infallible;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Infallible>> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Infallible>> {
        Ok(())
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Infallible>> {
        if color.alpha > 0.0 {
            self.push(Shape::Rect {
                x0: point.0 as f32,
                y0: point.1 as f32,
                x1: point.0 as f32 + 1.0,
                y1: point.1 as f32 + 1.0,
                colour: colour_of(color),
                fill: true,
            });
        }
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Infallible>> {
        self.draw_path([from, to], style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        ul: BackendCoord,
        br: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Infallible>> {
        if style.color().alpha > 0.0 {
            self.push(Shape::Rect {
                x0: ul.0 as f32,
                y0: ul.1 as f32,
                x1: br.0 as f32,
                y1: br.1 as f32,
                colour: colour_of(style.color()),
                fill,
            });
        }
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Infallible>> {
        if style.color().alpha > 0.0 {
            self.push(Shape::Line {
                points: path
                    .into_iter()
                    .map(|(x, y)| (x as f32, y as f32))
                    .collect(),
                colour: colour_of(style.color()),
                width: style.stroke_width().max(1) as f32,
            });
        }
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Infallible>> {
        if style.color().alpha > 0.0 {
            self.push(Shape::Polygon {
                points: vert
                    .into_iter()
                    .map(|(x, y)| (x as f32, y as f32))
                    .collect(),
                colour: colour_of(style.color()),
            });
        }
        Ok(())
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Infallible>> {
        let size = (style.size() / 1.24) as f32;
        let face = match style.style() {
            FontStyle::Bold => Face::Bold,
            FontStyle::Italic | FontStyle::Oblique => Face::Italic,
            FontStyle::Normal => Face::Regular,
        };
        let w = fonts::width(text, face, size);
        let anchor = style.anchor();
        let x = match anchor.h_pos {
            HPos::Left => pos.0 as f32,
            HPos::Center => pos.0 as f32 - w / 2.0,
            HPos::Right => pos.0 as f32 - w,
        };
        // As the SVG backend places text: top 0.76em, centre 0.5ex, bottom -0.5ex.
        let y = match anchor.v_pos {
            VPos::Top => pos.1 as f32 + 0.76 * size,
            VPos::Center => pos.1 as f32 + 0.27 * size,
            VPos::Bottom => pos.1 as f32 - 0.27 * size,
        };
        self.push(Shape::Text {
            text: text.to_owned(),
            x,
            y,
            size,
            face,
            colour: colour_of(style.color()),
        });
        Ok(())
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Infallible>> {
        let size = (style.size() / 1.24) as f32;
        Ok((
            fonts::width(text, Face::Regular, size).ceil() as u32,
            size.ceil() as u32,
        ))
    }
}

/// The chart's shapes, for the PDF.
pub(crate) fn record(chart: &Chart) -> Vec<Shape> {
    let shapes = Rc::new(RefCell::new(Vec::new()));
    let root = Recorder {
        size: chart.size(),
        shapes: Rc::clone(&shapes),
    }
    .into_drawing_area();
    // The recorder never fails.
    let _ = draw(&root, chart);
    drop(root);
    shapes.take()
}
