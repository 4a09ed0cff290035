//! The report crate end to end: figures computed by hand from a small event, the CSV to the
//! byte, the small-group rule and pairing edge cases, and the documents themselves.

mod support;

use std::collections::{BTreeMap, HashMap};

use joinup_reports::privacy::{NOT_GIVEN, OTHER_GROUP};
use joinup_reports::snapshot::{
    ActivityDef, Answer, AttendeeRecord, CardRecord, Organisation, PresenceSample, QuestionRecord,
    SessionDef, Snapshot,
};
use joinup_reports::summary::ActivityResult;
use joinup_reports::{
    CSV_HEADER, Summary, answers_csv, report_html, report_pdf, summarise, summary_json,
};
use support::synthetic;

fn act(key: &str, kind: &str, session: &str, room: Option<&str>) -> ActivityDef {
    ActivityDef {
        key: key.to_owned(),
        kind: kind.to_owned(),
        prompt: format!("Prompt for {key}"),
        session: session.to_owned(),
        room: room.map(str::to_owned),
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

fn scale(key: &str, pair: &str, phase: &str) -> ActivityDef {
    ActivityDef {
        min: Some(1),
        max: Some(5),
        pair: Some(pair.to_owned()),
        phase: Some(phase.to_owned()),
        ..act(key, "scale", "main", None)
    }
}

struct Person {
    org: &'static str,
    sector: &'static str,
    room: Option<&'static str>,
    answers: Vec<(&'static str, Answer)>,
    texts: Vec<(&'static str, &'static str)>,
}

fn person(org: &'static str, sector: &'static str) -> Person {
    Person {
        org,
        sector,
        room: None,
        answers: Vec::new(),
        texts: Vec::new(),
    }
}

/// 20 attendees who answer, plus one with no profile who answers nothing:
/// Police 6 (North Yorkshire Police), Mental health 7 (York Mind 5, TEWV 2),
/// Housing 4 (Foundation), Social care 3 (City of York Council). k = 5.
fn event() -> Snapshot {
    let mut people = Vec::new();
    // Police: role A x4, B x2; pre 2 -> post 4 for five, one answers only pre.
    for i in 0..6 {
        let mut p = person("North Yorkshire Police", "Police");
        p.answers
            .push(("role", Answer::Choice(vec![if i < 4 { 0 } else { 1 }])));
        p.answers.push(("pre-x", Answer::Scale(2)));
        if i < 5 {
            p.answers.push(("post-x", Answer::Scale(4)));
        }
        p.answers.push(("pledge", Answer::Pledge));
        p.room = Some("Room A");
        if i < 3 {
            p.answers.push(("room-q", Answer::Choice(vec![0])));
        }
        people.push(p);
    }
    // Mental health: role A x3, B x4; pre 3 -> post 3 for six, 3 -> 1 for one.
    for i in 0..7 {
        let org = if i < 5 { "York Mind" } else { "TEWV" };
        let mut p = person(org, "Mental health");
        p.answers
            .push(("role", Answer::Choice(vec![if i < 3 { 0 } else { 1 }])));
        p.answers.push(("pre-x", Answer::Scale(3)));
        p.answers
            .push(("post-x", Answer::Scale(if i == 6 { 1 } else { 3 })));
        p.answers.push((
            "word",
            Answer::Words(vec!["funding".to_owned(), "trust".to_owned()]),
        ));
        people.push(p);
    }
    // Housing: role C x4; only a post answer (5) each: never paired.
    for _ in 0..4 {
        let mut p = person("Foundation", "Housing");
        p.answers.push(("role", Answer::Choice(vec![2])));
        p.answers.push(("post-x", Answer::Scale(5)));
        p.answers
            .push(("word", Answer::Words(vec!["funding".to_owned()])));
        p.answers.push(("pledge", Answer::Pledge));
        people.push(p);
    }
    // Social care: role C x3; texts in three moderation states.
    for (i, state) in ["approved", "pending", "hidden"].into_iter().enumerate() {
        let mut p = person("City of York Council", "Social care");
        p.answers.push(("role", Answer::Choice(vec![2])));
        let text = [
            "Say \"no\" less, please, and pick up the phone",
            "Pending words",
            "Hidden words",
        ][i];
        p.answers.push(("concern", Answer::Text(text.to_owned())));
        p.texts.push(("concern", state));
        p.room = Some("Room B");
        people.push(p);
    }
    let mut attendees: Vec<AttendeeRecord> = people
        .into_iter()
        .map(|p| AttendeeRecord {
            organisation: Some(p.org.to_owned()),
            sector: Some(p.sector.to_owned()),
            room: p.room.map(str::to_owned),
            answers: p
                .answers
                .into_iter()
                .map(|(k, a)| (k.to_owned(), a))
                .collect(),
            answered_as: BTreeMap::new(),
            text_states: p
                .texts
                .into_iter()
                .map(|(k, s)| (k.to_owned(), s.to_owned()))
                .collect(),
        })
        .collect();
    attendees.push(AttendeeRecord {
        organisation: None,
        sector: None,
        room: None,
        answers: BTreeMap::new(),
        answered_as: BTreeMap::new(),
        text_states: BTreeMap::new(),
    });
    Snapshot {
        code: "ABC234".to_owned(),
        title: "Test Conference".to_owned(),
        series: Some("test-series".to_owned()),
        starts_at: Some("2026-11-23T09:30:00Z".to_owned()),
        created_at: "2026-11-01T10:00:00Z".to_owned(),
        ended_at: Some("2026-11-23T16:00:00Z".to_owned()),
        state: "ended".to_owned(),
        phase: "closed".to_owned(),
        min_group_size: 5,
        organisations: [
            "North Yorkshire Police",
            "York Mind",
            "TEWV",
            "Foundation",
            "City of York Council",
            "Humankind",
        ]
        .iter()
        .zip([
            "Police",
            "Mental health",
            "Mental health",
            "Housing",
            "Social care",
            "Drug and alcohol",
        ])
        .map(|(n, s)| Organisation {
            name: (*n).to_owned(),
            sector: s.to_owned(),
        })
        .collect(),
        sectors: [
            "Police",
            "Mental health",
            "Housing",
            "Social care",
            "Drug and alcohol",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect(),
        rooms: vec!["Room A".to_owned(), "Room B".to_owned()],
        sessions: vec![
            SessionDef {
                key: "main".to_owned(),
                title: "Main session".to_owned(),
                room: None,
            },
            SessionDef {
                key: "breakout-a".to_owned(),
                title: "Break-out A".to_owned(),
                room: Some("Room A".to_owned()),
            },
        ],
        activities: vec![
            ActivityDef {
                options: vec!["A".to_owned(), "B, or so".to_owned(), "C".to_owned()],
                ..act("role", "choice", "main", None)
            },
            scale("pre-x", "x", "pre"),
            act("word", "words", "main", None),
            act("concern", "text", "main", None),
            ActivityDef {
                options: vec!["Yes".to_owned(), "No".to_owned()],
                ..act("room-q", "choice", "breakout-a", Some("Room A"))
            },
            scale("post-x", "x", "post"),
            ActivityDef {
                pledge_text: Some("We pledge.".to_owned()),
                ..act("pledge", "pledge", "main", None)
            },
        ],
        attendees,
        peak_present: 19,
        presence: vec![
            PresenceSample {
                minute: "2026-11-23T09:30Z".to_owned(),
                present: 12,
                peak: 12,
                joined: 12,
            },
            PresenceSample {
                minute: "2026-11-23T09:31Z".to_owned(),
                present: 19,
                peak: 19,
                joined: 21,
            },
        ],
        questions: vec![
            QuestionRecord {
                text: "Low votes".to_owned(),
                votes: 1,
                state: "approved".to_owned(),
                flagged: false,
                session: None,
                advance: false,
            },
            QuestionRecord {
                text: "Top question".to_owned(),
                votes: 9,
                state: "answered".to_owned(),
                flagged: false,
                session: None,
                advance: false,
            },
            QuestionRecord {
                text: "Not shown".to_owned(),
                votes: 20,
                state: "pending".to_owned(),
                flagged: false,
                session: None,
                advance: false,
            },
        ],
        cards: vec![
            CardRecord {
                name: Some("Sam".to_owned()),
                role: None,
                organisation: "York Mind".to_owned(),
                service: "Crisis café".to_owned(),
                offer: "Evening support".to_owned(),
                referral: "Walk in".to_owned(),
                contact: "01904 000000".to_owned(),
                state: "approved".to_owned(),
            },
            CardRecord {
                name: None,
                role: None,
                organisation: "Hidden Org".to_owned(),
                service: "x".to_owned(),
                offer: "x".to_owned(),
                referral: "x".to_owned(),
                contact: "x".to_owned(),
                state: "hidden".to_owned(),
            },
        ],
        introduction: None,
        next_steps: None,
        theme_names: Default::default(),
    }
}

fn activity<'a>(s: &'a Summary, key: &str) -> &'a joinup_reports::summary::ActivitySummary {
    s.activities
        .iter()
        .find(|a| a.key == key)
        .expect("activity")
}

#[test]
fn headline_figures_match_a_hand_count() {
    let s = summarise(&event(), None);
    let h = &s.headline;
    assert_eq!(h.attendees, 21);
    assert_eq!(h.peak_present, 19);
    assert_eq!(h.organisations_represented, 5);
    assert_eq!(h.registered_organisations, 6);
    assert_eq!(h.registered_organisations_represented, 5);
    assert_eq!(h.missing_organisations, vec!["Humankind".to_owned()]);
    assert_eq!(h.sectors_represented, 4);
    assert_eq!(h.missing_sectors, vec!["Drug and alcohol".to_owned()]);
    assert_eq!(h.respondents, 20);
    // Police 6*4 - 1 + 3 (room) = 26; MH 7*4 = 28; Housing 4*4 = 16; Social care 3*2 = 6.
    assert_eq!(h.answers, 26 + 28 + 16 + 6);
    assert_eq!(h.questions_asked, 3);
    assert_eq!(h.pledge_signatures, 10);
    assert_eq!(h.pledge_organisations, 2);
    // Attendance is shown whole, "Not given" last.
    let sectors: Vec<(&str, u64)> = s
        .attendance
        .by_sector
        .iter()
        .map(|g| (g.name.as_str(), g.count))
        .collect();
    assert_eq!(
        sectors,
        vec![
            ("Mental health", 7),
            ("Police", 6),
            ("Housing", 4),
            ("Social care", 3),
            (NOT_GIVEN, 1)
        ]
    );
    let rooms: Vec<(&str, u64)> = s
        .attendance
        .by_room
        .iter()
        .map(|g| (g.name.as_str(), g.count))
        .collect();
    assert_eq!(rooms, vec![("Room A", 6), ("Room B", 3), (NOT_GIVEN, 12)]);
    assert_eq!(s.attendance.over_time.len(), 2);
}

#[test]
fn response_rates_count_only_those_who_could_see_the_activity() {
    let s = summarise(&event(), None);
    let role = activity(&s, "role");
    assert_eq!((role.respondents, role.audience), (20, 21));
    assert_eq!(role.response_rate, Some(20.0 / 21.0));
    let room = activity(&s, "room-q");
    assert_eq!((room.respondents, room.audience), (3, 6));
    assert_eq!(room.response_rate, Some(0.5));
    assert_eq!(s.rooms[0].attendees, 6);
    assert_eq!(s.rooms[0].sessions, vec!["breakout-a".to_owned()]);
}

#[test]
fn choice_and_scale_tallies_and_the_small_group_merge() {
    let s = summarise(&event(), None);
    let role = activity(&s, "role");
    match &role.result {
        ActivityResult::Choice { counts, .. } => assert_eq!(counts, &vec![7, 6, 7]),
        other => panic!("{other:?}"),
    }
    // Housing (4) and Social care (3) are under k = 5: merged into Other, 7 in all.
    let groups = role.by_sector.as_ref().expect("choice has a breakdown");
    let shown: Vec<(&str, u64, Vec<u64>)> = groups
        .iter()
        .map(|g| (g.group.as_str(), g.total, g.counts.clone()))
        .collect();
    assert_eq!(
        shown,
        vec![
            ("Mental health", 7, vec![3, 4, 0]),
            ("Police", 6, vec![4, 2, 0]),
            (OTHER_GROUP, 7, vec![0, 0, 7]),
        ]
    );
    let post = activity(&s, "post-x");
    match &post.result {
        ActivityResult::Scale { counts, mean, .. } => {
            assert_eq!(counts, &vec![1, 0, 6, 5, 4]);
            let expected = (1 + 6 * 3 + 5 * 4 + 4 * 5) as f64 / 16.0;
            assert!((mean.unwrap_or(0.0) - expected).abs() < 1e-12);
        }
        other => panic!("{other:?}"),
    }
    // Post: Police 5, Mental health 7, Housing 4 -> Housing merges with Police (next smallest).
    let groups = post.by_sector.as_ref().expect("scale has a breakdown");
    let shown: Vec<(&str, u64)> = groups.iter().map(|g| (g.group.as_str(), g.total)).collect();
    assert_eq!(shown, vec![("Mental health", 7), (OTHER_GROUP, 9)]);
    // The room's question: 3 Police respondents, one group: withheld.
    assert_eq!(activity(&s, "room-q").by_sector, Some(Vec::new()));
    // Words, text and pledge never carry a breakdown.
    assert_eq!(activity(&s, "word").by_sector, None);
    match &activity(&s, "word").result {
        ActivityResult::Words {
            entries,
            distinct,
            top,
        } => {
            assert_eq!((*entries, *distinct), (18, 2));
            assert_eq!((top[0].name.as_str(), top[0].count), ("funding", 11));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_breakdown_lets_a_reader_subtract_to_a_small_group() {
    for snap in [event(), synthetic_2026(150)] {
        let k = snap.min_group_size;
        let s = summarise(&snap, None);
        for a in &s.activities {
            if let Some(groups) = &a.by_sector
                && !groups.is_empty()
            {
                assert!(groups.len() >= 2, "{}", a.key);
                assert!(groups.iter().all(|g| g.total >= k), "{}: {groups:?}", a.key);
                assert_eq!(
                    groups.iter().map(|g| g.total).sum::<u64>(),
                    a.respondents,
                    "{}",
                    a.key
                );
                // Each option's counts add up across groups to the whole: nothing to subtract.
                if let ActivityResult::Choice { counts, .. }
                | ActivityResult::Scale { counts, .. } = &a.result
                {
                    for (i, c) in counts.iter().enumerate() {
                        assert_eq!(groups.iter().map(|g| g.counts[i]).sum::<u64>(), *c);
                    }
                }
            }
        }
        for l in &s.learning {
            if !l.by_sector.is_empty() {
                assert!(l.by_sector.iter().all(|g| g.paired >= k));
                assert_eq!(l.by_sector.iter().map(|g| g.paired).sum::<u64>(), l.paired);
            }
        }
    }
    // The merged sectors' names appear nowhere among the event's answer breakdowns.
    let s = summarise(&event(), None);
    for a in &s.activities {
        for g in a.by_sector.iter().flatten() {
            assert!(g.group != "Housing" && g.group != "Social care");
        }
    }
}

/// The fixture with no figure to subtract: the sixth Police attendee answers after too, and a
/// fifth Housing attendee answers only after (so the after-only people are k).
fn safely_paired() -> Snapshot {
    let mut snap = event();
    snap.attendees[5]
        .answers
        .insert("post-x".to_owned(), Answer::Scale(4));
    let housing = snap.attendees[13].clone();
    assert_eq!(housing.sector.as_deref(), Some("Housing"));
    snap.attendees.push(housing);
    snap
}

#[test]
fn learning_gain_pairs_only_the_same_attendees_answers() {
    let s = summarise(&safely_paired(), None);
    let l = &s.learning[0];
    assert_eq!(l.topic, "x");
    // Police 6 paired (2 -> 4); Mental health 7 paired; Housing 5 post only.
    assert_eq!((l.paired, l.pre_only, l.post_only), (13, 0, 5));
    assert!(!l.withheld);
    assert_eq!((l.improved, l.stayed, l.fell), (6, 6, 1));
    let pre = (6 * 2 + 7 * 3) as f64 / 13.0;
    let post = (6 * 4 + 6 * 3 + 1) as f64 / 13.0;
    assert!((l.mean_pre.unwrap_or(0.0) - pre).abs() < 1e-12);
    assert!((l.mean_post.unwrap_or(0.0) - post).abs() < 1e-12);
    assert!((l.mean_change.unwrap_or(0.0) - (post - pre)).abs() < 1e-12);
    // Unpaired means are shown only for at least k people: 5 post-only are.
    assert_eq!(l.pre_only_mean, None);
    assert_eq!(l.post_only_mean, Some(5.0));
    let changes: Vec<(i64, u64)> = l
        .change_counts
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| (c.change, c.count))
        .collect();
    assert_eq!(changes, vec![(-2, 1), (0, 6), (2, 6)]);
    assert_eq!(l.change_counts.len(), 9);
    // Paired by sector: Police 6, Mental health 7: both at least k, shown.
    let groups: Vec<(&str, u64, f64)> = l
        .by_sector
        .iter()
        .map(|g| (g.group.as_str(), g.paired, g.mean_change))
        .collect();
    assert_eq!(
        groups,
        vec![("Mental health", 7, -2.0 / 7.0), ("Police", 6, 2.0)]
    );
}

#[test]
fn a_gain_that_would_give_away_one_before_only_answer_is_withheld() {
    // The fixture as it stands: Police has 6 "before" answers, 5 "after", 5 paired. With the
    // gain shown, `before total - (after total - mean change x paired)` for Police, or the
    // overall `mean x n - paired mean x paired n`, is the one before-only person's answer.
    let snap = event();
    let s = summarise(&snap, None);
    let l = &s.learning[0];
    assert_eq!((l.paired, l.pre_only, l.post_only), (12, 1, 4));
    assert!(l.withheld);
    assert_eq!((l.mean_pre, l.mean_post, l.mean_change), (None, None, None));
    assert_eq!((l.improved, l.stayed, l.fell), (0, 0, 0));
    assert!(l.change_counts.is_empty() && l.by_sector.is_empty());
    assert_eq!((l.pre_only_mean, l.post_only_mean), (None, None));
    let json = summary_json(&s);
    assert!(json.contains("\"withheld\": true"), "{json}");
    let html = report_html(&s);
    assert!(html.contains("not shown"), "the report says why");
    // The year-on-year comparison carries no withheld figure either.
    let later = summarise(&safely_paired(), Some(&s));
    let c = later.comparison.expect("comparison");
    assert_eq!(c.learning[0].previous_mean_change, None);
}

#[test]
fn small_sectors_of_the_gain_are_merged_and_cells_shared_with_unpaired_people_withhold_it() {
    let advocate = || AttendeeRecord {
        organisation: Some("Advocacy Hub".to_owned()),
        sector: Some("Advocacy".to_owned()),
        room: None,
        answers: [
            ("pre-x".to_owned(), Answer::Scale(1)),
            ("post-x".to_owned(), Answer::Scale(2)),
        ]
        .into(),
        answered_as: BTreeMap::new(),
        text_states: BTreeMap::new(),
    };
    // Four paired advocates, and seven after-only Housing attendees: Advocacy is merged with
    // Police (the next smallest) both before and after, so "Other" holds paired people only.
    let mut snap = safely_paired();
    let housing = snap.attendees[13].clone();
    snap.attendees.extend([housing.clone(), housing]);
    snap.attendees.extend((0..4).map(|_| advocate()));
    let s = summarise(&snap, None);
    let l = &s.learning[0];
    assert_eq!((l.paired, l.pre_only, l.post_only), (17, 0, 7));
    let groups: Vec<(&str, u64)> = l
        .by_sector
        .iter()
        .map(|g| (g.group.as_str(), g.paired))
        .collect();
    assert_eq!(groups, vec![("Mental health", 7), (OTHER_GROUP, 10)]);

    // With five after-only Housing attendees instead, "after" merges Advocacy with Housing:
    // one cell of 4 paired advocates and 5 after-only people. Then the paired "after" mean
    // x 17, less Police's and Mental health's "after" totals, is the 4 advocates' "after"
    // total. So nothing paired is shown.
    let mut snap = safely_paired();
    snap.attendees.extend((0..4).map(|_| advocate()));
    let s = summarise(&snap, None);
    let l = &s.learning[0];
    assert_eq!((l.paired, l.post_only), (17, 5));
    assert!(l.withheld && l.by_sector.is_empty());
}

#[test]
fn questions_texts_pledge_and_directory_follow_moderation() {
    let s = summarise(&event(), None);
    let q: Vec<(&str, u64, bool)> = s
        .questions
        .shown
        .iter()
        .map(|q| (q.text.as_str(), q.votes, q.answered))
        .collect();
    assert_eq!(q, vec![("Top question", 9, true), ("Low votes", 1, false)]);
    assert_eq!((s.questions.asked, s.questions.not_shown), (3, 1));
    match &activity(&s, "concern").result {
        ActivityResult::Text {
            approved,
            not_quoted,
        } => {
            assert_eq!(
                approved,
                &vec!["Say \"no\" less, please, and pick up the phone".to_owned()]
            );
            assert_eq!(*not_quoted, 2);
        }
        other => panic!("{other:?}"),
    }
    let p = &s.pledges[0];
    assert_eq!(p.signatures, 10);
    let orgs: Vec<(&str, u64)> = p
        .organisations
        .iter()
        .map(|g| (g.name.as_str(), g.count))
        .collect();
    assert_eq!(orgs, vec![("North Yorkshire Police", 6), ("Foundation", 4)]);
    assert_eq!(
        p.registered_not_signed,
        vec![
            "York Mind".to_owned(),
            "TEWV".to_owned(),
            "City of York Council".to_owned()
        ]
    );
    assert_eq!(s.directory.len(), 1);
    assert_eq!(s.directory[0].service, "Crisis café");
}

#[test]
fn summary_json_round_trips_and_carries_its_version() {
    let s = summarise(&event(), None);
    let json = summary_json(&s);
    let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(value["version"], 1);
    assert_eq!(value["headline"]["attendees"], 21);
    assert_eq!(value["activities"][0]["result"]["kind"], "choice");
    assert_eq!(value["purged"], false);
    let back: Summary = serde_json::from_str(&json).expect("a Summary");
    assert_eq!(back, s);
}

#[test]
fn csv_is_exact() {
    let csv = answers_csv(&event());
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], CSV_HEADER);
    assert_eq!(lines.last(), Some(&""), "ends with CRLF");
    // concern: hidden left out; pending kept; quoting; sector group of 2 < k: both columns empty.
    assert_eq!(
        &lines[1..3],
        &[
            "main,,concern,text,Pending words,,",
            "main,,concern,text,\"Say \"\"no\"\" less, please, and pick up the phone\",,",
        ]
    );
    // pledge: shown whole.
    let pledge: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("main,,pledge,"))
        .collect();
    assert_eq!(pledge.len(), 10);
    assert_eq!(*pledge[0], "main,,pledge,pledge,signed,Foundation,Housing");
    assert_eq!(
        *pledge[9],
        "main,,pledge,pledge,signed,North Yorkshire Police,Police"
    );
    // role: sorted by value; Housing (4) + Social care (3) shown as Other; inside it the
    // organisations (4 and 3) would be under k, and merged they are the only group: empty.
    let role: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("main,,role,"))
        .collect();
    assert_eq!(role.len(), 20);
    assert_eq!(*role[0], "main,,role,choice,A,,Mental health");
    assert_eq!(
        *role[3],
        "main,,role,choice,A,North Yorkshire Police,Police"
    );
    assert_eq!(*role[7], "main,,role,choice,\"B, or so\",,Mental health");
    assert_eq!(*role[19], "main,,role,choice,C,,Other (small groups)");
    assert!(!csv.contains("Housing,") || pledge.iter().any(|l| l.ends_with("Housing")));
    assert!(role.iter().all(|l| !l.contains("Housing")
        && !l.contains("Social care")
        && !l.contains("Foundation")));
    // Room question: 3 respondents, under k: no organisation or sector.
    let room: Vec<&&str> = lines.iter().filter(|l| l.contains(",room-q,")).collect();
    assert_eq!(room.len(), 3);
    assert!(
        room.iter()
            .all(|l| **l == "breakout-a,Room A,room-q,choice,Yes,,")
    );
    // Words joined with "; ". Sectors: Housing (4) pulls in Mental health (7), leaving one
    // group: no sector. Organisations: TEWV (2) + Foundation (4) merge; York Mind (5) stands.
    let word: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("main,,word,"))
        .collect();
    assert_eq!(
        word,
        vec![
            &"main,,word,words,funding,Other (small groups),",
            &"main,,word,words,funding,Other (small groups),",
            &"main,,word,words,funding,Other (small groups),",
            &"main,,word,words,funding,Other (small groups),",
            &"main,,word,words,funding; trust,Other (small groups),",
            &"main,,word,words,funding; trust,Other (small groups),",
            &"main,,word,words,funding; trust,York Mind,",
            &"main,,word,words,funding; trust,York Mind,",
            &"main,,word,words,funding; trust,York Mind,",
            &"main,,word,words,funding; trust,York Mind,",
            &"main,,word,words,funding; trust,York Mind,",
        ]
    );
    // Rows are sorted by activity key, then value.
    let keys: Vec<&str> = lines[1..lines.len() - 1]
        .iter()
        .map(|l| l.split(',').nth(2).unwrap_or(""))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(lines.len() - 2, 26 + 28 + 16 + 6 - 1);
}

#[test]
fn csv_groups_never_fall_under_k() {
    let snap = synthetic_2026(150);
    let csv = answers_csv(&snap);
    let mut groups: HashMap<(String, String, String), u64> = HashMap::new();
    let mut totals: HashMap<String, u64> = HashMap::new();
    for line in csv.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        let fields = parse_csv_line(line);
        assert_eq!(fields.len(), 7, "{line}");
        *totals.entry(fields[2].clone()).or_default() += 1;
        if fields[3] == "pledge" {
            continue;
        }
        *groups
            .entry((fields[2].clone(), fields[5].clone(), fields[6].clone()))
            .or_default() += 1;
    }
    for ((activity, org, sector), n) in &groups {
        if totals[activity] >= 5 {
            assert!(*n >= 5, "{activity} / {org} / {sector}: {n}");
        }
        if !org.is_empty() || !sector.is_empty() {
            assert!(*n >= 5, "{activity} / {org} / {sector}: {n}");
        }
    }
    // Every organisation or sector shown alone also has at least k rows on its own.
    let mut by_sector: HashMap<(String, String), u64> = HashMap::new();
    for ((a, _, s), n) in &groups {
        *by_sector.entry((a.clone(), s.clone())).or_default() += n;
    }
    assert!(by_sector.iter().all(|((_, s), n)| s.is_empty() || *n >= 5));
}

fn parse_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn fixture(name: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../server/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture JSON")
}

fn synthetic_2026(n: usize) -> Snapshot {
    synthetic::snapshot(&fixture("dual-diagnosis-2026.json"), "X4TR9B", n, 2026, 0.5)
}

#[test]
fn comparison_with_last_year_matches_keys() {
    let last = synthetic::snapshot(
        &fixture("dual-diagnosis-2025.json"),
        "K7MPQ2",
        120,
        2025,
        0.3,
    );
    let prev = summarise(&last, None);
    let s = summarise(&synthetic_2026(150), Some(&prev));
    let c = s.comparison.as_ref().expect("comparison");
    assert_eq!((c.attendees.previous, c.attendees.current), (120, 150));
    assert_eq!(
        c.only_current,
        vec![
            "pre-trauma".to_owned(),
            "connected-word".to_owned(),
            "post-trauma".to_owned(),
            "commissioner-priorities".to_owned(),
            "network-budget".to_owned()
        ]
    );
    assert!(c.only_previous.is_empty());
    let role = c
        .activities
        .iter()
        .find(|a| a.key == "role")
        .expect("role in both");
    assert_eq!(role.previous_respondents, prev.activities[0].respondents);
    assert_eq!(role.options.len(), 6);
    let usefulness = c
        .activities
        .iter()
        .find(|a| a.key == "usefulness")
        .expect("usefulness");
    assert!(usefulness.previous_mean.is_some() && usefulness.current_mean.is_some());
    assert_eq!(c.learning.len(), 1);
    assert_eq!(c.learning[0].topic, "prescribing");
    // Sector shares of each edition add up to the whole.
    let sum: f64 = c.sector_mix.iter().map(|m| m.current_share).sum();
    assert!((sum - 1.0).abs() < 1e-9);
    // The report names the edition it compares with by its code, not only title and date.
    assert_eq!(c.previous_code, "K7MPQ2");
    // (The PDF renders the same text blocks as the HTML.)
    assert!(
        report_html(&s).contains("(event K7MPQ2, "),
        "the comparison names last year's code"
    );
}

#[test]
fn html_is_self_contained_and_tells_the_headline() {
    let mut s = summarise(&event(), None);
    let html = report_html(&s);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Test Conference"));
    assert!(html.contains("<svg"));
    assert!(html.contains("@media print"));
    assert!(html.contains("Other (small groups)"));
    assert!(html.contains("Say &quot;no&quot; less, please, and pick up the phone"));
    assert!(!html.contains("Hidden words") && !html.contains("Pending words"));
    assert!(!html.contains("Hidden Org"));
    // Nothing is fetched: the only URL is the SVG namespace.
    let without_ns = html.replace("http://www.w3.org/2000/svg", "");
    assert!(
        !without_ns.contains("http://")
            && !without_ns.contains("https://")
            && !without_ns.contains("src=")
    );
    assert!(!html.contains("raw answers were deleted"));
    s.mark_purged("2027-01-05T10:00:00Z");
    let html = report_html(&s);
    assert!(
        html.contains("Built from kept aggregates; raw answers were deleted on 5 January 2027")
    );
}

#[test]
fn pdf_is_a_pdf_with_the_headline_figures() {
    let mut s = summarise(&event(), None);
    s.mark_purged("2027-01-05T10:00:00Z");
    let pdf = report_pdf(&s).expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.len() > 10_000);
    let dir = std::env::temp_dir().join(format!("joinup-reports-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("report.pdf");
    std::fs::write(&path, &pdf).expect("write");
    match std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            for needle in [
                "Test Conference",
                "21 people joined from 5 organisations and 4 sectors",
                "at the busiest moment 19 were",
                "raw answers were deleted on 5 January 2027",
                "Other (small groups)",
                "Top question",
                "Crisis café",
            ] {
                let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
                assert!(flat.contains(needle), "missing {needle:?} in:\n{text}");
            }
            assert!(!text.contains("Hidden words"));
        }
        _ => println!("note: pdftotext is not installed; the PDF's text was not checked"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn documents_survive_an_empty_event_and_odd_input() {
    let mut snap = event();
    snap.attendees.clear();
    snap.presence.clear();
    snap.questions.clear();
    snap.cards.clear();
    snap.peak_present = 0;
    // An answer that no longer fits its activity, and one to an unknown key, are ignored.
    snap.attendees.push(AttendeeRecord {
        organisation: Some("  ".to_owned()),
        sector: None,
        room: Some("Nowhere".to_owned()),
        answers: [
            ("role".to_owned(), Answer::Choice(vec![9])),
            ("post-x".to_owned(), Answer::Scale(42)),
            ("gone".to_owned(), Answer::Pledge),
        ]
        .into(),
        answered_as: BTreeMap::new(),
        text_states: BTreeMap::new(),
    });
    let s = summarise(&snap, Some(&summarise(&event(), None)));
    assert_eq!(s.headline.respondents, 0);
    assert_eq!(s.headline.answers, 0);
    assert_eq!(answers_csv(&snap), format!("{CSV_HEADER}\r\n"));
    assert!(report_html(&s).contains("Test Conference"));
    assert!(report_pdf(&s).expect("pdf").starts_with(b"%PDF"));
}

#[test]
fn no_csv_field_of_any_column_starts_a_formula() {
    let formulas = [
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "+SUM(1,2)",
        "-2+3",
        "@SUM(A1)",
        "\tTabbed Trust",
        "\rReturned Trust",
    ];
    let mut snap = event();
    snap.min_group_size = 3;
    snap.attendees.clear();
    // Three attendees per typed organisation: each organisation is shown by name.
    for org in formulas {
        for _ in 0..3 {
            snap.attendees.push(AttendeeRecord {
                organisation: Some(org.to_owned()),
                sector: Some("=1+1".to_owned()),
                room: None,
                answers: [
                    ("role".to_owned(), Answer::Choice(vec![0])),
                    ("pre-x".to_owned(), Answer::Scale(2)),
                    ("word".to_owned(), Answer::Words(vec!["-minus".to_owned()])),
                    ("pledge".to_owned(), Answer::Pledge),
                ]
                .into(),
                answered_as: BTreeMap::new(),
                text_states: BTreeMap::new(),
            });
        }
    }
    let csv = answers_csv(&snap);
    let mut orgs_seen = 0;
    // A field may hold CR inside its quotes, so split rows the way a spreadsheet does.
    let mut rows = Vec::new();
    let (mut row, mut quoted) = (String::new(), false);
    for c in csv.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        row.push(c);
        if !quoted && row.ends_with("\r\n") {
            rows.push(std::mem::take(&mut row));
        }
    }
    for line in rows.iter().skip(1) {
        let fields = parse_csv_line(line.trim_end_matches("\r\n"));
        assert_eq!(fields.len(), 7, "{line:?}");
        for field in &fields {
            assert!(
                !field.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{field:?} in {line:?}"
            );
        }
        if formulas.iter().any(|f| fields[5] == format!("'{f}")) {
            orgs_seen += 1;
        }
    }
    // Every organisation reached the file, defused, on its choice, scale, words and pledge rows.
    assert_eq!(orgs_seen, formulas.len() * 3 * 4, "{csv}");
    assert!(csv.contains(",'=1+1\r\n"), "the sector column too");
    assert!(csv.contains(",'-minus,"), "words too");
}

#[test]
fn the_html_report_forbids_scripts_and_loads_nothing() {
    let html = report_html(&summarise(&synthetic_2026(60), None));
    let head = &html[..html.find("</head>").expect("head")];
    let meta = "<meta http-equiv=\"Content-Security-Policy\" content=\"";
    let at = head.find(meta).expect("a CSP meta in the head");
    // Before any style or content that it governs.
    assert!(at < head.find("<style>").expect("inline style"));
    let policy = &head[at + meta.len()..];
    let policy = &policy[..policy.find('"').expect("end of policy")];
    let directives: HashMap<&str, Vec<&str>> = policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let mut words = d.split_whitespace();
            (words.next().unwrap_or(""), words.collect())
        })
        .collect();
    assert_eq!(directives["default-src"], vec!["'none'"], "{policy}");
    assert_eq!(directives["base-uri"], vec!["'none'"], "{policy}");
    assert_eq!(directives["form-action"], vec!["'none'"], "{policy}");
    // Styles inline only; nothing else is allowed from anywhere (scripts fall back to
    // default-src 'none').
    assert_eq!(directives["style-src"], vec!["'unsafe-inline'"], "{policy}");
    assert_eq!(directives.len(), 4, "{policy}");
    // The report needs nothing the policy refuses: no script, no external fetch.
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("url("));
    assert!(html.contains("<svg"), "charts are inline SVG");
}

/// The synthetic edition with its evaluation (two activities for after the day), as a report
/// taken while the evaluation is open and one taken once it has closed.
#[test]
fn a_report_taken_in_the_after_window_says_so_and_when_the_evaluation_was_answered() {
    let closes_at = "2026-11-24T17:00:00Z";
    let mut spec = fixture("dual-diagnosis-2026.json");
    synthetic::with_evaluation(&mut spec, closes_at);
    let mut snap = synthetic::snapshot(&spec, "X4TR9B", 150, 2026, 0.5);
    synthetic::in_after_window(&mut snap, closes_at);
    let s = summarise(&snap, None);
    assert_eq!(
        (s.event.phase.as_str(), s.event.state.as_str()),
        ("after", "live")
    );
    let useful = activity(&s, "usefulness");
    assert!(useful.respondents > 0);
    assert_eq!(useful.answered_after, Some(useful.respondents));
    assert_eq!(activity(&s, "role").answered_after, None);
    let json: serde_json::Value = serde_json::from_str(&summary_json(&s)).expect("summary.json");
    assert_eq!(json["event"]["phase"], "after");
    let at = s
        .activities
        .iter()
        .position(|a| a.key == "usefulness")
        .expect("usefulness");
    assert_eq!(json["activities"][at]["answered_after"], useful.respondents);
    assert!(json["activities"][0].get("answered_after").is_none());

    let html = report_html(&s);
    assert!(html.contains(
        "Made while the evaluation after the event was still open (it closes on 24 November \
         2026): its figures may still change."
    ));
    assert!(html.contains(&format!(
        "Asked after the event, in the evaluation, which was still open when this report was \
         made: all {} answers so far came after the day.",
        useful.respondents
    )));
    assert!(!html.contains("was still live"));
    assert!(report_pdf(&s).expect("pdf").starts_with(b"%PDF"));

    // Once the evaluation has closed: no notice, and the answers are all in.
    snap.state = "ended".to_owned();
    snap.phase = "closed".to_owned();
    let html = report_html(&summarise(&snap, None));
    assert!(!html.contains("Made while the evaluation"));
    assert!(html.contains(&format!(
        "Asked after the event, in the evaluation: all {} answers came after the day.",
        useful.respondents
    )));
}
