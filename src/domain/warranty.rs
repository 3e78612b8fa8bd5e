//! The warranty verdict for a repair call (保修期判定).
//!
//! The agent records the terminal's purchase date (购买日期) on the repair service order;
//! the system decides from it whether the repair is free. Policy: "售出的GPS系列产品保修期外
//! 维修只收零部件费用" — in warranty the repair is free, out of warranty the customer pays
//! for parts only (see [`crate::domain::fees`]).

use chrono::{Days, Months, NaiveDate};
use serde::Serialize;

/// Whether a terminal is still under warranty on a given day, and its last covered day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WarrantyVerdict {
    pub in_warranty: bool,
    /// The last day the warranty covers (inclusive).
    pub ends_on: NaiveDate,
}

/// The warranty verdict on day `on` for a terminal bought on `purchase_date` with a
/// warranty of `warranty_months` months.
///
/// A warranty of N months covers the purchase day through the day before the same day
/// N months later: bought 2025-03-15 with 12 months, covered through 2026-03-14. When the
/// later month is shorter the date is clamped to its last day first (2025-01-31 + 1 month
/// = 2025-02-28, so covered through 2025-02-27), as chrono's `checked_add_months` does.
///
/// * `warranty_months <= 0`: never in warranty; `ends_on` is the day before purchase.
/// * a repair on the purchase day itself is in warranty (if any months are given);
/// * the rule is simply `on <= ends_on`, so a day before the purchase date counts as in
///   warranty too; such a date is a data-entry error the caller should refuse earlier;
/// * an end beyond chrono's date range saturates at `NaiveDate::MAX`.
pub fn verdict(purchase_date: NaiveDate, warranty_months: i32, on: NaiveDate) -> WarrantyVerdict {
    let day_before = |d: NaiveDate| d.checked_sub_days(Days::new(1)).unwrap_or(d);
    if warranty_months <= 0 {
        return WarrantyVerdict {
            in_warranty: false,
            ends_on: day_before(purchase_date),
        };
    }
    let months = Months::new(warranty_months.unsigned_abs());
    let ends_on = purchase_date
        .checked_add_months(months)
        .map(day_before)
        .unwrap_or(NaiveDate::MAX);
    WarrantyVerdict {
        in_warranty: on <= ends_on,
        ends_on,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn twelve_months_cover_through_the_day_before_the_anniversary() {
        let v = verdict(d(2025, 3, 15), 12, d(2026, 3, 14));
        assert_eq!(
            v,
            WarrantyVerdict {
                in_warranty: true,
                ends_on: d(2026, 3, 14)
            }
        );
        let v = verdict(d(2025, 3, 15), 12, d(2026, 3, 15));
        assert!(!v.in_warranty);
        assert_eq!(v.ends_on, d(2026, 3, 14));
    }

    #[test]
    fn purchase_day_is_covered() {
        assert!(verdict(d(2025, 3, 15), 1, d(2025, 3, 15)).in_warranty);
        assert!(verdict(d(2025, 3, 15), 24, d(2025, 3, 15)).in_warranty);
    }

    #[test]
    fn month_ends_clamp() {
        // 2025-01-31 + 1 month = 2025-02-28
        assert_eq!(
            verdict(d(2025, 1, 31), 1, d(2025, 2, 1)).ends_on,
            d(2025, 2, 27)
        );
        assert!(verdict(d(2025, 1, 31), 1, d(2025, 2, 27)).in_warranty);
        assert!(!verdict(d(2025, 1, 31), 1, d(2025, 2, 28)).in_warranty);
        // leap year: 2024-01-31 + 1 month = 2024-02-29
        assert_eq!(
            verdict(d(2024, 1, 31), 1, d(2024, 2, 1)).ends_on,
            d(2024, 2, 28)
        );
        // 2024-02-29 + 12 months = 2025-02-28
        assert_eq!(
            verdict(d(2024, 2, 29), 12, d(2024, 3, 1)).ends_on,
            d(2025, 2, 27)
        );
        // 2024-02-29 + 48 months = 2028-02-29
        assert_eq!(
            verdict(d(2024, 2, 29), 48, d(2024, 3, 1)).ends_on,
            d(2028, 2, 28)
        );
        // 2025-03-31 + 1 month = 2025-04-30
        assert_eq!(
            verdict(d(2025, 3, 31), 1, d(2025, 4, 1)).ends_on,
            d(2025, 4, 29)
        );
    }

    #[test]
    fn year_and_month_boundaries() {
        assert_eq!(
            verdict(d(2025, 12, 1), 1, d(2025, 12, 1)).ends_on,
            d(2025, 12, 31)
        );
        assert_eq!(
            verdict(d(2025, 1, 1), 12, d(2025, 1, 1)).ends_on,
            d(2025, 12, 31)
        );
        assert_eq!(
            verdict(d(2025, 11, 30), 3, d(2025, 1, 1)).ends_on,
            d(2026, 2, 27)
        );
    }

    #[test]
    fn zero_or_negative_months_never_cover() {
        for months in [0, -1, -12, i32::MIN] {
            let v = verdict(d(2025, 3, 15), months, d(2025, 3, 15));
            assert_eq!(
                v,
                WarrantyVerdict {
                    in_warranty: false,
                    ends_on: d(2025, 3, 14)
                },
                "{months}"
            );
            assert!(!verdict(d(2025, 3, 15), months, d(2000, 1, 1)).in_warranty);
        }
    }

    #[test]
    fn a_day_before_purchase_is_covered() {
        assert!(verdict(d(2025, 3, 15), 12, d(2025, 3, 1)).in_warranty);
    }

    #[test]
    fn extremes_do_not_panic() {
        let v = verdict(NaiveDate::MAX, 12, NaiveDate::MAX);
        assert!(v.in_warranty);
        assert_eq!(v.ends_on, NaiveDate::MAX);
        let v = verdict(d(2025, 1, 1), i32::MAX, d(2999, 1, 1));
        assert!(v.in_warranty);
        assert_eq!(
            verdict(NaiveDate::MIN, 0, NaiveDate::MIN).ends_on,
            NaiveDate::MIN
        );
        assert!(!verdict(NaiveDate::MIN, 0, NaiveDate::MIN).in_warranty);
    }

    #[test]
    fn serializes_with_an_iso_date() {
        let v = verdict(d(2025, 1, 31), 1, d(2025, 2, 1));
        assert_eq!(
            serde_json::to_value(v).unwrap(),
            serde_json::json!({"in_warranty": true, "ends_on": "2025-02-27"})
        );
    }
}
