// The local node's SPL Token and Token-2022 programs and token RPCs (issue 21) through the official
// clients, unchanged: `@solana/spl-token` (with `@solana/web3.js` 1.x) makes mints and accounts,
// mints, transfers and freezes on `roomcast serve`'s embedded node; web3.js
// (`getParsedTokenAccountsByOwner`, `getTokenAccountBalance`, `getTokenSupply`) and `@solana/kit`
// (`createSolanaRpc`) read them back with exactly what a cluster answers; and a mint made by the
// `roomcast token` CLI reads back through spl-token's `getMint`/`getAccount`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import * as web3 from "@solana/web3.js";
import * as spl from "@solana/spl-token";
import { address, createSolanaRpc } from "@solana/kit";

const base = process.env.ROOMCAST_URL;
const bin = process.env.ROOMCAST_BIN;
assert.ok(base && bin, "ROOMCAST_URL and ROOMCAST_BIN must point at `roomcast serve` and its executable");
const { Keypair, LAMPORTS_PER_SOL, PublicKey } = web3;
const { TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID } = spl;

const info = await (await fetch(`${base}/api/info`)).json();
// The PubSub URL is derived as the RPC port + 1 (web3.js's default), which the embedded node serves:
// every spl-token action confirms through `signatureSubscribe`.
const connection = new web3.Connection(info.rpcUrl, { commitment: "confirmed" });
const kit = createSolanaRpc(info.rpcUrl);
const confirmed = { commitment: "confirmed" };

async function funded(lamports = 2 * LAMPORTS_PER_SOL) {
  const keypair = Keypair.generate();
  const signature = await connection.requestAirdrop(keypair.publicKey, lamports);
  const latest = await connection.getLatestBlockhash();
  const { value } = await connection.confirmTransaction({ signature, ...latest });
  assert.equal(value.err, null);
  return keypair;
}

const amount = (raw, decimals, text) => ({
  amount: String(raw),
  decimals,
  uiAmount: Number(text),
  uiAmountString: text,
});

/** The `jsonParsed` data a cluster answers for a token account (agave's account decoder). */
function parsedAccount(program, { mint, owner, raw, text, frozen = false, extensions }) {
  const info = {
    isNative: false,
    mint: mint.toBase58(),
    owner: owner.toBase58(),
    state: frozen ? "frozen" : "initialized",
    tokenAmount: amount(raw, 6, text),
  };
  if (extensions) info.extensions = extensions;
  return {
    program: program.equals(TOKEN_2022_PROGRAM_ID) ? "spl-token-2022" : "spl-token",
    parsed: { type: "account", info },
  };
}

const byKey = (a, b) => (a.pubkey.toString() < b.pubkey.toString() ? -1 : 1);

/**
 * One mint under `program` with three accounts: alice's and bob's associated accounts (Token-2022
 * gives those the ImmutableOwner extension: 170 bytes) and a plain 165-byte account of bob's that
 * gets frozen. 5 tokens minted to alice, 1.5 sent to bob, 0.25 minted to bob's plain account.
 */
async function scenario(program, payer, alice, bob) {
  const mint = await spl.createMint(connection, payer, payer.publicKey, payer.publicKey, 6, undefined, confirmed, program);
  const aliceAta = await spl.createAssociatedTokenAccount(connection, payer, mint, alice.publicKey, confirmed, program);
  const bobAta = await spl.createAssociatedTokenAccount(connection, payer, mint, bob.publicKey, confirmed, program);
  const bobPlain = await spl.createAccount(connection, payer, mint, bob.publicKey, Keypair.generate(), confirmed, program);
  await spl.mintTo(connection, payer, mint, aliceAta, payer, 5_000_000n, [], confirmed, program);
  await spl.transferChecked(connection, payer, aliceAta, mint, bobAta, alice, 1_500_000n, 6, [], confirmed, program);
  await spl.mintTo(connection, payer, mint, bobPlain, payer, 250_000n, [], confirmed, program);
  await spl.freezeAccount(connection, payer, bobPlain, mint, payer, [], confirmed, program);
  return { program, mint, aliceAta, bobAta, bobPlain };
}

/** What a cluster answers for bob's two accounts of `s`, sorted by address. */
function bobsAccounts(s, bob) {
  const ata2022 = s.program.equals(TOKEN_2022_PROGRAM_ID);
  return [
    {
      pubkey: s.bobAta.toBase58(),
      space: ata2022 ? 170 : 165,
      data: parsedAccount(s.program, {
        mint: s.mint,
        owner: bob.publicKey,
        raw: 1_500_000,
        text: "1.5",
        extensions: ata2022 ? [{ extension: "immutableOwner" }] : undefined,
      }),
    },
    {
      pubkey: s.bobPlain.toBase58(),
      space: 165,
      data: parsedAccount(s.program, { mint: s.mint, owner: bob.publicKey, raw: 250_000, text: "0.25", frozen: true }),
    },
  ].sort((a, b) => (a.pubkey < b.pubkey ? -1 : 1));
}

/** web3.js's answer as plain values (PublicKeys as base58, lamports apart). */
function web3Plain(value) {
  return value.sort(byKey).map(({ pubkey, account }) => {
    assert.equal(account.executable, false);
    assert.ok(account.lamports > 0);
    const { space, ...data } = account.data;
    return { pubkey: pubkey.toBase58(), owner: account.owner.toBase58(), space, data };
  });
}

/** @solana/kit's answer as plain values (its bigints as numbers). */
function kitPlain(value) {
  return value
    .map(({ pubkey, account }) => {
      assert.equal(account.executable, false);
      assert.equal(typeof account.lamports, "bigint");
      const { space, ...data } = account.data;
      return { pubkey: String(pubkey), owner: String(account.owner), space: Number(space), data };
    })
    .sort((a, b) => (a.pubkey < b.pubkey ? -1 : 1));
}

const expected = (s, bob) =>
  bobsAccounts(s, bob).map(({ pubkey, space, data }) => ({ pubkey, owner: s.program.toBase58(), space, data }));

test("SPL Token and Token-2022 through @solana/spl-token, read back with web3.js and @solana/kit", async () => {
  const payer = await funded();
  const alice = await funded(LAMPORTS_PER_SOL / 10); // signs her transfer; the payer pays its fee
  const bob = Keypair.generate();
  const classic = await scenario(TOKEN_PROGRAM_ID, payer, alice, bob);
  const t22 = await scenario(TOKEN_2022_PROGRAM_ID, payer, alice, bob);

  // What the programs wrote, through spl-token's own readers (getAccountInfo, base64).
  for (const s of [classic, t22]) {
    const mint = await spl.getMint(connection, s.mint, "confirmed", s.program);
    assert.equal(mint.supply, 5_250_000n);
    assert.equal(mint.decimals, 6);
    assert.ok(mint.mintAuthority.equals(payer.publicKey));
    assert.ok(mint.freezeAuthority.equals(payer.publicKey));
    const frozen = await spl.getAccount(connection, s.bobPlain, "confirmed", s.program);
    assert.equal(frozen.isFrozen, true);
    assert.equal(frozen.amount, 250_000n);
    const ata = await spl.getAccount(connection, s.aliceAta, "confirmed", s.program);
    assert.equal(ata.amount, 3_500_000n);
    assert.equal(ata.isFrozen, false);
    assert.ok(ata.owner.equals(alice.publicKey));
  }
  // A frozen account refuses a transfer out (the program ran, not just the layout).
  await assert.rejects(
    spl.transferChecked(connection, payer, classic.bobPlain, classic.mint, classic.bobAta, bob, 1n, 6, [], confirmed),
    (e) => /frozen|0x11/i.test(String(e?.logs ?? e?.message ?? e)),
  );

  for (const s of [classic, t22]) {
    const what = s.program.equals(TOKEN_2022_PROGRAM_ID) ? "Token-2022" : "SPL Token";
    // web3.js: mint filter, programId filter (bob has accounts under both programs).
    const byMint = await connection.getParsedTokenAccountsByOwner(bob.publicKey, { mint: s.mint });
    assert.deepEqual(web3Plain(byMint.value), expected(s, bob), `${what}: web3.js, mint filter`);
    const byProgram = await connection.getParsedTokenAccountsByOwner(bob.publicKey, { programId: s.program });
    assert.deepEqual(web3Plain(byProgram.value), expected(s, bob), `${what}: web3.js, programId filter`);
    const alices = await connection.getParsedTokenAccountsByOwner(alice.publicKey, { mint: s.mint });
    assert.deepEqual(
      alices.value.map((a) => [a.pubkey.toBase58(), a.account.data.parsed.info.tokenAmount]),
      [[s.aliceAta.toBase58(), amount(3_500_000, 6, "3.5")]],
    );
    assert.deepEqual((await connection.getTokenAccountBalance(s.bobPlain)).value, amount(250_000, 6, "0.25"));
    assert.deepEqual((await connection.getTokenAccountBalance(s.bobAta)).value, amount(1_500_000, 6, "1.5"));
    assert.deepEqual((await connection.getTokenSupply(s.mint)).value, amount(5_250_000, 6, "5.25"));

    // @solana/kit: the same reads.
    const kitByMint = await kit
      .getTokenAccountsByOwner(address(bob.publicKey.toBase58()), { mint: address(s.mint.toBase58()) }, { encoding: "jsonParsed" })
      .send();
    assert.deepEqual(kitPlain(kitByMint.value), expected(s, bob), `${what}: kit, mint filter`);
    const kitByProgram = await kit
      .getTokenAccountsByOwner(
        address(bob.publicKey.toBase58()),
        { programId: address(s.program.toBase58()) },
        { encoding: "jsonParsed" },
      )
      .send();
    assert.deepEqual(kitPlain(kitByProgram.value), expected(s, bob), `${what}: kit, programId filter`);
    const kitBalance = await kit.getTokenAccountBalance(address(s.bobPlain.toBase58())).send();
    assert.deepEqual(kitBalance.value, amount(250_000, 6, "0.25"));
    const kitSupply = await kit.getTokenSupply(address(s.mint.toBase58())).send();
    assert.deepEqual(kitSupply.value, amount(5_250_000, 6, "5.25"));
    assert.equal(typeof kitSupply.context.slot, "bigint");
  }

  // Errors as a cluster (agave's rpc.rs) words them, in its order of checks.
  const stranger = Keypair.generate().publicKey; // no account
  const wallet = payer.publicKey; // a system account
  const refused = async (promise, message) => {
    await assert.rejects(promise, (e) => {
      assert.ok(String(e.message).includes(message), `${e.message} should include ${message}`);
      return true;
    });
  };
  await refused(connection.getParsedTokenAccountsByOwner(bob.publicKey, { mint: stranger }), "Invalid param: could not find mint");
  await refused(connection.getParsedTokenAccountsByOwner(bob.publicKey, { mint: wallet }), "Invalid param: Token mint could not be unpacked");
  await refused(connection.getParsedTokenAccountsByOwner(bob.publicKey, { mint: classic.bobAta }), "Invalid param: Token mint could not be unpacked");
  await refused(connection.getTokenAccountBalance(stranger), "Invalid param: could not find account");
  await refused(connection.getTokenAccountBalance(wallet), "Invalid param: not a Token account");
  await refused(connection.getTokenAccountBalance(classic.mint), "Invalid param: not a Token account");
  await refused(connection.getTokenSupply(stranger), "Invalid param: could not find account");
  await refused(connection.getTokenSupply(wallet), "Invalid param: not a Token mint");
  await refused(connection.getTokenSupply(classic.bobAta), "Invalid param: mint could not be unpacked");
  await refused(
    kit.getTokenAccountsByOwner(address(bob.publicKey.toBase58()), { programId: address(stranger.toBase58()) }, { encoding: "jsonParsed" }).send(),
    "Invalid param: unrecognized Token program id",
  );
  await refused(kit.getTokenSupply(address(stranger.toBase58())).send(), "Invalid param: could not find account");
  assert.deepEqual(
    (await connection.getParsedTokenAccountsByOwner(stranger, { programId: TOKEN_PROGRAM_ID })).value,
    [],
  );
});

test("a mint made by the roomcast CLI reads back through @solana/spl-token", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "roomcast-tokens-"));
  try {
    const issuer = await funded();
    const keyFile = path.join(dir, "issuer.json");
    fs.writeFileSync(keyFile, JSON.stringify(Array.from(issuer.secretKey)));
    const holder = Keypair.generate().publicKey;
    const cli = (...args) =>
      JSON.parse(execFileSync(bin, ["-u", info.rpcUrl, "-k", keyFile, "--json", "token", ...args], { encoding: "utf8" }));
    for (const [flags, program] of [[[], TOKEN_PROGRAM_ID], [["--token-2022"], TOKEN_2022_PROGRAM_ID]]) {
      const mint = new PublicKey(cli("create-mint", "--decimals", "3", ...flags).mint);
      const minted = cli("mint", mint.toBase58(), "12345", "--to", holder.toBase58());
      assert.equal(minted.amount, "12345");

      const m = await spl.getMint(connection, mint, "confirmed", program);
      assert.equal(m.decimals, 3);
      assert.equal(m.supply, 12_345n);
      assert.equal(m.isInitialized, true);
      assert.ok(m.mintAuthority.equals(issuer.publicKey));
      assert.ok(m.freezeAuthority.equals(issuer.publicKey));
      const ata = spl.getAssociatedTokenAddressSync(mint, holder, false, program);
      assert.equal(minted.account, ata.toBase58());
      const account = await spl.getAccount(connection, ata, "confirmed", program);
      assert.equal(account.amount, 12_345n);
      assert.ok(account.owner.equals(holder));
      assert.ok(account.mint.equals(mint));
      assert.equal(account.isFrozen, false);
      assert.deepEqual((await connection.getTokenAccountBalance(ata)).value, amount(12_345, 3, "12.345"));
      // The wrong program is refused by spl-token's owner check, as on a cluster.
      const other = program.equals(TOKEN_PROGRAM_ID) ? TOKEN_2022_PROGRAM_ID : TOKEN_PROGRAM_ID;
      await assert.rejects(spl.getMint(connection, mint, "confirmed", other), spl.TokenInvalidAccountOwnerError);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
