//! The websocket front (port = RPC port + 1, as `@solana/web3.js` derives it): the
//! subscriptions clients use to confirm and watch, `signatureSubscribe`, `accountSubscribe`
//! and `slotSubscribe` (and their `*Unsubscribe`), with a cluster's notification shapes. Each
//! connection polls the chain every 50 ms; a signature notification fires once and ends its
//! subscription, as on a cluster.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use solana_sdk::account::ReadableAccount;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use crate::chain::Chain;

enum Sub {
    Signature(Signature),
    Account {
        key: Pubkey,
        encoding: String,
        last: Option<(u64, Vec<u8>)>,
    },
    Slot {
        last: u64,
    },
}

/// Serve subscriptions on `listener` from now on. Returns its address.
pub fn serve(chain: Arc<Chain>, listener: TcpListener) -> std::io::Result<SocketAddr> {
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let chain = chain.clone();
            tokio::spawn(async move {
                if let Ok(ws) = tokio_tungstenite::accept_async(stream).await {
                    connection(chain, ws).await;
                }
            });
        }
    });
    Ok(local)
}

async fn connection(
    chain: Arc<Chain>,
    ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
) {
    let (mut tx, mut rx) = ws.split();
    let mut subs: HashMap<u64, Sub> = HashMap::new();
    let mut next_id = 0u64;
    let mut poll = tokio::time::interval(Duration::from_millis(50));
    loop {
        tokio::select! {
            msg = rx.next() => {
                let Some(Ok(msg)) = msg else { return };
                let text = match msg {
                    Message::Text(t) => t,
                    Message::Ping(p) => { let _ = tx.send(Message::Pong(p)).await; continue }
                    Message::Close(_) => return,
                    _ => continue,
                };
                let reply = request(&chain, &text, &mut subs, &mut next_id);
                if tx.send(Message::Text(reply.to_string())).await.is_err() {
                    return;
                }
            }
            _ = poll.tick() => {
                for (id, note) in notifications(&chain, &mut subs) {
                    let msg = json!({"jsonrpc": "2.0", "method": note.0, "params": {"result": note.1, "subscription": id}});
                    if tx.send(Message::Text(msg.to_string())).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

fn request(chain: &Chain, text: &str, subs: &mut HashMap<u64, Sub>, next_id: &mut u64) -> Value {
    let Ok(req) = serde_json::from_str::<Value>(text) else {
        return json!({"jsonrpc":"2.0","error":{"code":-32700,"message":"parse error"},"id":Value::Null});
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let method = req.get("method").and_then(Value::as_str).unwrap_or("");
    let p = req.get("params").cloned().unwrap_or(json!([]));
    let key = |i: usize| p.get(i).and_then(Value::as_str).map(str::to_string);
    let sub = match method {
        "signatureSubscribe" => key(0).and_then(|s| s.parse().ok()).map(Sub::Signature),
        "accountSubscribe" => key(0).and_then(|s| s.parse().ok()).map(|k| Sub::Account {
            key: k,
            encoding: p
                .get(1)
                .and_then(|c| c.get("encoding"))
                .and_then(Value::as_str)
                .unwrap_or("base64")
                .to_string(),
            last: chain.account(&k).map(|a| (a.lamports(), a.data().to_vec())),
        }),
        "slotSubscribe" => Some(Sub::Slot {
            last: chain.bank().slot(),
        }),
        "signatureUnsubscribe" | "accountUnsubscribe" | "slotUnsubscribe" => {
            let ok = p
                .get(0)
                .and_then(Value::as_u64)
                .map(|s| subs.remove(&s).is_some())
                .unwrap_or(false);
            return json!({"jsonrpc":"2.0","result":ok,"id":id});
        }
        _ => {
            return json!({"jsonrpc":"2.0","error":{"code":-32601,"message":format!("Method not found: {method}")},"id":id});
        }
    };
    match sub {
        Some(s) => {
            *next_id += 1;
            subs.insert(*next_id, s);
            json!({"jsonrpc":"2.0","result":*next_id,"id":id})
        }
        None => json!({"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params"},"id":id}),
    }
}

fn notifications(chain: &Chain, subs: &mut HashMap<u64, Sub>) -> Vec<(u64, (&'static str, Value))> {
    let slot = chain.bank().slot();
    let ctx = json!({"slot": slot});
    let mut out = vec![];
    let mut done = vec![];
    for (id, sub) in subs.iter_mut() {
        match sub {
            Sub::Signature(sig) => {
                if let Some(r) = chain.transaction(sig) {
                    let err = match &r.status {
                        Ok(()) => Value::Null,
                        Err(e) => serde_json::to_value(e).unwrap_or(Value::Null),
                    };
                    out.push((
                        *id,
                        (
                            "signatureNotification",
                            json!({"context": ctx, "value": {"err": err}}),
                        ),
                    ));
                    done.push(*id);
                }
            }
            Sub::Account {
                key,
                encoding,
                last,
            } => {
                let now = chain
                    .account(key)
                    .map(|a| (a.lamports(), a.data().to_vec()));
                if now != *last {
                    let value = match chain.account(key) {
                        Some(a) => crate::rpc::account_json(&a, encoding, chain),
                        None => Value::Null,
                    };
                    *last = now;
                    out.push((
                        *id,
                        (
                            "accountNotification",
                            json!({"context": ctx, "value": value}),
                        ),
                    ));
                }
            }
            Sub::Slot { last } => {
                if slot > *last {
                    *last = slot;
                    out.push((
                        *id,
                        (
                            "slotNotification",
                            json!({"parent": slot - 1, "root": slot - 1, "slot": slot}),
                        ),
                    ));
                }
            }
        }
    }
    for id in done {
        subs.remove(&id);
    }
    out
}
