//! Integration tests: each spawns the real app on its own fresh database (SQLite file, or a
//! new PostgreSQL database when DISPATCH_TEST_DATABASE_URL is set) and talks HTTP to it.

mod fixtures;
mod helpers;

mod archive_warranty;
mod auth;
mod centers_users;
mod customers_vehicles;
mod desk_tickets;
mod documents;
mod equipment;
mod events;
mod feedback;
mod first_report;
mod hardening;
mod ledger;
mod mail;
mod money;
mod openapi;
mod order_view;
mod orders;
mod outage;
mod photos;
mod plan;
mod protocol;
mod roles;
mod search;
mod stock;
mod traccar_fake;
mod vendor;
