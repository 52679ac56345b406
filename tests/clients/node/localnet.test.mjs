// @solana/web3.js 1.x and @anchor-lang/core, unchanged, against `roomcast localnet`.
//
// Transactions here are sent with `sendRawTransaction` and confirmed by polling
// `getSignatureStatuses` (`confirm` below), to cover those HTTP methods; pubsub.test.mjs confirms
// over the WebSocket (`sendAndConfirmTransaction`, anchor's `.rpc()`) instead.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

import * as web3 from "@solana/web3.js";
import * as anchor from "@anchor-lang/core";
import ts from "typescript";

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..", "..");
const url = process.env.ROOMCAST_RPC_URL;
assert.ok(url, "ROOMCAST_RPC_URL must point at a running `roomcast localnet`");

const idl = JSON.parse(fs.readFileSync(path.join(root, "idls", "roomcast.json"), "utf8"));
const PROGRAM_ID = new web3.PublicKey(idl.address);
const { LAMPORTS_PER_SOL, PublicKey, SystemProgram, Keypair, Transaction } = web3;
const INGEST = "rtmps://live.cloudflare.com:443/live/";
/** A room's size without its strings' bytes: discriminator, 3 keys, status, bump, 16-byte session
 * id, 2 timestamps, 2 optional timestamps (reserved at 9 bytes), 2 string length prefixes. */
const ROOM_FIXED_BYTES = 8 + 3 * 32 + 1 + 1 + 16 + 2 * 8 + 2 * 9 + 2 * 4;
/** Rent of one byte: 3480 lamports per byte-year, two years. */
const RENT_PER_BYTE = 6960;

const connection = new web3.Connection(url, { commitment: "confirmed" });

/** Polls getSignatureStatuses until the signature is confirmed; throws on a transaction error. */
async function confirm(signature) {
  for (let i = 0; i < 200; i++) {
    const { value } = await connection.getSignatureStatuses([signature]);
    const status = value[0];
    if (status) {
      if (status.err) throw new Error(`${signature} failed: ${JSON.stringify(status.err)}`);
      return status;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${signature} not confirmed`);
}

async function funded(sol = 5) {
  const k = Keypair.generate();
  await confirm(await connection.requestAirdrop(k.publicKey, sol * LAMPORTS_PER_SOL));
  return k;
}

async function sendTx(tx, signers) {
  const { blockhash } = await connection.getLatestBlockhash();
  tx.recentBlockhash = blockhash;
  tx.feePayer = signers[0].publicKey;
  tx.sign(...signers);
  const signature = await connection.sendRawTransaction(tx.serialize());
  assert.equal(signature, anchor.utils.bytes.bs58.encode(tx.signature));
  await confirm(signature);
  return signature;
}

function registryAddress(admin) {
  return PublicKey.findProgramAddressSync([Buffer.from("registry"), admin.toBuffer()], PROGRAM_ID)[0];
}

function roomAddress(registry, sessionId) {
  return PublicKey.findProgramAddressSync(
    [Buffer.from("room"), registry.toBuffer(), Buffer.from(sessionId)],
    PROGRAM_ID,
  )[0];
}

function providerFor(keypair) {
  return new anchor.AnchorProvider(connection, new anchor.Wallet(keypair), {
    commitment: "confirmed",
  });
}

test("getVersion, getLatestBlockhash, getBalance, getSlot", async () => {
  const version = await connection.getVersion();
  assert.equal(version["solana-core"], "3.1.12");
  const latest = await connection.getLatestBlockhash();
  assert.equal(typeof latest.blockhash, "string");
  assert.equal(anchor.utils.bytes.bs58.decode(latest.blockhash).length, 32);
  const height = await connection.getBlockHeight();
  assert.ok(latest.lastValidBlockHeight >= height + 149, `${latest.lastValidBlockHeight} vs ${height}`);
  assert.equal(await connection.getBalance(Keypair.generate().publicKey), 0);
  assert.equal(typeof (await connection.getSlot()), "number");
  assert.equal(await connection.isBlockhashValid(latest.blockhash).then((r) => r.value), true);
  const epoch = await connection.getEpochInfo();
  assert.equal(epoch.slotsInEpoch, 432000);
  assert.equal(await connection.getGenesisHash().then((h) => h.length > 30), true);
});

test("requestAirdrop, then a transfer confirmed by polling", async () => {
  const from = await funded(2);
  assert.equal(await connection.getBalance(from.publicKey), 2 * LAMPORTS_PER_SOL);
  const to = Keypair.generate().publicKey;
  const tx = new Transaction().add(
    SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: to, lamports: LAMPORTS_PER_SOL / 2 }),
  );
  const fee = await connection.getFeeForMessage(
    (() => {
      const t = new Transaction().add(tx.instructions[0]);
      t.feePayer = from.publicKey;
      t.recentBlockhash = anchor.utils.bytes.bs58.encode(Buffer.alloc(32));
      return t.compileMessage();
    })(),
  );
  assert.equal(fee.value, null, "an unknown blockhash has no fee");
  const signature = await sendTx(tx, [from]);
  assert.equal(await connection.getBalance(to), LAMPORTS_PER_SOL / 2);
  assert.equal(await connection.getBalance(from.publicKey), 1.5 * LAMPORTS_PER_SOL - 5000);
  const got = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 });
  assert.equal(got.meta.err, null);
  assert.equal(got.meta.fee, 5000);
  assert.equal(got.transaction.signatures[0], signature);

  // A duplicate is refused as a cluster refuses it.
  await assert.rejects(connection.sendRawTransaction(tx.serialize()), (e) => {
    assert.match(e.message, /This transaction has already been processed/);
    return true;
  });
});

test("a failing program instruction surfaces as SendTransactionError with logs", async () => {
  const admin = await funded();
  const program = new anchor.Program(idl, providerFor(admin));
  const registry = registryAddress(admin.publicKey);
  await sendTx(
    await program.methods
      .initializeRegistry(admin.publicKey)
      .accountsStrict({ admin: admin.publicKey, registry, systemProgram: SystemProgram.programId })
      .transaction(),
    [admin],
  );
  const sessionId = "00000000000000000000000000000f01";
  const room = roomAddress(registry, sessionId);
  await sendTx(
    await program.methods
      .createRoom(sessionId, INGEST, "Failing", admin.publicKey)
      .accountsStrict({ registrar: admin.publicKey, registry, room, systemProgram: SystemProgram.programId })
      .transaction(),
    [admin],
  );
  const stranger = await funded();
  const tx = await program.methods
    .endRoom()
    .accountsStrict({ authority: stranger.publicKey, registry, room })
    .transaction();
  await assert.rejects(sendTx(tx, [stranger]), (e) => {
    assert.ok(e instanceof web3.SendTransactionError, e);
    assert.match(e.message, /custom program error: 0x1776/);
    const logs = e.transactionLogs ?? e.logs;
    assert.deepEqual(logs, [
      `Program ${PROGRAM_ID} invoke [1]`,
      `Program ${PROGRAM_ID} failed: custom program error: 0x1776`,
    ]);
    // Natively the program's `AnchorError occurred…` log line is missing (msg! goes to stdout), so
    // anchor's log-based AnchorError.parse finds nothing; the custom code maps through the IDL.
    assert.equal(anchor.AnchorError.parse(logs), null);
    const code = Number.parseInt(/custom program error: (0x[0-9a-f]+)/.exec(e.message)[1], 16);
    assert.equal(code, 6006);
    assert.equal(
      anchor.parseIdlErrors(idl).get(code),
      "Signer is neither the room's host nor the registry's registrar",
    );
    return true;
  });
});

test("@anchor-lang/core: initialize_registry, create_room, fetch, events", async () => {
  const admin = await funded();
  const registrar = await funded();
  const program = new anchor.Program(idl, providerFor(admin));
  assert.equal(program.programId.toBase58(), PROGRAM_ID.toBase58());
  const registry = registryAddress(admin.publicKey);

  await sendTx(
    await program.methods
      .initializeRegistry(registrar.publicKey)
      .accountsStrict({ admin: admin.publicKey, registry, systemProgram: SystemProgram.programId })
      .transaction(),
    [admin],
  );
  const reg = await program.account.registry.fetch(registry);
  assert.equal(reg.admin.toBase58(), admin.publicKey.toBase58());
  assert.equal(reg.registrar.toBase58(), registrar.publicKey.toBase58());
  assert.equal(reg.roomsCreated.toNumber(), 0);

  const host = Keypair.generate().publicKey;
  const sessionId = "0123456789abcdef0123456789abcdef";
  const room = roomAddress(registry, sessionId);
  const signature = await sendTx(
    await program.methods
      .createRoom(sessionId, INGEST, "Hello from web3.js", host)
      .accountsStrict({
        registrar: registrar.publicKey,
        registry,
        room,
        systemProgram: SystemProgram.programId,
      })
      .transaction(),
    [registrar],
  );

  const fetched = await program.account.room.fetch(room);
  assert.equal(fetched.registry.toBase58(), registry.toBase58());
  assert.equal(fetched.host.toBase58(), host.toBase58());
  assert.equal(fetched.payer.toBase58(), registrar.publicKey.toBase58());
  assert.deepEqual(fetched.status, { created: {} });
  // The session id is stored as its 16 bytes: the 32-hex id is their hex.
  assert.equal(fetched.sessionId.length, 16);
  assert.equal(Buffer.from(fetched.sessionId).toString("hex"), sessionId);
  assert.equal(fetched.ingestUrl, INGEST);
  assert.equal(fetched.title, "Hello from web3.js");
  assert.equal(fetched.liveAt, null);
  assert.equal(fetched.endedAt, null);
  assert.ok(fetched.createdAt.toNumber() > 1_700_000_000);

  // Sized to its content: 164 fixed bytes + the ingest URL + the title, exactly rent-exempt.
  const info = await connection.getAccountInfo(room);
  assert.equal(info.data.length, ROOM_FIXED_BYTES + INGEST.length + "Hello from web3.js".length);
  assert.equal(info.data.length, 219);
  assert.equal(info.lamports, await connection.getMinimumBalanceForRentExemption(219));
  assert.equal(info.lamports, (128 + 219) * 6960);

  // getProgramAccounts with a memcmp filter (anchor's `all`).
  const byRegistry = await program.account.room.all([
    { memcmp: { offset: 8, bytes: registry.toBase58() } },
  ]);
  assert.deepEqual(byRegistry.map((r) => r.publicKey.toBase58()), [room.toBase58()]);
  // The session id's 16 bytes sit at a fixed offset (106), whatever the timestamps hold.
  const bySession = await program.account.room.all([
    { memcmp: { offset: 106, bytes: anchor.utils.bytes.bs58.encode(Buffer.from(sessionId, "hex")) } },
  ]);
  assert.deepEqual(bySession.map((r) => r.publicKey.toBase58()), [room.toBase58()]);

  // The RoomCreated event, parsed by anchor from the transaction's logs.
  const tx = await connection.getTransaction(signature, {
    commitment: "confirmed",
    maxSupportedTransactionVersion: 0,
  });
  const events = [...new anchor.EventParser(PROGRAM_ID, new anchor.BorshCoder(idl)).parseLogs(tx.meta.logMessages)];
  assert.equal(events.length, 1);
  assert.equal(events[0].name, "RoomCreated");
  assert.equal(events[0].data.room.toBase58(), room.toBase58());
  // Event fields keep the IDL's snake_case names (accounts are camelCased by the account coder).
  assert.equal(events[0].data.session_id, sessionId);
  assert.equal(events[0].data.host.toBase58(), host.toBase58());
  assert.equal(events[0].data.created_at.toNumber(), fetched.createdAt.toNumber());
  assert.equal(events[0].data.title, "Hello from web3.js");
});

test("@anchor-lang/core: updateRoom resizes the room; the signer pays, the payer is refunded", async () => {
  const admin = await funded(); // admin, registrar and the rooms' payer
  const host = await funded(1);
  const program = new anchor.Program(idl, providerFor(admin));
  const registry = registryAddress(admin.publicKey);
  await sendTx(
    await program.methods
      .initializeRegistry(admin.publicKey)
      .accountsStrict({ admin: admin.publicKey, registry, systemProgram: SystemProgram.programId })
      .transaction(),
    [admin],
  );
  const sessionId = "00000000000000000000000000000e01";
  const room = roomAddress(registry, sessionId);
  await sendTx(
    await program.methods
      .createRoom(sessionId, INGEST, "Short", host.publicKey)
      .accountsStrict({ registrar: admin.publicKey, registry, room, systemProgram: SystemProgram.programId })
      .transaction(),
    [admin],
  );
  const update = (authority, title) =>
    program.methods
      .updateRoom(title)
      .accountsStrict({ authority, registry, room, payer: admin.publicKey, systemProgram: SystemProgram.programId })
      .transaction();
  const size = async () => (await connection.getAccountInfo(room)).data.length;
  assert.equal(await size(), ROOM_FIXED_BYTES + INGEST.length + 5);

  // The host grows the title by 25 bytes: its fee plus exactly 25 bytes of rent.
  const long = "Thirty bytes of a long title!!";
  const hostBefore = await connection.getBalance(host.publicKey);
  await sendTx(await update(host.publicKey, long), [host]);
  assert.equal(await connection.getBalance(host.publicKey), hostBefore - 5000 - 25 * RENT_PER_BYTE);
  assert.equal(await size(), ROOM_FIXED_BYTES + INGEST.length + 30);
  assert.equal((await program.account.room.fetch(room)).title, long);

  // The host shrinks it again: the payer (admin) gets the 25 bytes of rent back.
  const adminBefore = await connection.getBalance(admin.publicKey);
  await sendTx(await update(host.publicKey, "Short"), [host]);
  assert.equal(await connection.getBalance(admin.publicKey), adminBefore + 25 * RENT_PER_BYTE);
  const info = await connection.getAccountInfo(room);
  assert.equal(info.data.length, ROOM_FIXED_BYTES + INGEST.length + 5);
  assert.equal(info.lamports, await connection.getMinimumBalanceForRentExemption(info.data.length));

  // Another account as payer: PayerMismatch (6012), nothing changes.
  const wrong = await program.methods
    .updateRoom(long)
    .accountsStrict({ authority: host.publicKey, registry, room, payer: host.publicKey, systemProgram: SystemProgram.programId })
    .transaction();
  await assert.rejects(sendTx(wrong, [host]), (e) => {
    assert.match(e.message, /custom program error: 0x177c/);
    return true;
  });
  assert.equal((await program.account.room.fetch(room)).title, "Short");
});

/** Loads migrations/deploy.ts the way ts-node would (transpiled to CommonJS). */
function loadDeployScript() {
  const file = path.join(root, "migrations", "deploy.ts");
  const { outputText } = ts.transpileModule(fs.readFileSync(file, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true },
    fileName: file,
  });
  const module = { exports: {} };
  const wrapper = vm.runInThisContext(
    `(function (exports, require, module, __filename, __dirname) {${outputText}\n})`,
    { filename: file },
  );
  wrapper(module.exports, require, module, file, path.dirname(file));
  return module.exports;
}

test("migrations/deploy.ts initializes the wallet's registry once", async () => {
  const deploy = loadDeployScript();
  assert.equal(typeof deploy, "function");
  const wallet = await funded();
  const registrar = Keypair.generate().publicKey;
  const registry = registryAddress(wallet.publicKey);
  const saved = process.env.ROOMCAST_REGISTRAR;
  try {
    process.env.ROOMCAST_REGISTRAR = registrar.toBase58();
    const first = await deploy(providerFor(wallet));
    assert.equal(first.created, true);
    assert.equal(first.registry.toBase58(), registry.toBase58());
    assert.equal(typeof first.signature, "string");
    await confirm(first.signature);
    const program = new anchor.Program(idl, providerFor(wallet));
    const reg = await program.account.registry.fetch(registry);
    assert.equal(reg.registrar.toBase58(), registrar.toBase58());

    // Second run: skipped, registry untouched (even with another registrar in the env).
    process.env.ROOMCAST_REGISTRAR = Keypair.generate().publicKey.toBase58();
    const second = await deploy(providerFor(wallet));
    assert.deepEqual(
      { created: second.created, signature: second.signature, registrar: second.registrar.toBase58() },
      { created: false, signature: null, registrar: registrar.toBase58() },
    );

    // Default registrar: the wallet itself.
    delete process.env.ROOMCAST_REGISTRAR;
    const other = await funded();
    const third = await deploy(providerFor(other));
    assert.equal(third.created, true);
    assert.equal(third.registrar.toBase58(), other.publicKey.toBase58());

    // A malformed registrar is refused before anything is sent.
    process.env.ROOMCAST_REGISTRAR = "not-a-key";
    const fresh = await funded();
    await assert.rejects(deploy(providerFor(fresh)), /ROOMCAST_REGISTRAR is not a base58 public key: "not-a-key"/);
    assert.equal(await connection.getAccountInfo(registryAddress(fresh.publicKey)), null);
  } finally {
    if (saved === undefined) delete process.env.ROOMCAST_REGISTRAR;
    else process.env.ROOMCAST_REGISTRAR = saved;
  }
});
