-- An answer counts in the sector (and under the organisation) its attendee had when they
-- gave it (as in the SQLite migration of the same number): a closed activity's breakdown by
-- sector never changes after it closes. Rows written before this migration take the
-- attendee's profile as it stands now.

ALTER TABLE answers ADD COLUMN organisation TEXT COLLATE "C";
ALTER TABLE answers ADD COLUMN sector TEXT COLLATE "C";

UPDATE answers SET organisation = a.organisation, sector = a.sector
    FROM attendees AS a
    WHERE a.event = answers.event AND a.id = answers.attendee;
