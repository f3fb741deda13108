//! The one error type of the math crate; the margin program maps each variant to a named
//! program error.

/// Why a math operation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathError {
    /// A result did not fit its type.
    Overflow,
    /// Division by zero.
    DivisionByZero,
    /// A withdrawal exceeds the balance and borrowing was not allowed.
    InsufficientBalance,
    /// Oracle price is zero or negative.
    OracleNonPositive,
    /// Oracle price is older than the allowed age.
    OracleStale,
    /// Oracle confidence interval is wider than allowed.
    OracleConfidence,
    /// Oracle exponent/decimals combination cannot be represented.
    OracleExponent,
    /// A fixed-capacity list is full.
    CapacityExceeded,
    /// A price input (fill price, impact price, price per lot) is zero or negative, or impact
    /// bid and ask are crossed.
    InvalidPrice,
    /// An amount input is out of range (e.g. a fill of zero or negative base lots, negative
    /// resting order lots).
    InvalidAmount,
    /// Market parameters fail validation (leverage tiers, funding parameters, fee rate,
    /// haircut, settlement window).
    InvalidParams,
    /// An average was asked of an accumulator that holds no sample.
    NoSamples,
}

/// Shorthand for `Option -> Result<_, MathError::Overflow>`.
pub(crate) trait OrOverflow<T> {
    fn ovf(self) -> Result<T, MathError>;
}
impl<T> OrOverflow<T> for Option<T> {
    #[inline]
    fn ovf(self) -> Result<T, MathError> {
        self.ok_or(MathError::Overflow)
    }
}
