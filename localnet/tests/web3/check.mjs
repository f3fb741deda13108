// @solana/web3.js 1.x against the local chain: airdrop, a signed transfer sent and confirmed
// (websocket signatureSubscribe + status polling, as web3 does), read back; then a memo-less
// transfer through sendAndConfirmTransaction. Prints one JSON line; exits non-zero on failure.
// Usage: node check.mjs http://127.0.0.1:PORT
import {
  Connection, Keypair, LAMPORTS_PER_SOL, SystemProgram, Transaction, sendAndConfirmTransaction,
} from "@solana/web3.js";

const url = process.argv[2];
const conn = new Connection(url, "confirmed");
const alice = Keypair.generate();
const bob = Keypair.generate();

const version = await conn.getVersion();
const sig = await conn.requestAirdrop(alice.publicKey, 2 * LAMPORTS_PER_SOL);
const bh = await conn.getLatestBlockhash();
await conn.confirmTransaction({ signature: sig, ...bh }, "confirmed");
const tx = new Transaction().add(
  SystemProgram.transfer({ fromPubkey: alice.publicKey, toPubkey: bob.publicKey, lamports: 100_000_000 }),
);
const sent = await sendAndConfirmTransaction(conn, tx, [alice], { commitment: "confirmed" });
const bobBalance = await conn.getBalance(bob.publicKey);
const parsed = await conn.getTransaction(sent, { maxSupportedTransactionVersion: 0 });
console.log(JSON.stringify({
  version: version["solana-core"],
  signature: sent,
  bobBalance,
  fee: parsed?.meta?.fee,
  err: parsed?.meta?.err ?? null,
}));
if (bobBalance !== 100_000_000 || !parsed) process.exit(1);
process.exit(0);
