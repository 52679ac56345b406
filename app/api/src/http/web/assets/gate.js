// Token-gated rooms on `/watch/{room}`: says what a viewer must hold, connects a wallet (Wallet
// Standard, or the local test wallet with the embedded local node), signs in once (SIWS → session
// token in page memory), asks `POST /api/rooms/{room}/playback` for signed URLs and hands them to
// the page; renews them before they expire without interrupting playback (hls.js requests are
// rewritten to the newest token, so the player never reloads); when a renewal is refused (the
// wallet no longer holds enough), playback stops with the server's message.
// `body[data-gate]`: `locked`, `signing`, `granted`, `refused`; `body[data-grants]` counts grants.
// Against the embedded local node, "Use a local test wallet" (local_wallet.js, as on `/host` and
// the tip button) makes a throwaway wallet in the page; the signed-in wallet's whole address is
// shown (`#gate-account`) so tokens can be sent to it, and after a refusal "Check again" asks
// for a grant with the same session (no new signature).
import { api, el, shorten } from './common.js';
import { connect, getWallets, signIn, solanaWallets } from './wallet.js';

/** The token in a delivery URL (`…/<token>/manifest/video.m3u8`), or null. */
function tokenOf(url) {
  const segment = new URL(url, location.href).pathname.split('/')[1] || '';
  return segment.split('.').length === 3 ? segment : null;
}

let currentToken = null;
// Every hls.js request carries the newest token in place of whatever token its URL was made with.
function installRewrite() {
  const Hls = window.Hls;
  if (!Hls || Hls.__roomcastGate) return;
  Hls.__roomcastGate = true;
  const base = Hls.DefaultConfig;
  Hls.DefaultConfig = {
    ...base,
    xhrSetup(xhr, url) {
      const old = tokenOf(url);
      xhr.open('GET', old && currentToken ? url.replace(old, currentToken) : url, true);
    },
  };
}

/** Whole tokens for people: `2`, `1.5`, `0.000005`. */
export function uiAmount(raw, decimals) {
  const digits = String(raw).padStart(decimals + 1, '0');
  if (!decimals) return digits;
  const whole = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole;
}

/**
 * Shows the gate of room `id` (`gate` from the public read) in `panel` and, once the viewer's
 * wallet is granted, calls `onPlayback({hls, dash, iframe})`; `onRefused(message)` when a grant or
 * a renewal is refused.
 */
export function mountGate(panel, id, gate, { onPlayback, onRefused }) {
  installRewrite();
  document.body.dataset.gate = 'locked';
  const need = `${uiAmount(gate.minAmount, gate.decimals)} of ${gate.mint}`;
  const say = (text, isError = false) => {
    const m = panel.querySelector('#gate-message');
    m.textContent = text;
    m.dataset.error = isError ? 'true' : 'false';
  };
  panel.replaceChildren(
    el('p', { id: 'gate-need' }, `This room is for holders: hold at least ${need} to watch.`),
    el('div', { id: 'gate-wallets', class: 'wallets' }),
    el('button', { id: 'gate-local', type: 'button', class: 'hidden' }, 'Use a local test wallet'),
    el('p', { id: 'gate-account', class: 'muted hidden' }),
    el('p', { id: 'gate-message', class: 'notice', role: 'status', 'aria-live': 'polite' }, ''),
    el('button', { id: 'gate-retry', type: 'button', class: 'hidden' }, 'Check again'),
  );
  panel.classList.remove('hidden');
  let renewTimer = null;
  let session = null;
  let info = null;

  async function grant() {
    const answer = await api(`/api/rooms/${encodeURIComponent(id)}/playback`, { method: 'POST', token: session });
    currentToken = tokenOf(answer.playback.hls);
    document.body.dataset.gate = 'granted';
    panel.querySelector('#gate-retry').classList.add('hidden');
    document.body.dataset.grants = String(Number(document.body.dataset.grants || 0) + 1);
    const left = answer.expiresAt - Date.now() / 1000;
    // Renew with a margin: at two thirds of the lifetime, and at least 20 s before the end.
    const inMs = Math.max(5, Math.min(left * 2 / 3, left - 20)) * 1000;
    clearTimeout(renewTimer);
    renewTimer = setTimeout(renew, inMs);
    return answer;
  }

  async function renew() {
    try {
      await grant();
    } catch (e) {
      if (e.status === 403 || e.status === 410) {
        refuse(e.message);
      } else {
        // A transient failure: try again shortly, the current token still plays.
        renewTimer = setTimeout(renew, 5000);
      }
    }
  }

  function refuse(message) {
    clearTimeout(renewTimer);
    currentToken = null;
    document.body.dataset.gate = 'refused';
    say(message, true);
    panel.querySelector('#gate-retry').classList.toggle('hidden', !session);
    onRefused(message);
  }

  /** A grant for the signed-in wallet, handed to the page; a 403 is shown as the refusal. */
  async function play(account) {
    try {
      const answer = await grant();
      say(answer.held == null
        ? `Signed in as ${shorten(account.address)}.`
        : `Signed in as ${shorten(account.address)}: you hold ${uiAmount(answer.held, gate.decimals)}.`);
      onPlayback(answer.playback);
    } catch (e) {
      if (e.status === 403) refuse(e.message);
      else throw e;
    }
  }

  async function useWallet(wallet) {
    document.body.dataset.gate = 'signing';
    say(`Signing in with ${wallet.name}…`);
    const account = await connect(wallet);
    const input = await api('/api/auth/nonce');
    const signed = await signIn(wallet, account, input);
    session = (await api('/api/auth/sign-in', { method: 'POST', body: signed })).token;
    const shown = panel.querySelector('#gate-account');
    shown.textContent = `Your wallet: ${account.address}`;
    shown.dataset.address = account.address;
    shown.classList.remove('hidden');
    const retry = panel.querySelector('#gate-retry');
    retry.onclick = () => {
      retry.disabled = true;
      say('Checking your holdings again…');
      play(account).catch((err) => say(err.message, true)).finally(() => { retry.disabled = false; });
    };
    await play(account);
  }

  function renderWallets() {
    const wallets = solanaWallets();
    panel.querySelector('#gate-wallets').replaceChildren(...wallets.map((w) => el('button', {
      class: 'wallet', 'data-wallet': w.name,
      onclick: async (e) => {
        // currentTarget is null once the handler awaits: keep the button.
        const button = e.currentTarget;
        button.disabled = true;
        try { await useWallet(w); } catch (err) { document.body.dataset.gate = 'locked'; say(err.message, true); }
        finally { button.disabled = false; }
      },
    }, w.icon ? el('img', { src: w.icon, alt: '', width: 20, height: 20 }) : '', ` Connect ${w.name}`)));
    if (!wallets.length) {
      say('Connect a Solana wallet (Phantom, Solflare, Backpack…) that holds the token.'
        + (info?.embedded?.chain ? ' Or use a local test wallet.' : ''));
    }
  }
  getWallets().on('register', renderWallets);
  getWallets().on('unregister', renderWallets);
  renderWallets();

  // The local test wallet, offered only when the server's chain is its embedded local node (the
  // server serves local_wallet.js only then).
  api('/api/info').then((i) => {
    info = i;
    if (!info.embedded?.chain) return;
    panel.querySelector('#gate-local').classList.remove('hidden');
    renderWallets();
  }).catch(() => {});
  panel.querySelector('#gate-local').addEventListener('click', async (e) => {
    const button = e.currentTarget;
    button.disabled = true;
    try {
      document.body.dataset.gate = 'signing';
      say('Making a local test wallet and funding it from the local faucet…');
      const { createLocalWallet } = await import('./local_wallet.js');
      const wallet = await createLocalWallet(info);
      button.classList.add('hidden');
      await useWallet(wallet);
    } catch (err) {
      document.body.dataset.gate = 'locked';
      say(err.message, true);
      button.disabled = false;
    }
  });
}
