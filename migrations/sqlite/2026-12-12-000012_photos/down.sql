DROP TABLE photo_waivers;
DROP TABLE proof_rules;
DROP TABLE order_photos;
