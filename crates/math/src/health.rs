//! Health: one cross-margin figure, built as a sum of terms.
//!
//! `health = sum(token terms) + sum(perp terms)`, in quote-native units (fixed point).
//! A token term is `balance * asset_price * asset_weight` for a deposit and
//! `balance * liab_price * liab_weight` for a borrow (balance negative, so the term is
//! negative); asset prices are `min(oracle, stable)`, liability prices `max(oracle, stable)`.
//! Initial health (>= 0 required to add risk or withdraw) and maintenance health (< 0 means
//! liquidatable) differ only in the weights.
//!
//! Perp positions (with their unsettled PnL haircut and open orders margined as if filled on
//! their worse side) are added as [`PerpTerm`]s: each contributes its own precomputed init and
//! maint values, so the sum stays a plain fold over terms. Build one with
//! [`crate::perp::perp_health`]`(..)?.term(market_index)`; the formula is documented there.

use crate::error::{MathError, OrOverflow};
use crate::fixed::{Round, I80F48};

/// Capacity of the token term list (>= the margin account's 8 token slots). A term is 128
/// bytes: programs keep the list boxed (SBF stack frames are 4 KiB).
pub const MAX_TOKEN_TERMS: usize = 8;
/// Capacity of the perp term list (>= the margin account's 8 perp slots).
pub const MAX_PERP_TERMS: usize = 8;

const _: () = assert!(core::mem::size_of::<TokenTerm>() <= 128);
const _: () = assert!(core::mem::size_of::<HealthTerms>() <= 1600);

/// Which health.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthType {
    /// Initial: gates withdrawals, borrows and new risk.
    Init,
    /// Maintenance: below zero the account may be liquidated.
    Maint,
}

/// Risk weights of one token, fractions (1.0 = full value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Weights {
    /// Initial asset weight (<= maint asset weight).
    pub init_asset: I80F48,
    /// Maintenance asset weight (<= 1).
    pub maint_asset: I80F48,
    /// Initial liability weight (>= maint liab weight).
    pub init_liab: I80F48,
    /// Maintenance liability weight (>= 1).
    pub maint_liab: I80F48,
}

impl Weights {
    /// From parts per million.
    pub fn from_ppm(init_asset: u32, maint_asset: u32, init_liab: u32, maint_liab: u32) -> Self {
        Self {
            init_asset: I80F48::from_ppm(init_asset as u64),
            maint_asset: I80F48::from_ppm(maint_asset as u64),
            init_liab: I80F48::from_ppm(init_liab as u64),
            maint_liab: I80F48::from_ppm(maint_liab as u64),
        }
    }
    /// `0 <= init_asset <= maint_asset <= 1 <= maint_liab <= init_liab`.
    pub fn is_valid(&self) -> bool {
        !self.init_asset.is_negative()
            && self.init_asset <= self.maint_asset
            && self.maint_asset <= I80F48::ONE
            && I80F48::ONE <= self.maint_liab
            && self.maint_liab <= self.init_liab
    }
    fn asset(&self, t: HealthType) -> I80F48 {
        match t {
            HealthType::Init => self.init_asset,
            HealthType::Maint => self.maint_asset,
        }
    }
    fn liab(&self, t: HealthType) -> I80F48 {
        match t {
            HealthType::Init => self.init_liab,
            HealthType::Maint => self.maint_liab,
        }
    }
}

/// One token balance as health sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TokenTerm {
    /// Bank token index (identifies the term).
    pub token_index: u16,
    /// Signed native balance (deposits rounded down, debts rounded up).
    pub balance: I80F48,
    /// Quote-native per token-native used for a positive balance.
    pub asset_price: I80F48,
    /// Quote-native per token-native used for a negative balance.
    pub liab_price: I80F48,
    /// Risk weights.
    pub weights: Weights,
}

impl TokenTerm {
    /// This term's contribution, rounded down (against the account).
    pub fn contribution(&self, t: HealthType) -> Result<I80F48, MathError> {
        let (price, weight) = if self.balance.is_negative() {
            (self.liab_price, self.weights.liab(t))
        } else {
            (self.asset_price, self.weights.asset(t))
        };
        self.balance
            .mul_round(price, Round::Floor)
            .ovf()?
            .mul_round(weight, Round::Floor)
            .ovf()
    }
}

/// One perp position's precomputed contribution, from [`crate::perp::PerpHealth::term`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PerpTerm {
    /// Perp market index.
    pub market_index: u16,
    /// Contribution to initial health.
    pub init: I80F48,
    /// Contribution to maintenance health.
    pub maint: I80F48,
    /// Unrealized PnL at the oracle with pending funding (and socialized loss) counted, quote
    /// native, no haircut, no margin: the position's part of the account's equity.
    pub pnl: I80F48,
}

/// Fixed-capacity list of health terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthTerms {
    tokens: [TokenTerm; MAX_TOKEN_TERMS],
    n_tokens: usize,
    perps: [PerpTerm; MAX_PERP_TERMS],
    n_perps: usize,
}

impl Default for HealthTerms {
    fn default() -> Self {
        Self::new()
    }
}

impl HealthTerms {
    /// Empty list.
    pub const fn new() -> Self {
        Self {
            tokens: [TokenTerm {
                token_index: 0,
                balance: I80F48::ZERO,
                asset_price: I80F48::ZERO,
                liab_price: I80F48::ZERO,
                weights: Weights {
                    init_asset: I80F48::ZERO,
                    maint_asset: I80F48::ZERO,
                    init_liab: I80F48::ZERO,
                    maint_liab: I80F48::ZERO,
                },
            }; MAX_TOKEN_TERMS],
            n_tokens: 0,
            perps: [PerpTerm {
                market_index: 0,
                init: I80F48::ZERO,
                maint: I80F48::ZERO,
                pnl: I80F48::ZERO,
            }; MAX_PERP_TERMS],
            n_perps: 0,
        }
    }
    /// Add a token term.
    pub fn push_token(&mut self, t: TokenTerm) -> Result<(), MathError> {
        let slot = self
            .tokens
            .get_mut(self.n_tokens)
            .ok_or(MathError::CapacityExceeded)?;
        *slot = t;
        self.n_tokens += 1;
        Ok(())
    }
    /// Add a perp term.
    pub fn push_perp(&mut self, t: PerpTerm) -> Result<(), MathError> {
        let slot = self
            .perps
            .get_mut(self.n_perps)
            .ok_or(MathError::CapacityExceeded)?;
        *slot = t;
        self.n_perps += 1;
        Ok(())
    }
    /// Token terms pushed so far.
    pub fn tokens(&self) -> &[TokenTerm] {
        &self.tokens[..self.n_tokens]
    }
    /// Perp terms pushed so far.
    pub fn perps(&self) -> &[PerpTerm] {
        &self.perps[..self.n_perps]
    }
    /// Replace the term of perp market `t.market_index` (`InvalidAmount` when absent): what a
    /// liquidation evaluates for a candidate amount.
    pub fn set_perp(&mut self, t: PerpTerm) -> Result<(), MathError> {
        let n = self.n_perps;
        let slot = self.perps[..n]
            .iter_mut()
            .find(|p| p.market_index == t.market_index)
            .ok_or(MathError::InvalidAmount)?;
        *slot = t;
        Ok(())
    }
    /// The term of token `token_index`, if any.
    pub fn token(&self, token_index: u16) -> Option<&TokenTerm> {
        self.tokens().iter().find(|t| t.token_index == token_index)
    }
    /// Set the balance of token `token_index` (`InvalidAmount` when absent).
    pub fn set_token_balance(
        &mut self,
        token_index: u16,
        balance: I80F48,
    ) -> Result<(), MathError> {
        let n = self.n_tokens;
        let slot = self.tokens[..n]
            .iter_mut()
            .find(|t| t.token_index == token_index)
            .ok_or(MathError::InvalidAmount)?;
        slot.balance = balance;
        Ok(())
    }
    /// Sum of all terms.
    pub fn health(&self, t: HealthType) -> Result<I80F48, MathError> {
        let mut h = I80F48::ZERO;
        for term in self.tokens() {
            h = h.checked_add(term.contribution(t)?).ovf()?;
        }
        for p in self.perps() {
            let c = match t {
                HealthType::Init => p.init,
                HealthType::Maint => p.maint,
            };
            h = h.checked_add(c).ovf()?;
        }
        Ok(h)
    }

    /// Equity: what the account would be worth with every risk weight at 1, quote native.
    /// Each balance is valued at the price health gives it (a deposit at its asset price, a
    /// borrow at its liability price, rounded down), each perp position at its PnL at the
    /// oracle ([`PerpTerm::pnl`]). Negative equity is a deficit nothing in the account covers:
    /// what auto-deleveraging and bankruptcy resolve.
    pub fn equity(&self) -> Result<I80F48, MathError> {
        let mut e = I80F48::ZERO;
        for term in self.tokens() {
            let price = if term.balance.is_negative() {
                term.liab_price
            } else {
                term.asset_price
            };
            e = e
                .checked_add(term.balance.mul_round(price, Round::Floor).ovf()?)
                .ovf()?;
        }
        for p in self.perps() {
            e = e.checked_add(p.pnl).ovf()?;
        }
        Ok(e)
    }
}

impl HealthTerms {
    /// Largest amount (native units, fixed point, rounded down) of token `token_index` that can
    /// leave the account, first from its deposit then as a borrow, keeping initial health at
    /// or above zero. Does not know about vault cash or bank limits. A token without a term is
    /// treated as a zero balance with weights and prices from `if_absent` (pass the bank's).
    pub fn max_withdraw(
        &self,
        token_index: u16,
        if_absent: Option<&TokenTerm>,
    ) -> Result<I80F48, MathError> {
        let h = self.health(HealthType::Init)?;
        if !h.is_positive() {
            return Ok(I80F48::ZERO);
        }
        let term = match self.tokens().iter().find(|t| t.token_index == token_index) {
            Some(t) => *t,
            None => match if_absent {
                Some(t) => TokenTerm {
                    balance: I80F48::ZERO,
                    ..*t
                },
                None => return Ok(I80F48::ZERO),
            },
        };
        let asset_unit = term
            .asset_price
            .mul_round(term.weights.init_asset, Round::Ceil)
            .ovf()?;
        let liab_unit = term
            .liab_price
            .mul_round(term.weights.init_liab, Round::Ceil)
            .ovf()?;
        let mut left = h;
        let mut out = I80F48::ZERO;
        if term.balance.is_positive() {
            // each unit of deposit withdrawn costs asset_unit of health
            if asset_unit.is_zero() {
                out = term.balance;
            } else {
                let cap = left.div_round(asset_unit, Round::Floor).ovf()?;
                if cap <= term.balance {
                    return Ok(cap);
                }
                out = term.balance;
                let used = term.balance.mul_round(asset_unit, Round::Ceil).ovf()?;
                left = left.checked_sub(used).ovf()?;
                if !left.is_positive() {
                    return Ok(out);
                }
            }
        }
        if liab_unit.is_zero() {
            return Ok(out);
        }
        let borrow = left.div_round(liab_unit, Round::Floor).ovf()?;
        out.checked_add(borrow).ovf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn w() -> Weights {
        Weights::from_ppm(800_000, 900_000, 1_200_000, 1_100_000)
    }

    #[test]
    fn sums_terms() {
        let mut h = HealthTerms::new();
        // 10 SOL-native at asset 2 / liab 3; -5 USDC-native at price 1
        h.push_token(TokenTerm {
            token_index: 1,
            balance: I80F48::from_i64(10),
            asset_price: I80F48::from_i64(2),
            liab_price: I80F48::from_i64(3),
            weights: w(),
        })
        .unwrap();
        h.push_token(TokenTerm {
            token_index: 0,
            balance: I80F48::from_i64(-5),
            asset_price: I80F48::ONE,
            liab_price: I80F48::ONE,
            weights: w(),
        })
        .unwrap();
        let init = h.health(HealthType::Init).unwrap();
        let maint = h.health(HealthType::Maint).unwrap();
        // init: 20*0.8 - 5*1.2 = 10; maint: 20*0.9 - 5*1.1 = 12.5
        assert!((init.to_bits() - I80F48::from_i64(10).to_bits()).abs() < 1 << 10);
        assert!(
            (maint.to_bits() - I80F48::from_ratio(25, 2, Round::Floor).unwrap().to_bits()).abs()
                < 1 << 10
        );
        h.push_perp(PerpTerm {
            market_index: 0,
            init: I80F48::from_i64(-10),
            maint: I80F48::from_i64(-1),
            pnl: I80F48::from_i64(-3),
        })
        .unwrap();
        assert!(h.health(HealthType::Init).unwrap() < I80F48::ZERO);
        // equity: 10 * 2 - 5 * 1 - 3 = 12 (weights 1, deposit at its asset price)
        assert_eq!(h.equity().unwrap(), I80F48::from_i64(12));
        assert!(w().is_valid());
        for i in 0..MAX_TOKEN_TERMS - 2 {
            h.push_token(TokenTerm {
                token_index: i as u16,
                ..Default::default()
            })
            .unwrap();
        }
        assert_eq!(
            h.push_token(TokenTerm::default()),
            Err(MathError::CapacityExceeded)
        );
    }

    fn with_balance(h: &HealthTerms, idx: u16, delta: I80F48) -> HealthTerms {
        let mut out = HealthTerms::new();
        for t in h.tokens() {
            let mut t = *t;
            if t.token_index == idx {
                t.balance = t.balance.checked_sub(delta).unwrap();
            }
            out.push_token(t).unwrap();
        }
        out
    }

    #[test]
    fn max_withdraw_examples() {
        let mut h = HealthTerms::new();
        // 100 USDC deposit (price 1) and 1 SOL-native unit worth 150 at 0.8/1.2
        h.push_token(TokenTerm {
            token_index: 0,
            balance: I80F48::from_i64(100),
            asset_price: I80F48::ONE,
            liab_price: I80F48::ONE,
            weights: w(),
        })
        .unwrap();
        h.push_token(TokenTerm {
            token_index: 1,
            balance: I80F48::from_i64(1),
            asset_price: I80F48::from_i64(150),
            liab_price: I80F48::from_i64(150),
            weights: w(),
        })
        .unwrap();
        // init = 80 + 120 = 200: all 100 USDC (costs 80), then borrow 120/1.2 = 100 more
        let m = h.max_withdraw(0, None).unwrap();
        assert!(
            (m.to_bits() - I80F48::from_i64(200).to_bits()).abs() < 1 << 12,
            "{m}"
        );
        assert_eq!(h.max_withdraw(7, None).unwrap(), I80F48::ZERO);
        let absent = TokenTerm {
            token_index: 7,
            asset_price: I80F48::from_i64(2),
            liab_price: I80F48::from_i64(2),
            weights: w(),
            ..Default::default()
        };
        let m = h.max_withdraw(7, Some(&absent)).unwrap();
        // 200 / (2 * 1.2) = 83.33
        assert_eq!(m.floor_int(), 83);
    }

    proptest! {
        #[test]
        fn max_withdraw_is_tight(b0 in -1_000_000i64..1_000_000_000, b1 in 0i64..1_000_000_000, p in 1i64..1000) {
            let mut h = HealthTerms::new();
            h.push_token(TokenTerm { token_index: 0, balance: I80F48::from_i64(b0), asset_price: I80F48::ONE, liab_price: I80F48::ONE, weights: w() }).unwrap();
            h.push_token(TokenTerm { token_index: 1, balance: I80F48::from_i64(b1), asset_price: I80F48::from_i64(p), liab_price: I80F48::from_i64(p + 1), weights: w() }).unwrap();
            for idx in [0u16, 1] {
                let m = h.max_withdraw(idx, None).unwrap();
                prop_assert!(!m.is_negative());
                let after = with_balance(&h, idx, m).health(HealthType::Init).unwrap();
                // never past zero (up to fixed-point noise of the products)
                prop_assert!(after.to_bits() > -(1 << 24), "after {} (m {})", after, m);
                if h.health(HealthType::Init).unwrap().is_positive() {
                    let more = with_balance(&h, idx, m.checked_add(I80F48::ONE).unwrap()).health(HealthType::Init).unwrap();
                    prop_assert!(more.is_negative() || more.to_bits() < 1 << 24, "one more unit keeps health {}", more);
                }
            }
        }

        #[test]
        fn init_never_above_maint(bals in proptest::collection::vec(-1_000_000_000i64..1_000_000_000, 0..8), p in 1i64..1000, q in 1i64..1000) {
            let mut h = HealthTerms::new();
            for (i, b) in bals.iter().enumerate() {
                h.push_token(TokenTerm { token_index: i as u16, balance: I80F48::from_i64(*b), asset_price: I80F48::from_i64(p.min(q)), liab_price: I80F48::from_i64(p.max(q)), weights: w() }).unwrap();
            }
            prop_assert!(h.health(HealthType::Init).unwrap() <= h.health(HealthType::Maint).unwrap());
        }
    }
}
