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
