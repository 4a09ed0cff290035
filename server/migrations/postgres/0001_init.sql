-- Joinup schema for PostgreSQL, version 1: the same tables as ../0001_init.sql (SQLite).
-- Never edit a landed migration: add a new one, here and beside the SQLite ones.
--
-- Every integer is BIGINT, so rows decode as i64 exactly as they do from SQLite; flags are
-- 0/1 BIGINTs, not BOOLEAN, for the same reason. Every text column is COLLATE "C": byte
-- order, like SQLite's BINARY, so comparisons of RFC 3339 times and ORDER BY agree.
--
-- Privacy: nothing here records an IP address, a user agent or a time an answer was given.
-- Attendees are known only by a random id and the SHA-256 of their token.

CREATE TABLE events (
    code                 TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    title                TEXT COLLATE "C" NOT NULL,
    series               TEXT COLLATE "C",
    spec                 TEXT COLLATE "C" NOT NULL,
    host_token_hash      TEXT COLLATE "C" NOT NULL,
    presenter_token_hash TEXT COLLATE "C" NOT NULL,
    state                TEXT COLLATE "C" NOT NULL DEFAULT 'live',
    focus                TEXT COLLATE "C",
    created_at           TEXT COLLATE "C" NOT NULL,
    ended_at             TEXT COLLATE "C",
    purged_at            TEXT COLLATE "C"
);
CREATE INDEX events_by_series ON events (series);

CREATE TABLE activity_states (
    event    TEXT COLLATE "C" NOT NULL REFERENCES events (code) ON DELETE CASCADE,
    activity TEXT COLLATE "C" NOT NULL,
    state    TEXT COLLATE "C" NOT NULL,
    revealed BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (event, activity)
);

CREATE TABLE attendees (
    event        TEXT COLLATE "C" NOT NULL REFERENCES events (code) ON DELETE CASCADE,
    id           BIGINT NOT NULL,
    token_hash   TEXT COLLATE "C" NOT NULL,
    organisation TEXT COLLATE "C",
    sector       TEXT COLLATE "C",
    room         TEXT COLLATE "C",
    PRIMARY KEY (event, id)
);
CREATE UNIQUE INDEX attendees_by_token ON attendees (event, token_hash);

-- One row per attendee and activity: the current answer. `item` and `state` are set for
-- text answers, which the host moderates.
CREATE TABLE answers (
    event    TEXT COLLATE "C" NOT NULL,
    attendee BIGINT NOT NULL,
    activity TEXT COLLATE "C" NOT NULL,
    value    TEXT COLLATE "C" NOT NULL,
    item     TEXT COLLATE "C",
    state    TEXT COLLATE "C",
    flagged  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (event, attendee, activity)
);

-- Every client message id ever acknowledged, so a resend is acknowledged again and has no
-- further effect, even after a restart.
CREATE TABLE receipts (
    event    TEXT COLLATE "C" NOT NULL,
    attendee BIGINT NOT NULL,
    msg      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (event, attendee, msg)
);

CREATE TABLE questions (
    event    TEXT COLLATE "C" NOT NULL,
    id       TEXT COLLATE "C" NOT NULL,
    seq      BIGINT NOT NULL,
    attendee BIGINT NOT NULL,
    text     TEXT COLLATE "C" NOT NULL,
    state    TEXT COLLATE "C" NOT NULL,
    flagged  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (event, id)
);

CREATE TABLE votes (
    event    TEXT COLLATE "C" NOT NULL,
    question TEXT COLLATE "C" NOT NULL,
    attendee BIGINT NOT NULL,
    PRIMARY KEY (event, question, attendee)
);

CREATE TABLE cards (
    event    TEXT COLLATE "C" NOT NULL,
    attendee BIGINT NOT NULL,
    id       TEXT COLLATE "C" NOT NULL,
    seq      BIGINT NOT NULL,
    card     TEXT COLLATE "C" NOT NULL,
    state    TEXT COLLATE "C" NOT NULL,
    flagged  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (event, attendee)
);

-- Attendance over the day: one sample a minute while anything changes.
CREATE TABLE presence_samples (
    event   TEXT COLLATE "C" NOT NULL,
    minute  TEXT COLLATE "C" NOT NULL,
    present BIGINT NOT NULL,
    peak    BIGINT NOT NULL,
    joined  BIGINT NOT NULL,
    PRIMARY KEY (event, minute)
);

CREATE TABLE settings (
    key   TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    value TEXT COLLATE "C" NOT NULL
);
