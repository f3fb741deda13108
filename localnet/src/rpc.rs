//! The JSON-RPC front: the methods the SDK, the keeper, the CLI and `@solana/web3.js` 1.x use,
//! answered from the chain's working bank with a cluster's shapes. Every slot is rooted at once,
//! so every commitment answers the same. Unsupported methods answer `-32601`, malformed
//! requests `-32700` / `-32600` / `-32602`; the server keeps serving. CORS is open (the web app
//! runs on another port).
//!
//! Besides the standard methods: `carry_requestTokens(owner, mint, amount)` mints test tokens
//! of a faucet-owned mint into the owner's associated token account (the token faucet).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use solana_sdk::account::{AccountSharedData, ReadableAccount};
use solana_sdk::message::VersionedMessage;
use solana_sdk::program_pack::Pack;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Signature, Signer};
use solana_sdk::transaction::{Transaction, VersionedTransaction};
use tokio::net::TcpListener;

use crate::chain::{Chain, TxRecord};

/// Largest request body accepted (bytes).
const MAX_BODY: usize = 4 << 20;
/// Largest airdrop per request, lamports (1,000 SOL).
pub const MAX_AIRDROP: u64 = 1_000_000_000_000;
/// Version reported by `getVersion` (the runtime's line).
const VERSION: &str = "2.3.13";

/// A JSON-RPC error.
#[derive(Debug)]
pub struct RpcError {
    code: i64,
    message: String,
    data: Option<Value>,
}

fn err(code: i64, message: impl Into<String>) -> RpcError {
    RpcError {
        code,
        message: message.into(),
        data: None,
    }
}
fn invalid_params(message: impl Into<String>) -> RpcError {
    err(-32602, message)
}

type RpcResult = Result<Value, RpcError>;

/// Serve JSON-RPC over HTTP on `listener` from now on. Returns its address.
pub fn serve(chain: Arc<Chain>, listener: TcpListener) -> std::io::Result<SocketAddr> {
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let chain = chain.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| handle(chain.clone(), req));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(local)
}

fn reply(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("access-control-allow-origin", "*")
        .header("access-control-allow-headers", "*")
        .header("access-control-allow-methods", "POST, GET, OPTIONS")
        .body(Full::new(Bytes::from(body)))
        .expect("response")
}

async fn handle(
    chain: Arc<Chain>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    match *req.method() {
        Method::OPTIONS => return Ok(reply(StatusCode::NO_CONTENT, vec![])),
        Method::GET => {
            let body = if req.uri().path() == "/health" {
                b"ok".to_vec()
            } else {
                b"Carry local chain: JSON-RPC over POST".to_vec()
            };
            return Ok(reply(StatusCode::OK, body));
        }
        Method::POST => {}
        _ => return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, vec![])),
    }
    let body = match http_body_util::Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let e = envelope(Value::Null, Err(err(-32600, "request body too large")));
            return Ok(reply(StatusCode::OK, e.to_string().into_bytes()));
        }
    };
    let out = tokio::task::spawn_blocking(move || respond(&chain, &body))
        .await
        .unwrap_or_else(|_| envelope(Value::Null, Err(err(-32603, "internal error"))));
    Ok(reply(StatusCode::OK, out.to_string().into_bytes()))
}

fn envelope(id: Value, r: RpcResult) -> Value {
    match r {
        Ok(result) => json!({"jsonrpc": "2.0", "result": result, "id": id}),
        Err(e) => {
            let mut error = json!({"code": e.code, "message": e.message});
            if let Some(d) = e.data {
                error["data"] = d;
            }
            json!({"jsonrpc": "2.0", "error": error, "id": id})
        }
    }
}

/// Answer one HTTP body: a request or a batch.
pub fn respond(chain: &Chain, body: &[u8]) -> Value {
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return envelope(Value::Null, Err(err(-32700, format!("parse error: {e}")))),
    };
    match parsed {
        Value::Array(reqs) if !reqs.is_empty() => {
            Value::Array(reqs.iter().map(|r| one(chain, r)).collect())
        }
        Value::Array(_) => envelope(Value::Null, Err(err(-32600, "empty batch"))),
        r => one(chain, &r),
    }
}

fn one(chain: &Chain, req: &Value) -> Value {
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = req.get("method").and_then(Value::as_str) else {
        return envelope(id, Err(err(-32600, "invalid request: no method")));
    };
    let params = req.get("params").cloned().unwrap_or(json!([]));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        dispatch(chain, method, &params)
    }))
    .unwrap_or_else(|_| Err(err(-32603, "internal error")));
    envelope(id, r)
}

fn dispatch(chain: &Chain, method: &str, p: &Value) -> RpcResult {
    match method {
        "getHealth" => Ok(json!("ok")),
        "getVersion" => Ok(json!({"solana-core": VERSION, "feature-set": 0})),
        "getGenesisHash" => Ok(json!(chain.genesis_hash.to_string())),
        "getSlot" => Ok(json!(chain.bank().slot())),
        "getBlockHeight" => Ok(json!(chain.bank().block_height())),
        "getEpochInfo" => {
            let b = chain.bank();
            let (epoch, index) = b.get_epoch_and_slot_index(b.slot());
            Ok(json!({
                "absoluteSlot": b.slot(),
                "blockHeight": b.block_height(),
                "epoch": epoch,
                "slotIndex": index,
                "slotsInEpoch": b.get_slots_in_epoch(epoch),
                "transactionCount": b.transaction_count(),
            }))
        }
        "getLatestBlockhash" => {
            let b = chain.bank();
            Ok(with_context(
                chain,
                json!({
                    "blockhash": b.last_blockhash().to_string(),
                    "lastValidBlockHeight": b.block_height() + 150,
                }),
            ))
        }
        "isBlockhashValid" => {
            let h: solana_sdk::hash::Hash = str_param(p, 0)?
                .parse()
                .map_err(|_| invalid_params("invalid blockhash"))?;
            Ok(with_context(
                chain,
                json!(chain.bank().is_blockhash_valid(&h)),
            ))
        }
        "getMinimumBalanceForRentExemption" => {
            let n = p
                .get(0)
                .and_then(Value::as_u64)
                .ok_or_else(|| invalid_params("expected a data length"))?;
            Ok(json!(chain
                .bank()
                .get_minimum_balance_for_rent_exemption(n as usize)))
        }
        "getFeeForMessage" => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(str_param(p, 0)?)
                .map_err(|_| invalid_params("invalid base64 message"))?;
            let m: VersionedMessage =
                bincode::deserialize(&bytes).map_err(|_| invalid_params("invalid message"))?;
            let n = m.header().num_required_signatures as u64;
            Ok(with_context(chain, json!(n * 5_000)))
        }
        "getRecentPrioritizationFees" => Ok(json!([])),
        "getBalance" => {
            let k = pubkey_param(p, 0)?;
            Ok(with_context(chain, json!(chain.balance(&k))))
        }
        "getAccountInfo" => {
            let k = pubkey_param(p, 0)?;
            let enc = encoding(p.get(1), "base64")?;
            let v = match chain.account(&k) {
                Some(a) if a.lamports() > 0 => encode_account(&k, &a, &enc, chain)?,
                _ => Value::Null,
            };
            Ok(with_context(chain, v))
        }
        "getMultipleAccounts" => {
            let keys = p
                .get(0)
                .and_then(Value::as_array)
                .ok_or_else(|| invalid_params("expected an array of keys"))?;
            if keys.len() > 100 {
                return Err(invalid_params("at most 100 keys"));
            }
            let enc = encoding(p.get(1), "base64")?;
            let mut out = vec![];
            for k in keys {
                let k = parse_pubkey(k)?;
                out.push(match chain.account(&k) {
                    Some(a) if a.lamports() > 0 => encode_account(&k, &a, &enc, chain)?,
                    _ => Value::Null,
                });
            }
            Ok(with_context(chain, Value::Array(out)))
        }
        "getProgramAccounts" => get_program_accounts(chain, p),
        "getTokenAccountBalance" => {
            let k = pubkey_param(p, 0)?;
            let a = chain
                .account(&k)
                .ok_or_else(|| invalid_params("could not find account"))?;
            let t = spl_token::state::Account::unpack(a.data())
                .map_err(|_| invalid_params("not a token account"))?;
            let decimals = mint_decimals(chain, &t.mint);
            Ok(with_context(chain, ui_amount(t.amount, decimals)))
        }
        "getTokenAccountsByOwner" => token_accounts_by_owner(chain, p),
        "sendTransaction" => send_transaction(chain, p),
        "simulateTransaction" => simulate_transaction(chain, p),
        "getSignatureStatuses" => {
            let sigs = p
                .get(0)
                .and_then(Value::as_array)
                .ok_or_else(|| invalid_params("expected an array of signatures"))?;
            let mut out = vec![];
            for s in sigs {
                let sig = parse_sig(s)?;
                out.push(match chain.transaction(&sig) {
                    None => Value::Null,
                    Some(r) => json!({
                        "slot": r.slot,
                        "confirmations": Value::Null,
                        "err": tx_err(&r.status),
                        "status": status_obj(&r.status),
                        "confirmationStatus": "finalized",
                    }),
                });
            }
            Ok(with_context(chain, Value::Array(out)))
        }
        "getTransaction" => {
            let sig = parse_sig(p.get(0).unwrap_or(&Value::Null))?;
            let enc = encoding(p.get(1), "json")?;
            Ok(match chain.transaction(&sig) {
                None => Value::Null,
                Some(r) => transaction_json(&r, &enc)?,
            })
        }
        "getSignaturesForAddress" => {
            let k = pubkey_param(p, 0)?;
            let cfg = p.get(1);
            let limit = cfg
                .and_then(|c| c.get("limit"))
                .and_then(Value::as_u64)
                .unwrap_or(1000)
                .min(1000) as usize;
            let before = cfg
                .and_then(|c| c.get("before"))
                .filter(|v| !v.is_null())
                .map(parse_sig)
                .transpose()?;
            let until = cfg
                .and_then(|c| c.get("until"))
                .filter(|v| !v.is_null())
                .map(parse_sig)
                .transpose()?;
            let mut out = vec![];
            let mut started = before.is_none();
            for (sig, r) in chain.signatures_for(&k) {
                if !started {
                    started = Some(sig) == before;
                    continue;
                }
                if Some(sig) == until || out.len() >= limit {
                    break;
                }
                out.push(json!({
                    "signature": sig.to_string(),
                    "slot": r.slot,
                    "err": tx_err(&r.status),
                    "memo": Value::Null,
                    "blockTime": r.block_time,
                    "confirmationStatus": "finalized",
                }));
            }
            Ok(Value::Array(out))
        }
        "requestAirdrop" => {
            let k = pubkey_param(p, 0)?;
            let lamports = p
                .get(1)
                .and_then(Value::as_u64)
                .ok_or_else(|| invalid_params("expected lamports"))?;
            if lamports == 0 || lamports > MAX_AIRDROP {
                return Err(invalid_params(format!(
                    "airdrop must be 1..={MAX_AIRDROP} lamports"
                )));
            }
            let sig = airdrop(chain, &k, lamports)?;
            Ok(json!(sig.to_string()))
        }
        "carry_requestTokens" => {
            let owner = pubkey_param(p, 0)?;
            let mint = pubkey_param(p, 1)?;
            let amount = p
                .get(2)
                .and_then(Value::as_u64)
                .ok_or_else(|| invalid_params("expected an amount"))?;
            let sig = crate::faucet::mint_tokens(chain, &owner, &mint, amount)
                .map_err(|e| err(-32002, e))?;
            Ok(json!(sig.to_string()))
        }
        _ => Err(err(-32601, format!("Method not found: {method}"))),
    }
}

fn with_context(chain: &Chain, value: Value) -> Value {
    json!({"context": {"slot": chain.bank().slot(), "apiVersion": VERSION}, "value": value})
}

fn str_param(p: &Value, i: usize) -> Result<&str, RpcError> {
    p.get(i)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid_params(format!("expected a string parameter at {i}")))
}
fn parse_pubkey(v: &Value) -> Result<Pubkey, RpcError> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid_params("Invalid param: Invalid"))
}
fn pubkey_param(p: &Value, i: usize) -> Result<Pubkey, RpcError> {
    parse_pubkey(p.get(i).unwrap_or(&Value::Null))
}
fn parse_sig(v: &Value) -> Result<Signature, RpcError> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid_params("Invalid param: invalid signature"))
}

fn encoding(cfg: Option<&Value>, default: &str) -> Result<String, RpcError> {
    let e = cfg
        .and_then(|c| c.get("encoding"))
        .and_then(Value::as_str)
        .unwrap_or(default)
        .to_string();
    match e.as_str() {
        // base64+zstd is answered uncompressed, labelled "base64": clients decode by the label
        "base64+zstd" => Ok("base64".to_string()),
        "base64" | "base58" | "jsonParsed" | "json" => Ok(e),
        _ => Err(invalid_params(format!("unsupported encoding: {e}"))),
    }
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn mint_decimals(chain: &Chain, mint: &Pubkey) -> u8 {
    chain
        .account(mint)
        .and_then(|a| spl_token::state::Mint::unpack(a.data()).ok())
        .map(|m| m.decimals)
        .unwrap_or(0)
}

fn ui_amount(amount: u64, decimals: u8) -> Value {
    let ui = amount as f64 / 10f64.powi(decimals as i32);
    let s = if decimals == 0 {
        amount.to_string()
    } else {
        let d = 10u64.pow(decimals as u32);
        let frac = format!("{:0width$}", amount % d, width = decimals as usize);
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            (amount / d).to_string()
        } else {
            format!("{}.{}", amount / d, frac)
        }
    };
    json!({"amount": amount.to_string(), "decimals": decimals, "uiAmount": ui, "uiAmountString": s})
}

fn encode_account(
    _key: &Pubkey,
    a: &AccountSharedData,
    enc: &str,
    chain: &Chain,
) -> Result<Value, RpcError> {
    Ok(account_json(a, enc, chain))
}

/// An account as RPC answers it (`getAccountInfo`'s `value`) in encoding `enc`.
pub fn account_json(a: &AccountSharedData, enc: &str, chain: &Chain) -> Value {
    let data = match enc {
        "base58" => json!([bs58::encode(a.data()).into_string(), "base58"]),
        "jsonParsed" => match parse_token_account(a, chain) {
            Some(v) => v,
            None => json!([b64(a.data()), "base64"]),
        },
        _ => json!([b64(a.data()), "base64"]),
    };
    json!({
        "data": data,
        "executable": a.executable(),
        "lamports": a.lamports(),
        "owner": a.owner().to_string(),
        "rentEpoch": u64::MAX,
        "space": a.data().len(),
    })
}

/// `jsonParsed` of an SPL token account (what wallets and web3's parsed calls read).
fn parse_token_account(a: &AccountSharedData, chain: &Chain) -> Option<Value> {
    if *a.owner() != spl_token::ID {
        return None;
    }
    let t = spl_token::state::Account::unpack(a.data()).ok()?;
    let decimals = mint_decimals(chain, &t.mint);
    Some(json!({
        "program": "spl-token",
        "parsed": {
            "type": "account",
            "info": {
                "mint": t.mint.to_string(),
                "owner": t.owner.to_string(),
                "tokenAmount": ui_amount(t.amount, decimals),
                "state": "initialized",
                "isNative": t.is_native(),
            }
        },
        "space": a.data().len(),
    }))
}

fn get_program_accounts(chain: &Chain, p: &Value) -> RpcResult {
    let program = pubkey_param(p, 0)?;
    let cfg = p.get(1);
    let enc = encoding(cfg, "base64")?;
    let mut size: Option<usize> = None;
    let mut memcmps: Vec<(usize, Vec<u8>)> = vec![];
    if let Some(filters) = cfg.and_then(|c| c.get("filters")).and_then(Value::as_array) {
        for f in filters {
            if let Some(n) = f.get("dataSize").and_then(Value::as_u64) {
                size = Some(n as usize);
            } else if let Some(m) = f.get("memcmp") {
                let offset = m
                    .get("offset")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| invalid_params("memcmp needs an offset"))?
                    as usize;
                let raw = m
                    .get("bytes")
                    .ok_or_else(|| invalid_params("memcmp needs bytes"))?;
                // raw byte arrays (what solana-rpc-client sends as encoding "bytes")
                if let Some(arr) = raw.as_array() {
                    let bytes = arr
                        .iter()
                        .map(|b| b.as_u64().filter(|b| *b < 256).map(|b| b as u8))
                        .collect::<Option<Vec<u8>>>()
                        .ok_or_else(|| invalid_params("memcmp bytes must be 0..=255"))?;
                    memcmps.push((offset, bytes));
                    continue;
                }
                let bytes = raw
                    .as_str()
                    .ok_or_else(|| invalid_params("memcmp bytes must be a string or an array"))?;
                let bytes = match m.get("encoding").and_then(Value::as_str) {
                    Some("base64") => base64::engine::general_purpose::STANDARD
                        .decode(bytes)
                        .map_err(|_| invalid_params("invalid base64 memcmp bytes"))?,
                    _ => bs58::decode(bytes)
                        .into_vec()
                        .map_err(|_| invalid_params("invalid base58 memcmp bytes"))?,
                };
                memcmps.push((offset, bytes));
            } else {
                return Err(invalid_params("unsupported filter"));
            }
        }
    }
    let accounts = chain.program_accounts(&program, |a| {
        let d = a.data();
        size.is_none_or(|s| d.len() == s)
            && memcmps
                .iter()
                .all(|(o, b)| d.len() >= o + b.len() && &d[*o..o + b.len()] == b.as_slice())
    });
    let mut out = vec![];
    for (k, a) in accounts {
        out.push(json!({"pubkey": k.to_string(), "account": encode_account(&k, &a, &enc, chain)?}));
    }
    let with_ctx = cfg
        .and_then(|c| c.get("withContext"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(if with_ctx {
        with_context(chain, Value::Array(out))
    } else {
        Value::Array(out)
    })
}

fn token_accounts_by_owner(chain: &Chain, p: &Value) -> RpcResult {
    let owner = pubkey_param(p, 0)?;
    let sel = p
        .get(1)
        .ok_or_else(|| invalid_params("expected {mint} or {programId}"))?;
    let mint = sel.get("mint").map(parse_pubkey).transpose()?;
    if let Some(pid) = sel.get("programId") {
        let pid = parse_pubkey(pid)?;
        if pid != spl_token::ID {
            return Ok(with_context(chain, json!([])));
        }
    } else if mint.is_none() {
        return Err(invalid_params("expected {mint} or {programId}"));
    }
    let enc = encoding(p.get(2), "base64")?;
    let accounts = chain.program_accounts(&spl_token::ID, |a| {
        a.data().len() == spl_token::state::Account::LEN
            && a.data()[32..64] == owner.to_bytes()
            && mint.is_none_or(|m| a.data()[..32] == m.to_bytes())
    });
    let mut out = vec![];
    for (k, a) in accounts {
        out.push(json!({"pubkey": k.to_string(), "account": encode_account(&k, &a, &enc, chain)?}));
    }
    Ok(with_context(chain, Value::Array(out)))
}

fn decode_tx(p: &Value) -> Result<VersionedTransaction, RpcError> {
    let data = str_param(p, 0)?;
    let enc = p
        .get(1)
        .and_then(|c| c.get("encoding"))
        .and_then(Value::as_str)
        .unwrap_or("base58");
    let bytes = match enc {
        "base58" => bs58::decode(data)
            .into_vec()
            .map_err(|_| invalid_params("invalid base58 transaction"))?,
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|_| invalid_params("invalid base64 transaction"))?,
        e => return Err(invalid_params(format!("unsupported encoding: {e}"))),
    };
    if bytes.len() > solana_sdk::packet::PACKET_DATA_SIZE {
        return Err(invalid_params(format!(
            "transaction too large: {} bytes (max: {} bytes)",
            bytes.len(),
            solana_sdk::packet::PACKET_DATA_SIZE
        )));
    }
    bincode::deserialize(&bytes).map_err(|_| invalid_params("failed to deserialize transaction"))
}

fn tx_err(status: &Result<(), solana_sdk::transaction::TransactionError>) -> Value {
    match status {
        Ok(()) => Value::Null,
        Err(e) => serde_json::to_value(e).unwrap_or(Value::Null),
    }
}
fn status_obj(status: &Result<(), solana_sdk::transaction::TransactionError>) -> Value {
    match status {
        Ok(()) => json!({"Ok": Value::Null}),
        Err(_) => json!({"Err": tx_err(status)}),
    }
}

fn return_data_json(rd: &Option<(Pubkey, Vec<u8>)>) -> Value {
    match rd {
        Some((pid, d)) if !d.is_empty() => {
            json!({"programId": pid.to_string(), "data": [b64(d), "base64"]})
        }
        _ => Value::Null,
    }
}

fn send_transaction(chain: &Chain, p: &Value) -> RpcResult {
    let tx = decode_tx(p)?;
    let cfg = p.get(1);
    let skip_preflight = cfg
        .and_then(|c| c.get("skipPreflight"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if tx.verify_with_results().iter().any(|ok| !ok) {
        return Err(err(-32003, "Transaction signature verification failure"));
    }
    if !skip_preflight {
        let sim = chain
            .simulate(tx.clone(), true)
            .map_err(|e| preflight_error(&Err(e), vec![], 0))?;
        if let Err(e) = &sim.status {
            return Err(preflight_error(&Err(e.clone()), sim.logs, sim.units));
        }
    }
    let sig = tx.signatures[0];
    match chain.process(tx) {
        Ok(_) => Ok(json!(sig.to_string())),
        Err(e) => Err(preflight_error(&Err(e), vec![], 0)),
    }
}

fn preflight_error(
    status: &Result<(), solana_sdk::transaction::TransactionError>,
    logs: Vec<String>,
    units: u64,
) -> RpcError {
    let e = status.clone().err();
    RpcError {
        code: -32002,
        message: format!(
            "Transaction simulation failed: {}",
            e.map(|e| e.to_string()).unwrap_or_default()
        ),
        data: Some(json!({
            "err": tx_err(status),
            "logs": logs,
            "accounts": Value::Null,
            "unitsConsumed": units,
            "returnData": Value::Null,
        })),
    }
}

fn simulate_transaction(chain: &Chain, p: &Value) -> RpcResult {
    let mut tx = decode_tx(p)?;
    let cfg = p.get(1);
    let flag = |k: &str| {
        cfg.and_then(|c| c.get(k))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let sig_verify = flag("sigVerify");
    if flag("replaceRecentBlockhash") {
        if sig_verify {
            return Err(invalid_params(
                "sigVerify may not be used with replaceRecentBlockhash",
            ));
        }
        let h = chain.bank().last_blockhash();
        match &mut tx.message {
            VersionedMessage::Legacy(m) => m.recent_blockhash = h,
            VersionedMessage::V0(m) => m.recent_blockhash = h,
        }
    }
    let sim = chain
        .simulate(tx, sig_verify)
        .map_err(|e| err(-32003, format!("transaction rejected: {e}")))?;
    Ok(with_context(
        chain,
        json!({
            "err": tx_err(&sim.status),
            "logs": sim.logs,
            "accounts": Value::Null,
            "unitsConsumed": sim.units,
            "returnData": return_data_json(&sim.return_data),
        }),
    ))
}

fn transaction_json(r: &TxRecord, enc: &str) -> RpcResult {
    let (version, keys, header, blockhash, ixs, lookups) = match &r.tx.message {
        VersionedMessage::Legacy(m) => (
            json!("legacy"),
            m.account_keys.clone(),
            m.header,
            m.recent_blockhash,
            m.instructions.clone(),
            Value::Null,
        ),
        VersionedMessage::V0(m) => (
            json!(0),
            m.account_keys.clone(),
            m.header,
            m.recent_blockhash,
            m.instructions.clone(),
            Value::Array(
                m.address_table_lookups
                    .iter()
                    .map(|l| {
                        json!({
                            "accountKey": l.account_key.to_string(),
                            "writableIndexes": l.writable_indexes,
                            "readonlyIndexes": l.readonly_indexes,
                        })
                    })
                    .collect(),
            ),
        ),
    };
    let transaction = if enc == "base64" {
        json!([
            b64(&bincode::serialize(&r.tx).unwrap_or_default()),
            "base64"
        ])
    } else {
        let mut message = json!({
            "accountKeys": keys.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
            "header": {
                "numRequiredSignatures": header.num_required_signatures,
                "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
                "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts,
            },
            "recentBlockhash": blockhash.to_string(),
            "instructions": ixs.iter().map(|i| json!({
                "programIdIndex": i.program_id_index,
                "accounts": i.accounts,
                "data": bs58::encode(&i.data).into_string(),
                "stackHeight": Value::Null,
            })).collect::<Vec<_>>(),
        });
        if !lookups.is_null() {
            message["addressTableLookups"] = lookups;
        }
        json!({
            "signatures": r.tx.signatures.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "message": message,
        })
    };
    Ok(json!({
        "slot": r.slot,
        "blockTime": r.block_time,
        "version": version,
        "transaction": transaction,
        "meta": {
            "err": tx_err(&r.status),
            "status": status_obj(&r.status),
            "fee": r.fee,
            "preBalances": r.pre_balances,
            "postBalances": r.post_balances,
            "innerInstructions": [],
            "logMessages": r.logs,
            "preTokenBalances": [],
            "postTokenBalances": [],
            "rewards": [],
            "loadedAddresses": {"writable": [], "readonly": []},
            "computeUnitsConsumed": r.units,
            "returnData": return_data_json(&r.return_data),
        },
    }))
}

/// Transfer `lamports` from the faucet to `to` in a real transaction.
pub fn airdrop(chain: &Chain, to: &Pubkey, lamports: u64) -> Result<Signature, RpcError> {
    let bank = chain.bank();
    let ix = solana_sdk::system_instruction::transfer(&chain.faucet.pubkey(), to, lamports);
    let tx = Transaction::new_signed_with_payer(
        &[ix],
        Some(&chain.faucet.pubkey()),
        &[&chain.faucet],
        bank.last_blockhash(),
    );
    let sig = tx.signatures[0];
    let r = chain
        .process(tx.into())
        .map_err(|e| err(-32002, format!("airdrop failed: {e}")))?;
    r.status
        .map_err(|e| err(-32002, format!("airdrop failed: {e}")))?;
    Ok(sig)
}
