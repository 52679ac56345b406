// Tips on `/watch/{room}` (issue 22): the room's tip total and the latest tips, live, for everyone
// watching (from the room's Server-Sent Events: `room` events carry `tips {count, lamports}`, each
// new tip comes as a `tip` event; common.js's `followRoom` re-dispatches both on `window` as
// `roomcast:room` / `roomcast:tip`), and a Tip button: choose an amount, pick a Wallet Standard
// wallet (or, against the embedded local node only, a local test wallet), sign the transaction the
// server's tip Solana Action builds, send it, see "thank you" once the server has counted it.
// `#tips[data-state]` says where a tip is: idle, signing, sent, thanked, failed.
import { api, el, shorten } from './common.js';
import { connect, getWallets, signAndSend, solanaWallets } from './wallet.js';

const LAMPORTS_PER_SOL = 1_000_000_000;
const PRESETS = ['0.01', '0.05', '0.1'];
/** How long the thank-you waits for the server to count the landed tip. */
const COUNTED_BOUND_MS = 30_000;

const id = (() => {
  try { return decodeURIComponent(location.pathname.replace(/^\/watch\//, '').replace(/\/$/, '')); } catch { return null; }
})();
const state = { info: null, room: null, wallet: null, account: null, amount: PRESETS[0], ended: false };

export function sol(lamports) {
  const text = (Number(lamports) / LAMPORTS_PER_SOL).toFixed(9);
  return text.replace(/\.?0+$/, '');
}

function $(x) { return document.getElementById(x); }

function say(text, kind = 'idle') {
  $('tips').dataset.state = kind;
  $('tip-state').textContent = text;
}

function total(tips) {
  if (!tips) return;
  $('tip-total').dataset.count = tips.count;
  $('tip-total').dataset.lamports = tips.lamports;
  $('tip-total').textContent = tips.count === 0 ? 'No tips yet'
    : `${tips.count} ${tips.count === 1 ? 'tip' : 'tips'} · ${sol(tips.lamports)} SOL`;
}

function tipped(tip) {
  const item = el('li', { 'data-signature': tip.signature },
    el('span', { class: 'from', title: tip.from }, shorten(tip.from)), ` tipped ${sol(tip.lamports)} SOL`);
  $('tip-feed').prepend(item);
  while ($('tip-feed').children.length > 5) $('tip-feed').lastElementChild.remove();
}

function chainId() {
  const rpc = state.info.rpcUrl || '';
  if (state.info.embedded.chain) return 'solana:localnet';
  if (rpc.includes('devnet')) return 'solana:devnet';
  if (rpc.includes('testnet')) return 'solana:testnet';
  return 'solana:mainnet';
}

function renderWallets() {
  const wallets = solanaWallets();
  $('tip-wallets').replaceChildren(...wallets.map((w) => el('button', {
    class: 'wallet primary', 'data-tip-wallet': w.name, type: 'button',
    onclick: (e) => pay(e.currentTarget, w),
  }, `Tip with ${w.name}`)));
  $('tip-local').classList.toggle('hidden', !(state.info?.embedded.chain));
  $('tip-no-wallet').classList.toggle('hidden', wallets.length > 0 || !!state.info?.embedded.chain);
}

function amount() {
  const custom = $('tip-amount').value.trim();
  return custom || state.amount;
}

async function pay(button, wallet) {
  const buttons = [...$('tips').querySelectorAll('button')];
  buttons.forEach((b) => { b.disabled = true; });
  try {
    if (state.wallet !== wallet) {
      state.account = await connect(wallet);
      state.wallet = wallet;
    }
    $('tip-thanks').textContent = '';
    const amountSol = amount();
    say(`Building a ${amountSol} SOL tip…`, 'signing');
    const action = `/api/actions/tip?room=${encodeURIComponent(state.room)}&amount=${encodeURIComponent(amountSol)}`;
    const answer = await api(action, { method: 'POST', body: { account: state.account.address } });
    say(`Sign the ${amountSol} SOL tip in ${wallet.name}…`, 'signing');
    const signature = await signAndSend(wallet, state.account, answer.transaction, state.info.rpcUrl, chainId());
    $('tips').dataset.signature = signature;
    say(`Sent (${shorten(signature)}); waiting for the chain…`, 'sent');
    const done = await counted(answer.links.next.href, signature);
    say(done.description, 'thanked');
    $('tip-thanks').textContent = done.title;
  } catch (e) {
    say(`Tip failed: ${e.message}`, 'failed');
  } finally {
    buttons.forEach((b) => { b.disabled = state.ended; });
  }
}

/** Posts the signature to the Action's `links.next` until the server has counted the tip. */
async function counted(href, signature) {
  const deadline = Date.now() + COUNTED_BOUND_MS;
  for (;;) {
    try {
      return await api(href, { method: 'POST', body: { account: state.account.address, signature } });
    } catch (e) {
      if (e.status !== 404 || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

function mount() {
  const presets = PRESETS.map((a) => el('button', {
    type: 'button', class: a === state.amount ? 'amount chosen' : 'amount', 'data-amount': a,
    onclick: (e) => {
      state.amount = a;
      $('tip-amount').value = '';
      $('tips').querySelectorAll('.amount').forEach((b) => b.classList.toggle('chosen', b === e.currentTarget));
    },
  }, `${a} SOL`));
  const section = el('section', { id: 'tips', class: 'tips', 'data-state': 'idle', 'aria-label': 'Tips' },
    el('h2', {}, 'Tip the host'),
    el('p', { id: 'tip-total', class: 'tip-total', role: 'status', 'aria-live': 'polite' }, '…'),
    el('div', { class: 'tip-amounts' }, ...presets,
      el('label', {}, 'or ', el('input', { id: 'tip-amount', type: 'number', min: '0.001', max: '100', step: '0.001',
        placeholder: 'SOL', inputmode: 'decimal', 'aria-label': 'Tip amount in SOL' }))),
    el('div', { id: 'tip-wallets', class: 'tip-wallets' }),
    el('button', { id: 'tip-local', type: 'button', class: 'hidden' }, 'Tip with a local test wallet'),
    el('p', { id: 'tip-no-wallet', class: 'muted hidden' }, 'Install a Solana wallet (Phantom, Solflare, Backpack…) to tip.'),
    el('p', { id: 'tip-thanks', class: 'tip-thanks' }),
    el('p', { id: 'tip-state', class: 'muted' }),
    el('ul', { id: 'tip-feed', class: 'tip-feed' }));
  document.querySelector('main').append(section);
  $('tip-local').addEventListener('click', async (e) => {
    const button = e.currentTarget;
    button.disabled = true;
    try {
      say('Making a local test wallet and funding it from the local faucet…', 'signing');
      const { createLocalWallet } = await import('./local_wallet.js');
      const wallet = await createLocalWallet(state.info);
      renderWallets();
      await pay(button, wallet);
    } catch (err) {
      say(`Tip failed: ${err.message}`, 'failed');
      button.disabled = false;
    }
  });
}

async function start() {
  if (id === null) return;
  mount();
  window.addEventListener('roomcast:room', (e) => {
    state.room = e.detail.room;
    total(e.detail.tips);
    if (e.detail.status === 'ended') {
      state.ended = true;
      $('tips').querySelectorAll('button').forEach((b) => { b.disabled = true; });
      say('This room has ended.');
    }
  });
  window.addEventListener('roomcast:tip', (e) => tipped(e.detail));
  const wallets = getWallets();
  wallets.on('register', renderWallets);
  wallets.on('unregister', renderWallets);
  try {
    const [info, room] = await Promise.all([api('/api/info'), api(`/api/rooms/${encodeURIComponent(id)}`)]);
    state.info = info;
    state.room ??= room.room;
    total(room.tips);
    renderWallets();
  } catch {
    $('tips').classList.add('hidden');
  }
}

start();
