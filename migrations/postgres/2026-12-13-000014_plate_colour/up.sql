-- The install ledger (安装台账): a vehicle's plate colour (车牌颜色), which the monitoring
-- platform and the regulators' audit of 两客一危 fleets need beside the plate. Unknown
-- (NULL) until someone records it. blue 蓝, yellow 黄, black 黑, white 白, green 绿 (new
-- energy, small), yellow_green 黄绿 (new energy, large).
ALTER TABLE vehicles ADD COLUMN plate_colour TEXT NULL
    CHECK (plate_colour IN ('blue', 'yellow', 'black', 'white', 'green', 'yellow_green'));

-- The ledger reads done lines by their install time.
CREATE INDEX work_order_lines_done_idx ON work_order_lines (done_at);
