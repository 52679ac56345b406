// Token-gated rooms on `/watch/{room}`: says what a viewer must hold, connects a wallet (Wallet
// Standard, or the local test wallet with the embedded local node), signs in once (SIWS → session
// token in page memory), asks `POST /api/rooms/{room}/playback` for signed URLs and hands them to
// the page; renews them before they expire without interrupting playback (hls.js requests are
// rewritten to the newest token, so the player never reloads); when a renewal is refused (the
// wallet no longer holds enough), playback stops with the server's message.
// `body[data-gate]`: `locked`, `signing`, `granted`, `refused`; `body[data-grants]` counts grants.
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
 * A gated room's `livePlayback` (its public read `view` has none): the granted WHEP URL for a
 * broadcast published over WebRTC (WHIP, which plays only so), else the granted HLS; null when
 * nothing is live or nothing was granted.
 */
export function signedLivePlayback(view, granted) {
  if (!view.gate || !granted || view.broadcast?.state !== 'live') return null;
  if (view.broadcast.protocol !== 'webrtc' || !granted.webrtc) return { protocol: 'hls', url: granted.hls };
  // The newest (renewed) token: a WHEP session is admitted once, when its offer is posted.
  const old = tokenOf(granted.webrtc);
  return { protocol: 'webrtc', url: old && currentToken ? granted.webrtc.replace(old, currentToken) : granted.webrtc };
}

/**
 * Shows the gate of room `id` (`gate` from the public read) in `panel` and, once the viewer's
 * wallet is granted, calls `onPlayback({hls, dash, iframe, webrtc})`; `onRefused(message)` when a grant or
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
    el('p', { id: 'gate-message', class: 'notice', role: 'status', 'aria-live': 'polite' }, ''),
  );
  panel.classList.remove('hidden');
  let renewTimer = null;
  let session = null;

  async function grant() {
    const answer = await api(`/api/rooms/${encodeURIComponent(id)}/playback`, { method: 'POST', token: session });
    currentToken = tokenOf(answer.playback.hls);
    document.body.dataset.gate = 'granted';
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
    onRefused(message);
  }

  async function useWallet(wallet) {
    document.body.dataset.gate = 'signing';
    say(`Signing in with ${wallet.name}…`);
    const account = await connect(wallet);
    const input = await api('/api/auth/nonce');
    const signed = await signIn(wallet, account, input);
    session = (await api('/api/auth/sign-in', { method: 'POST', body: signed })).token;
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

  function renderWallets() {
    const wallets = solanaWallets();
    panel.querySelector('#gate-wallets').replaceChildren(...wallets.map((w) => el('button', {
      class: 'wallet', 'data-wallet': w.name,
      onclick: async (e) => {
        e.currentTarget.disabled = true;
        try { await useWallet(w); } catch (err) { document.body.dataset.gate = 'locked'; say(err.message, true); }
        finally { e.currentTarget.disabled = false; }
      },
    }, w.icon ? el('img', { src: w.icon, alt: '', width: 20, height: 20 }) : '', ` Connect ${w.name}`)));
    if (!wallets.length) say('Connect a Solana wallet (Phantom, Solflare, Backpack…) that holds the token.');
  }
  getWallets().on('register', renderWallets);
  getWallets().on('unregister', renderWallets);
  renderWallets();
}
