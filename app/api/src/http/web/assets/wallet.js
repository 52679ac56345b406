// Solana wallets through the Wallet Standard: the app side of the registration handshake
// (`wallet-standard:app-ready` / `wallet-standard:register-wallet`, as Phantom, Solflare and
// Backpack use), plus the few features roomcast needs: connect, sign in, sign a transaction.
// No library: the protocol is a pair of window events.

const registered = new Set();
const listeners = { register: new Set(), unregister: new Set() };

function register(...wallets) {
  const fresh = wallets.filter((w) => !registered.has(w));
  fresh.forEach((w) => registered.add(w));
  if (fresh.length) listeners.register.forEach((l) => { try { l(...fresh); } catch (e) { console.error(e); } });
  return () => {
    fresh.forEach((w) => registered.delete(w));
    listeners.unregister.forEach((l) => { try { l(...fresh); } catch (e) { console.error(e); } });
  };
}

const appApi = Object.freeze({ register });

// Wallets that load after the app announce themselves with this event…
window.addEventListener('wallet-standard:register-wallet', (e) => {
  try { e.detail(appApi); } catch (err) { console.error(err); }
});
// …and wallets already loaded listen for this one.
try {
  window.dispatchEvent(new CustomEvent('wallet-standard:app-ready', { detail: appApi }));
} catch (err) { console.error(err); }

/** `{get(), on('register'|'unregister', listener) -> off}` like `@wallet-standard/app`. */
export function getWallets() {
  return Object.freeze({
    get: () => [...registered],
    on(event, listener) { listeners[event].add(listener); return () => listeners[event].delete(listener); },
    register,
  });
}

/** Wallets that can connect and speak Solana. */
export function solanaWallets() {
  return [...registered].filter((w) => w.features?.['standard:connect']
    && w.chains?.some((c) => c.startsWith('solana:')));
}

export async function connect(wallet) {
  const { accounts } = await wallet.features['standard:connect'].connect();
  if (!accounts?.length) throw new Error(`${wallet.name} shared no account`);
  return accounts[0];
}

/** The SIWS text for an input (used when a wallet has `signMessage` but not `signIn`). */
export function signInText(input, address) {
  return `${input.domain} wants you to sign in with your Solana account:\n${address}\n\n${input.statement}\n\n`
    + `URI: ${input.uri}\nVersion: ${input.version}\nNonce: ${input.nonce}\n`
    + `Issued At: ${input.issuedAt}\nExpiration Time: ${input.expirationTime}`;
}

/** Signs the server's sign-in input: `{address, signedMessage (base64), signature (base58)}`. */
export async function signIn(wallet, account, input) {
  const feature = wallet.features['solana:signIn'];
  if (feature) {
    const [out] = await feature.signIn({ ...input, address: account.address });
    return { address: out.account.address, signedMessage: b64(out.signedMessage), signature: b58(out.signature) };
  }
  const signer = wallet.features['solana:signMessage'];
  if (!signer) throw new Error(`${wallet.name} can neither sign in nor sign messages`);
  const message = new TextEncoder().encode(signInText(input, account.address));
  const [out] = await signer.signMessage({ account, message });
  return { address: account.address, signedMessage: b64(out.signedMessage), signature: b58(out.signature) };
}

/**
 * Has the wallet sign a base64 wire transaction and sends it to `rpcUrl` (the cluster the server
 * names). Wallets that can only sign-and-send do so on `chain`. Returns the base58 signature.
 */
export async function signAndSend(wallet, account, transactionBase64, rpcUrl, chain) {
  const transaction = unb64(transactionBase64);
  // No public RPC URL (the server's own carries credentials): the wallet sends it on `chain`.
  const signer = rpcUrl ? wallet.features['solana:signTransaction'] : null;
  if (signer) {
    const [{ signedTransaction }] = await signer.signTransaction({ account, transaction, chain });
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'sendTransaction',
        params: [b64(signedTransaction), { encoding: 'base64', preflightCommitment: 'confirmed' }] }),
    });
    const answer = await res.json();
    if (answer.error) throw new Error(`the cluster refused the transaction: ${answer.error.message}`);
    return answer.result;
  }
  const sender = wallet.features['solana:signAndSendTransaction'];
  if (!sender) throw new Error(`${wallet.name} cannot sign transactions`);
  const [{ signature }] = await sender.signAndSendTransaction({ account, transaction, chain });
  return b58(signature);
}

export function b64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function unb64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function b58(bytes) {
  const digits = [];
  for (const byte of bytes) {
    let carry = byte;
    for (let i = 0; i < digits.length; i++) {
      carry += digits[i] * 256;
      digits[i] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry > 0) { digits.push(carry % 58); carry = Math.floor(carry / 58); }
  }
  let out = '';
  for (const byte of bytes) { if (byte !== 0) break; out += '1'; }
  for (let i = digits.length - 1; i >= 0; i--) out += ALPHABET[digits[i]];
  return out;
}
