DROP INDEX work_order_lines_done_idx;
ALTER TABLE vehicles DROP COLUMN plate_colour;
