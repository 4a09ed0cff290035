//! What an event's live state looks like to each audience: attendance (totals for the
//! presenter, breakdowns for hosts), tallies (by sector only for hosts, after the
//! small-group rule, cached per generation), the questions and texts shown, and the cards.
//!
//! Read-only: nothing here changes the state but the breakdown cache.

use std::collections::BTreeMap;

use super::{
    ActState, Breakdown, CardItem, EventState, QUESTIONS_LISTED, QUESTIONS_SHOWN, Question,
    TextItem, WALL_SHOWN,
};
use crate::domain::privacy::{self, NOT_GIVEN};
use crate::domain::safeguarding::Concern;
use crate::domain::spec::Activity;
use crate::domain::{AnswerValue, Event, Tally};
use crate::protocol::server::{
    CardView, HostAttendance, PresenterAttendance, PublicQuestion, Text, WallText,
};
use crate::protocol::tally::TallyView;

impl EventState {
    /// Attendance as the presenter, seen by the whole room, gets it: the totals only
    /// (docs/privacy.md). A breakdown by organisation or sector of a handful of people would say who is
    /// in the room.
    pub fn presenter_attendance(&self) -> PresenterAttendance {
        PresenterAttendance {
            joined: self.attendees.len(),
            present: self.present,
        }
    }

    /// Attendance as hosts get it: totals, the peak, and joined attendees by their current
    /// organisation and sector, whole (attendance is not an answer).
    pub fn attendance(&self) -> HostAttendance<'_> {
        HostAttendance {
            by_organisation: &self.by_organisation,
            by_sector: &self.by_sector,
            joined: self.attendees.len(),
            peak: self.peak,
            present: self.present,
            rooms: crate::hub::rooms::present_by_room(&self.attendees),
        }
    }

    /// The tally as attendees and the presenter see it: never a breakdown by sector.
    pub fn public_tally(&self, act: usize) -> TallyView<'_> {
        TallyView::public(&self.activities[act].tally)
    }

    /// The tally as hosts see it: a closed choice or scale carries `by_sector`, with the
    /// small-group rule applied, each respondent counted in the sector they answered in,
    /// once none of its answers is still on its way to disk.
    pub fn host_tally(&self, event: &Event, act: usize) -> TallyView<'_> {
        let live = &self.activities[act];
        let mut view = TallyView::public(&live.tally);
        if live.state == ActState::Closed
            && event.activities[act].kind.has_breakdown()
            && !self.answers_in_flight.contains_key(&act)
        {
            let mut cache = self.breakdowns.borrow_mut();
            let generation = self.breakdown_generation;
            let by_sector = match cache.get(&act) {
                Some((at, groups)) if *at == generation => groups,
                _ => {
                    let groups = self.by_sector_tallies(&event.activities[act], act);
                    &cache
                        .entry(act)
                        .insert_entry((generation, groups))
                        .into_mut()
                        .1
                }
            };
            let k = u64::from(event.spec.min_group_size);
            view.by_sector = Some(privacy::breakdown(by_sector, k));
        }
        view
    }

    fn by_sector_tallies(&self, activity: &Activity, act: usize) -> Breakdown {
        let mut groups: BTreeMap<String, Tally> = BTreeMap::new();
        for (who, attendee) in self.attendees.iter().enumerate() {
            if let Some(value) = attendee.answers.get(&act) {
                let sector = self
                    .answered_under
                    .get(&(who, act))
                    .and_then(|u| u.sector.as_deref())
                    .unwrap_or(NOT_GIVEN);
                groups
                    .entry(sector.to_owned())
                    .or_insert_with(|| Tally::new(&activity.kind))
                    .add(value, attendee.organisation.as_deref());
            }
        }
        groups
    }

    /// Whether an attendee may see an activity: everyone for plenary sessions, only those in
    /// the room for a break-out.
    pub fn can_see(&self, attendee: usize, activity: &Activity) -> bool {
        activity.room.is_none() || activity.room == self.attendees[attendee].room
    }

    /// The questions attendees and the presenter are sent from `sessions` (keys, `None` for
    /// the event as a whole, in the order to list them): of those they may see (approved or
    /// answered), the [`QUESTIONS_SHOWN`] of each session with most votes, then oldest, at
    /// most [`QUESTIONS_LISTED`] in all; and how many they may see in those sessions. Hosts
    /// are sent every question.
    pub fn top_questions(&self, sessions: &[Option<&str>]) -> (Vec<PublicQuestion<'_>>, usize) {
        let mut total = 0;
        let mut shown = Vec::new();
        for &session in sessions {
            let mut visible: Vec<&Question> = self
                .questions
                .iter()
                .filter(|q| q.state.visible() && q.session.as_deref() == session)
                .collect();
            total += visible.len();
            let order =
                |a: &&Question, b: &&Question| b.votes.cmp(&a.votes).then(a.seq.cmp(&b.seq));
            if visible.len() > QUESTIONS_SHOWN {
                visible.select_nth_unstable_by(QUESTIONS_SHOWN, order);
                visible.truncate(QUESTIONS_SHOWN);
            }
            visible.sort_by(order);
            let room = QUESTIONS_LISTED.saturating_sub(shown.len());
            shown.extend(visible.iter().take(room).map(|q| q.public_view()));
        }
        (shown, total)
    }

    /// The text wall of one activity as the presenter shows it: its approved texts, newest
    /// first, at most [`WALL_SHOWN`]. Pending, hidden and flagged-but-unapproved texts never
    /// reach the projector.
    pub fn wall_texts<'a>(&'a self, event: &'a Event, act: usize) -> Vec<WallText<'a>> {
        let mut shown: Vec<&TextItem> = self
            .texts
            .iter()
            .filter(|item| item.activity == act && item.state.visible())
            .collect();
        shown.sort_unstable_by_key(|item| std::cmp::Reverse(item.arrived));
        shown.truncate(WALL_SHOWN);
        shown
            .into_iter()
            .map(|item| {
                let text = self.text_view(event, item, None);
                WallText {
                    id: text.id,
                    text: text.text,
                }
            })
            .collect()
    }

    pub fn visible_cards(&self) -> Vec<CardView<'_>> {
        let mut visible: Vec<&CardItem> = self.cards.iter().filter(|c| c.state.visible()).collect();
        visible.sort_by_key(|c| c.seq);
        visible.iter().map(|c| c.public_view()).collect()
    }

    /// Text answers as hosts see them: the current ones, with moderation state.
    pub fn text_view<'a>(
        &'a self,
        event: &'a Event,
        item: &'a TextItem,
        replaces: Option<&'a str>,
    ) -> Text<'a> {
        let text = match self.attendees[item.attendee].answers.get(&item.activity) {
            Some(AnswerValue::Text(t)) => t.as_str(),
            _ => "",
        };
        Text {
            activity: event.activities[item.activity].key.as_str(),
            concern: item.concern.map(Concern::as_str),
            flagged: item.flagged,
            id: &item.id,
            replaces,
            state: item.state.as_str(),
            text,
        }
    }

    /// The current texts, in the order they arrived.
    pub fn current_texts<'a>(&'a self, event: &'a Event) -> Vec<Text<'a>> {
        let mut current: Vec<&TextItem> = self.texts.iter().collect();
        current.sort_unstable_by_key(|item| item.arrived);
        current
            .into_iter()
            .map(|item| self.text_view(event, item, None))
            .collect()
    }
}
