-- Answers and receipts become append-only logs (as in the SQLite migration of the same
-- number): rows appended in id order fill a few pages per group commit instead of one
-- scattered index leaf per answer. An answer that changes is a new row; the latest row of
-- an (event, attendee, activity) is the answer (`latest_answers`).

CREATE TABLE answer_log (
    id       BIGINT GENERATED ALWAYS AS IDENTITY,
    event    TEXT COLLATE "C" NOT NULL,
    attendee BIGINT NOT NULL,
    activity TEXT COLLATE "C" NOT NULL,
    value    TEXT COLLATE "C" NOT NULL,
    item     TEXT COLLATE "C",
    state    TEXT COLLATE "C",
    flagged  BIGINT NOT NULL DEFAULT 0
);
INSERT INTO answer_log (event, attendee, activity, value, item, state, flagged)
    SELECT event, attendee, activity, value, item, state, flagged FROM answers
    ORDER BY event, attendee, activity;
DROP TABLE answers;
ALTER TABLE answer_log RENAME TO answers;
CREATE INDEX answers_by_event ON answers (event, id);
CREATE INDEX answers_by_item ON answers (event, item) WHERE item IS NOT NULL;

CREATE VIEW latest_answers AS
    SELECT event, attendee, activity, value, item, state, flagged FROM (
        SELECT event, attendee, activity, value, item, state, flagged,
               row_number() OVER (PARTITION BY event, attendee, activity ORDER BY id DESC) AS newest
        FROM answers
    ) AS ranked
    WHERE newest = 1;

CREATE TABLE receipt_log (
    id       BIGINT GENERATED ALWAYS AS IDENTITY,
    event    TEXT COLLATE "C" NOT NULL,
    attendee BIGINT NOT NULL,
    msg      TEXT COLLATE "C" NOT NULL
);
INSERT INTO receipt_log (event, attendee, msg)
    SELECT event, attendee, msg FROM receipts ORDER BY event, attendee, msg;
DROP TABLE receipts;
ALTER TABLE receipt_log RENAME TO receipts;
CREATE INDEX receipts_by_event ON receipts (event, id);
