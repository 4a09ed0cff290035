-- Reports: when an edition starts (to find last year's edition of a series), and the
-- aggregates kept after `joinup purge` deletes the raw answers and attendee tokens.
-- The PostgreSQL twin of ../0002_reports.sql.

ALTER TABLE events ADD COLUMN starts_at TEXT COLLATE "C";

CREATE TABLE summaries (
    event     TEXT COLLATE "C" PRIMARY KEY NOT NULL REFERENCES events (code) ON DELETE CASCADE,
    summary   TEXT COLLATE "C" NOT NULL,
    purged_at TEXT COLLATE "C" NOT NULL
);
