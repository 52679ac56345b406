#!/usr/bin/env python3
"""Puts N rooms of a registry straight into a stopped local node's ledger (the `--state` snapshot
a `roomcast serve --data-dir` keeps as ledger.json), the way the program would have stored them:
Anchor discriminator, borsh fields, rent-exempt lamports. Addresses are random (not PDAs): the
rooms are listed and watched by address. Used by scripts/bench-discovery.sh.

With INPUTS (the Stream emulator's `stream-inputs.json` of the same data dir, holding at least one
live input made through the API), the rooms viewers and the first listing pages read — the sample
and the newest rooms not ended — get live inputs too (copies of the first, under the rooms'
session ids), so their `lifecycle` and `views` answer as they would for real rooms.

usage: seed_rooms.py LEDGER PROGRAM_ID REGISTRY PAYER COUNT [INPUTS]  → prints one room address
per line of a sample (the first 200) on stdout."""
import base64, hashlib, json, os, random, struct, sys

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(s):
    n = 0
    for c in s:
        n = n * 58 + ALPHABET.index(c)
    raw = n.to_bytes(32, "big")
    return raw


def b58encode(b):
    n = int.from_bytes(b, "big")
    s = ""
    while n:
        n, r = divmod(n, 58)
        s = ALPHABET[r] + s
    pad = len(b) - len(b.lstrip(b"\0"))
    return "1" * pad + s


def rent_exempt(length):
    # Solana's default rent: 3480 lamports per byte-year, 2 years exempt, 128 bytes of overhead.
    return (128 + length) * 3480 * 2


def main():
    ledger, program, registry, payer, count = sys.argv[1:6]
    inputs_file = sys.argv[6] if len(sys.argv) > 6 else None
    count = int(count)
    disc = hashlib.sha256(b"account:Room").digest()[:8]
    registry_b, payer_b = b58decode(registry), b58decode(payer)
    hosts = [os.urandom(32) for _ in range(20)]
    url = b"rtmps://live.cloudflare.com:443/live/"
    state = json.load(open(ledger))
    rng = random.Random(20)
    sample = []
    with_input = []  # session ids (hex) of rooms that get a live input
    base = 1_700_000_000
    for i in range(count):
        # 70 % created, 10 % live, 20 % ended.
        roll = rng.random()
        status = 0 if roll < 0.7 else (1 if roll < 0.8 else 2)
        created = base + i
        title = f"Seeded room {i}".encode()
        body = disc + registry_b + hosts[i % len(hosts)] + payer_b
        session = os.urandom(16)
        body += bytes([status, 255]) + session
        body += struct.pack("<qq", created, created)
        body += (b"\x01" + struct.pack("<q", created + 10)) if status >= 1 else b"\x00"
        body += (b"\x01" + struct.pack("<q", created + 20)) if status == 2 else b"\x00"
        body += struct.pack("<I", len(url)) + url + struct.pack("<I", len(title)) + title
        # Allocated like the program does: both timestamps at their full 9 bytes.
        space = 8 + 32 * 3 + 1 + 1 + 16 + 8 + 8 + 9 + 9 + 4 + len(url) + 4 + len(title)
        body += b"\x00" * (space - len(body))
        address = b58encode(os.urandom(32))
        state["accounts"].append({
            "address": address,
            "lamports": rent_exempt(len(body)),
            "owner": program,
            "executable": False,
            "rentEpoch": 0,
            "data": base64.b64encode(body).decode(),
        })
        if status != 2 and len(sample) < 200:
            sample.append(address)
            with_input.append(session.hex())
        elif status != 2 and i >= count - 300:
            with_input.append(session.hex())
    tmp = ledger + ".seed"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, ledger)
    if inputs_file:
        add_inputs(inputs_file, with_input)
    print(b58encode(hosts[0]))
    for a in sample:
        print(a)


def add_inputs(path, sessions):
    """Copies of the file's first live input, one per session id (uid and stream key replaced)."""
    saved = json.load(open(path))
    if not saved:
        sys.exit(f"{path} has no live input to copy")
    template = json.dumps(saved[0])
    uid, key = saved[0]["input"]["uid"], saved[0]["input"]["rtmps"]["streamKey"]
    for session in sessions:
        copy = template.replace(uid, session).replace(key, os.urandom(16).hex())
        saved.append(json.loads(copy))
    tmp = path + ".seed"
    with open(tmp, "w") as f:
        json.dump(saved, f)
    os.replace(tmp, path)


main()
