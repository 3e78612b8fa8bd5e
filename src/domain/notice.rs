//! Whether a queued notice is still true when its turn to be sent comes. Messages are
//! written with the change that causes them and may go out much later (after an SMTP
//! outage): a visit announcement for an order that has since been completed, or a
//! receipt for a payment since reversed, would tell the reader something false. Such a
//! message is skipped, saying what happened instead.

use super::format::beijing;
use chrono::NaiveDateTime;

use super::order::OrderStatus;

/// The message kinds whose truth depends on what happened after they were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// 【新派工】 to the lead technician
    Assigned,
    /// 【上门预约】 to the customer: "技师将于…上门"
    Scheduled,
    /// 【超时提醒】 to the managers: the technician has not arrived
    DeadlinePassed,
    /// 【收款回执】 to the customer
    PaymentReceived,
}

impl NoticeKind {
    pub fn of(kind: &str) -> Option<NoticeKind> {
        match kind {
            "order_assigned" => Some(NoticeKind::Assigned),
            "order_scheduled" => Some(NoticeKind::Scheduled),
            "deadline_passed" => Some(NoticeKind::DeadlinePassed),
            "payment_received" => Some(NoticeKind::PaymentReceived),
            _ => None,
        }
    }
}

/// The appointment a message announced, as it was when the message was written.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Announced {
    pub scheduled_at: Option<NaiveDateTime>,
    pub lead_technician_id: Option<String>,
}

/// The order as it is now.
#[derive(Debug, Clone)]
pub struct OrderNow {
    pub status: OrderStatus,
    pub scheduled_at: Option<NaiveDateTime>,
    pub lead_technician_id: Option<String>,
    pub arrived_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
}

/// What made a notice untrue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    Completed(Option<NaiveDateTime>),
    Closed,
    Cancelled,
    /// the technician is (or was) on site
    Arrived(Option<NaiveDateTime>),
    /// sent back, or waiting for approval or assignment again
    NoLongerAssigned(OrderStatus),
    Reassigned,
    Rescheduled(Option<NaiveDateTime>),
    PaymentReversed(NaiveDateTime),
}

fn at(t: Option<NaiveDateTime>) -> String {
    t.map(|t| format!("于 {} ", beijing(t))).unwrap_or_default()
}

impl Stale {
    /// Why the message was not sent, in Chinese (shown to admins in the outbox).
    pub fn reason_zh(&self) -> String {
        match self {
            Stale::Completed(t) => format!("工单已{}完工，此通知已过时，未发送", at(*t)),
            Stale::Closed => "工单已关闭，此通知已过时，未发送".into(),
            Stale::Cancelled => "工单已取消，此通知已过时，未发送".into(),
            Stale::Arrived(t) => format!("技师已{}到场，此通知已过时，未发送", at(*t)),
            Stale::NoLongerAssigned(s) => format!(
                "工单现为「{}」，不再是通知所述的派工安排，未发送",
                s.label_zh()
            ),
            Stale::Reassigned => "工单已改派其他技师，以新的通知为准，未发送".into(),
            Stale::Rescheduled(t) => format!(
                "预约上门时间已改为 {}，以新的通知为准，未发送",
                t.map(beijing).unwrap_or_else(|| "待定".into())
            ),
            Stale::PaymentReversed(t) => {
                format!("该笔收款已于 {} 冲正，收据作废，未发送", beijing(*t))
            }
        }
    }
}

/// Whether an order notice of `kind`, written when the order's appointment was
/// `announced`, still holds for the order as it is `now`. `Ok(())`: send it.
pub fn order_notice(kind: NoticeKind, announced: &Announced, now: &OrderNow) -> Result<(), Stale> {
    use OrderStatus::*;
    match now.status {
        Completed => return Err(Stale::Completed(now.completed_at)),
        Closed => return Err(Stale::Closed),
        Cancelled => return Err(Stale::Cancelled),
        _ => {}
    }
    if now.arrived_at.is_some() || matches!(now.status, OnSite | OnHold) {
        return Err(Stale::Arrived(now.arrived_at));
    }
    if kind == NoticeKind::DeadlinePassed {
        // the managers are told the technician is late: true until the arrival
        return Ok(());
    }
    if !matches!(now.status, Assigned | Accepted | Ready | EnRoute) {
        return Err(Stale::NoLongerAssigned(now.status));
    }
    if now.lead_technician_id != announced.lead_technician_id {
        return Err(Stale::Reassigned);
    }
    if now.scheduled_at != announced.scheduled_at {
        return Err(Stale::Rescheduled(now.scheduled_at));
    }
    Ok(())
}

/// A receipt is not sent for a payment reversed since (its reversal's time).
pub fn receipt_notice(reversed_at: Option<NaiveDateTime>) -> Result<(), Stale> {
    match reversed_at {
        Some(t) => Err(Stale::PaymentReversed(t)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    fn announced() -> Announced {
        Announced {
            scheduled_at: Some(t(2)),
            lead_technician_id: Some("lead".into()),
        }
    }

    fn order(status: OrderStatus) -> OrderNow {
        OrderNow {
            status,
            scheduled_at: Some(t(2)),
            lead_technician_id: Some("lead".into()),
            arrived_at: None,
            completed_at: None,
        }
    }

    #[test]
    fn an_appointment_holds_until_the_visit_happens() {
        for s in [
            OrderStatus::Assigned,
            OrderStatus::Accepted,
            OrderStatus::Ready,
            OrderStatus::EnRoute,
        ] {
            for k in [
                NoticeKind::Scheduled,
                NoticeKind::Assigned,
                NoticeKind::DeadlinePassed,
            ] {
                assert_eq!(order_notice(k, &announced(), &order(s)), Ok(()), "{s:?}");
            }
        }
    }

    #[test]
    fn a_completed_order_is_not_announced_and_the_reason_says_when() {
        let mut o = order(OrderStatus::Completed);
        o.arrived_at = Some(t(3));
        o.completed_at = Some(t(4));
        let e = order_notice(NoticeKind::Scheduled, &announced(), &o).unwrap_err();
        assert_eq!(e, Stale::Completed(Some(t(4))));
        assert_eq!(
            e.reason_zh(),
            "工单已于 2026-12-05 12:00 完工，此通知已过时，未发送"
        );
        for (s, stale) in [
            (OrderStatus::Closed, Stale::Closed),
            (OrderStatus::Cancelled, Stale::Cancelled),
        ] {
            assert_eq!(
                order_notice(NoticeKind::DeadlinePassed, &announced(), &order(s)),
                Err(stale)
            );
        }
    }

    #[test]
    fn an_arrival_ends_every_appointment_notice() {
        let mut o = order(OrderStatus::OnSite);
        o.arrived_at = Some(t(3));
        for k in [
            NoticeKind::Scheduled,
            NoticeKind::Assigned,
            NoticeKind::DeadlinePassed,
        ] {
            assert_eq!(
                order_notice(k, &announced(), &o),
                Err(Stale::Arrived(Some(t(3))))
            );
        }
    }

    #[test]
    fn a_reassigned_or_rescheduled_order_leaves_it_to_the_newer_notice() {
        let mut o = order(OrderStatus::Assigned);
        o.lead_technician_id = Some("other".into());
        assert_eq!(
            order_notice(NoticeKind::Scheduled, &announced(), &o),
            Err(Stale::Reassigned)
        );
        let mut o = order(OrderStatus::Accepted);
        o.scheduled_at = Some(t(5));
        let e = order_notice(NoticeKind::Assigned, &announced(), &o).unwrap_err();
        assert_eq!(e, Stale::Rescheduled(Some(t(5))));
        assert!(e.reason_zh().contains("2026-12-05 13:00"));
        // but a late technician is late whoever it is
        assert_eq!(
            order_notice(NoticeKind::DeadlinePassed, &announced(), &o),
            Ok(())
        );
        let e = order_notice(
            NoticeKind::Scheduled,
            &announced(),
            &order(OrderStatus::Rejected),
        )
        .unwrap_err();
        assert_eq!(
            e.reason_zh(),
            "工单现为「已驳回」，不再是通知所述的派工安排，未发送"
        );
    }

    #[test]
    fn a_reversed_payment_has_no_receipt_mail() {
        assert_eq!(receipt_notice(None), Ok(()));
        assert!(
            receipt_notice(Some(t(1)))
                .unwrap_err()
                .reason_zh()
                .contains("冲正")
        );
    }
}
