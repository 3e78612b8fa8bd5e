-- Find anything (GET /api/v1/search): every lookup is a range scan over an index.
-- A trailing match (last digits of a phone, IMEI, ICCID, MSISDN; the end of a plate or VIN)
-- is a prefix of the reversed key, kept in a VIRTUAL generated column (computed on read,
-- nothing to keep in step on write; only its index is stored). SQLite has no reverse():
-- the expression concatenates the last 24 characters one by one (substr past the start is
-- ''), enough for every key here (ICCID 20, phones 13). A plate's key without its province
-- character is substr(plate_no, 2). NOTE: a later migration that rebuilds one of these
-- tables (create/copy/rename) must declare these columns and indexes again.
-- Pinyin initials of customer names cannot be computed in SQL: customer_initials is
-- written with every customer (store::customers) and back-filled at start-up
-- (store::search::backfill_initials), one row per spelling (多音字).

ALTER TABLE terminals ADD COLUMN imei_rev TEXT GENERATED ALWAYS AS (substr(imei,-1,1)||substr(imei,-2,1)||substr(imei,-3,1)||substr(imei,-4,1)||substr(imei,-5,1)||substr(imei,-6,1)||substr(imei,-7,1)||substr(imei,-8,1)||substr(imei,-9,1)||substr(imei,-10,1)||substr(imei,-11,1)||substr(imei,-12,1)||substr(imei,-13,1)||substr(imei,-14,1)||substr(imei,-15,1)||substr(imei,-16,1)||substr(imei,-17,1)||substr(imei,-18,1)||substr(imei,-19,1)||substr(imei,-20,1)||substr(imei,-21,1)||substr(imei,-22,1)||substr(imei,-23,1)||substr(imei,-24,1)) VIRTUAL;
CREATE INDEX terminals_imei_rev_idx ON terminals (imei_rev);

ALTER TABLE sim_cards ADD COLUMN iccid_rev TEXT GENERATED ALWAYS AS (substr(iccid,-1,1)||substr(iccid,-2,1)||substr(iccid,-3,1)||substr(iccid,-4,1)||substr(iccid,-5,1)||substr(iccid,-6,1)||substr(iccid,-7,1)||substr(iccid,-8,1)||substr(iccid,-9,1)||substr(iccid,-10,1)||substr(iccid,-11,1)||substr(iccid,-12,1)||substr(iccid,-13,1)||substr(iccid,-14,1)||substr(iccid,-15,1)||substr(iccid,-16,1)||substr(iccid,-17,1)||substr(iccid,-18,1)||substr(iccid,-19,1)||substr(iccid,-20,1)||substr(iccid,-21,1)||substr(iccid,-22,1)||substr(iccid,-23,1)||substr(iccid,-24,1)) VIRTUAL;
ALTER TABLE sim_cards ADD COLUMN msisdn_rev TEXT GENERATED ALWAYS AS (substr(msisdn,-1,1)||substr(msisdn,-2,1)||substr(msisdn,-3,1)||substr(msisdn,-4,1)||substr(msisdn,-5,1)||substr(msisdn,-6,1)||substr(msisdn,-7,1)||substr(msisdn,-8,1)||substr(msisdn,-9,1)||substr(msisdn,-10,1)||substr(msisdn,-11,1)||substr(msisdn,-12,1)||substr(msisdn,-13,1)||substr(msisdn,-14,1)||substr(msisdn,-15,1)||substr(msisdn,-16,1)||substr(msisdn,-17,1)||substr(msisdn,-18,1)||substr(msisdn,-19,1)||substr(msisdn,-20,1)||substr(msisdn,-21,1)||substr(msisdn,-22,1)||substr(msisdn,-23,1)||substr(msisdn,-24,1)) VIRTUAL;
CREATE INDEX sim_cards_iccid_rev_idx ON sim_cards (iccid_rev);
CREATE INDEX sim_cards_msisdn_rev_idx ON sim_cards (msisdn_rev);

ALTER TABLE vehicles ADD COLUMN plate_key TEXT GENERATED ALWAYS AS (substr(plate_no, 2)) VIRTUAL;
ALTER TABLE vehicles ADD COLUMN plate_rev TEXT GENERATED ALWAYS AS (substr(plate_no,-1,1)||substr(plate_no,-2,1)||substr(plate_no,-3,1)||substr(plate_no,-4,1)||substr(plate_no,-5,1)||substr(plate_no,-6,1)||substr(plate_no,-7,1)||substr(plate_no,-8,1)) VIRTUAL;
ALTER TABLE vehicles ADD COLUMN vin_rev TEXT GENERATED ALWAYS AS (substr(vin,-1,1)||substr(vin,-2,1)||substr(vin,-3,1)||substr(vin,-4,1)||substr(vin,-5,1)||substr(vin,-6,1)||substr(vin,-7,1)||substr(vin,-8,1)||substr(vin,-9,1)||substr(vin,-10,1)||substr(vin,-11,1)||substr(vin,-12,1)||substr(vin,-13,1)||substr(vin,-14,1)||substr(vin,-15,1)||substr(vin,-16,1)||substr(vin,-17,1)) VIRTUAL;
CREATE INDEX vehicles_plate_search_idx ON vehicles (center_id, plate_no);
CREATE INDEX vehicles_plate_key_idx ON vehicles (center_id, plate_key);
CREATE INDEX vehicles_plate_key_all_idx ON vehicles (plate_key);
CREATE INDEX vehicles_plate_rev_idx ON vehicles (plate_rev);
CREATE INDEX vehicles_vin_rev_idx ON vehicles (vin_rev);

ALTER TABLE customer_contacts ADD COLUMN phone_rev TEXT GENERATED ALWAYS AS (substr(replace(phone, '-', ''),-1,1)||substr(replace(phone, '-', ''),-2,1)||substr(replace(phone, '-', ''),-3,1)||substr(replace(phone, '-', ''),-4,1)||substr(replace(phone, '-', ''),-5,1)||substr(replace(phone, '-', ''),-6,1)||substr(replace(phone, '-', ''),-7,1)||substr(replace(phone, '-', ''),-8,1)||substr(replace(phone, '-', ''),-9,1)||substr(replace(phone, '-', ''),-10,1)||substr(replace(phone, '-', ''),-11,1)||substr(replace(phone, '-', ''),-12,1)||substr(replace(phone, '-', ''),-13,1)||substr(replace(phone, '-', ''),-14,1)||substr(replace(phone, '-', ''),-15,1)||substr(replace(phone, '-', ''),-16,1)||substr(replace(phone, '-', ''),-17,1)||substr(replace(phone, '-', ''),-18,1)||substr(replace(phone, '-', ''),-19,1)||substr(replace(phone, '-', ''),-20,1)||substr(replace(phone, '-', ''),-21,1)||substr(replace(phone, '-', ''),-22,1)||substr(replace(phone, '-', ''),-23,1)||substr(replace(phone, '-', ''),-24,1)) VIRTUAL;
CREATE INDEX customer_contacts_phone_rev_idx ON customer_contacts (phone_rev);

ALTER TABLE drivers ADD COLUMN phone_rev TEXT GENERATED ALWAYS AS (substr(replace(phone, '-', ''),-1,1)||substr(replace(phone, '-', ''),-2,1)||substr(replace(phone, '-', ''),-3,1)||substr(replace(phone, '-', ''),-4,1)||substr(replace(phone, '-', ''),-5,1)||substr(replace(phone, '-', ''),-6,1)||substr(replace(phone, '-', ''),-7,1)||substr(replace(phone, '-', ''),-8,1)||substr(replace(phone, '-', ''),-9,1)||substr(replace(phone, '-', ''),-10,1)||substr(replace(phone, '-', ''),-11,1)||substr(replace(phone, '-', ''),-12,1)||substr(replace(phone, '-', ''),-13,1)||substr(replace(phone, '-', ''),-14,1)||substr(replace(phone, '-', ''),-15,1)||substr(replace(phone, '-', ''),-16,1)||substr(replace(phone, '-', ''),-17,1)||substr(replace(phone, '-', ''),-18,1)||substr(replace(phone, '-', ''),-19,1)||substr(replace(phone, '-', ''),-20,1)||substr(replace(phone, '-', ''),-21,1)||substr(replace(phone, '-', ''),-22,1)||substr(replace(phone, '-', ''),-23,1)||substr(replace(phone, '-', ''),-24,1)) VIRTUAL;
CREATE INDEX drivers_phone_rev_idx ON drivers (phone_rev);

-- number prefixes within a center (the UNIQUE indexes serve admins' searches)
CREATE INDEX work_orders_number_search_idx ON work_orders (center_id, number);
CREATE INDEX payments_receipt_search_idx ON payments (center_id, receipt_no);

CREATE TABLE customer_initials (
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    center_id TEXT NOT NULL,
    initials TEXT NOT NULL,
    PRIMARY KEY (customer_id, initials)
);
CREATE INDEX customer_initials_center_idx ON customer_initials (center_id, initials);
CREATE INDEX customer_initials_all_idx ON customer_initials (initials);
