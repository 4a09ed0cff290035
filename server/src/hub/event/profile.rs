//! An attendee's profile (organisation, sector, room): checking a change against the
//! event, and applying it: the attendance counts, pledges signed on behalf of the
//! organisation, and the activities a room change brings into or out of view.
//!
//! A profile is set by `hello` and changed by `profile` ([`super::attendee`]).

use std::collections::HashMap;
use std::sync::Arc;

use super::Actor;
use crate::domain::{AnswerValue, names};
use crate::hub::state::ActState;
use crate::protocol::ErrorCode;
use crate::protocol::server;
use crate::storage::Write;

/// The longest organisation or sector name an attendee may type.
const MAX_PROFILE_FIELD: usize = 120;

/// A profile change, resolved against the event: `None` leaves a field as it is.
#[derive(Default)]
pub(super) struct ProfileChange {
    organisation: Option<Option<String>>,
    sector: Option<Option<String>>,
    room: Option<Option<String>>,
}

/// Why a profile change is refused: the error to send.
type Refused = (ErrorCode, String);

/// A name an attendee typed, not in the event's list: the spelling already given for it if
/// any (by its folded form), else `tidy` while fewer than `most` have been given.
fn typed_name(
    given: &HashMap<String, String>,
    tidy: String,
    most: usize,
    too_many: impl FnOnce() -> String,
) -> Result<String, Refused> {
    match given.get(&names::fold(&tidy)) {
        Some(known) => Ok(known.clone()),
        None if given.len() >= most => Err((ErrorCode::LimitReached, too_many())),
        None => Ok(tidy),
    }
}

impl Actor {
    /// Checks the organisation, sector and room an attendee chose against the event:
    /// `Err` with the error to send when they do not fit.
    pub(super) fn resolve_profile(
        &self,
        organisation: Option<&str>,
        sector: Option<&str>,
        room: Option<&str>,
    ) -> Result<ProfileChange, Refused> {
        let mut change = ProfileChange::default();
        if let Some(typed) = organisation {
            self.resolve_organisation(typed, sector.is_none(), &mut change)?;
        }
        if let Some(typed) = sector {
            change.sector = Some(self.resolve_sector(typed)?);
        }
        if let Some(room) = room {
            change.room = Some(self.resolve_room(room)?);
        }
        Ok(change)
    }

    /// A registered organisation also sets its sector, unless the attendee chose one.
    fn resolve_organisation(
        &self,
        typed: &str,
        with_sector: bool,
        change: &mut ProfileChange,
    ) -> Result<(), Refused> {
        let event = &self.info.event;
        let invalid = |message: String| (ErrorCode::InvalidValue, message);
        let tidy = names::tidy(typed);
        if tidy.is_empty() {
            change.organisation = Some(None);
        } else if let Some(registered) = event.registered_organisation(&tidy) {
            change.organisation = Some(Some(registered.name.clone()));
            if with_sector {
                change.sector = Some(Some(registered.sector.clone()));
            }
        } else if !event.spec.allow_other_organisation {
            return Err(invalid(format!(
                "{tidy:?} is not one of this event's organisations"
            )));
        } else if tidy.chars().count() > MAX_PROFILE_FIELD {
            return Err(invalid(format!(
                "an organisation name is at most {MAX_PROFILE_FIELD} characters"
            )));
        } else {
            let most = event.spec.max_other_organisations as usize;
            let name = typed_name(&self.state.other_organisations, tidy, most, || {
                format!(
                    "this event already has {most} organisation names typed by attendees; choose one of the event's organisations or one already given"
                )
            })?;
            change.organisation = Some(Some(name));
        }
        Ok(())
    }

    fn resolve_sector(&self, typed: &str) -> Result<Option<String>, Refused> {
        let event = &self.info.event;
        let tidy = names::tidy(typed);
        if tidy.is_empty() {
            Ok(None)
        } else if let Some(known) = event.sector(&tidy) {
            Ok(Some(known.to_owned()))
        } else if event.spec.sectors.is_empty() && tidy.chars().count() <= MAX_PROFILE_FIELD {
            let most = event.spec.max_other_sectors as usize;
            let name = typed_name(&self.state.other_sectors, tidy, most, || {
                format!(
                    "this event already has {most} sector names typed by attendees; choose one already given"
                )
            })?;
            Ok(Some(name))
        } else {
            Err((
                ErrorCode::InvalidValue,
                format!(
                    "{tidy:?} is not one of this event's sectors: {}",
                    event.spec.sectors.join(", ")
                ),
            ))
        }
    }

    fn resolve_room(&self, room: &str) -> Result<Option<String>, Refused> {
        let event = &self.info.event;
        if room.is_empty() {
            Ok(None)
        } else if event.has_room(room) {
            Ok(Some(room.to_owned()))
        } else {
            Err((
                ErrorCode::InvalidValue,
                format!(
                    "{room:?} is not a room of this event: {}",
                    event.rooms.join(", ")
                ),
            ))
        }
    }

    /// Applies a resolved profile change at once: attendance counts, pledge signatures and,
    /// for a room change, `closed` and `opened` for the activities that leave or enter view.
    /// Gives the attendee's row to store, or nothing if the profile is as it was.
    pub(super) fn apply_profile(&mut self, attendee: usize, change: ProfileChange) -> Vec<Write> {
        let a = &self.state.attendees[attendee];
        let new_org = change
            .organisation
            .unwrap_or_else(|| a.organisation.clone());
        let new_sector = change.sector.unwrap_or_else(|| a.sector.clone());
        let new_room = change.room.unwrap_or_else(|| a.room.clone());
        if new_org == a.organisation && new_sector == a.sector && new_room == a.room {
            return Vec::new();
        }
        let old_org = a.organisation.clone();
        let old_room = a.room.clone();
        self.state.count_profile(attendee, false);
        {
            let a = &mut self.state.attendees[attendee];
            a.organisation = new_org.clone();
            a.sector = new_sector.clone();
            a.room = new_room.clone();
        }
        self.state.count_profile(attendee, true);
        self.dirty.attendance = true;
        self.remember_typed_names(new_org.as_ref(), new_sector.as_ref());
        if old_org != new_org {
            self.move_pledges(attendee, old_org.as_deref(), new_org.as_deref());
        }
        if old_room != new_room {
            self.change_room(attendee, old_room.as_ref(), new_room.as_ref());
            // The room's own sessions' questions come into view, another room's leave it.
            if self.info.event.spec.qa.enabled {
                let (questions, total) = self.attendee_questions(new_room.as_deref());
                let frame = server::questions(&questions, total);
                self.send_attendee(attendee, &frame);
            }
        }
        vec![self.attendee_row(attendee)]
    }

    /// Names typed by attendees, kept so the next attendee typing them gets the same
    /// spelling (and for the cap on how many there may be).
    fn remember_typed_names(&mut self, org: Option<&String>, sector: Option<&String>) {
        if let Some(org) = org
            && self.info.event.registered_organisation(org).is_none()
        {
            self.state
                .other_organisations
                .entry(names::fold(org))
                .or_insert_with(|| org.clone());
        }
        if let Some(sector) = sector
            && self.info.event.sector(sector).is_none()
        {
            self.state
                .other_sectors
                .entry(names::fold(sector))
                .or_insert_with(|| sector.clone());
        }
    }

    /// A pledge is signed on behalf of the signer's current organisation: it moves with them.
    fn move_pledges(&mut self, attendee: usize, old_org: Option<&str>, new_org: Option<&str>) {
        for (act, value) in &self.state.attendees[attendee].answers {
            if matches!(value, AnswerValue::Pledge) {
                let live = &mut self.state.activities[*act];
                live.tally.remove(value, old_org);
                live.tally.add(value, new_org);
                self.dirty.tallies.insert(*act);
                if live.revealed {
                    // Phones shown the signatures by organisation see the move too.
                    self.dirty.results.insert(*act);
                }
            }
        }
    }

    /// The attendee's phones are told of the room's activities that leave view (`closed`)
    /// and of those that come into view (`opened`, `results`).
    fn change_room(
        &mut self,
        attendee: usize,
        old_room: Option<&String>,
        new_room: Option<&String>,
    ) {
        let info = Arc::clone(&self.info);
        let event = &info.event;
        for (act, definition) in event.activities.iter().enumerate() {
            let Some(room) = &definition.room else {
                continue;
            };
            let live = &self.state.activities[act];
            if live.state != ActState::Open && !live.revealed {
                continue;
            }
            if old_room == Some(room) && live.state == ActState::Open {
                self.send_attendee(attendee, &server::closed(definition.key.as_str()));
            }
            if new_room == Some(room) {
                let live = &self.state.activities[act];
                let mut frames = Vec::new();
                if live.state == ActState::Open {
                    frames.push(server::opened(&live.json));
                }
                if live.revealed {
                    frames.push(server::results(
                        definition.key.as_str(),
                        Some(&self.state.public_tally(act)),
                    ));
                }
                for frame in frames {
                    self.send_attendee(attendee, &frame);
                }
            }
        }
    }
}
