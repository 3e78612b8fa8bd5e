DROP TABLE follow_up_attempts;
ALTER TABLE follow_ups DROP COLUMN unreachable;
ALTER TABLE feedback_settings DROP COLUMN follow_up_attempts;
