//! Find anything: what a search text can be (order or receipt number, plate, phone, IMEI,
//! ICCID, MSISDN, VIN, customer name or its pinyin initials), and the keys each lookup
//! reads from an index. Pure: the store runs the lookups, the app assembles the answer.
//!
//! Every lookup is a range scan over an ordered index: a prefix `p` is the range
//! `p <= key < successor(p)`, and a *trailing* match (the last digits of a phone or an
//! IMEI, the end of a plate) is a prefix of the reversed key, which the migration keeps in
//! a generated column. No lookup needs a leading wildcard; only a customer's name is
//! matched as a substring, over the (small) customers table of the caller's center.

use pinyin::ToPinyinMulti;

use super::ids::PROVINCES;

str_enum! {
    /// What a search result is, in the order the groups are answered.
    Kind {
        Order = "order",
        Customer = "customer",
        Vehicle = "vehicle",
        Terminal = "terminal",
        Sim = "sim",
        Payment = "payment",
    }
}

impl Kind {
    /// The group's heading.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Order => "工单",
            Kind::Customer => "客户",
            Kind::Vehicle => "车辆",
            Kind::Terminal => "终端",
            Kind::Sim => "SIM 卡",
            Kind::Payment => "收款",
        }
    }
}

str_enum! {
    /// Which key of the object the text matched.
    Match {
        OrderNo = "order_no",
        Name = "name",
        Initials = "initials",
        ContactPhone = "contact_phone",
        DriverPhone = "driver_phone",
        Plate = "plate",
        Vin = "vin",
        Imei = "imei",
        Iccid = "iccid",
        Msisdn = "msisdn",
        ReceiptNo = "receipt_no",
    }
}

/// The longest search text, in characters.
pub const MAX_CHARS: usize = 64;
/// Fewest digits for a trailing match of a phone, IMEI, ICCID or MSISDN.
pub const MIN_TAIL_DIGITS: usize = 4;
/// Fewest characters for a trailing match of a plate (`2345` of 豫A12345).
pub const MIN_PLATE_TAIL: usize = 3;
/// Fewest characters for a trailing match of a VIN (the last six are what people read).
pub const MIN_VIN_TAIL: usize = 6;
/// At most this many pinyin-initial spellings are kept per name (多音字: 长沙 cs/zs).
pub const MAX_INITIALS: usize = 8;

/// Why a search text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryRefusal {
    #[error("q is empty")]
    Empty,
    #[error("q is longer than {MAX_CHARS} characters")]
    TooLong,
    /// another parameter of the search (kinds, limit)
    #[error("{0}")]
    Parameter(String),
}

impl QueryRefusal {
    pub fn code(&self) -> &'static str {
        "search_query_invalid"
    }
}

/// A prefix range: `from <= key < to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub from: String,
    pub to: String,
}

impl Range {
    pub fn prefix(p: &str) -> Self {
        Range {
            from: p.to_string(),
            to: successor(p),
        }
    }

    /// Keys ending in `tail`: a prefix of the reversed key.
    pub fn suffix(tail: &str) -> Self {
        Range::prefix(&reversed(tail))
    }
}

/// The lookups a search text asks for, each with its index range (`None`: not this key).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// the text as given, trimmed
    pub text: String,
    /// AZ-/WX- order numbers starting with the text
    pub order_no: Option<Range>,
    /// SJ- receipt numbers starting with the text
    pub receipt_no: Option<Range>,
    /// plates starting with the text (it starts with a province character)
    pub plate: Option<Range>,
    /// plates whose part after the province character starts with the text
    pub plate_key: Option<Range>,
    /// plates ending in the text (reversed)
    pub plate_tail: Option<Range>,
    /// VINs ending in the text (reversed)
    pub vin_tail: Option<Range>,
    /// phones, IMEIs, ICCIDs, MSISDNs ending in these digits (reversed; a whole number
    /// ends in itself)
    pub digits_tail: Option<Range>,
    /// pinyin initials starting with the text (lowercase)
    pub initials: Option<Range>,
    /// a LIKE pattern for the customer's name (lowercased, `\` escapes)
    pub name_like: Option<String>,
}

impl Plan {
    pub fn parse(q: &str) -> Result<Plan, QueryRefusal> {
        let text = q.trim();
        if text.is_empty() {
            return Err(QueryRefusal::Empty);
        }
        if text.chars().count() > MAX_CHARS {
            return Err(QueryRefusal::TooLong);
        }
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let upper = compact.to_ascii_uppercase();
        let mut plan = Plan {
            text: text.to_string(),
            ..Plan::default()
        };
        if upper.len() >= 2 && (upper.starts_with("AZ") || upper.starts_with("WX")) {
            plan.order_no = Some(Range::prefix(&upper));
        }
        if upper.len() >= 2 && upper.starts_with("SJ") {
            plan.receipt_no = Some(Range::prefix(&upper));
        }
        let mut chars = upper.chars();
        let first = chars.next().unwrap_or_default();
        let rest = chars.as_str();
        if PROVINCES.contains(first) && !rest.is_empty() && is_plate_serial(rest) {
            plan.plate = Some(Range::prefix(&upper));
        }
        if first.is_ascii_uppercase() && upper.chars().count() >= 2 && is_plate_serial(&upper) {
            plan.plate_key = Some(Range::prefix(&upper));
        }
        let alnum = upper.bytes().all(|b| b.is_ascii_alphanumeric());
        if alnum && upper.len() >= MIN_PLATE_TAIL && upper.len() <= 8 {
            plan.plate_tail = Some(Range::suffix(&upper));
        }
        if alnum && upper.len() >= MIN_VIN_TAIL && upper.len() <= 17 {
            plan.vin_tail = Some(Range::suffix(&upper));
        }
        let digits: String = compact
            .strip_prefix("+86")
            .unwrap_or(&compact)
            .chars()
            .filter(|c| *c != '-')
            .collect();
        let numeric = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        if numeric && digits.len() >= MIN_TAIL_DIGITS {
            plan.digits_tail = Some(Range::suffix(&digits));
        }
        if compact.len() >= 2 && compact.bytes().all(|b| b.is_ascii_alphabetic()) {
            plan.initials = Some(Range::prefix(&compact.to_ascii_lowercase()));
        }
        if !numeric {
            plan.name_like = Some(format!("%{}%", escape_like(&text.to_lowercase())));
        }
        Ok(plan)
    }
}

/// The characters of a plate after its province character, as far as typed: ASCII
/// letters and digits, maybe ending in 挂学警港澳.
fn is_plate_serial(s: &str) -> bool {
    let body = s.strip_suffix(|c| "挂学警港澳".contains(c)).unwrap_or(s);
    body.bytes().all(|b| b.is_ascii_alphanumeric()) && s.chars().count() <= 7
}

/// `s` backwards, by character.
pub fn reversed(s: &str) -> String {
    s.chars().rev().collect()
}

/// The least string greater than every string starting with `p` (by code point, which is
/// byte order in UTF-8: SQLite's BINARY and PostgreSQL's "C" collation).
pub fn successor(p: &str) -> String {
    let mut chars: Vec<char> = p.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return chars.into_iter().collect();
        }
    }
    // only U+10FFFF…: nothing is greater by a prefix rule; the range is open
    char::MAX.to_string().repeat(p.chars().count() + 1)
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The pinyin initials of a name, lowercase: 郑州顺达物流 → `zzsdwl`. ASCII letters and
/// digits count as themselves, everything else is skipped. A character with several
/// readings (长 chang/zhang, 重 zhong/chong, 行 xing/hang) gives every spelling, the
/// common reading first, up to [`MAX_INITIALS`] spellings.
pub fn initials(name: &str) -> Vec<String> {
    let mut spellings: Vec<String> = vec![String::new()];
    for c in name.chars() {
        let letters: Vec<char> = if c.is_ascii_alphanumeric() {
            vec![c.to_ascii_lowercase()]
        } else if let Some(multi) = c.to_pinyin_multi() {
            let mut ls: Vec<char> = Vec::new();
            for p in multi {
                if let Some(l) = p.first_letter().chars().next() {
                    let l = l.to_ascii_lowercase();
                    if l.is_ascii_lowercase() && !ls.contains(&l) {
                        ls.push(l);
                    }
                }
            }
            ls
        } else {
            Vec::new()
        };
        if letters.is_empty() {
            continue;
        }
        let mut next = Vec::with_capacity(spellings.len() * letters.len());
        for l in &letters {
            for s in &spellings {
                if next.len() < MAX_INITIALS {
                    next.push(format!("{s}{l}"));
                }
            }
        }
        spellings = next;
    }
    spellings.dedup();
    spellings
}

/// A mobile number with its middle four digits hidden (138****8000); other numbers as
/// they are.
pub fn masked_phone(phone: &str) -> String {
    if phone.len() == 11 && phone.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}****{}", &phone[..3], &phone[7..])
    } else {
        phone.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_of_a_company() {
        assert_eq!(initials("郑州顺达物流")[0], "zzsdwl");
        assert_eq!(initials("GPS车队 2号")[0], "gpscd2h");
        assert!(initials("长沙快运").contains(&"csky".to_string()));
        assert!(initials("重庆运输").iter().any(|s| s.starts_with("cq")));
        assert!(initials("……").iter().all(String::is_empty));
        assert!(initials("长长长长长长长长长").len() <= MAX_INITIALS);
    }

    #[test]
    fn successor_bounds_a_prefix() {
        assert_eq!(successor("AZ-"), "AZ.");
        assert_eq!(successor("豫A1"), "豫A2");
        assert!("豫A12345" > "豫A" && "豫A12345" < successor("豫A").as_str());
    }

    #[test]
    fn plans() {
        let p = Plan::parse("  az-zz-2026-0001 ").unwrap();
        assert_eq!(p.order_no, Some(Range::prefix("AZ-ZZ-2026-0001")));
        assert!(p.digits_tail.is_none());
        let p = Plan::parse("豫A123").unwrap();
        assert_eq!(p.plate, Some(Range::prefix("豫A123")));
        assert!(p.name_like.is_some());
        let p = Plan::parse("a12345").unwrap();
        assert_eq!(p.plate_key, Some(Range::prefix("A12345")));
        assert_eq!(p.plate_tail, Some(Range::suffix("A12345")));
        let p = Plan::parse("12345").unwrap();
        assert_eq!(p.plate_tail, Some(Range::prefix("54321")));
        assert_eq!(p.digits_tail, Some(Range::prefix("54321")));
        assert!(p.name_like.is_none());
        let p = Plan::parse("138-0013-8000").unwrap();
        assert_eq!(p.digits_tail, Some(Range::suffix("13800138000")));
        let p = Plan::parse("zzsd").unwrap();
        assert_eq!(p.initials, Some(Range::prefix("zzsd")));
        assert!(p.digits_tail.is_none());
        let p = Plan::parse("SJ-ZZ").unwrap();
        assert_eq!(p.receipt_no, Some(Range::prefix("SJ-ZZ")));
        assert_eq!(Plan::parse("  "), Err(QueryRefusal::Empty));
        assert_eq!(Plan::parse(&"x".repeat(65)), Err(QueryRefusal::TooLong));
        assert!(Plan::parse(&"顺".repeat(64)).is_ok());
        let p = Plan::parse("100%_\\").unwrap();
        assert_eq!(p.name_like.as_deref(), Some("%100\\%\\_\\\\%"));
    }

    #[test]
    fn masks_mobiles_only() {
        assert_eq!(masked_phone("13800138000"), "138****8000");
        assert_eq!(masked_phone("0371-67891234"), "0371-67891234");
    }
}
