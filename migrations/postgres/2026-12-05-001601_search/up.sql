-- Find anything (GET /api/v1/search): every lookup is a range scan over an index.
-- A trailing match (last digits of a phone, IMEI, ICCID, MSISDN; the end of a plate or VIN)
-- is a prefix of the reversed key, kept in a STORED generated column. Keys and their
-- indexes use the "C" collation: a prefix range `p <= key < successor(p)` is then exact
-- (byte order) whatever the database's default collation is (en_US ignores '-').
-- Pinyin initials of customer names cannot be computed in SQL: customer_initials is
-- written with every customer (store::customers) and back-filled at start-up
-- (store::search::backfill_initials), one row per spelling (多音字).

ALTER TABLE terminals ADD COLUMN imei_rev TEXT COLLATE "C" GENERATED ALWAYS AS (reverse(imei)) STORED;
CREATE INDEX terminals_imei_rev_idx ON terminals (imei_rev);

ALTER TABLE sim_cards ADD COLUMN iccid_rev TEXT COLLATE "C" GENERATED ALWAYS AS (reverse(iccid)) STORED;
ALTER TABLE sim_cards ADD COLUMN msisdn_rev TEXT COLLATE "C" GENERATED ALWAYS AS (reverse(msisdn)) STORED;
CREATE INDEX sim_cards_iccid_rev_idx ON sim_cards (iccid_rev);
CREATE INDEX sim_cards_msisdn_rev_idx ON sim_cards (msisdn_rev);

ALTER TABLE vehicles ADD COLUMN plate_key TEXT COLLATE "C" GENERATED ALWAYS AS (substr(plate_no, 2)) STORED;
ALTER TABLE vehicles ADD COLUMN plate_rev TEXT COLLATE "C" GENERATED ALWAYS AS (reverse(plate_no)) STORED;
ALTER TABLE vehicles ADD COLUMN vin_rev TEXT COLLATE "C" GENERATED ALWAYS AS (reverse(vin)) STORED;
CREATE INDEX vehicles_plate_search_idx ON vehicles (center_id, (plate_no COLLATE "C"));
CREATE INDEX vehicles_plate_all_search_idx ON vehicles ((plate_no COLLATE "C"));
CREATE INDEX vehicles_plate_key_idx ON vehicles (center_id, plate_key);
CREATE INDEX vehicles_plate_key_all_idx ON vehicles (plate_key);
CREATE INDEX vehicles_plate_rev_idx ON vehicles (plate_rev);
CREATE INDEX vehicles_vin_rev_idx ON vehicles (vin_rev);

ALTER TABLE customer_contacts ADD COLUMN phone_rev TEXT COLLATE "C" GENERATED ALWAYS AS (reverse(replace(phone, '-', ''))) STORED;
CREATE INDEX customer_contacts_phone_rev_idx ON customer_contacts (phone_rev);

ALTER TABLE drivers ADD COLUMN phone_rev TEXT COLLATE "C" GENERATED ALWAYS AS (reverse(replace(phone, '-', ''))) STORED;
CREATE INDEX drivers_phone_rev_idx ON drivers (phone_rev);

CREATE INDEX work_orders_number_search_idx ON work_orders (center_id, (number COLLATE "C"));
CREATE INDEX work_orders_number_all_search_idx ON work_orders ((number COLLATE "C"));
CREATE INDEX payments_receipt_search_idx ON payments (center_id, (receipt_no COLLATE "C"));
CREATE INDEX payments_receipt_all_search_idx ON payments ((receipt_no COLLATE "C"));

CREATE TABLE customer_initials (
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    center_id TEXT NOT NULL,
    initials TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (customer_id, initials)
);
CREATE INDEX customer_initials_center_idx ON customer_initials (center_id, initials);
CREATE INDEX customer_initials_all_idx ON customer_initials (initials);
