-- PostgreSQL only (the KPI trigger locks its rows in key order): SQLite serializes
-- its writers, so its trigger cannot deadlock.
SELECT 1;
