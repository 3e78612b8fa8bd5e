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

/// A terminal model as the install ledger shows it (终端厂家/型号): the model's name
/// (maker and model) with its code, `GT06N 终端（GT06N）`; the code alone without a name.
pub fn terminal_model(name: Option<&str>, code: &str) -> String {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) if n != code => format!("{n}（{code}）"),
        _ => code.to_string(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_model_shows_its_name_and_code() {
        assert_eq!(
            terminal_model(Some("康凯斯 GT06N"), "GT06N"),
            "康凯斯 GT06N（GT06N）"
        );
        assert_eq!(terminal_model(Some("GT06N"), "GT06N"), "GT06N");
        assert_eq!(terminal_model(Some("  "), "BSJ-A6"), "BSJ-A6");
        assert_eq!(terminal_model(None, "BSJ-A6"), "BSJ-A6");
    }
}
