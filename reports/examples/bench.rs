//! Times each step of a big report: 10,000 attendees, 30 activities (about 300,000 answers).
//! `cargo run --release -p joinup-reports --example bench`

#[path = "../tests/support/synthetic.rs"]
mod synthetic;

use std::time::Instant;

use serde_json::json;

/// The 2026 programme plus extra plenary activities of every kind, 30 activities in all.
fn spec() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../server/fixtures/dual-diagnosis-2026.json");
    let mut spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture"))
            .expect("fixture JSON");
    let count = |s: &serde_json::Value| {
        s["sessions"].as_array().map_or(0, |ss| {
            ss.iter()
                .map(|x| x["activities"].as_array().map_or(0, Vec::len))
                .sum::<usize>()
        })
    };
    let mut extra = Vec::new();
    let mut i = 0;
    while count(&spec) + extra.len() < 30 {
        extra.push(match i % 4 {
            0 => json!({"key": format!("extra-choice-{i}"), "kind": "choice", "prompt": format!("Extra poll {i}"),
                        "options": ["Strongly agree", "Agree", "Neutral", "Disagree", "Strongly disagree"], "multiple": false}),
            1 => json!({"key": format!("extra-scale-{i}"), "kind": "scale", "prompt": format!("Extra scale {i}"), "min": 0, "max": 10}),
            2 => json!({"key": format!("extra-words-{i}"), "kind": "words", "prompt": format!("Extra words {i}"), "max_words": 3}),
            _ => json!({"key": format!("extra-text-{i}"), "kind": "text", "prompt": format!("Extra text {i}"), "max_len": 500}),
        });
        i += 1;
    }
    if let Some(sessions) = spec["sessions"].as_array_mut() {
        sessions.push(json!({"key": "extra", "title": "Extra questions", "activities": extra}));
    }
    spec
}

fn main() {
    let spec = spec();
    let t = Instant::now();
    let this = synthetic::snapshot_with(&spec, "X4TR9B", 10_000, 2026, 0.5, true);
    let last = synthetic::snapshot(&spec, "K7MPQ2", 9_000, 2025, 0.3);
    let answers: usize = this.attendees.iter().map(|a| a.answers.len()).sum();
    println!(
        "snapshot: {} attendees, {} activities, {} answers (built in {:?})",
        this.attendees.len(),
        this.activities.len(),
        answers,
        t.elapsed()
    );
    let previous = joinup_reports::summarise(&last, None);

    let total = Instant::now();
    let t = Instant::now();
    let summary = joinup_reports::summarise(&this, Some(&previous));
    println!("summarise     {:>8.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let json = joinup_reports::summary_json(&summary);
    println!(
        "summary.json  {:>8.1} ms  ({} bytes)",
        t.elapsed().as_secs_f64() * 1e3,
        json.len()
    );
    let t = Instant::now();
    let csv = joinup_reports::answers_csv(&this);
    println!(
        "answers.csv   {:>8.1} ms  ({} bytes)",
        t.elapsed().as_secs_f64() * 1e3,
        csv.len()
    );
    let t = Instant::now();
    let html = joinup_reports::report_html(&summary);
    println!(
        "report.html   {:>8.1} ms  ({} bytes)",
        t.elapsed().as_secs_f64() * 1e3,
        html.len()
    );
    let t = Instant::now();
    let pdf = joinup_reports::report_pdf(&summary).expect("pdf");
    println!(
        "report.pdf    {:>8.1} ms  ({} bytes)",
        t.elapsed().as_secs_f64() * 1e3,
        pdf.len()
    );
    println!(
        "all four      {:>8.1} ms",
        total.elapsed().as_secs_f64() * 1e3
    );
}
