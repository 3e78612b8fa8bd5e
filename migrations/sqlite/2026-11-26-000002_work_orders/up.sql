-- Work orders: install work orders (安装任务派工单) and repair service orders (维修服务单),
-- one lifecycle (src/domain/order.rs), their vehicle lines, technicians, parts used, verbal
-- approvals, timeline, and the idempotency keys of the technicians' retried actions.

-- The price list of parts (admin-managed). Prices in fen.
CREATE TABLE parts (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    unit_price_fen BIGINT NOT NULL CHECK (unit_price_fen >= 0),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE work_orders (
    id TEXT PRIMARY KEY NOT NULL,
    number TEXT NOT NULL UNIQUE,              -- AZ-ZZ-2026-000123 / WX-ZZ-2026-000045
    kind TEXT NOT NULL CHECK (kind IN ('install', 'repair')),
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'rejected',
        'assigned', 'accepted', 'ready', 'en_route', 'on_site', 'on_hold', 'completed',
        'closed', 'cancelled')),
    held_from TEXT,                           -- the state an on_hold order resumes to
    urgency TEXT NOT NULL CHECK (urgency IN ('urgent', 'normal')),
    channel TEXT NOT NULL CHECK (channel IN ('phone', 'letter', 'walk_in', 'online')),
    site_address TEXT NOT NULL,
    site_lat DOUBLE PRECISION NOT NULL,
    site_lng DOUBLE PRECISION NOT NULL,
    contact_name TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    window_start TIMESTAMP,                   -- the customer's requested time window
    window_end TIMESTAMP,
    requested_at TIMESTAMP NOT NULL,          -- when the request or call came in
    product_model TEXT,                       -- repair: the model reported
    purchase_date DATE,                       -- repair: from the terminal, or as reported
    fault_symptoms TEXT,                      -- repair: 故障现象
    terminal_id TEXT REFERENCES terminals (id), -- repair: the unit concerned, when known
    warranty_in BOOLEAN,                      -- repair: the verdict at intake
    warranty_ends_on DATE,
    notes TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    approved_by TEXT REFERENCES users (id),
    approved_at TIMESTAMP,
    reject_reason TEXT,
    lead_technician_id TEXT REFERENCES users (id),
    scheduled_at TIMESTAMP,
    outsourcing_reason TEXT,                  -- 外协: why no own technician, approved by
    outsourcing_approved_by TEXT REFERENCES users (id),
    readiness TEXT,                           -- JSON array of the ticked readiness items
    ready_at TIMESTAMP,
    departed_at TIMESTAMP,
    arrived_at TIMESTAMP,
    arrived_lat DOUBLE PRECISION,
    arrived_lng DOUBLE PRECISION,
    completed_at TIMESTAMP,
    closed_at TIMESTAMP,
    cancel_reason TEXT,
    signoff_name TEXT,
    signoff_at TIMESTAMP,
    signoff_image TEXT,                       -- data: URL of the signature, when given
    parts_total_fen BIGINT,
    fee_fen BIGINT,                           -- what the customer owes, set on completion
    wait_seconds BIGINT,                      -- request -> arrival
    repair_seconds BIGINT,                    -- arrival -> completion
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((status = 'on_hold') = (held_from IS NOT NULL)),
    CHECK (fee_fen IS NULL OR fee_fen >= 0)
);
CREATE INDEX work_orders_center_idx ON work_orders (center_id, status, id);
CREATE INDEX work_orders_customer_idx ON work_orders (customer_id, id);
CREATE INDEX work_orders_lead_idx ON work_orders (lead_technician_id, scheduled_at);

-- The technicians on an order: one lead, any helpers.
CREATE TABLE work_order_technicians (
    order_id TEXT NOT NULL REFERENCES work_orders (id),
    technician_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL CHECK (role IN ('lead', 'helper')),
    assigned_at TIMESTAMP NOT NULL,
    PRIMARY KEY (order_id, technician_id)
);
CREATE INDEX work_order_technicians_tech_idx ON work_order_technicians (technician_id, order_id);

-- One line per vehicle (安装车辆明细), each with its own status and what was done on it.
CREATE TABLE work_order_lines (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES work_orders (id),
    position INTEGER NOT NULL,
    vehicle_id TEXT NOT NULL REFERENCES vehicles (id),
    driver_id TEXT REFERENCES drivers (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'not_done')),
    work TEXT NOT NULL DEFAULT '[]',          -- JSON array: install, terminal_swap, sim_swap, repair, inspect
    terminal_id TEXT REFERENCES terminals (id),     -- fitted (install) or new (swap)
    sim_id TEXT REFERENCES sim_cards (id),          -- fitted (install) or new (swap)
    old_terminal_id TEXT REFERENCES terminals (id), -- removed by a terminal swap
    old_sim_id TEXT REFERENCES sim_cards (id),      -- removed by a SIM swap
    fault_tag TEXT,                           -- 返修标签 on the removed unit
    not_done_reason TEXT,
    notes TEXT,
    done_by TEXT REFERENCES users (id),
    done_at TIMESTAMP,
    UNIQUE (order_id, position),
    UNIQUE (order_id, vehicle_id),
    CHECK ((status = 'not_done') = (not_done_reason IS NOT NULL))
);

-- Parts used, at the price of the day.
CREATE TABLE work_order_parts (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES work_orders (id),
    line_id TEXT REFERENCES work_order_lines (id),
    part_id TEXT NOT NULL REFERENCES parts (id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_fen BIGINT NOT NULL CHECK (unit_price_fen >= 0),
    verbal_approval_id TEXT,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX work_order_parts_order_idx ON work_order_parts (order_id, id);

-- 口头请示: parts short on site, a manager said yes on the phone; confirmed later.
CREATE TABLE verbal_approvals (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES work_orders (id),
    approver_id TEXT NOT NULL REFERENCES users (id),
    approved_at TIMESTAMP NOT NULL,
    content TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL,
    confirmed_by TEXT REFERENCES users (id),
    confirmed_at TIMESTAMP
);
CREATE INDEX verbal_approvals_order_idx ON verbal_approvals (order_id, id);

-- The order's timeline and audit: every transition and every recorded act.
CREATE TABLE order_events (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES work_orders (id),
    at TIMESTAMP NOT NULL,
    actor_id TEXT NOT NULL REFERENCES users (id),
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    comment TEXT
);
CREATE INDEX order_events_order_idx ON order_events (order_id, id);

-- Idempotency-Key of retried actions: the first response, replayed for the same key.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
