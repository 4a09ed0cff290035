-- An answer carries its own message id (as in the SQLite migration of the same number):
-- one row per answer instead of an answer and a receipt. `receipts` keeps the ids of the
-- other messages; `received_messages` is every stored message id of an event, from both.

ALTER TABLE answers ADD COLUMN msg TEXT COLLATE "C";

CREATE VIEW received_messages AS
    SELECT event, attendee, msg FROM receipts
    UNION ALL
    SELECT event, attendee, msg FROM answers WHERE msg IS NOT NULL;
