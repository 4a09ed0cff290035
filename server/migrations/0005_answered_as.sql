-- An answer counts in the sector (and under the organisation) its attendee had when they
-- gave it, not the one they moved to later: a closed activity's breakdown by sector never
-- changes after it closes, and nobody can move fake attendees into a small sector after the
-- close to single out the one real person there (contract v1.1).
--
-- Rows written before this migration take the attendee's profile as it stands now, the
-- best that is known of them.

ALTER TABLE answers ADD COLUMN organisation TEXT;
ALTER TABLE answers ADD COLUMN sector TEXT;

UPDATE answers SET
    organisation = (SELECT a.organisation FROM attendees AS a
                    WHERE a.event = answers.event AND a.id = answers.attendee),
    sector = (SELECT a.sector FROM attendees AS a
              WHERE a.event = answers.event AND a.id = answers.attendee);
