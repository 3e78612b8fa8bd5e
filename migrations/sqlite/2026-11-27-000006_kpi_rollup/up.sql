-- The KPIs' order figures, kept per China day of the request × center × lead technician ×
-- kind × status: how many orders, and their wait and repair times counted and summed.
-- Triggers keep it exact through every write to work_orders (whatever the code path), so
-- a year of a large center is a few thousand rows instead of half a million orders.
CREATE TABLE kpi_order_days (
    center_id TEXT NOT NULL,
    day DATE NOT NULL,                        -- China day of requested_at
    lead_id TEXT NOT NULL DEFAULT '',         -- '' = no lead technician yet
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL DEFAULT 0,
    wait_n BIGINT NOT NULL DEFAULT 0,
    wait_sum BIGINT NOT NULL DEFAULT 0,
    repair_n BIGINT NOT NULL DEFAULT 0,
    repair_sum BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (center_id, day, lead_id, kind, status)
);

INSERT INTO kpi_order_days (center_id, day, lead_id, kind, status, n, wait_n, wait_sum, repair_n, repair_sum)
SELECT center_id, date(substr(requested_at, 1, 19), '+8 hours'), COALESCE(lead_technician_id, ''), kind, status,
       COUNT(*), COUNT(wait_seconds), COALESCE(SUM(wait_seconds), 0),
       COUNT(repair_seconds), COALESCE(SUM(repair_seconds), 0)
FROM work_orders
GROUP BY center_id, date(substr(requested_at, 1, 19), '+8 hours'), COALESCE(lead_technician_id, ''), kind, status;

CREATE TRIGGER work_orders_kpi_insert AFTER INSERT ON work_orders
BEGIN
    INSERT INTO kpi_order_days (center_id, day, lead_id, kind, status, n, wait_n, wait_sum, repair_n, repair_sum)
    VALUES (NEW.center_id, date(substr(NEW.requested_at, 1, 19), '+8 hours'), COALESCE(NEW.lead_technician_id, ''),
            NEW.kind, NEW.status, 1, NEW.wait_seconds IS NOT NULL, COALESCE(NEW.wait_seconds, 0),
            NEW.repair_seconds IS NOT NULL, COALESCE(NEW.repair_seconds, 0))
    ON CONFLICT (center_id, day, lead_id, kind, status) DO UPDATE SET
        n = n + 1, wait_n = wait_n + excluded.wait_n, wait_sum = wait_sum + excluded.wait_sum,
        repair_n = repair_n + excluded.repair_n, repair_sum = repair_sum + excluded.repair_sum;
END;

CREATE TRIGGER work_orders_kpi_update
AFTER UPDATE OF center_id, requested_at, lead_technician_id, kind, status, wait_seconds, repair_seconds
ON work_orders
BEGIN
    UPDATE kpi_order_days SET
        n = n - 1,
        wait_n = wait_n - (OLD.wait_seconds IS NOT NULL), wait_sum = wait_sum - COALESCE(OLD.wait_seconds, 0),
        repair_n = repair_n - (OLD.repair_seconds IS NOT NULL), repair_sum = repair_sum - COALESCE(OLD.repair_seconds, 0)
    WHERE center_id = OLD.center_id AND day = date(substr(OLD.requested_at, 1, 19), '+8 hours')
      AND lead_id = COALESCE(OLD.lead_technician_id, '') AND kind = OLD.kind AND status = OLD.status;
    INSERT INTO kpi_order_days (center_id, day, lead_id, kind, status, n, wait_n, wait_sum, repair_n, repair_sum)
    VALUES (NEW.center_id, date(substr(NEW.requested_at, 1, 19), '+8 hours'), COALESCE(NEW.lead_technician_id, ''),
            NEW.kind, NEW.status, 1, NEW.wait_seconds IS NOT NULL, COALESCE(NEW.wait_seconds, 0),
            NEW.repair_seconds IS NOT NULL, COALESCE(NEW.repair_seconds, 0))
    ON CONFLICT (center_id, day, lead_id, kind, status) DO UPDATE SET
        n = n + 1, wait_n = wait_n + excluded.wait_n, wait_sum = wait_sum + excluded.wait_sum,
        repair_n = repair_n + excluded.repair_n, repair_sum = repair_sum + excluded.repair_sum;
END;

CREATE TRIGGER work_orders_kpi_delete AFTER DELETE ON work_orders
BEGIN
    UPDATE kpi_order_days SET
        n = n - 1,
        wait_n = wait_n - (OLD.wait_seconds IS NOT NULL), wait_sum = wait_sum - COALESCE(OLD.wait_seconds, 0),
        repair_n = repair_n - (OLD.repair_seconds IS NOT NULL), repair_sum = repair_sum - COALESCE(OLD.repair_seconds, 0)
    WHERE center_id = OLD.center_id AND day = date(substr(OLD.requested_at, 1, 19), '+8 hours')
      AND lead_id = COALESCE(OLD.lead_technician_id, '') AND kind = OLD.kind AND status = OLD.status;
END;

-- the period's counts and sums come from kpi_order_days now
DROP INDEX work_orders_kpi;
-- the p90s are read from the top of these (nearest rank, counted down from the largest)
CREATE INDEX work_orders_kpi_lead_wait ON work_orders
    (lead_technician_id, wait_seconds, requested_at, center_id);
CREATE INDEX work_orders_kpi_lead_repair ON work_orders
    (lead_technician_id, repair_seconds, requested_at, center_id);
