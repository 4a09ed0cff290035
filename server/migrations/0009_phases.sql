-- Phases and a Q&A per session (docs/protocol.md, "Phases").
--
-- events.state is now 'live', 'after' (the host ended the live part; the evaluation window
-- is open until ended_at, which is then the end of that window, so retention counts from
-- there) or 'ended'. started_at: when a host started the event before its starts_at.
-- current_sessions: the sessions running now, as JSON {"plenary": KEY|null, "rooms": {...}},
-- kept like the focus so a restart keeps them.
-- questions.session: the session a question belongs to (NULL: the event as a whole);
-- questions.advance: 1 when it was asked before the live part.

ALTER TABLE events ADD COLUMN started_at TEXT;
ALTER TABLE events ADD COLUMN current_sessions TEXT;
ALTER TABLE questions ADD COLUMN session TEXT;
ALTER TABLE questions ADD COLUMN advance INTEGER NOT NULL DEFAULT 0;
