//! Numbers the way event-ruler's `ComparableNumber` sees them: values in -5.0e9..=5.0e9, compared to six
//! digits right of the decimal point, so `300`, `300.0` and `3.0e2` are one number.

/// AWS's bound on numbers used in numeric matching, both ends inclusive.
pub const NUMERIC_LIMIT: f64 = 5.0e9;

/// A number in micro-units (value × 10⁶, rounded), or `None` outside ±[`NUMERIC_LIMIT`], where event-ruler
/// cannot compare numerically. 5e15 is below 2⁵³, so the product is exact enough to round.
pub(crate) fn comparable(value: f64) -> Option<i64> {
    if !(-NUMERIC_LIMIT..=NUMERIC_LIMIT).contains(&value) {
        return None;
    }
    Some((value * 1e6).round() as i64)
}

/// The message event-ruler gives for a number it cannot compare (Java prints 5e9 as `5.0E9`).
pub(crate) const OUT_OF_RANGE: &str = "Value must be between -5.0E9 and 5.0E9, inclusive";

/// A number written in a pattern's value list (`"x": [300]`). event-ruler adds both a numeric-equality matcher
/// (when the number is comparable) and an exact-text one; outside the comparable range only the exact match
/// remains, which we approximate by equality of the parsed values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NumberLiteral {
    value: f64,
    comparable: Option<i64>,
}

impl NumberLiteral {
    pub(crate) fn new(value: f64) -> Self {
        Self { value, comparable: comparable(value) }
    }

    pub(crate) fn matches(&self, event: f64) -> bool {
        self.value == event || (self.comparable.is_some() && self.comparable == comparable(event))
    }
}

/// One `numeric` expression: an interval over comparable numbers. One-sided expressions are closed at ±5e9, as
/// event-ruler builds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interval {
    pub(crate) low: i64,
    pub(crate) low_open: bool,
    pub(crate) high: i64,
    pub(crate) high_open: bool,
}

impl Interval {
    pub(crate) const MIN: i64 = -5_000_000_000_000_000;
    pub(crate) const MAX: i64 = 5_000_000_000_000_000;

    pub(crate) fn contains(&self, event: f64) -> bool {
        let Some(v) = comparable(event) else { return false };
        let above = if self.low_open { v > self.low } else { v >= self.low };
        let below = if self.high_open { v < self.high } else { v <= self.high };
        above && below
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_spellings_of_one_number_are_comparable_as_equal() {
        assert_eq!(comparable(300.0), comparable(3.0e2));
        assert_eq!(comparable(0.1 + 0.2), comparable(0.3));
        assert_eq!(comparable(5.0e9), Some(Interval::MAX));
        assert_eq!(comparable(-5.0e9), Some(Interval::MIN));
        assert_eq!(comparable(5.0e9 + 1.0), None);
    }

    #[test]
    fn literals_outside_the_range_still_match_the_same_value() {
        assert!(NumberLiteral::new(123456789012.0).matches(123456789012.0));
        assert!(!NumberLiteral::new(123456789012.0).matches(123456789013.0));
        assert!(NumberLiteral::new(301.8).matches(3.018e2));
    }
}
