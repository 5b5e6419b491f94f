//! What a generation costs.
//!
//! Money is never a float here. A price is an integer number of *micro-units* (millionths of the
//! configured currency unit, e.g. of a US dollar) per million tokens, exactly how providers
//! publish their prices ($3 per million input tokens is `3_000_000`). A cost is an integer
//! number of micro-units, rounded half up, so sums over many usage records are exact.

use serde::{Deserialize, Serialize};

/// Tokens in the unit prices refer to.
pub const TOKENS_PER_PRICE_UNIT: i128 = 1_000_000;

/// Micro-units of currency per million tokens.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Price(pub i64);

/// The cost in micro-units of `input` and `output` tokens at the given prices (rounded half up;
/// saturating at `i64::MAX`, which no real bill reaches).
pub fn cost_micros(input_price: Price, output_price: Price, input: u64, output: u64) -> i64 {
    let raw = (i128::from(input).saturating_mul(i128::from(input_price.0)))
        .saturating_add(i128::from(output).saturating_mul(i128::from(output_price.0)));
    let rounded = raw
        .saturating_add(TOKENS_PER_PRICE_UNIT / 2)
        .div_euclid(TOKENS_PER_PRICE_UNIT);
    i64::try_from(rounded).unwrap_or(if rounded < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_exact_micro_units() {
        // $3 / $15 per million tokens; 1,000 in and 500 out = $0.003 + $0.0075.
        assert_eq!(
            cost_micros(Price(3_000_000), Price(15_000_000), 1_000, 500),
            10_500
        );
        assert_eq!(cost_micros(Price(0), Price(0), 10_000, 10_000), 0);
        // 1 token at $1/M is one micro-dollar; at $0.40/M it rounds to 0, at $0.60/M to 1.
        assert_eq!(cost_micros(Price(1_000_000), Price(0), 1, 0), 1);
        assert_eq!(cost_micros(Price(400_000), Price(0), 1, 0), 0);
        assert_eq!(cost_micros(Price(600_000), Price(0), 1, 0), 1);
        assert_eq!(
            cost_micros(Price(i64::MAX), Price(i64::MAX), u64::MAX, u64::MAX),
            i64::MAX
        );
    }
}
