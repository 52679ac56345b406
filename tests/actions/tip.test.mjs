// The tip Solana Action (issue 22) through the official Actions client library, unchanged:
// `@solana/actions`' `fetchTransaction` POSTs the Action and turns the answer into a web3.js
// transaction (checking its fee payer and signatures), the viewer signs and sends it to the
// server's embedded local node, `findReference` finds it by the room's address, the host's
// balance grows by exactly the amount, and the `links.next` callback answers the completed state.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  ACTIONS_CORS_HEADERS,
  MEMO_PROGRAM_ID,
  fetchTransaction,
  findReference,
} from "@solana/actions";
import * as web3 from "@solana/web3.js";

const base = process.env.ROOMCAST_URL;
const operatorKey = process.env.ROOMCAST_OPERATOR_KEY;
assert.ok(base && operatorKey, "ROOMCAST_URL and ROOMCAST_OPERATOR_KEY must point at `roomcast serve`");
const { Keypair, LAMPORTS_PER_SOL, PublicKey, SystemInstruction, SystemProgram } = web3;

const info = await (await fetch(`${base}/api/info`)).json();
const connection = new web3.Connection(info.rpcUrl, { commitment: "confirmed" });

async function confirm(signature) {
  for (let i = 0; i < 200; i++) {
    const { value } = await connection.getSignatureStatuses([signature]);
    if (value[0]) {
      if (value[0].err) throw new Error(`${signature} failed: ${JSON.stringify(value[0].err)}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${signature} not confirmed`);
}

async function createRoom(host, title) {
  const response = await fetch(`${base}/api/create`, {
    method: "POST",
    headers: { authorization: `Bearer ${operatorKey}`, "content-type": "application/json" },
    body: JSON.stringify({ title, host: host.toBase58() }),
  });
  const body = await response.json();
  assert.equal(response.status, 201, JSON.stringify(body));
  return body;
}

/** Posts the signature to `links.next` until the server has counted the tip. */
async function done(href, account, signature) {
  for (let i = 0; i < 50; i++) {
    const response = await fetch(new URL(href, base), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ account, signature }),
    });
    const body = await response.json();
    if (response.status === 200) return body;
    assert.equal(response.status, 404, JSON.stringify(body));
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the tip was never counted");
}

test("the tip Action works with @solana/actions: metadata, fetchTransaction, sign, send, findReference, done", async () => {
  const host = Keypair.generate().publicKey;
  const viewer = Keypair.generate();
  const room = await createRoom(host, "Interop tips");
  const roomKey = new PublicKey(room.room);
  await confirm(await connection.requestAirdrop(viewer.publicKey, LAMPORTS_PER_SOL));

  // GET: the spec's headers, exactly the library's ACTIONS_CORS_HEADERS, and the metadata.
  const action = new URL(`/api/actions/tip?room=${room.room}`, base);
  const response = await fetch(action);
  assert.equal(response.status, 200);
  for (const [name, value] of Object.entries(ACTIONS_CORS_HEADERS)) {
    assert.equal(response.headers.get(name), value, name);
  }
  assert.equal(response.headers.get("x-action-version"), "2.4");
  assert.match(response.headers.get("x-blockchain-ids"), /^solana:[1-9A-HJ-NP-Za-km-z]{32}$/);
  const meta = await response.json();
  assert.equal(meta.type, "action");
  assert.equal(meta.title, "Tip “Interop tips”");
  assert.equal(meta.disabled, false);
  assert.deepEqual(
    meta.links.actions.map((a) => [a.type, a.label]),
    [["transaction", "0.01 SOL"], ["transaction", "0.05 SOL"], ["transaction", "0.1 SOL"], ["transaction", "Tip"]],
  );
  assert.deepEqual(meta.links.actions[3].parameters, [
    { type: "number", name: "amount", label: "SOL (0.001–100)", required: true, min: 0.001, max: 100 },
  ]);

  // POST through the library: it checks the fee payer and that only `account` has to sign.
  const account = viewer.publicKey.toBase58();
  const answer = await fetchTransaction(connection, new URL(meta.links.actions[1].href, base), { account });
  const tx = answer.transaction;
  assert.ok(tx instanceof web3.Transaction);
  assert.ok(tx.feePayer.equals(viewer.publicKey));
  assert.equal(tx.signatures.length, 1);
  assert.equal(answer.message, "Tips 0.05 SOL to the host of “Interop tips”.");
  assert.deepEqual(answer.links.next, { type: "post", href: `/api/actions/tip/done?room=${room.room}` });
  const [transfer, memo] = tx.instructions;
  assert.ok(transfer.programId.equals(SystemProgram.programId));
  const decoded = SystemInstruction.decodeTransfer(
    new web3.TransactionInstruction({ ...transfer, keys: transfer.keys.slice(0, 2) }),
  );
  assert.ok(decoded.fromPubkey.equals(viewer.publicKey));
  assert.ok(decoded.toPubkey.equals(host));
  assert.equal(decoded.lamports, 50_000_000n);
  const reference = transfer.keys[2];
  assert.ok(reference.pubkey.equals(roomKey));
  assert.equal(reference.isSigner, false);
  assert.equal(reference.isWritable, false);
  assert.ok(memo.programId.equals(new PublicKey(MEMO_PROGRAM_ID)));
  assert.equal(memo.data.toString("utf8"), `roomcast tip ${room.room}`);

  // Sign and send: the host is paid exactly the amount.
  const before = await connection.getBalance(host);
  tx.sign(viewer);
  const signature = await connection.sendRawTransaction(tx.serialize());
  await confirm(signature);
  assert.equal(await connection.getBalance(host), before + 50_000_000);

  // The library finds the tip by the room's address (after the room's creation).
  const found = await findReference(connection, roomKey, { until: room.signature, finality: "confirmed" });
  assert.equal(found.signature, signature);
  assert.equal(found.memo, `[${`roomcast tip ${room.room}`.length}] roomcast tip ${room.room}`);

  // links.next: the completed state, with the room's totals.
  const completed = await done(answer.links.next.href, account, signature);
  assert.equal(completed.type, "completed");
  assert.equal(completed.title, "Thank you!");
  assert.deepEqual(completed.tips, { count: 1, lamports: 50_000_000 });

  // The free amount through the form's href, and the room view's totals.
  const custom = meta.links.actions[3].href.replace("{amount}", "0.02");
  const second = await fetchTransaction(connection, new URL(custom, base), { account });
  second.transaction.sign(viewer);
  const signature2 = await connection.sendRawTransaction(second.transaction.serialize());
  await confirm(signature2);
  await done(second.links.next.href, account, signature2);
  const view = await (await fetch(`${base}/api/rooms/${room.room}`)).json();
  assert.deepEqual(view.tips, { count: 2, lamports: 70_000_000 });
  assert.equal(await connection.getBalance(host), before + 70_000_000);
});

test("@solana/actions gets no transaction for a refused tip", async () => {
  const host = Keypair.generate().publicKey;
  const room = await createRoom(host, "Refusals");
  const account = Keypair.generate().publicKey.toBase58();
  const refused = async (href, who) => {
    await assert.rejects(
      fetchTransaction(connection, new URL(href, base), { account: who }),
      (e) => e.name === "FetchTransactionError" && e.message === "missing transaction",
    );
    const response = await fetch(new URL(href, base), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ account: who }),
    });
    return [response.status, (await response.json()).message];
  };
  assert.deepEqual(await refused(`/api/actions/tip?room=${room.room}&amount=lots`, account), [
    400,
    "amount must be a number of SOL from 0.001 to 100",
  ]);
  assert.deepEqual(await refused(`/api/actions/tip?room=${room.room}&amount=0.01`, host.toBase58()), [
    403,
    "the host cannot tip their own room",
  ]);
});
