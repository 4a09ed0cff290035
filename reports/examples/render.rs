//! Writes the four documents for a realistic synthetic edition of the dual diagnosis
//! conference (2026, ~150 attendees, compared with 2025) into a folder:
//! `cargo run -p joinup-reports --example render -- OUT_DIR [--purged] [--after]`.
//! `--after`: the edition has an evaluation after the day ("usefulness" and "next-year"
//! marked `window: "after"`) and the report is taken while it is still open.

#[path = "../tests/support/synthetic.rs"]
mod synthetic;

use std::path::PathBuf;

fn fixture(name: &str) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../server/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "report-out".to_owned()));
    let flags: Vec<String> = args.collect();
    let purged = flags.iter().any(|a| a == "--purged");
    let after = flags.iter().any(|a| a == "--after");
    std::fs::create_dir_all(&out).expect("create the output folder");
    let last = synthetic::snapshot(
        &fixture("dual-diagnosis-2025.json"),
        "K7MPQ2",
        120,
        2025,
        0.35,
    );
    // The evaluation closes at 17:00 the day after the conference (23 November).
    let closes_at = "2026-11-24T17:00:00Z";
    let mut spec = fixture("dual-diagnosis-2026.json");
    if after {
        synthetic::with_evaluation(&mut spec, closes_at);
    }
    let mut this = synthetic::snapshot(&spec, "X4TR9B", 150, 2026, 0.5);
    if after {
        synthetic::in_after_window(&mut this, closes_at);
    }
    let previous = joinup_reports::summarise(&last, None);
    let mut summary = joinup_reports::summarise(&this, Some(&previous));
    if purged {
        summary.mark_purged("2027-01-05T10:00:00Z");
    }
    std::fs::write(
        out.join("summary.json"),
        joinup_reports::summary_json(&summary),
    )
    .expect("write");
    std::fs::write(out.join("answers.csv"), joinup_reports::answers_csv(&this)).expect("write");
    std::fs::write(
        out.join("report.html"),
        joinup_reports::report_html(&summary),
    )
    .expect("write");
    let pdf = joinup_reports::report_pdf(&summary).expect("pdf");
    std::fs::write(out.join("report.pdf"), pdf).expect("write");
    println!("wrote {}", out.display());
}
