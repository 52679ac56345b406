// WebRTC in the pages: publish a camera (or screen) over WHIP from /host, and play a WebRTC
// broadcast over WHEP on /watch (RFC 9725: POST an SDP offer, 201 + answer + Location, DELETE
// the Location to end). Offers are sent once ICE gathering is over (no trickle), as Cloudflare's
// WHIP/WHEP endpoints expect.

/** Waits (at most 2 s) for the offer's candidates, then returns the local SDP. */
async function gathered(pc) {
  if (pc.iceGatheringState !== 'complete') {
    await new Promise((done) => {
      const t = setTimeout(done, 2000);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') { clearTimeout(t); done(); }
      });
    });
  }
  return pc.localDescription.sdp;
}

/** POSTs `pc`'s offer to `url`; applies the answer; returns the session's absolute Location. */
async function negotiate(pc, url) {
  await pc.setLocalDescription(await pc.createOffer());
  const offer = await gathered(pc);
  const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer });
  if (r.status !== 201) {
    let message = `${r.status}`;
    try { message = (await r.json()).errors?.[0]?.message ?? message; } catch { /* not JSON */ }
    const e = new Error(message);
    e.status = r.status;
    throw e;
  }
  const answer = await r.text();
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return new URL(r.headers.get('Location'), url).href;
}

function endSession(location) {
  if (location) fetch(location, { method: 'DELETE' }).catch(() => {});
}

/** H.264 constrained baseline first where the browser offers it, else VP8 (Cloudflare's codecs). */
function preferCodecs(transceiver) {
  const codecs = RTCRtpSender.getCapabilities?.('video')?.codecs ?? [];
  const baseline = codecs.filter((c) => c.mimeType === 'video/H264' && /profile-level-id=42e0/.test(c.sdpFmtpLine ?? ''));
  const vp8 = codecs.filter((c) => c.mimeType === 'video/VP8');
  const order = [...baseline, ...vp8];
  if (order.length && transceiver.setCodecPreferences) transceiver.setCodecPreferences(order);
}

/**
 * Publishes `stream` (camera + microphone, or a screen) to a WHIP URL. Resolves once the
 * endpoint took the offer; `onEnd(reason)` is called when the connection ends by itself.
 */
export async function publish(url, stream, onEnd = () => {}) {
  const pc = new RTCPeerConnection();
  for (const track of stream.getTracks()) {
    const t = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    if (track.kind === 'video') preferCodecs(t);
  }
  let location = null;
  let stopped = false;
  pc.addEventListener('connectionstatechange', () => {
    if (!stopped && ['failed', 'closed'].includes(pc.connectionState)) onEnd(pc.connectionState);
  });
  try {
    location = await negotiate(pc, url);
  } catch (e) {
    pc.close();
    throw e;
  }
  return {
    pc,
    stop() {
      stopped = true;
      endSession(location);
      pc.close();
    },
  };
}

/** Plays a WHEP URL in `video`; `play(url)` again with the same URL does nothing. */
export class WhepPlayer {
  constructor(video, onEnd = () => {}) {
    this.video = video; this.url = null; this.pc = null; this.location = null; this.onEnd = onEnd;
  }

  async play(url) {
    if (this.url === url) return;
    this.stop();
    this.url = url;
    const pc = new RTCPeerConnection();
    this.pc = pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream();
    pc.addEventListener('track', (e) => {
      stream.addTrack(e.track);
      this.video.srcObject = stream;
      this.video.play().catch(() => {});
    });
    pc.addEventListener('connectionstatechange', () => {
      if (this.pc === pc && ['failed', 'closed', 'disconnected'].includes(pc.connectionState)) {
        const url = this.url;
        this.stop();
        this.onEnd(url);
      }
    });
    try {
      const location = await negotiate(pc, url);
      if (this.pc === pc) this.location = location;
      else endSession(location);
    } catch (e) {
      if (this.pc === pc) { this.stop(); this.onEnd(url, e); }
    }
  }

  stop() {
    endSession(this.location);
    this.pc?.close();
    this.pc = null; this.url = null; this.location = null;
    // Only when this player owns the element: assigning `srcObject`, even null, reloads the
    // element and so cut the HLS player sharing it (hls.js) at every room event.
    if (this.video.srcObject) this.video.srcObject = null;
  }
}
