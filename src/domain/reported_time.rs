//! When an action the phone sends was done (issue 14 item 11).
//!
//! A technician's phone queues actions while offline (depart, arrive, line work,
//! complete) and sends them when the network returns, each with the time it was done
//! (`at`). The server takes that time, within bounds: not more than
//! [`MAX_BACKDATE_HOURS`] back, not in the future beyond [`CLOCK_SKEW_SECONDS`] of clock
//! difference (a time within the skew counts as now), and not before the order's previous
//! step. Without `at`, the action is done when it arrives.

use chrono::{Duration, NaiveDateTime};

/// How far back a reported time may be (三天): the phone's queue is kept that long.
pub const MAX_BACKDATE_HOURS: i64 = 72;
/// How far ahead of the server's clock a phone's clock may be.
pub const CLOCK_SKEW_SECONDS: i64 = 120;

/// Why a reported time is refused; each is a 422 with this `code` on the field `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeRefusal {
    /// more than 72 hours back
    TooOld,
    /// later than now (beyond the clock skew)
    InFuture,
    /// before the order's previous step (e.g. arriving before departing)
    BeforePreviousStep,
}

impl TimeRefusal {
    pub fn code(self) -> &'static str {
        match self {
            TimeRefusal::TooOld => "too_old",
            TimeRefusal::InFuture => "in_future",
            TimeRefusal::BeforePreviousStep => "before_previous_step",
        }
    }

    /// The message for the technician (Chinese, saying what to do next).
    pub fn message_zh(self) -> &'static str {
        match self {
            TimeRefusal::TooOld => "操作时间早于72小时前，无法补记；请联系调度员处理。",
            TimeRefusal::InFuture => "操作时间晚于当前时间；请校准手机时间后重试。",
            TimeRefusal::BeforePreviousStep => {
                "操作时间早于上一步骤；请校准手机时间，或按实际先后顺序重新提交。"
            }
        }
    }
}

/// The time an action was done: `reported` (the phone's `at`) if given and acceptable,
/// else now. A reported time within the clock skew ahead of `now` counts as `now`.
/// `previous` is when the order's previous step was done, if any.
pub fn reported_time(
    reported: Option<NaiveDateTime>,
    now: NaiveDateTime,
    previous: Option<NaiveDateTime>,
) -> Result<NaiveDateTime, TimeRefusal> {
    let Some(at) = reported else {
        return Ok(now);
    };
    if at > now + Duration::seconds(CLOCK_SKEW_SECONDS) {
        return Err(TimeRefusal::InFuture);
    }
    if at < now - Duration::hours(MAX_BACKDATE_HOURS) {
        return Err(TimeRefusal::TooOld);
    }
    let at = at.min(now);
    if previous.is_some_and(|p| at < p) {
        return Err(TimeRefusal::BeforePreviousStep);
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    const NOW: &str = "2026-12-05 10:00:00";

    #[test]
    fn without_a_time_it_is_now() {
        assert_eq!(reported_time(None, t(NOW), None), Ok(t(NOW)));
        // even if the previous step looks later (clocks): the server's now is the fact
        assert_eq!(
            reported_time(None, t(NOW), Some(t("2026-12-05 10:00:30"))),
            Ok(t(NOW))
        );
    }

    #[test]
    fn a_past_time_within_three_days_is_kept() {
        let at = t("2026-12-04 09:30:00");
        assert_eq!(reported_time(Some(at), t(NOW), None), Ok(at));
        let edge = t("2026-12-02 10:00:00");
        assert_eq!(reported_time(Some(edge), t(NOW), None), Ok(edge));
        assert_eq!(
            reported_time(Some(t("2026-12-02 09:59:59")), t(NOW), None),
            Err(TimeRefusal::TooOld)
        );
    }

    #[test]
    fn the_future_is_refused_beyond_the_clock_skew() {
        // within two minutes ahead: a phone clock a little fast; counts as now
        assert_eq!(
            reported_time(Some(t("2026-12-05 10:02:00")), t(NOW), None),
            Ok(t(NOW))
        );
        assert_eq!(
            reported_time(Some(t("2026-12-05 10:02:01")), t(NOW), None),
            Err(TimeRefusal::InFuture)
        );
    }

    #[test]
    fn never_before_the_previous_step() {
        let departed = t("2026-12-05 08:00:00");
        assert_eq!(
            reported_time(Some(t("2026-12-05 07:59:59")), t(NOW), Some(departed)),
            Err(TimeRefusal::BeforePreviousStep)
        );
        assert_eq!(
            reported_time(Some(departed), t(NOW), Some(departed)),
            Ok(departed)
        );
        assert_eq!(
            reported_time(Some(t("2026-12-05 09:00:00")), t(NOW), Some(departed)),
            Ok(t("2026-12-05 09:00:00"))
        );
    }

    #[test]
    fn codes() {
        assert_eq!(TimeRefusal::TooOld.code(), "too_old");
        assert_eq!(TimeRefusal::InFuture.code(), "in_future");
        assert_eq!(
            TimeRefusal::BeforePreviousStep.code(),
            "before_previous_step"
        );
    }
}
