//! The report's front half, every figure computed here again by hand from a small event
//! built by hand: learning gains with their 95% interval, ties named as ties, themes and their
//! counts, how sectors differ from the rest, reach, and the change since last year. Then the
//! documents: the story comes first, and the PDF carries a structure tree.

use std::collections::BTreeMap;

use joinup_reports::privacy::OTHER_GROUP;
use joinup_reports::snapshot::{
    ActivityDef, Answer, AttendeeRecord, Organisation, QuestionRecord, SessionDef, Snapshot,
};
use joinup_reports::{Summary, report_html, report_pdf, summarise, summary_json};

fn act(key: &str, kind: &str) -> ActivityDef {
    ActivityDef {
        key: key.to_owned(),
        kind: kind.to_owned(),
        prompt: format!("Prompt for {key}"),
        session: "main".to_owned(),
        room: None,
        options: Vec::new(),
        multiple: false,
        min: None,
        max: None,
        label_min: None,
        label_max: None,
        pair: None,
        phase: None,
        pledge_text: None,
        budget: None,
        state: "closed".to_owned(),
        window: None,
    }
}

fn scale(key: &str, pair: Option<&str>, phase: Option<&str>) -> ActivityDef {
    ActivityDef {
        min: Some(1),
        max: Some(5),
        pair: pair.map(str::to_owned),
        phase: phase.map(str::to_owned),
        ..act(key, "scale")
    }
}

/// The day's raw answers, as the tests recompute them.
struct Row {
    org: &'static str,
    sector: &'static str,
    pre: i64,
    post: i64,
    useful: i64,
    barrier: usize,
    word: &'static str,
    concern: Option<(&'static str, &'static str)>,
}

const BARRIERS: [&str; 3] = ["Funding", "Waiting lists", "Attitudes"];

/// 13 attendees, k = 3: Police 6 (North Yorkshire Police), Housing 4 (Foundation, one typed
/// as "the foundation"), Advocacy 2 (Advocacy Hub) and Education 1 (a typed organisation):
/// the last two are under k, and together make "Other (small groups)".
fn rows() -> Vec<Row> {
    let r = |org, sector, pre, post, useful, barrier, word, concern| Row {
        org,
        sector,
        pre,
        post,
        useful,
        barrier,
        word,
        concern,
    };
    vec![
        r(
            "North Yorkshire Police",
            "Police",
            2,
            3,
            4,
            0,
            "funding",
            Some(("approved", "We need recurrent funding, not pilots.")),
        ),
        r(
            "North Yorkshire Police",
            "Police",
            2,
            4,
            5,
            1,
            "waiting",
            Some(("approved", "Funding for peer workers runs out every year.")),
        ),
        r(
            "North Yorkshire Police",
            "Police",
            3,
            4,
            4,
            0,
            "funding",
            Some(("approved", "Joint commissioning budgets, please.")),
        ),
        r(
            "North Yorkshire Police",
            "Police",
            1,
            1,
            5,
            1,
            "waiting",
            Some(("approved", "Waiting lists are too long.")),
        ),
        r(
            "North Yorkshire Police",
            "Police",
            2,
            3,
            4,
            2,
            "stigma",
            Some(("pending", "Funding, funding, funding.")),
        ),
        r(
            "North Yorkshire Police",
            "Police",
            3,
            5,
            5,
            0,
            "funding",
            None,
        ),
        r(
            "Foundation",
            "Housing",
            3,
            3,
            2,
            1,
            "waiting",
            Some(("approved", "People wait months for an assessment.")),
        ),
        r(
            "Foundation",
            "Housing",
            2,
            2,
            3,
            1,
            "stigma",
            Some(("approved", "Thresholds exclude people who use alcohol.")),
        ),
        r(
            "the foundation",
            "Housing",
            4,
            3,
            2,
            0,
            "waiting",
            Some(("hidden", "Something rude.")),
        ),
        r(
            "Foundation",
            "Housing",
            1,
            3,
            3,
            1,
            "funding",
            Some(("approved", "Could next year be hybrid?")),
        ),
        r("Advocacy Hub", "Advocacy", 2, 3, 3, 2, "waiting", None),
        r("Advocacy Hub", "Advocacy", 3, 4, 4, 0, "funding", None),
        r("School Nurse Team", "Education", 2, 2, 3, 2, "stigma", None),
    ]
}

fn snapshot(rows: &[Row]) -> Snapshot {
    let attendees = rows
        .iter()
        .map(|r| {
            let mut answers = BTreeMap::from([
                ("pre".to_owned(), Answer::Scale(r.pre)),
                ("post".to_owned(), Answer::Scale(r.post)),
                ("useful".to_owned(), Answer::Scale(r.useful)),
                ("barriers".to_owned(), Answer::Choice(vec![r.barrier])),
                ("word".to_owned(), Answer::Words(vec![r.word.to_owned()])),
            ]);
            let mut text_states = BTreeMap::new();
            if let Some((state, text)) = r.concern {
                answers.insert("concern".to_owned(), Answer::Text(text.to_owned()));
                text_states.insert("concern".to_owned(), state.to_owned());
            }
            AttendeeRecord {
                organisation: Some(r.org.to_owned()),
                sector: Some(r.sector.to_owned()),
                room: None,
                answers,
                answered_as: BTreeMap::new(),
                text_states,
            }
        })
        .collect();
    let org = |name: &str, sector: &str| Organisation {
        name: name.to_owned(),
        sector: sector.to_owned(),
    };
    Snapshot {
        code: "STORY2".to_owned(),
        title: "Story Conference 2026".to_owned(),
        series: Some("story".to_owned()),
        starts_at: Some("2026-11-23T09:30:00Z".to_owned()),
        created_at: "2026-11-01T09:00:00Z".to_owned(),
        ended_at: Some("2026-11-23T16:00:00Z".to_owned()),
        state: "ended".to_owned(),
        phase: "closed".to_owned(),
        min_group_size: 3,
        organisations: vec![
            org("North Yorkshire Police", "Police"),
            org("Foundation", "Housing"),
            org("Advocacy Hub", "Advocacy"),
            org("York Mind", "Mental health"),
        ],
        sectors: ["Police", "Housing", "Advocacy", "Mental health"]
            .map(str::to_owned)
            .to_vec(),
        rooms: Vec::new(),
        sessions: vec![SessionDef {
            key: "main".to_owned(),
            title: "Main".to_owned(),
            room: None,
        }],
        activities: vec![
            scale("pre", Some("confidence"), Some("pre")),
            ActivityDef {
                options: BARRIERS.map(str::to_owned).to_vec(),
                ..act("barriers", "choice")
            },
            act("word", "words"),
            act("concern", "text"),
            scale("useful", None, None),
            scale("post", Some("confidence"), Some("post")),
        ],
        attendees,
        peak_present: 12,
        presence: Vec::new(),
        questions: vec![QuestionRecord {
            text: "Who will fund the link workers?".to_owned(),
            votes: 3,
            state: "approved".to_owned(),
            flagged: false,
            session: None,
            advance: false,
        }],
        cards: Vec::new(),
        introduction: Some("Why we met.\n\nWhat we hoped for.".to_owned()),
        next_steps: Some("We will write to the ICB.".to_owned()),
        theme_names: BTreeMap::new(),
    }
}

fn summary() -> Summary {
    summarise(&snapshot(&rows()), None)
}

#[test]
fn the_learning_gain_carries_its_95_percent_interval() {
    let rows = rows();
    let changes: Vec<f64> = rows.iter().map(|r| (r.post - r.pre) as f64).collect();
    let n = changes.len() as f64;
    let mean = changes.iter().sum::<f64>() / n;
    let var = changes.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (n - 1.0);
    // Student's t, 12 degrees of freedom, two-sided 95%.
    let half = 2.179 * (var / n).sqrt();
    let s = summary();
    let g = &s.findings.gains[0];
    assert_eq!((g.topic.as_str(), g.paired), ("confidence", 13));
    assert!((g.mean_change - mean).abs() < 1e-12);
    let (lo, hi) = (g.ci_low.expect("interval"), g.ci_high.expect("interval"));
    assert!((lo - (mean - half)).abs() < 1e-9, "{lo} vs {}", mean - half);
    assert!((hi - (mean + half)).abs() < 1e-9);
    let improved = changes.iter().filter(|c| **c > 0.0).count() as f64;
    assert!((g.improved_share - improved / n).abs() < 1e-12);
    let html = report_html(&s);
    assert!(html.contains("95% interval"));
    assert!(html.contains("Confidence is self-reported"));
}

#[test]
fn ties_are_named_as_ties() {
    let rows = rows();
    let count = |b: usize| rows.iter().filter(|r| r.barrier == b).count() as u64;
    // Funding 5, Waiting lists 5, Attitudes 3: the first two are tied.
    assert_eq!((count(0), count(1), count(2)), (5, 5, 3));
    let s = summary();
    let top = s
        .findings
        .top_answers
        .iter()
        .find(|t| t.key == "barriers")
        .expect("barriers");
    assert_eq!(top.ranks[0].labels, vec!["Funding", "Waiting lists"]);
    assert_eq!(top.ranks[0].count, 5);
    assert_eq!(
        (top.ranks[1].labels.clone(), top.ranks[1].count),
        (vec!["Attitudes".to_owned()], 3)
    );
    // Words: "funding" 5 and "waiting" 5 tie as well.
    let words = s
        .findings
        .top_answers
        .iter()
        .find(|t| t.key == "word")
        .expect("word");
    assert_eq!(words.ranks[0].labels, vec!["funding", "waiting"]);
    let html = report_html(&s);
    assert!(html.contains(
        "The most chosen answers, tied, were “Funding” and “Waiting lists”, by 5 of 13 respondents (38% each)"
    ));
    assert!(html.contains("The most given entries, tied, were “funding” and “waiting”"));
    assert!(!html.contains("The most given entry was"));
    // The key findings say it too, and name the next rank after the tie.
    assert!(html.contains(
        "Most chosen, tied: “Funding” and “Waiting lists” (5 of 13 respondents each); then “Attitudes” (3)."
    ));
}

#[test]
fn themes_count_only_approved_text_and_never_show_one_under_k() {
    let s = summary();
    let set = s
        .themes
        .iter()
        .find(|t| t.source == "concern")
        .expect("concern themes");
    // Approved: funding x3 (recurrent funding; funding for peer workers; joint commissioning
    // budgets), access x2 (waiting lists; wait months), access again (thresholds exclude):
    // 3, other topics x1 (hybrid). Pending and hidden texts are not counted.
    assert_eq!(set.total, 7);
    let got: Vec<(&str, u64)> = set
        .themes
        .iter()
        .map(|t| (t.name.as_str(), t.count))
        .collect();
    // "Other topics" (1) is under k = 3: it is merged with the smallest named theme, tied at
    // 3 ("Access…" before "Funding…" by name), into "Other (small groups)" of 4.
    assert_eq!(
        got,
        vec![("Funding and commissioning", 3), (OTHER_GROUP, 4)]
    );
    let all_quotes: Vec<&String> = set.themes.iter().flat_map(|t| &t.quotes).collect();
    assert!(
        !all_quotes
            .iter()
            .any(|q| q.contains("rude") || q.contains("funding, funding"))
    );
    // The host renames "access" and merges "other-topics" into it: now 4 beside 3.
    let mut snap = snapshot(&rows());
    snap.theme_names = BTreeMap::from([
        ("access".to_owned(), "Getting seen".to_owned()),
        ("other-topics".to_owned(), "Getting seen".to_owned()),
    ]);
    let s = summarise(&snap, None);
    let set = s
        .themes
        .iter()
        .find(|t| t.source == "concern")
        .expect("themes");
    let got: Vec<(&str, u64)> = set
        .themes
        .iter()
        .map(|t| (t.name.as_str(), t.count))
        .collect();
    assert_eq!(
        got,
        vec![("Getting seen", 4), ("Funding and commissioning", 3)]
    );
    assert_eq!(set.themes[0].ids, vec!["access", "other-topics"]);
    let html = report_html(&s);
    assert!(html.contains("Getting seen (4)"));
    // The key findings name the largest theme with its count and a quote.
    let f = s
        .findings
        .themes
        .iter()
        .find(|t| t.source == "concern")
        .expect("finding");
    assert_eq!(
        (f.names.clone(), f.count, f.total),
        (vec!["Getting seen".to_owned()], 4, 7)
    );
}

#[test]
fn sectors_are_set_against_the_rest_from_published_groups() {
    let rows = rows();
    let s = summary();
    // "useful" by sector, k = 3: Police 6, Housing 4; Advocacy 2 and Education 1 merged
    // into "Other (small groups)".
    let mean = |f: &dyn Fn(&Row) -> bool| {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| f(r))
            .map(|r| r.useful as f64)
            .collect();
        (v.iter().sum::<f64>() / v.len() as f64, v.len() as u64)
    };
    let (police, pn) = mean(&|r| r.sector == "Police");
    let (rest, rn) = mean(&|r| r.sector != "Police");
    let d = s
        .sector_differences
        .iter()
        .find(|d| d.key == "useful" && d.group == "Police")
        .expect("police on useful");
    assert_eq!((d.n, d.rest_n), (pn, rn));
    assert!((d.group_value - police).abs() < 1e-12 && (d.rest_value - rest).abs() < 1e-12);
    assert!(
        !s.sector_differences
            .iter()
            .any(|d| ["Advocacy", "Education", OTHER_GROUP].contains(&d.group.as_str())),
        "a sector under k is never set apart"
    );
    for d in &s.sector_differences {
        assert!(d.n >= 3 && d.rest_n >= 3, "{d:?}");
    }
    // Choice: Housing chose "Waiting lists" 3 of 4 times, the rest 2 of 9: +53 points (its
    // largest difference: "Funding" is 1 of 4 against 4 of 9, "Attitudes" 0 against 3 of 9).
    let d = s
        .sector_differences
        .iter()
        .find(|d| d.key == "barriers" && d.group == "Housing")
        .expect("housing on barriers");
    assert_eq!(d.label, "Waiting lists");
    assert!((d.group_value - 0.75).abs() < 1e-12 && (d.rest_value - 2.0 / 9.0).abs() < 1e-12);
    let html = report_html(&s);
    assert!(html.contains("Heat map: each sector against the rest"));
    assert!(
        html.contains(">+53</td>"),
        "the heat map's Housing cell on barriers"
    );
}

#[test]
fn reach_names_the_missing_the_small_and_the_lapsed() {
    let s = summary();
    let r = &s.findings.reach;
    assert_eq!(r.missing_sectors, vec!["Mental health"]);
    assert_eq!(r.missing_organisations, vec!["York Mind"]);
    let small: Vec<(&str, u64)> = r
        .small_sectors
        .iter()
        .map(|g| (g.name.as_str(), g.count))
        .collect();
    assert_eq!(small, vec![("Advocacy", 2), ("Education", 1)]);
    let small_orgs: Vec<&str> = r
        .small_organisations
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(small_orgs, vec!["Advocacy Hub"]);
    // "the foundation" typed differently is Foundation: 4 attendees, one organisation.
    let foundation = s
        .attendance
        .by_organisation
        .iter()
        .find(|o| o.name == "Foundation")
        .expect("foundation");
    assert_eq!(foundation.count, 4);
    assert!(
        !s.attendance
            .by_organisation
            .iter()
            .any(|o| o.name == "the foundation")
    );
    // Last year: Police and "York Mind" came; this year York Mind did not.
    let mut last = snapshot(&rows()[..6]);
    last.code = "STORY1".to_owned();
    last.starts_at = Some("2025-11-23T09:30:00Z".to_owned());
    last.attendees[5].organisation = Some("York Mind".to_owned());
    last.attendees[5].sector = Some("Mental health".to_owned());
    last.next_steps = Some("We promised an information sharing agreement.".to_owned());
    for a in &mut last.attendees[..2] {
        a.answers.remove("post");
    }
    let prev = summarise(&last, None);
    let s = summarise(&snapshot(&rows()), Some(&prev));
    assert_eq!(s.findings.reach.lapsed_organisations, vec!["York Mind"]);
    let c = s.comparison.as_ref().expect("comparison");
    assert_eq!(c.organisations_returning, vec!["North Yorkshire Police"]);
    assert_eq!(
        c.organisations_new,
        vec!["Advocacy Hub", "Foundation", "School Nurse Team"]
    );
    assert_eq!(c.organisations_lapsed, vec!["York Mind"]);
    assert_eq!(
        c.previous_next_steps.as_deref(),
        Some("We promised an information sharing agreement.")
    );
    let html = report_html(&s);
    assert!(html.contains("Change since 2025"));
    assert!(!html.contains("This year beside last year"));
    assert!(html.contains("What 2025 said would happen next"));
    assert!(html.contains("We promised an information sharing agreement."));
    assert!(html.contains("We will write to the ICB."));
    // Words compared by their top entries.
    assert_eq!(c.words[0].key, "word");
    assert_eq!(c.words[0].current_top[0].name, "funding");
}

#[test]
fn the_story_comes_first_and_the_organisers_words_are_there() {
    let s = summary();
    let html = report_html(&s);
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing"))
    };
    assert!(at("id=\"findings\"") < at("id=\"aims\""));
    assert!(at("id=\"aims\"") < at("id=\"learnt\""));
    assert!(at("id=\"learnt\"") < at("id=\"raised\""));
    assert!(at("id=\"raised\"") < at("id=\"sectors\""));
    assert!(at("id=\"sectors\"") < at("id=\"glance\""));
    assert!(html.contains("Why we met."));
    // A question left open after the event is "Unanswered", not "Not yet".
    assert!(html.contains("Unanswered"));
    assert!(!html.contains("Not yet"));
    // Deterministic: the same snapshot gives the same bytes.
    assert_eq!(html, report_html(&summary()));
    assert_eq!(summary_json(&s), summary_json(&summary()));
    let back: Summary = serde_json::from_str(&summary_json(&s)).expect("round trip");
    assert_eq!(back, s);
}

/// The PDF's structure tree, read from its bytes: a tagged document in en-GB whose figures
/// all carry a text alternative, with headings, paragraphs and tables with header cells.
#[test]
fn the_pdf_is_tagged_with_a_structure_tree() {
    let s = summary();
    let pdf = report_pdf(&s).expect("pdf");
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("/StructTreeRoot"), "no structure tree");
    assert!(text.contains("/MarkInfo"), "not marked");
    assert!(text.contains("/Lang(en-GB)"), "no language");
    assert!(text.contains("/Title(Story Conference 2026)"), "no title");
    let count = |needle: &str| text.matches(needle).count();
    let figures = count("/S/Figure");
    assert!(figures > 0, "no figure tagged");
    // Every figure element carries /Alt: count elements holding both.
    let with_alt = text
        .split("endobj")
        .filter(|o| o.contains("/S/Figure") && o.contains("/Alt"))
        .count();
    assert_eq!(with_alt, figures, "a figure without alternative text");
    for tag in [
        "/S/H1", "/S/H2", "/S/H3", "/S/P", "/S/Table", "/S/TH", "/S/TD", "/S/Sect", "/S/TOC",
    ] {
        assert!(text.contains(tag), "{tag} missing");
    }
}
