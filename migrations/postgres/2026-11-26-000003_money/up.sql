-- Money: what customers owe (charges), what technicians collect on site (payments, an
-- insert-only ledger with reversals), what they hand to finance (remittances) and the
-- differences finance counts (discrepancies), and invoices (账单) of credit customers.
-- Amounts are integer fen. Days are China days (Asia/Shanghai), kept beside the UTC time
-- so that reports group by an index instead of a computation per row.

-- Per-center settings of money rules.
CREATE TABLE center_settings (
    center_id TEXT PRIMARY KEY NOT NULL REFERENCES service_centers (id),
    -- a discount or waiver above this needs a manager's approval
    adjustment_threshold_fen BIGINT NOT NULL CHECK (adjustment_threshold_fen >= 0),
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL
);

-- Invoices (账单) of credit customers: their charges of a period, paid by bank transfer.
CREATE TABLE invoices (
    id TEXT PRIMARY KEY NOT NULL,
    number TEXT NOT NULL UNIQUE,               -- ZD-ZZ-2026-000012
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    issue_date DATE NOT NULL,
    due_date DATE NOT NULL,
    total_fen BIGINT NOT NULL CHECK (total_fen >= 0),
    paid_fen BIGINT NOT NULL DEFAULT 0 CHECK (paid_fen >= 0 AND paid_fen <= total_fen),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL,
    CHECK (period_start <= period_end),
    CHECK (issue_date <= due_date)
);
CREATE INDEX invoices_center_idx ON invoices (center_id, id);
CREATE INDEX invoices_customer_idx ON invoices (customer_id, id);

-- What an order's customer owes: made when the order completes, from its fee.
CREATE TABLE charges (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL UNIQUE REFERENCES work_orders (id),
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    technician_id TEXT REFERENCES users (id),  -- the lead, who collects on site
    terms TEXT NOT NULL CHECK (terms IN ('cash', 'credit')),
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    adjusted_fen BIGINT NOT NULL DEFAULT 0,   -- approved discounts, waivers, write-offs
    paid_fen BIGINT NOT NULL DEFAULT 0,       -- net of reversals
    status TEXT NOT NULL CHECK (status IN ('no_charge', 'open', 'paid', 'invoiced',
        'waived', 'written_off')),
    invoice_id TEXT REFERENCES invoices (id),
    day DATE NOT NULL,                        -- the China day it was made
    created_at TIMESTAMP NOT NULL,
    settled_at TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL,
    CHECK (adjusted_fen >= 0 AND paid_fen >= 0 AND adjusted_fen + paid_fen <= amount_fen),
    CHECK ((status = 'invoiced') = (invoice_id IS NOT NULL))
);
CREATE INDEX charges_center_day_idx ON charges (center_id, day, technician_id, terms, amount_fen, adjusted_fen);
CREATE INDEX charges_customer_idx ON charges (customer_id, status, id);

-- Discounts, waivers and write-offs of a charge. Above the center's threshold (and any
-- write-off) a manager approves; until then the adjustment is pending and counts nothing.
CREATE TABLE charge_adjustments (
    id TEXT PRIMARY KEY NOT NULL,
    charge_id TEXT NOT NULL REFERENCES charges (id),
    kind TEXT NOT NULL CHECK (kind IN ('discount', 'waiver', 'write_off')),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_by TEXT NOT NULL REFERENCES users (id),
    requested_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    decision_note TEXT
);
CREATE INDEX charge_adjustments_charge_idx ON charge_adjustments (charge_id, id);

-- The ledger. Insert-only (triggers below refuse UPDATE and DELETE): a collection on site
-- or a bank payment against an invoice is a positive row with a receipt number; a mistake
-- is a reversal row, negative, referencing the original.
CREATE TABLE payments (
    id TEXT PRIMARY KEY NOT NULL,
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    kind TEXT NOT NULL CHECK (kind IN ('collection', 'reversal')),
    charge_id TEXT REFERENCES charges (id),   -- an on-site collection's charge
    order_id TEXT REFERENCES work_orders (id),
    invoice_id TEXT REFERENCES invoices (id), -- a bank payment against an invoice
    customer_id TEXT NOT NULL REFERENCES customers (id),
    amount_fen BIGINT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('cash', 'wechat', 'alipay', 'bank_transfer', 'pos')),
    payer_name TEXT NOT NULL,
    paid_at TIMESTAMP NOT NULL,
    day DATE NOT NULL,                        -- the China day of paid_at
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    collector_id TEXT NOT NULL REFERENCES users (id),
    on_site BOOLEAN NOT NULL,                 -- money in a technician's hands until remitted
    receipt_no TEXT UNIQUE,                   -- SJ-ZZ-2026-000123, collections only
    reverses_id TEXT UNIQUE REFERENCES payments (id),
    reason TEXT,                              -- a reversal's
    approved_by TEXT REFERENCES users (id),   -- a reversal's
    notes TEXT,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    CHECK ((kind = 'collection') = (amount_fen > 0)),
    CHECK ((kind = 'collection') = (receipt_no IS NOT NULL)),
    CHECK ((kind = 'reversal') = (reverses_id IS NOT NULL)),
    CHECK (kind = 'collection' OR (reason IS NOT NULL AND approved_by IS NOT NULL)),
    CHECK ((charge_id IS NULL) <> (invoice_id IS NULL))
);
-- covering the reconciliation's scan: the report never reads the table itself
CREATE INDEX payments_center_day_idx ON payments (center_id, day, collector_id, on_site, method, amount_fen);
CREATE INDEX payments_collector_idx ON payments (collector_id, id);
CREATE INDEX payments_charge_idx ON payments (charge_id);
CREATE INDEX payments_invoice_idx ON payments (invoice_id);
CREATE INDEX payments_customer_idx ON payments (customer_id, id);

-- The fapiao (发票) number finance adds to a payment later: beside the ledger, not in it.
CREATE TABLE payment_fapiao (
    payment_id TEXT PRIMARY KEY NOT NULL REFERENCES payments (id),
    fapiao_no TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);

-- 交款: a technician hands a batch of collected payments to finance, who counts it.
CREATE TABLE remittances (
    id TEXT PRIMARY KEY NOT NULL,
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    technician_id TEXT NOT NULL REFERENCES users (id),
    expected_fen BIGINT NOT NULL CHECK (expected_fen > 0),
    submitted_at TIMESTAMP NOT NULL,
    submitted_day DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('submitted', 'confirmed')),
    received_fen BIGINT CHECK (received_fen >= 0),
    confirmed_by TEXT REFERENCES users (id),
    confirmed_at TIMESTAMP,
    confirmed_day DATE,
    notes TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((status = 'confirmed') = (received_fen IS NOT NULL)),
    CHECK ((status = 'confirmed') = (confirmed_day IS NOT NULL))
);
CREATE INDEX remittances_center_idx ON remittances (center_id, submitted_day, technician_id, expected_fen);
CREATE INDEX remittances_confirmed_idx ON remittances (center_id, confirmed_day, technician_id, status, received_fen, expected_fen);
CREATE INDEX remittances_technician_idx ON remittances (technician_id, id);

-- Which payments a remittance hands over; a payment is handed over once.
CREATE TABLE remittance_items (
    remittance_id TEXT NOT NULL REFERENCES remittances (id),
    payment_id TEXT NOT NULL UNIQUE REFERENCES payments (id),
    PRIMARY KEY (remittance_id, payment_id)
);

-- A remittance counted short or over: open until a manager resolves it.
CREATE TABLE discrepancies (
    id TEXT PRIMARY KEY NOT NULL,
    remittance_id TEXT NOT NULL UNIQUE REFERENCES remittances (id),
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    technician_id TEXT NOT NULL REFERENCES users (id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen <> 0), -- received - expected: < 0 short
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    created_at TIMESTAMP NOT NULL,
    resolved_by TEXT REFERENCES users (id),
    resolved_at TIMESTAMP,
    resolution TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((status = 'resolved') = (resolution IS NOT NULL))
);
CREATE INDEX discrepancies_center_idx ON discrepancies (center_id, status, id);

-- The ledger is never edited or deleted, whatever code runs against the database.
CREATE FUNCTION payments_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'payments are immutable: record a reversal';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER payments_no_update BEFORE UPDATE OR DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION payments_immutable();

-- Orders completed before money existed owe their fee like any other, so they can be
-- collected and closed (closed orders are history and get none).
INSERT INTO charges (id, order_id, center_id, customer_id, technician_id, terms, amount_fen,
    adjusted_fen, paid_fen, status, invoice_id, day, created_at, settled_at, version, updated_at)
SELECT 'c-' || o.id, o.id, o.center_id, o.customer_id, o.lead_technician_id, cu.payment_terms,
    COALESCE(o.fee_fen, 0), 0, 0,
    CASE WHEN COALESCE(o.fee_fen, 0) = 0 THEN 'no_charge' ELSE 'open' END, NULL,
    CAST(COALESCE(o.completed_at, o.updated_at) + INTERVAL '8 hours' AS DATE),
    COALESCE(o.completed_at, o.updated_at),
    CASE WHEN COALESCE(o.fee_fen, 0) = 0 THEN COALESCE(o.completed_at, o.updated_at) END,
    1, COALESCE(o.completed_at, o.updated_at)
FROM work_orders o JOIN customers cu ON cu.id = o.customer_id
WHERE o.status = 'completed';
