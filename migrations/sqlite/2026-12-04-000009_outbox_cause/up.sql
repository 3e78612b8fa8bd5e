-- A message remembers what caused it: the order event (or payment) and a snapshot of the
-- attached document as of that moment, printed from the snapshot however late it is sent.
-- A notice that is no longer true when its turn comes (the visit announced is over, the
-- payment reversed) is `skipped`, saying why, instead of sent.
-- SQLite cannot change a CHECK in place: the table is rebuilt (outbox_attempts refers to
-- it by name; the foreign keys are checked at commit, after the rename).
PRAGMA defer_foreign_keys = ON;
CREATE TABLE outbox_messages_new (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    order_id TEXT,
    payment_id TEXT,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    attachment TEXT CHECK (attachment IN ('work_order', 'receipt')),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dead', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_by TEXT,
    claimed_until TIMESTAMP,
    last_error TEXT,
    sent_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    cause_event_id TEXT,
    snapshot TEXT,
    skip_reason TEXT
);
INSERT INTO outbox_messages_new (id, kind, dedupe_key, center_id, order_id, payment_id, recipients, subject, body_text, body_html, attachment, status, attempts, next_attempt_at, claimed_by, claimed_until, last_error, sent_at, created_at, updated_at)
    SELECT id, kind, dedupe_key, center_id, order_id, payment_id, recipients, subject, body_text, body_html, attachment, status, attempts, next_attempt_at, claimed_by, claimed_until, last_error, sent_at, created_at, updated_at FROM outbox_messages;
DROP TABLE outbox_messages;
ALTER TABLE outbox_messages_new RENAME TO outbox_messages;
CREATE INDEX outbox_messages_due ON outbox_messages (status, next_attempt_at);
CREATE INDEX outbox_messages_created ON outbox_messages (created_at, id);
