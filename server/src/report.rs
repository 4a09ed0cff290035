//! Reports, server side: reads an event from the database into a [`Snapshot`] for the pure
//! `joinup-reports` crate, finds last year's edition of the series (the latest ended one that
//! started before this one, never a rehearsal), and uses the summary kept by `joinup purge`
//! once the raw answers are gone.

use std::collections::{BTreeMap, HashMap};

use joinup_reports::snapshot::{
    AnsweredAs, CardRecord, Organisation, PresenceSample, QuestionRecord, SessionDef,
};
use joinup_reports::{ActivityDef, Answer, AttendeeRecord, Snapshot, Summary};
use thiserror::Error;

use crate::domain::card::Card;
use crate::domain::spec::{ActivityKind, Phase, SpecFormat, parse_spec};
use crate::domain::{AnswerValue, EventCode, clock};
use crate::storage::{Storage, StorageError};

#[derive(Debug, Error)]
pub enum ReportError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("event {0}: {1}")]
    Corrupt(EventCode, String),
    #[error("the PDF could not be made: {0}")]
    Pdf(#[from] joinup_reports::ReportError),
}

/// What a report is built from: the snapshot while raw answers exist, and the summary.
pub struct ReportData {
    /// `None` once the event was purged.
    pub snapshot: Option<Snapshot>,
    pub summary: Summary,
}

/// The event's report data as it stands now; `None` when there is no such event.
pub async fn load(storage: &Storage, code: EventCode) -> Result<Option<ReportData>, ReportError> {
    if let Some(summary) = kept(storage, code).await? {
        return Ok(Some(ReportData {
            snapshot: None,
            summary,
        }));
    }
    let Some(snapshot) = snapshot(storage, code).await? else {
        return Ok(None);
    };
    let previous = match &snapshot.series {
        Some(series) => previous_summary(storage, code, series).await?,
        None => None,
    };
    let summary = joinup_reports::summarise(&snapshot, previous.as_ref());
    Ok(Some(ReportData {
        snapshot: Some(snapshot),
        summary,
    }))
}

/// Last year's edition, summarised (from its kept summary if it was purged).
async fn previous_summary(
    storage: &Storage,
    code: EventCode,
    series: &str,
) -> Result<Option<Summary>, ReportError> {
    let Some(previous) = storage.previous_in_series(code, series).await? else {
        return Ok(None);
    };
    if let Some(summary) = kept(storage, previous).await? {
        return Ok(Some(summary));
    }
    Ok(snapshot(storage, previous)
        .await?
        .map(|s| joinup_reports::summarise(&s, None)))
}

async fn kept(storage: &Storage, code: EventCode) -> Result<Option<Summary>, ReportError> {
    match storage.kept_summary(code).await? {
        Some((text, _)) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ReportError::Corrupt(code, format!("kept summary: {e}"))),
        None => Ok(None),
    }
}

/// Deletes the event's raw answers and attendee tokens, keeping the summary its reports
/// are built from. Returns `false` when there is no such event.
pub async fn purge(storage: &Storage, code: EventCode) -> Result<bool, ReportError> {
    let Some(data) = load(storage, code).await? else {
        return Ok(false);
    };
    let at = clock::now_rfc3339();
    let mut summary = data.summary;
    summary.mark_purged(&at);
    let text =
        serde_json::to_string(&summary).map_err(|e| ReportError::Corrupt(code, e.to_string()))?;
    storage.purge(code, &text, &at).await?;
    Ok(true)
}

/// Reads one event from the database into the report's input model.
pub async fn snapshot(storage: &Storage, code: EventCode) -> Result<Option<Snapshot>, ReportError> {
    let Some(stored) = storage.event(code).await? else {
        return Ok(None);
    };
    let event = parse_spec(&stored.spec, SpecFormat::Json)
        .map_err(|e| ReportError::Corrupt(code, e.to_string()))?;
    let phase = stored.phase(&event.times);
    let rows = storage.live_rows(code).await?;
    let presence = storage.presence(code).await?;
    let states: HashMap<&str, &str> = rows
        .activity_states
        .iter()
        .map(|(key, state, _)| (key.as_str(), state.as_str()))
        .collect();
    let activities: Vec<ActivityDef> = event
        .activities
        .iter()
        .map(|a| {
            let mut def = ActivityDef {
                key: a.key.as_str().to_owned(),
                kind: a.kind.name().to_owned(),
                prompt: a.prompt.clone(),
                session: a.session.clone(),
                room: a.room.clone(),
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
                window: a.window.map(|w| w.as_str().to_owned()),
                state: states
                    .get(a.key.as_str())
                    .copied()
                    .unwrap_or("ready")
                    .to_owned(),
            };
            match &a.kind {
                ActivityKind::Choice {
                    options, multiple, ..
                } => {
                    def.options = options.clone();
                    def.multiple = *multiple;
                }
                ActivityKind::Scale {
                    min,
                    max,
                    labels,
                    pair,
                } => {
                    def.min = Some(*min);
                    def.max = Some(*max);
                    def.label_min = labels.as_ref().and_then(|l| l.min.clone());
                    def.label_max = labels.as_ref().and_then(|l| l.max.clone());
                    if let Some((topic, phase)) = pair {
                        def.pair = Some(topic.clone());
                        def.phase = Some(match phase {
                            Phase::Pre => "pre".to_owned(),
                            Phase::Post => "post".to_owned(),
                        });
                    }
                }
                ActivityKind::Pledge { text } => def.pledge_text = Some(text.clone()),
                ActivityKind::Ranking { options } => def.options = options.clone(),
                ActivityKind::Points { options, budget } => {
                    def.options = options.clone();
                    def.budget = Some(u64::from(*budget));
                }
                ActivityKind::Words { .. } | ActivityKind::Text { .. } => {}
            }
            def
        })
        .collect();

    let mut attendees: Vec<AttendeeRecord> = Vec::with_capacity(rows.attendees.len());
    let mut index: HashMap<i64, usize> = HashMap::with_capacity(rows.attendees.len());
    for row in &rows.attendees {
        index.insert(row.id, attendees.len());
        attendees.push(AttendeeRecord {
            organisation: row.organisation.clone(),
            sector: row.sector.clone(),
            room: row.room.clone(),
            answers: BTreeMap::new(),
            answered_as: BTreeMap::new(),
            text_states: BTreeMap::new(),
        });
    }
    for row in &rows.answers {
        let (Some(&who), Some(activity)) =
            (index.get(&row.attendee), event.activity(&row.activity))
        else {
            continue;
        };
        let Ok(json) = serde_json::from_str(&row.value) else {
            continue;
        };
        let Some(value) = AnswerValue::from_stored(&activity.kind, &json) else {
            continue;
        };
        let answer = match value {
            AnswerValue::Choice(indexes) => {
                Answer::Choice(indexes.into_iter().map(usize::from).collect())
            }
            AnswerValue::Scale(n) => Answer::Scale(n),
            AnswerValue::Words(words) => Answer::Words(words),
            AnswerValue::Text(text) => Answer::Text(text),
            AnswerValue::Pledge => Answer::Pledge,
            AnswerValue::Ranking(order) => {
                Answer::Ranking(order.into_iter().map(usize::from).collect())
            }
            AnswerValue::Points(points) => {
                Answer::Points(points.into_iter().map(u64::from).collect())
            }
        };
        let record = &mut attendees[who];
        if let Some(state) = &row.state {
            record
                .text_states
                .insert(row.activity.clone(), state.clone());
        }
        record.answers.insert(row.activity.clone(), answer);
        record.answered_as.insert(
            row.activity.clone(),
            AnsweredAs {
                organisation: row.organisation.clone(),
                sector: row.sector.clone(),
            },
        );
    }
    let mut votes: HashMap<&str, u64> = HashMap::new();
    for (question, _) in &rows.votes {
        *votes.entry(question.as_str()).or_insert(0) += 1;
    }
    let questions = rows
        .questions
        .iter()
        .map(|q| QuestionRecord {
            text: q.text.clone(),
            votes: votes.get(q.id.as_str()).copied().unwrap_or(0),
            state: q.state.clone(),
            flagged: q.flagged,
            session: q.session.clone(),
            advance: q.advance,
        })
        .collect();
    let cards = rows
        .cards
        .iter()
        .filter_map(|c| {
            let card: Card = serde_json::from_str(&c.card).ok()?;
            Some(CardRecord {
                name: card.name,
                role: card.role,
                organisation: card.organisation,
                service: card.service,
                offer: card.offer,
                referral: card.referral,
                contact: card.contact,
                state: c.state.clone(),
            })
        })
        .collect();
    let peak_sampled = presence.iter().map(|p| p.2).max().unwrap_or(0);
    Ok(Some(Snapshot {
        code: code.to_string(),
        title: event.spec.title.clone(),
        series: event.spec.series.clone(),
        starts_at: event.spec.starts_at.clone(),
        created_at: stored.created_at,
        ended_at: stored.ended_at,
        state: phase.state().into(),
        phase: phase.as_str().into(),
        min_group_size: u64::from(event.spec.min_group_size),
        organisations: event
            .spec
            .organisations
            .iter()
            .map(|o| Organisation {
                name: o.name.clone(),
                sector: o.sector.clone(),
            })
            .collect(),
        sectors: event.spec.sectors.clone(),
        rooms: event.rooms.clone(),
        sessions: event
            .spec
            .sessions
            .iter()
            .map(|s| SessionDef {
                key: s.key.clone(),
                title: s.title.clone(),
                room: s.room.clone(),
            })
            .collect(),
        activities,
        attendees,
        peak_present: u64::try_from(rows.peak_present.max(peak_sampled)).unwrap_or(0),
        presence: presence
            .into_iter()
            .map(|(minute, present, peak, joined)| PresenceSample {
                minute,
                present: u64::try_from(present).unwrap_or(0),
                peak: u64::try_from(peak).unwrap_or(0),
                joined: u64::try_from(joined).unwrap_or(0),
            })
            .collect(),
        questions,
        cards,
        introduction: event.spec.introduction.clone(),
        next_steps: event.spec.next_steps.clone(),
        theme_names: storage.theme_names(code).await?.into_iter().collect(),
    }))
}

/// The four documents of a report, as files are named.
pub const DOCUMENTS: [&str; 4] = ["report.html", "report.pdf", "answers.csv", "summary.json"];

/// Builds one document: its bytes and content type.
pub fn document(
    data: &ReportData,
    name: &str,
) -> Result<Option<(Vec<u8>, &'static str)>, ReportError> {
    Ok(Some(match name {
        "report.html" => (
            joinup_reports::report_html(&data.summary).into_bytes(),
            "text/html; charset=utf-8",
        ),
        "report.pdf" => (
            joinup_reports::report_pdf(&data.summary)?,
            "application/pdf",
        ),
        "answers.csv" => {
            let csv = match &data.snapshot {
                Some(snapshot) => joinup_reports::answers_csv(snapshot),
                // After a purge there are no raw answers left to list.
                None => format!("{}\r\n", joinup_reports::CSV_HEADER),
            };
            (csv.into_bytes(), "text/csv; charset=utf-8")
        }
        "summary.json" => (
            joinup_reports::summary_json(&data.summary).into_bytes(),
            "application/json",
        ),
        _ => return Ok(None),
    }))
}
