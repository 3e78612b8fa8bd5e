-- The terminal's first report (上线检测, issue 17): after an install, a terminal swap or a
-- SIM swap, the line waits for the terminal to report through the tracking platform. One
-- check per line (a second piece of work on the line starts it again: `generation`).
-- What the check compares against (IMEI, ICCID, plate, the platform identifier) is copied
-- from the work when it starts: it is what the platform's device is registered with.
CREATE TABLE terminal_checks (
    line_id TEXT PRIMARY KEY NOT NULL REFERENCES work_order_lines (id),
    order_id TEXT NOT NULL REFERENCES work_orders (id),
    center_id TEXT NOT NULL REFERENCES service_centers (id),
    terminal_id TEXT NOT NULL REFERENCES terminals (id),
    -- the platform's device identifier: the JT/T 808 terminal phone number (12 digits)
    unique_id TEXT NOT NULL,
    -- after a SIM swap, the identifier the platform's device had until now
    prev_unique_id TEXT,
    imei TEXT NOT NULL,
    iccid TEXT NOT NULL,
    msisdn TEXT NOT NULL,
    plate_no TEXT NOT NULL,
    model TEXT NOT NULL,
    -- reports count only if both their fix time and their server time are after this
    started_at TIMESTAMP NOT NULL,
    -- the center's rules when the check started
    require_acc BOOLEAN NOT NULL,
    require_iccid BOOLEAN NOT NULL,
    generation INTEGER NOT NULL DEFAULT 1,
    -- the platform's device (its id) once registered or updated to match the line
    device_id BIGINT,
    synced BOOLEAN NOT NULL DEFAULT FALSE,
    -- progress, from the reports that count
    first_fix_at TIMESTAMP,
    first_fix_server_at TIMESTAMP,
    fix_lat DOUBLE PRECISION,
    fix_lng DOUBLE PRECISION,
    seen_iccid TEXT,
    iccid_at TIMESTAMP,
    acc_on_at TIMESTAMP,
    acc_off_at TIMESTAMP,
    passed_at TIMESTAMP,
    -- the last look at the platform, and what went wrong with it (the check still waits)
    checked_at TIMESTAMP,
    last_error TEXT,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX terminal_checks_waiting ON terminal_checks (passed_at, checked_at);
CREATE INDEX terminal_checks_unique_id ON terminal_checks (unique_id);
CREATE INDEX terminal_checks_order ON terminal_checks (order_id);

-- A manager's override of terminals not reporting (with the reason), one per order.
CREATE TABLE report_waivers (
    order_id TEXT PRIMARY KEY NOT NULL REFERENCES work_orders (id),
    reason TEXT NOT NULL,
    waived_by TEXT NOT NULL REFERENCES users (id),
    waived_at TIMESTAMP NOT NULL
);

-- The center's rules for the first report: complete requires it, ACC seen on and off,
-- the reported ICCID equal to the line's SIM.
ALTER TABLE proof_rules ADD COLUMN report_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE proof_rules ADD COLUMN report_acc BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE proof_rules ADD COLUMN report_iccid BOOLEAN NOT NULL DEFAULT TRUE;
