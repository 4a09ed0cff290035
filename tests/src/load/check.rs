//! Correctness under load: what the attendees saw acknowledged (their last acknowledged
//! answer to each activity) against the host's tallies and the database.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;

use super::scenario::{Activity, expected_tally};
use super::worker::AttendeeState;

#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    pub passed: Vec<String>,
    pub failed: Vec<String>,
}

impl Outcome {
    pub fn check(&mut self, name: &str, ok: bool, detail: String) {
        if ok {
            self.passed.push(name.to_owned());
        } else {
            self.failed.push(format!("{name}: {detail}"));
        }
    }
}

/// Every attendee's current answers to `key`, with its organisation.
fn answers_to<'a>(states: &'a [AttendeeState], key: &str) -> Vec<(&'a Value, &'a str)> {
    states
        .iter()
        .filter_map(|s| s.answers.get(key).map(|v| (v, s.organisation.as_str())))
        .collect()
}

/// The host snapshot's tallies against the acknowledged answers. Returns the activities
/// that differ, with what was expected and what the host saw.
pub fn tallies(activities: &[Activity], states: &[AttendeeState], snapshot: &Value) -> Vec<String> {
    let mut differ = Vec::new();
    let rows = snapshot["activities"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for a in activities {
        let answers = answers_to(states, &a.key);
        let expected = expected_tally(&a.kind, &answers);
        let seen = rows
            .iter()
            .find(|r| r["key"] == a.key.as_str())
            .map(|r| r["tally"].clone())
            .unwrap_or(Value::Null);
        let wrong: Vec<&str> = expected
            .iter()
            .filter(|(k, v)| seen.get(**k) != Some(*v))
            .map(|(k, _)| *k)
            .collect();
        if !wrong.is_empty() {
            let want: BTreeMap<_, _> = expected.iter().filter(|(k, _)| wrong.contains(k)).collect();
            let got: BTreeMap<_, _> = wrong.iter().map(|k| (*k, seen.get(*k))).collect();
            differ.push(format!(
                "{}: expected {} saw {}",
                a.key,
                serde_json::to_string(&want).unwrap_or_default(),
                serde_json::to_string(&got).unwrap_or_default()
            ));
        }
    }
    differ
}

/// What the database holds for the event: per activity, each stored value and how many
/// rows hold it; and the number of message receipts.
pub struct Stored {
    pub answers: BTreeMap<String, BTreeMap<String, u64>>,
    pub receipts: u64,
}

/// Reads what `database` (sqlite://PATH, opened read-only, or postgres://...) holds for
/// the event `code`.
pub async fn stored(database: &str, code: &str) -> anyhow::Result<Stored> {
    use sqlx::{ConnectOptions, Connection};
    // The same statements on either database: SQLite takes `$1` as PostgreSQL does.
    macro_rules! read {
        ($conn:expr) => {{
            let mut conn = $conn;
            let rows: Vec<(String, String)> =
                sqlx::query_as("SELECT activity, value FROM latest_answers WHERE event = $1")
                    .bind(code)
                    .fetch_all(&mut conn)
                    .await?;
            let receipts: i64 =
                sqlx::query_scalar("SELECT count(*) FROM received_messages WHERE event = $1")
                    .bind(code)
                    .fetch_one(&mut conn)
                    .await?;
            (rows, receipts)
        }};
    }
    let (rows, receipts) = if database.starts_with("postgres") {
        read!(sqlx::PgConnection::connect(database).await?)
    } else {
        read!(
            SqliteConnectOptions::from_str(database)?
                .read_only(true)
                .connect()
                .await?
        )
    };
    let mut answers: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (activity, value) in rows {
        // Canonical JSON, so formatting never counts as a difference.
        let value = serde_json::from_str::<Value>(&value)
            .map(|v| v.to_string())
            .unwrap_or(value);
        *answers
            .entry(activity)
            .or_default()
            .entry(value)
            .or_default() += 1;
    }
    Ok(Stored {
        answers,
        receipts: receipts as u64,
    })
}

/// The database's answers against the acknowledged ones: activities whose stored values
/// differ (lost, doubled or wrong), with counts.
pub fn database(activities: &[Activity], states: &[AttendeeState], stored: &Stored) -> Vec<String> {
    let mut differ = Vec::new();
    for a in activities {
        let mut expected: BTreeMap<String, u64> = BTreeMap::new();
        for (v, _) in answers_to(states, &a.key) {
            *expected.entry(v.to_string()).or_default() += 1;
        }
        let empty = BTreeMap::new();
        let got = stored.answers.get(&a.key).unwrap_or(&empty);
        if &expected != got {
            let want: u64 = expected.values().sum();
            let have: u64 = got.values().sum();
            let wrong = expected
                .iter()
                .filter(|(v, n)| got.get(*v) != Some(n))
                .count()
                + got.keys().filter(|v| !expected.contains_key(*v)).count();
            differ.push(format!(
                "{}: {want} acknowledged answers, {have} rows, {wrong} values differ in count",
                a.key
            ));
        }
    }
    differ
}
