//! The spec's rules as an organiser meets them: fixtures that pass, and each rule broken
//! through the public entry points, named by its field's path. The RFC 3339 shape is
//! tested beside its check (`validate.rs`).

use serde_json::{Value, json};

use super::*;

fn fixture() -> Value {
    serde_json::from_str(include_str!("../../../fixtures/dual-diagnosis-2026.json"))
        .expect("fixture is JSON")
}

fn error_of(mut edit: impl FnMut(&mut Value)) -> SpecError {
    let mut spec = fixture();
    edit(&mut spec);
    parse_spec_value(spec).expect_err("spec should be refused")
}

/// Every rule broken is reported, in the order of the spec, each with its field's path;
/// the first is the one `validate` gives alone.
#[test]
fn every_error_is_found_with_its_path() {
    let mut spec = fixture();
    spec["title"] = json!(" ");
    spec["min_group_size"] = json!(1);
    spec["sessions"][0]["activities"][0]["prompt"] = json!("");
    spec["sessions"][0]["activities"][0]["options"][2] = json!("");
    spec["sessions"][0]["activities"][1]["key"] = json!("Not A Key");
    let found = parse_spec_value_all(spec.clone()).expect_err("refused");
    let paths: Vec<&str> = found.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "title",
            "min_group_size",
            "sessions[0].activities[0].prompt",
            "sessions[0].activities[0].options[2]",
            "sessions[0].activities[1].key",
        ]
    );
    let first = parse_spec_value(spec).expect_err("refused");
    assert_eq!(first, found[0]);
    assert!(parse_spec_value_all(fixture()).is_ok());
}

#[test]
fn both_fixtures_are_valid() {
    let event = parse_spec_value(fixture()).expect("2026 fixture");
    assert_eq!(event.spec.organisations.len(), 27);
    assert_eq!(event.rooms, vec!["Room A".to_owned(), "Room B".to_owned()]);
    assert_eq!(
        event
            .activity("partnership-priority")
            .map(|a| a.room.as_deref()),
        Some(Some("Room A"))
    );
    let last: Value =
        serde_json::from_str(include_str!("../../../fixtures/dual-diagnosis-2025.json"))
            .expect("json");
    parse_spec_value(last).expect("2025 fixture");
}

#[test]
fn embed_origins_are_exact_https_origins() {
    let ok = |origins: Value| {
        let mut spec = fixture();
        spec["embed"] = json!({ "allowed_origins": origins });
        parse_spec_value(spec).map(|e| e.spec.embed.allowed_origins)
    };
    assert_eq!(
        ok(json!([
            "https://stream.example.org",
            "https://live.example.com:8443"
        ]))
        .expect("valid origins"),
        vec![
            "https://stream.example.org".to_owned(),
            "https://live.example.com:8443".to_owned()
        ]
    );
    ok(json!(["http://localhost:8080", "http://127.0.0.1:9000"])).expect("loopback http");
    for bad in [
        "http://stream.example.org",
        "https://stream.example.org/",
        "https://stream.example.org/live",
        "https://*.example.org",
        "https://Stream.example.org",
        "https://example",
        "https://stream.example.org:0",
        "https://stream.example.org:70000",
        "https://stream.example.org:",
        "https://-bad.example.org",
        "https://a b.example.org",
        "*",
        "'self'",
        "https://stream.example.org; script-src *",
        "",
    ] {
        let e = ok(json!([bad])).expect_err(bad);
        assert_eq!(e.path, "embed.allowed_origins[0]", "{bad}");
        assert!(e.message.contains("not an https origin"), "{bad}: {e}");
    }
    let e = ok(json!(["https://a.example.org", "https://a.example.org"])).expect_err("twice");
    assert_eq!(e.path, "embed.allowed_origins[1]");
    let many: Vec<String> = (0..=MAX_EMBED_ORIGINS)
        .map(|i| format!("https://s{i}.example.org"))
        .collect();
    assert_eq!(
        ok(json!(many)).expect_err("too many").path,
        "embed.allowed_origins"
    );
    let mut spec = fixture();
    spec["embed"] = json!({ "origins": [] });
    assert!(parse_spec_value(spec).is_err(), "unknown field refused");
}

#[test]
fn toml_specs_are_accepted() {
    let toml = r#"
        title = "Small event"
        sectors = ["Police"]
        [[organisations]]
        name = "North Yorkshire Police"
        sector = "Police"
        [[sessions]]
        key = "only"
        title = "Only session"
        [[sessions.activities]]
        key = "mood"
        kind = "scale"
        prompt = "How are you?"
        min = 1
        max = 5
    "#;
    let event = parse_spec(toml, SpecFormat::Toml).expect("valid TOML spec");
    assert_eq!(event.spec.min_group_size, 5);
    assert!(event.spec.qa.enabled);
    assert_eq!(event.spec.qa.moderation, Moderation::Pre);
    assert!(event.spec.allow_other_organisation);
}

#[test]
fn errors_name_the_field_by_its_path() {
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|s| s["sessions"][0]["activities"][0]["options"] = json!(["only one"])),
            "sessions[0].activities[0].options",
        ),
        (
            Box::new(|s| s["sessions"][0]["activities"][1]["max"] = json!(20)),
            "sessions[0].activities[1].max",
        ),
        (
            Box::new(|s| s["sessions"][0]["activities"][1]["max"] = json!(1)),
            "sessions[0].activities[1].max",
        ),
        (
            Box::new(|s| s["sessions"][0]["activities"][3]["max_words"] = json!(6)),
            "sessions[0].activities[3].max_words",
        ),
        (
            Box::new(|s| s["sessions"][2]["activities"][0]["max_len"] = json!(1001)),
            "sessions[2].activities[0].max_len",
        ),
        (
            Box::new(|s| s["sessions"][1]["activities"][0]["key"] = json!("role")),
            "sessions[1].activities[0].key",
        ),
        (
            Box::new(|s| s["sessions"][1]["activities"][0]["key"] = json!("Bad Key")),
            "sessions[1].activities[0].key",
        ),
        (
            Box::new(|s| s["sessions"][0]["activities"][0]["kind"] = json!("quiz")),
            "sessions[0].activities[0].kind",
        ),
        (
            Box::new(|s| s["sessions"][0]["activities"][0]["options"] = json!("yes, no")),
            "sessions[0].activities[0].options",
        ),
        (
            Box::new(|s| s["sessions"][0]["activities"][0]["min"] = json!(1)),
            "sessions[0].activities[0].min",
        ),
        (
            Box::new(|s| s["min_group_size"] = json!(2)),
            "min_group_size",
        ),
        (Box::new(|s| s["rehearsal"] = json!("yes")), "rehearsal"),
        (
            Box::new(|s| s["qa"]["moderation"] = json!("later")),
            "qa.moderation",
        ),
        (Box::new(|s| s["max_attendees"] = json!(0)), "max_attendees"),
        (
            Box::new(|s| s["max_other_organisations"] = json!(20_000)),
            "max_other_organisations",
        ),
        (
            Box::new(|s| s["max_other_sectors"] = json!(20_000)),
            "max_other_sectors",
        ),
        (
            Box::new(|s| s["qa"]["max_open_questions"] = json!(0)),
            "qa.max_open_questions",
        ),
        (
            Box::new(|s| s["organisations"][3]["sector"] = json!("Astronomy")),
            "organisations[3].sector",
        ),
        (Box::new(|s| s["title"] = json!("  ")), "title"),
        (Box::new(|s| s["introduction"] = json!(" ")), "introduction"),
        (
            Box::new(|s| s["next_steps"] = json!("x".repeat(4001))),
            "next_steps",
        ),
        (
            Box::new(|s| s["starts_at"] = json!("tomorrow")),
            "starts_at",
        ),
        (
            Box::new(|s| s["sessions"][0]["activities"][0]["max_choices"] = json!(2)),
            "sessions[0].activities[0].max_choices",
        ),
        (
            Box::new(|s| s["sessions"][1]["activities"][0]["max_choices"] = json!(7)),
            "sessions[1].activities[0].max_choices",
        ),
        (
            Box::new(|s| s["sessions"][0]["activities"][1]["phase"] = json!("during")),
            "sessions[0].activities[1].phase",
        ),
        (
            Box::new(|s| {
                s["sessions"][6]["activities"]
                    .as_array_mut()
                    .map(|a| a.remove(1));
            }),
            "sessions[0].activities[1].pair",
        ),
        (
            Box::new(|s| s["sessions"][0]["colour"] = json!("red")),
            "sessions[0].colour",
        ),
        (
            Box::new(|s| s["sessions"][6]["activities"][0]["text"] = json!("")),
            "sessions[6].activities[0].text",
        ),
        (Box::new(|s| s["sessions"] = json!([])), "sessions"),
        (
            Box::new(|s| {
                s["sessions"][6]["activities"][5]["options"] =
                    json!((0..11).map(|i| format!("option {i}")).collect::<Vec<_>>());
            }),
            "sessions[6].activities[5].options",
        ),
        (
            Box::new(|s| {
                s["sessions"][6]["activities"][5]["options"][1] =
                    json!("JOINT commissioning of mental health and drug and alcohol services")
            }),
            "sessions[6].activities[5].options[1]",
        ),
        (
            Box::new(|s| s["sessions"][6]["activities"][5]["budget"] = json!(100)),
            "sessions[6].activities[5].budget",
        ),
        (
            Box::new(|s| s["sessions"][6]["activities"][6]["budget"] = json!(5)),
            "sessions[6].activities[6].budget",
        ),
        (
            Box::new(|s| s["sessions"][6]["activities"][6]["budget"] = json!(-5)),
            "sessions[6].activities[6].budget",
        ),
        (
            Box::new(|s| s["sessions"][6]["activities"][6]["options"] = json!(["only"])),
            "sessions[6].activities[6].options",
        ),
        (
            Box::new(|s| s["reactions"] = json!(["agree", "boo"])),
            "reactions[1]",
        ),
        (
            Box::new(|s| s["reactions"] = json!(["agree", "thanks", "agree"])),
            "reactions[2]",
        ),
    ];
    for (edit, path) in cases {
        let error = error_of(edit);
        assert_eq!(error.path, path, "{error}");
        assert!(!error.message.is_empty());
    }
}

#[test]
fn sessions_may_have_no_activities_and_activities_default_well() {
    let event = parse_spec_value(json!({
        "title": "T",
        "sessions": [{"key": "talk", "title": "A talk"},
                     {"key": "poll", "title": "Poll", "activities": [
                        {"key": "q", "kind": "choice", "prompt": "?", "options": ["a", "b"]}]}]
    }))
    .expect("valid");
    assert_eq!(event.activities.len(), 1);
    assert!(matches!(
        event.activities[0].kind,
        ActivityKind::Choice {
            multiple: false,
            ..
        }
    ));
}

#[test]
fn the_organisers_words_round_trip() {
    let event = parse_spec_value(json!({
        "title": "T",
        "introduction": "Why we met.\n\nWhat we hoped for.",
        "next_steps": "We will meet the ICB in January.",
        "sessions": [{"key": "talk", "title": "A talk"}]
    }))
    .expect("valid");
    assert_eq!(
        event.spec.introduction.as_deref(),
        Some("Why we met.\n\nWhat we hoped for.")
    );
    let again: EventSpec =
        serde_json::from_value(serde_json::to_value(&event.spec).expect("serialise"))
            .expect("round trip");
    assert_eq!(
        again.next_steps.as_deref(),
        Some("We will meet the ICB in January.")
    );
    let none = parse_spec_value(json!({
        "title": "T", "sessions": [{"key": "talk", "title": "A talk"}]
    }))
    .expect("valid");
    let text = serde_json::to_string(&none.spec).expect("serialise");
    assert!(!text.contains("introduction") && !text.contains("next_steps"));
}

#[test]
fn ordered_kinds_and_reactions_default_well() {
    let event = parse_spec_value(json!({
        "title": "T",
        "sessions": [{"key": "s", "title": "S", "activities": [
            {"key": "r", "kind": "ranking", "prompt": "?", "options": ["a", "b"]},
            {"key": "p", "kind": "points", "prompt": "?", "options": ["a", "b"]}]}]
    }))
    .expect("valid");
    assert_eq!(
        event.activities[1].kind,
        ActivityKind::Points {
            options: vec!["a".into(), "b".into()],
            budget: DEFAULT_BUDGET
        }
    );
    assert_eq!(
        event.spec.reactions,
        crate::domain::reaction::default_reactions()
    );
    let event = parse_spec(
        include_str!("../../../fixtures/dual-diagnosis-2026.json"),
        SpecFormat::Json,
    )
    .expect("fixture");
    assert!(matches!(
        event.activity("commissioner-priorities").map(|a| &a.kind),
        Some(ActivityKind::Ranking { .. })
    ));
}
