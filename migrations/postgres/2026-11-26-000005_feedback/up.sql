-- Customer feedback: tickets (咨询/投诉/建议) with reply deadlines and their timeline,
-- follow-up calls (回访) with satisfaction scores, and per-center settings.

CREATE TABLE feedback_settings (
    center_id TEXT PRIMARY KEY NOT NULL REFERENCES service_centers (id),
    urgent_reply_minutes INTEGER NOT NULL CHECK (urgent_reply_minutes > 0),
    normal_reply_minutes INTEGER NOT NULL CHECK (normal_reply_minutes > 0),
    key_revisit_days INTEGER NOT NULL CHECK (key_revisit_days > 0),
    major_revisit_days INTEGER CHECK (major_revisit_days > 0),
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY NOT NULL,
    number TEXT NOT NULL UNIQUE,               -- TS-ZZ-2026-000001 (complaint), ZX-, JY-
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    order_id TEXT REFERENCES work_orders (id),
    kind TEXT NOT NULL CHECK (kind IN ('inquiry', 'complaint', 'suggestion')),
    channel TEXT NOT NULL CHECK (channel IN ('hotline', 'letter', 'visit', 'online', 'email')),
    urgency TEXT NOT NULL CHECK (urgency IN ('urgent', 'normal')),
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'replied', 'resolved', 'closed')),
    -- 首问负责: whoever took it owns it until it is closed or handed over
    owner_id TEXT NOT NULL REFERENCES users (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    received_at TIMESTAMP NOT NULL,
    reply_due_at TIMESTAMP NOT NULL,
    replied_at TIMESTAMP,
    reply TEXT,
    -- kept once set, even after a late reply
    breached BOOLEAN NOT NULL DEFAULT FALSE,
    escalated_at TIMESTAMP,
    resolved_at TIMESTAMP,
    resolution TEXT,
    customer_notified_at TIMESTAMP,
    customer_notice TEXT,
    closed_at TIMESTAMP,
    -- the follow-up call whose low score opened it
    follow_up_id TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tickets_center ON tickets (center_id, id);
CREATE INDEX tickets_unreplied ON tickets (breached, replied_at, reply_due_at);
CREATE INDEX tickets_kpi ON tickets (center_id, received_at);
CREATE INDEX tickets_order ON tickets (order_id);

CREATE TABLE ticket_events (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    at TIMESTAMP NOT NULL,
    actor_id TEXT REFERENCES users (id),     -- NULL: the system (a breach)
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    comment TEXT
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, at);

CREATE TABLE follow_ups (
    id TEXT PRIMARY KEY NOT NULL,
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    order_id TEXT REFERENCES work_orders (id),
    kind TEXT NOT NULL CHECK (kind IN ('completion', 'revisit')),
    status TEXT NOT NULL CHECK (status IN ('open', 'done')),
    assignee_id TEXT REFERENCES users (id),
    due_at TIMESTAMP NOT NULL,
    done_at TIMESTAMP,
    done_by TEXT REFERENCES users (id),
    score INTEGER CHECK (score BETWEEN 1 AND 5),
    comment TEXT,
    ticket_id TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- one completion call per order
CREATE UNIQUE INDEX follow_ups_order_kind ON follow_ups (order_id, kind);
CREATE INDEX follow_ups_center ON follow_ups (center_id, status, id);
CREATE INDEX follow_ups_customer ON follow_ups (customer_id, kind, status);
CREATE INDEX follow_ups_kpi ON follow_ups (center_id, done_at);
-- the KPIs read orders through these alone (index-only scans): the period's counts and
-- sums, and the wait and repair histograms in value order
CREATE INDEX work_orders_kpi ON work_orders
    (center_id, requested_at, kind, status, lead_technician_id, wait_seconds, repair_seconds);
CREATE INDEX work_orders_kpi_wait ON work_orders
    (center_id, wait_seconds, requested_at, lead_technician_id);
CREATE INDEX work_orders_kpi_repair ON work_orders
    (center_id, repair_seconds, requested_at, lead_technician_id);
-- one open revisit per customer, whichever instance's job gets there first
CREATE UNIQUE INDEX follow_ups_open_revisit ON follow_ups (customer_id)
    WHERE kind = 'revisit' AND status = 'open';
CREATE INDEX order_events_action ON order_events (action, order_id);
