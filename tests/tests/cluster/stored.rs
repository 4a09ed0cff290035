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
