DROP INDEX work_orders_kpi_lead_repair;
DROP INDEX work_orders_kpi_lead_wait;
CREATE INDEX work_orders_kpi ON work_orders
    (center_id, requested_at, kind, status, lead_technician_id, wait_seconds, repair_seconds);
DROP TRIGGER work_orders_kpi_delete;
DROP TRIGGER work_orders_kpi_update;
DROP TRIGGER work_orders_kpi_insert;
DROP TABLE kpi_order_days;
