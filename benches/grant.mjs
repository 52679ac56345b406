// Playback grants of a gated room vs a public room read, same server, same run (not a test).
// Usage: node benches/grant.mjs <api url> <room> <audience> <viewer secret hex> <grants> <viewers list>
// Signs each grant as the viewer wallet (roomcast-auth-v2, ed25519 in Node's crypto) and prints a
// Markdown table: sequential latency of a public read (baseline) and of a grant, their ratio, chain
// RPC calls per grant (the server's /metrics), and grants/s with N concurrent renewing viewers.
import crypto from 'node:crypto';

const [url, room, audience, secretHex, grantsArg, viewersArg] = process.argv.slice(2);
const GRANTS = Number(grantsArg);
const VIEWERS = viewersArg.split(',').map(Number);
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function b58(bytes) {
  let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
  let out = '';
  while (n > 0n) { out = ALPHABET[Number(n % 58n)] + out; n /= 58n; }
  for (const b of bytes) { if (b === 0) out = '1' + out; else break; }
  return out;
}
// A PKCS#8 wrapper around the 32-byte ed25519 seed.
const seed = Buffer.from(secretHex, 'hex').subarray(0, 32);
const key = crypto.createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
  format: 'der', type: 'pkcs8',
});
const pub = crypto.createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(12);
const wallet = b58(pub);
let tick = 0;
async function grant() {
  const path = `/api/rooms/${room}/playback`;
  const ts = Math.floor(Date.now() / 1000);
  const bodyHash = crypto.createHash('sha256').update('').digest('hex');
  // Identical signed bytes are a replay (refused): each grant names itself in the query.
  const pathQ = `${path}?n=${tick++}`;
  const message = `roomcast-auth-v2\n${audience}\nPOST\n${pathQ}\n${ts}\n${bodyHash}`;
  const signature = b58(crypto.sign(null, Buffer.from(message), key));
  const r = await fetch(url + pathQ, {
    method: 'POST',
    headers: { 'x-roomcast-wallet': wallet, 'x-roomcast-timestamp': String(ts), 'x-roomcast-signature': signature },
  });
  if (r.status !== 200) throw new Error(`grant: HTTP ${r.status} ${await r.text()}`);
  await r.json();
}
async function read() {
  const r = await fetch(`${url}/api/rooms/${room}`);
  if (r.status !== 200) throw new Error(`read: HTTP ${r.status}`);
  await r.json();
}
async function rpcCalls() {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('roomcast_upstream_requests_total') && l.includes('solana_rpc'))
    .reduce((s, l) => s + Number(l.trim().split(' ').pop()), 0);
}
async function timed(n, f) {
  const ms = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await f(); ms.push(performance.now() - t); }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(n / 2)], mean: ms.reduce((a, b) => a + b, 0) / n };
}
await read(); await grant();
const base = await timed(GRANTS, read);
const before = await rpcCalls();
const g = await timed(GRANTS, grant);
const calls = (await rpcCalls()) - before;
console.log('| what | p50 ms | mean ms |');
console.log('|---|---|---|');
console.log(`| GET /api/rooms/{room} (baseline) | ${base.p50.toFixed(2)} | ${base.mean.toFixed(2)} |`);
console.log(`| POST /api/rooms/{room}/playback (holder) | ${g.p50.toFixed(2)} | ${g.mean.toFixed(2)} |`);
console.log();
console.log(`- ratio grant / read (p50): **${(g.p50 / base.p50).toFixed(2)}**`);
console.log(`- Solana RPC calls per grant: **${(calls / GRANTS).toFixed(2)}** (${calls} for ${GRANTS})`);
console.log();
console.log('| concurrent viewers renewing | grants/s | ms per grant (mean) |');
console.log('|---|---|---|');
for (const v of VIEWERS) {
  const t = performance.now();
  await Promise.all(Array.from({ length: v }, async () => { for (let i = 0; i < Math.max(1, Math.floor(GRANTS / v)); i++) await grant(); }));
  const total = v * Math.max(1, Math.floor(GRANTS / v));
  const s = (performance.now() - t) / 1000;
  console.log(`| ${v} | ${(total / s).toFixed(1)} | ${((s * 1000) / total).toFixed(2)} |`);
}
