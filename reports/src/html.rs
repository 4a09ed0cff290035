//! `report.html`: one self-contained file, inline CSS and SVG charts, nothing fetched.
//!
//! The file is opened from disk and mailed around, far from the server's headers, so it
//! carries its own Content-Security-Policy ([`CSP`]): no script of any kind, nothing loaded
//! from anywhere, no form, no base URL; only its own inline styles. Charts are inline SVG
//! elements, which need no source.

use crate::charts::{self, html_escape as esc};
use crate::doc::{self, Block, Table};
use crate::summary::Summary;

const CSS: &str = r#"
:root { --ink:#212529; --muted:#5a626a; --rule:#dee2e6; --accent:#005eb8; --dark:#003087; --soft:#f2f6fb; }
* { box-sizing: border-box; }
html { font-family: "DejaVu Sans", Verdana, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; }
body { margin: 0 auto; max-width: 1040px; padding: 32px 40px 64px; font-size: 15px; line-height: 1.55; }
h1 { font-size: 30px; line-height: 1.2; color: var(--dark); margin: 0 0 12px; }
h2 { font-size: 23px; color: var(--dark); margin: 48px 0 12px; padding-bottom: 6px; border-bottom: 3px solid var(--accent); }
h3 { font-size: 17px; margin: 28px 0 4px; color: var(--ink); }
p { margin: 8px 0; max-width: 48em; }
.note { color: var(--muted); font-size: 13px; margin: 2px 0 10px; max-width: 60em; }
.notice { border-left: 5px solid #d55e00; background: #fff4ec; padding: 10px 14px; margin: 12px 0; font-weight: bold; }
.callout { border-left: 5px solid #009e73; background: #eef8f4; padding: 12px 16px; margin: 12px 0; font-style: italic; font-size: 16px; }
.cover { border-top: 10px solid var(--accent); padding: 56px 0 24px; }
.cover .kicker { color: var(--accent); font-weight: bold; letter-spacing: .06em; text-transform: uppercase; font-size: 13px; }
.cover .line { color: var(--muted); margin: 2px 0; }
.tiles { display: grid; grid-template-columns: repeat(3, 1fr); gap: 14px; margin: 28px 0 8px; }
.tile { background: var(--soft); border-radius: 6px; padding: 14px 16px; }
.tile .v { font-size: 32px; font-weight: bold; color: var(--dark); line-height: 1.1; }
.tile .l { color: var(--muted); font-size: 13px; }
.figure { display: grid; grid-template-columns: 3fr 2fr; gap: 24px; align-items: start; margin: 10px 0 18px; }
.figure svg.chart { width: 100%; height: auto; display: block; }
.figure > div, .wide { min-width: 0; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0 16px; }
th { text-align: left; border-bottom: 2px solid var(--ink); padding: 5px 6px; vertical-align: bottom; font-weight: bold; }
td { border-bottom: 1px solid var(--rule); padding: 4px 6px; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n { white-space: nowrap; }
blockquote { margin: 8px 0; padding: 6px 14px; border-left: 4px solid var(--rule); background: #fafafa; max-width: 48em; }
.cards { display: grid; grid-template-columns: repeat(2, 1fr); gap: 12px; }
.card { border: 1px solid var(--rule); border-radius: 6px; padding: 10px 14px; font-size: 13px; }
.card .org { font-weight: bold; color: var(--dark); font-size: 14px; }
.card dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 6px 0 0; }
.card dt { color: var(--muted); }
.card dd { margin: 0; }
nav.toc ol { columns: 2; font-size: 14px; }
nav.toc a { color: var(--accent); display: inline-block; min-height: 24px; line-height: 24px; }
nav.toc h2 { font-size: 17px; margin: 20px 0 4px; border: 0; break-before: auto; }
footer { margin-top: 48px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--rule); padding-top: 8px; }
@media screen and (max-width: 760px) { .figure, .cards { grid-template-columns: 1fr; } .tiles { grid-template-columns: 1fr 1fr; } body { padding: 16px; } }
@page { size: A4; margin: 16mm 14mm 18mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  table { font-size: 8.5pt; }
  .wide, .figure > div { overflow: visible; }
  .cover { padding-top: 60mm; break-after: page; }
  h2 { break-before: page; margin-top: 0; }
  h2, h3 { break-after: avoid; }
  .figure, .tile, .card, blockquote, tr, .notice, .callout { break-inside: avoid; }
  thead { display: table-header-group; }
  nav.toc { break-after: page; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// The report's own Content-Security-Policy, in a `<meta>` before anything else in `<head>`:
/// everything is refused (`default-src 'none'`: scripts, images, fonts, frames, connections)
/// except inline styles, the `<style>` block and the tables' `style` attributes.
pub const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// `report.html`: the whole report in one file that prints well.
pub fn report_html(summary: &Summary) -> String {
    let blocks = doc::build(summary);
    let mut h = String::with_capacity(256 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
    ));
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str(&format!(
        "<title>{} — report</title>\n",
        esc(&summary.event.title)
    ));
    h.push_str("<style>");
    h.push_str(CSS);
    h.push_str("</style>\n</head>\n<body>\n");
    let sections: Vec<(&str, &str)> = blocks
        .iter()
        .filter_map(|b| match b {
            Block::Section { id, title } => Some((id.as_str(), title.as_str())),
            _ => None,
        })
        .collect();
    for block in &blocks {
        match block {
            Block::Cover {
                title,
                lines,
                tiles,
                notices,
            } => {
                h.push_str("<header class=\"cover\">\n<div class=\"kicker\">Joinup report</div>\n");
                h.push_str(&format!("<h1>{}</h1>\n", esc(title)));
                for l in lines {
                    h.push_str(&format!("<p class=\"line\">{}</p>\n", esc(l)));
                }
                tiles_html(&mut h, tiles);
                for n in notices {
                    h.push_str(&format!("<p class=\"notice\">{}</p>\n", esc(n)));
                }
                h.push_str(
                    "</header>\n<nav class=\"toc\" aria-labelledby=\"contents\"><h2 id=\"contents\">Contents</h2><ol>\n",
                );
                for (id, t) in &sections {
                    h.push_str(&format!(
                        "<li><a href=\"#{}\">{}</a></li>\n",
                        esc(id),
                        esc(t)
                    ));
                }
                h.push_str("</ol></nav>\n<main>\n");
            }
            Block::Section { id, title } => {
                h.push_str(&format!("<h2 id=\"{}\">{}</h2>\n", esc(id), esc(title)));
            }
            Block::Heading(t) => h.push_str(&format!("<h3>{}</h3>\n", esc(t))),
            Block::Para(t) => h.push_str(&format!("<p>{}</p>\n", esc(t))),
            Block::Note(t) => h.push_str(&format!("<p class=\"note\">{}</p>\n", esc(t))),
            Block::Notice(t) => h.push_str(&format!("<p class=\"notice\">{}</p>\n", esc(t))),
            Block::Callout(t) => h.push_str(&format!("<p class=\"callout\">{}</p>\n", esc(t))),
            Block::Figure { chart, table } => {
                h.push_str("<figure class=\"figure\" style=\"margin:10px 0 18px\">\n<div>");
                h.push_str(&charts::svg(chart));
                h.push_str("</div>\n<div>");
                table_html(&mut h, table, Some(chart.title()));
                h.push_str("</div>\n</figure>\n");
            }
            Block::Table(t) => {
                h.push_str("<div class=\"wide\">");
                table_html(&mut h, t, None);
                h.push_str("</div>\n");
            }
            Block::Quotes(qs) => {
                for q in qs {
                    h.push_str(&format!("<blockquote>{}</blockquote>\n", esc(q)));
                }
            }
            Block::Cards(cards) => {
                h.push_str("<div class=\"cards\">\n");
                for c in cards {
                    h.push_str("<div class=\"card\">");
                    h.push_str(&format!(
                        "<div class=\"org\">{}</div>",
                        esc(&c.organisation)
                    ));
                    let who = match (&c.name, &c.role) {
                        (Some(n), Some(r)) => format!("{n}, {r}"),
                        (Some(n), None) => n.clone(),
                        (None, Some(r)) => r.clone(),
                        (None, None) => String::new(),
                    };
                    if !who.is_empty() {
                        h.push_str(&format!("<div>{}</div>", esc(&who)));
                    }
                    h.push_str("<dl>");
                    for (k, v) in [
                        ("Service", &c.service),
                        ("Offer", &c.offer),
                        ("Referral", &c.referral),
                        ("Contact", &c.contact),
                    ] {
                        h.push_str(&format!("<dt>{k}</dt><dd>{}</dd>", esc(v)));
                    }
                    h.push_str("</dl></div>\n");
                }
                h.push_str("</div>\n");
            }
        }
    }
    h.push_str(&format!(
        "</main>\n<footer>{} · {} · made by Joinup{}</footer>\n</body>\n</html>\n",
        esc(&summary.event.title),
        esc(&doc::long_date(&summary.event.date)),
        if summary.purged {
            " from kept aggregates"
        } else {
            ""
        }
    ));
    h
}

fn tiles_html(h: &mut String, tiles: &[doc::Tile]) {
    h.push_str("<div class=\"tiles\">\n");
    for t in tiles {
        h.push_str(&format!(
            "<div class=\"tile\"><div class=\"v\">{}</div><div class=\"l\">{}</div></div>\n",
            esc(&t.value),
            esc(&t.label)
        ));
    }
    h.push_str("</div>\n");
}

fn table_html(h: &mut String, t: &Table, caption: Option<&str>) {
    h.push_str("<table>");
    if let Some(c) = caption {
        h.push_str(&format!(
            "<caption class=\"note\" style=\"text-align:left\">Data: {}</caption>",
            esc(c)
        ));
    }
    h.push_str("<thead><tr>");
    for (i, head) in t.headers.iter().enumerate() {
        let cls = if t.numeric.get(i).copied().unwrap_or(false) {
            " class=\"n\""
        } else {
            ""
        };
        h.push_str(&format!("<th{cls}>{}</th>", esc(head)));
    }
    h.push_str("</tr></thead><tbody>\n");
    for (r, row) in t.rows.iter().enumerate() {
        h.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let cls = if t.numeric.get(i).copied().unwrap_or(false) {
                " class=\"n\""
            } else {
                ""
            };
            let style = match t.shade.get(r).and_then(|s| s.get(i)).copied().flatten() {
                Some(v) => {
                    let (red, green, blue) = doc::heat(v);
                    format!(" style=\"background:rgb({red},{green},{blue})\"")
                }
                None => String::new(),
            };
            h.push_str(&format!("<td{cls}{style}>{}</td>", esc(cell)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table>\n");
}
