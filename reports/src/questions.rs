//! Questions from the floor, session by session (docs/report.md): the Summary's figures
//! and the report's section. Each question belongs to a session (or to the event as a
//! whole) and may have come in advance, before the day; those still unanswered are listed
//! again at the end, for the organiser to follow up.
//!
//! Questions are shown whole once visible (approved or answered): they are not answers
//! about people, so no small-group rule applies to them.

use serde::{Deserialize, Serialize};

use crate::doc::{Block, Table, num, plural, section};
use crate::snapshot::Snapshot;
use crate::summary::Summary;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Questions {
    /// Every question asked.
    pub asked: u64,
    /// Visible questions (approved or answered), by votes then text.
    pub shown: Vec<QuestionItem>,
    /// Questions not shown: pending or hidden by moderation.
    pub not_shown: u64,
    /// Questions asked before the event's live part.
    #[serde(default)]
    pub advance: u64,
    /// The questions of each session in programme order, the event as a whole first; only
    /// sessions with questions.
    #[serde(default)]
    pub by_session: Vec<SessionQuestions>,
    /// Visible questions not answered: to follow up after the event.
    #[serde(default)]
    pub unanswered: Vec<QuestionItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct QuestionItem {
    pub text: String,
    pub votes: u64,
    pub answered: bool,
    /// The session it was asked in; `None`: the event as a whole.
    #[serde(default)]
    pub session: Option<String>,
    /// Asked before the live part.
    #[serde(default)]
    pub advance: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionQuestions {
    /// `None`: the event as a whole.
    pub session: Option<String>,
    pub title: String,
    pub asked: u64,
    /// Of them, asked before the live part.
    pub advance: u64,
    /// Visible ones, by votes then text.
    pub shown: Vec<QuestionItem>,
    pub answered: u64,
    pub unanswered: u64,
}

/// What the event as a whole is called where sessions are listed.
const WHOLE_EVENT: &str = "The event as a whole";

/// The Summary's questions from a snapshot.
pub fn summarise(snapshot: &Snapshot) -> Questions {
    let mut shown: Vec<QuestionItem> = snapshot
        .questions
        .iter()
        .filter(|q| q.state == "approved" || q.state == "answered")
        .map(|q| QuestionItem {
            text: q.text.clone(),
            votes: q.votes,
            answered: q.state == "answered",
            session: q.session.clone(),
            advance: q.advance,
        })
        .collect();
    shown.sort_by(|a, b| b.votes.cmp(&a.votes).then_with(|| a.text.cmp(&b.text)));
    // A session an edit took out of the programme keeps its questions, listed last.
    let mut gone: Vec<&str> = Vec::new();
    for q in &snapshot.questions {
        if let Some(key) = q.session.as_deref()
            && !snapshot.sessions.iter().any(|s| s.key == key)
            && !gone.contains(&key)
        {
            gone.push(key);
        }
    }
    let sessions = std::iter::once((None, WHOLE_EVENT.to_owned()))
        .chain(
            snapshot
                .sessions
                .iter()
                .map(|s| (Some(s.key.clone()), s.title.clone())),
        )
        .chain(gone.into_iter().map(|key| {
            let title = format!("A session no longer in the programme ({key})");
            (Some(key.to_owned()), title)
        }));
    let by_session = sessions
        .filter_map(|(session, title)| {
            let asked: Vec<_> = snapshot
                .questions
                .iter()
                .filter(|q| q.session == session)
                .collect();
            if asked.is_empty() {
                return None;
            }
            let listed: Vec<QuestionItem> = shown
                .iter()
                .filter(|q| q.session == session)
                .cloned()
                .collect();
            let answered = listed.iter().filter(|q| q.answered).count() as u64;
            Some(SessionQuestions {
                title,
                asked: asked.len() as u64,
                advance: asked.iter().filter(|q| q.advance).count() as u64,
                answered,
                unanswered: listed.len() as u64 - answered,
                shown: listed,
                session,
            })
        })
        .collect();
    Questions {
        asked: snapshot.questions.len() as u64,
        not_shown: snapshot.questions.len() as u64 - shown.len() as u64,
        advance: snapshot.questions.iter().filter(|q| q.advance).count() as u64,
        by_session,
        unanswered: shown.iter().filter(|q| !q.answered).cloned().collect(),
        shown,
    }
}

/// The report's section: a table per session, then the questions left to follow up.
pub(crate) fn section_of(s: &Summary, b: &mut Vec<Block>) {
    let q = &s.questions;
    section(b, "questions", "Questions from the floor");
    let answered = q.shown.iter().filter(|x| x.answered).count() as u64;
    let advance = if q.advance > 0 {
        format!(
            " {} before the day.",
            plural(q.advance, "was sent in", "were sent in")
        )
    } else {
        String::new()
    };
    b.push(Block::Para(format!(
        "{} asked; {} put to the room after moderation, {} of them answered on the day.{advance} Listed session by session, by votes.",
        plural(q.asked, "question was", "questions were"),
        num(q.shown.len() as u64),
        num(answered)
    )));
    let ended = s.event.state == "ended";
    // A Summary kept from before questions had sessions lists them in one table.
    let groups: Vec<(String, &[QuestionItem])> = if q.by_session.is_empty() {
        vec![(String::new(), q.shown.as_slice())]
    } else {
        q.by_session
            .iter()
            .map(|g| (g.title.clone(), g.shown.as_slice()))
            .collect()
    };
    for (title, shown) in groups {
        if !title.is_empty() {
            b.push(Block::Heading(title));
        }
        if shown.is_empty() {
            b.push(Block::Note("No question was put to the room.".to_owned()));
            continue;
        }
        b.push(Block::Table(table(shown, ended)));
    }
    if q.not_shown > 0 {
        b.push(Block::Note(format!(
            "{} not shown: pending or hidden by the moderator.",
            plural(q.not_shown, "question is", "questions are")
        )));
    }
    if !q.unanswered.is_empty() {
        b.push(Block::Heading(if ended {
            "Unanswered at the end: to follow up".to_owned()
        } else {
            "Not answered yet".to_owned()
        }));
        b.push(Block::Table(table(&q.unanswered, ended)));
    }
}

fn table(questions: &[QuestionItem], ended: bool) -> Table {
    let mut t = Table::new(
        &["Question", "Votes", "Answered", "Sent"],
        &[false, true, false, false],
    );
    for x in questions {
        t.row(vec![
            x.text.clone(),
            num(x.votes),
            if x.answered {
                "Yes".to_owned()
            } else if ended {
                "Unanswered".to_owned()
            } else {
                "Not yet".to_owned()
            },
            if x.advance {
                "In advance".to_owned()
            } else {
                "On the day".to_owned()
            },
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::QuestionRecord;

    fn question(text: &str, session: Option<&str>, state: &str, advance: bool) -> QuestionRecord {
        QuestionRecord {
            text: text.to_owned(),
            votes: 1,
            state: state.to_owned(),
            flagged: false,
            session: session.map(str::to_owned),
            advance,
        }
    }

    #[test]
    fn questions_are_grouped_by_session_with_those_to_follow_up() {
        let mut snapshot: Snapshot = serde_json::from_value(serde_json::json!({
            "code": "ABCDEF", "title": "T", "series": null, "starts_at": null,
            "created_at": "2026-11-23T09:00:00Z", "ended_at": null, "state": "ended",
            "min_group_size": 5, "organisations": [], "sectors": [], "rooms": [],
            "sessions": [{"key": "keynote", "title": "Keynote", "room": null},
                         {"key": "panel", "title": "Panel", "room": null}],
            "activities": [], "attendees": [], "peak_present": 0, "presence": [],
            "questions": [], "cards": []
        }))
        .expect("snapshot");
        snapshot.questions = vec![
            question("Parking?", None, "approved", true),
            question("Slides?", Some("keynote"), "answered", true),
            question("Funding?", Some("keynote"), "approved", false),
            question("Hidden", Some("keynote"), "hidden", false),
        ];
        let q = summarise(&snapshot);
        assert_eq!((q.asked, q.advance, q.not_shown), (4, 2, 1));
        let titles: Vec<&str> = q.by_session.iter().map(|g| g.title.as_str()).collect();
        assert_eq!(
            titles,
            [WHOLE_EVENT, "Keynote"],
            "the panel had no questions"
        );
        let keynote = &q.by_session[1];
        assert_eq!((keynote.asked, keynote.advance), (3, 1));
        assert_eq!((keynote.answered, keynote.unanswered), (1, 1));
        let follow_up: Vec<&str> = q.unanswered.iter().map(|x| x.text.as_str()).collect();
        assert_eq!(follow_up, ["Funding?", "Parking?"]);

        // An edit took the panel out after it had a question: the question stays listed.
        snapshot.sessions.retain(|s| s.key != "panel");
        snapshot
            .questions
            .push(question("Who chairs it?", Some("panel"), "approved", false));
        let q = summarise(&snapshot);
        let last = q.by_session.last().expect("a group");
        assert_eq!(last.title, "A session no longer in the programme (panel)");
        assert_eq!(last.shown[0].text, "Who chairs it?");
    }
}
