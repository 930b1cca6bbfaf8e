#!/usr/bin/env bash
# Regenerates the speech fixtures used by the SIPp integration tests.
#
#   tests/audio/candidate-en.wav   8 kHz mono s16 WAV: what the "candidate" says
#   tests/audio/agent-en.wav       8 kHz mono s16 WAV: the agent's greeting
#   tests/audio/*.ulaw             the same audio as raw G.711 mu-law (no header),
#                                  padded to whole 20 ms packets, for SIPp
#                                  <exec rtp_stream="file.ulaw,1,0"/>
#
# SIPp 3.6.1 rtp_stream (src/rtpstream.cpp, rtpstream_cache_file) reads the file
# verbatim and cuts it into 160-byte payloads for PT 0/8: it does NOT skip a WAV
# header, so the file has to be raw mu-law (PT 0) or A-law (PT 8). When the last
# packet is short, SIPp wraps around to the start of the file, so we pad with
# mu-law silence (0xFF) to a multiple of 160 bytes.
#
# Needs espeak-ng and sox. Output is deterministic (no dither), so re-running
# the script on the same espeak-ng/sox versions reproduces the committed files.
set -euo pipefail
cd "$(dirname "$0")"

command -v espeak-ng >/dev/null || { echo "espeak-ng not installed" >&2; exit 1; }
command -v sox >/dev/null || { echo "sox not installed" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name  voice  words-per-minute  text
make_one() {
    local name=$1 voice=$2 wpm=$3 text=$4
    espeak-ng -v "$voice" -s "$wpm" -w "$tmp/$name.raw.wav" "$text"
    # 8 kHz mono 16-bit, normalised to -3 dBFS, 200 ms of silence at both ends,
    # no dither (-D) so the output is reproducible.
    sox -D "$tmp/$name.raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$name.wav" \
        gain -n -3 pad 0.2 0.2
    # Raw mu-law for SIPp rtp_stream, padded to whole 160-byte (20 ms) packets.
    sox -D "$name.wav" -t raw -r 8000 -c 1 -e u-law -b 8 "$tmp/$name.ulaw"
    python3 - "$tmp/$name.ulaw" "$name.ulaw" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
pad = (-len(data)) % 160
open(sys.argv[2], "wb").write(data + b"\xff" * pad)
PY
    printf '%-14s %s  %6.2f s\n' "$name" "$voice" \
        "$(soxi -D "$name.wav")"
}

make_one candidate-en en-us+f3 150 \
    "Hello, yes, I have seven years of experience with Java and Spring Cloud."
make_one agent-en en-gb 160 \
    "Good morning, this is the voxhire screening assistant. Do you have a few minutes to talk about the backend developer role?"
