-- Registry: service centers, people, customers, vehicles, equipment and its binding history.
-- Ids are UUIDv7 strings (time-ordered, so `ORDER BY id` is creation order and the cursor of
-- every list). Times are UTC. Every mutable row carries `version` for optimistic concurrency.
-- Later issues add work orders, lines, swaps, payments and the outbox: they reference these
-- tables by id, and write binding_events / audit_log, which already have room for an order id.

CREATE TABLE service_centers (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,                 -- short code in document numbers, e.g. ZZ
    name TEXT NOT NULL UNIQUE,
    region TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lng DOUBLE PRECISION NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'agent', 'technician', 'finance')),
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    phone TEXT,
    email TEXT,
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    token_version INTEGER NOT NULL DEFAULT 0, -- bumped on deactivation / password change
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_center_idx ON users (center_id, id);
CREATE INDEX users_role_idx ON users (role, id);

CREATE TABLE technician_profiles (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    can_install BOOLEAN NOT NULL,
    can_repair BOOLEAN NOT NULL,
    models TEXT NOT NULL DEFAULT '[]',        -- JSON array of terminal model codes they know
    home_lat DOUBLE PRECISION NOT NULL,
    home_lng DOUBLE PRECISION NOT NULL,
    last_lat DOUBLE PRECISION,
    last_lng DOUBLE PRECISION,
    last_seen_at TIMESTAMP,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    external BOOLEAN NOT NULL DEFAULT FALSE,  -- 外协
    contractor_company TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (NOT external OR contractor_company IS NOT NULL)
);
CREATE INDEX technician_profiles_center_idx ON technician_profiles (center_id, user_id);

CREATE TABLE customers (
    id TEXT PRIMARY KEY NOT NULL,
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    name TEXT NOT NULL,
    tier TEXT NOT NULL CHECK (tier IN ('key', 'major', 'normal')),
    address TEXT NOT NULL,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    payment_terms TEXT NOT NULL CHECK (payment_terms IN ('cash', 'credit')),
    credit_days INTEGER,
    notes TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((payment_terms = 'credit') = (credit_days IS NOT NULL))
);
CREATE INDEX customers_center_idx ON customers (center_id, id);
CREATE INDEX customers_tier_idx ON customers (center_id, tier, id);

CREATE TABLE customer_contacts (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,                -- 0 is the primary contact
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    email TEXT,
    title TEXT,
    UNIQUE (customer_id, position)
);

CREATE TABLE vehicles (
    id TEXT PRIMARY KEY NOT NULL,
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    plate_no TEXT NOT NULL UNIQUE,
    vin TEXT UNIQUE,
    model TEXT,
    notes TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX vehicles_center_idx ON vehicles (center_id, id);
CREATE INDEX vehicles_customer_idx ON vehicles (customer_id, id);

CREATE TABLE drivers (
    id TEXT PRIMARY KEY NOT NULL,
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    vehicle_id TEXT NOT NULL REFERENCES vehicles (id),
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX drivers_vehicle_idx ON drivers (vehicle_id, id);
CREATE INDEX drivers_center_idx ON drivers (center_id, id);

CREATE TABLE terminal_models (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    warranty_months INTEGER NOT NULL CHECK (warranty_months >= 0),
    created_at TIMESTAMP NOT NULL
);

-- A terminal is in at most one vehicle by construction (one vehicle_id column); where it
-- is and its status must agree, which the CHECKs enforce in the database itself.
CREATE TABLE terminals (
    id TEXT PRIMARY KEY NOT NULL,
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    imei TEXT NOT NULL UNIQUE,
    model_code TEXT NOT NULL REFERENCES terminal_models (code),
    purchase_date DATE NOT NULL,
    warranty_months INTEGER NOT NULL CHECK (warranty_months >= 0),
    status TEXT NOT NULL CHECK (status IN ('in_stock', 'installed', 'in_repair', 'returned', 'scrapped')),
    location TEXT NOT NULL CHECK (location IN ('warehouse', 'technician', 'vehicle')),
    technician_id TEXT REFERENCES users (id),
    vehicle_id TEXT REFERENCES vehicles (id),
    notes TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((location = 'vehicle') = (vehicle_id IS NOT NULL)),
    CHECK ((location = 'technician') = (technician_id IS NOT NULL)),
    CHECK ((status = 'installed') = (location = 'vehicle'))
);
CREATE INDEX terminals_center_idx ON terminals (center_id, id);
CREATE INDEX terminals_status_idx ON terminals (center_id, status, id);
CREATE INDEX terminals_vehicle_idx ON terminals (vehicle_id);
CREATE INDEX terminals_technician_idx ON terminals (technician_id);

-- A SIM is in at most one terminal (one terminal_id column) and a terminal holds at most
-- one SIM (UNIQUE terminal_id; NULLs do not collide on either database).
CREATE TABLE sim_cards (
    id TEXT PRIMARY KEY NOT NULL,
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    iccid TEXT NOT NULL UNIQUE,
    msisdn TEXT NOT NULL UNIQUE,
    carrier TEXT NOT NULL CHECK (carrier IN ('china_mobile', 'china_unicom', 'china_telecom', 'other')),
    status TEXT NOT NULL CHECK (status IN ('in_stock', 'active', 'suspended', 'cancelled')),
    terminal_id TEXT UNIQUE REFERENCES terminals (id),
    notes TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX sim_cards_center_idx ON sim_cards (center_id, id);
CREATE INDEX sim_cards_status_idx ON sim_cards (center_id, status, id);

-- Every bind and unbind, terminal<->vehicle and SIM<->terminal, append-only. order_id is
-- filled by the work-order workflow (installs, swaps); NULL for registry corrections.
CREATE TABLE binding_events (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    kind TEXT NOT NULL CHECK (kind IN ('terminal_vehicle', 'sim_terminal')),
    action TEXT NOT NULL CHECK (action IN ('bind', 'unbind')),
    terminal_id TEXT NOT NULL REFERENCES terminals (id),
    vehicle_id TEXT REFERENCES vehicles (id),
    sim_id TEXT REFERENCES sim_cards (id),
    order_id TEXT,
    actor_id TEXT NOT NULL REFERENCES users (id),
    reason TEXT NOT NULL,
    CHECK ((kind = 'terminal_vehicle') = (vehicle_id IS NOT NULL)),
    CHECK ((kind = 'sim_terminal') = (sim_id IS NOT NULL))
);
CREATE INDEX binding_events_terminal_idx ON binding_events (terminal_id, id);
CREATE INDEX binding_events_vehicle_idx ON binding_events (vehicle_id, id);
CREATE INDEX binding_events_sim_idx ON binding_events (sim_id, id);
CREATE INDEX binding_events_order_idx ON binding_events (order_id);

-- Who changed what, for registry objects (orders get their own timeline table later).
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT REFERENCES users (id),
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, id);

-- Gapless per-center, per-year counters for order, receipt and invoice numbers; a row is
-- incremented inside the transaction that uses the number.
CREATE TABLE number_sequences (
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    kind TEXT NOT NULL,
    year INTEGER NOT NULL,
    last_value BIGINT NOT NULL,
    PRIMARY KEY (center_id, kind, year)
);
