"""Cross-replica propagation, for scripts/bench-replicas.sh: per room, a change made on replica A
(a create it answered; a `connected` webhook it accepted; an end it answered), then A (the
baseline) and B polled until each shows it: the create in `GET /api/rooms?host=` (each room has its
own host), the others in `GET /api/livestream`. Prints `listed`, `live` and `ended` lines: A's p50
p99, B's p50 p99, in ms.
Usage: propagation.py A B DELIVERY OPERATOR_KEY WEBHOOK_SECRET ROOMS"""
import datetime
import json
import os
import sys
import time
import urllib.error
import urllib.request

a, b, delivery, key, secret = sys.argv[1:6]
rooms = int(sys.argv[6])
operator = {"authorization": f"Bearer {key}"}


def call(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def until(base, sid, seen):
    """Seconds from now until `base`'s livestream answer satisfies `seen` (30 s at most)."""
    start = time.perf_counter()
    while time.perf_counter() - start < 30:
        if seen(*call("GET", f"{base}/api/livestream?sessionId={sid}")):
            return time.perf_counter() - start
    sys.exit(f"bench: {base} never showed the change of {sid}")


def b58(raw):
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    n, s = int.from_bytes(raw, "big"), ""
    while n:
        n, r = divmod(n, 58)
        s = alphabet[r] + s
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + s


def lists(address):
    return lambda status, body: status == 200 and any(r.get("room") == address for r in body["rooms"])


def broadcasting(status, body):
    return status == 200 and body.get("broadcasting") is True


def gone(status, _):
    return status == 410


times = {what: {"a": [], "b": []} for what in ("listed", "live", "ended")}
for i in range(rooms):
    host = b58(os.urandom(32))
    order = (("a", a), ("b", b)) if i % 2 else (("b", b), ("a", a))
    status, room = call("POST", f"{a}/api/create", {"title": f"Propagation {i}", "host": host},
                        operator)
    assert status == 201, status
    answered = time.perf_counter()
    sid, address = room["SessionID"], room["room"]
    # From the create's answer until each replica lists the room (B's index hears of it from
    # its own chain watcher): both polled in turn, each timed from the answer.
    seen = {}
    while len(seen) < 2:
        if time.perf_counter() - answered > 30:
            sys.exit(f"bench: {address} never listed on {[n for n, _ in order if n not in seen]}")
        for name, base in order:
            if name not in seen and lists(address)(*call("GET", f"{base}/api/rooms?host={host}")):
                seen[name] = time.perf_counter() - answered
    for name in ("a", "b"):
        times["listed"][name].append(seen[name])
    for base in (a, b):  # both replicas have the room cached before the change
        call("GET", f"{base}/api/livestream?sessionId={sid}")
    # Really connected at the emulator (the API confirms a webhook), notified on A only.
    assert call("POST", f"{delivery}/__emulator/inputs/{sid}/connect")[0] == 200
    now = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    hook = {"name": "Stream Live Input", "data": {"notification_name": "Stream Live Input",
            "input_id": sid, "event_type": "live_input.connected", "updated_at": now}}
    status, _ = call("POST", f"{a}/api/webhooks/cloudflare", hook, {"cf-webhook-auth": secret})
    assert status == 200, status
    for name, base in order:
        times["live"][name].append(until(base, sid, broadcasting))
    assert call("POST", f"{a}/api/rooms/{address}/end", None, operator)[0] == 200
    for name, base in order:
        times["ended"][name].append(until(base, sid, gone))


def quantile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(len(v) * q + 0.999999) - 1))] * 1000


for what, by in times.items():
    print(what, *(f"{quantile(by[n], q):.2f}" for n in ("a", "b") for q in (0.5, 0.99)))
