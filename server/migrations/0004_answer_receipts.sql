-- An answer carries its own message id.
--
-- Every answer was two rows, the answer and its receipt, each in a table of its own with an
-- index by event: four b-tree inserts per answer, the larger part of SQLite's work at load.
-- The answer row now holds the id of the message that stored it (`msg`), and `receipts`
-- keeps the ids of the other messages (profiles, questions, votes, cards). Rows written
-- before this migration have no `msg`; their receipts stay in `receipts`.
-- `received_messages` is every stored message id of an event, from both.

ALTER TABLE answers ADD COLUMN msg TEXT;

CREATE VIEW received_messages AS
    SELECT event, attendee, msg FROM receipts
    UNION ALL
    SELECT event, attendee, msg FROM answers WHERE msg IS NOT NULL;
