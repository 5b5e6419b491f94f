//! Human-facing ticket numbers: `T-000042`.
//!
//! Numbers count up from 1 per organization, so "T-000042" is only unique together with the
//! organization; machines use [`crate::ids::TicketId`]. The number is written with at least six
//! digits (more once an organization passes 999,999 tickets) so lists line up and the text is
//! easy to search for in mail. Parsing is lenient about what people type (`t-42`, `T-0042`) and
//! strict about everything else.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The prefix every ticket number is written with.
pub const TICKET_NUMBER_PREFIX: &str = "T-";

/// Digits a ticket number is zero-padded to.
pub const TICKET_NUMBER_MIN_DIGITS: usize = 6;

/// Longest digit string accepted when parsing (enough for `u32::MAX`).
const MAX_DIGITS: usize = 10;

/// A ticket's number within its organization (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TicketNumber(u32);

/// Why a text is not a ticket number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TicketNumberError {
    #[error("a ticket number starts with \"T-\" (like T-000042), got {0:?}")]
    MissingPrefix(String),
    #[error("a ticket number has 1 to {MAX_DIGITS} digits after \"T-\" (like T-000042), got {0:?}")]
    BadDigits(String),
    #[error("ticket numbers start at T-000001; {0:?} is out of range")]
    OutOfRange(String),
}

impl TicketNumber {
    /// The first number an organization hands out.
    pub const FIRST: TicketNumber = TicketNumber(1);

    /// The number `n`, or `None` for 0 (numbering starts at 1).
    pub fn new(n: u32) -> Option<Self> {
        (n >= 1).then_some(Self(n))
    }

    /// The plain integer (what the store keeps).
    pub fn get(self) -> u32 {
        self.0
    }

    /// The number after this one, or `None` once the organization ran out of numbers.
    pub fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{TICKET_NUMBER_PREFIX}{:0width$}",
            self.0,
            width = TICKET_NUMBER_MIN_DIGITS
        )
    }
}

impl FromStr for TicketNumber {
    type Err = TicketNumberError;

    /// Accepts `T-000042`, `t-000042` and `T-42` (any zero padding); surrounding whitespace is
    /// ignored. Signs, spaces inside and non-ASCII digits are rejected.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let digits = trimmed
            .get(..TICKET_NUMBER_PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(TICKET_NUMBER_PREFIX))
            .map(|_| &trimmed[TICKET_NUMBER_PREFIX.len()..])
            .ok_or_else(|| TicketNumberError::MissingPrefix(s.to_owned()))?;
        if digits.is_empty()
            || digits.len() > MAX_DIGITS
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(TicketNumberError::BadDigits(s.to_owned()));
        }
        digits
            .parse::<u32>()
            .ok()
            .and_then(Self::new)
            .ok_or_else(|| TicketNumberError::OutOfRange(s.to_owned()))
    }
}

impl Serialize for TicketNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TicketNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: u32) -> TicketNumber {
        TicketNumber::new(v).unwrap()
    }

    #[test]
    fn formats_with_six_digits_and_grows_beyond() {
        assert_eq!(n(42).to_string(), "T-000042");
        assert_eq!(TicketNumber::FIRST.to_string(), "T-000001");
        assert_eq!(n(999_999).to_string(), "T-999999");
        assert_eq!(n(1_000_000).to_string(), "T-1000000");
        assert_eq!(n(u32::MAX).to_string(), "T-4294967295");
    }

    #[test]
    fn parses_what_it_formats() {
        for v in [1, 42, 999_999, 1_000_000, u32::MAX] {
            assert_eq!(n(v).to_string().parse::<TicketNumber>().unwrap(), n(v));
        }
    }

    #[test]
    fn parsing_is_lenient_about_case_padding_and_whitespace() {
        assert_eq!("t-000042".parse::<TicketNumber>().unwrap(), n(42));
        assert_eq!("T-42".parse::<TicketNumber>().unwrap(), n(42));
        assert_eq!(" T-0042\n".parse::<TicketNumber>().unwrap(), n(42));
    }

    #[test]
    fn rejects_everything_else_with_a_reason() {
        use TicketNumberError::*;
        type Reason = fn(String) -> TicketNumberError;
        let cases: [(&str, Reason); 12] = [
            ("000042", MissingPrefix),
            ("T000042", MissingPrefix),
            ("#42", MissingPrefix),
            ("", MissingPrefix),
            ("Ü-42", MissingPrefix),
            ("T-", BadDigits),
            ("T-+42", BadDigits),
            ("T- 42", BadDigits),
            ("T-4 2", BadDigits),
            ("T-٤٢", BadDigits),
            ("T-00000000042", BadDigits),
            ("T-000000", OutOfRange),
        ];
        for (input, expected) in cases {
            assert_eq!(
                input.parse::<TicketNumber>(),
                Err(expected(input.to_owned())),
                "{input:?}"
            );
        }
        assert_eq!(
            "T-4294967296".parse::<TicketNumber>(),
            Err(OutOfRange("T-4294967296".into()))
        );
    }

    #[test]
    fn zero_is_not_a_number_and_the_last_has_no_successor() {
        assert_eq!(TicketNumber::new(0), None);
        assert_eq!(n(41).next(), Some(n(42)));
        assert_eq!(n(u32::MAX).next(), None);
    }

    #[test]
    fn travels_as_text() {
        assert_eq!(serde_json::to_string(&n(42)).unwrap(), "\"T-000042\"");
        assert_eq!(
            serde_json::from_str::<TicketNumber>("\"T-000042\"").unwrap(),
            n(42)
        );
        let packed = rmp_serde::to_vec(&n(7)).unwrap();
        assert_eq!(
            rmp_serde::from_slice::<TicketNumber>(&packed).unwrap(),
            n(7)
        );
        let err = serde_json::from_str::<TicketNumber>("\"42\"").unwrap_err();
        assert!(err.to_string().contains("starts with"), "{err}");
        assert!(serde_json::from_str::<TicketNumber>("42").is_err());
    }
}
