//! Native amounts <-> index-scaled shares, and the balance changes of deposit and withdraw.
//!
//! A position is a signed number of shares: positive = deposit shares (value
//! `shares * deposit_index`), negative = borrow shares (debt `|shares| * borrow_index`).
//! Every conversion rounds in the protocol's favour:
//! - deposit: shares credited = floor(amount / deposit_index)
//! - withdraw: shares debited = ceil(amount / deposit_index)
//! - borrow: shares debited = ceil(amount / borrow_index)
//! - repay: shares credited = floor(amount / borrow_index)
//! - value of a deposit is rounded down, value of a debt is rounded up.
//!
//! What the rounding keeps for the protocol is added to [`Pool::dust`] (native units, fixed
//! point), so that for every bank, up to a few 2^-48 per operation,
//! `vault = indexed_deposits * deposit_index - indexed_borrows * borrow_index
//!        + non_lendable + reserve + dust`.

use crate::error::{MathError, OrOverflow};
use crate::fixed::{Round, I80F48};

/// The lending pool of one bank (the parts the share math touches).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool {
    /// Native value of one deposit share (starts at 1; grows with interest, falls only when a
    /// bankruptcy's loss is socialized over the depositors).
    pub deposit_index: I80F48,
    /// Native debt of one borrow share (starts at 1, never decreases).
    pub borrow_index: I80F48,
    /// Sum of all deposit shares.
    pub indexed_deposits: I80F48,
    /// Sum of all borrow shares (positive number).
    pub indexed_borrows: I80F48,
    /// Native value kept by protocol-favoured rounding.
    pub dust: I80F48,
}

/// Native value of a signed share position: deposits rounded down, debts rounded up
/// (more negative). Stays in fixed point.
// Inlined: three i128 operands and the result pointer are seven registers as a call on SBF.
#[inline(always)]
pub fn position_native(
    shares: I80F48,
    deposit_index: I80F48,
    borrow_index: I80F48,
) -> Result<I80F48, MathError> {
    if shares.is_negative() {
        shares.mul_round(borrow_index, Round::Floor).ovf()
    } else {
        shares.mul_round(deposit_index, Round::Floor).ovf()
    }
}

/// What a deposit did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct DepositOutcome {
    /// Native amount that repaid a borrow.
    pub repaid: u64,
    /// Native amount that became (or added to) a deposit.
    pub deposited: u64,
    /// True when the position had a borrow and it is now fully repaid.
    pub borrow_closed: bool,
}

/// What a withdrawal did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct WithdrawOutcome {
    /// Native amount taken out of a deposit.
    pub from_deposit: u64,
    /// Native amount newly borrowed.
    pub borrowed: u64,
}

impl Pool {
    fn add_dust(&mut self, d: I80F48) -> Result<(), MathError> {
        self.dust = self.dust.checked_add(d).ovf()?;
        Ok(())
    }

    /// Deposit `amount` native into `position`: repays a borrow first, the rest is deposited.
    /// On error nothing is changed.
    pub fn deposit(
        &mut self,
        position: &mut I80F48,
        amount: u64,
    ) -> Result<DepositOutcome, MathError> {
        let mut pool = *self;
        let mut pos = *position;
        let out = pool.deposit_inner(&mut pos, amount)?;
        *self = pool;
        *position = pos;
        Ok(out)
    }

    fn deposit_inner(
        &mut self,
        position: &mut I80F48,
        amount: u64,
    ) -> Result<DepositOutcome, MathError> {
        let mut out = DepositOutcome::default();
        let mut rest = amount;
        if position.is_negative() {
            let debt_shares = position.checked_neg().ovf()?;
            let debt = debt_shares
                .mul_round(self.borrow_index, Round::Ceil)
                .ovf()?;
            let debt_native = u64::try_from(debt.ceil_int()).map_err(|_| MathError::Overflow)?;
            if amount >= debt_native {
                // full repay: pay the debt rounded up to whole units
                self.indexed_borrows = self.indexed_borrows.checked_sub(debt_shares).ovf()?;
                *position = I80F48::ZERO;
                self.add_dust(I80F48::from_u64(debt_native).checked_sub(debt).ovf()?)?;
                out.repaid = debt_native;
                out.borrow_closed = true;
                rest = amount - debt_native;
            } else {
                // partial: amount < debt, so floor(amount / index) < debt_shares
                let paid_shares = I80F48::from_u64(amount)
                    .div_round(self.borrow_index, Round::Floor)
                    .ovf()?
                    .min(debt_shares);
                *position = position.checked_add(paid_shares).ovf()?;
                self.indexed_borrows = self.indexed_borrows.checked_sub(paid_shares).ovf()?;
                let paid_value = paid_shares
                    .mul_round(self.borrow_index, Round::Ceil)
                    .ovf()?;
                self.add_dust(I80F48::from_u64(amount).checked_sub(paid_value).ovf()?)?;
                out.repaid = amount;
                rest = 0;
            }
        }
        if rest > 0 {
            let shares = I80F48::from_u64(rest)
                .div_round(self.deposit_index, Round::Floor)
                .ovf()?;
            *position = position.checked_add(shares).ovf()?;
            self.indexed_deposits = self.indexed_deposits.checked_add(shares).ovf()?;
            let value = shares.mul_round(self.deposit_index, Round::Ceil).ovf()?;
            self.add_dust(I80F48::from_u64(rest).checked_sub(value).ovf()?)?;
            out.deposited = rest;
        }
        Ok(out)
    }

    /// Withdraw `amount` native from `position`. Beyond the deposit's whole-unit value the
    /// rest is a borrow, refused with `InsufficientBalance` unless `allow_borrow`.
    /// Withdrawing exactly the whole-unit value closes the deposit (the sub-unit remainder
    /// goes to dust).
    /// On error nothing is changed.
    pub fn withdraw(
        &mut self,
        position: &mut I80F48,
        amount: u64,
        allow_borrow: bool,
    ) -> Result<WithdrawOutcome, MathError> {
        let mut pool = *self;
        let mut pos = *position;
        let out = pool.withdraw_inner(&mut pos, amount, allow_borrow)?;
        *self = pool;
        *position = pos;
        Ok(out)
    }

    fn withdraw_inner(
        &mut self,
        position: &mut I80F48,
        amount: u64,
        allow_borrow: bool,
    ) -> Result<WithdrawOutcome, MathError> {
        let mut out = WithdrawOutcome::default();
        let mut rest = amount;
        if position.is_positive() {
            let value = position.mul_round(self.deposit_index, Round::Floor).ovf()?;
            let avail = u64::try_from(value.floor_int()).map_err(|_| MathError::Overflow)?;
            if amount >= avail {
                // close the deposit entirely
                self.indexed_deposits = self.indexed_deposits.checked_sub(*position).ovf()?;
                *position = I80F48::ZERO;
                self.add_dust(value.checked_sub(I80F48::from_u64(avail)).ovf()?)?;
                out.from_deposit = avail;
                rest = amount - avail;
            } else {
                let shares = I80F48::from_u64(amount)
                    .div_round(self.deposit_index, Round::Ceil)
                    .ovf()?
                    .min(*position);
                *position = position.checked_sub(shares).ovf()?;
                self.indexed_deposits = self.indexed_deposits.checked_sub(shares).ovf()?;
                let value = shares.mul_round(self.deposit_index, Round::Floor).ovf()?;
                self.add_dust(value.checked_sub(I80F48::from_u64(amount)).ovf()?)?;
                out.from_deposit = amount;
                rest = 0;
            }
        }
        if rest > 0 {
            if !allow_borrow {
                return Err(MathError::InsufficientBalance);
            }
            let shares = I80F48::from_u64(rest)
                .div_round(self.borrow_index, Round::Ceil)
                .ovf()?;
            *position = position.checked_sub(shares).ovf()?;
            self.indexed_borrows = self.indexed_borrows.checked_add(shares).ovf()?;
            let value = shares.mul_round(self.borrow_index, Round::Floor).ovf()?;
            self.add_dust(value.checked_sub(I80F48::from_u64(rest)).ovf()?)?;
            out.borrowed = rest;
        }
        Ok(out)
    }

    /// Cash of the lending pool in whole native units: what depositors put in and borrowers
    /// have not taken, `floor(deposits) - ceil(borrows)`, 0 when borrows exceed deposits.
    ///
    /// Withdrawals and borrows out of the pool are limited by it, never by the vault's
    /// balance: only depositors' tokens are lent (borrows <= lendable deposits, utilization
    /// <= 100%), and tokens sent to the vault directly, the reserve and rounding dust are
    /// surplus that no withdrawal or borrow can take.
    pub fn cash(&self) -> Result<u64, MathError> {
        let d = self.deposits_native()?.floor_int();
        let b = self.borrows_native()?.ceil_int();
        let c = d.saturating_sub(b).max(0);
        Ok(u64::try_from(c).unwrap_or(u64::MAX))
    }

    /// Native value of all lendable deposits, rounded down.
    pub fn deposits_native(&self) -> Result<I80F48, MathError> {
        self.indexed_deposits
            .mul_round(self.deposit_index, Round::Floor)
            .ovf()
    }
    /// Native value of all borrows, rounded up.
    pub fn borrows_native(&self) -> Result<I80F48, MathError> {
        self.indexed_borrows
            .mul_round(self.borrow_index, Round::Ceil)
            .ovf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pool(di_ppm: u64, bi_ppm: u64) -> Pool {
        Pool {
            deposit_index: I80F48::ONE.checked_add(I80F48::from_ppm(di_ppm)).unwrap(),
            borrow_index: I80F48::ONE.checked_add(I80F48::from_ppm(bi_ppm)).unwrap(),
            indexed_deposits: I80F48::ZERO,
            indexed_borrows: I80F48::ZERO,
            dust: I80F48::ZERO,
        }
    }

    /// Lhs of the conservation identity: what the pool says it holds.
    fn held(p: &Pool) -> I80F48 {
        p.indexed_deposits
            .checked_mul(p.deposit_index)
            .unwrap()
            .checked_sub(p.indexed_borrows.checked_mul(p.borrow_index).unwrap())
            .unwrap()
            .checked_add(p.dust)
            .unwrap()
    }

    #[test]
    fn repay_first_then_deposit() {
        let mut p = pool(0, 0);
        let mut pos = I80F48::ZERO;
        let w = p.withdraw(&mut pos, 100, true).unwrap();
        assert_eq!(
            w,
            WithdrawOutcome {
                from_deposit: 0,
                borrowed: 100
            }
        );
        assert_eq!(pos, I80F48::from_i64(-100));
        let d = p.deposit(&mut pos, 150).unwrap();
        assert_eq!(
            d,
            DepositOutcome {
                repaid: 100,
                deposited: 50,
                borrow_closed: true
            }
        );
        assert_eq!(pos, I80F48::from_i64(50));
        assert_eq!(
            p.withdraw(&mut pos, 51, false),
            Err(MathError::InsufficientBalance)
        );
    }

    /// The bank-freeze finding, replayed on the pool: one native unit deposited, a large
    /// donation in the vault. The pool lends only what depositors own: 1 unit.
    #[test]
    fn pool_lends_only_deposits() {
        let mut p = pool(0, 0);
        let (mut attacker, mut borrower) = (I80F48::ZERO, I80F48::ZERO);
        p.deposit(&mut attacker, 1).unwrap();
        assert_eq!(p.cash().unwrap(), 1);
        p.withdraw(&mut borrower, 1, true).unwrap();
        assert_eq!(p.cash().unwrap(), 0);
        assert!(p.borrows_native().unwrap() <= p.deposits_native().unwrap());
    }

    proptest! {
        /// Operations limited by `cash()` (as the program limits them) never make borrows
        /// exceed deposits by more than the rounding of one operation each.
        #[test]
        fn cash_bound_keeps_utilization_at_most_one(
            ops in proptest::collection::vec((0usize..4, any::<bool>(), 1u64..1_000_000_000), 1..80),
            di in 0u64..3_000_000, bi in 0u64..3_000_000,
        ) {
            let mut p = pool(di, bi);
            let mut pos = [I80F48::ZERO; 4];
            for (who, is_dep, amt) in ops {
                if is_dep {
                    p.deposit(&mut pos[who], amt).unwrap();
                } else if amt <= p.cash().unwrap() {
                    p.withdraw(&mut pos[who], amt, true).unwrap();
                }
                let d = p.deposits_native().unwrap();
                let b = p.borrows_native().unwrap();
                prop_assert!(b.to_bits() <= d.to_bits() + (1 << 48), "borrows {} > deposits {}", b, d);
            }
        }

        /// Round trip never favours the user: deposit a, then the most one can withdraw
        /// without borrowing is <= a.
        #[test]
        fn roundtrip_never_favours_user(a in 1u64..u64::MAX / 4, di in 0u64..5_000_000, bi in 0u64..5_000_000) {
            let mut p = pool(di, bi);
            let mut pos = I80F48::ZERO;
            p.deposit(&mut pos, a).unwrap();
            let v = position_native(pos, p.deposit_index, p.borrow_index).unwrap();
            prop_assert!(v <= I80F48::from_u64(a));
            let avail = v.floor_int() as u64;
            prop_assert!(a - avail <= 1);
            prop_assert!(!p.dust.is_negative());
            // borrow b, repaying exactly b must not clear the debt when rounding is against
            let mut q = pool(di, bi);
            let mut debt = I80F48::ZERO;
            q.withdraw(&mut debt, a, true).unwrap();
            let owed = position_native(debt, q.deposit_index, q.borrow_index).unwrap();
            prop_assert!(owed <= I80F48::from_i64(-(a as i64)));
            prop_assert!(!q.dust.is_negative());
        }

        /// Random operations on several positions keep the identity
        /// `net cash in = deposits - borrows + dust` to a few 2^-48.
        #[test]
        fn pool_identity(ops in proptest::collection::vec((0usize..4, any::<bool>(), 1u64..1_000_000_000, any::<bool>()), 1..60),
                         di in 0u64..3_000_000, bi in 0u64..3_000_000) {
            let mut p = pool(di, bi);
            let mut pos = [I80F48::ZERO; 4];
            let mut cash: i128 = 0;
            let mut n_ops = 0i128;
            for (who, is_dep, amt, allow) in ops {
                if is_dep {
                    let o = p.deposit(&mut pos[who], amt).unwrap();
                    prop_assert_eq!(o.repaid + o.deposited, amt);
                    cash += amt as i128;
                } else {
                    let before = p;
                    match p.withdraw(&mut pos[who], amt, allow) {
                        Ok(o) => {
                            prop_assert_eq!(o.from_deposit + o.borrowed, amt);
                            cash -= amt as i128;
                        }
                        Err(e) => {
                            prop_assert_eq!(e, MathError::InsufficientBalance);
                            prop_assert_eq!(p, before, "error left the pool changed");
                        }
                    }
                }
                n_ops += 1;
                let sum: I80F48 = pos.iter().fold(I80F48::ZERO, |s, x| s.checked_add(*x).unwrap());
                let shares_net = p.indexed_deposits.checked_sub(p.indexed_borrows).unwrap();
                prop_assert_eq!(sum, shares_net);
                let diff = held(&p).to_bits() - (cash << 48);
                prop_assert!(diff.abs() <= 4 * n_ops, "diff {} after {} ops", diff, n_ops);
                // users can never take out more than they own: per position, rounding
                // down deposits and up debts, the sum is <= cash held
                // (floor of a negative value is the debt rounded up)
                let owned: i128 = pos.iter().map(|x| {
                    position_native(*x, p.deposit_index, p.borrow_index).unwrap().floor_int()
                }).sum();
                prop_assert!(owned <= cash);
                prop_assert!(!p.dust.is_negative());
            }
        }
    }
}
