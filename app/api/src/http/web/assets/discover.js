// `/`: rooms live now first (with viewers and time since going live), then upcoming ones.
// Refreshes itself every few seconds from the discovery API.
import { api, el, shorten, since } from './common.js';

const REFRESH_MS = 3000;

const BADGE = { live: 'LIVE', interrupted: 'Interrupted', upcoming: 'Upcoming' };

function item(room, live) {
  const kind = !live ? 'upcoming' : room.broadcasting === false ? 'interrupted' : 'live';
  return el('li', { 'data-room': room.room, 'data-state': kind },
    el('a', { class: 'title', href: `/watch/${room.room}` }, room.title),
    el('span', { class: `badge ${kind === 'upcoming' ? 'waiting' : kind}` }, BADGE[kind]),
    el('span', { class: 'muted' }, 'host ', el('span', { class: 'host', title: room.host }, shorten(room.host))),
    live ? el('span', { class: 'viewers' }, `${room.liveViewers ?? '–'} watching`) : '',
    live && room.liveAt ? el('span', { class: 'muted since' }, `live for ${since(room.liveAt)}`) : '',
    room.tips?.count ? el('span', { class: 'tips', 'data-tips': room.tips.count }, tipsText(room.tips)) : '',
  );
}

/** `3 tips · 0.16 SOL` (tips.js shows the same on the watch page). */
function tipsText({ count, lamports }) {
  const sol = (lamports / 1e9).toFixed(9).replace(/\.?0+$/, '');
  return `${count} ${count === 1 ? 'tip' : 'tips'} · ${sol} SOL`;
}

function render(id, rooms, live) {
  document.getElementById(id).replaceChildren(...rooms.map((r) => item(r, live)));
  document.getElementById(`${id}-empty`).classList.toggle('hidden', rooms.length > 0);
}

async function refresh() {
  try {
    const [live, created] = await Promise.all([
      api('/api/rooms?status=live&limit=100'),
      api('/api/rooms?status=created&limit=100'),
    ]);
    // Live on-chain (an interrupted one says so), then rooms that have not gone live yet.
    const onAir = live.rooms;
    const upcoming = created.rooms;
    render('live', onAir, true);
    render('upcoming', upcoming, false);
    document.getElementById('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    document.getElementById('updated').textContent = `Could not load rooms: ${e.message}`;
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
