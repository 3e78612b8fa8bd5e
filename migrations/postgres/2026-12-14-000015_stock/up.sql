-- Stock (issue 18, foundation): where every terminal, SIM card and counted part is, and
-- the insert-only ledger of every movement between places (domain/stock.rs: Place,
-- MovementKind). A place is stored as `kind` + `ref id`: warehouse (center id), van
-- (technician's user id), vehicle (vehicle id), maker (center id: at the maker for that
-- center, 返修), scrapped (center id).

-- A terminal's place is computed from the columns the registry already keeps (status,
-- location, technician_id, vehicle_id, center_id), so the two can never disagree:
-- scrapped → scrapped; returned → at the maker; otherwise by location. A terminal is
-- faulty while `in_repair` (or at the maker).
ALTER TABLE terminals ADD COLUMN place_kind TEXT COLLATE "C" GENERATED ALWAYS AS (
    CASE
        WHEN status = 'scrapped' THEN 'scrapped'
        WHEN status = 'returned' THEN 'maker'
        WHEN location = 'vehicle' THEN 'vehicle'
        WHEN location = 'technician' THEN 'van'
        ELSE 'warehouse'
    END) STORED;
ALTER TABLE terminals ADD COLUMN place_id TEXT COLLATE "C" GENERATED ALWAYS AS (
    CASE
        WHEN status IN ('scrapped', 'returned') THEN center_id
        WHEN location = 'vehicle' THEN vehicle_id
        WHEN location = 'technician' THEN technician_id
        ELSE center_id
    END) STORED;
-- the stock of a center by place and model: one range of this index, covering
-- (STORED here: PostgreSQL has no virtual generated columns before 18)
CREATE INDEX terminals_place_idx ON terminals (center_id, place_kind, place_id, model_code);

-- A SIM card's place is its own (a SIM in a terminal still has the place it was moved
-- to); not yet moved = its center's warehouse.
ALTER TABLE sim_cards ADD COLUMN stock_kind TEXT
    CHECK (stock_kind IN ('warehouse', 'van', 'vehicle', 'maker', 'scrapped'));
ALTER TABLE sim_cards ADD COLUMN stock_ref TEXT;
ALTER TABLE sim_cards ADD COLUMN faulty BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE sim_cards ADD COLUMN place_kind TEXT COLLATE "C" GENERATED ALWAYS AS (
    COALESCE(stock_kind, 'warehouse')) STORED;
ALTER TABLE sim_cards ADD COLUMN place_id TEXT COLLATE "C" GENERATED ALWAYS AS (
    COALESCE(stock_ref, center_id)) STORED;
CREATE INDEX sim_cards_place_idx ON sim_cards (center_id, place_kind, place_id, carrier);

-- Counted parts and consumables (cable, relay, fuse…): a quantity per place.
CREATE TABLE part_stock (
    part_id TEXT NOT NULL REFERENCES parts (id),
    place_kind TEXT NOT NULL CHECK (place_kind IN ('warehouse', 'van', 'vehicle', 'maker', 'scrapped')),
    place_id TEXT NOT NULL,
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    quantity BIGINT NOT NULL CHECK (quantity >= 0),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (part_id, place_kind, place_id)
);
CREATE INDEX part_stock_center_idx ON part_stock (center_id, place_kind, place_id, part_id);

-- The ledger: insert-only (triggers below). One item per row: a terminal, a SIM card, or
-- `quantity` of a part. actor_id NULL only for the opening balance written here.
CREATE TABLE stock_movements (
    id TEXT PRIMARY KEY NOT NULL,
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    kind TEXT NOT NULL CHECK (kind IN ('receive', 'issue', 'confirm_receipt', 'return',
        'transfer', 'fit', 'remove', 'rma_send', 'rma_back_repaired', 'rma_back_replaced',
        'rma_back_scrapped', 'scrap', 'adjust')),
    terminal_id TEXT REFERENCES terminals (id),
    sim_id TEXT REFERENCES sim_cards (id),
    part_id TEXT REFERENCES parts (id),
    quantity BIGINT NOT NULL DEFAULT 1 CHECK (quantity > 0),
    from_kind TEXT NOT NULL CHECK (from_kind IN ('warehouse', 'van', 'vehicle', 'maker', 'scrapped')),
    from_id TEXT NOT NULL,
    to_kind TEXT NOT NULL CHECK (to_kind IN ('warehouse', 'van', 'vehicle', 'maker', 'scrapped')),
    to_id TEXT NOT NULL,
    order_id TEXT REFERENCES work_orders (id),
    rma_batch_id TEXT,
    fault_tag TEXT,
    actor_id TEXT REFERENCES users (id),
    at TIMESTAMP NOT NULL,
    note TEXT,
    CHECK (num_nonnulls(terminal_id, sim_id, part_id) = 1),
    CHECK (part_id IS NOT NULL OR quantity = 1)
);
-- a serial's history: one range each
CREATE INDEX stock_movements_terminal_idx ON stock_movements (terminal_id, id) WHERE terminal_id IS NOT NULL;
CREATE INDEX stock_movements_sim_idx ON stock_movements (sim_id, id) WHERE sim_id IS NOT NULL;
CREATE INDEX stock_movements_part_idx ON stock_movements (part_id, id) WHERE part_id IS NOT NULL;
CREATE INDEX stock_movements_center_idx ON stock_movements (center_id, id);
CREATE INDEX stock_movements_order_idx ON stock_movements (order_id) WHERE order_id IS NOT NULL;

CREATE FUNCTION stock_movements_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'stock movements are immutable: record a correcting movement';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER stock_movements_no_update BEFORE UPDATE OR DELETE ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION stock_movements_immutable();

-- The opening balance: every serial already registered gets one `adjust` from the maker
-- to where it is now, so that the ledger replayed gives the current places. The ids sort
-- before every UUIDv7 ('0-' < '01…').
INSERT INTO stock_movements (id, center_id, kind, terminal_id, quantity, from_kind, from_id,
    to_kind, to_id, actor_id, at, note)
SELECT '0-' || id, center_id, 'adjust', id, 1, 'maker', center_id, place_kind, place_id,
    NULL, created_at, 'opening balance'
FROM terminals;
INSERT INTO stock_movements (id, center_id, kind, sim_id, quantity, from_kind, from_id,
    to_kind, to_id, actor_id, at, note)
SELECT '0-' || id, center_id, 'adjust', id, 1, 'maker', center_id, place_kind, place_id,
    NULL, created_at, 'opening balance'
FROM sim_cards;
