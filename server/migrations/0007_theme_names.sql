-- The host's names for the report's themes of open text: a theme renamed, or several merged
-- by giving them one name. Not answers: kept after a purge, deleted with the event.

CREATE TABLE theme_names (
    event TEXT NOT NULL REFERENCES events (code) ON DELETE CASCADE,
    theme TEXT NOT NULL,
    name  TEXT NOT NULL,
    PRIMARY KEY (event, theme)
) WITHOUT ROWID;
