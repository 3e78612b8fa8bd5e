//! Money as an exact integer number of fen (分, 1/100 yuan).
//!
//! "Money is exact (integer fen)": no floating point anywhere. Arithmetic is checked and
//! answers `None` on overflow instead of wrapping or panicking.

use std::fmt;
use std::iter::Sum;

use serde::{Deserialize, Serialize};

/// An amount of renminbi in fen (分). Serialized as a plain integer: `12800` is ¥128.00.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
#[schema(value_type = i64, example = 12800)]
pub struct Fen(pub i64);

/// Why a yuan amount could not be read by [`Fen::parse_yuan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount must not be empty")]
    Empty,
    #[error("amount must look like 128, 128.5 or 128.50")]
    Format,
    #[error("amount has more than two decimal places")]
    TooPrecise,
    #[error("amount is too large")]
    Overflow,
}

impl MoneyError {
    pub fn code(self) -> &'static str {
        match self {
            MoneyError::Empty => "empty",
            MoneyError::Format => "format",
            MoneyError::TooPrecise => "too_precise",
            MoneyError::Overflow => "overflow",
        }
    }
}

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub const fn new(fen: i64) -> Fen {
        Fen(fen)
    }

    /// Whole yuan, e.g. `Fen::from_yuan(128)` is ¥128.00. `None` on overflow.
    pub const fn from_yuan(yuan: i64) -> Option<Fen> {
        match yuan.checked_mul(100) {
            Some(f) => Some(Fen(f)),
            None => None,
        }
    }

    pub const fn as_i64(self) -> i64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    /// A unit price times a quantity (parts used, vehicles fitted).
    pub fn checked_mul(self, quantity: i64) -> Option<Fen> {
        self.0.checked_mul(quantity).map(Fen)
    }

    pub fn checked_neg(self) -> Option<Fen> {
        self.0.checked_neg().map(Fen)
    }

    /// The sum of `amounts`, or `None` if it overflows at any step.
    pub fn checked_sum<I: IntoIterator<Item = Fen>>(amounts: I) -> Option<Fen> {
        amounts
            .into_iter()
            .try_fold(Fen::ZERO, |acc, x| acc.checked_add(x))
    }

    /// Reads a yuan amount as typed by a person: `128`, `128.5`, `128.50`, `-1.50`,
    /// `¥128.00`; surrounding spaces are ignored. At most two decimal places, no
    /// thousands separators, no exponent.
    pub fn parse_yuan(input: &str) -> Result<Fen, MoneyError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(MoneyError::Empty);
        }
        let (negative, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let s = s
            .strip_prefix('¥')
            .or_else(|| s.strip_prefix('￥'))
            .unwrap_or(s);
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w, f),
            None => (s, ""),
        };
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || !digits(whole)
            || !digits(frac)
            || (s.contains('.') && frac.is_empty())
        {
            return Err(MoneyError::Format);
        }
        if frac.len() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        let yuan: i64 = whole.parse().map_err(|_| MoneyError::Overflow)?;
        let cents: i64 = match frac.len() {
            0 => 0,
            1 => i64::from(frac.as_bytes()[0] - b'0') * 10,
            _ => frac.parse().map_err(|_| MoneyError::Format)?,
        };
        let magnitude = yuan
            .checked_mul(100)
            .and_then(|f| f.checked_add(cents))
            .ok_or(MoneyError::Overflow)?;
        Ok(Fen(if negative { -magnitude } else { magnitude }))
    }

    /// The amount in yuan with two decimals and no currency sign: `"128.00"`, `"-1.50"`.
    pub fn yuan_string(self) -> String {
        let abs = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// The amount in Chinese capital numerals (大写金额) as written on receipts and
    /// invoices, following the People's Bank of China rules for filling in bills
    /// (《正确填写票据和结算凭证的基本规定》):
    ///
    /// * digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟万亿, then 元角分;
    /// * "中文大写金额数字到"元"为止的，在"元"之后，应写"整"字" — an amount without
    ///   角 and 分 ends in 整: ¥128.00 → 壹佰贰拾捌元整; after 角 no 整 is written
    ///   (¥1.50 → 壹元伍角), and never after 分;
    /// * a zero between digits is written 零, several zeros in a row only one 零
    ///   (¥1,409.50 → 壹仟肆佰零玖元伍角, ¥6,007.14 → 陆仟零柒元壹角肆分);
    /// * "角位是"0"，而分位不是"0"时，中文大写金额"元"后面应写"零"字"
    ///   (¥16,409.02 → 壹万陆仟肆佰零玖元零贰分);
    /// * where the rules allow either (元位 or 万位 zero but the next digit not:
    ///   ¥1,680.32, ¥107,000.53) the shorter form without 零 is used:
    ///   壹仟陆佰捌拾元叁角贰分, 壹拾万柒仟元伍角叁分;
    /// * 壹拾 keeps its 壹 (¥10.00 → 壹拾元整), so the text cannot be altered by
    ///   writing a digit in front;
    /// * amounts under one yuan have no 元: ¥0.05 → 伍分; zero is 零元整;
    /// * a negative amount (a refund or reversal) gets the prefix 负.
    ///
    /// Large amounts nest as spoken Chinese does: 10⁸ is 亿, 10¹² 壹万亿, 10¹⁶ 壹亿亿.
    pub fn to_chinese_capital(self) -> String {
        let abs = self.0.unsigned_abs();
        let (yuan, jiao, fen) = (abs / 100, (abs / 10) % 10, abs % 10);
        let mut out = String::new();
        if self.0 < 0 {
            out.push('负');
        }
        if abs == 0 {
            out.push_str("零元整");
            return out;
        }
        if yuan > 0 {
            capital_integer(yuan, &mut out);
            out.push('元');
        }
        match (jiao, fen) {
            (0, 0) => out.push('整'),
            (0, f) => {
                if yuan > 0 {
                    out.push('零');
                }
                out.push(CAPITAL_DIGITS[f as usize]);
                out.push('分');
            }
            (j, f) => {
                out.push(CAPITAL_DIGITS[j as usize]);
                out.push('角');
                if f > 0 {
                    out.push(CAPITAL_DIGITS[f as usize]);
                    out.push('分');
                }
            }
        }
        out
    }
}

const CAPITAL_DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];

/// Writes `n > 0` in capital numerals. Above 9999 the number splits at 亿 (10⁸) or 万
/// (10⁴): the high part is written recursively followed by its unit, and the low part
/// follows, preceded by one 零 when its leading place is empty (壹万零伍, 壹亿零壹万).
fn capital_integer(n: u64, out: &mut String) {
    debug_assert!(n > 0);
    let (base, unit) = if n >= 100_000_000 {
        (100_000_000, '亿')
    } else if n >= 10_000 {
        (10_000, '万')
    } else {
        capital_below_10000(n, out);
        return;
    };
    capital_integer(n / base, out);
    out.push(unit);
    let low = n % base;
    if low > 0 {
        if low < base / 10 {
            out.push('零');
        }
        capital_integer(low, out);
    }
}

/// Writes `0 < n < 10000` as 仟佰拾 places: one 零 for a run of inner zeros, nothing
/// for trailing zeros.
fn capital_below_10000(n: u64, out: &mut String) {
    const UNITS: [Option<char>; 4] = [Some('仟'), Some('佰'), Some('拾'), None];
    let digits = [n / 1000, (n / 100) % 10, (n / 10) % 10, n % 10];
    let mut started = false;
    let mut pending_zero = false;
    for (d, unit) in digits.into_iter().zip(UNITS) {
        if d == 0 {
            pending_zero = started;
            continue;
        }
        if pending_zero {
            out.push('零');
            pending_zero = false;
        }
        out.push(CAPITAL_DIGITS[d as usize]);
        if let Some(u) = unit {
            out.push(u);
        }
        started = true;
    }
}

/// `¥128.00`, `-¥1.50`.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abs = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}¥{}.{:02}", abs / 100, abs % 100)
    }
}

impl From<i64> for Fen {
    fn from(fen: i64) -> Fen {
        Fen(fen)
    }
}

impl From<Fen> for i64 {
    fn from(f: Fen) -> i64 {
        f.0
    }
}

/// Summing panics on overflow like integer addition does in debug builds; use
/// [`Fen::checked_sum`] where the amounts come from outside.
impl Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        iter.fold(Fen::ZERO, |acc, x| {
            acc.checked_add(x)
                .expect("sum of amounts overflows i64 fen")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(y: i64, fen: i64) -> Fen {
        Fen(y * 100 + fen)
    }

    #[test]
    fn capital_examples_from_the_brief() {
        let cases = [
            (yuan(128, 0), "壹佰贰拾捌元整"),
            (yuan(1, 50), "壹元伍角"),
            (yuan(0, 5), "伍分"),
            (yuan(100_000_000, 0), "壹亿元整"),
            (yuan(10_005, 30), "壹万零伍元叁角"),
            (Fen(0), "零元整"),
            (yuan(1010, 1), "壹仟零壹拾元零壹分"),
        ];
        for (amount, text) in cases {
            assert_eq!(amount.to_chinese_capital(), text, "{amount}");
        }
    }

    /// The cases the documents issue names, as printed on receipts and invoices.
    #[test]
    fn capital_cases_of_the_documents_issue() {
        let cases = [
            (Fen(0), "零元整"),
            (yuan(0, 5), "伍分"),
            (yuan(10, 0), "壹拾元整"),
            (yuan(100, 10), "壹佰元壹角"),
            (yuan(1001, 0), "壹仟零壹元整"),
            (yuan(10_000, 0), "壹万元整"),
            (
                yuan(123_456_789, 99),
                "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元玖角玖分",
            ),
            (yuan(10_001, 50), "壹万零壹元伍角"),
            (yuan(223, 50), "贰佰贰拾叁元伍角"),
        ];
        for (amount, text) in cases {
            assert_eq!(amount.to_chinese_capital(), text, "{amount}");
        }
    }

    #[test]
    fn capital_examples_from_the_pboc_rules() {
        let cases = [
            (yuan(1409, 50), "壹仟肆佰零玖元伍角"),
            (yuan(6007, 14), "陆仟零柒元壹角肆分"),
            (yuan(1680, 32), "壹仟陆佰捌拾元叁角贰分"),
            (yuan(107_000, 53), "壹拾万柒仟元伍角叁分"),
            (yuan(16_409, 2), "壹万陆仟肆佰零玖元零贰分"),
            (yuan(325, 4), "叁佰贰拾伍元零肆分"),
        ];
        for (amount, text) in cases {
            assert_eq!(amount.to_chinese_capital(), text, "{amount}");
        }
    }

    #[test]
    fn capital_small_amounts() {
        let cases = [
            (Fen(1), "壹分"),
            (Fen(10), "壹角"),
            (Fen(11), "壹角壹分"),
            (Fen(99), "玖角玖分"),
            (Fen(100), "壹元整"),
            (Fen(101), "壹元零壹分"),
            (Fen(110), "壹元壹角"),
            (yuan(10, 0), "壹拾元整"),
            (yuan(11, 0), "壹拾壹元整"),
            (yuan(20, 0), "贰拾元整"),
            (yuan(100, 0), "壹佰元整"),
            (yuan(101, 0), "壹佰零壹元整"),
            (yuan(110, 0), "壹佰壹拾元整"),
            (yuan(1000, 0), "壹仟元整"),
            (yuan(1001, 0), "壹仟零壹元整"),
            (yuan(1100, 0), "壹仟壹佰元整"),
            (yuan(9999, 99), "玖仟玖佰玖拾玖元玖角玖分"),
            (yuan(50, 5), "伍拾元零伍分"),
        ];
        for (amount, text) in cases {
            assert_eq!(amount.to_chinese_capital(), text, "{amount}");
        }
    }

    #[test]
    fn capital_wan_and_yi() {
        let cases = [
            (yuan(10_000, 0), "壹万元整"),
            (yuan(10_001, 0), "壹万零壹元整"),
            (yuan(10_010, 0), "壹万零壹拾元整"),
            (yuan(10_100, 0), "壹万零壹佰元整"),
            (yuan(11_000, 0), "壹万壹仟元整"),
            (yuan(100_700, 0), "壹拾万零柒佰元整"),
            (yuan(120_000, 0), "壹拾贰万元整"),
            (yuan(1_000_000, 0), "壹佰万元整"),
            (yuan(1_000_100, 0), "壹佰万零壹佰元整"),
            (yuan(10_000_000, 0), "壹仟万元整"),
            (yuan(12_345_678, 90), "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角"),
            (yuan(100_000_001, 0), "壹亿零壹元整"),
            (yuan(100_010_000, 0), "壹亿零壹万元整"),
            (yuan(101_000_000, 0), "壹亿零壹佰万元整"),
            (yuan(110_000_000, 0), "壹亿壹仟万元整"),
            (yuan(1_000_000_000, 0), "壹拾亿元整"),
            (yuan(1_000_000_000_000, 0), "壹万亿元整"),
            (yuan(1_234_500_000_000, 0), "壹万贰仟叁佰肆拾伍亿元整"),
            (yuan(10_000_000_000_000_000, 0), "壹亿亿元整"),
        ];
        for (amount, text) in cases {
            assert_eq!(amount.to_chinese_capital(), text, "{amount}");
        }
    }

    #[test]
    fn capital_negative_and_extremes() {
        assert_eq!(Fen(-150).to_chinese_capital(), "负壹元伍角");
        assert_eq!(Fen(-5).to_chinese_capital(), "负伍分");
        assert_eq!(yuan(-128, 0).to_chinese_capital(), "负壹佰贰拾捌元整");
        // must not panic at the ends of the range
        assert!(Fen(i64::MAX).to_chinese_capital().ends_with("柒分"));
        assert!(Fen(i64::MIN).to_chinese_capital().starts_with('负'));
        assert!(Fen(i64::MIN).to_chinese_capital().ends_with("捌分"));
    }

    #[test]
    fn capital_never_doubles_zero_or_ends_in_zero() {
        // a sweep of many shapes: no 零零, no 零 before a unit or at the end
        let mut n: i64 = 1;
        while n < 1_000_000_000_000 {
            for delta in [0, 1, 7, 10, 99, 100, 101, 1000, 10_000, 100_001] {
                let t = Fen(n + delta).to_chinese_capital();
                assert!(!t.contains("零零"), "{t}");
                assert!(!t.contains("零元"), "{t}");
                assert!(!t.contains("零万"), "{t}");
                assert!(!t.contains("零亿"), "{t}");
                assert!(!t.contains("零角"), "{t}");
                assert!(!t.ends_with('零'), "{t}");
                assert!(
                    t.ends_with('整') || t.ends_with('角') || t.ends_with('分'),
                    "{t}"
                );
            }
            n = n * 3 + 1;
        }
    }

    #[test]
    fn display_and_yuan_string() {
        assert_eq!(yuan(128, 0).to_string(), "¥128.00");
        assert_eq!(Fen(-150).to_string(), "-¥1.50");
        assert_eq!(Fen(5).to_string(), "¥0.05");
        assert_eq!(Fen(0).to_string(), "¥0.00");
        assert_eq!(yuan(128, 0).yuan_string(), "128.00");
        assert_eq!(Fen(-5).yuan_string(), "-0.05");
        assert_eq!(Fen(i64::MIN).yuan_string(), "-92233720368547758.08");
        assert_eq!(Fen(i64::MAX).to_string(), "¥92233720368547758.07");
    }

    #[test]
    fn checked_arithmetic() {
        assert_eq!(Fen(100).checked_add(Fen(50)), Some(Fen(150)));
        assert_eq!(Fen(100).checked_sub(Fen(150)), Some(Fen(-50)));
        assert_eq!(Fen(1250).checked_mul(3), Some(Fen(3750)));
        assert_eq!(Fen(i64::MAX).checked_add(Fen(1)), None);
        assert_eq!(Fen(i64::MIN).checked_sub(Fen(1)), None);
        assert_eq!(Fen(i64::MAX / 2 + 1).checked_mul(2), None);
        assert_eq!(Fen(i64::MIN).checked_neg(), None);
        assert_eq!(Fen::checked_sum([Fen(1), Fen(2), Fen(3)]), Some(Fen(6)));
        assert_eq!(Fen::checked_sum([Fen(i64::MAX), Fen(1)]), None);
        assert_eq!(Fen::checked_sum(std::iter::empty()), Some(Fen::ZERO));
        assert_eq!([Fen(1), Fen(2)].into_iter().sum::<Fen>(), Fen(3));
        assert_eq!(Fen::from_yuan(128), Some(Fen(12800)));
        assert_eq!(Fen::from_yuan(i64::MAX), None);
        assert!(Fen(-1) < Fen(0) && Fen(0) < Fen(1));
    }

    #[test]
    fn parse_yuan() {
        assert_eq!(Fen::parse_yuan("128"), Ok(Fen(12800)));
        assert_eq!(Fen::parse_yuan(" 128.5 "), Ok(Fen(12850)));
        assert_eq!(Fen::parse_yuan("128.05"), Ok(Fen(12805)));
        assert_eq!(Fen::parse_yuan("0.05"), Ok(Fen(5)));
        assert_eq!(Fen::parse_yuan("-1.50"), Ok(Fen(-150)));
        assert_eq!(Fen::parse_yuan("¥128.00"), Ok(Fen(12800)));
        assert_eq!(Fen::parse_yuan("￥3"), Ok(Fen(300)));
        assert_eq!(Fen::parse_yuan(""), Err(MoneyError::Empty));
        assert_eq!(Fen::parse_yuan("1.234"), Err(MoneyError::TooPrecise));
        for bad in [
            "abc", "1.", ".5", "1,000", "1e3", "+1", "--1", "1.-5", "1. 5",
        ] {
            assert_eq!(Fen::parse_yuan(bad), Err(MoneyError::Format), "{bad}");
        }
        assert_eq!(
            Fen::parse_yuan("92233720368547758.08"),
            Err(MoneyError::Overflow)
        );
        assert_eq!(Fen::parse_yuan("92233720368547758.07"), Ok(Fen(i64::MAX)));
        assert_eq!(
            Fen::parse_yuan("99999999999999999999"),
            Err(MoneyError::Overflow)
        );
        // every amount survives a round trip through its yuan string
        for f in [0, 1, -1, 99, 100, 12345, -12345, i64::MAX, i64::MIN + 1] {
            assert_eq!(Fen::parse_yuan(&Fen(f).yuan_string()), Ok(Fen(f)));
        }
    }

    #[test]
    fn serde_is_a_plain_integer() {
        assert_eq!(serde_json::to_string(&Fen(12800)).unwrap(), "12800");
        assert_eq!(serde_json::from_str::<Fen>("-150").unwrap(), Fen(-150));
        assert!(serde_json::from_str::<Fen>("\"1.50\"").is_err());
    }
}
