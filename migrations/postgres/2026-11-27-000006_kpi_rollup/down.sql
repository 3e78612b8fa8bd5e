DROP INDEX work_orders_kpi_lead_repair;
DROP INDEX work_orders_kpi_lead_wait;
CREATE INDEX work_orders_kpi ON work_orders
    (center_id, requested_at, kind, status, lead_technician_id, wait_seconds, repair_seconds);
DROP TRIGGER work_orders_kpi_update ON work_orders;
DROP TRIGGER work_orders_kpi_insert_delete ON work_orders;
DROP FUNCTION kpi_order_days_track();
DROP TABLE kpi_order_days;
