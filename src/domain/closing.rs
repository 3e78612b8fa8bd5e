//! When a completed order may close. The handbook's order (篇三) is completed → money
//! remitted → finance confirms → follow-up → closed: a technician hands the cash they
//! collected to finance "立即" on returning, and the order stays open until finance has
//! counted it and the customer was called.

use super::ledger::PaymentMethod;

/// Where a payment collected on site stands with finance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handover {
    /// in no remittance: the money is still in the technician's hands
    NotRemitted,
    /// handed over, finance has not counted it yet
    Unconfirmed,
    /// counted and confirmed by finance
    Confirmed,
}

/// One live (not reversed) collection of the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collection {
    pub method: PaymentMethod,
    pub on_site: bool,
    pub handover: Handover,
}

/// The completion follow-up call of the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    /// not made yet (or not recorded)
    Pending,
    /// the customer was reached and scored the job
    Recorded,
    /// the customer could not be reached after the center's number of attempts
    Unreachable,
}

/// What the order's close waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closing<'a> {
    /// the charge is settled (paid, invoiced, waived, written off, or nothing to pay) with
    /// no adjustment waiting for a manager
    pub charge_settled: bool,
    pub collections: &'a [Collection],
    pub follow_up: FollowUp,
}

/// Why an order cannot close yet, in the order the handbook's steps come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocker {
    /// the charge is not settled, or an adjustment waits for a manager
    ChargeUnsettled,
    /// cash collected on site is in no remittance
    CashNotRemitted,
    /// cash collected on site is in a remittance finance has not confirmed
    RemittanceUnconfirmed,
    /// the completion follow-up is neither recorded nor recorded as unreachable
    FollowUpPending,
}

impl Blocker {
    pub fn code(self) -> &'static str {
        match self {
            Blocker::ChargeUnsettled => "charge_unsettled",
            Blocker::CashNotRemitted => "cash_not_remitted",
            Blocker::RemittanceUnconfirmed => "remittance_unconfirmed",
            Blocker::FollowUpPending => "follow_up_pending",
        }
    }

    /// What is still to be done (English, for the problem's `detail` and logs).
    pub fn detail(self) -> &'static str {
        match self {
            Blocker::ChargeUnsettled => "the charge is not settled: collect, invoice, or waive it",
            Blocker::CashNotRemitted => {
                "cash collected on site is still with the technician: hand it over to finance"
            }
            Blocker::RemittanceUnconfirmed => {
                "the cash was handed over but finance has not confirmed the remittance"
            }
            Blocker::FollowUpPending => {
                "the completion follow-up call is not recorded (or recorded as unreachable)"
            }
        }
    }
}

/// Whether money collected this way passes through the technician's hands and so must be
/// handed over to finance. Bank transfers, WeChat, Alipay and POS go straight to the
/// company's account.
pub fn needs_remittance(method: PaymentMethod, on_site: bool) -> bool {
    on_site && method == PaymentMethod::Cash
}

/// Everything that keeps the order from closing; empty when it may close.
pub fn close_blockers(c: &Closing) -> Vec<Blocker> {
    let mut out = Vec::new();
    if !c.charge_settled {
        out.push(Blocker::ChargeUnsettled);
    }
    let cash = || {
        c.collections
            .iter()
            .filter(|p| needs_remittance(p.method, p.on_site))
    };
    if cash().any(|p| p.handover == Handover::NotRemitted) {
        out.push(Blocker::CashNotRemitted);
    }
    if cash().any(|p| p.handover == Handover::Unconfirmed) {
        out.push(Blocker::RemittanceUnconfirmed);
    }
    if c.follow_up == FollowUp::Pending {
        out.push(Blocker::FollowUpPending);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cash(handover: Handover) -> Collection {
        Collection {
            method: PaymentMethod::Cash,
            on_site: true,
            handover,
        }
    }

    #[test]
    fn an_order_closes_when_settled_confirmed_and_called() {
        let paid = [cash(Handover::Confirmed)];
        for follow_up in [FollowUp::Recorded, FollowUp::Unreachable] {
            let c = Closing {
                charge_settled: true,
                collections: &paid,
                follow_up,
            };
            assert_eq!(close_blockers(&c), []);
        }
    }

    #[test]
    fn every_blocker_is_named_in_the_handbooks_order() {
        let paid = [cash(Handover::NotRemitted), cash(Handover::Unconfirmed)];
        let c = Closing {
            charge_settled: false,
            collections: &paid,
            follow_up: FollowUp::Pending,
        };
        assert_eq!(
            close_blockers(&c),
            [
                Blocker::ChargeUnsettled,
                Blocker::CashNotRemitted,
                Blocker::RemittanceUnconfirmed,
                Blocker::FollowUpPending
            ]
        );
    }

    #[test]
    fn money_that_never_was_in_the_technicians_hands_needs_no_remittance() {
        let paid: Vec<Collection> = [
            PaymentMethod::Wechat,
            PaymentMethod::BankTransfer,
            PaymentMethod::Alipay,
            PaymentMethod::Pos,
        ]
        .into_iter()
        .map(|method| Collection {
            method,
            on_site: true,
            handover: Handover::NotRemitted,
        })
        .collect();
        let c = Closing {
            charge_settled: true,
            collections: &paid,
            follow_up: FollowUp::Recorded,
        };
        assert_eq!(close_blockers(&c), []);
        // cash handed over but not counted still waits for finance
        let c = Closing {
            collections: &[cash(Handover::Unconfirmed)],
            ..c
        };
        assert_eq!(close_blockers(&c), [Blocker::RemittanceUnconfirmed]);
    }
}
