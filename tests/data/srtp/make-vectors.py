#!/usr/bin/env python3
"""Writes tests/data/srtp/vectors.txt: RTP and RTCP packets protected by libsrtp
(through PyPI's pylibsrtp 1.0.0), AES_CM_128_HMAC_SHA1_80, so voxhire's SRTP
(crates/voxhire-media/src/srtp.rs) is checked against an independent implementation
in both directions: it must decrypt libsrtp's packets, and produce the same bytes.

    python3 -m venv /tmp/v && /tmp/v/bin/pip install pylibsrtp==1.0.0
    /tmp/v/bin/python tests/data/srtp/make-vectors.py > tests/data/srtp/vectors.txt

Format, one record per line: kind (rtp|rtcp) key+salt (hex, 30 bytes) clear (hex)
protected (hex). Keys and packets are fixed, so the file is reproducible.
"""

import pylibsrtp

KEY = bytes(range(1, 31))  # 16-byte master key then 14-byte salt


def rtp(seq, ts, ssrc, payload, marker=False, pt=0):
    head = bytes([0x80, (0x80 if marker else 0) | pt])
    return head + seq.to_bytes(2, "big") + ts.to_bytes(4, "big") + ssrc.to_bytes(4, "big") + payload


def main():
    policy = pylibsrtp.Policy(key=KEY, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
                              srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80)
    session = pylibsrtp.Session(policy=policy)
    # In order, across a wrap of the sequence number (the rollover counter goes to 1).
    packets = [
        rtp(65533, 160, 0xDEADBEEF, bytes(i % 256 for i in range(160)), marker=True),
        rtp(65534, 320, 0xDEADBEEF, bytes((7 * i) % 256 for i in range(160))),
        rtp(65535, 480, 0xDEADBEEF, bytes(160)),
        rtp(0, 640, 0xDEADBEEF, b"\xff" * 160),
        rtp(1, 800, 0xDEADBEEF, bytes([101, 0x0A, 0, 160]), pt=101),  # a DTMF event
    ]
    for p in packets:
        print("rtp", KEY.hex(), p.hex(), session.protect(p).hex())
    # A receiver report (no blocks) and a sender report.
    rr = bytes([0x80, 201, 0, 1]) + (0xDEADBEEF).to_bytes(4, "big")
    sr = (bytes([0x80, 200, 0, 6]) + (0xDEADBEEF).to_bytes(4, "big") + bytes(range(8))
          + (800).to_bytes(4, "big") + (5).to_bytes(4, "big") + (800).to_bytes(4, "big"))
    for p in (rr, sr):
        print("rtcp", KEY.hex(), p.hex(), session.protect_rtcp(p).hex())


if __name__ == "__main__":
    main()
