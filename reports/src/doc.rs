//! The report's content as a list of blocks, built once from a [`Summary`] and rendered by
//! both the HTML and the PDF writers, so the two always tell the same thing.

use crate::charts::{BLUE, Bar, Chart, GREEN, GREY, ORANGE, VERMILLION};
use crate::findings::ranks;
use crate::front;
use crate::privacy::NOT_GIVEN;
use crate::summary::{
    ActivityResult, ActivitySummary, CardItem, Comparison, GroupCount, GroupTally, Summary,
};

#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Columns whose cells are figures (right-aligned).
    pub numeric: Vec<bool>,
    /// A heat map's shading, per row and column, from -1 (vermillion) to 1 (blue); empty
    /// for a plain table. The cells always carry their figure too.
    pub shade: Vec<Vec<Option<f64>>>,
}

impl Table {
    pub(crate) fn new(headers: &[&str], numeric: &[bool]) -> Table {
        Table {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
            numeric: numeric.to_vec(),
            shade: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Tile {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone)]
pub(crate) enum Block {
    Cover {
        title: String,
        lines: Vec<String>,
        tiles: Vec<Tile>,
        notices: Vec<String>,
    },
    /// A main section: starts a new page in print.
    Section {
        id: String,
        title: String,
    },
    Heading(String),
    Para(String),
    /// Small, muted text: a figure's details.
    Note(String),
    /// A boxed statement the reader must not miss.
    Notice(String),
    /// A pledge or other text quoted whole, boxed.
    Callout(String),
    /// A chart beside its data table.
    Figure {
        chart: Chart,
        table: Table,
    },
    Table(Table),
    Quotes(Vec<String>),
    Cards(Vec<CardItem>),
}

/// A heat map cell's background for `v` from -1 to 1: a light tint of vermillion (below the
/// rest) or blue (above), at most 55% so dark text keeps its contrast.
pub(crate) fn heat(v: f64) -> (u8, u8, u8) {
    let base = if v < 0.0 { VERMILLION } else { BLUE };
    let t = v.abs().clamp(0.0, 1.0) * 0.55;
    let mix = |c: u8| (255.0 * (1.0 - t) + c as f64 * t).round() as u8;
    (mix(base.0), mix(base.1), mix(base.2))
}

pub(crate) fn num(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn pct(r: f64) -> String {
    let p = r * 100.0;
    if p > 0.0 && p < 1.0 {
        "<1%".to_owned()
    } else {
        format!("{p:.0}%")
    }
}

pub(crate) fn share(n: u64, d: u64) -> String {
    if d == 0 {
        "–".to_owned()
    } else {
        pct(n as f64 / d as f64)
    }
}

pub(crate) fn mean(m: Option<f64>) -> String {
    m.map_or("–".to_owned(), |m| format!("{m:.2}"))
}

pub(crate) fn signed(m: Option<f64>) -> String {
    m.map_or("–".to_owned(), |m| {
        if m.abs() < 0.005 {
            "0.00".to_owned()
        } else {
            format!("{m:+.2}")
        }
    })
}

pub(crate) fn signed_int(n: i64) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

/// `2026-11-23` as `23 November 2026`.
pub(crate) fn long_date(d: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let parts: Vec<&str> = d.get(..10).unwrap_or(d).split('-').collect();
    match parts.as_slice() {
        [y, m, day] => match (m.parse::<usize>(), day.parse::<u32>()) {
            (Ok(m), Ok(day)) if (1..=12).contains(&m) => format!("{day} {} {y}", MONTHS[m - 1]),
            _ => d.to_owned(),
        },
        _ => d.to_owned(),
    }
}

/// `trauma-informed-care` as `Trauma informed care`.
pub(crate) fn topic_name(topic: &str) -> String {
    let spaced = topic.replace(['-', '_'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", num(n), if n == 1 { one } else { many })
}

pub(crate) fn quote_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The line under the report's title that states how the report was built.
pub(crate) fn provenance(s: &Summary) -> Vec<String> {
    let mut notices = Vec::new();
    if s.purged {
        let on = s
            .purged_at
            .as_deref()
            .map_or("an earlier date".to_owned(), long_date);
        notices.push(format!(
            "Built from kept aggregates; raw answers were deleted on {on}. Figures are as they stood then."
        ));
    }
    match s.event.phase.as_str() {
        "before" => notices.push(
            "The event had not started when this report was made: only what came in advance is here."
                .to_owned(),
        ),
        // The stored end of an event in its after window is the window's close.
        "after" => notices.push(match s.event.ended_at.as_deref() {
            Some(end) => format!(
                "Made while the evaluation after the event was still open (it closes on {}): its figures may still change.",
                long_date(end)
            ),
            None => "Made while the evaluation after the event was still open: its figures may still change."
                .to_owned(),
        }),
        _ if s.event.state != "ended" => notices.push(
            "The event was still live when this report was made: figures may change.".to_owned(),
        ),
        _ => {}
    }
    notices
}

pub(crate) fn build(s: &Summary) -> Vec<Block> {
    let mut b = Vec::new();
    cover(s, &mut b);
    // The story first: what the day found, how it was found, and what happens next.
    front::key_findings(s, &mut b);
    front::aims(s, &mut b);
    learnt(s, &mut b);
    front::raised(s, &mut b);
    front::sectors(s, &mut b);
    comparison(s, &mut b);
    front::next_steps(s, &mut b);
    // Then the full record, in the programme's order.
    glance(s, &mut b);
    room(s, &mut b);
    said(s, &mut b);
    crate::questions::section_of(s, &mut b);
    pledge(s, &mut b);
    rooms(s, &mut b);
    directory(s, &mut b);
    about(s, &mut b);
    b
}

fn cover(s: &Summary, b: &mut Vec<Block>) {
    let h = &s.headline;
    let mut lines = vec![format!("Post-event report · {}", long_date(&s.event.date))];
    let mut id = format!("Event code {}", s.event.code);
    if let Some(series) = &s.event.series {
        id.push_str(&format!(" · series {series}"));
    }
    lines.push(id);
    let tiles = vec![
        Tile {
            value: num(h.attendees),
            label: "attendees".to_owned(),
        },
        Tile {
            value: num(h.organisations_represented),
            label: format!(
                "organisations ({} of {} registered)",
                num(h.registered_organisations_represented),
                num(h.registered_organisations)
            ),
        },
        Tile {
            value: num(h.sectors_represented),
            label: format!("sectors (of {} registered)", num(h.registered_sectors)),
        },
        Tile {
            value: num(h.peak_present),
            label: "at the busiest moment".to_owned(),
        },
        Tile {
            value: num(h.questions_asked),
            label: "questions asked".to_owned(),
        },
        Tile {
            value: num(h.pledge_signatures),
            label: "pledge signatures".to_owned(),
        },
    ];
    b.push(Block::Cover {
        title: s.event.title.clone(),
        lines,
        tiles,
        notices: provenance(s),
    });
}

pub(crate) fn section(b: &mut Vec<Block>, id: &str, title: &str) {
    b.push(Block::Section {
        id: id.to_owned(),
        title: title.to_owned(),
    });
}

fn glance(s: &Summary, b: &mut Vec<Block>) {
    let h = &s.headline;
    section(b, "glance", "At a glance");
    let mut p = format!(
        "{} joined from {} and {}; at the busiest moment {} were connected at once.",
        plural(h.attendees, "person", "people"),
        plural(h.organisations_represented, "organisation", "organisations"),
        plural(h.sectors_represented, "sector", "sectors"),
        num(h.peak_present)
    );
    if h.attendees > 0 {
        p.push_str(&format!(
            " {} of them ({}) answered at least one activity, giving {} in all.",
            num(h.respondents),
            share(h.respondents, h.attendees),
            plural(h.answers, "answer", "answers")
        ));
    }
    b.push(Block::Para(p));
    if let Some(c) = &s.comparison {
        b.push(Block::Para(format!(
            "Last year's edition ({}) had {}; this year's had {}.",
            long_date(&c.previous_date),
            plural(c.attendees.previous, "attendee", "attendees"),
            num(c.attendees.current)
        )));
    }
    if !h.missing_organisations.is_empty() {
        b.push(Block::Para(format!(
            "Registered organisations with nobody in the room: {}.",
            quote_list(&h.missing_organisations)
        )));
    }
    if !h.missing_sectors.is_empty() {
        b.push(Block::Para(format!(
            "Registered sectors with nobody in the room: {}.",
            quote_list(&h.missing_sectors)
        )));
    }
    b.push(Block::Heading("Response rate by activity".to_owned()));
    b.push(Block::Note(
        "Respondents out of the attendees who could see the activity: everyone for plenary \
         activities, that room's attendees for a break-out room's."
            .to_owned(),
    ));
    let mut t = Table::new(
        &[
            "Activity",
            "Where",
            "Kind",
            "Respondents",
            "Could see it",
            "Rate",
        ],
        &[false, false, false, true, true, true],
    );
    for a in &s.activities {
        t.row(vec![
            a.prompt.clone(),
            a.room.clone().unwrap_or_else(|| "Plenary".to_owned()),
            a.kind().to_owned(),
            num(a.respondents),
            num(a.audience),
            a.response_rate.map_or("–".to_owned(), pct),
        ]);
    }
    b.push(Block::Table(t));
}

fn count_bars(groups: &[GroupCount], total: u64, colour: (u8, u8, u8), limit: usize) -> Vec<Bar> {
    groups
        .iter()
        .take(limit)
        .map(|g| Bar {
            label: g.name.clone(),
            value: g.count as f64,
            text: format!("{} ({})", num(g.count), share(g.count, total)),
            colour,
        })
        .collect()
}

fn room(s: &Summary, b: &mut Vec<Block>) {
    let att = &s.attendance;
    let total = s.headline.attendees;
    section(b, "room", "Who was in the room");
    let top = att.by_sector.iter().find(|g| g.name != NOT_GIVEN);
    let mut p = "Attendance is not an answer, so these counts are shown whole.".to_owned();
    if let Some(top) = top {
        p = format!(
            "The largest sector in the room was {} ({} of {} attendees). {p}",
            top.name,
            num(top.count),
            num(total)
        );
    }
    b.push(Block::Para(p));
    let mut t = Table::new(&["Sector", "Attendees", "Share"], &[false, true, true]);
    for g in &att.by_sector {
        t.row(vec![g.name.clone(), num(g.count), share(g.count, total)]);
    }
    b.push(Block::Figure {
        chart: Chart::Bars {
            title: "Attendees by sector".to_owned(),
            axis: "Attendees".to_owned(),
            bars: count_bars(&att.by_sector, total, BLUE, 20),
            percent: false,
        },
        table: t,
    });

    b.push(Block::Heading("Attendees by organisation".to_owned()));
    let typed = att
        .by_organisation
        .iter()
        .filter(|o| !o.registered && o.name != NOT_GIVEN)
        .count();
    b.push(Block::Para(format!(
        "{} represented, {} of them registered for the event{}.",
        plural(
            s.headline.organisations_represented,
            "organisation was",
            "organisations were"
        ),
        num(s.headline.registered_organisations_represented),
        if typed > 0 {
            format!("; {} typed in by attendees", num(typed as u64))
        } else {
            String::new()
        }
    )));
    let mut t = Table::new(
        &["Organisation", "Sector", "Attendees"],
        &[false, false, true],
    );
    for o in &att.by_organisation {
        let sector = match (&o.sector, o.registered, o.name == NOT_GIVEN) {
            (_, _, true) => String::new(),
            (Some(sec), _, _) => sec.clone(),
            (None, _, _) => "not registered".to_owned(),
        };
        t.row(vec![o.name.clone(), sector, num(o.count)]);
    }
    b.push(Block::Table(t));

    if !s.rooms.is_empty() {
        b.push(Block::Heading("Break-out room chosen".to_owned()));
        let mut t = Table::new(&["Room", "Attendees", "Share"], &[false, true, true]);
        for g in &att.by_room {
            let name = if g.name == NOT_GIVEN {
                "No room chosen".to_owned()
            } else {
                g.name.clone()
            };
            t.row(vec![name, num(g.count), share(g.count, total)]);
        }
        b.push(Block::Table(t));
    }

    b.push(Block::Heading("Attendance over the day".to_owned()));
    let points: Vec<(String, f64)> = att
        .over_time
        .iter()
        .map(|p| {
            (
                p.minute.get(11..16).unwrap_or(&p.minute).to_owned(),
                p.present as f64,
            )
        })
        .collect();
    let mut t = Table::new(&["Time (UTC)", "Connected"], &[false, true]);
    // The data table: one line each half hour (the largest count in it).
    let mut slot: Option<(String, u64)> = None;
    for p in &att.over_time {
        let hhmm = p.minute.get(11..16).unwrap_or(&p.minute);
        let key = match (hhmm.get(..3), hhmm.get(3..4)) {
            (Some(h), Some(m)) => format!("{h}{}", if m < "3" { "00" } else { "30" }),
            _ => hhmm.to_owned(),
        };
        match &mut slot {
            Some((k, v)) if *k == key => *v = (*v).max(p.present),
            _ => {
                if let Some((k, v)) = slot.take() {
                    t.row(vec![k, num(v)]);
                }
                slot = Some((key, p.present));
            }
        }
    }
    if let Some((k, v)) = slot {
        t.row(vec![k, num(v)]);
    }
    if points.is_empty() {
        b.push(Block::Para(
            "No attendance samples were kept for this event.".to_owned(),
        ));
    } else {
        let peak = att.over_time.iter().rev().max_by_key(|p| p.present);
        if let Some(peak) = peak {
            b.push(Block::Para(format!(
                "Attendance peaked at {} connected at {} UTC. The table gives the most connected in each half hour.",
                num(peak.present),
                peak.minute.get(11..16).unwrap_or(&peak.minute)
            )));
        }
        b.push(Block::Figure {
            chart: Chart::Line {
                title: "Attendees connected".to_owned(),
                axis: "Connected".to_owned(),
                points,
            },
            table: t,
        });
    }
}

/// The line under an activity for after the event (`window: "after"`): it opened only once
/// the live part had ended, so every answer came after the day; `open`: the evaluation was
/// still open when the report was made.
pub(crate) fn after_note(answers: u64, open: bool) -> String {
    let asked = if open {
        "Asked after the event, in the evaluation, which was still open when this report was made"
    } else {
        "Asked after the event, in the evaluation"
    };
    let came = match (answers, open) {
        (0, true) => "no answers yet".to_owned(),
        (0, false) => "nobody answered".to_owned(),
        (1, _) => "its one answer came after the day".to_owned(),
        (n, true) => format!("all {} answers so far came after the day", num(n)),
        (n, false) => format!("all {} answers came after the day", num(n)),
    };
    format!("{asked}: {came}.")
}

fn scale_label(v: i64, min: i64, max: i64, lmin: &Option<String>, lmax: &Option<String>) -> String {
    match (v == min, v == max, lmin, lmax) {
        (true, _, Some(l), _) => format!("{v} ({l})"),
        (_, true, _, Some(l)) => format!("{v} ({l})"),
        _ => v.to_string(),
    }
}

/// One activity's blocks: what it asked, its chart and table, and its breakdown by sector.
fn activity(s: &Summary, a: &ActivitySummary, b: &mut Vec<Block>) {
    b.push(Block::Heading(a.prompt.clone()));
    b.push(Block::Note(format!(
        "{} · {} · {} of {} who could see it ({})",
        a.key,
        a.kind(),
        plural(a.respondents, "respondent", "respondents"),
        num(a.audience),
        a.response_rate.map_or("–".to_owned(), pct)
    )));
    if let Some(after) = a.answered_after {
        let open = s.event.phase == "after" && a.state == "open";
        b.push(Block::Note(after_note(after, open)));
    }
    let n = a.respondents;
    match &a.result {
        ActivityResult::Choice {
            options,
            multiple,
            counts,
        } => {
            let items: Vec<(String, u64)> = options
                .iter()
                .cloned()
                .zip(counts.iter().copied())
                .collect();
            if let Some(top) = ranks(&items, 1).first() {
                let labels: Vec<String> = top.labels.iter().map(|l| format!("“{l}”")).collect();
                b.push(Block::Para(format!(
                    "The most chosen {} {}, by {} of {} respondents ({}{}){}.",
                    if labels.len() > 1 { "answers, tied, were" } else { "answer was" },
                    quote_list(&labels),
                    num(top.count),
                    num(n),
                    share(top.count, n),
                    if labels.len() > 1 { " each" } else { "" },
                    if *multiple { "; respondents could choose more than one, so shares add up to more than 100%" } else { "" }
                )));
            } else {
                b.push(Block::Para("Nobody answered this question.".to_owned()));
            }
            let mut t = Table::new(&["Answer", "Respondents", "Share"], &[false, true, true]);
            let mut bars = Vec::new();
            for (o, c) in options.iter().zip(counts) {
                t.row(vec![o.clone(), num(*c), share(*c, n)]);
                bars.push(Bar {
                    label: o.clone(),
                    value: *c as f64,
                    text: format!("{} ({})", num(*c), share(*c, n)),
                    colour: BLUE,
                });
            }
            b.push(Block::Figure {
                chart: Chart::Bars {
                    title: format!("Answers (n = {})", num(n)),
                    axis: "Respondents".to_owned(),
                    bars,
                    percent: false,
                },
                table: t,
            });
        }
        ActivityResult::Scale {
            min,
            max,
            label_min,
            label_max,
            counts,
            mean: m,
            ..
        } => {
            if let Some(m) = m {
                let top2: u64 = counts.iter().rev().take(2).sum();
                b.push(Block::Para(format!(
                    "On a scale from {} to {}, the mean answer was {:.2}; {} chose one of the top two points.",
                    scale_label(*min, *min, *max, label_min, &None),
                    scale_label(*max, *min, *max, &None, label_max),
                    m,
                    share(top2, n)
                )));
            } else {
                b.push(Block::Para("Nobody answered this question.".to_owned()));
            }
            let mut t = Table::new(&["Answer", "Respondents", "Share"], &[false, true, true]);
            let mut bars = Vec::new();
            for (i, c) in counts.iter().enumerate() {
                let label = scale_label(min + i as i64, *min, *max, label_min, label_max);
                t.row(vec![label.clone(), num(*c), share(*c, n)]);
                bars.push(Bar {
                    label,
                    value: *c as f64,
                    text: format!("{} ({})", num(*c), share(*c, n)),
                    colour: BLUE,
                });
            }
            t.row(vec!["Mean".to_owned(), mean(*m), String::new()]);
            b.push(Block::Figure {
                chart: Chart::Bars {
                    title: format!("Answers (n = {}, mean {})", num(n), mean(*m)),
                    axis: "Respondents".to_owned(),
                    bars,
                    percent: false,
                },
                table: t,
            });
        }
        ActivityResult::Words {
            entries,
            distinct,
            top,
        } => {
            let items: Vec<(String, u64)> = top.iter().map(|g| (g.name.clone(), g.count)).collect();
            if let Some(first) = ranks(&items, 1).first() {
                let labels: Vec<String> = first.labels.iter().map(|l| format!("“{l}”")).collect();
                b.push(Block::Para(format!(
                    "The most given {} {} ({}{}); {} gave {} in all, {} of them different.",
                    if labels.len() > 1 {
                        "entries, tied, were"
                    } else {
                        "entry was"
                    },
                    quote_list(&labels),
                    plural(first.count, "time", "times"),
                    if labels.len() > 1 { " each" } else { "" },
                    plural(n, "respondent", "respondents"),
                    plural(*entries, "entry", "entries"),
                    num(*distinct)
                )));
            } else {
                b.push(Block::Para("Nobody answered this question.".to_owned()));
            }
            let mut t = Table::new(&["Entry", "Times given"], &[false, true]);
            for w in top.iter().take(25) {
                t.row(vec![w.name.clone(), num(w.count)]);
            }
            let bars = top
                .iter()
                .take(15)
                .map(|w| Bar {
                    label: w.name.clone(),
                    value: w.count as f64,
                    text: num(w.count),
                    colour: GREEN,
                })
                .collect();
            b.push(Block::Figure {
                chart: Chart::Bars {
                    title: "Most given entries".to_owned(),
                    axis: "Times given".to_owned(),
                    bars,
                    percent: false,
                },
                table: t,
            });
        }
        ActivityResult::Text {
            approved,
            not_quoted,
        } => {
            b.push(Block::Para(format!(
                "{} approved for sharing; they are quoted by theme in “What people raised, by theme”{}.",
                plural(approved.len() as u64, "answer was", "answers were"),
                if *not_quoted > 0 {
                    format!(" ({} not approved)", num(*not_quoted))
                } else {
                    String::new()
                }
            )));
            return;
        }
        ActivityResult::Ranking {
            options,
            mean_rank,
            first,
        } => ranking(options, mean_rank, first, n, b),
        ActivityResult::Points {
            options,
            budget,
            points,
            shares,
        } => points_figure(options, *budget, points, shares, n, b),
        ActivityResult::Pledge { organisations, .. } => {
            b.push(Block::Para(format!(
                "{} signed on behalf of {}; see “The pledge”.",
                plural(n, "person", "people"),
                plural(
                    organisations.iter().filter(|g| g.name != NOT_GIVEN).count() as u64,
                    "organisation",
                    "organisations"
                )
            )));
            return;
        }
    }
    by_sector(s, a, b);
}

/// Options by mean rank, most important first (ties in spec order).
fn by_mean_rank(mean_rank: &[Option<f64>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..mean_rank.len()).collect();
    order.sort_by(|&x, &y| {
        let (a, b) = (
            mean_rank[x].unwrap_or(f64::MAX),
            mean_rank[y].unwrap_or(f64::MAX),
        );
        a.total_cmp(&b).then(x.cmp(&y))
    });
    order
}

/// A ranking: the options in the order the room put them, by mean rank.
fn ranking(
    options: &[String],
    mean_rank: &[Option<f64>],
    first: &[u64],
    n: u64,
    b: &mut Vec<Block>,
) {
    let order = by_mean_rank(mean_rank);
    match order.first().and_then(|&i| mean_rank[i].map(|m| (i, m))) {
        Some((i, m)) => b.push(Block::Para(format!(
            "Put first overall: “{}”, with a mean rank of {m:.2} (1 is the most important); {} of {} respondents ranked it first ({}).",
            options.get(i).cloned().unwrap_or_default(),
            num(first.get(i).copied().unwrap_or(0)),
            num(n),
            share(first.get(i).copied().unwrap_or(0), n)
        ))),
        None => b.push(Block::Para("Nobody answered this question.".to_owned())),
    }
    let slots = options.len() as f64;
    let mut t = Table::new(
        &["Option", "Mean rank", "Ranked first"],
        &[false, true, true],
    );
    let mut bars = Vec::new();
    for &i in &order {
        let label = options.get(i).cloned().unwrap_or_default();
        let f = first.get(i).copied().unwrap_or(0);
        t.row(vec![
            label.clone(),
            mean(mean_rank[i]),
            format!("{} ({})", num(f), share(f, n)),
        ]);
        bars.push(Bar {
            label,
            // Longest for the option ranked highest: the rank turned round, 1 to `slots`.
            value: mean_rank[i].map_or(0.0, |m| slots + 1.0 - m),
            text: format!("mean rank {}", mean(mean_rank[i])),
            colour: BLUE,
        });
    }
    b.push(Block::Figure {
        chart: Chart::Bars {
            title: format!("Order of priority (n = {})", num(n)),
            axis: format!("Priority ({} = always ranked first)", options.len()),
            bars,
            percent: false,
        },
        table: t,
    });
}

/// Points: how the room shared its budget across the options.
fn points_figure(
    options: &[String],
    budget: u64,
    points: &[u64],
    shares: &[Option<f64>],
    n: u64,
    b: &mut Vec<Block>,
) {
    let mut order: Vec<usize> = (0..options.len()).collect();
    order.sort_by(|&x, &y| points.get(y).cmp(&points.get(x)).then(x.cmp(&y)));
    let given: u64 = points.iter().sum();
    match order.first().filter(|_| given > 0) {
        Some(&i) => b.push(Block::Para(format!(
            "Each respondent shared {} points. “{}” received the most: {} of {} ({}), {} a respondent on average.",
            num(budget),
            options.get(i).cloned().unwrap_or_default(),
            num(points.get(i).copied().unwrap_or(0)),
            num(given),
            shares.get(i).copied().flatten().map_or("–".to_owned(), pct),
            mean((n > 0).then(|| points.get(i).copied().unwrap_or(0) as f64 / n as f64))
        ))),
        None => b.push(Block::Para("Nobody answered this question.".to_owned())),
    }
    let mut t = Table::new(&["Option", "Points", "Share"], &[false, true, true]);
    let mut bars = Vec::new();
    for &i in &order {
        let label = options.get(i).cloned().unwrap_or_default();
        let p = points.get(i).copied().unwrap_or(0);
        let sh = shares.get(i).copied().flatten();
        t.row(vec![label.clone(), num(p), sh.map_or("–".to_owned(), pct)]);
        bars.push(Bar {
            label,
            value: sh.unwrap_or(0.0),
            text: format!("{} ({})", num(p), sh.map_or("–".to_owned(), pct)),
            colour: GREEN,
        });
    }
    b.push(Block::Figure {
        chart: Chart::Bars {
            title: format!("Share of the points (n = {})", num(n)),
            axis: "Share of all points given".to_owned(),
            bars,
            percent: true,
        },
        table: t,
    });
}

/// A sector's cells in a by-sector table, after its name and n.
type GroupCells = Box<dyn Fn(&GroupTally) -> Vec<String>>;

fn by_sector(s: &Summary, a: &ActivitySummary, b: &mut Vec<Block>) {
    let Some(groups) = &a.by_sector else {
        return;
    };
    if groups.is_empty() {
        if a.respondents > 0 {
            b.push(Block::Note(format!(
                "No breakdown by sector: too few respondents in each sector to show one safely (groups under {} are never shown).",
                s.min_group_size
            )));
        }
        return;
    }
    let (what, columns, cells): (&str, Vec<String>, GroupCells) = match &a.result {
        ActivityResult::Choice { options, .. } => (
            "share of each group choosing each answer",
            options.clone(),
            Box::new(|g| g.counts.iter().map(|c| share(*c, g.total)).collect()),
        ),
        ActivityResult::Scale { min, counts, .. } => (
            "mean and share of each group at each point",
            std::iter::once("Mean".to_owned())
                .chain((0..counts.len()).map(|i| (min + i as i64).to_string()))
                .collect(),
            Box::new(|g| {
                std::iter::once(mean(g.mean))
                    .chain(g.counts.iter().map(|c| share(*c, g.total)))
                    .collect()
            }),
        ),
        ActivityResult::Ranking { options, .. } => {
            let n = options.len();
            (
                "each group's mean rank of each option (1 is the most important)",
                options.clone(),
                Box::new(move |g| {
                    let ranks = g.mean_rank.as_deref().unwrap_or_default();
                    (0..n)
                        .map(|i| mean(ranks.get(i).copied().flatten()))
                        .collect()
                }),
            )
        }
        ActivityResult::Points { options, .. } => (
            "each group's share of its points given to each option",
            options.clone(),
            Box::new(|g| {
                let all: u64 = g.counts.iter().sum();
                g.counts.iter().map(|c| share(*c, all)).collect()
            }),
        ),
        _ => return,
    };
    let mut headers = vec!["Sector".to_owned(), "n".to_owned()];
    headers.extend(columns);
    let mut t = Table {
        numeric: (0..headers.len()).map(|i| i > 0).collect(),
        headers,
        rows: Vec::new(),
        shade: Vec::new(),
    };
    for g in groups {
        let mut row = vec![g.group.clone(), num(g.total)];
        row.extend(cells(g));
        t.row(row);
    }
    b.push(Block::Note(format!(
        "By sector: {what}. Sectors with fewer than {} respondents are merged into “Other (small groups)”; the groups add up to all respondents.",
        s.min_group_size
    )));
    b.push(Block::Table(t));
}

fn said(s: &Summary, b: &mut Vec<Block>) {
    section(b, "said", "What people said");
    let plenary: Vec<&ActivitySummary> = s
        .activities
        .iter()
        .filter(|a| {
            a.room.is_none()
                && !matches!(
                    a.result,
                    ActivityResult::Text { .. } | ActivityResult::Pledge { .. }
                )
        })
        .collect();
    if plenary.is_empty() {
        b.push(Block::Para(
            "No plenary polls, scales or word questions were run.".to_owned(),
        ));
        return;
    }
    b.push(Block::Para(format!(
        "The polls, scales and word questions put to the whole room, session by session. Anonymous comments and the pledge have their own sections; break-out rooms are reported room by room. Breakdowns by sector never show a group of fewer than {} respondents.",
        s.min_group_size
    )));
    for sess in s.sessions.iter().filter(|x| x.room.is_none()) {
        let acts: Vec<&&ActivitySummary> =
            plenary.iter().filter(|a| a.session == sess.key).collect();
        if acts.is_empty() {
            continue;
        }
        b.push(Block::Heading(format!("Session: {}", sess.title)));
        for a in acts {
            activity(s, a, b);
        }
    }
}

fn learnt(s: &Summary, b: &mut Vec<Block>) {
    section(b, "learnt", "What people learnt");
    if s.learning.is_empty() {
        b.push(Block::Para(
            "No before-and-after questions were paired at this event.".to_owned(),
        ));
        return;
    }
    b.push(Block::Para(
        "Each topic was asked at the start and again at the end. The gain compares the same attendee's two answers; people who answered only one of them are counted apart and never mixed into the gain."
            .to_owned(),
    ));
    for l in &s.learning {
        b.push(Block::Heading(format!("Topic: {}", topic_name(&l.topic))));
        b.push(Block::Note(format!(
            "Before: {} · After: {}",
            l.pre_prompt, l.post_prompt
        )));
        if l.paired == 0 {
            b.push(Block::Para(
                "Nobody answered both the before and the after question.".to_owned(),
            ));
        } else if l.withheld {
            b.push(Block::Para(format!(
                "{} answered both. Their change is not shown: set beside the two questions' own results, it would let a reader work out the answers of fewer than {} people.",
                plural(l.paired, "attendee", "attendees"),
                s.min_group_size
            )));
        } else {
            b.push(Block::Para(format!(
                "{} answered both. Their mean moved from {} to {} ({}): {} improved, {} stayed the same and {} fell.",
                plural(l.paired, "attendee", "attendees"),
                mean(l.mean_pre),
                mean(l.mean_post),
                signed(l.mean_change),
                share(l.improved, l.paired),
                share(l.stayed, l.paired),
                share(l.fell, l.paired)
            )));
            let mut t = Table::new(&["Change", "Attendees", "Share"], &[false, true, true]);
            let mut bars = Vec::new();
            for c in &l.change_counts {
                t.row(vec![
                    signed_int(c.change),
                    num(c.count),
                    share(c.count, l.paired),
                ]);
                bars.push(Bar {
                    label: format!(
                        "{} point{}",
                        signed_int(c.change),
                        if c.change.abs() == 1 { "" } else { "s" }
                    ),
                    value: c.count as f64,
                    text: format!("{} ({})", num(c.count), share(c.count, l.paired)),
                    colour: match c.change.cmp(&0) {
                        std::cmp::Ordering::Greater => GREEN,
                        std::cmp::Ordering::Equal => GREY,
                        std::cmp::Ordering::Less => VERMILLION,
                    },
                });
            }
            t.row(vec![
                "Mean change".to_owned(),
                signed(l.mean_change),
                String::new(),
            ]);
            b.push(Block::Figure {
                chart: Chart::Bars {
                    title: format!("Change from before to after (n = {})", num(l.paired)),
                    axis: "Paired attendees".to_owned(),
                    bars,
                    percent: false,
                },
                table: t,
            });
        }
        if l.by_sector.is_empty() {
            if l.paired > 0 && !l.withheld {
                b.push(Block::Note(format!(
                    "No breakdown by sector: too few paired attendees in each sector, or too few answering only once beside them, to show one safely (no figure, alone or subtracted from another, ever covers fewer than {} people).",
                    s.min_group_size
                )));
            }
        } else {
            let mut t = Table::new(
                &[
                    "Sector",
                    "Paired",
                    "Mean change",
                    "Improved",
                    "Same",
                    "Fell",
                ],
                &[false, true, true, true, true, true],
            );
            for g in &l.by_sector {
                t.row(vec![
                    g.group.clone(),
                    num(g.paired),
                    signed(Some(g.mean_change)),
                    share(g.improved, g.paired),
                    share(g.stayed, g.paired),
                    share(g.fell, g.paired),
                ]);
            }
            b.push(Block::Note(format!(
                "By the sector of the “before” answer, paired attendees only. Sectors with fewer than {} paired attendees, or whose figures could be subtracted from the questions' own, are merged into “Other (small groups)”.",
                s.min_group_size
            )));
            b.push(Block::Table(t));
        }
        let with_mean = |n: u64, m: Option<f64>| match m {
            Some(m) => format!("{} (mean {m:.2})", num(n)),
            None => num(n),
        };
        b.push(Block::Note(format!(
            "Not in the gain: {} answered only before, {} only after.",
            with_mean(l.pre_only, l.pre_only_mean),
            with_mean(l.post_only, l.post_only_mean)
        )));
    }
}

/// Sorted answers, each distinct one once, with how many gave it when more than one did.
pub(crate) fn distinct_quotes(sorted: &[String]) -> Vec<String> {
    let mut out: Vec<(String, u64)> = Vec::new();
    for t in sorted {
        match out.last_mut() {
            Some((last, n)) if last == t => *n += 1,
            _ => out.push((t.clone(), 1)),
        }
    }
    out.into_iter()
        .map(|(t, n)| {
            if n > 1 {
                format!("{t} (given by {n} people)")
            } else {
                t
            }
        })
        .collect()
}

fn pledge(s: &Summary, b: &mut Vec<Block>) {
    if s.pledges.is_empty() {
        return;
    }
    section(b, "pledge", "The pledge");
    for p in &s.pledges {
        if s.pledges.len() > 1 {
            b.push(Block::Heading(p.prompt.clone()));
        }
        if let Some(text) = &p.text {
            b.push(Block::Callout(text.clone()));
        }
        let named = p
            .organisations
            .iter()
            .filter(|g| g.name != NOT_GIVEN)
            .count() as u64;
        b.push(Block::Para(format!(
            "{} signed on behalf of {}. Signatures are not answers, so they are shown whole.",
            plural(p.signatures, "person", "people"),
            plural(named, "organisation", "organisations")
        )));
        if p.organisations.is_empty() {
            continue;
        }
        let mut t = Table::new(&["Organisation", "Signatures"], &[false, true]);
        for g in &p.organisations {
            t.row(vec![g.name.clone(), num(g.count)]);
        }
        let bars = p
            .organisations
            .iter()
            .take(20)
            .map(|g| Bar {
                label: g.name.clone(),
                value: g.count as f64,
                text: num(g.count),
                colour: GREEN,
            })
            .collect();
        b.push(Block::Figure {
            chart: Chart::Bars {
                title: "Signatures by organisation".to_owned(),
                axis: "People who signed".to_owned(),
                bars,
                percent: false,
            },
            table: t,
        });
        if !p.registered_not_signed.is_empty() {
            b.push(Block::Note(format!(
                "Registered organisations present that have not signed: {}.",
                quote_list(&p.registered_not_signed)
            )));
        }
    }
}

fn rooms(s: &Summary, b: &mut Vec<Block>) {
    if s.rooms.is_empty() {
        return;
    }
    section(b, "rooms", "Break-out rooms");
    b.push(Block::Para(
        "Each room's activities went only to the attendees who chose that room; response rates count that room's attendees."
            .to_owned(),
    ));
    for r in &s.rooms {
        b.push(Block::Heading(r.name.clone()));
        let titles: Vec<String> = s
            .sessions
            .iter()
            .filter(|x| r.sessions.contains(&x.key))
            .map(|x| x.title.clone())
            .collect();
        b.push(Block::Para(format!(
            "{} chose {}{}.",
            plural(r.attendees, "attendee", "attendees"),
            r.name,
            if titles.is_empty() {
                String::new()
            } else {
                format!(", for {}", quote_list(&titles))
            }
        )));
        let acts: Vec<&ActivitySummary> = s
            .activities
            .iter()
            .filter(|a| a.room.as_deref() == Some(r.name.as_str()))
            .collect();
        if acts.is_empty() {
            b.push(Block::Note(
                "No activities were run in this room.".to_owned(),
            ));
        }
        for a in acts {
            activity(s, a, b);
        }
    }
}

fn directory(s: &Summary, b: &mut Vec<Block>) {
    section(b, "directory", "Directory of services");
    if s.directory.is_empty() {
        b.push(Block::Para("No service cards were shared.".to_owned()));
        return;
    }
    b.push(Block::Para(format!(
        "{} chose to share a service card so that colleagues can pick up the phone to each other. Listed by organisation; only cards a moderator approved.",
        plural(s.directory.len() as u64, "attendee", "attendees")
    )));
    b.push(Block::Cards(s.directory.clone()));
}

fn comparison(s: &Summary, b: &mut Vec<Block>) {
    let Some(c) = &s.comparison else {
        return;
    };
    let (py, cy) = (
        c.previous_date
            .get(..4)
            .unwrap_or(&c.previous_date)
            .to_owned(),
        s.event.date.get(..4).unwrap_or(&s.event.date).to_owned(),
    );
    section(b, "compare", &format!("Change since {py}"));
    b.push(Block::Para(format!(
        "Compared with {} (event {}, {}): the latest edition of the series to have ended before this one (rehearsals are never compared). Attendance is shown whole; activities are compared where both editions asked the same question (the same key).",
        c.previous_title,
        c.previous_code,
        long_date(&c.previous_date)
    )));
    let mut t = Table::new(
        &["Measure", &py, &cy, "Difference"],
        &[false, true, true, true],
    );
    for (name, ch) in [
        ("Attendees", c.attendees),
        ("Peak attendance", c.peak_present),
        ("Organisations represented", c.organisations_represented),
        ("Sectors represented", c.sectors_represented),
    ] {
        t.row(vec![
            name.to_owned(),
            num(ch.previous),
            num(ch.current),
            signed_int(ch.current as i64 - ch.previous as i64),
        ]);
    }
    b.push(Block::Table(t));

    b.push(Block::Heading("Sector mix".to_owned()));
    let mut t = Table::new(&["Sector", &py, &cy], &[false, true, true]);
    for m in &c.sector_mix {
        t.row(vec![
            m.sector.clone(),
            format!("{} ({})", num(m.previous), pct(m.previous_share)),
            format!("{} ({})", num(m.current), pct(m.current_share)),
        ]);
    }
    b.push(Block::Figure {
        chart: Chart::Paired {
            title: "Share of attendees by sector".to_owned(),
            axis: "Share of attendees".to_owned(),
            categories: c
                .sector_mix
                .iter()
                .take(20)
                .map(|m| m.sector.clone())
                .collect(),
            series: [
                (
                    py.clone(),
                    ORANGE,
                    c.sector_mix
                        .iter()
                        .take(20)
                        .map(|m| Some(m.previous_share))
                        .collect(),
                ),
                (
                    cy.clone(),
                    BLUE,
                    c.sector_mix
                        .iter()
                        .take(20)
                        .map(|m| Some(m.current_share))
                        .collect(),
                ),
            ],
            percent: true,
        },
        table: t,
    });

    if !c.activities.is_empty() {
        b.push(Block::Heading("Questions asked in both years".to_owned()));
        let mut t = Table::new(
            &[
                "Activity",
                &format!("Respondents {py} / {cy}"),
                &format!("Rate {py} / {cy}"),
                &format!("Mean {py} / {cy}"),
                "Difference in mean",
            ],
            &[false, true, true, true, true],
        );
        for a in &c.activities {
            let rate = |r: Option<f64>| r.map_or("–".to_owned(), pct);
            let scale = a.kind == "scale";
            t.row(vec![
                a.prompt.clone(),
                format!(
                    "{} / {}",
                    num(a.previous_respondents),
                    num(a.current_respondents)
                ),
                format!("{} / {}", rate(a.previous_rate), rate(a.current_rate)),
                if scale {
                    format!("{} / {}", mean(a.previous_mean), mean(a.current_mean))
                } else {
                    String::new()
                },
                if scale {
                    match (a.previous_mean, a.current_mean) {
                        (Some(p), Some(q)) => signed(Some(q - p)),
                        _ => "–".to_owned(),
                    }
                } else {
                    String::new()
                },
            ]);
        }
        b.push(Block::Table(t));
        for a in c
            .activities
            .iter()
            .filter(|a| a.kind == "choice" && !a.options.is_empty())
        {
            b.push(Block::Heading(a.prompt.clone()));
            let mut t = Table::new(&["Answer", &py, &cy], &[false, true, true]);
            for o in &a.options {
                let f = |v: Option<f64>| v.map_or("not asked".to_owned(), pct);
                t.row(vec![
                    o.label.clone(),
                    f(o.previous_share),
                    f(o.current_share),
                ]);
            }
            b.push(Block::Figure {
                chart: Chart::Paired {
                    title: "Share of respondents choosing each answer".to_owned(),
                    axis: "Share of respondents".to_owned(),
                    categories: a.options.iter().map(|o| o.label.clone()).collect(),
                    series: [
                        (
                            py.clone(),
                            ORANGE,
                            a.options.iter().map(|o| o.previous_share).collect(),
                        ),
                        (
                            cy.clone(),
                            BLUE,
                            a.options.iter().map(|o| o.current_share).collect(),
                        ),
                    ],
                    percent: true,
                },
                table: t,
            });
        }
    }
    if !c.learning.is_empty() {
        b.push(Block::Heading(format!(
            "Learning gain (before to after on the day), {py} and {cy}"
        )));
        let mut t = Table::new(
            &[
                "Topic",
                &format!("Paired {py} / {cy}"),
                &format!("Gain {py}"),
                &format!("Gain {cy}"),
            ],
            &[false, true, true, true],
        );
        for l in &c.learning {
            t.row(vec![
                topic_name(&l.topic),
                format!("{} / {}", num(l.previous_paired), num(l.current_paired)),
                signed(l.previous_mean_change),
                signed(l.current_mean_change),
            ]);
        }
        b.push(Block::Table(t));
    }
    comparison_more(c, &py, &cy, b);
    let mut notes = Vec::new();
    if !c.only_current.is_empty() {
        notes.push(format!("New in {cy}: {}.", c.only_current.join(", ")));
    }
    if !c.only_previous.is_empty() {
        notes.push(format!(
            "Asked in {py} only: {}.",
            c.only_previous.join(", ")
        ));
    }
    if !c.kind_changed.is_empty() {
        notes.push(format!(
            "Same key, different kind of question, so not compared: {}.",
            c.kind_changed.join(", ")
        ));
    }
    if !notes.is_empty() {
        b.push(Block::Note(notes.join(" ")));
    }
}

/// Organisations returning, new and lapsed; words by their top entries; the pledge by
/// organisation, as shares of each organisation's attendees.
fn comparison_more(c: &Comparison, py: &str, cy: &str, b: &mut Vec<Block>) {
    b.push(Block::Heading("Organisations".to_owned()));
    b.push(Block::Para(format!(
        "{} came in both years; {} came for the first time in {cy}; {} came in {py} but not in {cy}.",
        plural(c.organisations_returning.len() as u64, "organisation", "organisations"),
        num(c.organisations_new.len() as u64),
        num(c.organisations_lapsed.len() as u64)
    )));
    if !c.organisations_new.is_empty() {
        b.push(Block::Note(format!(
            "New in {cy}: {}.",
            quote_list(&c.organisations_new)
        )));
    }
    if !c.organisations_lapsed.is_empty() {
        b.push(Block::Note(format!(
            "Not back in {cy}: {}.",
            quote_list(&c.organisations_lapsed)
        )));
    }
    for w in &c.words {
        b.push(Block::Heading(format!("{} (top entries)", w.prompt)));
        let mut t = Table::new(&["Rank", py, cy], &[true, false, false]);
        let n = w.previous_top.len().max(w.current_top.len());
        let cell = |g: Option<&GroupCount>| {
            g.map_or(String::new(), |g| format!("{} ({})", g.name, num(g.count)))
        };
        for i in 0..n {
            t.row(vec![
                (i + 1).to_string(),
                cell(w.previous_top.get(i)),
                cell(w.current_top.get(i)),
            ]);
        }
        b.push(Block::Table(t));
    }
    if !c.pledge.is_empty() {
        b.push(Block::Heading("The pledge by organisation".to_owned()));
        b.push(Block::Note(
            "Signatures as a share of each organisation's attendees that year (signatures and attendance are shown whole)."
                .to_owned(),
        ));
        let mut t = Table::new(&["Organisation", py, cy], &[false, true, true]);
        for p in &c.pledge {
            let f = |signed: u64, came: u64| {
                if came == 0 {
                    "did not attend".to_owned()
                } else {
                    format!(
                        "{} of {} ({})",
                        num(signed),
                        num(came),
                        share(signed.min(came), came)
                    )
                }
            };
            t.row(vec![
                p.organisation.clone(),
                f(p.previous_signed, p.previous_attendees),
                f(p.current_signed, p.current_attendees),
            ]);
        }
        b.push(Block::Table(t));
    }
}

fn about(s: &Summary, b: &mut Vec<Block>) {
    section(b, "about", "About this report");
    for n in provenance(s) {
        b.push(Block::Notice(n));
    }
    let k = s.min_group_size;
    for p in [
        format!(
            "Privacy. Answers are anonymous. Whenever answers are broken down by sector, groups of fewer than {k} respondents are merged, smallest first, into “Other (small groups)” until every group shown has at least {k}; if that leaves fewer than two groups, no breakdown is shown. The groups shown always add up to the whole, so no group under {k} can be found by subtraction. Attendance and pledge signatures are not answers and are shown whole."
        ),
        "Response rates count the attendees who could see an activity: everyone for plenary activities, and for a break-out room's activities the attendees who chose that room (and anyone who answered before moving room).".to_owned(),
        "Learning gain pairs the same attendee's before and after answers on a topic. Attendees who answered only one are reported apart, and their mean is shown only for groups of at least the small-group threshold.".to_owned(),
        "Free-text answers and service cards appear only once a moderator approved them; questions appear once approved or answered.".to_owned(),
        format!(
            "Themes. Approved answers and questions are grouped into themes by a fixed, published list of themes and the word stems that mark them (no text leaves the server); the host may rename or merge themes. A theme's count is shown only when it holds at least {k} texts: smaller ones are merged into “Other (small groups)”. The 95% interval of a learning gain uses Student's t on the paired changes."
        ),
        format!(
            "Made by Joinup from event {} ({}). Times are UTC.",
            s.event.code,
            if s.purged { "kept aggregates" } else { "the event's answers" }
        ),
    ] {
        b.push(Block::Para(p));
    }
}
