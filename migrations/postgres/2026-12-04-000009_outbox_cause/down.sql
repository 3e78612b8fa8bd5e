UPDATE outbox_messages SET status = 'dead', last_error = skip_reason WHERE status = 'skipped';
ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_status_check;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'dead'));
ALTER TABLE outbox_messages DROP COLUMN skip_reason;
ALTER TABLE outbox_messages DROP COLUMN snapshot;
ALTER TABLE outbox_messages DROP COLUMN cause_event_id;
