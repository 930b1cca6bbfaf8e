#!/usr/bin/env python3
"""Cuts the UDP payloads out of a loopback capture into seed files.

    tcpdump -i lo -w /tmp/sipp.pcap 'udp and host 127.0.0.1 and portrange 25000-26000' &
    bash tests/sipp/validate-scenarios.sh; kill %1
    python3 fuzz/scripts/pcap-to-seeds.py /tmp/sipp.pcap /tmp/pcap-seeds

SIP datagrams go to OUT/sip/, RTP to OUT/rtp/, RTCP to OUT/rtcp/ (RFC 5761 §4 demux
on the second octet), one file per distinct payload, named by its SHA-1 like
libFuzzer's corpus. Only classic pcap (not pcapng) with Ethernet or Linux "cooked"
framing, IPv4 UDP.
"""
import hashlib
import os
import struct
import sys

SIP_STARTS = (b"SIP/2.0 ", b"INVITE ", b"ACK ", b"BYE ", b"CANCEL ", b"OPTIONS ",
              b"REGISTER ", b"INFO ", b"UPDATE ", b"PRACK ", b"NOTIFY ", b"SUBSCRIBE ")


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:  # Ethernet
            if frame[12:14] != b"\x08\x00":
                continue
            ip = frame[14:]
        elif linktype == 113:  # Linux cooked
            ip = frame[16:]
        else:
            sys.exit(f"unsupported linktype {linktype}")
        if not ip or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 0x0F) * 4
        udp = ip[ihl:]
        yield udp[8:]


def main():
    src, out = sys.argv[1], sys.argv[2]
    counts = {}
    for payload in packets(src):
        if payload.startswith(SIP_STARTS):
            kind = "sip"
        elif len(payload) >= 2 and payload[0] >> 6 == 2:
            kind = "rtcp" if 192 <= payload[1] <= 223 else "rtp"
        else:
            continue
        d = os.path.join(out, kind)
        os.makedirs(d, exist_ok=True)
        name = os.path.join(d, hashlib.sha1(payload).hexdigest())
        if not os.path.exists(name):
            with open(name, "wb") as f:
                f.write(payload)
            counts[kind] = counts.get(kind, 0) + 1
    print(counts)


if __name__ == "__main__":
    main()
