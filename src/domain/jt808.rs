//! JT/T 808 facts the install ledger prints: the terminal's 808 id (终端手机号).
//!
//! The platform knows a terminal by its terminal phone number: 12 BCD digits in JT/T
//! 808-2011/2013 (6 bytes), 20 in JT/T 808-2019 (10 bytes). In this company it is the
//! number of the SIM card in the terminal, left-padded with zeros; it is computed from the
//! SIM, never stored, so a SIM swap changes it.

/// Digits of the 2013 terminal phone number.
pub const PHONE_DIGITS_2013: usize = 12;
/// Digits of the 2019 terminal phone number.
pub const PHONE_DIGITS_2019: usize = 20;

/// The 808 terminal id of a terminal whose SIM has `msisdn`: the number left-padded with
/// zeros to 12 digits (an 11-digit mobile: `013812345678`). A 13-digit IoT number does not
/// fit the 2013 protocol's 12 digits: it gets the 2019 protocol's 20
/// (`1440123456789` → `00000001440123456789`). `None` for anything but 1–20 digits.
pub fn terminal_phone(msisdn: &str) -> Option<String> {
    let digits = msisdn.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let width = match digits.len() {
        n if n <= PHONE_DIGITS_2013 => PHONE_DIGITS_2013,
        n if n <= PHONE_DIGITS_2019 => PHONE_DIGITS_2019,
        _ => return None,
    };
    Some(format!("{digits:0>width$}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mobile_number_is_padded_to_twelve_digits() {
        assert_eq!(
            terminal_phone("13812345678").as_deref(),
            Some("013812345678")
        );
        assert_eq!(
            terminal_phone("013812345678").as_deref(),
            Some("013812345678")
        );
        assert_eq!(terminal_phone("123").as_deref(), Some("000000000123"));
    }

    #[test]
    fn an_iot_number_takes_the_2019_width() {
        let id = terminal_phone("1440123456789").unwrap();
        assert_eq!(id, "00000001440123456789");
        assert_eq!(id.len(), PHONE_DIGITS_2019);
    }

    #[test]
    fn anything_but_digits_has_no_808_id() {
        for bad in [
            "",
            "  ",
            "+8613812345678",
            "138-1234-5678",
            "123456789012345678901",
        ] {
            assert_eq!(terminal_phone(bad), None, "{bad}");
        }
    }
}
