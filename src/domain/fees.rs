//! What the customer pays for a visit.
//!
//! Policy (客户服务管理制度 篇三, 服务承诺 3): "售出的GPS系列产品保修期外维修只收零部件费用" —
//! out of warranty a repair costs the parts only, never labour; in warranty it is free.
//! Installation is "免费上门设计、安装" (free design and fitting on site): no labour either,
//! but parts used beyond the terminal itself (brackets, harnesses, fuses, per the price
//! list) are charged, so install orders call [`compute`] with `in_warranty = false` and
//! the parts used.
//!
//! 凡属有偿服务 (every paid service) is collected on site by the technician against a
//! receipt; that is the caller's business, this module only says how much.

use serde::Serialize;

use super::money::Fen;

/// One kind of part used on an order: a price-list unit price times a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartUse {
    pub unit_price: Fen,
    pub quantity: i32,
}

/// The fee for an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Fee {
    /// The value of all parts used, kept for the record even when they are free.
    pub parts_total: Fen,
    /// Always zero: labour is never charged (保修期外维修只收零部件费用; installs are free).
    pub labour: Fen,
    /// What the customer pays.
    pub total: Fen,
    /// Why the total is zero although parts were used: `"in_warranty"`.
    #[schema(value_type = Option<String>)]
    pub free_reason: Option<&'static str>,
}

/// Why a fee could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FeeError {
    #[error("the fee is too large")]
    Overflow,
    #[error("part quantities must not be negative")]
    NegativeQuantity,
    #[error("part prices must not be negative")]
    NegativePrice,
}

impl FeeError {
    pub fn code(self) -> &'static str {
        match self {
            FeeError::Overflow => "fee_overflow",
            FeeError::NegativeQuantity => "negative_quantity",
            FeeError::NegativePrice => "negative_price",
        }
    }
}

/// The reason recorded when an in-warranty repair is free.
pub const FREE_IN_WARRANTY: &str = "in_warranty";

/// The fee for a visit that used `parts`.
///
/// * in warranty: free — `total` 0, `parts_total` still the value of the parts used,
///   `free_reason` `Some("in_warranty")`;
/// * out of warranty, and every install order: `total = parts_total`, labour 0.
///
/// A zero quantity is allowed and adds nothing. Negative quantities or prices are
/// refused (a return is a reversal entry, not a negative part), as is a sum that does
/// not fit in `i64` fen.
pub fn compute(in_warranty: bool, parts: &[PartUse]) -> Result<Fee, FeeError> {
    let mut parts_total = Fen::ZERO;
    for p in parts {
        if p.quantity < 0 {
            return Err(FeeError::NegativeQuantity);
        }
        if p.unit_price.is_negative() {
            return Err(FeeError::NegativePrice);
        }
        let line = p
            .unit_price
            .checked_mul(i64::from(p.quantity))
            .ok_or(FeeError::Overflow)?;
        parts_total = parts_total.checked_add(line).ok_or(FeeError::Overflow)?;
    }
    let labour = Fen::ZERO;
    Ok(if in_warranty {
        Fee {
            parts_total,
            labour,
            total: Fen::ZERO,
            free_reason: Some(FREE_IN_WARRANTY),
        }
    } else {
        Fee {
            parts_total,
            labour,
            total: parts_total.checked_add(labour).ok_or(FeeError::Overflow)?,
            free_reason: None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(unit_price: i64, quantity: i32) -> PartUse {
        PartUse {
            unit_price: Fen(unit_price),
            quantity,
        }
    }

    #[test]
    fn out_of_warranty_pays_parts_only() {
        let fee = compute(false, &[part(12_800, 1), part(350, 4)]).unwrap();
        assert_eq!(
            fee,
            Fee {
                parts_total: Fen(14_200),
                labour: Fen(0),
                total: Fen(14_200),
                free_reason: None
            }
        );
    }

    #[test]
    fn in_warranty_is_free_but_parts_are_recorded() {
        let fee = compute(true, &[part(12_800, 1), part(350, 4)]).unwrap();
        assert_eq!(
            fee,
            Fee {
                parts_total: Fen(14_200),
                labour: Fen(0),
                total: Fen(0),
                free_reason: Some("in_warranty")
            }
        );
    }

    #[test]
    fn no_parts_costs_nothing() {
        let fee = compute(false, &[]).unwrap();
        assert_eq!(fee.total, Fen(0));
        assert_eq!(fee.free_reason, None);
        let fee = compute(true, &[]).unwrap();
        assert_eq!(fee.total, Fen(0));
        assert_eq!(fee.free_reason, Some("in_warranty"));
    }

    #[test]
    fn install_brackets_are_charged() {
        // an install order: in_warranty = false, brackets and fuses from the price list
        let fee = compute(false, &[part(1_500, 3), part(200, 3), part(0, 3)]).unwrap();
        assert_eq!(fee.total, Fen(5_100));
        assert_eq!(fee.labour, Fen(0));
    }

    #[test]
    fn zero_quantity_adds_nothing() {
        assert_eq!(compute(false, &[part(9_999, 0)]).unwrap().total, Fen(0));
    }

    #[test]
    fn bad_input_and_overflow_are_refused() {
        assert_eq!(
            compute(false, &[part(100, -1)]),
            Err(FeeError::NegativeQuantity)
        );
        assert_eq!(
            compute(true, &[part(-100, 1)]),
            Err(FeeError::NegativePrice)
        );
        assert_eq!(
            compute(false, &[part(i64::MAX, 2)]),
            Err(FeeError::Overflow)
        );
        assert_eq!(
            compute(true, &[part(i64::MAX, 1), part(1, 1)]),
            Err(FeeError::Overflow)
        );
        assert_eq!(
            compute(false, &[part(i64::MAX / i64::from(i32::MAX), i32::MAX)])
                .unwrap()
                .total,
            Fen(i64::MAX / i64::from(i32::MAX) * i64::from(i32::MAX))
        );
        assert_eq!(FeeError::Overflow.code(), "fee_overflow");
    }

    #[test]
    fn serializes_amounts_as_fen() {
        let fee = compute(true, &[part(12_800, 1)]).unwrap();
        assert_eq!(
            serde_json::to_value(fee).unwrap(),
            serde_json::json!({
                "parts_total": 12800, "labour": 0, "total": 0, "free_reason": "in_warranty"
            })
        );
    }
}
