//! What PostgreSQL holds, looked at the way an operator would: exactly one attendee row per
//! phone (a resume on another node is the same attendee) and one answer row per attendee
//! and activity, with the last value the phone sent.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::helpers::Db;
use crate::phone::Phone;
use crate::truth::normalise;

/// Every mismatch between the database and the phones, as sentences.
pub async fn differences(
    database: &str,
    code: &str,
    spec: &Value,
    phones: &[Phone],
) -> Vec<String> {
    let mut db = Db::connect(database).await;
    let attendees = db.count("attendees", code).await;
    let answer_rows = db.count("latest_answers", code).await;
    let Db::Postgres(conn) = &mut db else {
        panic!("the cluster runs on PostgreSQL");
    };
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT t.token_hash, a.activity, a.value FROM latest_answers a \
         JOIN attendees t ON t.event = a.event AND t.id = a.attendee WHERE a.event = $1",
    )
    .bind(code)
    .fetch_all(&mut *conn)
    .await
    .expect("read answers");
    let mut stored: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for (hash, activity, value) in rows {
        let value = serde_json::from_str(&value).unwrap_or(Value::String(value));
        stored.entry((hash, activity)).or_default().push(value);
    }

    let mut out = Vec::new();
    if attendees != phones.len() as i64 {
        out.push(format!(
            "{attendees} attendee rows for {} phones",
            phones.len()
        ));
    }
    let expected_rows: usize = phones.iter().map(|p| p.answers.len()).sum();
    if answer_rows != expected_rows as i64 {
        out.push(format!(
            "{answer_rows} answer rows, expected {expected_rows} (one per attendee and activity answered)"
        ));
    }
    for phone in phones {
        let token = phone.token.as_deref().expect("joined");
        let hash = joinup::domain::token::hash_token(token);
        for (key, value) in &phone.answers {
            let expected = normalise(spec, key, value);
            match stored.remove(&(hash.clone(), key.clone())) {
                Some(values) if values == [expected.clone()] => {}
                Some(values) => out.push(format!(
                    "{} {key}: stored {values:?}, last sent {expected}",
                    phone.label
                )),
                None => out.push(format!(
                    "{} {key}: no row, last sent {expected}",
                    phone.label
                )),
            }
        }
    }
    for ((_, key), values) in stored {
        out.push(format!("a row nobody sent: {key} = {values:?}"));
    }
    out
}

/// What the answer log says of each phone's acknowledged answers, beyond the latest values:
/// every mismatch as a sentence, and how many messages were stored twice by the documented
/// retry (a commit whose outcome was lost, retried at once: its copy lands right after it).
///
/// For each attendee and activity, the rows in the order they were stored must be the
/// phone's messages in the order it sent them (each phone sends an answer to an activity
/// only once the previous one is acknowledged), ending with the last one acknowledged: an
/// older answer stored after a newer one would stand over it. A message stored twice
/// counts as the retry only if nothing was stored between its copies.
pub async fn log_differences(database: &str, code: &str, phones: &[Phone]) -> (Vec<String>, usize) {
    let mut db = Db::connect(database).await;
    let Db::Postgres(conn) = &mut db else {
        panic!("the cluster runs on PostgreSQL");
    };
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT t.token_hash, a.activity, a.msg FROM answers a \
         JOIN attendees t ON t.event = a.event AND t.id = a.attendee \
         WHERE a.event = $1 ORDER BY a.id",
    )
    .bind(code)
    .fetch_all(&mut *conn)
    .await
    .expect("read the answer log");
    let mut log: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (hash, activity, msg) in rows {
        log.entry((hash, activity))
            .or_default()
            .push(msg.unwrap_or_default());
    }
    let mut out = Vec::new();
    let mut retried = 0;
    for phone in phones {
        let token = phone.token.as_deref().expect("joined");
        let hash = joinup::domain::token::hash_token(token);
        for activity in phone.answers.keys() {
            let last_acked = phone
                .acked
                .iter()
                .rev()
                .find(|(_, a)| a == activity)
                .map(|(id, _)| id.clone())
                .expect("an acknowledged answer");
            let stored = log
                .remove(&(hash.clone(), activity.clone()))
                .unwrap_or_default();
            if stored.last() != Some(&last_acked) {
                out.push(format!(
                    "{} {activity}: the latest row is {:?}, the last acknowledged answer {last_acked}",
                    phone.label,
                    stored.last()
                ));
            }
            let number = |msg: &str| -> u64 {
                msg.rsplit('-')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("{}: a message id {msg:?}", phone.label))
            };
            for pair in stored.windows(2) {
                let (before, after) = (number(&pair[0]), number(&pair[1]));
                if before == after {
                    retried += 1;
                } else if before > after {
                    out.push(format!(
                        "{} {activity}: {} was stored after {}, which it sent later: {stored:?}",
                        phone.label, pair[1], pair[0]
                    ));
                }
            }
        }
    }
    for ((_, activity), stored) in log {
        out.push(format!(
            "rows of an attendee no phone is: {activity} {stored:?}"
        ));
    }
    (out, retried)
}
