//! Joinup's post-event report: an event snapshot in, documents out.
//!
//! This crate is pure: no I/O, no async, no axum, no sqlx. The server reads the database
//! into a [`Snapshot`] (or, after `joinup purge`, reads the kept [`Summary`]); this crate
//! turns it into `report.html`, `report.pdf`, `answers.csv` and `summary.json`.
//!
//! ```text
//! Snapshot ──summarise──▶ Summary ──▶ summary_json, report_html, report_pdf
//!     └──────answers_csv──▶ answers.csv (needs the raw answers: not after a purge)
//! ```
//!
//! # Layout
//! - [`snapshot`]: the input: an event's definition and its anonymous answers.
//! - [`privacy`]: the small-group rule, shared with the live hub so they never disagree.
//! - [`summary`]: every figure the report shows, rule applied; serialisable, kept after purge.
//! - [`questions`]: questions from the floor, session by session, and those to follow up.
//! - [`findings`]: the key findings and the differences between sectors, from the Summary's
//!   own figures; [`themes`]: open text grouped into themes, locally and deterministically.
//! - `csv`, `html`, `pdf`: the documents; `doc` is the content both HTML and PDF render, and
//!   `front` builds the report's front half (key findings, aims
//!   and method, themes, sectors, what happens next), `charts` draws its charts with plotters (SVG for HTML, vector shapes for the PDF).

mod charts;
mod csv;
mod doc;
pub mod findings;
mod fonts;
mod front;
mod html;
mod pdf;
pub mod privacy;
pub mod questions;
pub mod snapshot;
pub mod summary;
pub mod tallies;
pub mod themes;

pub use csv::{CSV_HEADER, answers_csv};
pub use html::report_html;
pub use pdf::report_pdf;
pub use snapshot::{ActivityDef, Answer, AttendeeRecord, Snapshot};
pub use summary::{SUMMARY_VERSION, Summary, summarise, summary_json};

/// Why a document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the embedded font could not be read")]
    Font,
    #[error("the page layout is invalid")]
    Layout,
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}
