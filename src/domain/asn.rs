//! BGP autonomous system numbers, in asplain (`64512`) or asdot (`1.10`) notation.
//!
//! Parsing here only answers "is this a number in 0..=u32::MAX"; which numbers are allowed for a
//! session (0, 23456, 65535 and 4294967295 are reserved) is a rule in [`crate::domain::validate`].

use std::fmt;

/// An AS number, stored as its 32-bit value and always printed in asplain notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Asn(pub u32);

/// Why a text is not an AS number at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsnParseError {
    #[error("an AS number is required")]
    Empty,
    #[error("'{0}' is not an AS number: use digits (asplain, e.g. 64512) or two numbers with a dot (asdot, e.g. 1.10)")]
    NotANumber(String),
    #[error("'{0}' is larger than 4294967295, the largest 32-bit AS number")]
    TooLarge(String),
    #[error("'{text}' in asdot notation needs both halves between 0 and 65535; '{half}' is not")]
    AsdotHalf { text: String, half: String },
}

impl Asn {
    /// Parse asplain (`4200000000`) or asdot (`64086.59904`). Surrounding blanks are ignored.
    pub fn parse(text: &str) -> Result<Asn, AsnParseError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(AsnParseError::Empty);
        }
        if let Some((hi, lo)) = t.split_once('.') {
            let half = |h: &str| -> Result<u32, AsnParseError> {
                if h.is_empty() || !h.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(AsnParseError::NotANumber(t.to_string()));
                }
                match h.parse::<u32>() {
                    Ok(v) if v <= 65535 => Ok(v),
                    _ => Err(AsnParseError::AsdotHalf { text: t.to_string(), half: h.to_string() }),
                }
            };
            let (hi, lo) = (half(hi)?, half(lo)?);
            return Ok(Asn(hi * 65536 + lo));
        }
        if !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AsnParseError::NotANumber(t.to_string()));
        }
        t.parse::<u32>().map(Asn).map_err(|_| AsnParseError::TooLarge(t.to_string()))
    }

    /// asdot form (`1.10`) for 4-byte numbers above 65535, plain digits otherwise.
    pub fn asdot(self) -> String {
        if self.0 > 65535 { format!("{}.{}", self.0 >> 16, self.0 & 0xffff) } else { self.0.to_string() }
    }

    /// True for numbers that need 4-byte AS support on the peer (above 65535).
    pub fn is_four_byte(self) -> bool {
        self.0 > 65535
    }
}

impl fmt::Display for Asn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_asplain_and_asdot() {
        assert_eq!(Asn::parse("64512"), Ok(Asn(64512)));
        assert_eq!(Asn::parse(" 7675 "), Ok(Asn(7675)));
        assert_eq!(Asn::parse("1.10"), Ok(Asn(65546)));
        assert_eq!(Asn::parse("4294967295"), Ok(Asn(u32::MAX)));
        assert_eq!(Asn(65546).asdot(), "1.10");
        assert_eq!(Asn(7675).asdot(), "7675");
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(Asn::parse(""), Err(AsnParseError::Empty));
        assert!(matches!(Asn::parse("AS7675"), Err(AsnParseError::NotANumber(_))));
        assert!(matches!(Asn::parse("-1"), Err(AsnParseError::NotANumber(_))));
        assert!(matches!(Asn::parse("4294967296"), Err(AsnParseError::TooLarge(_))));
        assert!(matches!(Asn::parse("1.70000"), Err(AsnParseError::AsdotHalf { .. })));
        assert!(matches!(Asn::parse("1."), Err(AsnParseError::NotANumber(_))));
    }
}
