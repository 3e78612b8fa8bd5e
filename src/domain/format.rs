//! How times and money read to people in China, the same in PDFs, e-mail and SMS:
//! Beijing time (UTC+8 all year) and yuan with thousands grouped.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};

use super::money::Fen;

/// Shows a UTC time as Beijing time (Asia/Shanghai, UTC+8 all year).
pub fn beijing(t: NaiveDateTime) -> String {
    let tz = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    t.and_utc()
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn opt_time(t: Option<NaiveDateTime>) -> String {
    t.map(beijing).unwrap_or_else(|| "—".into())
}

pub fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// ¥1,234.50
pub fn yuan(f: Fen) -> String {
    let s = f.yuan_string();
    let (sign, digits) = match s.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", s.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}¥{grouped}.{frac}")
}
