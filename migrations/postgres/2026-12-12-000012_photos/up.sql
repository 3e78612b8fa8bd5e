-- Photos from the site (issue 17): each a file in the object store (the bytes as
-- stored: metadata stripped but time and position; a JPEG thumbnail beside it), on a
-- vehicle line or on the order. Insert-only: a photo is evidence.
CREATE TABLE order_photos (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES work_orders (id),
    line_id TEXT REFERENCES work_order_lines (id),
    kind TEXT NOT NULL CHECK (kind IN ('before', 'unit', 'wiring', 'sim_label', 'plate', 'site', 'paperwork')),
    content_type TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    object_key TEXT NOT NULL,
    thumb_key TEXT NOT NULL,
    bytes BIGINT NOT NULL CHECK (bytes > 0),
    width INTEGER NOT NULL CHECK (width > 0),
    height INTEGER NOT NULL CHECK (height > 0),
    sha256 TEXT NOT NULL,
    -- when and where it was taken (the file's EXIF, else what the phone said); WGS-84
    taken_at TIMESTAMP,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL
);
CREATE INDEX order_photos_order ON order_photos (order_id, id);

-- What a center requires as proof before an order may be completed: photo kinds (names
-- joined by commas) of installs and of repairs. No row: nothing required.
CREATE TABLE proof_rules (
    center_id TEXT PRIMARY KEY NOT NULL REFERENCES service_centers (id),
    install_photos TEXT NOT NULL DEFAULT '',
    repair_photos TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL
);

-- A manager's waiver of the photos an order lacks (with the reason), one per order.
CREATE TABLE photo_waivers (
    order_id TEXT PRIMARY KEY NOT NULL REFERENCES work_orders (id),
    reason TEXT NOT NULL,
    waived_by TEXT NOT NULL REFERENCES users (id),
    waived_at TIMESTAMP NOT NULL
);
