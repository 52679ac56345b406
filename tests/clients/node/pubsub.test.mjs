// WebSocket PubSub of `roomcast localnet` through the official clients, with no polling fallback:
// @solana/web3.js (`sendAndConfirmTransaction`, `onSignature`, `onAccountChange`,
// `onProgramAccountChange`, `onLogs`, `onSlotChange`), @anchor-lang/core (`addEventListener`) and
// @solana/kit (`createSolanaRpcSubscriptions`).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as web3 from "@solana/web3.js";
import * as anchor from "@anchor-lang/core";
import { address, createSolanaRpcSubscriptions } from "@solana/kit";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..", "..");
const url = process.env.ROOMCAST_RPC_URL;
const wsUrl = process.env.ROOMCAST_WS_URL;
assert.ok(url && wsUrl, "ROOMCAST_RPC_URL and ROOMCAST_WS_URL must point at a running `roomcast localnet`");

const idl = JSON.parse(fs.readFileSync(path.join(root, "idls", "roomcast.json"), "utf8"));
const PROGRAM_ID = new web3.PublicKey(idl.address);
const { LAMPORTS_PER_SOL, PublicKey, SystemProgram, Keypair, Transaction } = web3;
const INGEST = "rtmps://live.cloudflare.com:443/live/";

// No `wsEndpoint`: web3.js derives it as the RPC port + 1, like solana-test-validator's.
const connection = new web3.Connection(url, { commitment: "confirmed" });

/**
 * Resolves with the first value `subscribe(callback)` delivers, then unsubscribes with
 * `unsubscribe(id)` (open subscriptions would keep the process alive); fails after `ms`.
 */
function first(subscribe, unsubscribe = () => {}, ms = 10_000) {
  return new Promise((resolve, reject) => {
    let id;
    const timer = setTimeout(() => reject(new Error("no notification")), ms);
    id = subscribe((...args) => {
      clearTimeout(timer);
      Promise.resolve(unsubscribe(id)).then(() => resolve(args), reject);
    });
  });
}

async function funded(sol = 5) {
  const k = Keypair.generate();
  const signature = await connection.requestAirdrop(k.publicKey, sol * LAMPORTS_PER_SOL);
  const latest = await connection.getLatestBlockhash();
  // confirmTransaction waits on signatureSubscribe.
  const { value } = await connection.confirmTransaction({ signature, ...latest });
  assert.equal(value.err, null);
  return k;
}

const registryAddress = (admin) =>
  PublicKey.findProgramAddressSync([Buffer.from("registry"), admin.toBuffer()], PROGRAM_ID)[0];
const roomAddress = (registry, sessionId) =>
  PublicKey.findProgramAddressSync([Buffer.from("room"), registry.toBuffer(), Buffer.from(sessionId)], PROGRAM_ID)[0];

test("the derived websocket URL is the node's", () => {
  const rpcPort = Number(new URL(url).port);
  assert.equal(Number(new URL(wsUrl).port), rpcPort + 1);
});

test("web3.js: sendAndConfirmTransaction and onSignature resolve over signatureSubscribe", async () => {
  const from = await funded(2);
  const to = Keypair.generate().publicKey;
  const tx = new Transaction().add(
    SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: to, lamports: LAMPORTS_PER_SOL / 4 }),
  );
  const signature = await web3.sendAndConfirmTransaction(connection, tx, [from]);
  assert.equal(await connection.getBalance(to), LAMPORTS_PER_SOL / 4);

  // Subscribed before the send: the notification carries the landing slot and no error.
  const second = new Transaction().add(
    SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: to, lamports: 1_000 }),
  );
  const latest = await connection.getLatestBlockhash();
  second.recentBlockhash = latest.blockhash;
  second.feePayer = from.publicKey;
  second.sign(from);
  const sig2 = anchor.utils.bytes.bs58.encode(second.signature);
  const notified = first((cb) => connection.onSignature(sig2, (result, context) => cb(result, context), "confirmed"));
  assert.equal(await connection.sendRawTransaction(second.serialize()), sig2);
  const [result, context] = await notified;
  assert.deepEqual(result, { err: null });
  const status = (await connection.getSignatureStatuses([sig2])).value[0];
  assert.equal(context.slot, status.slot);
  assert.notEqual(signature, sig2);
});

test("web3.js: onAccountChange, onProgramAccountChange (memcmp), onLogs, onSlotChange", async () => {
  const watched = Keypair.generate().publicKey;
  const account = first(
    (cb) => connection.onAccountChange(watched, cb, { commitment: "confirmed" }),
    (id) => connection.removeAccountChangeListener(id),
  );
  const slot = first(
    (cb) => connection.onSlotChange(cb),
    (id) => connection.removeSlotChangeListener(id),
  );
  await funded(1); // any traffic
  await connection.requestAirdrop(watched, 3 * LAMPORTS_PER_SOL);
  const [info, ctx] = await account;
  assert.equal(info.lamports, 3 * LAMPORTS_PER_SOL);
  assert.ok(info.owner.equals(SystemProgram.programId));
  assert.ok(ctx.slot > 0);
  const [slotInfo] = await slot;
  assert.equal(slotInfo.root, slotInfo.slot);
  assert.ok(slotInfo.parent < slotInfo.slot);

  const admin = await funded();
  const program = new anchor.Program(idl, new anchor.AnchorProvider(connection, new anchor.Wallet(admin), {}));
  const registry = registryAddress(admin.publicKey);
  await program.methods
    .initializeRegistry(admin.publicKey)
    .accountsStrict({ admin: admin.publicKey, registry, systemProgram: SystemProgram.programId })
    .rpc(); // anchor's .rpc() confirms over the websocket too
  const sessionId = "0000000000000000000000000000ab01";
  const room = roomAddress(registry, sessionId);
  const changed = first(
    (cb) =>
      connection.onProgramAccountChange(PROGRAM_ID, cb, {
        commitment: "confirmed",
        filters: [{ memcmp: { offset: 8, bytes: registry.toBase58() } }],
      }),
    (id) => connection.removeProgramAccountChangeListener(id),
  );
  const logs = first(
    (cb) => connection.onLogs(PROGRAM_ID, cb, "confirmed"),
    (id) => connection.removeOnLogsListener(id),
  );
  const signature = await program.methods
    .createRoom(sessionId, INGEST, "PubSub", admin.publicKey)
    .accountsStrict({ registrar: admin.publicKey, registry, room, systemProgram: SystemProgram.programId })
    .rpc();
  const [keyed] = await changed;
  assert.ok(keyed.accountId.equals(room));
  const decoded = program.coder.accounts.decode("room", keyed.accountInfo.data);
  // The id is stored as its 16 bytes; the account is sized to its strings.
  assert.equal(Buffer.from(decoded.sessionId).toString("hex"), sessionId);
  assert.equal(keyed.accountInfo.data.length, 164 + INGEST.length + "PubSub".length);
  assert.deepEqual(decoded.status, { created: {} });
  const [logInfo] = await logs;
  assert.equal(logInfo.signature, signature);
  assert.equal(logInfo.err, null);
  assert.equal(logInfo.logs[0], `Program ${PROGRAM_ID} invoke [1]`);
});

test("@anchor-lang/core: addEventListener receives RoomEnded", async () => {
  const admin = await funded();
  const program = new anchor.Program(idl, new anchor.AnchorProvider(connection, new anchor.Wallet(admin), {}));
  const registry = registryAddress(admin.publicKey);
  await program.methods
    .initializeRegistry(admin.publicKey)
    .accountsStrict({ admin: admin.publicKey, registry, systemProgram: SystemProgram.programId })
    .rpc();
  const sessionId = "0000000000000000000000000000ab02";
  const room = roomAddress(registry, sessionId);
  await program.methods
    .createRoom(sessionId, INGEST, "Ending soon", admin.publicKey)
    .accountsStrict({ registrar: admin.publicKey, registry, room, systemProgram: SystemProgram.programId })
    .rpc();
  const ended = first(
    (cb) => program.addEventListener("roomEnded", (event, slot, signature) => cb(event, slot, signature)),
    (listener) => program.removeEventListener(listener),
  );
  // Give the logsSubscribe a moment to be registered before the transaction lands.
  await new Promise((r) => setTimeout(r, 300));
  const signature = await program.methods
    .endRoom()
    .accountsStrict({ authority: admin.publicKey, registry, room })
    .rpc();
  const [event, slot, eventSignature] = await ended;
  assert.equal(eventSignature, signature);
  assert.ok(event.room.equals(room));
  assert.equal(event.session_id ?? event.sessionId, sessionId);
  assert.deepEqual(event.previous_status ?? event.previousStatus, { created: {} });
  assert.ok((event.ended_by ?? event.endedBy).equals(admin.publicKey));
  const status = (await connection.getSignatureStatuses([signature])).value[0];
  assert.equal(slot, status.slot);
});

/** The first notification of a kit subscription; iteration starts now (kit drops earlier ones). */
function firstOf(notifications) {
  return (async () => {
    for await (const n of notifications) return n;
  })();
}

test("@solana/kit: account, signature, logs and slot notifications", async () => {
  const subscriptions = createSolanaRpcSubscriptions(wsUrl);
  const abort = new AbortController();
  try {
    const from = await funded(1);
    const watched = Keypair.generate().publicKey;
    const tx = new Transaction().add(
      SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: watched, lamports: LAMPORTS_PER_SOL / 2 }),
    );
    const latest = await connection.getLatestBlockhash();
    tx.recentBlockhash = latest.blockhash;
    tx.feePayer = from.publicKey;
    tx.sign(from);
    const signature = anchor.utils.bytes.bs58.encode(tx.signature);

    const opts = { abortSignal: abort.signal };
    const account = firstOf(
      await subscriptions
        .accountNotifications(address(watched.toBase58()), { commitment: "confirmed", encoding: "base64" })
        .subscribe(opts),
    );
    const logs = firstOf(
      await subscriptions
        .logsNotifications({ mentions: [address(watched.toBase58())] }, { commitment: "confirmed" })
        .subscribe(opts),
    );
    const landed = firstOf(
      await subscriptions.signatureNotifications(signature, { commitment: "finalized" }).subscribe(opts),
    );
    const slot = firstOf(await subscriptions.slotNotifications().subscribe(opts));

    assert.equal(await connection.sendRawTransaction(tx.serialize()), signature);
    const status = (await connection.getSignatureStatuses([signature])).value[0];

    const s = await landed;
    assert.equal(s.value.err, null);
    assert.equal(s.context.slot, BigInt(status.slot));
    const a = await account;
    assert.equal(a.value.lamports, BigInt(LAMPORTS_PER_SOL / 2));
    assert.deepEqual(a.value.data, ["", "base64"]);
    assert.equal(a.value.owner, "11111111111111111111111111111111");
    assert.equal(a.context.slot, BigInt(status.slot));
    const l = await logs;
    assert.equal(l.value.signature, signature);
    assert.equal(l.value.err, null);
    const n = await slot;
    assert.equal(n.root, n.slot);
    assert.ok(n.parent < n.slot);
  } finally {
    abort.abort();
  }
});
