// `/watch/{room}`: plays a room and tells the viewer what is going on — waiting for the host,
// live, interrupted, ended (within a second or two of the host ending it, without a reload) or
// no such room. State comes from the room's Server-Sent Events; `body[data-state]` mirrors it.
import { api, followRoom, Player, shorten, STATE_TEXT, viewerState } from './common.js';
import { WhepPlayer } from './webrtc.js';
import { mountGate, signedLivePlayback } from './gate.js';

// A path that is not valid percent-encoding (`/watch/%E0`) names no room: `null`, shown as such.
const id = (() => {
  try {
    return decodeURIComponent(location.pathname.replace(/^\/watch\//, '').replace(/\/$/, ''));
  } catch {
    return null;
  }
})();
const player = new Player(document.getElementById('player'));
let playback = null;
// A WebRTC (WHIP) broadcast plays only over WHEP, an RTMP/SRT one only over HLS (Cloudflare's
// rule): the room's `livePlayback` says which, asked again whenever the broadcast (re)starts,
// and while on HLS at each room event (the host may switch to the browser).
const whep = new WhepPlayer(document.getElementById('player'), () => {
  if (document.body.dataset.state === 'live') setTimeout(choosePlayback, 1500);
});
async function choosePlayback() {
  let live = null;
  try {
    const view = await api(`/api/rooms/${encodeURIComponent(id)}`);
    live = view.livePlayback ?? signedLivePlayback(view, playback);
  } catch { /* keep HLS */ }
  if (document.body.dataset.state !== 'live') return;
  const webrtc = live?.protocol === 'webrtc';
  if (!webrtc && !playback) return;
  if (webrtc) { player.stop(); whep.play(live.url); } else { whep.stop(); player.play(playback.hls); }
  document.body.dataset.playback = webrtc ? 'webrtc' : 'hls';
  document.getElementById('latency').textContent = webrtc ? 'Low latency (WebRTC)' : '';
}

function show(state, extra = '') {
  if (state !== 'live') document.body.dataset.playback = '';
  document.body.dataset.state = state;
  const badge = document.getElementById('badge');
  badge.className = `badge ${state}`;
  badge.textContent = { waiting: 'Waiting', live: 'LIVE', interrupted: 'Interrupted', ended: 'Ended', missing: 'Not found' }[state];
  document.getElementById('state').textContent = STATE_TEXT[state] + extra;
  const was = document.body.dataset.playback;
  // A gated room plays once the viewer's wallet was granted signed URLs (gate.js).
  if (state === 'live' && playback) {
    if (!was || was === 'hls') choosePlayback();
  } else {
    player.stop(); whep.stop();
    document.body.dataset.playback = '';
    document.getElementById('latency').textContent = '';
  }
}

function room(event) {
  document.getElementById('title').textContent = event.title;
  document.title = `${event.title} — roomcast`;
  const host = document.getElementById('host');
  host.textContent = shorten(event.host);
  host.title = event.host;
  document.getElementById('viewers').textContent =
    event.liveViewers == null ? '' : `${event.liveViewers} watching`;
  show(viewerState(event), event.status === 'ended' ? '.' : '');
}

async function start() {
  if (id === null) {
    document.getElementById('title').textContent = 'No such room';
    show('missing', '.');
    return;
  }
  try {
    const info = await api(`/api/rooms/${encodeURIComponent(id)}`);
    playback = info.playback ?? null;
    if (info.gate) {
      mountGate(document.getElementById('gate'), id, info.gate, {
        onPlayback(signed) {
          playback = signed;
          // WHEP for a WHIP broadcast, HLS otherwise (as an ungated room's `livePlayback`).
          if (document.body.dataset.state === 'live') choosePlayback();
        },
        onRefused() { playback = null; player.stop(); whep.stop(); },
      });
    }
    room({ ...info, liveViewers: null });
    followRoom(id, room);
  } catch (e) {
    document.getElementById('title').textContent = e.status === 410 ? 'Ended' : 'No such room';
    if (e.status === 410) show('ended', '.');
    else show('missing', e.status === 404 || e.status === 400 ? '.' : `: ${e.message}`);
  }
}

start();
