// `/host`: connect a Wallet Standard wallet (or, against the embedded local node only, a local test
// wallet: local_wallet.js), sign in once (SIWS → session token kept in memory
// only), create rooms, see ingest details (secrets masked until revealed), watch the live state,
// rename, rotate the key, end the room through the API or on-chain with the wallet (Solana Action).
import { api, el, followRoom, Player, shorten, STATE_TEXT, viewerState } from './common.js';
import { publish as whipPublish } from './webrtc.js';
import { connect, getWallets, signAndSend, signIn, solanaWallets } from './wallet.js';

const $ = (id) => document.getElementById(id);
const session = { wallet: null, account: null, token: null, info: null };
/** Publish credentials seen in this page (create/rotate answers), by room address. Memory only. */
const credentials = new Map();
let current = null; // { room, title, playback }
let browserLive = null; // publishing from this page: { session, stream, room }
let unfollow = () => {};
const preview = new Player($('preview'));

function say(text, isError = false) {
  const m = $('message');
  m.textContent = text;
  m.classList.toggle('hidden', !text);
  m.dataset.error = isError ? 'true' : 'false';
}

async function busy(button, work) {
  button.disabled = true;
  try { await work(); } catch (e) { say(e.message, true); } finally { button.disabled = false; }
}

function chainId() {
  const rpc = session.info.rpcUrl || '';
  if (session.info.embedded.chain) return 'solana:localnet';
  if (rpc.includes('devnet')) return 'solana:devnet';
  if (rpc.includes('testnet')) return 'solana:testnet';
  return 'solana:mainnet';
}

// 1. Wallets, discovered through the Wallet Standard.
function renderWallets() {
  const wallets = solanaWallets();
  $('no-wallet').textContent = wallets.length ? '' : 'No Solana wallet found: install Phantom, Solflare, Backpack or another Wallet Standard wallet.'
    + (session.info?.embedded.chain ? ' Or use a local test wallet.' : '');
  $('wallets').replaceChildren(...wallets.map((w) => el('button', {
    class: 'wallet', 'data-wallet': w.name,
    onclick: (e) => busy(e.currentTarget, () => useWallet(w)),
  }, el('img', { src: w.icon, alt: '', width: 20, height: 20 }), ` Connect ${w.name}`)));
}
getWallets().on('register', renderWallets);
getWallets().on('unregister', renderWallets);
renderWallets();

// The local test wallet, offered only when the server's chain is its embedded local node (the
// server serves local_wallet.js only then). It registers through the Wallet Standard like any
// other wallet, so everything below treats it as one.
api('/api/info').then((info) => {
  session.info = info;
  document.body.dataset.chain = info.embedded.chain ? 'embedded' : 'cluster';
  if (!info.embedded.chain) return;
  renderWallets();
  $('local-wallet-offer').classList.remove('hidden');
  $('local-wallet').addEventListener('click', (e) => busy(e.currentTarget, async () => {
    say('Making a local test wallet and funding it from the local faucet…');
    const { createLocalWallet } = await import('./local_wallet.js');
    const wallet = await createLocalWallet(info);
    await useWallet(wallet);
    $('local-wallet-offer').classList.add('hidden');
    say('Local test wallet funded from the local faucet. Its key lives in this page only: sign in to go on.');
  }));
}).catch((e) => say(e.message, true));

let stopWalletEvents = () => {};

/** Back to square one (another wallet, or the wallet switched accounts): sign in again. */
function signOut(text) {
  unfollow();
  preview.stop();
  credentials.clear();
  current = null;
  session.token = null;
  $('rooms-panel').classList.add('hidden');
  $('room-panel').classList.add('hidden');
  $('sign-in').classList.toggle('hidden', !session.account);
  document.body.dataset.step = session.account ? 'sign-in' : 'connect';
  say(text);
}

async function useWallet(wallet) {
  const account = await connect(wallet);
  stopWalletEvents();
  const events = wallet.features['standard:events'];
  stopWalletEvents = events ? events.on('change', ({ accounts }) => {
    if (!accounts) return;
    const next = accounts[0];
    if (next?.address === session.account?.address) return;
    session.account = next ?? null;
    $('account-address').textContent = next?.address ?? '';
    $('account').classList.toggle('hidden', !next);
    signOut(next ? 'Your wallet switched accounts: sign in again.' : 'Your wallet disconnected.');
  }) : () => {};
  if (session.token) signOut('');
  session.wallet = wallet;
  session.account = account;
  session.token = null;
  $('account-address').textContent = account.address;
  $('account').classList.remove('hidden');
  $('sign-in').classList.remove('hidden');
  document.body.dataset.step = 'sign-in';
  say('');
}

// 2. Sign in once.
$('sign-in').addEventListener('click', (e) => busy(e.currentTarget, async () => {
  const input = await api('/api/auth/nonce');
  const signed = await signIn(session.wallet, session.account, input);
  const s = await api('/api/auth/sign-in', { method: 'POST', body: signed });
  session.token = s.token;
  session.info = await api('/api/info');
  $('sign-in').classList.add('hidden');
  $('rooms-panel').classList.remove('hidden');
  document.body.dataset.step = 'rooms';
  say(`Signed in as ${shorten(s.wallet)}.`);
  await loadRooms();
}));

async function loadRooms() {
  const list = await api(`/api/rooms?host=${session.account.address}&limit=100`);
  $('my-rooms').replaceChildren(...list.rooms.map((r) => el('li', { 'data-room': r.room },
    el('span', { class: 'title' }, r.title),
    el('span', { class: `badge ${r.status === 'live' ? 'live' : r.status === 'ended' ? 'ended' : 'waiting'}` }, r.status),
    r.status === 'ended' ? '' : el('button', { onclick: () => openRoom(r) }, 'Manage'),
  )));
  $('my-rooms-empty').classList.toggle('hidden', list.rooms.length > 0);
}

// 3. Create.
$('create-form').addEventListener('submit', (e) => {
  e.preventDefault();
  busy($('create'), async () => {
    const body = { title: $('create-title').value };
    // A gated room: only holders of the mint may watch (the server checks the mint on the cluster).
    const mint = $('gate-mint').value.trim();
    if (mint) body.gate = { mint, minAmount: Number($('gate-min').value || 1) };
    const created = await api('/api/create', { method: 'POST', token: session.token, body });
    credentials.set(created.room, created.ingest);
    $('create-title').value = '';
    say(`Room “${created.title}” created.`);
    openRoom(created);
    await loadRooms();
  });
});

// 4. One room: ingest details, live state, preview, actions.
function mask(id, on) {
  const ingest = credentials.get(current.room);
  const value = { 'stream-key': ingest.rtmps.streamKey, 'srt-url': srtUrl(ingest), 'whip-url': ingest.webrtc?.url ?? '' }[id];
  $(id).textContent = on ? '••••••••••••' : value;
  $(id).dataset.masked = on ? 'true' : 'false';
}

function srtUrl(ingest) {
  if (!ingest.srt) return '';
  return `${ingest.srt.url}?streamid=${ingest.srt.streamId}&passphrase=${ingest.srt.passphrase}`;
}

function showIngest() {
  const ingest = credentials.get(current.room);
  $('browser-live').classList.toggle('hidden', !ingest?.webrtc?.url && !browserLive);
  $('ingest').classList.toggle('hidden', !ingest);
  $('no-key').classList.toggle('hidden', !!ingest);
  if (!ingest) return;
  $('rtmps-url').textContent = ingest.rtmps.url;
  for (const [id, button] of [['stream-key', 'reveal-key'], ['srt-url', 'reveal-srt'], ['whip-url', 'reveal-whip']]) {
    mask(id, true);
    $(button).textContent = 'Reveal';
    $(button).setAttribute('aria-pressed', 'false');
  }
}

for (const [id, button] of [['stream-key', 'reveal-key'], ['srt-url', 'reveal-srt'], ['whip-url', 'reveal-whip']]) {
  $(button).addEventListener('click', () => {
    const reveal = $(id).dataset.masked === 'true';
    mask(id, !reveal);
    $(button).textContent = reveal ? 'Hide' : 'Reveal';
    $(button).setAttribute('aria-pressed', String(reveal));
  });
}

document.querySelectorAll('[data-copy]').forEach((b) => b.addEventListener('click', async () => {
  const ingest = credentials.get(current.room);
  const text = { rtmps: ingest.rtmps.url, key: ingest.rtmps.streamKey, srt: srtUrl(ingest), whip: ingest.webrtc?.url ?? '' }[b.dataset.copy];
  try {
    await navigator.clipboard.writeText(text);
    say('Copied.');
  } catch {
    say('Copying was not allowed; reveal the value and copy it by hand.', true);
  }
}));

function openRoom(room) {
  unfollow();
  if (browserLive && browserLive.room !== room.room) stopBrowserLive();
  current = { room: room.room, title: room.title, playback: room.playback };
  $('room-panel').classList.remove('hidden');
  $('room-title').textContent = room.title;
  $('rename-title').value = room.title;
  $('watch-link').href = `/watch/${room.room}`;
  showIngest();
  unfollow = followRoom(room.room, onRoomEvent);
  $('room-panel').scrollIntoView?.({ block: 'start' });
}

const HOST_TEXT = {
  waiting: 'Waiting for your encoder to connect',
  live: 'You are live',
  interrupted: 'Your encoder disconnected — reconnect to continue',
  ended: STATE_TEXT.ended,
};

function onRoomEvent(event) {
  if (!current || event.room !== current.room) return;
  const state = viewerState(event);
  $('room-panel').dataset.state = state;
  $('room-title').textContent = event.title;
  $('room-badge').className = `badge ${state}`;
  $('room-badge').textContent = { waiting: 'Waiting', live: 'LIVE', interrupted: 'Interrupted', ended: 'Ended' }[state];
  $('room-state').textContent = HOST_TEXT[state];
  $('room-viewers').textContent = event.liveViewers == null ? '' : `${event.liveViewers} watching`;
  const ended = state === 'ended';
  for (const id of ['rotate', 'end-api', 'end-chain', 'rename']) $(id).disabled = ended;
  // A browser broadcast is not on HLS (Cloudflare's rule): the camera preview shows it.
  if (state === 'live' && !browserLive) preview.play(current.playback.hls);
  else preview.stop();
  if (ended) stopBrowserLive('The room has ended.');
  if (ended) { credentials.delete(current.room); showIngest(); loadRooms().catch(() => {}); }
}

$('rename-form').addEventListener('submit', (e) => {
  e.preventDefault();
  busy($('rename'), async () => {
    const r = await api(`/api/rooms/${current.room}`, { method: 'PATCH', token: session.token, body: { title: $('rename-title').value } });
    say(`Renamed to “${r.title}”.`);
    await loadRooms();
  });
});

$('rotate').addEventListener('click', (e) => busy(e.currentTarget, async () => {
  const r = await api(`/api/rooms/${current.room}/rotate-key`, { method: 'POST', token: session.token });
  credentials.set(current.room, r.ingest);
  showIngest();
  say('New stream key: the old one no longer works.');
}));

$('end-api').addEventListener('click', (e) => busy(e.currentTarget, async () => {
  await api(`/api/rooms/${current.room}/end`, { method: 'POST', token: session.token });
  say('Room ended.');
}));

// The wallet itself signs `end_room` (built by the server's Solana Action) and sends it.
$('end-chain').addEventListener('click', (e) => busy(e.currentTarget, async () => {
  const action = `/api/actions/end-room?room=${current.room}`;
  const { transaction } = await api(action, { method: 'POST', body: { account: session.account.address } });
  const signature = await signAndSend(session.wallet, session.account, transaction, session.info.rpcUrl, chainId());
  $('room-panel').dataset.endSignature = signature;
  say(`Sent end_room from your wallet (${shorten(signature)}); waiting for the chain…`);
}));

// 5. Going live from this browser: camera + microphone (or a screen) published over WHIP.

function browserLiveUi(text) {
  const on = !!browserLive;
  $('go-live-camera').classList.toggle('hidden', on);
  $('go-live-screen').classList.toggle('hidden', on);
  $('stop-browser').classList.toggle('hidden', !on);
  $('camera').classList.toggle('hidden', !on);
  $('preview').classList.toggle('hidden', on);
  $('browser-live').dataset.state = on ? 'publishing' : '';
  $('browser-live-state').textContent = text;
}

function stopBrowserLive(text = 'Stopped.') {
  if (!browserLive) return;
  const { session, stream } = browserLive;
  browserLive = null;
  session?.stop();
  stream.getTracks().forEach((t) => t.stop());
  $('camera').srcObject = null;
  browserLiveUi(text);
}

async function goLive(screen) {
  const url = credentials.get(current.room)?.webrtc?.url;
  if (!url || browserLive) return;
  let stream;
  try {
    stream = screen
      ? await navigator.mediaDevices.getDisplayMedia({ video: true, audio: true })
      : await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: true });
  } catch (e) {
    say(`No ${screen ? 'screen' : 'camera or microphone'}: ${e.message}`, true);
    return;
  }
  browserLive = { session: null, stream, room: current.room };
  $('camera').srcObject = stream;
  browserLiveUi('Connecting…');
  try {
    const session = await whipPublish(url, stream, () => stopBrowserLive('The connection ended.'));
    if (!browserLive || browserLive.stream !== stream) { session.stop(); return; }
    browserLive.session = session;
    browserLiveUi('Publishing from this browser (WebRTC)');
  } catch (e) {
    stopBrowserLive('');
    say(e.status === 401 ? 'This WHIP URL no longer works: rotate the key to get a new one.'
      : `Could not go live: ${e.message}`, true);
  }
}

$('go-live-camera').addEventListener('click', () => goLive(false));
$('go-live-screen').addEventListener('click', () => goLive(true));
$('stop-browser').addEventListener('click', () => stopBrowserLive());
window.addEventListener('pagehide', () => stopBrowserLive());
