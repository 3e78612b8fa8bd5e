//! Customer feedback (篇三: 首问负责, answered within a deadline, the customer told the
//! result; follow-up calls and satisfaction; revisits of key customers) and the service
//! KPIs. Plain rules; the store and the API carry them out.

use chrono::{Duration, NaiveDateTime};

str_enum!(
    /// 咨询 / 投诉 / 建议
    TicketKind { Inquiry = "inquiry", Complaint = "complaint", Suggestion = "suggestion" }
);

str_enum!(
    /// How the customer reached us.
    TicketChannel {
        Hotline = "hotline",
        Letter = "letter",
        Visit = "visit",
        Online = "online",
        Email = "email",
    }
);

str_enum!(
    /// Sets the reply deadline: urgent 1 hour, normal 24 hours by default (per center).
    TicketUrgency { Urgent = "urgent", Normal = "normal" }
);

str_enum!(
    /// open → replied → resolved → closed. A handover changes the owner, not the state.
    TicketStatus {
        Open = "open",
        Replied = "replied",
        Resolved = "resolved",
        Closed = "closed",
    }
);

str_enum!(
    /// What can be done to a ticket.
    TicketAction {
        Reply = "reply",
        Resolve = "resolve",
        Close = "close",
        Handover = "handover",
        /// the customer told the result (needed to close)
        NotifyCustomer = "notify_customer",
    }
);

str_enum!(
    /// A follow-up call (回访): open until recorded, or given up as unreachable.
    FollowUpStatus { Open = "open", Done = "done" }
);

str_enum!(
    /// completion: after an order completed; revisit: a key customer's scheduled call.
    FollowUpKind { Completion = "completion", Revisit = "revisit" }
);

impl TicketKind {
    pub fn label_zh(self) -> &'static str {
        match self {
            TicketKind::Inquiry => "咨询",
            TicketKind::Complaint => "投诉",
            TicketKind::Suggestion => "建议",
        }
    }

    /// The number prefix: TS (投诉) for complaints, ZX (咨询), JY (建议).
    pub fn prefix(self) -> &'static str {
        match self {
            TicketKind::Inquiry => "ZX",
            TicketKind::Complaint => "TS",
            TicketKind::Suggestion => "JY",
        }
    }
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketRefusal {
    /// not from this state
    WrongState { current: TicketStatus },
    /// closing needs the customer told the result first
    CustomerNotTold,
}

impl TicketRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            TicketRefusal::WrongState { .. } => "invalid_transition",
            TicketRefusal::CustomerNotTold => "customer_not_notified",
        }
    }
}

/// The state after `action`, or why not. `customer_told`: the result's notification to
/// the customer is recorded (required to close).
pub fn next(
    status: TicketStatus,
    action: TicketAction,
    customer_told: bool,
) -> Result<TicketStatus, TicketRefusal> {
    use TicketAction as A;
    use TicketStatus as S;
    let wrong = Err(TicketRefusal::WrongState { current: status });
    match (status, action) {
        (S::Closed, _) => wrong,
        (s, A::Handover) => Ok(s),
        (S::Open, A::Reply) => Ok(S::Replied),
        // a further reply (more information) keeps the state
        (S::Replied, A::Reply) => Ok(S::Replied),
        (S::Open | S::Replied, A::Resolve) => Ok(S::Resolved),
        (S::Resolved, A::NotifyCustomer) => Ok(S::Resolved),
        (S::Resolved, A::Close) if customer_told => Ok(S::Closed),
        (S::Resolved, A::Close) => Err(TicketRefusal::CustomerNotTold),
        _ => wrong,
    }
}

/// Reply deadlines of a center, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub urgent_minutes: i64,
    pub normal_minutes: i64,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            urgent_minutes: 60,
            normal_minutes: 24 * 60,
        }
    }
}

pub fn reply_due(
    received_at: NaiveDateTime,
    urgency: TicketUrgency,
    d: Deadlines,
) -> NaiveDateTime {
    let minutes = match urgency {
        TicketUrgency::Urgent => d.urgent_minutes,
        TicketUrgency::Normal => d.normal_minutes,
    };
    received_at + Duration::minutes(minutes)
}

/// Whether the reply deadline is breached at `now`: no reply by the deadline. A reply
/// after the deadline does not undo the breach.
pub fn breached(due: NaiveDateTime, replied_at: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    match replied_at {
        Some(r) => r > due,
        None => now > due,
    }
}

/// A satisfaction score at or below this opens a complaint.
pub const LOW_SCORE: i32 = 2;

pub fn opens_complaint(score: i32) -> bool {
    score <= LOW_SCORE
}

pub fn valid_score(score: i32) -> bool {
    (1..=5).contains(&score)
}

/// How often a customer of this tier is revisited (回访), in days; `None`: only after jobs.
pub fn revisit_days(tier: &str, key_days: i64, major_days: Option<i64>) -> Option<i64> {
    match tier {
        "key" => Some(key_days),
        "major" => major_days,
        _ => None,
    }
}

/// When the next revisit is due: `days` after the last one (or after the customer became
/// one, when never visited).
pub fn revisit_due(last: NaiveDateTime, days: i64) -> NaiveDateTime {
    last + Duration::days(days)
}

/// The nearest-rank percentile (p in 1..=100) of sorted values: the ⌈p·n/100⌉-th
/// smallest. The KPI SQL computes the same rank with window functions.
pub fn nearest_rank(sorted: &[i64], p: i64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as i64;
    let rank = (p * n + 99) / 100;
    Some(sorted[(rank.clamp(1, n) - 1) as usize])
}

/// The 0-based position of the nearest-rank percentile among `n` sorted values.
pub fn nearest_rank_index(n: i64, p: i64) -> Option<i64> {
    (n > 0).then(|| ((p * n + 99) / 100).clamp(1, n) - 1)
}

/// Whether a completion call is given up as unreachable after `attempts` failed attempts,
/// when the center allows `allowed`.
pub fn unreachable_after(attempts: i32, allowed: i32) -> bool {
    attempts >= allowed.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_given_up_after_the_centers_attempts() {
        assert!(!unreachable_after(2, 3));
        assert!(unreachable_after(3, 3));
        assert!(unreachable_after(1, 1));
        assert!(
            unreachable_after(1, 0),
            "at least one attempt, whatever is stored"
        );
    }
    use TicketAction as A;
    use TicketStatus as S;

    fn t(h: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_780_000_000 + h * 3600, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn the_ticket_lifecycle() {
        assert_eq!(next(S::Open, A::Reply, false), Ok(S::Replied));
        assert_eq!(next(S::Replied, A::Reply, false), Ok(S::Replied));
        assert_eq!(next(S::Open, A::Resolve, false), Ok(S::Resolved));
        assert_eq!(next(S::Replied, A::Resolve, false), Ok(S::Resolved));
        assert_eq!(next(S::Resolved, A::Close, true), Ok(S::Closed));
        assert_eq!(
            next(S::Resolved, A::Close, false),
            Err(TicketRefusal::CustomerNotTold)
        );
        for s in [S::Open, S::Replied, S::Resolved] {
            assert_eq!(next(s, A::Handover, false), Ok(s));
        }
        for a in TicketAction::ALL {
            assert_eq!(
                next(S::Closed, *a, true),
                Err(TicketRefusal::WrongState { current: S::Closed })
            );
        }
        assert!(next(S::Open, A::Close, true).is_err());
        assert!(next(S::Resolved, A::Reply, true).is_err());
        assert_eq!(next(S::Resolved, A::NotifyCustomer, false), Ok(S::Resolved));
        assert!(next(S::Open, A::NotifyCustomer, false).is_err());
    }

    #[test]
    fn deadlines_and_breaches() {
        let d = Deadlines::default();
        assert_eq!(reply_due(t(0), TicketUrgency::Urgent, d), t(1));
        assert_eq!(reply_due(t(0), TicketUrgency::Normal, d), t(24));
        assert!(!breached(t(1), None, t(1)), "at the deadline is in time");
        assert!(breached(t(1), None, t(2)));
        assert!(
            !breached(t(1), Some(t(0)), t(5)),
            "replied in time stays in time"
        );
        assert!(
            breached(t(1), Some(t(2)), t(5)),
            "a late reply keeps the breach"
        );
    }

    #[test]
    fn scores_and_revisits() {
        assert!(opens_complaint(1) && opens_complaint(2) && !opens_complaint(3));
        assert!(!valid_score(0) && valid_score(1) && valid_score(5) && !valid_score(6));
        assert_eq!(revisit_days("key", 90, Some(180)), Some(90));
        assert_eq!(revisit_days("major", 90, Some(180)), Some(180));
        assert_eq!(revisit_days("normal", 90, Some(180)), None);
        assert_eq!(revisit_due(t(0), 90), t(90 * 24));
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(nearest_rank(&v, 90), Some(9));
        assert_eq!(nearest_rank(&v, 50), Some(5));
        assert_eq!(nearest_rank(&v, 100), Some(10));
        assert_eq!(nearest_rank(&[7], 90), Some(7));
        assert_eq!(nearest_rank(&[], 90), None);
        assert_eq!(nearest_rank_index(10, 90), Some(8));
        assert_eq!(nearest_rank_index(0, 90), None);
        let v: Vec<i64> = (1..=11).collect();
        assert_eq!(nearest_rank(&v, 90), Some(10), "⌈9.9⌉ = 10");
    }
}
