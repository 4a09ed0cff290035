-- Reports: when an edition starts (to find last year's edition of a series), and the
-- aggregates kept after `joinup purge` deletes the raw answers and attendee tokens.

ALTER TABLE events ADD COLUMN starts_at TEXT;

CREATE TABLE summaries (
    event     TEXT PRIMARY KEY NOT NULL REFERENCES events (code) ON DELETE CASCADE,
    summary   TEXT NOT NULL,
    purged_at TEXT NOT NULL
);
