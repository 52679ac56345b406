// "Use a local test wallet": for `roomcast serve` with its embedded local node only (the server
// serves this file only then, and `createLocalWallet` checks `/api/info` says so again). A
// throwaway ed25519 keypair made with WebCrypto in this page's memory (not extractable, never
// stored, never sent anywhere: only its public key and signatures leave the page), funded with the
// cluster's standard `requestAirdrop`, and registered as a Wallet Standard wallet so the console
// uses it exactly like Phantom or Solflare: connect, Sign-In With Solana, sign a transaction.
import { b58 } from './wallet.js';

export const NAME = 'Local test wallet';
/** What the faucet gives: an end_room fee is 5,000 lamports, so this lasts a long time. */
export const AIRDROP_LAMPORTS = 1_000_000_000;
const CHAIN = 'solana:localnet';
/** How long the funds may take to show (a local node lands them at once). */
const FUNDING_BOUND_MS = 30_000;
const ICON = 'data:image/svg+xml;base64,'
  + btoa('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#f5a623"/><path d="M4 8h8M8 4v8" stroke="#222" stroke-width="2"/></svg>');

async function rpc(url, method, params) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const answer = await res.json();
  if (answer.error) throw new Error(`the local node refused ${method}: ${answer.error.message}`);
  return answer.result;
}

/** The SIWS message (the Sign-In With Solana ABNF, as wallets build it from the input). */
function signInText(i) {
  let text = `${i.domain} wants you to sign in with your Solana account:\n${i.address}`;
  if (i.statement) text += `\n\n${i.statement}`;
  const fields = [];
  if (i.uri) fields.push(`URI: ${i.uri}`);
  if (i.version) fields.push(`Version: ${i.version}`);
  if (i.chainId) fields.push(`Chain ID: ${i.chainId}`);
  if (i.nonce) fields.push(`Nonce: ${i.nonce}`);
  if (i.issuedAt) fields.push(`Issued At: ${i.issuedAt}`);
  if (i.expirationTime) fields.push(`Expiration Time: ${i.expirationTime}`);
  if (i.notBefore) fields.push(`Not Before: ${i.notBefore}`);
  if (i.requestId) fields.push(`Request ID: ${i.requestId}`);
  if (i.resources) fields.push('Resources:', ...i.resources.map((r) => `- ${r}`));
  if (fields.length) text += `\n\n${fields.join('\n')}`;
  return text;
}

/** A compact-u16 at `at`: [value, size]. */
function shortvec(bytes, at) {
  let value = 0;
  for (let size = 0; size < 3; size++) {
    const b = bytes[at + size];
    if (b === undefined) break;
    value |= (b & 0x7f) << (7 * size);
    if (!(b & 0x80)) return [value, size + 1];
  }
  throw new Error('not a Solana transaction');
}

/**
 * Makes, funds and registers the wallet; returns it (a Wallet Standard `Wallet`). Refuses unless
 * the server's chain is its embedded local node.
 */
export async function createLocalWallet(info) {
  if (!info?.embedded?.chain || !info.rpcUrl) {
    throw new Error('The local test wallet exists only for a server running its own local node.');
  }
  if (!crypto.subtle) throw new Error('This page is not a secure context (open it on 127.0.0.1 or localhost).');
  let keys;
  try {
    keys = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  } catch {
    throw new Error('This browser cannot make ed25519 keys (WebCrypto Ed25519).');
  }
  const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', keys.publicKey));
  const address = b58(publicKey);
  const sign = async (bytes) => new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, keys.privateKey, bytes));

  // Funded by the local node's faucet, as `solana airdrop` would.
  await rpc(info.rpcUrl, 'requestAirdrop', [address, AIRDROP_LAMPORTS, { commitment: 'confirmed' }]);
  const deadline = Date.now() + FUNDING_BOUND_MS;
  for (;;) {
    const { value } = await rpc(info.rpcUrl, 'getBalance', [address, { commitment: 'confirmed' }]);
    if (value >= AIRDROP_LAMPORTS) break;
    if (Date.now() > deadline) throw new Error('The local faucet\'s airdrop did not arrive.');
    await new Promise((r) => setTimeout(r, 250));
  }

  const features = ['solana:signIn', 'solana:signMessage', 'solana:signTransaction'];
  const account = Object.freeze({ address, publicKey, chains: [CHAIN], features });
  let connected = false;
  const listeners = new Set();
  const tell = () => listeners.forEach((l) => l({ accounts: connected ? [account] : [] }));
  const mine = (a) => {
    if (a && a.address !== address) throw new Error(`${NAME} has no account ${a.address}`);
  };

  const wallet = Object.freeze({
    version: '1.0.0',
    name: NAME,
    icon: ICON,
    chains: [CHAIN],
    get accounts() { return connected ? [account] : []; },
    features: Object.freeze({
      'standard:connect': { version: '1.0.0', connect: async () => { connected = true; tell(); return { accounts: [account] }; } },
      'standard:disconnect': { version: '1.0.0', disconnect: async () => { connected = false; tell(); } },
      'standard:events': { version: '1.0.0', on: (event, listener) => {
        if (event !== 'change') return () => {};
        listeners.add(listener);
        return () => listeners.delete(listener);
      } },
      'solana:signIn': { version: '1.0.0', signIn: async (...inputs) => Promise.all(inputs.map(async (input) => {
        if (input.address && input.address !== address) throw new Error(`${NAME} has no account ${input.address}`);
        const signedMessage = new TextEncoder().encode(signInText({ ...input, domain: input.domain ?? location.host, address }));
        return { account, signedMessage, signature: await sign(signedMessage), signatureType: 'ed25519' };
      })) },
      'solana:signMessage': { version: '1.0.0', signMessage: async (...inputs) => Promise.all(inputs.map(async ({ account: a, message }) => {
        mine(a);
        return { signedMessage: message, signature: await sign(message) };
      })) },
      'solana:signTransaction': { version: '1.0.0', supportedTransactionVersions: ['legacy', 0],
        signTransaction: async (...inputs) => Promise.all(inputs.map(async ({ account: a, transaction, chain }) => {
          mine(a);
          if (chain && chain !== CHAIN) throw new Error(`${NAME} signs for ${CHAIN} only, not ${chain}`);
          const tx = new Uint8Array(transaction);
          const [count, countSize] = shortvec(tx, 0);
          const message = tx.slice(countSize + 64 * count);
          // Legacy: the header first; v0: a 0x80 version prefix, then the header.
          const headerAt = message[0] & 0x80 ? 1 : 0;
          const signers = Math.min(message[headerAt], count);
          const [, keysSize] = shortvec(message, headerAt + 3);
          const keysAt = headerAt + 3 + keysSize;
          let slot = -1;
          for (let i = 0; i < signers; i++) {
            const key = message.slice(keysAt + 32 * i, keysAt + 32 * (i + 1));
            if (key.every((b, j) => b === publicKey[j])) slot = i;
          }
          if (slot < 0) throw new Error(`${NAME} is not a signer of this transaction`);
          tx.set(await sign(message), countSize + 64 * slot);
          return { signedTransaction: tx };
        })) },
    }),
  });

  // The Wallet Standard handshake, wallet side (`registerWallet` of @wallet-standard/wallet):
  // the app's `wallet-standard:register-wallet` listener takes it like any injected wallet.
  const callback = ({ register }) => register(wallet);
  window.dispatchEvent(new CustomEvent('wallet-standard:register-wallet', { detail: callback }));
  window.addEventListener('wallet-standard:app-ready', ({ detail }) => callback(detail));
  return wallet;
}
