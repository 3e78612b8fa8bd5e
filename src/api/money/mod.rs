//! Money: an order's charge and its adjustments, collections on site with receipts, the
//! ledger and its reversals, remittances to finance and their discrepancies, and credit
//! customers' invoices. The use cases are `app::charges`, `app::payments`,
//! `app::remittances` and `app::invoices`; who may is `access::allowed` on
//! `Resource::Money(..)`.
//!
//! Who: technicians collect on the orders they are on and hand over their own payments;
//! finance sees its center's money, confirms remittances, records fapiao numbers and
//! invoice payments; managers approve adjustments and reversals and resolve discrepancies.
//! Agents handle no money. Anything outside the caller's scope answers 404.

mod charges;
pub mod input;
mod invoices;
mod payments;
mod remittances;

pub use charges::*;
pub use invoices::*;
pub use payments::*;
pub use remittances::*;
