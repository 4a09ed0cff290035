-- Answers and receipts become append-only logs.
--
-- Keyed by (event, attendee, ...), every group commit of a busy event touched one b-tree
-- leaf per answer, scattered over the whole table: about two 4 KiB pages written to the
-- WAL per answer. Appended by rowid, a commit of a thousand answers fills a few dozen
-- pages. An answer that changes is a new row; the latest row of an (event, attendee,
-- activity) is the answer (`latest_answers`), and the server keeps the last one it reads
-- in id order. Receipts are deduplicated in memory by the event's owner, which loads them
-- at start; a duplicate row (a message stored twice) would be harmless, and the load
-- generator's correctness check counts them.

CREATE TABLE answer_log (
    id       INTEGER PRIMARY KEY,
    event    TEXT NOT NULL,
    attendee INTEGER NOT NULL,
    activity TEXT NOT NULL,
    value    TEXT NOT NULL,
    item     TEXT,
    state    TEXT,
    flagged  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO answer_log (event, attendee, activity, value, item, state, flagged)
    SELECT event, attendee, activity, value, item, state, flagged FROM answers
    ORDER BY event, attendee, activity;
DROP TABLE answers;
ALTER TABLE answer_log RENAME TO answers;
CREATE INDEX answers_by_event ON answers (event);
-- Moderation finds a text answer by its item id.
CREATE INDEX answers_by_item ON answers (event, item) WHERE item IS NOT NULL;

CREATE VIEW latest_answers AS
    SELECT event, attendee, activity, value, item, state, flagged FROM (
        SELECT event, attendee, activity, value, item, state, flagged,
               row_number() OVER (PARTITION BY event, attendee, activity ORDER BY id DESC) AS newest
        FROM answers
    ) AS ranked
    WHERE newest = 1;

CREATE TABLE receipt_log (
    id       INTEGER PRIMARY KEY,
    event    TEXT NOT NULL,
    attendee INTEGER NOT NULL,
    msg      TEXT NOT NULL
);
INSERT INTO receipt_log (event, attendee, msg)
    SELECT event, attendee, msg FROM receipts ORDER BY event, attendee, msg;
DROP TABLE receipts;
ALTER TABLE receipt_log RENAME TO receipts;
CREATE INDEX receipts_by_event ON receipts (event);
