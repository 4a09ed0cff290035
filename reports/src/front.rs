//! The report's front half, as blocks for [`crate::doc`]: key findings, aims, method and
//! limits, what people raised by theme, between sectors, and what happens next. Everything
//! here reads figures the Summary already holds (the small-group rule applied there).

use crate::doc::{
    Block, Table, distinct_quotes, long_date, mean, num, pct, plural, quote_list, section, share,
    signed, topic_name,
};
use crate::findings::{Rank, SectorDifference, TopAnswer};
use crate::privacy::NOT_GIVEN;
use crate::summary::{ActivityResult, Summary};

/// "Funding and Waiting lists (48 each)", "Attitudes (40)".
fn rank_text(r: &Rank, quote: bool) -> String {
    let labels: Vec<String> = r
        .labels
        .iter()
        .map(|l| {
            if quote {
                format!("“{l}”")
            } else {
                l.clone()
            }
        })
        .collect();
    if labels.len() > 1 {
        format!("{} (tied, {} each)", quote_list(&labels), num(r.count))
    } else {
        format!("{} ({})", quote_list(&labels), num(r.count))
    }
}

/// A prompt leading a sentence: "Which barriers…? " as it is, else with a colon.
fn lead(prompt: &str) -> String {
    let p = prompt.trim();
    if p.ends_with(['?', '.', '!', ':']) {
        format!("{p} ")
    } else {
        format!("{p}: ")
    }
}

/// One sentence naming the top answers of an activity, ties as ties.
pub(crate) fn top_sentence(t: &TopAnswer) -> String {
    let (verb, unit) = if t.kind == "words" {
        ("given", "entries")
    } else {
        ("chosen", "respondents")
    };
    let Some(first) = t.ranks.first() else {
        return String::new();
    };
    let labels: Vec<String> = first.labels.iter().map(|l| format!("“{l}”")).collect();
    let mut out = if labels.len() > 1 {
        format!(
            "{}Most {verb}, tied: {} ({} of {} {unit} each)",
            lead(&t.prompt),
            quote_list(&labels),
            num(first.count),
            num(t.out_of)
        )
    } else {
        format!(
            "{}Most {verb}: {} ({} of {} {unit})",
            lead(&t.prompt),
            quote_list(&labels),
            num(first.count),
            num(t.out_of)
        )
    };
    for r in &t.ranks[1..] {
        out.push_str(&format!("; then {}", rank_text(r, true)));
    }
    out.push('.');
    out
}

fn year(date: &str) -> &str {
    date.get(..4).unwrap_or(date)
}

pub(crate) fn key_findings(s: &Summary, b: &mut Vec<Block>) {
    let f = &s.findings;
    let h = &s.headline;
    section(b, "findings", "Key findings");
    b.push(Block::Para(format!(
        "{} from {} and {} took part on {}; {} ({}) answered at least one activity. These findings are computed from the figures in the rest of this report, each with its numbers.",
        plural(h.attendees, "person", "people"),
        plural(h.organisations_represented, "organisation", "organisations"),
        plural(h.sectors_represented, "sector", "sectors"),
        long_date(&s.event.date),
        num(h.respondents),
        share(h.respondents, h.attendees)
    )));
    if !f.gains.is_empty() {
        b.push(Block::Heading("Learning gains".to_owned()));
        for g in &f.gains {
            let ci = match (g.ci_low, g.ci_high) {
                (Some(lo), Some(hi)) => format!(
                    " (95% interval {} to {})",
                    signed(Some(lo)),
                    signed(Some(hi))
                ),
                _ => String::new(),
            };
            let scale = s
                .learning
                .iter()
                .find(|l| l.topic == g.topic)
                .map(|l| format!(" on a {} to {} scale", l.min, l.max))
                .unwrap_or_default();
            b.push(Block::Para(format!(
                "{}: confidence moved by {} points{scale}{ci} from before to after, over {} who answered both; {} improved.",
                topic_name(&g.topic),
                signed(Some(g.mean_change)),
                plural(g.paired, "attendee", "attendees"),
                pct(g.improved_share)
            )));
        }
        b.push(Block::Note(
            "Confidence is self-reported: people said how confident they felt before and after, which is not a test of what they can do. The interval is where the true mean change of people like these likely lies (95%, Student's t on the paired changes)."
                .to_owned(),
        ));
    }
    if !f.top_answers.is_empty() {
        b.push(Block::Heading("What people chose most".to_owned()));
        for t in &f.top_answers {
            b.push(Block::Para(top_sentence(t)));
        }
    }
    if let Some(c) = &s.comparison
        && !f.shifts.is_empty()
    {
        b.push(Block::Heading(format!(
            "Largest shifts since {}",
            year(&c.previous_date)
        )));
        for x in &f.shifts {
            let text = if x.unit == "share" {
                let d = (x.current - x.previous) * 100.0;
                format!(
                    "“{}” ({}): chosen by {} in {}, {} in {} ({:+.0} percentage points).",
                    x.label,
                    x.prompt,
                    pct(x.previous),
                    year(&c.previous_date),
                    pct(x.current),
                    year(&s.event.date),
                    d
                )
            } else {
                format!(
                    "{}: mean {:.2} in {}, {:.2} in {} (a difference of {}).",
                    x.prompt,
                    x.previous,
                    year(&c.previous_date),
                    x.current,
                    year(&s.event.date),
                    signed(Some(x.current - x.previous))
                )
            };
            b.push(Block::Para(text));
        }
    }
    reach(s, b);
    if !f.themes.is_empty() {
        b.push(Block::Heading("Themes people raised".to_owned()));
        for t in &f.themes {
            let names: Vec<String> = t.names.iter().map(|n| format!("“{n}”")).collect();
            b.push(Block::Para(format!(
                "{}The largest theme{} {} ({} of {}{}).",
                lead(&t.prompt),
                if names.len() > 1 {
                    "s, tied, were"
                } else {
                    " was"
                },
                quote_list(&names),
                num(t.count),
                num(t.total),
                if names.len() > 1 { " each" } else { "" }
            )));
            if !t.quotes.is_empty() {
                b.push(Block::Quotes(t.quotes.clone()));
            }
        }
    }
    if let Some(d) = largest_differences(&s.sector_differences).first() {
        b.push(Block::Heading("Between sectors".to_owned()));
        b.push(Block::Para(difference_sentence(d)));
    }
}

fn reach(s: &Summary, b: &mut Vec<Block>) {
    let r = &s.findings.reach;
    let k = s.min_group_size;
    let mut lines = Vec::new();
    if !r.missing_sectors.is_empty() {
        lines.push(format!(
            "Registered sectors with nobody there: {}.",
            quote_list(&r.missing_sectors)
        ));
    }
    if !r.small_sectors.is_empty() {
        let v: Vec<String> = r
            .small_sectors
            .iter()
            .map(|g| format!("{} ({})", g.name, num(g.count)))
            .collect();
        lines.push(format!(
            "Sectors present with fewer than {k} attendees, too few for their answers to be shown apart: {}.",
            quote_list(&v)
        ));
    }
    if !r.missing_organisations.is_empty() {
        lines.push(format!(
            "Registered organisations with nobody there ({} of {}): {}.",
            num(r.missing_organisations.len() as u64),
            num(s.headline.registered_organisations),
            quote_list(&r.missing_organisations)
        ));
    }
    if !r.small_organisations.is_empty() {
        lines.push(format!(
            "{} sent fewer than {k} people.",
            plural(
                r.small_organisations.len() as u64,
                "registered organisation",
                "registered organisations"
            )
        ));
    }
    if let Some(c) = &s.comparison
        && !r.lapsed_organisations.is_empty()
    {
        lines.push(format!(
            "Came in {} but not this year: {}.",
            year(&c.previous_date),
            quote_list(&r.lapsed_organisations)
        ));
    }
    if lines.is_empty() {
        return;
    }
    b.push(Block::Heading("Reach against the register".to_owned()));
    for l in lines {
        b.push(Block::Para(l));
    }
}

pub(crate) fn aims(s: &Summary, b: &mut Vec<Block>) {
    section(b, "aims", "Aims, method and limits");
    if let Some(intro) = &s.introduction {
        b.push(Block::Heading("In the organiser's words".to_owned()));
        for p in intro.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            b.push(Block::Callout(p.to_owned()));
        }
    }
    b.push(Block::Heading("Method".to_owned()));
    let pairs = s.learning.len() as u64;
    b.push(Block::Para(format!(
        "Attendees answered on their own phones during the day, anonymously: polls, scales, words, open questions and a pledge, {} in all. {} Open answers and questions appear once a moderator approved them; they are grouped into themes by the words they use (a fixed, published list of themes and their word stems, applied the same way every time), which the host may rename or merge before the report is final.",
        plural(s.activities.len() as u64, "activity", "activities"),
        if pairs > 0 {
            format!(
                "Confidence on {} was asked at the start and again at the end; the learning gain compares each attendee's two answers.",
                plural(pairs, "topic", "topics")
            )
        } else {
            String::new()
        }
    )));
    b.push(Block::Heading("Limits".to_owned()));
    let k = s.min_group_size;
    let mut limits = vec![
        format!(
            "Not everyone answered: {} of {} attendees answered at least one activity, and each activity's response rate is given with it. Those who answered may differ from those who did not.",
            num(s.headline.respondents),
            num(s.headline.attendees)
        ),
        "Confidence is self-reported, before and after on the same day: it shows how people felt, not what they will do.".to_owned(),
        format!(
            "To keep answers anonymous, no figure covers fewer than {k} people: small sectors, organisations and themes are merged into “Other (small groups)” or not broken down at all."
        ),
        "Themes are found by keywords, not read by a person: a text is counted once, under the theme it mentions most.".to_owned(),
    ];
    if s.comparison.is_some() {
        limits.push("Year-on-year differences compare different people in different years; they describe the two days, not a trend.".to_owned());
    }
    for l in limits {
        b.push(Block::Para(l));
    }
}

pub(crate) fn raised(s: &Summary, b: &mut Vec<Block>) {
    section(b, "raised", "What people raised, by theme");
    let texts: Vec<_> = s
        .activities
        .iter()
        .filter(|a| matches!(a.result, ActivityResult::Text { .. }))
        .collect();
    if texts.is_empty() && s.themes.is_empty() {
        b.push(Block::Para(
            "No open-text questions were asked and no question was put to the room.".to_owned(),
        ));
        return;
    }
    b.push(Block::Para(format!(
        "Anonymous answers and questions from the floor, quoted as written once a moderator approved them, grouped into themes. Themes with fewer than {} texts are merged into “Other (small groups)”. Within a theme, quotes are alphabetical, never in the order they were given.",
        s.min_group_size
    )));
    for set in &s.themes {
        let text = texts.iter().find(|a| a.key == set.source);
        b.push(Block::Heading(set.prompt.clone()));
        let mut note = if set.source == "questions" {
            format!(
                "{} put to the room after moderation",
                plural(set.total, "question", "questions")
            )
        } else {
            format!(
                "{} approved for sharing",
                plural(set.total, "answer", "answers")
            )
        };
        if let Some(a) = text
            && let ActivityResult::Text { not_quoted, .. } = &a.result
        {
            if let Some(r) = &a.room {
                note = format!("{r} · {note}");
            }
            if *not_quoted > 0 {
                note.push_str(&format!(" · {} not approved", num(*not_quoted)));
            }
        }
        b.push(Block::Note(note));
        if set.total == 0 {
            b.push(Block::Para(
                "No answer was approved for sharing.".to_owned(),
            ));
            continue;
        }
        if set.withheld {
            b.push(Block::Para(format!(
                "Too few to group into themes without showing a theme of fewer than {}; quoted alphabetically.",
                s.min_group_size
            )));
            let mut all: Vec<String> = match text.map(|a| &a.result) {
                Some(ActivityResult::Text { approved, .. }) => approved.clone(),
                _ => s.questions.shown.iter().map(|q| q.text.clone()).collect(),
            };
            all.sort();
            b.push(Block::Quotes(distinct_quotes(&all)));
            continue;
        }
        let mut t = Table::new(&["Theme", "Texts", "Share"], &[false, true, true]);
        for th in &set.themes {
            t.row(vec![
                th.name.clone(),
                num(th.count),
                share(th.count, set.total),
            ]);
        }
        b.push(Block::Table(t));
        for th in &set.themes {
            b.push(Block::Heading(format!("{} ({})", th.name, num(th.count))));
            b.push(Block::Quotes(distinct_quotes(&th.quotes)));
        }
    }
}

/// The largest difference of each activity (one group each), largest first.
/// The largest difference per question, largest first. Only named sectors: "Not given"
/// (people who chose none) is shown in the tables but is not a sector to tell a board about.
pub(crate) fn largest_differences(all: &[SectorDifference]) -> Vec<&SectorDifference> {
    let mut best: Vec<&SectorDifference> = Vec::new();
    for d in all.iter().filter(|d| d.group != NOT_GIVEN) {
        match best.iter_mut().find(|x| x.key == d.key && x.kind == d.kind) {
            Some(x) if weight(d) > weight(x) + 1e-12 => *x = d,
            Some(_) => {}
            None => best.push(d),
        }
    }
    best.sort_by(|a, b| {
        weight(b)
            .total_cmp(&weight(a))
            .then_with(|| a.key.cmp(&b.key))
    });
    best
}

/// A difference on a comparable footing: shares as they are, means per scale point of 4.
fn weight(d: &SectorDifference) -> f64 {
    match d.kind.as_str() {
        "choice" => d.difference().abs(),
        _ => d.difference().abs() / 4.0,
    }
}

fn difference_text(d: &SectorDifference) -> String {
    match d.kind.as_str() {
        "choice" => format!("{:+.0}", d.difference() * 100.0),
        _ => signed(Some(d.difference())),
    }
}

pub(crate) fn difference_sentence(d: &SectorDifference) -> String {
    match d.kind.as_str() {
        "choice" => format!(
            "{}“{}” was chosen by {} of {} respondents against {} of everyone else ({} respondents), {} percentage points {}.",
            lead(&d.prompt),
            d.label,
            pct(d.group_value),
            d.group,
            pct(d.rest_value),
            num(d.rest_n),
            format_args!("{:.0}", (d.difference() * 100.0).abs()),
            if d.difference() >= 0.0 {
                "more"
            } else {
                "fewer"
            }
        ),
        "gain" => format!(
            "{} learning gain: {} changed by {} points on average (n = {}), everyone else by {} (n = {}).",
            topic_name(&d.key),
            d.group,
            signed(Some(d.group_value)),
            num(d.n),
            signed(Some(d.rest_value)),
            num(d.rest_n)
        ),
        _ => format!(
            "{}{} gave a mean of {} (n = {}), everyone else {} (n = {}).",
            lead(&d.prompt),
            d.group,
            mean(Some(d.group_value)),
            num(d.n),
            mean(Some(d.rest_value)),
            num(d.rest_n)
        ),
    }
}

pub(crate) fn sectors(s: &Summary, b: &mut Vec<Block>) {
    section(b, "sectors", "Between sectors");
    let diffs = &s.sector_differences;
    let k = s.min_group_size;
    b.push(Block::Para(format!(
        "This network exists to join up services that work apart. For each question broken down by sector, how each sector's answers differ from everyone else's. Sectors with fewer than {k} respondents are merged into “Other (small groups)” (not shown here), so a blank cell means the sector was too small for that question."
    )));
    if diffs.is_empty() {
        b.push(Block::Para(format!(
            "No question had two or more sectors of at least {k} respondents, so no sector can be set beside the rest."
        )));
        return;
    }
    b.push(Block::Heading(
        "Where sectors differ most from the rest".to_owned(),
    ));
    for d in largest_differences(diffs).iter().take(6) {
        b.push(Block::Para(difference_sentence(d)));
    }
    // The heat map: one row per question, one column per sector.
    let mut rows: Vec<(String, String)> = Vec::new();
    for d in diffs {
        if !rows.iter().any(|c| c.0 == d.key && c.1 == d.kind) {
            rows.push((d.key.clone(), d.kind.clone()));
        }
    }
    let mut cols: Vec<String> = diffs.iter().map(|d| d.group.clone()).collect();
    cols.sort();
    cols.dedup();
    b.push(Block::Heading(
        "Heat map: each sector against the rest".to_owned(),
    ));
    b.push(Block::Note(
        "Rows are the questions' keys, as in “What people said”. Scales and learning gains: the sector's mean less everyone else's, in points (blue: higher, vermillion: lower; full colour at one point). Choices: the answer on which the sector differs most, in percentage points of respondents (full colour at 25). A blank cell: the sector was merged into “Other (small groups)” for that question."
            .to_owned(),
    ));
    // At most five sectors a table, so that no sector's name is broken mid-word.
    for chunk in cols.chunks(5) {
        b.push(Block::Table(heat_table(diffs, &rows, chunk)));
    }
}

/// The heat map's table for some sectors: one row per question.
fn heat_table(diffs: &[SectorDifference], rows: &[(String, String)], cols: &[String]) -> Table {
    let mut headers: Vec<String> = vec!["Question".to_owned()];
    headers.extend(cols.iter().cloned());
    let mut t = Table {
        numeric: (0..headers.len()).map(|i| i > 0).collect(),
        headers,
        rows: Vec::new(),
        shade: Vec::new(),
    };
    for (key, kind) in rows {
        let label = match kind.as_str() {
            "gain" => format!("{} (gain, points)", topic_name(key)),
            "choice" => format!("{key} (share, points)"),
            _ => format!("{key} (mean)"),
        };
        let mut cells = vec![label];
        let mut shade = vec![None];
        for group in cols {
            match diffs
                .iter()
                .find(|d| &d.group == group && &d.key == key && &d.kind == kind)
            {
                Some(d) => {
                    cells.push(difference_text(d));
                    let scale = if kind == "choice" { 0.25 } else { 1.0 };
                    shade.push(Some((d.difference() / scale).clamp(-1.0, 1.0)));
                }
                None => {
                    cells.push(String::new());
                    shade.push(None);
                }
            }
        }
        t.rows.push(cells);
        t.shade.push(shade);
    }
    t
}

pub(crate) fn next_steps(s: &Summary, b: &mut Vec<Block>) {
    let previous = s
        .comparison
        .as_ref()
        .and_then(|c| c.previous_next_steps.as_ref().map(|n| (c, n)));
    if s.next_steps.is_none() && previous.is_none() {
        return;
    }
    section(b, "next", "What happens next");
    if let Some(text) = &s.next_steps {
        b.push(Block::Heading("In the organiser's words".to_owned()));
        for p in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            b.push(Block::Callout(p.to_owned()));
        }
    }
    if let Some((c, text)) = previous {
        b.push(Block::Heading(format!(
            "What {} said would happen next, beside what {} found",
            year(&c.previous_date),
            year(&s.event.date)
        )));
        let mut found: Vec<String> = Vec::new();
        for l in &c.learning {
            if let (Some(p), Some(q)) = (l.previous_mean_change, l.current_mean_change) {
                found.push(format!(
                    "Learning gain on {}: {} in {}, {} in {}.",
                    topic_name(&l.topic).to_lowercase(),
                    signed(Some(p)),
                    year(&c.previous_date),
                    signed(Some(q)),
                    year(&s.event.date)
                ));
            }
        }
        for x in s.findings.shifts.iter().take(3) {
            if x.unit == "share" {
                found.push(format!(
                    "“{}”: {} then, {} now.",
                    x.label,
                    pct(x.previous),
                    pct(x.current)
                ));
            } else {
                found.push(format!(
                    "{}: mean {:.2} then, {:.2} now.",
                    x.prompt, x.previous, x.current
                ));
            }
        }
        found.push(format!(
            "Organisations: {} returned, {} came for the first time, {} did not come back.",
            num(c.organisations_returning.len() as u64),
            num(c.organisations_new.len() as u64),
            num(c.organisations_lapsed.len() as u64)
        ));
        let mut t = Table::new(
            &[
                &format!("Said in {}", year(&c.previous_date)),
                &format!("Found in {}", year(&s.event.date)),
            ],
            &[false, false],
        );
        t.row(vec![text.clone(), found.join(" ")]);
        b.push(Block::Table(t));
    }
}
