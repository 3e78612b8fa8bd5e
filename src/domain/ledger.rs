//! Money owed and money collected: charges, discounts and waivers, the payment ledger with
//! its reversals, remittances to finance (交款) and the aging of credit customers' invoices.
//!
//! Policy (篇三): "凡属有偿服务，应由维修人员直接向客户收取费用，并开具发票，回到公司后，立即将款交于
//! 财务" — the technician collects a paid service on site against a receipt and hands the
//! money to finance on return. Fleet customers on credit terms (挂账) do not pay on site:
//! their charges gather on a periodic invoice (账单) paid by bank transfer.
//!
//! The ledger is insert-only. A payment is never edited or deleted; a mistake is corrected
//! by a reversal, a negative entry that references the original. From that one rule the
//! technician's cash in hand is always derivable: the sum of their on-site ledger entries
//! not yet handed over, which is `collected − remitted`.

use chrono::{NaiveDate, NaiveDateTime};

use super::money::Fen;

str_enum!(
    /// How a customer paid.
    PaymentMethod {
        Cash = "cash",
        Wechat = "wechat",
        Alipay = "alipay",
        BankTransfer = "bank_transfer",
        Pos = "pos",
    }
);

impl PaymentMethod {
    /// The name on receipts and in exports.
    pub fn label_zh(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "现金",
            PaymentMethod::Wechat => "微信支付",
            PaymentMethod::Alipay => "支付宝",
            PaymentMethod::BankTransfer => "银行转账",
            PaymentMethod::Pos => "POS刷卡",
        }
    }
}

str_enum!(
    /// Where a charge stands. Every status but `open` is settled: the order may close.
    ChargeStatus {
        /// nothing to pay (in warranty, no parts)
        NoCharge = "no_charge",
        Open = "open",
        Paid = "paid",
        /// on a credit customer's invoice (账单)
        Invoiced = "invoiced",
        Waived = "waived",
        WrittenOff = "written_off",
    }
);

impl ChargeStatus {
    pub fn is_settled(self) -> bool {
        self != ChargeStatus::Open
    }
}

str_enum!(
    AdjustmentKind {
        /// part of the amount forgiven
        Discount = "discount",
        /// all that is still due forgiven
        Waiver = "waiver",
        /// all that is still due given up as uncollectable; always a manager's decision
        WriteOff = "write_off",
    }
);

str_enum!(
    /// A ledger entry: money in, or a reversal (a negative entry voiding one).
    PaymentKind { Collection = "collection", Reversal = "reversal" }
);

str_enum!(
    /// A remittance (交款): handed over, then counted and confirmed by finance.
    RemittanceStatus { Submitted = "submitted", Confirmed = "confirmed" }
);

str_enum!(
    /// A difference between a remittance and what finance counted.
    DiscrepancyStatus { Open = "open", Resolved = "resolved" }
);

str_enum!(
    AdjustmentStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
);

/// The money on one charge, as the ledger has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChargeState {
    pub amount: Fen,
    /// approved discounts, waivers and write-offs
    pub adjusted: Fen,
    /// collections net of reversals
    pub paid: Fen,
    /// put on a credit customer's invoice
    pub invoiced: bool,
    /// one of the approved adjustments was a write-off
    pub written_off: bool,
}

impl ChargeState {
    pub fn new(amount: Fen) -> Self {
        ChargeState {
            amount,
            adjusted: Fen::ZERO,
            paid: Fen::ZERO,
            invoiced: false,
            written_off: false,
        }
    }

    /// What the customer still owes.
    pub fn due(&self) -> Fen {
        Fen(self.amount.0 - self.adjusted.0 - self.paid.0)
    }

    pub fn status(&self) -> ChargeStatus {
        if self.amount.is_zero() {
            ChargeStatus::NoCharge
        } else if self.invoiced {
            ChargeStatus::Invoiced
        } else if self.due().0 > 0 {
            ChargeStatus::Open
        } else if self.written_off {
            // given up on (the rest of) it: say so even when part was paid
            ChargeStatus::WrittenOff
        } else if self.paid.0 > 0 {
            ChargeStatus::Paid
        } else {
            ChargeStatus::Waived
        }
    }
}

/// Why money cannot move as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LedgerRefusal {
    #[error("the amount must be more than zero")]
    NotPositive,
    #[error("the amount is more than the {due} still owed")]
    Overpayment { due: Fen },
    #[error("nothing is owed on this charge")]
    NothingDue,
    #[error("a credit customer's charge is paid through its invoice, not on site")]
    OnAccount,
    #[error("the payment was already reversed")]
    AlreadyReversed,
    #[error("a reversal cannot be reversed")]
    ReversalOfReversal,
    #[error("the payment was handed to finance; it can no longer be reversed on site")]
    AlreadyRemitted,
    #[error("only a credit customer's charge goes on an invoice")]
    NotOnAccount,
}

impl LedgerRefusal {
    pub fn code(self) -> &'static str {
        match self {
            LedgerRefusal::NotPositive => "amount_not_positive",
            LedgerRefusal::Overpayment { .. } => "overpayment",
            LedgerRefusal::NothingDue => "nothing_due",
            LedgerRefusal::OnAccount => "charge_on_account",
            LedgerRefusal::AlreadyReversed => "already_reversed",
            LedgerRefusal::ReversalOfReversal => "reversal_of_reversal",
            LedgerRefusal::AlreadyRemitted => "payment_remitted",
            LedgerRefusal::NotOnAccount => "not_on_account",
        }
    }

    /// A client mistake in the amount (422) rather than the state of things (409).
    pub fn is_invalid_input(self) -> bool {
        matches!(self, LedgerRefusal::NotPositive)
    }
}

/// Checks a collection on site of `amount` against a charge of `credit` terms.
pub fn check_collection(
    charge: &ChargeState,
    credit: bool,
    amount: Fen,
) -> Result<(), LedgerRefusal> {
    if amount.0 <= 0 {
        return Err(LedgerRefusal::NotPositive);
    }
    if credit || charge.invoiced {
        return Err(LedgerRefusal::OnAccount);
    }
    let due = charge.due();
    if due.0 <= 0 {
        return Err(LedgerRefusal::NothingDue);
    }
    if amount > due {
        return Err(LedgerRefusal::Overpayment { due });
    }
    Ok(())
}

/// Checks a bank payment of `amount` against an invoice with `balance` still open.
pub fn check_invoice_payment(balance: Fen, amount: Fen) -> Result<(), LedgerRefusal> {
    if amount.0 <= 0 {
        return Err(LedgerRefusal::NotPositive);
    }
    if balance.0 <= 0 {
        return Err(LedgerRefusal::NothingDue);
    }
    if amount > balance {
        return Err(LedgerRefusal::Overpayment { due: balance });
    }
    Ok(())
}

/// What is known of a payment someone asks to reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReversalCheck {
    pub is_reversal: bool,
    pub already_reversed: bool,
    /// an on-site collection already in a remittance
    pub remitted: bool,
}

/// Whether a payment may be reversed. A collection still in the technician's hands may; one
/// handed over may not (its money is finance's now: a refund is finance's business, and a
/// reversal there would make the technician's cash in hand negative).
pub fn check_reversal(p: ReversalCheck) -> Result<(), LedgerRefusal> {
    if p.is_reversal {
        Err(LedgerRefusal::ReversalOfReversal)
    } else if p.already_reversed {
        Err(LedgerRefusal::AlreadyReversed)
    } else if p.remitted {
        Err(LedgerRefusal::AlreadyRemitted)
    } else {
        Ok(())
    }
}

/// Who asks for a discount, waiver or write-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    /// a manager (or admin): their request is their approval
    Approver,
    /// the technician who collects: never forgives a customer's fee by themselves, however
    /// small (every discount or waiver they ask waits for a manager)
    Technician,
    /// finance: within the center's threshold a discount or waiver counts at once
    Other,
}

/// What becomes of a requested adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdjustmentDecision {
    /// counts at once
    Approved,
    /// waits for a manager; counts nothing until approved
    NeedsApproval,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdjustmentRefusal {
    #[error("the amount must be more than zero")]
    NotPositive,
    #[error("the adjustment is more than the {due} still owed")]
    MoreThanDue { due: Fen },
    #[error("nothing is owed on this charge")]
    NothingDue,
    #[error("a charge on an invoice is settled through the invoice")]
    Invoiced,
    #[error("the charge already has an adjustment waiting for approval")]
    PendingExists,
}

impl AdjustmentRefusal {
    pub fn code(self) -> &'static str {
        match self {
            AdjustmentRefusal::NotPositive => "amount_not_positive",
            AdjustmentRefusal::MoreThanDue { .. } => "adjustment_exceeds_due",
            AdjustmentRefusal::NothingDue => "nothing_due",
            AdjustmentRefusal::Invoiced => "charge_invoiced",
            AdjustmentRefusal::PendingExists => "adjustment_pending",
        }
    }
}

/// The amount an adjustment forgives: a discount its own amount; a waiver or write-off
/// everything still due (an amount given for those must equal it, if given at all).
pub fn adjustment_amount(
    kind: AdjustmentKind,
    requested: Option<Fen>,
    charge: &ChargeState,
) -> Result<Fen, AdjustmentRefusal> {
    if charge.invoiced {
        return Err(AdjustmentRefusal::Invoiced);
    }
    let due = charge.due();
    if due.0 <= 0 {
        return Err(AdjustmentRefusal::NothingDue);
    }
    let amount = match (kind, requested) {
        (AdjustmentKind::Discount, Some(a)) => a,
        (AdjustmentKind::Discount, None) => return Err(AdjustmentRefusal::NotPositive),
        (_, Some(a)) if a != due => return Err(AdjustmentRefusal::MoreThanDue { due }),
        (_, _) => due,
    };
    if amount.0 <= 0 {
        return Err(AdjustmentRefusal::NotPositive);
    }
    if amount > due {
        return Err(AdjustmentRefusal::MoreThanDue { due });
    }
    Ok(amount)
}

/// Whether an adjustment of `amount` counts at once or waits for a manager: a discount or
/// waiver counts at once while the charge's adjustments in all (`already` approved plus
/// this one) stay within the center's threshold — ten small discounts are one large one;
/// above it, and every write-off, a manager decides, unless a manager asks, whose request
/// is the approval. Whatever a technician asks waits for a manager.
pub fn adjustment_decision(
    kind: AdjustmentKind,
    amount: Fen,
    already: Fen,
    threshold: Fen,
    who: Requester,
) -> AdjustmentDecision {
    match who {
        Requester::Approver => return AdjustmentDecision::Approved,
        Requester::Technician => return AdjustmentDecision::NeedsApproval,
        Requester::Other => {}
    }
    match kind {
        AdjustmentKind::WriteOff => AdjustmentDecision::NeedsApproval,
        _ if amount.0.saturating_add(already.0) > threshold.0 => AdjustmentDecision::NeedsApproval,
        _ => AdjustmentDecision::Approved,
    }
}

/// How a counted remittance came out: `received − expected`, `None` when it matched.
/// Negative is short (the technician handed over less than the receipts say).
pub fn discrepancy(expected: Fen, received: Fen) -> Option<Fen> {
    let d = received.0 - expected.0;
    (d != 0).then_some(Fen(d))
}

/// One entry of a technician's on-site ledger, for the cash-in-hand rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandEntry {
    /// positive for a collection, negative for a reversal
    pub amount: Fen,
    /// the collection (or, for a reversal, its original) is in a remittance
    pub remitted: bool,
}

/// The money a technician still holds: their on-site entries not yet handed over. Equal to
/// `collected − remitted` because a handed-over payment cannot be reversed and a reversed
/// one cannot be handed over; never negative for the same reason.
pub fn cash_in_hand(entries: &[HandEntry]) -> Fen {
    entries
        .iter()
        .filter(|e| !e.remitted)
        .map(|e| e.amount)
        .sum()
}

str_enum!(
    /// How long an invoice's balance is overdue.
    AgingBucket {
        /// not yet due
        Current = "current",
        Days1To30 = "days_1_30",
        Days31To60 = "days_31_60",
        Days61To90 = "days_61_90",
        Over90 = "over_90",
    }
);

/// The aging bucket of an invoice due on `due` as seen on `as_of`.
pub fn aging_bucket(due: NaiveDate, as_of: NaiveDate) -> AgingBucket {
    match (as_of - due).num_days() {
        d if d <= 0 => AgingBucket::Current,
        1..=30 => AgingBucket::Days1To30,
        31..=60 => AgingBucket::Days31To60,
        61..=90 => AgingBucket::Days61To90,
        _ => AgingBucket::Over90,
    }
}

/// Receipt (收据) numbers: `SJ-{center}-{year}-{seq}`, gapless per center and year.
pub fn receipt_number(center_code: &str, year: i32, seq: i64) -> String {
    super::document_number("SJ", center_code, year, seq)
}

/// Invoice (账单) numbers: `ZD-{center}-{year}-{seq}`.
pub fn invoice_number(center_code: &str, year: i32, seq: i64) -> String {
    super::document_number("ZD", center_code, year, seq)
}

/// The invoice's due date: issued on `issue`, payable within the customer's credit days.
pub fn due_date(issue: NaiveDate, credit_days: i32) -> NaiveDate {
    issue + chrono::Duration::days(i64::from(credit_days.max(0)))
}

/// The China day of a UTC time (kept beside it so reports group by an index).
pub fn day_of(t: NaiveDateTime) -> NaiveDate {
    super::china_day(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn charge_status_follows_the_money() {
        let mut c = ChargeState::new(Fen(12800));
        assert_eq!(c.status(), ChargeStatus::Open);
        c.paid = Fen(5000);
        assert_eq!((c.status(), c.due()), (ChargeStatus::Open, Fen(7800)));
        c.adjusted = Fen(800);
        c.paid = Fen(12000);
        assert_eq!(c.status(), ChargeStatus::Paid);
        let mut w = ChargeState::new(Fen(100));
        w.adjusted = Fen(100);
        assert_eq!(w.status(), ChargeStatus::Waived);
        w.written_off = true;
        assert_eq!(w.status(), ChargeStatus::WrittenOff);
        let mut part = ChargeState::new(Fen(100));
        part.paid = Fen(40);
        part.adjusted = Fen(60);
        assert_eq!(part.status(), ChargeStatus::Paid);
        part.written_off = true;
        assert_eq!(part.status(), ChargeStatus::WrittenOff);
        assert_eq!(ChargeState::new(Fen(0)).status(), ChargeStatus::NoCharge);
        let mut i = ChargeState::new(Fen(100));
        i.invoiced = true;
        assert_eq!(i.status(), ChargeStatus::Invoiced);
        assert!(ChargeStatus::Invoiced.is_settled() && !ChargeStatus::Open.is_settled());
    }

    #[test]
    fn collections_are_checked() {
        let c = ChargeState::new(Fen(12800));
        assert_eq!(check_collection(&c, false, Fen(12800)), Ok(()));
        assert_eq!(check_collection(&c, false, Fen(1)), Ok(()));
        assert_eq!(
            check_collection(&c, false, Fen(12801)),
            Err(LedgerRefusal::Overpayment { due: Fen(12800) })
        );
        assert_eq!(
            check_collection(&c, false, Fen(0)),
            Err(LedgerRefusal::NotPositive)
        );
        assert_eq!(
            check_collection(&c, false, Fen(-5)),
            Err(LedgerRefusal::NotPositive)
        );
        assert_eq!(
            check_collection(&c, true, Fen(100)),
            Err(LedgerRefusal::OnAccount)
        );
        let mut paid = c;
        paid.paid = Fen(12800);
        assert_eq!(
            check_collection(&paid, false, Fen(1)),
            Err(LedgerRefusal::NothingDue)
        );
        assert_eq!(check_invoice_payment(Fen(500), Fen(500)), Ok(()));
        assert_eq!(
            check_invoice_payment(Fen(500), Fen(501)),
            Err(LedgerRefusal::Overpayment { due: Fen(500) })
        );
        assert_eq!(
            check_invoice_payment(Fen(0), Fen(1)),
            Err(LedgerRefusal::NothingDue)
        );
    }

    #[test]
    fn reversals_only_of_unreversed_collections_in_hand() {
        let ok = ReversalCheck {
            is_reversal: false,
            already_reversed: false,
            remitted: false,
        };
        assert_eq!(check_reversal(ok), Ok(()));
        assert_eq!(
            check_reversal(ReversalCheck {
                is_reversal: true,
                ..ok
            }),
            Err(LedgerRefusal::ReversalOfReversal)
        );
        assert_eq!(
            check_reversal(ReversalCheck {
                already_reversed: true,
                ..ok
            }),
            Err(LedgerRefusal::AlreadyReversed)
        );
        assert_eq!(
            check_reversal(ReversalCheck {
                remitted: true,
                ..ok
            }),
            Err(LedgerRefusal::AlreadyRemitted)
        );
    }

    #[test]
    fn adjustments_over_the_threshold_wait_for_a_manager() {
        let t = Fen(5000);
        use AdjustmentDecision::*;
        use AdjustmentKind::*;
        assert_eq!(
            adjustment_decision(Discount, Fen(5000), Fen(0), t, Requester::Other),
            Approved
        );
        assert_eq!(
            adjustment_decision(Discount, Fen(5001), Fen(0), t, Requester::Other),
            NeedsApproval
        );
        assert_eq!(
            adjustment_decision(Waiver, Fen(12800), Fen(0), t, Requester::Other),
            NeedsApproval
        );
        assert_eq!(
            adjustment_decision(Waiver, Fen(100), Fen(0), t, Requester::Other),
            Approved
        );
        assert_eq!(
            adjustment_decision(WriteOff, Fen(1), Fen(0), t, Requester::Other),
            NeedsApproval
        );
        assert_eq!(
            adjustment_decision(WriteOff, Fen(99999), Fen(0), t, Requester::Approver),
            Approved
        );
        // a technician's request waits, however small
        for kind in [Discount, Waiver, WriteOff] {
            assert_eq!(
                adjustment_decision(kind, Fen(1), Fen(0), t, Requester::Technician),
                NeedsApproval
            );
        }
        // split discounts add up: the second ¥30 of two crosses a ¥50 threshold
        assert_eq!(
            adjustment_decision(Discount, Fen(3000), Fen(0), t, Requester::Other),
            Approved
        );
        assert_eq!(
            adjustment_decision(Discount, Fen(3000), Fen(3000), t, Requester::Other),
            NeedsApproval
        );
    }

    #[test]
    fn adjustment_amounts() {
        let mut c = ChargeState::new(Fen(12800));
        c.paid = Fen(2800);
        use AdjustmentKind::*;
        assert_eq!(
            adjustment_amount(Discount, Some(Fen(1000)), &c),
            Ok(Fen(1000))
        );
        assert_eq!(
            adjustment_amount(Discount, Some(Fen(10001)), &c),
            Err(AdjustmentRefusal::MoreThanDue { due: Fen(10000) })
        );
        assert_eq!(
            adjustment_amount(Discount, None, &c),
            Err(AdjustmentRefusal::NotPositive)
        );
        assert_eq!(
            adjustment_amount(Discount, Some(Fen(0)), &c),
            Err(AdjustmentRefusal::NotPositive)
        );
        assert_eq!(adjustment_amount(Waiver, None, &c), Ok(Fen(10000)));
        assert_eq!(
            adjustment_amount(WriteOff, Some(Fen(10000)), &c),
            Ok(Fen(10000))
        );
        assert_eq!(
            adjustment_amount(Waiver, Some(Fen(9000)), &c),
            Err(AdjustmentRefusal::MoreThanDue { due: Fen(10000) })
        );
        c.invoiced = true;
        assert_eq!(
            adjustment_amount(Waiver, None, &c),
            Err(AdjustmentRefusal::Invoiced)
        );
    }

    #[test]
    fn discrepancies_are_received_minus_expected() {
        assert_eq!(discrepancy(Fen(10000), Fen(10000)), None);
        assert_eq!(discrepancy(Fen(10000), Fen(9500)), Some(Fen(-500)));
        assert_eq!(discrepancy(Fen(10000), Fen(10100)), Some(Fen(100)));
    }

    #[test]
    fn aging_buckets_at_their_edges() {
        let due = d("2026-03-31");
        let cases = [
            ("2026-03-01", AgingBucket::Current),
            ("2026-03-31", AgingBucket::Current),
            ("2026-04-01", AgingBucket::Days1To30),
            ("2026-04-30", AgingBucket::Days1To30),
            ("2026-05-01", AgingBucket::Days31To60),
            ("2026-05-30", AgingBucket::Days31To60),
            ("2026-05-31", AgingBucket::Days61To90),
            ("2026-06-29", AgingBucket::Days61To90),
            ("2026-06-30", AgingBucket::Over90),
            ("2027-01-01", AgingBucket::Over90),
        ];
        for (as_of, bucket) in cases {
            assert_eq!(aging_bucket(due, d(as_of)), bucket, "{as_of}");
        }
    }

    #[test]
    fn numbers_and_due_dates() {
        assert_eq!(receipt_number("zz", 2026, 123), "SJ-ZZ-2026-000123");
        assert_eq!(invoice_number("ZZ", 2026, 1), "ZD-ZZ-2026-000001");
        assert_eq!(due_date(d("2026-01-31"), 30), d("2026-03-02"));
        assert_eq!(
            day_of(d("2026-11-26").and_hms_opt(16, 0, 0).unwrap()),
            d("2026-11-27")
        );
        assert_eq!(
            day_of(d("2026-11-26").and_hms_opt(15, 59, 59).unwrap()),
            d("2026-11-26")
        );
    }

    /// A model of one technician's on-site money under random operations that each pass
    /// the rules above: cash in hand is `collected − remitted` and never negative.
    #[derive(Debug, Clone)]
    enum Op {
        Collect(i64),
        Reverse(usize),
        Remit(Vec<usize>),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1i64..100_000).prop_map(Op::Collect),
            (0usize..64).prop_map(Op::Reverse),
            proptest::collection::vec(0usize..64, 1..5).prop_map(Op::Remit),
        ]
    }

    proptest! {
        #[test]
        fn cash_in_hand_is_collected_minus_remitted(ops in proptest::collection::vec(op(), 0..60)) {
            // (amount, reverses, remitted) per entry
            let mut ledger: Vec<(i64, Option<usize>, bool)> = Vec::new();
            let mut remitted_total = 0i64;
            for op in ops {
                match op {
                    Op::Collect(a) => ledger.push((a, None, false)),
                    Op::Reverse(i) => {
                        let Some(&(a, rev, remitted)) = ledger.get(i) else { continue };
                        let check = ReversalCheck {
                            is_reversal: rev.is_some(),
                            already_reversed: ledger.iter().any(|e| e.1 == Some(i)),
                            remitted,
                        };
                        if check_reversal(check).is_ok() {
                            ledger.push((-a, Some(i), false));
                        }
                    }
                    Op::Remit(picks) => {
                        let mut batch: Vec<usize> = picks
                            .into_iter()
                            .filter(|&i| {
                                ledger.get(i).is_some_and(|e| e.1.is_none() && !e.2)
                                    && !ledger.iter().any(|e| e.1 == Some(i))
                            })
                            .collect();
                        batch.sort_unstable();
                        batch.dedup();
                        for i in batch {
                            ledger[i].2 = true;
                            remitted_total += ledger[i].0;
                        }
                    }
                }
                let entries: Vec<HandEntry> = ledger
                    .iter()
                    .map(|&(a, rev, remitted)| HandEntry {
                        amount: Fen(a),
                        remitted: remitted || rev.is_some_and(|i| ledger[i].2),
                    })
                    .collect();
                let collected: i64 = ledger.iter().map(|e| e.0).sum();
                let hand = cash_in_hand(&entries);
                prop_assert_eq!(hand, Fen(collected - remitted_total));
                prop_assert!(hand.0 >= 0);
            }
        }
    }
}
