-- The completion follow-up call may be recorded as unreachable: each failed attempt is
-- kept, and after the center's number of attempts the call is done, unreachable.
ALTER TABLE feedback_settings
    ADD COLUMN follow_up_attempts INTEGER NOT NULL DEFAULT 3
        CHECK (follow_up_attempts BETWEEN 1 AND 20);
ALTER TABLE follow_ups ADD COLUMN unreachable BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE follow_up_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    follow_up_id TEXT NOT NULL REFERENCES follow_ups (id),
    attempted_by TEXT NOT NULL REFERENCES users (id),
    attempted_at TIMESTAMP NOT NULL,
    note TEXT
);
CREATE INDEX follow_up_attempts_follow_up ON follow_up_attempts (follow_up_id, attempted_at);
