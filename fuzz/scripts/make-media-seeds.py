#!/usr/bin/env python3
"""Writes media_session seeds (format: fuzz/src/media_session.rs) to fuzz/seeds/media_session/."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "seeds", "media_session")
RTCP = os.path.join(HERE, "..", "seeds", "rtcp")


def rec(kind, body, advance_ms=0):
    assert len(body) <= 255 and kind < 4
    return bytes([(advance_ms // 2) << 2 | kind, len(body)]) + body


def rtp(seq, payload, ts_step=8, flags=0, advance_ms=20):
    return rec(2, struct.pack(">HBB", seq & 0xFFFF, ts_step, flags) + payload, advance_ms)


def action(n, advance_ms=0):
    return rec(3, bytes([n]), advance_ms)


def talk(first_seq, count, payload=b"\xff" * 160, **kw):
    return b"".join(rtp(first_seq + i, payload, **kw) for i in range(count))


def dtmf(seq, event=5):
    out = b""
    for i, dur in enumerate([160, 320, 480, 640, 640, 640]):
        end = 0x80 if i >= 3 else 0
        payload = bytes([event, end | 10]) + struct.pack(">H", dur)
        out += rtp(seq + i, payload, ts_step=0 if i else 8, flags=2 | (1 if i == 0 else 0))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    sr = open(os.path.join(RTCP, "sr-sdes"), "rb").read()
    bye = open(os.path.join(RTCP, "sr-sdes-bye"), "rb").read()
    seeds = {
        "pcmu-talk": b"\x00" + action(0) + talk(100, 25),
        "pcma-reorder-loss": b"\x01" + talk(65530, 4, b"\xd5" * 160) + rtp(65535, b"\xd5" * 160)
        + rtp(2, b"\xd5" * 160) + rtp(1, b"\xd5" * 160) + rtp(0, b"\xd5" * 160) + talk(3, 10, b"\xd5" * 160),
        "pcmu-dtmf": b"\x00" + talk(10, 5) + dtmf(15) + talk(21, 5),
        "pcmu-rtcp-sr-bye": b"\x00" + talk(1, 5) + rec(1, sr, 100) + talk(6, 5) + rec(1, bye, 20),
        "pcmu-rtcp-mux": b"\x00" + talk(1, 3) + rec(0, sr, 20) + talk(4, 3),
        "pcmu-ssrc-and-source-change": b"\x00" + talk(1, 5) + talk(9000, 5, flags=4)
        + talk(9005, 3, flags=8) + action(2) + talk(9008, 3, flags=8),
        "pcmu-send-dtmf-bye": b"\x00" + action(0) + action(1) + talk(1, 10) + action(3) + action(4, 40),
        "pcmu-raw-garbage": b"\x00" + rec(0, b"\x80\x00garbage-rtp!", 20) + rec(1, b"\x81\xc9\x00", 20),
        "opus-talk": b"\x02" + talk(500, 10, b"\x78" + b"\x00" * 30, ts_step=8),
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(len(seeds), "media_session seeds")


if __name__ == "__main__":
    main()
