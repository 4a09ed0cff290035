-- Joinup schema, version 1. Never edit a landed migration: add a new one.
--
-- Privacy: nothing here records an IP address, a user agent or a time an answer was given.
-- Attendees are known only by a random id and the SHA-256 of their token.

CREATE TABLE events (
    code                 TEXT PRIMARY KEY NOT NULL,
    title                TEXT NOT NULL,
    series               TEXT,
    spec                 TEXT NOT NULL,
    host_token_hash      TEXT NOT NULL,
    presenter_token_hash TEXT NOT NULL,
    state                TEXT NOT NULL DEFAULT 'live',
    focus                TEXT,
    created_at           TEXT NOT NULL,
    ended_at             TEXT,
    purged_at            TEXT
);
CREATE INDEX events_by_series ON events (series);

CREATE TABLE activity_states (
    event    TEXT NOT NULL REFERENCES events (code) ON DELETE CASCADE,
    activity TEXT NOT NULL,
    state    TEXT NOT NULL,
    revealed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event, activity)
) WITHOUT ROWID;

CREATE TABLE attendees (
    event        TEXT NOT NULL REFERENCES events (code) ON DELETE CASCADE,
    id           INTEGER NOT NULL,
    token_hash   TEXT NOT NULL,
    organisation TEXT,
    sector       TEXT,
    room         TEXT,
    PRIMARY KEY (event, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX attendees_by_token ON attendees (event, token_hash);

-- One row per attendee and activity: the current answer. `item` and `state` are set for
-- text answers, which the host moderates.
CREATE TABLE answers (
    event    TEXT NOT NULL,
    attendee INTEGER NOT NULL,
    activity TEXT NOT NULL,
    value    TEXT NOT NULL,
    item     TEXT,
    state    TEXT,
    flagged  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event, attendee, activity)
) WITHOUT ROWID;

-- Every client message id ever acknowledged, so a resend is acknowledged again and has no
-- further effect, even after a restart.
CREATE TABLE receipts (
    event    TEXT NOT NULL,
    attendee INTEGER NOT NULL,
    msg      TEXT NOT NULL,
    PRIMARY KEY (event, attendee, msg)
) WITHOUT ROWID;

CREATE TABLE questions (
    event    TEXT NOT NULL,
    id       TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    attendee INTEGER NOT NULL,
    text     TEXT NOT NULL,
    state    TEXT NOT NULL,
    flagged  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event, id)
) WITHOUT ROWID;

CREATE TABLE votes (
    event    TEXT NOT NULL,
    question TEXT NOT NULL,
    attendee INTEGER NOT NULL,
    PRIMARY KEY (event, question, attendee)
) WITHOUT ROWID;

CREATE TABLE cards (
    event    TEXT NOT NULL,
    attendee INTEGER NOT NULL,
    id       TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    card     TEXT NOT NULL,
    state    TEXT NOT NULL,
    flagged  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event, attendee)
) WITHOUT ROWID;

-- Attendance over the day: one sample a minute while anything changes.
CREATE TABLE presence_samples (
    event   TEXT NOT NULL,
    minute  TEXT NOT NULL,
    present INTEGER NOT NULL,
    peak    INTEGER NOT NULL,
    joined  INTEGER NOT NULL,
    PRIMARY KEY (event, minute)
) WITHOUT ROWID;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
