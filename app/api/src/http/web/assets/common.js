// Shared helpers of the roomcast pages: the JSON API, formatting, live room events.

/** Calls the JSON API; throws an Error carrying `status` and the API's `{error:{code,message}}`. */
export async function api(path, { method = 'GET', body, token } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    const err = new Error(json?.error?.message || json?.message || `HTTP ${res.status}`);
    err.status = res.status;
    err.code = json?.error?.code;
    throw err;
  }
  return json;
}

/** `AbCd…WxYz` for a long address; the full one goes in the element's title. */
export function shorten(address) {
  return address && address.length > 12 ? `${address.slice(0, 4)}…${address.slice(-4)}` : address;
}

/** "3 min", "1 h 5 min" since a unix time. */
export function since(unixSeconds) {
  const s = Math.max(0, Math.floor(Date.now() / 1000 - unixSeconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Element factory: el('a', {href, class}, 'text', child…). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) node.append(c instanceof Node ? c : String(c));
  return node;
}

/**
 * Follows a room's state over Server-Sent Events (`GET /api/rooms/{room}/events`): `onEvent` gets
 * each `room` event, the current state first. The browser reconnects by itself; the stream is
 * closed here once the room has ended. Returns a function that stops listening.
 */
export function followRoom(room, onEvent) {
  const source = new EventSource(`/api/rooms/${encodeURIComponent(room)}/events`);
  source.addEventListener('room', (e) => {
    const event = JSON.parse(e.data);
    if (event.status === 'ended') source.close();
    onEvent(event);
    window.dispatchEvent(new CustomEvent('roomcast:room', { detail: event }));
  });
  // Tips (tips.js): each one that lands, for whoever on the page shows them.
  source.addEventListener('tip', (e) => {
    window.dispatchEvent(new CustomEvent('roomcast:tip', { detail: JSON.parse(e.data) }));
  });
  return () => source.close();
}

/** The viewer-facing state of a room event. */
export function viewerState(event) {
  if (event.status === 'ended') return 'ended';
  if (event.broadcasting) return 'live';
  if (event.status === 'live') return 'interrupted';
  return 'waiting';
}

export const STATE_TEXT = {
  waiting: 'Waiting for the host to go live',
  live: 'Live',
  interrupted: 'Broadcast interrupted — waiting for the host to come back',
  ended: 'This room has ended',
  missing: 'No such room',
};

/**
 * An HLS player on `video`: hls.js where Media Source Extensions work (`Hls.isSupported()`),
 * native HLS elsewhere (Safari). Retries while the stream is starting up.
 */
export class Player {
  constructor(video) {
    this.video = video; this.hls = null; this.url = null; this.retry = null;
    // A live stream that stops advancing while shown (a stalled load, a missed start) is
    // started again.
    this.lastTime = -1; this.stalls = 0;
    setInterval(() => {
      // Not while hidden, nor when the viewer paused a playing stream.
      const userPaused = this.video.paused && this.video.readyState >= 2;
      if (!this.url || document.visibilityState !== 'visible' || userPaused) { this.stalls = 0; return; }
      const t = this.video.currentTime;
      this.stalls = t === this.lastTime ? this.stalls + 1 : 0;
      this.lastTime = t;
      if (this.stalls >= 4) {
        this.stalls = 0;
        const url = this.url;
        this.stop();
        this.play(url);
      }
    }, 2000);
  }

  play(url) {
    if (this.url === url) return;
    this.stop();
    this.url = url;
    const Hls = window.Hls;
    if (Hls && Hls.isSupported()) {
      const hls = new Hls({ liveSyncDurationCount: 2, manifestLoadingMaxRetry: 6 });
      this.hls = hls;
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (!data.fatal) return;
        // The stream may not be published yet: start again shortly.
        hls.destroy();
        if (this.hls === hls) {
          this.hls = null;
          const again = this.url;
          this.url = null;
          this.retry = setTimeout(() => this.play(again), 1500);
        }
      });
      hls.on(Hls.Events.MANIFEST_PARSED, () => { this.video.play().catch(() => {}); });
      hls.loadSource(url);
      hls.attachMedia(this.video);
    } else if (this.video.canPlayType('application/vnd.apple.mpegurl')) {
      this.video.src = url;
      this.video.play().catch(() => {});
    }
  }

  stop() {
    clearTimeout(this.retry);
    this.url = null;
    if (this.hls) { this.hls.destroy(); this.hls = null; }
    this.video.pause();
    this.video.removeAttribute('src');
    this.video.load();
  }
}
