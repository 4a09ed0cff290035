//! The privacy notice attendees read, and the organiser's draft records (a record of
//! processing and a data-protection impact summary), written from the event's own settings
//! so they say what this event does: what it collects, who sees what, the small-group size,
//! how long data is kept and whom to ask. Pure: an event in, HTML out.

use std::fmt::Write;

use crate::domain::EventCode;
use crate::domain::spec::{ActivityKind, Event, Moderation};

/// `&`, `<`, `>`, `"` and `'` as entities.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The facts both documents are written from.
struct Facts<'a> {
    title: String,
    organiser: String,
    contact: Option<String>,
    k: u32,
    /// What each kind of activity collects, each once.
    kinds: Vec<&'static str>,
    qa: Option<Moderation>,
    directory: bool,
    rooms: bool,
    retention: String,
    event: &'a Event,
}

fn facts(event: &Event, retention_days: Option<u32>) -> Facts<'_> {
    let spec = &event.spec;
    let mut kinds: Vec<&'static str> = event
        .activities
        .iter()
        .map(|a| kind_phrase(&a.kind))
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    Facts {
        title: esc(&spec.title),
        organiser: spec
            .organiser
            .as_deref()
            .map_or_else(|| "the organisers of this event".to_owned(), esc),
        contact: spec.contact.as_deref().map(esc),
        k: spec.min_group_size,
        kinds,
        qa: spec.qa.enabled.then_some(spec.qa.moderation),
        directory: spec.directory.enabled,
        rooms: !event.rooms.is_empty(),
        retention: match retention_days {
            Some(days) => format!(
                "Your answers, questions and the random number that identifies your phone are \
                 deleted {days} days after the event ends. Only totals are kept after that, for \
                 the event's report."
            ),
            None => "Your answers, questions and the random number that identifies your phone \
                     are kept until the organisers delete them after the event (they are asked \
                     to do so once the report is written). Only totals are kept after that, for \
                     the event's report."
                .to_owned(),
        },
        event,
    }
    .with_windows(spec.opens_at.as_deref(), spec.closes_at.as_deref())
}

impl Facts<'_> {
    /// An event with a day before or after its live part says so where it says how long
    /// data is kept: the end that retention counts from is the end of the evaluation.
    fn with_windows(mut self, opens_at: Option<&str>, closes_at: Option<&str>) -> Self {
        let day = |at: &str| esc(at.get(..10).unwrap_or(at));
        if let Some(opens) = opens_at {
            self.retention.push_str(&format!(
                " Questions and some answers can be sent from {}, before the event starts, \
                 on the same link and kept the same way.",
                day(opens)
            ));
        }
        if let Some(closes) = closes_at {
            self.retention.push_str(&format!(
                " An evaluation stays open after the live event until {}: the event ends, for \
                 these purposes, when it closes. Your phone keeps the same random number across \
                 these days, so your answers before and after can be compared; it never names \
                 you.",
                day(closes)
            ));
        }
        self
    }
}

fn kind_phrase(kind: &ActivityKind) -> &'static str {
    match kind {
        ActivityKind::Choice { .. } => "the options you choose in polls",
        ActivityKind::Scale { .. } => "the numbers you give on rating scales",
        ActivityKind::Words { .. } => "the words you give for word clouds",
        ActivityKind::Text { .. } => "what you write in answer to open questions",
        ActivityKind::Pledge { .. } => "whether you sign a pledge",
        ActivityKind::Ranking { .. } => "the order you put options in when ranking them",
        ActivityKind::Points { .. } => "how you share points across options",
    }
}

/// What is collected, as list items.
fn collected(f: &Facts<'_>) -> String {
    let mut items = vec!["the organisation and sector you choose when you join".to_owned()];
    if f.rooms {
        items.push("the room you say you are in, for break-out sessions".to_owned());
    }
    for phrase in &f.kinds {
        items.push((*phrase).to_owned());
    }
    if f.qa.is_some() {
        items.push("the questions you ask, and which questions you vote for".to_owned());
    }
    if f.directory {
        items.push(
            "a service card, only if you choose to share one in the directory (what you type \
             on it is shown to other attendees)"
                .to_owned(),
        );
    }
    items.push(
        "a random number stored on your phone, so you can carry on where you left off".to_owned(),
    );
    items
        .iter()
        .map(|i| format!("<li>{i}</li>"))
        .collect::<String>()
}

fn moderation_sentence(qa: Option<Moderation>) -> &'static str {
    match qa {
        Some(Moderation::Pre) => {
            "Questions are read by a host first and appear to everyone only once approved."
        }
        Some(Moderation::Post) => {
            "Questions appear to everyone at once; a host can hide any that should not be there."
        }
        Some(Moderation::None) => "Questions appear to everyone at once.",
        None => "This event does not take questions.",
    }
}

/// The privacy notice for attendees: a page of its own, linked from the attendee page.
pub fn attendee_notice(event: &Event, code: EventCode, retention_days: Option<u32>) -> String {
    let f = facts(event, retention_days);
    let contact = match &f.contact {
        Some(c) => format!("<p>Questions about your data, or to ask for it to be deleted: <strong>{c}</strong>.</p>"),
        None => "<p>Questions about your data, or to ask for it to be deleted: ask the organisers at the event.</p>".to_owned(),
    };
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Privacy notice · {title} · Joinup</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<main id="main" class="page">
<h1>Privacy notice</h1>
<p class="lede">{title}, run by {organiser} with Joinup.</p>
<section class="card" aria-labelledby="what">
<h2 id="what">What we collect</h2>
<ul>{collected}</ul>
<p>We never ask for your name, and we do not record your IP address, your device or when you gave an answer.</p>
</section>
<section class="card" aria-labelledby="who">
<h2 id="who">Who sees what</h2>
<ul>
<li>Nobody, the organisers included, can see which answers are yours: answers are only shown as totals, or as text with nothing to link it to you.</li>
<li>Results are shown on the big screen and on phones only when a host chooses to reveal them.</li>
<li>The organisers see results broken down by sector, but never for a group of fewer than <strong>{k}</strong> people: smaller groups are merged, so nobody can be picked out.</li>
<li>{moderation}</li>
</ul>
</section>
<section class="card" aria-labelledby="keep">
<h2 id="keep">How long we keep it</h2>
<p>{retention}</p>
</section>
<section class="card" aria-labelledby="ask">
<h2 id="ask">Your data, your choice</h2>
<p>Taking part is optional: you can skip any question. The organisers use what you give to improve this event and the next one, and to report on the event as a whole.</p>
{contact}
<p><a href="/e/{code}">Back to the event</a></p>
</section>
</main>
</body>
</html>
"#,
        title = f.title,
        organiser = f.organiser,
        collected = collected(&f),
        k = f.k,
        moderation = moderation_sentence(f.qa),
        retention = f.retention,
    );
    html
}

/// The organiser's draft record of processing and data-protection impact summary, for an
/// information-governance team to complete: every fact Joinup knows filled in.
pub fn records(
    event: &Event,
    code: EventCode,
    retention_days: Option<u32>,
    public_url: &str,
) -> String {
    let f = facts(event, retention_days);
    let contact = f
        .contact
        .clone()
        .unwrap_or_else(|| "(to complete: the organiser's contact for data questions)".to_owned());
    let organiser = event.spec.organiser.as_deref().map_or_else(
        || "(to complete: the organisation responsible)".to_owned(),
        esc,
    );
    let registered = event.spec.organisations.len();
    let sectors = event.spec.sectors.len();
    let activities = f.event.activities.len();
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Draft privacy records · {title}</title>
</head>
<body>
<main>
<h1>Draft privacy records: {title}</h1>
<p>Event code {code}. Written by Joinup from the event's settings; each "(to complete)" needs the organiser's answer. Attendees' notice: {public_url}/e/{code}/privacy</p>

<h2>Record of processing activities</h2>
<table>
<tr><th scope="row">Controller</th><td>{organiser}</td></tr>
<tr><th scope="row">Contact for data protection</th><td>{contact}</td></tr>
<tr><th scope="row">Purpose</th><td>Live engagement at the event (polls, rating scales, word clouds, open questions, pledges, Q&amp;A) and a report of the event as a whole, compared with earlier editions of its series.</td></tr>
<tr><th scope="row">Lawful basis</th><td>(to complete: usually legitimate interests or public task; taking part is optional)</td></tr>
<tr><th scope="row">Data subjects</th><td>Attendees of the event who choose to take part.</td></tr>
<tr><th scope="row">Personal data</th><td><ul>{collected}</ul>No names, email addresses, IP addresses, device details or answer times are recorded. Text answers and questions are free text and may contain anything an attendee writes: they are moderated before they are shown.</td></tr>
<tr><th scope="row">Special category data</th><td>Not asked for. Free-text answers could contain health information an attendee volunteers.</td></tr>
<tr><th scope="row">Recipients</th><td>Hosts of the event (totals, and free text without any link to its author); the organisers (the report, totals only). The server's operator (the database).</td></tr>
<tr><th scope="row">Transfers outside the UK</th><td>(to complete: where the server and its database run)</td></tr>
<tr><th scope="row">Retention</th><td>{retention}</td></tr>
<tr><th scope="row">Security</th><td>Tokens stored only as SHA-256 hashes; database files readable by the server only; every page served over the server's own origin with a strict Content-Security-Policy; see Joinup's docs/security.md.</td></tr>
</table>

<h2>Data-protection impact summary</h2>
<table>
<tr><th scope="row">Scale</th><td>Up to {max} attendees; {activities} activities; {registered} registered organisations in {sectors} sectors.</td></tr>
<tr><th scope="row">Identifiability</th><td>Attendees are known only by a random number. Results by sector or organisation are never shown for fewer than {k} people (the event's smallest group), in the live view or the report, and no figure can be subtracted from another to reveal a smaller group.</td></tr>
<tr><th scope="row">Risk: an attendee named in free text</th><td>{moderation} Hosts can hide any text answer or question.</td></tr>
<tr><th scope="row">Risk: a small sector picked out</th><td>Groups of fewer than {k} are merged before anything is shown.</td></tr>
<tr><th scope="row">Risk: data kept too long</th><td>{retention}</td></tr>
<tr><th scope="row">Residual risk</th><td>(to complete by the information-governance lead)</td></tr>
</table>
</main>
</body>
</html>
"#,
        title = f.title,
        collected = collected(&f),
        retention = f.retention,
        moderation = moderation_sentence(f.qa),
        max = event.spec.max_attendees,
        k = f.k,
        public_url = esc(public_url),
    );
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::spec::parse_spec_value;

    fn event(edit: impl FnOnce(&mut serde_json::Value)) -> Event {
        let mut spec: serde_json::Value =
            serde_json::from_str(include_str!("../fixtures/dual-diagnosis-2026.json"))
                .expect("fixture");
        edit(&mut spec);
        parse_spec_value(spec).expect("valid")
    }

    #[test]
    fn the_notice_follows_the_event_settings() {
        let code = EventCode::parse("K7QX2M").expect("code");
        let with = event(|s| {
            s["min_group_size"] = serde_json::json!(7);
            s["contact"] = serde_json::json!("data@example.org <script>");
            s["qa"]["moderation"] = serde_json::json!("post");
            s["directory"]["enabled"] = serde_json::json!(false);
        });
        let notice = attendee_notice(&with, code, Some(30));
        assert!(notice.contains("fewer than <strong>7</strong>"));
        assert!(notice.contains("data@example.org &lt;script&gt;"));
        assert!(!notice.contains("<script>"));
        assert!(notice.contains("deleted 30 days after the event ends"));
        assert!(notice.contains("a host can hide"));
        assert!(!notice.contains("directory"));
        assert!(notice.contains("word clouds"));

        let without = event(|s| {
            s["qa"]["enabled"] = serde_json::json!(false);
        });
        let windows = event(|s| {
            s["starts_at"] = serde_json::json!("2026-11-23T09:30:00Z");
            s["opens_at"] = serde_json::json!("2026-11-16T09:00:00Z");
            s["closes_at"] = serde_json::json!("2026-11-30T17:00:00Z");
        });
        let notice = attendee_notice(&windows, code, Some(30));
        assert!(notice.contains("sent from 2026-11-16, before the event starts"));
        assert!(notice.contains("open after the live event until 2026-11-30"));

        let notice = attendee_notice(&without, code, None);
        assert!(notice.contains("does not take questions"));
        assert!(notice.contains("kept until the organisers delete them"));
        assert!(notice.contains("directory"));
        assert!(notice.contains("ask the organisers at the event"));

        let records = records(&with, code, Some(30), "https://joinup.example.org");
        assert!(records.contains("https://joinup.example.org/e/K7QX2M/privacy"));
        assert!(records.contains("fewer than 7 people"));
        assert!(records.contains("(to complete: the organisation responsible)"));
        assert!(records.contains("27 registered organisations"));
    }
}
