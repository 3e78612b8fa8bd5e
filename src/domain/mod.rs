//! The domain: plain types and rules. No actix, no diesel, no I/O: every rule here is
//! unit-tested in microseconds.

/// A closed set of names stored as TEXT and sent as snake_case strings: derives serde
/// (snake_case) and `utoipa::ToSchema`, and adds `ALL`, `as_str`, `parse` and `names`.
/// The literal given for each variant must be its snake_case name, so that `as_str` and
/// serde agree.
macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
            /// The accepted names, for error messages.
            pub fn names() -> String {
                [$($text),+].join(", ")
            }
        }
    };
}

pub mod access;
pub mod closing;
pub mod feedback;
pub mod fees;
pub mod format;
pub mod ids;
pub mod jt808;
pub mod ledger;
pub mod money;
pub mod notice;
pub mod order;
pub mod photos;
pub mod ranking;
pub mod registry;
pub mod reported_time;
pub mod search;
pub mod stock;
pub mod tracking;
pub mod warranty;

pub use reported_time::reported_time;

/// A document number: `{prefix}-{center}-{year}-{seq}`, e.g. `AZ-ZZ-2026-000123` — the
/// service center code trimmed and in upper case, the year, and the center's gapless
/// sequence number for that kind and year, zero-padded to six digits (wider when it needs
/// more).
pub fn document_number(prefix: &str, center_code: &str, year: i32, seq: i64) -> String {
    format!(
        "{prefix}-{}-{year}-{seq:06}",
        center_code.trim().to_ascii_uppercase()
    )
}

/// The calendar day in China (Asia/Shanghai, UTC+8 all year) that a UTC time falls on:
/// warranty, receipts' years and the reports' days go by it.
pub fn china_day(t: chrono::NaiveDateTime) -> chrono::NaiveDate {
    (t + chrono::Duration::hours(8)).date()
}
