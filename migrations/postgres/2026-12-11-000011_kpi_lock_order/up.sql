-- The KPI rollup trigger touched the old status's row, then the new one's. Two orders of
-- one center, day and lead moving in opposite directions through two statuses (and a
-- technician's whole day moves at once on several orders) locked the same pair of rows
-- in opposite orders: PostgreSQL found a deadlock and one action failed. The two rows
-- are now always locked in key order, so concurrent transitions queue instead.
CREATE FUNCTION kpi_order_days_remove(o work_orders) RETURNS void LANGUAGE sql AS $$
    UPDATE kpi_order_days SET
        n = n - 1,
        wait_n = wait_n - (o.wait_seconds IS NOT NULL)::int, wait_sum = wait_sum - COALESCE(o.wait_seconds, 0),
        repair_n = repair_n - (o.repair_seconds IS NOT NULL)::int, repair_sum = repair_sum - COALESCE(o.repair_seconds, 0)
    WHERE center_id = o.center_id AND day = (o.requested_at + INTERVAL '8 hours')::date
      AND lead_id = COALESCE(o.lead_technician_id, '') AND kind = o.kind AND status = o.status;
$$;

CREATE FUNCTION kpi_order_days_add(o work_orders) RETURNS void LANGUAGE sql AS $$
    INSERT INTO kpi_order_days AS r (center_id, day, lead_id, kind, status, n, wait_n, wait_sum, repair_n, repair_sum)
    VALUES (o.center_id, (o.requested_at + INTERVAL '8 hours')::date, COALESCE(o.lead_technician_id, ''),
            o.kind, o.status, 1, (o.wait_seconds IS NOT NULL)::int, COALESCE(o.wait_seconds, 0),
            (o.repair_seconds IS NOT NULL)::int, COALESCE(o.repair_seconds, 0))
    ON CONFLICT (center_id, day, lead_id, kind, status) DO UPDATE SET
        n = r.n + 1, wait_n = r.wait_n + EXCLUDED.wait_n, wait_sum = r.wait_sum + EXCLUDED.wait_sum,
        repair_n = r.repair_n + EXCLUDED.repair_n, repair_sum = r.repair_sum + EXCLUDED.repair_sum;
$$;

CREATE OR REPLACE FUNCTION kpi_order_days_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_first BOOLEAN := TRUE;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        old_first := ROW(OLD.center_id, (OLD.requested_at + INTERVAL '8 hours')::date,
                         COALESCE(OLD.lead_technician_id, ''), OLD.kind, OLD.status)
                  <= ROW(NEW.center_id, (NEW.requested_at + INTERVAL '8 hours')::date,
                         COALESCE(NEW.lead_technician_id, ''), NEW.kind, NEW.status);
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND old_first THEN
        PERFORM kpi_order_days_remove(OLD);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM kpi_order_days_add(NEW);
    END IF;
    IF TG_OP = 'UPDATE' AND NOT old_first THEN
        PERFORM kpi_order_days_remove(OLD);
    END IF;
    RETURN NULL;
END
$$;
