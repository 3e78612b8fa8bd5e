-- The KPIs' order figures, kept per China day of the request × center × lead technician ×
-- kind × status: how many orders, and their wait and repair times counted and summed.
-- A trigger keeps it exact through every write to work_orders (whatever the code path), so
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
SELECT center_id, (requested_at + INTERVAL '8 hours')::date, COALESCE(lead_technician_id, ''), kind, status,
       COUNT(*), COUNT(wait_seconds), COALESCE(SUM(wait_seconds), 0),
       COUNT(repair_seconds), COALESCE(SUM(repair_seconds), 0)
FROM work_orders
GROUP BY 1, 2, 3, 4, 5;

CREATE FUNCTION kpi_order_days_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE kpi_order_days SET
            n = n - 1,
            wait_n = wait_n - (OLD.wait_seconds IS NOT NULL)::int, wait_sum = wait_sum - COALESCE(OLD.wait_seconds, 0),
            repair_n = repair_n - (OLD.repair_seconds IS NOT NULL)::int, repair_sum = repair_sum - COALESCE(OLD.repair_seconds, 0)
        WHERE center_id = OLD.center_id AND day = (OLD.requested_at + INTERVAL '8 hours')::date
          AND lead_id = COALESCE(OLD.lead_technician_id, '') AND kind = OLD.kind AND status = OLD.status;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO kpi_order_days AS r (center_id, day, lead_id, kind, status, n, wait_n, wait_sum, repair_n, repair_sum)
        VALUES (NEW.center_id, (NEW.requested_at + INTERVAL '8 hours')::date, COALESCE(NEW.lead_technician_id, ''),
                NEW.kind, NEW.status, 1, (NEW.wait_seconds IS NOT NULL)::int, COALESCE(NEW.wait_seconds, 0),
                (NEW.repair_seconds IS NOT NULL)::int, COALESCE(NEW.repair_seconds, 0))
        ON CONFLICT (center_id, day, lead_id, kind, status) DO UPDATE SET
            n = r.n + 1, wait_n = r.wait_n + EXCLUDED.wait_n, wait_sum = r.wait_sum + EXCLUDED.wait_sum,
            repair_n = r.repair_n + EXCLUDED.repair_n, repair_sum = r.repair_sum + EXCLUDED.repair_sum;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER work_orders_kpi_insert_delete AFTER INSERT OR DELETE ON work_orders
    FOR EACH ROW EXECUTE FUNCTION kpi_order_days_track();
CREATE TRIGGER work_orders_kpi_update
    AFTER UPDATE OF center_id, requested_at, lead_technician_id, kind, status, wait_seconds, repair_seconds
    ON work_orders
    FOR EACH ROW
    WHEN (OLD.center_id IS DISTINCT FROM NEW.center_id OR OLD.requested_at IS DISTINCT FROM NEW.requested_at
          OR OLD.lead_technician_id IS DISTINCT FROM NEW.lead_technician_id OR OLD.kind IS DISTINCT FROM NEW.kind
          OR OLD.status IS DISTINCT FROM NEW.status OR OLD.wait_seconds IS DISTINCT FROM NEW.wait_seconds
          OR OLD.repair_seconds IS DISTINCT FROM NEW.repair_seconds)
    EXECUTE FUNCTION kpi_order_days_track();

-- the period's counts and sums come from kpi_order_days now
DROP INDEX work_orders_kpi;
-- the p90s are read from the top of these (nearest rank, counted down from the largest)
CREATE INDEX work_orders_kpi_lead_wait ON work_orders
    (lead_technician_id, wait_seconds, requested_at, center_id);
CREATE INDEX work_orders_kpi_lead_repair ON work_orders
    (lead_technician_id, repair_seconds, requested_at, center_id);
