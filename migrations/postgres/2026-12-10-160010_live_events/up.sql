-- What the live event stream (GET /api/v1/events) announces: one row per order, ticket or
-- remittance changed by a transaction, written in that transaction (a rolled-back change
-- leaves none). The id is the stream's event id: rows are inserted at the end of the
-- transaction under a transaction advisory lock, so ids grow in commit order and a client
-- that reconnects with Last-Event-ID is replayed exactly what it missed. Old rows are
-- pruned (a day is kept).
CREATE TABLE live_events (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('order', 'ticket', 'remittance')),
    entity_id TEXT NOT NULL,
    center_id TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    action TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    -- the technicians (user ids, space-separated) who may see it: those on the order
    -- (before and after the change), the one who handed over the remittance
    audience TEXT NOT NULL DEFAULT ''
);
CREATE INDEX live_events_center ON live_events (center_id, id);
CREATE INDEX live_events_at ON live_events (at);
