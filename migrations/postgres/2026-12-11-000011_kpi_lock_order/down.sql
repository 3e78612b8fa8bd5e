CREATE OR REPLACE FUNCTION kpi_order_days_track() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP FUNCTION kpi_order_days_add(work_orders);
DROP FUNCTION kpi_order_days_remove(work_orders);
