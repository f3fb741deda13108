//! Accounts -> `carry_math`, as `programs/margin` does it, on the mirror structs of
//! [`crate::layout`]: the bank's interest accrual (`state/bank.rs`), Pyth v2 oracle prices and
//! the stable price (`oracle.rs`), a token and a perp health term and the account's health
//! (`health.rs`), the funding crank after the book walk (`instructions/update_funding.rs`) and a
//! position's funding settlement (`perp.rs`). Same calls into `carry_math`, in the same order,
//! so the SBF harness measures the program's math; what it leaves out is account validation
//! (owner, discriminator, PDA, exchange and oracle keys, signer), Anchor, events and logs.
//!
//! Functions that take more than five registers (an i128 counts two, a large result adds a
//! hidden pointer) are `#[inline(always)]`: the upstream SBF backend cannot pass a sixth.
//!
//! Shared by the `no_std` harness and the host step generator (`bench/src/bin/math_steps.rs`),
//! which runs it on the host to write the expected result into each instruction.

use crate::layout::{pyth_v2, Bank, BankParams, MarginAccount, PerpMarket, PerpPosition};
use carry_math::bank_math::position_native;
use carry_math::funding::FundingUpdate;
use carry_math::funding::{premium, FundingParams, FundingState, ImpactPrice, PremiumAccumulator};
use carry_math::health::{HealthTerms, HealthType, PerpTerm, TokenTerm, Weights};
use carry_math::interest::{self, Accrual, InterestCurve};
use carry_math::oracle::{
    asset_price, checked_native_price, liab_price, update_stable_price, OracleLimits, RawPrice,
    StableLimits,
};
use carry_math::perp::{perp_health, PerpHealthInputs, Position};
use carry_math::tiers::{LeverageTier, LeverageTiers, MAX_LEVERAGE_TIERS};
use carry_math::{MathError, I80F48};

/// Why a step was refused (the program's named errors, grouped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fail {
    /// A `carry_math` error (`MathResultExt::named` in the program).
    Math(MathError),
    /// Not a Pyth v2 price account (`OracleInvalid`).
    OracleInvalid,
    /// Pairs do not cover the account's slots, or a slot is matched twice
    /// (`HealthAccountsMismatch`); or a dated market asked for funding.
    Mismatch,
    /// An account too short for its struct, or misaligned.
    BadAccount,
}

impl From<MathError> for Fail {
    fn from(e: MathError) -> Self {
        Fail::Math(e)
    }
}

/// Return code of a failure: 10 oracle, 11 mismatch, 2 account, 100 + `MathError` variant.
pub fn code(f: Fail) -> u64 {
    match f {
        Fail::Math(e) => 100 + e as u64,
        Fail::OracleInvalid => 10,
        Fail::Mismatch => 11,
        Fail::BadAccount => 2,
    }
}

type R<T> = Result<T, Fail>;

#[inline(always)]
fn ovf<T>(v: Option<T>) -> R<T> {
    v.ok_or(Fail::Math(MathError::Overflow))
}

/// Decode a stored I80F48.
#[inline(always)]
pub fn fx(w: [u64; 2]) -> I80F48 {
    I80F48::from_words(w)
}

/// `T` at the start of an account's data after the discriminator (8-byte aligned in the
/// serialized input), as the program's `AccountLoader` / `bytemuck::from_bytes`.
#[inline(always)]
pub fn load<T: bytemuck::Pod>(data: &[u8]) -> R<&T> {
    let d = crate::layout::DISCRIMINATOR_LEN;
    data.get(d..d + core::mem::size_of::<T>())
        .and_then(|b| bytemuck::try_from_bytes(b).ok())
        .ok_or(Fail::BadAccount)
}

/// Mutable [`load`].
#[inline(always)]
pub fn load_mut<T: bytemuck::Pod>(data: &mut [u8]) -> R<&mut T> {
    let d = crate::layout::DISCRIMINATOR_LEN;
    data.get_mut(d..d + core::mem::size_of::<T>())
        .and_then(|b| bytemuck::try_from_bytes_mut(b).ok())
        .ok_or(Fail::BadAccount)
}

// ---- Bank (state/bank.rs) ----

/// `BankParams::weights`.
pub fn weights(p: &BankParams) -> Weights {
    Weights::from_ppm(
        p.init_asset_weight_ppm,
        p.maint_asset_weight_ppm,
        p.init_liab_weight_ppm,
        p.maint_liab_weight_ppm,
    )
}

/// `BankParams::curve`.
pub fn curve(p: &BankParams) -> InterestCurve {
    InterestCurve::from_ppm(
        p.base_rate_ppm,
        p.optimal_util_ppm,
        p.slope1_ppm,
        p.slope2_ppm,
        p.max_rate_ppm,
    )
}

/// `Bank::accrual_over`: what `dt` seconds of interest do (nothing stored).
pub fn accrual_over(b: &Bank, dt: u64) -> R<Accrual> {
    let p = &b.params;
    Ok(interest::accrue(
        &curve(p),
        I80F48::from_ppm(p.reserve_factor_ppm as u64),
        fx(b.deposit_index),
        fx(b.borrow_index),
        fx(b.indexed_deposits),
        fx(b.indexed_borrows),
        dt,
    )?)
}

/// `Bank::accrue`: accrue interest up to `now` and store indices, reserve and time.
pub fn accrue(b: &mut Bank, now: i64) -> R<(Accrual, u64)> {
    let dt = now.saturating_sub(b.last_accrual_ts).max(0) as u64;
    let a = accrual_over(b, dt)?;
    if dt > 0 {
        b.deposit_index = a.deposit_index.to_words();
        b.borrow_index = a.borrow_index.to_words();
        let r = ovf(fx(b.collected_reserve).checked_add(a.reserve))?;
        b.collected_reserve = r.to_words();
        b.last_accrual_ts = now;
    }
    Ok((a, dt))
}

/// `Bank::indices_at`: deposit and borrow indices accrued to `now` in memory.
pub fn indices_at(b: &Bank, now: i64) -> R<(I80F48, I80F48)> {
    let dt = now.saturating_sub(b.last_accrual_ts).max(0) as u64;
    if dt == 0 {
        return Ok((fx(b.deposit_index), fx(b.borrow_index)));
    }
    let a = accrual_over(b, dt)?;
    Ok((a.deposit_index, a.borrow_index))
}

// ---- Oracle (oracle.rs, Pyth v2 accounts) ----

/// `read_pyth_v2` after the owner check: pyth-sdk-solana's `load_price_account` (length,
/// magic, version, account type) and `get_price_unchecked` (aggregate when trading, else the
/// previous price).
pub fn read_pyth_v2(data: &[u8]) -> R<RawPrice> {
    if data.len() < pyth_v2::SIZE {
        return Err(Fail::OracleInvalid);
    }
    let h: &pyth_v2::PriceAccountHead = data
        .get(..pyth_v2::HEAD_SIZE)
        .and_then(|b| bytemuck::try_from_bytes(b).ok())
        .ok_or(Fail::OracleInvalid)?;
    if h.magic != pyth_v2::MAGIC || h.ver != pyth_v2::VERSION_2 || h.atype != pyth_v2::ATYPE_PRICE {
        return Err(Fail::OracleInvalid);
    }
    Ok(if h.agg_status == pyth_v2::STATUS_TRADING {
        RawPrice {
            price: h.agg_price,
            conf: h.agg_conf,
            expo: h.expo,
            publish_time: h.timestamp,
        }
    } else {
        RawPrice {
            price: h.prev_price,
            conf: h.prev_conf,
            expo: h.expo,
            publish_time: h.prev_timestamp,
        }
    })
}

/// `bank_oracle_price`: validated price, quote native per token native.
#[inline(always)]
pub fn bank_oracle_price(b: &Bank, oracle: &[u8], now: i64, quote_decimals: u8) -> R<I80F48> {
    let raw = read_pyth_v2(oracle)?;
    let limits = OracleLimits {
        max_age_secs: b.params.oracle_max_age_secs as u64,
        max_conf_ppm: b.params.oracle_max_conf_ppm as u64,
    };
    Ok(checked_native_price(
        &raw,
        now,
        &limits,
        b.decimals,
        quote_decimals,
    )?)
}

/// `advance_stable`: a stable price advanced to `now` toward the oracle (not stored).
#[inline(always)]
pub fn advance_stable(
    stable: I80F48,
    stable_ts: i64,
    oracle: I80F48,
    now: i64,
    max_move_ppm_per_hour: u32,
    max_step_secs: u32,
) -> R<I80F48> {
    let dt = now.saturating_sub(stable_ts).max(0) as u64;
    let limits = StableLimits {
        max_move_ppm_per_hour: max_move_ppm_per_hour as u64,
        max_step_secs: max_step_secs as u64,
    };
    Ok(update_stable_price(stable, oracle, dt, &limits)?)
}

/// `perp_advanced_stable_price`: the market's stable price advanced to `now` (not stored).
#[inline(always)]
pub fn perp_stable(m: &PerpMarket, oracle: I80F48, now: i64) -> R<I80F48> {
    advance_stable(
        fx(m.stable_price),
        m.stable_price_ts,
        oracle,
        now,
        m.params.stable_max_move_ppm_per_hour,
        m.params.stable_max_step_secs,
    )
}

/// `perp_oracle_price`: validated price in quote native per base lot.
#[inline(always)]
pub fn perp_oracle_price(m: &PerpMarket, oracle: &[u8], now: i64, quote_decimals: u8) -> R<I80F48> {
    let raw = read_pyth_v2(oracle)?;
    let limits = OracleLimits {
        max_age_secs: m.params.oracle_max_age_secs as u64,
        max_conf_ppm: m.params.oracle_max_conf_ppm as u64,
    };
    let native = checked_native_price(&raw, now, &limits, m.base_decimals, quote_decimals)?;
    let lot = i64::try_from(m.base_lot_size).map_err(|_| Fail::Math(MathError::Overflow))?;
    let per_lot = ovf(native.checked_mul_int(lot))?;
    if !per_lot.is_positive() {
        return Err(Fail::Math(MathError::InvalidPrice));
    }
    Ok(per_lot)
}

// ---- Health (health.rs) ----

/// The health term of the account's slot for `bank` (`None`: the account holds no such
/// token); marks the slot matched.
#[inline(always)]
pub fn token_term(
    acc: &MarginAccount,
    b: &Bank,
    oracle: &[u8],
    now: i64,
    quote_decimals: u8,
    matched: &mut [bool; 8],
) -> R<Option<TokenTerm>> {
    let Some(i) = acc
        .tokens
        .iter()
        .position(|t| t.in_use != 0 && t.token_index == b.token_index)
    else {
        return Ok(None);
    };
    if matched[i] {
        return Err(Fail::Mismatch);
    }
    matched[i] = true;
    let slot = &acc.tokens[i];
    let oracle = bank_oracle_price(b, oracle, now, quote_decimals)?;
    let p = &b.params;
    let stable = advance_stable(
        fx(b.stable_price),
        b.stable_price_ts,
        oracle,
        now,
        p.stable_max_move_ppm_per_hour,
        p.stable_max_step_secs,
    )?;
    let balance = if slot.lending_disabled != 0 {
        I80F48::from_u64(slot.non_lendable)
    } else {
        let (di, bi) = indices_at(b, now)?;
        position_native(fx(slot.indexed_position), di, bi)?
    };
    Ok(Some(TokenTerm {
        token_index: slot.token_index,
        balance,
        asset_price: asset_price(oracle, stable),
        liab_price: liab_price(oracle, stable),
        weights: weights(p),
    }))
}

/// `PerpMarketParams::leverage_tiers`.
#[inline(always)]
pub fn leverage_tiers(m: &PerpMarket) -> R<LeverageTiers> {
    let n = m.params.tier_count as usize;
    if n == 0 || n > MAX_LEVERAGE_TIERS {
        return Err(Fail::Math(MathError::InvalidParams));
    }
    if m.params.tiers[n..]
        .iter()
        .any(|t| *t != crate::layout::PerpLeverageTier::default())
    {
        return Err(Fail::Math(MathError::InvalidParams));
    }
    let mut tiers = [LeverageTier::default(); MAX_LEVERAGE_TIERS];
    for (out, t) in tiers.iter_mut().zip(m.params.tiers.iter()) {
        *out = LeverageTier {
            max_notional_native: t.max_notional_native,
            init_margin_ppm: t.init_margin_ppm,
            maint_margin_ppm: t.maint_margin_ppm,
        };
    }
    Ok(LeverageTiers::new(&tiers[..n])?)
}

/// `PerpPosition::position`.
pub fn position(p: &PerpPosition) -> Position {
    Position {
        base_lots: p.base_lots,
        quote_native: fx(p.quote_native),
        funding_snapshot: fx(p.funding_snapshot),
    }
}

/// `PerpPosition::position_with_loss`: the position with its pending socialized loss.
#[inline(always)]
pub fn position_with_loss(p: &PerpPosition, loss_index: I80F48) -> R<Position> {
    let mut pos = position(p);
    if fx(p.loss_snapshot) == loss_index {
        return Ok(pos);
    }
    let lots = i64::try_from(p.base_lots.unsigned_abs()).map_err(|_| MathError::Overflow)?;
    let owed = carry_math::funding::funding_owed(lots, fx(p.loss_snapshot), loss_index)?;
    pos.quote_native = pos
        .quote_native
        .checked_add(I80F48::from_i64(owed))
        .ok_or(MathError::Overflow)?;
    Ok(pos)
}

/// `health::perp_term`: `perp_health` at the oracle and at the stable price, the lower init
/// and the lower maint.
#[inline(always)]
pub fn perp_term(
    m: &PerpMarket,
    slot: &PerpPosition,
    oracle: I80F48,
    stable: I80F48,
) -> R<PerpTerm> {
    let tiers = leverage_tiers(m)?;
    let mut inputs = PerpHealthInputs {
        position: position_with_loss(slot, fx(m.socialized_loss_index))?,
        bids_base_lots: slot.bids_base_lots,
        asks_base_lots: slot.asks_base_lots,
        funding_index: fx(m.funding_index),
        price: oracle,
        tiers: &tiers,
        pnl_pool_native: m.pnl_pool_native,
        unpaid_pnl_haircut_ppm: m.params.unpaid_pnl_haircut_ppm,
    };
    let at_oracle = perp_health(&inputs)?;
    if stable == oracle {
        return Ok(at_oracle.term(m.market_index));
    }
    inputs.price = stable;
    let at_stable = perp_health(&inputs)?;
    Ok(PerpTerm {
        market_index: m.market_index,
        init: at_oracle.init.min(at_stable.init),
        maint: at_oracle.maint.min(at_stable.maint),
        pnl: at_oracle.pnl,
    })
}

/// The term of the account's slot in `m` (`None`: no position in that market); marks the slot
/// matched.
#[inline(always)]
pub fn perp_pair_term(
    acc: &MarginAccount,
    m: &PerpMarket,
    oracle: &[u8],
    now: i64,
    quote_decimals: u8,
    matched: &mut [bool; 8],
) -> R<Option<PerpTerm>> {
    let Some(i) = acc
        .perps
        .iter()
        .position(|p| p.in_use != 0 && p.market_index == m.market_index)
    else {
        return Ok(None);
    };
    if matched[i] {
        return Err(Fail::Mismatch);
    }
    matched[i] = true;
    let oracle = perp_oracle_price(m, oracle, now, quote_decimals)?;
    let stable = perp_stable(m, oracle, now)?;
    Ok(Some(perp_term(m, &acc.perps[i], oracle, stable)?))
}

/// `(init, maint)` health of `acc` from `(bank, oracle)` pairs and `(perp market, oracle)`
/// pairs (`health_terms` + `compute_health`, read-only: no stable price stored). Every slot in
/// use must be matched by exactly one pair.
pub fn health(
    acc: &MarginAccount,
    banks: &[(&Bank, &[u8])],
    markets: &[(&PerpMarket, &[u8])],
    now: i64,
    quote_decimals: u8,
) -> R<(I80F48, I80F48)> {
    let mut matched = [false; 8];
    let mut matched_perps = [false; 8];
    let mut terms = HealthTerms::new();
    for (b, o) in banks {
        if let Some(t) = token_term(acc, b, o, now, quote_decimals, &mut matched)? {
            terms.push_token(t)?;
        }
    }
    for (m, o) in markets {
        if let Some(t) = perp_pair_term(acc, m, o, now, quote_decimals, &mut matched_perps)? {
            terms.push_perp(t)?;
        }
    }
    let all_matched = acc
        .tokens
        .iter()
        .zip(matched.iter())
        .all(|(t, m)| t.in_use == 0 || *m)
        && acc
            .perps
            .iter()
            .zip(matched_perps.iter())
            .all(|(p, m)| p.in_use == 0 || *m);
    if !all_matched {
        return Err(Fail::Mismatch);
    }
    Ok((
        terms.health(HealthType::Init)?,
        terms.health(HealthType::Maint)?,
    ))
}

// ---- Liquidation (instructions/liquidate_perp.rs) ----

/// `liquidate_perp`'s "just enough": the lots of `acc`'s position in `markets[target]` a
/// liquidator takes over (0 when maintenance health is not below zero), by
/// `carry_math::liquidation::smallest_sufficient` over the health with that position's term
/// recomputed for each candidate (the program's order: terms, fees by the position's tier at
/// the oracle, the transfer price, the search). Funding is counted pending, as in health.
pub fn perp_liquidation_lots(
    acc: &MarginAccount,
    banks: &[(&Bank, &[u8])],
    markets: &[(&PerpMarket, &[u8])],
    target: usize,
    now: i64,
    quote_decimals: u8,
    buffer_ppm: u32,
) -> R<u64> {
    use carry_math::liquidation::{
        liquidator_side, perp_transfer_price, smallest_sufficient, target_health_scaled,
        PerpLiquidationFees,
    };
    use carry_math::perp::{fee_native, Fill, Side};
    let mut matched = [false; 8];
    let mut matched_perps = [false; 8];
    let mut terms = HealthTerms::new();
    for (b, o) in banks {
        if let Some(t) = token_term(acc, b, o, now, quote_decimals, &mut matched)? {
            terms.push_token(t)?;
        }
    }
    let mut term0 = None;
    for (k, (m, o)) in markets.iter().enumerate() {
        if let Some(t) = perp_pair_term(acc, m, o, now, quote_decimals, &mut matched_perps)? {
            terms.push_perp(t)?;
            if k == target {
                term0 = Some(t);
            }
        }
    }
    let init0 = terms.health(HealthType::Init)?;
    let maint0 = terms.health(HealthType::Maint)?;
    if !maint0.is_negative() {
        return Ok(0);
    }
    let term0 = term0.ok_or(Fail::Mismatch)?;
    let (m, o) = markets.get(target).ok_or(Fail::Mismatch)?;
    let stored = acc
        .perps
        .iter()
        .find(|p| p.in_use != 0 && p.market_index == m.market_index)
        .ok_or(Fail::Mismatch)?;
    // funding settled first, as the instruction does
    let mut settled = position(stored);
    settled.settle_funding(fx(m.funding_index))?;
    let mut slot_copy = *stored;
    slot_copy.quote_native = settled.quote_native.to_words();
    slot_copy.funding_snapshot = settled.funding_snapshot.to_words();
    let slot = &slot_copy;
    let oracle = perp_oracle_price(m, o, now, quote_decimals)?;
    let stable = perp_stable(m, oracle, now)?;
    let tiers = leverage_tiers(m)?;
    let tier = *tiers.tier(position(slot).notional(oracle)?);
    let fees = PerpLiquidationFees::for_tier(
        tier.maint_margin_ppm,
        m.params.liquidation_fee_of_maint_ppm,
        m.params.liquidation_insurance_share_ppm,
    )?;
    let price = perp_transfer_price(oracle, slot.base_lots, fees.liquidator_ppm)?;
    let side = match liquidator_side(slot.base_lots) {
        Side::Bid => Side::Ask,
        Side::Ask => Side::Bid,
    };
    let others_init = ovf(init0.checked_sub(term0.init))?;
    let others_maint = ovf(maint0.checked_sub(term0.maint))?;
    let target0 = target_health_scaled(init0, maint0, buffer_ppm)?;
    let lots = smallest_sufficient(slot.base_lots.unsigned_abs(), target0, |q| {
        let mut pos = position(slot);
        let q = i64::try_from(q).map_err(|_| MathError::Overflow)?;
        pos.apply_fill(&Fill {
            side,
            base_lots: q,
            price,
            fee_ppm: 0,
        })?;
        let notional = oracle.checked_mul_int(q).ok_or(MathError::Overflow)?;
        let fee = fee_native(notional, fees.insurance_ppm as i32)?;
        pos.quote_native = pos
            .quote_native
            .checked_add(I80F48::from_i64(fee))
            .ok_or(MathError::Overflow)?;
        let mut s = *slot;
        s.base_lots = pos.base_lots;
        s.quote_native = pos.quote_native.to_words();
        let t = perp_term(m, &s, oracle, stable).map_err(|_| MathError::Overflow)?;
        target_health_scaled(
            others_init.checked_add(t.init).ok_or(MathError::Overflow)?,
            others_maint
                .checked_add(t.maint)
                .ok_or(MathError::Overflow)?,
            buffer_ppm,
        )
    })?;
    Ok(lots)
}

// ---- Funding (instructions/update_funding.rs, perp.rs) ----

/// One price level of a book side for the impact price: price per lot (I80F48 words) and
/// lots; what the program's walk of `carry-book` hands to `ImpactPrice::add_level`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Level {
    pub price: [u64; 2],
    pub lots: i64,
    pub padding: u64,
}

/// `PerpMarket::funding_state`.
pub fn funding_state(m: &PerpMarket) -> FundingState {
    FundingState {
        index: fx(m.funding_index),
        rate: fx(m.funding_rate),
        premiums: PremiumAccumulator {
            premium_secs: fx(m.funding_premium_secs),
            secs: m.funding_premium_weight_secs,
        },
        window_start_ts: m.funding_window_start_ts,
        last_update_ts: m.funding_last_update_ts,
    }
}

/// `PerpMarket::set_funding_state`.
pub fn set_funding_state(m: &mut PerpMarket, s: &FundingState) {
    m.funding_index = s.index.to_words();
    m.funding_rate = s.rate.to_words();
    m.funding_premium_secs = s.premiums.premium_secs.to_words();
    m.funding_premium_weight_secs = s.premiums.secs;
    m.funding_window_start_ts = s.window_start_ts;
    m.funding_last_update_ts = s.last_update_ts;
}

/// The impact price of one side from its levels, best first (`impact` in update_funding.rs,
/// without the book walk: the levels are given).
pub fn impact(bids: bool, levels: &[Level], notional: u64) -> R<Option<I80F48>> {
    let mut ip = ImpactPrice::new(bids, notional)?;
    for l in levels {
        if ip.add_level(fx(l.price), l.lots)? {
            break;
        }
    }
    Ok(ip.price()?)
}

/// `handle_update_funding` after the book walk: oracle price per lot, impact prices from the
/// levels, premium, one crank, stored.
pub fn update_funding(
    m: &mut PerpMarket,
    oracle: &[u8],
    now: i64,
    quote_decimals: u8,
    bids: &[Level],
    asks: &[Level],
) -> R<FundingUpdate> {
    if m.params.expiry_ts != 0 {
        return Err(Fail::Mismatch);
    }
    let oracle = perp_oracle_price(m, oracle, now, quote_decimals)?;
    // the stored stable price moves one step toward the oracle (program: `update_funding`)
    let stable = perp_stable(m, oracle, now)?;
    m.stable_price = stable.to_words();
    m.stable_price_ts = now;
    let notional = m.params.funding_impact_notional;
    let bid = impact(true, bids, notional)?;
    let ask = impact(false, asks, notional)?;
    let p = premium(bid, ask, oracle)?;
    let mut state = funding_state(m);
    let params = FundingParams {
        period_secs: m.params.funding_period_secs as u64,
        max_rate_ppm: m.params.funding_max_rate_ppm,
    };
    let up = state.crank(p, oracle, now, &params)?;
    set_funding_state(m, &state);
    Ok(up)
}

/// `perp::settle_funding`: the market's funding into one position (without the event).
pub fn settle_funding(m: &PerpMarket, slot: &mut PerpPosition) -> R<i64> {
    let index = fx(m.funding_index);
    let mut pos = position(slot);
    let paid = pos.settle_funding(index)?;
    // and the socialized loss owed on the size held (program: `perp::settle_funding`)
    let loss_index = fx(m.socialized_loss_index);
    if fx(slot.loss_snapshot) != loss_index {
        let lots = i64::try_from(slot.base_lots.unsigned_abs()).map_err(|_| MathError::Overflow)?;
        let loss = carry_math::funding::funding_owed(lots, fx(slot.loss_snapshot), loss_index)?;
        pos.quote_native = pos
            .quote_native
            .checked_add(I80F48::from_i64(loss))
            .ok_or(MathError::Overflow)?;
        slot.loss_snapshot = loss_index.to_words();
    }
    slot.quote_native = pos.quote_native.to_words();
    slot.funding_snapshot = pos.funding_snapshot.to_words();
    Ok(paid)
}
