"""An independent WHIP publisher / WHEP player (aiortc), for the emulator's WebRTC tests.

    client.py publish WHIP_URL [--seconds N] [--codec H264|VP8]
    client.py play WHEP_URL [--seconds N] [--stamp]
    client.py offer - [--no-video]     (prints an SDP offer and exits: never connects)

Prints one JSON object per line on stdout: {"event": "created", "location": ..., "status": 201},
{"event": "refused", "status": 401, "body": ...}, {"event": "connected"}, and for `play`
{"event": "frames", "video": n, "audio": n, "width": w, "height": h} once a second and at the end.
A publish sends generated video (a moving bar, 640x360, 30 fps) and a 440 Hz tone. It ends after
--seconds (DELETE of its Location) or when stdin closes, or when the peer ends the session.
"""
import argparse
import asyncio
import fractions
import json
import math
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import av
import numpy
from aiortc import (RTCPeerConnection, RTCRtpSender, RTCSessionDescription,
                    MediaStreamTrack)
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack


def say(**kv):
    print(json.dumps(kv), flush=True)


STAMP_BITS, STAMP_BLOCK = 40, 16  # the wall clock in ms (mod 2^40), as 40 black/white 16x16 blocks
STAMP_MOD = 1 << STAMP_BITS


def draw_stamp(img, ms):
    for i in range(STAMP_BITS):
        on = (ms >> (STAMP_BITS - 1 - i)) & 1
        x = i * STAMP_BLOCK
        img[320:320 + STAMP_BLOCK, x:x + STAMP_BLOCK] = 255 if on else 0


def read_stamp(frame):
    gray = frame.to_ndarray(format="gray")
    h, w = gray.shape
    if (h, w) != (360, 640):
        return None
    ms = 0
    for i in range(STAMP_BITS):
        v = gray[320 + STAMP_BLOCK // 2, i * STAMP_BLOCK + STAMP_BLOCK // 2]
        ms = (ms << 1) | (1 if v > 128 else 0)
    return ms


class Bars(VideoStreamTrack):
    """640x360 frames with a bar moving across: something a decoder must really decode. With
    `stamp`, the wall clock at capture is drawn in, for glass-to-glass latency at a viewer."""

    stamp = False

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        img = numpy.zeros((360, 640, 3), numpy.uint8)
        x = (pts // 3000) % 640
        img[:, max(0, x - 20):x + 20] = (255, 255, 255)
        img[:40, :] = (0, (pts // 900) % 255, 128)
        if self.stamp:
            draw_stamp(img, int(time.time() * 1000) % STAMP_MOD)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class Tone(AudioStreamTrack):
    async def recv(self):
        frame = await super().recv()
        n = frame.samples
        t0 = frame.pts / 48000
        samples = (numpy.sin(2 * math.pi * 440 * (t0 + numpy.arange(n) / 48000)) * 3000).astype(numpy.int16)
        out = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        out.pts, out.sample_rate, out.time_base = frame.pts, 48000, fractions.Fraction(1, 48000)
        return out


def http(method, url, body=None):
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/sdp")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


async def exchange(pc, url):
    await pc.setLocalDescription(await pc.createOffer())
    status, headers, body = await asyncio.to_thread(
        http, "POST", url, pc.localDescription.sdp.encode())
    if status != 201:
        say(event="refused", status=status, body=body)
        return None
    location = urllib.parse.urljoin(url, headers.get("Location", ""))
    say(event="created", status=status, location=location)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    return location


async def until_done(pc, seconds, report=None):
    done = asyncio.Event()
    by_peer = []

    @pc.on("connectionstatechange")
    def _():
        if pc.connectionState == "connected":
            say(event="connected")
        if pc.connectionState in ("failed", "closed", "disconnected"):
            say(event="state", state=pc.connectionState)
            by_peer.append(True)
            done.set()

    loop = asyncio.get_running_loop()
    loop.add_reader(sys.stdin, lambda: done.set() if not sys.stdin.readline() else None)
    end = time.monotonic() + seconds
    while not done.is_set() and time.monotonic() < end:
        try:
            await asyncio.wait_for(done.wait(), 1.0)
        except asyncio.TimeoutError:
            pass
        if report:
            report()
    loop.remove_reader(sys.stdin)
    return bool(by_peer)


async def publish(url, seconds, codec, stamp=False):
    pc = RTCPeerConnection()
    bars = Bars()
    bars.stamp = stamp
    video = pc.addTransceiver(bars, direction="sendonly")
    pc.addTransceiver(Tone(), direction="sendonly")
    prefs = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.name == codec]
    video.setCodecPreferences(prefs)
    location = await exchange(pc, url)
    if location is None:
        await pc.close()
        return 2
    ended_by_peer = await until_done(pc, seconds)
    if not ended_by_peer:
        status, _, _ = await asyncio.to_thread(http, "DELETE", location)
        say(event="deleted", status=status)
    await pc.close()
    return 0


async def play(url, seconds, stamp=False):
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    counts = {"video": 0, "audio": 0, "width": 0, "height": 0}
    latencies = []

    async def consume(track: MediaStreamTrack):
        while True:
            try:
                frame = await track.recv()
            except Exception:
                return
            counts[track.kind] += 1
            if track.kind == "video":
                counts["width"], counts["height"] = frame.width, frame.height
                if stamp and counts["video"] % 5 == 0:
                    sent = read_stamp(frame)
                    if sent is not None:
                        lag = (int(time.time() * 1000) - sent) % STAMP_MOD
                        if lag < 60000:
                            latencies.append(lag)

    @pc.on("track")
    def on_track(track):
        asyncio.ensure_future(consume(track))

    location = await exchange(pc, url)
    if location is None:
        await pc.close()
        return 2
    ended_by_peer = await until_done(pc, seconds, lambda: say(event="frames", **counts))
    say(event="frames", **counts)
    if stamp:
        lat = sorted(latencies)
        pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else None
        say(event="latency", samples=len(lat), p50=pick(0.5), p95=pick(0.95))
    if not ended_by_peer:
        status, _, _ = await asyncio.to_thread(http, "DELETE", location)
        say(event="deleted", status=status)
    await pc.close()
    return 0


async def offer_only(video):
    """Prints an offer (never answered: a publisher that goes away before connecting)."""
    pc = RTCPeerConnection()
    if video:
        pc.addTransceiver(Bars(), direction="sendonly")
    pc.addTransceiver(Tone(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    print(pc.localDescription.sdp, end="", flush=True)
    await pc.close()
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["publish", "play", "offer"])
    p.add_argument("url")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--codec", default="H264", choices=["H264", "VP8"])
    p.add_argument("--no-video", action="store_true", help="offer: audio only")
    p.add_argument("--stamp", action="store_true",
                   help="publish: draw the wall clock into frames; play: report glass-to-glass latency")
    a = p.parse_args()
    if a.mode == "offer":
        rc = asyncio.run(offer_only(not a.no_video))
    elif a.mode == "publish":
        rc = asyncio.run(publish(a.url, a.seconds, a.codec, a.stamp))
    else:
        rc = asyncio.run(play(a.url, a.seconds, a.stamp))
    sys.exit(rc)


if __name__ == "__main__":
    main()
