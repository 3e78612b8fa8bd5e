//! The terminal's first report (上线检测): when a freshly fitted terminal counts as seen
//! working. Plain rules over the reports a tracking platform hands over, no I/O.
//!
//! A report counts only if the platform received it (server time) and the terminal fixed
//! it (fix time) after the work started: a batch of positions stored in the terminal
//! before the install and uploaded now carries old fix times and does not count, nor does
//! the platform's `lastUpdate`/`status`, which heartbeats move (they are never read). The
//! check passes on the first valid, current fix, once the terminal has also reported the
//! SIM recorded on the line (its ICCID) and, if the center asks, the ignition (ACC) both on
//! and off.

use chrono::NaiveDateTime;
use serde::Serialize;

/// One report of the terminal, as the platform has it (times in UTC).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// when the terminal fixed the position
    pub fix_time: NaiveDateTime,
    /// when the platform received it
    pub server_time: NaiveDateTime,
    /// the receiver had a fix
    pub valid: bool,
    /// the platform marks a repeated last-known position as outdated
    pub outdated: bool,
    pub lat: f64,
    pub lng: f64,
    /// ACC (the ignition line), when the terminal reports it
    pub ignition: Option<bool>,
    /// the SIM card's ICCID, when the terminal reports it
    pub iccid: Option<String>,
}

/// What a check has seen so far, and what it asks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub started_at: NaiveDateTime,
    pub require_acc: bool,
    pub require_iccid: bool,
    /// the SIM recorded on the line
    pub expected_iccid: String,
    pub first_fix_at: Option<NaiveDateTime>,
    pub first_fix_server_at: Option<NaiveDateTime>,
    pub fix_position: Option<(f64, f64)>,
    /// the ICCID last reported, and when the platform received it
    pub seen_iccid: Option<String>,
    pub iccid_at: Option<NaiveDateTime>,
    pub acc_on_at: Option<NaiveDateTime>,
    pub acc_off_at: Option<NaiveDateTime>,
    pub passed_at: Option<NaiveDateTime>,
}

/// What a waiting check still lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Missing {
    /// no valid position fixed and received after the work started
    Fix,
    /// the terminal has not reported its SIM card's ICCID
    Iccid,
    /// the terminal reports another SIM card than the one recorded on the line
    IccidMismatch { reported: String, expected: String },
    /// ACC not yet seen on
    AccOn,
    /// ACC not yet seen off
    AccOff,
}

impl Missing {
    /// What the technician or the desk reads, and what to do about it.
    pub fn message_zh(&self) -> String {
        match self {
            Missing::Fix => {
                "尚未收到有效定位：请确认终端通电、天线朝天无遮挡，车辆驶出地库后再等几分钟".into()
            }
            Missing::Iccid => "终端尚未上报 SIM 卡号（ICCID）：请确认 SIM 卡已插好并已开通".into(),
            Missing::IccidMismatch { reported, .. } => format!(
                "终端上报的 SIM 卡（ICCID {reported}）与登记的不符：请核对插入的 SIM 卡，或按实际更换记录 SIM 卡"
            ),
            Missing::AccOn => "尚未检测到 ACC 开：请打开点火开关".into(),
            Missing::AccOff => "尚未检测到 ACC 关：请关闭点火开关".into(),
        }
    }
}

/// ICCIDs compared as terminals report them: case and spaces aside, and a trailing `F`
/// pad (some terminals report 19 digits padded to 20) dropped.
pub fn same_iccid(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> String {
        let s: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        s.trim_end_matches('F').to_string()
    }
    let (a, b) = (norm(a), norm(b));
    !a.is_empty() && a == b
}

/// An ICCID as a terminal reported it, cleaned: padding NULs and spaces dropped; `None`
/// unless what is left is 1–32 letters and digits (a garbled attribute is no ICCID).
pub fn clean_iccid(raw: &str) -> Option<String> {
    let s = raw.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!s.is_empty() && s.len() <= 32 && s.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| s.to_string())
}

/// A platform's device identifier as this product takes it: 1–64 printable ASCII
/// characters without spaces.
pub fn valid_unique_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_graphic())
}

fn earliest(slot: &mut Option<NaiveDateTime>, t: NaiveDateTime) -> bool {
    if slot.is_none_or(|s| t < s) {
        *slot = Some(t);
        true
    } else {
        false
    }
}

impl Progress {
    /// Whether `r` counts at all: received and fixed after the work started.
    pub fn counts(&self, r: &Report) -> bool {
        r.server_time > self.started_at && r.fix_time > self.started_at
    }

    /// Takes one report in; answers whether anything changed. Reports may come in any
    /// order and more than once (a poll and a push of the same position).
    pub fn fold(&mut self, r: &Report) -> bool {
        if !self.counts(r) {
            return false;
        }
        let mut changed = false;
        let real_fix = r.valid && !r.outdated && !(r.lat == 0.0 && r.lng == 0.0);
        if real_fix && self.first_fix_at.is_none_or(|f| r.fix_time < f) {
            self.first_fix_at = Some(r.fix_time);
            self.first_fix_server_at = Some(r.server_time);
            self.fix_position = Some((r.lat, r.lng));
            changed = true;
        }
        if let Some(iccid) = r.iccid.as_deref().and_then(clean_iccid)
            && self.iccid_at.is_none_or(|t| r.server_time >= t)
            && self.seen_iccid.as_deref() != Some(iccid.as_str())
        {
            self.seen_iccid = Some(iccid);
            self.iccid_at = Some(r.server_time);
            changed = true;
        }
        match r.ignition {
            Some(true) => changed |= earliest(&mut self.acc_on_at, r.server_time),
            Some(false) => changed |= earliest(&mut self.acc_off_at, r.server_time),
            None => {}
        }
        if self.passed_at.is_none() && self.missing().is_empty() {
            self.passed_at = Some(r.server_time);
            changed = true;
        }
        changed
    }

    /// What the check still lacks (empty: passed, or about to be).
    pub fn missing(&self) -> Vec<Missing> {
        if self.passed_at.is_some() {
            return Vec::new();
        }
        let mut out = Vec::new();
        if self.first_fix_at.is_none() {
            out.push(Missing::Fix);
        }
        if self.require_iccid {
            match &self.seen_iccid {
                None => out.push(Missing::Iccid),
                Some(seen) if !same_iccid(seen, &self.expected_iccid) => {
                    out.push(Missing::IccidMismatch {
                        reported: seen.clone(),
                        expected: self.expected_iccid.clone(),
                    })
                }
                Some(_) => {}
            }
        }
        if self.require_acc {
            if self.acc_on_at.is_none() {
                out.push(Missing::AccOn);
            }
            if self.acc_off_at.is_none() {
                out.push(Missing::AccOff);
            }
        }
        out
    }

    pub fn passed(&self) -> bool {
        self.passed_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveDate};

    const ICCID: &str = "89860012345678901234";

    fn t(min: i64) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 6)
            .unwrap()
            .and_hms_opt(2, 0, 0)
            .unwrap()
            + Duration::minutes(min)
    }

    fn progress(acc: bool) -> Progress {
        Progress {
            started_at: t(0),
            require_acc: acc,
            require_iccid: true,
            expected_iccid: ICCID.into(),
            ..Progress::default()
        }
    }

    fn fix(fix_min: i64, server_min: i64) -> Report {
        Report {
            fix_time: t(fix_min),
            server_time: t(server_min),
            valid: true,
            outdated: false,
            lat: 31.23,
            lng: 121.47,
            ignition: None,
            iccid: Some(ICCID.into()),
        }
    }

    #[test]
    fn a_current_valid_fix_with_the_right_sim_passes() {
        let mut p = progress(false);
        assert_eq!(p.missing(), vec![Missing::Fix, Missing::Iccid]);
        assert!(p.fold(&fix(5, 5)));
        assert!(p.passed());
        assert_eq!(p.passed_at, Some(t(5)));
        assert_eq!(p.first_fix_at, Some(t(5)));
        assert!(p.missing().is_empty());
        // the same report again changes nothing
        assert!(!p.fold(&fix(5, 5)));
    }

    #[test]
    fn a_stale_fix_or_a_batch_upload_of_old_positions_does_not_count() {
        let mut p = progress(false);
        // the last known position, received again after the work started
        assert!(!p.fold(&fix(-30, 5)));
        // a batch stored in the terminal's memory: fixed before, uploaded after
        for m in [-50, -40, -1] {
            assert!(!p.fold(&fix(m, 10)));
        }
        // a position from before the work, received before it
        assert!(!p.fold(&fix(-5, -5)));
        assert_eq!(p.first_fix_at, None);
        assert!(!p.passed());
    }

    #[test]
    fn an_invalid_or_outdated_or_null_island_fix_does_not_count_as_a_fix() {
        let mut p = progress(false);
        let mut r = fix(5, 5);
        r.valid = false;
        p.fold(&r);
        let mut r = fix(6, 6);
        r.outdated = true;
        p.fold(&r);
        let mut r = fix(7, 7);
        r.lat = 0.0;
        r.lng = 0.0;
        p.fold(&r);
        assert_eq!(p.missing(), vec![Missing::Fix]);
        // but they carried the ICCID, which counts
        assert_eq!(p.seen_iccid.as_deref(), Some(ICCID));
    }

    #[test]
    fn another_sim_reported_is_a_mismatch_until_the_right_one_is() {
        let mut p = progress(false);
        let mut r = fix(5, 5);
        r.iccid = Some("89860099999999999999".into());
        p.fold(&r);
        assert_eq!(
            p.missing(),
            vec![Missing::IccidMismatch {
                reported: "89860099999999999999".into(),
                expected: ICCID.into()
            }]
        );
        assert!(!p.passed());
        let mut r = fix(8, 8);
        r.iccid = Some(format!("{} ", ICCID.to_lowercase()));
        p.fold(&r);
        assert!(p.passed());
        assert_eq!(p.first_fix_at, Some(t(5)));
    }

    #[test]
    fn acc_must_be_seen_on_and_off_when_asked() {
        let mut p = progress(true);
        let mut r = fix(5, 5);
        r.ignition = Some(true);
        p.fold(&r);
        assert_eq!(p.missing(), vec![Missing::AccOff]);
        let mut r = fix(3, 9);
        r.valid = false;
        r.ignition = Some(false);
        p.fold(&r);
        assert!(p.passed());
        assert_eq!(p.passed_at, Some(t(9)));
    }

    #[test]
    fn without_the_iccid_rule_a_fix_is_enough() {
        let mut p = progress(false);
        p.require_iccid = false;
        let mut r = fix(5, 5);
        r.iccid = None;
        p.fold(&r);
        assert!(p.passed());
    }

    #[test]
    fn a_garbled_iccid_is_no_iccid() {
        assert_eq!(clean_iccid("\0\089860012 \0").as_deref(), Some("89860012"));
        assert_eq!(clean_iccid("8.986e19"), None);
        assert_eq!(clean_iccid(&"8".repeat(33)), None);
        assert_eq!(clean_iccid("89\u{0}86"), None);
        let mut p = progress(false);
        let mut r = fix(5, 5);
        r.iccid = Some("\u{0}\u{0}".into());
        p.fold(&r);
        assert_eq!(p.seen_iccid, None);
        assert!(
            valid_unique_id("013800138000") && !valid_unique_id("01 38") && !valid_unique_id("")
        );
    }

    #[test]
    fn iccids_compare_without_case_spaces_and_f_pad() {
        assert!(same_iccid("8986001234567890123F", "8986001234567890123"));
        assert!(same_iccid(" 8986ab ", "8986AB"));
        assert!(!same_iccid("", ""));
        assert!(!same_iccid("8986001", "8986002"));
    }
}
