-- A message remembers what caused it: the order event (or payment) and a snapshot of the
-- attached document as of that moment, printed from the snapshot however late it is sent.
-- A notice that is no longer true when its turn comes (the visit announced is over, the
-- payment reversed) is `skipped`, saying why, instead of sent.
ALTER TABLE outbox_messages ADD COLUMN cause_event_id TEXT;
ALTER TABLE outbox_messages ADD COLUMN snapshot TEXT;
ALTER TABLE outbox_messages ADD COLUMN skip_reason TEXT;
ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_status_check;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'dead', 'skipped'));
