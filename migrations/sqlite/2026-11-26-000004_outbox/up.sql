-- The transactional outbox: an e-mail is written in the same transaction as the change
-- that causes it, and delivered later by a worker (retries with exponential backoff,
-- every attempt recorded). A change that rolls back leaves no message.
CREATE TABLE outbox_messages (
    id TEXT PRIMARY KEY NOT NULL,              -- also the Message-ID's local part
    -- order_submitted, order_assigned, order_scheduled, order_completed,
    -- payment_received, deadline_passed
    kind TEXT NOT NULL,
    -- at most one message per key (a deadline noticed by several instances)
    dedupe_key TEXT UNIQUE,
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    order_id TEXT,
    payment_id TEXT,
    recipients TEXT NOT NULL,                  -- JSON array of addresses
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    -- a PDF printed when the message is sent: work_order or receipt
    attachment TEXT CHECK (attachment IN ('work_order', 'receipt')),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    -- a worker's claim; a claim that expires (the worker died) is taken over
    claimed_by TEXT,
    claimed_until TIMESTAMP,
    last_error TEXT,
    sent_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_messages_due ON outbox_messages (status, next_attempt_at);
CREATE INDEX outbox_messages_created ON outbox_messages (created_at, id);

-- Every delivery attempt.
CREATE TABLE outbox_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    message_id TEXT NOT NULL REFERENCES outbox_messages (id),
    attempt INTEGER NOT NULL,
    worker TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    duration_ms BIGINT NOT NULL,
    ok BOOLEAN NOT NULL,
    error TEXT
);
CREATE INDEX outbox_attempts_message ON outbox_attempts (message_id, attempt);
