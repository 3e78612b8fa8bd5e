ALTER TABLE proof_rules DROP COLUMN report_iccid;
ALTER TABLE proof_rules DROP COLUMN report_acc;
ALTER TABLE proof_rules DROP COLUMN report_required;
DROP TABLE report_waivers;
DROP TABLE terminal_checks;
