// A Wallet Standard wallet for browser tests, installed before the page loads (as an extension
// injects itself). It registers through the standard events, and signs with the test's ed25519
// keypair through WebCrypto. The test replaces __SEED_HEX__ and __ADDRESS__.
(() => {
  const SEED_HEX = '__SEED_HEX__';
  const ADDRESS = '__ADDRESS__';
  const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  const unhex = (h) => Uint8Array.from(h.match(/../g), (b) => parseInt(b, 16));
  const fromB58 = (s) => {
    const bytes = [];
    for (const c of s) {
      let carry = ALPHABET.indexOf(c);
      for (let i = 0; i < bytes.length; i++) { carry += bytes[i] * 58; bytes[i] = carry & 255; carry >>= 8; }
      while (carry) { bytes.push(carry & 255); carry >>= 8; }
    }
    for (const c of s) { if (c !== '1') break; bytes.push(0); }
    return Uint8Array.from(bytes.reverse());
  };
  const publicKey = fromB58(ADDRESS);
  // PKCS#8 wrapping of a raw ed25519 seed.
  const keyPromise = crypto.subtle.importKey('pkcs8',
    unhex('302e020100300506032b657004220420' + SEED_HEX), { name: 'Ed25519' }, false, ['sign']);
  const sign = async (bytes) => new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, await keyPromise, bytes));

  const calls = (window.__testWallet = { signIn: 0, signMessage: 0, signTransaction: 0, connect: 0 });
  const features = ['solana:signIn', 'solana:signMessage', 'solana:signTransaction'];
  const chains = ['solana:localnet', 'solana:devnet'];
  const account = Object.freeze({ address: ADDRESS, publicKey, chains, features });
  let connected = false;
  const listeners = new Set();

  const signInText = (i) => {
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
  };

  // Reads a compact-u16.
  const shortvec = (bytes, at) => {
    let value = 0, size = 0;
    for (;;) {
      const b = bytes[at + size];
      value |= (b & 0x7f) << (7 * size);
      size += 1;
      if (!(b & 0x80)) return [value, size];
    }
  };

  const wallet = {
    version: '1.0.0',
    name: 'Test Wallet',
    icon: 'data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAxIDEiPjxyZWN0IHdpZHRoPSIxIiBoZWlnaHQ9IjEiIGZpbGw9IiM4YWI0ZmYiLz48L3N2Zz4=',
    chains,
    get accounts() { return connected ? [account] : []; },
    features: {
      'standard:connect': { version: '1.0.0', connect: async () => {
        calls.connect += 1;
        connected = true;
        listeners.forEach((l) => l({ accounts: [account] }));
        return { accounts: [account] };
      } },
      'standard:disconnect': { version: '1.0.0', disconnect: async () => { connected = false; } },
      'standard:events': { version: '1.0.0', on: (event, listener) => {
        if (event !== 'change') return () => {};
        listeners.add(listener);
        return () => listeners.delete(listener);
      } },
      'solana:signIn': { version: '1.0.0', signIn: async (...inputs) => Promise.all(inputs.map(async (input) => {
        calls.signIn += 1;
        const signedMessage = new TextEncoder().encode(signInText({ ...input, domain: input.domain ?? location.host, address: ADDRESS }));
        return { account, signedMessage, signature: await sign(signedMessage), signatureType: 'ed25519' };
      })) },
      'solana:signMessage': { version: '1.0.0', signMessage: async (...inputs) => Promise.all(inputs.map(async ({ message }) => {
        calls.signMessage += 1;
        return { signedMessage: message, signature: await sign(message) };
      })) },
      'solana:signTransaction': { version: '1.0.0', supportedTransactionVersions: ['legacy', 0],
        signTransaction: async (...inputs) => Promise.all(inputs.map(async ({ transaction }) => {
          calls.signTransaction += 1;
          const tx = new Uint8Array(transaction);
          const [count, countSize] = shortvec(tx, 0);
          const messageAt = countSize + 64 * count;
          const message = tx.slice(messageAt);
          // Legacy: header first; v0: a 0x80 version prefix, then the header.
          const headerAt = message[0] & 0x80 ? 1 : 0;
          const signers = message[headerAt];
          const [, keysSize] = shortvec(message, headerAt + 3);
          const keysAt = headerAt + 3 + keysSize;
          let slot = -1;
          for (let i = 0; i < signers; i++) {
            const key = message.slice(keysAt + 32 * i, keysAt + 32 * (i + 1));
            if (key.every((b, j) => b === publicKey[j])) slot = i;
          }
          if (slot < 0) throw new Error('Test Wallet is not a signer of this transaction');
          tx.set(await sign(message), countSize + 64 * slot);
          return { signedTransaction: tx };
        })) },
    },
  };

  // For tests that call the wallet from the page's console, as an app would.
  window.__testWalletObject = wallet;
  // Simulates the user disconnecting the wallet from its own UI.
  window.__testWalletDisconnect = () => {
    connected = false;
    listeners.forEach((l) => l({ accounts: [] }));
  };

  // The Wallet Standard handshake, wallet side (`registerWallet` of @wallet-standard/wallet).
  const callback = ({ register }) => register(wallet);
  try {
    window.dispatchEvent(new CustomEvent('wallet-standard:register-wallet', { detail: callback }));
  } catch (e) { console.error(e); }
  window.addEventListener('wallet-standard:app-ready', ({ detail }) => callback(detail));
})();
