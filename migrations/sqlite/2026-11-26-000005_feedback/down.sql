DROP INDEX order_events_action;
DROP INDEX work_orders_kpi_repair;
DROP INDEX work_orders_kpi_wait;
DROP INDEX work_orders_kpi;
DROP TABLE follow_ups;
DROP TABLE ticket_events;
DROP TABLE tickets;
DROP TABLE feedback_settings;
